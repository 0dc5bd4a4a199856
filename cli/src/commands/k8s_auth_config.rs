//! Kubernetes auth configs (`gateway-create-k8s-auth-config`, `-get-`, `-update-`,
//! `-delete-`): the cluster side of a Kubernetes auth method. With one, a pod's login names
//! the config (`mayfly auth --access-type k8s --k8s-auth-config-name NAME`) and the gateway
//! has the cluster's TokenReview API vouch for the token, so the method needs no keys.
//!
//! `--access-id` here is the access id of the Kubernetes auth method the config belongs to,
//! as in the akeyless CLI: not the API key this command logs in with (that comes from the
//! profile or MAYFLY_ACCESS_ID / MAYFLY_ACCESS_KEY, which this flag never reads).
//!
//! The token reviewer JWT is a credential of the cluster: it is read from `-` (stdin) or
//! `@FILE` like `--jwt`, never shown in `Debug` output, and never printed: the gateway seals
//! it and shows only `token_reviewer_jwt_set`.

use std::fmt;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use clap::Args;
use serde::Serialize;

use super::access::jwks_for_the_wire;
use super::ApiRequest;
use crate::error::CliError;
use crate::input::Inputs;
use crate::wire::{BoolFlag as _, BoolString};

/// The cluster settings `gateway-create-k8s-auth-config` and `-update-` share.
#[derive(Clone, Default, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct K8sClusterArgs {
    /// The CA certificate the API server's certificate chains to: PEM, @FILE (a ca.crt, as
    /// PEM), or base64 of the PEM (certificate-authority-data of a kubeconfig); PEM is
    /// base64-encoded here before it is sent [default: the gateway's system roots].
    #[arg(long, value_name = "PEM|@FILE|BASE64", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s_ca_cert: Option<String>,

    /// The token of a service account allowed to create TokenReviews (bound to
    /// system:auth-delegator): the JWT, @FILE, or "-" to read it from stdin. Without it, each
    /// login's own token is the bearer of its review. The gateway seals it and never shows
    /// it; it is never printed.
    #[arg(long, value_name = "JWT|@FILE|-")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_reviewer_jwt: Option<String>,

    /// The iss every token must carry, the cluster's service-account issuer (e.g.
    /// https://kubernetes.default.svc.cluster.local) [default: the auth method's].
    #[arg(long, value_name = "ISSUER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s_issuer: Option<String>,

    /// Do not check the tokens' iss (sent as the string "true"/"false") [gateway default:
    /// false].
    #[arg(long, bool_flag())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_issuer_validation: Option<BoolString>,

    /// Mayfly extension: the cluster's service-account signing keys (`kubectl get --raw
    /// /openid/v1/jwks`): the JWKS JSON base64-encoded, or @FILE holding the JWKS JSON
    /// (base64-encoded here before it is sent). Logins through the config are then verified
    /// offline with these keys, without calling the API server.
    #[arg(long, value_name = "BASE64|@FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_json_data: Option<String>,

    /// Accepted for akeyless compatibility (the akeyless CLI requires it); Mayfly's gateway
    /// signs nothing with it and discards it.
    #[arg(long, value_name = "KEY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,

    /// Accepted for akeyless compatibility; the gateway discards it (a login's token lives
    /// for the auth method's --jwt-ttl).
    #[arg(long, value_name = "SECONDS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_exp: Option<u32>,
}

impl fmt::Debug for K8sClusterArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("K8sClusterArgs")
            .field("k8s_ca_cert", &self.k8s_ca_cert)
            .field("token_reviewer_jwt", &hidden(&self.token_reviewer_jwt))
            .field("k8s_issuer", &self.k8s_issuer)
            .field("disable_issuer_validation", &self.disable_issuer_validation)
            .field("jwks_json_data", &self.jwks_json_data)
            .field("signing_key", &hidden(&self.signing_key))
            .field("token_exp", &self.token_exp)
            .finish()
    }
}

