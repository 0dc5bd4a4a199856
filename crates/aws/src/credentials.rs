//! Credentials that are not a stored key: the gateway's own AWS identity, and a role assumed
//! before use (role chaining, cross-account access), each cached until shortly before it
//! expires and refreshed by one caller while the others wait.
//!
//! - [`GatewayIdentity`]: AWS's standard provider chain for the gateway's own process
//!   (environment, web identity token file as IRSA and EKS Pod Identity set it, ECS container
//!   credentials, EC2 instance metadata, shared profiles), built on first use.
//! - [`ChainedRole`]: `sts:AssumeRole` into a role with the credentials of a base connection,
//!   with an external id and a session name, through the same guarded STS client as every
//!   other call (so the outbound policy, the retry policy and the metrics apply).
//! - [`Cached`]: the cache in front of either.
//!
//! A failure is handed to the SDK as a [`SourceFailure`] carrying an [`AwsError`] that says
//! what to fix; [`AwsError::from_sdk`] finds it in the SDK's error and returns it as is.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};

use aws_credential_types::{
    provider::{error::CredentialsError, future, ProvideCredentials},
    Credentials,
};
use secrecy::ExposeSecret;

use crate::{AssumeRole, AwsError, StsApi};

/// How long before their expiry cached credentials are refreshed: a call signed with them
/// must not find them expired half-way through its retries.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

use crate::error::SourceFailure;

fn failure(e: AwsError) -> CredentialsError {
    CredentialsError::provider_error(SourceFailure(e))
}

/// Credentials from `inner`, kept until [`REFRESH_BEFORE`] their expiry (for ever when they
/// have none). One load at a time: concurrent callers wait for it and share its result.
#[derive(Debug)]
pub struct Cached<P> {
    inner: P,
    slot: tokio::sync::Mutex<Option<Credentials>>,
    loads: AtomicU64,
    refresh_before: Duration,
}

impl<P: ProvideCredentials> Cached<P> {
    pub fn new(inner: P) -> Self {
        Cached {
            inner,
            slot: tokio::sync::Mutex::new(None),
            loads: AtomicU64::new(0),
            refresh_before: REFRESH_BEFORE,
        }
    }

    /// How many times the source was asked (tests, metrics).
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    async fn get(&self) -> Result<Credentials, CredentialsError> {
        let mut slot = self.slot.lock().await;
        if let Some(c) = slot.as_ref() {
            let fresh = c
                .expiry()
                .is_none_or(|at| at > SystemTime::now() + self.refresh_before);
            if fresh {
                return Ok(c.clone());
            }
        }
        self.loads.fetch_add(1, Ordering::Relaxed);
        let c = self.inner.provide_credentials().await?;
        *slot = Some(c.clone());
        Ok(c)
    }
}

impl<P: ProvideCredentials> ProvideCredentials for Cached<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

/// The gateway's own AWS identity: AWS's default provider chain, built on first use with the
/// gateway's HTTP client (for web identity, ECS and instance metadata).
pub struct GatewayIdentity {
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
    chain:
        tokio::sync::OnceCell<aws_config::default_provider::credentials::DefaultCredentialsChain>,
}

impl std::fmt::Debug for GatewayIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayIdentity")
            .field("built", &self.chain.initialized())
            .finish()
    }
}

/// What to say when the gateway has no identity.
pub const NO_IDENTITY: &str = "no AWS credentials found in the gateway's environment: set up IRSA or EKS Pod Identity, an instance profile or an ECS task role (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the gateway process), or give the target keys";

impl GatewayIdentity {
    pub fn new(http: aws_smithy_runtime_api::client::http::SharedHttpClient) -> Self {
        GatewayIdentity {
            http,
            chain: tokio::sync::OnceCell::new(),
        }
    }

    async fn load(&self) -> Result<Credentials, CredentialsError> {
        use aws_config::{
            default_provider::credentials::DefaultCredentialsChain,
            environment::region::EnvironmentVariableRegionProvider,
            meta::region::RegionProviderChain, profile::ProfileFileRegionProvider,
            provider_config::ProviderConfig, Region,
        };
        let chain = self
            .chain
            .get_or_init(|| async {
                let config = ProviderConfig::default().with_http_client(self.http.clone());
                let region =
                    RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
                        .or_else(
                            ProfileFileRegionProvider::builder()
                                .configure(&config)
                                .build(),
                        )
                        .or_else(Region::from_static(crate::DEFAULT_REGION));
                DefaultCredentialsChain::builder()
                    .configure(config)
                    .region(region)
                    .build()
                    .await
            })
            .await;
        chain.provide_credentials().await.map_err(|e| match e {
            CredentialsError::CredentialsNotLoaded(_) => failure(AwsError::Credentials {
                code: "NoCredentials".into(),
                message: NO_IDENTITY.into(),
            }),
            other => {
                let detail = crate::error::clean_message(&error_chain(&other));
                failure(AwsError::Credentials {
                    code: source_code(&detail),
                    message: format!(
                        "the gateway's own AWS identity could not be loaded: {detail}"
                    ),
                })
            }
        })
    }
}

