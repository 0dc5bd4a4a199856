use sea_orm::entity::prelude::*;

use crate::TargetId;

/// An AWS connection. `sealed_credentials` is the access key id, secret key and session token,
/// sealed together by `mayfly-crypto` with `id` and `uid` as associated data, so a sealed value
/// cannot be moved to another row and still open.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: TargetId,
    #[sea_orm(unique)]
    pub uid: String,
    #[sea_orm(unique)]
    pub name: String,
    pub target_type: String,
    pub description: String,
    pub region: String,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    /// Empty for a target that uses the gateway's own identity (see `access`).
    pub sealed_credentials: String,
    /// JSON of `mayfly_domain::TargetAccess` (credential source, role chain); empty: a plain
    /// keyed target.
    pub access: String,
    /// A target created from a producer's inline credentials: hidden from target lists and
    /// deleted with its producer.
    pub is_private: bool,
    pub delete_protection: bool,
    pub version: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::producer::Entity")]
    Producer,
}

impl Related<super::producer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Producer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
