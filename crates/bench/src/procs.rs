//! The processes a benchmark runs against: moto and `mayfly-gateway` (release build), each on a
//! free loopback port, killed when their handle is dropped.
//!
//! Finding the binary, picking ports, starting moto and the gateway's command line come from
//! `mayfly-testkit`; what only the benchmarks need stays here: async start-up timed from spawn
//! to the first 200 of `/health/ready`, restarts on the same port, and RSS sampling.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use mayfly_testkit::moto::{MotoOptions, MotoServer};
use tokio::process::{Child, Command};

use crate::api::Api;

/// `<workspace>/target/release/mayfly-gateway`, or `MAYFLY_GATEWAY_BIN`: the testkit's lookup
/// ([`mayfly_testkit::binary::gateway_binary_location`]) for the release profile, never built
/// here.
pub fn gateway_binary() -> Result<PathBuf> {
    let location = mayfly_testkit::binary::gateway_binary_location("release");
    if !location.explicit && !location.path.is_file() {
        bail!(
            "{} is missing: run `cargo build --release --bin mayfly-gateway` first (the \
             benchmarks measure the release build), or set MAYFLY_GATEWAY_BIN",
            location.path.display()
        );
    }
    Ok(location.path)
}

/// A private moto server without IAM authentication (any key works, any role can be assumed):
/// the testkit's [`MotoServer`], started off the async runtime, logging to the work directory.
pub struct Moto {
    pub url: String,
    _server: MotoServer,
}

impl Moto {
    pub async fn spawn(log_dir: &Path) -> Result<Moto> {
        let log_dir = log_dir.to_path_buf();
        let server = tokio::task::spawn_blocking(move || {
            MotoServer::try_spawn_in(MotoOptions::default(), &log_dir)
        })
        .await?
        .map_err(|e| anyhow::anyhow!("starting moto: {e}"))?;
        Ok(Moto {
            url: server.url().to_owned(),
            _server: server,
        })
    }
}

/// Settings shared by every gateway of one benchmark case, so several gateways on one
/// database share the admin key and the master key.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub binary: PathBuf,
    /// `None`: SQLite in the data directory.
    pub database_url: Option<String>,
    pub admin_id: String,
    pub admin_key: String,
    pub master_key: String,
    /// `MAYFLY_ALLOWED_ENDPOINTS`: the moto origin targets point at (the gateway refuses
    /// loopback endpoints that are not listed).
    pub allowed_endpoints: Option<String>,
    /// `MAYFLY_AWS_IAM_WRITE_RATE`: the IAM write rate the gateway is told AWS allows.
    pub aws_iam_write_rate: Option<f64>,
}

impl GatewayConfig {
    pub fn new(binary: PathBuf, database_url: Option<String>) -> Self {
        let hex = |n: usize| -> String {
            (0..n)
                .map(|_| uuid::Uuid::new_v4().simple().to_string())
                .collect()
        };
        // A throw-away master key for this run: two v4 UUIDs are 32 bytes, 244 of their bits
        // random, which is plenty for data deleted when the benchmark ends.
        let key: Vec<u8> = uuid::Uuid::new_v4()
            .as_bytes()
            .iter()
            .chain(uuid::Uuid::new_v4().as_bytes())
            .copied()
            .collect();
        Self {
            binary,
            database_url,
            admin_id: format!("p-{}", &hex(1)[..12]),
            admin_key: hex(2),
            master_key: format!(
                "bench:{}",
                base64::engine::general_purpose::STANDARD.encode(key)
            ),
            allowed_endpoints: None,
            aws_iam_write_rate: None,
        }
    }
}

/// One running gateway.
pub struct Gateway {
    pub port: u16,
    pub data_dir: PathBuf,
    pub config: GatewayConfig,
    child: Option<Child>,
    log_path: PathBuf,
}

