//! Authentication: API-key login at `/auth`, and resolving a token to a [`Caller`].

use chrono::{TimeZone, Utc};
use mayfly_api_types::{request, response};
use mayfly_crypto::{generate_token, hash_secret, verify_secret};
use mayfly_store::{auth, now_millis};
use secrecy::ExposeSecret;

use mayfly_app::access::{AuditAccess, CachedCaller, Caller};

use crate::error::{ApiError, ApiResult};

use mayfly_app::state::AppState;

use mayfly_app::access::{self as authz, Rule};

/// Loads the rules of every role an auth method holds.
pub async fn load_permissions(
    state: &AppState,
    auth_method_id: &str,
) -> ApiResult<(Vec<Rule>, AuditAccess)> {
    let roles = mayfly_store::access::roles_with_rules_of(state.db(), auth_method_id).await?;
    let mut rules = Vec::new();
    let mut audit = AuditAccess::None;
    for (role, role_rules) in roles {
        audit = audit.max(AuditAccess::parse(&role.audit_access).unwrap_or(AuditAccess::None));
        rules.extend(
            role_rules
                .iter()
                .filter_map(|r| authz::rule_from_stored(&r.rule_type, &r.path, &r.capabilities)),
        );
    }
    Ok((rules, audit))
}

const ACCESS_DENIED: &str = "access denied: unknown access-id or wrong access-key";

/// A hash that matches nothing, compared against when the access id is unknown, so that an
/// unknown id and a wrong key take the same time and cannot be told apart.
const NO_MATCH_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest access id accepted at `/auth` (generated ids have 16 characters, configured ones
/// at most 64).
const MAX_ACCESS_ID_CHARS: usize = 128;

/// The one form of an access id that login, throttling and the audit trail all use: surrounding
/// whitespace removed (ids are stored trimmed, so `" p-abc"` is `p-abc`), and refused (400)
/// when empty, too long or holding control characters. Case is kept: ids are stored and
/// compared exactly.
pub fn canonical_access_id(raw: Option<&str>) -> ApiResult<String> {
    let id = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("access-id: required (the p-... id of your API key)")
        })?;
    if id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "access-id: must not contain control characters; send the p-... id exactly as create-auth-method returned it",
        ));
    }
    if id.chars().count() > MAX_ACCESS_ID_CHARS {
        return Err(ApiError::bad_request(format!(
            "access-id: at most {MAX_ACCESS_ID_CHARS} characters; send the p-... id of your API key"
        )));
    }
    Ok(id.to_owned())
}

/// `POST /auth` with `access-type: access_key`.
pub async fn login(state: &AppState, req: request::Auth) -> ApiResult<response::AuthOutput> {
    let access_type = req.access_type.as_deref().unwrap_or("access_key");
    if !access_type.is_empty() && access_type != "access_key" {
        return Err(ApiError::bad_request(format!(
            "access-type: {access_type:?} is not supported; Mayfly supports access_key"
        )));
    }
    let access_id = canonical_access_id(req.access_id.as_deref())?;
    let access_id = access_id.as_str();
    let access_key = req
        .access_key
        .as_ref()
        .map(|k| k.expose())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("access-key: required with access-type access_key"))?;

    let method = auth::find_auth_method_by_access_id(state.db(), access_id).await?;
    let stored_hash = method
        .as_ref()
        .map_or(NO_MATCH_HASH, |m| m.key_hash.as_str());
    let key_ok = verify_secret(access_key, stored_hash);
    let method = match (method, key_ok) {
        (Some(m), true) => m,
        _ => {
            tracing::warn!(access_id = %access_id, "authentication failed");
            return Err(ApiError::Unauthorized(ACCESS_DENIED.into()));
        }
    };

    let token = generate_token();
    let now = now_millis();
    let ttl_ms = i64::try_from(state.token_ttl().as_millis()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl_ms);
    auth::insert_token(
        state.db(),
        &method,
        hash_secret(token.expose_secret()),
        now,
        expires_at,
    )
    .await?;
    tracing::info!(access_id = %method.access_id, "token issued");
    let expiration = Utc
        .timestamp_millis_opt(expires_at)
        .single()
        .unwrap_or_else(Utc::now);
    Ok(response::AuthOutput {
        token: token.expose_secret().to_owned(),
        expiration: expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        creds: response::SystemAccessCreds {
            access_id: method.access_id,
            token: token.expose_secret().to_owned(),
            expiry: expires_at / 1000,
        },
    })
}

/// Resolves a token to its caller, or 401.
pub async fn resolve(state: &AppState, token: Option<&str>) -> ApiResult<Caller> {
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::Unauthorized(
            "a token is required: call /auth, then send the token as the body field \"token\" or as Authorization: Bearer".into(),
        )
    })?;
    let invalid = || {
        ApiError::Unauthorized("the token is invalid or expired; get a new one from /auth".into())
    };
    if !token.starts_with("t-") {
        return Err(invalid());
    }
    let hash = hash_secret(token);
    let cached = state
        .caches()
        .callers
        .get_or_load(&hash, || async {
            let Some(found) = auth::find_live_token(state.db(), &hash, now_millis()).await? else {
                return Ok::<_, ApiError>(None);
            };
            let (rules, audit_access) = load_permissions(state, &found.auth_method_id).await?;
            Ok(Some(CachedCaller {
                token_expires_at: found.expires_at,
                caller: Caller {
                    rules,
                    audit_access,
                    access_id: found.access_id,
                    auth_method_id: found.auth_method_id,
                },
            }))
        })
        .await?
        .ok_or_else(invalid)?;
    if cached.token_expires_at <= now_millis() {
        return Err(invalid());
    }
    Ok(cached.caller.clone())
}
