//! Admin key rotation and master key re-sealing against in-memory AWS fakes and SQLite:
//! whatever step fails, the key stored in the target works, and a rerun cleans up.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::ResponseError;
use mayfly_aws::{
    fake::{FakeIam, FakeSts, FAKE_ACCOUNT},
    ops, AssumeRole, AwsClients, AwsError, CallerIdentity, CreateUser, FederationToken, IamApi,
    StsApi, StsCredentials,
};
use mayfly_crypto::{KeyList, KeyRing, MasterKey};
use mayfly_store::{rotation as store, targets, TargetId};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use crate::routes::rotation as api;
use crate::{
    config::{Config, Flags},
    routes,
};
use mayfly_app::access::AuditAccess;
use mayfly_app::access::Caller;
use mayfly_app::access::{self as authz, ResourceKind, Rule};
use mayfly_app::aws_source::AwsSource;
use mayfly_app::rotation::{
    admin::{self, RotationError, Timing},
    master, sealed_key_id, worker,
};
use mayfly_app::state::AppState;

const USER: &str = "mayfly-admin";

/// IAM shared by every connection; STS that accepts a connection only if its access key
/// exists on the fake user (as AWS does), so a deleted key is really rejected.
struct Aws {
    iam: Arc<FakeIam>,
    sts: Arc<FakeSts>,
    /// When set, only these key ids authenticate (a new key "not yet accepted").
    accepted_only: Mutex<Option<BTreeSet<String>>>,
    /// What `GetCallerIdentity` says, instead of the user's ARN.
    arn_override: Mutex<Option<String>>,
    /// Every (cache key, access key id) clients were asked for.
    requested: Mutex<Vec<((i64, i64), String)>>,
}

impl Aws {
    fn user_keys(&self) -> Vec<String> {
        self.iam
            .user(USER)
            .map(|u| u.access_keys)
            .unwrap_or_default()
    }

    fn authenticates(&self, key_id: &str) -> bool {
        self.user_keys().iter().any(|k| k == key_id)
            && self
                .accepted_only
                .lock()
                .unwrap()
                .as_ref()
                .is_none_or(|set| set.contains(key_id))
    }
}

struct Source(Arc<Aws>);

impl AwsSource for Source {
    fn clients(&self, cache_key: (i64, i64), conn: &mayfly_aws::ConnectionSpec) -> AwsClients {
        self.0.requested.lock().unwrap().push((
            cache_key,
            conn.access_key_id().unwrap_or_default().to_owned(),
        ));
        self.uncached(conn)
    }

    fn uncached(&self, conn: &mayfly_aws::ConnectionSpec) -> AwsClients {
        AwsClients {
            iam: self.0.iam.clone(),
            sts: Arc::new(KeySts {
                aws: self.0.clone(),
                key_id: conn.access_key_id().unwrap_or_default().to_owned(),
            }),
        }
    }
}

struct KeySts {
    aws: Arc<Aws>,
    key_id: String,
}

/// The fake STS's answers, with the caller checked against the user's keys. Written out
/// (instead of with `#[async_trait]`) because the trait's methods return boxed futures.
impl StsApi for KeySts {
    fn assume_role<'a, 'b, 'f>(&'a self, input: &'b AssumeRole) -> BoxFuture<'f, StsCredentials>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        self.aws.sts.assume_role(input)
    }

    fn get_federation_token<'a, 'b, 'f>(
        &'a self,
        input: &'b FederationToken,
    ) -> BoxFuture<'f, StsCredentials>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        self.aws.sts.get_federation_token(input)
    }

    fn get_session_token<'a, 'f>(&'a self, duration_secs: i32) -> BoxFuture<'f, StsCredentials>
    where
        'a: 'f,
        Self: 'f,
    {
        self.aws.sts.get_session_token(duration_secs)
    }

    fn get_caller_identity<'a, 'f>(&'a self) -> BoxFuture<'f, CallerIdentity>
    where
        'a: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            // Faults injected into the fake STS apply first.
            let base = self.aws.sts.get_caller_identity().await?;
            if !self.aws.authenticates(&self.key_id) {
                return Err(AwsError::AccessDenied {
                    action: ops::GET_CALLER_IDENTITY.into(),
                    message: "InvalidClientTokenId: The security token included in the request is invalid".into(),
                });
            }
            let arn = self
                .aws
                .arn_override
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| format!("arn:aws:iam::{FAKE_ACCOUNT}:user/{USER}"));
            Ok(CallerIdentity { arn, ..base })
        })
    }
}

