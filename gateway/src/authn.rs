//! `/auth` for the Akeyless API: its request parsed into the core's API-key login, and the
//! token it issues in the Akeyless response shape. The login, the token check and the
//! caller's rules are the core's (`mayfly_app::authn`), shared with every front door.

use chrono::{TimeZone, Utc};
use mayfly_api_types::{request, response};
use mayfly_app::{authn, state::AppState};
use secrecy::ExposeSecret;

use crate::error::{ApiError, ApiResult};

use mayfly_app::authn::canonical_access_id;

/// `POST /auth` with `access-type: access_key`.
pub async fn login(state: &AppState, req: request::Auth) -> ApiResult<response::AuthOutput> {
    let access_type = req.access_type.as_deref().unwrap_or("access_key");
    if !access_type.is_empty() && access_type != "access_key" {
        return Err(ApiError::bad_request(format!(
            "access-type: {access_type:?} is not supported; Mayfly supports access_key"
        )));
    }
    let access_id = canonical_access_id(req.access_id.as_deref())?;
    let access_key = req
        .access_key
        .as_ref()
        .map(|k| k.expose())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("access-key: required with access-type access_key"))?;
    let issued = authn::login_with_key(state, &access_id, access_key).await?;
    let expiration = Utc
        .timestamp_millis_opt(issued.expires_at)
        .single()
        .unwrap_or_else(Utc::now);
    Ok(response::AuthOutput {
        token: issued.token.expose_secret().to_owned(),
        expiration: expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        creds: response::SystemAccessCreds {
            access_id: issued.access_id,
            token: issued.token.expose_secret().to_owned(),
            expiry: issued.expires_at / 1000,
        },
    })
}
