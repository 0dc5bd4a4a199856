//! Auth methods (API keys), roles, rules and their associations, and token revocation, for
//! the Akeyless API: names and fields checked here, the operations (and their authorization)
//! in the core's `mayfly_app::{auth_methods, roles, authn}`.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use mayfly_api_types::{access as dto, response};
use mayfly_app::time::rfc3339;
use mayfly_domain::{AwsIamSettings, ItemName, JwksSource, JwtSettings, K8sSettings, SubClaims};
use secrecy::ExposeSecret;

use super::given;
use crate::error::{ApiError, ApiResult};
use mayfly_app::access::AuditAccess;
use mayfly_app::access::Caller;
use mayfly_app::access::{Capability, ResourceKind};
use mayfly_app::state::AppState;
use mayfly_app::{auth_methods, roles};

fn parse_name(field: &str, raw: &Option<String>, what: &str) -> ApiResult<ItemName> {
    super::required_name(
        field,
        raw,
        &format!("the {what}'s name, such as /ci/deployer"),
    )
}

fn check_description(raw: Option<&String>) -> ApiResult<String> {
    match raw {
        Some(d) if d.chars().count() > 1024 => Err(ApiError::bad_request(
            "description: at most 1024 characters",
        )),
        Some(d) => Ok(d.trim().to_owned()),
        None => Ok(String::new()),
    }
}

pub async fn create_auth_method(
    state: &AppState,
    caller: &Caller,
    req: dto::CreateAuthMethod,
) -> ApiResult<dto::CreateAuthMethodOutput> {
    let name = parse_name("name", &req.name, "auth method")?;
    let description = check_description(req.description.as_ref())?;
    let created = auth_methods::create(
        state,
        caller,
        auth_methods::NewApiKey {
            name,
            description,
            delete_protection: req.delete_protection.unwrap_or(false),
        },
    )
    .await?;
    Ok(dto::CreateAuthMethodOutput {
        access_id: created.access_id,
        access_key: created.access_key.expose_secret().to_owned(),
        name: created.name.to_string(),
    })
}

fn present_auth_method(v: auth_methods::AuthMethodView) -> dto::AuthMethod {
    let m = v.method;
    dto::AuthMethod {
        auth_method_name: m.name,
        auth_method_access_id: m.access_id,
        description: m.description,
        delete_protection: m.delete_protection,
        creation_date: rfc3339(m.created_at),
        modification_date: rfc3339(m.created_at),
        access_info: dto::AuthMethodAccessInfo {
            rules_type: m.method_type,
            oauth2_access_rules: v.jwt.map(present_jwt_settings),
            k8s_access_rules: v.k8s.map(|k| dto::KubernetesAccessRules {
                k8s_auth_configs: v.k8s_configs,
                audience: k.audiences.join(","),
                bound_namespaces: k.bound_namespaces,
                bound_service_account_names: k.bound_sa_names,
                bound_pod_names: k.bound_pod_names,
                issuer: k.issuer.unwrap_or_default(),
                jwks_json_data: k.jwks.map(|j| BASE64.encode(j)).unwrap_or_default(),
                force_sub_claims: k.force_sub_claims,
            }),
            aws_iam_access_rules: v.aws_iam.map(|a| dto::AwsIamAccessRules {
                account_id: a.bound_account_ids,
                arn: a.bound_arns,
                role_name: a.bound_role_names,
                user_name: a.bound_user_names,
                role_id: a.bound_role_ids,
                user_id: a.bound_user_ids,
                sts_endpoint: a.sts_url,
            }),
        },
        auth_method_roles_assoc: v
            .roles
            .into_iter()
            .map(|held| dto::AuthMethodRoleAssoc {
                assoc_id: held.assoc_id,
                role_name: held.role_name,
                is_sub_claims_case_sensitive: held.sub_claims.case_sensitive
                    || held.sub_claims.is_empty(),
                auth_method_sub_claims: held.sub_claims.claims,
            })
            .collect(),
    }
}

