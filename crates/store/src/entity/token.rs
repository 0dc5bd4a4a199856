use sea_orm::entity::prelude::*;

use crate::AuthMethodId;

/// A session token from `/auth`, stored as its hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub auth_method_id: AuthMethodId,
    pub access_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Who logged in: the method's unique-identifier claim; empty for API keys.
    pub identity: String,
    /// The claims the login kept for matching associations (JSON of
    /// `mayfly_domain::TokenClaims`); empty for API keys.
    pub claims: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::auth_method::Entity",
        from = "Column::AuthMethodId",
        to = "super::auth_method::Column::Id",
        on_delete = "Cascade"
    )]
    AuthMethod,
}

impl Related<super::auth_method::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuthMethod.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
