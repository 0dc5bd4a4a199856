//! The admin key at first start (a 0600 file, never the log), resetting an auth method's key
//! and lifting delete protection (issue #10 item 6).

use std::os::unix::fs::PermissionsExt;

use mayfly_testkit::TestGateway;
use serde_json::{json, Value};

use crate::access::{call, key_with_rules};
use crate::helpers::{error_of, on_each_database};

fn login(gw: &TestGateway, access_id: &str, access_key: &str) -> (u16, Value) {
    gw.post(
        "/auth",
        json!({"access-id": access_id, "access-key": access_key}),
    )
}

/// Creates auth method `name` with no role; returns its access id and key.
fn new_key(gw: &TestGateway, name: &str) -> (String, String) {
    let (status, key) = gw.post_authed("/create-auth-method", json!({"name": name}));
    assert_eq!(status, 200, "{key}");
    (
        key["access_id"].as_str().unwrap().to_owned(),
        key["access_key"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn reset_access_key_gives_a_working_key_and_ends_the_old_key_and_its_tokens() {
    on_each_database(|gw| {
        let (id, old_key) = new_key(gw, "/ci/deployer");
        let (status, auth) = login(gw, &id, &old_key);
        assert_eq!(status, 200, "{auth}");
        let old_token = auth["token"].as_str().unwrap().to_owned();
        assert_eq!(call(gw, &old_token, "/list-targets", json!({})).0, 200);

        let (status, out) = gw.post_authed("/reset-access-key", json!({"name": "/ci/deployer"}));
        assert_eq!(status, 200, "{out}");
        let new_key = out["access_key"].as_str().unwrap().to_owned();
        assert_eq!(new_key.len(), 44, "{out}");
        assert_ne!(new_key, old_key);

        assert_eq!(login(gw, &id, &old_key).0, 401, "the old key is refused");
        let (status, body) = call(gw, &old_token, "/list-targets", json!({}));
        assert_eq!(status, 401, "a token of the old key is refused: {body}");
        let (status, auth) = login(gw, &id, &new_key);
        assert_eq!(status, 200, "the new key logs in: {auth}");

        let (status, _) = gw.post_authed("/reset-access-key", json!({"name": "/nope"}));
        assert_eq!(status, 404);
        let (status, body) = gw.post_authed("/reset-access-key", json!({}));
        assert_eq!(status, 400, "{body}");
        assert!(error_of(&body).contains("name"), "{body}");

        // Audited, without the key.
        let (status, page) = gw.post_authed("/get-audit-events", json!({"limit": 1000}));
        assert_eq!(status, 200, "{page}");
        let text = page.to_string();
        assert!(text.contains("reset-access-key"), "{text}");
        assert!(
            !text.contains(&new_key),
            "the key is not in the audit trail"
        );
        assert!(!gw.logs().contains(&new_key), "the key is not in the log");
    });
}

#[test]
fn a_key_without_update_on_the_auth_method_can_neither_reset_nor_unprotect_it() {
    on_each_database(|gw| {
        let (victim_id, victim_key) = new_key(gw, "/ops/victim");
        let (status, body) = gw.post_authed(
            "/auth-method-update-api-key",
            json!({"name": "/ops/victim", "delete_protection": "true"}),
        );
        assert_eq!(status, 200, "{body}");
        let (token, _) = key_with_rules(
            gw,
            "/team/lead",
            &[
                ("auth-method-rule", "/team/*", &["read", "update", "delete"]),
                ("auth-method-rule", "/ops/*", &["read", "delete"]),
            ],
            "none",
        );
        for (path, body) in [
            ("/reset-access-key", json!({"name": "/ops/victim"})),
            (
                "/auth-method-update-api-key",
                json!({"name": "/ops/victim", "delete_protection": "false"}),
            ),
            (
                "/update-auth-method",
                json!({"name": "/ops/victim", "delete_protection": false}),
            ),
            ("/reset-access-key", json!({"name": "/admin"})),
        ] {
            let (status, out) = call(gw, &token, path, body);
            assert_eq!(status, 403, "{path}: {out}");
            assert!(error_of(&out).contains("may not"), "{path}: {out}");
        }
        // Nothing changed: the old key works and the protection holds.
        assert_eq!(login(gw, &victim_id, &victim_key).0, 200);
        let (_, m) = gw.post_authed("/get-auth-method", json!({"name": "/ops/victim"}));
        assert_eq!(m["delete_protection"], json!(true), "{m}");
        let (status, _) = call(
            gw,
            &token,
            "/delete-auth-method",
            json!({"name": "/ops/victim"}),
        );
        assert_eq!(status, 409, "still protected");

        // Within its own subtree the same key may reset.
        new_key(gw, "/team/bot");
        let (status, out) = call(
            gw,
            &token,
            "/reset-access-key",
            json!({"name": "/team/bot"}),
        );
        assert_eq!(status, 200, "{out}");
    });
}

#[test]
fn another_admin_can_lift_the_protection_of_admin_and_delete_it() {
    on_each_database(|gw| {
        let (id2, key2) = new_key(gw, "/admin2");
        let (status, body) = gw.post_authed(
            "/assoc-role-am",
            json!({"role-name": "/admin", "am-name": "/admin2"}),
        );
        assert_eq!(status, 200, "{body}");
        let (status, auth) = login(gw, &id2, &key2);
        assert_eq!(status, 200, "{auth}");
        let token2 = auth["token"].as_str().unwrap().to_owned();

        let (status, body) = call(
            gw,
            &token2,
            "/delete-auth-method",
            json!({"name": "/admin"}),
        );
        assert_eq!(status, 409, "protected at first start: {body}");
        let (status, body) = call(
            gw,
            &token2,
            "/update-auth-method",
            json!({"name": "/admin", "new-name": "/root"}),
        );
        assert_eq!(status, 400, "renaming is refused: {body}");
        let (status, body) = call(
            gw,
            &token2,
            "/auth-method-update-api-key",
            json!({"name": "/admin", "delete_protection": "false", "json": false, "jwt-ttl": 0}),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["name"], json!("/admin"));
        let (_, m) = call(gw, &token2, "/get-auth-method", json!({"name": "/admin"}));
        assert_eq!(m["delete_protection"], json!(false), "{m}");
        let (status, body) = call(
            gw,
            &token2,
            "/delete-auth-method",
            json!({"name": "/admin"}),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            login(gw, gw.admin_access_id(), gw.admin_access_key()).0,
            401,
            "the retired /admin key no longer logs in"
        );
    });
}

#[test]
fn first_start_writes_the_generated_key_to_an_owner_only_file_and_not_to_the_log() {
    let gw = TestGateway::builder()
        .env("MAYFLY_ADMIN_ACCESS_ID", "")
        .env("MAYFLY_ADMIN_ACCESS_KEY", "")
        .spawn()
        .unwrap();
    let path = gw.data_dir().join("admin-credentials");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_owned()
    };
    let id = field("MAYFLY_ADMIN_ACCESS_ID");
    let key = field("MAYFLY_ADMIN_ACCESS_KEY");
    assert_ne!(key, gw.admin_access_key(), "generated, not the seed");
    let (status, auth) = login(&gw, &id, &key);
    assert_eq!(status, 200, "the file's key works: {auth}");
    let token = auth["token"].as_str().unwrap();
    assert_eq!(call(&gw, token, "/list-auth-methods", json!({})).0, 200);

    // Log lines are written a moment after they are logged: wait for the last one expected.
    assert!(gw.wait_for_log(&id, std::time::Duration::from_secs(10)));
    let logs = gw.logs();
    assert!(
        !logs.contains(&key),
        "the key is not in stdout/stderr: {logs}"
    );
    assert!(
        logs.contains("admin-credentials"),
        "the log says where the key is: {logs}"
    );
    assert!(logs.contains(&id), "the log names the access id: {logs}");
}
