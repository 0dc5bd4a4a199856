//! AWS targets: create, update, get, get-details, list, delete.
//!
//! A target's access key id, secret key and session token are sealed together under the
//! master key with the row's immutable id (and `uid`) as associated data. Only
//! `get-target-details` opens them.

use mayfly_api_types::{request, response};
use mayfly_app::time::rfc3339;
use mayfly_store::{
    entity::{producer, target},
    now_millis, targets,
};

use super::target_input;
use crate::{
    error::{ApiError, ApiResult},
    operation::Flavor,
};
use mayfly_app::access::Caller;
use mayfly_app::access::{authorize, Capability, ResourceKind};
use mayfly_app::state::AppState;
use mayfly_app::targets::{find_public, insert_sealed, open, seal};

pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: request::AwsTarget,
    _flavor: Flavor,
) -> ApiResult<response::TargetId> {
    let input = target_input::parse_new(&req, state.outbound())?;
    let rotation_days = rotation_days(&req)?;
    authorize(
        caller,
        Capability::Create,
        ResourceKind::Target,
        input.name.as_str(),
    )?;
    if input.iam_endpoint.is_some() || input.sts_endpoint.is_some() {
        authorize_endpoint_change(caller, input.name.as_str())?;
    }
    let txn = mayfly_store::begin_write(state.db())
        .await
        .map_err(mayfly_store::StoreError::from)?;
    let row = insert_sealed(
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
            is_private: false,
            delete_protection: input.delete_protection,
        },
        &input.credentials,
    )
    .await?;
    if let Some(days) = rotation_days {
        mayfly_app::rotation::schedule::set_interval(&txn, row.id, days).await?;
    }
    txn.commit().await.map_err(mayfly_store::StoreError::from)?;
    tracing::info!(target_name = %row.name, target_id = row.id, "target created");
    Ok(response::TargetId { target_id: row.id })
}

/// Applies an update; returns the target id.
pub async fn update(state: &AppState, caller: &Caller, req: request::AwsTarget) -> ApiResult<i64> {
    let changes = target_input::parse_changes(&req, state.outbound())?;
    let rotation_days = rotation_days(&req)?;
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
    if let Some(new_name) = &changes.new_name {
        row.name = new_name.as_str().to_owned();
    }
    if let Some(creds) = &changes.credentials {
        row.sealed_credentials = seal(state, row.id, &row.uid, creds)?;
    }
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
    if !targets::update_if_unchanged(state.db(), &row, now_millis()).await? {
        return Err(ApiError::conflict(format!(
            "target {} was changed or deleted by another request meanwhile; read it again and retry",
            changes.name
        )));
    }
    if let Some(days) = rotation_days {
        mayfly_app::rotation::schedule::set_interval(state.db(), row.id, days).await?;
    }
    tracing::info!(target_name = %row.name, target_id = row.id, "target updated");
    Ok(row.id)
}

/// Setting a target's `iam-endpoint` / `sts-endpoint` decides where its credentials are sent
/// (signed requests carry the session token in clear), so it needs the right that reveals
/// them, `read`, besides `create` / `update`.
fn authorize_endpoint_change(caller: &Caller, name: &str) -> ApiResult<()> {
    if mayfly_app::access::is_allowed(&caller.rules, Capability::Read, ResourceKind::Target, name) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "access id {} may not set iam-endpoint or sts-endpoint of the target {name}: the endpoint \
         receives the target's credentials, so changing it needs the read capability on the \
         target (which reveals them) besides create or update; ask an administrator for a role \
         with read on it, or leave the endpoints out",
        caller.access_id
    )))
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<response::Target> {
    let (row, users) = read(state, caller, &req).await?;
    Ok(present(&row, &users))
}

/// A public target the caller may read, and the producers that use it that the caller may
/// `list` (the others are not named).
async fn read(
    state: &AppState,
    caller: &Caller,
    req: &request::Named,
) -> ApiResult<(target::Model, Vec<producer::Model>)> {
    let name = target_input::parse_name(&req.name)
        .map_err(|e| ApiError::bad_request(format!("name: {e}")))?;
    authorize(
        caller,
        Capability::Read,
        ResourceKind::Target,
        name.as_str(),
    )?;
    let row = find_public(state.db(), name.as_str()).await?;
    let mut users = targets::producers_using(state.db(), row.id).await?;
    users.retain(|p| mayfly_app::access::listed(caller, ResourceKind::Item, None, &p.name));
    Ok((row, users))
}

