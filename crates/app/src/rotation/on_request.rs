//! Rotating an admin key when a caller asks (Mayfly extensions `target-rotate-credentials`
//! and `dynamic-secret-rotate-credentials`), authorized like any other change.

use mayfly_domain::ItemName;
use mayfly_store::{producers, targets};

use super::admin::{rotate_target, Rotated, Timing};
use crate::{
    access::{authorize, listed, Caller, Capability, ResourceKind},
    error::{AppError, AppResult},
    state::AppState,
    targets::find_public,
};

/// Rotates the access key of a target's IAM user now (`update` on the target).
pub async fn rotate_named_target(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
) -> AppResult<Rotated> {
    authorize(
        caller,
        Capability::Update,
        ResourceKind::Target,
        name.as_str(),
    )?;
    let row = find_public(state.db(), name.as_str()).await?;
    Ok(rotate_target(state, row.id, &Timing::for_cache_ttl(state.cache_ttl())).await?)
}

/// Rotates the access key of a dynamic secret's inline credentials now (`update` on the
/// dynamic secret). One that uses a named target is refused: that key belongs to the target,
/// which is named only to a caller who may list it.
pub async fn rotate_inline_credentials(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
) -> AppResult<Rotated> {
    authorize(
        caller,
        Capability::Update,
        ResourceKind::Item,
        name.as_str(),
    )?;
    let producer = producers::find_by_name(state.db(), name.as_str())
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!(
                "no dynamic secret named {name}; gateway-list-producers shows the existing ones"
            ))
        })?;
    let target = targets::find_by_id(state.db(), producer.target_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("dynamic secret {name} has no target")))?;
    if !target.is_private {
        let which = if listed(caller, ResourceKind::Target, None, &target.name) {
            format!("target {}", target.name)
        } else {
            "a named target".to_owned()
        };
        return Err(AppError::invalid(format!(
            "name: dynamic secret {name} uses {which}; rotate that target's key with target-rotate-credentials"
        )));
    }
    Ok(rotate_target(state, target.id, &Timing::for_cache_ttl(state.cache_ttl())).await?)
}
