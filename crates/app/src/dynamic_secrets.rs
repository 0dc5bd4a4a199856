//! Dynamic secrets (AWS producers): create, update, get, list, delete.
//!
//! A dynamic secret points at a public target by name, or carries inline admin credentials;
//! those become a private target (sealed like any other, hidden from target lists) that lives
//! and dies with it. Building on a named target needs `use` on it; changing what a dynamic
//! secret grants needs `use` on its current target.

use mayfly_domain::{ItemName, ProducerSpec};
use mayfly_store::{
    entity::{producer, target},
    now_millis, producers, targets, StoreError, TargetId,
};
use sea_orm::DatabaseTransaction;

use crate::{
    access::{authorize, listed, Caller, Capability, ResourceKind},
    error::{AppError, AppResult},
    producers::{is_delete_protected, load_spec},
    state::AppState,
    targets::{find_public, insert_sealed, open, AwsCredentials},
};

/// Where a dynamic secret's AWS connection comes from.
#[derive(Debug)]
pub enum TargetChoice {
    /// A public target, by name.
    Named(ItemName),
    /// Inline admin credentials (a private target) and their region.
    Inline {
        creds: AwsCredentials,
        region: String,
    },
    /// On update: keep the current one.
    Unchanged,
}

/// Scheduled rotation of inline credentials' admin key (`enable-admin-rotation`,
/// `admin-rotation-interval-days`), checked when the target is known.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdminRotation {
    pub enable: Option<bool>,
    pub interval_days: Option<i64>,
}

/// A dynamic secret's name, definition, target and rotation, parsed by the front door.
#[derive(Debug)]
pub struct ProducerInput {
    pub name: ItemName,
    pub spec: ProducerSpec,
    pub target: TargetChoice,
    pub admin_rotation: AdminRotation,
}

/// The proof that `update` on a dynamic secret was checked ([`authorize_update`]).
#[derive(Debug)]
pub struct UpdateGrant {
    name: ItemName,
}

/// A dynamic secret as shown: never a secret; the access key id of inline credentials only
/// (tools compare it with their configuration), never a named target's.
#[derive(Debug)]
pub struct Details {
    pub row: producer::Model,
    pub spec: ProducerSpec,
    pub target: target::Model,
    /// The target's admin key rotation interval (0: off).
    pub rotation_days: u32,
    pub inline_access_key_id: Option<String>,
}

async fn details(
    state: &AppState,
    row: producer::Model,
    spec: ProducerSpec,
    target: target::Model,
) -> AppResult<Details> {
    let schedule = crate::rotation::schedule::of_target(state.db(), target.id).await?;
    details_with(state, row, spec, target, schedule.interval_days)
}

fn details_with(
    state: &AppState,
    row: producer::Model,
    spec: ProducerSpec,
    target: target::Model,
    rotation_days: u32,
) -> AppResult<Details> {
    let inline_access_key_id = if target.is_private {
        Some(open(state, &target)?.access_key_id)
    } else {
        None
    };
    Ok(Details {
        row,
        spec,
        target,
        rotation_days,
        inline_access_key_id,
    })
}

/// One dynamic secret (`read`).
pub async fn get(state: &AppState, caller: &Caller, name: &ItemName) -> AppResult<Details> {
    authorize(caller, Capability::Read, ResourceKind::Item, name.as_str())?;
    let view = crate::resolve::view(state, name).await?;
    details_with(
        state,
        view.row.clone(),
        view.spec.clone(),
        view.target.clone(),
        view.rotation_days,
    )
}

/// The dynamic secrets the caller may `list`.
pub async fn list(state: &AppState, caller: &Caller) -> AppResult<Vec<producer::Model>> {
    let mut rows = producers::list(state.db()).await?;
    rows.retain(|p| listed(caller, ResourceKind::Item, None, &p.name));
    Ok(rows)
}

/// Creates a dynamic secret (`create` on its name; a named target needs `use`).
pub async fn create(state: &AppState, caller: &Caller, input: ProducerInput) -> AppResult<Details> {
    authorize(
        caller,
        Capability::Create,
        ResourceKind::Item,
        input.name.as_str(),
    )?;
    let spec_json =
        serde_json::to_string(&input.spec).map_err(|e| AppError::internal(e.to_string()))?;

    let txn = begin(state).await?;
    let target = match &input.target {
        TargetChoice::Named(name) => {
            authorize(caller, Capability::Use, ResourceKind::Target, name.as_str())?;
            find_public(&txn, name.as_str()).await?
        }
        TargetChoice::Inline { creds, region } => {
            insert_private_target(state, &txn, creds, region).await?
        }
        TargetChoice::Unchanged => {
            return Err(AppError::internal("create without a target choice"))
        }
    };
    let row = producers::insert(
        &txn,
        producers::NewProducer {
            name: input.name.as_str().to_owned(),
            target_id: target.id,
            access_mode: input.spec.mode().as_str().to_owned(),
            spec: spec_json,
        },
        now_millis(),
    )
    .await?;
    apply_rotation(&txn, &input.admin_rotation, &target).await?;
    commit(txn).await?;
    tracing::info!(producer = %row.name, mode = %row.access_mode, "dynamic secret created");
    details(state, row, input.spec, target).await
}

