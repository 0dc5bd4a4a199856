//! Row 5: revocation.
//!
//! - Steady rate: `iam_user` credentials with the shortest TTL (1m) issued at a steady rate;
//!   once all are revoked, the lag of each is `ended_at - expires_at` from its lease row (the
//!   moment the revoker finished deleting the IAM user, minus the moment it expired), the same
//!   quantity `mayfly_revocation_lag_seconds` observes.
//! - Drain: `n` credentials issued with a long TTL are made to expire at once by setting
//!   `expires_at` in the database; the time until no lease is live is the drain time. Under
//!   IAM's limit, a probe issues a credential of another `iam_user` producer every
//!   [`PROBE_EVERY`] before the drain (the same throttle, nothing to revoke) and during it, so
//!   the row shows whether issuance keeps its latency while the revoker drains.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use futures_util::{stream, StreamExt, TryStreamExt};
use serde_json::json;

use crate::api::Api;
use crate::db::{chrono_millis, sqlite_in, Db};
use crate::setup::{Env, Network, TARGET};
use crate::stats::{ms, verdict, Samples};

const POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const LIVE: &str = "state IN ('creating', 'active', 'revoking', 'revoke_failed')";
/// The drain's producer, and the probe's that issues while it drains.
const DRAIN_PRODUCER: &str = "/bench/revoke-drain";
const PROBE_PRODUCER: &str = "/bench/drain-probe";
/// How often the probe issues a credential.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long the probe measures issuance before the drain.
const PROBE_BEFORE: Duration = Duration::from_secs(30);

pub struct Options {
    /// Credentials issued per second in the steady-rate case.
    pub rate: u32,
    /// For how long they are issued.
    pub issue_seconds: u64,
    /// Credentials expiring at once in the drain case (0: no drain case).
    pub drain: usize,
    /// The AWS network between the gateway and moto.
    pub network: Network,
}

pub fn header() {
    println!("| case | credentials | result | target (lag p99 ≤ 2 s) |");
    println!("|---|---|---|---|");
}

pub async fn run(work: &Path, binary: std::path::PathBuf, opts: &Options) -> Result<()> {
    header();
    steady(work, binary.clone(), opts).await?;
    if opts.drain == 0 {
        return Ok(());
    }
    drain(work, binary, opts.drain, &opts.network).await
}

async fn steady(work: &Path, binary: std::path::PathBuf, opts: &Options) -> Result<()> {
    let env = Env::start(work, "revoke-steady", binary, &opts.network).await?;
    let producer = "/bench/revoke-steady";
    env.api
        .create_producer(
            producer,
            TARGET,
            json!({"access-mode": "iam_user", "aws-user-policies": POLICY, "user-ttl": "1m"}),
        )
        .await?;
    let body = json!({"name": producer});
    let total = opts.rate as u64 * opts.issue_seconds;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(opts.rate)));
    let mut issued = Vec::new();
    for _ in 0..total {
        ticker.tick().await;
        let api = env.api.clone();
        let body = body.clone();
        issued.push(tokio::spawn(async move {
            api.timed("/get-dynamic-secret-value", &body).await
        }));
    }
    for task in issued {
        task.await??;
    }
    let db = sqlite_in(&env.gateway.data_dir);
    wait_until_drained(&db, Duration::from_secs(180)).await?;
    let lags = db
        .sql("SELECT ended_at - expires_at FROM leases WHERE state = 'revoked'")
        .await?;
    let mut samples = Samples::default();
    for line in lags.lines() {
        if let Ok(v) = line.trim().parse::<f64>() {
            samples.push(v);
        }
    }
    if samples.len() as u64 != total {
        bail!("expected {total} revoked leases, found {}", samples.len());
    }
    let metrics = env.api.metrics().await.unwrap_or_default();
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("mayfly_revocation_lag_seconds_"))
    {
        if line.contains("_sum") || line.contains("_count") {
            eprintln!("revocation: /metrics {line}");
        }
    }
    println!(
        "| steady rate: {}/s for {} s, TTL 1m | {} | lag p50 {} ms, p99 {} ms, max {} ms | {} |",
        opts.rate,
        opts.issue_seconds,
        total,
        ms(samples.p50()),
        ms(samples.p99()),
        ms(samples.pct(100.0)),
        verdict(samples.p99() <= 2000.0),
    );
    Ok(())
}

