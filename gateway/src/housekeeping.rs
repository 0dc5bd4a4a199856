//! Periodic chores that keep the database small: expired tokens are deleted, and so are
//! hidden targets that no producer and no live credential needs any more.

use std::time::Duration;

use crate::state::AppState;

/// How often the chores run.
const INTERVAL: Duration = Duration::from_secs(300);

/// Runs forever; the caller aborts it at shutdown.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(INTERVAL);
    loop {
        tick.tick().await;
        run_once(&state).await;
    }
}

/// One round of chores; failures are logged and retried next round.
pub async fn run_once(state: &AppState) {
    match mayfly_store::auth::delete_expired_tokens(state.db(), mayfly_store::now_millis()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deleted = n, "expired tokens deleted"),
        Err(e) => tracing::warn!(error = %e, "could not delete expired tokens"),
    }
    sweep_unneeded_targets(state).await;
}

/// Deletes the hidden targets (replaced inline credentials, deleted producers' private
/// targets, retired public targets) that no producer uses and no live credential needs any
/// more. The revoker calls it after rounds that ended credentials; this round catches the rest.
pub async fn sweep_unneeded_targets(state: &AppState) {
    match mayfly_store::targets::delete_unreferenced_private(state.db(), None).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "targets no credential needs any more deleted"),
        Err(e) => tracing::warn!(error = %e, "could not delete unneeded targets"),
    }
}
