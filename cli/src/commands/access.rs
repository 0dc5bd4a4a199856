//! Access control and the audit trail: auth methods (API keys, JWT, Kubernetes and AWS IAM
//! methods), roles, their rules and associations (with sub-claims for workload-identity
//! methods), token revocation and `get-audit-events`.
//!
//! Values such as capabilities, rule types and audit access are passed through unchecked:
//! the gateway validates them and its 400 names the field and the accepted values, so the
//! CLI cannot fall out of step with what the gateway supports.
//!
//! Note `--access-id` on `get-audit-events` is a *filter* (whose events to show), not the API
//! key the CLI logs in with (on the `gateway-*-k8s-auth-config` commands it names the
//! config's auth method); the login key's `--access-id` flag exists only on `configure` and
//! `auth`, so the two never meet on one command.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use clap::Args;
use serde::Serialize;

use super::{ApiRequest, DeleteProtection};
use crate::error::CliError;
use crate::input::Inputs;
use crate::wire::{self, BoolFlag as _, BoolString, WireBool};

/// `create-auth-method`: a new API key. The answer holds the access key, shown only this once.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuthMethodCreateArgs {
    /// Auth method name, e.g. /ci/deployer.
    #[arg(short = 'n', long)]
    pub name: String,

    /// Free-text description.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,
}

impl ApiRequest for AuthMethodCreateArgs {}

/// The JWT method settings `create-auth-method-oauth2` and `auth-method-update-oauth2` share.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct OAuth2MethodArgs {
    /// Free-text description.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,

    /// Where the issuer publishes its keys (JWKS), e.g.
    /// https://token.actions.githubusercontent.com/.well-known/jwks; the gateway fetches and
    /// caches them. Give this or --jwks-json-data.
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,

    /// The issuer's keys inline instead of --jwks-uri: the JWKS JSON base64-encoded, or
    /// @FILE holding the JWKS JSON (base64-encoded here before it is sent).
    #[arg(long, value_name = "BASE64|@FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_json_data: Option<String>,

    /// The iss every token must carry, e.g. https://token.actions.githubusercontent.com.
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,

    /// The aud tokens must be for (comma-separated for several).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,

    /// Refuse role associations without --sub-claims: the safe setting for issuers shared by
    /// many tenants, such as GitHub's, where any repository can mint a token for your audience.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_sub_claims: Option<WireBool>,

    /// Client ids the token's azp or client_id must be one of (repeatable or
    /// comma-separated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_client_ids: Vec<String>,

    /// Mayfly extension: a claim every token must match, whatever role it gets:
    /// CLAIM=VALUES with comma-separated values, `*` globs (repeatable), e.g.
    /// repository_owner=octo-org.
    #[arg(long, value_name = "CLAIM=VALUES", value_parser = wire::parse_claim)]
    #[serde(
        serialize_with = "wire::claim_map",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub bound_claims: Vec<(String, String)>,

    /// Lifetime of the tokens a login gets, in minutes [gateway default: its token lifetime].
    #[arg(long, value_name = "MINUTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_ttl: Option<u32>,

    /// Unix time after which the method accepts no login (0: never) [gateway default: 0].
    #[arg(long, value_name = "UNIX_TIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_expires: Option<u64>,
}

impl OAuth2MethodArgs {
    /// Reads an `@FILE` JWKS and puts it in its wire form.
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        resolve_jwks(inputs, &mut self.jwks_json_data)
    }
}

/// `create-auth-method-oauth2`, `auth-method-create-oauth2`: a JWT (OAuth2/OIDC) auth method.
/// Workloads log in with a token their identity provider issued (`mayfly auth --access-type
/// jwt`), verified against the provider's keys. Prints {"access_id": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(
    after_help = "Example (GitHub Actions: the method, then a role for one repository; jwks.json holds
