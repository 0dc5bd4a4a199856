//! Kubernetes auth configs (`gateway-create-k8s-auth-config` and its siblings): the cluster
//! side of a Kubernetes auth method, with the Akeyless field names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{lenient, request::Secret};

/// `gateway-create-k8s-auth-config`; `gateway-update-k8s-auth-config` adds `new-name`.
/// On update, a field left out keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = k8s_auth_config::K8sAuthConfigInput)]
pub struct K8sAuthConfigInput {
    /// The config's name, which logins give as `k8s-auth-config-name`.
    pub name: Option<String>,
    /// Update only: the config's new name.
    #[serde(rename = "new-name")]
    pub new_name: Option<String>,
    /// The access id of the Kubernetes auth method the config belongs to.
    #[serde(rename = "access-id")]
    pub access_id: Option<String>,
    /// The API server's origin, such as `https://10.0.0.1:6443`.
    #[serde(rename = "k8s-host")]
    pub k8s_host: Option<String>,
    /// The CA certificates (PEM, base64-encoded or as is) the API server's certificate chains to.
    #[serde(rename = "k8s-ca-cert")]
    pub k8s_ca_cert: Option<String>,
    /// A service-account token allowed to create TokenReviews (`system:auth-delegator`);
    /// without it each login's token reviews itself. Sealed; never shown.
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "token-reviewer-jwt")]
    pub token_reviewer_jwt: Option<Secret>,
    #[serde(rename = "k8s-issuer")]
    pub k8s_issuer: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(
        rename = "disable-issuer-validation",
        deserialize_with = "lenient::opt_bool"
    )]
    pub disable_issuer_validation: Option<bool>,
    /// Mayfly extension: the cluster's JWKS (base64); tokens are then verified offline and
    /// the API server is not called.
    #[serde(rename = "jwks-json-data")]
    pub jwks_json_data: Option<String>,
    /// Accepted for the SDK, which requires it; Mayfly signs nothing with it and does not keep it.
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "signing-key")]
    pub signing_key: Option<Secret>,
    /// Accepted for the SDK; the lifetime of Mayfly tokens is the auth method's `jwt-ttl`.
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "token-exp", deserialize_with = "lenient::opt_i64")]
    pub token_exp: Option<i64>,
    /// Only `native_k8s`.
    #[serde(rename = "cluster-api-type")]
    pub cluster_api_type: Option<String>,
    /// Only `token`.
    #[serde(rename = "k8s-auth-type")]
    pub k8s_auth_type: Option<String>,
    /// Not supported (client-certificate access to the API server); refused when given.
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "k8s-client-key")]
    pub k8s_client_key: Option<Secret>,
    #[serde(rename = "k8s-client-certificate")]
    pub k8s_client_certificate: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(
        rename = "use-gw-service-account",
        deserialize_with = "lenient::opt_bool"
    )]
    pub use_gw_service_account: Option<bool>,
    #[serde(rename = "rancher-api-key")]
    #[schema(schema_with = lenient::opt_secret_schema)]
    pub rancher_api_key: Option<Secret>,
    #[serde(rename = "rancher-cluster-id")]
    pub rancher_cluster_id: Option<String>,
}

/// `gateway-create-k8s-auth-config`, `-update-`, `-delete-`: the config's name and the
/// gateway cluster that holds it (Akeyless' `cluster_id`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = k8s_auth_config::K8sAuthConfigOutput)]
pub struct K8sAuthConfigOutput {
    pub name: String,
    pub cluster_id: String,
}

/// `gateway-get-k8s-auth-config`: the config without its token reviewer JWT.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = k8s_auth_config::K8sAuthConfig)]
pub struct K8sAuthConfig {
    pub id: String,
    pub name: String,
    pub auth_method_access_id: String,
    /// Mayfly extension: the auth method's name.
    pub auth_method_name: String,
    pub k8s_host: String,
    /// PEM; empty: the system's roots.
    pub k8s_ca_cert: String,
    pub k8s_issuer: String,
    pub disable_iss_validation: bool,
    pub cluster_api_type: String,
    pub k8s_auth_type: String,
    /// Mayfly extension: whether a token reviewer JWT is stored (it is never shown).
    pub token_reviewer_jwt_set: bool,
    /// Mayfly extension: base64 of the cluster JWKS, when tokens are verified offline.
    pub jwks_json_data: String,
    pub creation_date: String,
    pub modification_date: String,
}
