//! `configure` and `auth`: the two commands that take the API key as flags.
//!
//! Only these two have `--access-id` / `--access-key` (also `MAYFLY_ACCESS_ID` /
//! `MAYFLY_ACCESS_KEY`): on target commands `--access-key` is the AWS secret access key, as in
//! the akeyless CLI, so the API key cannot be a global flag. `auth` can also log in with a
//! JWT instead (`--access-type jwt|oidc --jwt ...`, also `MAYFLY_ACCESS_TYPE` / `MAYFLY_JWT`),
//! a Kubernetes service-account token (`--access-type k8s`, by default the pod's token file)
//! or the machine's AWS identity (`--access-type aws_iam`).

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::client::{self, GatewayUrl, DEFAULT_HTTP_TIMEOUT};
use crate::error::CliError;
use crate::input::Inputs;
use crate::output;
use crate::profile::Profile;
use crate::session;
use crate::settings::{self, AccessType, AccessTypeParser, Credential, Environment, LoadedProfile};
use crate::Io;

/// The API key flags.
#[derive(Clone, Args)]
pub struct ApiKeyArgs {
    /// API key access id (p-...).
    #[arg(
        long,
        env = "MAYFLY_ACCESS_ID",
        hide_env_values = true,
        value_name = "ID"
    )]
    pub access_id: Option<String>,

    /// API key secret ("-" reads it from stdin).
    #[arg(
        long,
        env = "MAYFLY_ACCESS_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub access_key: Option<String>,
}

impl fmt::Debug for ApiKeyArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyArgs")
            .field("access_id", &self.access_id)
            .field("access_key", &self.access_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `mayfly configure` (its help text is on [`crate::cli::Command::Configure`]).
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example:\n  mayfly configure --gateway-url https://localhost:8000 \\\n    --ca-cert data/tls/ca.pem --access-id p-... --access-key ..."
)]
pub struct ConfigureArgs {
    #[command(flatten)]
    pub key: ApiKeyArgs,
}

/// `mayfly auth` (its help text is on [`crate::cli::Command::Auth`]).
#[derive(Clone, Args)]
#[command(after_help = "Examples:
  a CI job's OIDC token:
    mayfly auth --access-type jwt --access-id p-... --jwt @token.jwt
  a Kubernetes pod (reads /var/run/secrets/kubernetes.io/serviceaccount/token):
    mayfly auth --access-type k8s --access-id p-...
  an EC2 instance, ECS task, Lambda or EKS pod with an IAM role, or any AWS credentials:
    mayfly auth --access-type aws_iam --access-id p-...")]
pub struct AuthArgs {
    #[command(flatten)]
    pub key: ApiKeyArgs,

    /// How to log in: access_key (--access-id and --access-key); jwt / oidc (--access-id of a
    /// JWT auth method and --jwt); k8s (--access-id of a Kubernetes auth method, and the pod's
    /// service-account token); aws_iam (--access-id of an AWS IAM auth method, and the
    /// machine's AWS credentials).
    #[arg(
        long,
        env = "MAYFLY_ACCESS_TYPE",
        hide_env_values = true,
        value_name = "TYPE",
        value_parser = AccessTypeParser,
        default_value = "access_key"
    )]
    pub access_type: AccessType,

    /// The JWT for --access-type jwt or oidc: the token, @FILE (a token file), or "-" to read
    /// it from stdin. Surrounding whitespace is trimmed; the token is never printed.
    #[arg(
        long,
        env = "MAYFLY_JWT",
        hide_env_values = true,
        value_name = "JWT|@FILE|-"
    )]
    pub jwt: Option<String>,

    /// The service-account token for --access-type k8s: the token (or its base64), @FILE, or
    /// "-" to read it from stdin. Without it, the token file Kubernetes mounts in every pod is
    /// read: /var/run/secrets/kubernetes.io/serviceaccount/token. The token is never printed.
    #[arg(
        long,
        env = "MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN|@FILE|-"
    )]
    pub k8s_service_account_token: Option<String>,

    /// For --access-type k8s: the gateway's k8s auth config (gateway-create-k8s-auth-config)
    /// to verify the token with, through the cluster's TokenReview API. Without it, or when
    /// no config has the name, the auth method's own cluster keys verify the token.
    #[arg(
        long,
        env = "MAYFLY_K8S_AUTH_CONFIG_NAME",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub k8s_auth_config_name: Option<String>,
}