impl ProvideCredentials for GatewayIdentity {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.load())
    }
}

/// The AWS error code in a provider's message (`ExpiredTokenException`, `AccessDenied`), or
/// `CredentialsUnavailable`.
fn source_code(detail: &str) -> String {
    for code in [
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidIdentityToken",
        "AccessDenied",
        "IDPCommunicationError",
    ] {
        if detail.contains(code) {
            return code.to_owned();
        }
    }
    "CredentialsUnavailable".to_owned()
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        current = cause.source();
    }
    text
}

/// A role assumed with a base connection's credentials before use.
pub struct ChainedRole {
    /// STS, signing with the base credentials.
    pub sts: Arc<dyn StsApi>,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub duration_secs: i32,
}

impl std::fmt::Debug for ChainedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainedRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .finish_non_exhaustive()
    }
}

impl ChainedRole {
    async fn load(&self) -> Result<Credentials, CredentialsError> {
        let input = AssumeRole {
            role_arn: self.role_arn.clone(),
            session_name: self.session_name.clone(),
            duration_secs: self.duration_secs,
            external_id: self.external_id.clone(),
            ..AssumeRole::default()
        };
        let retry = crate::RetryPolicy::default();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let creds = crate::with_retries(&retry, deadline, crate::ops::ASSUME_ROLE, || {
            self.sts.assume_role(&input)
        })
            .await
            .map_err(|e| {
                failure(match e {
                    AwsError::AccessDenied { message, .. } => AwsError::Credentials {
                        code: "AccessDenied".into(),
                        message: format!(
                            "the target's role {} refused to be assumed: {message}; its trust policy must allow sts:AssumeRole by the target's base identity{}",
                            self.role_arn,
                            if self.external_id.is_some() {
                                " with the target's external id (sts:ExternalId)"
                            } else {
                                ""
                            }
                        ),
                    },
                    AwsError::Credentials { code, message } => AwsError::Credentials {
                        code,
                        message: format!(
                            "the base identity of the target's role {}: {message}",
                            self.role_arn
                        ),
                    },
                    other => other,
                })
            })?;
        let expiry = SystemTime::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(creds.expiration.timestamp()).unwrap_or(0));
        Ok(Credentials::new(
            creds.access_key_id,
            creds.secret_access_key.expose_secret().to_owned(),
            Some(creds.session_token.expose_secret().to_owned()),
            Some(expiry),
            "mayfly-role-chain",
        ))
    }
}

impl ProvideCredentials for ChainedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Option<Duration>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = self.lifetime.map(|l| SystemTime::now() + l);
            future::ProvideCredentials::new(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(Credentials::new(
                    format!("AKID{n}"),
                    "s",
                    None,
                    expiry,
                    "test",
                ))
            })
        }
    }

    #[tokio::test]
    async fn one_load_for_concurrent_callers_and_a_refresh_before_expiry() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cached = Arc::new(Cached::new(Counting {
            calls: calls.clone(),
            lifetime: Some(Duration::from_secs(3600)),
        }));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let c = cached.clone();
            tasks.push(tokio::spawn(async move {
                c.provide_credentials()
                    .await
                    .unwrap()
                    .access_key_id()
                    .to_owned()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), "AKID0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "single-flight");
        // Credentials within REFRESH_BEFORE of their expiry are fetched again.
        let calls = Arc::new(AtomicUsize::new(0));
        let soon = Cached::new(Counting {
            calls: calls.clone(),
            lifetime: Some(Duration::from_secs(60)),
        });
        soon.provide_credentials().await.unwrap();
        soon.provide_credentials().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(soon.loads(), 2);
        // Without an expiry, once.
        let calls = Arc::new(AtomicUsize::new(0));
        let forever = Cached::new(Counting {
            calls: calls.clone(),
            lifetime: None,
        });
        forever.provide_credentials().await.unwrap();
        forever.provide_credentials().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn codes_from_provider_messages() {
        assert_eq!(
            source_code("web identity: ExpiredTokenException: Token expired"),
            "ExpiredTokenException"
        );
        assert_eq!(source_code("connection refused"), "CredentialsUnavailable");
    }
}
