//! The reconciler: at start-up and then periodically, it finishes what a crash or a lost
//! connection left behind.
//!
//! 1. Leases stuck in `creating` (the issuing request died) are taken over, their user torn
//!    down, and marked `aborted`.
//! 2. Leases stuck in `revoking` (their revoker died) are taken over and revoked.
//! 3. IAM users under the gateway's paths that carry this cluster's tag but match no live
//!    lease are deleted.
//! 4. Retired targets (private targets no producer uses: replaced inline credentials, a
//!    producer moved to another target, a deleted target) that no live lease needs any more
//!    are deleted. Teardown deletes them as soon as their last lease ends; this pass catches
//!    what a gateway that stopped in between left behind.
//!
//! "Stuck" means unchanged for `reconcile_min_age`: younger leases may still be in the hands
//! of a live request, and IAM is eventually consistent.
//!
//! Each pass is recorded ([`LastRun`], one row of `gateway_meta` shared by the gateways on a
//! database), so an operator can see that the reconciler runs, when it last did and what it
//! did, without reading logs or scraping every gateway's metrics.

use std::collections::{BTreeMap, BTreeSet};

use mayfly_aws::{iam_user, RetryPolicy};
use mayfly_store::{
    leases::{self, LeaseMode, LeaseState},
    meta, now_millis, producers, targets, LeaseId, TargetId,
};
use tokio::time::Instant;

use super::{clients_for, teardown::teardown_claimed, TAG_CLUSTER, TAG_LEASE};
use crate::producers::load_spec;

use crate::state::AppState;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReconcileReport {
    pub aborted: usize,
    pub revoked: usize,
    pub orphans_deleted: usize,
    pub failures: usize,
    pub retired_targets_deleted: usize,
}

/// One pass now, then one every `reconcile_interval`, until the gateway stops.
pub async fn run(state: AppState) {
    // Background work: its AWS calls yield to requests' on a throttled target.
    mayfly_aws::governor::background(async move {
        let stop = state.shutdown().clone();
        while !stop.is_cancelled() {
            let report = run_and_record(&state).await;
            let m = state.metrics();
            m.record_reconciler("aborted", report.aborted);
            m.record_reconciler("revoked", report.revoked);
            m.record_reconciler("orphan_deleted", report.orphans_deleted);
            m.record_reconciler("failure", report.failures);
            m.record_reconciler("retired_target_deleted", report.retired_targets_deleted);
            if report != ReconcileReport::default() {
                tracing::info!(?report, "reconciler pass");
            }
            tokio::select! {
                _ = tokio::time::sleep(state.reconcile_interval()) => {}
                _ = stop.cancelled() => {}
            }
        }
    })
    .await;
}

/// The `gateway_meta` key of the last pass.
const LAST_RUN_KEY: &str = "reconciler_last_run";

/// The last reconciler pass of any gateway on this database: when it started and ended
/// (Unix milliseconds), which gateway ran it, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LastRun {
    pub started_at: i64,
    pub finished_at: i64,
    pub gateway: String,
    pub report: ReconcileReport,
}

