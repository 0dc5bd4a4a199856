//! Tmp creds: listing, revoking and re-timing the credentials a dynamic secret issued.
//!
//! Every operation takes a [`Granted`] dynamic secret, which only [`authorize`] makes: a front
//! door cannot reach a dynamic secret's credentials without the caller's rules having been
//! checked for the capability the operation needs.

use mayfly_domain::ItemName;
use mayfly_store::{
    entity::producer,
    leases::{self, Lease, LeaseMode, LeaseState},
    now_millis, producers, targets, LeaseId,
};

use crate::{
    access::{authorize as check, Caller, Capability, ResourceKind},
    error::{AppError, AppResult},
    leases::{sessions, teardown::teardown_claimed},
    producers::load_spec,
    state::AppState,
};

/// The most leases one listing returns.
const LIST_LIMIT: u64 = 10_000;

const STS_NOT_REVOCABLE: &str = "this dynamic secret issues STS credentials without session-revocation, so AWS cannot be told to refuse them before they expire; set session-revocation true on it (new credentials become revocable) or shorten its user-ttl";

/// A dynamic secret on which the caller holds `capability` (checked by [`authorize`]).
#[derive(Debug)]
pub struct Granted {
    row: producer::Model,
    capability: Capability,
    /// Who was granted it: revoking every session token of a target's user needs more.
    caller: Caller,
}

impl Granted {
    pub fn row(&self) -> &producer::Model {
        &self.row
    }

    fn require(&self, capability: Capability) -> AppResult<&producer::Model> {
        if self.capability == capability {
            Ok(&self.row)
        } else {
            Err(AppError::internal(format!(
                "dynamic secret {} was authorized for {} but used for {}",
                self.row.name,
                self.capability.as_str(),
                capability.as_str()
            )))
        }
    }
}

/// Checks `capability` on the dynamic secret `name` for `caller` (403), then finds it (404).
pub async fn authorize(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
    capability: Capability,
) -> AppResult<Granted> {
    check(caller, capability, ResourceKind::Item, name.as_str())?;
    let row = producers::find_by_name(state.db(), name.as_str())
        .await?
        .ok_or_else(|| AppError::not_found(format!("no dynamic secret named {name}")))?;
    Ok(Granted {
        row,
        capability,
        caller: caller.clone(),
    })
}

/// The credentials of a dynamic secret (`read`), newest first, at most 10,000.
pub async fn list(state: &AppState, granted: &Granted) -> AppResult<Vec<Lease>> {
    let p = granted.require(Capability::Read)?;
    Ok(leases::list_for_producer(state.db(), p.id, LIST_LIMIT).await?)
}

/// What the credentials of the given dynamic secrets (each granted `read`, as for [`list`])
/// did per hour over the `hours` hours from `since`: issued, ended, and the revocation lag of
/// those torn down after their expiry. Aggregated in the database over the window only (see
/// `leases::activity`), so it costs the same however long the history is.
pub async fn activity(
    state: &AppState,
    granted: &[Granted],
    since: mayfly_store::Millis,
    hours: usize,
) -> AppResult<leases::Activity> {
    let mut ids = Vec::with_capacity(granted.len());
    for g in granted {
        ids.push(g.require(Capability::Read)?.id);
    }
    Ok(leases::activity(state.db(), &ids, since, hours).await?)
}