/// Checks `update` on the dynamic secret `name`: the first step of an update, before the
/// front door parses the rest of the request.
pub fn authorize_update(caller: &Caller, name: &ItemName) -> AppResult<UpdateGrant> {
    authorize(
        caller,
        Capability::Update,
        ResourceKind::Item,
        name.as_str(),
    )?;
    Ok(UpdateGrant { name: name.clone() })
}

/// Applies `input` to the dynamic secret `grant` names (`renamed`: the request gave a new
/// name, which needs `create`). Re-pointing, renaming or changing what it grants needs `use`
/// on its current target (and re-pointing, on the new one).
pub async fn update(
    state: &AppState,
    caller: &Caller,
    grant: UpdateGrant,
    input: ProducerInput,
    renamed: bool,
) -> AppResult<Details> {
    let current_name = grant.name;
    if renamed {
        authorize(
            caller,
            Capability::Create,
            ResourceKind::Item,
            input.name.as_str(),
        )?;
    }
    let spec_json =
        serde_json::to_string(&input.spec).map_err(|e| AppError::internal(e.to_string()))?;

    let txn = begin(state).await?;
    let existing = find(&txn, current_name.as_str()).await?;
    let old_target = targets::find_by_id(&txn, existing.target_id)
        .await?
        .ok_or_else(|| {
            AppError::internal(format!("producer {} has no target row", existing.name))
        })?;
    // The target's power is lent only with `use` on it: re-pointing, renaming, or changing
    // what the producer grants needs it on the current target (and re-pointing on the new
    // one too). Inline credentials (a private target) are governed by the item's rights.
    let retargeted = match &input.target {
        TargetChoice::Unchanged => false,
        TargetChoice::Named(name) => name.as_str() != old_target.name,
        TargetChoice::Inline { .. } => !old_target.is_private,
    };
    if !old_target.is_private
        && (retargeted || renamed || !load_spec(&existing)?.grants_same_as(&input.spec))
        && authorize(
            caller,
            Capability::Use,
            ResourceKind::Target,
            &old_target.name,
        )
        .is_err()
    {
        // Named only to a caller who may list it.
        let which = if listed(caller, ResourceKind::Target, None, &old_target.name) {
            format!("the target {}", old_target.name)
        } else {
            "its target".to_owned()
        };
        return Err(AppError::Denied(format!(
            "access id {} may not use {which}: re-pointing, renaming or changing what dynamic secret {current_name} grants needs use (or read) on its target; description, tags and delete protection need item update only",
            caller.access_id
        )));
    }
    let mut orphaned_private: Option<TargetId> = None;
    let target = match &input.target {
        TargetChoice::Unchanged => old_target,
        TargetChoice::Named(name) => {
            if retargeted {
                authorize(caller, Capability::Use, ResourceKind::Target, name.as_str())?;
            }
            let t = find_public(&txn, name.as_str()).await?;
            if old_target.is_private {
                orphaned_private = Some(old_target.id);
            }
            t
        }
        TargetChoice::Inline { creds, region } if old_target.is_private => {
            let current = open(state, &old_target)?;
            if current.same_key_as(creds) && old_target.region == *region {
                // The same inline credentials sent again (the SDKs send every field).
                old_target
            } else {
                // New credentials, perhaps of another account: a new private target. The old
                // one stays, hidden, for as long as credentials issued with it are live (their
                // teardown needs that key), then goes (`delete_unreferenced_private`).
                let t = insert_private_target(state, &txn, creds, region).await?;
                let kept = crate::rotation::schedule::of_target(&txn, old_target.id).await?;
                if kept.interval_days > 0 {
                    crate::rotation::schedule::set_interval(&txn, t.id, kept.interval_days).await?;
                }
                orphaned_private = Some(old_target.id);
                t
            }
        }
        TargetChoice::Inline { creds, region } => {
            insert_private_target(state, &txn, creds, region).await?
        }
    };
    let changed = producers::update(
        &txn,
        existing.id,
        producers::NewProducer {
            name: input.name.as_str().to_owned(),
            target_id: target.id,
            access_mode: input.spec.mode().as_str().to_owned(),
            spec: spec_json,
        },
        now_millis(),
    )
    .await?;
    if !changed {
        return Err(AppError::conflict(
            "the dynamic secret was deleted meanwhile",
        ));
    }
    if let Some(id) = orphaned_private {
        // Deleted now if no live credential needs its key; otherwise after the last one ends.
        targets::delete_unneeded_hidden(&txn, Some(id)).await?;
    }
    apply_rotation(&txn, &input.admin_rotation, &target).await?;
    commit(txn).await?;
    let row = producers::find_by_name(state.db(), input.name.as_str())
        .await?
        .ok_or_else(|| AppError::conflict("the dynamic secret was deleted meanwhile"))?;
    tracing::info!(producer = %row.name, "dynamic secret updated");
    details(state, row, input.spec, target).await
}

