//! The checked producer definition.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::arn::{PolicyArn, RoleArn};
use crate::iam::{ExternalId, GroupName, PolicyDocument, TagList, TransitiveTagKeys, UserPath};
use crate::mode::AccessMode;
use crate::password::PasswordPolicy;
use crate::ttl::Ttl;
use crate::username::UsernameTemplate;

/// At most this many managed policies (IAM's default per-user quota, and AssumeRole's and
/// GetFederationToken's limit on session policy ARNs).
pub const MAX_POLICIES: usize = 10;
/// IAM's limit on groups per user is higher, but ten keeps a credential's reach reviewable.
pub const MAX_GROUPS: usize = 10;
/// At most this many item tags.
pub const MAX_ITEM_TAGS: usize = 50;
/// The longest item tag, in characters.
pub const MAX_ITEM_TAG_LEN: usize = 256;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 1024;

static DEFAULT_TEMPLATE: LazyLock<UsernameTemplate> = LazyLock::new(UsernameTemplate::default);

/// A producer definition that satisfies every rule of [`ProducerSpec::parse`].
///
/// The gateway stores it as JSON. Reading it back checks each field again through its
/// type's parser; rules across fields (for example that `assume_role` has a role ARN) were
/// checked when it was created and are trusted from storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerSpec {
    pub(super) mode: AccessMode,
    pub(super) ttl: Ttl,
    #[serde(default)]
    pub(super) max_ttl: Option<Ttl>,
    #[serde(default)]
    pub(super) policies: Vec<PolicyArn>,
    #[serde(default)]
    pub(super) groups: Vec<GroupName>,
    #[serde(default)]
    pub(super) role_arns: Vec<RoleArn>,
    #[serde(default)]
    pub(super) external_id: Option<ExternalId>,
    #[serde(default)]
    pub(super) session_tags: TagList,
    #[serde(default)]
    pub(super) transitive_tag_keys: TransitiveTagKeys,
    pub(super) console_access: bool,
    pub(super) programmatic_access: bool,
    #[serde(default)]
    pub(super) password_policy: PasswordPolicy,
    #[serde(default)]
    pub(super) username_template: Option<UsernameTemplate>,
    #[serde(default)]
    pub(super) policy_document: Option<PolicyDocument>,
    #[serde(default)]
    pub(super) permissions_boundary: Option<PolicyArn>,
    #[serde(default)]
    pub(super) user_path: Option<UserPath>,
    #[serde(default)]
    pub(super) user_tags: TagList,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) delete_protection: bool,
    #[serde(default)]
    pub(super) description: Option<String>,
    /// The longest wait, in seconds, for a new `iam_user` key to work before it is handed out.
    #[serde(default)]
    pub(super) wait_until_usable_secs: Option<u32>,
    /// Session tags made from the caller (`caller-session-tags`), stored as given.
    #[serde(default)]
    pub(super) caller_session_tags: Option<String>,
    /// The `SourceIdentity` template (`source-identity`).
    #[serde(default)]
    pub(super) source_identity: Option<String>,
    #[serde(default)]
    pub(super) max_live_credentials: Option<u32>,
    #[serde(default)]
    pub(super) max_issue_rate: Option<IssueRate>,
    #[serde(default)]
    pub(super) reuse_window_secs: Option<u32>,
    /// STS credentials get unique session names and can be revoked (`session-revocation`).
    /// Stored producers from before it existed read as off: their credentials' session names
    /// were not unique.
    #[serde(default)]
    pub(super) session_revocation: bool,
}

/// At most `count` credentials per `per_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRate {
    pub count: u32,
    pub per_secs: u32,
}

impl IssueRate {
    /// `30/m`, `5/s`, `200/h` (also `/min`, `/hour`).
    pub fn parse(raw: &str) -> Result<IssueRate, String> {
        let bad = || format!("{raw:?} is not a rate such as 30/m, 5/s or 200/h");
        let (n, unit) = raw.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().ok().filter(|c| *c > 0).ok_or_else(bad)?;
        let per_secs = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            _ => return Err(bad()),
        };
        Ok(IssueRate { count, per_secs })
    }

    pub fn to_wire_string(self) -> String {
        let unit = match self.per_secs {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        format!("{}/{unit}", self.count)
    }
}

/// The wait `wait-until-usable: true` means.
pub const DEFAULT_USABLE_WAIT_SECS: u32 = 30;
/// The longest wait `wait-until-usable` may ask for: a get-value request waits that long.
pub const MAX_USABLE_WAIT_SECS: u32 = 120;

impl ProducerSpec {
    /// How long to wait at most for a new key to work before handing it out; `None`: hand it
    /// out at once (IAM is eventually consistent: a new key may fail for some seconds).
    pub fn wait_until_usable(&self) -> Option<std::time::Duration> {
        self.wait_until_usable_secs
            .map(|s| std::time::Duration::from_secs(u64::from(s)))
    }

    /// Whether its STS credentials are issued revocable: a unique session name per credential,
    /// and revoking one puts a deny on the role (or the issuing user).
    pub fn session_revocation(&self) -> bool {
        self.session_revocation
    }

    /// How many of its credentials may be live at once.
    pub fn max_live_credentials(&self) -> Option<u32> {
        self.max_live_credentials
    }

    /// How many credentials it may issue per period.
    pub fn max_issue_rate(&self) -> Option<IssueRate> {
        self.max_issue_rate
    }