type BoxFuture<'f, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, AwsError>> + Send + 'f>>;

struct Fixture {
    state: AppState,
    aws: Arc<Aws>,
}

fn quick() -> Timing {
    Timing {
        verify_for: Duration::from_millis(300),
        verify_every: Duration::from_millis(50),
        old_key_grace: Duration::ZERO,
        ..Timing::default()
    }
}

fn denied(action: &str) -> AwsError {
    AwsError::AccessDenied {
        action: action.into(),
        message: "not authorized".into(),
    }
}

fn admin_caller() -> Caller {
    Caller {
        access_id: "p-test".into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am"),
        identity: String::new(),
        claims: Default::default(),
        rules: [ResourceKind::Item, ResourceKind::Target]
            .into_iter()
            .map(|kind| Rule {
                kind,
                path_glob: "/*".into(),
                capabilities: authz::ALL_CAPABILITIES.to_vec(),
                deny: false,
            })
            .collect(),
        audit_access: AuditAccess::All,
    }
}

async fn fixture() -> Fixture {
    let db = mayfly_store::connect("sqlite::memory:", 1).await.unwrap();
    let config = Config::from_layers(Flags::default(), |_| None).unwrap();
    let iam = Arc::new(FakeIam::new());
    iam.create_user(&CreateUser {
        name: USER.into(),
        path: "/".into(),
        permissions_boundary: None,
        tags: vec![],
    })
    .await
    .unwrap();
    iam.reset_counters();
    let aws = Arc::new(Aws {
        iam,
        sts: Arc::new(FakeSts::new()),
        accepted_only: Mutex::new(None),
        arn_override: Mutex::new(None),
        requested: Mutex::new(Vec::new()),
    });
    let keys = KeyRing::single(MasterKey::generate("k1").unwrap());
    let auditor = mayfly_app::audit::Auditor::from_env().unwrap();
    let state = AppState::new(
        db,
        keys,
        Arc::new(Source(aws.clone())),
        "cluster-1".into(),
        &config.settings(),
        auditor,
    );
    Fixture { state, aws }
}

impl Fixture {
    /// A target holding a fresh access key of the fake user; returns its id and the key id.
    async fn target(&self, name: &str) -> (TargetId, String) {
        let key_id = self.aws.iam.add_access_key(USER).unwrap();
        let id = self.target_with_key(name, &key_id, None).await;
        (id, key_id)
    }

    async fn target_with_key(&self, name: &str, key_id: &str, token: Option<&str>) -> TargetId {
        let mut body = json!({"name": name, "access-key-id": key_id, "access-key": "secret"});
        if let Some(token) = token {
            body["session-token"] = json!(token);
        }
        let req = serde_json::from_value(body).unwrap();
        TargetId::new(
            routes::targets::create(&self.state, &admin_caller(), req)
                .await
                .unwrap()
                .target_id,
        )
    }

    async fn row(&self, id: TargetId) -> mayfly_store::entity::target::Model {
        targets::find_by_id(self.state.db(), id)
            .await
            .unwrap()
            .unwrap()
    }

    /// The key id stored in the target.
    async fn stored_key(&self, id: TargetId) -> String {
        mayfly_app::targets::open(&self.state, &self.row(id).await)
            .unwrap()
            .access_key_id
    }

    async fn rotate(&self, id: TargetId) -> Result<admin::Rotated, RotationError> {
        admin::rotate_target(&self.state, id, &quick()).await
    }