/// One pass ([`run_once`]), then its record as the last run. Failing to record is logged and
/// otherwise ignored: the pass itself is what matters.
pub async fn run_and_record(state: &AppState) -> ReconcileReport {
    let started_at = now_millis();
    let report = run_once(state).await;
    let run = LastRun {
        started_at,
        finished_at: now_millis(),
        gateway: state.instance_id().to_owned(),
        report,
    };
    match serde_json::to_string(&run) {
        Ok(json) => {
            if let Err(e) = meta::put(state.db(), LAST_RUN_KEY, &json).await {
                tracing::warn!(error = %e, "could not record the reconciler's pass");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not serialize the reconciler's pass"),
    }
    report
}

/// The last recorded pass, or `None` if no gateway on this database has finished one (or
/// its record cannot be read, which is logged).
pub async fn last_run(state: &AppState) -> crate::error::AppResult<Option<LastRun>> {
    let Some(raw) = meta::get(state.db(), LAST_RUN_KEY).await? else {
        return Ok(None);
    };
    match serde_json::from_str(&raw) {
        Ok(run) => Ok(Some(run)),
        Err(e) => {
            tracing::warn!(error = %e, "the reconciler's last-run record is unreadable");
            Ok(None)
        }
    }
}

pub async fn run_once(state: &AppState) -> ReconcileReport {
    let mut report = ReconcileReport::default();
    let min_age = i64::try_from(state.reconcile_min_age().as_millis()).unwrap_or(i64::MAX / 4);
    let cutoff = now_millis() - min_age;
    for (stuck_state, final_state) in [
        (LeaseState::Creating, LeaseState::Aborted),
        (LeaseState::Revoking, LeaseState::Revoked),
    ] {
        let stuck = match leases::stuck(state.db(), stuck_state, cutoff, 500).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "reconciler could not read stuck leases");
                report.failures += 1;
                continue;
            }
        };
        for lease in stuck {
            match leases::take_over(state.db(), &lease, state.instance_id(), now_millis()).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(lease = %lease.id, error = %e, "reconciler could not take over");
                    report.failures += 1;
                    continue;
                }
            }
            tracing::info!(lease = %lease.id, was = lease.state.as_str(), "reconciler took over a stuck lease");
            let claimed = leases::find(state.db(), &lease.id)
                .await
                .ok()
                .flatten()
                .unwrap_or(lease);
            match teardown_claimed(state, &claimed, final_state).await {
                Ok(()) if final_state == LeaseState::Aborted => report.aborted += 1,
                Ok(()) => report.revoked += 1,
                Err(_) => report.failures += 1,
            }
        }
    }
    if let Err(e) = delete_orphans(state, cutoff, &mut report).await {
        tracing::warn!(error = %e, "reconciler could not scan for untracked IAM users");
        report.failures += 1;
    }
    match targets::delete_all_unreferenced_private(state.db()).await {
        Ok(n) => report.retired_targets_deleted = usize::try_from(n).unwrap_or(usize::MAX),
        Err(e) => {
            tracing::warn!(error = %e, "reconciler could not delete retired targets");
            report.failures += 1;
        }
    }
    report
}

/// Deletes IAM users tagged with this cluster that no live lease owns.
async fn delete_orphans(
    state: &AppState,
    cutoff: i64,
    report: &mut ReconcileReport,
) -> Result<(), String> {
    // Which targets issue IAM users, and under which paths.
    let mut paths: BTreeMap<TargetId, BTreeSet<String>> = BTreeMap::new();
    for p in producers::list(state.db())
        .await
        .map_err(|e| e.to_string())?
    {
        if p.access_mode != LeaseMode::IamUser.as_str() {
            continue;
        }
        let path = load_spec(&p)
            .ok()
            .and_then(|s| s.user_path().map(|u| u.as_str().to_owned()))
            .unwrap_or_else(|| state.iam_user_path().as_str().to_owned());
        paths.entry(p.target_id).or_default().insert(path);
    }
    for (target_id, paths) in paths {
        let Some(target) = targets::find_by_id(state.db(), target_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        let clients = clients_for(state, &target).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + std::time::Duration::from_secs(120);
        let retry = RetryPolicy::default();
        for path in paths {
            let users = mayfly_aws::with_retries(&retry, deadline, "iam:ListUsers", || {
                clients.iam.list_users(&path)
            })
            .await
            .map_err(|e| format!("target {}: {e}", target.name))?;
            for user in users {
                if user.created.is_some_and(|c| c.timestamp_millis() > cutoff) {
                    continue; // Too young: its lease row may be in flight.
                }
                let tags = match mayfly_aws::with_retries(
                    &retry,
                    deadline,
                    "iam:ListUserTags",
                    || clients.iam.list_user_tags(&user.name),
                )
                .await
                {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::warn!(user = %user.name, error = %e, "could not read user tags");
                        report.failures += 1;
                        continue;
                    }
                };
                let tag = |k: &str| {
                    tags.iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                };
                if tag(TAG_CLUSTER).as_deref() != Some(state.cluster_id()) {
                    continue; // Not ours.
                }
                let owner = match tag(TAG_LEASE) {
                    Some(id) => leases::find(state.db(), &LeaseId::new(id))
                        .await
                        .map_err(|e| e.to_string())?,
                    None => None,
                };
                if owner.as_ref().is_some_and(|l| {
                    l.state.is_live() && l.iam_user_name.as_deref() == Some(user.name.as_str())
                }) {
                    continue;
                }
                tracing::warn!(user = %user.name, lease = ?owner.as_ref().map(|l| l.id.as_str()), "deleting an IAM user of this cluster that no live lease tracks");
                match iam_user::teardown_user(clients.iam.as_ref(), &user.name, deadline, &retry)
                    .await
                {
                    Ok(_) => report.orphans_deleted += 1,
                    Err(e) => {
                        tracing::warn!(user = %user.name, error = %e, "could not delete untracked IAM user");
                        report.failures += 1;
                    }
                }
            }
        }
    }
    Ok(())
}
