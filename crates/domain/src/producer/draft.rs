//! The producer request values as they arrived.

/// A producer create/update request's values, before any checking.
///
/// The gateway fills this from its DTO. Everything is optional, and an empty (or blank)
/// string counts as unset: the official SDK sends every attribute that is not `None`, and
/// other clients send `""` for "nothing". The field comments give the wire names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerDraft {
    /// `name`
    pub name: Option<String>,
    /// `access-mode`; unset means `iam_user`.
    pub access_mode: Option<String>,
    /// `user-ttl`; unset means `60m`.
    pub user_ttl: Option<String>,
    /// `max-ttl` (Mayfly): the longest TTL a caller may ask for per request.
    pub max_ttl: Option<String>,
    /// `aws-user-policies`, comma-separated policy ARNs.
    pub user_policies: Option<String>,
    /// `aws-user-groups`, comma-separated group names.
    pub user_groups: Option<String>,
    /// `aws-role-arns`, comma-separated role ARNs.
    pub role_arns: Option<String>,
    /// `aws-external-id`
    pub external_id: Option<String>,
    /// `session-tags`, `k=v,k2=v2`.
    pub session_tags: Option<String>,
    /// `transitive-tag-keys`, space-separated.
    pub transitive_tag_keys: Option<String>,
    /// `aws-user-console-access` (SDK default `false`).
    pub console_access: Option<bool>,
    /// `aws-user-programmatic-access` (SDK default `true`).
    pub programmatic_access: Option<bool>,
    /// `password-length`
    pub password_length: Option<String>,
    /// `use-capital-letters`, `"true"`/`"false"`.
    pub use_capital_letters: Option<String>,
    /// `use-lower-letters`
    pub use_lower_letters: Option<String>,
    /// `use-numbers`
    pub use_numbers: Option<String>,
    /// `use-special-characters`
    pub use_special_characters: Option<String>,
    /// `custom-username-template`
    pub username_template: Option<String>,
    /// `aws-policy-document` (Mayfly): inline policy JSON.
    pub policy_document: Option<String>,
    /// `aws-permissions-boundary` (Mayfly): a policy ARN.
    pub permissions_boundary: Option<String>,
    /// `aws-user-path` (Mayfly)
    pub user_path: Option<String>,
    /// `aws-user-tags` (Mayfly), `k=v,k2=v2`.
    pub user_tags: Option<String>,
    /// `tags`: item tags.
    pub tags: Option<Vec<String>>,
    /// `delete_protection`, `"true"`/`"false"`.
    pub delete_protection: Option<String>,
    /// `description`
    pub description: Option<String>,
    /// `wait-until-usable` (Mayfly): `true` (30 s), `false`, or the longest wait (`45s`).
    pub wait_until_usable: Option<String>,
    /// `caller-session-tags` (Mayfly): `Key={claim:repository},Who={access_id}`.
    pub caller_session_tags: Option<String>,
    /// `source-identity` (Mayfly): a template such as `{claim:sub}`.
    pub source_identity: Option<String>,
    /// `max-live-credentials` (Mayfly): how many of its credentials may be live at once.
    pub max_live_credentials: Option<String>,
    /// `max-issue-rate` (Mayfly): `30/m`, `5/s`, `200/h`.
    pub max_issue_rate: Option<String>,
    /// `reuse-window` (Mayfly, STS modes): hand a caller the credential it got less than this
    /// long ago.
    pub reuse_window: Option<String>,
    /// `session-revocation` (Mayfly, STS modes): `true` (the default) or `false`.
    pub session_revocation: Option<String>,
}
