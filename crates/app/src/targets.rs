//! Targets: their operations (create, update, read, read the secret, list, delete), their
//! credentials, sealed at rest under the master key with associated data that binds them to
//! their row, and lookups by name.

use mayfly_aws::{BaseCredentials, ConnectionSpec, RoleToAssume};
use mayfly_domain::{
    target_access::render_session_name, CredentialSource, ItemName, RoleChain, TargetAccess,
};
use mayfly_store::{
    entity::{producer, target},
    now_millis, targets, StoreError, TargetId,
};
use sea_orm::ConnectionTrait;

use secrecy::{ExposeSecret, SecretString};

use crate::{
    access::{authorize, listed, Caller, Capability, ResourceKind},
    error::{AppError, AppResult},
    state::AppState,
};

/// The AWS credentials of a target: sealed together at rest, never logged. The secret parts
/// are `SecretString`s: zeroed when dropped, `[REDACTED]` if ever formatted, and read only
/// through `expose_secret` where they must be (sealing, signing, `get-target-details`).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct AwsCredentials {
    pub access_key_id: String,
    #[serde(
        serialize_with = "secret_serde::serialize",
        deserialize_with = "secret_serde::deserialize"
    )]
    pub secret_access_key: SecretString,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "secret_serde::serialize_opt",
        deserialize_with = "secret_serde::deserialize_opt"
    )]
    pub session_token: Option<SecretString>,
}

impl AwsCredentials {
    /// Whether `other` holds the same key (id and secret).
    pub fn same_key_as(&self, other: &AwsCredentials) -> bool {
        self.access_key_id == other.access_key_id
            && self.secret_access_key.expose_secret() == other.secret_access_key.expose_secret()
    }
}

