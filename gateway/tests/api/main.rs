//! Black-box tests of the real `mayfly-gateway` binary over HTTPS, on SQLite and (when a
//! server is reachable) PostgreSQL. One test binary: one link, fast CI.

mod access;
mod admin_key;
mod audit_flood;
mod auth;
mod aws;
mod bulk;
mod caller_in_aws;
mod client_address;
mod command_line;
mod console;
mod console_links;
mod endpoints;
mod first_use;
mod guardrails;
mod ha;
mod health;
mod helpers;
mod issuance;
mod items;
mod k8s_auth_configs;
mod keyless_targets;
mod migrations;
mod names;
mod producers;
mod retention;
mod rotation;
mod secrets;
mod session_revocation;
mod target_lifecycle;
mod target_use;
mod targets;
mod throttling;
mod validation;
mod vault;
mod workload_identity;