fn present_jwt_settings(s: JwtSettings) -> dto::OAuth2AccessRules {
    let (jwks_uri, jwks_json_data) = match s.jwks {
        JwksSource::Uri(u) => (u, String::new()),
        JwksSource::Inline(json) => (String::new(), BASE64.encode(json)),
    };
    dto::OAuth2AccessRules {
        jwks_uri,
        jwks_json_data,
        issuer: s.issuer.unwrap_or_default(),
        audience: s.audiences.join(","),
        unique_identifier: s.unique_identifier,
        bound_clients_id: s.bound_client_ids,
        bound_claims: s.bound_claims.claims,
        force_sub_claims: s.force_sub_claims,
        jwt_ttl: s.token_ttl_minutes.map_or(0, i64::from),
        access_expires: s.access_expires.unwrap_or(0),
    }
}

/// `create-auth-method-oauth2`: every field checked here; the keys are checked by the core.
pub async fn create_auth_method_oauth2(
    state: &AppState,
    caller: &Caller,
    req: dto::CreateAuthMethodOAuth2,
) -> ApiResult<dto::CreatedAuthMethodId> {
    let new = new_method(
        &req.name,
        req.description.as_ref(),
        req.delete_protection,
        || {
            let jwks = jwks_source(&req.jwks_uri, &req.jwks_json_data)?;
            let bound_claims = SubClaims::parse(
                "bound-claims",
                &req.bound_claims.clone().unwrap_or_default(),
                true,
            )
            .map_err(ApiError::bad_request)?;
            let token_ttl_minutes = parse_jwt_ttl(req.jwt_ttl)?;
            let access_expires = parse_access_expires(req.access_expires)?;
            Ok(JwtSettings {
                jwks,
                issuer: given(&req.issuer).map(str::to_owned),
                audiences: clean_list(req.audience),
                unique_identifier: given(&req.unique_identifier).unwrap_or_default().to_owned(),
                bound_client_ids: clean_list(req.bound_client_ids),
                bound_claims,
                force_sub_claims: req.force_sub_claims.unwrap_or(false),
                token_ttl_minutes,
                access_expires,
            })
        },
    )?;
    let access_id = auth_methods::create_secretless(state, caller, new).await?;
    Ok(dto::CreatedAuthMethodId { access_id })
}

/// `create-auth-method-k8s`: every field checked here; the keys are checked by the core.
pub async fn create_auth_method_k8s(
    state: &AppState,
    caller: &Caller,
    req: dto::CreateAuthMethodK8s,
) -> ApiResult<dto::CreatedAuthMethodId> {
    let new = new_method(
        &req.name,
        req.description.as_ref(),
        req.delete_protection,
        || {
            let jwks = given(&req.jwks_json_data).map(decode_jwks).transpose()?;
            Ok(K8sSettings {
                jwks,
                issuer: given(&req.k8s_issuer).map(str::to_owned),
                audiences: clean_list(req.audience),
                bound_namespaces: clean_list(req.bound_namespaces),
                bound_sa_names: clean_list(req.bound_sa_names),
                bound_pod_names: clean_list(req.bound_pod_names),
                force_sub_claims: req.force_sub_claims.unwrap_or(false),
                token_ttl_minutes: parse_jwt_ttl(req.jwt_ttl)?,
                access_expires: parse_access_expires(req.access_expires)?,
            })
        },
    )?;
    let access_id = auth_methods::create_secretless(state, caller, new).await?;
    Ok(dto::CreatedAuthMethodId { access_id })
}

/// `create-auth-method-aws-iam`: every field checked here; the sts-url by the core.
pub async fn create_auth_method_aws_iam(
    state: &AppState,
    caller: &Caller,
    req: dto::CreateAuthMethodAwsIam,
) -> ApiResult<dto::CreatedAuthMethodId> {
    let new = new_method(
        &req.name,
        req.description.as_ref(),
        req.delete_protection,
        || {
            Ok(AwsIamSettings {
                bound_account_ids: clean_list(req.bound_aws_account_id),
                bound_arns: clean_list(req.bound_arn),
                bound_role_names: clean_list(req.bound_role_name),
                bound_user_names: clean_list(req.bound_user_name),
                bound_role_ids: clean_list(req.bound_role_id),
                bound_user_ids: clean_list(req.bound_user_id),
                sts_url: given(&req.sts_url)
                    .unwrap_or(mayfly_domain::auth_method::DEFAULT_STS_URL)
                    .to_owned(),
                force_sub_claims: req.force_sub_claims.unwrap_or(false),
                token_ttl_minutes: parse_jwt_ttl(req.jwt_ttl)?,
                access_expires: parse_access_expires(req.access_expires)?,
            })
        },
    )?;
    let access_id = auth_methods::create_secretless(state, caller, new).await?;
    Ok(dto::CreatedAuthMethodId { access_id })
}

