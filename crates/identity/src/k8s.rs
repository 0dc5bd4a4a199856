//! Kubernetes service-account tokens: who a verified token names.
//!
//! Projected tokens (Kubernetes 1.21+) carry the service account under a `kubernetes.io`
//! object (`namespace`, `serviceaccount.name`, `pod.name`); older secret-based tokens carry
//! flat `kubernetes.io/serviceaccount/...` claims (and no `exp`, so [`crate::jwt::verify`]
//! refuses them: they never expire, which is why they should not log in).

use serde_json::{Map, Value};

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
}
