//! Tmp creds: list, revoke and re-time the credentials a producer issued.

use mayfly_api_types::{request, response};
use mayfly_app::time::rfc3339;
use mayfly_domain::ItemName;
use mayfly_store::{
    entity::producer,
    leases::{self, Lease, LeaseState, IAM_USER},
    now_millis, producers,
};

use mayfly_app::producers::load_spec;

use super::given;
use crate::error::{ApiError, ApiResult};
use mayfly_app::access::Caller;
use mayfly_app::access::{authorize, Capability, ResourceKind};
use mayfly_app::leases::teardown::teardown_claimed;
use mayfly_app::state::AppState;

/// The most leases one listing returns.
const LIST_LIMIT: u64 = 10_000;

const STS_CANNOT_REVOKE: &str = "AWS cannot revoke a single STS credential (assume_role, federation_token, session_token) before it expires; it ends at its expiration. To cut off all of a role's sessions at once, revoke its sessions in IAM (an inline deny on aws:TokenIssueTime) or shorten the producer's user-ttl";

async fn producer_named(
    state: &AppState,
    caller: &Caller,
    raw: &Option<String>,
    cap: Capability,
) -> ApiResult<producer::Model> {
    let name = match given(raw) {
        Some(raw) => {
            ItemName::parse(raw).map_err(|e| ApiError::bad_request(format!("name: {e}")))?
        }
        None => {
            return Err(ApiError::bad_request(
                "name: required: the dynamic secret whose credentials to manage",
            ))
        }
    };
    authorize(caller, cap, ResourceKind::Item, name.as_str())?;
    producers::find_by_name(state.db(), name.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no dynamic secret named {name}")))
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    req: request::Named,
) -> ApiResult<Vec<response::TmpUserData>> {
    let p = producer_named(state, caller, &req.name, Capability::Read).await?;
    let rows = leases::list_for_producer(state.db(), p.id, LIST_LIMIT).await?;
    Ok(rows.into_iter().map(present).collect())
}

fn present(l: Lease) -> response::TmpUserData {
    response::TmpUserData {
        id: l.id,
        host: String::new(),
        access_id: l.created_by,
        creation_date: rfc3339(l.created_at),
        custom_ttl: l.custom_ttl_min.unwrap_or_default(),
        dynamic_secret_type: "aws".into(),
        encrypted_secret: String::new(),
        sub_claims: Default::default(),
        state: l.state.as_str().to_owned(),
        mode: l.mode,
        expiration: rfc3339(l.expires_at),
        user: l.iam_user_name.unwrap_or_default(),
        access_key_id: l.access_key_id.unwrap_or_default(),
        last_error: l.last_error.unwrap_or_default(),
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
        (None, true) => {
            if p.access_mode != IAM_USER {
                return Err(ApiError::bad_request(STS_CANNOT_REVOKE));
            }
            let n = revoke_all_iam(state, &p).await?;
            tracing::info!(producer = %p.name, revoking = n, "revoke-all handed to the revoker");
            Ok(n)
        }
        (Some(id), false) => {
            let lease = leases::find(state.db(), id)
                .await?
                .filter(|l| l.producer_id == p.id)
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "dynamic secret {} has no tmp creds with id {id}",
                        p.name
                    ))
                })?;
            if lease.mode != IAM_USER {
                return Err(ApiError::bad_request(STS_CANNOT_REVOKE));
            }
            revoke_one(state, &lease).await.map(|()| 0)
        }
    }
}

/// Revokes one `iam_user` lease now. Revoking one already revoked is a success.
pub async fn revoke_one(state: &AppState, lease: &Lease) -> ApiResult<()> {
    match lease.state {
        LeaseState::Revoked | LeaseState::Aborted | LeaseState::Expired => return Ok(()),
        LeaseState::Creating => {
            return Err(ApiError::conflict(format!(
                "tmp creds {} are still being issued; retry in a moment",
                lease.id
            )))
        }
        LeaseState::Revoking => {
            return Err(ApiError::conflict(format!(
                "tmp creds {} are being revoked right now; check gateway-get-producer-tmp-creds in a moment",
                lease.id
            )))
        }
        LeaseState::Active | LeaseState::RevokeFailed => {}
    }
    if !leases::claim_for_revoke(state.db(), &lease.id, state.instance_id(), now_millis()).await? {
        return Err(ApiError::conflict(format!(
            "tmp creds {} changed meanwhile (revoked by another request or the revoker); list them again",
            lease.id
        )));
    }
    let claimed = leases::find(state.db(), &lease.id)
        .await?
        .unwrap_or_else(|| lease.clone());
    teardown_claimed(state, &claimed, LeaseState::Revoked).await.map_err(|e| {
        ApiError::Upstream(format!(
            "revoking tmp creds {} failed: {e}; the revoker keeps retrying, and gateway-get-producer-tmp-creds shows it as revoke_failed",
            lease.id
        ))
    })
}

/// Hands every live `iam_user` lease of a producer to the revoker and wakes it; returns how
/// many it is now ending. Two statements whatever the number, so the request answers at once;
/// the revoker ends them with bounded concurrency, retrying failures (as for expiry).
pub async fn revoke_all_iam(state: &AppState, p: &producer::Model) -> ApiResult<u64> {
    revoke_soon(state, leases::LeaseScope::Producer(p.id)).await
}

/// Makes the leases of `scope` due and wakes the revoker.
pub async fn revoke_soon(state: &AppState, scope: leases::LeaseScope) -> ApiResult<u64> {
    let n = leases::revoke_soon(state.db(), scope, now_millis()).await?;
    if n > 0 {
        state.wake_revoker();
    }
    Ok(n)
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
    if minutes < 1 {
        return Err(ApiError::bad_request("new-ttl-min: must be at least 1"));
    }
    let lease = leases::find(state.db(), id)
        .await?
        .filter(|l| l.producer_id == p.id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "dynamic secret {} has no tmp creds with id {id}",
                p.name
            ))
        })?;
    if lease.mode != IAM_USER {
        return Err(ApiError::bad_request(
            "AWS cannot change the lifetime of an STS credential after it is issued; get a new value with args ttl=... instead",
        ));
    }
    if lease.state != LeaseState::Active {
        return Err(ApiError::conflict(format!(
            "tmp creds {id} are {}; only active credentials can be re-timed",
            lease.state.as_str()
        )));
    }
    let spec = load_spec(&p)?;
    let max = spec.max_ttl().unwrap_or(spec.ttl()).as_secs();
    let wanted = u64::try_from(minutes)
        .unwrap_or(u64::MAX)
        .saturating_mul(60);
    if wanted > max {
        return Err(ApiError::bad_request(format!(
            "new-ttl-min: {minutes} minutes is longer than this dynamic secret allows ({} minutes; raise its max-ttl to allow more)",
            max / 60
        )));
    }
    let expires_at = lease.created_at + i64::try_from(wanted).unwrap_or(i64::MAX / 2_000) * 1000;
    if !leases::set_expiry(state.db(), id, expires_at, minutes, now_millis()).await? {
        return Err(ApiError::conflict(format!(
            "tmp creds {id} changed meanwhile; list them again"
        )));
    }
    state.wake_revoker();
    tracing::info!(lease = %id, new_ttl_min = minutes, "tmp creds re-timed");
    Ok(())
}
