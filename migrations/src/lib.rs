//! Mayfly's schema migrations.
//!
//! One set serves SQLite and PostgreSQL: tables and columns are named by string (never through
//! the entities), so a migration means the same thing forever, whatever the entities become.
//! The gateway runs [`Migrator::up`] at start-up.
//!
//! Timestamps are stored as `BIGINT` milliseconds since the Unix epoch: they compare and index
//! the same way on both databases, which the revoker's `(state, expires_at)` scan relies on.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_initial;
mod m20261121_000002_leases;
mod m20261121_000003_access_control;
mod m20261121_000004_rotation;
mod m20261128_000001_lease_accounts;
mod m20261129_000001_workload_identity;
mod m20261129_000002_k8s_auth_configs;
mod m20261129_000003_target_access;
mod m20261129_000004_lease_guardrails;
mod m20261129_000005_session_revocation;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_initial::Migration),
            Box::new(m20261121_000002_leases::Migration),
            Box::new(m20261121_000003_access_control::Migration),
            Box::new(m20261121_000004_rotation::Migration),
            Box::new(m20261128_000001_lease_accounts::Migration),
            Box::new(m20261129_000001_workload_identity::Migration),
            Box::new(m20261129_000002_k8s_auth_configs::Migration),
            Box::new(m20261129_000003_target_access::Migration),
            Box::new(m20261129_000004_lease_guardrails::Migration),
            Box::new(m20261129_000005_session_revocation::Migration),
        ]
    }
}