/// The sealed JSON form of the secret fields: plain strings inside the sealed value only.
mod secret_serde {
    use secrecy::{ExposeSecret, SecretString};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.expose_secret())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        String::deserialize(d).map(SecretString::from)
    }

    pub fn serialize_opt<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(v.expose_secret()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize_opt<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SecretString>, D::Error> {
        Option::<String>::deserialize(d).map(|v| v.map(SecretString::from))
    }
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The associated data a target's credentials are sealed with: the row's primary key, which
/// nothing ever changes (producers and leases reference it), and its `uid`. A sealed value
/// copied onto another row, even together with the `uid` column, does not open there.
pub fn aad(id: TargetId, uid: &str) -> Vec<u8> {
    format!("target:{id}:{uid}").into_bytes()
}

/// The associated data of values sealed before the row id was bound: the `uid` column
/// alone, which a writer of the database could copy along with the value. Such values are
/// opened only to convert them (`rotation::master::bind_sealed_to_row_ids`, at
/// start-up), never to serve a request.
pub fn legacy_aad(uid: &str) -> Vec<u8> {
    format!("target:{uid}").into_bytes()
}

/// Seals credentials for the target row `id`/`uid`.
pub fn seal(
    state: &AppState,
    id: TargetId,
    uid: &str,
    creds: &AwsCredentials,
) -> AppResult<String> {
    let json = secrecy::zeroize::Zeroizing::new(
        serde_json::to_vec(creds).map_err(|e| AppError::internal(e.to_string()))?,
    );
    Ok(state.keys().seal(&json, &aad(id, uid)))
}

/// Opens a target's credentials.
pub fn open(state: &AppState, row: &target::Model) -> AppResult<AwsCredentials> {
    let plain = state
        .keys()
        .open(&row.sealed_credentials, &aad(row.id, &row.uid))
        .map_err(|e| {
            AppError::internal(format!(
                "cannot open the credentials of target {}: {e}",
                row.name
            ))
        })?;
    let plain = secrecy::zeroize::Zeroizing::new(plain);
    serde_json::from_slice(&plain)
        .map_err(|e| AppError::internal(format!("target {} credentials: {e}", row.name)))
}

/// Inserts a target and seals `creds` for it. The associated data is the row's id, which
/// exists only once the row does: the row is written with an empty sealed value, then
/// given its sealed credentials, so the caller must pass a transaction (an empty value
/// never becomes visible, and a failure leaves no row).
pub async fn insert_sealed(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    new: targets::NewTarget,
    creds: &AwsCredentials,
) -> AppResult<target::Model> {
    insert_with(state, txn, new, Some(creds)).await
}

/// [`insert_sealed`], or a target that stores no key (`creds` `None`: it uses the gateway's
/// own identity).
async fn insert_with(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    new: targets::NewTarget,
    creds: Option<&AwsCredentials>,
) -> AppResult<target::Model> {
    let mut row = targets::insert(txn, new, now_millis()).await?;
    if let Some(creds) = creds {
        row.sealed_credentials = seal(state, row.id, &row.uid, creds)?;
        targets::set_sealed(txn, row.id, &row.sealed_credentials).await?;
    }
    Ok(row)
}

/// How a stored target reaches AWS.
pub fn access_of(row: &target::Model) -> AppResult<TargetAccess> {
    TargetAccess::from_stored(&row.access)
        .map_err(|e| AppError::internal(format!("target {}: {e}", row.name)))
}

/// The connection a target describes, role included.
pub fn spec_for(state: &AppState, row: &target::Model) -> AppResult<ConnectionSpec> {
    let access = access_of(row)?;
    let mut spec = base_spec(state, row, &access)?;
    spec.role = access.role.map(|r| RoleToAssume {
        session_name: render_session_name(&r.session_name, &row.name),
        role_arn: r.role_arn,
        external_id: r.external_id,
        duration_secs: i32::try_from(r.duration_secs).unwrap_or(3600),
    });
    Ok(spec)
}

/// The connection of a target's base credentials, without the role it assumes.
pub fn base_spec_for(state: &AppState, row: &target::Model) -> AppResult<ConnectionSpec> {
    base_spec(state, row, &access_of(row)?)
}

fn base_spec(
    state: &AppState,
    row: &target::Model,
    access: &TargetAccess,
) -> AppResult<ConnectionSpec> {
    let base = match access.source {
        CredentialSource::GatewayIdentity => BaseCredentials::GatewayIdentity,
        CredentialSource::Keys => {
            let creds = open(state, row)?;
            BaseCredentials::Keys {
                access_key_id: creds.access_key_id,
                secret_access_key: creds.secret_access_key,
                session_token: creds.session_token,
            }
        }
    };
    Ok(ConnectionSpec {
        base,
        region: row.region.clone(),
        iam_endpoint: row.iam_endpoint.clone(),
        sts_endpoint: row.sts_endpoint.clone(),
        role: None,
    })
}

/// Refuses the gateway's own identity for a target name the operator did not offer it to.
fn check_gateway_identity(state: &AppState, name: &str, access: &TargetAccess) -> AppResult<()> {
    if access.source == CredentialSource::GatewayIdentity && !state.may_use_gateway_identity(name) {
        return Err(AppError::Denied(format!(
            "use-gw-cloud-identity: the gateway's own AWS identity is not offered to the target {name}; the operator lists the target names that may use it in MAYFLY_CLOUD_IDENTITY_TARGETS (e.g. /platform/*), or give the target keys"
        )));
    }
    Ok(())
}

/// A public target by name, or 404.
pub async fn find_public(db: &impl ConnectionTrait, name: &str) -> AppResult<target::Model> {
    match targets::find_by_name(db, name).await? {
        Some(row) if !row.is_private => Ok(row),
        _ => Err(AppError::not_found(format!(
            "no target named {name}; list-targets shows the existing ones"
        ))),
    }
}

/// A new target, checked by the front door.
#[derive(Debug)]
pub struct CreateTarget {
    pub name: ItemName,
    /// `None` exactly when `access.source` is the gateway's identity.
    pub credentials: Option<AwsCredentials>,
    pub access: TargetAccess,
    pub region: String,
    pub description: String,
    pub delete_protection: bool,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    /// Scheduled admin key rotation, in days (0: off); `None`: not set.
    pub rotation_days: Option<u32>,
}

/// Changes to a target, checked by the front door: `None` keeps the stored value.
#[derive(Debug)]
pub struct TargetChanges {
    pub name: ItemName,
    pub new_name: Option<ItemName>,
    pub credentials: Option<AwsCredentials>,
    pub region: Option<String>,
    pub description: Option<String>,
    pub delete_protection: Option<bool>,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub rotation_days: Option<u32>,
    /// A new credential source (switching to the gateway's identity drops the stored key;
    /// switching to keys needs `credentials`).
    pub source: Option<CredentialSource>,
    /// `Some(None)` removes the role chain, `Some(Some(..))` sets it.
    pub role: Option<Option<RoleChain>>,
}

/// Creates a target (`create`; endpoints also need `read`) and seals its credentials.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: CreateTarget,
) -> AppResult<target::Model> {
    authorize(
        caller,
        Capability::Create,
        ResourceKind::Target,
        input.name.as_str(),
    )?;
    if input.iam_endpoint.is_some() || input.sts_endpoint.is_some() {
        authorize_endpoint_change(caller, input.name.as_str())?;
    }
    check_gateway_identity(state, input.name.as_str(), &input.access)?;
    if (input.access.source == CredentialSource::Keys) != input.credentials.is_some() {
        return Err(AppError::invalid(
            "access-key-id and access-key: required for a target with keys, and refused with use-gw-cloud-identity",
        ));
    }
    if input.rotation_days.is_some_and(|d| d > 0)
        && input.access.source == CredentialSource::GatewayIdentity
    {
        return Err(AppError::invalid(NO_KEY_TO_ROTATE));
    }
    let txn = mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?;
    let row = insert_with(
        state,
        &txn,
        targets::NewTarget {
            uid: uuid::Uuid::new_v4().to_string(),
            name: input.name.as_str().to_owned(),
            description: input.description,
            region: input.region,
            iam_endpoint: input.iam_endpoint,
            sts_endpoint: input.sts_endpoint,
            sealed_credentials: String::new(),
            access: input.access.to_stored(),
            is_private: false,
            delete_protection: input.delete_protection,
        },
        input.credentials.as_ref(),
    )
    .await?;
    if let Some(days) = input.rotation_days {
        crate::rotation::schedule::set_interval(&txn, row.id, days).await?;
    }
    txn.commit().await.map_err(StoreError::from)?;
    tracing::info!(target_name = %row.name, target_id = row.id.get(), "target created");
    Ok(row)
}

