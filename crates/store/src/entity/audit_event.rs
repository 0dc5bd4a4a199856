use sea_orm::entity::prelude::*;

/// One audited action. Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: i64,
    pub request_id: String,
    pub access_id: String,
    pub operation: String,
    pub item: String,
    pub outcome: String,
    pub status: i32,
    pub client_address: String,
    pub detail: String,
    /// The caller's login identity beyond `access_id` (JWT, Kubernetes, AWS); empty for API
    /// keys and anonymous requests.
    pub identity: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