/// The name, description and delete protection every auth method creation takes, checked in
/// that order before the kind's own `settings`.
fn new_method<S>(
    name: &Option<String>,
    description: Option<&String>,
    delete_protection: Option<bool>,
    settings: impl FnOnce() -> ApiResult<S>,
) -> ApiResult<auth_methods::NewMethod<S>> {
    Ok(auth_methods::NewMethod {
        name: parse_name("name", name, "auth method")?,
        description: check_description(description)?,
        delete_protection: delete_protection.unwrap_or(false),
        settings: settings()?,
    })
}

/// Where a JWT method's keys come from: `jwks-uri` or `jwks-json-data`, exactly one.
fn jwks_source(uri: &Option<String>, data: &Option<String>) -> ApiResult<JwksSource> {
    match (given(uri), given(data)) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "jwks-uri and jwks-json-data: give one of them, not both",
        )),
        (Some(uri), None) => Ok(JwksSource::Uri(uri.to_owned())),
        (None, Some(data)) => Ok(JwksSource::Inline(decode_jwks(data)?)),
        (None, None) => Err(ApiError::bad_request(
            "jwks-uri: required: where the issuer publishes its keys (e.g. https://token.actions.githubusercontent.com/.well-known/jwks), or give them inline with jwks-json-data",
        )),
    }
}

/// `jwks-json-data`: base64 of a JWKS JSON document.
pub(super) fn decode_jwks(data: &str) -> ApiResult<String> {
    let bytes = BASE64.decode(data.as_bytes()).map_err(|_| {
        ApiError::bad_request(
            "jwks-json-data: not base64; give the JWKS JSON document base64-encoded",
        )
    })?;
    String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("jwks-json-data: the decoded JWKS is not UTF-8 text"))
}

/// `jwt-ttl`: minutes, 0 for the gateway's token lifetime.
fn parse_jwt_ttl(raw: Option<i64>) -> ApiResult<Option<u32>> {
    match raw {
        None | Some(0) => Ok(None),
        Some(m) => Ok(Some(u32::try_from(m).ok().filter(|m| *m <= 7 * 24 * 60).ok_or_else(|| {
            ApiError::bad_request("jwt-ttl: minutes between 0 (the gateway's token lifetime) and 10080 (a week)")
        })?)),
    }
}

/// `access-expires`: Unix seconds, 0 for never.
fn parse_access_expires(raw: Option<i64>) -> ApiResult<Option<i64>> {
    match raw {
        None | Some(0) => Ok(None),
        Some(t) if t > 0 => Ok(Some(t)),
        Some(_) => Err(ApiError::bad_request(
            "access-expires: a Unix time in seconds, or 0 for never",
        )),
    }
}

