//! Access control through the CLI, as an operator sets it up for a CI pipeline: a role that may
//! read one producer, an API key holding it, and what that key can and cannot do, then the
//! audit trail of what it was refused and how its access is taken away again.

use std::process::Command;

use mayfly_testkit::{moto::MotoServer, TestGateway};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::aws::{caller_arn, unique_path, users_under};
use crate::helpers::{names, Run, TestCli};

const TARGET: &str = "/cli/moto";
const ALLOWED: &str = "/team-a/s3-reader";
const OTHER: &str = "/team-b/deployer";
const ROLE: &str = "/ci/fetch-s3-reader";
const AUTH_METHOD: &str = "/ci/pipeline";
/// The issued users' inline policy: enough for "the key works" to be checkable.
const CALLER_IDENTITY_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#;

/// A second machine: the CI pipeline, with no profile, configured only through environment
/// variables (gateway URL, CA certificate and its own API key).
struct Pipeline<'a> {
    cli: &'a TestCli,
    home: TempDir,
    access_id: String,
    access_key: String,
}

impl Pipeline<'_> {
    fn command(&self) -> Command {
        let mut command = self.cli.command();
        command
            .env("MAYFLY_CONFIG_DIR", self.home.path())
            .env("HOME", self.home.path())
            .env("MAYFLY_GATEWAY_URL", self.cli.gateway.base_url())
            .env("MAYFLY_CA_CERT", self.cli.ca_cert())
            .env("MAYFLY_ACCESS_ID", &self.access_id)
            .env("MAYFLY_ACCESS_KEY", &self.access_key);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cli.run_with(self.command(), args, None)
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("{key} is not a non-empty string in {value}"))
}

fn events(answer: &Value) -> Vec<Value> {
    answer["events"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("events is not an array: {answer}"))
}

