//! Failures: the gateway's `error` message on stderr, exit code 1 for a failed request and 2
//! for a usage error, nothing on stdout, and no secret on stderr.

use crate::helpers::TestCli;

#[test]
fn request_and_usage_errors_have_their_exit_codes_and_messages() {
    let cli = TestCli::spawn();
    cli.configure();

    // 404: an unknown item, for both generations of names.
    let missing = cli.run(&["get-target", "--name", "/no/such/target"]);
    missing.assert_failed(1, "HTTP 404");
    cli.run(&["gateway-get-producer", "--name", "/no/such/producer"])
        .assert_failed(1, "HTTP 404");
    cli.run(&["dynamic-secret-delete", "--name", "/no/such/producer"])
        .assert_failed(1, "HTTP 404");

    // 400: a bare number as TTL is refused, and the message names the field.
    let bad = cli.run(&[
        "dynamic-secret-create-aws",
        "--name",
        "/cli/bad",
        "--aws-access-key-id",
        "AKIAIOSFODNN7EXAMPLE",
        "--aws-access-secret-key",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "--aws-access-mode",
        "iam_user",
        "--user-ttl",
        "60",
    ]);
    bad.assert_failed(1, "HTTP 400");
    assert!(bad.stderr.contains("user-ttl"), "{bad:#?}");
    assert!(
        !bad.stderr.contains("wJalrXUtnFEMI"),
        "secret on stderr: {bad:#?}"
    );
    cli.run(&["dynamic-secret-get", "--name", "/cli/bad"])
        .assert_failed(1, "HTTP 404");

    // 401: a wrong API key; neither key appears on stderr.
    let mut wrong_key = cli.command();
    wrong_key.env("MAYFLY_ACCESS_KEY", "not-the-right-key-0123456789");
    let denied = cli.run_with(wrong_key, &["list-targets"], None);
    denied.assert_failed(1, "HTTP 401");
    assert!(!denied.stderr.contains("not-the-right-key"), "{denied:#?}");
    assert!(
        !denied.stderr.contains(cli.gateway.admin_access_key()),
        "{denied:#?}"
    );

    // 401: a wrong token.
    cli.run(&["--token", "t-bogus", "list-targets"])
        .assert_failed(1, "HTTP 401");

    // Usage errors exit 2: a missing required flag, an http:// URL, no gateway URL at all.
    let usage = cli.run(&["get-target"]);
    assert_eq!(usage.code, 2, "{usage:#?}");
    let http_url = cli.gateway.base_url().replace("https://", "http://");
    cli.run(&["--gateway-url", &http_url, "list-targets"])
        .assert_failed(2, "https://");
    cli.run(&["--profile", "empty", "list-targets"])
        .assert_failed(2, "no gateway URL");

    // Without the gateway's CA the certificate is refused, with a hint.
    let mut no_ca = cli.command();
    no_ca
        .env("MAYFLY_PROFILE", "bare")
        .env("MAYFLY_ACCESS_ID", cli.gateway.admin_access_id())
        .env("MAYFLY_ACCESS_KEY", cli.gateway.admin_access_key());
    let untrusted = cli.run_with(
        no_ca,
        &["--gateway-url", &cli.gateway.base_url(), "list-targets"],
        None,
    );
    untrusted.assert_failed(1, "--ca-cert");
    assert!(!untrusted.stderr.contains(cli.gateway.admin_access_key()));
}

#[test]
fn insecure_skips_verification_and_warns() {
    let cli = TestCli::spawn();
    let mut insecure = cli.command();
    insecure
        .env("MAYFLY_ACCESS_ID", cli.gateway.admin_access_id())
        .env("MAYFLY_ACCESS_KEY", cli.gateway.admin_access_key())
        .env("MAYFLY_GATEWAY_URL", cli.gateway.base_url());
    let run = cli.run_with(insecure, &["--insecure", "target-list"], None);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.contains("warning: --insecure"), "{run:#?}");
    let answer: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(answer["targets"].is_array(), "{answer}");
}
