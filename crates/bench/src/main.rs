//! `mayfly-bench`: the benchmarks behind docs/benchmarks.md.
//!
//! Every subcommand starts what it measures itself (moto, release `mayfly-gateway` processes on
//! free loopback ports, SQLite files or fresh PostgreSQL databases), prints Markdown table rows
//! to stdout, and cleans up. Nothing here asserts a timing: the numbers are for people to read.
//!
//! Modules: `procs` (moto and gateway processes), `api` (HTTPS client of the gateway), `db`
//! (psql/sqlite3 for set-up and measurement), `setup` (moto + gateway + target), `stats`
//! (percentiles), `rows` (one module per row).

mod api;
mod db;
mod procs;
mod rows;
mod setup;
mod stats;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "mayfly-bench",
    about = "Benchmarks of the release mayfly-gateway (see docs/benchmarks.md)"
)]
struct Cli {
    #[command(subcommand)]
    row: Row,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct Common {
    /// Requests per case (latency rows).
    #[arg(long, global = true, default_value_t = 500)]
    requests: usize,
    /// Warm-up requests per case, not counted.
    #[arg(long, global = true, default_value_t = 50)]
    warmup: usize,
    /// Concurrent connections of the control-plane load.
    #[arg(long, global = true, default_value_t = 64)]
    connections: usize,
    /// Seconds of control-plane load per case.
    #[arg(long, global = true, default_value_t = 10)]
    seconds: u64,
    /// Starts per lease count (start-up row).
    #[arg(long, global = true, default_value_t = 3)]
    starts: usize,
    /// Lease counts of the start-up row.
    #[arg(long, global = true, value_delimiter = ',', default_values_t = [0u64, 100_000, 1_000_000])]
    leases: Vec<u64>,
    /// Credentials per second in the steady revocation case.
    #[arg(long, global = true, default_value_t = 2)]
    rate: u32,
    /// Seconds of issuing in the steady revocation case.
    #[arg(long, global = true, default_value_t = 30)]
    issue_seconds: u64,
    /// Credentials expiring at once in the drain case (0 skips it).
    #[arg(long, global = true, default_value_t = 1000)]
    drain: usize,
    /// iam_user issues measured (row 2).
    #[arg(long, global = true, default_value_t = 200)]
    iam_requests: usize,
    /// Round-trip time (ms) the AWS network proxy adds to every AWS call of the rows that
    /// call AWS; with --aws-jitter-ms and --iam-write-rate, 0 for all three (the default)
    /// leaves the proxy out and calls reach moto directly.
    #[arg(long, global = true, default_value_t = 0)]
    aws_rtt_ms: u64,
    /// Jitter (ms) around --aws-rtt-ms, uniform in ± this.
    #[arg(long, global = true, default_value_t = 0)]
    aws_jitter_ms: u64,
    /// IAM write calls per second the proxy lets through (one bucket for all writes, as IAM
    /// throttles per account); 0: not throttled.
    #[arg(long, global = true, default_value_t = 0.0)]
    iam_write_rate: f64,
    /// Burst of the IAM write bucket (default: one second's worth).
    #[arg(long, global = true)]
    iam_write_burst: Option<u32>,
    /// Tell the gateway the IAM write rate AWS allows (MAYFLY_AWS_IAM_WRITE_RATE), so it
    /// paces IAM writes from the start; 0: it learns the rate from throttling.
    #[arg(long, global = true, default_value_t = 0.0)]
    gateway_iam_write_rate: f64,
    /// iam_user requests arriving within one second (burst row).
    #[arg(long, global = true, default_value_t = 1000)]
    burst: usize,
    /// Each burst request's deadline (its `timeout`), in seconds.
    #[arg(long, global = true, default_value_t = 30)]
    burst_deadline_s: u64,
    /// Finished-lease counts of the scrape row.
    #[arg(long, global = true, value_delimiter = ',', default_values_t = [0u64, 1_000_000, 10_000_000])]
    scrape_leases: Vec<u64>,
    /// Minutes of traffic of the soak command.
    #[arg(long, global = true, default_value_t = 60)]
    soak_minutes: u64,
}

impl Common {
    fn network(&self) -> setup::Network {
        setup::Network {
            rtt_ms: self.aws_rtt_ms,
            jitter_ms: self.aws_jitter_ms,
            iam_write_rate: self.iam_write_rate,
            iam_write_burst: self.write_burst(self.iam_write_rate),
            gateway_iam_write_rate: self.gateway_iam_write_rate,
        }
    }

    /// `net` with IAM's writes throttled at `rate` (burst: --iam-write-burst, or a second's
    /// worth).
    fn throttled(&self, net: &setup::Network, rate: f64) -> setup::Network {
        setup::Network {
            iam_write_rate: rate,
            iam_write_burst: self.write_burst(rate),
            ..net.clone()
        }
    }

