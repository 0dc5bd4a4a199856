use sea_orm::entity::prelude::*;

use crate::RoleId;

/// One rule of a role: capabilities (comma-separated) on a path glob, for one kind of object.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub role_id: RoleId,
    /// `item-rule`, `target-rule`, `role-rule` or `auth-method-rule`.
    pub rule_type: String,
    pub path: String,
    pub capabilities: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
