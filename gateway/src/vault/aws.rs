//! The AWS secrets engine at the configured mount: roles are Mayfly dynamic secrets of the
//! same path (`roles/team-a/s3` is `/team-a/s3`), creds are issued by the core's
//! `get_value`, and `config/root` is the mount's target.
//!
//! A role write is Vault's create-or-update: fields left out keep their value, including
//! the Mayfly settings Vault has no word for (max-live-credentials, reuse-window, ...), so a
//! role written from either API never loses what the other set. The definition is checked by
//! the same `ProducerSpec::parse` the Akeyless API uses; its errors are reported under
//! Vault's field names.

use std::collections::BTreeMap;

use mayfly_app::{
    dynamic_secrets::{self, AdminRotation, Details, ProducerInput, TargetChoice},
    error::AppError,
    leases::issue::{self, GetValue, Requester},
};
use mayfly_domain::{
    AccessMode, ModeKind, ProducerDraft, ProducerSpec, Ttl, UsernameTemplate, ValidationErrors,
};
use serde_json::{json, Value};

use super::{
    auth::seconds_until, item_name, role_name, wire::ignored_warning, wire::Envelope, Ctx, Reply,
};
use crate::error::{ApiError, ApiResult};

/// The Vault role fields a write understands. `ttl` and `max_ttl` are Mayfly's: the lease of
/// an `iam_user` role (Vault takes it from `config/lease` instead).
const ROLE_FIELDS: &[&str] = &[
    "name",
    "credential_type",
    "policy_arns",
    "policy_document",
    "iam_groups",
    "role_arns",
    "default_sts_ttl",
    "max_sts_ttl",
    "user_path",
    "permissions_boundary_arn",
    "iam_tags",
    "session_tags",
    "external_id",
    "mfa_serial_number",
    "ttl",
    "max_ttl",
];

/// `creds/<name>` and `sts/<name>`: a fresh credential of the dynamic secret, in Vault's
/// shape, with the lease id `<mount>/creds/<name>/<tmp creds id>` (whichever path asked:
/// `sys/leases/*` and `revoke-prefix` then find every credential of a role under one prefix).
pub async fn credentials(cx: &mut Ctx<'_>, raw_name: &str, _sts: bool) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let name = item_name("name", raw_name)?;
    cx.audit.item = name.to_string();
    let mut args = Vec::new();
    if let Some(ttl) = cx.params.seconds("ttl")? {
        if ttl > 0 {
            args.push(format!("ttl={ttl}s"));
        }
    }
    if let Some(arn) = cx.params.string("role_arn")? {
        args.push(format!("role_arn={arn}"));
    }
    let mut warnings = Vec::new();
    if cx.params.has("role_session_name") {
        warnings.push(
            "role_session_name was ignored: Mayfly names each session itself so that it can be revoked"
                .to_owned(),
        );
    }
    let requester = Requester {
        caller: session.caller,
        client_address: cx.client_address(),
    };
    let value = issue::get_value(
        cx.state,
        requester,
        GetValue {
            name: name.clone(),
            args,
            timeout: None,
        },
    )
    .await?;
    let id = value.get("id").cloned().unwrap_or_default();
    cx.audit.detail = format!("issued tmp creds {id}");
    let iam_user = value.contains_key("user");
    let expires_at = value
        .get("expiration")
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or_default();
    let mut data = serde_json::Map::new();
    data.insert(
        "access_key".into(),
        json!(value.get("access_key_id").cloned().unwrap_or_default()),
    );
    data.insert(
        "secret_key".into(),
        json!(value.get("secret_access_key").cloned().unwrap_or_default()),
    );
    data.insert(
        "security_token".into(),
        value
            .get("security_token")
            .map_or(Value::Null, |t| json!(t)),
    );
    if let Some(token) = value.get("security_token") {
        data.insert("session_token".into(), json!(token));
    }
    if let Some(user) = value.get("user") {
        // Mayfly extension: the IAM user's name, as the Akeyless API shows it.
        data.insert("username".into(), json!(user));
    }
    let envelope = Envelope {
        lease_id: lease_id(&cx.settings.mount, name.as_str(), &id),
        renewable: iam_user,
        lease_duration: seconds_until(expires_at),
        data: Value::Object(data),
        warnings,
        ..Envelope::data(&cx.request_id(), Value::Null)
    };
    Ok(Reply::Json(envelope.into_json()))
}

