//! Auth methods, roles and the audit trail: requests and responses, with the Akeyless SDK's
//! JSON names (`CreateAuthMethod`, `CreateRole`, `SetRoleRule`, `AssocRoleAuthMethod`, ...).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::lenient;

/// `create-auth-method` (an API key).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::CreateAuthMethod)]
pub struct CreateAuthMethod {
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_bool")]
    pub delete_protection: Option<bool>,
}

/// `list-auth-methods`, `list-roles`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::ListFiltered)]
pub struct ListFiltered {
    pub filter: Option<String>,
    #[serde(rename = "pagination-token")]
    pub pagination_token: Option<String>,
}

/// `create-role`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::CreateRole)]
pub struct CreateRole {
    pub name: Option<String>,
    pub description: Option<String>,
    pub comment: Option<String>,
    /// `none`, `own` or `all`: which audit events holders of the role may read.
    #[serde(rename = "audit-access")]
    pub audit_access: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_bool")]
    pub delete_protection: Option<bool>,
}

/// `set-role-rule`, `delete-role-rule`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::RoleRule)]
pub struct RoleRule {
    #[serde(rename = "role-name")]
    pub role_name: Option<String>,
    pub path: Option<String>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(deserialize_with = "lenient::opt_list")]
    pub capability: Option<Vec<String>>,
    #[serde(rename = "rule-type")]
    pub rule_type: Option<String>,
}

/// `assoc-role-am`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::AssocRoleAuthMethod)]
pub struct AssocRoleAuthMethod {
    #[serde(rename = "role-name")]
    pub role_name: Option<String>,
    #[serde(rename = "am-name")]
    pub am_name: Option<String>,
    /// For JWT auth methods: claim name -> comma-separated allowed values (`*` globs); only
    /// tokens whose claims match get the role.
    #[serde(rename = "sub-claims")]
    pub sub_claims: Option<BTreeMap<String, String>>,
    /// Whether `sub-claims` compare case-sensitively (`"true"` by default).
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "case-sensitive", deserialize_with = "lenient::opt_bool")]
    pub case_sensitive: Option<bool>,
}

/// `create-auth-method-oauth2`, `auth-method-create-oauth2`: a JWT (OAuth2/OIDC) auth method.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::CreateAuthMethodOAuth2)]
pub struct CreateAuthMethodOAuth2 {
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_bool")]
    pub delete_protection: Option<bool>,
    /// Where the issuer publishes its keys (https; other origins only as the operator allows).
    #[serde(rename = "jwks-uri")]
    pub jwks_uri: Option<String>,
    /// The JWKS document itself, base64-encoded, instead of `jwks-uri`.
    #[serde(rename = "jwks-json-data")]
    pub jwks_json_data: Option<String>,
    /// The claim that names the caller, such as `sub` or `repository`.
    #[serde(rename = "unique-identifier")]
    pub unique_identifier: Option<String>,
    pub issuer: Option<String>,
    /// The audience tokens must be for (comma-separated for several).
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(deserialize_with = "lenient::opt_list")]
    pub audience: Option<Vec<String>>,
    /// Every role association of the method must name sub-claims.
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "force-sub-claims", deserialize_with = "lenient::opt_bool")]
    pub force_sub_claims: Option<bool>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-client-ids", deserialize_with = "lenient::opt_list")]
    pub bound_client_ids: Option<Vec<String>>,
    /// Mayfly extension: claims every token must match (claim -> comma-separated globs).
    #[serde(rename = "bound-claims")]
    pub bound_claims: Option<BTreeMap<String, String>>,
    /// Lifetime of the gateway tokens this method issues, in minutes (0: the gateway's).
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "jwt-ttl", deserialize_with = "lenient::opt_i64")]
    pub jwt_ttl: Option<i64>,
    /// Unix time after which the method accepts no login (0: never).
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "access-expires", deserialize_with = "lenient::opt_i64")]
    pub access_expires: Option<i64>,
}

