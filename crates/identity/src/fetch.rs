//! Fetching documents (JWKS) from URLs an operator configured, under the outbound URL policy.
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

use crate::jwks::{JwksError, KeySet, MAX_JWKS_BYTES};

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

/// Reads a response body of at most `limit` bytes; `None` when it is larger or breaks off.
pub(crate) async fn read_limited(mut response: reqwest::Response, limit: usize) -> Option<Vec<u8>> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return None;
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > limit {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
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

    /// Posts a signed `GetCallerIdentity` to `sts_url`; returns the status and body (at most
    /// 64 KiB). The URL must be AWS's own STS endpoint or an allowed origin; the signed
    /// headers go as they are, `Host` included.
    pub(crate) async fn post_sts(
        &self,
        sts_url: &str,
        request: &crate::aws_iam::SignedRequest,
    ) -> Result<(u16, String), crate::aws_iam::StsError> {
        use crate::aws_iam::StsError;
        let url = format!("{}/", sts_url.trim_end_matches('/'));
        self.policy
            .check_request(mayfly_domain::AwsService::Sts, &url)
            .map_err(StsError::Unavailable)?;
        let mut builder = self.client.post(&url).body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = builder.send().await.map_err(|e| {
            StsError::Unavailable(match refusal_in(&e) {
                Some(why) => format!("the auth method's sts-url: {why}"),
                None if e.is_timeout() => "STS did not answer within 10 seconds".into(),
                None => "STS could not be reached".into(),
            })
        })?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| StsError::Unavailable("STS's answer broke off".into()))?
        {
            if body.len() + chunk.len() > 64 * 1024 {
                return Err(StsError::Unavailable("STS's answer is too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Fetches and parses the JWKS document at `uri`.
    pub(crate) async fn fetch_jwks(&self, uri: &str) -> Result<KeySet, JwksError> {
        let url = self
            .policy
            .check_url(uri)
            .map_err(|why| JwksError::Refused(format!("jwks-uri: {why}")))?;
        let origin = url.origin().ascii_serialization();
        let unavailable =
            |why: String| JwksError::Unavailable(format!("the JWKS at {origin} {why}"));
        let mut response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                // The resolver's refusal surfaces as a connect error; say which rule refused.
                if let Some(why) = refusal_in(&e) {
                    JwksError::Refused(format!("jwks-uri: {why}"))
                } else if e.is_timeout() {
                    unavailable("did not answer within 10 seconds".into())
                } else {
                    unavailable("could not be reached".into())
                }
            })?;
        if !response.status().is_success() {
            return Err(unavailable(format!(
                "answered HTTP {} (redirects are not followed)",
                response.status().as_u16()
            )));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(unavailable(format!(
                "is larger than {MAX_JWKS_BYTES} bytes"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| unavailable("broke off while being read".into()))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(unavailable(format!(
                    "is larger than {MAX_JWKS_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| unavailable("is not UTF-8".into()))?;
        KeySet::parse(&text).map_err(|why| unavailable(format!("is not usable: {why}")))
    }
}
