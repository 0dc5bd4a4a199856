//! Row 7: a burst under IAM's limit. `n` `iam_user` requests arrive within one second while
//! the AWS network proxy lets IAM writes through at a fixed rate (20/s unless told
//! otherwise). Every request must end within its deadline, either with a credential or with
//! 503 and `Retry-After`; afterwards no IAM user may exist that no live lease tracks.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use mayfly_aws::{AwsConnection, AwsFactory};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::api::{TARGET_KEY_ID, TARGET_SECRET};
use crate::setup::{Env, Network, TARGET};
use crate::stats::{ms, verdict, Samples};

const PRODUCER: &str = "/bench/burst";

pub struct Options {
    pub requests: usize,
    /// Each request's `timeout` (the gateway's deadline for it).
    pub deadline: Duration,
    pub network: Network,
}

/// How one request ended.
struct Outcome {
    status: u16,
    retry_after: bool,
    wall_ms: f64,
}

pub async fn run(work: &Path, binary: std::path::PathBuf, opts: &Options) -> Result<()> {
    let env = Env::start(work, "burst", binary, &opts.network).await?;
    env.api
        .create_producer(
            PRODUCER,
            TARGET,
            json!({"access-mode": "iam_user", "user-ttl": "60m"}),
        )
        .await?;
    if let Some(aws) = &env.aws {
        aws.reset_counters();
    }
    let api = Arc::new(env.api.clone());
    let n = opts.requests;
    let deadline_s = opts.deadline.as_secs();
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move {
                // Arrivals spread evenly over the first second.
                tokio::time::sleep(Duration::from_secs_f64(i as f64 / n as f64)).await;
                let body = json!({"name": PRODUCER, "timeout": deadline_s});
                let t = Instant::now();
                let (status, retry_after) = api.status_of("/get-dynamic-secret-value", &body).await;
                Outcome {
                    status,
                    retry_after,
                    wall_ms: t.elapsed().as_secs_f64() * 1000.0,
                }
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for t in tasks {
        outcomes.push(t.await?);
    }
    let total_s = started.elapsed().as_secs_f64();
    let mut ok = Samples::default();
    let (mut refused, mut refused_without_retry, mut other) = (0, 0, 0);
    let mut slowest = 0f64;
    for o in &outcomes {
        slowest = slowest.max(o.wall_ms);
        match o.status {
            200 => ok.push(o.wall_ms),
            503 if o.retry_after => refused += 1,
            503 => refused_without_retry += 1,
            _ => other += 1,
        }
    }
    // Untracked: IAM users in AWS that no live lease names (creating leases count as
    // tracked: the reconciler finishes them).
    let live: Value = env
        .api
        .call("/gateway-get-producer-tmp-creds", json!({"name": PRODUCER}))
        .await?;
    let tracked: BTreeSet<String> = live
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["user"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut conn = AwsConnection::new(
        TARGET_KEY_ID,
        SecretString::from(TARGET_SECRET.to_owned()),
        "us-east-1",
    );
    // Straight to moto: the count must not be throttled.
    conn.iam_endpoint = Some(env.moto_url().to_owned());
    let iam = AwsFactory::from_env().clients(&conn).iam;
    let users: BTreeSet<String> = iam
        .list_users("/mayfly/")
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    let untracked = users.difference(&tracked).count();
    let mut states = std::collections::BTreeMap::<String, usize>::new();
    for c in live.as_array().into_iter().flatten() {
        *states
            .entry(c["state"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let within = slowest <= (opts.deadline.as_secs_f64() + 1.0) * 1000.0;
    println!("| requests (within 1 s) | IAM writes/s | succeeded | 503 + Retry-After | other | success p50 / p99 (ms) | slowest (ms; deadline {deadline_s} s) | IAM users untracked | all within deadline, 0 untracked |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {n} | {} | {} ({:.0} %) | {refused} | {} | {} / {} | {} | {untracked} | {} |",
        opts.network.iam_write_rate,
        ok.len(),
        ok.len() as f64 * 100.0 / n as f64,
        other + refused_without_retry,
        ms(ok.p50()),
        ms(ok.p99()),
        ms(slowest),
        verdict(within && untracked == 0 && other + refused_without_retry == 0),
    );
    println!("\nThe burst took {total_s:.1} s from the first arrival to the last answer; {} users exist in AWS, {} live leases track them (by state: {states:?}).", users.len(), tracked.len());
    env.report_network();
    env.api.revoke_all(PRODUCER).await?;
    Ok(())
}
