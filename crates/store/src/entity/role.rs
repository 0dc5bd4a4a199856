use sea_orm::entity::prelude::*;

use crate::RoleId;

/// A role: a named set of rules, held by auth methods through associations.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RoleId,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    /// Who may read audit events: `none`, `own` (the holder's own) or `all` (Akeyless's
    /// `audit-access`).
    pub audit_access: String,
    pub delete_protection: bool,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