/// A configured admin CLI on a fresh gateway with its own IAM path, a target holding moto's
/// admin keys, and two producers on it.
fn admin_with_two_producers(moto: &MotoServer) -> (TestCli, String) {
    let path = unique_path();
    let gateway = TestGateway::builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("a SQLite gateway always starts");
    let cli = TestCli::with_gateway(gateway);
    cli.configure();
    let (id, secret) = moto.admin();
    cli.run_with_stdin(
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
    for producer in [ALLOWED, OTHER] {
        cli.run(&[
            "gateway-create-producer-aws",
            "--name",
            producer,
            "--target-name",
            TARGET,
            "--aws-access-mode",
            "iam_user",
            "--aws-policy-document",
            CALLER_IDENTITY_ONLY,
            "--user-ttl",
            "30m",
        ])
        .json();
    }
    (cli, path)
}

/// The operator's four commands: a role reading one producer, a key, the two associated.
/// Returns the pipeline holding the new key and the association id.
fn grant_one_producer(cli: &TestCli) -> (Pipeline<'_>, String) {
    assert_eq!(
        cli.run(&[
            "create-role",
            "--name",
            ROLE,
            "--description",
            "CI: fetch one producer",
        ])
        .json(),
        json!({})
    );
    assert_eq!(
        cli.run(&[
            "set-role-rule",
            "--role-name",
            ROLE,
            "--path",
            ALLOWED,
            "--capability",
            "read",
        ])
        .json(),
        json!({})
    );
    let key = cli
        .run(&["create-auth-method", "--name", AUTH_METHOD])
        .json();
    assert_eq!(key["name"], AUTH_METHOD, "{key}");
    let access_id = str_of(&key, "access_id").to_owned();
    assert!(access_id.starts_with("p-"), "{key}");
    let access_key = str_of(&key, "access_key").to_owned();
    let assoc = cli
        .run(&[
            "assoc-role-am",
            "--role-name",
            ROLE,
            "--am-name",
            AUTH_METHOD,
        ])
        .json();
    let assoc_id = str_of(&assoc, "assoc_id").to_owned();

    // Both sides show the association; the key itself is never shown again.
    let role = cli.run(&["get-role", "--name", ROLE]).json();
    assert_eq!(role["comment"], "CI: fetch one producer", "{role}");
    assert_eq!(role["audit_access"], "none", "{role}");
    assert_eq!(
        role["rules"]["path_rules"],
        json!([{"path": ALLOWED, "capabilities": ["read"], "type": "item-rule"}])
    );
    assert_eq!(
        role["role_auth_methods_assoc"],
        json!([{
            "assoc_id": assoc_id,
            "auth_method_name": AUTH_METHOD,
            "auth_method_access_id": access_id,
        }])
    );
    let method = cli.run(&["get-auth-method", "--name", AUTH_METHOD]);
    assert!(!method.stdout.contains(&access_key), "{method:#?}");
    assert_eq!(
        method.json()["auth_method_roles_assoc"],
        json!([{
            "assoc_id": assoc_id,
            "role_name": ROLE,
            "auth_method_sub_claims": {},
            "is_sub_claims_case_sensitive": true,
        }])
    );
    assert!(
        names(&cli.run(&["list-roles"]).json(), "roles", "role_name").contains(&ROLE.to_owned())
    );
    assert_eq!(
        names(
            &cli.run(&["list-auth-methods", "--filter", "pipeline"])
                .json(),
            "auth_methods",
            "auth_method_name"
        ),
        [AUTH_METHOD]
    );

    let pipeline = Pipeline {
        cli,
        home: tempfile::tempdir().expect("temporary home"),
        access_id,
        access_key,
    };
    (pipeline, assoc_id)
}

#[test]
fn a_ci_key_fetches_only_its_producer_and_the_audit_shows_what_it_was_refused() {
    let moto = MotoServer::shared();
    let (cli, path) = admin_with_two_producers(moto);
    let (pipeline, _) = grant_one_producer(&cli);

    // The one thing it may do: get a working credential of its producer.
    let value = pipeline
        .run(&["get-dynamic-secret-value", "--name", ALLOWED])
        .json();
    let user = str_of(&value, "user").to_owned();
    let arn = caller_arn(
        moto,
        str_of(&value, "access_key_id"),
        str_of(&value, "secret_access_key"),
        None,
    )
    .expect("the issued key authenticates");
    assert!(arn.ends_with(&format!("/{user}")), "{arn} is not {user}");

    // Another producer, creating things, widening its own role, reading the audit: 403.
    let refused = pipeline.run(&["get-dynamic-secret-value", "--name", OTHER]);
    refused.assert_failed(1, "HTTP 403");
    assert!(refused.stderr.contains(OTHER), "{refused:#?}");
    assert!(refused.stderr.contains(&pipeline.access_id), "{refused:#?}");
    let refusals: [&[&str]; 6] = [
        &["dynamic-secret-get-value", "--name", "/team-a/unknown"],
        &[
            "gateway-create-producer-aws",
            "--name",
            "/team-a/new",
            "--target-name",
            TARGET,
            "--aws-access-mode",
            "iam_user",
        ],
        &[
            "create-aws-target",
            "--name",
            "/cli/mine",
            "--access-key-id",
            "AKIAIOSFODNN7EXAMPLE",
            "--access-key",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ],
        &["create-role", "--name", "/ci/mine"],
        &[
            "set-role-rule",
            "--role-name",
            ROLE,
            "--path",
            "/*",
            "--capability",
            "read",
        ],
        &["get-audit-events"],
    ];
    for args in refusals {
        pipeline.run(args).assert_failed(1, "HTTP 403");
    }
    pipeline
        .run(&["create-auth-method", "--name", "/ci/mine"])
        .assert_failed(1, "HTTP 403");
    // Lists answer, but show only what the key may list: nothing.
    for (command, key) in [
        ("list-items", "items"),
        ("list-targets", "targets"),
        ("list-roles", "roles"),
        ("list-auth-methods", "auth_methods"),
    ] {
        let listed = pipeline.run(&[command]).json();
        assert_eq!(listed[key], json!([]), "{command}: {listed}");
    }
    // Nothing was issued for the refused producer.
    assert_eq!(users_under(moto, &path), [user]);

    // The admin sees the refusal in the audit trail, with who, what and from where.
    let denied = events(
        &cli.run(&[
            "get-audit-events",
            "--access-id",
            &pipeline.access_id,
            "--item",
            OTHER,
        ])
        .json(),
    );
    assert_eq!(denied.len(), 1, "{denied:?}");
    let event = &denied[0];
    assert_eq!(event["operation"], "get-dynamic-secret-value", "{event}");
    assert_eq!(event["outcome"], "denied", "{event}");
    assert_eq!(event["status"], 403, "{event}");
    assert_eq!(event["access_id"], pipeline.access_id.as_str(), "{event}");
    assert_eq!(event["client_address"], "127.0.0.1", "{event}");
    str_of(event, "request_id");
    chrono::DateTime::parse_from_rfc3339(str_of(event, "time")).expect("RFC 3339 time");

    // Filtered by operation: the issued credential, then the refusal, oldest first; one per
    // page with --limit 1.
    let fetches = [
        "get-audit-events",
        "--access-id",
        &pipeline.access_id,
        "--operation",
        "get-dynamic-secret-value",
        "--since",
        "0",
    ];
    let all = events(&cli.run(&fetches).json());
    let outcomes: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (str_of(e, "item"), str_of(e, "outcome")))
        .collect();
    assert_eq!(outcomes, [(ALLOWED, "ok"), (OTHER, "denied")]);
    assert!(
        str_of(&all[0], "detail").contains(str_of(&value, "id")),
        "{all:?}"
    );
    let mut paged = fetches.to_vec();
    paged.extend(["--limit", "1"]);
    let first = cli.run(&paged).json();
    assert_eq!(events(&first), all[..1]);
    let next = str_of(&first, "next_page").to_owned();
    paged.extend(["--pagination-token", &next]);
    assert_eq!(events(&cli.run(&paged).json()), all[1..2]);

    // No secret reaches the audit trail: not the API key, not the issued secret.
    let everything = cli.run(&["get-audit-events", "--limit", "1000"]);
    for secret in [
        pipeline.access_key.as_str(),
        str_of(&value, "secret_access_key"),
    ] {
        assert!(!everything.stdout.contains(secret), "{everything:#?}");
    }
}