    /// Whether the stored credentials authenticate, the way producers would use them.
    async fn stored_key_works(&self, id: TargetId) -> bool {
        let clients = mayfly_app::leases::clients_for(&self.state, &self.row(id).await).unwrap();
        clients.sts.get_caller_identity().await.is_ok()
    }
}

#[tokio::test]
async fn rotation_stores_a_new_working_key_and_deletes_the_old_one() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    let before = f.row(id).await;

    let r = f.rotate(id).await.unwrap();
    assert_eq!(r.iam_user, USER);
    assert_eq!(r.previous_access_key_id, old);
    assert_ne!(r.access_key_id, old);
    assert!(r.previous_key_deleted);
    assert!(r.stale_keys_deleted.is_empty());
    assert_eq!(r.warning, None);

    assert_eq!(f.stored_key(id).await, r.access_key_id);
    assert_eq!(f.aws.user_keys(), vec![r.access_key_id.clone()]);
    assert!(f.stored_key_works(id).await);
    assert!(!f.aws.authenticates(&old), "the old key is rejected");
    let after = f.row(id).await;
    assert_eq!(
        after.version,
        before.version + 1,
        "cached clients are dropped"
    );
    let schedule = store::find(f.state.db(), id).await.unwrap().unwrap();
    assert_eq!(schedule.last_rotated_at, Some(r.rotated_at));
    assert_eq!(schedule.rotation_claimed_by, None, "the claim is released");
    assert_eq!(schedule.rotation_pending_key_id, None);
}

#[tokio::test]
async fn a_failed_delete_of_the_old_key_keeps_the_new_key_and_a_rerun_cleans_up() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    f.aws
        .iam
        .fail_next(ops::DELETE_ACCESS_KEY, denied(ops::DELETE_ACCESS_KEY));

    let r = f.rotate(id).await.unwrap();
    assert!(!r.previous_key_deleted);
    assert!(r.warning.as_deref().unwrap().contains(&old), "{r:?}");
    assert_eq!(f.stored_key(id).await, r.access_key_id);
    assert!(f.stored_key_works(id).await);
    assert_eq!(f.aws.user_keys().len(), 2, "the old key is left over");

    let again = f.rotate(id).await.unwrap();
    assert_eq!(again.stale_keys_deleted, vec![old]);
    assert!(again.previous_key_deleted);
    assert_eq!(f.aws.user_keys(), vec![again.access_key_id.clone()]);
    assert!(f.stored_key_works(id).await);
}

#[tokio::test]
async fn a_failed_store_keeps_the_old_key_and_deletes_the_new_one() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    f.state
        .db()
        .execute_unprepared(
            "CREATE TRIGGER fail_store BEFORE UPDATE OF sealed_credentials ON targets \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .await
        .unwrap();

    let err = f.rotate(id).await.unwrap_err();
    assert!(matches!(err, RotationError::Store(_)), "{err:?}");
    assert_eq!(f.stored_key(id).await, old);
    assert!(f.stored_key_works(id).await);
    assert_eq!(f.aws.user_keys(), vec![old.clone()], "the new key is gone");
    let schedule = store::find(f.state.db(), id).await.unwrap().unwrap();
    assert!(schedule.rotation_last_error.is_some());
    assert_eq!(schedule.rotation_claimed_by, None);

    // Storing fails again and so does deleting the unused new key (as if the gateway had
    // died in between): the old key still works, and the next run deletes the left-over.
    f.aws.iam.fail_next(
        ops::DELETE_ACCESS_KEY,
        AwsError::InvalidInput {
            code: "InvalidInput".into(),
            message: "injected".into(),
        },
    );
    f.rotate(id).await.unwrap_err();
    assert_eq!(f.stored_key(id).await, old);
    assert!(f.stored_key_works(id).await);
    let keys = f.aws.user_keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let left_over: Vec<String> = keys.into_iter().filter(|k| *k != old).collect();

    f.state
        .db()
        .execute_unprepared("DROP TRIGGER fail_store")
        .await
        .unwrap();
    let r = f.rotate(id).await.unwrap();
    assert_eq!(r.stale_keys_deleted, left_over);
    assert_eq!(f.aws.user_keys(), vec![r.access_key_id.clone()]);
    assert!(f.stored_key_works(id).await);
    let schedule = store::find(f.state.db(), id).await.unwrap().unwrap();
    assert_eq!(
        schedule.rotation_last_error, None,
        "a success clears the error"
    );
}

