//! Row 8: the cost of a `/metrics` scrape and of `gateway-get-producer` as finished leases
//! pile up (0, 1M, 10M in a SQLite database, as years of history would leave): both must
//! stay flat, since neither should read the history.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::db::sqlite_in;
use crate::procs::{Gateway, GatewayConfig};
use crate::setup::TARGET;
use crate::stats::{ms, Samples};

const PRODUCER: &str = "/bench/scrape";

pub async fn run(work: &Path, binary: PathBuf, counts: &[u64], requests: usize) -> Result<()> {
    println!("| finished leases | /metrics p50 / p99 (ms) | gateway-get-producer p50 / p99 (ms) |");
    println!("|---|---|---|");
    for &n in counts {
        // The target is never called: this row reads configuration and metrics only.
        let mut config = GatewayConfig::new(binary.clone(), None);
        config.allowed_endpoints = Some("http://127.0.0.1:9".to_owned());
        let (mut gateway, _) = Gateway::spawn(&config, &work.join(format!("scrape-{n}"))).await?;
        let api = gateway.api().await?;
        api.create_target(TARGET, "http://127.0.0.1:9").await?;
        api.create_producer(
            PRODUCER,
            TARGET,
            json!({"access-mode": "iam_user", "user-ttl": "60m"}),
        )
        .await?;
        gateway.stop().await?;
        let db = sqlite_in(&gateway.data_dir);
        let t = Instant::now();
        db.insert_finished_leases(n).await?;
        eprintln!(
            "scrape: {n} finished leases inserted in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        gateway.start().await?;
        let api = gateway.api().await?;
        let (mut scrape, mut get) = (Samples::default(), Samples::default());
        for i in 0..(requests + 10) {
            let t = Instant::now();
            let text = api.metrics().await?;
            let scrape_ms = t.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(text.contains("mayfly_"), "not the metrics: {text:.200}");
            let got = api
                .timed("/gateway-get-producer", &json!({"name": PRODUCER}))
                .await?;
            if i >= 10 {
                scrape.push(scrape_ms);
                get.push(got.wall_ms);
            }
        }
        println!(
            "| {} | {} / {} | {} / {} |",
            human(n),
            ms(scrape.p50()),
            ms(scrape.p99()),
            ms(get.p50()),
            ms(get.p99()),
        );
        gateway.stop().await?;
        let _ = std::fs::remove_dir_all(&gateway.data_dir);
    }
    Ok(())
}

fn human(n: u64) -> String {
    match n {
        0 => "0".into(),
        n if n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}
