//! Ending one lease that this gateway has claimed (`revoking`, `claimed_by` = this instance).

use std::time::Duration;

use mayfly_aws::{iam_user, RetryPolicy};
use mayfly_store::{
    leases::{self, Lease, LeaseState},
    now_millis, targets,
};
use tokio::time::Instant;

use super::clients_for;
use crate::state::AppState;

/// How long one teardown may take before it counts as failed and is retried later.
const TEARDOWN_DEADLINE: Duration = Duration::from_secs(60);

/// Retry delay after the `attempts`-th failure: 5 s doubling, at most 15 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(5u64.saturating_mul(1 << exp).min(15 * 60))
}

/// Tears down what a claimed lease holds in AWS and records the outcome: `final_state`
/// (`revoked`, or `aborted` for a creation that never finished) on success, `revoke_failed`
/// with the reason and the next retry time on failure. Returns the error text on failure.
pub async fn teardown_claimed(
    state: &AppState,
    lease: &Lease,
    final_state: LeaseState,
) -> Result<(), String> {
    let outcome = tear_down_aws(state, lease).await;
    let now = now_millis();
    let db = state.db();
    let me = state.instance_id();
    let recorded = match &outcome {
        Ok(()) => leases::finish_revoke(db, &lease.id, me, final_state, now).await,
        Err(e) => {
            let next =
                now + i64::try_from(backoff(lease.attempts).as_millis()).unwrap_or(i64::MAX / 4);
            tracing::warn!(lease = %lease.id, attempts = lease.attempts + 1, error = %e, "revocation failed; will retry");
            leases::mark_revoke_failed(db, &lease.id, me, e, next, now).await
        }
    };
    // Only the owner that records the outcome audits it: a teardown that outlived
    // `reconcile_min_age` may have been taken over (and finished) by another gateway, and
    // each revocation is one audit event, not one per gateway that worked on it.
    let owned = match recorded {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!(lease = %lease.id, "lease changed hands during teardown; the other owner finishes it");
            false
        }
        Err(e) => {
            tracing::warn!(lease = %lease.id, error = %e, "could not record the teardown outcome; the reconciler will redo it");
            false
        }
    };
    if outcome.is_ok() && lease.mode.is_iam_user() {
        // The lease no longer needs its target: if that was a retired one (no producer uses
        // it) and this was its last live lease, it goes now (the reconciler catches misses).
        match targets::delete_unreferenced_private(db, lease.target_id).await {
            Ok(true) => {
                tracing::info!(
                    target_id = lease.target_id.get(),
                    "retired target deleted: its last live credential has ended"
                )
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(target_id = lease.target_id.get(), error = %e, "could not delete a retired target; the reconciler will")
            }
        }
    }
    if outcome.is_ok()
        && final_state == LeaseState::Revoked
        && lease.expires_at <= lease.claimed_at.unwrap_or(now)
    {
        // Expired (not revoked early by request): how late was the teardown?
        let lag = u64::try_from(now - lease.expires_at).unwrap_or_default();
        state
            .metrics()
            .record_revocation_lag(Duration::from_millis(lag));
    }
    if !owned {
        return outcome;
    }
    // Every revocation is on record, whoever caused it (a request, the revoker, the reconciler).
    state
        .auditor()
        .record(
            db,
            mayfly_store::audit::NewAuditEvent {
                identity: String::new(),
                at: now,
                request_id: String::new(),
                access_id: format!("gateway:{me}"),
                operation: format!("lease-{}", final_state.as_str()),
                item: lease.producer_name.clone(),
                outcome: if outcome.is_ok() { "ok" } else { "failed" }.to_owned(),
                status: if outcome.is_ok() { 200 } else { 502 },
                client_address: String::new(),
                detail: match &outcome {
                    Ok(()) => format!(
                        "tmp creds {} (user {})",
                        lease.id,
                        lease.iam_user_name.as_deref().unwrap_or("-")
                    ),
                    Err(e) => format!("tmp creds {}: {e}", lease.id),
                },
            },
        )
        .await;
    if outcome.is_ok() {
        tracing::info!(lease = %lease.id, producer = %lease.producer_name, user = lease.iam_user_name.as_deref().unwrap_or(""), state = final_state.as_str(), "credential revoked");
    }
    outcome
}

async fn tear_down_aws(state: &AppState, lease: &Lease) -> Result<(), String> {
    let Some(user) = lease
        .iam_user_name
        .as_deref()
        .filter(|_| lease.mode.is_iam_user())
    else {
        return Ok(());
    };
    let target = targets::find_by_id(state.db(), lease.target_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "target {} no longer exists; delete IAM user {user} by hand",
                lease.target_id
            )
        })?;
    let clients = clients_for(state, &target).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + TEARDOWN_DEADLINE;
    let retry = RetryPolicy::default();
    let report = iam_user::teardown_user(clients.iam.as_ref(), user, deadline, &retry)
        .await
        .map_err(|e| e.to_string())?;
    if report.user_existed {
        return Ok(());
    }
    // The user was not there. That means "already gone" only if we looked in the account
    // that holds it: credentials of another account get NoSuchEntity for every user.
    let Some(expected) = lease.aws_account.as_deref() else {
        return Ok(()); // Issued before accounts were recorded: as before.
    };
    let actual = account_of(state, &target, &clients, deadline, &retry).await?;
    if actual == expected {
        return Ok(());
    }
    Err(format!(
        "IAM user {user} was not found with the credentials of target {} (AWS account {actual}), but it was created in AWS account {expected}: it may still exist there, so it is not counted as revoked. Delete it in account {expected} by hand, or give the target the credentials of account {expected} again",
        target.name
    ))
}

/// The AWS account a target's credentials belong to (`sts:GetCallerIdentity`), remembered
/// per target id and version.
async fn account_of(
    state: &AppState,
    target: &mayfly_store::entity::target::Model,
    clients: &mayfly_aws::AwsClients,
    deadline: Instant,
    retry: &RetryPolicy,
) -> Result<String, String> {
    let key = (target.id, target.version);
    if let Some(account) = state.known_account(key) {
        return Ok(account);
    }
    let identity = mayfly_aws::with_retries(retry, deadline, "sts:GetCallerIdentity", || {
        clients.sts.get_caller_identity()
    })
    .await
    .map_err(|e| {
        format!(
            "IAM user not found; could not check which AWS account the credentials of target {} belong to (so it is not counted as revoked): {e}",
            target.name
        )
    })?;
    if identity.account.is_empty() {
        return Err(format!(
            "IAM user not found; sts:GetCallerIdentity named no account for the credentials of target {}, so it is not counted as revoked",
            target.name
        ));
    }
    state.remember_account(key, identity.account.clone());
    Ok(identity.account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_secs(5));
        assert_eq!(backoff(1), Duration::from_secs(10));
        assert_eq!(backoff(3), Duration::from_secs(40));
        assert_eq!(backoff(100), Duration::from_secs(900));
        assert_eq!(backoff(-1), Duration::from_secs(5));
    }
}