/// Applies changes (`update`; renaming also needs `create` on the new name and `read`,
/// moving an endpoint needs `read`); returns the target id.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    changes: TargetChanges,
) -> AppResult<TargetId> {
    authorize(
        caller,
        Capability::Update,
        ResourceKind::Target,
        changes.name.as_str(),
    )?;
    if let Some(new_name) = &changes.new_name {
        authorize(
            caller,
            Capability::Create,
            ResourceKind::Target,
            new_name.as_str(),
        )?;
        // Under its new name other rules apply, perhaps the caller's own `read`: moving a
        // target needs the right that reveals it already.
        authorize(
            caller,
            Capability::Read,
            ResourceKind::Target,
            changes.name.as_str(),
        )?;
    }
    let mut row = find_public(state.db(), changes.name.as_str()).await?;
    let moves_endpoint = |new: &Option<String>, old: &Option<String>| {
        new.as_ref().is_some_and(|n| Some(n) != old.as_ref())
    };
    if moves_endpoint(&changes.iam_endpoint, &row.iam_endpoint)
        || moves_endpoint(&changes.sts_endpoint, &row.sts_endpoint)
    {
        authorize_endpoint_change(caller, changes.name.as_str())?;
    }
    let before = row.clone();
    let old_access = access_of(&row)?;
    let mut access = old_access.clone();
    if let Some(source) = changes.source {
        access.source = source;
    }
    if let Some(role) = changes.role {
        access.role = role;
    }
    if let Some(new_name) = &changes.new_name {
        row.name = new_name.as_str().to_owned();
    }
    check_gateway_identity(state, &row.name, &access)?;
    match (access.source, &changes.credentials) {
        (CredentialSource::GatewayIdentity, Some(_)) => {
            return Err(AppError::invalid(
                "access-key-id and access-key: the target uses the gateway's own identity (use-gw-cloud-identity); set use-gw-cloud-identity to false to give it keys",
            ));
        }
        (CredentialSource::GatewayIdentity, None) => row.sealed_credentials = String::new(),
        (CredentialSource::Keys, Some(creds)) => {
            row.sealed_credentials = seal(state, row.id, &row.uid, creds)?;
        }
        (CredentialSource::Keys, None) if row.sealed_credentials.is_empty() => {
            return Err(AppError::invalid(
                "access-key-id and access-key: required to stop using the gateway's own identity",
            ));
        }
        (CredentialSource::Keys, None) => {}
    }
    if access.source == CredentialSource::GatewayIdentity
        && changes.rotation_days.is_some_and(|d| d > 0)
    {
        return Err(AppError::invalid(NO_KEY_TO_ROTATE));
    }
    row.access = access.to_stored();
    if let Some(region) = changes.region {
        row.region = region;
    }
    if let Some(description) = changes.description {
        row.description = description;
    }
    if let Some(protect) = changes.delete_protection {
        row.delete_protection = protect;
    }
    if changes.iam_endpoint.is_some() {
        row.iam_endpoint = changes.iam_endpoint;
    }
    if changes.sts_endpoint.is_some() {
        row.sts_endpoint = changes.sts_endpoint;
    }
    let txn = mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?;
    // Users issued under the old access live in the account it reached: their teardown keeps
    // it, through a retired copy of the target as it was.
    let moved = if access != old_access {
        keep_old_access_for_live_leases(state, &txn, &before).await?
    } else {
        0
    };
    if !targets::update_if_unchanged(&txn, &row, now_millis()).await? {
        return Err(AppError::conflict(format!(
            "target {} was changed or deleted by another request meanwhile; read it again and retry",
            changes.name
        )));
    }
    txn.commit().await.map_err(StoreError::from)?;
    if moved > 0 {
        tracing::info!(target_name = %row.name, leases = moved, "target access changed; live leases keep the old access through a retired copy");
    }
    // Without a key there is nothing to rotate: a schedule from before ends.
    let rotation_days = match access.source {
        CredentialSource::GatewayIdentity => Some(0),
        CredentialSource::Keys => changes.rotation_days,
    };
    if let Some(days) = rotation_days {
        crate::rotation::schedule::set_interval(state.db(), row.id, days).await?;
    }
    tracing::info!(target_name = %row.name, target_id = row.id.get(), "target updated");
    Ok(row.id)
}

