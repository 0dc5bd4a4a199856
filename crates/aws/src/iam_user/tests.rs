//! The `iam_user` algorithms against [`FakeIam`]: what exists after each outcome, which calls
//! were made, and how long things took (with paused tokio time).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::*;
use crate::fake::FakeIam;
use crate::{ops, CreateUser, IamApi, RetryPolicy};

const USER: &str = "tmp.reader.0001";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/mayfly-boundary";

fn our_tags() -> Vec<(String, String)> {
    vec![
        ("mayfly:cluster".into(), "test-cluster".into()),
        ("mayfly:lease".into(), "lease-0001".into()),
    ]
}

fn full_plan() -> UserPlan {
    UserPlan {
        name: USER.into(),
        path: "/mayfly/".into(),
        permissions_boundary: Some(BOUNDARY.into()),
        tags: our_tags(),
        policy_arns: vec![READ_ONLY.into(), S3_READ.into()],
        inline_policy: Some((
            "mayfly-inline".into(),
            r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
        )),
        groups: vec!["readers".into(), "auditors".into()],
        console_password: Some(SecretString::from("Sup3r-secret-Passw0rd!")),
        programmatic: true,
    }
}

fn fake_with_groups() -> FakeIam {
    let iam = FakeIam::new();
    iam.create_group("readers");
    iam.create_group("auditors");
    iam
}

