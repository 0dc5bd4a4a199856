//! The admin rotation worker: every `admin_rotation_check_interval` it rotates the targets
//! whose scheduled rotation is due. Each target is claimed with a conditional update first
//! ([`super::admin::rotate_target`]), so with several gateways on one database each due
//! target is rotated once.

use mayfly_store::{now_millis, rotation as store, TargetId};

use super::admin::{rotate_target, Rotated, RotationError, Timing};
use crate::state::AppState;

/// Targets rotated per round at most; the rest wait for the next round.
const BATCH: u64 = 20;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub rotated: usize,
    pub failed: usize,
    /// Claimed by another gateway meanwhile.
    pub skipped: usize,
}

/// Runs until the gateway stops (its shutdown token): a round at start, then one every
/// check interval.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(state.admin_rotation_check_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = state.shutdown().cancelled() => return,
        }
        run_once(&state, &Timing::for_cache_ttl(state.cache_ttl())).await;
    }
}

/// One round. Database errors are logged; the next round tries again.
pub async fn run_once(state: &AppState, timing: &Timing) -> Round {
    let mut round = Round::default();
    let due = match store::due(state.db(), now_millis(), BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read targets due for admin key rotation");
            return round;
        }
    };
    for target_id in due {
        let outcome = rotate_target(state, target_id, timing).await;
        match &outcome {
            Ok(_) => round.rotated += 1,
            Err(RotationError::Busy(_) | RotationError::Gone(_)) => {
                round.skipped += 1;
                continue;
            }
            Err(_) => round.failed += 1,
        }
        audit(state, target_id, &outcome).await;
    }
    if round != Round::default() {
        tracing::info!(
            rotated = round.rotated,
            failed = round.failed,
            skipped = round.skipped,
            "scheduled admin key rotation round"
        );
    }
    round
}

/// Records a scheduled rotation in the audit trail, as the revoker does for its work (a
/// rotation on request is recorded by the request's own audit event). Key ids only.
async fn audit(state: &AppState, target_id: TargetId, outcome: &Result<Rotated, RotationError>) {
    let item = match outcome {
        Ok(r) => r.target_name.clone(),
        Err(_) => mayfly_store::targets::find_by_id(state.db(), target_id)
            .await
            .ok()
            .flatten()
            .map_or_else(|| format!("target {target_id}"), |t| t.name),
    };
    let (outcome, status, detail) = match outcome {
        Ok(r) => (
            "ok",
            200,
            format!(
                "IAM user {}: access key {} replaced by {}{}",
                r.iam_user,
                r.previous_access_key_id,
                r.access_key_id,
                r.warning
                    .as_deref()
                    .map(|w| format!("; {w}"))
                    .unwrap_or_default()
            ),
        ),
        Err(e) => ("failed", 502, e.to_string()),
    };
    state
        .auditor()
        .record(
            state.db(),
            mayfly_store::audit::NewAuditEvent {
                identity: String::new(),
                at: now_millis(),
                request_id: String::new(),
                access_id: format!("gateway:{}", state.instance_id()),
                operation: "scheduled-admin-key-rotation".into(),
                item,
                outcome: outcome.into(),
                status,
                client_address: String::new(),
                detail,
            },
        )
        .await;
}
