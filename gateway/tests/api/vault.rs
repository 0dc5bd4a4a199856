//! The Vault-compatible API (`/v1/`) through the real gateway: AppRole login, the AWS engine
//! against moto with IAM authentication enforced (credentials are used, not just returned),
//! leases over the same tmp creds the Akeyless API lists, and a scoped key that gets Vault's
//! 403 shape for everything outside its rules however the path is spelled.

use mayfly_testkit::{moto::MotoServer, TestGateway};
use reqwest::{blocking::Response, Method};
use serde_json::{json, Value};

use crate::{
    access::key_with_rules,
    aws::{caller_arn, create_role, users_under, wait_until_no_users},
    helpers::{builder, create_target, iam_user_body, on_each_database_with},
};

const S3_LIST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;

/// One Vault call: the status, the `Content-Type` and the body (JSON, or `Null` when empty).
fn vault(
    gw: &TestGateway,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String, Value) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = gw.client().request(method, gw.url(path));
    if let Some(token) = token {
        request = request.header("X-Vault-Token", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response: Response = request.send().expect("a response");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, content_type, body)
}

/// Asserts Vault's error shape: `{"errors": [...]}` as `application/json`.
fn assert_vault_error(what: &str, (status, content_type, body): &(u16, String, Value), want: u16) {
    assert_eq!(*status, want, "{what}: {body}");
    assert_eq!(content_type, "application/json", "{what}");
    assert!(
        body["errors"].is_array(),
        "{what}: not Vault's error shape: {body}"
    );
}

