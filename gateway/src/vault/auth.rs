//! Logging in and the token endpoints. A Vault token here is a Mayfly token: logins go
//! through the Akeyless door's `/auth` path (`crate::authn::login`: the same throttle, the
//! same core checks), and tokens are resolved, revoked and issued by `mayfly_app::authn`.
//!
//! Mayfly tokens live `MAYFLY_TOKEN_TTL` and are not renewable: logins and `lookup-self`
//! say `renewable: false` (so Vault Agent logs in again instead of renewing), and
//! `renew-self` is refused the way Vault refuses a non-renewable token. `auth/token/create`
//! issues a child token with the caller's rules that cannot outlive it.

use chrono::{TimeZone, Utc};
use mayfly_api_types::request;
use serde_json::{json, Value};

use super::{path::LoginKind, wire::Envelope, Ctx, Reply};
use crate::{
    call::Anonymous,
    error::{ApiError, ApiResult},
};

/// The policies a Vault client sees: Mayfly's rules come from its roles, which Vault
/// clients have no word for.
const POLICIES: [&str; 1] = ["default"];

pub async fn login(cx: &mut Ctx<'_>, kind: LoginKind) -> ApiResult<Reply> {
    let (id_field, secret_field) = match kind {
        LoginKind::AppRole => ("role_id", "secret_id"),
        LoginKind::Jwt | LoginKind::Kubernetes => ("role", "jwt"),
    };
    let access_id = cx.params.string(id_field)?;
    // The audit record names the id tried, in the canonical form the throttle counts.
    cx.audit.access_id = match mayfly_app::authn::canonical_access_id(access_id.as_deref()) {
        Ok(id) => id,
        Err(_) => access_id
            .as_deref()
            .map(|raw| raw.escape_debug().take(512).collect())
            .unwrap_or_default(),
    };
    let access_id = access_id.ok_or_else(|| {
        ApiError::bad_request(format!(
            "{id_field}: required: the access id (p-...) of a Mayfly auth method"
        ))
    })?;
    let secret = cx.params.string(secret_field)?.ok_or_else(|| {
        ApiError::bad_request(match kind {
            LoginKind::AppRole => "secret_id: required: the API key's access key".to_owned(),
            _ => "jwt: required: the workload's identity token".to_owned(),
        })
    })?;
    let body = match kind {
        LoginKind::AppRole => json!({"access-id": access_id, "access-key": secret}),
        LoginKind::Jwt => json!({"access-id": access_id, "access-type": "jwt", "jwt": secret}),
        LoginKind::Kubernetes => json!({
            "access-id": access_id, "access-type": "k8s", "k8s-service-account-token": secret
        }),
    };
    let dto: request::Auth = crate::call::parse(&body)?;
    let anonymous = Anonymous::new(cx.state, cx.http);
    let out = crate::authn::login(&anonymous, dto).await?;
    let auth = auth_block(&out.token, &out.creds.access_id, out.creds.expiry * 1000);
    Ok(Reply::Json(
        Envelope {
            auth,
            ..Envelope::data(&cx.request_id(), Value::Null)
        }
        .into_json(),
    ))
}

/// Vault's `auth` block for a token of `access_id` expiring at `expires_at` (ms).
fn auth_block(token: &str, access_id: &str, expires_at: i64) -> Value {
    json!({
        "client_token": token,
        "accessor": "",
        "policies": POLICIES,
        "token_policies": POLICIES,
        "identity_policies": null,
        "metadata": {"access_id": access_id},
        "lease_duration": seconds_until(expires_at),
        "renewable": false,
        "entity_id": "",
        "token_type": "service",
        "orphan": true,
        "mfa_requirement": null,
        "num_uses": 0,
    })
}

/// Whole seconds from now until `at` (ms since the epoch), 0 when past.
pub fn seconds_until(at: i64) -> u64 {
    let left = at - mayfly_store::now_millis();
    u64::try_from(left.max(0) / 1000).unwrap_or(0)
}

fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub async fn lookup_self(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let ttl = seconds_until(session.expires_at);
    let data = json!({
        "accessor": "",
        "creation_ttl": cx.state.token_ttl().as_secs(),
        "display_name": format!("mayfly-{}", session.caller.access_id),
        "entity_id": "",
        "expire_time": rfc3339(session.expires_at),
        "explicit_max_ttl": 0,
        "id": session.token,
        "meta": {"access_id": session.caller.access_id},
        "num_uses": 0,
        "orphan": true,
        "path": "auth/approle/login",
        "policies": POLICIES,
        "renewable": false,
        "ttl": ttl,
        "type": "service",
    });
    Ok(Reply::Json(
        Envelope::data(&cx.request_id(), data).into_json(),
    ))
}

pub async fn revoke_self(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    mayfly_app::authn::revoke_token(cx.state, &session.caller, &session.token, None).await?;
    cx.audit.detail = "revoked its own token".into();
    Ok(Reply::NoContent)
}

/// Mayfly tokens are not renewable (every login and lookup says so): refused as Vault
/// refuses renewing such a token, after the token itself is checked.
pub async fn renew_self(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    cx.session().await?;
    Err(ApiError::bad_request(
        "token is not renewable: Mayfly tokens live MAYFLY_TOKEN_TTL; log in again (auth/approle/login) before it ends",
    ))
}

/// `auth/token/create`: a child token with the caller's rules, living `ttl` (or
/// `explicit_max_ttl`, the shorter; the gateway's token lifetime when neither is given) and
/// never past the caller's own token. Policies, metadata and use counts do not apply to
/// Mayfly tokens: they are ignored with a warning.
pub async fn create_token(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let ttl = match (
        cx.params.seconds("ttl")?,
        cx.params.seconds("explicit_max_ttl")?,
    ) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
    .filter(|s| *s > 0)
    .map(std::time::Duration::from_secs);
    let mut warnings = Vec::new();
    for ignored in [
        "policies",
        "meta",
        "num_uses",
        "period",
        "renewable",
        "no_parent",
    ] {
        if cx.params.has(ignored) {
            warnings.push(format!(
                "{ignored} was ignored: a Mayfly child token has its parent's rules and is not renewable"
            ));
        }
    }
    let issued =
        mayfly_app::authn::child_token(cx.state, &session.caller, session.expires_at, ttl).await?;
    cx.audit.detail = "issued a child token".into();
    use secrecy::ExposeSecret;
    let auth = auth_block(
        issued.token.expose_secret(),
        &issued.access_id,
        issued.expires_at,
    );
    Ok(Reply::Json(
        Envelope {
            auth,
            warnings,
            ..Envelope::data(&cx.request_id(), Value::Null)
        }
        .into_json(),
    ))
}
