//! The overview: how many targets and dynamic secrets the caller can see, and their live
//! credentials by mode and by state (a `revoke_failed` count is the one to act on). Every
//! number comes from the same listings the API serves to this caller (`targets::list`,
//! `dynamic_secrets::list`, and `tmp_creds::list` of each dynamic secret it may `read`), so it
//! never counts what the caller could not list.
//!
//! Below them, over the last 24 hours and for the same dynamic secrets:
//! - credentials issued and revoked per hour (`tmp_creds::activity`, aggregated in the
//!   database over the window only), drawn as an SVG bar chart rendered here (no script);
//! - the revocation lag: how late the revoker tore down credentials after their expiry (the
//!   quantity of `mayfly_revocation_lag_seconds`, but from the database, so every gateway's
//!   work counts), and the live credentials already past their expiry;
//! - recent failures: the newest `failed` events of the audit trail the caller may read
//!   (`audit_trail::read`, as `get-audit-events`);
//! - the reconciler's last run (`reconciler::last_run`), shown to readers of every audit
//!   event: what it did is in that trail anyway, and it is about every lease, not the
//!   caller's.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use maud::Markup;
use mayfly_app::{
    access::{AuditAccess, Capability},
    audit_trail, dynamic_secrets,
    leases::reconciler,
    state::AppState,
    targets, tmp_creds,
};
use mayfly_domain::ItemName;
use mayfly_store::{
    audit::AuditQuery,
    leases::{Activity, LeaseState},
};

use super::{
    finish,
    view::{self, Nav},
    Outcome, Session,
};
use crate::{error::ApiError, operation::Effect};

/// Live credentials (the ones `tmp_creds::list` shows: creating, active, revoking,
/// revoke_failed) the caller may read, by state and by mode.
#[derive(Debug, Default)]
struct Counts {
    by_state: BTreeMap<&'static str, usize>,
    live_by_mode: BTreeMap<&'static str, usize>,
    live: usize,
    unreadable: usize,
    /// Live `iam_user` credentials past their expiry, not yet torn down, and the earliest
    /// such expiry.
    overdue: usize,
    oldest_overdue: Option<i64>,
}

