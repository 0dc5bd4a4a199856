//! AWS target requests: the admin credentials producers use, stored sealed by the gateway,
//! or (`--use-gw-cloud-identity`) the gateway's own AWS identity, optionally chained into a
//! role (`--role-arn`).
//!
//! Note `--access-key` here is the AWS *secret access key* of the target (the akeyless flag
//! name), not the Mayfly API key.

use clap::Args;
use serde::Serialize;

use super::{ApiRequest, DeleteProtection};
use crate::error::CliError;
use crate::input::Inputs;
use crate::wire::{BoolFlag as _, WireBool};

/// Flags shared by target create and update.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetOptions {
    /// AWS region of the target [gateway default: us-east-2].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// Session token, only when the keys are temporary STS credentials.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,

    /// Free-text description.
    #[arg(long, visible_alias = "comment")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,

    /// Mayfly extension: IAM endpoint, AWS's own (e.g. https://iam.amazonaws.com) or an origin the gateway's
    /// MAYFLY_ALLOWED_ENDPOINTS allows (an AWS-compatible service, a local emulator). Setting
    /// or changing it needs the read capability on the target.
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_endpoint: Option<String>,

    /// Mayfly extension: STS endpoint, AWS's own (e.g. https://sts.us-east-1.amazonaws.com) or an origin the gateway's
    /// MAYFLY_ALLOWED_ENDPOINTS allows (an AWS-compatible service, a local emulator). Setting
    /// or changing it needs the read capability on the target.
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sts_endpoint: Option<String>,

    /// Mayfly extension: rotate the target's AWS access key every this many days (1 to
    /// 3650; 0 turns scheduled rotation off).
    #[arg(long, value_name = "DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_interval_days: Option<u32>,

    /// Use the gateway's own AWS identity (its instance profile, IRSA or EKS Pod Identity,
    /// environment keys...) instead of stored keys: then give no --access-key-id /
    /// --access-key. Only for target names the gateway's operator lists in
    /// MAYFLY_CLOUD_IDENTITY_TARGETS (others get HTTP 403). On update, true switches the
    /// target to the gateway's identity and false back to keys (give them with it).
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_gw_cloud_identity: Option<WireBool>,

    /// A role to assume with the target's credentials before use (cross-account access),
    /// e.g. arn:aws:iam::123456789012:role/mayfly. On update it replaces the role with its
    /// external id, session name and duration (give them again), and "" removes it.
    #[arg(long, value_name = "ARN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,

    /// Have the gateway generate an external id for --role-arn (get-target-details shows it
    /// as gw_cloud_identity_external_id_opt, for the role's trust policy).
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_external_id: Option<WireBool>,

    /// Mayfly extension: the external id to send with --role-arn (instead of
    /// --generate-external-id).
    #[arg(long, value_name = "ID")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,

    /// Mayfly extension: the session name for --role-arn; {target} stands for the target's
    /// name [gateway default: mayfly-{target}].
    #[arg(long, value_name = "TEMPLATE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_session_name: Option<String>,

    /// Mayfly extension: how long the --role-arn session lasts, 900 to 43200 seconds
    /// [gateway default: 3600].
    #[arg(long, value_name = "SECONDS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_session_duration: Option<u32>,
}

/// `create-aws-target` / `target-create-aws`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(after_help = "Examples:
  mayfly create-aws-target --name /prod/aws --access-key-id AKIA... --access-key - < secret.txt
  mayfly create-aws-target --name /cloud/aws --use-gw-cloud-identity --region us-east-1
  mayfly create-aws-target --name /cloud/prod --use-gw-cloud-identity \\
    --role-arn arn:aws:iam::123456789012:role/mayfly --generate-external-id
The gateway's identity is offered only to names in its MAYFLY_CLOUD_IDENTITY_TARGETS.")]
pub struct TargetCreateArgs {
    /// Target name, e.g. /prod/aws-admin.
    #[arg(short = 'n', long)]
    pub name: String,

    /// AWS access key ID the gateway acts as (required unless --use-gw-cloud-identity).
    #[arg(long, required_unless_present = "use_gw_cloud_identity")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,

    /// AWS secret access key of the target ("-" reads it from stdin; required unless
    /// --use-gw-cloud-identity). Not the Mayfly API key.
    #[arg(long, required_unless_present = "use_gw_cloud_identity")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub options: TargetOptions,
}

impl ApiRequest for TargetCreateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        // clap lets --use-gw-cloud-identity false through without keys; a target on keys
        // needs both halves.
        let cloud = self.options.use_gw_cloud_identity.is_some_and(|on| on.0);
        if !cloud && (self.access_key_id.is_none() || self.access_key.is_none()) {
            return Err(CliError::usage(
                "--access-key-id and --access-key are required unless --use-gw-cloud-identity true",
            ));
        }
        inputs.optional_secret("--access-key", &mut self.access_key)
    }
}

/// `update-aws-target` / `target-update-aws`: only the given fields are sent.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(after_help = "Examples:
  mayfly update-aws-target --name /prod/aws --role-arn arn:aws:iam::123456789012:role/mayfly \\
    --external-id my-external-id
  mayfly update-aws-target --name /prod/aws --role-arn \"\"     (acts as its own credentials again)
  mayfly update-aws-target --name /cloud/aws --use-gw-cloud-identity false \\
    --access-key-id AKIA... --access-key - < secret.txt")]
pub struct TargetUpdateArgs {
    /// Name of the target to update.
    #[arg(short = 'n', long)]
    pub name: String,

    /// Rename the target.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,

    /// New AWS access key ID.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,

    /// New AWS secret access key ("-" reads it from stdin). Not the Mayfly API key.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub options: TargetOptions,
}

impl ApiRequest for TargetUpdateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        inputs.optional_secret("--access-key", &mut self.access_key)
    }
}

/// `get-target`, `get-target-details` and their `target-*` forms.
#[derive(Debug, Clone, Args, Serialize)]
pub struct TargetNameArgs {
    /// Target name.
    #[arg(short = 'n', long)]
    pub name: String,
}

impl ApiRequest for TargetNameArgs {}

/// `list-targets` / `target-list`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct TargetListArgs {
    /// Only targets whose name contains this text.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,

    /// Only targets of this type, e.g. aws (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    #[serde(rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

impl ApiRequest for TargetListArgs {}

/// `delete-target` / `target-delete`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetDeleteArgs {
    /// Target name.
    #[arg(short = 'n', long)]
    pub name: String,

    /// Delete even while dynamic secrets use the target.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_deletion: Option<WireBool>,
}

impl ApiRequest for TargetDeleteArgs {}
