//! Mayfly's application core, shared by every front door (the Akeyless-compatible API today;
//! workload-identity logins, the console and the Vault-compatible API next). It speaks domain
//! types and [`error::AppError`], never HTTP or a wire format: a front door parses its
//! requests into these types, calls in, and maps results and errors onto its own protocol.
//!
//! - [`state`]: [`state::AppState`], what every operation and background worker shares.
//! - [`items`]: listing dynamic secrets by folder.
//! - [`tmp_creds`]: listing, revoking and re-timing a dynamic secret's credentials.
//! - [`leases`]: issuing credentials, the revoker and the reconciler.
//! - [`rotation`]: master key and targets' admin key rotation, and its worker.
//! - [`housekeeping`]: periodic chores (expired tokens, retention, unneeded targets).
//! - [`access`]: who is calling ([`access::Caller`]) and [`access::authorize`], the one place
//!   that decides what a caller may do.
//! - [`audit_trail`]: reading the audit trail, limited by the caller's audit-access.
//! - [`auth_methods`]: API keys: create, read, list, delete, replace the key, settings.
//! - [`roles`]: roles, their rules and their auth methods.
//! - [`authn`]: API-key login and resolving a token to a caller with its roles' rules.
//! - [`audit`]: the audit trail (batched writes, counted anonymous refusals, a line sink).
//! - [`ratelimit`]: the login throttle per (access id, client) and per client.
//! - [`cache`]: short-lived caches of resolved tokens and dynamic secrets.
//! - [`aws_source`]: AWS clients per target (the SDK, or fakes in tests).
//! - [`targets`]: a target's credentials, sealed and opened in one place, and lookups.
//! - [`resolve`]: a dynamic secret's name to its row, definition and target, cached.
//! - [`dynamic_secrets`]: dynamic secrets' operations (create, update, get, list, delete).
//! - [`producers`]: a dynamic secret's row with its parsed definition.
//! - [`keys`]: the master keys that seal stored secrets (configured, or the key file).
//! - [`files`]: the data directory and files that only the gateway's user may read.
//! - [`metrics`]: Prometheus metrics and the per-request AWS timer.
//! - [`error`]: [`error::AppError`], the one error every operation returns.
//! - [`time`]: how timestamps are shown.
//!
//! Layers: `mayfly-domain` ← `mayfly-store` / `mayfly-aws` / `mayfly-crypto` ← this crate ←
//! the gateway's front doors. Nothing here imports from a front door.

pub mod access;
pub mod audit;
pub mod audit_trail;
pub mod auth_methods;
pub mod authn;
pub mod aws_source;
pub mod cache;
pub mod dynamic_secrets;
pub mod error;
pub mod files;
pub mod housekeeping;
pub mod items;
pub mod k8s_configs;
pub mod keys;
pub mod leases;
pub mod metrics;
pub mod producers;
pub mod ratelimit;
pub mod resolve;
pub mod roles;
pub mod rotation;
pub mod state;
pub mod targets;
pub mod time;
pub mod tmp_creds;
