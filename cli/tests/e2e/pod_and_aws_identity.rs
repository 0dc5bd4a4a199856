//! Logging in through the CLI with the identity a Kubernetes pod or an AWS principal already
//! has. The operator creates a Kubernetes auth method with the cluster's keys inline
//! (`create-auth-method-k8s`) and AWS IAM auth methods checked by the auth-enforcing moto of
//! `MotoServer::shared()` (`create-auth-method-aws-iam`). A pod logs in with its
//! service-account token, by default the file Kubernetes mounts (here a file named by
//! MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH); an IAM user or a role's session logs in with the
//! sts:GetCallerIdentity the CLI signs with the AWS credentials in its environment, which
//! moto verifies. Principals the methods do not bind get nothing, and no token, key or
//! signature ever appears in what the CLI prints.
//!
//! A Kubernetes auth method may also have no keys of its own: the operator gives it a k8s
//! auth config (`gateway-create-k8s-auth-config`) pointing at the cluster's API server (the
//! fake [`KubeApi`], HTTPS with its own CA), and a pod that names the config when it logs in
//! is vouched for by the cluster's TokenReview, made with the config's token reviewer JWT.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use mayfly_testkit::jwt::{jwks, k8s_claims, TestKey};
use mayfly_testkit::kube_api::KubeApi;
use mayfly_testkit::moto::{MotoServer, ALLOWED_ENDPOINTS_ENV};
use mayfly_testkit::TestGateway;
use serde_json::Value;
use tempfile::TempDir;

use crate::aws::{account_id, assume_role, create_role, create_user_with_key, unique_suffix};
use crate::helpers::{Run, TestCli};

const CLUSTER: &str = "https://kubernetes.default.svc.cluster.local";
const K8S_METHOD: &str = "/k8s/prod";
const K8S_ROLE: &str = "/k8s/team-a";

/// Variables of AWS's credential chain a developer's shell may hold; cleared so that only
/// what a test sets is used.
const AWS_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// A workload's machine: no profile, no API key; the gateway URL and CA from the
/// environment; no AWS credentials unless a test gives some (the shared AWS files are empty
/// and the instance metadata service is off).
struct Machine<'a> {
    cli: &'a TestCli,
    home: TempDir,
}

impl<'a> Machine<'a> {
    fn new(cli: &'a TestCli) -> Self {
        let home = tempfile::tempdir().expect("temporary home");
        for file in ["aws-config", "aws-credentials"] {
            std::fs::write(home.path().join(file), "").expect("empty AWS file");
        }
        Machine { cli, home }
    }

    fn command(&self) -> Command {
        let mut command = self.cli.command();
        for name in AWS_VARS {
            command.env_remove(name);
        }
        command
            .env("MAYFLY_CONFIG_DIR", self.home.path())
            .env("HOME", self.home.path())
            .env("MAYFLY_GATEWAY_URL", self.cli.gateway.base_url())
            .env("MAYFLY_CA_CERT", self.cli.ca_cert())
            .env("AWS_CONFIG_FILE", self.home.path().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.home.path().join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true");
        command
    }

    /// A file in the machine's home (a token file as Kubernetes writes it: no newline).
    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, contents).expect("write the file");
        path
    }

    fn run(&self, command: Command, args: &[&str], secrets: &[&str]) -> Run {
        checked(self.cli.run_with(command, args, None), secrets)
    }
}

/// The run, after checking that no secret (nor its base64) is in either of its outputs.
fn checked(run: Run, secrets: &[&str]) -> Run {
    for secret in secrets {
        for form in [secret.to_string(), BASE64.encode(secret)] {
            assert!(
                !run.stdout.contains(&form) && !run.stderr.contains(&form),
                "a secret was printed: {run:#?}"
            );
        }
    }
    run
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("{key} is not a non-empty string in {value}"))
}

fn at(path: &Path) -> String {
    format!("@{}", path.display())
}

/// A role that may read itself, so that a token holding it can show it.
fn create_self_reading_role(cli: &TestCli, role: &str) {
    cli.run(&["create-role", "--name", role]).json();
    cli.run(&[
        "set-role-rule",
        "--role-name",
        role,
        "--path",
        role,
        "--capability",
        "read",
        "--rule-type",
        "role-rule",
    ])
    .json();
}