pub async fn get_details(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<response::TargetDetails> {
    let (row, users) = read(state, caller, &req).await?;
    let creds = open(state, &row)?;
    tracing::info!(target_name = %row.name, "target details (secret) read");
    Ok(response::TargetDetails {
        target: present(&row, &users),
        value: response::TargetDetailsValue {
            aws_target_details: response::AwsTargetDetails {
                aws_access_key_id: creds.access_key_id,
                aws_secret_access_key: creds.secret_access_key,
                aws_region: row.region.clone(),
                aws_session_token: creds.session_token.unwrap_or_default(),
                use_gw_cloud_identity: false,
            },
        },
    })
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    req: request::ListTargets,
) -> ApiResult<response::ListTargets> {
    let wants_aws = req.target_type.as_ref().is_none_or(|types| {
        types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case("aws"))
    });
    let filter = super::given(&req.filter).map(str::to_lowercase);
    let mut out = Vec::new();
    if wants_aws {
        // All producers in one query, grouped by target: not one query per listed target.
        let mut users: std::collections::HashMap<i64, Vec<producer::Model>> = Default::default();
        for p in mayfly_store::producers::list(state.db()).await? {
            if mayfly_app::access::listed(caller, ResourceKind::Item, None, &p.name) {
                users.entry(p.target_id).or_default().push(p);
            }
        }
        for row in targets::list_public(state.db()).await? {
            if !mayfly_app::access::listed(
                caller,
                ResourceKind::Target,
                filter.as_deref(),
                &row.name,
            ) {
                continue;
            }
            out.push(present(
                &row,
                users.get(&row.id).map_or(&[][..], Vec::as_slice),
            ));
        }
    }
    Ok(response::ListTargets {
        targets: out,
        next_page: String::new(),
    })
}

/// Deletes a target. Refused under delete protection, and while producers use it unless
/// `force-deletion`, which deletes those producers too (unless one of them is protected).
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    req: request::DeleteTarget,
) -> ApiResult<()> {
    let name = target_input::parse_name(&req.name)
        .map_err(|e| ApiError::bad_request(format!("name: {e}")))?;
    authorize(
        caller,
        Capability::Delete,
        ResourceKind::Target,
        name.as_str(),
    )?;
    let row = find_public(state.db(), name.as_str()).await?;
    if row.delete_protection {
        return Err(ApiError::conflict(format!(
            "target {name} has delete protection; turn it off with update-aws-target --delete-protection false first"
        )));
    }
    let users = targets::producers_using(state.db(), row.id).await?;
    // Messages name only the dynamic secrets the caller may `list`; the others are counted.
    let visible =
        |p: &producer::Model| mayfly_app::access::listed(caller, ResourceKind::Item, None, &p.name);
    if !users.is_empty() && req.force_deletion != Some(true) {
        return Err(ApiError::conflict(format!(
            "target {name} is used by {}; delete them first or pass force-deletion to delete them with it",
            describe_users(&users, visible)
        )));
    }
    for p in &users {
        if !visible(p) {
            if authorize(caller, Capability::Delete, ResourceKind::Item, &p.name).is_err() {
                return Err(ApiError::Forbidden(format!(
                    "access id {} may not delete every dynamic secret that uses target {name} (some are outside the caller's rules); ask an administrator",
                    caller.access_id
                )));
            }
            if mayfly_app::producers::is_delete_protected(p)? {
                return Err(ApiError::conflict(format!(
                    "a dynamic secret that uses target {name} has delete protection (its name is outside the caller's list rights); ask an administrator"
                )));
            }
            continue;
        }
        authorize(caller, Capability::Delete, ResourceKind::Item, &p.name)?;
        if mayfly_app::producers::is_delete_protected(p)? {
            return Err(ApiError::conflict(format!(
                "dynamic secret {} uses target {name} and has delete protection; turn it off first",
                p.name
            )));
        }
    }
    use mayfly_store::leases::{self, LeaseScope};
    let force = req.force_deletion == Some(true);
    let live = leases::live_iam_count_for_target(state.db(), row.id).await?;
    if live > 0 && !force {
        return Err(ApiError::conflict(format!(
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
        .map_err(mayfly_store::StoreError::from)?;
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
    txn.commit().await.map_err(mayfly_store::StoreError::from)?;
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

/// `rotation-interval-days` (Mayfly extension), checked before anything is written.
fn rotation_days(req: &request::AwsTarget) -> ApiResult<Option<u32>> {
    Ok(req
        .rotation_interval_days
        .map(mayfly_app::rotation::schedule::parse_interval_days)
        .transpose()?)
}

fn present(row: &target::Model, users: &[producer::Model]) -> response::Target {
    response::Target {
        target_name: row.name.clone(),
        target_type: row.target_type.clone(),
        target_id: row.id,
        comment: row.description.clone(),
        creation_date: rfc3339(row.created_at),
        modification_date: rfc3339(row.modified_at),
        last_version: row.version,
        delete_protection: row.delete_protection,
        protection_key_name: String::new(),
        with_customer_fragment: false,
        target_items_assoc: users
            .iter()
            .map(|p| response::TargetItemAssoc {
                item_name: p.name.clone(),
                item_id: p.id,
                item_type: "DYNAMIC_SECRET".into(),
                assoc_id: format!("ta-{}-{}", row.id, p.id),
                relationship: "target_of".into(),
            })
            .collect(),
        region: row.region.clone(),
        iam_endpoint: row.iam_endpoint.clone(),
        sts_endpoint: row.sts_endpoint.clone(),
    }
}