fn deadline_in(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

fn timeout() -> AwsError {
    AwsError::Timeout("response lost (injected)".into())
}

async fn create(iam: &FakeIam, plan: &UserPlan) -> Result<CreatedUser, IssueFailure> {
    create_user_with_access(iam, plan, deadline_in(30), &RetryPolicy::default()).await
}

async fn teardown(iam: &FakeIam, name: &str) -> Result<TeardownReport, AwsError> {
    teardown_user(iam, name, deadline_in(30), &RetryPolicy::default()).await
}

#[tokio::test(start_paused = true)]
async fn create_sets_up_everything_and_teardown_leaves_nothing() {
    let iam = fake_with_groups();
    let created = create(&iam, &full_plan()).await.expect("created");
    let key = created
        .access_key
        .expect("programmatic access asked for a key");

    let user = iam.user(USER).expect("user exists");
    assert_eq!(user.path, "/mayfly/");
    assert_eq!(user.tags, our_tags());
    assert_eq!(user.permissions_boundary.as_deref(), Some(BOUNDARY));
    assert_eq!(
        user.attached_policies,
        vec![S3_READ.to_owned(), READ_ONLY.to_owned()]
    );
    assert_eq!(user.inline_policies.len(), 1);
    assert_eq!(
        user.groups,
        vec!["auditors".to_owned(), "readers".to_owned()]
    );
    assert!(user.login_profile);
    assert_eq!(
        iam.login_password(USER).as_deref(),
        Some("Sup3r-secret-Passw0rd!")
    );
    assert_eq!(user.access_keys, vec![key.access_key_id.clone()]);
    assert!(!key.secret_access_key.expose_secret().is_empty());

    let report = teardown(&iam, USER).await.expect("torn down");
    assert!(iam.user_names().is_empty(), "{:?}", iam.user_names());
    assert!(report.user_existed);
    assert_eq!(
        report.removed,
        vec![
            "login-profile".to_owned(),
            format!("access-key:{}", key.access_key_id),
            format!("managed-policy:{S3_READ}"),
            format!("managed-policy:{READ_ONLY}"),
            "inline-policy:mayfly-inline".to_owned(),
            "group:auditors".to_owned(),
            "group:readers".to_owned(),
            format!("user:{USER}"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_minimal_plan_makes_only_the_calls_it_needs() {
    let iam = FakeIam::new();
    let plan = UserPlan {
        policy_arns: vec![READ_ONLY.into()],
        inline_policy: None,
        groups: Vec::new(),
        console_password: None,
        permissions_boundary: None,
        programmatic: false,
        ..full_plan()
    };
    let created = create(&iam, &plan).await.expect("created");
    assert!(created.access_key.is_none());
    assert_eq!(iam.calls(ops::CREATE_USER), 1);
    assert_eq!(iam.calls(ops::ATTACH_USER_POLICY), 1);
    assert_eq!(
        iam.total_calls(),
        2,
        "no login profile, group, inline policy or key"
    );
    assert!(!iam.user(USER).expect("exists").login_profile);
}

#[tokio::test(start_paused = true)]
async fn a_fault_after_create_user_reports_the_user_and_hands_out_no_key() {
    let iam = fake_with_groups();
    iam.fail_next(
        ops::ADD_USER_TO_GROUP,
        AwsError::AccessDenied {
            action: ops::ADD_USER_TO_GROUP.into(),
            message: "not allowed".into(),
        },
    );
    let failure = create(&iam, &full_plan()).await.expect_err("must fail");
    assert!(failure.user_created);
    assert!(
        matches!(&failure.error, AwsError::AccessDenied { action, .. } if action == ops::ADD_USER_TO_GROUP),
        "{failure:?}"
    );
    // The key was made alongside the failing call; it is not handed out (the failure has no
    // key) and the teardown below deletes it with the user.
    assert_eq!(iam.calls(ops::CREATE_ACCESS_KEY), 1);
    // The other concurrent calls all ran to the end (nothing cancelled mid-flight).
    assert_eq!(iam.calls(ops::ATTACH_USER_POLICY), 2);
    assert_eq!(iam.calls(ops::CREATE_LOGIN_PROFILE), 1);

    let report = teardown(&iam, USER).await.expect("torn down");
    assert!(report.user_existed);
    assert!(iam.user_names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_access_key_still_reports_the_user() {
    let iam = fake_with_groups();
    iam.fail_next(
        ops::CREATE_ACCESS_KEY,
        AwsError::InvalidInput {
            code: "LimitExceeded".into(),
            message: "quota".into(),
        },
    );
    let failure = create(&iam, &full_plan()).await.expect_err("must fail");
    assert!(failure.user_created);
    assert_eq!(failure.error.code(), "LimitExceeded");
    teardown(&iam, USER).await.expect("torn down");
    assert!(iam.user_names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_refused_create_user_leaves_nothing_to_tear_down() {
    let iam = fake_with_groups();
    iam.fail_next(
        ops::CREATE_USER,
        AwsError::AccessDenied {
            action: ops::CREATE_USER.into(),
            message: "no".into(),
        },
    );
    let failure = create(&iam, &full_plan()).await.expect_err("must fail");
    assert!(!failure.user_created);
    assert!(iam.user_names().is_empty());
    assert_eq!(iam.total_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_user_without_an_answer_may_have_created_the_user() {
    let iam = fake_with_groups();
    iam.lose_response_next(ops::CREATE_USER, timeout());
    let policy = RetryPolicy::no_retries();
    let failure = create_user_with_access(&iam, &full_plan(), deadline_in(30), &policy)
        .await
        .expect_err("must fail");
    assert!(
        failure.user_created,
        "the request may have been carried out"
    );
    assert!(iam.user(USER).is_some(), "and here it was");
    teardown(&iam, USER).await.expect("torn down");
    assert!(iam.user_names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_retried_create_user_recognises_its_own_user_by_its_tags() {
    let iam = fake_with_groups();
    iam.lose_response_next(ops::CREATE_USER, timeout());
    let created = create(&iam, &full_plan()).await.expect("created");
    assert!(created.access_key.is_some());
    assert_eq!(iam.calls(ops::CREATE_USER), 2);
    assert_eq!(iam.calls(ops::GET_USER), 1);
    assert_eq!(iam.user(USER).expect("exists").groups.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_name_taken_by_someone_else_is_not_ours_to_tear_down() {
    let iam = fake_with_groups();
    let foreign = CreateUser {
        name: USER.into(),
        path: "/".into(),
        permissions_boundary: None,
        tags: vec![("owner".into(), "someone-else".into())],
    };
    iam.create_user(&foreign).await.expect("foreign user");
    iam.lose_response_next(ops::CREATE_USER, timeout());

    let failure = create(&iam, &full_plan()).await.expect_err("must fail");
    assert!(failure.error.is_entity_already_exists(), "{failure:?}");
    assert!(
        !failure.user_created,
        "never tear down a user that is not ours"
    );
    let user = iam.user(USER).expect("foreign user untouched");
    assert_eq!(user.tags, foreign.tags);
    assert!(user.attached_policies.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_lost_login_profile_response_is_not_a_failure() {
    let iam = fake_with_groups();
    iam.lose_response_next(ops::CREATE_LOGIN_PROFILE, timeout());
    create(&iam, &full_plan()).await.expect("created");
    assert_eq!(iam.calls(ops::CREATE_LOGIN_PROFILE), 2);
    assert!(iam.user(USER).expect("exists").login_profile);
}

#[tokio::test(start_paused = true)]
async fn teardown_removes_everything_added_out_of_band() {
    let iam = fake_with_groups();
    let plan = UserPlan {
        console_password: None,
        ..full_plan()
    };
    create(&iam, &plan).await.expect("created");
    iam.add_login_profile(USER).expect("profile");
    let second_key = iam.add_access_key(USER).expect("second key");
    let virtual_mfa = iam.add_virtual_mfa_device(USER).expect("virtual mfa");
    let hardware_mfa = iam.add_hardware_mfa_device(USER).expect("hardware mfa");
    let cert = iam.add_signing_certificate(USER).expect("cert");
    let ssh = iam.add_ssh_public_key(USER).expect("ssh");
    let service = iam
        .add_service_specific_credential(USER)
        .expect("service cred");
    iam.put_user_policy(USER, "extra", "{}")
        .await
        .expect("inline");

    // DeleteUser alone is refused, as on real AWS.
    let conflict = iam.delete_user(USER).await.expect_err("conflict");
    assert_eq!(conflict.code(), "DeleteConflict");

    let report = teardown(&iam, USER).await.expect("torn down");
    assert!(iam.user_names().is_empty());
    assert!(
        iam.virtual_mfa_devices().is_empty(),
        "virtual MFA device deleted"
    );
    for expected in [
        "login-profile".to_owned(),
        format!("access-key:{second_key}"),
        format!("mfa-device:{virtual_mfa}"),
        format!("mfa-device:{hardware_mfa}"),
        format!("signing-certificate:{cert}"),
        format!("ssh-public-key:{ssh}"),
        format!("service-specific-credential:{service}"),
        "inline-policy:extra".to_owned(),
        "inline-policy:mayfly-inline".to_owned(),
        "group:readers".to_owned(),
        format!("user:{USER}"),
    ] {
        assert!(
            report.removed.contains(&expected),
            "{expected} missing from {report:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn teardown_follows_the_documented_order() {
    let iam = fake_with_groups();
    create(&iam, &full_plan()).await.expect("created");
    iam.add_virtual_mfa_device(USER).expect("mfa");
    iam.add_signing_certificate(USER).expect("cert");
    iam.add_ssh_public_key(USER).expect("ssh");
    iam.add_service_specific_credential(USER)
        .expect("service cred");
    let report = teardown(&iam, USER).await.expect("torn down");
    let kinds: Vec<&str> = report
        .removed
        .iter()
        .map(|r| r.split(':').next().unwrap_or_default())
        .collect();
    let mut order: Vec<&str> = kinds.clone();
    order.dedup();
    assert_eq!(
        order,
        vec![
            "login-profile",
            "access-key",
            "mfa-device",
            "signing-certificate",
            "ssh-public-key",
            "service-specific-credential",
            "managed-policy",
            "inline-policy",
            "group",
            "user"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn teardown_of_a_missing_user_succeeds() {
    let iam = FakeIam::new();
    let report = teardown(&iam, "never-existed").await.expect("success");
    assert_eq!(report, TeardownReport::default());
    assert_eq!(
        iam.calls(ops::DELETE_USER),
        0,
        "stops at the first list call"
    );
}

#[tokio::test(start_paused = true)]
async fn teardown_treats_no_such_entity_on_a_step_as_done() {
    let iam = fake_with_groups();
    create(&iam, &full_plan()).await.expect("created");
    // Someone else removed the policy between our list and our detach.
    iam.fail_next(
        ops::DETACH_USER_POLICY,
        AwsError::NoSuchEntity("gone".into()),
    );
    iam.fail_next(
        ops::DETACH_USER_POLICY,
        AwsError::NoSuchEntity("gone".into()),
    );
    // The fake still holds the attachments, so DeleteUser conflicts once; the next pass
    // detaches them and succeeds.
    let report = teardown(&iam, USER).await.expect("torn down");
    assert!(iam.user_names().is_empty());
    assert!(report.user_existed);
    assert_eq!(iam.calls(ops::DELETE_USER), 2);
}

#[tokio::test(start_paused = true)]
async fn teardown_reports_an_error_it_cannot_get_past() {
    let iam = fake_with_groups();
    create(&iam, &full_plan()).await.expect("created");
    iam.fail_always(
        ops::DELETE_ACCESS_KEY,
        AwsError::AccessDenied {
            action: ops::DELETE_ACCESS_KEY.into(),
            message: "denied".into(),
        },
    );
    let err = teardown(&iam, USER).await.expect_err("must fail");
    assert!(
        matches!(&err, AwsError::AccessDenied { action, .. } if action == ops::DELETE_ACCESS_KEY)
    );
    assert!(
        iam.user(USER).is_some(),
        "the lease stays for a later retry"
    );
    assert_eq!(iam.calls(ops::DELETE_USER), 0);

    iam.clear_faults();
    teardown(&iam, USER).await.expect("retry succeeds");
    assert!(iam.user_names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_within_the_deadline() {
    let iam = fake_with_groups();
    iam.throttle_next(ops::CREATE_USER, 3);
    iam.throttle_next(ops::ATTACH_USER_POLICY, 2);
    iam.throttle_next(ops::CREATE_ACCESS_KEY, 1);
    iam.throttle_next(ops::LIST_ACCESS_KEYS, 2);
    iam.throttle_next(ops::DELETE_USER, 4);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(10);
    let retry = RetryPolicy::default();

    create_user_with_access(&iam, &full_plan(), deadline, &retry)
        .await
        .expect("created despite throttling");
    assert_eq!(iam.calls(ops::CREATE_USER), 4);
    assert_eq!(iam.calls(ops::ATTACH_USER_POLICY), 2 + 2);
    assert_eq!(iam.calls(ops::CREATE_ACCESS_KEY), 2);

    teardown_user(&iam, USER, deadline, &retry)
        .await
        .expect("torn down despite throttling");
    assert_eq!(iam.calls(ops::DELETE_USER), 5);
    assert!(iam.user_names().is_empty());
    assert!(Instant::now() <= deadline);
}

#[tokio::test(start_paused = true)]
async fn permanent_throttling_gives_up_at_the_deadline() {
    let iam = fake_with_groups();
    iam.fail_always(
        ops::ATTACH_USER_POLICY,
        AwsError::Throttled("Rate exceeded".into()),
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs(3);
    let retry = RetryPolicy {
        max_attempts: u32::MAX,
        ..RetryPolicy::default()
    };
    let failure = create_user_with_access(&iam, &full_plan(), deadline, &retry)
        .await
        .expect_err("must give up");
    // Throttled until the deadline: "come back later", with AWS's words.
    assert!(
        matches!(&failure.error, AwsError::Overloaded { message, .. } if message.contains("Rate exceeded")),
        "{failure:?}"
    );
    assert!(failure.user_created);
    assert!(Instant::now() <= deadline, "ran past the deadline");
    assert!(iam.calls(ops::ATTACH_USER_POLICY) > 2, "it did retry");
}

#[tokio::test(start_paused = true)]
async fn a_slow_aws_hits_the_deadline_as_a_timeout() {
    let iam = fake_with_groups();
    iam.set_latency(Some(Duration::from_secs(20)));
    let start = Instant::now();
    let failure = create_user_with_access(
        &iam,
        &full_plan(),
        start + Duration::from_secs(5),
        &RetryPolicy::default(),
    )
    .await
    .expect_err("must time out");
    assert!(matches!(failure.error, AwsError::Timeout(_)), "{failure:?}");
    assert!(failure.user_created, "CreateUser may still land");
    assert_eq!(Instant::now() - start, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn calls_after_create_user_run_concurrently() {
    let iam = fake_with_groups();
    let latency = Duration::from_millis(100);
    iam.set_latency(Some(latency));
    let start = Instant::now();
    create(&iam, &full_plan()).await.expect("created");
    let elapsed = Instant::now() - start;

    // 2 attaches + 1 inline policy + 2 groups + 1 login profile + the access key at once.
    assert_eq!(iam.max_in_flight(), 7);
    // CreateUser, then everything else at once: two round trips.
    assert_eq!(elapsed, latency * 2, "took {elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn deletions_within_a_teardown_step_run_concurrently() {
    let iam = fake_with_groups();
    create(&iam, &full_plan()).await.expect("created");
    iam.add_access_key(USER).expect("second key");
    iam.reset_counters();
    iam.set_latency(Some(Duration::from_millis(100)));
    teardown(&iam, USER).await.expect("torn down");
    // Two policies, two keys or two groups at a time, never everything at once.
    assert_eq!(iam.max_in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_without_service_specific_credentials_can_still_tear_down() {
    let iam = fake_with_groups();
    create(&iam, &full_plan()).await.expect("created");
    // What moto answers: it does not implement the action.
    let unimplemented = AwsError::ServiceError {
        status: Some(500),
        code: "Unknown".into(),
        message: "Internal Server Error".into(),
    };
    iam.fail_always(ops::LIST_SERVICE_SPECIFIC_CREDENTIALS, unimplemented);
    teardown(&iam, USER).await.expect("torn down");
    assert!(iam.user_names().is_empty());
    assert_eq!(
        iam.calls(ops::LIST_SERVICE_SPECIFIC_CREDENTIALS),
        1,
        "one attempt, no retry loop on a missing action"
    );
}

#[tokio::test(start_paused = true)]
async fn a_skipped_step_is_reported_when_delete_user_still_conflicts() {
    let iam = fake_with_groups();
    create(&iam, &full_plan()).await.expect("created");
    iam.add_service_specific_credential(USER)
        .expect("credential");
    iam.fail_always(
        ops::LIST_SERVICE_SPECIFIC_CREDENTIALS,
        AwsError::AccessDenied {
            action: ops::LIST_SERVICE_SPECIFIC_CREDENTIALS.into(),
            message: "not granted".into(),
        },
    );
    let err = teardown(&iam, USER).await.expect_err("cannot finish");
    assert!(
        matches!(&err, AwsError::AccessDenied { action, .. } if action == ops::LIST_SERVICE_SPECIFIC_CREDENTIALS),
        "{err:?}"
    );
    assert_eq!(iam.calls(ops::DELETE_USER), 3, "three passes");
    let left = iam.user(USER).expect("still there");
    assert_eq!(left.service_specific_credentials.len(), 1);
    assert!(left.access_keys.is_empty(), "everything else is gone");
}
