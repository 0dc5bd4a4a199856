//! An AWS-like network in front of moto, for the benchmarks (`mayfly-bench`) and the tests.
//!
//! moto on loopback answers in 2-5 ms, one call at a time, and never throttles; IAM and STS
//! take tens of milliseconds, serve calls in parallel and throttle (IAM's writes at low rates
//! per account). [`NetSim`] is a loopback HTTP proxy that puts that back between a client
//! (the gateway, or the SDK directly) and moto:
//! - every call takes a round trip of `rtt` ± `jitter` ([`Latency`]), spent in the call's own
//!   task, so calls made in parallel overlap;
//! - actions can be throttled with token buckets ([`NetSimConfig::throttle`]; IAM's writes
//!   share one bucket with [`IAM_WRITE_ACTIONS`]): a call without a token gets AWS's own
//!   `Throttling` answer ([`throttling_body`]), which the AWS SDKs back off from and retry;
//! - [`Counters`] say what it saw: calls, throttled calls and the most in flight at once, per
//!   action;
//! - optionally it records each call ([`Call`]) and lets a test answer some itself
//!   ([`NetSim::intercept`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use mayfly_aws_netsim::{NetSim, NetSimConfig, RateLimit, IAM_WRITE_ACTIONS};
//!
//! let aws = NetSim::start(
//!     "http://127.0.0.1:5099",
//!     NetSimConfig::new()
//!         .latency(Duration::from_millis(20), Duration::from_millis(5))
//!         .throttle(IAM_WRITE_ACTIONS, RateLimit::new(20.0, 20)),
//! )
//! .expect("proxy");
//! // Point IAM and STS endpoints at aws.url(); read aws.counters() afterwards.
//! ```
//!
//! The proxy runs on a thread of its own (its own small Tokio runtime), so it serves the same
//! way from a plain `#[test]` and from inside an async benchmark, and stops when dropped.
//!
//! Modules, one job each: `config` (latency, rates), `bucket` (token buckets), `call` (reading
//! a call's action), `counters`, `throttling` (AWS's error), `server` (the proxy).

mod bucket;
mod call;
mod config;
mod counters;
mod server;
mod throttling;

use std::{net::SocketAddr, sync::Arc, thread::JoinHandle};

pub use call::Call;
pub use config::{Latency, NetSimConfig, RateLimit, Throttle, IAM_WRITE_ACTIONS};
pub use counters::{ActionCounters, Counters};
pub use throttling::{throttling_body, THROTTLING_STATUS};

use server::Shared;

/// Starting the proxy failed.
#[derive(Debug, thiserror::Error)]
pub enum NetSimError {
    #[error("the AWS network proxy could not listen on a loopback port: {0}")]
    Bind(std::io::Error),
    #[error("the AWS network proxy could not start its runtime: {0}")]
    Runtime(std::io::Error),
}

/// An answer a test gives to a call instead of forwarding it (see [`NetSim::intercept`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canned {
    pub status: u16,
    /// Sent as `text/xml`, as IAM and STS answer.
    pub body: String,
}

/// Decides, per call, whether to answer it with a [`Canned`] response instead of moto.
pub type Interceptor = Arc<dyn Fn(&Call) -> Option<Canned> + Send + Sync>;

/// The running proxy, on a free loopback port; stops when dropped.
pub struct NetSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl NetSim {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str, config: NetSimConfig) -> Result<NetSim, NetSimError> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(NetSimError::Bind)?;
        let addr = listener.local_addr().map_err(NetSimError::Bind)?;
        listener.set_nonblocking(true).map_err(NetSimError::Bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(NetSimError::Runtime)?;
        let shared = Arc::new(Shared::new(upstream, &config));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name("aws-netsim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => server::serve(listener, serving, stopped).await,
                        Err(e) => eprintln!("aws-netsim: cannot serve: {e}"),
                    }
                });
                // Connections still open (a client's idle pool) end with the runtime.
                runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            })
            .map_err(NetSimError::Runtime)?;
        Ok(NetSim {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: the IAM and STS endpoint to give clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the proxy has seen so far.
    pub fn counters(&self) -> Counters {
        self.shared.tally.snapshot()
    }

    /// Starts counting afresh (calls in flight stay counted as such).
    pub fn reset_counters(&self) {
        self.shared.tally.reset();
    }

    /// From now on, every call takes `latency`.
    pub fn set_latency(&self, latency: Latency) {
        self.shared.set_latency(latency);
    }

    /// From now on, `actions` also share a bucket of `limit` (with a full burst).
    pub fn throttle(&self, actions: &[&str], limit: RateLimit) {
        self.shared.add_throttle(Throttle {
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            limit,
        });
    }

    /// From now on, nothing is throttled.
    pub fn clear_throttles(&self) {
        self.shared.clear_throttles();
    }

    /// From now on, `interceptor` may answer calls itself (before the throttle and moto);
    /// `None` stops it.
    pub fn intercept(&self, interceptor: Option<Interceptor>) {
        self.shared.set_interceptor(interceptor);
    }

    /// Every call received so far, in order of arrival; empty unless
    /// [`NetSimConfig::record_calls`] was set.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.recorded()
    }
}

impl Drop for NetSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for NetSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSim").field("url", &self.url()).finish()
    }
}