the issuer's keys, or use --jwks-uri https://token.actions.githubusercontent.com/.well-known/jwks):
  mayfly create-auth-method-oauth2 --name /ci/github --jwks-json-data @jwks.json \\
    --issuer https://token.actions.githubusercontent.com \\
    --audience https://github.com/octo-org --unique-identifier repository --force-sub-claims
  mayfly assoc-role-am --role-name /ci/app-a --am-name /ci/github \\
    --sub-claims repository=octo-org/app-a"
)]
pub struct AuthMethodOAuth2CreateArgs {
    /// Auth method name, e.g. /ci/github.
    #[arg(short = 'n', long)]
    pub name: String,

    /// The claim that names the caller, e.g. sub, repository or email; a token without it is
    /// refused.
    #[arg(long, value_name = "CLAIM")]
    pub unique_identifier: String,

    #[command(flatten)]
    #[serde(flatten)]
    pub settings: OAuth2MethodArgs,
}

impl ApiRequest for AuthMethodOAuth2CreateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        self.settings.resolve_inputs(inputs)
    }
}

/// What the `auth-method-update-*` commands say after their flags.
macro_rules! update_after_help {
    ($example:literal) => {
        concat!(
            "Only the flags given are sent: each replaces the stored setting (a list flag the whole
list; an empty value such as --audience '' clears a list), the others stay. Each is checked as
at creation. Tokens from earlier logins keep working until they expire.
Example:
  ",
            $example
        )
    };
}

/// `auth-method-update-oauth2`, `update-auth-method-oauth2`: change a JWT auth method; only
/// the given fields change. Prints {"name": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(after_help = update_after_help!(
    "mayfly auth-method-update-oauth2 --name /ci/github --audience https://github.com/octo-org-2"
))]
pub struct AuthMethodOAuth2UpdateArgs {
    /// Name of the auth method to change.
    #[arg(short = 'n', long)]
    pub name: String,

    /// The claim that names the caller, e.g. sub, repository or email.
    #[arg(long, value_name = "CLAIM")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_identifier: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub settings: OAuth2MethodArgs,
}

impl ApiRequest for AuthMethodOAuth2UpdateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        self.settings.resolve_inputs(inputs)
    }
}

/// The Kubernetes method settings `create-auth-method-k8s` and `auth-method-update-k8s`
/// share.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct K8sMethodArgs {
    /// Free-text description.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,

    /// Mayfly extension: the cluster's service-account signing keys (`kubectl get --raw
    /// /openid/v1/jwks`), to verify tokens offline: the JWKS JSON base64-encoded, or @FILE
    /// holding the JWKS JSON (base64-encoded here before it is sent). Without it, logins go
    /// through a k8s auth config (gateway-create-k8s-auth-config).
    #[arg(long, value_name = "BASE64|@FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_json_data: Option<String>,

    /// Mayfly extension: the iss every token must carry, the cluster's service-account issuer
    /// (e.g. https://kubernetes.default.svc.cluster.local).
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s_issuer: Option<String>,

    /// The aud tokens must be for (comma-separated for several), e.g. mayfly for projected
    /// service-account tokens requested with that audience.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,

    /// Namespaces whose service accounts may log in (repeatable or comma-separated, `*`
    /// globs) [default: any].
    #[arg(long, value_name = "NAMESPACE", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_namespaces: Vec<String>,

    /// Service-account names that may log in (repeatable or comma-separated, `*` globs)
    /// [default: any].
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_sa_names: Vec<String>,

    /// Pod names that may log in (repeatable or comma-separated, `*` globs; needs tokens
    /// bound to a pod) [default: any].
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_pod_names: Vec<String>,

    /// Refuse role associations without --sub-claims (on namespace, service_account_name,
    /// pod_name or sub).
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_sub_claims: Option<WireBool>,

    /// Accepted for akeyless compatibility (sent as the string "true"/"false"); Mayfly keeps
    /// no key pair for the method: it verifies against --jwks-json-data or through a k8s
    /// auth config.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gen_key: Option<BoolString>,

    /// Lifetime of the tokens a login gets, in minutes [gateway default: its token lifetime].
    #[arg(long, value_name = "MINUTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_ttl: Option<u32>,

    /// Unix time after which the method accepts no login (0: never) [gateway default: 0].
    #[arg(long, value_name = "UNIX_TIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_expires: Option<u64>,
}

