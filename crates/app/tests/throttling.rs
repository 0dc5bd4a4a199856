//! Issuing and revoking while AWS throttles (issue #15 item 2), against the fakes behind a
//! target's governor (adaptive limiter, shared retry budget, deadlines): a throttled issue
//! succeeds after backoff; one that cannot be served in time is refused with a retry time
//! and leaves nothing in AWS; the revoker keeps going until every user is gone.

use std::{sync::Arc, time::Duration};

use mayfly_app::{
    access::Caller,
    aws_source::FixedSource,
    error::AppError,
    leases::{issue, revoker},
    state::AppState,
};
use mayfly_aws::{
    fake::{FakeIam, FakeSts},
    governor::Governor,
    ops, AwsClients, AwsError,
};
use mayfly_crypto::{KeyRing, MasterKey};
use mayfly_domain::{ItemName, ProducerDraft};
use mayfly_store::leases::{self, LeaseState};

mod common;

struct Fixture {
    state: AppState,
    iam: Arc<FakeIam>,
    governor: Arc<Governor>,
    caller: Caller,
}

async fn fixture() -> Fixture {
    let db = mayfly_store::connect("sqlite::memory:", 1).await.unwrap();
    let iam = Arc::new(FakeIam::new());
    let sts = Arc::new(FakeSts::new());
    let governor = Governor::new();
    let aws = Arc::new(FixedSource(governor.govern(AwsClients {
        iam: iam.clone(),
        sts,
    })));
    let keys = KeyRing::single(MasterKey::generate("k1").unwrap());
    let auditor = mayfly_app::audit::Auditor::from_env().unwrap();
    let state = AppState::new(
        db,
        keys,
        aws,
        "cluster-1".into(),
        &common::settings(),
        auditor,
    );
    let caller = common::admin_caller("p-test");
    common::create_aws_target(&state, &caller, "us-east-1").await;
    common::create_producer_on_aws(
        &state,
        &caller,
        &ProducerDraft {
            name: Some("/p".into()),
            access_mode: Some("iam_user".into()),
            user_ttl: Some("1m".into()),
            ..Default::default()
        },
    )
    .await;
    Fixture {
        state,
        iam,
        governor,
        caller,
    }
}

impl Fixture {
    async fn issue(&self, timeout: Duration) -> Result<issue::Value, AppError> {
        issue::get_value(
            &self.state,
            issue::Requester {
                caller: self.caller.clone(),
                client_address: "127.0.0.1".into(),
            },
            issue::GetValue {
                name: ItemName::parse("/p").unwrap(),
                args: Vec::new(),
                timeout: Some(timeout),
            },
        )
        .await
    }

    async fn all_leases(&self) -> Vec<leases::Lease> {
        use sea_orm::EntityTrait;
        mayfly_store::entity::lease::Entity::find()
            .all(self.state.db())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_throttled_issue_succeeds_after_backoff_and_slows_the_target_down() {
    let f = fixture().await;
    f.iam.throttle_next(ops::CREATE_USER, 2);
    let value = f.issue(Duration::from_secs(30)).await.unwrap();
    assert!(value["access_key_id"].starts_with("AKIA"), "{value:?}");
    assert_eq!(f.iam.calls(ops::CREATE_USER), 3);
    assert!(
        f.governor.iam_write.snapshot().enabled,
        "the target's IAM writes are paced after a throttle"
    );
    assert!(
        !f.governor.iam_read.snapshot().enabled,
        "a throttled write does not slow the target's IAM reads"
    );
    assert_eq!(f.iam.user_names().len(), 1);
}

#[tokio::test]
async fn a_throttled_issue_that_cannot_finish_in_time_is_refused_with_a_retry_time() {
    let f = fixture().await;
    f.iam.fail_always(
        ops::CREATE_USER,
        AwsError::Throttled("Rate exceeded".into()),
    );
    let started = std::time::Instant::now();
    let err = f.issue(Duration::from_secs(3)).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused, not hung: {:?}",
        started.elapsed()
    );
    match &err {
        AppError::AwsOverloaded {
            retry_after_secs, ..
        } => assert!(*retry_after_secs >= 1),
        other => panic!("expected a refusal with a retry time, got {other:?}"),
    }
    assert!(f.iam.user_names().is_empty(), "nothing left in AWS");
    let leases = f.all_leases().await;
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].state, LeaseState::Aborted);
}

