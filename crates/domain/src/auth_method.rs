//! The kinds of auth method and the settings of those that verify a workload's own identity.
//!
//! An API key is a secret Mayfly hands out; a JWT (OAuth2/OIDC) method holds no secret at
//! all: it names whose signatures to trust (a JWKS URL or inline public keys), which issuer and
//! audience a token must carry, and which claim identifies the caller.

use serde::{Deserialize, Serialize};

use crate::claims::SubClaims;

/// How an auth method verifies a login. Stored as its `as_str` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethodKind {
    /// An access id and key (`access-type: access_key`).
    ApiKey,
    /// A signed JWT from an OIDC/OAuth2 issuer (`access-type: jwt` or `oidc`).
    OAuth2,
    /// A Kubernetes service account token (`access-type: k8s`).
    K8s,
    /// A signed `sts:GetCallerIdentity` (`access-type: aws_iam`).
    AwsIam,
}

impl AuthMethodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethodKind::ApiKey => "api_key",
            AuthMethodKind::OAuth2 => "oauth2",
            AuthMethodKind::K8s => "k8s",
            AuthMethodKind::AwsIam => "aws_iam",
        }
    }

    pub fn parse(stored: &str) -> Option<AuthMethodKind> {
        match stored {
            "api_key" => Some(AuthMethodKind::ApiKey),
            "oauth2" => Some(AuthMethodKind::OAuth2),
            "k8s" => Some(AuthMethodKind::K8s),
            "aws_iam" => Some(AuthMethodKind::AwsIam),
            _ => None,
        }
    }

    /// The `access-type` values of `/auth` that log in with this kind.
    pub fn access_types(self) -> &'static [&'static str] {
        match self {
            AuthMethodKind::ApiKey => &["access_key"],
            AuthMethodKind::OAuth2 => &["jwt", "oidc"],
            AuthMethodKind::K8s => &["k8s"],
            AuthMethodKind::AwsIam => &["aws_iam"],
        }
    }

    /// Whether the method's tokens carry claims that role associations can match.
    pub fn has_claims(self) -> bool {
        !matches!(self, AuthMethodKind::ApiKey)
    }
}

/// Where a JWT method's public keys come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JwksSource {
    /// Fetched (and cached) from this URL, which the outbound URL policy allows.
    Uri(String),
    /// A JWKS document given when the method was created (public keys only).
    Inline(String),
}

/// The longest unique-identifier claim name, issuer and audience accepted.
pub const MAX_JWT_SETTING_CHARS: usize = 512;
/// The most audiences and bound client ids a method may list.
pub const MAX_JWT_LIST_ITEMS: usize = 32;

/// A JWT (OAuth2/OIDC) auth method's settings. None of them is secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtSettings {
    pub jwks: JwksSource,
    /// The `iss` a token must carry; `None`: any (the keys alone bind the issuer).
    pub issuer: Option<String>,
    /// One of these must be in the token's `aud`; empty: `aud` is not checked.
    pub audiences: Vec<String>,
    /// The claim that names the caller (`sub`, `repository`, `email` ...); a token without it
    /// is refused.
    pub unique_identifier: String,
    /// When not empty, the token's `azp` or `client_id` must be one of these.
    pub bound_client_ids: Vec<String>,
    /// Claims every token must match, whatever role it gets (Mayfly extension
    /// `bound-claims`).
    pub bound_claims: SubClaims,
    /// Every role association of the method must name sub-claims.
    pub force_sub_claims: bool,
    /// Lifetime of tokens this method issues, in minutes (`jwt-ttl`); `None`: the gateway's.
    pub token_ttl_minutes: Option<u32>,
    /// Unix seconds after which the method accepts no login (`access-expires`); `None`: never.
    pub access_expires: Option<i64>,
}

