//! Kubernetes service-account tokens: who a verified token names.
//!
//! Projected tokens (Kubernetes 1.21+) carry the service account under a `kubernetes.io`
//! object (`namespace`, `serviceaccount.name`, `pod.name`); older secret-based tokens carry
//! flat `kubernetes.io/serviceaccount/...` claims (and no `exp`, so [`crate::jwt::verify`]
//! refuses them: they never expire, which is why they should not log in).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use mayfly_domain::OutboundPolicy;
use serde_json::{json, Map, Value};

use crate::fetch::{guarded_builder, read_limited, refusal_in};

/// The service account (and pod) a token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    /// Only for tokens bound to a pod.
    pub pod: Option<String>,
}

impl ServiceAccount {
    /// Reads the service account from a verified token's claims; `None` when the token is
    /// not a service-account token.
    pub fn from_claims(claims: &Map<String, Value>) -> Option<ServiceAccount> {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        if let Some(k8s) = claims.get("kubernetes.io").and_then(Value::as_object) {
            let namespace = text(k8s.get("namespace"))?;
            let name = text(k8s.get("serviceaccount").and_then(|s| s.get("name")))?;
            let pod = text(k8s.get("pod").and_then(|p| p.get("name")));
            return Some(ServiceAccount {
                namespace,
                name,
                pod,
            });
        }
        let namespace = text(claims.get("kubernetes.io/serviceaccount/namespace"))?;
        let name = text(claims.get("kubernetes.io/serviceaccount/service-account.name"))?;
        Some(ServiceAccount {
            namespace,
            name,
            pod: None,
        })
    }

    /// `system:serviceaccount:<namespace>:<name>`, Kubernetes' own user name for it.
    pub fn username(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }
}

/// Where a cluster's TokenReview API is: its origin and the CA its certificate chains to.
#[derive(Debug, Clone, Copy)]
pub struct Cluster<'a> {
    /// `https://host:port` of the API server.
    pub host: &'a str,
    /// PEM certificates to trust instead of the system's roots.
    pub ca_pem: Option<&'a str>,
}

/// Whose credential the review is made with.
#[derive(Debug, Clone, Copy)]
pub enum Reviewer<'a> {
    /// A service account allowed to create TokenReviews (`token-reviewer-jwt`).
    Jwt(&'a str),
    /// The reviewed token itself (the account needs `system:auth-delegator`).
    TheTokenItself,
}

/// What the cluster said about a genuine token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    /// `system:serviceaccount:<namespace>:<name>`.
    pub username: String,
    /// The pod the token is bound to, when the cluster says so.
    pub pod_name: Option<String>,
    /// The audiences the cluster validated the token for.
    pub audiences: Vec<String>,
}

/// A review that did not vouch for the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// The cluster said the token is not genuine: the login fails (401).
    #[error("{0}")]
    Refused(String),
    /// The cluster could not be asked, or refused the reviewer: retry or fix the config (503).
    #[error("{0}")]
    Unavailable(String),
}

/// The largest TokenReview answer read (they are a few hundred bytes).
const MAX_REVIEW_BYTES: usize = 64 * 1024;
/// Clients kept, one per distinct CA bundle; a config change past this starts afresh.
const MAX_CLIENTS: usize = 64;

/// Checks a PEM CA bundle: at least one certificate that parses.
pub fn check_ca_pem(pem: &str) -> Result<(), String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|_| {
        "k8s-ca-cert: not PEM certificates (-----BEGIN CERTIFICATE-----)".to_owned()
    })?;
    if certs.is_empty() {
        return Err("k8s-ca-cert: holds no certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(())
}

/// Asks clusters' TokenReview APIs whether service-account tokens are genuine, under the
/// outbound URL policy (checked host, checked resolved addresses, no redirects).
pub struct TokenReviewer {
    policy: Arc<OutboundPolicy>,
    /// By CA bundle (`None`: the system's roots); building a client loads its roots.
    clients: Mutex<HashMap<Option<String>, reqwest::Client>>,
}

impl TokenReviewer {
    pub fn new(policy: Arc<OutboundPolicy>) -> Self {
        TokenReviewer {
            policy,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Checks that `host` may be called: an `https://` origin the outbound policy allows.
    /// Returns it in canonical form (`https://host:port`, no path).
    pub fn check_host(&self, host: &str) -> Result<String, String> {
        let url = self
            .policy
            .check_url(host)
            .map_err(|why| format!("k8s-host: {why}"))?;
        if url.scheme() != "https" {
            return Err(
                "k8s-host: must be https://: service-account tokens must not cross the network in clear text"
                    .into(),
            );
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err("k8s-host: give only the API server's origin, such as https://10.0.0.1:6443 (no path)".into());
        }
        Ok(url.origin().ascii_serialization())
    }

    fn client(&self, ca_pem: Option<&str>) -> Result<reqwest::Client, ReviewError> {
        let key = ca_pem.map(str::to_owned);
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let mut builder = guarded_builder(&self.policy);
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|_| {
                ReviewError::Unavailable("the k8s auth config's k8s-ca-cert is not PEM".into())
            })?;
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|_| {
            ReviewError::Unavailable("cannot set up TLS for the k8s auth config's k8s-host".into())
        })?;
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Asks `cluster` whether `token` is genuine (for one of `audiences`, when given): POST
    /// `/apis/authentication.k8s.io/v1/tokenreviews` with the reviewer's bearer token.
    pub async fn review(
        &self,
        cluster: Cluster<'_>,
        reviewer: Reviewer<'_>,
        token: &str,
        audiences: &[String],
    ) -> Result<Reviewed, ReviewError> {
        let unavailable = ReviewError::Unavailable;
        let host = self.check_host(cluster.host).map_err(unavailable)?;
        let client = self.client(cluster.ca_pem)?;
        let mut spec = json!({ "token": token });
        if !audiences.is_empty() {
            spec["audiences"] = json!(audiences);
        }
        let body = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": spec,
        });
        let bearer = match reviewer {
            Reviewer::Jwt(jwt) => jwt,
            Reviewer::TheTokenItself => token,
        };
        let response = client
            .post(format!("{host}/apis/authentication.k8s.io/v1/tokenreviews"))
            .bearer_auth(bearer)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                unavailable(match refusal_in(&e) {
                    Some(why) => format!("the k8s auth config's k8s-host: {why}"),
                    None if e.is_timeout() => {
                        "the Kubernetes API server did not answer within 10 seconds".into()
                    }
                    None if e.is_connect() => "the Kubernetes API server could not be reached (or its certificate is not signed by k8s-ca-cert)".into(),
                    None => "the Kubernetes API server could not be asked".into(),
                })
            })?;
        let status = response.status().as_u16();
        match status {
            200 | 201 => {}
            401 | 403 => {
                return Err(match reviewer {
                    // The token could not even authenticate itself.
                    Reviewer::TheTokenItself => ReviewError::Refused(format!(
                        "the cluster refused the token (HTTP {status}); with no token-reviewer-jwt the token itself must be allowed to create TokenReviews (system:auth-delegator)"
                    )),
                    Reviewer::Jwt(_) => unavailable(format!(
                        "the cluster refused the k8s auth config's token-reviewer-jwt (HTTP {status}): give it a valid token of a service account bound to system:auth-delegator"
                    )),
                });
            }
            other => {
                return Err(unavailable(format!(
                    "the Kubernetes API server answered the TokenReview with HTTP {other}"
                )))
            }
        }
        let body = read_limited(response, MAX_REVIEW_BYTES)
            .await
            .map_err(|_| unavailable("the TokenReview answer is too large or broke off".into()))?;
        let review: Value = serde_json::from_slice(&body)
            .map_err(|_| unavailable("the TokenReview answer is not JSON".into()))?;
        parse_review(&review)
    }
}

