//! Tmp creds for the Akeyless API: its requests parsed for the core's
//! `mayfly_app::tmp_creds` (which authorizes and does the work), and leases shown as
//! `TmpUserData`.

use mayfly_api_types::{request, response};
use mayfly_app::{
    access::{Caller, Capability},
    state::AppState,
    time::rfc3339,
    tmp_creds::{self, Granted},
};
use mayfly_store::{leases::Lease, LeaseId};

use super::{given, required_name};
use crate::error::{ApiError, ApiResult};

/// The dynamic secret `raw` names, if the caller holds `capability` on it (400, 403, 404).
async fn producer_named(
    state: &AppState,
    caller: &Caller,
    raw: &Option<String>,
    capability: Capability,
) -> ApiResult<Granted> {
    let name = required_name(
        "name",
        raw,
        "the dynamic secret whose credentials to manage",
    )?;
    Ok(tmp_creds::authorize(state, caller, &name, capability).await?)
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<Vec<response::TmpUserData>> {
    let p = producer_named(state, caller, &req.name, Capability::Read).await?;
    let rows = tmp_creds::list(state, &p).await?;
    Ok(rows.into_iter().map(present).collect())
}

fn present(l: Lease) -> response::TmpUserData {
    response::TmpUserData {
        id: l.id.into_string(),
        host: String::new(),
        access_id: l.created_by,
        creation_date: rfc3339(l.created_at),
        custom_ttl: l.custom_ttl_min.unwrap_or_default(),
        dynamic_secret_type: "aws".into(),
        encrypted_secret: String::new(),
        // The claims of the login that got the credential (JWT, Kubernetes, AWS IAM).
        sub_claims: serde_json::from_str(&l.created_by_claims).unwrap_or_default(),
        state: l.state.as_str().to_owned(),
        mode: l.mode.as_str().to_owned(),
        expiration: rfc3339(l.expires_at),
        user: l.iam_user_name.unwrap_or_default(),
        access_key_id: l.access_key_id.unwrap_or_default(),
        last_error: l.last_error.unwrap_or_default(),
        session_name: l.session_name.unwrap_or_default(),
        role_arn: l.role_arn.unwrap_or_default(),
    }
}

/// Revokes one credential now, or (`revoke-all`) hands every live one to the revoker; returns
/// how many the revoker is now ending.
pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    req: request::RevokeTmpCreds,
) -> ApiResult<u64> {
    let p = producer_named(state, caller, &req.name, Capability::Delete).await?;
    if req.soft_delete == Some(true) {
        return Err(ApiError::bad_request(
            "soft-delete: not supported; Mayfly always deletes the temporary IAM user when it revokes",
        ));
    }
    let id = given(&req.tmp_creds_id);
    match (id, req.revoke_all == Some(true)) {
        (Some(_), true) => Err(ApiError::bad_request(
            "give tmp-creds-id or revoke-all, not both",
        )),
        (None, false) => Err(ApiError::bad_request(
            "tmp-creds-id: required (see gateway-get-producer-tmp-creds), or set revoke-all",
        )),
        (None, true) => Ok(tmp_creds::revoke_all(state, &p).await?),
        (Some(id), false) => {
            tmp_creds::revoke_by_id(state, &p, &LeaseId::new(id)).await?;
            Ok(0)
        }
    }
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: request::UpdateTmpCreds,
) -> ApiResult<()> {
    let p = producer_named(state, caller, &req.name, Capability::Update).await?;
    let id =
        given(&req.tmp_creds_id).ok_or_else(|| ApiError::bad_request("tmp-creds-id: required"))?;
    let minutes = req.new_ttl_min.ok_or_else(|| {
        ApiError::bad_request("new-ttl-min: required: the credential's new TTL in minutes")
    })?;
    Ok(tmp_creds::set_ttl(state, &p, &LeaseId::new(id), minutes).await?)
}
