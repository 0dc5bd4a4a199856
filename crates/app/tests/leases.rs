//! The lease machinery against in-memory AWS fakes: faults injected at every step must leave
//! no IAM user that no live lease tracks.

use std::{sync::Arc, time::Duration};

use mayfly_app::{
    access::Caller,
    aws_source::FixedSource,
    dynamic_secrets::{self},
    error::AppError,
    leases::{issue, reconciler, revoker, teardown, TAG_CLUSTER, TAG_LEASE},
    state::AppState,
};
use mayfly_aws::{fake::FakeIam, fake::FakeSts, ops, AwsClients, AwsError};
use mayfly_crypto::{KeyRing, MasterKey};
use mayfly_domain::{ItemName, ProducerDraft};
use mayfly_store::{
    leases::{self, LeaseState},
    LeaseId,
};

mod common;

struct Fixture {
    state: AppState,
    iam: Arc<FakeIam>,
    sts: Arc<FakeSts>,
    caller: Caller,
}

async fn fixture() -> Fixture {
    let db = mayfly_store::connect("sqlite::memory:", 1).await.unwrap();
    let mut settings = common::settings();
    settings.reconcile_min_age = Duration::ZERO;
    // The gateway's default: the stale-cache test needs the producer cache.
    settings.cache_ttl = Duration::from_secs(2);
    let iam = Arc::new(FakeIam::new());
    let sts = Arc::new(FakeSts::new());
    let aws = Arc::new(FixedSource(AwsClients {
        iam: iam.clone(),
        sts: sts.clone(),
    }));
    let keys = KeyRing::single(MasterKey::generate("k1").unwrap());
    let auditor = mayfly_app::audit::Auditor::from_env().unwrap();
    let state = AppState::new(db, keys, aws, "cluster-1".into(), &settings, auditor);
    let caller = common::admin_caller("p-test");
    common::create_aws_target(&state, &caller, "us-east-2").await;
    common::create_producer_on_aws(
        &state,
        &caller,
        &ProducerDraft {
            name: Some("/p".into()),
            access_mode: Some("iam_user".into()),
            user_policies: Some("arn:aws:iam::aws:policy/ReadOnlyAccess".into()),
            policy_document: Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#.into()),
            ..Default::default()
        },
    )
    .await;
    Fixture {
        state,
        iam,
        sts,
        caller,
    }
}

impl Fixture {
    async fn issue(&self) -> Result<issue::Value, AppError> {
        let requester = issue::Requester {
            caller: self.caller.clone(),
            client_address: "127.0.0.1".into(),
        };
        issue::get_value(
            &self.state,
            requester,
            issue::GetValue {
                name: ItemName::parse("/p").unwrap(),
                args: Vec::new(),
                timeout: None,
            },
        )
        .await
    }

    async fn lease(&self, id: &LeaseId) -> leases::Lease {
        leases::find(self.state.db(), id).await.unwrap().unwrap()
    }

    async fn all_leases(&self) -> Vec<leases::Lease> {
        use sea_orm::EntityTrait;
        mayfly_store::entity::lease::Entity::find()
            .all(self.state.db())
            .await
            .unwrap()
    }
}

fn denied(action: &str) -> AwsError {
    AwsError::AccessDenied {
        action: action.into(),
        message: "not authorized".into(),
    }
}

#[tokio::test]
async fn a_fault_after_create_user_rolls_back_and_returns_no_credential() {
    let f = fixture().await;
    f.iam
        .fail_always(ops::ATTACH_USER_POLICY, denied(ops::ATTACH_USER_POLICY));
    let err = f.issue().await.unwrap_err();
    assert!(matches!(err, AppError::Aws(_)), "{err:?}");
    assert!(err.to_string().contains("iam:AttachUserPolicy"), "{err}");
    assert!(f.iam.user_names().is_empty(), "the half-made user is gone");
    let leases = f.all_leases().await;
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].state, LeaseState::Aborted);
}