#[tokio::test]
async fn a_new_key_that_is_never_accepted_is_deleted_and_the_old_one_kept() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    *f.aws.accepted_only.lock().unwrap() = Some(BTreeSet::from([old.clone()]));

    let err = f.rotate(id).await.unwrap_err();
    assert!(matches!(err, RotationError::NotVerified { .. }), "{err:?}");
    assert_eq!(f.stored_key(id).await, old);
    assert!(f.stored_key_works(id).await);
    assert_eq!(f.aws.user_keys(), vec![old.clone()]);

    // The next attempt gets clients for its own new key, not the cached ones of the first.
    *f.aws.accepted_only.lock().unwrap() = None;
    let r = f.rotate(id).await.unwrap();
    assert_eq!(f.stored_key(id).await, r.access_key_id);
    let new_key_clients: Vec<(i64, i64)> = f
        .aws
        .requested
        .lock()
        .unwrap()
        .iter()
        .filter(|(cache_key, key)| cache_key.0 < 0 && *key != old)
        .map(|(cache_key, _)| *cache_key)
        .collect();
    assert_eq!(new_key_clients.len(), 2, "{new_key_clients:?}");
    assert_ne!(new_key_clients[0], new_key_clients[1]);
    assert!(new_key_clients.iter().all(|k| k.0 == -id.get()));
}

#[tokio::test]
async fn a_new_key_accepted_after_a_while_is_stored() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    *f.aws.accepted_only.lock().unwrap() = Some(BTreeSet::from([old.clone()]));
    let aws = f.aws.clone();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(120)).await;
        *aws.accepted_only.lock().unwrap() = None;
    });
    let r = f.rotate(id).await.unwrap();
    release.await.unwrap();
    assert_eq!(f.stored_key(id).await, r.access_key_id);
    assert!(
        f.aws.sts.calls(ops::GET_CALLER_IDENTITY) >= 3,
        "verification was retried"
    );
}

#[tokio::test]
async fn a_user_with_two_keys_gets_its_left_over_deleted_first() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    let left_over = f.aws.iam.add_access_key(USER).unwrap();
    // AWS's limit of two keys: creating a third would fail.
    assert!(f.aws.iam.add_access_key(USER).is_err());

    let r = f.rotate(id).await.unwrap();
    assert_eq!(r.stale_keys_deleted, vec![left_over]);
    assert_eq!(f.aws.user_keys(), vec![r.access_key_id.clone()]);
    assert!(!f.aws.authenticates(&old));
}

