//! The Mayfly gateway as a library, so tests can boot the real application.
//!
//! - [`config`]: settings from file, environment and flags, validated at load.
//! - [`startup`]: [`startup::Application`]: storage, keys, admin bootstrap, TLS, HTTP server.
//! - [`http`]: the edge: body limit, deadline, authentication, parsing, dispatch.
//! - [`operation`]: the closed set of API operations and their (three generations of) paths.
//! - [`authn`] / [`authz`]: who is calling, and the one place that decides what they may do.
//! - [`routes`]: the handlers, one module per family (targets, producers, items, health).
//! - [`error`]: [`error::ApiError`] and its mapping onto HTTP statuses and `{"error": ...}`.
//! - [`tls`], [`keys`], [`files`]: certificates, the master key, owner-only files.
//! - [`bootstrap`]: the admin API key on first start.
//! - [`housekeeping`]: periodic chores (expired tokens).
//! - [`leases`]: issuing credentials, the revoker and the reconciler.
//! - [`cache`]: short-lived caches of resolved tokens and dynamic secrets.
//! - [`aws_source`]: AWS clients per target (the SDK, or fakes in tests).
//! - [`telemetry`]: logging to stdout, pretty or JSON.

pub mod audit;
pub mod authn;
pub mod authz;
pub mod aws_source;
pub mod bootstrap;
pub mod cache;
pub mod config;
pub mod error;
pub mod files;
pub mod housekeeping;
pub mod http;
pub mod keys;
pub mod leases;
pub mod listener;
pub mod metrics;
pub mod openapi;
pub mod operation;
pub mod proxy_protocol;
pub mod ratelimit;
pub mod rotation;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;