fn login(gw: &TestGateway, access_id: &str, access_key: &str) -> String {
    let (status, _, body) = vault(
        gw,
        "POST",
        "/v1/auth/approle/login",
        None,
        Some(json!({"role_id": access_id, "secret_id": access_key})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["renewable"], false, "{body}");
    assert!(
        body["auth"]["lease_duration"].as_u64().unwrap() > 0,
        "{body}"
    );
    body["auth"]["client_token"].as_str().unwrap().to_owned()
}

fn admin_login(gw: &TestGateway) -> String {
    login(gw, gw.admin_access_id(), gw.admin_access_key())
}

fn configure_root(gw: &TestGateway, moto: &MotoServer, token: &str) {
    let (id, secret) = moto.admin();
    let (status, _, body) = vault(
        gw,
        "POST",
        "/v1/aws/config/root",
        Some(token),
        Some(
            json!({"access_key": id, "secret_key": secret, "region": "us-east-1",
                    "iam_endpoint": moto.url(), "sts_endpoint": moto.url(), "max_retries": null}),
        ),
    );
    assert_eq!(status, 204, "{body}");
}

/// The tmp creds ids the Akeyless API lists for `name`.
fn akeyless_tmp_creds(gw: &TestGateway, name: &str) -> Vec<(String, String)> {
    let (s, b) = gw.post_authed("/gateway-get-producer-tmp-creds", json!({"name": name}));
    assert_eq!(s, 200, "{b}");
    b.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn vault_clients_issue_renew_and_revoke_the_same_tmp_creds_the_akeyless_api_lists() {
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b.env("MAYFLY_ALLOWED_ENDPOINTS", moto.url()),
        |gw, iam_path| {
            let token = admin_login(gw);
            configure_root(gw, moto, &token);
            let (s, _, root) = vault(gw, "GET", "/v1/aws/config/root", Some(&token), None);
            assert_eq!(s, 200, "{root}");
            assert_eq!(root["data"]["region"], "us-east-1");
            assert!(
                !root.to_string().contains(&moto.admin().1),
                "config/root shows the secret: {root}"
            );

            // A role with a / in its name, written percent-encoded, read back plain.
            let (s, _, b) = vault(
                gw,
                "POST",
                "/v1/aws/roles/team-a%2Fs3",
                Some(&token),
                Some(
                    json!({"credential_type": "iam_user", "policy_document": S3_LIST,
                            "iam_tags": ["team=a"], "ttl": "30m", "max_ttl": 7200}),
                ),
            );
            assert_eq!(s, 204, "{b}");
            let (s, content_type, role) =
                vault(gw, "GET", "/v1/aws/roles/team-a/s3", Some(&token), None);
            assert_eq!(
                (s, content_type.as_str()),
                (200, "application/json"),
                "{role}"
            );
            let data = &role["data"];
            assert_eq!(data["credential_type"], "iam_user");
            assert_eq!(data["iam_tags"], json!({"team": "a"}));
            assert_eq!(data["ttl"], 1800);
            assert_eq!(data["max_ttl"], 7200);
            assert!(data["policy_document"]
                .as_str()
                .unwrap()
                .contains("s3:ListAllMyBuckets"));
            // A partial write keeps what it does not name.
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/aws/roles/team-a/s3",
                Some(&token),
                Some(json!({"iam_tags": {"team": "a", "env": "test"}})),
            );
            assert_eq!(s, 204, "{b}");
            let (_, _, role) = vault(gw, "GET", "/v1/aws/roles/team-a%2Fs3", Some(&token), None);
            assert_eq!(role["data"]["ttl"], 1800, "{role}");
            assert_eq!(
                role["data"]["iam_tags"],
                json!({"team": "a", "env": "test"})
            );

            // The same producer on the Akeyless API.
            let (s, p) = gw.post_authed("/gateway-get-producer", json!({"name": "/team-a/s3"}));
            assert_eq!(s, 200, "{p}");
            assert_eq!(p["aws_access_mode"], "iam_user", "{p}");

            // Listing: LIST, ?list=true, ?list=True, with and without a trailing slash.
            for (method, path) in [
                ("LIST", "/v1/aws/roles"),
                ("LIST", "/v1/aws/roles/"),
                ("GET", "/v1/aws/roles?list=true"),
                ("GET", "/v1/aws/roles/?list=True"),
            ] {
                let (s, _, b) = vault(gw, method, path, Some(&token), None);
                assert_eq!(s, 200, "{method} {path}: {b}");
                assert_eq!(b["data"]["keys"], json!(["team-a/s3"]), "{method} {path}");
            }
            let (s, _, b) = vault(gw, "LIST", "/v1/aws/roles/team-a", Some(&token), None);
            assert_eq!((s, b["data"]["keys"].clone()), (200, json!(["s3"])), "{b}");

            // Credentials, used against moto.
            let (s, _, creds) = vault(gw, "GET", "/v1/aws/creds/team-a/s3", Some(&token), None);
            assert_eq!(s, 200, "{creds}");
            let lease_id = creds["lease_id"].as_str().unwrap().to_owned();
            let tmp_id = lease_id.rsplit('/').next().unwrap().to_owned();
            assert_eq!(lease_id, format!("aws/creds/team-a/s3/{tmp_id}"));
            assert_eq!(creds["renewable"], true);
            let duration = creds["lease_duration"].as_u64().unwrap();
            assert!((1790..=1800).contains(&duration), "{creds}");
            assert!(creds["data"]["security_token"].is_null(), "{creds}");
            let as_aws = json!({"access_key_id": creds["data"]["access_key"],
                                "secret_access_key": creds["data"]["secret_key"]});
            let arn = caller_arn(moto, &as_aws).expect("the issued key authenticates");
            assert!(arn.contains(":user"), "{arn}");
            assert_eq!(users_under(moto, iam_path).len(), 1);
            assert_eq!(
                akeyless_tmp_creds(gw, "/team-a/s3"),
                [(tmp_id.clone(), "active".to_owned())],
                "the Akeyless API lists the credential Vault issued"
            );

            // Leases: lookup, list, renew (capped at max_ttl), revoke.
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/sys/leases/lookup",
                Some(&token),
                Some(json!({"lease_id": lease_id})),
            );
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["data"]["id"], lease_id.as_str());
            assert_eq!(b["data"]["renewable"], true);
            let (s, _, b) = vault(
                gw,
                "LIST",
                "/v1/sys/leases/lookup/aws/creds/team-a/s3/",
                Some(&token),
                None,
            );
            assert_eq!(
                (s, b["data"]["keys"].clone()),
                (200, json!([tmp_id])),
                "{b}"
            );
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/sys/leases/renew",
                Some(&token),
                Some(json!({"lease_id": lease_id, "increment": "10m"})),
            );
            assert_eq!(s, 200, "{b}");
            assert!(
                (590..=600).contains(&b["lease_duration"].as_u64().unwrap()),
                "{b}"
            );
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/sys/leases/renew",
                Some(&token),
                Some(json!({"lease_id": lease_id, "increment": 86400})),
            );
            assert_eq!(s, 200, "{b}");
            assert!(
                b["lease_duration"].as_u64().unwrap() <= 7200,
                "capped at max_ttl: {b}"
            );
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/sys/leases/revoke",
                Some(&token),
                Some(json!({"lease_id": lease_id})),
            );
            assert_eq!(s, 204, "{b}");
            assert!(
                users_under(moto, iam_path).is_empty(),
                "revoke ends the IAM user at once"
            );
            assert!(
                akeyless_tmp_creds(gw, "/team-a/s3").is_empty(),
                "the Akeyless API no longer lists it"
            );
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/sys/leases/lookup",
                Some(&token),
                Some(json!({"lease_id": lease_id})),
            );
            assert_eq!(s, 200, "{b}");
            assert_eq!(
                (b["data"]["state"].clone(), b["data"]["ttl"].clone()),
                (json!("revoked"), json!(0))
            );
            let _ = tmp_id;

            // revoke-prefix by path segment: team-a reaches team-a/s3, not team-ab.
            let (s, b) = gw.post_authed("/gateway-create-producer-aws", {
                let mut body = iam_user_body("/team-ab/s3", "/aws");
                body["aws-user-policies"] = json!("");
                body["aws-user-groups"] = json!("");
                body["aws-policy-document"] = json!(S3_LIST);
                body
            });
            assert_eq!(s, 200, "{b}");
            for path in ["/v1/aws/creds/team-a/s3", "/v1/aws/creds/team-ab/s3"] {
                let (s, _, b) = vault(gw, "POST", path, Some(&token), Some(json!({})));
                assert_eq!(s, 200, "{path}: {b}");
            }
            assert_eq!(users_under(moto, iam_path).len(), 2);
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/sys/leases/revoke-prefix/aws/creds/team-a",
                Some(&token),
                Some(json!({})),
            );
            assert_eq!(s, 204, "{b}");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while users_under(moto, iam_path).len() != 1 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "revoke-prefix did not finish"
                );
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            let left = akeyless_tmp_creds(gw, "/team-ab/s3");
            assert_eq!(left.len(), 1);
            assert_eq!(left[0].1, "active", "team-ab is not under team-a");

            // An STS role: assumed_role through sts/, not renewable.
            let role_arn = create_role(
                moto,
                &format!("vault-{}", uuid::Uuid::new_v4().simple()),
                S3_LIST,
            );
            let (s, _, b) = vault(
                gw,
                "POST",
                "/v1/aws/roles/deploy",
                Some(&token),
                Some(
                    json!({"credential_type": "assumed_role", "role_arns": [role_arn],
                            "default_sts_ttl": 900, "max_sts_ttl": "1h"}),
                ),
            );
            assert_eq!(s, 204, "{b}");
            let (_, _, role) = vault(gw, "GET", "/v1/aws/roles/deploy", Some(&token), None);
            assert_eq!(role["data"]["credential_type"], "assumed_role", "{role}");
            assert_eq!(role["data"]["default_sts_ttl"], 900);
            assert_eq!(role["data"]["max_sts_ttl"], 3600);
            let (s, _, creds) = vault(
                gw,
                "POST",
                "/v1/aws/sts/deploy",
                Some(&token),
                Some(json!({"ttl": "20m"})),
            );
            assert_eq!(s, 200, "{creds}");
            assert_eq!(creds["renewable"], false);
            assert!(creds["lease_duration"].as_u64().unwrap() > 1100, "{creds}");
            let as_aws = json!({"access_key_id": creds["data"]["access_key"],
                                "secret_access_key": creds["data"]["secret_key"],
                                "security_token": creds["data"]["security_token"]});
            let arn = caller_arn(moto, &as_aws).expect("the session authenticates");
            assert!(arn.contains(":assumed-role/"), "{arn}");
            let (s, _, b) = vault(
                gw,
                "PUT",
                "/v1/sys/leases/renew",
                Some(&token),
                Some(json!({"lease_id": creds["lease_id"]})),
            );
            assert_vault_error(
                "renewing an STS lease",
                &(s, "application/json".into(), b),
                400,
            );

            // Deleting the roles ends what they issued.
            for role in ["team-ab%2Fs3", "team-a/s3", "deploy"] {
                let (s, _, b) = vault(
                    gw,
                    "DELETE",
                    &format!("/v1/aws/roles/{role}"),
                    Some(&token),
                    None,
                );
                assert_eq!(s, 204, "{role}: {b}");
            }
            wait_until_no_users(moto, iam_path, std::time::Duration::from_secs(30));
            let (s, _, _) = vault(gw, "LIST", "/v1/aws/roles", Some(&token), None);
            assert_eq!(s, 404, "an empty list is Vault's 404");
        },
    );
}

