//! Row 5: revocation.
//!
//! - Steady rate: `iam_user` credentials with the shortest TTL (1m) issued at a steady rate;
//!   once all are revoked, the lag of each is `ended_at - expires_at` from its lease row (the
//!   moment the revoker finished deleting the IAM user, minus the moment it expired), the same
//!   quantity `mayfly_revocation_lag_seconds` observes.
//! - Drain: `n` credentials issued with a long TTL are made to expire at once by setting
//!   `expires_at` in the database; the time until no lease is live is the drain time.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use futures_util::{stream, StreamExt, TryStreamExt};
use serde_json::json;

use crate::db::{chrono_millis, sqlite_in, Db};
use crate::setup::{Env, Network, TARGET};
use crate::stats::{ms, verdict, Samples};

const POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const LIVE: &str = "state IN ('creating', 'active', 'revoking', 'revoke_failed')";

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
    let producer = "/bench/revoke-drain";
    env.api
        .create_producer(
            producer,
            TARGET,
            json!({"access-mode": "iam_user", "aws-user-policies": POLICY, "user-ttl": "60m"}),
        )
        .await?;
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
    let now = chrono_millis();
    let expired = db
        .count(&format!(
            "UPDATE leases SET expires_at = {now} WHERE state = 'active'; SELECT changes();"
        ))
        .await?;
    if let Some(aws) = &env.aws {
        aws.reset_counters();
        if net.iam_write_rate > 0.0 {
            aws.throttle(
                mayfly_aws_netsim::IAM_WRITE_ACTIONS,
                mayfly_aws_netsim::RateLimit::new(net.iam_write_rate, net.iam_write_burst),
            );
        }
    }
    let started = Instant::now();
    wait_until_drained(&db, Duration::from_secs(7200)).await?;
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

/// Polls until no lease is live.
async fn wait_until_drained(db: &Db, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let live = db
            .count(&format!("SELECT COUNT(*) FROM leases WHERE {LIVE}"))
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
