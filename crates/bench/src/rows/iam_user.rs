//! Row 2: `iam_user` issue latency through the gateway against the two IAM calls that make a
//! usable key (CreateUser + CreateAccessKey) on the same moto, one client at a time. The
//! gateway also attaches the producer's one policy, so a three-call baseline (with
//! AttachUserPolicy) is shown for context.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use mayfly_aws::{AwsConnection, AwsFactory, CreateUser, IamApi};
use secrecy::SecretString;
use serde_json::json;

use crate::api::{TARGET_KEY_ID, TARGET_SECRET};
use crate::setup::{Env, Network, TARGET};
use crate::stats::{ms, ratio, verdict, Samples};

const PRODUCER: &str = "/bench/iam-user";
const POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

pub fn header() {
    println!("| n | 2 IAM calls p50 / p99 (ms) | 3 IAM calls (+AttachUserPolicy) p50 / p99 (ms) | gateway iam_user p50 / p99 (ms) | gateway ÷ 2 calls p50 / p99 | gateway own time p50 / p99 (ms) | target (≤ 1.3× two IAM round trips) |");
    println!("|---|---|---|---|---|---|---|");
}

pub async fn run(
    work: &Path,
    binary: std::path::PathBuf,
    requests: usize,
    warmup: usize,
    net: &Network,
) -> Result<()> {
    let env = Env::start(work, "iam-user", binary, net).await?;
    env.api
        .create_producer(
            PRODUCER,
            TARGET,
            json!({"access-mode": "iam_user", "aws-user-policies": POLICY, "user-ttl": "60m"}),
        )
        .await?;
    let mut conn = AwsConnection::new(
        TARGET_KEY_ID,
        SecretString::from(TARGET_SECRET.to_owned()),
        "us-east-1",
    );
    conn.iam_endpoint = Some(env.aws_url.clone());
    conn.sts_endpoint = Some(env.aws_url.clone());
    let iam = AwsFactory::from_env().clients(&conn).iam;
    let body = json!({"name": PRODUCER});
    let (mut two, mut three, mut e2e, mut own) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    for i in 0..(warmup + requests) {
        // Interleaved one by one, so moto's growing user list weighs on every side alike.
        let d2 = direct(&iam, &format!("bench-d2-{i}"), false).await?;
        let d3 = direct(&iam, &format!("bench-d3-{i}"), true).await?;
        let t = env.api.timed("/get-dynamic-secret-value", &body).await?;
        if i >= warmup {
            two.push(d2);
            three.push(d3);
            e2e.push(t.wall_ms);
            if let Some(g) = t.gateway_ms {
                own.push(g);
            }
        }
    }
    let revoke = Instant::now();
    env.api.revoke_all(PRODUCER).await?;
    let revoke_s = revoke.elapsed().as_secs_f64();
    header();
    println!(
        "| {} | {} / {} | {} / {} | {} / {} | {} / {} | {} / {} | {} |",
        e2e.len(),
        ms(two.p50()),
        ms(two.p99()),
        ms(three.p50()),
        ms(three.p99()),
        ms(e2e.p50()),
        ms(e2e.p99()),
        ratio(e2e.p50(), two.p50()),
        ratio(e2e.p99(), two.p99()),
        ms(own.p50()),
        ms(own.p99()),
        verdict(e2e.p50() / two.p50() <= 1.3),
    );
    eprintln!(
        "iam_user: revoke-all of {} users took {revoke_s:.1} s",
        warmup + requests
    );
    env.report_network();
    Ok(())
}

/// CreateUser + CreateAccessKey (and AttachUserPolicy in between when `attach`): ms.
async fn direct(iam: &Arc<dyn IamApi>, name: &str, attach: bool) -> Result<f64> {
    let input = CreateUser {
        name: name.into(),
        path: "/bench-direct/".into(),
        permissions_boundary: None,
        tags: Vec::new(),
    };
    let started = Instant::now();
    iam.create_user(&input).await?;
    if attach {
        iam.attach_user_policy(name, POLICY).await?;
    }
    iam.create_access_key(name).await?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}