fn service_account_token(namespace: &str, account: &str) -> String {
    TestKey::A.sign(&k8s_claims(
        CLUSTER,
        "mayfly",
        namespace,
        account,
        &format!("{account}-7d9f"),
    ))
}

/// The operator's side of Kubernetes: the method with the cluster's JWKS inline, and the
/// role given to team-a's deployer service account. Returns the method's access id.
fn set_up_k8s(cli: &TestCli, dir: &Path) -> String {
    let cluster_keys = jwks(&[TestKey::A]).to_string();
    let created = cli
        .run(&[
            "create-auth-method-k8s",
            "--name",
            K8S_METHOD,
            "--jwks-json-data",
            &cluster_keys,
            "--k8s-issuer",
            CLUSTER,
            "--audience",
            "mayfly",
            "--bound-namespaces",
            "team-*",
            "--force-sub-claims",
            "--gen-key",
            "--jwt-ttl",
            "15",
        ])
        .json();
    let access_id = str_of(&created, "access_id").to_owned();
    assert!(access_id.starts_with("p-"), "{created}");

    create_self_reading_role(cli, K8S_ROLE);
    cli.run(&[
        "assoc-role-am",
        "--role-name",
        K8S_ROLE,
        "--am-name",
        K8S_METHOD,
    ])
    .assert_failed(1, "force-sub-claims");
    cli.run(&[
        "assoc-role-am",
        "--role-name",
        K8S_ROLE,
        "--am-name",
        K8S_METHOD,
        "--sub-claims",
        "namespace=team-a",
        "--sub-claims",
        "service_account_name=deployer",
    ])
    .json();

    let method = cli.run(&["get-auth-method", "--name", K8S_METHOD]).json();
    assert_eq!(method["access_info"]["rules_type"], "k8s", "{method}");
    let rules = &method["access_info"]["k8s_access_rules"];
    assert_eq!(rules["issuer"], CLUSTER, "{method}");
    assert_eq!(rules["bound_namespaces"][0], "team-*", "{method}");
    assert_eq!(rules["force_sub_claims"], true, "{method}");
    assert_eq!(
        str_of(rules, "jwks_json_data"),
        BASE64.encode(&cluster_keys),
        "the inline JWKS travels base64-encoded"
    );

    // The newer command name, with the keys from a file.
    let jwks_file = dir.join("jwks.json");
    std::fs::write(&jwks_file, format!("{cluster_keys}\n")).expect("write the JWKS");
    let other = cli
        .run(&[
            "auth-method-create-k8s",
            "--name",
            "/k8s/staging",
            "--jwks-json-data",
            &at(&jwks_file),
        ])
        .json();
    assert!(str_of(&other, "access_id").starts_with("p-"), "{other}");
    let method = cli
        .run(&["get-auth-method", "--name", "/k8s/staging"])
        .json();
    assert_eq!(
        method["access_info"]["k8s_access_rules"]["jwks_json_data"],
        BASE64.encode(&cluster_keys),
        "{method}"
    );
    access_id
}

