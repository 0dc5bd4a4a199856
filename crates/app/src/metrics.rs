//! Prometheus metrics (served at `GET /metrics` by the gateway) and the per-request AWS
//! timer behind `Server-Timing`.
//!
//! - `mayfly_http_requests_total{operation,status}` and
//!   `mayfly_http_request_duration_seconds{operation}`;
//! - `mayfly_aws_calls_total{action,outcome}` and `mayfly_aws_call_duration_seconds{action}`
//!   (one per HTTP attempt, from an AWS SDK interceptor);
//! - `mayfly_leases{state}`: live leases by state (`creating`, `active`, `revoking`,
//!   `revoke_failed`), counted at scrape time in one query that reads only the live range of
//!   the state index, so a scrape costs the same with 10 million finished leases as with none.
//!   Finished states (`revoked`, `aborted`, `expired`) are not counted: that number is the
//!   history retention keeps (it falls when retention deletes), counting it costs a scan of the
//!   whole history per scrape, and what ended is in the tmp-creds history and the audit log;
//!   revocations done show as `mayfly_revocation_lag_seconds_count`;
//! - `mayfly_revocation_lag_seconds` (from a credential's expiry to its teardown);
//! - `mayfly_reconciler_actions_total{action}`;
//! - `mayfly_db_pool_connections{state}` (idle / in use);
//! - `mayfly_log_lines_dropped_total`: log lines the gateway's non-blocking log writer
//!   dropped because its queue to stdout was full (stdout stalled), set at scrape time.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::{Family, MetricConstructor},
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationStatus {
    operation: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionOutcome {
    action: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// Latency buckets from 0.25 ms to about 16 s.
#[derive(Clone)]
struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.000_25, 2.0, 17))
    }
}

/// All metrics of one gateway process.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<OperationStatus, Counter>,
    request_duration: Family<OperationLabel, Histogram, LatencyBuckets>,
    aws_calls: Family<ActionOutcome, Counter>,
    aws_duration: Family<ActionLabel, Histogram, LatencyBuckets>,
    revocation_lag: Histogram,
    key_ready_wait: Family<StateLabel, Histogram, LatencyBuckets>,
    guardrails: Family<ActionLabel, Counter>,
    reconciler_actions: Family<ActionLabel, Counter>,
    leases: Family<StateLabel, Gauge>,
    db_pool: Family<StateLabel, Gauge>,
    log_lines_dropped: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(LatencyBuckets),
            aws_calls: Family::default(),
            aws_duration: Family::new_with_constructor(LatencyBuckets),
            revocation_lag: Histogram::new(exponential_buckets(0.05, 2.0, 14)),
            key_ready_wait: Family::new_with_constructor(LatencyBuckets),
            guardrails: Family::default(),
            reconciler_actions: Family::default(),
            leases: Family::default(),
            db_pool: Family::default(),
            log_lines_dropped: Counter::default(),
        };
        {
            let mut r = m.registry.lock().unwrap_or_else(|p| p.into_inner());
            r.register(
                "mayfly_http_requests",
                "API requests by operation and status",
                m.requests.clone(),
            );
            r.register(
                "mayfly_http_request_duration_seconds",
                "API request latency",
                m.request_duration.clone(),
            );
            r.register(
                "mayfly_aws_calls",
                "AWS call attempts by action and outcome",
                m.aws_calls.clone(),
            );
            r.register(
                "mayfly_aws_call_duration_seconds",
                "AWS call attempt latency",
                m.aws_duration.clone(),
            );
            r.register(
                "mayfly_revocation_lag_seconds",
                "Time from a credential's expiry to its teardown",
                m.revocation_lag.clone(),
            );
            r.register(
                "mayfly_key_ready_wait_seconds",
                "How long a new iam_user key took to work (wait-until-usable), by outcome (ready, not_ready)",
                m.key_ready_wait.clone(),
            );
            r.register(
                "mayfly_guardrails",
                "Credential requests a guardrail answered: reused (reuse-window), or refused (live_limit, rate_limit)",
                m.guardrails.clone(),
            );
            r.register(
                "mayfly_reconciler_actions",
                "What the reconciler did",
                m.reconciler_actions.clone(),
            );
            r.register(
                "mayfly_leases",
                "Live leases (tmp creds) by state: creating, active, revoking, revoke_failed",
                m.leases.clone(),
            );
            r.register(
                "mayfly_db_pool_connections",
                "Database pool connections by state",
                m.db_pool.clone(),
            );
            r.register(
                "mayfly_log_lines_dropped",
                "Log lines dropped because stdout did not keep up (the log queue was full)",
                m.log_lines_dropped.clone(),
            );
        }
        m
    }
}

