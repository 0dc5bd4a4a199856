//! Kubernetes auth configs (`gateway-create-k8s-auth-config` ...): the cluster side of a
//! Kubernetes auth method, so its logins can be verified online by the cluster's TokenReview
//! API (or offline with a cluster JWKS kept on the config).
//!
//! A config belongs to one auth method and is authorized on that method's name: `update` on
//! the method to create, change or delete its configs, `read` to see them. Moving a config to
//! another method needs `update` on both. The token reviewer JWT is sealed (bound to the row
//! id), never shown, and never sent anywhere but the host it was given for: changing a
//! config's `k8s-host` or CA while it keeps a reviewer JWT requires giving the JWT again, so a
//! key that may edit configs cannot redirect a stored credential to a server it controls.

use mayfly_domain::{AuthMethodKind, K8sClusterSettings};
use mayfly_identity::{jwt, k8s::check_ca_pem, KeySet};
use mayfly_store::{
    auth as auth_store,
    entity::{auth_method, k8s_auth_config},
    k8s_configs::{self as store, K8sConfigRow},
    now_millis, Millis,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    access::{authorize, Caller, Capability, ResourceKind},
    auth_methods::kind_of,
    error::{AppError, AppResult},
    state::AppState,
};

/// The longest config name.
pub const MAX_CONFIG_NAME_CHARS: usize = 128;

/// The associated data a config's reviewer JWT is sealed with: bound to the row, so a sealed
/// value copied into another row does not open.
pub fn aad(id: &str) -> Vec<u8> {
    format!("k8s-auth-config:{id}").into_bytes()
}

/// Checks a config name: 1 to 128 letters, digits and `-_./`.
pub fn check_name(field: &str, raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(format!(
            "{field}: required: the k8s auth config's name, such as prod-cluster"
        )));
    }
    if name.chars().count() > MAX_CONFIG_NAME_CHARS
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(AppError::invalid(format!(
            "{field}: {name:?} is not a k8s auth config name: use 1 to {MAX_CONFIG_NAME_CHARS} letters, digits and - _ . /"
        )));
    }
    Ok(name.to_owned())
}

/// A config to create, checked by the front door.
#[derive(Debug)]
pub struct NewK8sConfig {
    pub name: String,
    /// The Kubernetes auth method's access id.
    pub access_id: String,
    pub cluster: K8sClusterSettings,
    /// `None`: each token is reviewed with itself.
    pub reviewer_jwt: Option<SecretString>,
}

/// What an update changes; `None` keeps the stored value.
#[derive(Debug, Default)]
pub struct K8sConfigChanges {
    pub new_name: Option<String>,
    pub access_id: Option<String>,
    pub host: Option<String>,
    pub ca_cert: Option<String>,
    pub issuer: Option<String>,
    pub disable_issuer_validation: Option<bool>,
    pub jwks: Option<String>,
    pub reviewer_jwt: Option<SecretString>,
}

/// A config as shown: never the reviewer JWT, only whether there is one.
#[derive(Debug, Clone)]
pub struct K8sConfigView {
    pub id: String,
    pub name: String,
    pub access_id: String,
    pub auth_method_name: String,
    pub cluster: K8sClusterSettings,
    pub has_reviewer_jwt: bool,
    pub created_at: Millis,
    pub modified_at: Millis,
}

/// A config as a login uses it.
pub(crate) struct LoginConfig {
    pub auth_method_id: mayfly_store::AuthMethodId,
    pub cluster: K8sClusterSettings,
    pub reviewer_jwt: Option<SecretString>,
}

fn settings_of(row: &k8s_auth_config::Model) -> AppResult<K8sClusterSettings> {
    serde_json::from_str(&row.settings).map_err(|e| {
        AppError::internal(format!(
            "k8s auth config {} has unreadable settings: {e}",
            row.name
        ))
    })
}

fn open_reviewer_jwt(
    state: &AppState,
    row: &k8s_auth_config::Model,
) -> AppResult<Option<SecretString>> {
    if row.sealed_reviewer_jwt.is_empty() {
        return Ok(None);
    }
    let plain = state
        .keys()
        .open(&row.sealed_reviewer_jwt, &aad(&row.id))
        .map_err(|e| {
            AppError::internal(format!(
                "cannot open the token reviewer JWT of k8s auth config {}: {e}",
                row.name
            ))
        })?;
    let text = String::from_utf8(plain).map_err(|_| {
        AppError::internal(format!(
            "the token reviewer JWT of k8s auth config {} is not text",
            row.name
        ))
    })?;
    Ok(Some(SecretString::from(text)))
}

