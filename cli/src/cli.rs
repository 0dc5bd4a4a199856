//! The command line: global flags and the list of commands. Each command's flags live with
//! its request type in [`crate::commands`].

use std::path::PathBuf;

use clap::builder::{BoolishValueParser, OsStringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::commands::api::ApiCommand;
use crate::commands::configure::{AuthArgs, ConfigureArgs};

const AFTER_HELP: &str = "\
Settings are taken from flags, then environment variables, then the profile file
($MAYFLY_CONFIG_DIR/profiles.toml, else ~/.mayfly/profiles.toml, written by `mayfly configure`).

Environment variables:
  MAYFLY_GATEWAY_URL  MAYFLY_TOKEN  MAYFLY_PROFILE  MAYFLY_CA_CERT  MAYFLY_INSECURE
  MAYFLY_ACCESS_ID    MAYFLY_ACCESS_KEY  (the API key; read by every command)
  MAYFLY_ACCESS_TYPE  MAYFLY_JWT  (log in with a JWT instead; see below)
  MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN  MAYFLY_K8S_AUTH_CONFIG_NAME  (or a Kubernetes token)
  MAYFLY_CONFIG_DIR   (directory of profiles.toml)

Without --token / MAYFLY_TOKEN, each command first logs in with the API key (/auth) and then
sends the token it got. The API key flags --access-id / --access-key exist only on `configure`
and `auth`: on target commands --access-key is the AWS secret access key, as in the akeyless
CLI, on get-audit-events --access-id filters events by caller, and on the
gateway-*-k8s-auth-config commands it names the config's Kubernetes auth method. Elsewhere
give the API key through the profile or MAYFLY_ACCESS_ID / MAYFLY_ACCESS_KEY.

With MAYFLY_ACCESS_TYPE=jwt (or oidc), commands log in with MAYFLY_ACCESS_ID and the JWT in
MAYFLY_JWT (the token or @FILE; a CI system's OIDC token) instead of the API key. With k8s,
they log in with the pod's service-account token (MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN, else
/var/run/secrets/kubernetes.io/serviceaccount/token); with aws_iam, with the machine's AWS
credentials (AWS's default chain: environment, profile, web identity, ECS, EC2 metadata).

Output is the gateway's JSON on stdout. Errors go to stderr; the exit code is 1 for a failed
request and 2 for a usage error.";

/// mayfly: short-lived AWS credentials from a Mayfly gateway.
///
/// A thin HTTPS client: every command is one POST of a JSON body to the gateway path of the
/// same name (the Akeyless Gateway REST API), so the commands and flags mirror the akeyless CLI.
#[derive(Debug, Parser)]
#[command(name = "mayfly", version, after_long_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Gateway base URL; must be https:// (a path prefix such as /api/v2 is kept).
    #[arg(
        long,
        global = true,
        env = "MAYFLY_GATEWAY_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub gateway_url: Option<String>,

    /// Token from `mayfly auth`; without it each command logs in with the API key first.
    #[arg(
        long,
        global = true,
        env = "MAYFLY_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,

    /// Profile to read (and, for `configure`, to write).
    #[arg(
        long,
        global = true,
        env = "MAYFLY_PROFILE",
        hide_env_values = true,
        default_value = "default",
        value_name = "NAME"
    )]
    pub profile: String,

    /// PEM file of a CA to trust besides the system roots (the gateway's generated
    /// <data-dir>/tls/ca.pem).
    #[arg(
        long,
        global = true,
        env = "MAYFLY_CA_CERT",
        hide_env_values = true,
        value_name = "FILE",
        // Unlike clap's PathBuf parser this accepts "", so an exported but empty
        // MAYFLY_CA_CERT means "none" instead of failing every command.
        value_parser = OsStringValueParser::new().map(PathBuf::from)
    )]
    pub ca_cert: Option<PathBuf>,

    /// Do not verify the gateway's TLS certificate. Development only: anyone on the path can
    /// read the API key and the credentials. Never allows http://.
    #[arg(
        long,
        global = true,
        env = "MAYFLY_INSECURE",
        hide_env_values = true,
        value_parser = BoolishValueParser::new(),
        action = clap::ArgAction::SetTrue
    )]
    pub insecure: bool,

    /// Accepted for akeyless compatibility; output is always JSON.
    #[arg(long, global = true, hide = true)]
    pub json: bool,
}

