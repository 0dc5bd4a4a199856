//! Test helpers that boot the **real** `mayfly-gateway` binary.
//!
//! Integration tests in `gateway/tests` and `cli/tests` are black-box tests: they talk HTTPS to
//! the same binary that users run, so what they check is what ships. [`TestGateway`] starts that
//! binary as a child process on a free loopback port, against a fresh database (a SQLite file in
//! a temporary data directory, or a freshly created PostgreSQL database), waits until
//! `GET /health/ready` answers 200 over HTTPS, and cleans everything up when dropped.
//!
//! ```no_run
//! use mayfly_testkit::TestGateway;
//! use serde_json::json;
//!
//! let gateway = TestGateway::spawn_sqlite();
//! let (status, body) = gateway.post_authed("/list-targets", json!({}));
//! assert_eq!(status, 200, "{body}");
//! ```
//!
//! Everything is blocking (reqwest's blocking client), so tests stay plain `#[test]` functions.
//! Do not call these helpers from inside an async runtime: the blocking client refuses that.
//!
//! Modules, one job each:
//! - [`gateway`]: the [`TestGateway`] handle and its builder (start, restart, kill, requests).
//! - [`process`]: starting the child with captured output and waiting for readiness (its
//!   command line, [`process::gateway_command`], is shared with the benchmarks).
//! - `binary`: finding (or building once) the `mayfly-gateway` executable.
//! - `postgres`: creating and dropping a throw-away PostgreSQL database per gateway.
//! - `port`: picking free loopback ports.
//! - `moto`: the URL of the moto AWS mock that `scripts/test.sh` starts.
//! - `credentials`: the known admin API key handed to the gateway at first start.
//! - [`jwt`]: a test JWT issuer (two fixed RSA keys, GitHub/GitLab-shaped claims) and a
//!   loopback JWKS server whose document can be rotated.
//! - `http`: an HTTPS client that trusts only the gateway's generated CA, and body parsing.
//! - [`recording_proxy`]: a proxy in front of moto that records each call (the
//!   `mayfly-aws-netsim` proxy without delay or throttling) and can refuse new keys.
//!
//! Environment variables read here:
//! - `MAYFLY_GATEWAY_BIN`: path of the gateway binary (default `<target>/debug/mayfly-gateway`).
//! - `CARGO_TARGET_DIR`: where cargo puts binaries (default `<workspace>/target`).
//! - `MAYFLY_TEST_POSTGRES_URL`: PostgreSQL server used to create test databases
//!   (default [`postgres::DEFAULT_POSTGRES_URL`]).
//! - `MAYFLY_TEST_MOTO_URL`: moto's base URL, set by `scripts/test.sh` ([`moto::moto_url`]).
//!   It and every moto server started by this process are passed to spawned gateways as
//!   `MAYFLY_ALLOWED_ENDPOINTS` ([`moto::known_urls`]).
//! - `MAYFLY_TEST_REQUIRE_POSTGRES=1`: an unreachable PostgreSQL fails the test instead of
//!   skipping it (CI sets this).

pub mod binary;
pub mod credentials;
mod error;
pub mod federation;
pub mod gateway;
mod http;
pub mod imds;
pub mod jwt;
pub mod kube_api;
mod loopback;
pub mod moto;
pub mod port;
pub mod postgres;
pub mod process;
pub mod recording_proxy;

pub use error::TestkitError;
pub use gateway::{TestGateway, TestGatewayBuilder};
