use sea_orm::entity::prelude::*;

use crate::{AuthMethodId, RoleId};

/// An auth method holding a role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_assocs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub role_id: RoleId,
    pub auth_method_id: AuthMethodId,
    pub created_at: i64,
    /// Claim rules (JSON of `mayfly_domain::SubClaims`' claims); empty: every token.
    pub sub_claims: String,
    pub case_sensitive: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