/// Trimmed, without empty entries.
fn clean_list(list: Option<Vec<String>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

pub async fn get_auth_method(
    state: &AppState,
    caller: &Caller,
    req: response_named::Named,
) -> ApiResult<dto::AuthMethod> {
    let name = parse_name("name", &req.name, "auth method")?;
    Ok(present_auth_method(
        auth_methods::get(state, caller, &name).await?,
    ))
}

pub async fn list_auth_methods(
    state: &AppState,
    caller: &Caller,
    req: dto::ListFiltered,
) -> ApiResult<dto::ListAuthMethodsOutput> {
    let filter = given(&req.filter).map(str::to_lowercase);
    let methods = auth_methods::list(state, caller, filter.as_deref()).await?;
    Ok(dto::ListAuthMethodsOutput {
        auth_methods: methods.into_iter().map(present_auth_method).collect(),
        next_page: String::new(),
    })
}

/// Deletes an auth method; its tokens stop working at once (they are deleted with it).
pub async fn delete_auth_method(
    state: &AppState,
    caller: &Caller,
    req: response_named::Named,
) -> ApiResult<dto::DeleteAuthMethodOutput> {
    let name = parse_name("name", &req.name, "auth method")?;
    auth_methods::delete(state, caller, &name).await?;
    Ok(dto::DeleteAuthMethodOutput {
        name: name.to_string(),
    })
}

/// Gives an auth method a new access key, returned once, and how many tokens were revoked
/// (for the audit record; the key never goes there).
pub async fn reset_access_key(
    state: &AppState,
    caller: &Caller,
    req: dto::ResetAccessKey,
) -> ApiResult<(dto::ResetAuthMethodAccessKeyOutput, u64)> {
    let name = parse_name("name", &req.name, "auth method")?;
    let (access_key, revoked) = auth_methods::reset_key(state, caller, &name).await?;
    Ok((
        dto::ResetAuthMethodAccessKeyOutput {
            access_key: access_key.expose_secret().to_owned(),
        },
        revoked,
    ))
}

/// Sets or lifts delete protection and changes the description of an auth method. Returns
/// the output and a description of the change for the audit record.
pub async fn update_auth_method(
    state: &AppState,
    caller: &Caller,
    req: dto::UpdateAuthMethod,
) -> ApiResult<(dto::AuthMethodUpdateOutput, String)> {
    let name = parse_name("name", &req.name, "auth method")?;
    if let Some(new_name) = given(&req.new_name) {
        if new_name != name.as_str() {
            return Err(ApiError::bad_request(
                "new-name: renaming an auth method is not supported; create a new one, move its roles (assoc-role-am) and delete the old one",
            ));
        }
    }
    for (field, list) in [
        ("bound-ips", &req.bound_ips),
        ("gw-bound-ips", &req.gw_bound_ips),
    ] {
        if list
            .as_ref()
            .is_some_and(|l| l.iter().any(|ip| !ip.trim().is_empty()))
        {
            return Err(ApiError::bad_request(format!(
                "{field}: not supported by Mayfly; leave it empty (restrict clients at the network or proxy instead)"
            )));
        }
    }
    let description = match req.description.as_ref() {
        Some(_) => Some(check_description(req.description.as_ref())?),
        None => None,
    };
    let detail = auth_methods::update(
        state,
        caller,
        &name,
        auth_methods::AuthMethodChanges {
            description,
            delete_protection: req.delete_protection,
        },
    )
    .await?;
    Ok((
        dto::AuthMethodUpdateOutput {
            name: name.to_string(),
        },
        detail,
    ))
}

/// The name and common changes of a workload-identity method update: renaming is refused
/// as for API keys.
fn common_update(
    name: &Option<String>,
    new_name: &Option<String>,
    description: Option<&String>,
    delete_protection: Option<bool>,
) -> ApiResult<(ItemName, auth_methods::AuthMethodChanges)> {
    let name = parse_name("name", name, "auth method")?;
    if given(new_name).is_some_and(|n| n != name.as_str()) {
        return Err(ApiError::bad_request(
            "new-name: renaming an auth method is not supported; create a new one, move its roles (assoc-role-am) and delete the old one",
        ));
    }
    let description = match description {
        Some(d) => Some(check_description(Some(d))?),
        None => None,
    };
    Ok((
        name,
        auth_methods::AuthMethodChanges {
            description,
            delete_protection,
        },
    ))
}

/// What every secretless method's update may send besides its kind's settings:
/// `force-sub-claims`, `jwt-ttl` (minutes) and `access-expires` (Unix seconds), each `None`
/// when not sent (a sent value may itself clear: `Some(None)`).
struct SentCommon {
    force_sub_claims: Option<bool>,
    token_ttl_minutes: Option<Option<u32>>,
    access_expires: Option<Option<i64>>,
}

impl SentCommon {
    fn parse(
        force_sub_claims: Option<bool>,
        jwt_ttl: Option<i64>,
        access_expires: Option<i64>,
    ) -> ApiResult<SentCommon> {
        Ok(SentCommon {
            force_sub_claims,
            token_ttl_minutes: jwt_ttl.map(|t| parse_jwt_ttl(Some(t))).transpose()?,
            access_expires: access_expires
                .map(|t| parse_access_expires(Some(t)))
                .transpose()?,
        })
    }

    /// Overlays what was sent on the stored values.
    fn apply(self, force: &mut bool, ttl: &mut Option<u32>, expires: &mut Option<i64>) {
        if let Some(on) = self.force_sub_claims {
            *force = on;
        }
        if let Some(t) = self.token_ttl_minutes {
            *ttl = t;
        }
        if let Some(at) = self.access_expires {
            *expires = at;
        }
    }
}

fn updated(name: ItemName, detail: String) -> (dto::AuthMethodUpdateOutput, String) {
    (
        dto::AuthMethodUpdateOutput {
            name: name.to_string(),
        },
        detail,
    )
}

/// `update-auth-method-oauth2`: every field sent replaces the stored one; checked as at
/// creation (the JWKS fetched again when its URL is sent).
pub async fn update_auth_method_oauth2(
    state: &AppState,
    caller: &Caller,
    req: dto::UpdateAuthMethodOAuth2,
) -> ApiResult<(dto::AuthMethodUpdateOutput, String)> {
    let f = req.fields;
    let (name, changes) = common_update(
        &f.name,
        &req.new_name,
        f.description.as_ref(),
        f.delete_protection,
    )?;
    let jwks = match (given(&f.jwks_uri), given(&f.jwks_json_data)) {
        (None, None) => None,
        _ => Some(jwks_source(&f.jwks_uri, &f.jwks_json_data)?),
    };
    let bound_claims = f
        .bound_claims
        .as_ref()
        .map(|c| SubClaims::parse("bound-claims", c, true).map_err(ApiError::bad_request))
        .transpose()?;
    let common = SentCommon::parse(f.force_sub_claims, f.jwt_ttl, f.access_expires)?;
    let detail =
        auth_methods::update_secretless(state, caller, &name, changes, |mut s: JwtSettings| {
            if let Some(jwks) = jwks {
                s.jwks = jwks;
            }
            if let Some(issuer) = given(&f.issuer) {
                s.issuer = Some(issuer.to_owned());
            }
            if f.audience.is_some() {
                s.audiences = clean_list(f.audience);
            }
            if let Some(id) = given(&f.unique_identifier) {
                id.clone_into(&mut s.unique_identifier);
            }
            if f.bound_client_ids.is_some() {
                s.bound_client_ids = clean_list(f.bound_client_ids);
            }
            if let Some(claims) = bound_claims {
                s.bound_claims = claims;
            }
            common.apply(
                &mut s.force_sub_claims,
                &mut s.token_ttl_minutes,
                &mut s.access_expires,
            );
            Ok(s)
        })
        .await?;
    Ok(updated(name, detail))
}

/// `update-auth-method-k8s`: as `update-auth-method-oauth2`.
pub async fn update_auth_method_k8s(
    state: &AppState,
    caller: &Caller,
    req: dto::UpdateAuthMethodK8s,
) -> ApiResult<(dto::AuthMethodUpdateOutput, String)> {
    let f = req.fields;
    let (name, changes) = common_update(
        &f.name,
        &req.new_name,
        f.description.as_ref(),
        f.delete_protection,
    )?;
    let jwks = given(&f.jwks_json_data).map(decode_jwks).transpose()?;
    let common = SentCommon::parse(f.force_sub_claims, f.jwt_ttl, f.access_expires)?;
    let detail =
        auth_methods::update_secretless(state, caller, &name, changes, |mut s: K8sSettings| {
            if jwks.is_some() {
                s.jwks = jwks;
            }
            if let Some(issuer) = given(&f.k8s_issuer) {
                s.issuer = Some(issuer.to_owned());
            }
            if f.audience.is_some() {
                s.audiences = clean_list(f.audience);
            }
            if f.bound_namespaces.is_some() {
                s.bound_namespaces = clean_list(f.bound_namespaces);
            }
            if f.bound_sa_names.is_some() {
                s.bound_sa_names = clean_list(f.bound_sa_names);
            }
            if f.bound_pod_names.is_some() {
                s.bound_pod_names = clean_list(f.bound_pod_names);
            }
            common.apply(
                &mut s.force_sub_claims,
                &mut s.token_ttl_minutes,
                &mut s.access_expires,
            );
            Ok(s)
        })
        .await?;
    Ok(updated(name, detail))
}

/// `update-auth-method-aws-iam`: as `update-auth-method-oauth2` (the sts-url checked again).
pub async fn update_auth_method_aws_iam(
    state: &AppState,
    caller: &Caller,
    req: dto::UpdateAuthMethodAwsIam,
) -> ApiResult<(dto::AuthMethodUpdateOutput, String)> {
    let f = req.fields;
    let (name, changes) = common_update(
        &f.name,
        &req.new_name,
        f.description.as_ref(),
        f.delete_protection,
    )?;
    let common = SentCommon::parse(f.force_sub_claims, f.jwt_ttl, f.access_expires)?;
    let detail =
        auth_methods::update_secretless(state, caller, &name, changes, |mut s: AwsIamSettings| {
            for (sent, stored) in [
                (f.bound_aws_account_id, &mut s.bound_account_ids),
                (f.bound_arn, &mut s.bound_arns),
                (f.bound_role_name, &mut s.bound_role_names),
                (f.bound_user_name, &mut s.bound_user_names),
                (f.bound_role_id, &mut s.bound_role_ids),
                (f.bound_user_id, &mut s.bound_user_ids),
            ] {
                if sent.is_some() {
                    *stored = clean_list(sent);
                }
            }
            if let Some(url) = given(&f.sts_url) {
                url.clone_into(&mut s.sts_url);
            }
            common.apply(
                &mut s.force_sub_claims,
                &mut s.token_ttl_minutes,
                &mut s.access_expires,
            );
            Ok(s)
        })
        .await?;
    Ok(updated(name, detail))
}

pub async fn create_role(
    state: &AppState,
    caller: &Caller,
    req: dto::CreateRole,
) -> ApiResult<response::Empty> {
    let name = parse_name("name", &req.name, "role")?;
    let description = check_description(req.description.as_ref().or(req.comment.as_ref()))?;
    let audit = match given(&req.audit_access) {
        None => AuditAccess::None,
        Some(raw) => AuditAccess::parse(raw).ok_or_else(|| {
            ApiError::bad_request(format!("audit-access: {raw:?} is not none, own or all"))
        })?,
    };
    roles::create(
        state,
        caller,
        roles::NewRole {
            name,
            description,
            audit_access: audit,
            delete_protection: req.delete_protection.unwrap_or(false),
        },
    )
    .await?;
    Ok(response::Empty {})
}

fn present_role(v: roles::RoleView) -> dto::Role {
    let r = v.role;
    dto::Role {
        role_name: r.name,
        comment: r.description,
        audit_access: r.audit_access,
        delete_protection: r.delete_protection,
        creation_date: rfc3339(r.created_at),
        modification_date: rfc3339(r.modified_at),
        rules: dto::Rules {
            admin: false,
            path_rules: v
                .rules
                .into_iter()
                .map(|x| dto::PathRule {
                    path: x.path,
                    capabilities: x.capabilities.split(',').map(str::to_owned).collect(),
                    rule_type: x.rule_type,
                })
                .collect(),
        },
        role_auth_methods_assoc: v
            .auth_methods
            .into_iter()
            .map(
                |(assoc_id, auth_method_name, auth_method_access_id)| dto::RoleAuthMethodAssoc {
                    assoc_id,
                    auth_method_name,
                    auth_method_access_id,
                },
            )
            .collect(),
    }
}

pub async fn get_role(
    state: &AppState,
    caller: &Caller,
    req: response_named::Named,
) -> ApiResult<dto::Role> {
    let name = parse_name("name", &req.name, "role")?;
    Ok(present_role(roles::get(state, caller, &name).await?))
}

pub async fn list_roles(
    state: &AppState,
    caller: &Caller,
    req: dto::ListFiltered,
) -> ApiResult<dto::ListRolesOutput> {
    let filter = given(&req.filter).map(str::to_lowercase);
    let found = roles::list(state, caller, filter.as_deref()).await?;
    Ok(dto::ListRolesOutput {
        roles: found.into_iter().map(present_role).collect(),
        next_page: String::new(),
    })
}

pub async fn delete_role(
    state: &AppState,
    caller: &Caller,
    req: response_named::Named,
) -> ApiResult<response::Empty> {
    let name = parse_name("name", &req.name, "role")?;
    roles::delete(state, caller, &name).await?;
    Ok(response::Empty {})
}

/// A rule path: `/`-rooted, path characters and `*` globs.
fn parse_rule_path(raw: &Option<String>) -> ApiResult<String> {
    let path =
        given(raw).ok_or_else(|| ApiError::bad_request("path: required, such as /team-a/*"))?;
    let ok = path.starts_with('/')
        && path.len() <= 512
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/*._@+=,-".contains(c));
    if ok {
        Ok(path.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "path: {path:?} must start with / and use letters, digits, . _ @ + = , - / and * (e.g. /team-a/*)"
        )))
    }
}

fn parse_rule_type(raw: &Option<String>) -> ApiResult<ResourceKind> {
    let raw = given(raw).unwrap_or("item-rule");
    ResourceKind::from_rule_type(raw).ok_or_else(|| {
        ApiError::bad_request(format!(
            "rule-type: {raw:?} is not supported; Mayfly has item-rule, target-rule, role-rule and auth-method-rule"
        ))
    })
}

pub async fn set_role_rule(
    state: &AppState,
    caller: &Caller,
    req: dto::RoleRule,
) -> ApiResult<response::Empty> {
    let role_name = parse_name("role-name", &req.role_name, "role")?;
    let path = parse_rule_path(&req.path)?;
    let kind = parse_rule_type(&req.rule_type)?;
    let caps: Vec<String> = req
        .capability
        .unwrap_or_default()
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    if caps.is_empty() {
        return Err(ApiError::bad_request(
            "capability: required: one or more of read, create, update, delete, list, deny (and use, for target-rule)",
        ));
    }
    if let Some(bad) = caps
        .iter()
        .find(|c| Capability::parse(c).is_none() && c.as_str() != "deny")
    {
        return Err(ApiError::bad_request(format!(
            "capability: {bad:?} is not one of read, create, update, delete, list, deny (and use, for target-rule)"
        )));
    }
    // `use` (build producers on a target without reading its secret) means nothing elsewhere.
    if kind != ResourceKind::Target && caps.iter().any(|c| c == "use") {
        return Err(ApiError::bad_request(format!(
            "capability: use applies to targets only (rule-type target-rule), not to {}; for a dynamic secret, read lets a caller get its value",
            kind.rule_type()
        )));
    }
    roles::set_rule(
        state,
        caller,
        &role_name,
        &roles::RuleSpec {
            kind,
            path,
            capabilities: caps,
        },
    )
    .await?;
    Ok(response::Empty {})
}

pub async fn delete_role_rule(
    state: &AppState,
    caller: &Caller,
    req: dto::RoleRule,
) -> ApiResult<dto::DeleteRoleRuleOutput> {
    let role_name = parse_name("role-name", &req.role_name, "role")?;
    let path = parse_rule_path(&req.path)?;
    let kind = parse_rule_type(&req.rule_type)?;
    roles::delete_rule(state, caller, &role_name, kind, &path).await?;
    Ok(dto::DeleteRoleRuleOutput {
        deleted: true,
        result: "deleted".into(),
    })
}

pub async fn assoc_role_am(
    state: &AppState,
    caller: &Caller,
    req: dto::AssocRoleAuthMethod,
) -> ApiResult<dto::CreateRoleAuthMethodAssocOutput> {
    let role_name = parse_name("role-name", &req.role_name, "role")?;
    let am_name = parse_name("am-name", &req.am_name, "auth method")?;
    let sub_claims = SubClaims::parse(
        "sub-claims",
        &req.sub_claims.unwrap_or_default(),
        req.case_sensitive.unwrap_or(true),
    )
    .map_err(ApiError::bad_request)?;
    let assoc_id = roles::associate(state, caller, &role_name, &am_name, &sub_claims).await?;
    Ok(dto::CreateRoleAuthMethodAssocOutput { assoc_id })
}

pub async fn delete_assoc(
    state: &AppState,
    caller: &Caller,
    req: dto::DeleteAssoc,
) -> ApiResult<response::Empty> {
    let id = given(&req.assoc_id)
        .ok_or_else(|| ApiError::bad_request("assoc-id: required (get-role shows it)"))?;
    roles::delete_association(state, caller, id).await?;
    Ok(response::Empty {})
}

/// Ends a token: the caller's own, or (with `delete` on the owner's auth method) another.
pub async fn revoke_token(
    state: &AppState,
    caller: &Caller,
    own_token: &str,
    req: dto::RevokeToken,
) -> ApiResult<response::Empty> {
    let target = req
        .token_to_revoke
        .as_ref()
        .map(|t| t.expose().trim())
        .filter(|t| !t.is_empty());
    mayfly_app::authn::revoke_token(state, caller, own_token, target).await?;
    Ok(response::Empty {})
}

/// `Named` requests (get/delete by name), re-exported for the handlers above.
mod response_named {
    pub use mayfly_api_types::request::Named;
}
