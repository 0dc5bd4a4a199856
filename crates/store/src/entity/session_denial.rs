use sea_orm::entity::prelude::*;

use crate::TargetId;

/// The deny statements Mayfly keeps on one role or IAM user (`principal_arn`) of a target,
/// in the inline policy `mayfly-revoked-sessions`; see `crate::session_denials`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_denials")]
pub struct Model {
    /// `<target id>:<principal arn>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub target_id: TargetId,
    pub principal_arn: String,
    /// Mayfly's own statements, as a policy document; empty: none yet.
    pub statements: String,
    /// When the first statement stops mattering (Unix millis); `None`: nothing to prune.
    pub next_prune_at: Option<i64>,
    /// The gateway changing the policy right now (empty: nobody), until `lock_until`.
    pub lock_owner: String,
    pub lock_until: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
