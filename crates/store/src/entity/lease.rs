use sea_orm::entity::prelude::*;

use crate::{LeaseId, ProducerId, TargetId};

/// Where a lease is in its life. Stored as text.
///
/// ```text
/// creating -> active -> revoking -> revoked
///    |                    |  ^
///    v                    v  |
///  aborted           revoke_failed (retried with backoff, never dropped)
/// active -> expired   (STS credentials: nothing to tear down)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum LeaseState {
    /// The row exists; AWS objects may be half made. Only the issuing request or, after the
    /// minimum age, the reconciler may move it on.
    #[sea_orm(string_value = "creating")]
    Creating,
    /// The credential was handed out and is live.
    #[sea_orm(string_value = "active")]
    Active,
    /// Claimed by one gateway (`claimed_by`) that is tearing it down.
    #[sea_orm(string_value = "revoking")]
    Revoking,
    /// Teardown failed; `last_error` says why and `next_attempt_at` when it is retried.
    #[sea_orm(string_value = "revoke_failed")]
    RevokeFailed,
    /// Torn down: nothing remains in AWS.
    #[sea_orm(string_value = "revoked")]
    Revoked,
    /// Issuing failed and what had been created was torn down; never handed out.
    #[sea_orm(string_value = "aborted")]
    Aborted,
    /// An STS credential past its expiry (AWS ended it; nothing to tear down).
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl LeaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseState::Creating => "creating",
            LeaseState::Active => "active",
            LeaseState::Revoking => "revoking",
            LeaseState::RevokeFailed => "revoke_failed",
            LeaseState::Revoked => "revoked",
            LeaseState::Aborted => "aborted",
            LeaseState::Expired => "expired",
        }
    }

    /// Live leases may still have something in AWS.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            LeaseState::Creating
                | LeaseState::Active
                | LeaseState::Revoking
                | LeaseState::RevokeFailed
        )
    }
}

/// How a lease's credential was issued, as the dynamic secret's `access-mode` spelled it.
/// Only `iam_user` leases hold something in AWS that teardown must remove; STS credentials
/// end by themselves. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum LeaseMode {
    #[sea_orm(string_value = "iam_user")]
    IamUser,
    #[sea_orm(string_value = "assume_role")]
    AssumeRole,
    /// The same mode under the spelling some Akeyless clients send.
    #[sea_orm(string_value = "assumed_role")]
    AssumedRole,
    #[sea_orm(string_value = "federation_token")]
    FederationToken,
    #[sea_orm(string_value = "session_token")]
    SessionToken,
}

impl LeaseMode {
    /// The stored (and shown) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseMode::IamUser => "iam_user",
            LeaseMode::AssumeRole => "assume_role",
            LeaseMode::AssumedRole => "assumed_role",
            LeaseMode::FederationToken => "federation_token",
            LeaseMode::SessionToken => "session_token",
        }
    }

    /// The mode of an access-mode spelling (`AccessMode::as_str`), if it is one.
    pub fn from_access_mode(s: &str) -> Option<LeaseMode> {
        use sea_orm::Iterable;
        LeaseMode::iter().find(|m| m.as_str() == s)
    }

    /// Whether teardown has an IAM user to remove.
    pub fn is_iam_user(self) -> bool {
        self == LeaseMode::IamUser
    }
}

/// One issued credential. The secret itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LeaseId,
    pub producer_id: ProducerId,
    pub producer_name: String,
    /// The target whose credentials created it (and must tear it down).
    pub target_id: TargetId,
    pub mode: LeaseMode,
    pub state: LeaseState,
    pub iam_user_name: Option<String>,
    pub iam_user_path: Option<String>,
    pub access_key_id: Option<String>,
    pub created_by: String,
    pub client_address: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub updated_at: i64,
    pub custom_ttl_min: Option<i64>,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// The AWS account that holds the lease's IAM user or session, from the ARN AWS returned
    /// when it was issued. `None` for leases issued before it was recorded (or when AWS named
    /// no account).
    pub aws_account: Option<String>,
    /// Who the credential was issued to beyond `created_by` (a JWT, Kubernetes or AWS login's
    /// identity); empty for API keys.
    pub created_by_identity: String,
    /// The claims of that login (JSON of `mayfly_domain::TokenClaims`), or empty.
    pub created_by_claims: String,
    /// The unique session name of a revocable STS credential; `None` for IAM users and for
    /// STS credentials issued without revocation.
    pub session_name: Option<String>,
    /// The role an `assume_role` credential is a session of.
    pub role_arn: Option<String>,
}

impl Model {
    /// Whether AWS can be told to refuse this STS credential before it expires.
    pub fn is_revocable_session(&self) -> bool {
        !self.mode.is_iam_user() && self.session_name.is_some()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