/// `create-auth-method-k8s`, `auth-method-create-k8s`: a Kubernetes auth method, verifying
/// service-account tokens offline against the cluster's keys.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::CreateAuthMethodK8s)]
pub struct CreateAuthMethodK8s {
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_bool")]
    pub delete_protection: Option<bool>,
    /// Mayfly extension: the cluster's service-account signing keys (`kubectl get --raw
    /// /openid/v1/jwks`), base64-encoded.
    #[serde(rename = "jwks-json-data")]
    pub jwks_json_data: Option<String>,
    /// Mayfly extension: the cluster's service-account issuer tokens must carry.
    #[serde(rename = "k8s-issuer")]
    pub k8s_issuer: Option<String>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(deserialize_with = "lenient::opt_list")]
    pub audience: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-namespaces", deserialize_with = "lenient::opt_list")]
    pub bound_namespaces: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-sa-names", deserialize_with = "lenient::opt_list")]
    pub bound_sa_names: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-pod-names", deserialize_with = "lenient::opt_list")]
    pub bound_pod_names: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "force-sub-claims", deserialize_with = "lenient::opt_bool")]
    pub force_sub_claims: Option<bool>,
    /// Accepted for the SDK (which sends `"true"`); Mayfly keeps no key pair for the method.
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(rename = "gen-key", deserialize_with = "lenient::opt_string")]
    pub gen_key: Option<String>,
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "jwt-ttl", deserialize_with = "lenient::opt_i64")]
    pub jwt_ttl: Option<i64>,
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "access-expires", deserialize_with = "lenient::opt_i64")]
    pub access_expires: Option<i64>,
}

/// `create-auth-method-aws-iam`, `auth-method-create-aws-iam`: an AWS IAM auth method.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::CreateAuthMethodAwsIam)]
pub struct CreateAuthMethodAwsIam {
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_bool")]
    pub delete_protection: Option<bool>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(
        rename = "bound-aws-account-id",
        deserialize_with = "lenient::opt_list"
    )]
    pub bound_aws_account_id: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-arn", deserialize_with = "lenient::opt_list")]
    pub bound_arn: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-role-name", deserialize_with = "lenient::opt_list")]
    pub bound_role_name: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-user-name", deserialize_with = "lenient::opt_list")]
    pub bound_user_name: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-role-id", deserialize_with = "lenient::opt_list")]
    pub bound_role_id: Option<Vec<String>>,
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-user-id", deserialize_with = "lenient::opt_list")]
    pub bound_user_id: Option<Vec<String>>,
    /// Where the gateway sends cloud-ids (default AWS's global STS endpoint).
    #[serde(rename = "sts-url")]
    pub sts_url: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "force-sub-claims", deserialize_with = "lenient::opt_bool")]
    pub force_sub_claims: Option<bool>,
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "jwt-ttl", deserialize_with = "lenient::opt_i64")]
    pub jwt_ttl: Option<i64>,
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(rename = "access-expires", deserialize_with = "lenient::opt_i64")]
    pub access_expires: Option<i64>,
}

/// An AWS IAM method's settings as `get-auth-method` shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::AwsIamAccessRules)]
pub struct AwsIamAccessRules {
    pub account_id: Vec<String>,
    pub arn: Vec<String>,
    pub role_name: Vec<String>,
    pub user_name: Vec<String>,
    pub role_id: Vec<String>,
    pub user_id: Vec<String>,
    pub sts_endpoint: String,
}

/// A Kubernetes method's settings as `get-auth-method` shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::KubernetesAccessRules)]
pub struct KubernetesAccessRules {
    pub audience: String,
    pub bound_namespaces: Vec<String>,
    pub bound_service_account_names: Vec<String>,
    pub bound_pod_names: Vec<String>,
    pub issuer: String,
    /// Base64 of the cluster's JWKS document; empty: logins go through a k8s auth config.
    pub jwks_json_data: String,
    pub force_sub_claims: bool,
    /// Mayfly extension: the names of the method's k8s auth configs.
    pub k8s_auth_configs: Vec<String>,
}

/// `create-auth-method-oauth2`, `-k8s`, `-aws-iam` (both generations): the access id that
/// logins name. These methods hold no secret, so nothing else is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::CreatedAuthMethodId)]
pub struct CreatedAuthMethodId {
    pub access_id: String,
}

/// `update-auth-method-oauth2`, `auth-method-update-oauth2`: the fields of creation, each
/// left as it is when not sent; `new-name` other than `name` is refused (no renaming).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = access::UpdateAuthMethodOAuth2)]
pub struct UpdateAuthMethodOAuth2 {
    #[serde(flatten)]
    pub fields: CreateAuthMethodOAuth2,
    #[serde(rename = "new-name")]
    pub new_name: Option<String>,
}

