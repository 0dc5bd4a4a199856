//! Auth methods (API keys and workload identities): creating, reading, listing, deleting, replacing a key and
//! changing settings, each authorized on the method's name.
//!
//! A new or replaced access key is returned once, as a secret, and stored only as a hash.

use mayfly_crypto::{generate_access_id, generate_access_key, hash_secret};
use mayfly_domain::{
    AuthMethodKind, AwsIamSettings, AwsService, ItemName, JwksSource, JwtSettings, K8sSettings,
    SubClaims,
};
use mayfly_identity::{JwksError, KeySet};
use mayfly_store::{
    access,
    auth::{self, NewAuthMethod},
    entity::auth_method,
    now_millis, StoreError,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    access::{authorize, listed, Caller, Capability, ResourceKind},
    error::{AppError, AppResult},
    state::AppState,
};

/// A new API-key auth method, checked by the front door.
#[derive(Debug)]
pub struct NewApiKey {
    pub name: ItemName,
    pub description: String,
    pub delete_protection: bool,
}

/// A created API key: the secret half is shown once.
pub struct CreatedApiKey {
    pub name: ItemName,
    pub access_id: String,
    pub access_key: SecretString,
}

/// A new auth method that holds no secret, checked by the front door: its name and common
/// settings, and `S`, what its kind verifies logins with.
#[derive(Debug)]
pub struct NewMethod<S> {
    pub name: ItemName,
    pub description: String,
    pub delete_protection: bool,
    pub settings: S,
}

/// A new JWT (OAuth2/OIDC) auth method.
pub type NewJwtMethod = NewMethod<JwtSettings>;
/// A new Kubernetes auth method.
pub type NewK8sMethod = NewMethod<K8sSettings>;
/// A new AWS IAM auth method.
pub type NewAwsIamMethod = NewMethod<AwsIamSettings>;

/// A role an auth method holds, through one association.
#[derive(Debug, Clone)]
pub struct HeldRole {
    pub assoc_id: String,
    pub role_name: String,
    /// Which of the method's tokens get the role (empty: all).
    pub sub_claims: SubClaims,
}

/// An auth method with the roles it holds.
#[derive(Debug)]
pub struct AuthMethodView {
    pub method: auth_method::Model,
    pub kind: AuthMethodKind,
    /// A JWT method's settings.
    pub jwt: Option<JwtSettings>,
    /// A Kubernetes method's settings.
    pub k8s: Option<K8sSettings>,
    /// An AWS IAM method's settings.
    pub aws_iam: Option<AwsIamSettings>,
    /// A Kubernetes method's k8s auth configs, by name.
    pub k8s_configs: Vec<String>,
    pub roles: Vec<HeldRole>,
}

/// The kind of a stored method; an unknown kind (written by a newer gateway) is an error
/// rather than a guess.
pub(crate) fn kind_of(method: &auth_method::Model) -> AppResult<AuthMethodKind> {
    AuthMethodKind::parse(&method.method_type).ok_or_else(|| {
        AppError::internal(format!(
            "auth method {} has unknown type {:?}",
            method.name, method.method_type
        ))
    })
}

/// A stored method's settings (`JwtSettings` or `K8sSettings`, by its kind).
fn settings_of<T: serde::de::DeserializeOwned>(method: &auth_method::Model) -> AppResult<T> {
    serde_json::from_str(&method.settings).map_err(|e| {
        AppError::internal(format!(
            "auth method {} has unreadable settings: {e}",
            method.name
        ))
    })
}

/// A stored JWT method's settings.
pub(crate) fn jwt_settings_of(method: &auth_method::Model) -> AppResult<JwtSettings> {
    settings_of(method)
}

/// A stored Kubernetes method's settings.
pub(crate) fn k8s_settings_of(method: &auth_method::Model) -> AppResult<K8sSettings> {
    settings_of(method)
}

/// A stored AWS IAM method's settings.
pub(crate) fn aws_iam_settings_of(method: &auth_method::Model) -> AppResult<AwsIamSettings> {
    settings_of(method)
}

/// Whether every association of the method must name sub-claims.
pub(crate) fn forces_sub_claims(method: &auth_method::Model) -> AppResult<bool> {
    Ok(match kind_of(method)? {
        AuthMethodKind::ApiKey => false,
        AuthMethodKind::OAuth2 => jwt_settings_of(method)?.force_sub_claims,
        AuthMethodKind::K8s => k8s_settings_of(method)?.force_sub_claims,
        AuthMethodKind::AwsIam => aws_iam_settings_of(method)?.force_sub_claims,
    })
}

