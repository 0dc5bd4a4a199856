//! The foundation schema: cluster metadata, auth methods and tokens, targets and producers.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000001_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("gateway_meta"))
                    .col(text(Alias::new("key")).primary_key())
                    .col(text(Alias::new("value")))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("auth_methods"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(text(Alias::new("name")).unique_key())
                    .col(text(Alias::new("access_id")).unique_key())
                    .col(text(Alias::new("method_type")))
                    .col(text(Alias::new("key_hash")))
                    .col(big_integer(Alias::new("created_at")))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("tokens"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(text(Alias::new("token_hash")).unique_key())
                    .col(text(Alias::new("auth_method_id")))
                    .col(text(Alias::new("access_id")))
                    .col(big_integer(Alias::new("created_at")))
                    .col(big_integer(Alias::new("expires_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tokens_auth_method")
                            .from(Alias::new("tokens"), Alias::new("auth_method_id"))
                            .to(Alias::new("auth_methods"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tokens_expires_at")
                    .table(Alias::new("tokens"))
                    .col(Alias::new("expires_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("targets"))
                    .col(big_integer(Alias::new("id")).auto_increment().primary_key())
                    .col(text(Alias::new("uid")).unique_key())
                    .col(text(Alias::new("name")).unique_key())
                    .col(text(Alias::new("target_type")))
                    .col(text(Alias::new("description")))
                    .col(text(Alias::new("region")))
                    .col(text_null(Alias::new("iam_endpoint")))
                    .col(text_null(Alias::new("sts_endpoint")))
                    .col(text(Alias::new("sealed_credentials")))
                    .col(boolean(Alias::new("is_private")))
                    .col(boolean(Alias::new("delete_protection")))
                    .col(big_integer(Alias::new("version")))
                    .col(big_integer(Alias::new("created_at")))
                    .col(big_integer(Alias::new("modified_at")))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("producers"))
                    .col(big_integer(Alias::new("id")).auto_increment().primary_key())
                    .col(text(Alias::new("name")).unique_key())
                    .col(text(Alias::new("producer_type")))
                    .col(big_integer(Alias::new("target_id")))
                    .col(text(Alias::new("access_mode")))
                    .col(text(Alias::new("spec")))
                    .col(big_integer(Alias::new("created_at")))
                    .col(big_integer(Alias::new("modified_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_producers_target")
                            .from(Alias::new("producers"), Alias::new("target_id"))
                            .to(Alias::new("targets"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_producers_target_id")
                    .table(Alias::new("producers"))
                    .col(Alias::new("target_id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "producers",
            "targets",
            "tokens",
            "auth_methods",
            "gateway_meta",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
