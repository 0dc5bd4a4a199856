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
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};

use crate::jwt::TestKey;

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
    port: u16,
    ca_pem: String,
    cluster: Arc<Cluster>,
    stop: Arc<AtomicBool>,
}

impl KubeApi {
    /// Starts a cluster whose service-account tokens are signed by `keys` with `issuer`;
    /// TokenReviews must come with `reviewer_jwt` (or, when `None`, a genuine token).
    pub fn start(issuer: &str, keys: &[TestKey], reviewer_jwt: Option<&str>) -> KubeApi {
        let (ca_pem, server_config) = tls_config();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind kube API");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let cluster = Arc::new(Cluster {
            issuer: issuer.to_owned(),
            keys: keys.to_vec(),
            reviewer_jwt: reviewer_jwt.map(str::to_owned),
            seen: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (cluster.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (c, config) = (c.clone(), server_config.clone());
                        std::thread::spawn(move || {
                            let _ = serve(stream, config, &c);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        KubeApi {
            port,
            ca_pem,
            cluster,
            stop,
        }
    }

    /// `https://127.0.0.1:PORT`, the `k8s-host` (and what `MAYFLY_ALLOWED_ENDPOINTS` needs).
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
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

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
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
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let (head, body) = read_request(&mut tls)?;
    let (status, answer) = answer(cluster, &head, &body);
    let text = answer.to_string();
    write!(
        tls,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    )?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

fn read_request(stream: &mut impl Read) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 || data.len() > 64 * 1024 {
            return Err(std::io::Error::other("incomplete request"));
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Ok((head, data[head_end..].to_vec()))
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
    let bearer = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("authorization")
                .then(|| v.trim().strip_prefix("Bearer ").map(str::to_owned))?
        })
        .unwrap_or_default();
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
