//! Guardrails against credential explosions (issue #14 item 5): the limits count live leases
//! per creator (auth method, by access id) and recent leases per producer and per creator, on
//! every get-value request; these indexes keep those counts cheap as the table grows.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000004_lease_guardrails"
    }
}

const INDEXES: [(&str, &str, &str); 3] = [
    ("idx_leases_created_by_state", "created_by", "state"),
    ("idx_leases_producer_created", "producer_id", "created_at"),
    ("idx_leases_created_by_created", "created_by", "created_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, first, second) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new("leases"))
                        .col(Alias::new(first))
                        .col(Alias::new(second))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new("leases"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
