//! Row 4: start-up time (spawn to the first 200 from `/health/ready`) and idle resident memory
//! (VmRSS two seconds after ready), with 0, 100k and 1M leases in a SQLite database.
//!
//! The gateway is started once to create its schema, TLS material and admin key, stopped,
//! given the leases by a bulk INSERT, and then started `starts` times; the time shown is the
//! median start, with the fastest and slowest in brackets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::db::sqlite_in;
use crate::procs::{Gateway, GatewayConfig};
use crate::stats::{ms, verdict, Samples};

pub fn header() {
    println!("| leases in the database | start to ready, median [min–max] (ms) | idle RSS (MiB) | targets (≤ 300 ms, flat; ≤ 40 MB) |");
    println!("|---|---|---|---|");
}

pub async fn run(work: &Path, binary: PathBuf, counts: &[u64], starts: usize) -> Result<()> {
    header();
    for &n in counts {
        let config = GatewayConfig::new(binary.clone(), None);
        let (mut gateway, _) = Gateway::spawn(&config, &work.join(format!("startup-{n}"))).await?;
        gateway.stop().await?;
        let db = sqlite_in(&gateway.data_dir);
        db.insert_leases(n).await?;
        let stored = db.count("SELECT COUNT(*) FROM leases").await?;
        let size = std::fs::metadata(gateway.data_dir.join("mayfly.db"))?.len();
        eprintln!(
            "startup: {stored} leases, database file {} MiB",
            size / (1024 * 1024)
        );
        let (mut times, mut rss) = (Samples::default(), Samples::default());
        for _ in 0..starts {
            let took = gateway.start().await?;
            times.push(took.as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_secs(2)).await;
            rss.push(gateway.rss_mib()?);
            gateway.stop().await?;
        }
        let ok = times.p50() <= 300.0 && rss.pct(100.0) <= 40.0;
        println!(
            "| {} | {} [{}–{}] | {:.1} | {} |",
            human(n),
            ms(times.p50()),
            ms(times.pct(0.0)),
            ms(times.pct(100.0)),
            rss.pct(100.0),
            verdict(ok),
        );
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

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn lease_counts_read_well() {
        assert_eq!(human(0), "0");
        assert_eq!(human(100_000), "100k");
        assert_eq!(human(1_000_000), "1M");
        assert_eq!(human(1_234), "1234");
    }
}
