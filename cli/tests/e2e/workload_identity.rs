//! Logging in with the identity a workload already has, through the CLI: the operator creates a
//! JWT auth method with the issuer's keys inline and gives one repository a role by
//! sub-claims; a CI job holding no Mayfly secret logs in with its GitHub-shaped OIDC token
//! (`mayfly auth --access-type jwt --jwt @FILE`, or MAYFLY_ACCESS_TYPE / MAYFLY_JWT for every
//! command) and gets that role, while another repository's token gets none. The JWT never
//! appears in what the CLI prints, on success or failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use mayfly_testkit::jwt::{github_claims, jwks, TestKey};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::helpers::{Run, TestCli};

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const AUDIENCE: &str = "https://github.com/octo-org";
const AUTH_METHOD: &str = "/ci/github";
const ROLE: &str = "/ci/app-a";

/// A CI job's machine: no profile, no API key; the gateway URL and CA from the environment.
struct Job<'a> {
    cli: &'a TestCli,
    home: TempDir,
}

impl<'a> Job<'a> {
    fn new(cli: &'a TestCli) -> Self {
        Job {
            cli,
            home: tempfile::tempdir().expect("temporary home"),
        }
    }

    fn command(&self) -> Command {
        let mut command = self.cli.command();
        command
            .env("MAYFLY_CONFIG_DIR", self.home.path())
            .env("HOME", self.home.path())
            .env("MAYFLY_GATEWAY_URL", self.cli.gateway.base_url())
            .env("MAYFLY_CA_CERT", self.cli.ca_cert());
        command
    }

    /// A token file as a CI system leaves it (with a trailing newline).
    fn token_file(&self, name: &str, jwt: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, format!("{jwt}\n")).expect("write the token file");
        path
    }

    fn run(&self, args: &[&str], jwt: &str) -> Run {
        checked(self.cli.run_with(self.command(), args, None), jwt)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str, jwt: &str) -> Run {
        checked(self.cli.run_with(self.command(), args, Some(stdin)), jwt)
    }

    /// Every command with MAYFLY_ACCESS_TYPE, MAYFLY_ACCESS_ID and MAYFLY_JWT set, as a CI
    /// step would export them.
    fn run_with_env(&self, args: &[&str], access_id: &str, jwt_setting: &str, jwt: &str) -> Run {
        let mut command = self.command();
        command
            .env("MAYFLY_ACCESS_TYPE", "jwt")
            .env("MAYFLY_ACCESS_ID", access_id)
            .env("MAYFLY_JWT", jwt_setting);
        checked(self.cli.run_with(command, args, None), jwt)
    }
}

/// The run, after checking that the JWT is in neither of its outputs.
fn checked(run: Run, jwt: &str) -> Run {
    assert!(
        !run.stdout.contains(jwt) && !run.stderr.contains(jwt),
        "the JWT was printed: {run:#?}"
    );
    run
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("{key} is not a non-empty string in {value}"))
}

fn github_token(repository: &str) -> String {
    TestKey::A.sign(&github_claims(GITHUB, AUDIENCE, repository))
}

fn at(path: &Path) -> String {
    format!("@{}", path.display())
}

/// The operator's side: the JWT method with the JWKS inline, a role that may read itself, and
/// the role given to octo-org/app-a only. Returns the method's access id.
fn set_up(cli: &TestCli, dir: &Path) -> String {
    let jwks_file = dir.join("jwks.json");
    std::fs::write(&jwks_file, jwks(&[TestKey::A]).to_string()).expect("write the JWKS");
    let created = cli
        .run(&[
            "create-auth-method-oauth2",
            "--name",
            AUTH_METHOD,
            "--jwks-json-data",
            &at(&jwks_file),
            "--issuer",
            GITHUB,
            "--audience",
            AUDIENCE,
            "--unique-identifier",
            "repository",
            "--force-sub-claims",
            "--bound-claims",
            "repository_owner=octo-org",
            "--jwt-ttl",
            "15",
        ])
        .json();
    let access_id = str_of(&created, "access_id").to_owned();
    assert!(access_id.starts_with("p-"), "{created}");

    cli.run(&["create-role", "--name", ROLE]).json();
    cli.run(&[
        "set-role-rule",
        "--role-name",
        ROLE,
        "--path",
        ROLE,
        "--capability",
        "read",
        "--rule-type",
        "role-rule",
    ])
    .json();
    // force-sub-claims: an association for every repository of the issuer is refused.
    cli.run(&[
        "assoc-role-am",
        "--role-name",
        ROLE,
        "--am-name",
        AUTH_METHOD,
    ])
    .assert_failed(1, "force-sub-claims");
    let assoc = cli
        .run(&[
            "assoc-role-am",
            "--role-name",
            ROLE,
            "--am-name",
            AUTH_METHOD,
            "--sub-claims",
            "repository=octo-org/app-a,octo-org/app-a-*",
            "--case-sensitive",
            "true",
        ])
        .json();
    let assoc_id = str_of(&assoc, "assoc_id").to_owned();

    // get-auth-method shows the settings (the JWKS as the base64 the CLI made of the file)
    // and the association's sub-claims.
    let method = cli.run(&["get-auth-method", "--name", AUTH_METHOD]).json();
    let rules = &method["access_info"]["oauth2_access_rules"];
    assert_eq!(rules["unique_identifier"], "repository", "{method}");
    assert_eq!(rules["issuer"], GITHUB, "{method}");
    assert_eq!(rules["force_sub_claims"], true, "{method}");
    assert_eq!(rules["jwt_ttl"], 15, "{method}");
    assert_eq!(
        rules["bound_claims"],
        json!({"repository_owner": ["octo-org"]}),
        "{method}"
    );
    assert_eq!(rules["jwks_uri"], "", "{method}");
    assert!(!str_of(rules, "jwks_json_data").contains('{'), "{method}");
    assert_eq!(
        method["auth_method_roles_assoc"],
        json!([{
            "assoc_id": assoc_id,
            "role_name": ROLE,
            "auth_method_sub_claims": {"repository": ["octo-org/app-a", "octo-org/app-a-*"]},
            "is_sub_claims_case_sensitive": true,
        }])
    );
    access_id
}

