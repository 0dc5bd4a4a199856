//! Issuing and revoking real credentials through the CLI, against the auth-enforcing moto of
//! `MotoServer::shared()`: every output format of `get-dynamic-secret-value` must yield keys
//! that moto accepts, and revoked keys must be rejected with their user gone.

use std::process::Command;

use mayfly_testkit::{moto::MotoServer, TestGateway};
use serde_json::{json, Value};

use crate::aws::{caller_arn, create_role, unique_path, unique_suffix, users_under};
use crate::helpers::{Run, TestCli};

const TARGET: &str = "/cli/moto";
/// The issued users' own inline policy (and the role's): read-only, so "works" is checkable.
const LIST_USERS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}"#;
const IAM_USER_KEYS: [&str; 7] = [
    "access_key_id",
    "secret_access_key",
    "id",
    "user",
    "type",
    "ttl_in_minutes",
    "expiration",
];
const STS_KEYS: [&str; 6] = [
    "access_key_id",
    "secret_access_key",
    "security_token",
    "expiration",
    "ttl_in_minutes",
    "id",
];

/// A configured CLI on a fresh gateway with its own IAM path, whose target `/cli/moto` holds
/// moto's admin keys and endpoints. Returns the CLI and the IAM path.
fn cli_on_moto(moto: &MotoServer) -> (TestCli, String) {
    let path = unique_path();
    let gateway = TestGateway::builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("a SQLite gateway always starts");
    let cli = TestCli::with_gateway(gateway);
    cli.configure();
    let (id, secret) = moto.admin();
    let created = cli
        .run_with_stdin(
            &[
                "create-aws-target",
                "--name",
                TARGET,
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
            ],
            &secret,
        )
        .json();
    assert!(created["target_id"].is_u64(), "{created}");
    (cli, path)
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("{key} is not a non-empty string in {value}"))
}

fn assert_rfc3339(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text:?} is not RFC 3339: {e}"))
}

/// Asserts a successful run whose stdout is not JSON (env / credential-process output).
fn assert_ok(run: &Run) {
    assert_eq!(run.code, 0, "mayfly failed: {run:#?}");
    assert!(run.stderr.is_empty(), "unexpected stderr: {run:#?}");
}

/// AWS keys as a shell sees them after `eval "$(mayfly ... --output env)"`, starting from a
/// shell that still holds a session token from earlier: (key id, secret, session token or
/// None when the output unset it).
fn eval_exports(script: &str) -> (String, String, Option<String>) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            r#"AWS_SESSION_TOKEN=stale-token-from-earlier; export AWS_SESSION_TOKEN
eval "$1" || exit 9
printf '%s\n%s\n%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "${AWS_SESSION_TOKEN-<unset>}""#,
        )
        .arg("sh")
        .arg(script)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .expect("run sh");
    assert!(out.status.success(), "eval failed: {out:?}");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text:?}");
    let token = (lines[2] != "<unset>").then(|| lines[2].to_owned());
    (lines[0].to_owned(), lines[1].to_owned(), token)
}

fn tmp_creds(cli: &TestCli, command: &str, name: &str) -> Vec<Value> {
    let listed = cli.run(&[command, "--name", name]).json();
    listed
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("tmp creds are not a JSON array: {listed}"))
}

fn entry<'a>(listed: &'a [Value], id: &str) -> &'a Value {
    listed
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("tmp creds {id} not listed: {listed:?}"))
}

