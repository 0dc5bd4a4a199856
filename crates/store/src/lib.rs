//! Mayfly's persistent state.
//!
//! - [`entity`]: sea-orm entities, one per table (the schema itself lives in `mayfly-migrations`).
//! - [`meta`]: cluster-wide settings such as the cluster id.
//! - [`auth`]: auth methods (API keys) and tokens, stored only as hashes; [`k8s_configs`]: the
//!   cluster side of Kubernetes auth methods.
//! - [`targets`] and [`producers`]: AWS connections and the dynamic secrets that use them.
//! - [`ids`]: one id type per table ([`TargetId`], [`ProducerId`], [`LeaseId`], [`AuthMethodId`],
//!   [`RoleId`]), stored and shown as the plain value, so ids of different tables cannot be mixed up.
//!
//! Every query takes `&impl ConnectionTrait`, so the same function runs inside a transaction
//! or on the pool, on SQLite or PostgreSQL. Secrets arrive here already sealed or hashed: this
//! crate never sees a plaintext secret.

pub mod access;
pub mod audit;
pub mod auth;
pub mod connect;
pub mod entity;
mod error;
pub mod ids;
pub mod k8s_configs;
pub mod leases;
pub mod meta;
pub mod producers;
pub mod rotation;
pub mod session_denials;
pub mod targets;

pub use connect::{begin_write, connect, DatabaseKind};
pub use error::StoreError;
pub use ids::{AuthMethodId, LeaseId, ProducerId, RoleId, TargetId};
pub use sea_orm::{DatabaseConnection, TransactionTrait};

/// Milliseconds since the Unix epoch: the unit of every timestamp column.
pub type Millis = i64;

/// The current time in milliseconds since the Unix epoch.
pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}