/// What a gateway-identity target answers to key rotation.
pub const NO_KEY_TO_ROTATE: &str = "the target uses the gateway's own AWS identity (use-gw-cloud-identity) and stores no key: there is nothing to rotate; its credentials are short-lived and refreshed by the gateway";

/// Copies `old` (as it was read, before an access change) into a retired private target and
/// points its live `iam_user` leases at the copy. Returns how many leases moved.
async fn keep_old_access_for_live_leases(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    old: &target::Model,
) -> AppResult<u64> {
    if mayfly_store::leases::live_iam_count_for_target(txn, old.id).await? == 0 {
        return Ok(0);
    }
    let creds = if old.sealed_credentials.is_empty() {
        None
    } else {
        Some(open(state, old)?)
    };
    let uid = uuid::Uuid::new_v4().to_string();
    let copy = insert_with(
        state,
        txn,
        targets::NewTarget {
            name: format!("retired:{uid}"),
            uid,
            description: format!(
                "access of {} before a change, kept for its live leases",
                old.name
            ),
            region: old.region.clone(),
            iam_endpoint: old.iam_endpoint.clone(),
            sts_endpoint: old.sts_endpoint.clone(),
            sealed_credentials: String::new(),
            access: old.access.clone(),
            is_private: true,
            delete_protection: false,
        },
        creds.as_ref(),
    )
    .await?;
    Ok(mayfly_store::leases::move_live_iam_to_target(txn, old.id, copy.id).await?)
}

/// Setting a target's `iam-endpoint` / `sts-endpoint` decides where its credentials are sent
/// (signed requests carry the session token in clear), so it needs the right that reveals
/// them, `read`, besides `create` / `update`.
fn authorize_endpoint_change(caller: &Caller, name: &str) -> AppResult<()> {
    if crate::access::is_allowed(&caller.rules, Capability::Read, ResourceKind::Target, name) {
        return Ok(());
    }
    Err(AppError::Denied(format!(
        "access id {} may not set iam-endpoint or sts-endpoint of the target {name}: the endpoint \
         receives the target's credentials, so changing it needs the read capability on the \
         target (which reveals them) besides create or update; ask an administrator for a role \
         with read on it, or leave the endpoints out",
        caller.access_id
    )))
}

/// A public target the caller may read, and the producers that use it that the caller may
/// `list` (the others are not named).
pub async fn read(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
) -> AppResult<(target::Model, Vec<producer::Model>)> {
    authorize(
        caller,
        Capability::Read,
        ResourceKind::Target,
        name.as_str(),
    )?;
    let row = find_public(state.db(), name.as_str()).await?;
    let mut users = targets::producers_using(state.db(), row.id).await?;
    users.retain(|p| listed(caller, ResourceKind::Item, None, &p.name));
    Ok((row, users))
}

/// A target with its credentials opened (`read`; `None` when it stores none), and the
/// producers using it the caller may `list`. The only operation that reveals a target's
/// secret.
pub async fn read_secret(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
) -> AppResult<(target::Model, Vec<producer::Model>, Option<AwsCredentials>)> {
    let (row, users) = read(state, caller, name).await?;
    if row.sealed_credentials.is_empty() {
        return Ok((row, users, None));
    }
    let creds = open(state, &row)?;
    tracing::info!(target_name = %row.name, "target details (secret) read");
    Ok((row, users, Some(creds)))
}