/// Reads a TokenReview's `status`.
fn parse_review(review: &Value) -> Result<Reviewed, ReviewError> {
    let status = &review["status"];
    if status["authenticated"].as_bool() != Some(true) {
        // The cluster's reason (`status.error`) can name internals; say only that it refused.
        return Err(ReviewError::Refused(
            "the cluster's TokenReview did not authenticate the token (expired, revoked, or not from this cluster)"
                .into(),
        ));
    }
    let username = status["user"]["username"]
        .as_str()
        .ok_or_else(|| ReviewError::Unavailable("the TokenReview answer names no user".into()))?
        .to_owned();
    let pod_name = status["user"]["extra"]["authentication.kubernetes.io/pod-name"]
        .as_array()
        .and_then(|v| v.first())
        .and_then(Value::as_str)
        .map(str::to_owned);
    let audiences = status["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Reviewed {
        username,
        pod_name,
        audiences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projected_and_legacy_tokens() {
        let projected = serde_json::json!({
            "sub": "system:serviceaccount:team-a:deployer",
            "kubernetes.io": {"namespace": "team-a", "serviceaccount": {"name": "deployer", "uid": "u"},
                              "pod": {"name": "deployer-7d9", "uid": "p"}}
        });
        let sa = ServiceAccount::from_claims(projected.as_object().unwrap()).unwrap();
        assert_eq!(sa.pod.as_deref(), Some("deployer-7d9"));
        assert_eq!(sa.username(), "system:serviceaccount:team-a:deployer");
        let legacy = serde_json::json!({
            "kubernetes.io/serviceaccount/namespace": "ns",
            "kubernetes.io/serviceaccount/service-account.name": "sa",
        });
        let sa = ServiceAccount::from_claims(legacy.as_object().unwrap()).unwrap();
        assert_eq!(
            (sa.namespace.as_str(), sa.name.as_str(), sa.pod),
            ("ns", "sa", None)
        );
        assert!(
            ServiceAccount::from_claims(serde_json::json!({"sub": "x"}).as_object().unwrap())
                .is_none()
        );
    }

    #[test]
    fn review_answers() {
        let ok = json!({"status": {"authenticated": true, "audiences": ["mayfly"],
            "user": {"username": "system:serviceaccount:a:b", "uid": "u",
                     "extra": {"authentication.kubernetes.io/pod-name": ["p-1"]}}}});
        assert_eq!(
            parse_review(&ok).unwrap(),
            Reviewed {
                username: "system:serviceaccount:a:b".into(),
                pod_name: Some("p-1".into()),
                audiences: vec!["mayfly".into()],
            }
        );
        let no = json!({"status": {"authenticated": false, "error": "internal detail"}});
        let ReviewError::Refused(why) = parse_review(&no).unwrap_err() else {
            panic!("refused expected")
        };
        assert!(!why.contains("internal detail"));
        assert!(matches!(
            parse_review(&json!({"status": {"authenticated": true}})),
            Err(ReviewError::Unavailable(_))
        ));
    }

    #[test]
    fn hosts_must_be_https_origins() {
        let policy = Arc::new(OutboundPolicy::new(
            mayfly_domain::AllowedOrigin::parse_list("https://127.0.0.1:6443").unwrap(),
        ));
        let r = TokenReviewer::new(policy);
        assert_eq!(
            r.check_host("https://127.0.0.1:6443/").unwrap(),
            "https://127.0.0.1:6443"
        );
        assert!(r.check_host("https://127.0.0.1:6443/api").is_err());
        assert!(r
            .check_host("https://10.9.9.9:6443")
            .unwrap_err()
            .contains("k8s-host"));
        assert!(check_ca_pem("nope").is_err());
    }
}
