//! Leases (temporary credentials, "tmp creds"): one row per issued credential, written
//! *before* AWS is touched for `iam_user`, so that no IAM user can exist that the gateway
//! does not track.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000002_leases"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("leases"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(big_integer(Alias::new("producer_id")))
                    .col(text(Alias::new("producer_name")))
                    .col(big_integer(Alias::new("target_id")))
                    .col(text(Alias::new("mode")))
                    .col(text(Alias::new("state")))
                    .col(text_null(Alias::new("iam_user_name")))
                    .col(text_null(Alias::new("iam_user_path")))
                    .col(text_null(Alias::new("access_key_id")))
                    .col(text(Alias::new("created_by")))
                    .col(text(Alias::new("client_address")))
                    .col(big_integer(Alias::new("created_at")))
                    .col(big_integer(Alias::new("expires_at")))
                    .col(big_integer(Alias::new("updated_at")))
                    .col(big_integer_null(Alias::new("custom_ttl_min")))
                    .col(integer(Alias::new("attempts")).default(0))
                    .col(big_integer(Alias::new("next_attempt_at")).default(0))
                    .col(text_null(Alias::new("last_error")))
                    .col(text_null(Alias::new("claimed_by")))
                    .col(big_integer_null(Alias::new("claimed_at")))
                    .col(big_integer_null(Alias::new("ended_at")))
                    .to_owned(),
            )
            .await?;
        // The revoker's scan: due leases by state, oldest expiry first.
        manager
            .create_index(
                Index::create()
                    .name("idx_leases_state_expires")
                    .table(Alias::new("leases"))
                    .col(Alias::new("state"))
                    .col(Alias::new("expires_at"))
                    .to_owned(),
            )
            .await?;
        // The tmp-creds list and revoke-all: one producer's leases.
        manager
            .create_index(
                Index::create()
                    .name("idx_leases_producer_state")
                    .table(Alias::new("leases"))
                    .col(Alias::new("producer_id"))
                    .col(Alias::new("state"))
                    .to_owned(),
            )
            .await?;
        // The reconciler's scan: stuck leases by state and age.
        manager
            .create_index(
                Index::create()
                    .name("idx_leases_state_updated")
                    .table(Alias::new("leases"))
                    .col(Alias::new("state"))
                    .col(Alias::new("updated_at"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("leases")).to_owned())
            .await
    }
}
