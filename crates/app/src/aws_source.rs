//! Where the gateway gets AWS clients for a target.
//!
//! Production builds SDK clients from the target's (unsealed) credentials, or the gateway's
//! own identity, perhaps through a role, through one shared HTTP client; tests put in-memory fakes behind the same trait to inject faults.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use mayfly_aws::{governor::Governor, AwsClients, AwsFactory, ConnectionSpec, EndpointDefaults};

/// A source of IAM/STS clients for a target.
pub trait AwsSource: Send + Sync {
    /// Clients for the connection `spec` describes. `cache_key` identifies the target and its
    /// version: a changed target gets fresh clients (and credential providers, whose cached
    /// credentials go with them), an unchanged one reuses them.
    fn clients(&self, cache_key: (i64, i64), spec: &ConnectionSpec) -> AwsClients;

    /// Clients for `spec` kept nowhere: for short-lived connections (a new key being tried,
    /// a target's base key during a rotation) that must neither evict nor reuse a target's
    /// cached clients.
    fn uncached(&self, spec: &ConnectionSpec) -> AwsClients;
}

/// The real AWS SDK, with clients cached per target version, every call governed by its
/// target's [`Governor`] (kept across versions: AWS's limits are the account's, not the key's).
pub struct SdkSource {
    factory: AwsFactory,
    cache: Mutex<HashMap<(i64, i64), AwsClients>>,
    governors: Mutex<HashMap<i64, Arc<Governor>>>,
    /// IAM writes per second each target's account is known to allow (operator setting).
    iam_write_rate: Option<f64>,
}

impl SdkSource {
    /// Clients whose every request obeys `policy` (AWS's own endpoints and the allowed
    /// origins, checked when sent and when host names resolve), with default endpoints from
    /// `AWS_ENDPOINT_URL*`, reporting every AWS call attempt to `observer` (metrics,
    /// `Server-Timing`).
    pub fn guarded(
        policy: mayfly_domain::OutboundPolicy,
        observer: Arc<dyn mayfly_aws::CallObserver>,
    ) -> Self {
        SdkSource {
            factory: AwsFactory::guarded(EndpointDefaults::from_env(), policy)
                .with_observer(observer),
            cache: Mutex::new(HashMap::new()),
            governors: Mutex::new(HashMap::new()),
            iam_write_rate: None,
        }
    }

    /// Paces every target's IAM writes at `per_second` from the start (the rate the operator
    /// knows AWS allows), instead of only after AWS first throttles: a burst of requests is
    /// then admitted at a pace AWS will serve, and those that cannot be served in time are
    /// refused before they create anything.
    pub fn with_iam_write_rate(mut self, per_second: Option<f64>) -> Self {
        self.iam_write_rate = per_second;
        self
    }

    /// The governor of target `id`.
    pub fn governor(&self, id: i64) -> Arc<Governor> {
        self.governors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id)
            .or_insert_with(|| Governor::with_iam_write_rate(self.iam_write_rate))
            .clone()
    }
}

impl AwsSource for SdkSource {
    fn clients(&self, cache_key: (i64, i64), spec: &ConnectionSpec) -> AwsClients {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&cache_key) {
            return c.clone();
        }
        // Old versions of the same target are dropped: their credentials were replaced.
        cache.retain(|(id, _), _| *id != cache_key.0);
        let clients = self
            .governor(cache_key.0)
            .govern(self.factory.clients(&self.factory.connect(spec)));
        cache.insert(cache_key, clients.clone());
        clients
    }

    fn uncached(&self, spec: &ConnectionSpec) -> AwsClients {
        self.factory.clients(&self.factory.connect(spec))
    }
}

/// Fixed clients for every target: for tests with fakes.
pub struct FixedSource(pub AwsClients);

impl AwsSource for FixedSource {
    fn clients(&self, _: (i64, i64), _: &ConnectionSpec) -> AwsClients {
        self.0.clone()
    }

    fn uncached(&self, _: &ConnectionSpec) -> AwsClients {
        self.0.clone()
    }
}

pub type SharedAwsSource = Arc<dyn AwsSource>;
