//! Row 6: the cost of `wait-until-usable`: `iam_user` issues through the gateway with and
//! without it, interleaved, one client at a time, on the same moto. moto knows a new key at
//! once, so this is the floor of the wait (three `GetCallerIdentity` calls 250 ms apart); on
//! AWS the wait also holds IAM's propagation delay, which is what the setting hides.

use std::path::Path;

use anyhow::Result;
use serde_json::json;

use crate::setup::{Env, Network, TARGET};
use crate::stats::{ms, Samples};

const POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

pub async fn run(
    work: &Path,
    binary: std::path::PathBuf,
    requests: usize,
    warmup: usize,
    net: &Network,
) -> Result<()> {
    let env = Env::start(work, "first-use", binary, net).await?;
    for (name, wait) in [("/bench/eager", "false"), ("/bench/patient", "30s")] {
        env.api
            .create_producer(
                name,
                TARGET,
                json!({"access-mode": "iam_user", "aws-user-policies": POLICY,
                       "user-ttl": "60m", "wait-until-usable": wait}),
            )
            .await?;
    }
    let (mut eager, mut patient) = (Samples::default(), Samples::default());
    for i in 0..(warmup + requests) {
        let e = env
            .api
            .timed(
                "/get-dynamic-secret-value",
                &json!({"name": "/bench/eager"}),
            )
            .await?;
        let p = env
            .api
            .timed(
                "/get-dynamic-secret-value",
                &json!({"name": "/bench/patient"}),
            )
            .await?;
        if i >= warmup {
            eager.push(e.wall_ms);
            patient.push(p.wall_ms);
        }
    }
    println!(
        "| n | iam_user p50 / p99 (ms) | with wait-until-usable p50 / p99 (ms) | added p50 (ms) |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {} | {} / {} | {} / {} | {} |",
        eager.len(),
        ms(eager.p50()),
        ms(eager.p99()),
        ms(patient.p50()),
        ms(patient.p99()),
        ms(patient.p50() - eager.p50()),
    );
    env.api.revoke_all("/bench/eager").await?;
    env.api.revoke_all("/bench/patient").await?;
    env.report_network();
    Ok(())
}
