//! Access control, audit and hostile input, through the real gateway.

use mayfly_testkit::TestGateway;
use serde_json::{json, Value};

use crate::helpers::{create_target, error_of, iam_user_body, on_each_database, spawn_sqlite};

/// Creates an API key holding a new role with `rules` (rule type, path, capabilities);
/// returns a token for it and its access id.
pub(crate) fn key_with_rules(
    gw: &TestGateway,
    name: &str,
    rules: &[(&str, &str, &[&str])],
    audit: &str,
) -> (String, String) {
    let (status, body) =
        gw.post_authed("/create-role", json!({"name": name, "audit-access": audit}));
    assert_eq!(status, 200, "{body}");
    for (rule_type, path, caps) in rules {
        let (status, body) = gw.post_authed(
            "/set-role-rule",
            json!({"role-name": name, "rule-type": rule_type, "path": path, "capability": caps}),
        );
        assert_eq!(status, 200, "{body}");
    }
    let (status, key) = gw.post_authed("/create-auth-method", json!({"name": name}));
    assert_eq!(status, 200, "{key}");
    let (status, body) = gw.post_authed(
        "/assoc-role-am",
        json!({"role-name": name, "am-name": name}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["assoc_id"].as_str().is_some_and(|s| !s.is_empty()));
    let access_id = key["access_id"].as_str().unwrap().to_owned();
    let (status, auth) = gw.post(
        "/auth",
        json!({"access-id": access_id, "access-key": key["access_key"]}),
    );
    assert_eq!(status, 200, "{auth}");
    (auth["token"].as_str().unwrap().to_owned(), access_id)
}

pub(crate) fn call(gw: &TestGateway, token: &str, path: &str, mut body: Value) -> (u16, Value) {
    body["token"] = json!(token);
    gw.post(path, body)
}

/// A body for `op` that would succeed for an administrator, for the route table below.
/// A JWKS document with the test issuer's key, base64 as `jwks-json-data` takes it.
fn inline_jwks() -> String {
    use base64::Engine;
    let doc = mayfly_testkit::jwt::jwks(&[mayfly_testkit::jwt::TestKey::A]);
    base64::engine::general_purpose::STANDARD.encode(doc.to_string())
}

fn sample_body(path: &str) -> Value {
    match path {
        "/create-aws-target" | "/target-create-aws" => {
            json!({"name": "/t-new", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "s"})
        }
        "/update-aws-target" | "/target-update-aws" | "/update-aws-target-details" => {
            json!({"name": "/t", "description": "x"})
        }
        "/get-target"
        | "/target-get"
        | "/get-target-details"
        | "/target-get-details"
        | "/delete-target"
        | "/target-delete" => json!({"name": "/t"}),
        "/gateway-create-producer-aws" | "/dynamic-secret-create-aws" => {
            iam_user_body("/p-new", "/t")
        }
        "/gateway-update-producer-aws" | "/dynamic-secret-update-aws" => iam_user_body("/p", "/t"),
        "/gateway-get-producer"
        | "/dynamic-secret-get"
        | "/gateway-delete-producer"
        | "/dynamic-secret-delete"
        | "/gateway-get-producer-tmp-creds"
        | "/dynamic-secret-tmp-creds-get"
        | "/get-dynamic-secret-value"
        | "/dynamic-secret-get-value" => json!({"name": "/p"}),
        "/gateway-revoke-producer-tmp-creds" | "/dynamic-secret-tmp-creds-delete" => {
            json!({"name": "/p", "revoke-all": true})
        }
        "/gateway-update-producer-tmp-creds" | "/dynamic-secret-tmp-creds-update" => {
            json!({"name": "/p", "tmp-creds-id": "tc-x", "new-ttl-min": 5})
        }
        "/create-auth-method" => json!({"name": "/am-new"}),
        "/create-auth-method-oauth2" | "/auth-method-create-oauth2" => {
            json!({"name": "/am-jwt", "jwks-json-data": inline_jwks(), "unique-identifier": "sub"})
        }
        "/create-auth-method-k8s" | "/auth-method-create-k8s" => {
            json!({"name": "/am-k8s", "jwks-json-data": inline_jwks()})
        }
        "/create-auth-method-aws-iam" | "/auth-method-create-aws-iam" => {
            json!({"name": "/am-aws", "bound-aws-account-id": ["123456789012"]})
        }
        "/get-auth-method" | "/delete-auth-method" | "/reset-access-key" => {
            json!({"name": "/admin"})
        }
        "/update-auth-method-oauth2"
        | "/auth-method-update-oauth2"
        | "/update-auth-method-k8s"
        | "/auth-method-update-k8s"
        | "/update-auth-method-aws-iam"
        | "/auth-method-update-aws-iam" => json!({"name": "/admin", "description": "x"}),
        "/update-auth-method" | "/auth-method-update-api-key" => {
            json!({"name": "/admin", "delete_protection": "false"})
        }
        "/create-role" => json!({"name": "/role-new"}),
        "/get-role" | "/delete-role" => json!({"name": "/admin"}),
        "/set-role-rule" | "/delete-role-rule" => {
            json!({"role-name": "/admin", "path": "/x/*", "capability": ["read"]})
        }
        "/assoc-role-am" => json!({"role-name": "/admin", "am-name": "/admin"}),
        "/delete-assoc" => json!({"assoc-id": "assoc-x"}),
        "/gateway-create-k8s-auth-config" => {
            json!({"name": "c-new", "access-id": "$K8S", "k8s-host": "https://kube.example.com:6443"})
        }
        "/gateway-update-k8s-auth-config" => json!({"name": "c0", "k8s-issuer": "x"}),
        "/gateway-get-k8s-auth-config" | "/gateway-delete-k8s-auth-config" => {
            json!({"name": "c0"})
        }
        "/target-rotate-credentials" => json!({"name": "/t"}),
        "/dynamic-secret-rotate-credentials" => json!({"name": "/p"}),
        _ => json!({}),
    }
}

/// Operations every valid token may call, whatever its rules: a listing (which shows only
/// what the caller may list) and revoking one's own token.
fn always_allowed(path: &str) -> bool {
    path.contains("list") || path == "/revoke-token"
}

/// Operations on things named apart from the rule tree (a k8s auth config is authorized on its
/// auth method): what a caller may not see answers as missing, so names cannot be probed.
fn hidden_when_not_allowed(path: &str) -> bool {
    path.ends_with("-k8s-auth-config") && !path.contains("create")
}

#[test]
fn every_route_in_the_openapi_document_needs_a_token_and_the_right_capability() {
    let gw = spawn_sqlite();
    let res = gw.client().get(gw.url("/openapi.json")).send().unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().unwrap();
    let paths: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| item.get("post").is_some())
        .map(|(p, _)| p.clone())
        .collect();
    assert!(
        paths.len() >= 40,
        "the document covers every route: {paths:?}"
    );
    // Revoking one's own token goes last: it ends the token the loop uses.
    let mut paths = paths;
    paths.sort_by_key(|p| p == "/revoke-token");
    create_target(&gw, "/t", "s");
    assert_eq!(
        gw.post_authed("/gateway-create-producer-aws", iam_user_body("/p", "/t"))
            .0,
        200
    );
    let (s, b) = gw.post_authed("/create-auth-method-k8s", json!({"name": "/am-k8s0"}));
    assert_eq!(s, 200, "{b}");
    let k8s_access_id = b["access_id"].clone();
    let (s, b) = gw.post_authed(
        "/gateway-create-k8s-auth-config",
        json!({"name": "c0", "access-id": k8s_access_id, "k8s-host": "https://kube.example.com"}),
    );
    assert_eq!(s, 200, "{b}");
    let sample_body = |path: &str| {
        let mut body = sample_body(path);
        if body["access-id"] == "$K8S" {
            body["access-id"] = k8s_access_id.clone();
        }
        body
    };
    // A key whose role grants nothing on any of these paths.
    let (nobody, _) = key_with_rules(
        &gw,
        "/nobody",
        &[("item-rule", "/elsewhere/*", &["read", "list"])],
        "none",
    );

    for path in paths.iter().filter(|p| p.as_str() != "/auth") {
        let (status, body) = gw.post(path, sample_body(path));
        assert_eq!(status, 401, "{path} without a token: {body}");
        let (status, body) = call(&gw, &nobody, path, sample_body(path));
        if hidden_when_not_allowed(path) {
            assert_eq!(
                status, 404,
                "{path} for a caller who may not see it: {body}"
            );
        } else if always_allowed(path) {
            assert!(
                status == 200,
                "{path} with no rights still answers (filtered): {status} {body}"
            );
        } else {
            assert_eq!(
                status, 403,
                "{path} with a token lacking the capability: {body}"
            );
            assert!(error_of(&body).contains("may not"), "{path}: {body}");
        }
    }
    // The revoke-token call above ended that token.
    let (status, _) = call(&gw, &nobody, "/list-targets", json!({}));
    assert_eq!(status, 401, "a revoked token no longer works");
}