#[tokio::test]
async fn a_failed_rollback_leaves_the_lease_creating_and_the_reconciler_finishes_it() {
    let f = fixture().await;
    f.iam
        .fail_always(ops::CREATE_ACCESS_KEY, denied(ops::CREATE_ACCESS_KEY));
    f.iam.fail_always(
        ops::DELETE_USER,
        AwsError::Unreachable("connection refused".into()),
    );
    assert!(f.issue().await.is_err());
    assert_eq!(
        f.iam.user_names().len(),
        1,
        "rollback could not delete the user"
    );
    let lease = f.all_leases().await.remove(0);
    assert_eq!(
        lease.state,
        LeaseState::Creating,
        "tracked, for the reconciler"
    );

    f.iam.clear_faults();
    let report = reconciler::run_once(&f.state).await;
    assert_eq!(report.aborted, 1, "{report:?}");
    assert!(f.iam.user_names().is_empty());
    assert_eq!(f.lease(&lease.id).await.state, LeaseState::Aborted);
}

#[tokio::test]
async fn the_revoker_retries_failed_teardowns_until_they_succeed() {
    let f = fixture().await;
    let value = f.issue().await.unwrap();
    let id = LeaseId::new(value["id"].clone());
    let user = value["user"].clone();
    assert_eq!(f.iam.user_names(), vec![user.clone()]);
    // An access key added out of band must not keep the user alive.
    f.iam.add_access_key(&user).unwrap();

    let past = mayfly_store::now_millis() - 1;
    let lease = f.lease(&id).await;
    assert!(
        leases::set_expiry(f.state.db(), &id, past, 0, lease.updated_at)
            .await
            .unwrap()
    );
    f.iam.fail_always(
        ops::DELETE_USER,
        AwsError::Throttled("Rate exceeded".into()),
    );
    let round = revoker::run_once(&f.state).await;
    assert_eq!((round.revoked, round.failed), (0, 1));
    let failed = f.lease(&id).await;
    assert_eq!(failed.state, LeaseState::RevokeFailed);
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.unwrap().contains("Rate exceeded"));

    f.iam.clear_faults();
    assert_eq!(
        revoker::run_once(&f.state).await.revoked,
        0,
        "backoff: not yet due"
    );
    leases::retry_now(f.state.db(), &id, mayfly_store::now_millis())
        .await
        .unwrap();
    assert_eq!(revoker::run_once(&f.state).await.revoked, 1);
    assert_eq!(f.lease(&id).await.state, LeaseState::Revoked);
    assert!(f.iam.user_names().is_empty());
}

#[tokio::test]
async fn the_reconciler_deletes_users_of_this_cluster_that_no_live_lease_tracks() {
    let f = fixture().await;
    let live = f.issue().await.unwrap();
    let tags = |cluster: &str, lease: &str| {
        vec![
            (TAG_CLUSTER.to_owned(), cluster.to_owned()),
            (TAG_LEASE.to_owned(), lease.to_owned()),
        ]
    };
    for (name, cluster, lease) in [
        ("orphan-no-lease", "cluster-1", "tc-gone"),
        ("other-cluster", "cluster-2", "tc-x"),
    ] {
        use mayfly_aws::IamApi;
        f.iam
            .create_user(&mayfly_aws::CreateUser {
                name: name.into(),
                path: "/mayfly/".into(),
                permissions_boundary: None,
                tags: tags(cluster, lease),
            })
            .await
            .unwrap();
    }
    let report = reconciler::run_once(&f.state).await;
    assert_eq!(report.orphans_deleted, 1, "{report:?}");
    let mut left = f.iam.user_names();
    left.sort();
    let mut expected = vec![live["user"].clone(), "other-cluster".to_owned()];
    expected.sort();
    assert_eq!(left, expected, "only this cluster's untracked user goes");
}

#[tokio::test]
async fn each_reconciler_pass_is_recorded_as_the_last_run_with_what_it_did() {
    let f = fixture().await;
    assert_eq!(reconciler::last_run(&f.state).await.unwrap(), None);
    {
        use mayfly_aws::IamApi;
        f.iam
            .create_user(&mayfly_aws::CreateUser {
                name: "orphan".into(),
                path: "/mayfly/".into(),
                permissions_boundary: None,
                tags: vec![
                    (TAG_CLUSTER.to_owned(), "cluster-1".to_owned()),
                    (TAG_LEASE.to_owned(), "tc-gone".to_owned()),
                ],
            })
            .await
            .unwrap();
    }
    let before = mayfly_store::now_millis();
    let report = reconciler::run_and_record(&f.state).await;
    assert_eq!(report.orphans_deleted, 1);
    let run = reconciler::last_run(&f.state)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(run.report, report);
    assert_eq!(run.gateway, f.state.instance_id());
    assert!(before <= run.started_at && run.started_at <= run.finished_at);
    // The next pass replaces it.
    let second = reconciler::run_and_record(&f.state).await;
    let run2 = reconciler::last_run(&f.state).await.unwrap().unwrap();
    assert_eq!((run2.report, second.orphans_deleted), (second, 0));
    assert!(run2.started_at >= run.finished_at);
}