#[test]
fn taking_access_away_ends_the_key_and_its_tokens() {
    let cli = TestCli::spawn();
    cli.configure();
    let (pipeline, assoc_id) = grant_one_producer(&cli);
    // Reading its own role is a role-rule on the role's path.
    cli.run(&[
        "set-role-rule",
        "--role-name",
        ROLE,
        "--path",
        "/ci/*",
        "--capability",
        "read,list",
        "--rule-type",
        "role-rule",
    ])
    .json();
    assert_eq!(
        pipeline.run(&["get-role", "--name", ROLE]).json()["role_name"],
        ROLE
    );
    // ... but not the admin's role, outside the glob.
    pipeline
        .run(&["get-role", "--name", "/admin"])
        .assert_failed(1, "HTTP 403");

    // delete-role-rule takes exactly that right away again.
    let deleted = cli
        .run(&[
            "delete-role-rule",
            "--role-name",
            ROLE,
            "--path",
            "/ci/*",
            "--rule-type",
            "role-rule",
        ])
        .json();
    assert_eq!(deleted["deleted"], true, "{deleted}");
    pipeline
        .run(&["get-role", "--name", ROLE])
        .assert_failed(1, "HTTP 403");

    // A token the pipeline logged in for works until it is revoked.
    let token_of = || {
        let auth = pipeline.run(&["auth"]).json();
        str_of(&auth, "token").to_owned()
    };
    let token = token_of();
    let with_token = |token: &str, args: &[&str]| {
        let mut full = vec!["--token", token];
        full.extend_from_slice(args);
        pipeline.run(&full)
    };
    // A 403 (authenticated, not allowed) shows the token itself is good.
    with_token(&token, &["get-dynamic-secret-value", "--name", OTHER]).assert_failed(1, "HTTP 403");
    assert_eq!(with_token(&token, &["revoke-token"]).json(), json!({}));
    with_token(&token, &["get-dynamic-secret-value", "--name", OTHER]).assert_failed(1, "HTTP 401");

    // The admin can revoke another key's token; an unknown token is a 404.
    let token = token_of();
    assert_eq!(
        cli.run_with_stdin(&["revoke-token", "--token-to-revoke", "-"], &token)
            .json(),
        json!({})
    );
    with_token(&token, &["list-roles"]).assert_failed(1, "HTTP 401");
    cli.run(&["revoke-token", "--token-to-revoke", &token])
        .assert_failed(1, "HTTP 404");

    // Without the association the key logs in but may do nothing.
    let token = token_of();
    assert_eq!(
        cli.run(&["delete-assoc", "--assoc-id", &assoc_id]).json(),
        json!({})
    );
    assert_eq!(
        cli.run(&["get-role", "--name", ROLE]).json()["role_auth_methods_assoc"],
        json!([])
    );
    pipeline
        .run(&["get-dynamic-secret-value", "--name", ALLOWED])
        .assert_failed(1, "HTTP 403");

    // Deleting the auth method ends its live tokens and its key.
    assert_eq!(
        cli.run(&["delete-auth-method", "--name", AUTH_METHOD])
            .json(),
        json!({"name": AUTH_METHOD})
    );
    with_token(&token, &["list-roles"]).assert_failed(1, "HTTP 401");
    pipeline.run(&["auth"]).assert_failed(1, "HTTP 401");
    cli.run(&["get-auth-method", "--name", AUTH_METHOD])
        .assert_failed(1, "HTTP 404");

    // The role goes last; the bootstrap admin role is protected.
    assert_eq!(cli.run(&["delete-role", "--name", ROLE]).json(), json!({}));
    cli.run(&["get-role", "--name", ROLE])
        .assert_failed(1, "HTTP 404");
    cli.run(&["delete-role", "--name", "/admin"])
        .assert_failed(1, "HTTP 409");

    // The refused /auth is on record for the admin, without the key.
    let failures = cli
        .run(&[
            "get-audit-events",
            "--operation",
            "auth",
            "--access-id",
            &pipeline.access_id,
        ])
        .json();
    let last = events(&failures)
        .pop()
        .unwrap_or_else(|| panic!("no auth events: {failures}"));
    assert_eq!(last["outcome"], "denied", "{last}");
    assert_eq!(last["status"], 401, "{last}");
    assert!(!failures.to_string().contains(&pipeline.access_key));
}