/// A stored association's claim rules.
pub(crate) fn sub_claims_of(
    association: &mayfly_store::entity::role_assoc::Model,
) -> AppResult<SubClaims> {
    if association.sub_claims.is_empty() {
        return Ok(SubClaims::default());
    }
    let claims = serde_json::from_str(&association.sub_claims).map_err(|e| {
        AppError::internal(format!(
            "association {} has unreadable sub-claims: {e}",
            association.id
        ))
    })?;
    Ok(SubClaims {
        claims,
        case_sensitive: association.case_sensitive,
    })
}

/// What `update` may change; `None` leaves a setting as it is.
#[derive(Debug, Default)]
pub struct AuthMethodChanges {
    pub description: Option<String>,
    pub delete_protection: Option<bool>,
}

fn can(caller: &Caller, capability: Capability, name: &ItemName) -> AppResult<()> {
    authorize(caller, capability, ResourceKind::AuthMethod, name.as_str())
}

/// The auth method named `name`, or 404. Callers authorize first.
pub(crate) async fn find(state: &AppState, name: &ItemName) -> AppResult<auth_method::Model> {
    access::find_auth_method(state.db(), name.as_str())
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!(
                "no auth method named {name}; list-auth-methods shows them"
            ))
        })
}

async fn view(state: &AppState, method: auth_method::Model) -> AppResult<AuthMethodView> {
    let mut roles = Vec::new();
    for a in access::associations_of_auth_method(state.db(), &method.id).await? {
        if let Some(r) = access::find_role_by_id(state.db(), &a.role_id).await? {
            roles.push(HeldRole {
                sub_claims: sub_claims_of(&a)?,
                assoc_id: a.id,
                role_name: r.name,
            });
        }
    }
    let kind = kind_of(&method)?;
    let (mut jwt, mut k8s, mut aws_iam, mut k8s_configs) = (None, None, None, Vec::new());
    match kind {
        AuthMethodKind::OAuth2 => jwt = Some(jwt_settings_of(&method)?),
        AuthMethodKind::K8s => {
            k8s = Some(k8s_settings_of(&method)?);
            k8s_configs = mayfly_store::k8s_configs::of_auth_method(state.db(), &method.id)
                .await?
                .into_iter()
                .map(|c| c.name)
                .collect();
        }
        AuthMethodKind::AwsIam => aws_iam = Some(aws_iam_settings_of(&method)?),
        AuthMethodKind::ApiKey => {}
    }
    Ok(AuthMethodView {
        method,
        kind,
        jwt,
        k8s,
        aws_iam,
        k8s_configs,
        roles,
    })
}

/// Creates an API key (`create` on its name).
pub async fn create(state: &AppState, caller: &Caller, new: NewApiKey) -> AppResult<CreatedApiKey> {
    can(caller, Capability::Create, &new.name)?;
    let access_id = generate_access_id();
    let access_key = generate_access_key();
    auth::insert_auth_method(
        state.db(),
        NewAuthMethod {
            name: new.name.as_str().to_owned(),
            access_id: access_id.clone(),
            kind: AuthMethodKind::ApiKey.as_str().to_owned(),
            key_hash: hash_secret(access_key.expose_secret()),
            settings: String::new(),
            description: new.description,
            delete_protection: new.delete_protection,
        },
        now_millis(),
    )
    .await?;
    Ok(CreatedApiKey {
        name: new.name,
        access_id,
        access_key,
    })
}

/// The settings of an auth method that holds no secret, as stored: which kind they are,
/// whether its associations must name sub-claims, and the checks they pass before being
/// stored (at creation and at every update).
pub trait SecretlessSettings: serde::Serialize + serde::de::DeserializeOwned {
    const KIND: AuthMethodKind;
    fn force_sub_claims(&self) -> bool;
    /// Checks the settings, making canonical what has a canonical form.
    fn check(
        &mut self,
        state: &AppState,
    ) -> impl std::future::Future<Output = AppResult<()>> + Send;
}

fn problems(result: Result<(), Vec<String>>) -> AppResult<()> {
    result.map_err(|problems| AppError::invalid(problems.join("; ")))
}