#[test]
fn a_pod_logs_in_with_its_service_account_token_and_gets_only_its_role() {
    let cli = TestCli::spawn();
    cli.configure();
    let dir = tempfile::tempdir().expect("temporary dir");
    let access_id = set_up_k8s(&cli, dir.path());
    let pod = Machine::new(&cli);
    let token = service_account_token("team-a", "deployer");
    let secrets = [token.as_str()];
    let token_file = pod.file("token", &token);
    let in_the_pod = || {
        let mut command = pod.command();
        command.env("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH", &token_file);
        command
    };

    // In the pod: no token flag, the mounted token file is read.
    let auth = pod
        .run(
            in_the_pod(),
            &["auth", "--access-type", "k8s", "--access-id", &access_id],
            &secrets,
        )
        .json();
    let session = str_of(&auth, "token").to_owned();
    let role = pod
        .run(
            pod.command(),
            &["--token", &session, "get-role", "--name", K8S_ROLE],
            &secrets,
        )
        .json();
    assert_eq!(role["role_name"], K8S_ROLE, "{role}");
    pod.run(
        pod.command(),
        &["--token", &session, "get-role", "--name", "/admin"],
        &secrets,
    )
    .assert_failed(1, "HTTP 403");

    // Every other way of giving the token: @FILE (with a config name, which Mayfly's gateway
    // accepts and verifies with the method's keys), the token, its base64, stdin.
    let encoded = BASE64.encode(&token);
    for given in [at(&token_file), token.clone(), encoded] {
        let auth = pod
            .run(
                pod.command(),
                &[
                    "auth",
                    "--access-type",
                    "k8s",
                    "--access-id",
                    &access_id,
                    "--k8s-service-account-token",
                    &given,
                    "--k8s-auth-config-name",
                    "prod-cluster",
                ],
                &secrets,
            )
            .json();
        str_of(&auth, "token");
    }
    let auth = checked(
        cli.run_with(
            pod.command(),
            &[
                "auth",
                "--access-type",
                "k8s",
                "--access-id",
                &access_id,
                "--k8s-service-account-token",
                "-",
            ],
            Some(&format!("{token}\n")),
        ),
        &secrets,
    )
    .json();
    str_of(&auth, "token");

    // The environment alone, for every command: MAYFLY_ACCESS_TYPE=k8s and the access id;
    // the token from the pod's file, or from MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN.
    let mut command = in_the_pod();
    command
        .env("MAYFLY_ACCESS_TYPE", "k8s")
        .env("MAYFLY_ACCESS_ID", &access_id);
    let role = pod
        .run(command, &["get-role", "--name", K8S_ROLE], &secrets)
        .json();
    assert_eq!(role["role_name"], K8S_ROLE, "{role}");
    let mut command = pod.command();
    command
        .env("MAYFLY_ACCESS_TYPE", "k8s")
        .env("MAYFLY_ACCESS_ID", &access_id)
        .env("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN", at(&token_file))
        .env("MAYFLY_K8S_AUTH_CONFIG_NAME", "prod-cluster");
    let role = pod
        .run(command, &["get-role", "--name", K8S_ROLE], &secrets)
        .json();
    assert_eq!(role["role_name"], K8S_ROLE, "{role}");

    // Another service account of team-a logs in (the method binds team-*) but holds no role.
    let other = service_account_token("team-a", "web");
    let auth = pod
        .run(
            pod.command(),
            &[
                "auth",
                "--access-type",
                "k8s",
                "--access-id",
                &access_id,
                "--k8s-service-account-token",
                &other,
            ],
            &[&other],
        )
        .json();
    let other_session = str_of(&auth, "token").to_owned();
    pod.run(
        pod.command(),
        &["--token", &other_session, "get-role", "--name", K8S_ROLE],
        &[&other],
    )
    .assert_failed(1, "HTTP 403");
}

#[test]
fn refused_and_incomplete_k8s_logins_say_why_and_never_print_the_token() {
    let cli = TestCli::spawn();
    cli.configure();
    let dir = tempfile::tempdir().expect("temporary dir");
    let access_id = set_up_k8s(&cli, dir.path());
    let pod = Machine::new(&cli);
    let login = |command: Command, token_flag: Option<&str>, secrets: &[&str]| {
        let mut args = vec!["auth", "--access-type", "k8s", "--access-id", &access_id];
        if let Some(flag) = token_flag {
            args.extend(["--k8s-service-account-token", flag]);
        }
        pod.run(command, &args, secrets)
    };

    // Outside the bound namespaces: 401 from the gateway, which names the binding.
    let system = service_account_token("kube-system", "deployer");
    login(pod.command(), Some(&system), &[&system]).assert_failed(1, "bound-namespaces");

    // No token flag and no token file (outside a pod): a usage error naming the file.
    let missing = dir.path().join("no-such-token");
    let mut command = pod.command();
    command.env("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH", &missing);
    let run = login(command, None, &[]);
    run.assert_failed(2, &missing.display().to_string());
    assert!(
        run.stderr.contains("--k8s-service-account-token"),
        "{run:#?}"
    );
    // Without the override, the path is Kubernetes' own (this machine is not a pod).
    if !Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists() {
        login(pod.command(), None, &[]).assert_failed(
            2,
            "/var/run/secrets/kubernetes.io/serviceaccount/token cannot be read",
        );
        let mut command = pod.command();
        command
            .env("MAYFLY_ACCESS_TYPE", "k8s")
            .env("MAYFLY_ACCESS_ID", &access_id);
        checked(cli.run_with(command, &["list-roles"], None), &[]).assert_failed(
            2,
            "/var/run/secrets/kubernetes.io/serviceaccount/token cannot be read",
        );
    }
    // An empty token file.
    let empty = pod.file("empty", "");
    let mut command = pod.command();
    command.env("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH", &empty);
    login(command, None, &[]).assert_failed(2, "is empty");

    // A token to an API key's access id is refused like an unknown id.
    let token = service_account_token("team-a", "deployer");
    let run = pod.run(
        pod.command(),
        &[
            "auth",
            "--access-type",
            "k8s",
            "--access-id",
            cli.gateway.admin_access_id(),
            "--k8s-service-account-token",
            &token,
        ],
        &[&token],
    );
    run.assert_failed(1, "HTTP 401");
}

