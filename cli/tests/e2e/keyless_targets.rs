//! Targets without stored keys, through the CLI: a gateway whose only AWS credentials are its
//! own process's (here moto's admin in its environment, as an instance profile or IRSA would
//! give them) and which offers them to the targets under /cloud/ (MAYFLY_CLOUD_IDENTITY_TARGETS)
//! issues credentials through a `--use-gw-cloud-identity` target, shows who it acts as and no
//! secret, and refuses the identity to other names; a keyed target chains into a role with a
//! generated or given external id, and loses the role again with `--role-arn ""`.

use mayfly_testkit::{moto::MotoServer, TestGateway};
use serde_json::Value;

use crate::aws::{caller_arn, create_role, unique_path, unique_suffix, users_under};
use crate::helpers::TestCli;

/// What a chained role needs to manage temporary users.
const USER_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#;

/// A configured CLI on a gateway whose own identity is moto's admin (in its environment,
/// nowhere else), allowed to offer it to targets under /cloud/, with its own IAM path.
fn cli_on_a_gateway_with_its_own_identity(moto: &MotoServer, path: &str) -> TestCli {
    let (id, secret) = moto.admin();
    let cli = TestCli::with_gateway(
        TestGateway::builder()
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "us-east-1")
            .env("MAYFLY_CLOUD_IDENTITY_TARGETS", "/cloud/*")
            .env("MAYFLY_IAM_USER_PATH", path)
            .spawn()
            .expect("a SQLite gateway always starts"),
    );
    cli.configure();
    cli
}

/// `target-get-details`' aws_target_details.
fn details(cli: &TestCli, name: &str) -> Value {
    let run = cli.run(&["target-get-details", "--name", name]);
    run.json()["value"]["aws_target_details"].clone()
}

fn iam_user_producer(cli: &TestCli, name: &str, target: &str) {
    let created = cli
        .run(&[
            "gateway-create-producer-aws",
            "--name",
            name,
            "--target-name",
            target,
            "--aws-access-mode",
            "iam_user",
            "--aws-user-policies",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--user-ttl",
            "15m",
            "--aws-region",
            "us-east-1",
        ])
        .json();
    assert_eq!(
        created["producer_details"]["dynamic_secret_name"], name,
        "{created}"
    );
}

/// Issues a credential from `producer` and checks that moto accepts it.
fn issue_working_key(cli: &TestCli, moto: &MotoServer, producer: &str) -> Value {
    let value = cli
        .run(&[
            "get-dynamic-secret-value",
            "--name",
            producer,
            "--timeout",
            "20",
        ])
        .json();
    let key_id = value["access_key_id"].as_str().expect("a key id");
    let secret = value["secret_access_key"].as_str().expect("a secret");
    assert!(
        caller_arn(moto, key_id, secret, None).is_some(),
        "moto accepts the issued key: {value}"
    );
    value
}

fn revoke_all(cli: &TestCli, producer: &str) {
    let run = cli.run(&[
        "gateway-revoke-producer-tmp-creds",
        "--name",
        producer,
        "--revoke-all",
        "--wait",
        "--wait-timeout",
        "30",
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
}

#[test]
fn a_target_on_the_gateways_own_identity_issues_without_a_stored_key() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let cli = cli_on_a_gateway_with_its_own_identity(moto, &path);
    let (_, admin_secret) = moto.admin();

    // No keys: only the gateway's identity.
    let created = cli
        .run(&[
            "create-aws-target",
            "--name",
            "/cloud/aws",
            "--use-gw-cloud-identity",
            "--region",
            "us-east-1",
            "--iam-endpoint",
            moto.url(),
            "--sts-endpoint",
            moto.url(),
        ])
        .json();
    assert!(created["target_id"].is_u64(), "{created}");

    // Details: where the credentials come from and who the target acts as; no secret.
    let run = cli.run(&["get-target-details", "--name", "/cloud/aws"]);
    assert!(!run.stdout.contains(&admin_secret), "{run:#?}");
    let d = run.json()["value"]["aws_target_details"].clone();
    assert_eq!(d["credential_source"], "gateway_identity", "{d}");
    assert_eq!(d["use_gw_cloud_identity"], true, "{d}");
    assert_eq!(d["aws_access_key_id"], "", "{d}");
    assert_eq!(d["aws_secret_access_key"], "", "{d}");
    assert!(
        d["identity_arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:")),
        "{d}"
    );

    // An iam_user dynamic secret on it gives a working key, made by the gateway's identity.
    iam_user_producer(&cli, "/cloud/reader", "/cloud/aws");
    issue_working_key(&cli, moto, "/cloud/reader");
    assert_eq!(users_under(moto, &path).len(), 1);
    revoke_all(&cli, "/cloud/reader");
    assert!(users_under(moto, &path).is_empty());

    // A name outside MAYFLY_CLOUD_IDENTITY_TARGETS: the gateway's 403, printed.
    let run = cli.run(&[
        "target-create-aws",
        "--name",
        "/team/aws",
        "--use-gw-cloud-identity",
        "true",
    ]);
    run.assert_failed(1, "HTTP 403");
    assert!(
        run.stderr.contains("MAYFLY_CLOUD_IDENTITY_TARGETS"),
        "{run:#?}"
    );
    // Without the flag the keys are required, before anything is sent.
    cli.run(&["create-aws-target", "--name", "/cloud/other"])
        .assert_failed(2, "--access-key-id");
    cli.run(&[
        "create-aws-target",
        "--name",
        "/cloud/other",
        "--use-gw-cloud-identity",
        "false",
    ])
    .assert_failed(2, "--use-gw-cloud-identity true");
}