/// `update-auth-method-k8s`, `auth-method-update-k8s`: as [`UpdateAuthMethodOAuth2`].
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = access::UpdateAuthMethodK8s)]
pub struct UpdateAuthMethodK8s {
    #[serde(flatten)]
    pub fields: CreateAuthMethodK8s,
    #[serde(rename = "new-name")]
    pub new_name: Option<String>,
}

/// `update-auth-method-aws-iam`, `auth-method-update-aws-iam`: as [`UpdateAuthMethodOAuth2`].
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = access::UpdateAuthMethodAwsIam)]
pub struct UpdateAuthMethodAwsIam {
    #[serde(flatten)]
    pub fields: CreateAuthMethodAwsIam,
    #[serde(rename = "new-name")]
    pub new_name: Option<String>,
}

/// `delete-assoc`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::DeleteAssoc)]
pub struct DeleteAssoc {
    #[serde(rename = "assoc-id")]
    pub assoc_id: Option<String>,
}

/// `revoke-token` (Mayfly extension): ends a token; without `token-to-revoke`, the caller's own.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::RevokeToken)]
pub struct RevokeToken {
    #[schema(schema_with = lenient::opt_secret_schema)]
    #[serde(rename = "token-to-revoke")]
    pub token_to_revoke: Option<crate::request::Secret>,
}

/// `get-audit-events` (Mayfly extension).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::GetAuditEvents)]
pub struct GetAuditEvents {
    /// RFC 3339 time or Unix seconds.
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(deserialize_with = "lenient::opt_string")]
    pub since: Option<String>,
    #[schema(schema_with = lenient::opt_string_schema)]
    #[serde(deserialize_with = "lenient::opt_string")]
    pub until: Option<String>,
    pub item: Option<String>,
    #[serde(rename = "access-id")]
    pub access_id: Option<String>,
    pub operation: Option<String>,
    #[schema(schema_with = lenient::opt_i64_schema)]
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub limit: Option<i64>,
    #[serde(rename = "pagination-token")]
    pub pagination_token: Option<String>,
}

/// `create-auth-method`: the access key is shown here once and never again.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::CreateAuthMethodOutput)]
pub struct CreateAuthMethodOutput {
    pub access_id: String,
    pub access_key: String,
    pub name: String,
}

/// A role an auth method holds, as `get-auth-method` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::AuthMethodRoleAssoc)]
pub struct AuthMethodRoleAssoc {
    pub assoc_id: String,
    pub role_name: String,
    /// Claim -> allowed values (empty: every token of the method).
    pub auth_method_sub_claims: BTreeMap<String, Vec<String>>,
    pub is_sub_claims_case_sensitive: bool,
}

/// A JWT method's settings as `get-auth-method` shows them (none is secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::OAuth2AccessRules)]
pub struct OAuth2AccessRules {
    pub jwks_uri: String,
    /// The inline JWKS document (public keys), base64-encoded as given.
    pub jwks_json_data: String,
    pub issuer: String,
    pub audience: String,
    pub unique_identifier: String,
    pub bound_clients_id: Vec<String>,
    pub bound_claims: BTreeMap<String, Vec<String>>,
    pub force_sub_claims: bool,
    /// Minutes; 0: the gateway's token lifetime.
    pub jwt_ttl: i64,
    /// Unix time; 0: never.
    pub access_expires: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::AuthMethodAccessInfo)]
pub struct AuthMethodAccessInfo {
    /// `api_key` or `oauth2`.
    pub rules_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2_access_rules: Option<OAuth2AccessRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s_access_rules: Option<KubernetesAccessRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_iam_access_rules: Option<AwsIamAccessRules>,
}

/// `get-auth-method`, entries of `list-auth-methods`. Never the key.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::AuthMethod)]
pub struct AuthMethod {
    pub auth_method_name: String,
    pub auth_method_access_id: String,
    pub description: String,
    pub delete_protection: bool,
    pub creation_date: String,
    pub modification_date: String,
    pub access_info: AuthMethodAccessInfo,
    pub auth_method_roles_assoc: Vec<AuthMethodRoleAssoc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::ListAuthMethodsOutput)]
pub struct ListAuthMethodsOutput {
    pub auth_methods: Vec<AuthMethod>,
    pub next_page: String,
}