#[test]
fn a_ci_job_logs_in_with_its_oidc_token_and_gets_only_its_repositorys_role() {
    let cli = TestCli::spawn();
    cli.configure();
    let dir = tempfile::tempdir().expect("temporary dir");
    let access_id = set_up(&cli, dir.path());
    let job = Job::new(&cli);

    // app-a: `mayfly auth --jwt @FILE`, then the token reads the role.
    let jwt_a = github_token("octo-org/app-a");
    let file_a = job.token_file("app-a.jwt", &jwt_a);
    let auth = job
        .run(
            &[
                "auth",
                "--access-type",
                "jwt",
                "--access-id",
                &access_id,
                "--jwt",
                &at(&file_a),
            ],
            &jwt_a,
        )
        .json();
    let token = str_of(&auth, "token").to_owned();
    let role = job
        .run(&["--token", &token, "get-role", "--name", ROLE], &jwt_a)
        .json();
    assert_eq!(role["role_name"], ROLE, "{role}");
    // Only that: the admin role is out of its reach.
    job.run(&["--token", &token, "get-role", "--name", "/admin"], &jwt_a)
        .assert_failed(1, "HTTP 403");

    // --access-type oidc is the same login; the JWT may come through stdin.
    let auth = job
        .run_with_stdin(
            &[
                "auth",
                "--access-type",
                "oidc",
                "--access-id",
                &access_id,
                "--jwt",
                "-",
            ],
            &format!("{jwt_a}\n"),
            &jwt_a,
        )
        .json();
    str_of(&auth, "token");

    // In CI, the environment alone: every command logs in with MAYFLY_JWT first.
    let role = job
        .run_with_env(
            &["get-role", "--name", ROLE],
            &access_id,
            &at(&file_a),
            &jwt_a,
        )
        .json();
    assert_eq!(role["role_name"], ROLE, "{role}");
    let role = job
        .run_with_env(&["get-role", "--name", ROLE], &access_id, &jwt_a, &jwt_a)
        .json();
    assert_eq!(role["role_name"], ROLE, "{role}");

    // app-b of the same organization logs in (the method accepts it) but holds no role.
    let jwt_b = github_token("octo-org/app-b");
    let auth = job
        .run_with_stdin(
            &[
                "auth",
                "--access-type",
                "jwt",
                "--access-id",
                &access_id,
                "--jwt",
                "-",
            ],
            &jwt_b,
            &jwt_b,
        )
        .json();
    let token_b = str_of(&auth, "token").to_owned();
    job.run(&["--token", &token_b, "get-role", "--name", ROLE], &jwt_b)
        .assert_failed(1, "HTTP 403");
    let file_b = job.token_file("app-b.jwt", &jwt_b);
    job.run_with_env(
        &["get-role", "--name", ROLE],
        &access_id,
        &at(&file_b),
        &jwt_b,
    )
    .assert_failed(1, "HTTP 403");
}

#[test]
fn refused_and_incomplete_jwt_logins_never_print_the_token() {
    let cli = TestCli::spawn();
    cli.configure();
    let dir = tempfile::tempdir().expect("temporary dir");
    let access_id = set_up(&cli, dir.path());
    let job = Job::new(&cli);

    // A token for another audience: 401 from the gateway, which names the reason.
    let wrong = TestKey::A.sign(&github_claims(
        GITHUB,
        "https://elsewhere",
        "octo-org/app-a",
    ));
    job.run(
        &[
            "auth",
            "--access-type",
            "jwt",
            "--access-id",
            &access_id,
            "--jwt",
            &wrong,
        ],
        &wrong,
    )
    .assert_failed(1, "HTTP 401");

    // Usage errors: no JWT, an empty token file, a JWT without --access-type.
    let jwt = github_token("octo-org/app-a");
    job.run(
        &["auth", "--access-type", "jwt", "--access-id", &access_id],
        &jwt,
    )
    .assert_failed(2, "no JWT");
    let empty = job.token_file("empty.jwt", "");
    job.run(
        &[
            "auth",
            "--access-type",
            "jwt",
            "--access-id",
            &access_id,
            "--jwt",
            &at(&empty),
        ],
        &jwt,
    )
    .assert_failed(2, "the file is empty");
    job.run(&["auth", "--access-id", &access_id, "--jwt", &jwt], &jwt)
        .assert_failed(2, "--access-type jwt");
    let mut command = job.command();
    command.env("MAYFLY_ACCESS_TYPE", "gcp");
    checked(cli.run_with(command, &["list-roles"], None), &jwt)
        .assert_failed(2, "MAYFLY_ACCESS_TYPE");

    // A JWT to an API key's access id is refused like an unknown id.
    job.run(
        &[
            "auth",
            "--access-type",
            "jwt",
            "--access-id",
            cli.gateway.admin_access_id(),
            "--jwt",
            &jwt,
        ],
        &jwt,
    )
    .assert_failed(1, "HTTP 401");
}
