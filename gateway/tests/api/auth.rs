use serde_json::json;

use crate::helpers::{builder, error_of, spawn_sqlite};

#[test]
fn auth_issues_tokens_that_work_in_the_body_and_as_bearer() {
    let gw = spawn_sqlite();
    let (status, body) = gw.post(
        "/auth",
        json!({"access-id": gw.admin_access_id(), "access-key": gw.admin_access_key(),
               "access-type": "access_key", "azure-cloud": "AzureCloud", "json": false}),
    );
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("t-") && token.len() >= 66, "{token}");
    assert_eq!(body["creds"]["access_id"], gw.admin_access_id());
    assert!(chrono::DateTime::parse_from_rfc3339(body["expiration"].as_str().unwrap()).is_ok());

    let (status, _) = gw.post("/list-targets", json!({"token": token}));
    assert_eq!(status, 200);
    let res = gw
        .client()
        .post(gw.url("/api/v2/list-targets"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[test]
fn bad_credentials_and_tokens_are_refused_with_401() {
    let gw = spawn_sqlite();
    let (status, body) = gw.post(
        "/auth",
        json!({"access-id": gw.admin_access_id(), "access-key": "wrong-key-wrong-key"}),
    );
    assert_eq!(status, 401);
    assert!(error_of(&body).contains("access denied"));
    let (status, body) = gw.post(
        "/auth",
        json!({"access-id": "p-nosuchid", "access-key": "x"}),
    );
    assert_eq!(
        status, 401,
        "unknown ids look exactly like wrong keys: {body}"
    );
    assert_eq!(
        error_of(&body),
        "access denied: unknown access-id or wrong access-key"
    );

    let (status, body) = gw.post("/auth", json!({"access-key": "x"}));
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("access-id"));
    let (status, body) = gw.post("/auth", json!({"access-id": "p-1", "access-type": "saml"}));
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("access-type"));

    for token in [None, Some("t-0000"), Some("garbage")] {
        let body = match token {
            Some(t) => json!({"token": t}),
            None => json!({}),
        };
        let (status, body) = gw.post("/gateway-list-producers", body);
        assert_eq!(status, 401, "{token:?}: {body}");
        assert!(!error_of(&body).is_empty());
    }
}

#[test]
fn unauthenticated_requests_learn_nothing_about_validation() {
    let gw = spawn_sqlite();
    let (status, _) = gw.post("/create-aws-target", json!({"name": "a//b"}));
    assert_eq!(status, 401);
    let (status, body) = gw.post(
        "/gateway-create-producer-aws",
        json!({"name": "/x", "user-ttl": "forever", "access-mode": "nope", "token": "t-bogus"}),
    );
    assert_eq!(status, 401, "no field is validated for a bad token: {body}");
    // The token travels in the body, so only a body that is not a JSON object comes first,
    // with a message about JSON alone (as docs/security.md says).
    for raw in ["{not json", "[1, 2]"] {
        let resp = gw
            .client()
            .post(gw.url("/create-aws-target"))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{raw}");
        let body: serde_json::Value = resp.json().unwrap();
        let message = body["error"].as_str().unwrap();
        assert!(message.starts_with("the request body"), "{message}");
    }
}

#[test]
fn tokens_expire() {
    let gw = builder().env("MAYFLY_TOKEN_TTL", "1s").spawn().unwrap();
    let token = gw.admin_token();
    let (status, _) = gw.post("/list-targets", json!({"token": token}));
    assert_eq!(status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let (status, body) = gw.post("/list-targets", json!({"token": token}));
    assert_eq!(status, 401, "{body}");
    assert!(error_of(&body).contains("expired"));
}

#[test]
fn the_admin_key_survives_a_restart_and_is_not_recreated() {
    let mut gw = spawn_sqlite();
    let first = gw.admin_token();
    gw.restart();
    let (status, _) = gw.post("/list-targets", json!({"token": first}));
    assert_eq!(
        status, 200,
        "tokens live in the database, not in the process"
    );
    assert!(!gw.admin_token().is_empty());
}
