//! The target that created a lease lives as long as the lease (issue #10, item 2).
//!
//! - `leases.aws_account`: the AWS account that holds the lease's IAM user or session, from
//!   the ARN AWS returned when it was issued. Teardown refuses to call `NoSuchEntity` "done"
//!   when the credentials it tears down with belong to another account. NULL for leases
//!   issued before this migration (they behave as before).
//! - An index on `leases (target_id, state)`: the pass that deletes retired targets asks, per
//!   target, whether a live lease still needs it.
//!
//! Retired targets need no column: a retired target is a private one (`is_private`) that no
//! producer references; it is deleted once no live lease does either.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000001_lease_accounts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("leases"))
                    .add_column(text_null(Alias::new("aws_account")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_leases_target_state")
                    .table(Alias::new("leases"))
                    .col(Alias::new("target_id"))
                    .col(Alias::new("state"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_leases_target_state")
                    .table(Alias::new("leases"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("leases"))
                    .drop_column(Alias::new("aws_account"))
                    .to_owned(),
            )
            .await
    }
}
