//! AWS producers (dynamic secrets): create, update, get, list, delete.
//!
//! A producer points at a public target by name, or carries inline admin credentials; those
//! become a private target (sealed like any other, hidden from target lists) that lives and
//! dies with the producer.

use mayfly_api_types::{request, response};
use mayfly_app::time::rfc3339;
use mayfly_domain::{ItemName, ProducerDraft, ProducerSpec, ValidationErrors};
use mayfly_store::{
    entity::{producer, target},
    now_millis, producers, targets, StoreError,
};
use sea_orm::DatabaseTransaction;

use super::{given, target_input};
use crate::error::{ApiError, ApiResult};
use mayfly_app::access::Caller;
use mayfly_app::access::{authorize, Capability, ResourceKind};
use mayfly_app::producers::{is_delete_protected, load_spec};
use mayfly_app::state::AppState;
use mayfly_app::targets::{find_public, insert_sealed, open, AwsCredentials};

/// Where a producer's AWS connection comes from, as the request says.
enum TargetChoice {
    /// `target-name`.
    Named(ItemName),
    /// `aws-access-key-id` + `aws-access-secret-key` (+ `region`).
    Inline {
        creds: AwsCredentials,
        region: String,
    },
    /// Neither: on update, keep the current one.
    Unchanged,
}

/// A request, checked: the producer's name, its definition and its target.
struct ProducerInput {
    name: ItemName,
    spec: ProducerSpec,
    target: TargetChoice,
}

fn draft(req: &request::AwsProducer, name: Option<String>) -> ProducerDraft {
    ProducerDraft {
        name,
        access_mode: req.access_mode.clone(),
        user_ttl: req.user_ttl.clone(),
        max_ttl: req.max_ttl.clone(),
        user_policies: req.aws_user_policies.clone(),
        user_groups: req.aws_user_groups.clone(),
        role_arns: req.aws_role_arns.clone(),
        external_id: req.aws_external_id.clone(),
        session_tags: req.session_tags.clone(),
        transitive_tag_keys: req.transitive_tag_keys.clone(),
        console_access: req.aws_user_console_access,
        programmatic_access: req.aws_user_programmatic_access,
        password_length: req.password_length.clone(),
        use_capital_letters: req.use_capital_letters.clone(),
        use_lower_letters: req.use_lower_letters.clone(),
        use_numbers: req.use_numbers.clone(),
        use_special_characters: req.use_special_characters.clone(),
        username_template: req.custom_username_template.clone(),
        policy_document: req.aws_policy_document.clone(),
        permissions_boundary: req.aws_permissions_boundary.clone(),
        user_path: req.aws_user_path.clone(),
        user_tags: req.aws_user_tags.clone(),
        tags: req.tags.clone(),
        delete_protection: req.delete_protection.clone(),
        description: req.description.clone(),
    }
}

/// Parses the definition and the target choice together, so every problem is reported in
/// one answer. `name` is the name the producer will have (the new name on a rename).
fn parse_input(
    req: &request::AwsProducer,
    name: Option<String>,
    target_required: bool,
) -> Result<ProducerInput, ValidationErrors> {
    let (parsed, mut errors) = match ProducerSpec::parse(&draft(req, name)) {
        Ok(parsed) => (Some(parsed), ValidationErrors::new()),
        Err(errors) => (None, errors),
    };
    let target = parse_target_choice(req, target_required, &mut errors);
    match (parsed, target) {
        (Some((name, spec)), Some(target)) if errors.is_empty() => {
            Ok(ProducerInput { name, spec, target })
        }
        _ => Err(errors),
    }
}

