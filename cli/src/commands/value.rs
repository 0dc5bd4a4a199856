//! `get-dynamic-secret-value` / `dynamic-secret-get-value`: issue a credential.
//!
//! Besides JSON, the value can be printed as shell `export` lines or as the AWS CLI's
//! `credential_process` document, so that an AWS profile can run `mayfly` directly:
//!
//! ```ini
//! [profile s3-reader]
//! credential_process = mayfly get-dynamic-secret-value -n /prod/s3-reader --output credential-process
//! ```

use std::io::Write;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::Value;

use super::ApiRequest;
use crate::client::DEFAULT_HTTP_TIMEOUT;
use crate::error::CliError;
use crate::input::Inputs;
use crate::output::{self, AwsCredentials};

/// How to print the value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ValueOutput {
    /// The gateway's JSON object.
    #[default]
    Json,
    /// `export AWS_ACCESS_KEY_ID=...` lines for `eval "$(...)"`.
    Env,
    /// The JSON an AWS CLI `credential_process` must print.
    CredentialProcess,
    /// A one-time AWS console sign-in link (STS sessions of assume_role and federation_token;
    /// the account's sign-in page for IAM users with a password). The page it opens:
    /// `--args console_destination=https://console.aws.amazon.com/s3/`.
    ConsoleUrl,
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct ValueArgs {
    /// Dynamic secret name.
    #[arg(short = 'n', long)]
    pub name: String,

    /// Request argument key=value (repeatable): role_arn=ARN picks one of the producer's
    /// roles, ttl=DURATION asks for a shorter TTL.
    #[arg(long = "args", value_name = "KEY=VALUE")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,

    /// Seconds the gateway may spend issuing the credential [gateway default].
    #[arg(long, value_name = "SECONDS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,

    /// Target to use instead of the producer's own.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,

    /// Host (accepted for akeyless compatibility).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ValueOutput::Json)]
    #[serde(skip)]
    pub output: ValueOutput,
}

impl ApiRequest for ValueArgs {
    /// `--output console-url` asks the gateway for the link (`args: output=console-url`).
    fn resolve_inputs(&mut self, _inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        if self.output == ValueOutput::ConsoleUrl
            && !self.args.iter().any(|a| a.trim().starts_with("output="))
        {
            self.args.push("output=console-url".into());
        }
        Ok(())
    }

    /// The gateway may take up to `--timeout` seconds talking to AWS; wait a little longer so
    /// its own deadline answer (504) arrives instead of a client-side timeout.
    fn http_timeout(&self) -> Duration {
        let asked = Duration::from_secs(u64::from(self.timeout.unwrap_or(0)) + 15);
        asked.max(DEFAULT_HTTP_TIMEOUT)
    }

    fn render(&self, answer: &Value, out: &mut dyn Write) -> Result<(), CliError> {
        match self.output {
            ValueOutput::Json => output::print_json(answer, out),
            ValueOutput::Env => {
                let text = AwsCredentials::from_value(answer)?.to_env();
                out.write_all(text.as_bytes()).map_err(CliError::Output)
            }
            ValueOutput::CredentialProcess => {
                let text = AwsCredentials::from_value(answer)?.to_credential_process()?;
                writeln!(out, "{text}").map_err(CliError::Output)
            }
            ValueOutput::ConsoleUrl => {
                let link = answer["console_url"].as_str().ok_or_else(|| {
                    CliError::InvalidResponse("the gateway's answer has no console_url".into())
                })?;
                writeln!(out, "{link}").map_err(CliError::Output)
            }
        }
    }
}
