//! The Mayfly gateway: the Akeyless-compatible and Vault-compatible front doors around the application core
//! (`mayfly-app`: access control, audit, leases, rotation, the workers), and the process that
//! runs them. A library, so tests can boot the real application.
//!
//! - [`config`]: settings from file, environment and flags, validated at load.
//! - [`startup`]: [`startup::Application`]: storage, keys, admin bootstrap, TLS, the server
//!   and the core's background workers.
//! - [`listener`]: accepting connections: PROXY headers from trusted load balancers, TLS,
//!   HTTP; [`proxy_protocol`] parses the headers.
//! - [`tls`]: the listener's certificate, from files or generated.
//! - [`http`]: the edge: body limit, deadline, authentication, parsing, dispatch, audit.
//! - [`operation`]: the operation table: each operation's paths, effect, DTOs, errors and
//!   handler; the dispatcher, the OpenAPI document and the audit flags come from it.
//! - [`call`]: one call as a handler sees it (state, caller, client address, audit note), and
//!   reading the body into a DTO.
//! - [`openapi`]: the OpenAPI document of the API.
//! - [`authn`]: `/auth`: the login throttle, then an API key, a JWT (`jwt`/`oidc`), a
//!   Kubernetes service-account token (`k8s`) or a signed AWS request (`aws_iam`), checked by
//!   the core (`mayfly_app::authn`).
//! - [`routes`]: the handlers, one module per family: Akeyless DTOs in, core calls, DTOs out.
//! - [`vault`]: the Vault-compatible API under `/v1/`: Vault's paths and shapes over the same
//!   core calls (AppRole login, the AWS engine's roles and creds, leases, `sys`).
//! - [`console`]: the web console under `/ui/`: server-rendered pages over the same core
//!   calls, a session holding a normal token (sealed in an `HttpOnly` cookie), CSRF tokens.
//! - [`error`]: [`error::ApiError`], the core's errors mapped onto HTTP statuses and
//!   `{"error": ...}`.
//! - [`bootstrap`]: the admin API key on first start.
//! - [`telemetry`]: logging to stdout, pretty or JSON, through a non-blocking writer.

pub mod authn;
pub mod bootstrap;
pub mod call;
pub mod config;
pub mod console;
pub mod error;
pub mod http;
pub mod listener;
pub mod openapi;
pub mod operation;
pub mod proxy_protocol;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod tls;
pub mod vault;

#[cfg(test)]
mod core_tests;
