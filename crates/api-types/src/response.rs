//! Response bodies, with the JSON names the Akeyless SDK models read.
//!
//! Dates are RFC 3339 strings (the SDK parses them as datetimes). Booleans are JSON booleans:
//! the SDK would read the string `"false"` as true.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// `/auth`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthOutput {
    pub token: String,
    pub expiration: String,
    pub creds: SystemAccessCreds,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SystemAccessCreds {
    pub access_id: String,
    pub token: String,
    /// Unix seconds.
    pub expiry: i64,
}

/// `create-aws-target`, `target-create-aws`, `target-update-aws`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetId {
    pub target_id: i64,
}

/// `update-aws-target-details`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Updated {
    pub updated: bool,
}

/// An empty object: what the SDK's `object` responses and Mayfly's void operations return.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Empty {}

/// `gateway-revoke-producer-tmp-creds`: the SDK ignores the body; Mayfly says what it did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TmpCredsRevoked {
    /// How many credentials the revoker is now ending (`revoke-all`; the request returns at
    /// once, `gateway-get-producer-tmp-creds` shows them go), or 0 when the request itself
    /// revoked the one credential it named.
    pub revoking: u64,
}

/// One item a target is used by.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetItemAssoc {
    pub item_name: String,
    pub item_id: i64,
    pub item_type: String,
    pub assoc_id: String,
    pub relationship: String,
}

/// `get-target`, `target-get`, and each entry of `list-targets`. No secret is ever here.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Target {
    pub target_name: String,
    pub target_type: String,
    pub target_id: i64,
    pub comment: String,
    pub creation_date: String,
    pub modification_date: String,
    pub last_version: i64,
    pub delete_protection: bool,
    pub protection_key_name: String,
    pub with_customer_fragment: bool,
    pub target_items_assoc: Vec<TargetItemAssoc>,
    /// Mayfly extension: the target's region and endpoints (not secret).
    pub region: String,
    #[serde(rename = "iam-endpoint", skip_serializing_if = "Option::is_none")]
    pub iam_endpoint: Option<String>,
    #[serde(rename = "sts-endpoint", skip_serializing_if = "Option::is_none")]
    pub sts_endpoint: Option<String>,
}

/// `list-targets`, `target-list`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListTargets {
    pub targets: Vec<Target>,
    pub next_page: String,
}

/// `get-target-details`: the only response that carries a target's secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetDetails {
    pub target: Target,
    pub value: TargetDetailsValue,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetDetailsValue {
    pub aws_target_details: AwsTargetDetails,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwsTargetDetails {
    /// Empty for a target that uses the gateway's own identity.
    pub aws_access_key_id: String,
    pub aws_secret_access_key: String,
    pub aws_region: String,
    pub aws_session_token: String,
    pub use_gw_cloud_identity: bool,
    /// The external id sent with `role_arn`, in Akeyless' shape (the SDK's
    /// `AWSGatewayCloudIdentityExternalIdOpt`).
    pub gw_cloud_identity_external_id_opt: AwsGatewayCloudIdentityExternalIdOpt,
    /// Mayfly extension: `keys` or `gateway_identity`.
    pub credential_source: String,
    /// Mayfly extension: the role assumed before use, its session name and length.
    pub role_arn: String,
    pub role_session_name: String,
    pub role_session_duration: i64,
    /// Mayfly extension, for a target using the gateway's identity or a role: who it acts as
    /// (`sts:GetCallerIdentity`, role included), or empty with `identity_error` saying why it
    /// could not be told. Empty for a plain keyed target (its key names it; no AWS call).
    pub identity_arn: String,
    pub identity_error: String,
}

/// `gw_cloud_identity_external_id_opt` of a target's details: the external id sent when the
/// target assumes its role.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwsGatewayCloudIdentityExternalIdOpt {
    /// Whether an external id is sent (`generate-external-id`, or Mayfly's `external-id`).
    pub is_enabled: bool,
    /// The external id, generated or given; empty without one.
    pub generated_external_id: String,
    /// The role it is sent to; empty without a role.
    pub role_arn: String,
}

/// `item_targets_assoc` entry of a producer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemTargetAssoc {
    pub target_id: i64,
    pub target_name: String,
    pub target_type: String,
    pub assoc_id: String,
}

/// Password policy echo in producer details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordPolicyInfo {
    pub password_length: i64,
    pub use_capital_letters: bool,
    pub use_lower_letters: bool,
    pub use_numbers: bool,
    pub use_special_characters: bool,
}