/// The public targets the caller may `list` whose names contain `filter` (lower-case), each
/// with the producers using it that the caller may `list`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: Option<&str>,
) -> AppResult<Vec<(target::Model, Vec<producer::Model>)>> {
    // All producers in one query, grouped by target: not one query per listed target.
    let mut users: std::collections::HashMap<TargetId, Vec<producer::Model>> = Default::default();
    for p in mayfly_store::producers::list(state.db()).await? {
        if listed(caller, ResourceKind::Item, None, &p.name) {
            users.entry(p.target_id).or_default().push(p);
        }
    }
    let mut out = Vec::new();
    for row in targets::list_public(state.db()).await? {
        if listed(caller, ResourceKind::Target, filter, &row.name) {
            let used_by = users.remove(&row.id).unwrap_or_default();
            out.push((row, used_by));
        }
    }
    Ok(out)
}

/// Deletes a target. Refused under delete protection, and while producers use it unless
/// `force-deletion`, which deletes those producers too (unless one of them is protected).
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
    force: bool,
) -> AppResult<()> {
    authorize(
        caller,
        Capability::Delete,
        ResourceKind::Target,
        name.as_str(),
    )?;
    let row = find_public(state.db(), name.as_str()).await?;
    if row.delete_protection {
        return Err(AppError::conflict(format!(
            "target {name} has delete protection; turn it off with update-aws-target --delete-protection false first"
        )));
    }
    let users = targets::producers_using(state.db(), row.id).await?;
    // Messages name only the dynamic secrets the caller may `list`; the others are counted.
    let visible = |p: &producer::Model| listed(caller, ResourceKind::Item, None, &p.name);
    if !users.is_empty() && !force {
        return Err(AppError::conflict(format!(
            "target {name} is used by {}; delete them first or pass force-deletion to delete them with it",
            describe_users(&users, visible)
        )));
    }
    for p in &users {
        if !visible(p) {
            if authorize(caller, Capability::Delete, ResourceKind::Item, &p.name).is_err() {
                return Err(AppError::Denied(format!(
                    "access id {} may not delete every dynamic secret that uses target {name} (some are outside the caller's rules); ask an administrator",
                    caller.access_id
                )));
            }
            if crate::producers::is_delete_protected(p)? {
                return Err(AppError::conflict(format!(
                    "a dynamic secret that uses target {name} has delete protection (its name is outside the caller's list rights); ask an administrator"
                )));
            }
            continue;
        }
        authorize(caller, Capability::Delete, ResourceKind::Item, &p.name)?;
        if crate::producers::is_delete_protected(p)? {
            return Err(AppError::conflict(format!(
                "dynamic secret {} uses target {name} and has delete protection; turn it off first",
                p.name
            )));
        }
    }
    use mayfly_store::leases::{self, LeaseScope};
    let live = leases::live_iam_count_for_target(state.db(), row.id).await?;
    if live > 0 && !force {
        return Err(AppError::conflict(format!(
            "{live} temporary IAM users issued through target {name} are still live (their dynamic secrets now use another target); revoke them, or pass force-deletion to have them revoked"
        )));
    }
    // No credential may outlive the key that can revoke it. The deleted producers' credentials
    // and every credential issued through this target go to the revoker (in this transaction:
    // the request answers at once, whatever their number), and while any is live the target
    // is retired (hidden, its name free) rather than deleted; the revoker deletes it after
    // the last one.
    let txn = mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?;
    let now = now_millis();
    for p in &users {
        leases::revoke_soon(&txn, LeaseScope::Producer(p.id), now).await?;
        mayfly_store::producers::delete(&txn, p.id).await?;
    }
    let revoking = leases::revoke_soon(&txn, LeaseScope::Target(row.id), now).await?;
    let needed = leases::live_iam_count_for_target(&txn, row.id).await?;
    if needed > 0 {
        targets::retire_by_id(&txn, row.id, &row.uid, now).await?;
    } else {
        targets::delete(&txn, row.id).await?;
    }
    txn.commit().await.map_err(StoreError::from)?;
    if revoking > 0 {
        state.wake_revoker();
    }
    tracing::info!(target_name = %name, producers_deleted = users.len(), revoking, retired = needed > 0, "target deleted");
    Ok(())
}

/// "/a, /b and 2 other dynamic secrets": the names `visible` allows, the rest counted.
fn describe_users(users: &[producer::Model], visible: impl Fn(&producer::Model) -> bool) -> String {
    let names: Vec<&str> = users
        .iter()
        .filter(|p| visible(p))
        .map(|p| p.name.as_str())
        .collect();
    let hidden = users.len() - names.len();
    let others = match hidden {
        0 => String::new(),
        1 => "1 dynamic secret you may not list".to_owned(),
        n => format!("{n} dynamic secrets you may not list"),
    };
    match (names.is_empty(), others.is_empty()) {
        (_, true) => names.join(", "),
        (true, false) => others,
        (false, false) => format!("{} and {others}", names.join(", ")),
    }
}