impl fmt::Debug for AuthArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthArgs")
            .field("key", &self.key)
            .field("access_type", &self.access_type)
            .field("jwt", &self.jwt.as_ref().map(|_| "***"))
            .field(
                "k8s_service_account_token",
                &self.k8s_service_account_token.as_ref().map(|_| "***"),
            )
            .field("k8s_auth_config_name", &self.k8s_auth_config_name)
            .finish()
    }
}

/// Validates what was given and merges it into the profile file; prints where it went.
pub fn configure(
    global: &GlobalArgs,
    args: ConfigureArgs,
    env: &Environment,
    io: &mut Io<'_>,
) -> Result<(), CliError> {
    let ApiKeyArgs {
        access_id,
        mut access_key,
    } = args.key;
    Inputs::new(&mut *io.stdin).optional_secret("--access-key", &mut access_key)?;

    let gateway_url = match global.gateway_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => {
            GatewayUrl::parse(url)?;
            Some(url.to_owned())
        }
        _ => None,
    };
    let ca_cert = match &global.ca_cert {
        Some(path) if !path.as_os_str().is_empty() => Some(checked_ca_path(path)?),
        _ => None,
    };
    let update = Profile {
        gateway_url,
        access_id: access_id.filter(|v| !v.is_empty()),
        access_key: access_key.filter(|v| !v.is_empty()),
        ca_cert,
    };
    if update == Profile::default() {
        return Err(CliError::usage(
            "nothing to configure: give --gateway-url, --ca-cert, --access-id or --access-key",
        ));
    }

    let store = env.profile_store()?;
    let stored = store.save_merged(&global.profile, update)?;
    output::print_json(
        &json!({
            "profile": global.profile,
            "profile_file": store.path().display().to_string(),
            "gateway_url": stored.gateway_url,
            "access_id": stored.access_id,
            "access_key_stored": stored.access_key.is_some(),
            "ca_cert": stored.ca_cert.as_ref().map(|p| p.display().to_string()),
        }),
        &mut *io.stdout,
    )
}

/// An absolute path (the profile is used from other directories) to a readable PEM bundle
/// with at least one certificate, so that a typo fails now rather than at the next command.
fn checked_ca_path(path: &Path) -> Result<PathBuf, CliError> {
    let absolute = std::path::absolute(path).map_err(|source| CliError::File {
        action: "cannot resolve",
        path: path.to_owned(),
        source,
    })?;
    client::read_ca_bundle(&absolute)?;
    Ok(absolute)
}