/// Ends every live credential of the dynamic secret (`delete`): `iam_user` credentials are
/// handed to the revoker; revocable STS credentials are refused by AWS from now on (an
/// issue-time deny on their role or issuing user). Returns how many it is ending.
pub async fn revoke_all(state: &AppState, granted: &Granted) -> AppResult<u64> {
    let p = granted.require(Capability::Delete)?;
    let mode = LeaseMode::from_access_mode(&p.access_mode)
        .ok_or_else(|| AppError::internal(format!("unknown access mode {}", p.access_mode)))?;
    if mode.is_iam_user() {
        let n = revoke_soon(state, leases::LeaseScope::Producer(p.id)).await?;
        tracing::info!(producer = %p.name, revoking = n, "revoke-all handed to the revoker");
        return Ok(n);
    }
    if !load_spec(p)?.session_revocation() {
        return Err(AppError::invalid(STS_NOT_REVOCABLE));
    }
    let target = targets::find_by_id(state.db(), p.target_id)
        .await?
        .ok_or_else(|| AppError::internal(format!("dynamic secret {} has no target", p.name)))?;
    if mode == LeaseMode::SessionToken
        && !target.is_private
        && check(
            &granted.caller,
            Capability::Use,
            ResourceKind::Target,
            &target.name,
        )
        .is_err()
    {
        // Session tokens have no names: the deny reaches every session token of the
        // target's IAM user, also those of other dynamic secrets on the target.
        return Err(AppError::Denied(format!(
            "access id {} may not revoke every session token of the target's IAM user: that reaches other dynamic secrets on the same target too, so it needs use on the target as well as delete on {}",
            granted.caller.access_id, p.name
        )));
    }
    let out = sessions::revoke_all(state, p.id, &p.name, &target, mode).await?;
    if out.unreachable > 0 {
        tracing::warn!(producer = %p.name, left = out.unreachable, "revoke-all could not reach credentials issued before session-revocation; they end at their expiry");
    }
    tracing::info!(producer = %p.name, revoked = out.revoked, "revoke-all of STS credentials done");
    Ok(out.revoked)
}

/// Revokes one credential of the dynamic secret (`delete`) now.
pub async fn revoke_by_id(state: &AppState, granted: &Granted, id: &LeaseId) -> AppResult<()> {
    let p = granted.require(Capability::Delete)?;
    let lease = lease_of(state, p, id).await?;
    if lease.mode.is_iam_user() {
        return revoke_one(state, &lease).await;
    }
    match lease.state {
        LeaseState::Revoked | LeaseState::Expired => return Ok(()),
        LeaseState::Active => {}
        other => {
            return Err(AppError::internal(format!(
                "STS tmp creds {id} in state {}",
                other.as_str()
            )))
        }
    }
    if lease.expires_at <= now_millis() {
        return Ok(());
    }
    if lease.mode != LeaseMode::SessionToken && !lease.is_revocable_session() {
        return Err(AppError::invalid(format!(
            "tmp creds {id} were issued before this dynamic secret had session-revocation, so their session name is not unique and AWS cannot be told to refuse only them; they expire at {}",
            crate::time::rfc3339(lease.expires_at)
        )));
    }
    sessions::revoke_one(state, &lease).await
}

/// One credential of the dynamic secret (`read`): the Vault API's `sys/leases/lookup`.
pub async fn find(state: &AppState, granted: &Granted, id: &LeaseId) -> AppResult<Lease> {
    let p = granted.require(Capability::Read)?;
    lease_of(state, p, id).await
}

/// Extends one active `iam_user` credential of the dynamic secret (`update`) to live
/// `increment` from now (its dynamic secret's `user-ttl` when unset), but never past its
/// creation plus the dynamic secret's max TTL: asking for more gets the most allowed, as Vault
/// caps a renewal at the lease's max TTL. Returns the lease as it now is. This is Vault's
/// lease renewal; [`set_ttl`] is Akeyless's re-timing from creation, which refuses too long a
/// TTL instead.
pub async fn renew(
    state: &AppState,
    granted: &Granted,
    id: &LeaseId,
    increment: Option<std::time::Duration>,
) -> AppResult<Lease> {
    let p = granted.require(Capability::Update)?;
    let lease = lease_of(state, p, id).await?;
    if !lease.mode.is_iam_user() {
        return Err(AppError::invalid(
            "lease is not renewable: AWS cannot change the lifetime of an STS credential after it is issued; get a new one",
        ));
    }
    let now = now_millis();
    if lease.state != LeaseState::Active || lease.expires_at <= now {
        return Err(AppError::invalid(format!(
            "lease is not renewable: tmp creds {id} are {}",
            if lease.state == LeaseState::Active {
                "expired"
            } else {
                lease.state.as_str()
            }
        )));
    }
    let spec = load_spec(p)?;
    let max_ms = millis_of(spec.max_ttl().unwrap_or(spec.ttl()).as_duration());
    let wanted_ms = millis_of(increment.unwrap_or_else(|| spec.ttl().as_duration()));
    let expires_at = now
        .saturating_add(wanted_ms)
        .min(lease.created_at.saturating_add(max_ms));
    // Whole minutes from creation, rounded up, as the Akeyless API shows a custom TTL.
    let minutes = (expires_at - lease.created_at + 59_999) / 60_000;
    if !leases::set_expiry(state.db(), id, expires_at, minutes, now).await? {
        return Err(AppError::conflict(format!(
            "tmp creds {id} changed meanwhile; look them up again"
        )));
    }
    state.wake_revoker();
    tracing::info!(lease = %id, expires_at, "tmp creds renewed");
    lease_of(state, p, id).await
}

