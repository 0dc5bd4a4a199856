//! A Kubernetes API server for tests that answers only TokenReviews, over HTTPS with its own
//! CA (generated per server), as a real cluster's does: `POST
//! /apis/authentication.k8s.io/v1/tokenreviews`, bearer-authenticated.
//!
//! A token is genuine when it verifies with one of the cluster's [`TestKey`]s, carries the
//! cluster's issuer, has not expired, and (when the review names audiences) is for one of
//! them. The reviewer must present the configured reviewer JWT, or, when none is configured,
//! a genuine token (as a service account bound to `system:auth-delegator` would). Every
//! review is recorded (bearer, audiences) so tests can see who called with what.

use std::{
    io::Write,
    net::TcpStream,
    sync::{Arc, Mutex},
};

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};

use crate::{
    jwt::TestKey,
    loopback::{header, read_request, respond, Listening},
};

/// One TokenReview the server received.
#[derive(Debug, Clone)]
pub struct SeenReview {
    /// The `Authorization: Bearer` token the reviewer sent.
    pub bearer: String,
    pub audiences: Vec<String>,
    /// Whether the reviewed token was genuine.
    pub authenticated: bool,
}

struct Cluster {
    issuer: String,
    keys: Vec<TestKey>,
    reviewer_jwt: Option<String>,
    seen: Mutex<Vec<SeenReview>>,
}

/// The fake API server; stops when dropped.
pub struct KubeApi {
    listening: Listening,
    ca_pem: String,
    cluster: Arc<Cluster>,
}

impl KubeApi {
    /// Starts a cluster whose service-account tokens are signed by `keys` with `issuer`;
    /// TokenReviews must come with `reviewer_jwt` (or, when `None`, a genuine token).
    pub fn start(issuer: &str, keys: &[TestKey], reviewer_jwt: Option<&str>) -> KubeApi {
        let (ca_pem, server_config) = tls_config();
        let cluster = Arc::new(Cluster {
            issuer: issuer.to_owned(),
            keys: keys.to_vec(),
            reviewer_jwt: reviewer_jwt.map(str::to_owned),
            seen: Mutex::new(Vec::new()),
        });
        let c = cluster.clone();
        let listening = Listening::start("kube API", true, move |stream| {
            let _ = serve(stream, server_config.clone(), &c);
        });
        KubeApi {
            listening,
            ca_pem,
            cluster,
        }
    }

    /// `https://127.0.0.1:PORT`, the `k8s-host` (and what `MAYFLY_ALLOWED_ENDPOINTS` needs).
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.listening.port)
    }

    /// The cluster CA's certificate (PEM), the `k8s-ca-cert`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The reviews received so far.
    pub fn reviews(&self) -> Vec<SeenReview> {
        self.cluster
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it.
fn tls_config() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mayfly-test-kube-ca");
    let ca = ca_params.self_signed(&ca_key).expect("CA cert");
    let leaf_key = KeyPair::generate().expect("server key");
    let mut leaf_params = CertificateParams::new(Vec::<String>::new()).expect("server params");
    leaf_params.subject_alt_names =
        vec![SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1]))];
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("server cert");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .expect("server TLS config");
    (ca.pem(), Arc::new(config))
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    cluster: &Cluster,
) -> std::io::Result<()> {
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let (head, body) = read_request(&mut tls)?;
    let (status, answer) = answer(cluster, &head, &body);
    respond(&mut tls, status, "", answer.to_string().as_bytes())?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

/// The claims of `token` if it is genuine for this cluster (and one of `audiences`, if any).
fn genuine(cluster: &Cluster, token: &str, audiences: &[String]) -> Option<Map<String, Value>> {
    for key in &cluster.keys {
        let decoding = DecodingKey::from_rsa_pem(key.public_pem().as_bytes()).ok()?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&cluster.issuer]);
        if audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(audiences);
        }
        if let Ok(data) = decode::<Map<String, Value>>(token, &decoding, &validation) {
            return Some(data.claims);
        }
    }
    None
}

fn answer(cluster: &Cluster, head: &str, body: &[u8]) -> (u16, Value) {
    let request_line = head.lines().next().unwrap_or_default();
    if !request_line.starts_with("POST /apis/authentication.k8s.io/v1/tokenreviews ") {
        return (404, json!({"kind": "Status", "code": 404}));
    }
    let bearer = header(head, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let review: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let token = review["spec"]["token"].as_str().unwrap_or_default();
    let audiences: Vec<String> = review["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let reviewer_ok = match &cluster.reviewer_jwt {
        Some(expected) => &bearer == expected,
        None => genuine(cluster, &bearer, &[]).is_some(),
    };
    let claims = genuine(cluster, token, &audiences);
    if let Ok(mut seen) = cluster.seen.lock() {
        seen.push(SeenReview {
            bearer: bearer.clone(),
            audiences: audiences.clone(),
            authenticated: reviewer_ok && claims.is_some(),
        });
    }
    if !reviewer_ok {
        return (
            401,
            json!({"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401}),
        );
    }
    let Some(claims) = claims else {
        return (
            201,
            json!({"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                   "status": {"authenticated": false, "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]"}}),
        );
    };
    let pod = claims["kubernetes.io"]["pod"]["name"].as_str();
    let mut extra = json!({});
    if let Some(pod) = pod {
        extra["authentication.kubernetes.io/pod-name"] = json!([pod]);
    }
    let token_audiences = match &claims["aud"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let validated: Vec<String> = if audiences.is_empty() {
        token_audiences
    } else {
        token_audiences
            .into_iter()
            .filter(|a| audiences.contains(a))
            .collect()
    };
    (
        201,
        json!({"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
               "status": {"authenticated": true, "audiences": validated,
                          "user": {"username": claims["sub"], "uid": "8d1d1f62-0000-4000-8000-000000000003",
                                   "groups": ["system:serviceaccounts"], "extra": extra}}}),
    )
}
