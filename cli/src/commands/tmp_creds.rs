//! Issued credentials ("tmp creds") of a dynamic secret: revoke and change their TTL.
//! (Listing them takes only a name: [`super::producers::SecretNameArgs`].)

use clap::{ArgGroup, Args};
use serde::Serialize;

use std::time::Duration;

use super::ApiRequest;
use crate::wire::{BoolFlag as _, WireBool};

/// `gateway-revoke-producer-tmp-creds` / `dynamic-secret-tmp-creds-delete`.
#[derive(Debug, Clone, Args, Serialize)]
#[command(group(ArgGroup::new("which").required(true).args(["tmp_creds_id", "revoke_all"])))]
#[serde(rename_all = "kebab-case")]
pub struct TmpCredsRevokeArgs {
    /// Dynamic secret name.
    #[arg(short = 'n', long)]
    pub name: String,

    /// The credential to revoke (the `id` of its value, listed by the tmp-creds-get command).
    #[arg(long, value_name = "ID")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmp_creds_id: Option<String>,

    /// Revoke every credential of the dynamic secret.
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_all: Option<WireBool>,

    /// Akeyless soft delete (forget the credential without revoking it upstream).
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_delete: Option<WireBool>,

    /// Host (accepted for akeyless compatibility).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,

    /// Mayfly: after the gateway accepts the revocation (it answers at once and its revoker
    /// ends the credentials right after), wait until none is left, printing revoked/remaining
    /// on stderr. Fails if some are still live after --wait-timeout.
    #[arg(long)]
    #[serde(skip)]
    pub wait: bool,

    /// Seconds --wait waits at most.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, requires = "wait")]
    #[serde(skip)]
    pub wait_timeout: u64,
}

impl ApiRequest for TmpCredsRevokeArgs {
    fn wait_for_revocation(&self) -> Option<(&str, Duration)> {
        self.wait
            .then(|| (self.name.as_str(), Duration::from_secs(self.wait_timeout)))
    }
}

/// `gateway-update-producer-tmp-creds` / `dynamic-secret-tmp-creds-update`.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TmpCredsUpdateArgs {
    /// Dynamic secret name.
    #[arg(short = 'n', long)]
    pub name: String,

    /// The credential to change.
    #[arg(long, value_name = "ID")]
    pub tmp_creds_id: String,

    /// New TTL in minutes, counted from when the credential was issued (at most the dynamic
    /// secret's max TTL, or its user-ttl without one).
    #[arg(long, value_name = "MINUTES")]
    pub new_ttl_min: u32,

    /// Host (the SDK always sends it; accepted for akeyless compatibility).
    #[arg(long, default_value = "", hide_default_value = true)]
    pub host: String,
}

impl ApiRequest for TmpCredsUpdateArgs {}
