//! [`TestGateway`]: one real `mayfly-gateway` process for one test.
//!
//! The handle owns a temporary directory holding the gateway's data directory (SQLite file,
//! generated TLS material, master key) and its captured log, and, for PostgreSQL, a fresh
//! database. Dropping the handle SIGKILLs the process, drops the database and deletes the
//! directory. When the test is already failing, the tail of the gateway's log is printed first,
//! because it is usually the explanation.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::binary::gateway_binary;
use crate::credentials::AdminCredentials;
use crate::http::{client_trusting, parse_body, tail};
use crate::port::free_loopback_port;
use crate::postgres::{self, TestDatabase};
use crate::process::{self, error_chain, kill_and_reap, Launch, NotReady};
use crate::TestkitError;

/// How long a gateway may take to answer `/health/ready` before the test fails.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a start is retried on a new port when the process exits before it is ready.
const MAX_START_ATTEMPTS: u32 = 3;

/// Timeout of one request made through [`TestGateway::client`]. Generous: later tests issue
/// AWS credentials through the gateway, which may retry AWS calls within a request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Log lines shown in panic messages.
const LOG_TAIL_LINES: usize = 80;

/// Configures a [`TestGateway`] before it starts.
#[derive(Debug)]
pub struct TestGatewayBuilder {
    postgres: bool,
    env: Vec<(OsString, OsString)>,
    binary: Option<PathBuf>,
    ready_timeout: Duration,
}

impl Default for TestGatewayBuilder {
    fn default() -> Self {
        Self {
            postgres: false,
            env: Vec::new(),
            binary: None,
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }
}

impl TestGatewayBuilder {
    /// Sets an extra environment variable for the gateway process (applied last, so it can
    /// override the testkit's own, such as `RUST_LOG`). Kept across [`TestGateway::restart`].
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Uses a fresh PostgreSQL database instead of the default SQLite file.
    pub fn postgres(mut self, postgres: bool) -> Self {
        self.postgres = postgres;
        self
    }

    /// Runs this binary instead of the one found by [`crate::binary::gateway_binary`]; gateway
    /// tests can pass `env!("CARGO_BIN_EXE_mayfly-gateway")`.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// How long to wait for `/health/ready` (default 30 s).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Starts the gateway and waits until it is ready.
    ///
    /// Returns `None` only for PostgreSQL when no server is reachable (after a loud banner on
    /// stderr); with `MAYFLY_TEST_REQUIRE_POSTGRES=1` that panics instead. Any other problem
    /// panics with the gateway's log tail.
    pub fn spawn(self) -> Option<TestGateway> {
        let database = if self.postgres {
            let server = postgres::server_url();
            match TestDatabase::create(&server) {
                Ok(database) => Database::Postgres(database),
                Err(TestkitError::PostgresUnreachable { url, reason }) => {
                    postgres::skip_or_fail(&format!("no server reachable at {url} ({reason})"));
                    return None;
                }
                Err(e) => panic!("mayfly-testkit: creating a test database failed: {e}"),
            }
        } else {
            Database::Sqlite
        };
        let binary = match self.binary {
            Some(path) => path,
            None => gateway_binary()
                .unwrap_or_else(|e| panic!("mayfly-testkit: no gateway binary: {e}")),
        };
        let dir = tempfile::Builder::new()
            .prefix("mayfly-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("mayfly-testkit: creating a temporary directory: {e}"));
        let data_dir = dir.path().join("data");
        let log_path = process::log_path_in(dir.path());
        let admin = AdminCredentials::generate();

        let mut env: Vec<(OsString, OsString)> = vec![
            (
                "MAYFLY_ADMIN_ACCESS_ID".into(),
                admin.access_id.clone().into(),
            ),
            (
                "MAYFLY_ADMIN_ACCESS_KEY".into(),
                admin.access_key.clone().into(),
            ),
            ("RUST_LOG".into(), "info".into()),
            // The log goes to a file that tests search: no colour escape codes in it.
            ("NO_COLOR".into(), "1".into()),
        ];
        if let Database::Postgres(database) = &database {
            env.push(("DATABASE_URL".into(), database.url().into()));
        }
        // The gateway refuses loopback endpoints unless allowed: allow the moto servers this
        // test process knows (a test can override it with `.env(ALLOWED_ENDPOINTS_ENV, ...)`).
        let motos = crate::moto::known_urls();
        if !motos.is_empty() {
            env.push((
                crate::moto::ALLOWED_ENDPOINTS_ENV.into(),
                motos.join(",").into(),
            ));
        }
        env.extend(self.env);

        let mut gateway = TestGateway {
            child: None,
            port: 0,
            ready_once: false,
            binary,
            env,
            ready_timeout: self.ready_timeout,
            admin,
            database,
            data_dir,
            log_path,
            client: OnceLock::new(),
            token: Mutex::new(None),
            _dir: dir,
        };
        gateway.boot(None);
        Some(gateway)
    }
}

/// Which database a gateway runs against.
#[derive(Debug)]
enum Database {
    /// The gateway's default: `<data-dir>/mayfly.db`.
    Sqlite,
    Postgres(TestDatabase),
}

/// A running `mayfly-gateway` process on `https://127.0.0.1:<port>` with a fresh database.
///
/// Field order matters for clean-up: after [`Drop::drop`] kills the process, the database is
/// dropped before the temporary directory is removed.
pub struct TestGateway {
    child: Option<Child>,
    port: u16,
    ready_once: bool,
    binary: PathBuf,
    env: Vec<(OsString, OsString)>,
    ready_timeout: Duration,
    admin: AdminCredentials,
    database: Database,
    data_dir: PathBuf,
    log_path: PathBuf,
    client: OnceLock<Client>,
    token: Mutex<Option<String>>,
    _dir: TempDir,
}

impl TestGateway {
    /// A builder for extra environment variables, PostgreSQL, another binary or timeout.
    pub fn builder() -> TestGatewayBuilder {
        TestGatewayBuilder::default()
    }

