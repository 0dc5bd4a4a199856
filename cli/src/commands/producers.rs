//! AWS dynamic secret (producer) requests: `gateway-*-producer-*` and `dynamic-secret-*`.
//!
//! Flag names follow the akeyless CLI; where the wire name differs the serde rename says so
//! (`--aws-access-mode` → `access-mode`, `--aws-region` → `region`, `-t/--tag` → `tags`,
//! `--delete-protection` → `delete_protection`).

use clap::Args;
use serde::Serialize;

use super::{ApiRequest, DeleteProtection};
use crate::error::CliError;
use crate::input::Inputs;
use crate::wire::{BoolFlag as _, BoolString, WireBool};

/// Every field of an AWS producer create request; update adds `--new-name`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProducerCreateArgs {
    /// Dynamic secret name, e.g. /prod/s3-reader.
    #[arg(short = 'n', long)]
    pub name: String,

    /// AWS target whose credentials the gateway uses (instead of inline --aws-access-key-id).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,

    /// iam_user, assume_role (also spelled assumed_role), federation_token or session_token.
    #[arg(long, value_name = "MODE")]
    #[serde(rename = "access-mode", skip_serializing_if = "Option::is_none")]
    pub aws_access_mode: Option<String>,

    /// Inline admin AWS access key ID (when no --target-name).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_access_key_id: Option<String>,

    /// Inline admin AWS secret access key ("-" reads it from stdin).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_access_secret_key: Option<String>,

    /// Region of the inline admin credentials (a target's own region wins).
    #[arg(long)]
    #[serde(rename = "region", skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,

    /// iam_user: managed policy ARNs to attach, comma-separated.
    #[arg(long, value_name = "ARNS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_user_policies: Option<String>,

    /// iam_user: IAM groups to add the user to, comma-separated.
    #[arg(long, value_name = "GROUPS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_user_groups: Option<String>,

    /// assume_role: role ARNs, comma-separated (a value request picks one with
    /// --args role_arn=ARN).
    #[arg(long, value_name = "ARNS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_role_arns: Option<String>,

    /// iam_user: create a console login profile; the value then includes a password.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_user_console_access: Option<WireBool>,

    /// iam_user: create an access key [gateway default: true].
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_user_programmatic_access: Option<WireBool>,

    /// Console password length.
    #[arg(long, value_name = "N")]
    #[serde(
        serialize_with = "crate::wire::number_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub password_length: Option<u32>,

    /// Console passwords contain capital letters.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_capital_letters: Option<BoolString>,

    /// Console passwords contain lower-case letters.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_lower_letters: Option<BoolString>,

    /// Console passwords contain digits.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_numbers: Option<BoolString>,

    /// Console passwords contain special characters.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_special_characters: Option<BoolString>,

    /// Credential lifetime such as 60m, 1h30m or 900s [gateway default: 60m].
    #[arg(long, value_name = "DURATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_ttl: Option<String>,

    /// Mayfly extension: the longest TTL a value request or tmp-creds update may ask for.
    #[arg(long, value_name = "DURATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<String>,

    /// Template for the temporary user or role session name.
    #[arg(long, value_name = "TEMPLATE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_username_template: Option<String>,

    /// assume_role: ExternalId passed to AssumeRole.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_external_id: Option<String>,

    /// assume_role: session tags, key=value comma-separated.
    #[arg(long, value_name = "TAGS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_tags: Option<String>,

    /// assume_role: transitive tag keys, space-separated.
    #[arg(long, value_name = "KEYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transitive_tag_keys: Option<String>,

    /// Mayfly extension: inline policy JSON (the user's inline policy, or the session policy
    /// in STS modes); @FILE reads it from a file.
    #[arg(long, value_name = "JSON|@FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_policy_document: Option<String>,

    /// Mayfly extension: permissions boundary policy ARN for iam_user.
    #[arg(long, value_name = "ARN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_permissions_boundary: Option<String>,

    /// Mayfly extension: IAM path for the temporary users [gateway default: /mayfly/].
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_user_path: Option<String>,

    /// Mayfly extension: IAM tags for the temporary users, key=value comma-separated.
    #[arg(long, value_name = "TAGS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_user_tags: Option<String>,

    /// Mayfly extension (STS modes): issue credentials that can be revoked before they expire
    /// (unique session names; revoking puts a deny on the role or issuing user) [gateway
    /// default: true].
    #[arg(long, value_name = "true|false")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_revocation: Option<BoolString>,

    /// Mayfly extension (iam_user): wait until a new key works before answering: true (30s),
    /// false, or the longest wait such as 45s.
    #[arg(long, value_name = "true|false|DURATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_until_usable: Option<String>,

    /// Mayfly extension (STS modes): session tags made from the caller, such as
    /// Repo={claim:repository},Who={access_id}.
    #[arg(long, value_name = "TAGS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_session_tags: Option<String>,

    /// Mayfly extension (assume_role): the session's SourceIdentity, a template such as
    /// {claim:sub}.
    #[arg(long, value_name = "TEMPLATE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,

    /// Mayfly extension: how many of its credentials may be live at once.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_live_credentials: Option<String>,

    /// Mayfly extension: how many credentials it may issue per period: 30/m, 5/s, 200/h.
    #[arg(long, value_name = "RATE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_issue_rate: Option<String>,

    /// Mayfly extension (STS modes): a caller asking again within this window gets the
    /// credential it got before (at most half of user-ttl).
    #[arg(long, value_name = "DURATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_window: Option<String>,

    /// Item tag (repeatable).
    #[arg(short = 't', long = "tag", value_name = "TAG")]
    #[serde(rename = "tags", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub delete_protection: DeleteProtection,

    /// Free-text description.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ApiRequest for ProducerCreateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        inputs.optional_secret("--aws-access-secret-key", &mut self.aws_access_secret_key)?;
        inputs.file_reference("--aws-policy-document", &mut self.aws_policy_document)
    }
}

/// Producer update: the create flags plus `--new-name`. Only the given flags are sent, and the
/// gateway treats the request as the complete new definition (Akeyless semantics).
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProducerUpdateArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: ProducerCreateArgs,

    /// Rename the dynamic secret.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
}

impl ApiRequest for ProducerUpdateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        self.fields.resolve_inputs(inputs)
    }
}

/// Commands that only name a dynamic secret: get, delete, tmp-creds list.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SecretNameArgs {
    /// Dynamic secret name.
    #[arg(short = 'n', long)]
    pub name: String,
}

impl ApiRequest for SecretNameArgs {}

/// Commands without flags of their own (the producer lists).
#[derive(Debug, Clone, Args, Serialize)]
pub struct NoArgs {}

impl ApiRequest for NoArgs {}
