//! Kubernetes auth configs (`gateway-create-k8s-auth-config`, issue #12): the cluster side of
//! a Kubernetes auth method, by name, for logins that name it (`k8s-auth-config-name`).
//!
//! - `settings`: JSON of `mayfly_domain::K8sClusterSettings` (API server origin, CA bundle,
//!   issuer, offline JWKS). Nothing in it is secret.
//! - `sealed_reviewer_jwt`: the token reviewer JWT sealed with the master key (bound to the
//!   row id), or empty when the reviewed token reviews itself. Re-sealed by
//!   `rotate-master-key` like target credentials.
//! - `version`: bumped by every update, so a re-seal never overwrites a concurrent change.
//! - Deleting the auth method deletes its configs (foreign key, cascade).

// `async_trait` expands `&SchemaManager` with a hidden lifetime; naming it breaks the macro.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_k8s_auth_configs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("k8s_auth_configs"))
                    .col(text(Alias::new("id")).primary_key())
                    .col(text_uniq(Alias::new("name")))
                    .col(text(Alias::new("auth_method_id")))
                    .col(text(Alias::new("settings")))
                    .col(text(Alias::new("sealed_reviewer_jwt")).default(""))
                    .col(big_integer(Alias::new("version")).default(1))
                    .col(big_integer(Alias::new("created_at")))
                    .col(big_integer(Alias::new("modified_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_k8s_auth_configs_auth_method")
                            .from(Alias::new("k8s_auth_configs"), Alias::new("auth_method_id"))
                            .to(Alias::new("auth_methods"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_k8s_auth_configs_auth_method")
                    .table(Alias::new("k8s_auth_configs"))
                    .col(Alias::new("auth_method_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("k8s_auth_configs"))
                    .to_owned(),
            )
            .await
    }
}
