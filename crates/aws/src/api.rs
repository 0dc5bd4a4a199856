//! The IAM and STS calls Mayfly makes, as two object-safe traits ([`IamApi`], [`StsApi`]) and
//! the plain data they take and return.
//!
//! Everything above this crate (the issuance service, the revoker, the reconciler) is written
//! against these traits, so it runs unchanged on the real SDK ([`crate::AwsFactory`]) and on the
//! in-memory fakes ([`crate::fake`]). Each method is **one** logical AWS call without retries
//! (list methods follow `Marker`/`IsTruncated` to the last page); retrying is the caller's
//! decision ([`crate::retry`]), because only the caller knows its deadline.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use tokio::time::Instant;

use crate::AwsError;

/// A `(key, value)` tag as IAM and STS take it.
pub type TagPair = (String, String);

/// Input of `CreateUser`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateUser {
    pub name: String,
    /// IAM path such as `/mayfly/`; must start and end with `/`.
    pub path: String,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<TagPair>,
}

/// An IAM user as `GetUser` / `ListUsers` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUser {
    pub name: String,
    pub path: String,
    pub arn: String,
    /// Complete from [`IamApi::get_user`]; empty from [`IamApi::list_users`], which does not
    /// return tags (use [`IamApi::list_user_tags`]).
    pub tags: Vec<TagPair>,
    pub created: Option<DateTime<Utc>>,
}

/// A new access key. The secret exists only here: AWS never shows it again.
#[derive(Clone)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .finish()
    }
}

/// The IAM calls Mayfly makes. One method per AWS action (see [`crate::ops`] for the names).
///
/// Each method makes one attempt (pagination aside) and maps failures to [`AwsError`].
#[async_trait]
pub trait IamApi: Send + Sync {
    /// Reserves `writes` IAM write calls for the operation about to start (in the current
    /// task, within a [`crate::governor::reservation_scope`]), so that under throttling an
    /// operation that cannot make all its writes by `deadline` is refused before its first
    /// one ([`AwsError::Overloaded`]) instead of failing half-way, when undoing it costs
    /// writes too. Only the throttling-aware client ([`crate::governor::GovernedIam`]) paces;
    /// every other client has nothing to reserve.
    async fn reserve_writes(&self, writes: u32, deadline: Instant) -> Result<(), AwsError> {
        let _ = (writes, deadline);
        Ok(())
    }
    /// Returns the new user's ARN (which names its account) when AWS reports it.
    async fn create_user(&self, input: &CreateUser) -> Result<Option<String>, AwsError>;
    /// `None` when the user does not exist. Includes the user's tags.
    async fn get_user(&self, name: &str) -> Result<Option<IamUser>, AwsError>;
    /// All users under `path_prefix` (every page). Tags are not included.
    async fn list_users(&self, path_prefix: &str) -> Result<Vec<IamUser>, AwsError>;
    async fn list_user_tags(&self, name: &str) -> Result<Vec<TagPair>, AwsError>;
    async fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError>;
    async fn put_user_policy(
        &self,
        user: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), AwsError>;
    async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), AwsError>;
    async fn create_login_profile(
        &self,
        user: &str,
        password: &SecretString,
        reset_required: bool,
    ) -> Result<(), AwsError>;
    async fn create_access_key(&self, user: &str) -> Result<AccessKey, AwsError>;

    async fn delete_login_profile(&self, user: &str) -> Result<(), AwsError>;
    /// Access key ids of the user.
    async fn list_access_keys(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn delete_access_key(&self, user: &str, access_key_id: &str) -> Result<(), AwsError>;
    /// Serial numbers (ARNs for virtual devices) of the user's MFA devices.
    async fn list_mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> Result<(), AwsError>;
    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<(), AwsError>;
    /// Certificate ids.
    async fn list_signing_certificates(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn delete_signing_certificate(
        &self,
        user: &str,
        certificate_id: &str,
    ) -> Result<(), AwsError>;
    /// SSH public key ids.
    async fn list_ssh_public_keys(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn delete_ssh_public_key(&self, user: &str, key_id: &str) -> Result<(), AwsError>;
    /// Service-specific credential ids.
    async fn list_service_specific_credentials(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn delete_service_specific_credential(
        &self,
        user: &str,
        credential_id: &str,
    ) -> Result<(), AwsError>;
    /// ARNs of the managed policies attached to the user.
    async fn list_attached_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError>;
    /// Names of the user's inline policies.
    async fn list_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> Result<(), AwsError>;
    /// A user's inline policy document (decoded JSON); `None` when it has none by that name.
    async fn get_user_policy(
        &self,
        user: &str,
        policy_name: &str,
    ) -> Result<Option<String>, AwsError>;
    /// Names of the groups the user belongs to.
    async fn list_groups_for_user(&self, user: &str) -> Result<Vec<String>, AwsError>;
    async fn remove_user_from_group(&self, user: &str, group: &str) -> Result<(), AwsError>;
    async fn delete_user(&self, user: &str) -> Result<(), AwsError>;
    /// A role's inline policy document (decoded JSON); `None` when it has none by that name.
    async fn get_role_policy(
        &self,
        role: &str,
        policy_name: &str,
    ) -> Result<Option<String>, AwsError>;
    async fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), AwsError>;
    /// Deleting a policy that is not there is not an error.
    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), AwsError>;
}

/// Input of `AssumeRole`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssumeRole {
    pub role_arn: String,
    /// At most 64 characters of `[\w+=,.@-]`.
    pub session_name: String,
    /// 900 s up to the role's maximum session duration (at most 43 200 s).
    pub duration_secs: i32,
    pub external_id: Option<String>,
    /// Session policy (JSON).
    pub policy: Option<String>,
    /// Managed session policy ARNs.
    pub policy_arns: Vec<String>,
    pub tags: Vec<TagPair>,
    pub transitive_tag_keys: Vec<String>,
    /// `SourceIdentity`: who asked, kept by AWS through role chains (CloudTrail,
    /// `sts:SourceIdentity`).
    pub source_identity: Option<String>,
}

/// Input of `GetFederationToken`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FederationToken {
    /// At most 32 characters of `[\w+=,.@-]`.
    pub name: String,
    /// 900 s to 129 600 s (36 hours).
    pub duration_secs: i32,
    pub policy: Option<String>,
    pub policy_arns: Vec<String>,
    pub tags: Vec<TagPair>,
}

/// Temporary credentials from STS.
#[derive(Clone)]
pub struct StsCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
    pub expiration: DateTime<Utc>,
    /// The session's ARN when AWS returns one (`AssumedRoleUser` / `FederatedUser`): it names
    /// the account that holds the session. `None` for `GetSessionToken`.
    pub arn: Option<String>,
}

impl std::fmt::Debug for StsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &"***")
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Who the credentials belong to (`GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// The STS calls Mayfly makes. One attempt each; no retries here.
#[async_trait]
pub trait StsApi: Send + Sync {
    async fn assume_role(&self, input: &AssumeRole) -> Result<StsCredentials, AwsError>;
    async fn get_federation_token(
        &self,
        input: &FederationToken,
    ) -> Result<StsCredentials, AwsError>;
    async fn get_session_token(&self, duration_secs: i32) -> Result<StsCredentials, AwsError>;
    async fn get_caller_identity(&self) -> Result<CallerIdentity, AwsError>;
}
