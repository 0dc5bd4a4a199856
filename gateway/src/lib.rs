//! The Mayfly gateway as a library, so tests can boot the real application. The shared
//! application core (access control, audit, caches, the login throttle, AWS client sources)
//! lives in `mayfly-app`; this crate is the Akeyless-compatible front door around it.
//!
//! - [`config`]: settings from file, environment and flags, validated at load.
//! - [`startup`]: [`startup::Application`]: storage, keys, admin bootstrap, TLS, HTTP server.
//! - [`http`]: the edge: body limit, deadline, authentication, parsing, dispatch.
//! - [`operation`]: the closed set of API operations and their (three generations of) paths.
//! - [`authn`]: API-key login and resolving a token to a caller (`mayfly_app::access::Caller`).
//! - [`routes`]: the handlers, one module per family (targets, producers, items, health).
//! - [`error`]: [`error::ApiError`] and its mapping onto HTTP statuses and `{"error": ...}`.
//! - [`tls`]: certificates (the master key and owner-only files: `mayfly_app::{keys, files}`).
//! - [`bootstrap`]: the admin API key on first start.
//! - [`housekeeping`]: periodic chores (expired tokens).
//! - [`leases`]: issuing credentials, the revoker and the reconciler.
//! - [`telemetry`]: logging to stdout, pretty or JSON.

pub mod authn;
pub mod bootstrap;
pub mod config;
pub mod error;
pub mod housekeeping;
pub mod http;
pub mod leases;
pub mod listener;
pub mod openapi;
pub mod operation;
pub mod proxy_protocol;
pub mod rotation;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod tls;