/// `DSProducerDetails`: a producer as `gateway-get-producer` returns it. Secrets are never
/// included: `aws_secret_access_key` is always empty.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProducerDetails {
    pub dynamic_secret_name: String,
    pub dynamic_secret_id: i64,
    pub dynamic_secret_type: String,
    pub dynamic_secret_key: String,
    pub active: bool,
    pub failure_message: String,
    pub aws_access_mode: String,
    pub aws_access_key_id: String,
    pub aws_secret_access_key: String,
    pub aws_region: String,
    pub aws_user_policies: String,
    pub aws_user_groups: String,
    pub aws_role_arns: String,
    pub aws_external_id: String,
    pub aws_session_tags: String,
    pub aws_transitive_tag_keys: String,
    pub aws_user_console_access: bool,
    pub aws_user_programmatic_access: bool,
    pub user_ttl: String,
    pub tags: Vec<String>,
    pub delete_protection: bool,
    pub username_template: String,
    pub password_length: i64,
    pub password_policy_info: PasswordPolicyInfo,
    pub enable_admin_rotation: bool,
    pub admin_rotation_interval_days: i64,
    pub use_gw_cloud_identity: bool,
    pub item_targets_assoc: Vec<ItemTargetAssoc>,
    pub description: String,
    pub creation_date: String,
    pub modification_date: String,
    /// Mayfly extensions, echoed under the request names.
    #[serde(rename = "aws-policy-document")]
    pub aws_policy_document: String,
    #[serde(rename = "aws-permissions-boundary")]
    pub aws_permissions_boundary: String,
    #[serde(rename = "aws-user-path")]
    pub aws_user_path: String,
    #[serde(rename = "aws-user-tags")]
    pub aws_user_tags: String,
    #[serde(rename = "max-ttl")]
    pub max_ttl: String,
    /// `false`, or the longest wait for a new key to work (`30s`).
    #[serde(rename = "wait-until-usable")]
    pub wait_until_usable: String,
    #[serde(rename = "caller-session-tags")]
    pub caller_session_tags: String,
    #[serde(rename = "source-identity")]
    pub source_identity: String,
    #[serde(rename = "max-live-credentials")]
    pub max_live_credentials: String,
    #[serde(rename = "max-issue-rate")]
    pub max_issue_rate: String,
    #[serde(rename = "reuse-window")]
    pub reuse_window: String,
    /// Whether its STS credentials can be revoked before they expire.
    #[serde(rename = "session-revocation")]
    pub session_revocation: bool,
}

/// `gateway-create-producer-aws` / `gateway-update-producer-aws`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProducerDetailsWrapped {
    pub producer_details: ProducerDetails,
}

/// `dynamic-secret-create-aws` / `dynamic-secret-update-aws`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DynamicSecretDetailsWrapped {
    pub dynamic_secret_details: ProducerDetails,
}

/// `gateway-delete-producer`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProducerDeleted {
    pub producer_name: String,
    /// Mayfly extension: how many of its temporary IAM users the revoker is now deleting
    /// (the request does not wait for them; `gateway-get-producer-tmp-creds` is gone with the
    /// producer, so follow them in the audit trail or metrics).
    pub revoking: u64,
}

/// `dynamic-secret-delete`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DynamicSecretDeleted {
    pub dynamic_secret_name: String,
    /// Mayfly extension: as [`ProducerDeleted::revoking`].
    pub revoking: u64,
}

/// One entry of `gateway-list-producers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProducerSummary {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub producer_type: String,
    pub active: bool,
    pub init: bool,
    pub failure_message: String,
}

/// `gateway-list-producers`, `dynamic-secret-list`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProducersList {
    pub producers: Vec<ProducerSummary>,
    pub producers_errors: BTreeMap<String, String>,
}

/// Where a producer's item is served from. The SDK types Akeyless's cluster id as an integer;
/// Mayfly's cluster id is a UUID, so it is given as `cluster_name` and `cluster_id` is left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GatewayDetails {
    pub cluster_name: String,
    pub cluster_url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DynamicSecretProducerDetails {
    pub producer_type: String,
    pub producer_status: String,
    pub user_ttl: String,
    pub failure_message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemGeneralInfo {
    pub dynamic_secret_producer_details: DynamicSecretProducerDetails,
}

/// One entry of `list-items`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Item {
    pub item_name: String,
    pub item_id: i64,
    pub display_id: String,
    pub item_type: String,
    pub item_sub_type: String,
    pub item_tags: Vec<String>,
    pub is_enabled: bool,
    pub delete_protection: bool,
    pub creation_date: String,
    pub modification_date: String,
    pub item_targets_assoc: Vec<ItemTargetAssoc>,
    pub gateway_details: Vec<GatewayDetails>,
    pub item_general_info: ItemGeneralInfo,
}

/// `list-items`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListItems {
    pub items: Vec<Item>,
    pub folders: Vec<String>,
    pub next_page: String,
    pub has_next: bool,
}

/// `/health` and `/health/ready`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// One entry of `gateway-get-producer-tmp-creds` (the response is a JSON array of these).
/// Mayfly adds the lease's state, expiry, IAM user, access key id and last error, so that a
/// credential that failed to revoke is visible.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TmpUserData {
    pub id: String,
    pub host: String,
    pub access_id: String,
    pub creation_date: String,
    pub custom_ttl: i64,
    pub dynamic_secret_type: String,
    pub encrypted_secret: String,
    pub sub_claims: BTreeMap<String, Vec<String>>,
    pub state: String,
    pub mode: String,
    pub expiration: String,
    pub user: String,
    pub access_key_id: String,
    pub last_error: String,
    /// The session name of a revocable STS credential (what CloudTrail shows and what
    /// revoking it denies); empty otherwise.
    pub session_name: String,
    /// The role an `assume_role` credential is a session of; empty otherwise.
    pub role_arn: String,
}