/// `delete-auth-method`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::DeleteAuthMethodOutput)]
pub struct DeleteAuthMethodOutput {
    pub name: String,
}

/// One rule of a role.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::PathRule)]
pub struct PathRule {
    pub path: String,
    pub capabilities: Vec<String>,
    #[serde(rename = "type")]
    pub rule_type: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::Rules)]
pub struct Rules {
    pub admin: bool,
    pub path_rules: Vec<PathRule>,
}

/// An auth method holding a role, as `get-role` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::RoleAuthMethodAssoc)]
pub struct RoleAuthMethodAssoc {
    pub assoc_id: String,
    pub auth_method_name: String,
    pub auth_method_access_id: String,
}

/// `get-role`, entries of `list-roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::Role)]
pub struct Role {
    pub role_name: String,
    pub comment: String,
    pub audit_access: String,
    pub delete_protection: bool,
    pub creation_date: String,
    pub modification_date: String,
    pub rules: Rules,
    pub role_auth_methods_assoc: Vec<RoleAuthMethodAssoc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::ListRolesOutput)]
pub struct ListRolesOutput {
    pub roles: Vec<Role>,
    pub next_page: String,
}

/// `assoc-role-am`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::CreateRoleAuthMethodAssocOutput)]
pub struct CreateRoleAuthMethodAssocOutput {
    pub assoc_id: String,
}

/// `delete-role-rule`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::DeleteRoleRuleOutput)]
pub struct DeleteRoleRuleOutput {
    pub deleted: bool,
    pub result: String,
}

/// One audited action (never a secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::AuditEvent)]
pub struct AuditEvent {
    pub id: i64,
    pub time: String,
    pub request_id: String,
    pub access_id: String,
    pub operation: String,
    pub item: String,
    pub outcome: String,
    pub status: i32,
    pub client_address: String,
    pub detail: String,
    /// Who made the request beyond the access id: a JWT, Kubernetes or AWS IAM login's
    /// identity (`octo-org/app-a`, `system:serviceaccount:ns:sa`, an ARN); empty for API keys.
    pub identity: String,
}

/// `get-audit-events`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::AuditEventsOutput)]
pub struct AuditEventsOutput {
    pub events: Vec<AuditEvent>,
    /// Pass as `pagination-token` for the next page; empty on the last one.
    pub next_page: String,
}

/// `reset-access-key` (Akeyless `ResetAccessKey`): a new key for an API-key auth method.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::ResetAccessKey)]
pub struct ResetAccessKey {
    pub name: Option<String>,
}

/// `reset-access-key` (Akeyless `ResetAuthMethodAccessKeyOutput`): the new key, shown here
/// once and never again. The old key and every token issued with it no longer work.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::ResetAuthMethodAccessKeyOutput)]
pub struct ResetAuthMethodAccessKeyOutput {
    pub access_key: String,
}

/// `auth-method-update-api-key`, `update-auth-method` (Akeyless `AuthMethodUpdateApiKey`):
/// Mayfly changes the description and delete protection; the SDK's other fields (bound IPs,
/// TTLs, ...) are ignored, except bound IPs and a new name, refused when set (Mayfly cannot
/// honour them and silently dropping a restriction would mislead).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = access::UpdateAuthMethod)]
pub struct UpdateAuthMethod {
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(schema_with = lenient::opt_bool_schema)]
    #[serde(rename = "delete_protection", deserialize_with = "lenient::opt_bool")]
    pub delete_protection: Option<bool>,
    /// Renaming is not supported: refused when set to another name.
    #[serde(rename = "new-name")]
    pub new_name: Option<String>,
    /// Not supported: refused when not empty.
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "bound-ips", deserialize_with = "lenient::opt_list")]
    pub bound_ips: Option<Vec<String>>,
    /// Not supported: refused when not empty.
    #[schema(schema_with = lenient::opt_list_schema)]
    #[serde(rename = "gw-bound-ips", deserialize_with = "lenient::opt_list")]
    pub gw_bound_ips: Option<Vec<String>>,
}

/// `auth-method-update-api-key`, `update-auth-method` (Akeyless `AuthMethodUpdateOutput`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = access::AuthMethodUpdateOutput)]
pub struct AuthMethodUpdateOutput {
    pub name: String,
}