#[test]
fn a_keyed_target_chains_into_a_role_with_an_external_id_until_the_role_is_removed() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let cli = cli_on_a_gateway_with_its_own_identity(moto, &path);
    let (id, secret) = moto.admin();
    let suffix = unique_suffix();
    let role_name = format!("cli-chain-{suffix}");
    let role = create_role(moto, &role_name, USER_ADMIN);
    let target = "/chain/aws";

    let created = cli
        .run_with_stdin(
            &[
                "create-aws-target",
                "--name",
                target,
                "--access-key-id",
                &id,
                "--access-key",
                "-",
                "--region",
                "us-east-1",
                "--iam-endpoint",
                moto.url(),
                "--sts-endpoint",
                moto.url(),
                "--role-arn",
                &role,
                "--generate-external-id",
                "--role-session-name",
                "deploy-{target}",
                "--role-session-duration",
                "1800",
            ],
            &secret,
        )
        .json();
    assert!(created["target_id"].is_u64(), "{created}");
    let d = details(&cli, target);
    assert_eq!(d["credential_source"], "keys", "{d}");
    assert_eq!(d["role_arn"], role.as_str(), "{d}");
    assert_eq!(d["role_session_name"], "deploy-{target}", "{d}");
    assert_eq!(d["role_session_duration"], 1800, "{d}");
    let generated = d["gw_cloud_identity_external_id_opt"]["generated_external_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(generated.starts_with("mayfly-"), "{d}");
    assert!(
        d["identity_arn"]
            .as_str()
            .is_some_and(|a| a.contains(&role_name)),
        "acts as the role: {d}"
    );

    // Credentials issued through the role work.
    iam_user_producer(&cli, "/chain/reader", target);
    issue_working_key(&cli, moto, "/chain/reader");
    revoke_all(&cli, "/chain/reader");

    // An external id without a role: the gateway's 400 names the missing field.
    cli.run(&[
        "update-aws-target",
        "--name",
        target,
        "--external-id",
        "given-ext-id",
    ])
    .assert_failed(1, "role-arn");
    // The role again with an external id of the operator's choosing.
    let updated = cli
        .run(&[
            "target-update-aws",
            "--name",
            target,
            "--role-arn",
            &role,
            "--external-id",
            "given-ext-id",
        ])
        .json();
    assert!(updated.is_object(), "{updated}");
    let d = details(&cli, target);
    assert_eq!(
        d["gw_cloud_identity_external_id_opt"]["generated_external_id"], "given-ext-id",
        "{d}"
    );
    assert_eq!(d["role_session_name"], "mayfly-{target}", "{d}");

    // An empty --role-arn removes the role: the target acts as its own key again.
    cli.run(&["update-aws-target", "--name", target, "--role-arn", ""])
        .json();
    let d = details(&cli, target);
    assert_eq!(d["role_arn"], "", "{d}");
    assert_eq!(
        d["gw_cloud_identity_external_id_opt"]["is_enabled"], false,
        "{d}"
    );
    // A plain keyed target again: its key names it, no AWS call is made for the details.
    assert_eq!(d["identity_arn"], "", "{d}");
    assert_eq!(d["credential_source"], "keys", "{d}");
}