/// `<mount>/creds/<name without the leading slash>/<tmp creds id>`.
pub fn lease_id(mount: &str, item: &str, tmp_creds_id: &str) -> String {
    format!("{mount}/creds/{}/{tmp_creds_id}", role_name(item))
}

/// `LIST roles` (every role the caller may list, by full name) or `LIST roles/<folder>`
/// (the roles under that folder, named relative to it). Nothing listed is Vault's 404.
pub async fn list_roles(cx: &mut Ctx<'_>, folder: Option<&str>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let folder = match folder {
        Some(raw) => Some(item_name("folder", raw)?),
        None => None,
    };
    let rows = dynamic_secrets::list(cx.state, &session.caller).await?;
    let mut keys: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let name = mayfly_domain::ItemName::parse(&row.name).ok()?;
            match &folder {
                None => Some(role_name(name.as_str()).to_owned()),
                Some(folder) => name.relative_to(folder.as_str()).map(str::to_owned),
            }
        })
        .collect();
    keys.sort();
    if keys.is_empty() {
        // Nothing to show: an empty folder the caller may list is Vault's 404; a folder
        // its rules do not reach is a 403, as a Vault policy without list on it.
        if let Some(folder) = &folder {
            mayfly_app::access::authorize(
                &session.caller,
                mayfly_app::access::Capability::List,
                mayfly_app::access::ResourceKind::Item,
                &format!("{folder}/*"),
            )?;
        }
        return Ok(Reply::Empty);
    }
    let data = json!({ "keys": keys });
    Ok(Reply::Json(
        Envelope::data(&cx.request_id(), data).into_json(),
    ))
}

pub async fn read_role(cx: &mut Ctx<'_>, raw_name: &str) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let name = item_name("name", raw_name)?;
    cx.audit.item = name.to_string();
    match dynamic_secrets::get(cx.state, &session.caller, &name).await {
        Ok(details) => Ok(Reply::Json(
            Envelope::data(&cx.request_id(), role_data(&details)).into_json(),
        )),
        Err(AppError::NotFound(_)) => Ok(Reply::Empty),
        Err(e) => Err(e.into()),
    }
}

/// A dynamic secret as Vault shows a role: TTLs in integer seconds, tags as maps, never a
/// secret.
fn role_data(d: &Details) -> Value {
    let spec = &d.spec;
    let kind = spec.mode().kind();
    let sts = kind != ModeKind::IamUser;
    let tags = |list: &mayfly_domain::TagList| -> BTreeMap<String, String> {
        list.iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    };
    json!({
        "credential_type": vault_credential_type(kind),
        "policy_arns": spec.policies().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "role_arns": spec.role_arns().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "policy_document": spec.policy_document().map(|p| p.as_str()).unwrap_or_default(),
        "iam_groups": spec.groups().iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "iam_tags": tags(spec.user_tags()),
        "session_tags": tags(spec.session_tags()),
        "external_id": spec.external_id().map(|e| e.as_str()).unwrap_or_default(),
        "default_sts_ttl": if sts { spec.ttl().as_secs() } else { 0 },
        "max_sts_ttl": if sts { spec.max_ttl().map_or(0, Ttl::as_secs) } else { 0 },
        "user_path": spec.user_path().map(|p| p.as_str()).unwrap_or("/"),
        "permissions_boundary_arn": spec.permissions_boundary().map(|p| p.as_str()).unwrap_or_default(),
        "mfa_serial_number": "",
        // Mayfly extensions: every role's lease, whatever its type.
        "ttl": spec.ttl().as_secs(),
        "max_ttl": spec.max_ttl().map_or(0, Ttl::as_secs),
    })
}