impl K8sMethodArgs {
    /// Reads an `@FILE` JWKS and puts it in its wire form.
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        resolve_jwks(inputs, &mut self.jwks_json_data)
    }
}

/// `create-auth-method-k8s`, `auth-method-create-k8s`: a Kubernetes auth method. Pods log in
/// with their service-account token (`mayfly auth --access-type k8s`), verified offline
/// against the cluster's keys given here, or through a k8s auth config
/// (`gateway-create-k8s-auth-config`: the cluster's TokenReview API). Prints
/// {"access_id": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(
    after_help = "Example (the cluster's keys from `kubectl get --raw /openid/v1/jwks > jwks.json`, its
issuer from `kubectl get --raw /.well-known/openid-configuration`):
  mayfly create-auth-method-k8s --name /k8s/prod --jwks-json-data @jwks.json \\
    --k8s-issuer https://kubernetes.default.svc.cluster.local --audience mayfly \\
    --bound-namespaces team-a --force-sub-claims
  mayfly assoc-role-am --role-name /k8s/team-a --am-name /k8s/prod \\
    --sub-claims service_account_name=deployer
In the pod: mayfly auth --access-type k8s --access-id p-...
Without --jwks-json-data, give the method a k8s auth config (gateway-create-k8s-auth-config)
and log in with --k8s-auth-config-name."
)]
pub struct AuthMethodK8sCreateArgs {
    /// Auth method name, e.g. /k8s/prod.
    #[arg(short = 'n', long)]
    pub name: String,

    #[command(flatten)]
    #[serde(flatten)]
    pub settings: K8sMethodArgs,
}

impl ApiRequest for AuthMethodK8sCreateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        self.settings.resolve_inputs(inputs)
    }
}

/// `auth-method-update-k8s`, `update-auth-method-k8s`: change a Kubernetes auth method; only
/// the given fields change. Prints {"name": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(after_help = update_after_help!(
    "mayfly auth-method-update-k8s --name /k8s/prod --bound-namespaces team-a,team-b"
))]
pub struct AuthMethodK8sUpdateArgs {
    /// Name of the auth method to change.
    #[arg(short = 'n', long)]
    pub name: String,

    #[command(flatten)]
    #[serde(flatten)]
    pub settings: K8sMethodArgs,
}

impl ApiRequest for AuthMethodK8sUpdateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        self.settings.resolve_inputs(inputs)
    }
}

/// The AWS IAM method settings `create-auth-method-aws-iam` and `auth-method-update-aws-iam`
/// share (all but the accounts, which creation requires).
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AwsIamMethodArgs {
    /// Free-text description.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,

    /// ARNs that may log in (repeatable or comma-separated, `*` globs), e.g.
    /// arn:aws:iam::123456789012:user/deployer or
    /// arn:aws:sts::123456789012:assumed-role/ci-deployer/*.
    #[arg(long, value_name = "ARN", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_arn: Vec<String>,

    /// Roles whose sessions may log in (repeatable or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_role_name: Vec<String>,

    /// IAM users who may log in (repeatable or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_user_name: Vec<String>,

    /// Unique ids (AROA...) of roles whose sessions may log in (repeatable or
    /// comma-separated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_role_id: Vec<String>,

    /// Unique ids (AIDA...) of IAM users who may log in (repeatable or comma-separated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_user_id: Vec<String>,

    /// The STS endpoint the gateway checks logins with [gateway default:
    /// https://sts.amazonaws.com; others only as MAYFLY_ALLOWED_ENDPOINTS allows].
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sts_url: Option<String>,

    /// Refuse role associations without --sub-claims (on account, arn, role_name, user_name
    /// or user_id).
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_sub_claims: Option<WireBool>,

    /// Lifetime of the tokens a login gets, in minutes [gateway default: its token lifetime].
    #[arg(long, value_name = "MINUTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_ttl: Option<u32>,

    /// Unix time after which the method accepts no login (0: never) [gateway default: 0].
    #[arg(long, value_name = "UNIX_TIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_expires: Option<u64>,
}

