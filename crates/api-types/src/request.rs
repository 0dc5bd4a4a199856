//! Request bodies, with the exact JSON names of the Akeyless SDK models.
//!
//! Every field is optional and unknown fields are ignored: the SDK sends every attribute that
//! is not None, defaults included, and the gateway decides what is required where it parses
//! these into domain types. Secret fields are [`Secret`], whose `Debug` prints `***`, so a
//! request can be logged while debugging without leaking what it carries.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::lenient;

/// A secret string from a request. Never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(format = Password)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Fields every authenticated request may carry. The SDK sends the token in the body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::TokenFields)]
pub struct TokenFields {
    #[schema(schema_with = lenient::opt_secret_schema)]
    pub token: Option<Secret>,
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "uid-token")]
    pub uid_token: Option<Secret>,
}

/// `POST /auth`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::Auth)]
pub struct Auth {
    #[serde(rename = "access-id")]
    pub access_id: Option<String>,
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "access-key")]
    pub access_key: Option<Secret>,
    #[serde(rename = "access-type")]
    pub access_type: Option<String>,
    /// The workload's JWT for `access-type` `jwt` or `oidc` (GitHub's OIDC token, ...).
    #[schema(schema_with = lenient::opt_secret_schema)]
    pub jwt: Option<Secret>,
    /// The pod's service-account token for `access-type` `k8s` (base64, as the Akeyless
    /// tools send it, or raw).
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "k8s-service-account-token")]
    pub k8s_service_account_token: Option<Secret>,
    #[serde(rename = "k8s-auth-config-name")]
    pub k8s_auth_config_name: Option<String>,
    /// A signed `sts:GetCallerIdentity` for `access-type` `aws_iam` (base64 JSON, as the
    /// `akeyless-cloud-id` package makes it).
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "cloud-id")]
    pub cloud_id: Option<Secret>,
}

/// `create-aws-target`, `target-create-aws`, `update-aws-target`, `target-update-aws`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::AwsTarget)]
pub struct AwsTarget {
    pub name: Option<String>,
    #[serde(rename = "new-name")]
    pub new_name: Option<String>,
    #[serde(rename = "access-key-id")]
    pub access_key_id: Option<String>,
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "access-key")]
    pub access_key: Option<Secret>,
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "session-token")]
    pub session_token: Option<Secret>,
    pub region: Option<String>,
    pub description: Option<String>,
    /// The deprecated spelling of `description` on the old endpoints.
    pub comment: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_bool")]
    pub delete_protection: Option<bool>,
    /// Mayfly extension: IAM endpoint, AWS's own (e.g. https://iam.amazonaws.com) or an origin the gateway's
    /// MAYFLY_ALLOWED_ENDPOINTS allows (an AWS-compatible service, a local emulator). Setting
    /// or changing it needs the read capability on the target.
    #[serde(rename = "iam-endpoint")]
    pub iam_endpoint: Option<String>,
    /// Mayfly extension: STS endpoint, AWS's own (e.g. https://sts.us-east-1.amazonaws.com) or an origin the gateway's
    /// MAYFLY_ALLOWED_ENDPOINTS allows (an AWS-compatible service, a local emulator). Setting
    /// or changing it needs the read capability on the target.
    #[serde(rename = "sts-endpoint")]
    pub sts_endpoint: Option<String>,
    /// Mayfly extension: rotate the target's access key every this many days (0 = off).
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(
        rename = "rotation-interval-days",
        deserialize_with = "lenient::opt_i64"
    )]
    pub rotation_interval_days: Option<i64>,
    /// Use the gateway's own AWS identity (IRSA, an instance profile, ...) instead of a stored
    /// key; `access-key-id` and `access-key` are then left out (or empty). Only for target
    /// names the operator lists in MAYFLY_CLOUD_IDENTITY_TARGETS.
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(
        rename = "use-gw-cloud-identity",
        deserialize_with = "lenient::opt_bool"
    )]
    pub use_gw_cloud_identity: Option<bool>,
    /// A role to assume with the base credentials before use (cross-account access); on
    /// update, an empty value removes it.
    #[serde(rename = "role-arn")]
    pub role_arn: Option<String>,
    /// Have the gateway generate an external id for `role-arn` (shown by get-target-details,
    /// for the role's trust policy).
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(
        rename = "generate-external-id",
        deserialize_with = "lenient::opt_bool"
    )]
    pub generate_external_id: Option<bool>,
    /// Mayfly extension: the external id to send with `role-arn`.
    #[serde(rename = "external-id")]
    pub external_id: Option<String>,
    /// Mayfly extension: the role session name; `{target}` is the target's name
    /// (default `mayfly-{target}`).
    #[serde(rename = "role-session-name")]
    pub role_session_name: Option<String>,
    /// Mayfly extension: the role session's length in seconds (900 to 43200, default 3600).
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(
        rename = "role-session-duration",
        deserialize_with = "lenient::opt_i64"
    )]
    pub role_session_duration: Option<i64>,
}

