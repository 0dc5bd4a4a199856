//! On-demand admin key rotation (Mayfly extensions to the Akeyless API):
//!
//! - `target-rotate-credentials` `{name}`: rotates a target's access key ([`rotate_target_credentials`]);
//! - `dynamic-secret-rotate-credentials` `{name}`: rotates the inline credentials of a dynamic
//!   secret (its private target) ([`rotate_producer_credentials`]).
//!
//! Both answer [`RotateCredentialsOutput`], which names the new key id but never a secret:
//! `get-target-details` is still the only way to read a target's secret.

use mayfly_app::time::rfc3339;
use mayfly_domain::ItemName;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiResult;
use mayfly_app::access::Caller;
use mayfly_app::rotation::{admin::Rotated, on_request};
use mayfly_app::state::AppState;

/// Request of `target-rotate-credentials` and `dynamic-secret-rotate-credentials`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = rotation::RotateCredentials)]
pub struct RotateCredentials {
    /// The target (or, for `dynamic-secret-rotate-credentials`, the dynamic secret).
    pub name: Option<String>,
}

/// What a rotation did. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = rotation::RotateCredentialsOutput)]
pub struct RotateCredentialsOutput {
    /// The target or dynamic secret whose key was rotated.
    pub name: String,
    /// The IAM user whose key was rotated.
    pub iam_user: String,
    /// The new access key id, now stored.
    pub access_key_id: String,
    pub previous_access_key_id: String,
    /// `false` when the previous key could not be deleted (the next rotation deletes it) or
    /// another target still uses it; `warning` says which.
    pub previous_key_deleted: bool,
    /// Keys left behind by earlier, interrupted rotations that this one deleted.
    pub stale_keys_deleted: Vec<String>,
    /// RFC 3339.
    pub rotated_at: String,
    /// RFC 3339, or empty when no rotation is scheduled.
    pub next_rotation: String,
    /// Empty, or something that needs attention.
    pub warning: String,
}

fn parse_name(raw: &Option<String>, what: &str) -> ApiResult<ItemName> {
    crate::routes::required_name(
        "name",
        raw,
        &format!("the {what} whose admin key to rotate"),
    )
}

/// `target-rotate-credentials`: rotates the access key of a target's IAM user now. Needs
/// `update` on the target.
pub async fn rotate_target_credentials(
    state: &AppState,
    caller: &Caller,
    req: RotateCredentials,
) -> ApiResult<RotateCredentialsOutput> {
    let name = parse_name(&req.name, "target")?;
    let rotated = on_request::rotate_named_target(state, caller, &name).await?;
    Ok(present(name.as_str(), rotated))
}

/// `dynamic-secret-rotate-credentials`: rotates the access key of a dynamic secret's inline
/// credentials now. Needs `update` on the dynamic secret. A dynamic secret that uses a named
/// target is refused: its key belongs to the target.
pub async fn rotate_producer_credentials(
    state: &AppState,
    caller: &Caller,
    req: RotateCredentials,
) -> ApiResult<RotateCredentialsOutput> {
    let name = parse_name(&req.name, "dynamic secret")?;
    let rotated = on_request::rotate_inline_credentials(state, caller, &name).await?;
    Ok(present(name.as_str(), rotated))
}

fn present(name: &str, r: Rotated) -> RotateCredentialsOutput {
    RotateCredentialsOutput {
        name: name.to_owned(),
        iam_user: r.iam_user,
        access_key_id: r.access_key_id,
        previous_access_key_id: r.previous_access_key_id,
        previous_key_deleted: r.previous_key_deleted,
        stale_keys_deleted: r.stale_keys_deleted,
        rotated_at: rfc3339(r.rotated_at),
        next_rotation: r.next_rotation_at.map(rfc3339).unwrap_or_default(),
        warning: r.warning.unwrap_or_default(),
    }
}