/// `create-auth-method-aws-iam`, `auth-method-create-aws-iam`: an AWS IAM auth method.
/// Anything running with AWS credentials logs in with a signed sts:GetCallerIdentity
/// (`mayfly auth --access-type aws_iam`), which the gateway has STS check. Prints
/// {"access_id": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(
    after_help = "Example (a role's sessions, e.g. EC2 instances or CI runners with that role):
  mayfly create-auth-method-aws-iam --name /aws/ci --bound-aws-account-id 123456789012 \\
    --bound-role-name ci-deployer
On the machine: mayfly auth --access-type aws_iam --access-id p-..."
)]
pub struct AuthMethodAwsIamCreateArgs {
    /// Auth method name, e.g. /aws/ci.
    #[arg(short = 'n', long)]
    pub name: String,

    /// AWS accounts whose principals may log in (repeatable or comma-separated).
    #[arg(
        long,
        value_name = "ACCOUNT_ID",
        value_delimiter = ',',
        required = true
    )]
    pub bound_aws_account_id: Vec<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub settings: AwsIamMethodArgs,
}

impl ApiRequest for AuthMethodAwsIamCreateArgs {}

/// `auth-method-update-aws-iam`, `update-auth-method-aws-iam`: change an AWS IAM auth
/// method; only the given fields change. Prints {"name": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(after_help = update_after_help!(
    "mayfly auth-method-update-aws-iam --name /aws/ci --bound-role-name ci-deployer,ci-release"
))]
pub struct AuthMethodAwsIamUpdateArgs {
    /// Name of the auth method to change.
    #[arg(short = 'n', long)]
    pub name: String,

    /// AWS accounts whose principals may log in (repeatable or comma-separated).
    #[arg(long, value_name = "ACCOUNT_ID", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_aws_account_id: Vec<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub settings: AwsIamMethodArgs,
}

impl ApiRequest for AuthMethodAwsIamUpdateArgs {}

/// Reads an `@FILE` `--jwks-json-data` and puts it in its wire form.
fn resolve_jwks(inputs: &mut Inputs<'_>, data: &mut Option<String>) -> Result<(), CliError> {
    inputs.file_reference("--jwks-json-data", data)?;
    if let Some(data) = data {
        *data = jwks_for_the_wire(data);
    }
    Ok(())
}

/// `jwks-json-data` travels base64-encoded: a JWKS JSON document (from @FILE, or given
/// inline) is encoded here; anything else is taken to be base64 already and sent as given.
/// Base64 never starts with `{`, so the two cannot be confused.
pub(super) fn jwks_for_the_wire(data: &str) -> String {
    let data = data.trim();
    if data.starts_with('{') {
        BASE64.encode(data)
    } else {
        data.to_owned()
    }
}

/// `get-auth-method`, `delete-auth-method`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct AuthMethodNameArgs {
    /// Auth method name.
    #[arg(short = 'n', long)]
    pub name: String,
}

impl ApiRequest for AuthMethodNameArgs {}

/// `update-auth-method`, `auth-method-update-api-key`: set or lift delete protection, change
/// the description.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuthMethodUpdateArgs {
    /// Auth method name, e.g. /admin.
    #[arg(short = 'n', long)]
    pub name: String,

    /// New free-text description.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,
}

impl ApiRequest for AuthMethodUpdateArgs {}

/// `get-role`, `delete-role`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct RoleNameArgs {
    /// Role name.
    #[arg(short = 'n', long)]
    pub name: String,
}

impl ApiRequest for RoleNameArgs {}

/// `list-auth-methods`, `list-roles`: only what the caller may list is shown.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AccessListArgs {
    /// Only names containing this text.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,

    /// The next_page value of a previous answer.
    #[arg(long, value_name = "TOKEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
}

impl ApiRequest for AccessListArgs {}

/// `create-role`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RoleCreateArgs {
    /// Role name, e.g. /ci/fetch-s3-reader.
    #[arg(short = 'n', long)]
    pub name: String,

    /// Free-text description.
    #[arg(long, visible_alias = "comment")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    /// Which audit events holders of the role may read with get-audit-events: none, own or
    /// all [gateway default: none].
    #[arg(long, value_name = "none|own|all")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_access: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,
}