fn parse_target_choice(
    req: &request::AwsProducer,
    required: bool,
    errors: &mut ValidationErrors,
) -> Option<TargetChoice> {
    let key_id = given(&req.aws_access_key_id);
    let secret = req
        .aws_access_secret_key
        .as_ref()
        .map(|s| s.expose().trim())
        .filter(|s| !s.is_empty());
    match (given(&req.target_name), key_id, secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            errors.push(
                "target-name",
                "give target-name or inline aws-access-key-id/aws-access-secret-key, not both",
            );
            None
        }
        (Some(name), None, None) => errors
            .check("target-name", ItemName::parse(name))
            .map(TargetChoice::Named),
        (None, Some(id), Some(secret)) => {
            let region = errors.check(
                "region",
                target_input::parse_region(
                    given(&req.region).unwrap_or(target_input::DEFAULT_REGION),
                ),
            )?;
            if !(16..=128).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                errors.push(
                    "aws-access-key-id",
                    "must be 16 to 128 letters and digits, such as AKIAIOSFODNN7EXAMPLE",
                );
                return None;
            }
            if secret.len() > 256 || secret.chars().any(char::is_whitespace) {
                errors.push(
                    "aws-access-secret-key",
                    "must be at most 256 characters without spaces",
                );
                return None;
            }
            Some(TargetChoice::Inline {
                creds: AwsCredentials {
                    access_key_id: id.to_owned(),
                    secret_access_key: secret.to_owned(),
                    session_token: None,
                },
                region,
            })
        }
        (None, Some(_), None) => {
            errors.push("aws-access-secret-key", "required with aws-access-key-id");
            None
        }
        (None, None, Some(_)) => {
            errors.push("aws-access-key-id", "required with aws-access-secret-key");
            None
        }
        (None, None, None) if required => {
            errors.push(
                "target-name",
                "required: name an AWS target (create-aws-target), or give aws-access-key-id and aws-access-secret-key",
            );
            None
        }
        (None, None, None) => Some(TargetChoice::Unchanged),
    }
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: request::AwsProducer,
) -> ApiResult<response::ProducerDetails> {
    let input = parse_input(&req, req.name.clone(), true)?;
    authorize(
        caller,
        Capability::Create,
        ResourceKind::Item,
        input.name.as_str(),
    )?;
    let spec_json =
        serde_json::to_string(&input.spec).map_err(|e| ApiError::internal(e.to_string()))?;

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
            return Err(ApiError::internal("create without a target choice"))
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
    apply_rotation(&txn, &req, &target).await?;
    commit(txn).await?;
    tracing::info!(producer = %row.name, mode = %row.access_mode, "dynamic secret created");
    present(state, &row, &input.spec, &target).await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: request::AwsProducer,
) -> ApiResult<response::ProducerDetails> {
    let current_name = parse_name(&req.name)?;
    authorize(
        caller,
        Capability::Update,
        ResourceKind::Item,
        current_name.as_str(),
    )?;
    let new_name = given(&req.new_name).map(str::to_owned);
    let input = parse_input(
        &req,
        Some(new_name.clone().unwrap_or_else(|| current_name.to_string())),
        false,
    )?;
    if new_name.is_some() {
        authorize(
            caller,
            Capability::Create,
            ResourceKind::Item,
            input.name.as_str(),
        )?;
    }
    let spec_json =
        serde_json::to_string(&input.spec).map_err(|e| ApiError::internal(e.to_string()))?;

    let txn = begin(state).await?;
    let existing = find(&txn, current_name.as_str()).await?;
    let old_target = targets::find_by_id(&txn, existing.target_id)
        .await?
        .ok_or_else(|| {
            ApiError::internal(format!("producer {} has no target row", existing.name))
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
        && (retargeted || new_name.is_some() || !load_spec(&existing)?.grants_same_as(&input.spec))
        && authorize(
            caller,
            Capability::Use,
            ResourceKind::Target,
            &old_target.name,
        )
        .is_err()
    {
        // Named only to a caller who may list it.
        let which =
            if mayfly_app::access::listed(caller, ResourceKind::Target, None, &old_target.name) {
                format!("the target {}", old_target.name)
            } else {
                "its target".to_owned()
            };
        return Err(ApiError::Forbidden(format!(
            "access id {} may not use {which}: re-pointing, renaming or changing what dynamic secret {current_name} grants needs use (or read) on its target; description, tags and delete protection need item update only",
            caller.access_id
        )));
    }
    let mut orphaned_private: Option<i64> = None;
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
            if current.access_key_id == creds.access_key_id
                && current.secret_access_key == creds.secret_access_key
                && old_target.region == *region
            {
                // The same inline credentials sent again (the SDKs send every field).
                old_target
            } else {
                // New credentials, perhaps of another account: a new private target. The old
                // one stays, hidden, for as long as credentials issued with it are live (their
                // teardown needs that key), then goes (`delete_unreferenced_private`).
                let t = insert_private_target(state, &txn, creds, region).await?;
                let kept = mayfly_app::rotation::schedule::of_target(&txn, old_target.id).await?;
                if kept.interval_days > 0 {
                    mayfly_app::rotation::schedule::set_interval(&txn, t.id, kept.interval_days)
                        .await?;
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
        return Err(ApiError::conflict(
            "the dynamic secret was deleted meanwhile",
        ));
    }
    if let Some(id) = orphaned_private {
        // Deleted now if no live credential needs its key; otherwise after the last one ends.
        targets::delete_unneeded_hidden(&txn, Some(id)).await?;
    }
    apply_rotation(&txn, &req, &target).await?;
    commit(txn).await?;
    let row = producers::find_by_name(state.db(), input.name.as_str())
        .await?
        .ok_or_else(|| ApiError::conflict("the dynamic secret was deleted meanwhile"))?;
    tracing::info!(producer = %row.name, "dynamic secret updated");
    present(state, &row, &input.spec, &target)
        .await
        .map(|d| hide_unlisted_target(caller, d))
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<response::ProducerDetails> {
    let name = parse_name(&req.name)?;
    authorize(caller, Capability::Read, ResourceKind::Item, name.as_str())?;
    let view = mayfly_app::resolve::view(state, &name).await?;
    present_with(
        state,
        &view.row,
        &view.spec,
        &view.target,
        view.rotation_days,
    )
    .map(|d| hide_unlisted_target(caller, d))
}

/// A target's name is shown only to callers who may `list` that target.
fn hide_unlisted_target(
    caller: &Caller,
    mut details: response::ProducerDetails,
) -> response::ProducerDetails {
    details
        .item_targets_assoc
        .retain(|a| mayfly_app::access::listed(caller, ResourceKind::Target, None, &a.target_name));
    details
}

pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<response::ProducersList> {
    let rows = producers::list(state.db()).await?;
    Ok(response::ProducersList {
        producers: rows
            .into_iter()
            .filter(|p| authorize(caller, Capability::List, ResourceKind::Item, &p.name).is_ok())
            .map(|p| response::ProducerSummary {
                id: p.id,
                name: p.name,
                producer_type: p.producer_type,
                active: true,
                init: true,
                failure_message: String::new(),
            })
            .collect(),
        producers_errors: Default::default(),
    })
}

/// Deletes a producer; returns its name and how many of its credentials the revoker is now
/// ending. Its private target (inline credentials) goes with it once no live credential needs
/// it: until then the revoker still tears down with that key.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<(String, u64)> {
    let name = parse_name(&req.name)?;
    authorize(
        caller,
        Capability::Delete,
        ResourceKind::Item,
        name.as_str(),
    )?;
    let row = find(state.db(), name.as_str()).await?;
    if is_delete_protected(&row)? {
        return Err(ApiError::conflict(format!(
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
    Ok((name.to_string(), revoking))
}

fn parse_name(raw: &Option<String>) -> ApiResult<ItemName> {
    match given(raw) {
        Some(raw) => ItemName::parse(raw).map_err(|e| ApiError::bad_request(format!("name: {e}"))),
        None => Err(ApiError::bad_request(
            "name: required: the dynamic secret's name, such as /team/aws/s3-reader",
        )),
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "no dynamic secret named {name}; gateway-list-producers shows the existing ones"
    ))
}

async fn find(db: &impl sea_orm::ConnectionTrait, name: &str) -> ApiResult<producer::Model> {
    producers::find_by_name(db, name)
        .await?
        .ok_or_else(|| not_found(name))
}

async fn insert_private_target(
    state: &AppState,
    txn: &DatabaseTransaction,
    creds: &AwsCredentials,
    region: &str,
) -> ApiResult<target::Model> {
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
            is_private: true,
            delete_protection: false,
        },
        creds,
    )
    .await
    .map_err(ApiError::from)
}

/// Applies `enable-admin-rotation` / `admin-rotation-interval-days`: they schedule the key
/// rotation of inline credentials (the private target). A dynamic secret on a named target
/// may not turn it on: that key belongs to the target (`rotation-interval-days` there).
async fn apply_rotation(
    txn: &DatabaseTransaction,
    req: &request::AwsProducer,
    target: &target::Model,
) -> ApiResult<()> {
    use mayfly_app::rotation::schedule;
    match schedule::producer_interval(req.enable_admin_rotation, req.admin_rotation_interval_days)? {
        Some(days) if target.is_private => Ok(schedule::set_interval(txn, target.id, days).await?),
        Some(days) if days > 0 => Err(ApiError::bad_request(
            "enable-admin-rotation: rotates inline credentials (aws-access-key-id); this dynamic secret uses a named target: set rotation-interval-days on the target instead",
        )),
        _ => Ok(()),
    }
}

async fn begin(state: &AppState) -> ApiResult<DatabaseTransaction> {
    Ok(mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?)
}

async fn commit(txn: DatabaseTransaction) -> ApiResult<()> {
    Ok(txn.commit().await.map_err(StoreError::from)?)
}

/// The `DSProducerDetails` of a producer. Never includes a secret.
/// The `DSProducerDetails` of a producer, with its target's admin-key rotation schedule.
async fn present(
    state: &AppState,
    row: &producer::Model,
    spec: &ProducerSpec,
    target: &target::Model,
) -> ApiResult<response::ProducerDetails> {
    let schedule = mayfly_app::rotation::schedule::of_target(state.db(), target.id).await?;
    present_with(state, row, spec, target, schedule.interval_days)
}

fn present_with(
    state: &AppState,
    row: &producer::Model,
    spec: &ProducerSpec,
    target: &target::Model,
    rotation_days: u32,
) -> ApiResult<response::ProducerDetails> {
    let join = |items: Vec<&str>| items.join(",");
    // The key id of inline credentials is shown (tools compare it with their configuration);
    // a named target's is not: it belongs to the target.
    let access_key_id = if target.is_private {
        open(state, target)?.access_key_id
    } else {
        String::new()
    };
    let password = spec.password_policy();
    Ok(response::ProducerDetails {
        dynamic_secret_name: row.name.clone(),
        dynamic_secret_id: row.id,
        dynamic_secret_type: "aws".into(),
        dynamic_secret_key: String::new(),
        active: true,
        failure_message: String::new(),
        aws_access_mode: spec.mode().as_str().to_owned(),
        aws_access_key_id: access_key_id,
        aws_secret_access_key: String::new(),
        aws_region: target.region.clone(),
        aws_user_policies: join(spec.policies().iter().map(|p| p.as_str()).collect()),
        aws_user_groups: join(spec.groups().iter().map(|g| g.as_str()).collect()),
        aws_role_arns: join(spec.role_arns().iter().map(|r| r.as_str()).collect()),
        aws_external_id: spec
            .external_id()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default(),
        aws_session_tags: spec.session_tags().to_wire_string(),
        aws_transitive_tag_keys: spec.transitive_tag_keys().to_wire_string(),
        aws_user_console_access: spec.console_access(),
        aws_user_programmatic_access: spec.programmatic_access(),
        user_ttl: spec.ttl().original().to_owned(),
        tags: spec.tags().to_vec(),
        delete_protection: spec.delete_protection(),
        username_template: spec.username_template().as_str().to_owned(),
        password_length: i64::from(password.length()),
        password_policy_info: response::PasswordPolicyInfo {
            password_length: i64::from(password.length()),
            use_capital_letters: password.capital_letters(),
            use_lower_letters: password.lower_letters(),
            use_numbers: password.numbers(),
            use_special_characters: password.special_characters(),
        },
        enable_admin_rotation: rotation_days > 0,
        admin_rotation_interval_days: i64::from(rotation_days),
        use_gw_cloud_identity: false,
        item_targets_assoc: if target.is_private {
            Vec::new()
        } else {
            vec![response::ItemTargetAssoc {
                target_id: target.id,
                target_name: target.name.clone(),
                target_type: target.target_type.clone(),
                assoc_id: format!("ta-{}-{}", target.id, row.id),
            }]
        },
        description: spec.description().unwrap_or_default().to_owned(),
        creation_date: rfc3339(row.created_at),
        modification_date: rfc3339(row.modified_at),
        aws_policy_document: spec
            .policy_document()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default(),
        aws_permissions_boundary: spec
            .permissions_boundary()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        aws_user_path: spec
            .user_path()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        aws_user_tags: spec.user_tags().to_wire_string(),
        max_ttl: spec
            .max_ttl()
            .map(|t| t.original().to_owned())
            .unwrap_or_default(),
    })
}
