//! The table of API commands and the one function that runs any of them.
//!
//! Each row names the command, its request type and the gateway path; the command name *is*
//! the path, so a row is written once and the enum, the path lookup and the body builder are
//! generated from it. Older and newer akeyless names for one operation are separate rows
//! sharing a request type, because the gateway answers them with different shapes.

use clap::Subcommand;
use serde_json::Value;

use super::access::{
    AccessListArgs, AssocRoleAmArgs, AuditEventsArgs, AuthMethodAwsIamCreateArgs,
    AuthMethodAwsIamUpdateArgs, AuthMethodCreateArgs, AuthMethodK8sCreateArgs,
    AuthMethodK8sUpdateArgs, AuthMethodNameArgs, AuthMethodOAuth2CreateArgs,
    AuthMethodOAuth2UpdateArgs, AuthMethodUpdateArgs, DeleteAssocArgs, RevokeTokenArgs,
    RoleCreateArgs, RoleNameArgs, RoleRuleDeleteArgs, RoleRuleSetArgs,
};
use super::items::ListItemsArgs;
use super::k8s_auth_config::{
    K8sAuthConfigCreateArgs, K8sAuthConfigNameArgs, K8sAuthConfigUpdateArgs,
};
use super::producers::{NoArgs, ProducerCreateArgs, ProducerUpdateArgs, SecretNameArgs};
use super::targets::{
    TargetCreateArgs, TargetDeleteArgs, TargetListArgs, TargetNameArgs, TargetUpdateArgs,
};
use super::tmp_creds::{TmpCredsRevokeArgs, TmpCredsUpdateArgs};
use super::value::ValueArgs;
use super::ApiRequest;
use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::input::Inputs;
use crate::session;
use crate::settings::{Environment, LoadedProfile};
use crate::Io;