    fn write_burst(&self, rate: f64) -> u32 {
        self.iam_write_burst.unwrap_or(rate.ceil().max(1.0) as u32)
    }

    // The rows that `run` and `scale` both start, with this command line's options.

    async fn assume_role(&self, work: &Path, binary: &Path, net: &setup::Network) -> Result<()> {
        let opts = rows::assume_role::Options {
            requests: self.requests,
            warmup: self.warmup,
        };
        rows::assume_role::run(work, binary.to_owned(), &opts, net).await
    }

    async fn iam_user(&self, work: &Path, binary: &Path, net: &setup::Network) -> Result<()> {
        let warmup = self.warmup.min(20);
        rows::iam_user::run(work, binary.to_owned(), self.iam_requests, warmup, net).await
    }

    async fn burst(&self, work: &Path, binary: &Path, net: &setup::Network) -> Result<()> {
        let opts = rows::burst::Options {
            requests: self.burst,
            deadline: std::time::Duration::from_secs(self.burst_deadline_s),
            network: net.clone(),
        };
        rows::burst::run(work, binary.to_owned(), &opts).await
    }

    async fn revocation(&self, work: &Path, binary: &Path, net: &setup::Network) -> Result<()> {
        let opts = rows::revocation::Options {
            rate: self.rate,
            issue_seconds: self.issue_seconds,
            drain: self.drain,
            network: net.clone(),
        };
        rows::revocation::run(work, binary.to_owned(), &opts).await
    }

    async fn scrape(&self, work: &Path, binary: &Path) -> Result<()> {
        let requests = self.requests.min(200);
        rows::scrape::run(work, binary.to_owned(), &self.scrape_leases, requests).await
    }
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Row {
    /// Row 1: assume_role through the gateway vs direct STS, 1 and 32 clients.
    AssumeRole,
    /// Row 2: iam_user issue vs CreateUser + CreateAccessKey.
    IamUser,
    /// Row 3: gateway-get-producer requests per second (SQLite; 1-3 gateways on PostgreSQL).
    ControlPlane,
    /// Row 4: start-up time and idle RSS with 0, 100k, 1M leases.
    Startup,
    /// Row 5: revocation lag at a steady rate, and draining many expired credentials.
    Revocation,
    /// Row 6: the cost of wait-until-usable on iam_user issues.
    FirstUse,
    /// Row 7: iam_user requests arriving at once while IAM throttles writes (20/s unless
    /// --iam-write-rate says otherwise).
    Burst,
    /// Row 8: /metrics and gateway-get-producer with 0, 1M, 10M finished leases.
    Scrape,
    /// Not a row and not part of `all`: --soak-minutes of mixed traffic, RSS and open file
    /// descriptors sampled each minute, IAM users left counted at the end.
    Soak,
    /// Every row, in order.
    All,
    /// Issue 15's rows in one run, each on its own AWS network (--aws-rtt-ms, 20 unless given,
    /// ± --aws-jitter-ms, 5 unless given): rows 1 and 2 unthrottled; the burst, learning the
    /// rate and told it, and the drain of --drain credentials with IAM's writes at
    /// --iam-write-rate (20 unless given); the scrape row; and the soak of --soak-minutes,
    /// beside the drain (both are bound by AWS's rate and by the clock, not by the CPU).
    Scale,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let binary = procs::gateway_binary()?;
    let work = tempfile_dir()?;
    let outcome = run(cli.row, &cli.common, &work, binary).await;
    // Processes are killed by their handles; only the files remain to remove.
    match &outcome {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&work);
        }
        Err(_) => eprintln!("mayfly-bench: logs kept in {}", work.display()),
    }
    outcome
}

