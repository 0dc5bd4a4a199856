//! What every request handler and background worker shares.

use std::{collections::HashMap, sync::Arc, time::Duration};

use mayfly_domain::UserPath;
use mayfly_store::TargetId;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    access::CachedCaller, audit::Auditor, aws_source::SharedAwsSource, cache::TtlCache,
    keys::MasterKeys, metrics::Metrics, producers::ProducerView, ratelimit::AuthLimiter,
};

/// The settings the core runs with. A front door builds them from its own configuration
/// (the gateway: `Config::settings`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lifetime of tokens from a login.
    pub token_ttl: Duration,
    /// Largest request body a front door accepts.
    pub max_body_bytes: usize,
    /// Deadline of one operation.
    pub request_timeout: Duration,
    /// IAM path of the temporary users.
    pub iam_user_path: UserPath,
    pub revoke_interval: Duration,
    pub reconcile_interval: Duration,
    pub reconcile_min_age: Duration,
    /// Lifetime of cache entries; zero: no caching.
    pub cache_ttl: Duration,
    /// The policy for outbound URLs (target endpoints).
    pub outbound: mayfly_domain::OutboundPolicy,
    /// How long a stopping gateway lets in-flight teardowns finish.
    pub shutdown_grace: Duration,
    /// How long audit events are kept; `None`: forever.
    pub audit_retention: Option<Duration>,
    /// How long finished leases are kept; `None`: forever.
    pub lease_retention: Option<Duration>,
    pub housekeeping_interval: Duration,
    /// How often the admin key rotation worker looks for due targets.
    pub admin_rotation_check_interval: Duration,
    /// Target name globs that may use the gateway's own AWS identity.
    pub cloud_identity_targets: Vec<String>,
    /// The federation endpoint for console sign-in links instead of AWS's (tests).
    pub federation_endpoint: Option<String>,
    /// Limits every auth method's credentials (live at once, issued per period).
    pub auth_method_max_live: Option<u32>,
    pub auth_method_max_rate: Option<mayfly_domain::producer::IssueRate>,
}

/// A credential as handed out (the flat string map of get-dynamic-secret-value).
type CredentialValue = std::collections::BTreeMap<String, String>;

/// Shared, cheaply clonable application state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    keys: MasterKeys,
    aws: SharedAwsSource,
    cluster_id: String,
    instance_id: String,
    token_ttl: Duration,
    max_body_bytes: usize,
    request_timeout: Duration,
    iam_user_path: UserPath,
    revoke_interval: Duration,
    reconcile_interval: Duration,
    reconcile_min_age: Duration,
    revoker_wakeup: Notify,
    auditor: Auditor,
    auth_limiter: AuthLimiter,
    metrics: Arc<Metrics>,
    caches: Caches,
    cache_ttl: Duration,
    outbound: Arc<mayfly_domain::OutboundPolicy>,
    /// JWKS documents of JWT auth methods, fetched under `outbound`.
    jwks: mayfly_identity::JwksCache,
    /// Sends AWS IAM logins' signed GetCallerIdentity to STS, under `outbound`.
    sts: mayfly_identity::aws_iam::StsVerifier,
    /// Kubernetes TokenReview calls for logins through a k8s auth config.
    token_reviewer: mayfly_identity::TokenReviewer,
    /// Target name globs that may use the gateway's own AWS identity.
    cloud_identity_targets: Vec<String>,
    /// Console sign-in links (`output=console-url`).
    federation: mayfly_aws::signin::Federation,
    auth_method_max_live: Option<u32>,
    auth_method_max_rate: Option<mayfly_domain::producer::IssueRate>,
    /// STS credentials handed out recently, for `reuse-window`: this gateway's memory only.
    reusable: std::sync::Mutex<HashMap<String, (CredentialValue, i64)>>,
    /// Cancelled when the gateway starts to stop: workers claim no new work.
    shutdown: CancellationToken,
    shutdown_grace: Duration,
    audit_retention: Option<Duration>,
    lease_retention: Option<Duration>,
    housekeeping_interval: Duration,
    admin_rotation_check_interval: Duration,
    /// (target id, target version) -> the AWS account its credentials belong to, learnt with
    /// `sts:GetCallerIdentity` when a teardown needs it (issue #10 item 2). New credentials
    /// make a new target row and a rotation bumps the version, so entries never go stale.
    target_accounts: std::sync::Mutex<std::collections::HashMap<(TargetId, i64), String>>,
}