/// The Kubernetes auth method an access id names, or 404 / 400.
async fn k8s_method(state: &AppState, access_id: &str) -> AppResult<auth_method::Model> {
    let method = auth_store::find_auth_method_by_access_id(state.db(), access_id.trim())
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!(
                "access-id: no auth method has the access id {access_id:?}; create-auth-method-k8s returns it"
            ))
        })?;
    if kind_of(&method)? != AuthMethodKind::K8s {
        return Err(AppError::invalid(format!(
            "access-id: {access_id:?} is a {} auth method; a k8s auth config belongs to a Kubernetes auth method (create-auth-method-k8s)",
            method.method_type
        )));
    }
    Ok(method)
}

async fn method_by_id(
    state: &AppState,
    id: &mayfly_store::AuthMethodId,
) -> AppResult<auth_method::Model> {
    mayfly_store::access::find_auth_method_by_id(state.db(), id)
        .await?
        .ok_or_else(|| AppError::internal("a k8s auth config's auth method is gone"))
}

fn can(caller: &Caller, capability: Capability, method: &auth_method::Model) -> AppResult<()> {
    authorize(caller, capability, ResourceKind::AuthMethod, &method.name)
}

/// Checks everything about a config that needs no network: names, lengths, the host against
/// the outbound policy (returned canonical), the CA bundle, the JWKS, the reviewer JWT's form.
fn check_cluster(
    state: &AppState,
    cluster: &mut K8sClusterSettings,
    reviewer_jwt: Option<&SecretString>,
) -> AppResult<()> {
    cluster
        .check()
        .map_err(|problems| AppError::invalid(problems.join("; ")))?;
    cluster.host = state
        .token_reviewer()
        .check_host(&cluster.host)
        .map_err(AppError::invalid)?;
    if let Some(pem) = &cluster.ca_cert {
        check_ca_pem(pem).map_err(AppError::invalid)?;
    }
    if let Some(jwks) = &cluster.jwks {
        KeySet::parse(jwks).map_err(|why| AppError::invalid(format!("jwks-json-data: {why}")))?;
    }
    if let Some(reviewer) = reviewer_jwt {
        jwt::header(reviewer.expose_secret()).map_err(|_| {
            AppError::invalid(
                "token-reviewer-jwt: not a service-account token (a JWT: header.payload.signature)",
            )
        })?;
    }
    Ok(())
}

fn seal_reviewer(state: &AppState, id: &str, jwt: Option<&SecretString>) -> String {
    jwt.map_or_else(String::new, |j| {
        state.keys().seal(j.expose_secret().as_bytes(), &aad(id))
    })
}

fn serialize(cluster: &K8sClusterSettings) -> AppResult<String> {
    serde_json::to_string(cluster)
        .map_err(|e| AppError::internal(format!("cannot serialize k8s auth config: {e}")))
}

/// Creates a config for the Kubernetes auth method `new.access_id` names (`update` on it).
pub async fn create(state: &AppState, caller: &Caller, mut new: NewK8sConfig) -> AppResult<()> {
    let method = k8s_method(state, &new.access_id).await?;
    can(caller, Capability::Update, &method)?;
    check_cluster(state, &mut new.cluster, new.reviewer_jwt.as_ref())?;
    let id = uuid::Uuid::new_v4().to_string();
    let sealed = seal_reviewer(state, &id, new.reviewer_jwt.as_ref());
    store::insert(
        state.db(),
        K8sConfigRow {
            id,
            name: new.name.clone(),
            auth_method_id: method.id,
            settings: serialize(&new.cluster)?,
            sealed_reviewer_jwt: sealed,
        },
        now_millis(),
    )
    .await?;
    tracing::info!(k8s_auth_config = %new.name, auth_method = %method.name, host = %new.cluster.host, "k8s auth config created");
    Ok(())
}

/// The config named `name` with its method, when the caller may use `capability` on that
/// method. A config the caller may not see is reported exactly as a missing one, so names
/// cannot be probed.
async fn find_for(
    state: &AppState,
    caller: &Caller,
    capability: Capability,
    name: &str,
) -> AppResult<(k8s_auth_config::Model, auth_method::Model)> {
    let missing = || {
        AppError::not_found(format!(
            "no k8s auth config named {name} that you may see; get-auth-method on its Kubernetes auth method lists them"
        ))
    };
    let row = store::find_by_name(state.db(), name)
        .await?
        .ok_or_else(missing)?;
    let method = method_by_id(state, &row.auth_method_id).await?;
    if can(caller, Capability::Read, &method).is_err() {
        return Err(missing());
    }
    can(caller, capability, &method)?;
    Ok((row, method))
}

