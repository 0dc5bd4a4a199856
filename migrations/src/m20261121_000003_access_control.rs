//! Roles and their rules, which auth methods hold which roles, and the audit trail.

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000003_access_control"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            text(Alias::new("description")).default("").to_owned(),
            boolean(Alias::new("delete_protection"))
                .default(false)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("auth_methods"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("roles"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(text(Alias::new("name")).unique_key())
                    .col(text(Alias::new("description")))
                    .col(text(Alias::new("audit_access")))
                    .col(boolean(Alias::new("delete_protection")))
                    .col(big_integer(Alias::new("created_at")))
                    .col(big_integer(Alias::new("modified_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("role_rules"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(text(Alias::new("role_id")))
                    .col(text(Alias::new("rule_type")))
                    .col(text(Alias::new("path")))
                    .col(text(Alias::new("capabilities")))
                    .col(big_integer(Alias::new("created_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_rules_role")
                            .from(Alias::new("role_rules"), Alias::new("role_id"))
                            .to(Alias::new("roles"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_role_rules_role_type_path")
                    .table(Alias::new("role_rules"))
                    .col(Alias::new("role_id"))
                    .col(Alias::new("rule_type"))
                    .col(Alias::new("path"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("role_assocs"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(text(Alias::new("role_id")))
                    .col(text(Alias::new("auth_method_id")))
                    .col(big_integer(Alias::new("created_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_assocs_role")
                            .from(Alias::new("role_assocs"), Alias::new("role_id"))
                            .to(Alias::new("roles"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_assocs_auth_method")
                            .from(Alias::new("role_assocs"), Alias::new("auth_method_id"))
                            .to(Alias::new("auth_methods"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_role_assocs_role_am")
                    .table(Alias::new("role_assocs"))
                    .col(Alias::new("role_id"))
                    .col(Alias::new("auth_method_id"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_role_assocs_auth_method")
                    .table(Alias::new("role_assocs"))
                    .col(Alias::new("auth_method_id"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("audit_events"))
                    .col(big_integer(Alias::new("id")).auto_increment().primary_key())
                    .col(big_integer(Alias::new("at")))
                    .col(text(Alias::new("request_id")))
                    .col(text(Alias::new("access_id")))
                    .col(text(Alias::new("operation")))
                    .col(text(Alias::new("item")))
                    .col(text(Alias::new("outcome")))
                    .col(integer(Alias::new("status")))
                    .col(text(Alias::new("client_address")))
                    .col(text(Alias::new("detail")))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_audit_at", vec!["at"]),
            ("idx_audit_item_at", vec!["item", "at"]),
            ("idx_audit_access_id_at", vec!["access_id", "at"]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Alias::new("audit_events"));
            for c in cols {
                index.col(Alias::new(c));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_events", "role_assocs", "role_rules", "roles"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        for column in ["delete_protection", "description"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("auth_methods"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