async fn drain(work: &Path, binary: std::path::PathBuf, n: usize, net: &Network) -> Result<()> {
    let env = Env::start(work, "revoke-drain", binary, net).await?;
    let producer = DRAIN_PRODUCER;
    for name in [DRAIN_PRODUCER, PROBE_PRODUCER] {
        env.api
            .create_producer(
                name,
                TARGET,
                json!({"access-mode": "iam_user", "aws-user-policies": POLICY, "user-ttl": "60m"}),
            )
            .await?;
    }
    let throttled = net.iam_write_rate > 0.0 && env.aws.is_some();
    let body = json!({"name": producer});
    // Issued without throttling: the throttle (if asked for) applies to the drain only.
    if let Some(aws) = &env.aws {
        aws.clear_throttles();
    }
    let issuing = Instant::now();
    let _: Vec<_> = stream::iter(0..n)
        .map(|_| env.api.timed("/get-dynamic-secret-value", &body))
        .buffer_unordered(8)
        .try_collect()
        .await?;
    let issue_s = issuing.elapsed().as_secs_f64();
    let db = sqlite_in(&env.gateway.data_dir);
    if let (Some(aws), true) = (&env.aws, throttled) {
        aws.throttle(
            mayfly_aws_netsim::IAM_WRITE_ACTIONS,
            mayfly_aws_netsim::RateLimit::new(net.iam_write_rate, net.iam_write_burst),
        );
    }
    // Issuance under the same throttle with nothing to drain: the probe's baseline.
    let before = if throttled {
        let stop = AtomicBool::new(false);
        let (probe, ()) = tokio::join!(probe(&env.api, &stop), async {
            tokio::time::sleep(PROBE_BEFORE).await;
            stop.store(true, Ordering::SeqCst);
        });
        Some(probe)
    } else {
        None
    };
    let now = chrono_millis();
    let expired = db
        .count(&format!(
            "UPDATE leases SET expires_at = {now} WHERE state = 'active' AND {}; SELECT changes();",
            of_producer(DRAIN_PRODUCER)
        ))
        .await?;
    if let Some(aws) = &env.aws {
        aws.reset_counters();
    }
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let (during, drained) = tokio::join!(
        async {
            if throttled {
                Some(probe(&env.api, &stop).await)
            } else {
                None
            }
        },
        async {
            let drained = wait_until_drained(&db, Duration::from_secs(7200)).await;
            stop.store(true, Ordering::SeqCst);
            drained
        }
    );
    drained?;
    let drained = started.elapsed().as_secs_f64();
    if let (Some(aws), true) = (&env.aws, net.iam_write_rate > 0.0) {
        // The fastest any client could go: every write that got through, at the allowed rate.
        let c = aws.counters();
        let throttled = c.throttled_of(mayfly_aws_netsim::IAM_WRITE_ACTIONS);
        let writes: u64 = mayfly_aws_netsim::IAM_WRITE_ACTIONS
            .iter()
            .map(|a| c.action(a).calls)
            .sum::<u64>()
            - throttled;
        let floor = writes as f64 / net.iam_write_rate;
        println!(
            "| drain under IAM's limit ({}/s) | {expired} | {writes} IAM writes in {drained:.1} s; the limit allows them in {floor:.1} s at best: {:.2}× ({throttled} calls throttled) | within 10 % of the limit: {} |",
            net.iam_write_rate,
            drained / floor,
            verdict(drained <= floor * 1.10),
        );
    }
    if let (Some(before), Some(during)) = (before, during) {
        println!(
            "| issuance during the drain (one `iam_user` issue every {} ms) | {} before, {} during | p50 {} → {}, p99 {} → {}: {:.2}× at p99; refused with 503: {} before, {} during | issuance keeps its p99: {} |",
            PROBE_EVERY.as_millis(),
            before.samples.len(),
            during.samples.len(),
            ms(before.samples.p50()),
            ms(during.samples.p50()),
            ms(before.samples.p99()),
            ms(during.samples.p99()),
            during.samples.p99() / before.samples.p99(),
            before.refused,
            during.refused,
            verdict(during.refused == 0 && during.samples.p99() <= before.samples.p99() * 1.10),
        );
    }
    let last = db
        .count("SELECT MAX(ended_at) FROM leases WHERE state = 'revoked'")
        .await?;
    println!(
        "| drain: all expire at once | {expired} | all revoked in {drained:.1} s ({:.0} per second; last ended {:.1} s after expiry); issuing them took {issue_s:.0} s at 8 clients | (no target) |",
        expired as f64 / drained,
        (last - now) as f64 / 1000.0,
    );
    Ok(())
}

/// What the probe saw: latencies of the issues that succeeded, and how many were refused.
struct Probe {
    samples: Samples,
    refused: u64,
}

/// Issues a credential of [`PROBE_PRODUCER`] every [`PROBE_EVERY`] (each on its own, so a
/// slow one does not hold back the next) until `stop`.
async fn probe(api: &Api, stop: &AtomicBool) -> Probe {
    let body = json!({"name": PROBE_PRODUCER});
    let mut ticks = tokio::time::interval(PROBE_EVERY);
    let mut running = futures_util::stream::FuturesUnordered::new();
    let mut out = Probe {
        samples: Samples::default(),
        refused: 0,
    };
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if stopping && running.is_empty() {
            return out;
        }
        tokio::select! {
            _ = ticks.tick(), if !stopping => {
                running.push(api.timed("/get-dynamic-secret-value", &body));
            }
            Some(result) = running.next(), if !running.is_empty() => match result {
                Ok(timed) => out.samples.push(timed.wall_ms),
                Err(_) => out.refused += 1,
            },
        }
    }
}

/// SQL: the lease belongs to the producer named `name`.
fn of_producer(name: &str) -> String {
    format!("producer_id = (SELECT id FROM producers WHERE name = '{name}')")
}

/// Polls until no lease of the drain's producer is live.
async fn wait_until_drained(db: &Db, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let live = db
            .count(&format!(
                "SELECT COUNT(*) FROM leases WHERE {LIVE} AND {}",
                of_producer(DRAIN_PRODUCER)
            ))
            .await?;
        if live == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{live} leases still live after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