/// The request-path caches (see [`crate::cache`] for why they are safe).
pub struct Caches {
    /// Token hash -> the caller it resolves to.
    pub callers: TtlCache<String, CachedCaller>,
    /// Dynamic secret name -> it, its definition and its target.
    pub producers: TtlCache<String, ProducerView>,
}

/// At most this many entries per cache.
const CACHE_CAPACITY: usize = 10_000;

impl AppState {
    /// State with metrics of its own (tests; embedding).
    pub fn new(
        db: DatabaseConnection,
        keys: impl Into<MasterKeys>,
        aws: SharedAwsSource,
        cluster_id: String,
        config: &Settings,
        auditor: Auditor,
    ) -> Self {
        Self::with_metrics(db, keys, aws, cluster_id, config, auditor, Arc::default())
    }

    /// State reporting into `metrics` (which the AWS clients also report into).
    pub fn with_metrics(
        db: DatabaseConnection,
        keys: impl Into<MasterKeys>,
        aws: SharedAwsSource,
        cluster_id: String,
        config: &Settings,
        auditor: Auditor,
        metrics: Arc<Metrics>,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                db,
                keys: keys.into(),
                aws,
                cluster_id,
                instance_id: format!("gw-{}", uuid::Uuid::new_v4().simple()),
                token_ttl: config.token_ttl,
                max_body_bytes: config.max_body_bytes,
                request_timeout: config.request_timeout,
                iam_user_path: config.iam_user_path.clone(),
                revoke_interval: config.revoke_interval,
                reconcile_interval: config.reconcile_interval,
                reconcile_min_age: config.reconcile_min_age,
                revoker_wakeup: Notify::new(),
                auditor,
                auth_limiter: AuthLimiter::default(),
                metrics,
                caches: Caches {
                    callers: TtlCache::new(config.cache_ttl, CACHE_CAPACITY),
                    producers: TtlCache::new(config.cache_ttl, CACHE_CAPACITY),
                },
                cache_ttl: config.cache_ttl,
                outbound: Arc::new(config.outbound.clone()),
                jwks: mayfly_identity::JwksCache::new(Arc::new(config.outbound.clone())),
                sts: mayfly_identity::aws_iam::StsVerifier::new(Arc::new(config.outbound.clone())),
                token_reviewer: mayfly_identity::TokenReviewer::new(Arc::new(
                    config.outbound.clone(),
                )),
                cloud_identity_targets: config.cloud_identity_targets.clone(),
                federation: mayfly_aws::signin::Federation::new(config.federation_endpoint.clone()),
                auth_method_max_live: config.auth_method_max_live,
                auth_method_max_rate: config.auth_method_max_rate,
                reusable: Default::default(),
                shutdown: CancellationToken::new(),
                shutdown_grace: config.shutdown_grace,
                audit_retention: config.audit_retention,
                lease_retention: config.lease_retention,
                housekeeping_interval: config.housekeeping_interval,
                admin_rotation_check_interval: config.admin_rotation_check_interval,
                target_accounts: Default::default(),
            }),
        }
    }

    /// The policy for outbound URLs that API requests set (target endpoints).
    pub fn outbound(&self) -> &mayfly_domain::OutboundPolicy {
        &self.inner.outbound
    }

    /// The JWKS documents JWT auth methods verify with.
    pub fn jwks(&self) -> &mayfly_identity::JwksCache {
        &self.inner.jwks
    }

    /// Where AWS IAM logins are checked.
    pub fn sts(&self) -> &mayfly_identity::aws_iam::StsVerifier {
        &self.inner.sts
    }

    /// The limits on each auth method's credentials: live at once, issued per period.
    pub fn auth_method_limits(&self) -> (Option<u32>, Option<mayfly_domain::producer::IssueRate>) {
        (
            self.inner.auth_method_max_live,
            self.inner.auth_method_max_rate,
        )
    }

    /// A credential handed to the same caller less than a window ago (`key`), if still
    /// fresh: issued after `since` (milliseconds).
    pub fn reusable_credential(&self, key: &str, since: i64) -> Option<CredentialValue> {
        let map = self
            .inner
            .reusable
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(_, issued)| *issued >= since)
            .map(|(v, _)| v.clone())
    }

    /// Forgets a remembered credential (it was revoked: it must not be handed out again).
    pub fn forget_credential(&self, key: &str) {
        self.inner
            .reusable
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Remembers a credential for `reuse-window` (bounded: the oldest half goes when full).
    pub fn remember_credential(&self, key: String, value: CredentialValue, issued: i64) {
        let mut map = self
            .inner
            .reusable
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if map.len() >= 10_000 {
            let mut times: Vec<i64> = map.values().map(|(_, t)| *t).collect();
            times.sort_unstable();
            let cut = times[times.len() / 2];
            map.retain(|_, (_, t)| *t > cut);
        }
        map.insert(key, (value, issued));
    }

    /// Where console sign-in links are made.
    pub fn federation(&self) -> &mayfly_aws::signin::Federation {
        &self.inner.federation
    }

    /// Whether the target `name` may use the gateway's own AWS identity
    /// (`MAYFLY_CLOUD_IDENTITY_TARGETS`).
    pub fn may_use_gateway_identity(&self, name: &str) -> bool {
        self.inner
            .cloud_identity_targets
            .iter()
            .any(|g| mayfly_domain::claims::glob_matches(g, name, true))
    }

    /// The Kubernetes TokenReview client.
    pub fn token_reviewer(&self) -> &mayfly_identity::TokenReviewer {
        &self.inner.token_reviewer
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// The master keys; they reload themselves when a rotation added a key.
    pub fn keys(&self) -> &MasterKeys {
        &self.inner.keys
    }

    pub fn aws(&self) -> &SharedAwsSource {
        &self.inner.aws
    }

    /// Shared by every gateway on one database; tags the IAM users this cluster owns.
    pub fn cluster_id(&self) -> &str {
        &self.inner.cluster_id
    }

    /// This process: the owner recorded when it claims a lease.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    pub fn token_ttl(&self) -> Duration {
        self.inner.token_ttl
    }

    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }

    pub fn iam_user_path(&self) -> &UserPath {
        &self.inner.iam_user_path
    }

    /// How long audit events and finished leases are kept (`None`: forever).
    pub fn retention(&self) -> (Option<Duration>, Option<Duration>) {
        (self.inner.audit_retention, self.inner.lease_retention)
    }

    pub fn housekeeping_interval(&self) -> Duration {
        self.inner.housekeeping_interval
    }

    pub fn admin_rotation_check_interval(&self) -> Duration {
        self.inner.admin_rotation_check_interval
    }

    pub fn revoke_interval(&self) -> Duration {
        self.inner.revoke_interval
    }

    pub fn reconcile_interval(&self) -> Duration {
        self.inner.reconcile_interval
    }

    pub fn reconcile_min_age(&self) -> Duration {
        self.inner.reconcile_min_age
    }

    /// Wakes the revoker early (a lease was revoked by request or got a shorter expiry).
    pub fn wake_revoker(&self) {
        self.inner.revoker_wakeup.notify_one();
    }

    /// Cancelled when the gateway starts to stop (workers then claim no new work).
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// How long teardowns already started may take to finish once stopping began.
    pub fn shutdown_grace(&self) -> Duration {
        self.inner.shutdown_grace
    }

    /// The AWS account of a target's credentials at a version, if already learnt.
    pub fn known_account(&self, target: (TargetId, i64)) -> Option<String> {
        let accounts = self.inner.target_accounts.lock();
        accounts.ok().and_then(|a| a.get(&target).cloned())
    }

    pub fn remember_account(&self, target: (TargetId, i64), account: String) {
        if let Ok(mut accounts) = self.inner.target_accounts.lock() {
            if accounts.len() >= CACHE_CAPACITY {
                accounts.clear();
            }
            accounts.insert(target, account);
        }
    }

    pub fn revoker_wakeup(&self) -> &Notify {
        &self.inner.revoker_wakeup
    }

    pub fn auditor(&self) -> &Auditor {
        &self.inner.auditor
    }

    pub fn auth_limiter(&self) -> &AuthLimiter {
        &self.inner.auth_limiter
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn caches(&self) -> &Caches {
        &self.inner.caches
    }

    /// Empties every cache: called when this gateway changed configuration.
    pub fn invalidate_caches(&self) {
        self.inner.caches.callers.invalidate();
        self.inner.caches.producers.invalidate();
    }

    /// How long cache entries live; also how long an admin-key rotation keeps the old key.
    pub fn cache_ttl(&self) -> Duration {
        self.inner.cache_ttl
    }
}