fn view_of(row: k8s_auth_config::Model, method: &auth_method::Model) -> AppResult<K8sConfigView> {
    Ok(K8sConfigView {
        cluster: settings_of(&row)?,
        has_reviewer_jwt: !row.sealed_reviewer_jwt.is_empty(),
        id: row.id,
        name: row.name,
        access_id: method.access_id.clone(),
        auth_method_name: method.name.clone(),
        created_at: row.created_at,
        modified_at: row.modified_at,
    })
}

/// One config (`read` on its auth method).
pub async fn get(state: &AppState, caller: &Caller, name: &str) -> AppResult<K8sConfigView> {
    let (row, method) = find_for(state, caller, Capability::Read, name).await?;
    view_of(row, &method)
}

/// Changes a config (`update` on its auth method, and on the new one when it moves). Returns
/// what changed, for the audit record.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    name: &str,
    changes: K8sConfigChanges,
) -> AppResult<String> {
    let (row, method) = find_for(state, caller, Capability::Update, name).await?;
    let mut changed = Vec::new();
    let target_method = match changes.access_id.as_deref() {
        Some(access_id) if access_id.trim() != method.access_id => {
            let other = k8s_method(state, access_id).await?;
            can(caller, Capability::Update, &other)?;
            changed.push(format!("auth method {}", other.name));
            other
        }
        _ => method,
    };
    let mut cluster = settings_of(&row)?;
    let before = cluster.clone();
    if let Some(host) = changes.host {
        cluster.host = host;
    }
    if let Some(ca) = changes.ca_cert {
        cluster.ca_cert = Some(ca);
    }
    if let Some(issuer) = changes.issuer {
        cluster.issuer = Some(issuer);
    }
    if let Some(off) = changes.disable_issuer_validation {
        cluster.disable_issuer_validation = off;
    }
    if let Some(jwks) = changes.jwks {
        cluster.jwks = Some(jwks);
    }
    check_cluster(state, &mut cluster, changes.reviewer_jwt.as_ref())?;
    let moved = cluster.host != before.host || cluster.ca_cert != before.ca_cert;
    if moved && !row.sealed_reviewer_jwt.is_empty() && changes.reviewer_jwt.is_none() {
        return Err(AppError::invalid(
            "token-reviewer-jwt: required when k8s-host or k8s-ca-cert changes: the stored reviewer JWT is only ever sent to the server it was given for; give it again (or the new cluster's)",
        ));
    }
    for (field, differs) in [
        ("k8s-host", cluster.host != before.host),
        ("k8s-ca-cert", cluster.ca_cert != before.ca_cert),
        ("k8s-issuer", cluster.issuer != before.issuer),
        (
            "disable-issuer-validation",
            cluster.disable_issuer_validation != before.disable_issuer_validation,
        ),
        ("jwks-json-data", cluster.jwks != before.jwks),
    ] {
        if differs {
            changed.push(field.to_owned());
        }
    }
    let sealed = match &changes.reviewer_jwt {
        Some(jwt) => {
            changed.push("token-reviewer-jwt".to_owned());
            seal_reviewer(state, &row.id, Some(jwt))
        }
        None => row.sealed_reviewer_jwt.clone(),
    };
    let new_name = match changes.new_name {
        Some(n) if n != row.name => {
            changed.push(format!("renamed to {n}"));
            n
        }
        _ => row.name.clone(),
    };
    let written = store::update_if_unchanged(
        state.db(),
        row.version,
        K8sConfigRow {
            id: row.id.clone(),
            name: new_name,
            auth_method_id: target_method.id.clone(),
            settings: serialize(&cluster)?,
            sealed_reviewer_jwt: sealed,
        },
        now_millis(),
    )
    .await?;
    if !written {
        return Err(AppError::conflict(format!(
            "k8s auth config {name} changed while being updated; read it again and retry"
        )));
    }
    Ok(if changed.is_empty() {
        "no change".to_owned()
    } else {
        changed.join(", ")
    })
}

/// Deletes a config (`update` on its auth method): logins naming it fail (or use the
/// method's own keys, if it has them).
pub async fn delete(state: &AppState, caller: &Caller, name: &str) -> AppResult<()> {
    let (row, _) = find_for(state, caller, Capability::Update, name).await?;
    store::delete(state.db(), &row.id).await?;
    Ok(())
}

/// The config a login names, unauthorized (the login proves itself by the token).
pub(crate) async fn for_login(state: &AppState, name: &str) -> AppResult<Option<LoginConfig>> {
    let Some(row) = store::find_by_name(state.db(), name.trim()).await? else {
        return Ok(None);
    };
    Ok(Some(LoginConfig {
        cluster: settings_of(&row)?,
        reviewer_jwt: open_reviewer_jwt(state, &row)?,
        auth_method_id: row.auth_method_id,
    }))
}