#[test]
fn capabilities_rule_types_deny_and_globs_are_enforced() {
    on_each_database(|gw| {
        create_target(gw, "/shared/aws", "s");
        for name in ["/a/one", "/a/b/two", "/ab/three", "/a/secret/four"] {
            assert_eq!(
                gw.post_authed(
                    "/gateway-create-producer-aws",
                    iam_user_body(name, "/shared/aws")
                )
                .0,
                200
            );
        }
        let (token, access_id) = key_with_rules(
            gw,
            "/team-a",
            &[
                ("item-rule", "/a/*", &["read", "list", "create", "update"]),
                ("item-rule", "/a/secret/*", &["deny"]),
                ("target-rule", "/shared/*", &["read"]),
            ],
            "own",
        );
        let get = |name: &str| call(gw, &token, "/gateway-get-producer", json!({"name": name})).0;
        assert_eq!(get("/a/one"), 200);
        assert_eq!(get("/a/b/two"), 200, "/a/* covers subfolders");
        assert_eq!(get("/ab/three"), 403, "/a/* does not cover /ab");
        assert_eq!(
            get("/a/secret/four"),
            403,
            "deny wins over the allow on /a/*"
        );
        let (_, listed) = call(gw, &token, "/gateway-list-producers", json!({}));
        let names: Vec<&str> = listed["producers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["/a/b/two", "/a/one"],
            "listing shows only what may be listed"
        );
        let (_, items) = call(gw, &token, "/list-items", json!({}));
        assert_eq!(items["items"].as_array().unwrap().len(), 2);

        // Creating a producer needs create on its path and read on its target.
        let (status, body) = call(
            gw,
            &token,
            "/gateway-create-producer-aws",
            iam_user_body("/a/new", "/shared/aws"),
        );
        assert_eq!(status, 200, "{body}");
        create_target(gw, "/private/aws", "s");
        let (status, body) = call(
            gw,
            &token,
            "/gateway-create-producer-aws",
            iam_user_body("/a/other", "/private/aws"),
        );
        assert_eq!(status, 403, "no read on that target: {body}");
        let (status, _) = call(
            gw,
            &token,
            "/gateway-delete-producer",
            json!({"name": "/a/one"}),
        );
        assert_eq!(status, 403, "no delete capability");
        let (status, _) = call(
            gw,
            &token,
            "/get-target-details",
            json!({"name": "/shared/aws"}),
        );
        assert_eq!(status, 200, "target-rule read covers details");
        let (status, _) = call(
            gw,
            &token,
            "/create-aws-target",
            json!({"name": "/shared/x", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "s"}),
        );
        assert_eq!(status, 403);
        let (status, _) = call(gw, &token, "/create-role", json!({"name": "/escalate"}));
        assert_eq!(status, 403, "no role rights");

        // Audit: own events only.
        let (status, own) = call(gw, &token, "/get-audit-events", json!({}));
        assert_eq!(status, 200, "{own}");
        assert!(own["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["access_id"] == access_id.as_str()));
        let (status, _) = call(
            gw,
            &token,
            "/get-audit-events",
            json!({"access-id": gw.admin_access_id()}),
        );
        assert_eq!(status, 403);
    });
}

#[test]
fn deleting_an_auth_method_ends_its_tokens_and_roles_can_be_taken_back() {
    let gw = spawn_sqlite();
    let (token, _) = key_with_rules(&gw, "/temp", &[("item-rule", "/*", &["list"])], "none");
    assert_eq!(call(&gw, &token, "/list-items", json!({})).0, 200);
    let (_, role) = gw.post_authed("/get-role", json!({"name": "/temp"}));
    let assoc = role["role_auth_methods_assoc"][0]["assoc_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(role["rules"]["path_rules"][0]["path"], "/*");
    let (status, _) = gw.post_authed("/delete-assoc", json!({"assoc-id": assoc}));
    assert_eq!(status, 200);
    let (status, items) = call(&gw, &token, "/gateway-get-producer", json!({"name": "/x"}));
    assert_eq!(status, 403, "the role was taken back: {items}");
    let (status, body) = gw.post_authed("/delete-auth-method", json!({"name": "/temp"}));
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&gw, &token, "/list-items", json!({}));
    assert_eq!(status, 401, "a deleted auth method's tokens stop working");
    let (status, body) = gw.post_authed("/delete-auth-method", json!({"name": "/admin"}));
    assert_eq!(
        status, 409,
        "the admin key is protected, and in use: {body}"
    );
    let (status, body) = gw.post_authed(
        "/create-auth-method",
        json!({"name": "/kept", "description": "ci key", "delete_protection": "true"}),
    );
    assert_eq!(status, 200, "{body}");
    let (_, kept) = gw.post_authed("/get-auth-method", json!({"name": "/kept"}));
    assert_eq!(kept["description"], "ci key");
    assert_eq!(kept["delete_protection"], Value::Bool(true));
    assert!(
        !kept
            .to_string()
            .contains(body["access_key"].as_str().unwrap()),
        "never the key"
    );
    let (status, _) = gw.post_authed("/delete-auth-method", json!({"name": "/kept"}));
    assert_eq!(status, 409, "delete protection");
    let (status, body) = gw.post_authed("/delete-role", json!({"name": "/admin"}));
    assert_eq!(status, 409, "the admin role has delete protection: {body}");
    for (body, field) in [
        (
            json!({"role-name": "/temp2", "path": "/x", "capability": ["fly"]}),
            "capability",
        ),
        (
            json!({"role-name": "/temp2", "path": "x", "capability": ["read"]}),
            "path",
        ),
        (
            json!({"role-name": "/temp2", "path": "/x", "capability": ["read"], "rule-type": "sra-rule"}),
            "rule-type",
        ),
        (json!({"path": "/x", "capability": ["read"]}), "role-name"),
    ] {
        let (status, resp) = gw.post_authed("/set-role-rule", body);
        assert_eq!(status, 400, "{resp}");
        assert!(error_of(&resp).contains(field), "{resp}");
    }
}

#[test]
fn actions_are_audited_without_secrets_and_failed_logins_are_rate_limited() {
    let gw = spawn_sqlite();
    let secret = "AuditSecret/KnownValue+0123456789";
    let (status, _) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/t", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": secret}),
    );
    assert_eq!(status, 200);
    gw.post_authed("/get-target-details", json!({"name": "/t"}));
    gw.post_authed("/gateway-create-producer-aws", iam_user_body("/p", "/t"));
    gw.post_authed("/delete-target", json!({"name": "/t"}));
    gw.post("/list-targets", json!({"token": "t-bogus"}));
    // Three free failures and one more, then this (id, client) pair must wait a moment.
    for _ in 0..4 {
        let (status, _) = gw.post(
            "/auth",
            json!({"access-id": gw.admin_access_id(), "access-key": "wrong-wrong-wrong"}),
        );
        assert_eq!(status, 401);
    }
    let (status, body) = gw.post(
        "/auth",
        json!({"access-id": gw.admin_access_id(), "access-key": gw.admin_access_key()}),
    );
    assert_eq!(
        status, 429,
        "from the guessing client even the right key waits its turn: {body}"
    );
    assert!(error_of(&body).contains("retry"));

    let (status, page) = gw.post_authed("/get-audit-events", json!({"limit": 1000}));
    assert_eq!(status, 200, "{page}");
    let events = page["events"].as_array().unwrap();
    let find = |op: &str, outcome: &str| {
        events
            .iter()
            .find(|e| e["operation"] == op && e["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {op}/{outcome} in {events:?}"))
    };
    let created = find("create-aws-target", "ok");
    assert_eq!(created["item"], "/t");
    assert_eq!(created["access_id"], gw.admin_access_id());
    assert_eq!(created["request_id"].as_str().unwrap().len(), 32);
    assert_eq!(created["client_address"], "127.0.0.1");
    find("get-target-details", "ok");
    find("gateway-create-producer-aws", "ok");
    let refused = find("delete-target", "rejected");
    assert!(refused["detail"].as_str().unwrap().contains("/p"));
    find("list-targets", "denied");
    let failed_login = find("auth", "denied");
    assert_eq!(failed_login["access_id"], gw.admin_access_id());
    find("auth", "rate_limited");
    assert!(!page.to_string().contains(secret));
    let (_, filtered) = gw.post_authed(
        "/get-audit-events",
        json!({"item": "/t", "operation": "create-aws-target"}),
    );
    assert_eq!(filtered["events"].as_array().unwrap().len(), 1);
    let (_, first) = gw.post_authed("/get-audit-events", json!({"limit": 2}));
    let (_, second) = gw.post_authed(
        "/get-audit-events",
        json!({"limit": 2, "pagination-token": first["next_page"]}),
    );
    assert!(
        second["events"][0]["id"].as_i64().unwrap() > first["events"][1]["id"].as_i64().unwrap()
    );
    let db = std::fs::read(gw.sqlite_path().unwrap()).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(secret));
}