/// Requests that name one item or target: get, get-details, producer get/delete.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::Named)]
pub struct Named {
    pub name: Option<String>,
}

/// `delete-target`, `target-delete`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::DeleteTarget)]
pub struct DeleteTarget {
    pub name: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "force-deletion", deserialize_with = "lenient::opt_bool")]
    pub force_deletion: Option<bool>,
}

/// `list-targets`, `target-list`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::ListTargets)]
pub struct ListTargets {
    pub filter: Option<String>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "type", deserialize_with = "lenient::opt_list")]
    pub target_type: Option<Vec<String>>,
    #[serde(rename = "pagination-token")]
    pub pagination_token: Option<String>,
}

/// `gateway-create-producer-aws`, `dynamic-secret-create-aws` and their update twins.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::AwsProducer)]
pub struct AwsProducer {
    pub name: Option<String>,
    #[serde(rename = "new-name")]
    pub new_name: Option<String>,
    #[serde(rename = "access-mode")]
    pub access_mode: Option<String>,
    #[serde(rename = "target-name")]
    pub target_name: Option<String>,
    #[serde(rename = "aws-access-key-id")]
    pub aws_access_key_id: Option<String>,
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "aws-access-secret-key")]
    pub aws_access_secret_key: Option<Secret>,
    pub region: Option<String>,
    #[serde(rename = "aws-user-policies")]
    pub aws_user_policies: Option<String>,
    #[serde(rename = "aws-user-groups")]
    pub aws_user_groups: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(
        rename = "aws-user-programmatic-access",
        deserialize_with = "lenient::opt_bool"
    )]
    pub aws_user_programmatic_access: Option<bool>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(
        rename = "aws-user-console-access",
        deserialize_with = "lenient::opt_bool"
    )]
    pub aws_user_console_access: Option<bool>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "password-length", deserialize_with = "lenient::opt_string")]
    pub password_length: Option<String>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(
        rename = "use-capital-letters",
        deserialize_with = "lenient::opt_string"
    )]
    pub use_capital_letters: Option<String>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "use-lower-letters", deserialize_with = "lenient::opt_string")]
    pub use_lower_letters: Option<String>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "use-numbers", deserialize_with = "lenient::opt_string")]
    pub use_numbers: Option<String>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(
        rename = "use-special-characters",
        deserialize_with = "lenient::opt_string"
    )]
    pub use_special_characters: Option<String>,
    #[serde(rename = "aws-role-arns")]
    pub aws_role_arns: Option<String>,
    #[serde(rename = "aws-external-id")]
    pub aws_external_id: Option<String>,
    #[serde(rename = "session-tags")]
    pub session_tags: Option<String>,
    #[serde(rename = "transitive-tag-keys")]
    pub transitive_tag_keys: Option<String>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "user-ttl", deserialize_with = "lenient::opt_string")]
    pub user_ttl: Option<String>,
    #[serde(rename = "custom-username-template")]
    pub custom_username_template: Option<String>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(deserialize_with = "lenient::opt_list")]
    pub tags: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_string")]
    pub delete_protection: Option<String>,
    pub description: Option<String>,
    /// Mayfly extension: inline policy JSON (user inline policy or STS session policy).
    #[serde(rename = "aws-policy-document")]
    pub aws_policy_document: Option<String>,
    /// Mayfly extension: permissions boundary policy ARN for temporary users.
    #[serde(rename = "aws-permissions-boundary")]
    pub aws_permissions_boundary: Option<String>,
    /// Mayfly extension: IAM path for temporary users.
    #[serde(rename = "aws-user-path")]
    pub aws_user_path: Option<String>,
    /// Mayfly extension: `k=v,...` tags put on temporary users.
    #[serde(rename = "aws-user-tags")]
    pub aws_user_tags: Option<String>,
    /// Mayfly extension: the longest TTL a tmp-creds update may extend to.
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "max-ttl", deserialize_with = "lenient::opt_string")]
    pub max_ttl: Option<String>,
    /// Mayfly extension (iam_user): before answering, wait until the new key works (IAM is
    /// eventually consistent): `true` (up to 30 s), `false`, or the longest wait (`45s`, at
    /// most 120 s).
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "wait-until-usable", deserialize_with = "lenient::opt_string")]
    pub wait_until_usable: Option<String>,
    /// Mayfly extension (assume_role, federation_token): session tags made from who asked,
    /// `Key={template},...`; templates use `{access_id}`, `{auth_method}`, `{identity}` and
    /// `{claim:NAME}` (a JWT login's claims), e.g. `Repo={claim:repository},Who={access_id}`.
    #[serde(rename = "caller-session-tags")]
    pub caller_session_tags: Option<String>,
    /// Mayfly extension (assume_role): the session's `SourceIdentity`, a template such as
    /// `{claim:sub}` or `{access_id}`.
    #[serde(rename = "source-identity")]
    pub source_identity: Option<String>,
    /// Mayfly extension: how many of this dynamic secret's credentials may be live at once
    /// (429 with Retry-After beyond).
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(
        rename = "max-live-credentials",
        deserialize_with = "lenient::opt_string"
    )]
    pub max_live_credentials: Option<String>,
    /// Mayfly extension: how many credentials per period, `30/m`, `5/s`, `200/h`.
    #[serde(rename = "max-issue-rate")]
    pub max_issue_rate: Option<String>,
    /// Mayfly extension (STS modes): a caller asking again within this window (`5m`, at most
    /// half of user-ttl) gets the credential it got before.
    #[serde(rename = "reuse-window")]
    pub reuse_window: Option<String>,
    /// Mayfly extension (STS modes): issue credentials that can be revoked before they expire
    /// (a unique session name each; revoking one puts a deny on the role or the issuing IAM
    /// user). `true` (the default) or `false`.
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(
        rename = "session-revocation",
        deserialize_with = "lenient::opt_string"
    )]
    pub session_revocation: Option<String>,
    /// Rotate the inline admin credentials' access key on a schedule (Akeyless field).
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(
        rename = "enable-admin-rotation",
        deserialize_with = "lenient::opt_bool"
    )]
    pub enable_admin_rotation: Option<bool>,
    /// Days between admin key rotations (Akeyless field).
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(
        rename = "admin-rotation-interval-days",
        deserialize_with = "lenient::opt_i64"
    )]
    pub admin_rotation_interval_days: Option<i64>,
}