impl JwtSettings {
    /// Checks the settings that need no network: the unique identifier and the lengths.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let too_long = |s: &str| s.chars().count() > MAX_JWT_SETTING_CHARS;
        if self.unique_identifier.trim().is_empty() {
            problems.push(
                "unique-identifier: required: the claim that names the caller, such as sub or repository".into(),
            );
        } else if too_long(&self.unique_identifier) {
            problems.push(format!(
                "unique-identifier: at most {MAX_JWT_SETTING_CHARS} characters"
            ));
        }
        if self.issuer.as_deref().is_some_and(too_long) {
            problems.push(format!(
                "issuer: at most {MAX_JWT_SETTING_CHARS} characters"
            ));
        }
        for (field, list) in [
            ("audience", &self.audiences),
            ("bound-client-ids", &self.bound_client_ids),
        ] {
            if list.len() > MAX_JWT_LIST_ITEMS {
                problems.push(format!("{field}: at most {MAX_JWT_LIST_ITEMS} values"));
            }
            if list.iter().any(|s| too_long(s)) {
                problems.push(format!(
                    "{field}: each value at most {MAX_JWT_SETTING_CHARS} characters"
                ));
            }
        }
        match &self.jwks {
            JwksSource::Uri(u) if u.trim().is_empty() => {
                problems.push("jwks-uri: empty".into());
            }
            JwksSource::Inline(j) if j.trim().is_empty() => {
                problems.push("jwks-json-data: empty".into());
            }
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// A Kubernetes auth method's settings. None of them is secret.
///
/// Tokens are verified either offline against the cluster's service-account signing keys
/// (`kubectl get --raw /openid/v1/jwks`), given as a JWKS document, so the gateway needs no
/// credential for the cluster and no route to its API server; or online by the cluster's
/// TokenReview API, through a [`K8sClusterSettings`] config the login names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sSettings {
    /// The cluster's JWKS document (public keys); `None`: logins must name a k8s auth config.
    #[serde(default)]
    pub jwks: Option<String>,
    /// The `iss` tokens must carry (the cluster's service-account issuer, e.g.
    /// `https://kubernetes.default.svc.cluster.local`); `None`: not checked.
    pub issuer: Option<String>,
    /// One of these must be in the token's `aud`; empty: not checked.
    pub audiences: Vec<String>,
    /// Globs the service account's namespace, name and (when bound) pod name must match;
    /// empty: any.
    pub bound_namespaces: Vec<String>,
    pub bound_sa_names: Vec<String>,
    pub bound_pod_names: Vec<String>,
    /// Every role association of the method must name sub-claims (`namespace`,
    /// `service_account_name`, `pod_name`).
    pub force_sub_claims: bool,
    pub token_ttl_minutes: Option<u32>,
    pub access_expires: Option<i64>,
}

impl K8sSettings {
    /// Checks lengths and counts.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let too_long = |s: &str| s.chars().count() > MAX_JWT_SETTING_CHARS;
        if self.issuer.as_deref().is_some_and(too_long) {
            problems.push(format!(
                "k8s-issuer: at most {MAX_JWT_SETTING_CHARS} characters"
            ));
        }
        for (field, list) in [
            ("audience", &self.audiences),
            ("bound-namespaces", &self.bound_namespaces),
            ("bound-sa-names", &self.bound_sa_names),
            ("bound-pod-names", &self.bound_pod_names),
        ] {
            if list.len() > MAX_JWT_LIST_ITEMS {
                problems.push(format!("{field}: at most {MAX_JWT_LIST_ITEMS} values"));
            }
            if list.iter().any(|s| too_long(s)) {
                problems.push(format!(
                    "{field}: each value at most {MAX_JWT_SETTING_CHARS} characters"
                ));
            }
        }
        if self.jwks.as_deref().is_some_and(|j| j.trim().is_empty()) {
            problems.push("jwks-json-data: empty: give the cluster's service-account signing keys (kubectl get --raw /openid/v1/jwks), base64-encoded, or leave it out and log in through a k8s auth config".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The longest CA certificate bundle a k8s auth config may hold.
pub const MAX_K8S_CA_BYTES: usize = 64 * 1024;

/// A k8s auth config's cluster side (`gateway-create-k8s-auth-config`): how the gateway
/// verifies the service-account tokens of one cluster for one Kubernetes auth method. None of
/// these is secret; the token reviewer JWT, which is, is sealed apart from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sClusterSettings {
    /// The API server's origin (`https://10.0.0.1:6443`), checked against the outbound URL
    /// policy: tokens (and the reviewer JWT) are sent there.
    pub host: String,
    /// PEM certificates the API server's certificate must chain to; `None`: the system's
    /// roots.
    pub ca_cert: Option<String>,
    /// The `iss` tokens must carry; `None`: the method's issuer, if any.
    pub issuer: Option<String>,
    /// Skip the issuer check even when an issuer is known (`disable-issuer-validation`).
    pub disable_issuer_validation: bool,
    /// Mayfly extension: the cluster's JWKS. When set, tokens are verified offline with it
    /// and the API server is not called.
    #[serde(default)]
    pub jwks: Option<String>,
}

impl K8sClusterSettings {
    /// Checks lengths (the host is checked against the outbound policy by the core).
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.host.trim().is_empty() {
            problems.push(
                "k8s-host: required: the Kubernetes API server's URL, such as https://10.0.0.1:6443"
                    .into(),
            );
        } else if self.host.chars().count() > MAX_JWT_SETTING_CHARS {
            problems.push(format!(
                "k8s-host: at most {MAX_JWT_SETTING_CHARS} characters"
            ));
        }
        if self
            .issuer
            .as_deref()
            .is_some_and(|i| i.chars().count() > MAX_JWT_SETTING_CHARS)
        {
            problems.push(format!(
                "k8s-issuer: at most {MAX_JWT_SETTING_CHARS} characters"
            ));
        }
        if self
            .ca_cert
            .as_deref()
            .is_some_and(|c| c.len() > MAX_K8S_CA_BYTES)
        {
            problems.push(format!("k8s-ca-cert: at most {MAX_K8S_CA_BYTES} bytes"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// An AWS IAM auth method's settings: which AWS principals may log in. None is secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsIamSettings {
    /// The accounts callers must belong to (at least one).
    pub bound_account_ids: Vec<String>,
    /// Globs the caller's ARN must match (`arn:aws:sts::123456789012:assumed-role/ci-*/*`).
    pub bound_arns: Vec<String>,
    /// The role inside an assumed-role ARN; the user of a user ARN.
    pub bound_role_names: Vec<String>,
    pub bound_user_names: Vec<String>,
    /// Unique ids (`AROA...`, `AIDA...`): survive a role or user being deleted and re-created
    /// under the same name.
    pub bound_role_ids: Vec<String>,
    pub bound_user_ids: Vec<String>,
    /// Where cloud-ids are sent: an origin checked against the outbound URL policy.
    pub sts_url: String,
    pub force_sub_claims: bool,
    pub token_ttl_minutes: Option<u32>,
    pub access_expires: Option<i64>,
}

/// AWS's global STS endpoint, where cloud-ids go unless a method says otherwise.
pub const DEFAULT_STS_URL: &str = "https://sts.amazonaws.com";

impl AwsIamSettings {
    /// Checks the bindings (the sts-url is checked against the policy by the core).
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.bound_account_ids.is_empty() {
            problems.push("bound-aws-account-id: required: the AWS account ids (12 digits) whose principals may log in".into());
        }
        for id in &self.bound_account_ids {
            if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
                problems.push(format!(
                    "bound-aws-account-id: {id:?} is not a 12-digit AWS account id"
                ));
            }
        }
        for (field, list) in [
            ("bound-arn", &self.bound_arns),
            ("bound-role-name", &self.bound_role_names),
            ("bound-user-name", &self.bound_user_names),
            ("bound-role-id", &self.bound_role_ids),
            ("bound-user-id", &self.bound_user_ids),
            ("bound-aws-account-id", &self.bound_account_ids),
        ] {
            if list.len() > MAX_JWT_LIST_ITEMS {
                problems.push(format!("{field}: at most {MAX_JWT_LIST_ITEMS} values"));
            }
            if list
                .iter()
                .any(|s| s.chars().count() > MAX_JWT_SETTING_CHARS)
            {
                problems.push(format!(
                    "{field}: each value at most {MAX_JWT_SETTING_CHARS} characters"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> JwtSettings {
        JwtSettings {
            jwks: JwksSource::Uri("https://issuer.example/jwks".into()),
            issuer: Some("https://issuer.example".into()),
            audiences: vec!["mayfly".into()],
            unique_identifier: "sub".into(),
            bound_client_ids: vec![],
            bound_claims: SubClaims::default(),
            force_sub_claims: true,
            token_ttl_minutes: None,
            access_expires: None,
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            AuthMethodKind::ApiKey,
            AuthMethodKind::OAuth2,
            AuthMethodKind::K8s,
        ] {
            assert_eq!(AuthMethodKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AuthMethodKind::parse("password"), None);
        assert!(AuthMethodKind::OAuth2.access_types().contains(&"jwt"));
    }

    #[test]
    fn check_names_each_problem() {
        assert!(settings().check().is_ok());
        let mut s = settings();
        s.unique_identifier = " ".into();
        s.audiences = vec!["x".repeat(600)];
        let problems = s.check().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("unique-identifier"));
        assert!(problems[1].starts_with("audience"));
    }

    #[test]
    fn settings_are_stored_as_json() {
        let s = settings();
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains("\"uri\""), "{text}");
        assert_eq!(serde_json::from_str::<JwtSettings>(&text).unwrap(), s);
    }
}
