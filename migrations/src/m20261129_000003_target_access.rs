//! Targets without stored keys (issue #13).
//!
//! - `targets.access`: JSON of `mayfly_domain::TargetAccess`: where the target's base
//!   credentials come from (its sealed key, or the gateway's own AWS identity, in which case
//!   `sealed_credentials` is empty) and the role it assumes before use, if any. Empty for a
//!   plain keyed target, which every target before this migration is. Nothing in it is secret.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000003_target_access"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("targets"))
                    .add_column(text(Alias::new("access")).default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("targets"))
                    .drop_column(Alias::new("access"))
                    .to_owned(),
            )
            .await
    }
}
