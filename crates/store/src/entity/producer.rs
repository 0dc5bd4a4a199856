use sea_orm::entity::prelude::*;

use crate::{ProducerId, TargetId};

/// A dynamic secret. `spec` is the validated `mayfly_domain::ProducerSpec` as JSON: it is
/// only ever written from a parsed spec, so reading it back cannot meet invalid input.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "producers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ProducerId,
    #[sea_orm(unique)]
    pub name: String,
    pub producer_type: String,
    pub target_id: TargetId,
    pub access_mode: String,
    pub spec: String,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::target::Entity",
        from = "Column::TargetId",
        to = "super::target::Column::Id",
        on_delete = "Restrict"
    )]
    Target,
}

impl Related<super::target::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Target.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