impl SecretlessSettings for JwtSettings {
    const KIND: AuthMethodKind = AuthMethodKind::OAuth2;
    fn force_sub_claims(&self) -> bool {
        self.force_sub_claims
    }
    /// The checks that need no network; then usable inline keys, or a JWKS URL the outbound
    /// policy allows that answers with keys (a typo fails here, not at the first login).
    async fn check(&mut self, state: &AppState) -> AppResult<()> {
        problems(JwtSettings::check(self))?;
        match &self.jwks {
            JwksSource::Inline(json) => {
                KeySet::parse(json)
                    .map_err(|why| AppError::invalid(format!("jwks-json-data: {why}")))?;
            }
            JwksSource::Uri(uri) => {
                state.jwks().probe(uri).await.map_err(|e| match e {
                    JwksError::Refused(why) => AppError::invalid(why),
                    JwksError::Unavailable(why) => AppError::invalid(format!(
                        "jwks-uri: {why}; check the URL, or give the keys inline with jwks-json-data"
                    )),
                })?;
            }
        }
        Ok(())
    }
}

impl SecretlessSettings for K8sSettings {
    const KIND: AuthMethodKind = AuthMethodKind::K8s;
    fn force_sub_claims(&self) -> bool {
        self.force_sub_claims
    }
    /// Usable keys when given; without them logins go through a k8s auth config.
    async fn check(&mut self, _: &AppState) -> AppResult<()> {
        problems(K8sSettings::check(self))?;
        if let Some(jwks) = &self.jwks {
            KeySet::parse(jwks)
                .map_err(|why| AppError::invalid(format!("jwks-json-data: {why}")))?;
        }
        Ok(())
    }
}

impl SecretlessSettings for AwsIamSettings {
    const KIND: AuthMethodKind = AuthMethodKind::AwsIam;
    fn force_sub_claims(&self) -> bool {
        self.force_sub_claims
    }
    /// The bindings; the sts-url must be AWS's own STS endpoint or an origin the operator
    /// allows, and is stored in canonical form.
    async fn check(&mut self, state: &AppState) -> AppResult<()> {
        problems(AwsIamSettings::check(self))?;
        self.sts_url = state
            .outbound()
            .check_aws_endpoint(AwsService::Sts, &self.sts_url)
            .map_err(|why| AppError::invalid(format!("sts-url: {why}")))?;
        Ok(())
    }
}

fn to_json(settings: &impl serde::Serialize) -> AppResult<String> {
    serde_json::to_string(settings)
        .map_err(|e| AppError::internal(format!("cannot serialize auth method settings: {e}")))
}

/// Creates an auth method that holds no secret (JWT, Kubernetes, AWS IAM; `create` on its
/// name), its settings checked first. Returns the access id logins name.
pub async fn create_secretless<S: SecretlessSettings>(
    state: &AppState,
    caller: &Caller,
    mut new: NewMethod<S>,
) -> AppResult<String> {
    can(caller, Capability::Create, &new.name)?;
    new.settings.check(state).await?;
    insert_method(
        state,
        &new.name,
        S::KIND,
        to_json(&new.settings)?,
        new.description,
        new.delete_protection,
    )
    .await
}

async fn insert_method(
    state: &AppState,
    name: &ItemName,
    kind: AuthMethodKind,
    settings: String,
    description: String,
    delete_protection: bool,
) -> AppResult<String> {
    let access_id = generate_access_id();
    auth::insert_auth_method(
        state.db(),
        NewAuthMethod {
            name: name.as_str().to_owned(),
            access_id: access_id.clone(),
            kind: kind.as_str().to_owned(),
            key_hash: String::new(),
            settings,
            description,
            delete_protection,
        },
        now_millis(),
    )
    .await?;
    tracing::info!(auth_method = %name, access_id = %access_id, kind = kind.as_str(), "auth method created");
    Ok(access_id)
}

/// One auth method (`read`).
pub async fn get(state: &AppState, caller: &Caller, name: &ItemName) -> AppResult<AuthMethodView> {
    can(caller, Capability::Read, name)?;
    let method = find(state, name).await?;
    view(state, method).await
}

/// The auth methods the caller may `list`, whose names contain `filter` (lower-case).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: Option<&str>,
) -> AppResult<Vec<AuthMethodView>> {
    let mut out = Vec::new();
    for m in access::list_auth_methods(state.db()).await? {
        if listed(caller, ResourceKind::AuthMethod, filter, &m.name) {
            out.push(view(state, m).await?);
        }
    }
    Ok(out)
}

/// Deletes an auth method (`delete`); its tokens stop working at once (they go with it).
/// Refused with delete protection, and for the method of the caller's own token.
pub async fn delete(state: &AppState, caller: &Caller, name: &ItemName) -> AppResult<()> {
    can(caller, Capability::Delete, name)?;
    let m = find(state, name).await?;
    if m.delete_protection {
        return Err(AppError::conflict(format!(
            "auth method {name} has delete protection"
        )));
    }
    if m.id == caller.auth_method_id {
        return Err(AppError::conflict(format!(
            "{name} is the auth method of your own token; delete it with another administrator's token"
        )));
    }
    access::delete_auth_method(state.db(), &m.id).await?;
    Ok(())
}