#[test]
fn narrowing_a_k8s_methods_namespaces_refuses_the_pods_left_out_and_keeps_the_rest() {
    let cli = TestCli::spawn();
    cli.configure();
    let dir = tempfile::tempdir().expect("temporary dir");
    let access_id = set_up_k8s(&cli, dir.path());
    let pod = Machine::new(&cli);
    let login = |namespace: &str| {
        let token = service_account_token(namespace, "deployer");
        pod.run(
            pod.command(),
            &[
                "auth",
                "--access-type",
                "k8s",
                "--access-id",
                &access_id,
                "--k8s-service-account-token",
                &token,
            ],
            &[&token],
        )
    };
    let rules = || {
        let method = cli.run(&["get-auth-method", "--name", K8S_METHOD]).json();
        method["access_info"]["k8s_access_rules"].clone()
    };
    let before = rules();
    // The method binds team-*: both teams log in.
    str_of(&login("team-a").json(), "token");
    str_of(&login("team-b").json(), "token");

    // Only team-a now; every other setting stays as it was.
    let updated = cli
        .run(&[
            "auth-method-update-k8s",
            "--name",
            K8S_METHOD,
            "--bound-namespaces",
            "team-a",
        ])
        .json();
    assert_eq!(updated["name"], K8S_METHOD, "{updated}");
    login("team-b").assert_failed(1, "bound-namespaces");
    str_of(&login("team-a").json(), "token");
    let after = rules();
    assert_eq!(after["bound_namespaces"], serde_json::json!(["team-a"]));
    for kept in ["issuer", "audience", "jwks_json_data", "force_sub_claims"] {
        assert_eq!(after[kept], before[kept], "{kept}: {after}");
    }

    // The older name; an empty value clears the list: any namespace again.
    cli.run(&[
        "update-auth-method-k8s",
        "-n",
        K8S_METHOD,
        "--bound-namespaces",
        "",
        "--force-sub-claims",
        "false",
    ])
    .json();
    let after = rules();
    assert_eq!(after["bound_namespaces"], serde_json::json!([]), "{after}");
    assert_eq!(after["force_sub_claims"], false, "{after}");
    str_of(&login("kube-system").json(), "token");

    // What creation would refuse is refused; an unknown method is 404.
    cli.run(&[
        "auth-method-update-k8s",
        "--name",
        K8S_METHOD,
        "--jwks-json-data",
        "bm90IGEgandrcw==",
    ])
    .assert_failed(1, "HTTP 400");
    cli.run(&[
        "auth-method-update-k8s",
        "--name",
        "/k8s/none",
        "--audience",
        "mayfly",
    ])
    .assert_failed(1, "HTTP 404");
}

