//! Periodic chores that keep the database small: expired tokens are deleted.

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
}
