//! Where the AWS clients may connect: the [`OutboundPolicy`] applied to every request, at the
//! moment it is sent, not only when a target's endpoint was saved.
//!
//! Two checks, because each alone has a gap:
//! - [`EndpointGuard`], an interceptor on every IAM and STS client, checks the request's URL
//!   (the endpoint the SDK resolved: a target's override, the operator's `AWS_ENDPOINT_URL*`
//!   or AWS's default) before it is sent: AWS's own https endpoint of that service, or an
//!   allowed origin. This also covers IP-literal hosts, which hyper connects to without
//!   asking any resolver, and endpoints stored before the policy existed.
//! - [`GuardedResolver`], the DNS resolver of the shared HTTP client, checks the addresses a
//!   host name resolves to when a connection is opened, so a name that passed the URL check
//!   cannot be re-pointed at a loopback, link-local or private address later (DNS
//!   rebinding): see [`OutboundPolicy::check_resolved`].
//!
//! A refusal happens before any connection is attempted, so it reads the same whether or
//! not something listens at the address: no port-scan oracle. It surfaces as
//! [`crate::AwsError::EndpointRefused`].

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use mayfly_domain::{AwsService, OutboundPolicy};

/// An outbound connection the policy refused; its message names the origin and the setting
/// that would allow it, never whether anything listens there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRefused(pub String);

impl fmt::Display for EndpointRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EndpointRefused {}

/// Finds an [`EndpointRefused`] in an error's cause chain (through `io::Error` payloads too).
pub(crate) fn find_refusal<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a EndpointRefused> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(refused) = error.downcast_ref::<EndpointRefused>() {
            return Some(refused);
        }
        next = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

/// The interceptor checking each request's URL against the policy for its service.
#[derive(Debug, Clone)]
pub(crate) struct EndpointGuard {
    pub(crate) policy: Arc<OutboundPolicy>,
    pub(crate) service: AwsService,
}

impl Intercept for EndpointGuard {
    fn name(&self) -> &'static str {
        "mayfly::EndpointGuard"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        self.policy
            .check_request(self.service, uri)
            .map_err(|why| Box::new(EndpointRefused(why)) as BoxError)
    }
}

/// How host names become addresses; the system resolver in production, a table in tests.
pub trait Lookup: fmt::Debug + Send + Sync {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>>;
}

/// The operating system's resolver (through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>> {
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host, 0)).await?;
            Ok(addresses.map(|a| a.ip()).collect())
        })
    }
}

/// The HTTP client's DNS resolver: resolves, then refuses the answer when the policy does
/// not allow connecting to one of its addresses for this host.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
    lookup: Arc<dyn Lookup>,
}

impl GuardedResolver {
    /// A resolver using the system's DNS.
    pub fn new(policy: Arc<OutboundPolicy>) -> Self {
        Self::with_lookup(policy, Arc::new(SystemLookup))
    }

    /// A resolver using `lookup` (tests).
    pub fn with_lookup(policy: Arc<OutboundPolicy>, lookup: Arc<dyn Lookup>) -> Self {
        GuardedResolver { policy, lookup }
    }

    /// The policy this resolver applies.
    pub fn policy(&self) -> &Arc<OutboundPolicy> {
        &self.policy
    }

    /// The addresses of `host`, or why they may not be used.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, ResolveDnsError> {
        let addresses = self
            .lookup
            .lookup(host)
            .await
            .map_err(ResolveDnsError::new)?;
        match self.policy.check_resolved(host, &addresses) {
            Ok(()) => Ok(addresses),
            Err(why) => {
                tracing::warn!(host, reason = %why, "outbound connection refused by the endpoint policy");
                Err(ResolveDnsError::new(EndpointRefused(why)))
            }
        }
    }
}

impl ResolveDns for GuardedResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(self.resolve(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Debug)]
    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    impl Lookup for Table {
        fn lookup<'a>(
            &'a self,
            host: &'a str,
        ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>> {
            let found =
                self.0.get(host).cloned().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such host")
                });
            Box::pin(async move { found })
        }
    }

    #[tokio::test]
    async fn the_system_resolver_refuses_localhost() {
        let resolver = GuardedResolver::new(Arc::default());
        let err = resolver.resolve("localhost").await.unwrap_err();
        let refused = find_refusal(&err).expect("a refusal in the chain");
        assert!(refused.0.contains("loopback"), "{refused}");
    }

    #[tokio::test]
    async fn a_rebound_aws_name_is_refused_and_allowed_hosts_pass() {
        let table = Table(HashMap::from([
            (
                "sts.us-east-1.amazonaws.com",
                vec!["127.0.0.1".parse().unwrap()],
            ),
            ("iam.amazonaws.com", vec!["10.0.0.7".parse().unwrap()]),
            ("moto", vec!["127.0.0.1".parse().unwrap()]),
        ]));
        let policy = OutboundPolicy::new(
            mayfly_domain::AllowedOrigin::parse_list("http://moto:5000").unwrap(),
        );
        let resolver = GuardedResolver::with_lookup(Arc::new(policy), Arc::new(table));
        assert!(resolver
            .resolve("sts.us-east-1.amazonaws.com")
            .await
            .is_err());
        assert_eq!(
            resolver.resolve("iam.amazonaws.com").await.unwrap().len(),
            1
        );
        assert!(resolver.resolve("moto").await.is_ok());
        let missing = resolver.resolve("nowhere").await.unwrap_err();
        assert!(find_refusal(&missing).is_none());
    }

    fn conn(endpoint: Option<&str>) -> crate::AwsConnection {
        let mut conn = crate::AwsConnection::new(
            "AKIDEXAMPLE",
            secrecy::SecretString::from("wJalrXUtnFEMI"),
            "us-east-1",
        );
        conn.iam_endpoint = endpoint.map(str::to_owned);
        conn.sts_endpoint = endpoint.map(str::to_owned);
        conn
    }

    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn guarded_clients_refuse_before_connecting_and_pass_allowed_origins() {
        use crate::{AwsError, AwsFactory, EndpointDefaults};
        // AWS's own name, resolving to loopback (a poisoned or rebound answer).
        let table = Table(HashMap::from([(
            "iam.amazonaws.com",
            vec!["127.0.0.1".parse().unwrap()],
        )]));
        let port = closed_port();
        let allowed = format!("http://127.0.0.1:{port}");
        let policy =
            OutboundPolicy::new(mayfly_domain::AllowedOrigin::parse_list(&allowed).unwrap());
        let factory = AwsFactory::guarded_with_resolver(
            EndpointDefaults::default(),
            GuardedResolver::with_lookup(Arc::new(policy), Arc::new(table)),
        );

        let default = factory.clients(&conn(None));
        let err = default.iam.list_users("/").await.unwrap_err();
        assert!(
            matches!(&err, AwsError::EndpointRefused(m) if m.contains("loopback")),
            "{err:?}"
        );
        assert!(!err.is_retryable());

        // An IP literal is never resolved: the URL check refuses it.
        let other = format!("http://127.0.0.1:{}", closed_port());
        let err = factory
            .clients(&conn(Some(&other)))
            .sts
            .get_caller_identity()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AwsError::EndpointRefused(m) if m.contains(&other) && m.contains("MAYFLY_ALLOWED_ENDPOINTS")),
            "{err:?}"
        );

        // The allowed origin is let through (and, nothing listening, is unreachable).
        let err = factory
            .clients(&conn(Some(&allowed)))
            .iam
            .list_users("/")
            .await
            .unwrap_err();
        assert!(matches!(err, AwsError::Unreachable(_)), "{err:?}");
    }
}
