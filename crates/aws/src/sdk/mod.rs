//! The real implementation of [`IamApi`] and [`StsApi`] on the AWS SDK for Rust.
//!
//! [`AwsFactory`] owns the one HTTP client of the process (hyper 1 + rustls with ring; the SDK's
//! default client would pull in aws-lc-rs) and hands out clients per connection that share it,
//! so TLS sessions and connections are pooled across all targets. The SDK's own retries are
//! off: [`crate::retry`] decides, against the caller's deadline. Form bodies are sent with
//! spaces as `+` like botocore (see `form_spaces`), which moto's signature check requires.

mod convert;
mod form_spaces;
pub mod guard;
mod timing;

pub use timing::CallObserver;
use timing::Timing;
mod iam;
mod sts;

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::timeout::TimeoutConfig;
use aws_sdk_iam::config::{BehaviorVersion, Region, SharedHttpClient};
use aws_smithy_http_client::tls;
use secrecy::ExposeSecret;

use self::form_spaces::FormSpaces;
use self::guard::{EndpointGuard, GuardedResolver};
use crate::connection::{
    AwsConnection, BaseCredentials, ConnectionCredentials, ConnectionSpec, EndpointDefaults,
};
use crate::{IamApi, StsApi};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_iam::config::IdentityCache;
use mayfly_domain::{AwsService, OutboundPolicy};

pub use iam::SdkIam;
pub use sts::SdkSts;

/// Time limits of one attempt of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsTimeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// One attempt: request sent to response read.
    pub attempt: Duration,
}

impl Default for AwsTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(3),
            attempt: Duration::from_secs(10),
        }
    }
}

/// The IAM and STS clients of one connection.
#[derive(Clone)]
pub struct AwsClients {
    pub iam: Arc<dyn IamApi>,
    pub sts: Arc<dyn StsApi>,
}

/// Makes SDK clients for connections. Cheap to clone: everything inside is shared.
///
/// Use one factory per tokio runtime (the gateway has one): pooled connections are driven by
/// tasks of the runtime that opened them, so a pool must not outlive or span runtimes (each
/// `#[tokio::test]` has its own runtime and should build its own factory).
#[derive(Clone)]
pub struct AwsFactory {
    http: SharedHttpClient,
    endpoints: Arc<EndpointDefaults>,
    timeouts: AwsTimeouts,
    observer: Option<Arc<dyn CallObserver>>,
    /// The outbound policy every request is checked against; `None` for unguarded factories.
    policy: Option<Arc<OutboundPolicy>>,
    /// The gateway's own identity, shared by every connection that uses it, loaded on first
    /// use. Its HTTP client is not guarded: the chain's endpoints (instance metadata, the ECS
    /// agent) come from the operator's environment, never from an API caller.
    gateway_identity: SharedCredentialsProvider,
}

fn gateway_identity_provider() -> SharedCredentialsProvider {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    SharedCredentialsProvider::new(crate::credentials::Cached::new(
        crate::credentials::GatewayIdentity::new(http),
    ))
}

