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
    println!("| clients | direct p50 / p99 (ms) | gateway e2e p50 / p99 (ms) | e2e ÷ direct p50 / p99 | gateway own time p50 / p99 (ms) | targets (own ≤ 0.5 / 3 ms at 32; ratio ≤ 1.10 at p50) |");
    println!("|---|---|---|---|---|---|");
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
    for clients in [1usize, 32] {
        // Warm-up: connections, TLS sessions, moto's and SQLite's caches.
        gateway_batch(&env.api, opts.warmup, clients).await?;
        direct_batch(&sts, opts.warmup, clients).await?;
        let (mut direct, mut e2e, mut own) =
            (Samples::default(), Samples::default(), Samples::default());
        let per_round = opts.requests.div_ceil(ROUNDS);
        for _ in 0..ROUNDS {
            direct.extend(direct_batch(&sts, per_round, clients).await?);
            let (wall, gateway) = gateway_batch(&env.api, per_round, clients).await?;
            e2e.extend(wall);
            own.extend(gateway);
        }
        let ok = if clients == 32 {
            own.p50() <= 0.5 && own.p99() <= 3.0 && e2e.p50() / direct.p50() <= 1.10
        } else {
            e2e.p50() / direct.p50() <= 1.10
        };
        println!(
            "| {clients} | {} / {} | {} / {} | {} / {} | {} / {} | {} (n = {} each) |",
            ms(direct.p50()),
            ms(direct.p99()),
            ms(e2e.p50()),
            ms(e2e.p99()),
            ratio(e2e.p50(), direct.p50()),
            ratio(e2e.p99(), direct.p99()),
            ms(own.p50()),
            ms(own.p99()),
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
