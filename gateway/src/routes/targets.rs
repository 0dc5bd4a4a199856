//! AWS targets for the Akeyless API: requests parsed (every field checked at once) into the
//! core's `mayfly_app::targets` commands, which authorize and do the work; targets shown as
//! Akeyless targets. Only `get-target-details` carries a target's secret.

use mayfly_api_types::{request, response};
use mayfly_app::{
    access::Caller,
    state::AppState,
    targets::{self, TargetChanges},
    time::rfc3339,
};
use mayfly_domain::{CredentialSource, ItemName};
use mayfly_store::entity::{producer, target};
use secrecy::ExposeSecret;

use super::target_input;
use crate::error::ApiResult;

pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: request::AwsTarget,
) -> ApiResult<response::TargetId> {
    let mut input = target_input::parse_new(&req, state.outbound())?;
    input.rotation_days = rotation_days(&req)?;
    let row = targets::create(state, caller, input).await?;
    Ok(response::TargetId {
        target_id: row.id.get(),
    })
}

/// Applies an update; returns the target id.
pub async fn update(state: &AppState, caller: &Caller, req: request::AwsTarget) -> ApiResult<i64> {
    let mut changes: TargetChanges = target_input::parse_changes(&req, state.outbound())?;
    changes.rotation_days = rotation_days(&req)?;
    Ok(targets::update(state, caller, changes).await?.get())
}

fn parse_name(raw: &Option<String>) -> ApiResult<ItemName> {
    super::required_name("name", raw, "the target's name, such as /team/aws/admin")
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<response::Target> {
    let (row, users) = targets::read(state, caller, &parse_name(&req.name)?).await?;
    Ok(present(&row, &users))
}

pub async fn get_details(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<response::TargetDetails> {
    let (row, users, creds) = targets::read_secret(state, caller, &parse_name(&req.name)?).await?;
    let access = targets::access_of(&row)?;
    let (identity_arn, identity_error) = match mayfly_app::leases::identity_of(state, &row).await? {
        None => (String::new(), String::new()),
        Some(Ok(arn)) => (arn, String::new()),
        Some(Err(why)) => (String::new(), why),
    };
    let role = access.role.as_ref();
    Ok(response::TargetDetails {
        target: present(&row, &users),
        value: response::TargetDetailsValue {
            aws_target_details: response::AwsTargetDetails {
                aws_access_key_id: creds
                    .as_ref()
                    .map(|c| c.access_key_id.clone())
                    .unwrap_or_default(),
                aws_secret_access_key: creds
                    .as_ref()
                    .map(|c| c.secret_access_key.expose_secret().to_owned())
                    .unwrap_or_default(),
                aws_region: row.region.clone(),
                aws_session_token: creds
                    .and_then(|c| c.session_token)
                    .map(|t| t.expose_secret().to_owned())
                    .unwrap_or_default(),
                use_gw_cloud_identity: access.source == CredentialSource::GatewayIdentity,
                gw_cloud_identity_external_id_opt: response::AwsGatewayCloudIdentityExternalIdOpt {
                    is_enabled: role.is_some_and(|r| r.external_id.is_some()),
                    generated_external_id: role
                        .and_then(|r| r.external_id.clone())
                        .unwrap_or_default(),
                    role_arn: role.map(|r| r.role_arn.clone()).unwrap_or_default(),
                },
                credential_source: access.source.as_str().to_owned(),
                role_arn: role.map(|r| r.role_arn.clone()).unwrap_or_default(),
                role_session_name: role.map(|r| r.session_name.clone()).unwrap_or_default(),
                role_session_duration: role.map_or(0, |r| i64::from(r.duration_secs)),
                identity_arn,
                identity_error,
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
    let found = if wants_aws {
        targets::list(state, caller, filter.as_deref()).await?
    } else {
        Vec::new()
    };
    Ok(response::ListTargets {
        targets: found
            .iter()
            .map(|(row, users)| present(row, users))
            .collect(),
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
    let name = parse_name(&req.name)?;
    Ok(targets::delete(state, caller, &name, req.force_deletion == Some(true)).await?)
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
        target_id: row.id.get(),
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
                item_id: p.id.get(),
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