    /// A gateway on a fresh SQLite database in its own data directory.
    pub fn spawn_sqlite() -> TestGateway {
        Self::builder()
            .spawn()
            .expect("a SQLite gateway always starts or panics")
    }

    /// A gateway on a fresh PostgreSQL database, or `None` (with a loud banner) when no server
    /// is reachable at `MAYFLY_TEST_POSTGRES_URL`. Panics instead when
    /// `MAYFLY_TEST_REQUIRE_POSTGRES=1`.
    pub fn spawn_postgres() -> Option<TestGateway> {
        Self::builder().postgres(true).spawn()
    }

    /// `https://127.0.0.1:<port>`, without a trailing slash. May change after [`Self::restart`]
    /// if the old port was taken in the meantime.
    pub fn base_url(&self) -> String {
        base_url(self.port)
    }

    /// The full URL of `path` (with or without a leading `/`).
    pub fn url(&self, path: &str) -> String {
        let path = path.strip_prefix('/').unwrap_or(path);
        format!("{}/{path}", self.base_url())
    }

    /// The port the gateway listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate the gateway generated on first start (what clients must trust).
    pub fn ca_cert_path(&self) -> PathBuf {
        ca_path(&self.data_dir)
    }

    /// The gateway's `--data-dir`.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The SQLite database file, or `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self.database {
            Database::Sqlite => Some(self.data_dir.join("mayfly.db")),
            Database::Postgres(_) => None,
        }
    }