#[tokio::test]
async fn deleting_a_producer_hands_its_users_to_the_revoker_which_retries_until_they_are_gone() {
    let f = fixture().await;
    let a = f.issue().await.unwrap();
    f.issue().await.unwrap();
    assert_eq!(f.iam.user_names().len(), 2);
    f.iam
        .fail_always(ops::DELETE_USER, AwsError::Unreachable("down".into()));
    // The answer comes at once with the count; nothing is torn down within the request.
    let revoking = dynamic_secrets::delete(&f.state, &f.caller, &ItemName::parse("/p").unwrap())
        .await
        .unwrap();
    assert_eq!(revoking, 2);
    assert_eq!(f.iam.user_names().len(), 2);
    // The revoker works without the producer row; a failure is kept and retried.
    let round = revoker::run_once(&f.state).await;
    assert_eq!((round.revoked, round.failed), (0, 2), "{round:?}");
    assert_eq!(
        f.lease(&LeaseId::new(a["id"].clone())).await.state,
        LeaseState::RevokeFailed
    );
    f.iam.clear_faults();
    for l in f.all_leases().await {
        mayfly_store::leases::retry_now(f.state.db(), &l.id, mayfly_store::now_millis())
            .await
            .unwrap();
    }
    let round = revoker::run_once(&f.state).await;
    assert_eq!((round.revoked, round.failed), (2, 0), "{round:?}");
    assert!(f.iam.user_names().is_empty());
    assert_eq!(
        f.lease(&LeaseId::new(a["id"].clone())).await.state,
        LeaseState::Revoked
    );
}

#[tokio::test]
async fn a_producer_deleted_through_another_gateway_gets_no_new_lease_from_a_stale_cache() {
    let f = fixture().await;
    f.issue()
        .await
        .expect("first issue caches the dynamic secret");
    assert_eq!(f.iam.user_names().len(), 1);
    // Another gateway deletes it: this one's cache does not know.
    let row = mayfly_store::producers::find_by_name(f.state.db(), "/p")
        .await
        .unwrap()
        .unwrap();
    mayfly_store::producers::delete(f.state.db(), row.id)
        .await
        .unwrap();

    let err = f.issue().await.unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
    assert!(
        err.to_string().contains("deleted or changed just now"),
        "{err}"
    );
    assert_eq!(f.iam.user_names().len(), 1, "no IAM user for it");
    assert_eq!(f.all_leases().await.len(), 1, "no lease for it");
    // The stale entry is gone: the next request reads the database.
    let err = f.issue().await.unwrap_err();
    assert!(err.to_string().contains("gateway-list-producers"), "{err}");
}

/// Makes lease `id` due now and runs one revoker round.
async fn expire_and_revoke(f: &Fixture, id: &LeaseId) -> revoker::RevokerRound {
    let lease = f.lease(id).await;
    let past = mayfly_store::now_millis() - 1;
    assert!(
        leases::set_expiry(f.state.db(), id, past, 0, lease.updated_at)
            .await
            .unwrap()
    );
    revoker::run_once(&f.state).await
}

