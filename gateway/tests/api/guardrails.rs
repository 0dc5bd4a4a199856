//! Guardrails against credential explosions: per-producer and per-auth-method limits on live
//! credentials and on the issue rate answer 429 with `Retry-After`; a reuse window hands a
//! caller the STS credential it got moments ago instead of a new one.

use mayfly_testkit::{moto::MotoServer, TestGateway};
use serde_json::{json, Value};

use crate::{
    access::{call, key_with_rules},
    aws::{create_moto_target, create_role},
    helpers::{builder, error_of},
};

const USER_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#;

fn iam_user(name: &str, extra: Value) -> Value {
    let mut b = json!({"name": name, "target-name": "/aws", "access-mode": "iam_user",
        "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess", "user-ttl": "15m"});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// get-dynamic-secret-value with the admin token: status, Retry-After, body.
fn get(gw: &TestGateway, name: &str) -> (u16, Option<u64>, Value) {
    let res = gw
        .client()
        .post(gw.url("/get-dynamic-secret-value"))
        .json(&json!({"name": name, "timeout": 20, "token": gw.admin_token()}))
        .send()
        .unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, retry, res.json().unwrap_or(Value::Null))
}

#[test]
fn limits_answer_429_with_when_to_retry() {
    let moto = MotoServer::shared();
    let path = crate::aws::unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .env("MAYFLY_AUTH_METHOD_MAX_LIVE", "2")
        .spawn()
        .expect("gateway");
    create_moto_target(&gw, moto);
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        iam_user("/few", json!({"max-live-credentials": "2"})),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["producer_details"]["max-live-credentials"], "2");
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        iam_user("/slow", json!({"max-issue-rate": "1/m"})),
    );
    assert_eq!(s, 200, "{b}");

    // Live credentials of a producer.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (s, _, v) = get(&gw, "/few");
        assert_eq!(s, 200, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let (s, retry, v) = get(&gw, "/few");
    assert_eq!(s, 429, "{v}");
    assert!(error_of(&v).contains("max-live-credentials"), "{v}");
    let retry = retry.expect("Retry-After");
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    let (s, b) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/few", "tmp-creds-id": ids[0]}),
    );
    assert_eq!(s, 200, "{b}");
    // One revoked: the producer has room again (and the admin's method, which may hold 2
    // with MAYFLY_AUTH_METHOD_MAX_LIVE=2, holds 1).
    let (s, _, v) = get(&gw, "/few");
    assert_eq!(s, 200, "{v}");

    // The auth method's limit: the admin now holds 2 live credentials.
    let (s, retry, v) = get(&gw, "/slow");
    assert_eq!(s, 429, "{v}");
    assert!(error_of(&v).contains("MAYFLY_AUTH_METHOD_MAX_LIVE"), "{v}");
    assert!(retry.is_some());
    // Another auth method is counted apart; the producer's rate still applies to it.
    let (token, _) = key_with_rules(&gw, "/ci/key", &[("item-rule", "/slow", &["read"])], "none");
    let (s, v) = call(
        &gw,
        &token,
        "/get-dynamic-secret-value",
        json!({"name": "/slow"}),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        &gw,
        &token,
        "/get-dynamic-secret-value",
        json!({"name": "/slow"}),
    );
    assert_eq!(s, 429, "{v}");
    assert!(error_of(&v).contains("max-issue-rate"), "{v}");

    // Checked when made.
    for (body, says) in [
        (
            iam_user("/x1", json!({"reuse-window": "1m"})),
            "reuse-window",
        ),
        (
            iam_user("/x2", json!({"max-issue-rate": "5/d"})),
            "max-issue-rate",
        ),
        (
            iam_user("/x3", json!({"max-live-credentials": "0"})),
            "max-live-credentials",
        ),
    ] {
        let (s, b) = gw.post_authed("/gateway-create-producer-aws", body);
        assert_eq!(s, 400, "{b}");
        assert!(error_of(&b).contains(says), "{says}: {b}");
    }
}

#[test]
fn a_caller_asking_again_within_the_reuse_window_gets_the_same_session() {
    let moto = MotoServer::shared();
    let gw = builder().spawn().expect("gateway");
    create_moto_target(&gw, moto);
    let role = create_role(
        moto,
        &format!("reuse-{}", uuid::Uuid::new_v4().simple()),
        USER_ADMIN,
    );
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        json!({"name": "/ci/role", "target-name": "/aws", "access-mode": "assume_role",
               "aws-role-arns": role, "user-ttl": "30m", "reuse-window": "5m"}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, _, first) = get(&gw, "/ci/role");
    assert_eq!(s, 200, "{first}");
    let (s, _, again) = get(&gw, "/ci/role");
    assert_eq!(s, 200, "{again}");
    assert_eq!(first, again, "the same credential, the same id");
    // Another caller gets its own.
    let (token, _) = key_with_rules(
        &gw,
        "/ci/other",
        &[("item-rule", "/ci/*", &["read"])],
        "none",
    );
    let (s, theirs) = call(
        &gw,
        &token,
        "/get-dynamic-secret-value",
        json!({"name": "/ci/role"}),
    );
    assert_eq!(s, 200, "{theirs}");
    assert_ne!(theirs["access_key_id"], first["access_key_id"]);
    let metrics = gw
        .client()
        .get(gw.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains(r#"mayfly_guardrails_total{action="reused"} 1"#),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("guardrails"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Once revoked, the credential is never handed out again: the next ask gets a new one.
    let (s, b) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/ci/role", "tmp-creds-id": first["id"]}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, _, after) = get(&gw, "/ci/role");
    assert_eq!(s, 200, "{after}");
    assert_ne!(
        after["id"], first["id"],
        "a revoked credential is not reused"
    );
    assert_ne!(after["access_key_id"], first["access_key_id"]);
}