    /// Whether this gateway runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.database, Database::Postgres(_))
    }

    /// The database the gateway uses: its default SQLite URL, or the fresh PostgreSQL one.
    pub fn database_url(&self) -> String {
        match &self.database {
            Database::Sqlite => format!("sqlite://{}", self.data_dir.join("mayfly.db").display()),
            Database::Postgres(database) => database.url().to_owned(),
        }
    }

    /// The admin access id given to the gateway at first start (`p-...`).
    pub fn admin_access_id(&self) -> &str {
        &self.admin.access_id
    }

    /// The admin access key given to the gateway at first start.
    pub fn admin_access_key(&self) -> &str {
        &self.admin.access_key
    }

    /// The file that receives the gateway's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Everything the gateway printed so far, across restarts, with a
    /// `=== mayfly-testkit: starting ... ===` line before each start.
    pub fn logs(&self) -> String {
        match std::fs::read(&self.log_path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => panic!("reading {}: {e}", self.log_path.display()),
        }
    }

    /// Waits up to `within` for `needle` to appear in what the gateway printed; whether it
    /// did. The gateway writes its log lines from a thread of its own, a moment after the
    /// event that logs them, so a test looking for a line it just caused waits for it.
    pub fn wait_for_log(&self, needle: &str, within: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        loop {
            if self.logs().contains(needle) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The OS process id, while the process is running under this handle.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the gateway process is still running (it may have crashed on its own).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(_))) | Some(Err(_)) | None => false,
        }
    }

    /// A blocking HTTPS client that trusts only this gateway's CA.
    pub fn client(&self) -> Client {
        self.client
            .get_or_init(|| {
                client_trusting(&self.ca_cert_path(), REQUEST_TIMEOUT)
                    .unwrap_or_else(|e| panic!("mayfly-testkit: {e}"))
            })
            .clone()
    }

    /// `POST`s `body` as JSON to `path` and returns the status and the body, parsed as JSON or
    /// kept as `Value::String` when it is not JSON. Panics only when no response arrives.
    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let url = self.url(path);
        let response = self
            .client()
            .post(&url)
            .json(&body)
            .send()
            .unwrap_or_else(|e| {
                panic!(
                    "POST {url} got no response: {}\n{}",
                    error_chain(&e),
                    self.log_tail()
                )
            });
        let status = response.status().as_u16();
        let text = response
            .text()
            .unwrap_or_else(|e| panic!("POST {url}: reading the body: {}", error_chain(&e)));
        (status, parse_body(text))
    }

    /// A token for the admin API key: calls `/auth` once and caches the result (until
    /// [`Self::restart`]).
    pub fn admin_token(&self) -> String {
        let mut cached = self
            .token
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(token) = cached.as_ref() {
            return token.clone();
        }
        let (status, body) = self.post(
            "/auth",
            json!({
                "access-id": self.admin.access_id,
                "access-key": self.admin.access_key,
                "access-type": "access_key",
            }),
        );
        let token = match (status, body.get("token").and_then(Value::as_str)) {
            (200, Some(token)) => token.to_owned(),
            _ => panic!("/auth with the admin key answered {status}: {body}"),
        };
        *cached = Some(token.clone());
        token
    }

    /// Like [`Self::post`], with the admin token added as the body field `token` (how the
    /// Akeyless SDKs send it). `body` must be a JSON object (or `null` for an empty one).
    pub fn post_authed(&self, path: &str, body: Value) -> (u16, Value) {
        let mut body = match body {
            Value::Null => json!({}),
            Value::Object(_) => body,
            other => panic!("post_authed needs a JSON object body, got {other}"),
        };
        if let Value::Object(fields) = &mut body {
            fields.insert("token".into(), Value::String(self.admin_token()));
        }
        self.post(path, body)
    }

    /// SIGKILLs the gateway (no graceful shutdown: this is how crash tests simulate a crash)
    /// and waits for it to be gone. The data directory and database stay for [`Self::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
    }

    /// Sends SIGTERM (a graceful stop, as Kubernetes does) and waits up to `timeout` for the
    /// process to exit; returns its exit status, or `None` if it was still running (it is then
    /// SIGKILLed). The data directory and database stay for [`Self::restart`].
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                kill_and_reap(&mut child);
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sets (or replaces) an environment variable of the gateway for the next
    /// [`Self::restart`]; an empty value unsets a setting for the gateway, whose settings
    /// treat empty values as absent.
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) {
        let key = key.as_ref().to_os_string();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.as_ref().to_os_string()));
    }

    /// Starts a new gateway process on the same data directory and database (killing the old
    /// one first if it still runs), on the same port when it is still free.
    pub fn restart(&mut self) {
        self.kill();
        // Pooled connections point at the dead process; the token is re-fetched to be safe.
        self.client = OnceLock::new();
        *self
            .token
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        let port = self.port;
        self.boot(Some(port));
    }

    /// Starts the process and waits until it is ready, retrying on a new port when the
    /// process exits early (typically because someone took the port in the meantime).
    fn boot(&mut self, preferred_port: Option<u16>) {
        let mut port = match preferred_port {
            Some(port) => port,
            None => next_port(),
        };
        let mut exits = Vec::new();
        for attempt in 1..=MAX_START_ATTEMPTS {
            let launch = Launch {
                binary: &self.binary,
                port,
                data_dir: &self.data_dir,
                log_path: &self.log_path,
                env: &self.env,
            };
            let mut child =
                process::start(&launch).unwrap_or_else(|e| panic!("mayfly-testkit: {e}"));
            let ca = self.ca_cert_path();
            match process::wait_until_ready(&mut child, &base_url(port), &ca, self.ready_timeout) {
                Ok(()) => {
                    self.child = Some(child);
                    self.port = port;
                    self.ready_once = true;
                    return;
                }
                Err(NotReady::Exited(status)) => {
                    exits.push(format!(
                        "attempt {attempt} on port {port}: exited with {status}"
                    ));
                    port = next_port();
                }
                Err(NotReady::TimedOut(problem)) => {
                    kill_and_reap(&mut child);
                    panic!(
                        "mayfly-gateway ({}) did not answer 200 on /health/ready within {:?}; \
                         last problem: {problem}\n{}",
                        self.binary.display(),
                        self.ready_timeout,
                        self.log_tail()
                    );
                }
                Err(NotReady::Failed(e)) => {
                    kill_and_reap(&mut child);
                    panic!("mayfly-testkit: {e}\n{}", self.log_tail());
                }
            }
        }
        panic!(
            "mayfly-gateway ({}) exited before becoming ready, {MAX_START_ATTEMPTS} times:\n{}\n{}",
            self.binary.display(),
            exits.join("\n"),
            self.log_tail()
        );
    }

    /// The last lines of the log, framed for a panic message.
    fn log_tail(&self) -> String {
        let logs = std::fs::read(&self.log_path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|e| format!("(log unreadable: {e})"));
        format!(
            "--- last {LOG_TAIL_LINES} lines of {} ---\n{}\n--- end of gateway log ---",
            self.log_path.display(),
            tail(&logs, LOG_TAIL_LINES)
        )
    }
}