#[test]
fn reset_access_key_and_delete_protection_through_the_cli() {
    let cli = TestCli::spawn();
    cli.configure();
    let key = cli.run(&["create-auth-method", "--name", "/ci/bot"]).json();
    let old = Pipeline {
        cli: &cli,
        home: TempDir::new().unwrap(),
        access_id: str_of(&key, "access_id").to_owned(),
        access_key: str_of(&key, "access_key").to_owned(),
    };
    old.run(&["list-roles"]).json();

    let reset = cli.run(&["reset-access-key", "--name", "/ci/bot"]).json();
    let new = Pipeline {
        cli: &cli,
        home: TempDir::new().unwrap(),
        access_id: old.access_id.clone(),
        access_key: str_of(&reset, "access_key").to_owned(),
    };
    old.run(&["list-roles"]).assert_failed(1, "HTTP 401");
    new.run(&["list-roles"]).json();

    let out = cli
        .run(&[
            "update-auth-method",
            "--name",
            "/ci/bot",
            "--delete-protection",
        ])
        .json();
    assert_eq!(out["name"], "/ci/bot", "{out}");
    cli.run(&["delete-auth-method", "--name", "/ci/bot"])
        .assert_failed(1, "HTTP 409");
    cli.run(&[
        "auth-method-update-api-key",
        "--name",
        "/ci/bot",
        "--delete-protection",
        "false",
    ])
    .json();
    cli.run(&["delete-auth-method", "--name", "/ci/bot"]).json();
    new.run(&["list-roles"]).assert_failed(1, "HTTP 401");
}