impl K8sClusterArgs {
    /// Reads `@FILE` and `-` values and puts the CA and the JWKS in their wire form.
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        inputs.optional_token("--token-reviewer-jwt", &mut self.token_reviewer_jwt)?;
        inputs.file_reference("--k8s-ca-cert", &mut self.k8s_ca_cert)?;
        if let Some(ca) = &mut self.k8s_ca_cert {
            *ca = ca_cert_for_the_wire(ca);
        }
        inputs.file_reference("--jwks-json-data", &mut self.jwks_json_data)?;
        if let Some(data) = &mut self.jwks_json_data {
            *data = jwks_for_the_wire(data);
        }
        Ok(())
    }
}

/// `k8s-ca-cert` travels base64-encoded, as the Akeyless tools send it: PEM (from @FILE, or
/// given inline) is encoded here; anything else is taken to be base64 already and sent as
/// given (the gateway says so if it is neither).
fn ca_cert_for_the_wire(data: &str) -> String {
    let data = data.trim();
    if data.contains("-----BEGIN") {
        BASE64.encode(format!("{data}\n"))
    } else {
        data.to_owned()
    }
}

/// `gateway-create-k8s-auth-config`. Prints {"name": ..., "cluster_id": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(
    after_help = "Example (a method without keys of its own; the gateway runs with the API server's origin
in MAYFLY_ALLOWED_ENDPOINTS when it is a private address):
  mayfly create-auth-method-k8s --name /k8s/online --audience mayfly --bound-namespaces 'team-*'
  mayfly gateway-create-k8s-auth-config --name prod --access-id p-... \\
    --k8s-host https://10.0.0.1:6443 --k8s-ca-cert @ca.crt --token-reviewer-jwt @reviewer.jwt \\
    --k8s-issuer https://kubernetes.default.svc.cluster.local
In the pod: mayfly auth --access-type k8s --access-id p-... --k8s-auth-config-name prod"
)]
pub struct K8sAuthConfigCreateArgs {
    /// The config's name, which logins give as --k8s-auth-config-name (letters, digits and
    /// - _ . /), e.g. prod.
    #[arg(short = 'n', long)]
    pub name: String,

    /// The access id of the Kubernetes auth method the config belongs to (what
    /// create-auth-method-k8s printed). Not the API key this command logs in with.
    #[arg(long, value_name = "ID")]
    pub access_id: String,

    /// The API server's https origin, e.g. https://10.0.0.1:6443 (a private address only as
    /// the gateway's MAYFLY_ALLOWED_ENDPOINTS allows).
    #[arg(long, value_name = "URL")]
    pub k8s_host: String,

    #[command(flatten)]
    #[serde(flatten)]
    pub cluster: K8sClusterArgs,
}

impl ApiRequest for K8sAuthConfigCreateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        self.cluster.resolve_inputs(inputs)
    }
}

/// `gateway-update-k8s-auth-config`: only the given fields change. Prints {"name": ...,
/// "cluster_id": ...}.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
#[command(
    after_help = "A config that keeps a token reviewer JWT is only pointed at another --k8s-host or
--k8s-ca-cert with the JWT given again: the gateway never sends a stored one to a new server.
Examples:
  mayfly gateway-update-k8s-auth-config --name prod --new-name prod-eu --disable-issuer-validation
  cat reviewer.jwt | mayfly gateway-update-k8s-auth-config --name prod-eu --token-reviewer-jwt -"
)]
pub struct K8sAuthConfigUpdateArgs {
    /// Name of the config to update.
    #[arg(short = 'n', long)]
    pub name: String,

    /// Rename the config (logins then give the new name).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,

    /// Move the config to another Kubernetes auth method, by its access id (needs update on
    /// both methods). Not the API key this command logs in with.
    #[arg(long, value_name = "ID")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_id: Option<String>,

    /// The API server's new https origin.
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s_host: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    pub cluster: K8sClusterArgs,
}

impl ApiRequest for K8sAuthConfigUpdateArgs {
    fn resolve_inputs(&mut self, inputs: &mut Inputs<'_>) -> Result<(), CliError> {
        self.cluster.resolve_inputs(inputs)
    }
}

/// `gateway-get-k8s-auth-config`, `gateway-delete-k8s-auth-config`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct K8sAuthConfigNameArgs {
    /// The config's name.
    #[arg(short = 'n', long)]
    pub name: String,
}

impl ApiRequest for K8sAuthConfigNameArgs {}