#[tokio::test]
async fn an_issue_whose_writes_cannot_all_be_made_in_time_is_refused_before_the_first() {
    let f = fixture().await;
    // AWS has throttled this target's IAM writes: the limiter paces them at its slowest
    // (0.5/s). An iam_user issue makes two writes (CreateUser, CreateAccessKey): 4 s.
    f.governor.iam_write.throttled(tokio::time::Instant::now());
    assert_eq!(f.governor.iam_write.snapshot().rate, 0.5);
    let err = f.issue(Duration::from_secs(3)).await.unwrap_err();
    match &err {
        AppError::AwsOverloaded {
            retry_after_secs, ..
        } => assert!(*retry_after_secs >= 3, "come back when both fit: {err:?}"),
        other => panic!("expected a refusal with a retry time, got {other:?}"),
    }
    assert_eq!(f.iam.calls(ops::CREATE_USER), 0, "refused before any write");
    assert!(f.iam.user_names().is_empty());
    assert_eq!(f.all_leases().await[0].state, LeaseState::Aborted);
    // Reads are not held back by the writes' pace.
    assert!(!f.governor.iam_read.snapshot().enabled);
    // With time for both writes, the issue goes through, each write paid for up front.
    let value = f.issue(Duration::from_secs(8)).await.unwrap();
    assert!(value["access_key_id"].starts_with("AKIA"), "{value:?}");
    assert_eq!(f.iam.calls(ops::CREATE_USER), 1);
    assert_eq!(f.iam.user_names().len(), 1);
}

#[tokio::test]
async fn when_the_retry_budget_is_spent_failures_come_back_at_once() {
    let f = fixture().await;
    // Spend the target's budget, as a storm of throttled retries would.
    while f.governor.budget.pay_for_retry(true) {}
    f.iam.throttle_next(ops::CREATE_USER, 1);
    let err = f.issue(Duration::from_secs(30)).await.unwrap_err();
    assert!(
        matches!(err, AppError::AwsOverloaded { .. }),
        "no retry without budget: {err:?}"
    );
    assert_eq!(f.iam.calls(ops::CREATE_USER), 1);
    assert!(f.iam.user_names().is_empty());
    // Successes earn it back; then issuing works again.
    for _ in 0..20 {
        f.governor.budget.earn();
    }
    f.issue(Duration::from_secs(30)).await.unwrap();
}

#[tokio::test]
async fn the_revoker_keeps_going_under_throttling_until_every_user_is_gone() {
    let f = fixture().await;
    for _ in 0..5 {
        f.issue(Duration::from_secs(30)).await.unwrap();
    }
    assert_eq!(f.iam.user_names().len(), 5);
    f.iam.throttle_next(ops::DELETE_USER, 6);
    f.iam.throttle_next(ops::DELETE_ACCESS_KEY, 3);
    mayfly_app::tmp_creds::revoke_soon(
        &f.state,
        leases::LeaseScope::Producer(f.all_leases().await[0].producer_id),
    )
    .await
    .unwrap();
    for _ in 0..30 {
        mayfly_aws::governor::background(revoker::run_once(&f.state)).await;
        if f.iam.user_names().is_empty() {
            break;
        }
        // Failed teardowns are retried with backoff: make them due again.
        for lease in f.all_leases().await {
            leases::retry_now(f.state.db(), &lease.id, mayfly_store::now_millis())
                .await
                .unwrap();
        }
    }
    assert!(f.iam.user_names().is_empty(), "{:?}", f.iam.user_names());
    assert!(f
        .all_leases()
        .await
        .iter()
        .all(|l| l.state == LeaseState::Revoked));
}

#[tokio::test]
async fn a_credential_made_after_its_request_has_gone_is_revoked_at_once() {
    let f = fixture().await;
    // AWS answers slowly (as under throttling): the request is gone before the credential is
    // made, but the issue goes on in its own task (never half way), and then nobody holds it.
    f.iam.set_latency(Some(Duration::from_millis(700)));
    let gone =
        tokio::time::timeout(Duration::from_millis(300), f.issue(Duration::from_secs(30))).await;
    assert!(gone.is_err(), "the request was dropped before AWS answered");
    // Made, then not left for its TTL (one minute) but due at once.
    let give_up = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let lease = f
            .all_leases()
            .await
            .first()
            .cloned()
            .expect("the lease row");
        if lease.state == LeaseState::Active && lease.expires_at <= mayfly_store::now_millis() {
            break;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "the unreceived credential was not made due: {lease:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(f.iam.user_names().len(), 1);
    f.iam.set_latency(None);
    revoker::run_once(&f.state).await;
    assert!(f.iam.user_names().is_empty(), "{:?}", f.iam.user_names());
    assert_eq!(f.all_leases().await[0].state, LeaseState::Revoked);
}