#[test]
fn iam_user_values_in_every_output_format_then_retime_and_revoke() {
    let moto = MotoServer::shared();
    let (cli, path) = cli_on_moto(moto);
    let producer = "/cli/iam-reader";
    let created = cli
        .run(&[
            "gateway-create-producer-aws",
            "--name",
            producer,
            "--target-name",
            TARGET,
            "--aws-access-mode",
            "iam_user",
            "--aws-user-policies",
            "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
            "--aws-policy-document",
            LIST_USERS_ONLY,
            "--user-ttl",
            "60m",
        ])
        .json();
    assert_eq!(
        created["producer_details"]["dynamic_secret_name"], producer,
        "{created}"
    );

    // --output json: the gateway's value, every field a string; the key works in moto.
    let value = cli
        .run(&[
            "get-dynamic-secret-value",
            "--name",
            producer,
            "--output",
            "json",
        ])
        .json();
    for key in IAM_USER_KEYS {
        str_of(&value, key);
    }
    assert_eq!(value["type"], "aws_dynamic_user", "{value}");
    assert_eq!(value["ttl_in_minutes"], "60", "{value}");
    assert!(value.get("security_token").is_none(), "{value}");
    assert_rfc3339(str_of(&value, "expiration"));
    let user = str_of(&value, "user");
    let arn = caller_arn(
        moto,
        str_of(&value, "access_key_id"),
        str_of(&value, "secret_access_key"),
        None,
    )
    .expect("the issued key authenticates");
    assert!(arn.ends_with(&format!("/{user}")), "{arn} is not {user}");

    // --output env: export lines a shell can eval; a stale session token is unset.
    let env = cli.run(&[
        "dynamic-secret-get-value",
        "-n",
        producer,
        "--output",
        "env",
    ]);
    assert_ok(&env);
    let lines: Vec<&str> = env.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{env:#?}");
    assert!(
        lines[0].starts_with("export AWS_ACCESS_KEY_ID="),
        "{env:#?}"
    );
    assert!(
        lines[1].starts_with("export AWS_SECRET_ACCESS_KEY="),
        "{env:#?}"
    );
    assert_eq!(lines[2], "unset AWS_SESSION_TOKEN", "{env:#?}");
    let (env_key, env_secret, env_token) = eval_exports(&env.stdout);
    assert_eq!(
        env_token, None,
        "an IAM user key must not be paired with a stale token"
    );
    assert_ne!(env_key, str_of(&value, "access_key_id"), "a new credential");
    assert!(
        caller_arn(moto, &env_key, &env_secret, None).is_some(),
        "the exported key authenticates"
    );

    // --output credential-process: one line of the AWS CLI's JSON.
    let process = cli.run(&[
        "get-dynamic-secret-value",
        "--name",
        producer,
        "--output",
        "credential-process",
    ]);
    assert_ok(&process);
    assert_eq!(process.stdout.lines().count(), 1, "{process:#?}");
    let doc: Value = serde_json::from_str(&process.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {process:#?}"));
    assert_eq!(doc["Version"], 1, "{doc}");
    let cp_key = str_of(&doc, "AccessKeyId");
    let cp_secret = str_of(&doc, "SecretAccessKey");
    let cp_expiration = assert_rfc3339(str_of(&doc, "Expiration"));
    assert!(doc.get("SessionToken").is_none(), "{doc}");
    assert!(caller_arn(moto, cp_key, cp_secret, None).is_some());

    // The three are listed, on both generations of names, and are exactly the users in moto.
    let listed = tmp_creds(&cli, "gateway-get-producer-tmp-creds", producer);
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(
        tmp_creds(&cli, "dynamic-secret-tmp-creds-get", producer).len(),
        3
    );
    for e in &listed {
        assert_eq!(e["state"], "active", "{e}");
        assert_eq!(e["access_id"], cli.gateway.admin_access_id(), "{e}");
        assert_rfc3339(str_of(e, "creation_date"));
    }
    let mut listed_users: Vec<String> = listed
        .iter()
        .map(|e| str_of(e, "user").to_owned())
        .collect();
    listed_users.sort();
    assert_eq!(listed_users, users_under(moto, &path));
    let id = str_of(&value, "id");
    assert_eq!(entry(&listed, id)["user"], user);
    let cp_entry = listed
        .iter()
        .find(|e| e["access_key_id"] == cp_key)
        .unwrap_or_else(|| panic!("credential-process key not listed: {listed:?}"));
    assert_eq!(
        assert_rfc3339(str_of(cp_entry, "expiration")),
        cp_expiration,
        "credential-process Expiration is the credential's expiry"
    );
    let cp_id = str_of(cp_entry, "id").to_owned();

    // Re-timing: within the max TTL (here the user-ttl, 60m) on both names; beyond it, 400.
    let too_long = cli.run(&[
        "gateway-update-producer-tmp-creds",
        "--name",
        producer,
        "--tmp-creds-id",
        id,
        "--new-ttl-min",
        "61",
    ]);
    too_long.assert_failed(1, "HTTP 400");
    assert!(too_long.stderr.contains("new-ttl-min"), "{too_long:#?}");
    let updated = cli
        .run(&[
            "gateway-update-producer-tmp-creds",
            "--name",
            producer,
            "--tmp-creds-id",
            id,
            "--new-ttl-min",
            "30",
        ])
        .json();
    assert_eq!(updated, json!({}));
    let updated = cli
        .run(&[
            "dynamic-secret-tmp-creds-update",
            "--name",
            producer,
            "--tmp-creds-id",
            &cp_id,
            "--new-ttl-min",
            "45",
        ])
        .json();
    assert_eq!(updated, json!({}));
    let listed = tmp_creds(&cli, "gateway-get-producer-tmp-creds", producer);
    assert_eq!(entry(&listed, id)["custom_ttl"], 30, "{listed:?}");
    assert_eq!(entry(&listed, &cp_id)["custom_ttl"], 45, "{listed:?}");

    // Revoking one: its key is rejected and its user gone; the others stay.
    let revoked = cli
        .run(&[
            "gateway-revoke-producer-tmp-creds",
            "--name",
            producer,
            "--tmp-creds-id",
            id,
        ])
        .json();
    assert_eq!(
        revoked,
        json!({"revoking": 0}),
        "revoked by the request itself"
    );
    assert!(
        caller_arn(
            moto,
            str_of(&value, "access_key_id"),
            str_of(&value, "secret_access_key"),
            None
        )
        .is_none(),
        "a revoked key is rejected"
    );
    let left = users_under(moto, &path);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.contains(&user.to_owned()), "{left:?}");
    assert!(caller_arn(moto, &env_key, &env_secret, None).is_some());

    // Revoking all: the gateway answers at once with how many its revoker is ending, and
    // --wait follows them until none is left; then nothing is left in moto or in the list.
    let run = cli.run(&[
        "gateway-revoke-producer-tmp-creds",
        "--name",
        producer,
        "--revoke-all",
        "--wait",
        "--wait-timeout",
        "120",
    ]);
    assert!(
        run.stderr.contains("revoked 2, remaining 0"),
        "progress on stderr: {run:#?}"
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer, json!({"revoking": 2}));
    assert!(
        users_under(moto, &path).is_empty(),
        "no user left under {path}"
    );
    assert!(caller_arn(moto, &env_key, &env_secret, None).is_none());
    assert!(caller_arn(moto, cp_key, cp_secret, None).is_none());
    assert!(tmp_creds(&cli, "dynamic-secret-tmp-creds-get", producer).is_empty());

    // An unknown dynamic secret is a 404 for values and tmp creds alike.
    for command in [
        "get-dynamic-secret-value",
        "dynamic-secret-get-value",
        "gateway-get-producer-tmp-creds",
    ] {
        cli.run(&[command, "--name", "/no/such/producer"])
            .assert_failed(1, "HTTP 404");
    }
}

#[test]
fn assume_role_values_export_a_session_token_and_are_revoked_by_session() {
    let moto = MotoServer::shared();
    let (cli, path) = cli_on_moto(moto);
    let role = format!("cli-deployer-{}", unique_suffix());
    let role_arn = create_role(moto, &role, LIST_USERS_ONLY);
    let producer = "/cli/deployer";
    let created = cli
        .run(&[
            "dynamic-secret-create-aws",
            "--name",
            producer,
            "--target-name",
            TARGET,
            "--aws-access-mode",
            "assume_role",
            "--aws-role-arns",
            &role_arn,
            "--user-ttl",
            "60m",
        ])
        .json();
    assert_eq!(
        created["dynamic_secret_details"]["aws_access_mode"], "assume_role",
        "{created}"
    );
    let session_of_role = |arn: Option<String>| {
        let arn = arn.expect("the session credentials authenticate");
        assert!(
            arn.contains(&format!(":assumed-role/{role}/")),
            "{arn} is not a session of {role}"
        );
    };

    // --output json, with a shorter TTL asked through --args.
    let value = cli
        .run(&[
            "get-dynamic-secret-value",
            "--name",
            producer,
            "--args",
            "ttl=15m",
            "--output",
            "json",
        ])
        .json();
    for key in STS_KEYS {
        str_of(&value, key);
    }
    assert_eq!(value["ttl_in_minutes"], "15", "{value}");
    assert_rfc3339(str_of(&value, "expiration"));
    session_of_role(caller_arn(
        moto,
        str_of(&value, "access_key_id"),
        str_of(&value, "secret_access_key"),
        Some(str_of(&value, "security_token")),
    ));

    // --output env exports the session token too.
    let env = cli.run(&[
        "get-dynamic-secret-value",
        "--name",
        producer,
        "--output",
        "env",
    ]);
    assert_ok(&env);
    let lines: Vec<&str> = env.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{env:#?}");
    assert!(
        lines[0].starts_with("export AWS_ACCESS_KEY_ID="),
        "{env:#?}"
    );
    assert!(
        lines[1].starts_with("export AWS_SECRET_ACCESS_KEY="),
        "{env:#?}"
    );
    assert!(
        lines[2].starts_with("export AWS_SESSION_TOKEN="),
        "{env:#?}"
    );
    let (key, secret, token) = eval_exports(&env.stdout);
    let token = token.expect("the session token is exported");
    assert_ne!(token, "stale-token-from-earlier");
    session_of_role(caller_arn(moto, &key, &secret, Some(&token)));

    // --output credential-process carries the SessionToken.
    let process = cli.run(&[
        "dynamic-secret-get-value",
        "--name",
        producer,
        "--output",
        "credential-process",
    ]);
    assert_ok(&process);
    let doc: Value = serde_json::from_str(&process.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {process:#?}"));
    assert_eq!(doc["Version"], 1, "{doc}");
    assert_rfc3339(str_of(&doc, "Expiration"));
    session_of_role(caller_arn(
        moto,
        str_of(&doc, "AccessKeyId"),
        str_of(&doc, "SecretAccessKey"),
        Some(str_of(&doc, "SessionToken")),
    ));

    let listed = tmp_creds(&cli, "gateway-get-producer-tmp-creds", producer);
    assert_eq!(listed.len(), 3, "{listed:?}");
    let id = str_of(&value, "id");
    assert_eq!(entry(&listed, id)["mode"], "assume_role");

    // AWS cannot re-time an STS credential: exit 1 with the gateway's explanation.
    cli.run(&[
        "gateway-update-producer-tmp-creds",
        "--name",
        producer,
        "--tmp-creds-id",
        id,
        "--new-ttl-min",
        "30",
    ])
    .assert_failed(1, "HTTP 400");
    // The session still works after the refusal.
    session_of_role(caller_arn(moto, &key, &secret, Some(&token)));

    // But it can be revoked (session-revocation is on by default): the role gets a deny for
    // its session, and it leaves the listing of live credentials.
    let revoked = cli.run(&[
        "gateway-revoke-producer-tmp-creds",
        "--name",
        producer,
        "--tmp-creds-id",
        id,
    ]);
    assert_ok(&revoked);
    let left = tmp_creds(&cli, "gateway-get-producer-tmp-creds", producer);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|c| c["id"] != id), "{left:?}");
    assert!(left
        .iter()
        .all(|c| c["session_name"].as_str().is_some_and(|n| !n.is_empty())));
    assert_ok(&cli.run(&[
        "dynamic-secret-tmp-creds-delete",
        "--name",
        producer,
        "--revoke-all",
    ]));
    assert!(tmp_creds(&cli, "gateway-get-producer-tmp-creds", producer).is_empty());
    // No IAM user was ever made.
    assert!(users_under(moto, &path).is_empty());
}
