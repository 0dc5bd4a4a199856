//! Admin credential rotation: a schedule and a claim per target (Mayfly extension columns).
//!
//! - `rotation_interval_days`: 0 = no scheduled rotation.
//! - `last_rotated_at`: when the stored access key was last replaced by a rotation.
//! - `rotation_due_at`: when the worker should rotate next (NULL = never); after a failed
//!   attempt it is pushed back, so a broken target is not retried every round.
//! - `rotation_claimed_by` / `rotation_claimed_until`: the gateway running a rotation of this
//!   target, and until when its claim holds (several gateways share one database).
//! - `rotation_pending_key_id`: the new access key a running rotation created but has not
//!   stored yet; another rotation must not mistake it for a stale key and delete it.
//! - `rotation_last_error`: why the last attempt failed (cleared by a success).
//!
//! SQLite can add only one column per `ALTER TABLE`, hence one statement per column.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000004_rotation"
    }
}

const TARGETS: &str = "targets";

fn columns() -> Vec<ColumnDef> {
    vec![
        big_integer(Alias::new("rotation_interval_days"))
            .default(0)
            .to_owned(),
        big_integer_null(Alias::new("last_rotated_at")),
        big_integer_null(Alias::new("rotation_due_at")),
        text_null(Alias::new("rotation_claimed_by")),
        big_integer_null(Alias::new("rotation_claimed_until")),
        text_null(Alias::new("rotation_pending_key_id")),
        text_null(Alias::new("rotation_last_error")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(TARGETS))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_targets_rotation_due")
                    .table(Alias::new(TARGETS))
                    .col(Alias::new("rotation_due_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_targets_rotation_due")
                    .table(Alias::new(TARGETS))
                    .to_owned(),
            )
            .await?;
        for column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(TARGETS))
                        .drop_column(Alias::new(column.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
