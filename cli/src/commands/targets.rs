//! AWS target requests: the admin credentials producers use, stored sealed by the gateway.
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
}

/// `create-aws-target` / `target-create-aws`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetCreateArgs {
    /// Target name, e.g. /prod/aws-admin.
    #[arg(short = 'n', long)]
    pub name: String,

    /// AWS access key ID the gateway acts as.
    #[arg(long)]
    pub access_key_id: String,

    /// AWS secret access key of the target ("-" reads it from stdin). Not the Mayfly API key.
    #[arg(long)]
    pub access_key: String,

    #[command(flatten)]
    #[serde(flatten)]
    pub options: TargetOptions,
}

impl ApiRequest for TargetCreateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        inputs.secret("--access-key", &mut self.access_key)
    }
}

/// `update-aws-target` / `target-update-aws`: only the given fields are sent.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
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
