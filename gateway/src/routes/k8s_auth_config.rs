//! Kubernetes auth configs for the Akeyless API (`gateway-create-k8s-auth-config`, `-get-`,
//! `-update-`, `-delete-`): fields checked here, the operations and their authorization in
//! the core's `mayfly_app::k8s_configs`.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use mayfly_api_types::k8s_auth_config as dto;
use mayfly_app::{
    access::Caller,
    k8s_configs::{self, K8sConfigChanges, NewK8sConfig},
    state::AppState,
    time::rfc3339,
};
use mayfly_domain::K8sClusterSettings;
use secrecy::SecretString;

use super::given;
use crate::error::{ApiError, ApiResult};

fn name_of(field: &str, raw: &Option<String>) -> ApiResult<String> {
    Ok(k8s_configs::check_name(
        field,
        raw.as_deref().unwrap_or(""),
    )?)
}

/// Refuses the Akeyless options Mayfly does not implement, naming what to use instead.
fn refuse_unsupported(req: &dto::K8sAuthConfigInput) -> ApiResult<()> {
    if let Some(t) = given(&req.cluster_api_type) {
        if !t.eq_ignore_ascii_case("native_k8s") {
            return Err(ApiError::bad_request(format!(
                "cluster-api-type: {t:?} is not supported; Mayfly reviews tokens with the native Kubernetes API (native_k8s)"
            )));
        }
    }
    if let Some(t) = given(&req.k8s_auth_type) {
        if !t.eq_ignore_ascii_case("token") {
            return Err(ApiError::bad_request(format!(
                "k8s-auth-type: {t:?} is not supported; Mayfly calls the API server with a bearer token (token): give token-reviewer-jwt"
            )));
        }
    }
    if req.k8s_client_key.is_some() || given(&req.k8s_client_certificate).is_some() {
        return Err(ApiError::bad_request(
            "k8s-client-certificate and k8s-client-key: client-certificate access to the API server is not supported; give token-reviewer-jwt",
        ));
    }
    if req.rancher_api_key.is_some() || given(&req.rancher_cluster_id).is_some() {
        return Err(ApiError::bad_request(
            "rancher-api-key and rancher-cluster-id: Rancher is not supported; point k8s-host at the cluster's own API server",
        ));
    }
    if req.use_gw_service_account == Some(true) {
        return Err(ApiError::bad_request(
            "use-gw-service-account: not supported; give token-reviewer-jwt, or leave it out so that each login's token reviews itself",
        ));
    }
    Ok(())
}

/// `k8s-ca-cert`: PEM, base64-encoded (as the Akeyless tools send it) or as is.
fn ca_cert(raw: &Option<String>) -> ApiResult<Option<String>> {
    let Some(text) = given(raw) else {
        return Ok(None);
    };
    if text.contains("-----BEGIN") {
        return Ok(Some(text.to_owned()));
    }
    let compact: String = text.split_whitespace().collect();
    let bytes = BASE64.decode(compact.as_bytes()).map_err(|_| {
        ApiError::bad_request(
            "k8s-ca-cert: neither PEM nor base64 of PEM; give the cluster's CA certificate (the ca.crt of a service account, or certificate-authority-data of a kubeconfig)",
        )
    })?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ApiError::bad_request("k8s-ca-cert: the decoded certificate is not PEM text"))
}

fn jwks(raw: &Option<String>) -> ApiResult<Option<String>> {
    given(raw).map(super::access::decode_jwks).transpose()
}

fn reviewer_jwt(req: &dto::K8sAuthConfigInput) -> Option<SecretString> {
    req.token_reviewer_jwt
        .as_ref()
        .map(|s| s.expose().trim())
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: dto::K8sAuthConfigInput,
) -> ApiResult<dto::K8sAuthConfigOutput> {
    refuse_unsupported(&req)?;
    let name = name_of("name", &req.name)?;
    let access_id = given(&req.access_id)
        .ok_or_else(|| {
            ApiError::bad_request(
                "access-id: required: the access id of the Kubernetes auth method (create-auth-method-k8s returns it)",
            )
        })?
        .to_owned();
    let cluster = K8sClusterSettings {
        host: given(&req.k8s_host).unwrap_or_default().to_owned(),
        ca_cert: ca_cert(&req.k8s_ca_cert)?,
        issuer: given(&req.k8s_issuer).map(str::to_owned),
        disable_issuer_validation: req.disable_issuer_validation.unwrap_or(false),
        jwks: jwks(&req.jwks_json_data)?,
    };
    k8s_configs::create(
        state,
        caller,
        NewK8sConfig {
            name: name.clone(),
            access_id,
            cluster,
            reviewer_jwt: reviewer_jwt(&req),
        },
    )
    .await?;
    Ok(dto::K8sAuthConfigOutput {
        name,
        cluster_id: state.cluster_id().to_owned(),
    })
}

/// Returns the output and what changed, for the audit record.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: dto::K8sAuthConfigInput,
) -> ApiResult<(dto::K8sAuthConfigOutput, String)> {
    refuse_unsupported(&req)?;
    let name = name_of("name", &req.name)?;
    let new_name = match given(&req.new_name) {
        Some(_) => Some(name_of("new-name", &req.new_name)?),
        None => None,
    };
    let changes = K8sConfigChanges {
        access_id: given(&req.access_id).map(str::to_owned),
        host: given(&req.k8s_host).map(str::to_owned),
        ca_cert: ca_cert(&req.k8s_ca_cert)?,
        issuer: given(&req.k8s_issuer).map(str::to_owned),
        disable_issuer_validation: req.disable_issuer_validation,
        jwks: jwks(&req.jwks_json_data)?,
        reviewer_jwt: reviewer_jwt(&req),
        new_name: new_name.clone(),
    };
    let detail = k8s_configs::update(state, caller, &name, changes).await?;
    Ok((
        dto::K8sAuthConfigOutput {
            name: new_name.unwrap_or(name),
            cluster_id: state.cluster_id().to_owned(),
        },
        detail,
    ))
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    req: mayfly_api_types::request::Named,
) -> ApiResult<dto::K8sAuthConfig> {
    let name = name_of("name", &req.name)?;
    Ok(present(k8s_configs::get(state, caller, &name).await?))
}

pub async fn delete(
    state: &AppState,
    caller: &Caller,
    req: mayfly_api_types::request::Named,
) -> ApiResult<dto::K8sAuthConfigOutput> {
    let name = name_of("name", &req.name)?;
    k8s_configs::delete(state, caller, &name).await?;
    Ok(dto::K8sAuthConfigOutput {
        name,
        cluster_id: state.cluster_id().to_owned(),
    })
}

/// A config as `gateway-get-k8s-auth-config` and `get-auth-method` show it.
pub fn present(v: k8s_configs::K8sConfigView) -> dto::K8sAuthConfig {
    dto::K8sAuthConfig {
        id: v.id,
        name: v.name,
        auth_method_access_id: v.access_id,
        auth_method_name: v.auth_method_name,
        k8s_host: v.cluster.host,
        k8s_ca_cert: v.cluster.ca_cert.unwrap_or_default(),
        k8s_issuer: v.cluster.issuer.unwrap_or_default(),
        disable_iss_validation: v.cluster.disable_issuer_validation,
        cluster_api_type: "native_k8s".into(),
        k8s_auth_type: "token".into(),
        token_reviewer_jwt_set: v.has_reviewer_jwt,
        jwks_json_data: v.cluster.jwks.map(|j| BASE64.encode(j)).unwrap_or_default(),
        creation_date: rfc3339(v.created_at),
        modification_date: rfc3339(v.modified_at),
    }
}