#[tokio::test]
async fn keys_stored_in_other_targets_are_never_deleted() {
    let f = fixture().await;
    let (a, key_a) = f.target("/a").await;
    let (b, key_b) = f.target("/b").await;
    let err = f.rotate(a).await.unwrap_err();
    assert!(matches!(err, RotationError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains(&key_b), "{err}");
    assert_eq!(f.aws.user_keys().len(), 2);
    assert_eq!(f.stored_key(a).await, key_a);
    assert_eq!(f.stored_key(b).await, key_b);

    // Two targets sharing one key: the rotated one moves on, the other keeps the old key.
    let f = fixture().await;
    let (a, shared) = f.target("/a").await;
    let b = f.target_with_key("/b", &shared, None).await;
    let r = f.rotate(a).await.unwrap();
    assert!(!r.previous_key_deleted);
    assert!(r.warning.unwrap().contains("another target"));
    assert_eq!(f.stored_key(b).await, shared);
    assert!(f.stored_key_works(a).await && f.stored_key_works(b).await);
}

#[tokio::test]
async fn only_an_iam_users_long_term_key_can_be_rotated() {
    let f = fixture().await;
    let key = f.aws.iam.add_access_key(USER).unwrap();
    let temporary = f.target_with_key("/sts", &key, Some("token")).await;
    let err = f.rotate(temporary).await.unwrap_err();
    assert!(err.to_string().contains("session token"), "{err}");

    let f = fixture().await;
    let (id, _) = f.target("/root").await;
    *f.aws.arn_override.lock().unwrap() = Some(format!("arn:aws:iam::{FAKE_ACCOUNT}:root"));
    let err = f.rotate(id).await.unwrap_err();
    assert!(matches!(err, RotationError::Unsupported(_)), "{err:?}");
    assert_eq!(f.aws.iam.calls(ops::CREATE_ACCESS_KEY), 0);
}

#[tokio::test]
async fn a_target_claimed_by_another_gateway_is_not_rotated() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    let now = mayfly_store::now_millis();
    assert!(
        store::claim(f.state.db(), id, "gw-other", now, now + 60_000)
            .await
            .unwrap()
    );
    let err = f.rotate(id).await.unwrap_err();
    assert!(matches!(err, RotationError::Busy(_)), "{err:?}");
    assert_eq!(f.aws.iam.calls(ops::CREATE_ACCESS_KEY), 0);
    assert_eq!(f.stored_key(id).await, old);

    // An expired claim (its gateway died) does not block.
    f.state
        .db()
        .execute_unprepared("UPDATE targets SET rotation_claimed_until = 1")
        .await
        .unwrap();
    f.rotate(id).await.unwrap();
    assert!(matches!(
        f.rotate(TargetId::new(999)).await.unwrap_err(),
        RotationError::Gone(id) if id == TargetId::new(999)
    ));
}

#[tokio::test]
async fn the_worker_rotates_due_targets_once() {
    let f = fixture().await;
    let (due, due_key) = f.target("/due").await;
    let (later, later_key) = f.target_with_new_user_key("/later").await;
    let (off, off_key) = f.target_with_new_user_key("/off").await;
    mayfly_app::rotation::schedule::set_interval(f.state.db(), due, 7)
        .await
        .unwrap();
    mayfly_app::rotation::schedule::set_interval(f.state.db(), later, 7)
        .await
        .unwrap();
    // Make `/due` due now (as if its last rotation were more than 7 days ago).
    f.state
        .db()
        .execute_unprepared(&format!(
            "UPDATE targets SET rotation_due_at = 1 WHERE id = {due}"
        ))
        .await
        .unwrap();

    let round = worker::run_once(&f.state, &quick()).await;
    assert_eq!(round.rotated, 1, "{round:?}");
    assert_ne!(f.stored_key(due).await, due_key);
    assert_eq!(f.stored_key(later).await, later_key);
    assert_eq!(f.stored_key(off).await, off_key);
    let schedule = mayfly_app::rotation::schedule::of_target(f.state.db(), due)
        .await
        .unwrap();
    let last = schedule.last_rotated_at.unwrap();
    assert_eq!(schedule.next_rotation_at, Some(last + 7 * store::DAY_MS));

    assert_eq!(
        worker::run_once(&f.state, &quick()).await,
        worker::Round::default()
    );

    let events = mayfly_store::entity::audit_event::Entity::find()
        .all(f.state.db())
        .await
        .unwrap();
    let rotations: Vec<_> = events
        .iter()
        .filter(|e| e.operation == "scheduled-admin-key-rotation")
        .collect();
    assert_eq!(rotations.len(), 1, "{events:?}");
    assert_eq!(rotations[0].item, "/due");
    assert_eq!(rotations[0].outcome, "ok");
    assert!(rotations[0].detail.contains(&f.stored_key(due).await));
    assert!(!rotations[0].detail.contains("secret"));
}