#[test]
fn tokens_health_and_mounts_answer_as_vault_clients_expect() {
    let gw = builder().spawn().unwrap();
    let (s, content_type, health) = vault(&gw, "GET", "/v1/sys/health", None, None);
    assert_eq!(
        (s, content_type.as_str()),
        (200, "application/json"),
        "{health}"
    );
    for field in ["initialized", "sealed", "standby", "version", "cluster_id"] {
        assert!(
            !health[field].is_null(),
            "sys/health lacks {field}: {health}"
        );
    }
    assert_eq!(health["sealed"], false);
    let (s, _, _) = vault(&gw, "HEAD", "/v1/sys/health", None, None);
    assert_eq!(s, 200);
    let (s, _, _) = vault(&gw, "GET", "/v1/sys/health?activecode=204", None, None);
    assert_eq!(s, 204);

    for (method, path) in [
        ("GET", "/v1/sys/mounts"),
        ("GET", "/v1/auth/token/lookup-self"),
        ("GET", "/v1/aws/creds/anything"),
        ("LIST", "/v1/aws/roles"),
    ] {
        let no_token = vault(&gw, method, path, None, None);
        assert_vault_error(&format!("{method} {path} without a token"), &no_token, 403);
        let bad = vault(&gw, method, path, Some("t-not-a-real-token"), None);
        assert_vault_error(&format!("{method} {path} with a bad token"), &bad, 403);
    }
    let bad_login = vault(
        &gw,
        "POST",
        "/v1/auth/approle/login",
        None,
        Some(json!({"role_id": gw.admin_access_id(), "secret_id": "wrong-key-wrong-key"})),
    );
    assert_vault_error("a wrong secret_id", &bad_login, 403);

    let token = admin_login(&gw);
    let (s, _, b) = vault(&gw, "GET", "/v1/sys/mounts", Some(&token), None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["aws/"]["type"], "aws", "{b}");
    let (s, _, b) = vault(&gw, "GET", "/v1/auth/token/lookup-self", Some(&token), None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["renewable"], false);
    assert!(b["data"]["ttl"].as_u64().unwrap() > 0);
    // Bearer works as well as X-Vault-Token.
    let response = gw
        .client()
        .get(gw.url("/v1/auth/token/lookup-self"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // Login says renewable false, so renew-self is refused the way Vault refuses it.
    let renew = vault(
        &gw,
        "POST",
        "/v1/auth/token/renew-self",
        Some(&token),
        Some(json!({})),
    );
    assert_vault_error("renew-self", &renew, 400);
    // A child token works, cannot outlive its parent, and is its own token.
    let (s, _, child) = vault(
        &gw,
        "POST",
        "/v1/auth/token/create",
        Some(&token),
        Some(json!({"ttl": "100h"})),
    );
    assert_eq!(s, 200, "{child}");
    let child_token = child["auth"]["client_token"].as_str().unwrap().to_owned();
    assert_ne!(child_token, token);
    assert!(
        child["auth"]["lease_duration"].as_u64().unwrap() <= 3600,
        "{child}"
    );
    let (s, _, _) = vault(
        &gw,
        "GET",
        "/v1/aws/roles?list=true",
        Some(&child_token),
        None,
    );
    assert_eq!(s, 404, "the child is a valid token (an empty list is 404)");
    let (s, _, _) = vault(
        &gw,
        "POST",
        "/v1/auth/token/revoke-self",
        Some(&child_token),
        None,
    );
    assert_eq!(s, 204);
    let gone = vault(
        &gw,
        "GET",
        "/v1/auth/token/lookup-self",
        Some(&child_token),
        None,
    );
    assert_vault_error("a revoked token", &gone, 403);
    let (s, _, _) = vault(&gw, "GET", "/v1/auth/token/lookup-self", Some(&token), None);
    assert_eq!(s, 200, "revoking the child leaves the parent");

    let unknown = vault(&gw, "GET", "/v1/secret/data/x", Some(&token), None);
    assert_vault_error("an unknown path", &unknown, 404);
    let method = vault(&gw, "PATCH", "/v1/aws/roles/x", Some(&token), None);
    assert_vault_error("PATCH", &method, 405);
    let lease = vault(
        &gw,
        "POST",
        "/v1/aws/config/lease",
        Some(&token),
        Some(json!({"lease": "1h"})),
    );
    assert_vault_error("config/lease write", &lease, 400);
    let missing_type = vault(
        &gw,
        "POST",
        "/v1/aws/roles/x",
        Some(&token),
        Some(json!({})),
    );
    assert_vault_error("a role without credential_type", &missing_type, 400);
    let wrong = vault(
        &gw,
        "POST",
        "/v1/aws/roles/x",
        Some(&token),
        Some(json!({"credential_type": "iam_user", "default_sts_ttl": 900})),
    );
    assert_vault_error("default_sts_ttl on iam_user", &wrong, 400);
    assert!(
        wrong.2["errors"][0]
            .as_str()
            .unwrap()
            .contains("default_sts_ttl"),
        "{}",
        wrong.2
    );
}

/// A key whose rules reach `/team-a/*` only: everything about `/team-b/app` is Vault's 403
/// (or a 400 for a name that is not a name), whatever the spelling, and nothing is issued,
/// changed or revoked there.
#[test]
fn a_scoped_key_gets_vaults_403_for_what_its_rules_do_not_reach() {
    let gw = builder().spawn().unwrap();
    create_target(&gw, "/aws", "not-a-real-secret");
    for name in ["/team-a/app", "/team-b/app"] {
        let (s, b) = gw.post_authed("/gateway-create-producer-aws", iam_user_body(name, "/aws"));
        assert_eq!(s, 200, "{b}");
    }
    let (scoped_token, _) = key_with_rules(
        &gw,
        "/vault-team-a",
        &[(
            "item-rule",
            "/team-a/*",
            &["read", "list", "update", "delete"],
        )],
        "none",
    );
    // A Mayfly token from /auth is a Vault token as it is.
    let token = scoped_token.as_str();
    let (s, _, b) = vault(&gw, "GET", "/v1/aws/roles/team-a/app", Some(token), None);
    assert_eq!(s, 200, "its own role: {b}");
    let (s, _, b) = vault(&gw, "LIST", "/v1/aws/roles", Some(token), None);
    assert_eq!(
        (s, b["data"]["keys"].clone()),
        (200, json!(["team-a/app"])),
        "{b}"
    );

    let forbidden: &[(&str, &str, Option<Value>)] = &[
        ("GET", "/v1/aws/creds/team-b/app", None),
        ("POST", "/v1/aws/sts/team-b/app", Some(json!({}))),
        ("GET", "/v1/aws/creds/team-b%2Fapp", None),
        ("GET", "/v1/aws/creds/team-b%2fapp", None),
        ("GET", "/v1/aws/creds/TEAM-A/app", None),
        ("GET", "/v1/aws/creds/team-a-other/app", None),
        ("GET", "/v1/aws/roles/team-b/app", None),
        (
            "POST",
            "/v1/aws/roles/team-b/app",
            Some(json!({"credential_type": "iam_user"})),
        ),
        (
            "POST",
            "/v1/aws/roles/team-b/new",
            Some(json!({"credential_type": "iam_user"})),
        ),
        ("DELETE", "/v1/aws/roles/team-b/app", None),
        ("LIST", "/v1/aws/roles/team-b", None),
        (
            "POST",
            "/v1/aws/config/root",
            Some(json!({"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "x"})),
        ),
        ("GET", "/v1/aws/config/root", None),
        (
            "PUT",
            "/v1/sys/leases/lookup",
            Some(json!({"lease_id": "aws/creds/team-b/app/tc-1"})),
        ),
        (
            "PUT",
            "/v1/sys/leases/revoke",
            Some(json!({"lease_id": "aws/creds/team-b/app/tc-1"})),
        ),
        (
            "PUT",
            "/v1/sys/leases/renew",
            Some(json!({"lease_id": "aws/creds/team-b/app/tc-1"})),
        ),
        (
            "PUT",
            "/v1/sys/leases/revoke-prefix/aws/creds/team-b",
            Some(json!({})),
        ),
        ("PUT", "/v1/sys/leases/revoke-prefix/aws", Some(json!({}))),
        (
            "PUT",
            "/v1/sys/leases/revoke-prefix/aws/creds/team",
            Some(json!({})),
        ),
    ];
    for (method, path, body) in forbidden {
        let answer = vault(&gw, method, path, Some(token), body.clone());
        assert_vault_error(&format!("{method} {path}"), &answer, 403);
    }
    // Names that are no names: refused before any lookup.
    let malformed: &[(&str, &str)] = &[
        ("GET", "/v1/aws/creds/team-a%2F..%2Fteam-b%2Fapp"),
        ("GET", "/v1/aws/creds/team-a%2F%2E%2E%2Fteam-b%2Fapp"),
        ("GET", "/v1/aws/creds/team-a%252F..%252Fteam-b%252Fapp"),
        ("GET", "/v1/aws/creds/team-a//app"),
        ("POST", "/v1/aws/roles/team-a%2F..%2Fteam-b%2Fx"),
        ("GET", "/v1/aws/creds/%2Fteam-b%2Fapp"),
    ];
    for (method, path) in malformed {
        let answer = vault(
            &gw,
            method,
            path,
            Some(token),
            Some(json!({"credential_type": "iam_user"})),
        );
        let status = answer.0;
        assert!(
            status == 400 || status == 403,
            "{method} {path}: {status} {}",
            answer.2
        );
        assert_vault_error(&format!("{method} {path}"), &answer, status);
    }
    // capabilities-self says the same.
    let (s, _, b) = vault(
        &gw,
        "POST",
        "/v1/sys/capabilities-self",
        Some(token),
        Some(json!({"paths": ["aws/creds/team-a/app", "aws/creds/team-b/app"]})),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["aws/creds/team-a/app"], json!(["read", "update"]));
    assert_eq!(b["aws/creds/team-b/app"], json!(["deny"]));

    // Nothing happened to /team-b/app, and the refusals are in the audit trail.
    let (s, b) = gw.post_authed("/gateway-get-producer", json!({"name": "/team-b/app"}));
    assert_eq!(s, 200, "{b}");
    assert!(akeyless_tmp_creds(&gw, "/team-b/app").is_empty());
    let (s, events) = gw.post_authed("/get-audit-events", json!({"item": "/team-b/app"}));
    assert_eq!(s, 200, "{events}");
    let text = events.to_string();
    assert!(
        text.contains("vault:creds"),
        "no denied vault:creds in {events}"
    );
}