/// Deletes a dynamic secret (`delete`); returns how many of its credentials the revoker is now
/// ending. Its private target (inline credentials) goes with it once no live credential needs
/// it: until then the revoker still tears down with that key.
pub async fn delete(state: &AppState, caller: &Caller, name: &ItemName) -> AppResult<u64> {
    authorize(
        caller,
        Capability::Delete,
        ResourceKind::Item,
        name.as_str(),
    )?;
    let row = find(state.db(), name.as_str()).await?;
    if is_delete_protected(&row)? {
        return Err(AppError::conflict(format!(
            "dynamic secret {name} has delete protection; update it with delete_protection false first"
        )));
    }
    // A deleted producer must not leave live users behind: they are handed to the revoker
    // (which needs only the lease and its target, not the producer) in the same transaction
    // that deletes the producer.
    let txn = begin(state).await?;
    let row = find(&txn, name.as_str()).await?;
    let revoking = mayfly_store::leases::revoke_soon(
        &txn,
        mayfly_store::leases::LeaseScope::Producer(row.id),
        now_millis(),
    )
    .await?;
    producers::delete(&txn, row.id).await?;
    targets::delete_unneeded_hidden(&txn, Some(row.target_id)).await?;
    commit(txn).await?;
    if revoking > 0 {
        state.wake_revoker();
    }
    tracing::info!(producer = %name, revoking, "dynamic secret deleted");
    Ok(revoking)
}

fn not_found(name: &str) -> AppError {
    AppError::not_found(format!(
        "no dynamic secret named {name}; gateway-list-producers shows the existing ones"
    ))
}

async fn find(db: &impl sea_orm::ConnectionTrait, name: &str) -> AppResult<producer::Model> {
    producers::find_by_name(db, name)
        .await?
        .ok_or_else(|| not_found(name))
}

async fn insert_private_target(
    state: &AppState,
    txn: &DatabaseTransaction,
    creds: &AwsCredentials,
    region: &str,
) -> AppResult<target::Model> {
    let uid = uuid::Uuid::new_v4().to_string();
    insert_sealed(
        state,
        txn,
        targets::NewTarget {
            name: format!("private:{uid}"),
            uid,
            description: "inline credentials of a dynamic secret".into(),
            region: region.to_owned(),
            iam_endpoint: None,
            sts_endpoint: None,
            sealed_credentials: String::new(),
            access: String::new(),
            is_private: true,
            delete_protection: false,
        },
        creds,
    )
    .await
}

/// Applies `enable-admin-rotation` / `admin-rotation-interval-days`: they schedule the key
/// rotation of inline credentials (the private target). A dynamic secret on a named target
/// may not turn it on: that key belongs to the target (`rotation-interval-days` there).
async fn apply_rotation(
    txn: &DatabaseTransaction,
    rotation: &AdminRotation,
    target: &target::Model,
) -> AppResult<()> {
    use crate::rotation::schedule;
    match schedule::producer_interval(rotation.enable, rotation.interval_days)? {
        Some(days) if target.is_private => Ok(schedule::set_interval(txn, target.id, days).await?),
        Some(days) if days > 0 => Err(AppError::invalid(
            "enable-admin-rotation: rotates inline credentials (aws-access-key-id); this dynamic secret uses a named target: set rotation-interval-days on the target instead",
        )),
        _ => Ok(()),
    }
}

async fn begin(state: &AppState) -> AppResult<DatabaseTransaction> {
    Ok(mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?)
}

async fn commit(txn: DatabaseTransaction) -> AppResult<()> {
    Ok(txn.commit().await.map_err(StoreError::from)?)
}
