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
}
