//! IAM throttling between the gateway and AWS (issue #15): the AWS network proxy
//! (`mayfly-aws-netsim`) sits between the gateway and moto, adds a round trip and throttles
//! IAM's writes at a low rate with AWS's own `Throttling` answer. An `iam_user` credential is
//! still issued: the gateway's AWS client backs off and retries the throttled calls.

use std::time::Duration;

use mayfly_aws_netsim::{NetSim, NetSimConfig, RateLimit, IAM_WRITE_ACTIONS};
use mayfly_testkit::moto::MotoServer;
use serde_json::json;

use crate::{
    aws::{caller_arn, unique_path, users_under},
    helpers::builder,
};

#[test]
fn a_throttled_iam_user_issue_succeeds_after_backoff() {
    let moto = MotoServer::shared();
    // Four IAM writes a second, a burst of one: the set-up calls that follow CreateUser
    // within milliseconds find the bucket empty.
    let aws = NetSim::start(
        moto.url(),
        NetSimConfig::new()
            .latency(Duration::from_millis(10), Duration::from_millis(5))
            .throttle(IAM_WRITE_ACTIONS, RateLimit::new(4.0, 1)),
    )
    .expect("AWS network proxy");
    let path = unique_path();
    let gw = builder()
        .env(
            "MAYFLY_ALLOWED_ENDPOINTS",
            format!("{},{}", moto.url(), aws.url()),
        )
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("gateway");
    let (admin_id, admin_secret) = moto.admin();
    let (s, b) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": admin_id, "access-key": admin_secret,
               "region": "us-east-1", "iam-endpoint": aws.url(), "sts-endpoint": aws.url()}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        json!({"name": "/throttled", "target-name": "/aws", "access-mode": "iam_user",
               "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess",
               "aws-user-programmatic-access": true, "user-ttl": "15m", "region": "us-east-1"}),
    );
    assert_eq!(s, 200, "{b}");
    aws.reset_counters();

    let (s, v) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": "/throttled", "timeout": 60}),
    );
    assert_eq!(s, 200, "issued despite throttling: {v}");
    assert!(caller_arn(moto, &v).is_some(), "the key works: {v}");

    let seen = aws.counters();
    assert!(
        seen.throttled_of(IAM_WRITE_ACTIONS) > 0,
        "IAM writes were throttled on the way: {seen:?}"
    );
    for action in ["CreateUser", "AttachUserPolicy", "CreateAccessKey"] {
        let a = seen.action(action);
        assert!(
            a.calls > a.throttled,
            "{action} went through in the end: {seen:?}"
        );
    }
    assert_eq!(
        seen.action("CreateUser").calls - seen.action("CreateUser").throttled,
        1,
        "one user created, however often the call was retried: {seen:?}"
    );
    assert_eq!(users_under(moto, &path).len(), 1, "one user, tracked");
    // The metrics call IAM's 400 `Throttling` what it is.
    let metrics = gw
        .client()
        .get(gw.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.lines().any(
            |l| l.starts_with("mayfly_aws_calls_total") && l.contains(r#"outcome="throttled""#)
        ),
        "{}",
        metrics
            .lines()
            .filter(|l| l.starts_with("mayfly_aws_calls_total"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A gateway on `path` whose target `/aws` reaches moto through `aws`, with an `iam_user`
/// producer `/throttled`.
fn gateway_through(moto: &MotoServer, aws: &NetSim, path: &str) -> mayfly_testkit::TestGateway {
    let gw = builder()
        .env(
            "MAYFLY_ALLOWED_ENDPOINTS",
            format!("{},{}", moto.url(), aws.url()),
        )
        .env("MAYFLY_IAM_USER_PATH", path)
        .spawn()
        .expect("gateway");
    let (admin_id, admin_secret) = moto.admin();
    let (s, b) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": admin_id, "access-key": admin_secret,
               "region": "us-east-1", "iam-endpoint": aws.url(), "sts-endpoint": aws.url()}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        json!({"name": "/throttled", "target-name": "/aws", "access-mode": "iam_user",
               "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess",
               "user-ttl": "15m"}),
    );
    assert_eq!(s, 200, "{b}");
    gw
}

#[test]
fn a_throttled_issue_that_runs_out_of_deadline_is_503_with_retry_after_and_leaves_nothing() {
    let moto = MotoServer::shared();
    let aws = NetSim::start(
        moto.url(),
        NetSimConfig::new().latency(Duration::from_millis(10), Duration::from_millis(2)),
    )
    .expect("AWS network proxy");
    let path = unique_path();
    let gw = gateway_through(moto, &aws, &path);
    aws.throttle(IAM_WRITE_ACTIONS, RateLimit::refuse_all());

    let started = std::time::Instant::now();
    let res = gw
        .client()
        .post(gw.url("/get-dynamic-secret-value"))
        .json(&json!({"name": "/throttled", "timeout": 3, "token": gw.admin_token()}))
        .send()
        .unwrap();
    let took = started.elapsed();
    let status = res.status().as_u16();
    let retry_after: Option<u64> = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body: serde_json::Value = res.json().unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After: {retry_after:?}"
    );
    assert!(
        crate::helpers::error_of(&body).contains("throttl"),
        "says why: {body}"
    );
    // Answered about when its deadline ran out, not left hanging.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(aws.counters().throttled_of(IAM_WRITE_ACTIONS) > 0);
    aws.clear_throttles();
    assert!(users_under(moto, &path).is_empty(), "no user left in AWS");
    let (s, listed) = gw.post_authed(
        "/gateway-get-producer-tmp-creds",
        json!({"name": "/throttled"}),
    );
    assert_eq!(s, 200, "{listed}");
    assert_eq!(listed, json!([]), "nothing live is tracked either");
}

#[test]
fn the_revoker_drains_under_throttling_while_issuing_goes_on() {
    let moto = MotoServer::shared();
    let aws = NetSim::start(
        moto.url(),
        NetSimConfig::new().latency(Duration::from_millis(10), Duration::from_millis(2)),
    )
    .expect("AWS network proxy");
    let path = unique_path();
    let gw = gateway_through(moto, &aws, &path);
    for _ in 0..4 {
        let (s, v) = gw.post_authed(
            "/get-dynamic-secret-value",
            json!({"name": "/throttled", "timeout": 30}),
        );
        assert_eq!(s, 200, "{v}");
    }
    assert_eq!(users_under(moto, &path).len(), 4);
    // IAM now takes three writes a second: the teardowns (three writes per user) compete.
    aws.throttle(IAM_WRITE_ACTIONS, RateLimit::new(3.0, 1));
    aws.reset_counters();
    let (s, b) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/throttled", "revoke-all": true}),
    );
    assert_eq!(s, 200, "{b}");
    // A request during the drain still gets its credential.
    let (s, v) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": "/throttled", "timeout": 60}),
    );
    assert_eq!(s, 200, "issuing goes on while the revoker drains: {v}");
    let fresh = v["user"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let left = users_under(moto, &path);
        if left == vec![fresh.clone()] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the revoker did not finish under throttling: {left:?}; {:?}",
            aws.counters()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        aws.counters().throttled_of(IAM_WRITE_ACTIONS) > 0,
        "the drain was throttled: {:?}",
        aws.counters()
    );
    let (s, listed) = gw.post_authed(
        "/gateway-get-producer-tmp-creds",
        json!({"name": "/throttled"}),
    );
    assert_eq!(s, 200, "{listed}");
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "only the fresh one: {listed}"
    );
}