const HOUR: i64 = 3_600_000;
/// The chart's and the lag's window: the current hour and the 23 before it.
const HOURS: usize = 24;
/// How many failures the overview lists.
const FAILURES: u64 = 10;

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    finish(&state, &req, &session, "console:overview", Effect::Read, "", async {
        let caller = &session.caller;
        let target_count = targets::list(&state, caller, None).await?.len();
        let producers = dynamic_secrets::list(&state, caller).await?;
        let mut counts = Counts::default();
        let now = mayfly_store::now_millis();
        let mut readable = Vec::new();
        for p in &producers {
            let Ok(name) = ItemName::parse(&p.name) else {
                continue;
            };
            let granted = match tmp_creds::authorize(&state, caller, &name, Capability::Read).await
            {
                Ok(g) => g,
                Err(mayfly_app::error::AppError::Denied(_)) => {
                    counts.unreadable += 1;
                    continue;
                }
                Err(e) => return Err(ApiError::from(e)),
            };
            for lease in tmp_creds::list(&state, &granted).await? {
                *counts.by_state.entry(lease.state.as_str()).or_default() += 1;
                *counts.live_by_mode.entry(lease.mode.as_str()).or_default() += 1;
                counts.live += 1;
                let torn_down_later = matches!(
                    lease.state,
                    LeaseState::Active | LeaseState::Revoking | LeaseState::RevokeFailed
                );
                if lease.mode.is_iam_user() && torn_down_later && lease.expires_at <= now {
                    counts.overdue += 1;
                    counts.oldest_overdue = Some(
                        counts.oldest_overdue.map_or(lease.expires_at, |o| o.min(lease.expires_at)),
                    );
                }
            }
            readable.push(granted);
        }
        let since = (now - now.rem_euclid(HOUR)) - (HOURS as i64 - 1) * HOUR;
        let activity = tmp_creds::activity(&state, &readable, since, HOURS).await?;
        let failures = match audit_trail::reader(caller) {
            Ok(reader) => Some(
                audit_trail::read(
                    &state,
                    &reader,
                    AuditQuery {
                        since: Some(now - HOURS as i64 * HOUR),
                        outcome: Some("failed".into()),
                        limit: FAILURES,
                        newest_first: true,
                        ..AuditQuery::default()
                    },
                )
                .await?,
            ),
            Err(mayfly_app::error::AppError::Denied(_)) => None,
            Err(e) => return Err(e.into()),
        };
        // A pass is due every interval; two missed ones (and a minute for a slow pass) is news.
        let stale_after = i64::try_from(state.reconcile_interval().as_millis())
            .unwrap_or(i64::MAX / 4)
            .saturating_mul(2)
            .saturating_add(60_000);
        let last_run = if caller.audit_access == AuditAccess::All {
            Some(reconciler::last_run(&state).await?)
        } else {
            None
        };
        let body = html! {
            div.cards {
                a.card href="/ui/targets" { span.n { (target_count) } "targets" }
                a.card href="/ui/secrets" { span.n { (producers.len()) } "dynamic secrets" }
                div.card { span.n { (counts.live) } "live credentials" }
            }
            @if target_count == 0 && producers.is_empty() {
                (view::empty(
                    "Nothing here yet: start with a target, the AWS admin connection dynamic secrets use.",
                    Some(("/ui/targets/new", "Create a target")),
                ))
            }
            h2 { "Live credentials by mode" }
            @if counts.live_by_mode.is_empty() {
                p { "No live credentials." }
            } @else {
                (table(&counts.live_by_mode, "Mode"))
            }
            h2 { "Live credentials by state" }
            @if counts.by_state.is_empty() {
                p { "None. To issue one, open a dynamic secret and choose "
                    em { "Get a credential" } "." }
            } @else {
                (table(&counts.by_state, "State"))
            }
            @if counts.unreadable > 0 {
                p.hint { (counts.unreadable) " dynamic secret(s) are listed to you but your roles do not let you read their credentials; they are not counted." }
            }
            h2 #activity { "Issued and revoked, last 24 hours" }
            (chart(&activity, since))
            h2 #revocation-lag { "Revocation lag" }
            (lag(&activity, &counts, now))
            h2 #recent-failures { "Recent failures" }
            @match &failures {
                None => p { "Your roles' audit-access is none, so the failures in the audit trail are not shown to you." }
                Some(rows) if rows.is_empty() => p { "No failed requests in the last 24 hours." }
                Some(rows) => {
                    div.table-wrap { table #failures {
                        thead { tr { th scope="col" { "Time" } th scope="col" { "Operation" } th scope="col" { "Item" } th scope="col" { "Detail" } } }
                        tbody { @for r in rows { tr {
                            td.nowrap { (view::time(r.at)) }
                            td { (r.operation) }
                            td { (r.item) }
                            td { (r.detail) " (" (r.status) ")" }
                        } } }
                    } }
                    p { a href="/ui/audit?outcome=failed" { "Every failure in the audit trail" } }
                }
            }
            h2 #reconciler { "Reconciler" }
            @match &last_run {
                None => p.hint { "The reconciler's runs are shown to holders of audit-access all." }
                Some(None) => p { "No reconciler run recorded yet: it runs at start-up and then every MAYFLY_RECONCILE_INTERVAL." }
                Some(Some(run)) => {
                    @if now - run.finished_at > stale_after {
                        (view::notice("error", &format!(
                            "The last reconciler pass ended {} — more than twice MAYFLY_RECONCILE_INTERVAL: no gateway may be reconciling; check that the gateways are running and their logs.",
                            ago(now - run.finished_at)
                        )))
                    }
                    dl.props #reconciler-last-run {
                        dt { "Last run" } dd { (view::time(run.started_at)) " (" (ago(now - run.finished_at)) ", took " (duration(run.finished_at - run.started_at)) ")" }
                        dt { "Gateway" } dd { code { (run.gateway) } }
                        dt { "Stuck creations aborted" } dd { (run.report.aborted) }
                        dt { "Stuck revocations finished" } dd { (run.report.revoked) }
                        dt { "Untracked IAM users deleted" } dd { (run.report.orphans_deleted) }
                        dt { "Retired targets deleted" } dd { (run.report.retired_targets_deleted) }
                        dt { "Failures" } dd { (run.report.failures) @if run.report.failures > 0 { " (the gateway log says which)" } }
                    }
                }
            }
        };
        Ok(Outcome::ok("Overview", Nav::Overview, body))
    })
    .await
}

