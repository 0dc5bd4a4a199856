//! Item `update` on a dynamic secret does not lend the power of its target: changing what a
//! producer grants needs `use` (or `read`) on its target, and `use` does not reveal the secret.

use serde_json::{json, Value};

use crate::access::{call, key_with_rules};
use crate::helpers::{create_target, error_of, iam_user_body, on_each_database, snapshot, POLICY};

const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}

#[test]
fn changing_what_a_producer_grants_needs_use_on_its_target() {
    on_each_database(|gw| {
        create_target(gw, "/prod/aws", "prod-secret-value");
        create_target(gw, "/team-a/aws", "team-secret-value");
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            iam_user_body("/team-a/p", "/prod/aws"),
        );
        assert_eq!(status, 200, "{body}");
        // Item rights on the team's folder, `use` on the team's own target only.
        let (token, _) = key_with_rules(
            gw,
            "/team-a-dev",
            &[
                (
                    "item-rule",
                    "/team-a/*",
                    &["read", "list", "create", "update"],
                ),
                ("target-rule", "/team-a/*", &["use"]),
            ],
            "none",
        );
        let current = iam_user_body("/team-a/p", "/prod/aws");
        let before = snapshot(gw);

        // Every change to what the producer grants is refused without `use` on /prod/aws,
        // whether or not the request names the target.
        let escalations = [
            with(
                current.clone(),
                "aws-user-policies",
                json!(format!("{POLICY},{ADMIN_POLICY}")),
            ),
            with(
                current.clone(),
                "aws-policy-document",
                json!(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
                ),
            ),
            with(current.clone(), "aws-user-groups", json!("admins")),
            with(current.clone(), "aws-user-console-access", json!(true)),
            with(current.clone(), "user-ttl", json!("12h")),
            with(current.clone(), "aws-user-tags", json!("team=ops")),
            json!({"name": "/team-a/p", "access-mode": "assume_role",
                   "aws-role-arns": "arn:aws:iam::123456789012:role/admin", "user-ttl": "60m"}),
            with(
                without(current.clone(), "target-name"),
                "aws-user-policies",
                json!(ADMIN_POLICY),
            ),
        ];
        for body in escalations {
            let (status, resp) = call(gw, &token, "/gateway-update-producer-aws", body.clone());
            assert_eq!(status, 403, "{body}: {resp}");
            assert!(error_of(&resp).contains("may not use its target"), "{resp}");
            assert!(
                !error_of(&resp).contains("/prod/aws"),
                "the target is not named to a caller who may not list it: {resp}"
            );
        }
        assert_eq!(snapshot(gw), before, "nothing was stored");

        // Re-pointing (even to a target the key may use) and renaming need `use` on the
        // current target too.
        let (status, resp) = call(
            gw,
            &token,
            "/gateway-update-producer-aws",
            iam_user_body("/team-a/p", "/team-a/aws"),
        );
        assert_eq!(status, 403, "{resp}");
        let (status, resp) = call(
            gw,
            &token,
            "/gateway-update-producer-aws",
            with(current.clone(), "new-name", json!("/team-a/renamed")),
        );
        assert_eq!(status, 403, "{resp}");
        assert_eq!(snapshot(gw), before, "nothing was stored");

        // Bookkeeping needs item `update` only: description, tags, delete protection, with
        // or without the (unchanged) target named.
        let mut bookkeeping = with(current.clone(), "description", json!("owned by team a"));
        bookkeeping["tags"] = json!(["team-a", "reviewed"]);
        let (status, resp) = call(
            gw,
            &token,
            "/gateway-update-producer-aws",
            bookkeeping.clone(),
        );
        assert_eq!(status, 200, "{resp}");
        let bookkeeping = with(
            without(bookkeeping, "target-name"),
            "description",
            json!("still team a"),
        );
        let (status, resp) = call(gw, &token, "/gateway-update-producer-aws", bookkeeping);
        assert_eq!(status, 200, "{resp}");
        let (_, got) = gw.post_authed("/gateway-get-producer", json!({"name": "/team-a/p"}));
        assert_eq!(got["description"], "still team a");
        assert_eq!(got["aws_user_policies"], POLICY, "grant unchanged");

        // Creating needs `use` on the named target: refused on /prod/aws, fine on the team's.
        let (status, resp) = call(
            gw,
            &token,
            "/gateway-create-producer-aws",
            iam_user_body("/team-a/new", "/prod/aws"),
        );
        assert_eq!(status, 403, "{resp}");
        let (status, resp) = call(
            gw,
            &token,
            "/gateway-create-producer-aws",
            with(
                iam_user_body("/team-a/own", "/team-a/aws"),
                "aws-user-policies",
                json!(ADMIN_POLICY),
            ),
        );
        assert_eq!(status, 200, "use suffices to build: {resp}");
        // `use` does not reveal the secret, nor show the target.
        for op in ["/get-target-details", "/get-target"] {
            let (status, resp) = call(gw, &token, op, json!({"name": "/team-a/aws"}));
            assert_eq!(status, 403, "{op}: {resp}");
            assert!(!resp.to_string().contains("team-secret-value"));
        }

        // Given `use` on /prod/*, the key may change the grant, still without the secret.
        let (status, resp) = gw.post_authed(
            "/set-role-rule",
            json!({"role-name": "/team-a-dev", "rule-type": "target-rule", "path": "/prod/*", "capability": ["use"]}),
        );
        assert_eq!(status, 200, "{resp}");
        let (status, resp) = call(
            gw,
            &token,
            "/gateway-update-producer-aws",
            with(
                current.clone(),
                "aws-user-policies",
                json!(format!("{POLICY},{ADMIN_POLICY}")),
            ),
        );
        assert_eq!(status, 200, "{resp}");
        let (status, resp) = call(
            gw,
            &token,
            "/get-target-details",
            json!({"name": "/prod/aws"}),
        );
        assert_eq!(status, 403, "{resp}");
        // ... and re-point it to its own target (use on both ends).
        let (status, resp) = call(
            gw,
            &token,
            "/gateway-update-producer-aws",
            iam_user_body("/team-a/p", "/team-a/aws"),
        );
        assert_eq!(status, 200, "{resp}");

        // `read` on a target (which reveals it) still allows building on it.
        let (reader, _) = key_with_rules(
            gw,
            "/prod-reader",
            &[
                ("item-rule", "/team-b/*", &["create", "update"]),
                ("target-rule", "/prod/*", &["read"]),
            ],
            "none",
        );
        let (status, resp) = call(
            gw,
            &reader,
            "/gateway-create-producer-aws",
            iam_user_body("/team-b/p", "/prod/aws"),
        );
        assert_eq!(status, 200, "read implies use: {resp}");
        let (status, resp) = call(
            gw,
            &reader,
            "/gateway-update-producer-aws",
            with(
                iam_user_body("/team-b/p", "/prod/aws"),
                "aws-user-groups",
                json!("ops"),
            ),
        );
        assert_eq!(status, 200, "{resp}");

        // `use` is a target capability only.
        let (status, resp) = gw.post_authed(
            "/set-role-rule",
            json!({"role-name": "/team-a-dev", "path": "/team-a/*", "capability": ["use"]}),
        );
        assert_eq!(status, 400, "{resp}");
        assert!(error_of(&resp).contains("target-rule"), "{resp}");
    });
}