/// Every `mayfly` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store the gateway URL, CA certificate and API key in a profile (mode 0600).
    ///
    /// Writes the global --gateway-url and --ca-cert, and --access-id / --access-key (the
    /// Mayfly API key), into the profile chosen with --profile. Only the given settings
    /// change; other profiles are kept. (On target commands --access-key is instead the AWS
    /// secret access key, as in the akeyless CLI.)
    Configure(ConfigureArgs),

    /// Log in with an API key or a workload identity (/auth) and print the token.
    ///
    /// The key comes from --access-id / --access-key, else MAYFLY_ACCESS_ID /
    /// MAYFLY_ACCESS_KEY, else the profile. With --access-type jwt (or oidc), the JWT auth
    /// method's access id comes the same way and the token from --jwt / MAYFLY_JWT. With k8s,
    /// the token is the pod's service-account token (--k8s-service-account-token, else the
    /// file Kubernetes mounts; MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH overrides that path, for
    /// tests). With aws_iam, the CLI signs an sts:GetCallerIdentity request with the machine's
    /// AWS credentials (AWS's default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
    /// AWS_SESSION_TOKEN, the shared config and credentials files with AWS_PROFILE, web
    /// identity, the ECS container endpoint, then the EC2 instance metadata service); the
    /// keys never leave the machine.
    Auth(AuthArgs),

    #[command(flatten)]
    Api(Box<ApiCommand>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "mayfly",
            "list-targets",
            "--gateway-url",
            "https://h:8000",
            "--profile",
            "prod",
            "--insecure",
        ])
        .unwrap();
        assert_eq!(cli.global.gateway_url.as_deref(), Some("https://h:8000"));
        assert_eq!(cli.global.profile, "prod");
        assert!(cli.global.insecure);
    }

    #[test]
    fn empty_ca_cert_is_accepted_as_none_later() {
        let cli = Cli::try_parse_from(["mayfly", "--ca-cert", "", "list-items"]).unwrap();
        assert_eq!(cli.global.ca_cert, Some(PathBuf::new()));
    }

    #[test]
    fn access_id_on_get_audit_events_is_the_filter_not_the_api_key() {
        let cli =
            Cli::try_parse_from(["mayfly", "get-audit-events", "--access-id", "p-ci"]).unwrap();
        let Command::Api(command) = cli.command else {
            panic!("not an API command");
        };
        assert_eq!(command.body().unwrap()["access-id"], "p-ci");
        // Elsewhere the API key flags stay confined to configure and auth.
        let error =
            Cli::try_parse_from(["mayfly", "list-roles", "--access-id", "p-ci"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn auth_takes_an_access_type_and_a_jwt() {
        let cli = Cli::try_parse_from([
            "mayfly",
            "auth",
            "--access-type",
            "oidc",
            "--access-id",
            "p-ci",
            "--jwt",
            "@/run/token",
        ])
        .unwrap();
        let Command::Auth(args) = cli.command else {
            panic!("not auth");
        };
        assert_eq!(args.access_type, crate::settings::AccessType::Oidc);
        assert_eq!(args.jwt.as_deref(), Some("@/run/token"));
        assert!(!format!("{args:?}").contains("/run/token"));
        let error = Cli::try_parse_from(["mayfly", "auth", "--access-type", "gcp"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        // Empty (an exported but empty MAYFLY_ACCESS_TYPE) is the default, the API key.
        let cli = Cli::try_parse_from(["mayfly", "auth", "--access-type", ""]).unwrap();
        let Command::Auth(args) = cli.command else {
            panic!("not auth");
        };
        assert_eq!(args.access_type, crate::settings::AccessType::AccessKey);
        // --jwt belongs to auth only; other commands read MAYFLY_JWT.
        let error = Cli::try_parse_from(["mayfly", "list-roles", "--jwt", "x"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn auth_takes_a_k8s_token_and_config_name_and_aws_iam() {
        let cli = Cli::try_parse_from([
            "mayfly",
            "auth",
            "--access-type",
            "k8s",
            "--access-id",
            "p-k8s",
            "--k8s-service-account-token",
            "eyJ.secret.sig",
            "--k8s-auth-config-name",
            "prod",
        ])
        .unwrap();
        let Command::Auth(args) = cli.command else {
            panic!("not auth");
        };
        assert_eq!(args.access_type, crate::settings::AccessType::K8s);
        assert_eq!(args.k8s_auth_config_name.as_deref(), Some("prod"));
        assert_eq!(
            args.k8s_service_account_token.as_deref(),
            Some("eyJ.secret.sig")
        );
        assert!(!format!("{args:?}").contains("eyJ"));
        let cli = Cli::try_parse_from([
            "mayfly",
            "auth",
            "--access-type",
            "aws_iam",
            "--access-id",
            "p-aws",
        ])
        .unwrap();
        let Command::Auth(args) = cli.command else {
            panic!("not auth");
        };
        assert_eq!(args.access_type, crate::settings::AccessType::AwsIam);
        // Like --jwt, the token flag belongs to auth only.
        let error =
            Cli::try_parse_from(["mayfly", "list-roles", "--k8s-service-account-token", "x"])
                .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn k8s_auth_config_commands_take_the_methods_access_id_and_hide_the_reviewer_jwt() {
        let cli = Cli::try_parse_from([
            "mayfly",
            "gateway-create-k8s-auth-config",
            "--name",
            "prod",
            "--access-id",
            "p-k8s",
            "--k8s-host",
            "https://10.0.0.1:6443",
            "--token-reviewer-jwt",
            "eyJ.reviewer.sig",
            "--signing-key",
            "c2lnbmluZy1rZXk=",
            "--disable-issuer-validation",
            "--gateway-url",
            "https://h:8000",
        ])
        .unwrap();
        assert_eq!(cli.global.gateway_url.as_deref(), Some("https://h:8000"));
        let Command::Api(command) = cli.command else {
            panic!("not an API command");
        };
        assert_eq!(command.path(), "gateway-create-k8s-auth-config");
        // --access-id is the config's auth method, sent in the body, not the API key.
        let body = command.body().unwrap();
        assert_eq!(body["access-id"], "p-k8s");
        assert_eq!(body["disable-issuer-validation"], "true");
        // The reviewer JWT and the signing key never show in Debug output.
        let shown = format!("{command:?}");
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(!shown.contains("c2lnbmluZy1rZXk"), "{shown}");
        assert!(shown.contains("p-k8s"), "{shown}");

        let cli = Cli::try_parse_from([
            "mayfly",
            "gateway-update-k8s-auth-config",
            "-n",
            "prod",
            "--new-name",
            "prod-eu",
            "--token-reviewer-jwt",
            "@/run/reviewer.jwt",
        ])
        .unwrap();
        let Command::Api(command) = cli.command else {
            panic!("not an API command");
        };
        assert_eq!(command.path(), "gateway-update-k8s-auth-config");
        assert!(!format!("{command:?}").contains("/run/reviewer.jwt"));
        for path in [
            "gateway-get-k8s-auth-config",
            "gateway-delete-k8s-auth-config",
        ] {
            let cli = Cli::try_parse_from(["mayfly", path, "--name", "prod"]).unwrap();
            let Command::Api(command) = cli.command else {
                panic!("not an API command");
            };
            assert_eq!(command.path(), path);
            assert_eq!(command.body().unwrap(), serde_json::json!({"name": "prod"}));
        }
        // Create needs the name, the method and the API server; get and delete the name.
        for args in [
            &[
                "gateway-create-k8s-auth-config",
                "--name",
                "prod",
                "--access-id",
                "p-k8s",
            ][..],
            &[
                "gateway-create-k8s-auth-config",
                "--access-id",
                "p-k8s",
                "--k8s-host",
                "https://10.0.0.1:6443",
            ],
            &[
                "gateway-create-k8s-auth-config",
                "--name",
                "prod",
                "--k8s-host",
                "https://10.0.0.1:6443",
            ],
            &["gateway-update-k8s-auth-config", "--new-name", "x"],
            &["gateway-get-k8s-auth-config"],
            &["gateway-delete-k8s-auth-config"],
            &[
                "gateway-get-k8s-auth-config",
                "--name",
                "prod",
                "--access-id",
                "p",
            ],
        ] {
            let error = Cli::try_parse_from(std::iter::once("mayfly").chain(args.iter().copied()))
                .unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn unknown_flag_is_a_usage_error_with_exit_code_2() {
        let error = Cli::try_parse_from(["mayfly", "list-targets", "--bogus"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }
}
