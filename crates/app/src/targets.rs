//! Targets as the core uses them: their credentials, sealed at rest under the master key
//! with associated data that binds them to their row, and lookups by name.

use mayfly_store::{entity::target, now_millis, targets};
use sea_orm::ConnectionTrait;

use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// The AWS credentials of a target: sealed together at rest, never logged.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
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
pub fn aad(id: i64, uid: &str) -> Vec<u8> {
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
pub fn seal(state: &AppState, id: i64, uid: &str, creds: &AwsCredentials) -> AppResult<String> {
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
    let mut row = targets::insert(txn, new, now_millis()).await?;
    row.sealed_credentials = seal(state, row.id, &row.uid, creds)?;
    targets::set_sealed(txn, row.id, &row.sealed_credentials).await?;
    Ok(row)
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