#[test]
fn inline_credentials_are_governed_by_the_item_rights() {
    on_each_database(|gw| {
        let (token, _) = key_with_rules(
            gw,
            "/team-a-dev",
            &[("item-rule", "/team-a/*", &["read", "create", "update"])],
            "none",
        );
        let body = without(iam_user_body("/team-a/inline", ""), "target-name");
        let body = with(body, "aws-access-key-id", json!("AKIAIOSFODNN7EXAMPLE"));
        let mut body = with(body, "aws-access-secret-key", json!("team-own-secret"));
        let (status, resp) = call(gw, &token, "/gateway-create-producer-aws", body.clone());
        assert_eq!(status, 200, "{resp}");
        body["aws-user-policies"] = json!(ADMIN_POLICY);
        let (status, resp) = call(gw, &token, "/gateway-update-producer-aws", body);
        assert_eq!(status, 200, "its own credentials: {resp}");
    });
}

#[test]
fn moving_a_target_under_ones_own_rules_needs_read_on_it() {
    on_each_database(|gw| {
        create_target(gw, "/prod/aws", "prod-secret-value");
        let (token, _) = key_with_rules(
            gw,
            "/ops",
            &[
                ("target-rule", "/prod/*", &["update"]),
                ("target-rule", "/team-a/*", &["create", "read"]),
            ],
            "none",
        );
        let rename = json!({"name": "/prod/aws", "new-name": "/team-a/aws"});
        let (status, resp) = call(gw, &token, "/update-aws-target", rename.clone());
        assert_eq!(status, 403, "{resp}");
        let (status, _) = gw.post_authed("/get-target", json!({"name": "/prod/aws"}));
        assert_eq!(status, 200, "not moved");
        let (status, resp) = call(
            gw,
            &token,
            "/get-target-details",
            json!({"name": "/team-a/aws"}),
        );
        assert_ne!(status, 200, "{resp}");
        // Updates that move nothing still need update only.
        let (status, resp) = call(
            gw,
            &token,
            "/update-aws-target",
            json!({"name": "/prod/aws", "description": "owned by ops"}),
        );
        assert_eq!(status, 200, "{resp}");
    });
}
