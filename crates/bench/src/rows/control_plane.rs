//! Row 3: control-plane throughput: `gateway-get-producer` over HTTPS with a token, keep-alive,
//! many concurrent connections, for a fixed time. On SQLite, and with one, two and three
//! gateways on one PostgreSQL database (the client spreads its connections over them).
//!
//! The load generator runs on the same two cores as the gateways (and PostgreSQL), so the
//! numbers are a floor for what the gateway does on a machine of its own.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::api::Api;
use crate::db::PgDatabase;
use crate::procs::{Gateway, GatewayConfig, Moto};
use crate::setup::TARGET;
use crate::stats::{ms, verdict, Samples};

const PRODUCER: &str = "/bench/control-plane";

pub struct Options {
    pub connections: usize,
    pub seconds: u64,
}

pub fn header() {
    println!("| database | gateways | connections | requests/s | p50 / p99 (ms) | errors | target (≥ 10,000 req/s) |");
    println!("|---|---|---|---|---|---|---|");
}

pub async fn run(work: &Path, binary: std::path::PathBuf, opts: &Options) -> Result<()> {
    header();
    let moto = Moto::spawn(work).await?;
    // SQLite, one gateway.
    {
        let mut config = GatewayConfig::new(binary.clone(), None);
        config.allowed_endpoints = Some(moto.url.clone());
        let (gateway, _) = Gateway::spawn(&config, &work.join("cp-sqlite")).await?;
        let apis = prepare(std::slice::from_ref(&gateway), &moto.url).await?;
        measure("SQLite", &apis, opts).await?;
    }
    // PostgreSQL: one, two and three gateways on one database.
    for count in 1..=3usize {
        let database = PgDatabase::create("cp").await?;
        let outcome = async {
            let mut config = GatewayConfig::new(binary.clone(), Some(database.url.clone()));
            config.allowed_endpoints = Some(moto.url.clone());
            let mut gateways = Vec::new();
            for i in 0..count {
                // One after the other: the first creates the schema and the admin key.
                let (g, _) =
                    Gateway::spawn(&config, &work.join(format!("cp-pg{count}-{i}"))).await?;
                gateways.push(g);
            }
            let apis = prepare(&gateways, &moto.url).await?;
            measure("PostgreSQL", &apis, opts).await
        }
        .await;
        database.drop_now().await?;
        outcome?;
    }
    Ok(())
}

/// Logs in on every gateway and creates the target and producer (through the first).
async fn prepare(gateways: &[Gateway], moto_url: &str) -> Result<Vec<Api>> {
    let mut apis = Vec::new();
    for g in gateways {
        apis.push(g.api().await?);
    }
    apis[0].create_target(TARGET, moto_url).await?;
    apis[0]
        .create_producer(
            PRODUCER,
            TARGET,
            json!({"access-mode": "assume_role", "aws-role-arns": "arn:aws:iam::123456789012:role/bench", "user-ttl": "15m"}),
        )
        .await?;
    Ok(apis)
}

/// Warms up for two seconds, then runs `opts.connections` callers for `opts.seconds`, caller
/// `i` on gateway `i % apis.len()`, and prints one row.
async fn measure(database: &str, apis: &[Api], opts: &Options) -> Result<()> {
    let body = json!({"name": PRODUCER});
    run_load(apis, &body, opts.connections, Duration::from_secs(2)).await?;
    let (count, errors, elapsed, latencies) = run_load(
        apis,
        &body,
        opts.connections,
        Duration::from_secs(opts.seconds),
    )
    .await?;
    let rps = count as f64 / elapsed.as_secs_f64();
    println!(
        "| {database} | {} | {} | {:.0} | {} / {} | {errors} | {} |",
        apis.len(),
        opts.connections,
        rps,
        ms(latencies.p50()),
        ms(latencies.p99()),
        verdict(rps >= 10_000.0),
    );
    Ok(())
}

/// Closed-loop load: every caller sends its next request when the previous one answered.
async fn run_load(
    apis: &[Api],
    body: &serde_json::Value,
    connections: usize,
    duration: Duration,
) -> Result<(u64, u64, Duration, Samples)> {
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for i in 0..connections {
        let api = apis[i % apis.len()].clone();
        let body = body.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::with_capacity(4096);
            while Instant::now() < deadline {
                match api.timed("/gateway-get-producer", &body).await {
                    Ok(t) => samples.push(t.wall_ms),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            samples
        }));
    }
    let mut all = Samples::default();
    for task in tasks {
        all.extend(task.await?);
    }
    let elapsed = started.elapsed();
    Ok((
        all.len() as u64,
        errors.load(Ordering::Relaxed),
        elapsed,
        all,
    ))
}