#[tokio::test]
async fn setting_the_same_interval_again_keeps_the_due_time() {
    let f = fixture().await;
    let (id, _) = f.target("/aws").await;
    let schedule = mayfly_app::rotation::schedule::of_target;
    mayfly_app::rotation::schedule::set_interval(f.state.db(), id, 30)
        .await
        .unwrap();
    let first = schedule(f.state.db(), id).await.unwrap();
    let due = first.next_rotation_at.unwrap();
    assert!(first.enabled());
    tokio::time::sleep(Duration::from_millis(5)).await;
    mayfly_app::rotation::schedule::set_interval(f.state.db(), id, 30)
        .await
        .unwrap();
    assert_eq!(schedule(f.state.db(), id).await.unwrap(), first);
    mayfly_app::rotation::schedule::set_interval(f.state.db(), id, 60)
        .await
        .unwrap();
    assert!(
        schedule(f.state.db(), id)
            .await
            .unwrap()
            .next_rotation_at
            .unwrap()
            > due
    );
    mayfly_app::rotation::schedule::set_interval(f.state.db(), id, 0)
        .await
        .unwrap();
    let off = schedule(f.state.db(), id).await.unwrap();
    assert!(!off.enabled());
    assert_eq!(off.next_rotation_at, None);
    assert!(
        mayfly_app::rotation::schedule::set_interval(f.state.db(), TargetId::new(999), 1)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_failed_scheduled_rotation_waits_before_the_next_attempt() {
    let f = fixture().await;
    let (id, old) = f.target("/aws").await;
    mayfly_app::rotation::schedule::set_interval(f.state.db(), id, 1)
        .await
        .unwrap();
    f.state
        .db()
        .execute_unprepared("UPDATE targets SET rotation_due_at = 1")
        .await
        .unwrap();
    f.aws
        .iam
        .fail_next(ops::CREATE_ACCESS_KEY, denied(ops::CREATE_ACCESS_KEY));
    let round = worker::run_once(&f.state, &quick()).await;
    assert_eq!(round.failed, 1);
    assert_eq!(f.stored_key(id).await, old);
    let schedule = mayfly_app::rotation::schedule::of_target(f.state.db(), id)
        .await
        .unwrap();
    assert!(
        schedule
            .last_error
            .as_deref()
            .unwrap()
            .contains("iam:CreateAccessKey"),
        "{schedule:?}"
    );
    assert!(schedule.next_rotation_at.unwrap() > mayfly_store::now_millis());
    assert_eq!(
        worker::run_once(&f.state, &quick()).await,
        worker::Round::default()
    );
}

impl Fixture {
    /// A target whose key belongs to a user of its own (so targets do not share a user).
    async fn target_with_new_user_key(&self, name: &str) -> (TargetId, String) {
        let user = format!("user-{}", name.trim_start_matches('/'));
        self.aws
            .iam
            .create_user(&CreateUser {
                name: user.clone(),
                path: "/".into(),
                permissions_boundary: None,
                tags: vec![],
            })
            .await
            .unwrap();
        let key = self.aws.iam.add_access_key(&user).unwrap();
        (self.target_with_key(name, &key, None).await, key)
    }
}

#[tokio::test]
async fn the_endpoints_rotate_targets_and_inline_producer_credentials() {
    let f = fixture().await;
    let (_, old) = f.target("/aws").await;
    let caller = admin_caller();
    let out = api::rotate_target_credentials(
        &f.state,
        &caller,
        serde_json::from_value(json!({"name": "/aws"})).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(out.name, "/aws");
    assert_eq!(out.previous_access_key_id, old);
    assert!(out.previous_key_deleted);
    assert_eq!(out.next_rotation, "");
    assert_eq!(out.warning, "");
    let text = serde_json::to_string(&out).unwrap();
    assert!(!text.contains("secret"), "{text}");

    // A producer on the named target is refused; one with inline credentials rotates them.
    let on_target = serde_json::from_value(json!({
        "name": "/p-named", "target-name": "/aws", "access-mode": "session_token",
    }))
    .unwrap();
    routes::producers::create(&f.state, &caller, on_target)
        .await
        .unwrap();
    let err = api::rotate_producer_credentials(
        &f.state,
        &caller,
        serde_json::from_value(json!({"name": "/p-named"})).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("target-rotate-credentials"),
        "{err}"
    );

    // The first rotation removed the only other key, so the user has a free slot.
    let inline_key = f.aws.iam.add_access_key(USER).unwrap();
    let inline = serde_json::from_value(json!({
        "name": "/p-inline", "access-mode": "session_token",
        "aws-access-key-id": inline_key, "aws-access-secret-key": "secret",
    }))
    .unwrap();
    routes::producers::create(&f.state, &caller, inline)
        .await
        .unwrap();
    // Two keys of the user are stored (/aws and /p-inline): no slot for a third.
    let err = api::rotate_producer_credentials(
        &f.state,
        &caller,
        serde_json::from_value(json!({"name": "/p-inline"})).unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status_code(), actix_web::http::StatusCode::BAD_REQUEST);

    let err = api::rotate_target_credentials(&f.state, &caller, api::RotateCredentials::default())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("name:"), "{err}");
    let err = api::rotate_target_credentials(
        &f.state,
        &caller,
        serde_json::from_value(json!({"name": "/nope"})).unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status_code(), actix_web::http::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn inline_producer_credentials_rotate_through_their_private_target() {
    let f = fixture().await;
    let caller = admin_caller();
    let key = f.aws.iam.add_access_key(USER).unwrap();
    let inline = serde_json::from_value(json!({
        "name": "/p-inline", "access-mode": "session_token",
        "aws-access-key-id": key, "aws-access-secret-key": "secret",
    }))
    .unwrap();
    routes::producers::create(&f.state, &caller, inline)
        .await
        .unwrap();
    let out = api::rotate_producer_credentials(
        &f.state,
        &caller,
        serde_json::from_value(json!({"name": "/p-inline"})).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(out.name, "/p-inline");
    assert_eq!(out.previous_access_key_id, key);
    assert_eq!(f.aws.user_keys(), vec![out.access_key_id.clone()]);
    let details = routes::producers::get(
        &f.state,
        &caller,
        serde_json::from_value(json!({"name": "/p-inline"})).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(details.aws_access_key_id, out.access_key_id);
}

// ----- master key re-sealing -----

fn key_list(keys: &[&MasterKey]) -> KeyList {
    KeyList::new(keys.iter().map(|k| (*k).clone()).collect()).unwrap()
}

#[tokio::test]
async fn resealing_moves_every_value_to_the_current_key_and_is_idempotent() {
    let f = fixture().await;
    let k1 = MasterKey::generate("k1").unwrap();
    // Values sealed under k1 by a gateway running with only k1, and by a version that bound
    // them to the uid alone: re-sealing also binds them to their row ids.
    let old_state_keys = mayfly_app::keys::MasterKeys::fixed(key_list(&[&k1]));
    let mut expected = Vec::new();
    for i in 0..4 {
        let uid = format!("uid-{i}");
        let creds =
            json!({"access_key_id": format!("AKIA{i}"), "secret_access_key": format!("s{i}")});
        let sealed = old_state_keys.seal(
            &serde_json::to_vec(&creds).unwrap(),
            &mayfly_app::targets::legacy_aad(&uid),
        );
        targets::insert(
            f.state.db(),
            targets::NewTarget {
                uid,
                name: format!("/t{i}"),
                description: String::new(),
                region: "us-east-1".into(),
                iam_endpoint: None,
                sts_endpoint: None,
                sealed_credentials: sealed,
                access: String::new(),
                is_private: i % 2 == 1,
                delete_protection: false,
            },
            mayfly_store::now_millis(),
        )
        .await
        .unwrap();
        expected.push(format!("AKIA{i}"));
    }
    let k2 = MasterKey::generate("k2").unwrap();
    let rotated = key_list(&[&k2, &k1]);
    let counts = master::reseal_all(f.state.db(), &rotated, &master::ResealOptions::default())
        .await
        .unwrap();
    assert_eq!(counts.total, 4);
    assert_eq!(counts.resealed, 4);
    assert_eq!(counts.remaining, 0);
    assert!(counts.failures.is_empty());

    // The re-sealed values open through the gateway's own code, with the new key alone.
    let new_only = AppState::new(
        f.state.db().clone(),
        mayfly_app::keys::MasterKeys::fixed(key_list(&[&k2])),
        Arc::new(Source(f.aws.clone())),
        "cluster-1".into(),
        &Config::from_layers(Flags::default(), |_| None)
            .unwrap()
            .settings(),
        mayfly_app::audit::Auditor::from_env().unwrap(),
    );
    let rows = mayfly_store::entity::target::Entity::find()
        .all(f.state.db())
        .await
        .unwrap();
    let mut opened = Vec::new();
    for row in &rows {
        assert_eq!(sealed_key_id(&row.sealed_credentials), Some("k2"));
        opened.push(
            mayfly_app::targets::open(&new_only, row)
                .unwrap()
                .access_key_id,
        );
    }
    assert_eq!(opened, expected);

    let again = master::reseal_all(f.state.db(), &rotated, &master::ResealOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (again.resealed, again.already_current, again.remaining),
        (0, 4, 0)
    );
}

#[tokio::test]
async fn a_value_changed_during_the_reseal_is_not_overwritten() {
    let f = fixture().await;
    let (id, _) = f.target("/aws").await;
    let row = f.row(id).await;
    assert!(
        !store::reseal_if_unchanged(f.state.db(), id, row.version, "v1.k1.other", "v1.k2.x")
            .await
            .unwrap(),
        "a different sealed value than the one read is left alone"
    );
    assert!(
        !store::reseal_if_unchanged(
            f.state.db(),
            id,
            row.version + 1,
            &row.sealed_credentials,
            "v1.k2.x"
        )
        .await
        .unwrap(),
        "so is a newer version"
    );
    assert_eq!(f.row(id).await, row);
}

/// Sealed values from before the row id was bound are converted at start-up, and afterwards
/// a value copied onto another row (even with its `uid`) no longer opens there.
#[tokio::test]
async fn sealed_credentials_are_bound_to_their_row_id() {
    use mayfly_store::entity::target;
    use sea_orm::{ActiveModelTrait, Set};
    let f = fixture().await;
    let keys = f.state.keys();
    let mut rows = Vec::new();
    for i in 0..2 {
        let uid = format!("legacy-uid-{i}");
        let creds = json!({"access_key_id": format!("AKIALEGACY{i}"), "secret_access_key": format!("s{i}")});
        let sealed = keys.seal(
            &serde_json::to_vec(&creds).unwrap(),
            &mayfly_app::targets::legacy_aad(&uid),
        );
        rows.push(
            targets::insert(
                f.state.db(),
                targets::NewTarget {
                    uid,
                    name: format!("/legacy{i}"),
                    description: String::new(),
                    region: "us-east-1".into(),
                    iam_endpoint: None,
                    sts_endpoint: None,
                    sealed_credentials: sealed,
                    access: String::new(),
                    is_private: false,
                    delete_protection: false,
                },
                mayfly_store::now_millis(),
            )
            .await
            .unwrap(),
        );
    }
    // Not served in the old form.
    assert!(mayfly_app::targets::open(&f.state, &rows[0]).is_err());
    assert_eq!(
        master::bind_sealed_to_row_ids(f.state.db(), keys)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        master::bind_sealed_to_row_ids(f.state.db(), keys)
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    let db = f.state.db();
    let a = target::Entity::find_by_id(rows[0].id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let b = target::Entity::find_by_id(rows[1].id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        mayfly_app::targets::open(&f.state, &a)
            .unwrap()
            .access_key_id,
        "AKIALEGACY0"
    );
    // Someone with write access to the database moves A's sealed value and uid onto B (the
    // uid is unique, so A's is changed first).
    let mut moved: target::ActiveModel = a.clone().into();
    moved.uid = Set("moved-away".into());
    moved.update(db).await.unwrap();
    let mut forged: target::ActiveModel = b.into();
    forged.uid = Set(a.uid.clone());
    forged.sealed_credentials = Set(a.sealed_credentials.clone());
    let forged = forged.update(db).await.unwrap();
    assert!(
        mayfly_app::targets::open(&f.state, &forged).is_err(),
        "a sealed value does not open on another row, even with its uid"
    );
}
