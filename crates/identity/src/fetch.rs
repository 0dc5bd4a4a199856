//! HTTP to URLs an operator configured (JWKS, STS, a Kubernetes API), under the outbound URL
//! policy: the plumbing the verifiers share, with no knowledge of what they fetch.
//!
//! The URL is checked before the request ([`OutboundPolicy::check_url`]: https, no user info,
//! no loopback or private address literal unless the operator allowed the origin), and the
//! addresses a host name resolves to are checked when the connection opens
//! ([`OutboundPolicy::check_resolved`]), so a name cannot be re-pointed at an internal address
//! after the check (DNS rebinding). Redirects are not followed: a redirect could lead anywhere.
//! Bodies are read up to a size limit; a refused or failed fetch never says what answered.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use mayfly_domain::OutboundPolicy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The deadline of one fetch, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves host names and refuses addresses the policy does not allow.
struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ips: Vec<_> = addresses.iter().map(SocketAddr::ip).collect();
            policy
                .check_resolved(&host, &ips)
                .map_err(|why| -> Box<dyn std::error::Error + Send + Sync> { why.into() })?;
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

/// The policy's refusal somewhere in an error's chain of causes, if that is what failed.
pub(crate) fn refusal_in(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if text.contains("ALLOWED_ENDPOINTS") {
            return Some(text);
        }
        cause = c.source();
    }
    None
}

/// An HTTP client bound to the outbound URL policy.
pub(crate) struct Fetcher {
    policy: Arc<OutboundPolicy>,
    client: reqwest::Client,
}

/// A client builder bound to `policy`: resolved addresses checked, no redirects, a
/// deadline. Every outbound client of this crate starts here.
pub(crate) fn guarded_builder(policy: &Arc<OutboundPolicy>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(FETCH_TIMEOUT)
        .dns_resolver(Arc::new(GuardedResolver {
            policy: policy.clone(),
        }))
        .user_agent(concat!("mayfly-gateway/", env!("CARGO_PKG_VERSION")))
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unread {
    TooLarge,
    BrokeOff,
}

/// Reads a response body of at most `limit` bytes (announced or actual).
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, Unread> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Unread::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| Unread::BrokeOff)? {
        if body.len() + chunk.len() > limit {
            return Err(Unread::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl Fetcher {
    pub(crate) fn new(policy: Arc<OutboundPolicy>) -> Self {
        // Never fall back to an unguarded client: without its resolver the policy would not
        // see the addresses a name resolves to.
        let client = guarded_builder(&policy)
            .build()
            .expect("the outbound HTTP client cannot be built (TLS set-up failed)");
        Fetcher { policy, client }
    }

    /// The policy every URL is checked against.
    pub(crate) fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// The guarded client (resolved addresses checked, no redirects, a deadline).
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }
}