impl std::fmt::Debug for AwsFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsFactory")
            .field("endpoints", &self.endpoints)
            .field("timeouts", &self.timeouts)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl AwsFactory {
    /// A factory whose default endpoints come from `AWS_ENDPOINT_URL_IAM`,
    /// `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL`, read now and never again.
    pub fn from_env() -> Self {
        Self::new(EndpointDefaults::from_env())
    }

    /// An *unguarded* factory with explicit default endpoints: it connects wherever its
    /// connections point. Only for code that chooses every endpoint itself (tests, tools);
    /// anything serving endpoints that API callers can set uses [`AwsFactory::guarded`].
    pub fn new(endpoints: EndpointDefaults) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        Self {
            http,
            endpoints: Arc::new(endpoints),
            timeouts: AwsTimeouts::default(),
            observer: None,
            policy: None,
            gateway_identity: gateway_identity_provider(),
        }
    }

    /// A factory whose every request obeys `policy`: the URL is checked before sending
    /// (AWS's own endpoint of the service, or an allowed origin) and host names are checked
    /// again when resolved (see [`guard`]). The gateway uses this one.
    pub fn guarded(endpoints: EndpointDefaults, policy: OutboundPolicy) -> Self {
        Self::guarded_with_resolver(endpoints, GuardedResolver::new(Arc::new(policy)))
    }

    /// Like [`AwsFactory::guarded`], with the policy and DNS lookup of `resolver` (tests).
    pub fn guarded_with_resolver(endpoints: EndpointDefaults, resolver: GuardedResolver) -> Self {
        let policy = resolver.policy().clone();
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_with_resolver(resolver);
        Self {
            http,
            endpoints: Arc::new(endpoints),
            timeouts: AwsTimeouts::default(),
            observer: None,
            policy: Some(policy),
            gateway_identity: gateway_identity_provider(),
        }
    }

    /// The same factory, reporting every call attempt's duration and status to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The same factory (same pooled HTTP client) with other per-attempt time limits.
    pub fn with_timeouts(mut self, timeouts: AwsTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The default endpoints this factory applies.
    pub fn endpoints(&self) -> &EndpointDefaults {
        &self.endpoints
    }

    /// The gateway's own AWS identity (the default provider chain of its process), cached and
    /// shared: one instance per factory.
    pub fn gateway_identity(&self) -> SharedCredentialsProvider {
        self.gateway_identity.clone()
    }

    /// Credentials of `role_arn`, assumed with `base`'s credentials through this factory's STS
    /// client for `base` (guarded, observed), cached until shortly before they expire and
    /// refreshed by one caller at a time.
    pub fn chained_role(
        &self,
        base: &AwsConnection,
        role_arn: &str,
        external_id: Option<&str>,
        session_name: &str,
        duration_secs: i32,
    ) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(crate::credentials::Cached::new(
            crate::credentials::ChainedRole {
                sts: Arc::new(self.sts(base)),
                role_arn: role_arn.to_owned(),
                external_id: external_id.map(str::to_owned),
                session_name: session_name.to_owned(),
                duration_secs,
            },
        ))
    }

    /// The connection `spec` describes: its key, or the gateway's identity, and through the
    /// role it names (assumed with those, cached, with the spec's endpoints), if any.
    pub fn connect(&self, spec: &ConnectionSpec) -> AwsConnection {
        let credentials = match &spec.base {
            BaseCredentials::Keys {
                access_key_id,
                secret_access_key,
                session_token,
            } => ConnectionCredentials::Keys {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                session_token: session_token.clone(),
            },
            BaseCredentials::GatewayIdentity => {
                ConnectionCredentials::Provided(self.gateway_identity())
            }
        };
        let base = AwsConnection {
            credentials,
            region: spec.region.clone(),
            iam_endpoint: spec.iam_endpoint.clone(),
            sts_endpoint: spec.sts_endpoint.clone(),
        };
        match &spec.role {
            None => base,
            Some(role) => AwsConnection {
                credentials: ConnectionCredentials::Provided(self.chained_role(
                    &base,
                    &role.role_arn,
                    role.external_id.as_deref(),
                    &role.session_name,
                    role.duration_secs,
                )),
                ..base
            },
        }
    }

    /// IAM and STS clients that sign with `conn`'s credentials.
    pub fn clients(&self, conn: &AwsConnection) -> AwsClients {
        AwsClients {
            iam: Arc::new(self.iam(conn)),
            sts: Arc::new(self.sts(conn)),
        }
    }

    /// The concrete IAM client (what [`AwsFactory::clients`] wraps).
    pub fn iam(&self, conn: &AwsConnection) -> SdkIam {
        let mut config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(conn.effective_region().to_owned()))
            .credentials_provider(credentials(conn))
            .identity_cache(IdentityCache::no_cache())
            .http_client(self.http.clone())
            .retry_config(RetryConfig::disabled())
            .timeout_config(self.timeout_config())
            .interceptor(FormSpaces);
        if let Some(observer) = &self.observer {
            config = config.interceptor(Timing {
                observer: observer.clone(),
            });
        }
        if let Some(endpoint) = self.endpoints.iam_endpoint(conn) {
            config = config.endpoint_url(endpoint);
        }
        if let Some(policy) = &self.policy {
            config = config.interceptor(EndpointGuard {
                policy: policy.clone(),
                service: AwsService::Iam,
            });
        }
        SdkIam::new(
            aws_sdk_iam::Client::from_conf(config.build()),
            secrets(conn),
        )
    }

    /// The concrete STS client (what [`AwsFactory::clients`] wraps).
    pub fn sts(&self, conn: &AwsConnection) -> SdkSts {
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(
                conn.effective_region().to_owned(),
            ))
            .credentials_provider(credentials(conn))
            .identity_cache(IdentityCache::no_cache())
            .http_client(self.http.clone())
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .timeout_config(self.timeout_config())
            .interceptor(FormSpaces);
        if let Some(observer) = &self.observer {
            config = config.interceptor(Timing {
                observer: observer.clone(),
            });
        }
        if let Some(endpoint) = self.endpoints.sts_endpoint(conn) {
            config = config.endpoint_url(endpoint);
        }
        if let Some(policy) = &self.policy {
            config = config.interceptor(EndpointGuard {
                policy: policy.clone(),
                service: AwsService::Sts,
            });
        }
        SdkSts::new(
            aws_sdk_sts::Client::from_conf(config.build()),
            secrets(conn),
        )
    }

    fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.timeouts.connect)
            .operation_attempt_timeout(self.timeouts.attempt)
            .build()
    }
}

/// The connection's credentials as the SDK takes them. Provided credentials come with their
/// own cache ([`crate::credentials::Cached`]), so the clients get none of theirs.
fn credentials(conn: &AwsConnection) -> SharedCredentialsProvider {
    match &conn.credentials {
        ConnectionCredentials::Keys {
            access_key_id,
            secret_access_key,
            session_token,
        } => SharedCredentialsProvider::new(Credentials::new(
            access_key_id.clone(),
            secret_access_key.expose_secret().to_owned(),
            session_token.as_ref().map(|t| t.expose_secret().to_owned()),
            None,
            "mayfly-target",
        )),
        ConnectionCredentials::Provided(provider) => provider.clone(),
    }
}

/// The connection's secrets, scrubbed from every error message the clients return.
fn secrets(conn: &AwsConnection) -> Redactor {
    Redactor {
        secrets: match &conn.credentials {
            ConnectionCredentials::Keys {
                secret_access_key,
                session_token,
                ..
            } => [Some(secret_access_key), session_token.as_ref()]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            ConnectionCredentials::Provided(_) => Vec::new(),
        },
    }
}

/// Removes known secrets from error messages.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<secrecy::SecretString>,
}

impl Redactor {
    pub(crate) fn apply(&self, err: crate::AwsError) -> crate::AwsError {
        let secrets: Vec<&str> = self.secrets.iter().map(|s| s.expose_secret()).collect();
        err.redacted(&secrets)
    }
}