fn vault_credential_type(kind: ModeKind) -> &'static str {
    match kind {
        ModeKind::IamUser => "iam_user",
        ModeKind::AssumeRole => "assumed_role",
        ModeKind::FederationToken => "federation_token",
        ModeKind::SessionToken => "session_token",
    }
}

/// Create or update: the role's current definition (when it exists) with the given fields
/// laid over it, checked whole. Updating needs `read` (for the current definition) and
/// `update`; creating needs `create` and `use` on the mount's target.
pub async fn write_role(cx: &mut Ctx<'_>, raw_name: &str) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let name = item_name("name", raw_name)?;
    cx.audit.item = name.to_string();
    let current = match dynamic_secrets::get(cx.state, &session.caller, &name).await {
        Ok(details) => Some(details),
        Err(AppError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let mut draft = match &current {
        Some(d) => draft_of(&d.spec),
        None => ProducerDraft::default(),
    };
    draft.name = Some(name.to_string());
    let iam_user = overlay(cx, &mut draft, current.is_none())?;
    let (_, spec) = ProducerSpec::parse(&draft).map_err(|e| vault_errors(&e, iam_user))?;
    let input = |target| ProducerInput {
        name: name.clone(),
        spec: spec.clone(),
        target,
        admin_rotation: AdminRotation::default(),
    };
    match current {
        None => {
            dynamic_secrets::create(
                cx.state,
                &session.caller,
                input(TargetChoice::Named(cx.settings.target.clone())),
            )
            .await?;
            cx.audit.detail = format!("created on target {}", cx.settings.target);
        }
        Some(_) => {
            let grant = dynamic_secrets::authorize_update(&session.caller, &name)?;
            dynamic_secrets::update(
                cx.state,
                &session.caller,
                grant,
                input(TargetChoice::Unchanged),
                false,
            )
            .await?;
        }
    }
    let warnings: Vec<String> = ignored_warning(&cx.params.unknown(ROLE_FIELDS))
        .into_iter()
        .collect();
    if warnings.is_empty() {
        return Ok(Reply::NoContent);
    }
    Ok(Reply::Json(
        Envelope {
            warnings,
            ..Envelope::data(&cx.request_id(), Value::Null)
        }
        .into_json(),
    ))
}

/// Lays the request's Vault fields over `draft`; returns whether the role is `iam_user`
/// (for naming TTL errors).
fn overlay(cx: &Ctx<'_>, draft: &mut ProducerDraft, creating: bool) -> ApiResult<bool> {
    let p = &cx.params;
    if let Some(kind) = p.string("credential_type")? {
        draft.access_mode = Some(kind);
    } else if creating {
        return Err(ApiError::bad_request(
            "credential_type: required: iam_user, assumed_role, federation_token or session_token",
        ));
    }
    let iam_user = draft
        .access_mode
        .as_deref()
        .and_then(|m| AccessMode::parse(m).ok())
        .is_none_or(|m| m.kind() == ModeKind::IamUser);
    let joined = |v: Vec<String>| Some(v.join(","));
    if let Some(v) = p.list("policy_arns")? {
        draft.user_policies = joined(v);
    }
    if let Some(v) = p.list("iam_groups")? {
        draft.user_groups = joined(v);
    }
    if let Some(v) = p.list("role_arns")? {
        draft.role_arns = joined(v);
    }
    if let Some(doc) = p.get("policy_document") {
        draft.policy_document = Some(match doc {
            Value::String(s) => s,
            other => other.to_string(),
        });
    }
    if let Some(v) = p.string("external_id")? {
        draft.external_id = Some(v);
    }
    if let Some(v) = p.string("permissions_boundary_arn")? {
        draft.permissions_boundary = Some(v);
    }
    if let Some(v) = p.string("user_path")? {
        // Vault's default "/" means "no path of its own": the gateway's IAM path.
        draft.user_path = (v != "/").then_some(v);
    }
    let pairs = |m: BTreeMap<String, String>| {
        Some(
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        )
    };
    if let Some(m) = p.pairs("iam_tags")? {
        draft.user_tags = pairs(m);
    }
    if let Some(m) = p.pairs("session_tags")? {
        draft.session_tags = pairs(m);
    }
    if p.string("mfa_serial_number")?.is_some() {
        return Err(ApiError::bad_request(
            "mfa_serial_number: not supported: Mayfly's session_token roles use the target's key without MFA",
        ));
    }
    let secs = |s: u64| Some(format!("{s}s"));
    for (field, is_max) in [("default_sts_ttl", false), ("max_sts_ttl", true)] {
        if let Some(s) = p.seconds(field)? {
            if iam_user && s > 0 {
                return Err(ApiError::bad_request(format!(
                    "{field}: only valid for the assumed_role, federation_token and session_token credential types; an iam_user role's lease is its ttl and max_ttl"
                )));
            }
            let value = (s > 0).then(|| secs(s)).flatten();
            if is_max {
                draft.max_ttl = value;
            } else if value.is_some() {
                draft.user_ttl = value;
            }
        }
    }
    if let Some(s) = p.seconds("ttl")? {
        draft.user_ttl = (s > 0).then(|| secs(s)).flatten();
    }
    if let Some(s) = p.seconds("max_ttl")? {
        draft.max_ttl = (s > 0).then(|| secs(s)).flatten();
    }
    // Vault's default STS TTL is an hour, capped by max_sts_ttl; Mayfly's default user-ttl
    // (60m) would be refused as longer than a shorter max, so cap it the same way.
    if draft.user_ttl.is_none() {
        if let Some(max) = draft.max_ttl.as_deref().and_then(|m| Ttl::parse(m).ok()) {
            if max.as_secs() < Ttl::default_user_ttl().as_secs() {
                draft.user_ttl = secs(max.as_secs());
            }
        }
    }
    Ok(iam_user)
}

/// The draft that parses back to `spec`: the starting point of an update.
fn draft_of(spec: &ProducerSpec) -> ProducerDraft {
    let join = |items: Vec<&str>| (!items.is_empty()).then(|| items.join(","));
    let wire = |s: String| (!s.is_empty()).then_some(s);
    let password = spec.password_policy();
    let custom_password = *password != mayfly_domain::PasswordPolicy::default();
    ProducerDraft {
        name: None,
        access_mode: Some(spec.mode().as_str().to_owned()),
        user_ttl: Some(spec.ttl().original().to_owned()),
        max_ttl: spec.max_ttl().map(|t| t.original().to_owned()),
        user_policies: join(spec.policies().iter().map(|p| p.as_str()).collect()),
        user_groups: join(spec.groups().iter().map(|g| g.as_str()).collect()),
        role_arns: join(spec.role_arns().iter().map(|r| r.as_str()).collect()),
        external_id: spec.external_id().map(|e| e.as_str().to_owned()),
        session_tags: wire(spec.session_tags().to_wire_string()),
        transitive_tag_keys: wire(spec.transitive_tag_keys().to_wire_string()),
        console_access: Some(spec.console_access()),
        programmatic_access: Some(spec.programmatic_access()),
        password_length: custom_password.then(|| password.length().to_string()),
        use_capital_letters: custom_password.then(|| password.capital_letters().to_string()),
        use_lower_letters: custom_password.then(|| password.lower_letters().to_string()),
        use_numbers: custom_password.then(|| password.numbers().to_string()),
        use_special_characters: custom_password.then(|| password.special_characters().to_string()),
        username_template: spec
            .custom_username_template()
            .filter(|t| t.as_str() != UsernameTemplate::default().as_str())
            .map(|t| t.as_str().to_owned()),
        policy_document: spec.policy_document().map(|d| d.as_str().to_owned()),
        permissions_boundary: spec.permissions_boundary().map(|p| p.as_str().to_owned()),
        user_path: spec.user_path().map(|p| p.as_str().to_owned()),
        user_tags: wire(spec.user_tags().to_wire_string()),
        tags: Some(spec.tags().to_vec()),
        delete_protection: Some(spec.delete_protection().to_string()),
        description: spec.description().map(str::to_owned),
        wait_until_usable: spec
            .wait_until_usable()
            .map(|w| format!("{}s", w.as_secs())),
        caller_session_tags: wire(spec.caller_session_tags().to_wire_string()),
        source_identity: spec.source_identity().map(|t| t.as_str().to_owned()),
        max_live_credentials: spec.max_live_credentials().map(|n| n.to_string()),
        max_issue_rate: spec.max_issue_rate().map(|r| r.to_wire_string()),
        reuse_window: spec.reuse_window().map(|w| format!("{}s", w.as_secs())),
        session_revocation: (spec.mode().kind() != ModeKind::IamUser)
            .then(|| spec.session_revocation().to_string()),
    }
}

/// The checker's errors under Vault's field names (`aws-user-groups` is `iam_groups`).
fn vault_errors(errors: &ValidationErrors, iam_user: bool) -> ApiError {
    let text: Vec<String> = errors
        .iter()
        .map(|e| {
            let field = match e.field {
                "access-mode" => "credential_type",
                "user-ttl" if iam_user => "ttl",
                "user-ttl" => "default_sts_ttl",
                "max-ttl" if iam_user => "max_ttl",
                "max-ttl" => "max_sts_ttl",
                "aws-user-policies" => "policy_arns",
                "aws-user-groups" => "iam_groups",
                "aws-role-arns" => "role_arns",
                "aws-external-id" => "external_id",
                "session-tags" => "session_tags",
                "aws-policy-document" => "policy_document",
                "aws-permissions-boundary" => "permissions_boundary_arn",
                "aws-user-path" => "user_path",
                "aws-user-tags" => "iam_tags",
                other => other,
            };
            format!("{field}: {}", e.message)
        })
        .collect();
    ApiError::bad_request(text.join("; "))
}

/// Deleting a role deletes the dynamic secret (its IAM users are revoked first, as on the
/// Akeyless API). Deleting one that does not exist succeeds, as in Vault.
pub async fn delete_role(cx: &mut Ctx<'_>, raw_name: &str) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let name = item_name("name", raw_name)?;
    cx.audit.item = name.to_string();
    match dynamic_secrets::delete(cx.state, &session.caller, &name).await {
        Ok(revoking) => {
            cx.audit.detail = format!("deleted; revoking {revoking} credential(s)");
            Ok(Reply::NoContent)
        }
        Err(AppError::NotFound(_)) => Ok(Reply::NoContent),
        Err(e) => Err(e.into()),
    }
}

/// `config/root`: the mount's target, never its secret (nor its key id: showing that needs
/// the target's secret opened, which a read of settings should not do).
pub async fn read_config_root(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let target = cx.settings.target.clone();
    cx.audit.item = target.to_string();
    let (row, _) = mayfly_app::targets::read(cx.state, &session.caller, &target).await?;
    let data = json!({
        "region": row.region,
        "iam_endpoint": row.iam_endpoint.clone().unwrap_or_default(),
        "sts_endpoint": row.sts_endpoint.clone().unwrap_or_default(),
        "max_retries": -1,
    });
    Ok(Reply::Json(
        Envelope::data(&cx.request_id(), data).into_json(),
    ))
}

/// Writes the mount's target: created when missing (`create` on it), else only the given
/// fields change (`update`). Endpoints need `read` on the target, as on the Akeyless API.
pub async fn write_config_root(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let target = cx.settings.target.clone();
    cx.audit.item = target.to_string();
    let p = &cx.params;
    let mut body = serde_json::Map::new();
    body.insert("name".into(), json!(target.as_str()));
    for (vault, akeyless) in [
        ("access_key", "access-key-id"),
        ("secret_key", "access-key"),
        ("session_token", "session-token"),
        ("region", "region"),
        ("iam_endpoint", "iam-endpoint"),
        ("sts_endpoint", "sts-endpoint"),
    ] {
        if let Some(v) = p.string(vault)? {
            body.insert(akeyless.into(), json!(v));
        }
    }
    let creating_body = {
        let mut b = body.clone();
        // Vault's default region.
        b.entry("region").or_insert_with(|| json!("us-east-1"));
        Value::Object(b)
    };
    let create: mayfly_api_types::request::AwsTarget = crate::call::parse(&creating_body)?;
    let state = cx.state;
    // Created when it can be; otherwise (it exists, or this caller may only update it, or
    // a new target would lack its key) the given fields are applied to the existing one,
    // and when there is none the creation's own refusal is the answer.
    let refused = match crate::routes::target_input::parse_new(&create, state.outbound()) {
        Ok(input) => match mayfly_app::targets::create(state, &session.caller, input).await {
            Ok(_) => None,
            Err(e @ (AppError::Conflict(_) | AppError::Denied(_))) => Some(ApiError::from(e)),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => Some(config_errors(errors)),
    };
    match refused {
        None => cx.audit.detail = "target created".into(),
        Some(refusal) => {
            let update: mayfly_api_types::request::AwsTarget =
                crate::call::parse(&Value::Object(body))?;
            let changes = crate::routes::target_input::parse_changes(&update, state.outbound())
                .map_err(config_errors)?;
            match mayfly_app::targets::update(state, &session.caller, changes).await {
                Ok(_) => cx.audit.detail = "target updated".into(),
                Err(AppError::NotFound(_)) => return Err(refusal),
                Err(e) => return Err(e.into()),
            }
        }
    }
    let unknown = cx.params.unknown(&[
        "access_key",
        "secret_key",
        "session_token",
        "region",
        "iam_endpoint",
        "sts_endpoint",
        "max_retries",
    ]);
    match ignored_warning(&unknown) {
        None => Ok(Reply::NoContent),
        Some(w) => Ok(Reply::Json(
            Envelope {
                warnings: vec![w],
                ..Envelope::data(&cx.request_id(), Value::Null)
            }
            .into_json(),
        )),
    }
}

fn config_errors(errors: ValidationErrors) -> ApiError {
    let text: Vec<String> = errors
        .iter()
        .map(|e| {
            let field = match e.field {
                "access-key-id" => "access_key",
                "access-key" => "secret_key",
                "session-token" => "session_token",
                "iam-endpoint" => "iam_endpoint",
                "sts-endpoint" => "sts_endpoint",
                other => other,
            };
            format!("{field}: {}", e.message)
        })
        .collect();
    ApiError::bad_request(text.join("; "))
}

/// `config/lease`: Mayfly has no mount-wide lease; each role has its own (`ttl`, and
/// `max_ttl`). A read answers what a new `iam_user` role gets; a write is refused with
/// where the setting lives.
pub async fn read_config_lease(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    cx.session().await?;
    let lease = Ttl::default_user_ttl().as_secs();
    let data = json!({
        "lease": super::wire::go_duration(lease),
        "lease_max": super::wire::go_duration(lease),
    });
    Ok(Reply::Json(
        Envelope::data(&cx.request_id(), data).into_json(),
    ))
}

pub async fn write_config_lease(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    cx.session().await?;
    Err(ApiError::bad_request(
        "config/lease: Mayfly keeps the lease per role: write ttl and max_ttl on roles/<name> (iam_user), or default_sts_ttl and max_sts_ttl (STS types)",
    ))
}
