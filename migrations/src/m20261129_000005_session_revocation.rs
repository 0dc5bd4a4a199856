//! Revocable STS sessions (issue #14 item 1).
//!
//! - `leases.session_name`: the unique `RoleSessionName` (or federated user name) a revocable
//!   STS credential was issued with; `NULL` for IAM users and for STS credentials issued
//!   without revocation (their names were not unique, so they cannot be revoked one by one).
//! - `leases.role_arn`: the role an `assume_role` credential is a session of.
//! - `session_denials`: per role or IAM user (`principal_arn`) of a target, the deny
//!   statements Mayfly keeps in the inline policy `mayfly-revoked-sessions`. The gateway's own
//!   record (not what IAM answers, which is eventually consistent) is what it writes from, so
//!   a stale read never drops a denial. `lock_owner`/`lock_until` serialise the
//!   read-modify-write of one policy across gateways; `next_prune_at` says when the first
//!   statement stops mattering (every credential it covers has expired).

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000005_session_revocation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in ["session_name", "role_arn"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("leases"))
                        .add_column(text_null(Alias::new(column)))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("session_denials"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(big_integer(Alias::new("target_id")))
                    .col(text(Alias::new("principal_arn")))
                    .col(text(Alias::new("statements")).default(""))
                    .col(big_integer_null(Alias::new("next_prune_at")))
                    .col(text(Alias::new("lock_owner")).default(""))
                    .col(big_integer(Alias::new("lock_until")).default(0))
                    .col(big_integer(Alias::new("updated_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_session_denials_next_prune")
                    .table(Alias::new("session_denials"))
                    .col(Alias::new("next_prune_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("session_denials"))
                    .to_owned(),
            )
            .await?;
        for column in ["role_arn", "session_name"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("leases"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
