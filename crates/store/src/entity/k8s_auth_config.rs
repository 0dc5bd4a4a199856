use sea_orm::entity::prelude::*;

use crate::AuthMethodId;

/// A Kubernetes auth config: the cluster side of one Kubernetes auth method.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "k8s_auth_configs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub name: String,
    pub auth_method_id: AuthMethodId,
    /// JSON of `mayfly_domain::K8sClusterSettings`; nothing secret.
    pub settings: String,
    /// The token reviewer JWT, sealed; empty: none.
    pub sealed_reviewer_jwt: String,
    pub version: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
