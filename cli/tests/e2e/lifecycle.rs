//! The README walk-through, driven through the CLI: configure, auth, a target, a producer,
//! list-items, clean-up; each step checks the fields the contract names.

use serde_json::Value;

use crate::helpers::{names, TestCli};

const TARGET: &str = "/cli/admin";
const PRODUCER: &str = "/cli/s3-reader";
const TARGET_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const TARGET_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// A closed loopback port: nothing in this test may reach a real AWS endpoint.
const NOWHERE: &str = "http://127.0.0.1:9";

#[test]
fn configure_auth_target_and_producer_lifecycle() {
    // A closed local port as the endpoint (the walk-through never calls AWS), which the
    // gateway accepts only when the operator allows it.
    let cli = TestCli::with_gateway(
        mayfly_testkit::TestGateway::builder()
            .env("MAYFLY_ALLOWED_ENDPOINTS", NOWHERE)
            .spawn()
            .expect("a SQLite gateway always starts"),
    );

    // configure: the profile file is private and the key is not echoed.
    let summary = cli.configure();
    assert_eq!(summary["access_key_stored"], true);
    assert_eq!(summary["gateway_url"], cli.gateway.base_url());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.profile_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!summary.to_string().contains(cli.gateway.admin_access_key()));

    // auth prints the gateway's answer, token included.
    let auth = cli.run(&["auth"]).json();
    let token = auth["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("t-"), "{auth}");

    // Target: create (secret from stdin), get (no secret), details (secret), list.
    let created = cli
        .run_with_stdin(
            &[
                "create-aws-target",
                "--name",
                TARGET,
                "--access-key-id",
                TARGET_KEY_ID,
                "--access-key",
                "-",
                "--region",
                "eu-west-1",
                "--description",
                "admin keys",
                "--iam-endpoint",
                NOWHERE,
                "--sts-endpoint",
                NOWHERE,
            ],
            TARGET_SECRET,
        )
        .json();
    assert!(created["target_id"].is_u64(), "{created}");

    let got = cli.run(&["get-target", "-n", TARGET]);
    assert!(
        !got.stdout.contains(TARGET_SECRET),
        "get-target leaks the secret"
    );
    let target = got.json();
    assert_eq!(target["target_name"], TARGET);
    assert_eq!(target["target_type"], "aws");
    assert_eq!(target["comment"], "admin keys");

    let details = cli.run(&["target-get-details", "--name", TARGET]).json();
    let aws = &details["value"]["aws_target_details"];
    assert_eq!(aws["aws_access_key_id"], TARGET_KEY_ID);
    assert_eq!(aws["aws_secret_access_key"], TARGET_SECRET);
    assert_eq!(aws["aws_region"], "eu-west-1");

    let listed = cli.run(&["list-targets", "--type", "aws"]).json();
    assert!(names(&listed, "targets", "target_name").contains(&TARGET.to_owned()));

    // A token given through the environment is used as is (no profile key needed).
    let mut with_token = cli.command();
    with_token
        .env("MAYFLY_TOKEN", &token)
        .env("MAYFLY_PROFILE", "no-such-profile")
        .env(
            "MAYFLY_GATEWAY_URL",
            format!("{}/api/v2", cli.gateway.base_url()),
        )
        .env("MAYFLY_CA_CERT", cli.ca_cert());
    let listed = cli.run_with(with_token, &["target-list"], None).json();
    assert!(names(&listed, "targets", "target_name").contains(&TARGET.to_owned()));

    // Producer: create, get, list, update (both generations of names).
    let created = cli
        .run(&[
            "gateway-create-producer-aws",
            "--name",
            PRODUCER,
            "--target-name",
            TARGET,
            "--aws-access-mode",
            "iam_user",
            "--aws-user-policies",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--user-ttl",
            "60m",
            "-t",
            "team-a",
            "-t",
            "s3",
            "--delete-protection",
            "false",
        ])
        .json();
    let details = &created["producer_details"];
    assert_eq!(details["dynamic_secret_name"], PRODUCER, "{created}");
    assert_eq!(details["aws_access_mode"], "iam_user");

    let producer = cli
        .run(&["gateway-get-producer", "--name", PRODUCER])
        .json();
    assert_eq!(producer["user_ttl"], "60m");
    assert_eq!(
        producer["aws_user_policies"],
        "arn:aws:iam::aws:policy/ReadOnlyAccess"
    );
    assert_eq!(producer["tags"], serde_json::json!(["team-a", "s3"]));
    assert_eq!(producer["delete_protection"], false);
    let targets: Vec<&str> = producer["item_targets_assoc"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["target_name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(targets, vec![TARGET], "{producer}");

    let listed = cli.run(&["gateway-list-producers"]).json();
    assert!(
        names(&listed, "producers", "name").contains(&PRODUCER.to_owned()),
        "{listed}"
    );
    let listed = cli.run(&["dynamic-secret-list"]).json();
    assert!(
        names(&listed, "producers", "name").contains(&PRODUCER.to_owned()),
        "{listed}"
    );

    // An update is a complete new definition (Akeyless semantics); the target is kept.
    let updated = cli
        .run(&[
            "dynamic-secret-update-aws",
            "-n",
            PRODUCER,
            "--aws-access-mode",
            "iam_user",
            "--aws-user-policies",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--user-ttl",
            "2h",
        ])
        .json();
    assert_eq!(
        updated["dynamic_secret_details"]["user_ttl"], "2h",
        "{updated}"
    );
    let updated = cli
        .run(&[
            "gateway-update-producer-aws",
            "-n",
            PRODUCER,
            "--aws-access-mode",
            "iam_user",
            "--aws-user-policies",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--user-ttl",
            "90m",
            "--aws-user-console-access",
            "true",
        ])
        .json();
    let details = &updated["producer_details"];
    assert_eq!(details["aws_user_console_access"], true, "{updated}");
    let producer = cli.run(&["dynamic-secret-get", "-n", PRODUCER]).json();
    assert_eq!(producer["user_ttl"], "90m", "{producer}");
    assert_eq!(producer["aws_user_console_access"], true, "{producer}");
    assert_eq!(
        producer["item_targets_assoc"][0]["target_name"], TARGET,
        "{producer}"
    );

    // list-items finds the producer under its folder.
    let items = cli.run(&["list-items", "--path", "/cli"]).json();
    let item = items["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["item_name"] == PRODUCER))
        .unwrap_or_else(|| panic!("{PRODUCER} not in list-items: {items}"));
    assert_eq!(item["item_type"], "DYNAMIC_SECRET");

    // A target in use cannot be deleted (409), then clean-up works and leaves a 404.
    cli.run(&["delete-target", "--name", TARGET])
        .assert_failed(1, "HTTP 409");
    let deleted = cli
        .run(&["gateway-delete-producer", "--name", PRODUCER])
        .json();
    assert_eq!(deleted["producer_name"], PRODUCER);
    let deleted = cli.run(&["target-delete", "--name", TARGET]).json();
    assert_eq!(deleted, Value::Object(Default::default()));
    cli.run(&["get-target", "--name", TARGET])
        .assert_failed(1, "HTTP 404");
}
