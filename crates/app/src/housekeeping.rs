//! Periodic chores that keep the database small: expired tokens are deleted, audit events
//! and finished leases past their retention (`audit_retention_days`, `lease_retention_days`),
//! hidden targets that no producer and no live credential needs any more, and session denials
//! (revoked STS credentials) whose credentials have all expired. Every delete is
//! conditional on what makes a row removable, so several gateways can run it at once.

use std::time::Duration;

use crate::state::AppState;

/// Rows deleted per statement: a large backlog is worked off in short statements.
const BATCH: u64 = 1000;
/// At most this many batches per table and round; the rest waits for the next round.
const MAX_BATCHES: u32 = 100;

/// Runs forever; the caller aborts it at shutdown.
pub async fn run(state: AppState) {
    // Background work: its AWS calls yield to requests' on a throttled target.
    mayfly_aws::governor::background(async move {
        let mut tick = tokio::time::interval(state.housekeeping_interval());
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = state.shutdown().cancelled() => return,
            }
            run_once(&state).await;
        }
    })
    .await;
}

/// One round of chores; failures are logged and retried next round.
pub async fn run_once(state: &AppState) {
    match mayfly_store::auth::delete_expired_tokens(state.db(), mayfly_store::now_millis()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deleted = n, "expired tokens deleted"),
        Err(e) => tracing::warn!(error = %e, "could not delete expired tokens"),
    }
    let (audit, leases) = state.retention();
    let now = mayfly_store::now_millis();
    let cutoff = |keep: Duration| now - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX / 2);
    if let Some(keep) = audit {
        prune("audit events", || {
            mayfly_store::audit::delete_older_than(state.db(), cutoff(keep), BATCH)
        })
        .await;
    }
    if let Some(keep) = leases {
        prune("finished leases", || {
            mayfly_store::leases::delete_finished_before(state.db(), cutoff(keep), BATCH)
        })
        .await;
    }
    sweep_unneeded_targets(state).await;
    crate::leases::sessions::prune_expired(state).await;
}

/// Runs `delete` batch after batch until one comes back short (or [`MAX_BATCHES`]).
async fn prune<F, Fut>(what: &str, delete: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u64, mayfly_store::StoreError>>,
{
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        match delete().await {
            Ok(n) => {
                total += n;
                if n < BATCH {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not delete old {what}");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(deleted = total, "deleted {what} past their retention");
    }
}

/// Deletes the hidden targets (replaced inline credentials, deleted producers' private
/// targets, retired public targets) that no producer uses and no live credential needs any
/// more. The revoker calls it after rounds that ended credentials; this round catches the rest.
pub async fn sweep_unneeded_targets(state: &AppState) {
    match mayfly_store::targets::delete_unneeded_hidden(state.db(), None).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "targets no credential needs any more deleted"),
        Err(e) => tracing::warn!(error = %e, "could not delete unneeded targets"),
    }
}