    /// STS modes: how long a caller gets back the credential it got before.
    pub fn reuse_window(&self) -> Option<std::time::Duration> {
        self.reuse_window_secs
            .map(|s| std::time::Duration::from_secs(u64::from(s)))
    }

    /// Session tags made from the caller; empty when none.
    pub fn caller_session_tags(&self) -> crate::caller_attrs::CallerTags {
        self.caller_session_tags
            .as_deref()
            .and_then(|t| crate::caller_attrs::CallerTags::parse(t).ok())
            .unwrap_or_default()
    }

    /// The `SourceIdentity` template, if any.
    pub fn source_identity(&self) -> Option<crate::caller_attrs::CallerTemplate> {
        self.source_identity
            .as_deref()
            .and_then(|t| crate::caller_attrs::CallerTemplate::parse(t).ok())
    }

    pub fn mode(&self) -> AccessMode {
        self.mode
    }

    /// The default lifetime of a credential (`user-ttl`).
    pub fn ttl(&self) -> &Ttl {
        &self.ttl
    }

    /// The longest lifetime a caller may ask for (`max-ttl`); `None` means [`ttl`](Self::ttl).
    pub fn max_ttl(&self) -> Option<&Ttl> {
        self.max_ttl.as_ref()
    }

    /// Managed policies: attached to the IAM user, or passed as `PolicyArns` (session
    /// policies) to AssumeRole and GetFederationToken.
    pub fn policies(&self) -> &[PolicyArn] {
        &self.policies
    }

    pub fn groups(&self) -> &[GroupName] {
        &self.groups
    }

    pub fn role_arns(&self) -> &[RoleArn] {
        &self.role_arns
    }

    pub fn external_id(&self) -> Option<&ExternalId> {
        self.external_id.as_ref()
    }

    pub fn session_tags(&self) -> &TagList {
        &self.session_tags
    }

    pub fn transitive_tag_keys(&self) -> &TransitiveTagKeys {
        &self.transitive_tag_keys
    }

    pub fn console_access(&self) -> bool {
        self.console_access
    }

    /// As sent (default `true`). Meaningful for `iam_user` only: STS credentials are always
    /// access keys.
    pub fn programmatic_access(&self) -> bool {
        self.programmatic_access
    }

    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.password_policy
    }

    /// The template to render names with: the producer's own, or the default.
    pub fn username_template(&self) -> &UsernameTemplate {
        self.username_template.as_ref().unwrap_or(&DEFAULT_TEMPLATE)
    }

    /// The producer's own template, if it set one (for echoing `username_template`).
    pub fn custom_username_template(&self) -> Option<&UsernameTemplate> {
        self.username_template.as_ref()
    }

    /// Inline policy: put on the IAM user, or passed as the session `Policy` to STS.
    pub fn policy_document(&self) -> Option<&PolicyDocument> {
        self.policy_document.as_ref()
    }

    pub fn permissions_boundary(&self) -> Option<&PolicyArn> {
        self.permissions_boundary.as_ref()
    }

    pub fn user_path(&self) -> Option<&UserPath> {
        self.user_path.as_ref()
    }

    pub fn user_tags(&self) -> &TagList {
        &self.user_tags
    }

    /// Item tags (`tags`), trimmed, without duplicates, in request order.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    pub fn delete_protection(&self) -> bool {
        self.delete_protection
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Whether `other` grants exactly what `self` grants: equal in every field except the
    /// bookkeeping ones (description, item tags, delete protection, the usable wait). Everything else decides
    /// what an issued credential can do, how long it lives, or what it looks like in AWS
    /// (mode, policies, policy document, groups, role ARNs, external id, session tags and
    /// transitive keys, permissions boundary, user path, IAM user tags, TTL and max TTL,
    /// console and programmatic access, password policy, username template), so changing it
    /// needs the right to build producers on the target.
    pub fn grants_same_as(&self, other: &ProducerSpec) -> bool {
        let grant = |s: &ProducerSpec| ProducerSpec {
            tags: Vec::new(),
            delete_protection: false,
            description: None,
            // How long the gateway waits before answering, and the guardrails, grant nothing.
            wait_until_usable_secs: None,
            max_live_credentials: None,
            max_issue_rate: None,
            reuse_window_secs: None,
            // Revocability only lets the gateway take a credential back sooner.
            session_revocation: false,
            ..s.clone()
        };
        grant(self) == grant(other)
    }

    /// The lifetime to issue a credential with, given what the caller asked for (if anything).
    ///
    /// A request may shorten the lifetime down to the mode's minimum, and lengthen it up to
    /// `max-ttl` (or `user-ttl` when there is no `max-ttl`), but no further.
    pub fn effective_ttl(&self, requested: Option<Ttl>) -> Result<Ttl, String> {
        let Some(requested) = requested else {
            return Ok(self.ttl.clone());
        };
        let (min, _) = self.mode.ttl_bounds();
        if requested.as_secs() < min {
            return Err(format!(
                "ttl {} is shorter than {} allows; use at least {}",
                requested.original(),
                self.mode,
                Ttl::from_secs(min)
            ));
        }
        let (ceiling, source) = match &self.max_ttl {
            Some(max) => (max, "max-ttl"),
            None => (&self.ttl, "user-ttl"),
        };
        if requested > *ceiling {
            return Err(format!(
                "ttl {} is longer than this producer allows; use at most {} (its {source})",
                requested.original(),
                ceiling.original()
            ));
        }
        Ok(requested)
    }
}
