//! Row 1: `assume_role` through the gateway against a direct STS `AssumeRole` to the same moto.
//!
//! Both sides run in alternating rounds, so drift in moto (it keeps every session in memory)
//! hits both equally. The direct side uses the same SDK stack the gateway uses (`mayfly-aws`).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use futures_util::{stream, StreamExt, TryStreamExt};
use mayfly_aws::{AssumeRole, AwsConnection, AwsFactory, StsApi};
use secrecy::SecretString;
use serde_json::json;

use crate::api::{Api, TARGET_KEY_ID, TARGET_SECRET};
use crate::setup::{Env, Network, TARGET};
use crate::stats::{ms, ratio, verdict, Samples};

const PRODUCER: &str = "/bench/assume-role";
const ROLE: &str = "arn:aws:iam::123456789012:role/mayfly-bench";
const ROUNDS: usize = 5;

pub struct Options {
    pub requests: usize,
    pub warmup: usize,
}

pub fn header() {
    println!("| clients | direct p50 / p99 (ms) | gateway e2e p50 / p99 (ms) | e2e ÷ direct p50 / p99 | gateway own time p50 / p99 (ms) | gateway CPU / wait for a CPU, per request (ms) | targets (own ≤ 0.5 / 3 ms at 32; ratio ≤ 1.10 at p50, ≤ 1.05 on the AWS-like network) |");
    println!("|---|---|---|---|---|---|---|");
}

pub async fn run(
    work: &Path,
    binary: std::path::PathBuf,
    opts: &Options,
    net: &Network,
) -> Result<()> {
    let env = Env::start(work, "assume-role", binary, net).await?;
    env.api
        .create_producer(
            PRODUCER,
            TARGET,
            json!({"access-mode": "assume_role", "aws-role-arns": ROLE, "user-ttl": "15m"}),
        )
        .await?;
    let factory = AwsFactory::from_env();
    let mut conn = AwsConnection::new(
        TARGET_KEY_ID,
        SecretString::from(TARGET_SECRET.to_owned()),
        "us-east-1",
    );
    conn.iam_endpoint = Some(env.aws_url.clone());
    conn.sts_endpoint = Some(env.aws_url.clone());
    let sts = factory.clients(&conn).sts;
    header();
    let pid = env.gateway.pid();
    for clients in [1usize, 32] {
        // Warm-up: connections, TLS sessions, moto's and SQLite's caches.
        gateway_batch(&env.api, opts.warmup, clients).await?;
        direct_batch(&sts, opts.warmup, clients).await?;
        let (mut direct, mut e2e, mut own) =
            (Samples::default(), Samples::default(), Samples::default());
        let per_round = opts.requests.div_ceil(ROUNDS);
        let mut sched = SchedTime::default();
        for _ in 0..ROUNDS {
            direct.extend(direct_batch(&sts, per_round, clients).await?);
            let before = pid.map(SchedTime::of);
            let (wall, gateway) = gateway_batch(&env.api, per_round, clients).await?;
            if let (Some(before), Some(pid)) = (before, pid) {
                sched = sched.plus(SchedTime::of(pid).minus(before));
            }
            e2e.extend(wall);
            own.extend(gateway);
        }
        let max_ratio = if net.is_simulated() { 1.05 } else { 1.10 };
        let ok = if clients == 32 {
            own.p50() <= 0.5 && own.p99() <= 3.0 && e2e.p50() / direct.p50() <= max_ratio
        } else {
            e2e.p50() / direct.p50() <= max_ratio
        };
        let per_request = |ns: u64| ms(ns as f64 / 1e6 / e2e.len().max(1) as f64);
        println!(
            "| {clients} | {} / {} | {} / {} | {} / {} | {} / {} | {} / {} | {} (n = {} each) |",
            ms(direct.p50()),
            ms(direct.p99()),
            ms(e2e.p50()),
            ms(e2e.p99()),
            ratio(e2e.p50(), direct.p50()),
            ratio(e2e.p99(), direct.p99()),
            ms(own.p50()),
            ms(own.p99()),
            per_request(sched.run_ns),
            per_request(sched.wait_ns),
            verdict(ok),
            e2e.len(),
        );
    }
    env.report_network();
    Ok(())
}

/// `n` requests through the gateway by `clients` concurrent callers: wall and own times.
async fn gateway_batch(api: &Api, n: usize, clients: usize) -> Result<(Samples, Samples)> {
    let body = json!({"name": PRODUCER});
    let results: Vec<_> = stream::iter(0..n)
        .map(|_| api.timed("/get-dynamic-secret-value", &body))
        .buffer_unordered(clients)
        .try_collect()
        .await?;
    let (mut wall, mut own) = (Samples::with_capacity(n), Samples::with_capacity(n));
    for t in results {
        wall.push(t.wall_ms);
        if let Some(g) = t.gateway_ms {
            own.push(g);
        }
    }
    Ok((wall, own))
}

/// `n` direct `AssumeRole` calls by `clients` concurrent callers.
async fn direct_batch(sts: &Arc<dyn StsApi>, n: usize, clients: usize) -> Result<Samples> {
    let results: Vec<f64> = stream::iter(0..n)
        .map(|i| {
            let sts = sts.clone();
            async move {
                let input = AssumeRole {
                    role_arn: ROLE.into(),
                    session_name: format!("bench-direct-{i}"),
                    duration_secs: 900,
                    ..AssumeRole::default()
                };
                let started = Instant::now();
                sts.assume_role(&input).await?;
                Ok::<_, anyhow::Error>(started.elapsed().as_secs_f64() * 1000.0)
            }
        })
        .buffer_unordered(clients)
        .try_collect()
        .await?;
    let mut samples = Samples::with_capacity(n);
    for v in results {
        samples.push(v);
    }
    Ok(samples)
}

/// CPU time the gateway's threads ran, and time they were ready but waited for a CPU, from
/// `/proc/<pid>/task/*/schedstat` (nanoseconds): on a shared machine the second tells how
/// much of the gateway's "own time" was spent queueing behind moto and the load generator.
#[derive(Debug, Default, Clone, Copy)]
struct SchedTime {
    run_ns: u64,
    wait_ns: u64,
}

impl SchedTime {
    fn of(pid: u32) -> SchedTime {
        let mut total = SchedTime::default();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return total;
        };
        for task in tasks.flatten() {
            let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
                continue;
            };
            let mut fields = text
                .split_whitespace()
                .map(|f| f.parse::<u64>().unwrap_or(0));
            total.run_ns += fields.next().unwrap_or(0);
            total.wait_ns += fields.next().unwrap_or(0);
        }
        total
    }

    fn minus(self, earlier: SchedTime) -> SchedTime {
        SchedTime {
            run_ns: self.run_ns.saturating_sub(earlier.run_ns),
            wait_ns: self.wait_ns.saturating_sub(earlier.wait_ns),
        }
    }

    fn plus(self, other: SchedTime) -> SchedTime {
        SchedTime {
            run_ns: self.run_ns + other.run_ns,
            wait_ns: self.wait_ns + other.wait_ns,
        }
    }
}