async fn run(row: Row, c: &Common, work: &Path, binary: PathBuf) -> Result<()> {
    if row == Row::Scale {
        return scale(c, work, binary).await;
    }
    let all = row == Row::All;
    let net = c.network();
    if let Some(settings) = net.describe() {
        println!("AWS network (mayfly-aws-netsim between the callers and moto): {settings}");
    }
    if all || row == Row::AssumeRole {
        section("1. assume_role: gateway end to end vs direct STS AssumeRole (same moto)");
        c.assume_role(work, &binary, &net).await?;
    }
    if all || row == Row::IamUser {
        section("2. iam_user issue vs two IAM calls (same moto, one client)");
        c.iam_user(work, &binary, &net).await?;
    }
    if all || row == Row::ControlPlane {
        section("3. control plane: gateway-get-producer over HTTPS");
        let opts = rows::control_plane::Options {
            connections: c.connections,
            seconds: c.seconds,
        };
        rows::control_plane::run(work, binary.clone(), &opts).await?;
    }
    if all || row == Row::Startup {
        section("4. start-up and idle memory (SQLite)");
        rows::startup::run(work, binary.clone(), &c.leases, c.starts).await?;
    }
    if all || row == Row::Revocation {
        section("5. revocation");
        c.revocation(work, &binary, &net).await?;
    }
    if all || row == Row::FirstUse {
        section("6. wait-until-usable: iam_user with and without it (same moto, one client)");
        rows::first_use::run(
            work,
            binary.clone(),
            c.iam_requests.min(50),
            c.warmup.min(5),
            &net,
        )
        .await?;
    }
    if all || row == Row::Burst {
        let network = match net.iam_write_rate {
            rate if rate > 0.0 => net.clone(),
            _ => c.throttled(&net, 20.0),
        };
        section(&format!(
            "7. burst: {} iam_user requests within one second, IAM writes at {}/s",
            c.burst, network.iam_write_rate
        ));
        c.burst(work, &binary, &network).await?;
    }
    if row == Row::Soak {
        section(&format!(
            "soak: {} minutes of mixed traffic",
            c.soak_minutes
        ));
        return rows::soak::run(work, binary, c.soak_minutes, &net).await;
    }
    if all || row == Row::Scrape {
        section("8. /metrics and gateway-get-producer as finished leases pile up (SQLite)");
        c.scrape(work, &binary).await?;
    }
    Ok(())
}

/// See [`Row::Scale`].
async fn scale(c: &Common, work: &Path, binary: PathBuf) -> Result<()> {
    let (rtt_ms, jitter_ms) = match (c.aws_rtt_ms, c.aws_jitter_ms) {
        (0, 0) => (20, 5),
        given => given,
    };
    let write_rate = if c.iam_write_rate > 0.0 {
        c.iam_write_rate
    } else {
        20.0
    };
    let open = setup::Network {
        rtt_ms,
        jitter_ms,
        iam_write_rate: 0.0,
        iam_write_burst: 0,
        gateway_iam_write_rate: 0.0,
    };
    let throttled = c.throttled(&open, write_rate);
    let told = setup::Network {
        gateway_iam_write_rate: write_rate,
        ..throttled.clone()
    };
    let started = std::time::SystemTime::now();
    println!(
        "Issue 15's rows in one run, started {} (Unix time), gateway {}",
        started
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        binary.display()
    );
    for (name, net) in [("open", &open), ("throttled", &throttled), ("told", &told)] {
        if let Some(settings) = net.describe() {
            println!("- AWS network `{name}`: {settings}");
        }
    }

    section("1. assume_role: gateway end to end vs direct STS AssumeRole (network `open`)");
    c.assume_role(work, &binary, &open).await?;

    section("2. iam_user issue vs two IAM calls (network `open`, one client)");
    c.iam_user(work, &binary, &open).await?;

    for (name, net) in [("throttled", &throttled), ("told", &told)] {
        section(&format!(
            "7. burst: {} iam_user requests within one second (network `{name}`)",
            c.burst
        ));
        c.burst(work, &binary, net).await?;
    }

    section("8. /metrics and gateway-get-producer as finished leases pile up (SQLite)");
    c.scrape(work, &binary).await?;

    // The soak runs in a child `mayfly-bench soak` beside the drain, its table kept in a
    // file until the drain's is printed.
    let soak_out = work.join("soak.md");
    let soak_err = work.join("soak.log");
    let mut soak = tokio::process::Command::new(std::env::current_exe()?)
        .args(["soak", "--soak-minutes", &c.soak_minutes.to_string()])
        .args(["--aws-rtt-ms", &rtt_ms.to_string()])
        .args(["--aws-jitter-ms", &jitter_ms.to_string()])
        .stdout(std::fs::File::create(&soak_out)?)
        .stderr(std::fs::File::create(&soak_err)?)
        .kill_on_drop(true)
        .spawn()
        .context("starting the soak")?;

    section(&format!(
        "5. revocation, with a drain of {} (network `throttled`; the soak beside it)",
        c.drain
    ));
    c.revocation(work, &binary, &throttled).await?;

    let status = soak.wait().await?;
    println!("\n(The soak ran in a child `mayfly-bench soak` beside row 5; its output:)");
    print!("{}", std::fs::read_to_string(&soak_out)?);
    anyhow::ensure!(
        status.success(),
        "the soak failed ({status}); its log: {}",
        soak_err.display()
    );
    Ok(())
}

fn section(title: &str) {
    println!("\n### {title}\n");
}

/// A fresh directory for data directories and logs (kept when a row fails, for its logs).
fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "mayfly-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    eprintln!("mayfly-bench: working in {}", dir.display());
    Ok(dir)
}