impl Gateway {
    /// Starts a gateway on a free port with `data_dir` and waits until `/health/ready` is 200.
    /// Returns the handle and how long that took (spawn to the first 200).
    pub async fn spawn(config: &GatewayConfig, data_dir: &Path) -> Result<(Gateway, Duration)> {
        std::fs::create_dir_all(data_dir)?;
        let port = mayfly_testkit::port::free_loopback_port()?;
        let mut gateway = Gateway {
            port,
            data_dir: data_dir.to_path_buf(),
            config: config.clone(),
            child: None,
            log_path: data_dir.with_extension(format!("{port}.log")),
        };
        let took = gateway.start().await?;
        Ok((gateway, took))
    }

    /// Starts the process (again) on the same data directory and port; returns the time to
    /// ready.
    pub async fn start(&mut self) -> Result<Duration> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)?;
        // The testkit's command line (inherited MAYFLY_* and DATABASE_URL removed); AWS_*
        // goes too, so a developer's AWS settings cannot reach the measured gateway.
        let mut command = Command::from(mayfly_testkit::process::gateway_command(
            &self.config.binary,
            self.port,
            &self.data_dir,
        ));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                command.env_remove(&key);
            }
        }
        command
            .env("MAYFLY_ADMIN_ACCESS_ID", &self.config.admin_id)
            .env("MAYFLY_ADMIN_ACCESS_KEY", &self.config.admin_key)
            .env("MAYFLY_MASTER_KEY", &self.config.master_key)
            .env("NO_COLOR", "1");
        if let Some(url) = &self.config.database_url {
            command.env("DATABASE_URL", url);
        }
        if let Some(origins) = &self.config.allowed_endpoints {
            command.env("MAYFLY_ALLOWED_ENDPOINTS", origins);
        }
        if let Some(rate) = self.config.aws_iam_write_rate {
            command.env("MAYFLY_AWS_IAM_WRITE_RATE", rate.to_string());
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let ca = self.ca_path();
        // With an existing data directory the probe client is built before the spawn, so the
        // measured time is the gateway's, not the client's set-up.
        let mut probe = if ca.is_file() {
            Some(Api::probe_client(&ca)?)
        } else {
            None
        };
        let started = Instant::now();
        let mut child = command.spawn().context("starting mayfly-gateway")?;
        let ready = format!("https://127.0.0.1:{}/health/ready", self.port);
        let deadline = started + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "mayfly-gateway exited with {status} before it was ready; log: {}",
                    self.log_path.display()
                );
            }
            if probe.is_none() && ca.is_file() {
                probe = Api::probe_client(&ca).ok();
            }
            if let Some(client) = &probe {
                if let Ok(r) = client.get(&ready).send().await {
                    if r.status().as_u16() == 200 {
                        let took = started.elapsed();
                        self.child = Some(child);
                        return Ok(took);
                    }
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "mayfly-gateway not ready within 60 s; log: {}",
                    self.log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops the process with SIGKILL and waits for it.
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn ca_path(&self) -> PathBuf {
        self.data_dir.join("tls").join("ca.pem")
    }

    /// A client logged in with the admin key.
    pub async fn api(&self) -> Result<Api> {
        Api::login(
            &self.base_url(),
            &self.ca_path(),
            &self.config.admin_id,
            &self.config.admin_key,
        )
        .await
    }

    /// Resident memory (VmRSS) in MiB, from `/proc/PID/status`.
    pub fn rss_mib(&self) -> Result<f64> {
        self.status_mib("VmRSS")
    }

    /// The anonymous part of the resident set (heap, stacks): what a leak grows. The rest of
    /// RSS is the executable's and libraries' pages, mapped as code paths are first used
    /// (and, by the kernel's fault-around, as neighbours of those), which says nothing about
    /// leaks.
    pub fn rss_anon_mib(&self) -> Result<f64> {
        self.status_mib("RssAnon")
    }

    /// A `kB` line of /proc/<pid>/status, in MiB.
    fn status_mib(&self, field: &str) -> Result<f64> {
        let pid = self.pid().context("gateway not running")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let prefix = format!("{field}:");
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {field} line"))?;
        Ok(kb / 1024.0)
    }
}
