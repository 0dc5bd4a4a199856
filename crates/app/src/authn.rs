//! Authentication: API-key login, and resolving a token to a [`Caller`] with the rules of
//! its roles. Every front door authenticates through here.

use mayfly_crypto::{generate_token, hash_secret, verify_secret};
use mayfly_store::{auth, now_millis, Millis};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    access::{self as authz, AuditAccess, CachedCaller, Caller, Rule},
    error::{AppError, AppResult},
    state::AppState,
};

/// A token issued by a login. The token itself is shown to the caller once and stored only
/// as a hash.
pub struct IssuedToken {
    pub token: SecretString,
    /// Milliseconds since the Unix epoch.
    pub expires_at: Millis,
    /// The auth method's access id, as stored.
    pub access_id: String,
}

/// Loads the rules of every role an auth method holds.
pub async fn load_permissions(
    state: &AppState,
    auth_method_id: &str,
) -> AppResult<(Vec<Rule>, AuditAccess)> {
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
pub fn canonical_access_id(raw: Option<&str>) -> AppResult<String> {
    let id = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::invalid("access-id: required (the p-... id of your API key)"))?;
    if id.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "access-id: must not contain control characters; send the p-... id exactly as create-auth-method returned it",
        ));
    }
    if id.chars().count() > MAX_ACCESS_ID_CHARS {
        return Err(AppError::invalid(format!(
            "access-id: at most {MAX_ACCESS_ID_CHARS} characters; send the p-... id of your API key"
        )));
    }
    Ok(id.to_owned())
}

/// Logs in with an API key: a token for the auth method whose access id (already
/// canonical, [`canonical_access_id`]) and key match, or `Unauthenticated` with the same
/// message and the same work whether the id is unknown or the key is wrong.
pub async fn login_with_key(
    state: &AppState,
    access_id: &str,
    access_key: &str,
) -> AppResult<IssuedToken> {
    let method = auth::find_auth_method_by_access_id(state.db(), access_id).await?;
    let stored_hash = method
        .as_ref()
        .map_or(NO_MATCH_HASH, |m| m.key_hash.as_str());
    let key_ok = verify_secret(access_key, stored_hash);
    let method = match (method, key_ok) {
        (Some(m), true) => m,
        _ => {
            tracing::warn!(access_id = %access_id, "authentication failed");
            return Err(AppError::Unauthenticated(ACCESS_DENIED.into()));
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
    Ok(IssuedToken {
        token,
        expires_at,
        access_id: method.access_id,
    })
}

/// Resolves a token to its caller, or `Unauthenticated`.
pub async fn resolve(state: &AppState, token: Option<&str>) -> AppResult<Caller> {
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
        AppError::Unauthenticated(
            "a token is required: call /auth, then send the token as the body field \"token\" or as Authorization: Bearer".into(),
        )
    })?;
    let invalid = || {
        AppError::Unauthenticated(
            "the token is invalid or expired; get a new one from /auth".into(),
        )
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
                return Ok::<_, AppError>(None);
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

/// Ends a token: the caller's own (`own_token`), or, given `other`, another live token, which
/// needs `delete` on the auth method that owns it (404 for a token that is not live).
pub async fn revoke_token(
    state: &AppState,
    caller: &Caller,
    own_token: &str,
    other: Option<&str>,
) -> AppResult<()> {
    let token = other.unwrap_or(own_token);
    let hash = hash_secret(token);
    if other.is_some() && token != own_token {
        let found = auth::find_live_token(state.db(), &hash, now_millis())
            .await?
            .ok_or_else(|| AppError::not_found("token-to-revoke: no such live token"))?;
        let owner = mayfly_store::access::find_auth_method_by_id(state.db(), &found.auth_method_id)
            .await?
            .ok_or_else(|| AppError::not_found("token-to-revoke: no such live token"))?;
        authz::authorize(
            caller,
            authz::Capability::Delete,
            authz::ResourceKind::AuthMethod,
            &owner.name,
        )?;
    }
    auth::delete_token(state.db(), &hash).await?;
    Ok(())
}