impl ApiRequest for RoleCreateArgs {}

/// `set-role-rule`: gives a role capabilities on a path glob (replacing the role's rule of the
/// same type on the same path).
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RoleRuleSetArgs {
    /// Role to change.
    #[arg(long)]
    pub role_name: String,

    /// Path glob the rule covers, e.g. /team-a/* (`*` matches any run of characters).
    #[arg(long, value_name = "GLOB")]
    pub path: String,

    /// read, create, update, delete, list or deny (repeatable or comma-separated; deny wins
    /// over every allow); for target-rule also use (build producers on the target without
    /// reading its secret; read implies it).
    #[arg(
        long,
        value_name = "CAPABILITY",
        required = true,
        value_delimiter = ','
    )]
    pub capability: Vec<String>,

    /// item-rule, target-rule, role-rule or auth-method-rule [gateway default: item-rule].
    #[arg(long, value_name = "TYPE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<String>,
}

impl ApiRequest for RoleRuleSetArgs {}

/// `delete-role-rule`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RoleRuleDeleteArgs {
    /// Role to change.
    #[arg(long)]
    pub role_name: String,

    /// Path glob of the rule, exactly as it was set.
    #[arg(long, value_name = "GLOB")]
    pub path: String,

    /// item-rule, target-rule, role-rule or auth-method-rule [gateway default: item-rule].
    #[arg(long, value_name = "TYPE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<String>,
}

impl ApiRequest for RoleRuleDeleteArgs {}

/// `assoc-role-am`: the auth method's tokens get the role's rules. Prints {"assoc_id": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AssocRoleAmArgs {
    /// Role to give.
    #[arg(long)]
    pub role_name: String,

    /// Auth method that receives the role.
    #[arg(long)]
    pub am_name: String,

    /// JWT auth methods: only tokens whose claim matches get the role: CLAIM=VALUES with
    /// comma-separated values, `*` globs (repeatable; every claim given must match), e.g.
    /// repository=octo-org/app-a.
    #[arg(long, value_name = "CLAIM=VALUES", value_parser = wire::parse_claim)]
    #[serde(
        serialize_with = "wire::claim_map",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sub_claims: Vec<(String, String)>,

    /// Compare --sub-claims values case-sensitively (sent as the string "true"/"false")
    /// [gateway default: true].
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_sensitive: Option<BoolString>,
}

impl ApiRequest for AssocRoleAmArgs {}

/// `delete-assoc`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeleteAssocArgs {
    /// The association's id (assoc-role-am printed it; get-role lists it).
    #[arg(long, value_name = "ID")]
    pub assoc_id: String,
}

impl ApiRequest for DeleteAssocArgs {}

/// `revoke-token` (Mayfly extension).
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RevokeTokenArgs {
    /// Token to end ("-" reads it from stdin) [default: the token this command runs with,
    /// so `mayfly revoke-token --token t-...` ends a token from `mayfly auth`]. Another auth
    /// method's token needs delete rights on that auth method.
    #[arg(long, value_name = "TOKEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_to_revoke: Option<String>,
}

impl ApiRequest for RevokeTokenArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        inputs.optional_secret("--token-to-revoke", &mut self.token_to_revoke)
    }
}

/// `get-audit-events` (Mayfly extension): oldest first, filtered, paginated.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuditEventsArgs {
    /// Only events at or after this time: RFC 3339 (2026-01-31T12:00:00Z) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,

    /// Only events at or before this time: RFC 3339 or Unix seconds.
    #[arg(long, value_name = "TIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,

    /// Only events about this item (producer, target, role or auth method name).
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,

    /// Only events of this caller (a filter; not the API key this command logs in with).
    #[arg(long, value_name = "ACCESS_ID")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_id: Option<String>,

    /// Only events of this operation, e.g. get-dynamic-secret-value or auth.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,

    /// Events per page [gateway default: 100].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,

    /// The next_page value of the previous answer.
    #[arg(long, value_name = "TOKEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
}

impl ApiRequest for AuditEventsArgs {}
