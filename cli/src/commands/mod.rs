//! The commands. Each API command's flags are a struct that derives both `clap::Args` and
//! `serde::Serialize`: the parsed flags *are* the request body, with serde renames where the
//! akeyless flag and wire names differ (`--aws-access-mode` is sent as `access-mode`).
//!
//! - [`api`]: the table of API commands (name = gateway path = request type) and its runner.
//! - [`configure`]: `configure` and `auth`, the two commands about the API key.
//! - [`targets`], [`producers`], [`items`], [`tmp_creds`], [`value`], [`access`],
//!   [`k8s_auth_config`]: request types.

pub mod access;
pub mod api;
pub mod configure;
pub mod items;
pub mod k8s_auth_config;
pub mod producers;
pub mod targets;
pub mod tmp_creds;
pub mod value;

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::client::DEFAULT_HTTP_TIMEOUT;
use crate::error::CliError;
use crate::input::Inputs;
use crate::output;
use crate::wire::{BoolFlag as _, BoolString};

/// `--delete-protection`, shared by targets, dynamic secrets, auth methods and roles. Sent as
/// the string "true"/"false", as the Akeyless API takes it.
#[derive(Debug, Clone, Default, clap::Args, serde::Serialize)]
pub struct DeleteProtection {
    /// Refuse deletion while true (sent as the string "true"/"false").
    #[arg(long, bool_flag())]
    #[serde(rename = "delete_protection", skip_serializing_if = "Option::is_none")]
    pub delete_protection: Option<BoolString>,
}

/// What a request type may add to the plain "serialize, POST, print JSON" flow. Every method
/// has the plain behaviour as its default, so most request types implement none of them.
pub trait ApiRequest {
    /// Replaces indirect flag values (`-` for stdin, `@FILE`) before the body is built.
    fn resolve_inputs(&mut self, _inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        Ok(())
    }

    /// How long the whole HTTP request may take.
    fn http_timeout(&self) -> Duration {
        DEFAULT_HTTP_TIMEOUT
    }

    /// Prints the gateway's answer.
    fn render(&self, answer: &Value, out: &mut dyn Write) -> Result<(), CliError> {
        output::print_json(answer, out)
    }

    /// After the answer, wait for the revoker to end this dynamic secret's credentials
    /// (`--wait`): its name and how long to wait at most.
    fn wait_for_revocation(&self) -> Option<(&str, Duration)> {
        None
    }
}
