//! How failures look from the caller's side: bad keys, no server, a server that never answers.

use std::time::Duration;

use mayfly_aws::{
    create_user_with_access, teardown_user, AwsError, AwsTimeouts, RetryPolicy, UserPlan,
};
use mayfly_testkit::moto::{MotoOptions, MotoServer};
use tokio::time::Instant;

use crate::helpers::{admin, connection, deadline, factory, moto, unique};

const BOGUS_SECRET: &str = "bogusSecretKeyThatMustNeverBeEchoed0000000";

#[tokio::test]
async fn an_unknown_key_is_access_denied_naming_the_action() {
    let moto = moto();
    let clients = factory().clients(&connection(
        moto,
        "AKIAMAYFLYBOGUSKEY00",
        BOGUS_SECRET,
        None,
    ));
    let err = clients
        .sts
        .get_caller_identity()
        .await
        .expect_err("rejected");
    assert!(
        matches!(&err, AwsError::AccessDenied { action, .. } if action == "sts:GetCallerIdentity"),
        "{err:?}"
    );
    let err = clients.iam.list_users("/").await.expect_err("rejected");
    assert!(
        matches!(&err, AwsError::AccessDenied { action, .. } if action == "iam:ListUsers"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(!format!("{err} {err:?}").contains(BOGUS_SECRET));
}

#[tokio::test]
async fn a_stopped_aws_is_unreachable_not_a_hang() {
    let mut moto = MotoServer::spawn(MotoOptions::enforcing_auth());
    let factory = factory();
    let iam = factory.iam(&admin(&moto));
    let id = unique("stopped");
    let plan = UserPlan {
        name: format!("tmp.{id}"),
        path: format!("/mayfly-test/{id}/"),
        permissions_boundary: None,
        tags: vec![("mayfly:lease".into(), id.clone())],
        policy_arns: Vec::new(),
        inline_policy: None,
        groups: Vec::new(),
        console_password: None,
        programmatic: true,
    };
    create_user_with_access(&iam, &plan, deadline(30), &RetryPolicy::default())
        .await
        .expect("issued while moto runs");

    moto.stop();

    let started = Instant::now();
    let err = teardown_user(&iam, &plan.name, deadline(3), &RetryPolicy::default())
        .await
        .expect_err("nobody answers");
    assert!(matches!(err, AwsError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let again = UserPlan {
        name: format!("tmp.{id}.2"),
        ..plan
    };
    let failure = create_user_with_access(&iam, &again, deadline(3), &RetryPolicy::default())
        .await
        .expect_err("nobody answers");
    assert!(
        matches!(failure.error, AwsError::Unreachable(_)),
        "{failure:?}"
    );
    assert!(failure.user_created, "without an answer the user may exist");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_per_attempt() {
    // Accepts connections (the kernel completes the handshake) but never reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let factory = factory().with_timeouts(AwsTimeouts {
        connect: Duration::from_secs(1),
        attempt: Duration::from_millis(300),
    });
    let mut conn = connection(moto(), "AKIAMAYFLYSILENT0000", BOGUS_SECRET, None);
    conn.iam_endpoint = Some(url.clone());
    conn.sts_endpoint = Some(url);
    let clients = factory.clients(&conn);

    let started = Instant::now();
    let err = clients.iam.get_user("anyone").await.expect_err("no answer");
    assert!(matches!(err, AwsError::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // With retries, the caller's deadline bounds the whole call.
    let started = Instant::now();
    let err = mayfly_aws::with_retries(
        &RetryPolicy::default(),
        deadline(1),
        "sts:GetCallerIdentity",
        || clients.sts.get_caller_identity(),
    )
    .await
    .expect_err("no answer");
    assert!(matches!(err, AwsError::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}
