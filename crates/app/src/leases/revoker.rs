//! The revoker: ends expired `iam_user` credentials on time.
//!
//! Each round reads due leases through the `(state, expires_at)` index (never all leases),
//! claims each with a conditional update (so one gateway of several wins each lease), and
//! tears them down concurrently. Failures become `revoke_failed` with backoff and are retried
//! forever: a lease is never dropped silently. STS leases past expiry are just marked
//! `expired`, since AWS ends those credentials itself.

use futures_util::{stream, StreamExt};
use mayfly_store::{
    leases::{self, LeaseState},
    now_millis,
};

use super::teardown::teardown_claimed;
use crate::state::AppState;

/// Leases claimed per round and torn down at once.
const BATCH: u64 = 200;
const CONCURRENCY: usize = 16;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RevokerRound {
    pub revoked: usize,
    pub failed: usize,
    pub sts_expired: u64,
}

/// Runs a round every `revoke_interval`, or sooner when woken, until the gateway stops
/// (`AppState::shutdown`): then it claims nothing new, lets the teardowns it started finish
/// and returns.
pub async fn run(state: AppState) {
    // Background work: its AWS calls yield to requests' on a throttled target.
    mayfly_aws::governor::background(async move {
        let stop = state.shutdown().clone();
        while !stop.is_cancelled() {
            let round = run_once(&state).await;
            if round.revoked + round.failed > 0 && (round.revoked + round.failed) as u64 >= BATCH {
                continue; // More may be due right now.
            }
            tokio::select! {
                _ = tokio::time::sleep(state.revoke_interval()) => {}
                _ = state.revoker_wakeup().notified() => {}
                _ = stop.cancelled() => {}
            }
        }
    })
    .await;
}

/// One round. Errors reading the database are logged; the next round tries again.
pub async fn run_once(state: &AppState) -> RevokerRound {
    let now = now_millis();
    let mut round = RevokerRound::default();
    match leases::expire_sts(state.db(), now).await {
        Ok(n) => round.sts_expired = n,
        Err(e) => tracing::warn!(error = %e, "could not expire STS leases"),
    }
    let due = match leases::due_for_revoke(state.db(), now, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read due leases");
            return round;
        }
    };
    let outcomes: Vec<Option<bool>> = stream::iter(due)
        .map(|lease| async move {
            if state.shutdown().is_cancelled() {
                return None; // Stopping: claim nothing new.
            }
            match leases::claim_for_revoke(state.db(), &lease.id, state.instance_id(), now_millis())
                .await
            {
                Ok(true) => {
                    let claimed = leases::find(state.db(), &lease.id)
                        .await
                        .ok()
                        .flatten()
                        .unwrap_or(lease);
                    Some(
                        teardown_claimed(state, &claimed, LeaseState::Revoked)
                            .await
                            .is_ok(),
                    )
                }
                Ok(false) => None, // Another gateway won it.
                Err(e) => {
                    tracing::warn!(lease = %lease.id, error = %e, "could not claim lease");
                    None
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for outcome in outcomes.into_iter().flatten() {
        if outcome {
            round.revoked += 1;
        } else {
            round.failed += 1;
        }
    }
    if round.revoked > 0 {
        // A retired target, or a producer's replaced inline credentials, may just have lost
        // the last credential that needed them.
        crate::housekeeping::sweep_unneeded_targets(state).await;
    }
    round
}
