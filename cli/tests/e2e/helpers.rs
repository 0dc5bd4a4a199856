//! Running the `mayfly` binary as a user would, against a [`TestGateway`].

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use mayfly_testkit::TestGateway;
use serde_json::Value;
use tempfile::TempDir;

/// Every variable the CLI reads; cleared so the developer's own settings cannot leak in.
const MAYFLY_VARS: &[&str] = &[
    "MAYFLY_GATEWAY_URL",
    "MAYFLY_TOKEN",
    "MAYFLY_PROFILE",
    "MAYFLY_CA_CERT",
    "MAYFLY_INSECURE",
    "MAYFLY_ACCESS_ID",
    "MAYFLY_ACCESS_KEY",
    "MAYFLY_ACCESS_TYPE",
    "MAYFLY_JWT",
    "MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN",
    "MAYFLY_K8S_AUTH_CONFIG_NAME",
    "MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH",
    "MAYFLY_CONFIG_DIR",
];

/// A gateway plus a private configuration directory for the CLI.
pub struct TestCli {
    pub gateway: TestGateway,
    config_dir: TempDir,
}

/// What one `mayfly` run produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0 and an empty stderr, and parses stdout as JSON.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, 0, "mayfly failed: {self:#?}");
        assert!(self.stderr.is_empty(), "unexpected stderr: {self:#?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Asserts a failed run: the exit code, nothing on stdout, and one `error:` line on stderr
    /// that contains `needle`.
    pub fn assert_failed(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "{self:#?}");
        assert!(
            self.stdout.is_empty(),
            "stdout must stay empty on error: {self:#?}"
        );
        assert!(self.stderr.starts_with("error: "), "{self:#?}");
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:#?}"
        );
    }
}

impl TestCli {
    pub fn spawn() -> Self {
        Self::with_gateway(TestGateway::spawn_sqlite())
    }

    /// A CLI for a gateway the test configured itself (e.g. with its own IAM user path).
    pub fn with_gateway(gateway: TestGateway) -> Self {
        TestCli {
            gateway,
            config_dir: tempfile::tempdir().expect("temporary config dir"),
        }
    }

    pub fn profile_file(&self) -> PathBuf {
        self.config_dir.path().join("profiles.toml")
    }

    pub fn ca_cert(&self) -> String {
        self.gateway.ca_cert_path().display().to_string()
    }

    /// The binary with a clean environment: no MAYFLY_* variables except the private
    /// MAYFLY_CONFIG_DIR, and HOME pointing at the same temporary directory.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mayfly"));
        for name in MAYFLY_VARS {
            command.env_remove(name);
        }
        command
            .env("MAYFLY_CONFIG_DIR", self.config_dir.path())
            .env("HOME", self.config_dir.path());
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(), args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(self.command(), args, Some(stdin))
    }

    pub fn run_with(&self, mut command: Command, args: &[&str], stdin: Option<&str>) -> Run {
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start mayfly");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("wait for mayfly");
        Run {
            code: status.code().expect("mayfly was killed by a signal"),
            stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
        }
    }

    /// `mayfly configure` with the gateway's URL, CA and admin key (the key through stdin).
    pub fn configure(&self) -> Value {
        self.run_with_stdin(
            &[
                "configure",
                "--gateway-url",
                &self.gateway.base_url(),
                "--ca-cert",
                &self.ca_cert(),
                "--access-id",
                self.gateway.admin_access_id(),
                "--access-key",
                "-",
            ],
            &format!("{}\n", self.gateway.admin_access_key()),
        )
        .json()
    }
}

/// The names listed under `key` (an array of objects) by `field`.
pub fn names(answer: &Value, key: &str, field: &str) -> Vec<String> {
    answer[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array: {answer}"))
        .iter()
        .filter_map(|entry| entry[field].as_str().map(str::to_owned))
        .collect()
}