impl Metrics {
    pub fn record_request(&self, operation: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&OperationStatus {
                operation: operation.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.request_duration
            .get_or_create(&OperationLabel {
                operation: operation.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// A guardrail answered a credential request (`reused`, `live_limit`, `rate_limit`).
    pub fn record_guardrail(&self, action: &str) {
        self.guardrails
            .get_or_create(&ActionLabel {
                action: action.to_owned(),
            })
            .inc();
    }

    /// A `wait-until-usable` wait: `ready` whether the key worked within it.
    pub fn record_key_ready_wait(&self, ready: bool, waited: Duration) {
        self.key_ready_wait
            .get_or_create(&StateLabel {
                state: if ready { "ready" } else { "not_ready" }.to_owned(),
            })
            .observe(waited.as_secs_f64());
    }

    /// The log writer's count of dropped lines so far (it only grows).
    pub fn record_log_lines_dropped(&self, total: u64) {
        let counted = self.log_lines_dropped.get();
        if total > counted {
            self.log_lines_dropped.inc_by(total - counted);
        }
    }

    pub fn record_revocation_lag(&self, lag: Duration) {
        self.revocation_lag.observe(lag.as_secs_f64());
    }

    pub fn record_reconciler(&self, action: &str, count: usize) {
        if count > 0 {
            self.reconciler_actions
                .get_or_create(&ActionLabel {
                    action: action.to_owned(),
                })
                .inc_by(count as u64);
        }
    }

    /// The text exposition, after refreshing the gauges that are read at scrape time.
    pub async fn render(&self, db: &sea_orm::DatabaseConnection) -> String {
        // A failed count keeps the last values rather than showing zeros.
        if let Ok(counts) = mayfly_store::leases::count_live_by_state(db).await {
            for (s, n) in counts {
                self.leases
                    .get_or_create(&StateLabel {
                        state: s.as_str().to_owned(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        let (size, idle) = pool_stats(db);
        let label = |s: &str| StateLabel {
            state: s.to_owned(),
        };
        self.db_pool.get_or_create(&label("idle")).set(idle);
        self.db_pool
            .get_or_create(&label("in_use"))
            .set(size - idle);
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}

fn pool_stats(db: &sea_orm::DatabaseConnection) -> (i64, i64) {
    match db {
        sea_orm::DatabaseConnection::SqlxSqlitePoolConnection(_) => {
            let p = db.get_sqlite_connection_pool();
            (
                i64::from(p.size()),
                i64::try_from(p.num_idle()).unwrap_or_default(),
            )
        }
        sea_orm::DatabaseConnection::SqlxPostgresPoolConnection(_) => {
            let p = db.get_postgres_connection_pool();
            (
                i64::from(p.size()),
                i64::try_from(p.num_idle()).unwrap_or_default(),
            )
        }
        _ => (0, 0),
    }
}

tokio::task_local! {
    /// The AWS calls this request has waited on so far.
    static AWS_TIME: Arc<AwsTimer>;
}

/// The time a request spent waiting on AWS: the wall-clock union of its calls' intervals, so
/// calls made concurrently (an `iam_user` issue's set-up) count once, not once each.
#[derive(Debug, Default)]
pub struct AwsTimer {
    intervals: Mutex<Vec<(std::time::Instant, std::time::Instant)>>,
}

impl AwsTimer {
    fn record(&self, elapsed: Duration) {
        let end = std::time::Instant::now();
        let start = end.checked_sub(elapsed).unwrap_or(end);
        self.intervals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((start, end));
    }

    /// Time during which at least one AWS call was under way.
    pub fn waited(&self) -> Duration {
        let mut intervals = self
            .intervals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        intervals.sort_unstable();
        let mut total = Duration::ZERO;
        let mut current: Option<(std::time::Instant, std::time::Instant)> = None;
        for (start, end) in intervals {
            current = match current {
                Some((s, e)) if start <= e => Some((s, e.max(end))),
                Some((s, e)) => {
                    total += e - s;
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        if let Some((s, e)) = current {
            total += e - s;
        }
        total
    }
}

/// A fresh AWS timer for one request.
pub fn new_aws_timer() -> Arc<AwsTimer> {
    Arc::default()
}

/// The timer of the request this task serves, to carry into a task it spawns.
pub fn current_aws_timer() -> Option<Arc<AwsTimer>> {
    AWS_TIME.try_with(Arc::clone).ok()
}

/// Runs `fut` with `timer` counting its AWS time.
pub async fn with_aws_timer<F: std::future::Future>(
    timer: Option<Arc<AwsTimer>>,
    fut: F,
) -> F::Output {
    match timer {
        Some(t) => AWS_TIME.scope(t, fut).await,
        None => fut.await,
    }
}

/// Reports AWS call attempts into the metrics and the current request's timer.
#[derive(Debug)]
pub struct AwsObserver(pub Arc<Metrics>);

impl mayfly_aws::CallObserver for AwsObserver {
    fn observe(&self, action: &str, elapsed: Duration, status: Option<u16>) {
        let outcome = match status {
            Some(200..=299) => "ok",
            Some(429) => "throttled",
            Some(s) if s >= 500 => "server_error",
            Some(_) => "error",
            None => "unreachable",
        };
        self.0
            .aws_calls
            .get_or_create(&ActionOutcome {
                action: action.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.0
            .aws_duration
            .get_or_create(&ActionLabel {
                action: action.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
        let _ = AWS_TIME.try_with(|t| t.record(elapsed));
    }
}

#[cfg(test)]
mod aws_timer_tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn overlapping_calls_count_once() {
        let t = AwsTimer::default();
        let base = Instant::now();
        let ms = Duration::from_millis;
        t.intervals.lock().unwrap().extend([
            (base, base + ms(10)),
            (base + ms(5), base + ms(12)),
            (base + ms(20), base + ms(25)),
            (base + ms(21), base + ms(22)),
        ]);
        assert_eq!(t.waited(), ms(17));
    }
}
