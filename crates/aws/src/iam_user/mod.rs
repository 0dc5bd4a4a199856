//! The `iam_user` algorithms: create a temporary IAM user with everything it needs, and tear
//! one down completely. Both are written against [`IamApi`](crate::IamApi), so the gateway's
//! tests run them on [`crate::fake::FakeIam`] and the integration tests on moto.
//!
//! Neither function touches the lease store: the caller owns the lease state machine
//! (`creating` -> `active`, rollback, reconciler). [`create_user_with_access`] therefore never
//! tears down on failure itself; it says whether a user may exist
//! ([`IssueFailure::user_created`]) and the caller calls [`teardown_user`].

mod create;
mod teardown;

pub use create::create_user_with_access;
pub use teardown::teardown_user;

use secrecy::SecretString;

use crate::{AccessKey, AwsError, TagPair};

/// Everything to set up for one temporary IAM user.
#[derive(Clone)]
pub struct UserPlan {
    pub name: String,
    /// IAM path, e.g. `/mayfly/`.
    pub path: String,
    pub permissions_boundary: Option<String>,
    /// Tags set atomically by `CreateUser`. They must identify this issuance (cluster,
    /// producer, lease id): they are how a retried `CreateUser` recognises its own user.
    pub tags: Vec<TagPair>,
    /// Managed policies to attach.
    pub policy_arns: Vec<String>,
    /// Inline policy `(name, JSON document)`.
    pub inline_policy: Option<(String, String)>,
    pub groups: Vec<String>,
    /// `Some` = console access: `CreateLoginProfile` with this password (no reset required:
    /// the user lives only as long as the lease).
    pub console_password: Option<SecretString>,
    /// Whether to create an access key.
    pub programmatic: bool,
}

impl UserPlan {
    /// The IAM write calls issuing this plan makes when nothing fails: `CreateUser`, one per
    /// policy, group and login profile, and `CreateAccessKey`.
    pub fn write_calls(&self) -> u32 {
        let count = 1
            + self.policy_arns.len()
            + usize::from(self.inline_policy.is_some())
            + self.groups.len()
            + usize::from(self.console_password.is_some())
            + usize::from(self.programmatic);
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

impl std::fmt::Debug for UserPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPlan")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("permissions_boundary", &self.permissions_boundary)
            .field("tags", &self.tags)
            .field("policy_arns", &self.policy_arns)
            .field(
                "inline_policy",
                &self.inline_policy.as_ref().map(|(name, _)| name),
            )
            .field("groups", &self.groups)
            .field(
                "console_password",
                &self.console_password.as_ref().map(|_| "***"),
            )
            .field("programmatic", &self.programmatic)
            .finish()
    }
}

/// A fully set-up user.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    /// The new key when the plan asked for programmatic access.
    pub access_key: Option<AccessKey>,
    /// The user's ARN as AWS reported it (it names the account that holds the user).
    pub arn: Option<String>,
}

/// The account id in an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`), if it has one.
pub fn account_of_arn(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())).then(|| account.to_owned())
}

/// Why issuing failed, and whether something must be torn down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct IssueFailure {
    /// The failed call's error (the first one, in plan order, when several failed at once).
    pub error: AwsError,
    /// `true` when our user exists **or may exist** (for example `CreateUser` timed out after
    /// the request was sent): the caller must run [`teardown_user`] (which succeeds on a
    /// missing user) before giving up the lease. `false` only when AWS definitely created
    /// nothing of ours, including when the name belongs to a user that is not ours.
    pub user_created: bool,
}

/// What a teardown found and removed, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeardownReport {
    /// Whether the user still existed when teardown began.
    pub user_existed: bool,
    /// What was removed, in order, e.g. `login-profile`, `access-key:AKIA...`,
    /// `managed-policy:arn:...`, `inline-policy:NAME`, `group:NAME`, `user:NAME`.
    pub removed: Vec<String>,
}

/// Whether `actual` carries every one of `ours` (and `ours` is not empty: an untagged plan
/// cannot prove ownership of anything).
pub(crate) fn has_our_tags(actual: &[TagPair], ours: &[TagPair]) -> bool {
    !ours.is_empty() && ours.iter().all(|tag| actual.contains(tag))
}

#[cfg(test)]
mod tests;
