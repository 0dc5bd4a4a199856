//! `soak` (not part of `all`, not in CI): `minutes` of mixed traffic against one gateway —
//! `iam_user` credentials issued and revoked by id, others left to expire (1-minute TTL) for
//! the revoker, `assume_role` sessions issued, producers read — while the gateway's resident
//! memory and open file descriptors are sampled. At the end everything is revoked and the
//! IAM users left in AWS are counted: nothing may leak, and RSS and descriptors should be
//! flat once warm. RSS is printed with its anonymous part: the rest is the executable's pages,
//! which grow as code is first run (and by the kernel's fault-around) and are not a leak.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mayfly_aws::{AwsConnection, AwsFactory};
use secrecy::SecretString;
use serde_json::json;

use crate::api::{TARGET_KEY_ID, TARGET_SECRET};
use crate::setup::{Env, Network, TARGET};

const USERS: &str = "/bench/soak-users";
const ROLES: &str = "/bench/soak-roles";

fn open_fds(pid: u32) -> Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

pub async fn run(
    work: &Path,
    binary: std::path::PathBuf,
    minutes: u64,
    net: &Network,
) -> Result<()> {
    let env = Env::start(work, "soak", binary, net).await?;
    env.api
        .create_producer(
            USERS,
            TARGET,
            json!({"access-mode": "iam_user", "user-ttl": "1m"}),
        )
        .await?;
    env.api
        .create_producer(
            ROLES,
            TARGET,
            json!({"access-mode": "assume_role", "user-ttl": "15m",
                   "aws-role-arns": "arn:aws:iam::123456789012:role/soak"}),
        )
        .await?;
    let pid = env.gateway.pid().context("gateway not running")?;
    println!(
        "| minute | issued | revoked by id | errors | RSS (MiB) | of which anonymous (MiB) | open fds |"
    );
    println!("|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let end = started + Duration::from_secs(minutes * 60);
    let (mut issued, mut revoked, mut errors) = (0u64, 0u64, 0u64);
    let mut next_sample = started;
    let mut samples = Vec::new();
    let mut i = 0u64;
    // Tokens live an hour (MAYFLY_TOKEN_TTL): log in again every half hour, as a long-running
    // client does, so a soak longer than a token's life measures the gateway, not 401s.
    let mut api = env.api.clone();
    let mut logged_in = Instant::now();
    while Instant::now() < end {
        if logged_in.elapsed() > Duration::from_secs(30 * 60) {
            api = env.gateway.api().await?;
            logged_in = Instant::now();
        }
        i += 1;
        // About five requests a second: an iam_user credential (every other one revoked at
        // once), an assume_role session, a producer read.
        match api
            .call("/get-dynamic-secret-value", json!({"name": USERS}))
            .await
        {
            Ok(v) => {
                issued += 1;
                if i.is_multiple_of(2) {
                    let id = v["id"].as_str().unwrap_or_default().to_owned();
                    match api
                        .call(
                            "/gateway-revoke-producer-tmp-creds",
                            json!({"name": USERS, "tmp-creds-id": id}),
                        )
                        .await
                    {
                        Ok(_) => revoked += 1,
                        Err(_) => errors += 1,
                    }
                }
            }
            Err(_) => errors += 1,
        }
        match api
            .call("/get-dynamic-secret-value", json!({"name": ROLES}))
            .await
        {
            Ok(_) => issued += 1,
            Err(_) => errors += 1,
        }
        if api
            .call("/gateway-get-producer", json!({"name": USERS}))
            .await
            .is_err()
        {
            errors += 1;
        }
        if Instant::now() >= next_sample {
            let rss = env.gateway.rss_mib()?;
            let anon = env.gateway.rss_anon_mib()?;
            let fds = open_fds(pid)?;
            let minute = started.elapsed().as_secs() / 60;
            println!(
                "| {minute} | {issued} | {revoked} | {errors} | {rss:.1} | {anon:.1} | {fds} |"
            );
            samples.push((rss, anon, fds));
            next_sample += Duration::from_secs(60);
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // Everything ends: revoke-all, then wait for the 1-minute credentials to be gone.
    api.revoke_all(USERS).await?;
    let mut conn = AwsConnection::new(
        TARGET_KEY_ID,
        SecretString::from(TARGET_SECRET.to_owned()),
        "us-east-1",
    );
    conn.iam_endpoint = Some(env.moto_url().to_owned());
    let iam = AwsFactory::from_env().clients(&conn).iam;
    let wait_until = Instant::now() + Duration::from_secs(180);
    let left = loop {
        let left = iam.list_users("/mayfly/").await?.len();
        if left == 0 || Instant::now() > wait_until {
            break left;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let (first, last) = (samples.first().copied(), samples.last().copied());
    if let (Some((rss0, anon0, fd0)), Some((rss1, anon1, fd1))) = (first, last) {
        println!(
            "\nAfter {minutes} min: {issued} credentials issued, {revoked} revoked by id, {errors} errors; RSS {rss0:.1} → {rss1:.1} MiB (anonymous {anon0:.1} → {anon1:.1}), open fds {fd0} → {fd1}; IAM users left in AWS after revoke-all: {left}."
        );
    }
    env.report_network();
    Ok(())
}