/// Gives an auth method a new access key (`update`), returned once, and how many tokens were
/// revoked. The key hash is replaced and all the method's tokens are deleted in one
/// transaction: the old key and its tokens stop working together (other gateways: once their
/// caches expire).
pub async fn reset_key(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
) -> AppResult<(SecretString, u64)> {
    can(caller, Capability::Update, name)?;
    let m = find(state, name).await?;
    // A JWT method has no key: giving it one would let whoever holds `update` on it log in
    // with a secret instead of the identity the method was made to trust.
    if kind_of(&m)? != AuthMethodKind::ApiKey {
        return Err(AppError::invalid(format!(
            "auth method {name} is a {} method and has no access key to reset",
            m.method_type
        )));
    }
    let access_key = generate_access_key();
    let txn = mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?;
    let revoked = auth::replace_key(&txn, &m.id, &hash_secret(access_key.expose_secret())).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok((access_key, revoked))
}

/// Sets or lifts delete protection and changes the description (`update`). Returns what
/// changed, for the audit record.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
    changes: AuthMethodChanges,
) -> AppResult<String> {
    can(caller, Capability::Update, name)?;
    let m = find(state, name).await?;
    // The settings stay as they are (and so does force-sub-claims).
    let (settings, force) = (m.settings.clone(), forces_sub_claims(&m)?);
    store_settings(state, &m, settings, force, changes).await
}

/// The method `name` for an update of its `kind` settings (`update` on it), or why not.
async fn for_settings_update(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
    kind: AuthMethodKind,
) -> AppResult<auth_method::Model> {
    can(caller, Capability::Update, name)?;
    let m = find(state, name).await?;
    let stored = kind_of(&m)?;
    if stored != kind {
        return Err(AppError::invalid(format!(
            "auth method {name} is a {} method; update it with the operation of its kind",
            stored.as_str()
        )));
    }
    Ok(m)
}

/// Stores new settings with the common changes, in one transaction. Turning force-sub-claims
/// on is refused while an association of the method names no sub-claims (it would hold for
/// every token the issuer signs). Tokens already issued keep their session; associations
/// apply to them as they change.
async fn store_settings(
    state: &AppState,
    m: &auth_method::Model,
    settings: String,
    force_sub_claims: bool,
    changes: AuthMethodChanges,
) -> AppResult<String> {
    if force_sub_claims && !forces_sub_claims(m)? {
        let mut open = Vec::new();
        for a in access::associations_of_auth_method(state.db(), &m.id).await? {
            if sub_claims_of(&a)?.is_empty() {
                open.push(a.id);
            }
        }
        if !open.is_empty() {
            return Err(AppError::conflict(format!(
                "force-sub-claims: the associations {} of auth method {} name no sub-claims; delete them (delete-assoc) or re-create them with sub-claims first",
                open.join(", "),
                m.name
            )));
        }
    }
    let mut changed = Vec::new();
    let txn = mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?;
    if settings != m.settings {
        auth::set_settings(&txn, &m.id, &settings).await?;
        changed.push("settings".to_owned());
    }
    if let Some(on) = changes.delete_protection {
        auth::set_delete_protection(&txn, &m.id, on).await?;
        changed.push(format!("delete_protection={on}"));
    }
    if let Some(d) = changes.description {
        auth::set_description(&txn, &m.id, &d).await?;
        changed.push("description".to_owned());
    }
    txn.commit().await.map_err(StoreError::from)?;
    Ok(if changed.is_empty() {
        "no change".to_owned()
    } else {
        changed.join(", ")
    })
}

/// Changes an auth method that holds no secret (`update`): `apply` turns the stored settings
/// into the new ones, which are checked as at creation. Returns what changed, for the audit
/// record.
pub async fn update_secretless<S: SecretlessSettings>(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
    changes: AuthMethodChanges,
    apply: impl FnOnce(S) -> AppResult<S>,
) -> AppResult<String> {
    let m = for_settings_update(state, caller, name, S::KIND).await?;
    let mut settings = apply(settings_of(&m)?)?;
    settings.check(state).await?;
    let force = settings.force_sub_claims();
    store_settings(state, &m, to_json(&settings)?, force, changes).await
}
