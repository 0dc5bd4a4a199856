//! A JWT issuer for tests: two fixed RSA keys (`fixtures/jwt-rsa-{a,b}.pem`, test-only, never
//! trusted anywhere), tokens shaped like GitHub's and GitLab's, and a JWKS server on loopback
//! whose document can be swapped (key rotation) and whose fetches are counted.
//!
//! The keys are committed so that tests need no key generation; they sign nothing but test
//! tokens.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::loopback::{read_request, respond, Listening};

/// One of the two test keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    A,
    B,
}

impl TestKey {
    fn pem(self) -> &'static str {
        match self {
            TestKey::A => include_str!("../fixtures/jwt-rsa-a.pem"),
            TestKey::B => include_str!("../fixtures/jwt-rsa-b.pem"),
        }
    }

    /// The public key as a JWK (`kid` `test-rsa-a` / `test-rsa-b`, `alg` RS256).
    pub fn jwk(self) -> Value {
        let text = match self {
            TestKey::A => include_str!("../fixtures/jwt-rsa-a.jwk.json"),
            TestKey::B => include_str!("../fixtures/jwt-rsa-b.jwk.json"),
        };
        serde_json::from_str(text).expect("fixture JWK")
    }

    /// The public key in PEM (what an HS256-confusion attacker would use as the secret).
    pub fn public_pem(self) -> &'static str {
        match self {
            TestKey::A => include_str!("../fixtures/jwt-rsa-a.pub.pem"),
            TestKey::B => include_str!("../fixtures/jwt-rsa-b.pub.pem"),
        }
    }

    pub fn kid(self) -> &'static str {
        match self {
            TestKey::A => "test-rsa-a",
            TestKey::B => "test-rsa-b",
        }
    }

    /// Signs `claims` with RS256 and this key's `kid`.
    pub fn sign(self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid().to_owned());
        let key = EncodingKey::from_rsa_pem(self.pem().as_bytes()).expect("fixture key");
        encode(&header, claims, &key).expect("sign")
    }
}

/// A JWKS document holding these keys.
pub fn jwks(keys: &[TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Claims shaped like a GitHub Actions OIDC token for `repository` (`owner/name`), valid for
/// ten minutes, for `audience`.
pub fn github_claims(issuer: &str, audience: &str, repository: &str) -> Value {
    let now = now();
    let owner = repository.split('/').next().unwrap_or_default();
    json!({
        "jti": format!("{}-{now}", repository),
        "sub": format!("repo:{repository}:ref:refs/heads/main"),
        "aud": audience,
        "ref": "refs/heads/main",
        "sha": "6f1ed002ab5595859014ebf0951522d9c4f7d0e0",
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": "65432",
        "run_id": "6005112337",
        "run_number": "17",
        "run_attempt": "1",
        "repository_visibility": "private",
        "repository_id": "123456",
        "actor_id": "12345",
        "actor": "octocat",
        "workflow": "deploy",
        "head_ref": "",
        "base_ref": "",
        "event_name": "push",
        "ref_type": "branch",
        "workflow_ref": format!("{repository}/.github/workflows/deploy.yml@refs/heads/main"),
        "job_workflow_ref": format!("{repository}/.github/workflows/deploy.yml@refs/heads/main"),
        "runner_environment": "github-hosted",
        "iss": issuer,
        "nbf": now - 5,
        "exp": now + 600,
        "iat": now - 5,
    })
}

/// Claims shaped like a GitLab CI `id_tokens` token for `project_path`.
pub fn gitlab_claims(issuer: &str, audience: &str, project_path: &str) -> Value {
    let now = now();
    json!({
        "namespace_id": "72",
        "namespace_path": project_path.split('/').next().unwrap_or_default(),
        "project_id": "20",
        "project_path": project_path,
        "user_id": "1",
        "user_login": "sample-user",
        "pipeline_id": "574",
        "pipeline_source": "push",
        "job_id": "302",
        "ref": "main",
        "ref_type": "branch",
        "ref_protected": "true",
        "runner_environment": "gitlab-hosted",
        "jti": format!("gl-{now}"),
        "iss": issuer,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "sub": format!("project_path:{project_path}:ref_type:branch:ref:main"),
        "aud": audience,
    })
}

/// Claims shaped like a projected Kubernetes service-account token (1.21+) of `account` in
/// `namespace`, bound to `pod`, for `audience`.
pub fn k8s_claims(
    issuer: &str,
    audience: &str,
    namespace: &str,
    account: &str,
    pod: &str,
) -> Value {
    let now = now();
    json!({
        "aud": [audience],
        "exp": now + 3600,
        "iat": now - 5,
        "nbf": now - 5,
        "iss": issuer,
        "jti": format!("k8s-{now}"),
        "kubernetes.io": {
            "namespace": namespace,
            "node": {"name": "node-1", "uid": "8d1d1f62-0000-4000-8000-000000000001"},
            "pod": {"name": pod, "uid": "8d1d1f62-0000-4000-8000-000000000002"},
            "serviceaccount": {"name": account, "uid": "8d1d1f62-0000-4000-8000-000000000003"},
        },
        "sub": format!("system:serviceaccount:{namespace}:{account}"),
    })
}

/// A JWKS document served over plain HTTP on a loopback port, for as long as the handle
/// lives. Gateways reach it only when `MAYFLY_ALLOWED_ENDPOINTS` names [`JwksServer::origin`].
pub struct JwksServer {
    listening: Listening,
    document: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    /// Serves `document` at `/.well-known/jwks` (any path answers it).
    pub fn start(document: &Value) -> JwksServer {
        let document = Arc::new(Mutex::new(document.to_string()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (doc, count) = (document.clone(), fetches.clone());
        let listening = Listening::start("JWKS server", false, move |mut stream| {
            if read_request(&mut stream).is_err() {
                return;
            }
            let body = doc.lock().map(|d| d.clone()).unwrap_or_default();
            count.fetch_add(1, Ordering::SeqCst);
            let _ = respond(&mut stream, 200, "", body.as_bytes());
        });
        JwksServer {
            listening,
            document,
            fetches,
        }
    }

    /// `http://127.0.0.1:PORT`, for `MAYFLY_ALLOWED_ENDPOINTS`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.listening.port)
    }

    /// The document's URL.
    pub fn uri(&self) -> String {
        format!("{}/.well-known/jwks", self.origin())
    }

    /// Replaces the document (a key rotation at the issuer).
    pub fn set_document(&self, document: &Value) {
        if let Ok(mut d) = self.document.lock() {
            *d = document.to_string();
        }
    }

    /// How many requests the server has answered.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