fn millis_of(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

async fn lease_of(state: &AppState, p: &producer::Model, id: &LeaseId) -> AppResult<Lease> {
    leases::find(state.db(), id)
        .await?
        .filter(|l| l.producer_id == p.id)
        .ok_or_else(|| {
            AppError::not_found(format!(
                "dynamic secret {} has no tmp creds with id {id}",
                p.name
            ))
        })
}

/// Revokes one `iam_user` lease now. Revoking one already revoked is a success.
pub async fn revoke_one(state: &AppState, lease: &Lease) -> AppResult<()> {
    match lease.state {
        LeaseState::Revoked | LeaseState::Aborted | LeaseState::Expired => return Ok(()),
        LeaseState::Creating => {
            return Err(AppError::conflict(format!(
                "tmp creds {} are still being issued; retry in a moment",
                lease.id
            )))
        }
        LeaseState::Revoking => {
            return Err(AppError::conflict(format!(
                "tmp creds {} are being revoked right now; check gateway-get-producer-tmp-creds in a moment",
                lease.id
            )))
        }
        LeaseState::Active | LeaseState::RevokeFailed => {}
    }
    if !leases::claim_for_revoke(state.db(), &lease.id, state.instance_id(), now_millis()).await? {
        return Err(AppError::conflict(format!(
            "tmp creds {} changed meanwhile (revoked by another request or the revoker); list them again",
            lease.id
        )));
    }
    let claimed = leases::find(state.db(), &lease.id)
        .await?
        .unwrap_or_else(|| lease.clone());
    teardown_claimed(state, &claimed, LeaseState::Revoked)
        .await
        .map_err(|e| {
            AppError::Aws(format!(
                "revoking tmp creds {} failed: {e}; the revoker keeps retrying, and gateway-get-producer-tmp-creds shows it as revoke_failed",
                lease.id
            ))
        })
}

/// Makes the leases of `scope` due and wakes the revoker; returns how many.
pub async fn revoke_soon(state: &AppState, scope: leases::LeaseScope) -> AppResult<u64> {
    let n = leases::revoke_soon(state.db(), scope, now_millis()).await?;
    if n > 0 {
        state.wake_revoker();
    }
    Ok(n)
}

/// Gives one active `iam_user` credential of the dynamic secret (`update`) a new lifetime of
/// `minutes` from its creation, within the dynamic secret's max TTL.
pub async fn set_ttl(
    state: &AppState,
    granted: &Granted,
    id: &LeaseId,
    minutes: i64,
) -> AppResult<()> {
    let p = granted.require(Capability::Update)?;
    if minutes < 1 {
        return Err(AppError::invalid("new-ttl-min: must be at least 1"));
    }
    let lease = lease_of(state, p, id).await?;
    if !lease.mode.is_iam_user() {
        return Err(AppError::invalid(
            "AWS cannot change the lifetime of an STS credential after it is issued; get a new value with args ttl=... instead",
        ));
    }
    if lease.state != LeaseState::Active {
        return Err(AppError::conflict(format!(
            "tmp creds {id} are {}; only active credentials can be re-timed",
            lease.state.as_str()
        )));
    }
    let spec = load_spec(p)?;
    let max = spec.max_ttl().unwrap_or(spec.ttl()).as_secs();
    let wanted = u64::try_from(minutes)
        .unwrap_or(u64::MAX)
        .saturating_mul(60);
    if wanted > max {
        return Err(AppError::invalid(format!(
            "new-ttl-min: {minutes} minutes is longer than this dynamic secret allows ({} minutes; raise its max-ttl to allow more)",
            max / 60
        )));
    }
    let expires_at = lease.created_at + i64::try_from(wanted).unwrap_or(i64::MAX / 2_000) * 1000;
    if !leases::set_expiry(state.db(), id, expires_at, minutes, now_millis()).await? {
        return Err(AppError::conflict(format!(
            "tmp creds {id} changed meanwhile; list them again"
        )));
    }
    state.wake_revoker();
    tracing::info!(lease = %id, new_ttl_min = minutes, "tmp creds re-timed");
    Ok(())
}
