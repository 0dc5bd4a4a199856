//! `/auth` for the Akeyless API: its request parsed into the core's API-key login, and the
//! token it issues in the Akeyless response shape. The login, the token check and the
//! caller's rules are the core's (`mayfly_app::authn`), shared with every front door.

use chrono::{TimeZone, Utc};
use mayfly_api_types::{request, response};
use mayfly_app::{authn, state::AppState};
use secrecy::ExposeSecret;

use crate::{
    call::Anonymous,
    error::{ApiError, ApiResult},
};

use mayfly_app::authn::canonical_access_id;

/// `/auth`, with failed attempts throttled per (canonical access id, client address) and per
/// client address (`mayfly_app::ratelimit`). A throttled try is refused before the key is
/// checked, so it tells nothing about the key.
pub async fn login(cx: &Anonymous<'_>, mut req: request::Auth) -> ApiResult<response::AuthOutput> {
    let state = cx.state;
    let access_id = canonical_access_id(req.access_id.as_deref())?;
    req.access_id = Some(access_id.clone());
    let address = &cx.client_address;
    if let Err(wait) = state.auth_limiter().check(&access_id, address) {
        // Whole seconds, rounded up: a client that waits Retry-After is let through.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::TooManyRequests {
            message: format!(
                "too many failed logins for this access id from this address (or from this address overall); retry in {secs} seconds"
            ),
            retry_after_secs: secs.max(1),
        });
    }
    match login_with_access_key(state, req).await {
        Ok(out) => {
            state.auth_limiter().succeeded(&access_id, address);
            Ok(out)
        }
        Err(e) => {
            if matches!(e, ApiError::Unauthorized(_)) {
                state.auth_limiter().failed(&access_id, address);
            }
            Err(e)
        }
    }
}

/// `access-type` `access_key` (the default): the access id and key checked by the core;
/// `jwt` or `oidc`: the workload's JWT checked against the JWT auth method.
async fn login_with_access_key(
    state: &AppState,
    req: request::Auth,
) -> ApiResult<response::AuthOutput> {
    // Case-insensitive: some clients send `JWT` (the GitHub action's input default).
    let access_type = req
        .access_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("access_key")
        .to_ascii_lowercase();
    let access_id = canonical_access_id(req.access_id.as_deref())?;
    match access_type.as_str() {
        "access_key" => {}
        "jwt" | "oidc" => {
            let jwt = req
                .jwt
                .as_ref()
                .map(|t| t.expose().trim())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "jwt: required with access-type {access_type}: the workload's identity token"
                    ))
                })?;
            let issued = authn::login_with_jwt(state, &access_id, jwt).await?;
            return Ok(answer(issued));
        }
        "k8s" => {
            let raw = req
                .k8s_service_account_token
                .as_ref()
                .map(|t| t.expose().trim())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "k8s-service-account-token: required with access-type k8s: the pod's service-account token (base64 or as read from its file)",
                    )
                })?;
            let token = service_account_token(raw);
            let config = req
                .k8s_auth_config_name
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty());
            let issued = authn::login_with_k8s(state, &access_id, &token, config).await?;
            return Ok(answer(issued));
        }
        "aws_iam" => {
            let cloud_id = req
                .cloud_id
                .as_ref()
                .map(|t| t.expose().trim())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "cloud-id: required with access-type aws_iam: a signed sts:GetCallerIdentity, as the akeyless-cloud-id package makes it",
                    )
                })?;
            let issued = authn::login_with_aws_iam(state, &access_id, cloud_id).await?;
            return Ok(answer(issued));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "access-type: {other:?} is not supported; Mayfly supports access_key, jwt, oidc, k8s and aws_iam"
            )))
        }
    }
    let access_key = req
        .access_key
        .as_ref()
        .map(|k| k.expose())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("access-key: required with access-type access_key"))?;
    let issued = authn::login_with_key(state, &access_id, access_key).await?;
    Ok(answer(issued))
}

/// The service-account token as sent: base64 (what the Akeyless tools send) when it decodes
/// to a JWT, else as it is.
fn service_account_token(raw: &str) -> String {
    use base64::{engine::general_purpose::STANDARD, Engine};
    STANDARD
        .decode(raw.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| s.split('.').count() == 3)
        .unwrap_or_else(|| raw.to_owned())
}

/// The Akeyless answer to a login.
fn answer(issued: authn::IssuedToken) -> response::AuthOutput {
    let expiration = Utc
        .timestamp_millis_opt(issued.expires_at)
        .single()
        .unwrap_or_else(Utc::now);
    response::AuthOutput {
        token: issued.token.expose_secret().to_owned(),
        expiration: expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        creds: response::SystemAccessCreds {
            access_id: issued.access_id,
            token: issued.token.expose_secret().to_owned(),
            expiry: issued.expires_at / 1000,
        },
    }
}
