use sea_orm::entity::prelude::*;

use crate::AuthMethodId;

/// An API-key auth method. The access key itself is never stored, only its hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_methods")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AuthMethodId,
    #[sea_orm(unique)]
    pub name: String,
    #[sea_orm(unique)]
    pub access_id: String,
    pub method_type: String,
    pub key_hash: String,
    pub created_at: i64,
    pub description: String,
    pub delete_protection: bool,
    /// A JWT method's settings (JSON of `mayfly_domain::JwtSettings`); empty for API keys.
    pub settings: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::token::Entity")]
    Token,
}

impl Related<super::token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Token.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