impl std::fmt::Debug for TestGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The admin access key is left out: Debug output ends up in logs.
        f.debug_struct("TestGateway")
            .field("base_url", &self.base_url())
            .field("pid", &self.pid())
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url())
            .field("admin_access_id", &self.admin.access_id)
            .finish_non_exhaustive()
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.kill();
        // A failing test's output is shown by libtest; the gateway's side of the story
        // belongs next to it. (A failed start already put the tail in its panic message.)
        if std::thread::panicking() && self.ready_once {
            eprintln!("{}", self.log_tail());
        }
    }
}

fn base_url(port: u16) -> String {
    format!("https://127.0.0.1:{port}")
}

fn ca_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join("ca.pem")
}

fn next_port() -> u16 {
    free_loopback_port().unwrap_or_else(|e| panic!("mayfly-testkit: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Writes an executable shell script standing in for the gateway.
    fn fake_gateway(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("fake-gateway");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        let mut permissions = std::fs::metadata(&path).expect("metadata").permissions();
        permissions.set_mode(0o755);
        std::fs::set_permissions(&path, permissions).expect("chmod");
        path
    }

    fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
        match payload.downcast::<String>() {
            Ok(text) => *text,
            Err(payload) => payload
                .downcast::<&str>()
                .map(|text| (*text).to_owned())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn urls_are_joined_with_one_slash() {
        assert_eq!(base_url(8443), "https://127.0.0.1:8443");
        assert_eq!(
            ca_path(Path::new("/d")),
            PathBuf::from("/d").join("tls").join("ca.pem")
        );
    }

    #[test]
    fn early_exit_is_retried_then_reported_with_args_env_and_log() {
        let scripts = tempfile::tempdir().expect("temp dir");
        let fake = fake_gateway(
            scripts.path(),
            "echo \"fake-gateway args: $*\"\n\
             echo \"admin id: $MAYFLY_ADMIN_ACCESS_ID extra: $EXTRA_SETTING\"\n\
             echo \"database url: [$DATABASE_URL]\" >&2\n\
             exit 3",
        );
        let outcome = std::panic::catch_unwind(|| {
            TestGateway::builder()
                .binary(&fake)
                .env("EXTRA_SETTING", "on")
                .spawn()
        });
        let message = panic_message(outcome.expect_err("the fake gateway never gets ready"));
        assert!(
            message.contains("exited before becoming ready"),
            "{message}"
        );
        assert_eq!(message.matches("exited with").count(), 3, "{message}");
        assert!(
            message.contains("fake-gateway args: --listen 127.0.0.1:"),
            "{message}"
        );
        assert!(message.contains("--data-dir /"), "{message}");
        assert!(message.contains("admin id: p-"), "{message}");
        assert!(message.contains("extra: on"), "{message}");
        // stderr is captured too, and SQLite gateways get no DATABASE_URL.
        assert!(message.contains("database url: []"), "{message}");
    }

    #[test]
    fn a_gateway_that_never_gets_ready_times_out_with_its_log() {
        let scripts = tempfile::tempdir().expect("temp dir");
        let fake = fake_gateway(scripts.path(), "echo still-booting\nexec sleep 30");
        let outcome = std::panic::catch_unwind(|| {
            TestGateway::builder()
                .binary(&fake)
                .ready_timeout(Duration::from_millis(700))
                .spawn()
        });
        let message = panic_message(outcome.expect_err("the fake gateway never gets ready"));
        assert!(message.contains("did not answer 200"), "{message}");
        assert!(message.contains("ca.pem"), "{message}");
        assert!(message.contains("still-booting"), "{message}");
    }

    #[test]
    fn inherited_database_url_does_not_reach_the_child() {
        // Checked through the pure filter: changing this process's environment would race
        // with other tests.
        assert!(process::is_inherited_config(OsStr::new("DATABASE_URL")));
        assert!(process::is_inherited_config(OsStr::new(
            "MAYFLY_ADMIN_ACCESS_KEY"
        )));
    }
}