/// The user vanishes from the view of the target's credentials (as it does when they belong
/// to another account): torn down behind the gateway's back.
async fn remove_behind_the_gateways_back(f: &Fixture, user: &str) {
    mayfly_aws::iam_user::teardown_user(
        f.iam.as_ref(),
        user,
        tokio::time::Instant::now() + Duration::from_secs(10),
        &mayfly_aws::RetryPolicy::default(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn no_such_entity_with_another_accounts_key_is_revoke_failed_naming_both_accounts() {
    let f = fixture().await;
    let value = f.issue().await.unwrap();
    let (id, user) = (LeaseId::new(value["id"].clone()), value["user"].clone());
    assert_eq!(
        f.lease(&id).await.aws_account.as_deref(),
        Some(mayfly_aws::fake::FAKE_ACCOUNT),
        "the account from CreateUser's ARN is recorded"
    );
    // The target's key now belongs to another account, which has no such user.
    remove_behind_the_gateways_back(&f, &user).await;
    f.sts.set_caller_identity(mayfly_aws::CallerIdentity {
        account: "210987654321".into(),
        arn: "arn:aws:iam::210987654321:user/someone-else".into(),
        user_id: "AIDAOTHERACCOUNT0001".into(),
    });
    let round = expire_and_revoke(&f, &id).await;
    assert_eq!((round.revoked, round.failed), (0, 1), "{round:?}");
    let lease = f.lease(&id).await;
    assert_eq!(lease.state, LeaseState::RevokeFailed, "never revoked");
    let error = lease.last_error.unwrap();
    assert!(
        error.contains(mayfly_aws::fake::FAKE_ACCOUNT) && error.contains("210987654321"),
        "names both accounts: {error}"
    );
}

#[tokio::test]
async fn no_such_entity_in_the_leases_own_account_is_revoked() {
    let f = fixture().await;
    let value = f.issue().await.unwrap();
    let (id, user) = (LeaseId::new(value["id"].clone()), value["user"].clone());
    remove_behind_the_gateways_back(&f, &user).await;
    let round = expire_and_revoke(&f, &id).await;
    assert_eq!((round.revoked, round.failed), (1, 0), "{round:?}");
    assert_eq!(f.lease(&id).await.state, LeaseState::Revoked);
}

#[tokio::test]
async fn a_lease_without_a_recorded_account_is_revoked_when_its_user_is_gone_as_before() {
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    let f = fixture().await;
    let value = f.issue().await.unwrap();
    let (id, user) = (LeaseId::new(value["id"].clone()), value["user"].clone());
    // A lease issued before accounts were recorded.
    mayfly_store::entity::lease::Entity::update_many()
        .col_expr(
            mayfly_store::entity::lease::Column::AwsAccount,
            Expr::value(Option::<String>::None),
        )
        .filter(mayfly_store::entity::lease::Column::Id.eq(id.clone()))
        .exec(f.state.db())
        .await
        .unwrap();
    remove_behind_the_gateways_back(&f, &user).await;
    f.sts.set_caller_identity(mayfly_aws::CallerIdentity {
        account: "210987654321".into(),
        arn: "arn:aws:iam::210987654321:user/someone-else".into(),
        user_id: "AIDAOTHERACCOUNT0001".into(),
    });
    assert_eq!(expire_and_revoke(&f, &id).await.revoked, 1);
    assert_eq!(f.lease(&id).await.state, LeaseState::Revoked);
}

/// A teardown that outlived `reconcile_min_age` can be taken over and finished by another
/// gateway; only the one whose outcome is recorded audits it, so each revocation is one
/// `lease-revoked` event (the HA test counts them).
#[tokio::test]
async fn a_teardown_that_lost_its_claim_is_not_audited_twice() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let f = fixture().await;
    let id = LeaseId::new(f.issue().await.unwrap()["id"].clone());
    let db = f.state.db();
    let revoked_events = || async {
        mayfly_store::entity::audit_event::Entity::find()
            .filter(mayfly_store::entity::audit_event::Column::Operation.eq("lease-revoked"))
            .count(db)
            .await
            .unwrap()
    };
    // Another gateway holds the claim: this one's teardown cannot record its outcome.
    assert!(
        leases::claim_for_revoke(db, &id, "other-gateway", mayfly_store::now_millis())
            .await
            .unwrap()
    );
    let lease = f.lease(&id).await;
    teardown::teardown_claimed(&f.state, &lease, LeaseState::Revoked)
        .await
        .unwrap();
    assert_eq!(f.lease(&id).await.state, LeaseState::Revoking);
    assert_eq!(revoked_events().await, 0, "the owner audits, not the loser");

    // The owner (here: the claim handed to this gateway) finishes it: one event.
    leases::release_claims(db, "other-gateway", mayfly_store::now_millis())
        .await
        .unwrap();
    assert!(
        leases::claim_for_revoke(db, &id, f.state.instance_id(), mayfly_store::now_millis())
            .await
            .unwrap()
    );
    let lease = f.lease(&id).await;
    teardown::teardown_claimed(&f.state, &lease, LeaseState::Revoked)
        .await
        .unwrap();
    assert_eq!(f.lease(&id).await.state, LeaseState::Revoked);
    assert_eq!(revoked_events().await, 1);
}
