//! Workload-identity logins (issue #12).
//!
//! - `auth_methods.settings`: a JWT method's settings as JSON (`mayfly_domain::JwtSettings`:
//!   JWKS URL or inline public keys, issuer, audiences, unique identifier ...). Nothing in it
//!   is secret. Empty for API keys, whose `key_hash` stays their only stored credential; a JWT
//!   method's `key_hash` is empty and matches no key.
//! - `role_assocs.sub_claims` (JSON, claim -> allowed globs; empty: none) and
//!   `role_assocs.case_sensitive`: which tokens of the method the association applies to.
//! - `tokens.identity` (the value of the method's unique-identifier claim, or empty for API
//!   keys) and `tokens.claims` (JSON of the claims the login kept for matching associations):
//!   the session knows who logged in, and associations changed later apply to it at once.
//!
//! - `leases.created_by_identity` and `leases.created_by_claims` (JSON): who got the
//!   credential beyond the access id, shown in tmp creds (`sub_claims`).
//! - `audit_events.identity`: who made the request beyond the access id.
//!
//! One column per statement: SQLite adds one column per ALTER TABLE.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_workload_identity"
    }
}

const COLUMNS: [(&str, &str); 8] = [
    ("auth_methods", "settings"),
    ("role_assocs", "sub_claims"),
    ("role_assocs", "case_sensitive"),
    ("tokens", "identity"),
    ("tokens", "claims"),
    ("leases", "created_by_identity"),
    ("leases", "created_by_claims"),
    ("audit_events", "identity"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS {
            let def = if column == "case_sensitive" {
                boolean(Alias::new(column)).default(true).to_owned()
            } else {
                text(Alias::new(column)).default("").to_owned()
            };
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(def)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS.iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(*table))
                        .drop_column(Alias::new(*column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
