//! Dynamic secrets (AWS producers) for the Akeyless API: requests parsed (every field checked
//! at once) into the core's `mayfly_app::dynamic_secrets` commands, which authorize and do the
//! work; dynamic secrets shown as `DSProducerDetails`.

use mayfly_api_types::{request, response};
use mayfly_app::{
    access::{Caller, ResourceKind},
    dynamic_secrets::{self, AdminRotation, Details, ProducerInput, TargetChoice},
    state::AppState,
    targets::AwsCredentials,
    time::rfc3339,
};
use mayfly_domain::{ItemName, ProducerDraft, ProducerSpec, ValidationErrors};

use super::{given, required_name, target_input};
use crate::error::ApiResult;

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
        wait_until_usable: req.wait_until_usable.clone(),
        caller_session_tags: req.caller_session_tags.clone(),
        source_identity: req.source_identity.clone(),
        max_live_credentials: req.max_live_credentials.clone(),
        max_issue_rate: req.max_issue_rate.clone(),
        reuse_window: req.reuse_window.clone(),
        session_revocation: req.session_revocation.clone(),
    }
}

/// Parses the definition and the target choice together, so every problem is reported in
/// one answer. `name` is the name the producer will have (the new name on a rename).
pub(crate) fn parse_input(
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
        (Some((name, spec)), Some(target)) if errors.is_empty() => Ok(ProducerInput {
            name,
            spec,
            target,
            admin_rotation: AdminRotation {
                enable: req.enable_admin_rotation,
                interval_days: req.admin_rotation_interval_days,
            },
        }),
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
                    secret_access_key: secret.into(),
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
    let created = dynamic_secrets::create(state, caller, input).await?;
    Ok(present(&created))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: request::AwsProducer,
) -> ApiResult<response::ProducerDetails> {
    let current_name = parse_name(&req.name)?;
    let grant = dynamic_secrets::authorize_update(caller, &current_name)?;
    let new_name = given(&req.new_name).map(str::to_owned);
    let renamed = new_name.is_some();
    let input = parse_input(
        &req,
        Some(new_name.unwrap_or_else(|| current_name.to_string())),
        false,
    )?;
    let updated = dynamic_secrets::update(state, caller, grant, input, renamed).await?;
    Ok(hide_unlisted_target(caller, present(&updated)))
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<response::ProducerDetails> {
    let name = parse_name(&req.name)?;
    let details = dynamic_secrets::get(state, caller, &name).await?;
    Ok(hide_unlisted_target(caller, present(&details)))
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
    let rows = dynamic_secrets::list(state, caller).await?;
    Ok(response::ProducersList {
        producers: rows
            .into_iter()
            .map(|p| response::ProducerSummary {
                id: p.id.get(),
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

/// Deletes a dynamic secret; returns its name and how many of its credentials the revoker is
/// now ending.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<(String, u64)> {
    let name = parse_name(&req.name)?;
    let revoking = dynamic_secrets::delete(state, caller, &name).await?;
    Ok((name.to_string(), revoking))
}

fn parse_name(raw: &Option<String>) -> ApiResult<ItemName> {
    required_name(
        "name",
        raw,
        "the dynamic secret's name, such as /team/aws/s3-reader",
    )
}

/// The `DSProducerDetails` of a dynamic secret. Never includes a secret.
pub(crate) fn present(d: &Details) -> response::ProducerDetails {
    let Details {
        row,
        spec,
        target,
        rotation_days,
        inline_access_key_id,
    } = d;
    let rotation_days = *rotation_days;
    let join = |items: Vec<&str>| items.join(",");
    let password = spec.password_policy();
    response::ProducerDetails {
        dynamic_secret_name: row.name.clone(),
        dynamic_secret_id: row.id.get(),
        dynamic_secret_type: "aws".into(),
        dynamic_secret_key: String::new(),
        active: true,
        failure_message: String::new(),
        aws_access_mode: spec.mode().as_str().to_owned(),
        aws_access_key_id: inline_access_key_id.clone().unwrap_or_default(),
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
                target_id: target.id.get(),
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
        wait_until_usable: spec
            .wait_until_usable()
            .map(|w| format!("{}s", w.as_secs()))
            .unwrap_or_else(|| "false".into()),
        caller_session_tags: spec.caller_session_tags().to_wire_string(),
        source_identity: spec
            .source_identity()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        max_live_credentials: spec
            .max_live_credentials()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        max_issue_rate: spec
            .max_issue_rate()
            .map(|r| r.to_wire_string())
            .unwrap_or_default(),
        reuse_window: spec
            .reuse_window()
            .map(|w| format!("{}s", w.as_secs()))
            .unwrap_or_default(),
        session_revocation: spec.session_revocation(),
    }
}