#[test]
fn a_pod_logs_in_through_a_k8s_auth_config_the_cli_manages() {
    let reviewer = service_account_token("kube-system", "mayfly-reviewer");
    let signing_key = "c2lnbmluZy1rZXk=";
    // The cluster takes TokenReviews only with the reviewer JWT; another one (where the
    // config is moved later) with any genuine token.
    let kube = KubeApi::start(CLUSTER, &[TestKey::A], Some(&reviewer));
    let other = KubeApi::start(CLUSTER, &[TestKey::A], None);
    let cli = TestCli::with_gateway(
        TestGateway::builder()
            .env(
                ALLOWED_ENDPOINTS_ENV,
                format!("{},{}", kube.origin(), other.origin()),
            )
            .spawn()
            .expect("a SQLite gateway always starts or panics"),
    );
    cli.configure();
    let pod_token = service_account_token("team-a", "deployer");
    let secrets = [reviewer.as_str(), signing_key, pod_token.as_str()];
    let admin = |args: &[&str]| checked(cli.run(args), &secrets);
    let dir = tempfile::tempdir().expect("temporary dir");
    let ca_file = dir.path().join("ca.crt");
    std::fs::write(&ca_file, kube.ca_pem()).expect("write the CA");
    let reviewer_file = dir.path().join("reviewer.jwt");
    std::fs::write(&reviewer_file, format!("{reviewer}\n")).expect("write the reviewer JWT");

    // A method without keys of its own, and team-a's role for its deployer.
    let created = admin(&[
        "create-auth-method-k8s",
        "--name",
        "/k8s/online",
        "--audience",
        "mayfly",
        "--bound-namespaces",
        "team-*",
    ])
    .json();
    let access_id = str_of(&created, "access_id").to_owned();
    create_self_reading_role(&cli, K8S_ROLE);
    admin(&[
        "assoc-role-am",
        "--role-name",
        K8S_ROLE,
        "--am-name",
        "/k8s/online",
        "--sub-claims",
        "namespace=team-a",
    ])
    .json();

    let config = admin(&[
        "gateway-create-k8s-auth-config",
        "--name",
        "prod",
        "--access-id",
        &access_id,
        "--k8s-host",
        &kube.origin(),
        "--k8s-ca-cert",
        &at(&ca_file),
        "--token-reviewer-jwt",
        &at(&reviewer_file),
        "--k8s-issuer",
        CLUSTER,
        "--signing-key",
        signing_key,
        "--token-exp",
        "300",
    ])
    .json();
    assert_eq!(config["name"], "prod", "{config}");
    str_of(&config, "cluster_id");
    // --access-id names the method: the admin's API key still logged in, from the profile.
    admin(&[
        "gateway-create-k8s-auth-config",
        "--name",
        "prod",
        "--access-id",
        &access_id,
        "--k8s-host",
        &kube.origin(),
    ])
    .assert_failed(1, "HTTP 409");

    // Read back: the reviewer JWT is sealed, only token_reviewer_jwt_set shows.
    let shown = admin(&["gateway-get-k8s-auth-config", "--name", "prod"]).json();
    assert_eq!(shown["name"], "prod", "{shown}");
    assert_eq!(
        shown["auth_method_access_id"],
        access_id.as_str(),
        "{shown}"
    );
    assert_eq!(shown["auth_method_name"], "/k8s/online", "{shown}");
    assert_eq!(shown["k8s_host"], kube.origin(), "{shown}");
    assert_eq!(shown["k8s_issuer"], CLUSTER, "{shown}");
    assert_eq!(shown["disable_iss_validation"], false, "{shown}");
    assert_eq!(shown["token_reviewer_jwt_set"], true, "{shown}");
    assert_eq!(
        shown["k8s_ca_cert"].as_str().map(str::trim),
        Some(kube.ca_pem().trim()),
        "the PEM travelled base64-encoded and came back as PEM"
    );
    let method = admin(&["get-auth-method", "--name", "/k8s/online"]).json();
    assert_eq!(
        method["access_info"]["k8s_access_rules"]["k8s_auth_configs"],
        serde_json::json!(["prod"]),
        "{method}"
    );

    // In the pod: the token file, and the config's name.
    let pod = Machine::new(&cli);
    let token_file = pod.file("token", &pod_token);
    let login = |config: Option<&str>| {
        let mut command = pod.command();
        command.env("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH", &token_file);
        let mut args = vec!["auth", "--access-type", "k8s", "--access-id", &access_id];
        if let Some(config) = config {
            args.extend(["--k8s-auth-config-name", config]);
        }
        pod.run(command, &args, &secrets)
    };
    let auth = login(Some("prod")).json();
    let session = str_of(&auth, "token").to_owned();
    let review = kube.reviews().pop().expect("a TokenReview");
    assert_eq!(review.bearer, reviewer, "reviewed with the reviewer JWT");
    assert_eq!(review.audiences, vec!["mayfly".to_owned()]);
    assert!(review.authenticated);
    let role = pod
        .run(
            pod.command(),
            &["--token", &session, "get-role", "--name", K8S_ROLE],
            &secrets,
        )
        .json();
    assert_eq!(role["role_name"], K8S_ROLE, "{role}");
    // The environment alone, the token given as @FILE.
    let mut command = pod.command();
    command
        .env("MAYFLY_ACCESS_TYPE", "k8s")
        .env("MAYFLY_ACCESS_ID", &access_id)
        .env("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN", at(&token_file))
        .env("MAYFLY_K8S_AUTH_CONFIG_NAME", "prod");
    let role = pod
        .run(command, &["get-role", "--name", K8S_ROLE], &secrets)
        .json();
    assert_eq!(role["role_name"], K8S_ROLE, "{role}");
    // Without the config's name the method has nothing to verify with.
    login(None).assert_failed(1, "k8s-auth-config-name");

    // Moving the config to another API server needs the reviewer JWT again.
    let other_ca = dir.path().join("other-ca.crt");
    std::fs::write(&other_ca, other.ca_pem()).expect("write the other CA");
    admin(&[
        "gateway-update-k8s-auth-config",
        "--name",
        "prod",
        "--k8s-host",
        &other.origin(),
        "--k8s-ca-cert",
        &at(&other_ca),
    ])
    .assert_failed(1, "token-reviewer-jwt");
    let shown = admin(&["gateway-get-k8s-auth-config", "--name", "prod"]).json();
    assert_eq!(shown["k8s_host"], kube.origin(), "unchanged: {shown}");
    // Renamed and moved, the JWT from stdin and the CA as base64.
    let updated = checked(
        cli.run_with_stdin(
            &[
                "gateway-update-k8s-auth-config",
                "--name",
                "prod",
                "--new-name",
                "prod-eu",
                "--k8s-host",
                &other.origin(),
                "--k8s-ca-cert",
                &BASE64.encode(other.ca_pem()),
                "--token-reviewer-jwt",
                "-",
                "--disable-issuer-validation",
            ],
            &format!("{reviewer}\n"),
        ),
        &secrets,
    )
    .json();
    assert_eq!(updated["name"], "prod-eu", "{updated}");
    let shown = admin(&["gateway-get-k8s-auth-config", "--name", "prod-eu"]).json();
    assert_eq!(shown["k8s_host"], other.origin(), "{shown}");
    assert_eq!(shown["disable_iss_validation"], true, "{shown}");
    assert_eq!(shown["k8s_issuer"], CLUSTER, "kept: {shown}");
    assert_eq!(shown["token_reviewer_jwt_set"], true, "{shown}");
    admin(&["gateway-get-k8s-auth-config", "--name", "prod"]).assert_failed(1, "HTTP 404");
    let reviews_before = kube.reviews().len();
    str_of(&login(Some("prod-eu")).json(), "token");
    assert_eq!(other.reviews().pop().expect("a review").bearer, reviewer);
    assert_eq!(
        kube.reviews().len(),
        reviews_before,
        "the old server is not asked"
    );
    login(Some("prod")).assert_failed(1, "HTTP 401");

    let deleted = admin(&["gateway-delete-k8s-auth-config", "--name", "prod-eu"]).json();
    assert_eq!(deleted["name"], "prod-eu", "{deleted}");
    admin(&["gateway-get-k8s-auth-config", "--name", "prod-eu"]).assert_failed(1, "HTTP 404");
    admin(&["gateway-delete-k8s-auth-config", "--name", "prod-eu"]).assert_failed(1, "HTTP 404");
    login(Some("prod-eu")).assert_failed(1, "HTTP 401");

    // Nor did the gateway log the reviewer JWT.
    let logs = cli.gateway.logs();
    assert!(!logs.contains(&reviewer), "the reviewer JWT was logged");
}