macro_rules! api_commands {
    ($( $(#[$doc:meta])* $variant:ident($args:ty) => $path:literal, )+) => {
        /// Every command that is a single gateway call.
        #[derive(Debug, Clone, Subcommand)]
        pub enum ApiCommand {
            $( $(#[$doc])* #[command(name = $path)] $variant($args), )+
        }

        impl ApiCommand {
            /// Every gateway path, in help order.
            pub const PATHS: &'static [&'static str] = &[$($path),+];

            /// The gateway path, which is also the command's name.
            pub fn path(&self) -> &'static str {
                match self { $( Self::$variant(_) => $path, )+ }
            }

            /// The request body (without the token): the parsed flags, serialized.
            pub fn body(&self) -> Result<Value, serde_json::Error> {
                match self { $( Self::$variant(args) => serde_json::to_value(args), )+ }
            }

            pub fn request(&self) -> &dyn ApiRequest {
                match self { $( Self::$variant(args) => args, )+ }
            }

            pub fn request_mut(&mut self) -> &mut dyn ApiRequest {
                match self { $( Self::$variant(args) => args, )+ }
            }
        }
    };
}

api_commands! {
    /// Create an AWS target (the admin credentials producers use, or the gateway's own AWS
    /// identity with --use-gw-cloud-identity). Prints {"target_id": N}.
    CreateAwsTarget(TargetCreateArgs) => "create-aws-target",
    /// Update an AWS target; only the given fields change.
    UpdateAwsTarget(TargetUpdateArgs) => "update-aws-target",
    /// Show a target (without its secret).
    GetTarget(TargetNameArgs) => "get-target",
    /// Show a target with its credentials, secret access key included (for a target on the
    /// gateway's identity: credential_source and the identity_arn it acts as).
    GetTargetDetails(TargetNameArgs) => "get-target-details",
    /// List targets.
    ListTargets(TargetListArgs) => "list-targets",
    /// Delete a target (refused while dynamic secrets use it, unless --force-deletion).
    DeleteTarget(TargetDeleteArgs) => "delete-target",

    /// Create an AWS target (newer name of create-aws-target).
    TargetCreateAws(TargetCreateArgs) => "target-create-aws",
    /// Update an AWS target (newer name of update-aws-target; prints {"target_id": N}).
    TargetUpdateAws(TargetUpdateArgs) => "target-update-aws",
    /// Show a target (newer name of get-target).
    TargetGet(TargetNameArgs) => "target-get",
    /// Show a target with its credentials (newer name of get-target-details).
    TargetGetDetails(TargetNameArgs) => "target-get-details",
    /// List targets (newer name of list-targets).
    TargetList(TargetListArgs) => "target-list",
    /// Delete a target (newer name of delete-target).
    TargetDelete(TargetDeleteArgs) => "target-delete",
    /// Mayfly extension: rotate the access key of the target's IAM user now (a new key is
    /// created, verified and stored, then the old one is deleted). Never prints a secret.
    TargetRotateCredentials(TargetNameArgs) => "target-rotate-credentials",

    /// Create an AWS dynamic secret (producer). Prints {"producer_details": {...}}.
    GatewayCreateProducerAws(ProducerCreateArgs) => "gateway-create-producer-aws",
    /// Update an AWS dynamic secret. As in Akeyless, the flags given replace the whole
    /// definition (unset flags take their defaults); the target is kept when neither
    /// --target-name nor inline keys are given.
    GatewayUpdateProducerAws(ProducerUpdateArgs) => "gateway-update-producer-aws",
    /// Show a dynamic secret.
    GatewayGetProducer(SecretNameArgs) => "gateway-get-producer",
    /// List dynamic secrets.
    GatewayListProducers(NoArgs) => "gateway-list-producers",
    /// Delete a dynamic secret, revoking its iam_user credentials first.
    GatewayDeleteProducer(SecretNameArgs) => "gateway-delete-producer",

    /// Create an AWS dynamic secret (newer name; prints {"dynamic_secret_details": {...}}).
    DynamicSecretCreateAws(ProducerCreateArgs) => "dynamic-secret-create-aws",
    /// Update an AWS dynamic secret (newer name of gateway-update-producer-aws).
    DynamicSecretUpdateAws(ProducerUpdateArgs) => "dynamic-secret-update-aws",
    /// Show a dynamic secret (newer name of gateway-get-producer).
    DynamicSecretGet(SecretNameArgs) => "dynamic-secret-get",
    /// List dynamic secrets (newer name of gateway-list-producers).
    DynamicSecretList(NoArgs) => "dynamic-secret-list",
    /// Delete a dynamic secret (newer name of gateway-delete-producer).
    DynamicSecretDelete(SecretNameArgs) => "dynamic-secret-delete",
    /// Mayfly extension: rotate the access key of a dynamic secret's inline credentials now.
    DynamicSecretRotateCredentials(SecretNameArgs) => "dynamic-secret-rotate-credentials",

    /// List the dynamic secrets in a folder.
    ListItems(ListItemsArgs) => "list-items",

    /// Issue a credential from a dynamic secret (JSON, shell exports or credential_process).
    GetDynamicSecretValue(ValueArgs) => "get-dynamic-secret-value",
    /// Issue a credential (newer name of get-dynamic-secret-value).
    DynamicSecretGetValue(ValueArgs) => "dynamic-secret-get-value",

    /// List the credentials issued by a dynamic secret.
    GatewayGetProducerTmpCreds(SecretNameArgs) => "gateway-get-producer-tmp-creds",
    /// Revoke one issued credential (--tmp-creds-id) or all of them (--revoke-all).
    GatewayRevokeProducerTmpCreds(TmpCredsRevokeArgs) => "gateway-revoke-producer-tmp-creds",
    /// Change the remaining lifetime of an issued credential.
    GatewayUpdateProducerTmpCreds(TmpCredsUpdateArgs) => "gateway-update-producer-tmp-creds",
    /// List issued credentials (newer name of gateway-get-producer-tmp-creds).
    DynamicSecretTmpCredsGet(SecretNameArgs) => "dynamic-secret-tmp-creds-get",
    /// Revoke issued credentials (newer name of gateway-revoke-producer-tmp-creds).
    DynamicSecretTmpCredsDelete(TmpCredsRevokeArgs) => "dynamic-secret-tmp-creds-delete",
    /// Change an issued credential's lifetime (newer name of gateway-update-producer-tmp-creds).
    DynamicSecretTmpCredsUpdate(TmpCredsUpdateArgs) => "dynamic-secret-tmp-creds-update",

    /// Create an API key auth method. Prints its access_id and access_key (shown only once).
    CreateAuthMethod(AuthMethodCreateArgs) => "create-auth-method",
    /// Create a JWT (OAuth2/OIDC) auth method: workloads log in with the token their identity
    /// provider issued (mayfly auth --access-type jwt). Prints {"access_id": ...}.
    CreateAuthMethodOauth2(AuthMethodOAuth2CreateArgs) => "create-auth-method-oauth2",
    /// Create a JWT auth method (newer name of create-auth-method-oauth2).
    AuthMethodCreateOauth2(AuthMethodOAuth2CreateArgs) => "auth-method-create-oauth2",
    /// Create a Kubernetes auth method: pods log in with their service-account token (mayfly
    /// auth --access-type k8s), verified against the cluster's keys or through a k8s auth
    /// config. Prints {"access_id": ...}.
    CreateAuthMethodK8s(AuthMethodK8sCreateArgs) => "create-auth-method-k8s",
    /// Create a Kubernetes auth method (newer name of create-auth-method-k8s).
    AuthMethodCreateK8s(AuthMethodK8sCreateArgs) => "auth-method-create-k8s",
    /// Create an AWS IAM auth method: anything with AWS credentials logs in with a signed
    /// sts:GetCallerIdentity (mayfly auth --access-type aws_iam). Prints {"access_id": ...}.
    CreateAuthMethodAwsIam(AuthMethodAwsIamCreateArgs) => "create-auth-method-aws-iam",
    /// Create an AWS IAM auth method (newer name of create-auth-method-aws-iam).
    AuthMethodCreateAwsIam(AuthMethodAwsIamCreateArgs) => "auth-method-create-aws-iam",
    /// Create a k8s auth config: the cluster a Kubernetes auth method's logins are verified
    /// with (its TokenReview API). Prints {"name": ..., "cluster_id": ...}.
    GatewayCreateK8sAuthConfig(K8sAuthConfigCreateArgs) => "gateway-create-k8s-auth-config",
    /// Show a k8s auth config (never its token reviewer JWT, only token_reviewer_jwt_set).
    GatewayGetK8sAuthConfig(K8sAuthConfigNameArgs) => "gateway-get-k8s-auth-config",
    /// Change a k8s auth config; only the given fields change.
    GatewayUpdateK8sAuthConfig(K8sAuthConfigUpdateArgs) => "gateway-update-k8s-auth-config",
    /// Delete a k8s auth config; logins naming it then fail (unless the method has keys).
    GatewayDeleteK8sAuthConfig(K8sAuthConfigNameArgs) => "gateway-delete-k8s-auth-config",
    /// Show an auth method and the roles it holds (never its key).
    GetAuthMethod(AuthMethodNameArgs) => "get-auth-method",
    /// List the auth methods the caller may list.
    ListAuthMethods(AccessListArgs) => "list-auth-methods",
    /// Delete an auth method; its tokens stop working (other gateways: within MAYFLY_CACHE_TTL).
    DeleteAuthMethod(AuthMethodNameArgs) => "delete-auth-method",
    /// Give an auth method a new access key, printed only this once; the old key and its
    /// tokens stop working (needs update on the auth method).
    ResetAccessKey(AuthMethodNameArgs) => "reset-access-key",
    /// Set or lift an auth method's delete protection (--delete-protection false), or change
    /// its description (needs update on the auth method).
    UpdateAuthMethod(AuthMethodUpdateArgs) => "update-auth-method",
    /// Set or lift an auth method's delete protection (newer name of update-auth-method).
    AuthMethodUpdateApiKey(AuthMethodUpdateArgs) => "auth-method-update-api-key",
    /// Change a JWT (OAuth2/OIDC) auth method: each flag given replaces the stored setting,
    /// the others stay (needs update on the auth method). Prints {"name": ...}.
    UpdateAuthMethodOauth2(AuthMethodOAuth2UpdateArgs) => "update-auth-method-oauth2",
    /// Change a JWT auth method (newer name of update-auth-method-oauth2).
    AuthMethodUpdateOauth2(AuthMethodOAuth2UpdateArgs) => "auth-method-update-oauth2",
    /// Change a Kubernetes auth method: each flag given replaces the stored setting, the
    /// others stay (needs update on the auth method). Prints {"name": ...}.
    UpdateAuthMethodK8s(AuthMethodK8sUpdateArgs) => "update-auth-method-k8s",
    /// Change a Kubernetes auth method (newer name of update-auth-method-k8s).
    AuthMethodUpdateK8s(AuthMethodK8sUpdateArgs) => "auth-method-update-k8s",
    /// Change an AWS IAM auth method: each flag given replaces the stored setting, the others
    /// stay (needs update on the auth method). Prints {"name": ...}.
    UpdateAuthMethodAwsIam(AuthMethodAwsIamUpdateArgs) => "update-auth-method-aws-iam",
    /// Change an AWS IAM auth method (newer name of update-auth-method-aws-iam).
    AuthMethodUpdateAwsIam(AuthMethodAwsIamUpdateArgs) => "auth-method-update-aws-iam",

    /// Create a role (a set of rules that auth methods can be given).
    CreateRole(RoleCreateArgs) => "create-role",
    /// Show a role: its rules and the auth methods holding it.
    GetRole(RoleNameArgs) => "get-role",
    /// List the roles the caller may list.
    ListRoles(AccessListArgs) => "list-roles",
    /// Delete a role (refused while it has delete protection).
    DeleteRole(RoleNameArgs) => "delete-role",
    /// Give a role capabilities on a path glob, for one rule type.
    SetRoleRule(RoleRuleSetArgs) => "set-role-rule",
    /// Remove a role's rule of one type on one path.
    DeleteRoleRule(RoleRuleDeleteArgs) => "delete-role-rule",
    /// Give an auth method a role. Prints {"assoc_id": ...}.
    AssocRoleAm(AssocRoleAmArgs) => "assoc-role-am",
    /// Take a role from an auth method, by association id.
    DeleteAssoc(DeleteAssocArgs) => "delete-assoc",

    /// Mayfly extension: end a token (by default the one this command runs with).
    RevokeToken(RevokeTokenArgs) => "revoke-token",
    /// Mayfly extension: read the audit trail (needs a role with audit-access own or all).
    GetAuditEvents(AuditEventsArgs) => "get-audit-events",
}

/// Runs one API command: resolve `-`/`@FILE` values, build the body, connect, get a token
/// (given, or by logging in), POST, print.
pub fn run(
    global: &GlobalArgs,
    mut command: ApiCommand,
    env: &Environment,
    io: &mut Io<'_>,
) -> Result<(), CliError> {
    let mut inputs = Inputs::new(&mut *io.stdin);
    command.request_mut().resolve_inputs(&mut inputs)?;
    let body = command
        .body()
        .map_err(|e| CliError::usage(format!("cannot build the request: {e}")))?;

    let profile = LoadedProfile::load(&global.profile, env)?;
    let client = session::connect(
        global,
        &profile,
        command.request().http_timeout(),
        &mut *io.stderr,
    )?;
    let token = session::token(&client, global, env, &profile, &mut inputs)?;
    let answer = client.post(command.path(), &with_token(body, token.clone())?)?;
    command.request().render(&answer, &mut *io.stdout)?;
    if let Some((name, timeout)) = command.request().wait_for_revocation() {
        // The gateway says how many it handed to the revoker (Mayfly's `revoking`).
        let handed = answer["revoking"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok());
        wait_for_revocation(&client, &token, name, handed, timeout, &mut *io.stderr)?;
    }
    Ok(())
}

/// Polls the tmp-creds list until no `iam_user` credential of `name` is live, printing
/// `revoked N, remaining M` on `progress` whenever it changes (N counted from `handed`, the
/// number the gateway said it is revoking, or else from the first listing).
fn wait_for_revocation(
    client: &crate::client::GatewayClient,
    token: &str,
    name: &str,
    handed: Option<usize>,
    timeout: std::time::Duration,
    progress: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let deadline = std::time::Instant::now() + timeout;
    let mut first: Option<usize> = handed;
    let mut shown: Option<usize> = None;
    loop {
        let list = client.post(
            "gateway-get-producer-tmp-creds",
            &serde_json::json!({"name": name, "token": token}),
        )?;
        let items = list.as_array().ok_or_else(|| {
            CliError::InvalidResponse("gateway-get-producer-tmp-creds did not return a list".into())
        })?;
        let live: Vec<&Value> = items
            .iter()
            .filter(|c| c["mode"] == "iam_user")
            .filter(|c| {
                matches!(
                    c["state"].as_str(),
                    Some("active" | "revoking" | "revoke_failed" | "creating")
                )
            })
            .collect();
        let remaining = live.len();
        let start = *first.get_or_insert(remaining);
        if shown != Some(remaining) {
            writeln!(
                progress,
                "revoked {}, remaining {remaining}",
                start.saturating_sub(remaining)
            )
            .map_err(CliError::Output)?;
            shown = Some(remaining);
        }
        if remaining == 0 {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            let failed = live
                .iter()
                .filter_map(|c| c["last_error"].as_str().filter(|e| !e.is_empty()))
                .next()
                .map(|e| format!("; one of them last failed with: {e}"))
                .unwrap_or_default();
            return Err(CliError::Usage(format!(
                "{remaining} credentials of {name} are still live after {}s; the revoker keeps retrying (gateway-get-producer-tmp-creds shows them){failed}",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Adds `token` to the body, where the Akeyless SDKs send it.
fn with_token(body: Value, token: String) -> Result<Value, CliError> {
    match body {
        Value::Object(mut map) => {
            map.insert("token".to_owned(), Value::String(token));
            Ok(Value::Object(map))
        }
        _ => Err(CliError::usage("a request body must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
    use clap::{CommandFactory, Parser};
    use serde_json::json;

    /// The API commands alone, so the tests do not depend on global flags or MAYFLY_* vars.
    #[derive(Debug, Parser)]
    struct Harness {
        #[command(subcommand)]
        command: ApiCommand,
    }

    fn parse(args: &[&str]) -> ApiCommand {
        let mut argv = vec!["mayfly"];
        argv.extend_from_slice(args);
        match Harness::try_parse_from(argv) {
            Ok(harness) => harness.command,
            Err(e) => panic!("{args:?} did not parse: {e}"),
        }
    }

    fn body(args: &[&str]) -> Value {
        parse(args).body().unwrap()
    }

    #[test]
    fn rotate_credentials_commands_send_the_name() {
        for path in [
            "target-rotate-credentials",
            "dynamic-secret-rotate-credentials",
        ] {
            assert_eq!(parse(&[path, "-n", "/aws"]).path(), path);
            assert_eq!(body(&[path, "--name", "/aws"]), json!({"name": "/aws"}));
        }
    }

    #[test]
    fn every_command_is_named_after_its_path() {
        let command = Harness::command();
        let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(names, ApiCommand::PATHS);
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert_eq!(parse(&["target-list"]).path(), "target-list");
        assert_eq!(
            parse(&["dynamic-secret-tmp-creds-delete", "-n", "x", "--revoke-all"]).path(),
            "dynamic-secret-tmp-creds-delete"
        );
    }

    #[test]
    fn harness_is_a_valid_command() {
        Harness::command().debug_assert();
    }

    #[test]
    fn producer_flags_map_to_wire_names() {
        let body = body(&[
            "gateway-create-producer-aws",
            "--name",
            "/p/ds",
            "--target-name",
            "/p/t",
            "--aws-access-mode",
            "assume_role",
            "--aws-region",
            "eu-west-1",
            "--aws-role-arns",
            "arn:aws:iam::123456789012:role/a,arn:aws:iam::123456789012:role/b",
            "--user-ttl",
            "1h30m",
            "-t",
            "a",
            "--tag",
            "b",
            "--delete-protection",
            "true",
            "--aws-user-console-access",
            "false",
            "--aws-user-programmatic-access",
            "true",
            "--password-length",
            "20",
            "--use-numbers",
            "false",
            "--max-ttl",
            "12h",
        ]);
        assert_eq!(
            body,
            json!({
                "name": "/p/ds",
                "target-name": "/p/t",
                "access-mode": "assume_role",
                "region": "eu-west-1",
                "aws-role-arns": "arn:aws:iam::123456789012:role/a,arn:aws:iam::123456789012:role/b",
                "user-ttl": "1h30m",
                "tags": ["a", "b"],
                "delete_protection": "true",
                "aws-user-console-access": false,
                "aws-user-programmatic-access": true,
                "password-length": "20",
                "use-numbers": "false",
                "max-ttl": "12h",
            })
        );
    }

    #[test]
    fn producer_extension_and_sts_flags_use_their_own_names() {
        let body = body(&[
            "dynamic-secret-update-aws",
            "-n",
            "ds",
            "--new-name",
            "ds2",
            "--aws-access-key-id",
            "AKIA",
            "--aws-access-secret-key",
            "s3cr3t",
            "--aws-user-policies",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--aws-user-groups",
            "g1,g2",
            "--aws-external-id",
            "ext",
            "--session-tags",
            "team=a",
            "--transitive-tag-keys",
            "team",
            "--custom-username-template",
            "tmp.{{.Random}}",
            "--aws-policy-document",
            "{}",
            "--aws-permissions-boundary",
            "arn:aws:iam::123456789012:policy/b",
            "--aws-user-path",
            "/mayfly/",
            "--aws-user-tags",
            "k=v",
            "--description",
            "d",
        ]);
        assert_eq!(
            body,
            json!({
                "name": "ds",
                "new-name": "ds2",
                "aws-access-key-id": "AKIA",
                "aws-access-secret-key": "s3cr3t",
                "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "aws-user-groups": "g1,g2",
                "aws-external-id": "ext",
                "session-tags": "team=a",
                "transitive-tag-keys": "team",
                "custom-username-template": "tmp.{{.Random}}",
                "aws-policy-document": "{}",
                "aws-permissions-boundary": "arn:aws:iam::123456789012:policy/b",
                "aws-user-path": "/mayfly/",
                "aws-user-tags": "k=v",
                "description": "d",
            })
        );
    }

    #[test]
    fn update_without_flags_sends_only_the_name() {
        assert_eq!(
            body(&["gateway-update-producer-aws", "--name", "ds"]),
            json!({"name": "ds"})
        );
        assert_eq!(
            body(&["update-aws-target", "--name", "t"]),
            json!({"name": "t"})
        );
    }

    #[test]
    fn target_flags_map_to_wire_names() {
        let body = body(&[
            "target-create-aws",
            "--name",
            "/t",
            "--access-key-id",
            "AKIA",
            "--access-key",
            "secret",
            "--region",
            "us-east-1",
            "--session-token",
            "tok",
            "--comment",
            "admin keys",
            "--delete-protection",
            "--iam-endpoint",
            "https://iam.local",
            "--sts-endpoint",
            "https://sts.local",
            "--rotation-interval-days",
            "30",
        ]);
        assert_eq!(
            body,
            json!({
                "name": "/t",
                "access-key-id": "AKIA",
                "access-key": "secret",
                "region": "us-east-1",
                "session-token": "tok",
                "description": "admin keys",
                "delete_protection": "true",
                "iam-endpoint": "https://iam.local",
                "sts-endpoint": "https://sts.local",
                "rotation-interval-days": 30,
            })
        );
    }

    #[test]
    fn target_create_requires_its_keys() {
        let error =
            Harness::try_parse_from(["mayfly", "create-aws-target", "--name", "t"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let error = Harness::try_parse_from([
            "mayfly",
            "target-create-aws",
            "--name",
            "t",
            "--access-key-id",
            "AKIA",
        ])
        .unwrap_err();
        assert_eq!(error.exit_code(), 2);
        // --use-gw-cloud-identity false passes clap (the flag is there) but is still a target
        // on keys: refused before anything is sent.
        for args in [
            &[
                "create-aws-target",
                "-n",
                "t",
                "--use-gw-cloud-identity",
                "false",
            ][..],
            &[
                "target-create-aws",
                "-n",
                "t",
                "--use-gw-cloud-identity=no",
                "--access-key-id",
                "AKIA",
            ],
        ] {
            let error = resolved_body(args, "").unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}");
            assert!(
                error.to_string().contains("--use-gw-cloud-identity true"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_target_on_the_gateways_identity_needs_no_keys() {
        for command in ["create-aws-target", "target-create-aws"] {
            assert_eq!(
                resolved_body(
                    &[
                        command,
                        "--name",
                        "/cloud/aws",
                        "--use-gw-cloud-identity",
                        "--region",
                        "us-east-1",
                    ],
                    ""
                )
                .unwrap(),
                json!({"name": "/cloud/aws", "use-gw-cloud-identity": true, "region": "us-east-1"})
            );
        }
        // Keys given anyway are sent: the gateway says to leave them out.
        assert_eq!(
            resolved_body(
                &[
                    "create-aws-target",
                    "-n",
                    "/cloud/aws",
                    "--use-gw-cloud-identity",
                    "true",
                    "--access-key-id",
                    "AKIA",
                    "--access-key",
                    "-",
                ],
                "s3cr3t\n"
            )
            .unwrap(),
            json!({"name": "/cloud/aws", "use-gw-cloud-identity": true,
                   "access-key-id": "AKIA", "access-key": "s3cr3t"})
        );
    }

    #[test]
    fn target_role_chain_flags_map_to_wire_names() {
        let chain = [
            "--role-arn",
            "arn:aws:iam::123456789012:role/mayfly",
            "--generate-external-id",
            "--role-session-name",
            "deploy-{target}",
            "--role-session-duration",
            "1800",
        ];
        let mut create = vec![
            "create-aws-target",
            "--name",
            "/t",
            "--access-key-id",
            "AKIA",
            "--access-key",
            "secret",
        ];
        create.extend(chain);
        assert_eq!(
            body(&create),
            json!({
                "name": "/t",
                "access-key-id": "AKIA",
                "access-key": "secret",
                "role-arn": "arn:aws:iam::123456789012:role/mayfly",
                "generate-external-id": true,
                "role-session-name": "deploy-{target}",
                "role-session-duration": 1800,
            })
        );
        for command in ["update-aws-target", "target-update-aws"] {
            assert_eq!(
                body(&[
                    command,
                    "-n",
                    "/t",
                    "--role-arn",
                    "arn:aws:iam::123456789012:role/other",
                    "--external-id",
                    "given-ext-id",
                    "--generate-external-id",
                    "false",
                    "--use-gw-cloud-identity",
                ]),
                json!({
                    "name": "/t",
                    "role-arn": "arn:aws:iam::123456789012:role/other",
                    "external-id": "given-ext-id",
                    "generate-external-id": false,
                    "use-gw-cloud-identity": true,
                })
            );
            // An empty role ARN is sent as such: it removes the role.
            assert_eq!(
                body(&[command, "-n", "/t", "--role-arn", ""]),
                json!({"name": "/t", "role-arn": ""})
            );
            assert_eq!(
                body(&[command, "-n", "/t", "--use-gw-cloud-identity", "false"]),
                json!({"name": "/t", "use-gw-cloud-identity": false})
            );
        }
        let error = Harness::try_parse_from([
            "mayfly",
            "update-aws-target",
            "-n",
            "/t",
            "--role-session-duration",
            "an hour",
        ])
        .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn list_and_delete_bodies() {
        assert_eq!(
            body(&["list-targets", "--filter", "prod", "--type", "aws"]),
            json!({"filter": "prod", "type": ["aws"]})
        );
        assert_eq!(body(&["target-list"]), json!({}));
        assert_eq!(body(&["gateway-list-producers"]), json!({}));
        assert_eq!(
            body(&[
                "list-items",
                "--path",
                "/prod",
                "--type",
                "dynamic-secret",
                "--filter",
                "s3"
            ]),
            json!({"path": "/prod", "type": ["dynamic-secret"], "filter": "s3"})
        );
        assert_eq!(
            body(&["delete-target", "-n", "t", "--force-deletion", "true"]),
            json!({"name": "t", "force-deletion": true})
        );
        assert_eq!(
            body(&["target-delete", "--name", "t", "--force-deletion", "no"]),
            json!({"name": "t", "force-deletion": false})
        );
        assert_eq!(
            body(&["target-delete", "--name", "t", "--force-deletion"]),
            json!({"name": "t", "force-deletion": true})
        );
        assert_eq!(
            body(&["dynamic-secret-delete", "--name", "ds"]),
            json!({"name": "ds"})
        );
    }

    #[test]
    fn value_body_leaves_out_the_output_format() {
        assert_eq!(
            body(&[
                "get-dynamic-secret-value",
                "-n",
                "ds",
                "--args",
                "role_arn=arn:aws:iam::1:role/a",
                "--args",
                "ttl=15m",
                "--timeout",
                "30",
                "--target",
                "t",
                "--output",
                "credential-process",
            ]),
            json!({
                "name": "ds",
                "args": ["role_arn=arn:aws:iam::1:role/a", "ttl=15m"],
                "timeout": 30,
                "target": "t",
            })
        );
        assert_eq!(
            body(&[
                "dynamic-secret-get-value",
                "--name",
                "ds",
                "--output",
                "env"
            ]),
            json!({"name": "ds"})
        );
    }

    #[test]
    fn value_timeout_extends_the_http_timeout() {
        let long = parse(&["get-dynamic-secret-value", "-n", "ds", "--timeout", "120"]);
        assert_eq!(long.request().http_timeout().as_secs(), 135);
        let short = parse(&["get-dynamic-secret-value", "-n", "ds"]);
        assert_eq!(
            short.request().http_timeout(),
            crate::client::DEFAULT_HTTP_TIMEOUT
        );
    }

    #[test]
    fn tmp_creds_bodies() {
        assert_eq!(
            body(&[
                "gateway-revoke-producer-tmp-creds",
                "--name",
                "ds",
                "--tmp-creds-id",
                "tc-1",
                "--soft-delete",
                "false"
            ]),
            json!({"name": "ds", "tmp-creds-id": "tc-1", "soft-delete": false})
        );
        assert_eq!(
            body(&[
                "dynamic-secret-tmp-creds-delete",
                "--name",
                "ds",
                "--revoke-all"
            ]),
            json!({"name": "ds", "revoke-all": true})
        );
        assert_eq!(
            body(&[
                "dynamic-secret-tmp-creds-update",
                "--name",
                "ds",
                "--tmp-creds-id",
                "tc-1",
                "--new-ttl-min",
                "30"
            ]),
            json!({"name": "ds", "tmp-creds-id": "tc-1", "new-ttl-min": 30, "host": ""})
        );
        assert_eq!(
            body(&["gateway-get-producer-tmp-creds", "--name", "ds"]),
            json!({"name": "ds"})
        );
    }

    #[test]
    fn revoke_needs_an_id_or_revoke_all() {
        let error =
            Harness::try_parse_from(["mayfly", "gateway-revoke-producer-tmp-creds", "-n", "ds"])
                .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn bad_bool_value_is_a_usage_error() {
        let error = Harness::try_parse_from([
            "mayfly",
            "gateway-create-producer-aws",
            "-n",
            "ds",
            "--aws-user-console-access",
            "maybe",
        ])
        .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn secrets_can_come_from_stdin_and_policies_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.json");
        std::fs::write(&policy, r#"{"Version":"2012-10-17","Statement":[]}"#).unwrap();
        let policy_arg = format!("@{}", policy.display());
        let mut command = parse(&[
            "dynamic-secret-create-aws",
            "-n",
            "ds",
            "--aws-access-secret-key",
            "-",
            "--aws-policy-document",
            &policy_arg,
        ]);
        let mut stdin: &[u8] = b"from-stdin\n";
        command
            .request_mut()
            .resolve_inputs(&mut Inputs::new(&mut stdin))
            .unwrap();
        let body = command.body().unwrap();
        assert_eq!(body["aws-access-secret-key"], "from-stdin");
        assert_eq!(
            body["aws-policy-document"],
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );

        let mut command = parse(&[
            "create-aws-target",
            "-n",
            "t",
            "--access-key-id",
            "AKIA",
            "--access-key",
            "-",
        ]);
        let mut stdin: &[u8] = b"target-secret";
        command
            .request_mut()
            .resolve_inputs(&mut Inputs::new(&mut stdin))
            .unwrap();
        assert_eq!(command.body().unwrap()["access-key"], "target-secret");
    }

    #[test]
    fn auth_method_and_role_bodies() {
        assert_eq!(
            body(&[
                "create-auth-method",
                "--name",
                "/ci/deployer",
                "--description",
                "CI key",
                "--delete-protection",
            ]),
            json!({"name": "/ci/deployer", "description": "CI key", "delete_protection": "true"})
        );
        assert_eq!(
            body(&["create-auth-method", "-n", "/ci/x"]),
            json!({"name": "/ci/x"})
        );
        assert_eq!(
            body(&[
                "create-role",
                "--name",
                "/ci/role",
                "--comment",
                "fetch only",
                "--audit-access",
                "own",
                "--delete-protection",
                "false",
            ]),
            json!({
                "name": "/ci/role",
                "description": "fetch only",
                "audit-access": "own",
                "delete_protection": "false",
            })
        );
        for command in ["update-auth-method", "auth-method-update-api-key"] {
            assert_eq!(
                body(&[command, "-n", "/admin", "--delete-protection", "false"]),
                json!({"name": "/admin", "delete_protection": "false"})
            );
        }
        for command in [
            "get-auth-method",
            "delete-auth-method",
            "reset-access-key",
            "get-role",
            "delete-role",
        ] {
            assert_eq!(body(&[command, "-n", "/x"]), json!({"name": "/x"}));
        }
        for command in ["list-auth-methods", "list-roles"] {
            assert_eq!(body(&[command]), json!({}));
            assert_eq!(
                body(&[command, "--filter", "ci", "--pagination-token", "7"]),
                json!({"filter": "ci", "pagination-token": "7"})
            );
        }
    }

    #[test]
    fn rule_and_association_bodies() {
        assert_eq!(
            body(&[
                "set-role-rule",
                "--role-name",
                "/ci/role",
                "--path",
                "/team-a/*",
                "--capability",
                "read",
                "--capability",
                "list,deny",
                "--rule-type",
                "target-rule",
            ]),
            json!({
                "role-name": "/ci/role",
                "path": "/team-a/*",
                "capability": ["read", "list", "deny"],
                "rule-type": "target-rule",
            })
        );
        assert_eq!(
            body(&[
                "set-role-rule",
                "--role-name",
                "r",
                "--path",
                "/a",
                "--capability",
                "read"
            ]),
            json!({"role-name": "r", "path": "/a", "capability": ["read"]})
        );
        assert_eq!(
            body(&[
                "delete-role-rule",
                "--role-name",
                "r",
                "--path",
                "/a/*",
                "--rule-type",
                "item-rule"
            ]),
            json!({"role-name": "r", "path": "/a/*", "rule-type": "item-rule"})
        );
        assert_eq!(
            body(&["assoc-role-am", "--role-name", "r", "--am-name", "/ci/am"]),
            json!({"role-name": "r", "am-name": "/ci/am"})
        );
        assert_eq!(
            body(&["delete-assoc", "--assoc-id", "ra-1"]),
            json!({"assoc-id": "ra-1"})
        );
    }

    #[test]
    fn oauth2_method_flags_map_to_wire_names() {
        for command in ["create-auth-method-oauth2", "auth-method-create-oauth2"] {
            assert_eq!(
                parse(&[command, "-n", "/ci/gh", "--unique-identifier", "sub"]).path(),
                command
            );
            assert_eq!(
                body(&[
                    command,
                    "--name",
                    "/ci/github",
                    "--description",
                    "GitHub Actions",
                    "--delete-protection",
                    "--jwks-uri",
                    "https://token.actions.githubusercontent.com/.well-known/jwks",
                    "--unique-identifier",
                    "repository",
                    "--issuer",
                    "https://token.actions.githubusercontent.com",
                    "--audience",
                    "https://github.com/octo-org",
                    "--force-sub-claims",
                    "--bound-client-ids",
                    "a,b",
                    "--bound-client-ids",
                    "c",
                    "--bound-claims",
                    "repository_owner=octo-org",
                    "--bound-claims",
                    "ref=refs/heads/main,refs/tags/*",
                    "--jwt-ttl",
                    "15",
                    "--access-expires",
                    "1900000000",
                ]),
                json!({
                    "name": "/ci/github",
                    "description": "GitHub Actions",
                    "delete_protection": "true",
                    "jwks-uri": "https://token.actions.githubusercontent.com/.well-known/jwks",
                    "unique-identifier": "repository",
                    "issuer": "https://token.actions.githubusercontent.com",
                    "audience": "https://github.com/octo-org",
                    "force-sub-claims": true,
                    "bound-client-ids": ["a", "b", "c"],
                    "bound-claims": {
                        "repository_owner": "octo-org",
                        "ref": "refs/heads/main,refs/tags/*",
                    },
                    "jwt-ttl": 15,
                    "access-expires": 1_900_000_000,
                })
            );
        }
        assert_eq!(
            body(&[
                "create-auth-method-oauth2",
                "-n",
                "/ci/x",
                "--unique-identifier",
                "sub",
                "--force-sub-claims",
                "false",
            ]),
            json!({"name": "/ci/x", "unique-identifier": "sub", "force-sub-claims": false})
        );
        // The claim that names the caller is required, as in the akeyless CLI.
        let error = Harness::try_parse_from(["mayfly", "create-auth-method-oauth2", "-n", "/x"])
            .unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let error = Harness::try_parse_from([
            "mayfly",
            "create-auth-method-oauth2",
            "-n",
            "/x",
            "--unique-identifier",
            "sub",
            "--bound-claims",
            "no-equals-sign",
        ])
        .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn inline_jwks_is_sent_base64_encoded() {
        let jwks = r#"{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}"#;
        let encoded =
            "eyJrZXlzIjpbeyJrdHkiOiJSU0EiLCJraWQiOiJrIiwibiI6IkFRQUIiLCJlIjoiQVFBQiJ9XX0=";
        let dir = tempfile::tempdir().unwrap();
        let json_file = dir.path().join("jwks.json");
        std::fs::write(&json_file, format!("{jwks}\n")).unwrap();
        let base64_file = dir.path().join("jwks.b64");
        std::fs::write(&base64_file, format!("{encoded}\n")).unwrap();
        for given in [
            format!("@{}", json_file.display()),
            format!("@{}", base64_file.display()),
            encoded.to_owned(),
            jwks.to_owned(),
        ] {
            let mut command = parse(&[
                "auth-method-create-oauth2",
                "-n",
                "/ci/x",
                "--unique-identifier",
                "sub",
                "--jwks-json-data",
                &given,
            ]);
            let mut stdin: &[u8] = b"";
            command
                .request_mut()
                .resolve_inputs(&mut Inputs::new(&mut stdin))
                .unwrap();
            assert_eq!(
                command.body().unwrap()["jwks-json-data"],
                encoded,
                "{given}"
            );
        }
    }

    #[test]
    fn k8s_method_flags_map_to_wire_names() {
        let jwks = r#"{"keys":[]}"#;
        for command in ["create-auth-method-k8s", "auth-method-create-k8s"] {
            let mut parsed = parse(&[
                command,
                "--name",
                "/k8s/prod",
                "--description",
                "prod cluster",
                "--delete-protection",
                "false",
                "--jwks-json-data",
                jwks,
                "--k8s-issuer",
                "https://kubernetes.default.svc.cluster.local",
                "--audience",
                "mayfly",
                "--bound-namespaces",
                "team-a,team-b",
                "--bound-namespaces",
                "ops-*",
                "--bound-sa-names",
                "deployer",
                "--bound-pod-names",
                "web-*",
                "--force-sub-claims",
                "--gen-key",
                "false",
                "--jwt-ttl",
                "30",
                "--access-expires",
                "0",
            ]);
            assert_eq!(parsed.path(), command);
            let mut stdin: &[u8] = b"";
            parsed
                .request_mut()
                .resolve_inputs(&mut Inputs::new(&mut stdin))
                .unwrap();
            assert_eq!(
                parsed.body().unwrap(),
                json!({
                    "name": "/k8s/prod",
                    "description": "prod cluster",
                    "delete_protection": "false",
                    "jwks-json-data": "eyJrZXlzIjpbXX0=",
                    "k8s-issuer": "https://kubernetes.default.svc.cluster.local",
                    "audience": "mayfly",
                    "bound-namespaces": ["team-a", "team-b", "ops-*"],
                    "bound-sa-names": ["deployer"],
                    "bound-pod-names": ["web-*"],
                    "force-sub-claims": true,
                    "gen-key": "false",
                    "jwt-ttl": 30,
                    "access-expires": 0,
                })
            );
        }
        // Without keys the method verifies through a k8s auth config; keys are @FILE or base64.
        assert_eq!(
            body(&["create-auth-method-k8s", "-n", "/k8s/x"]),
            json!({"name": "/k8s/x"})
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, format!("{jwks}\n")).unwrap();
        for given in [format!("@{}", file.display()), "eyJrZXlzIjpbXX0=".into()] {
            let mut parsed = parse(&[
                "create-auth-method-k8s",
                "-n",
                "/k8s/x",
                "--jwks-json-data",
                &given,
            ]);
            let mut stdin: &[u8] = b"";
            parsed
                .request_mut()
                .resolve_inputs(&mut Inputs::new(&mut stdin))
                .unwrap();
            assert_eq!(
                parsed.body().unwrap(),
                json!({"name": "/k8s/x", "jwks-json-data": "eyJrZXlzIjpbXX0="}),
                "{given}"
            );
        }
    }

    /// `command` parsed, its `-`/`@FILE` values resolved with `stdin`, as the body it sends.
    fn resolved_body(args: &[&str], stdin: &str) -> Result<Value, CliError> {
        let mut command = parse(args);
        let mut stdin = stdin.as_bytes();
        command
            .request_mut()
            .resolve_inputs(&mut Inputs::new(&mut stdin))?;
        Ok(command.body().unwrap())
    }

    #[test]
    fn k8s_auth_config_flags_map_to_wire_names() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        let pem_base64 = BASE64.encode(format!("{pem}\n"));
        let jwks = r#"{"keys":[]}"#;
        assert_eq!(
            resolved_body(
                &[
                    "gateway-create-k8s-auth-config",
                    "--name",
                    "prod",
                    "--access-id",
                    "p-k8s",
                    "--k8s-host",
                    "https://10.0.0.1:6443",
                    "--k8s-ca-cert",
                    pem,
                    "--token-reviewer-jwt",
                    " eyJ.reviewer.sig\n",
                    "--k8s-issuer",
                    "https://kubernetes.default.svc.cluster.local",
                    "--disable-issuer-validation",
                    "false",
                    "--jwks-json-data",
                    jwks,
                    "--signing-key",
                    "c2lnbmluZy1rZXk=",
                    "--token-exp",
                    "300",
                ],
                ""
            )
            .unwrap(),
            json!({
                "name": "prod",
                "access-id": "p-k8s",
                "k8s-host": "https://10.0.0.1:6443",
                "k8s-ca-cert": pem_base64,
                "token-reviewer-jwt": "eyJ.reviewer.sig",
                "k8s-issuer": "https://kubernetes.default.svc.cluster.local",
                "disable-issuer-validation": "false",
                "jwks-json-data": "eyJrZXlzIjpbXX0=",
                "signing-key": "c2lnbmluZy1rZXk=",
                "token-exp": 300,
            })
        );
        // Only what is given is sent: on update, the gateway keeps the rest.
        assert_eq!(
            body(&[
                "gateway-create-k8s-auth-config",
                "-n",
                "prod",
                "--access-id",
                "p-k8s",
                "--k8s-host",
                "https://10.0.0.1:6443",
            ]),
            json!({"name": "prod", "access-id": "p-k8s", "k8s-host": "https://10.0.0.1:6443"})
        );
        assert_eq!(
            body(&["gateway-update-k8s-auth-config", "--name", "prod"]),
            json!({"name": "prod"})
        );
        assert_eq!(
            body(&[
                "gateway-update-k8s-auth-config",
                "--name",
                "prod",
                "--new-name",
                "prod-eu",
                "--access-id",
                "p-other",
                "--k8s-host",
                "https://10.0.0.2:6443",
                "--k8s-issuer",
                "https://issuer",
                "--disable-issuer-validation",
            ]),
            json!({
                "name": "prod",
                "new-name": "prod-eu",
                "access-id": "p-other",
                "k8s-host": "https://10.0.0.2:6443",
                "k8s-issuer": "https://issuer",
                "disable-issuer-validation": "true",
            })
        );
        for path in [
            "gateway-get-k8s-auth-config",
            "gateway-delete-k8s-auth-config",
        ] {
            assert_eq!(parse(&[path, "-n", "prod"]).path(), path);
            assert_eq!(body(&[path, "--name", "prod"]), json!({"name": "prod"}));
        }
    }

    #[test]
    fn k8s_auth_config_reads_the_ca_jwks_and_reviewer_jwt_from_files_and_stdin() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        let pem_base64 = BASE64.encode(format!("{pem}\n"));
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.crt");
        std::fs::write(&ca_file, format!("{pem}\n")).unwrap();
        let jwks_file = dir.path().join("jwks.json");
        std::fs::write(&jwks_file, "{\"keys\":[]}\n").unwrap();
        let reviewer_file = dir.path().join("reviewer.jwt");
        std::fs::write(&reviewer_file, "eyJ.reviewer.sig\n").unwrap();
        let ca = format!("@{}", ca_file.display());
        let jwks = format!("@{}", jwks_file.display());
        let reviewer = format!("@{}", reviewer_file.display());
        let expected = json!({
            "name": "prod",
            "k8s-ca-cert": pem_base64,
            "token-reviewer-jwt": "eyJ.reviewer.sig",
            "jwks-json-data": "eyJrZXlzIjpbXX0=",
        });
        let update = |ca: &str, reviewer: &str, stdin: &str| {
            resolved_body(
                &[
                    "gateway-update-k8s-auth-config",
                    "--name",
                    "prod",
                    "--k8s-ca-cert",
                    ca,
                    "--token-reviewer-jwt",
                    reviewer,
                    "--jwks-json-data",
                    &jwks,
                ],
                stdin,
            )
        };
        assert_eq!(update(&ca, &reviewer, "").unwrap(), expected);
        // The reviewer JWT from stdin; the CA as base64 is sent as given.
        assert_eq!(
            update(&pem_base64, "-", "eyJ.reviewer.sig\n").unwrap(),
            expected
        );
        // Refusals name the flag and the file, never the JWT.
        let error = update(&ca, "-", "\n").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("--token-reviewer-jwt"),
            "{error}"
        );
        let missing = dir.path().join("missing.jwt");
        let error = update(&ca, &format!("@{}", missing.display()), "").unwrap_err();
        assert!(
            error.to_string().contains(&missing.display().to_string()),
            "{error}"
        );
        let error = update("@", &reviewer, "").unwrap_err();
        assert!(error.to_string().contains("--k8s-ca-cert"), "{error}");
    }

    #[test]
    fn aws_iam_method_flags_map_to_wire_names() {
        for command in ["create-auth-method-aws-iam", "auth-method-create-aws-iam"] {
            assert_eq!(
                body(&[
                    command,
                    "--name",
                    "/aws/ci",
                    "--description",
                    "CI runners",
                    "--delete-protection",
                    "--bound-aws-account-id",
                    "123456789012,210987654321",
                    "--bound-arn",
                    "arn:aws:iam::123456789012:user/deployer",
                    "--bound-arn",
                    "arn:aws:sts::123456789012:assumed-role/ci/*",
                    "--bound-role-name",
                    "ci",
                    "--bound-user-name",
                    "deployer",
                    "--bound-role-id",
                    "AROAEXAMPLE",
                    "--bound-user-id",
                    "AIDAEXAMPLE",
                    "--sts-url",
                    "https://sts.us-east-1.amazonaws.com",
                    "--force-sub-claims",
                    "--jwt-ttl",
                    "15",
                    "--access-expires",
                    "1900000000",
                ]),
                json!({
                    "name": "/aws/ci",
                    "description": "CI runners",
                    "delete_protection": "true",
                    "bound-aws-account-id": ["123456789012", "210987654321"],
                    "bound-arn": [
                        "arn:aws:iam::123456789012:user/deployer",
                        "arn:aws:sts::123456789012:assumed-role/ci/*",
                    ],
                    "bound-role-name": ["ci"],
                    "bound-user-name": ["deployer"],
                    "bound-role-id": ["AROAEXAMPLE"],
                    "bound-user-id": ["AIDAEXAMPLE"],
                    "sts-url": "https://sts.us-east-1.amazonaws.com",
                    "force-sub-claims": true,
                    "jwt-ttl": 15,
                    "access-expires": 1_900_000_000,
                })
            );
        }
        assert_eq!(
            body(&[
                "auth-method-create-aws-iam",
                "-n",
                "/aws/x",
                "--bound-aws-account-id",
                "123456789012",
            ]),
            json!({"name": "/aws/x", "bound-aws-account-id": ["123456789012"]})
        );
        // The account is required, as in the akeyless CLI.
        let error =
            Harness::try_parse_from(["mayfly", "create-auth-method-aws-iam", "-n", "/aws/x"])
                .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn auth_method_updates_send_only_the_flags_given() {
        for command in [
            "update-auth-method-oauth2",
            "auth-method-update-oauth2",
            "update-auth-method-k8s",
            "auth-method-update-k8s",
            "update-auth-method-aws-iam",
            "auth-method-update-aws-iam",
        ] {
            assert_eq!(parse(&[command, "-n", "/m"]).path(), command);
            assert_eq!(body(&[command, "--name", "/m"]), json!({"name": "/m"}));
            // The name is required; nothing else is (not even what creation requires).
            let error = Harness::try_parse_from(["mayfly", command]).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{command}");
            assert_eq!(
                body(&[command, "-n", "/m", "--description", "d", "--jwt-ttl", "5"]),
                json!({"name": "/m", "description": "d", "jwt-ttl": 5}),
                "{command}"
            );
        }
    }

    #[test]
    fn oauth2_method_update_flags_map_to_wire_names() {
        let dir = tempfile::tempdir().unwrap();
        let jwks_file = dir.path().join("jwks.json");
        std::fs::write(&jwks_file, "{\"keys\":[]}\n").unwrap();
        for command in ["update-auth-method-oauth2", "auth-method-update-oauth2"] {
            assert_eq!(
                resolved_body(
                    &[
                        command,
                        "--name",
                        "/ci/github",
                        "--description",
                        "GitHub Actions",
                        "--delete-protection",
                        "false",
                        "--jwks-json-data",
                        &format!("@{}", jwks_file.display()),
                        "--unique-identifier",
                        "repository",
                        "--issuer",
                        "https://token.actions.githubusercontent.com",
                        "--audience",
                        "https://github.com/octo-org-2",
                        "--force-sub-claims",
                        "--bound-client-ids",
                        "a,b",
                        "--bound-claims",
                        "repository_owner=octo-org",
                        "--jwt-ttl",
                        "15",
                        "--access-expires",
                        "0",
                    ],
                    ""
                )
                .unwrap(),
                json!({
                    "name": "/ci/github",
                    "description": "GitHub Actions",
                    "delete_protection": "false",
                    "jwks-json-data": "eyJrZXlzIjpbXX0=",
                    "unique-identifier": "repository",
                    "issuer": "https://token.actions.githubusercontent.com",
                    "audience": "https://github.com/octo-org-2",
                    "force-sub-claims": true,
                    "bound-client-ids": ["a", "b"],
                    "bound-claims": {"repository_owner": "octo-org"},
                    "jwt-ttl": 15,
                    "access-expires": 0,
                })
            );
        }
        assert_eq!(
            body(&[
                "auth-method-update-oauth2",
                "-n",
                "/ci/github",
                "--jwks-uri",
                "https://issuer/jwks",
                "--audience",
                "",
            ]),
            json!({"name": "/ci/github", "jwks-uri": "https://issuer/jwks", "audience": ""})
        );
    }

    #[test]
    fn k8s_method_update_flags_map_to_wire_names() {
        for command in ["update-auth-method-k8s", "auth-method-update-k8s"] {
            assert_eq!(
                resolved_body(
                    &[
                        command,
                        "--name",
                        "/k8s/prod",
                        "--jwks-json-data",
                        r#"{"keys":[]}"#,
                        "--k8s-issuer",
                        "https://kubernetes.default.svc.cluster.local",
                        "--audience",
                        "mayfly",
                        "--bound-namespaces",
                        "team-b",
                        "--bound-sa-names",
                        "deployer,web",
                        "--bound-pod-names",
                        "web-*",
                        "--force-sub-claims",
                        "false",
                        "--gen-key",
                        "--access-expires",
                        "1900000000",
                    ],
                    ""
                )
                .unwrap(),
                json!({
                    "name": "/k8s/prod",
                    "jwks-json-data": "eyJrZXlzIjpbXX0=",
                    "k8s-issuer": "https://kubernetes.default.svc.cluster.local",
                    "audience": "mayfly",
                    "bound-namespaces": ["team-b"],
                    "bound-sa-names": ["deployer", "web"],
                    "bound-pod-names": ["web-*"],
                    "force-sub-claims": false,
                    "gen-key": "true",
                    "access-expires": 1_900_000_000,
                })
            );
        }
        // An empty value is sent, so the gateway clears the list (any namespace again).
        assert_eq!(
            body(&[
                "auth-method-update-k8s",
                "-n",
                "/k8s/prod",
                "--bound-namespaces",
                ""
            ]),
            json!({"name": "/k8s/prod", "bound-namespaces": [""]})
        );
    }

    #[test]
    fn aws_iam_method_update_flags_map_to_wire_names() {
        for command in ["update-auth-method-aws-iam", "auth-method-update-aws-iam"] {
            assert_eq!(
                body(&[
                    command,
                    "--name",
                    "/aws/ci",
                    "--bound-aws-account-id",
                    "123456789012",
                    "--bound-arn",
                    "arn:aws:sts::123456789012:assumed-role/ci/*",
                    "--bound-role-name",
                    "ci,release",
                    "--bound-user-name",
                    "deployer",
                    "--bound-role-id",
                    "AROAEXAMPLE",
                    "--bound-user-id",
                    "AIDAEXAMPLE",
                    "--sts-url",
                    "https://sts.us-east-1.amazonaws.com",
                    "--force-sub-claims",
                    "--delete-protection",
                ]),
                json!({
                    "name": "/aws/ci",
                    "bound-aws-account-id": ["123456789012"],
                    "bound-arn": ["arn:aws:sts::123456789012:assumed-role/ci/*"],
                    "bound-role-name": ["ci", "release"],
                    "bound-user-name": ["deployer"],
                    "bound-role-id": ["AROAEXAMPLE"],
                    "bound-user-id": ["AIDAEXAMPLE"],
                    "sts-url": "https://sts.us-east-1.amazonaws.com",
                    "force-sub-claims": true,
                    "delete_protection": "true",
                })
            );
        }
        assert_eq!(
            body(&[
                "auth-method-update-aws-iam",
                "-n",
                "/aws/ci",
                "--bound-arn",
                ""
            ]),
            json!({"name": "/aws/ci", "bound-arn": [""]})
        );
    }

    #[test]
    fn assoc_role_am_sends_sub_claims_as_an_object() {
        assert_eq!(
            body(&[
                "assoc-role-am",
                "--role-name",
                "/ci/app-a",
                "--am-name",
                "/ci/github",
                "--sub-claims",
                "repository=octo-org/app-a,octo-org/app-a-*",
                "--sub-claims",
                "ref=refs/heads/main",
                "--case-sensitive",
                "false",
            ]),
            json!({
                "role-name": "/ci/app-a",
                "am-name": "/ci/github",
                "sub-claims": {
                    "repository": "octo-org/app-a,octo-org/app-a-*",
                    "ref": "refs/heads/main",
                },
                "case-sensitive": "false",
            })
        );
        assert_eq!(
            body(&[
                "assoc-role-am",
                "--role-name",
                "r",
                "--am-name",
                "a",
                "--case-sensitive"
            ]),
            json!({"role-name": "r", "am-name": "a", "case-sensitive": "true"})
        );
    }

    #[test]
    fn set_role_rule_needs_a_capability() {
        let error = Harness::try_parse_from([
            "mayfly",
            "set-role-rule",
            "--role-name",
            "r",
            "--path",
            "/a/*",
        ])
        .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn audit_events_body_sends_the_access_id_filter() {
        assert_eq!(
            body(&[
                "get-audit-events",
                "--since",
                "2026-01-31T12:00:00Z",
                "--until",
                "1800000000",
                "--item",
                "/team-a/s3-reader",
                "--access-id",
                "p-ci",
                "--operation",
                "get-dynamic-secret-value",
                "--limit",
                "50",
                "--pagination-token",
                "42",
            ]),
            json!({
                "since": "2026-01-31T12:00:00Z",
                "until": "1800000000",
                "item": "/team-a/s3-reader",
                "access-id": "p-ci",
                "operation": "get-dynamic-secret-value",
                "limit": 50,
                "pagination-token": "42",
            })
        );
        assert_eq!(body(&["get-audit-events"]), json!({}));
        let error =
            Harness::try_parse_from(["mayfly", "get-audit-events", "--limit", "many"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn revoke_token_defaults_to_the_own_token_and_reads_stdin() {
        assert_eq!(body(&["revoke-token"]), json!({}));
        assert_eq!(
            body(&["revoke-token", "--token-to-revoke", "t-other"]),
            json!({"token-to-revoke": "t-other"})
        );
        let mut command = parse(&["revoke-token", "--token-to-revoke", "-"]);
        let mut stdin: &[u8] = b"t-from-stdin\n";
        command
            .request_mut()
            .resolve_inputs(&mut Inputs::new(&mut stdin))
            .unwrap();
        assert_eq!(
            command.body().unwrap(),
            json!({"token-to-revoke": "t-from-stdin"})
        );
    }

    #[test]
    fn output_console_url_asks_the_gateway_for_a_link_and_prints_it() {
        let mut command = parse(&[
            "get-dynamic-secret-value",
            "-n",
            "/role",
            "--output",
            "console-url",
            "--args",
            "console_destination=https://console.aws.amazon.com/s3/",
        ]);
        let mut stdin: &[u8] = b"";
        command
            .request_mut()
            .resolve_inputs(&mut Inputs::new(&mut stdin))
            .unwrap();
        let body = command.body().unwrap();
        assert_eq!(
            body["args"],
            serde_json::json!([
                "console_destination=https://console.aws.amazon.com/s3/",
                "output=console-url"
            ])
        );
        let mut out = Vec::new();
        command
            .request_mut()
            .render(
                &serde_json::json!({"access_key_id": "ASIA", "console_url": "https://signin.example/x"}),
                &mut out,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "https://signin.example/x\n"
        );
    }

    #[test]
    fn token_is_added_to_the_body() {
        let body = with_token(json!({"name": "x"}), "t-1".into()).unwrap();
        assert_eq!(body, json!({"name": "x", "token": "t-1"}));
        assert!(with_token(json!([]), "t-1".into()).is_err());
    }
}
