//! A fresh environment for one row: moto, optionally the AWS network proxy in front of it,
//! one SQLite gateway, a target pointing at AWS (the proxy, or moto itself).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use mayfly_aws_netsim::{NetSim, NetSimConfig, RateLimit, IAM_WRITE_ACTIONS};

use crate::api::Api;
use crate::procs::{Gateway, GatewayConfig, Moto};

/// Name of the target every row creates.
pub const TARGET: &str = "/bench/target";

/// The network between the callers (the gateway, the direct baseline calls) and moto.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pub rtt_ms: u64,
    pub jitter_ms: u64,
    /// IAM writes per second (0: not throttled), all writes sharing one bucket.
    pub iam_write_rate: f64,
    pub iam_write_burst: u32,
    /// The IAM write rate the gateway is told AWS allows (`MAYFLY_AWS_IAM_WRITE_RATE`); 0:
    /// the gateway learns it from throttling.
    pub gateway_iam_write_rate: f64,
}

impl Network {
    /// Whether a proxy is needed at all (otherwise calls go to moto directly).
    pub fn is_simulated(&self) -> bool {
        self.rtt_ms > 0 || self.jitter_ms > 0 || self.iam_write_rate > 0.0
    }

    fn config(&self) -> NetSimConfig {
        let mut config = NetSimConfig::new().latency(
            Duration::from_millis(self.rtt_ms),
            Duration::from_millis(self.jitter_ms),
        );
        if self.iam_write_rate > 0.0 {
            config = config.throttle(
                IAM_WRITE_ACTIONS,
                RateLimit::new(self.iam_write_rate, self.iam_write_burst),
            );
        }
        config
    }

    /// The settings, for the report; `None` without a proxy.
    pub fn describe(&self) -> Option<String> {
        if !self.is_simulated() {
            return None;
        }
        let throttle = if self.iam_write_rate > 0.0 {
            format!(
                "IAM writes throttled at {}/s (burst {})",
                self.iam_write_rate, self.iam_write_burst
            )
        } else {
            "no throttling".to_owned()
        };
        let told = if self.gateway_iam_write_rate > 0.0 {
            format!(
                "; the gateway told IAM allows {}/s (MAYFLY_AWS_IAM_WRITE_RATE)",
                self.gateway_iam_write_rate
            )
        } else {
            String::new()
        };
        Some(format!(
            "RTT {} ms ± {} ms; {throttle}{told}",
            self.rtt_ms, self.jitter_ms
        ))
    }
}

pub struct Env {
    /// Kept running for as long as the environment lives.
    _moto: Moto,
    /// The proxy in front of moto, when the network is simulated.
    pub aws: Option<NetSim>,
    /// Where AWS calls go: the proxy's URL, or moto's.
    pub aws_url: String,
    pub gateway: Gateway,
    pub api: Api,
}

impl Env {
    /// moto (behind the proxy when `net` asks for one) plus a SQLite gateway (in
    /// `work/<tag>`) with a target on it.
    pub async fn start(work: &Path, tag: &str, binary: PathBuf, net: &Network) -> Result<Env> {
        let moto = Moto::spawn(work).await?;
        let aws = if net.is_simulated() {
            Some(NetSim::start(&moto.url, net.config()).context("starting the AWS network proxy")?)
        } else {
            None
        };
        let aws_url = aws.as_ref().map_or_else(|| moto.url.clone(), NetSim::url);
        let mut config = GatewayConfig::new(binary, None);
        config.allowed_endpoints = Some(aws_url.clone());
        config.aws_iam_write_rate = Some(net.gateway_iam_write_rate).filter(|r| *r > 0.0);
        // A row run twice in one invocation (the two bursts of `scale`) gets a fresh data
        // directory each time: the first run's database holds another admin key.
        let dir = (1..)
            .map(|n| match n {
                1 => work.join(tag),
                n => work.join(format!("{tag}-{n}")),
            })
            .find(|d| !d.exists())
            .expect("an unused directory name");
        let (gateway, _) = Gateway::spawn(&config, &dir).await?;
        let api = gateway.api().await?;
        api.create_target(TARGET, &aws_url).await?;
        Ok(Env {
            _moto: moto,
            aws,
            aws_url,
            gateway,
            api,
        })
    }

    /// moto's own URL (not the proxy's): for checks that must not be throttled or delayed.
    pub fn moto_url(&self) -> &str {
        &self._moto.url
    }

    /// A line under a row's table saying what the proxy saw (nothing without a proxy).
    pub fn report_network(&self) {
        if let Some(aws) = &self.aws {
            let c = aws.counters();
            println!(
                "\nAWS calls through the proxy: {} ({} throttled), at most {} at once.",
                c.total.calls, c.total.throttled, c.total.max_in_flight
            );
        }
    }
}