/// What the AWS side of the tests works with.
struct AwsWorld {
    account: String,
    user: String,
    user_key: (String, String),
    intruder_key: (String, String),
    role: String,
    session: (String, String, String),
}

impl AwsWorld {
    fn new(moto: &MotoServer) -> Self {
        let suffix = unique_suffix();
        let user = format!("cli-deployer-{suffix}");
        let role = format!("cli-ci-{suffix}");
        let role_arn = create_role(
            moto,
            &role,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#,
        );
        AwsWorld {
            account: account_id(moto),
            user_key: create_user_with_key(moto, &user),
            intruder_key: create_user_with_key(moto, &format!("cli-intruder-{suffix}")),
            session: assume_role(moto, &role_arn, "gh-run-17"),
            user,
            role,
        }
    }

    fn secrets(&self) -> [&str; 4] {
        [
            &self.user_key.1,
            &self.intruder_key.1,
            &self.session.1,
            &self.session.2,
        ]
    }
}

/// `command` with these AWS credentials in its environment.
fn with_keys(mut command: Command, id: &str, secret: &str, token: Option<&str>) -> Command {
    command
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret);
    if let Some(token) = token {
        command.env("AWS_SESSION_TOKEN", token);
    }
    command
}

#[test]
fn aws_principals_log_in_with_the_get_caller_identity_the_cli_signs() {
    // moto first: the gateway spawned next allows its URL (MAYFLY_ALLOWED_ENDPOINTS).
    let moto = MotoServer::shared();
    let cli = TestCli::spawn();
    cli.configure();
    let world = AwsWorld::new(moto);
    let secrets = world.secrets();

    let user_method = cli
        .run(&[
            "create-auth-method-aws-iam",
            "--name",
            "/aws/deployer",
            "--bound-aws-account-id",
            &world.account,
            "--bound-user-name",
            &world.user,
            "--sts-url",
            moto.url(),
        ])
        .json();
    let user_method = str_of(&user_method, "access_id").to_owned();
    let role_method = cli
        .run(&[
            "auth-method-create-aws-iam",
            "--name",
            "/aws/ci",
            "--bound-aws-account-id",
            &world.account,
            "--bound-role-name",
            &world.role,
            "--sts-url",
            moto.url(),
        ])
        .json();
    let role_method = str_of(&role_method, "access_id").to_owned();
    let method = cli
        .run(&["get-auth-method", "--name", "/aws/deployer"])
        .json();
    assert_eq!(method["access_info"]["rules_type"], "aws_iam", "{method}");
    let rules = &method["access_info"]["aws_iam_access_rules"];
    assert_eq!(rules["account_id"][0], world.account.as_str(), "{method}");
    assert_eq!(rules["user_name"][0], world.user.as_str(), "{method}");
    create_self_reading_role(&cli, "/aws/deployer-role");
    cli.run(&[
        "assoc-role-am",
        "--role-name",
        "/aws/deployer-role",
        "--am-name",
        "/aws/deployer",
    ])
    .json();

    let machine = Machine::new(&cli);
    let (id, secret) = &world.user_key;
    let login = |command: Command, access_id: &str| {
        machine.run(
            command,
            &["auth", "--access-type", "aws_iam", "--access-id", access_id],
            &secrets,
        )
    };

    // The IAM user's long-term key: moto checks the signature and names the user.
    let auth = login(with_keys(machine.command(), id, secret, None), &user_method).json();
    let session = str_of(&auth, "token").to_owned();
    let role = machine
        .run(
            machine.command(),
            &[
                "--token",
                &session,
                "get-role",
                "--name",
                "/aws/deployer-role",
            ],
            &secrets,
        )
        .json();
    assert_eq!(role["role_name"], "/aws/deployer-role", "{role}");

    // The environment alone, for every command.
    let mut command = with_keys(machine.command(), id, secret, None);
    command
        .env("MAYFLY_ACCESS_TYPE", "aws_iam")
        .env("MAYFLY_ACCESS_ID", &user_method);
    let role = machine
        .run(
            command,
            &["get-role", "--name", "/aws/deployer-role"],
            &secrets,
        )
        .json();
    assert_eq!(role["role_name"], "/aws/deployer-role", "{role}");

    // A role's session (temporary credentials: the session token is signed and sent).
    let (session_id, session_secret, session_token) = &world.session;
    let auth = login(
        with_keys(
            machine.command(),
            session_id,
            session_secret,
            Some(session_token),
        ),
        &role_method,
    )
    .json();
    str_of(&auth, "token");
    // The session token is part of the signature: without it, moto refuses.
    login(
        with_keys(machine.command(), session_id, session_secret, None),
        &role_method,
    )
    .assert_failed(1, "HTTP 401");

    // Principals the methods do not bind: another user, and a user for the role's method.
    let (intruder_id, intruder_secret) = &world.intruder_key;
    login(
        with_keys(machine.command(), intruder_id, intruder_secret, None),
        &user_method,
    )
    .assert_failed(1, "bound-user-name");
    login(with_keys(machine.command(), id, secret, None), &role_method)
        .assert_failed(1, "bound-role-name");

    // No AWS credentials anywhere: a usage error that says where the CLI looked.
    login(machine.command(), &user_method).assert_failed(2, "no AWS credentials");
}