fn table(rows: &BTreeMap<&'static str, usize>, what: &str) -> maud::Markup {
    html! {
        div.table-wrap { table {
            thead { tr { th scope="col" { (what) } th scope="col" { "Credentials" } } }
            tbody { @for (k, n) in rows { tr { td { code { (k) } } td { (n) } } } }
        } }
    }
}

/// A duration in milliseconds, as a person reads it.
fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=119_999 => format!("{:.1} s", ms as f64 / 1000.0),
        120_000..=7_199_999 => format!("{} min", ms / 60_000),
        _ => format!("{:.1} h", ms as f64 / HOUR as f64),
    }
}

fn ago(ms: i64) -> String {
    format!("{} ago", duration(ms))
}

/// The revocation lag of the window and what is overdue now.
fn lag(activity: &Activity, counts: &Counts, now: i64) -> Markup {
    let n = activity.lag_count;
    html! {
        dl.props #lag {
            dt { "Torn down after expiry" } dd { (n) " credential(s)" }
            @if n > 0 {
                dt { "Average lag" } dd { (duration(activity.lag_total_ms / i64::try_from(n).unwrap_or(1).max(1))) }
                dt { "Worst lag" } dd { (duration(activity.lag_max_ms)) }
            }
            dt { "Past expiry, not yet torn down" } dd {
                (counts.overdue)
                @if let Some(oldest) = counts.oldest_overdue { " (the oldest expired " (ago(now - oldest)) ")" }
            }
        }
        p.hint { "How late the gateway removed IAM users after their credentials expired (revocations asked for early are not lag). STS credentials end at their expiry in AWS itself." }
    }
}

/// Credentials issued and revoked per hour as an SVG bar chart: rendered here, so no script;
/// colours by presentation attributes, so no inline style (the CSP allows neither). Each bar
/// has a tooltip title, and the figure a text description with the totals.
fn chart(activity: &Activity, since: i64) -> Markup {
    const W: i64 = 720;
    const H: i64 = 180;
    const TOP: i64 = 10;
    const BASE: i64 = 150;
    let slot = W / HOURS as i64;
    let peak = activity
        .issued
        .iter()
        .chain(&activity.ended)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let height = |n: u64| -> i64 {
        let h = (n as f64 / peak as f64 * (BASE - TOP) as f64).round() as i64;
        if n > 0 {
            h.max(2)
        } else {
            0
        }
    };
    let hour_label = |i: usize| {
        chrono::DateTime::from_timestamp_millis(since + i as i64 * HOUR)
            .map(|t| t.format("%H:00").to_string())
            .unwrap_or_default()
    };
    let issued: u64 = activity.issued.iter().sum();
    let ended: u64 = activity.ended.iter().sum();
    let from = view::time(since);
    html! {
        figure.chart-box {
            svg.chart #activity-chart xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)}
                role="img" aria-labelledby="chart-title chart-desc" {
                title #chart-title { "Credentials issued and revoked per hour" }
                desc #chart-desc { (issued) " issued and " (ended) " revoked or expired in the 24 hours from " (from) "; the tallest bar is " (peak) "." }
                line x1="0" y1=(BASE) x2=(W) y2=(BASE) stroke="#8c959f" stroke-width="1" {}
                text x="2" y=(TOP + 8) font-size="10" fill="#4a5562" { (peak) }
                @for i in 0..HOURS {
                    @let x = i as i64 * slot;
                    @let (a, b) = (activity.issued[i], activity.ended[i]);
                    rect.issued x=(x + 3) y=(BASE - height(a)) width=(slot / 2 - 3) height=(height(a)) fill="#1d4e89" {
                        title { (hour_label(i)) " UTC: " (a) " issued" }
                    }
                    rect.revoked x=(x + slot / 2) y=(BASE - height(b)) width=(slot / 2 - 3) height=(height(b)) fill="#b42318" {
                        title { (hour_label(i)) " UTC: " (b) " revoked" }
                    }
                    @if i % 6 == 0 {
                        text x=(x + 2) y=(BASE + 16) font-size="11" fill="#4a5562" { (hour_label(i)) }
                    } @else if i == HOURS - 1 {
                        text x=(x + slot - 2) y=(BASE + 16) font-size="11" fill="#4a5562" text-anchor="end" { (hour_label(i)) }
                    }
                }
            }
            figcaption {
                span.key.issued-key { "■" } " issued (" (issued) ")  "
                span.key.revoked-key { "■" } " revoked or expired (" (ended) ")"
                span.hint { " · per hour, UTC, from " (from) }
            }
        }
    }
}