/// `list-items`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::ListItems)]
pub struct ListItems {
    pub path: Option<String>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "type", deserialize_with = "lenient::opt_list")]
    pub item_type: Option<Vec<String>>,
    pub filter: Option<String>,
    pub tag: Option<String>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "sub-types", deserialize_with = "lenient::opt_list")]
    pub sub_types: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "minimal-view", deserialize_with = "lenient::opt_bool")]
    pub minimal_view: Option<bool>,
    #[serde(rename = "pagination-token")]
    pub pagination_token: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "current-folder", deserialize_with = "lenient::opt_bool")]
    pub current_folder: Option<bool>,
}

/// `get-dynamic-secret-value`, `dynamic-secret-get-value`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::GetDynamicSecretValue)]
pub struct GetDynamicSecretValue {
    pub name: Option<String>,
    /// Seconds; the SDK always sends 15.
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub timeout: Option<i64>,
    pub target: Option<String>,
    pub host: Option<String>,
    /// `key=value` strings or JSON objects: `role_arn=...`, `ttl=15m`.
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(deserialize_with = "lenient::opt_list")]
    pub args: Option<Vec<String>>,
}

/// `gateway-revoke-producer-tmp-creds`, `dynamic-secret-tmp-creds-delete`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::RevokeTmpCreds)]
pub struct RevokeTmpCreds {
    pub name: Option<String>,
    #[serde(rename = "tmp-creds-id")]
    pub tmp_creds_id: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "revoke-all", deserialize_with = "lenient::opt_bool")]
    pub revoke_all: Option<bool>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "soft-delete", deserialize_with = "lenient::opt_bool")]
    pub soft_delete: Option<bool>,
    pub host: Option<String>,
}

/// `gateway-update-producer-tmp-creds`, `dynamic-secret-tmp-creds-update`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = request::UpdateTmpCreds)]
pub struct UpdateTmpCreds {
    pub name: Option<String>,
    #[serde(rename = "tmp-creds-id")]
    pub tmp_creds_id: Option<String>,
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "new-ttl-min", deserialize_with = "lenient::opt_i64")]
    pub new_ttl_min: Option<i64>,
    pub host: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_sdk_producer_body_parses_and_ignores_unknown_fields() {
        let body = r#"{"access-mode":"iam_user","admin-rotation-interval-days":0,"aws-user-console-access":false,"aws-user-policies":"arn:aws:iam::aws:policy/ReadOnlyAccess","aws-user-programmatic-access":true,"delete_protection":"false","enable-admin-rotation":false,"json":false,"name":"/p/ds","region":"us-east-2","secure-access-web":true,"secure-access-web-browsing":false,"secure-access-web-proxy":false,"tags":["a"],"target-name":"/p/t","token":"t-1","user-ttl":"60m"}"#;
        let p: AwsProducer = serde_json::from_str(body).unwrap();
        assert_eq!(p.access_mode.as_deref(), Some("iam_user"));
        assert_eq!(p.aws_user_programmatic_access, Some(true));
        assert_eq!(p.delete_protection.as_deref(), Some("false"));
        assert_eq!(p.tags, Some(vec!["a".to_owned()]));
        let t: TokenFields = serde_json::from_str(body).unwrap();
        assert_eq!(t.token.unwrap().expose(), "t-1");
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let a: Auth =
            serde_json::from_str(r#"{"access-id":"p-1","access-key":"hunter2"}"#).unwrap();
        let shown = format!("{a:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }
}