/// Logs in and prints the gateway's `/auth` answer (token, expiration, creds).
pub fn auth(
    global: &GlobalArgs,
    args: AuthArgs,
    env: &Environment,
    io: &mut Io<'_>,
) -> Result<(), CliError> {
    let AuthArgs {
        key: ApiKeyArgs {
            access_id,
            access_key,
        },
        access_type,
        jwt,
        k8s_service_account_token,
        k8s_auth_config_name,
    } = args;
    let mut credential = Credential {
        access_key,
        // Empty counts as not given, as for the other settings (an exported but empty
        // MAYFLY_JWT).
        jwt: jwt.filter(|v| !v.is_empty()),
        k8s_service_account_token: None,
        k8s_auth_config_name,
    };
    // Only the credential the access type uses is read (stdin feeds one flag).
    let mut inputs = Inputs::new(&mut *io.stdin);
    match access_type {
        AccessType::AccessKey => {
            inputs.optional_secret("--access-key", &mut credential.access_key)?;
        }
        AccessType::Jwt | AccessType::Oidc => {
            inputs.optional_token("--jwt", &mut credential.jwt)?
        }
        AccessType::K8s => {
            credential.k8s_service_account_token = Some(session::k8s_service_account_token(
                &mut inputs,
                "--k8s-service-account-token",
                k8s_service_account_token,
                env,
            )?);
        }
        // The AWS credentials are read when the login is sent.
        AccessType::AwsIam => {}
    }
    let profile = LoadedProfile::load(&global.profile, env)?;
    let login = settings::login(access_type, access_id, credential, &profile)?;
    let client = session::connect(global, &profile, DEFAULT_HTTP_TIMEOUT, &mut *io.stderr)?;
    let answer = session::authenticate(&client, &login)?;
    output::print_json(&answer, &mut *io.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileStore;

    const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUX3S0oXmTAjSkwzTGNUCqVz/BbIUwCgYIKoZIzj0EAwIw
ETEPMA0GA1UEAwwGdGVzdGNhMB4XDTI0MDEwMTAwMDAwMFoXDTM0MDEwMTAwMDAw
MFowETEPMA0GA1UEAwwGdGVzdGNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
-----END CERTIFICATE-----
";

    fn global(url: Option<&str>, ca: Option<PathBuf>, profile: &str) -> GlobalArgs {
        GlobalArgs {
            gateway_url: url.map(str::to_owned),
            token: None,
            profile: profile.to_owned(),
            ca_cert: ca,
            insecure: false,
            json: false,
        }
    }

    fn env_for(dir: &Path) -> Environment {
        Environment {
            config_dir: Some(dir.as_os_str().to_owned()),
            ..Environment::default()
        }
    }

    fn run_configure(
        global: &GlobalArgs,
        id: Option<&str>,
        key: Option<&str>,
        env: &Environment,
        stdin: &[u8],
    ) -> Result<String, CliError> {
        let mut stdin = stdin;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        let args = ConfigureArgs {
            key: ApiKeyArgs {
                access_id: id.map(str::to_owned),
                access_key: key.map(str::to_owned),
            },
        };
        configure(global, args, env, &mut io)?;
        Ok(String::from_utf8(stdout).unwrap())
    }

    #[test]
    fn configure_writes_the_profile_and_never_prints_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_for(dir.path());
        let g = global(Some("https://gw:8000"), None, "default");
        let printed = run_configure(&g, Some("p-1"), Some("the-key"), &env, b"").unwrap();
        assert!(!printed.contains("the-key"), "{printed}");
        let summary: serde_json::Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(summary["access_key_stored"], true);
        assert_eq!(summary["gateway_url"], "https://gw:8000");

        let stored = ProfileStore::at(dir.path().join("profiles.toml"))
            .load("default")
            .unwrap()
            .unwrap();
        assert_eq!(stored.access_id.as_deref(), Some("p-1"));
        assert_eq!(stored.access_key.as_deref(), Some("the-key"));
    }

    #[test]
    fn configure_reads_the_key_from_stdin_and_keeps_other_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_for(dir.path());
        let prod = global(Some("https://prod:8000"), None, "prod");
        run_configure(&prod, Some("p-prod"), Some("prod-key"), &env, b"").unwrap();
        let dev = global(Some("https://dev:8000"), None, "dev");
        run_configure(&dev, Some("p-dev"), Some("-"), &env, b"dev-key\n").unwrap();

        let store = ProfileStore::at(dir.path().join("profiles.toml"));
        assert_eq!(
            store.load("prod").unwrap().unwrap().access_key.as_deref(),
            Some("prod-key")
        );
        assert_eq!(
            store.load("dev").unwrap().unwrap().access_key.as_deref(),
            Some("dev-key")
        );
    }

    #[test]
    fn configure_refuses_http_and_empty_invocations() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_for(dir.path());
        let http = global(Some("http://gw:8000"), None, "default");
        let error = run_configure(&http, None, None, &env, b"").unwrap_err();
        assert!(error.to_string().contains("not https://"), "{error}");
        let nothing = global(None, None, "default");
        let error = run_configure(&nothing, None, None, &env, b"").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(!dir.path().join("profiles.toml").exists());
    }

    fn run_auth(args: AuthArgs, env: &Environment, stdin: &[u8]) -> (CliError, Vec<u8>) {
        let mut stdin = stdin;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        let error = auth(&global(None, None, "default"), args, env, &mut io).unwrap_err();
        (error, stdin.to_vec())
    }

    #[test]
    fn auth_reads_only_the_credential_of_its_access_type() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_for(dir.path());
        let jwt_args = |jwt: Option<&str>| AuthArgs {
            key: ApiKeyArgs {
                access_id: Some("p-ci".into()),
                access_key: Some("-".into()),
            },
            access_type: AccessType::Jwt,
            jwt: jwt.map(str::to_owned),
            k8s_service_account_token: Some("-".into()),
            k8s_auth_config_name: None,
        };
        // The JWT is read from stdin (--access-key "-" is not); the login then needs a
        // gateway URL, so the JWT was accepted.
        let (error, left) = run_auth(jwt_args(Some("-")), &env, b"eyJ.secret.sig\n");
        assert!(error.to_string().contains("no gateway URL"), "{error}");
        assert!(left.is_empty());
        let (error, _) = run_auth(jwt_args(None), &env, b"");
        assert!(error.to_string().contains("no JWT"), "{error}");
        assert_eq!(error.exit_code(), 2);
        let (error, _) = run_auth(jwt_args(Some("@/nonexistent/token")), &env, b"");
        assert!(error.to_string().contains("/nonexistent/token"), "{error}");

        // With access_key, --jwt is left alone: stdin goes to --access-key.
        let key_args = AuthArgs {
            access_type: AccessType::AccessKey,
            ..jwt_args(Some("-"))
        };
        let (error, left) = run_auth(key_args, &env, b"the-key\n");
        assert!(error.to_string().contains("no gateway URL"), "{error}");
        assert!(left.is_empty());

        // With k8s, stdin goes to --k8s-service-account-token.
        let k8s_args = |token: Option<&str>| AuthArgs {
            access_type: AccessType::K8s,
            k8s_service_account_token: token.map(str::to_owned),
            ..jwt_args(Some("-"))
        };
        let (error, left) = run_auth(k8s_args(Some("-")), &env, b"eyJ.pod.sig\n");
        assert!(error.to_string().contains("no gateway URL"), "{error}");
        assert!(left.is_empty());
        // Without the flag, the pod's token file (here, one that is missing).
        let missing = dir.path().join("no-token");
        let k8s_env = Environment {
            k8s_token_path: Some(missing.clone().into_os_string()),
            ..env_for(dir.path())
        };
        let (error, _) = run_auth(k8s_args(None), &k8s_env, b"");
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains(&missing.display().to_string()),
            "{error}"
        );
        // aws_iam reads no stdin and needs no credential to get as far as the gateway URL.
        let aws_args = AuthArgs {
            access_type: AccessType::AwsIam,
            ..k8s_args(Some("-"))
        };
        let (error, left) = run_auth(aws_args, &env, b"unread");
        assert!(error.to_string().contains("no gateway URL"), "{error}");
        assert_eq!(left, b"unread");
    }

    #[test]
    fn configure_stores_an_absolute_checked_ca_path() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_for(dir.path());
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, CA_PEM).unwrap();
        let g = global(None, Some(ca.clone()), "default");
        run_configure(&g, None, None, &env, b"").unwrap();
        let stored = ProfileStore::at(dir.path().join("profiles.toml"))
            .load("default")
            .unwrap()
            .unwrap();
        assert_eq!(stored.ca_cert.as_deref(), Some(ca.as_path()));

        let missing = global(None, Some(dir.path().join("nope.pem")), "default");
        assert!(run_configure(&missing, None, None, &env, b"").is_err());
        let not_pem = dir.path().join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let bad = global(None, Some(not_pem), "default");
        assert!(run_configure(&bad, None, None, &env, b"").is_err());
    }
}
