//! A private `moto_server` child process.
//!
//! moto runs under a tiny `sh` watchdog that holds the read end of a pipe whose write end is
//! ours: when this process exits, however it exits (a test binary never runs `Drop` for the
//! statics of [`MotoServer::shared`]), the pipe closes and the watchdog kills moto with
//! SIGKILL. [`MotoServer::stop`] and `Drop` close the pipe on purpose and wait until moto is
//! gone, so a test that stops moto sees "connection refused" right away.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::bootstrap::{self, BOOTSTRAP_ACTIONS};
use crate::binary::workspace_root;
use crate::port::free_loopback_port;

/// Environment variable naming the `moto_server` executable.
pub const MOTO_SERVER_ENV: &str = "MAYFLY_MOTO_SERVER";

/// How long moto may take to answer its first request (cold Python imports on a busy CI box).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// How often to try a new port when moto could not bind the one it was given.
const PORT_ATTEMPTS: usize = 3;

/// Runs `"$@"` (moto) and kills it with SIGKILL as soon as stdin reaches end of file, which
/// happens when the owning test process closes the pipe or exits. Exits with moto's status.
///
/// A non-interactive shell gives background jobs `/dev/null` as stdin unless they redirect it
/// explicitly, so the pipe is kept on fd 3 for the watcher; moto itself gets neither.
const WATCHDOG: &str = r#"
exec 3<&0 0</dev/null
"$@" 3<&- &
moto=$!
( cat <&3 >/dev/null; kill -9 "$moto" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$moto"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// How to start moto.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MotoOptions {
    /// Enforce IAM authentication and authorisation after the admin bootstrap
    /// (`INITIAL_NO_AUTH_ACTION_COUNT`). Without it, moto accepts any credentials.
    pub enforce_auth: bool,
}

impl MotoOptions {
    /// Authentication enforced, admin bootstrapped.
    pub fn enforcing_auth() -> Self {
        Self { enforce_auth: true }
    }
}

/// A running `moto_server` on a loopback port, killed when dropped.
pub struct MotoServer {
    url: String,
    enforce_auth: bool,
    admin: (String, String),
    log_path: PathBuf,
    process: Mutex<Option<Running>>,
}

struct Running {
    watchdog: Child,
    /// Closing this makes the watchdog kill moto.
    lifeline: Option<ChildStdin>,
}

impl std::fmt::Debug for MotoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MotoServer")
            .field("url", &self.url)
            .field("enforce_auth", &self.enforce_auth)
            .field("admin_access_key_id", &self.admin.0)
            .field("log_path", &self.log_path)
            .finish_non_exhaustive()
    }
}

/// Finds `moto_server`: `$MAYFLY_MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server` (where
/// `scripts/test.sh` installs it), else `moto_server` on `PATH`.
pub fn moto_server_executable() -> Result<PathBuf, String> {
    resolve_executable(
        std::env::var_os(MOTO_SERVER_ENV),
        &workspace_root(),
        std::env::var_os("PATH"),
    )
}

/// The pure part of [`moto_server_executable`].
fn resolve_executable(
    override_path: Option<OsString>,
    workspace: &Path,
    path_var: Option<OsString>,
) -> Result<PathBuf, String> {
    if let Some(path) = override_path.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{MOTO_SERVER_ENV} points to {}, which does not exist",
                path.display()
            ))
        };
    }
    let venv = workspace.join(".venv").join("bin").join("moto_server");
    if venv.is_file() {
        return Ok(venv);
    }
    path_var
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "moto_server not found: not in ${MOTO_SERVER_ENV}, not at {}, not on PATH. \
                 Run scripts/test.sh once (it installs moto[server] into .venv), or set \
                 {MOTO_SERVER_ENV}=/path/to/moto_server. Tests against moto are never skipped.",
                venv.display()
            )
        })
}

impl MotoServer {
    /// Starts moto on a free loopback port and waits until it answers; with
    /// `opts.enforce_auth`, bootstraps the admin user and checks that an unknown key is
    /// refused. Panics (with moto's log) when any of that fails: tests against moto must fail
    /// loudly, never be skipped.
    ///
    /// Safe to call from inside a tokio runtime: the blocking work runs on its own thread.
    pub fn spawn(opts: MotoOptions) -> MotoServer {
        off_runtime(move || log_dir().and_then(|dir| Self::try_spawn(opts, &dir)))
            .unwrap_or_else(|e| panic!("moto: {e}"))
    }

    /// Like [`MotoServer::spawn`], but moto's log goes to `log_dir` (which must exist) and a
    /// failure is returned instead of panicking (for the benchmarks, which keep their logs in
    /// their own working directory).
    pub fn try_spawn_in(opts: MotoOptions, log_dir: &Path) -> Result<MotoServer, String> {
        off_runtime(move || Self::try_spawn(opts, log_dir))
    }

    /// One auth-enforcing moto for the whole test binary, started on first use. Tests that
    /// share it isolate themselves with unique IAM paths and names, and must not stop it.
    pub fn shared() -> &'static MotoServer {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        SHARED.get_or_init(|| MotoServer::spawn(MotoOptions::enforcing_auth()))
    }

    fn try_spawn(opts: MotoOptions, log_dir: &Path) -> Result<MotoServer, String> {
        let executable = moto_server_executable()?;
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_loopback_port().map_err(|e| e.to_string())?;
            match Self::start_on(&executable, port, opts, log_dir) {
                Ok(server) => return Ok(server),
                Err(Start::PortTaken(log)) => last_error = log,
                Err(Start::Failed(e)) => return Err(e),
            }
        }
        Err(format!(
            "moto could not bind a port in {PORT_ATTEMPTS} attempts; last log:\n{last_error}"
        ))
    }

    fn start_on(
        executable: &Path,
        port: u16,
        opts: MotoOptions,
        log_dir: &Path,
    ) -> Result<MotoServer, Start> {
        let log_path = log_dir.join(format!("moto-{port}.log"));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| Start::Failed(format!("opening {}: {e}", log_path.display())))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let stderr = log
            .try_clone()
            .map_err(|e| Start::Failed(format!("duplicating the log handle: {e}")))?;

        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("moto-watchdog")
            .arg(executable)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr));
        if opts.enforce_auth {
            command.env(
                "INITIAL_NO_AUTH_ACTION_COUNT",
                BOOTSTRAP_ACTIONS.to_string(),
            );
        } else {
            command.env_remove("INITIAL_NO_AUTH_ACTION_COUNT");
        }
        let mut watchdog = command
            .spawn()
            .map_err(|e| Start::Failed(format!("starting {}: {e}", executable.display())))?;
        let lifeline = watchdog.stdin.take();
        let mut server = MotoServer {
            url: format!("http://127.0.0.1:{port}"),
            enforce_auth: opts.enforce_auth,
            admin: (String::new(), String::new()),
            log_path,
            process: Mutex::new(Some(Running { watchdog, lifeline })),
        };

        if let Err(e) = server.wait_ready() {
            let log = server.log_since(log_start);
            server.shutdown();
            return Err(if log.contains("Address already in use") {
                Start::PortTaken(log)
            } else {
                Start::Failed(format!("{e}; moto's log:\n{log}"))
            });
        }
        let bootstrapped = bootstrap::bootstrap_admin(&server.url).and_then(|admin| {
            if opts.enforce_auth {
                bootstrap::check_enforced(&server.url)?;
            }
            Ok(admin)
        });
        match bootstrapped {
            Ok(admin) => {
                server.admin = admin;
                super::remember_started(&server.url);
                Ok(server)
            }
            Err(e) => {
                let log = server.log_since(log_start);
                server.shutdown();
                Err(Start::Failed(format!(
                    "bootstrapping the admin user failed: {e}; moto's log:\n{log}"
                )))
            }
        }
    }

    /// Polls `GET /moto-api/config` (which does not count as an AWS action) until it answers.
    fn wait_ready(&self) -> Result<(), String> {
        let client = bootstrap::client()?;
        let probe = format!("{}/moto-api/config", self.url);
        let started = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                return Err(format!("moto exited early ({status})"));
            }
            match client.get(&probe).timeout(Duration::from_secs(2)).send() {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(_) | Err(_) if started.elapsed() < READY_TIMEOUT => {
                    std::thread::sleep(PROBE_INTERVAL)
                }
                Ok(response) => return Err(format!("{probe} still answers {}", response.status())),
                Err(e) => {
                    return Err(format!(
                        "{probe} did not answer within {READY_TIMEOUT:?}: {e}"
                    ))
                }
            }
        }
    }

    fn exit_status(&self) -> Option<String> {
        let mut process = self.lock();
        let running = process.as_mut()?;
        match running.watchdog.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown: {e}")),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.process
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// moto's base URL, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether IAM authentication is enforced.
    pub fn enforces_auth(&self) -> bool {
        self.enforce_auth
    }

    /// `(access_key_id, secret_access_key)` of the bootstrapped admin user
    /// ([`super::ADMIN_USER_NAME`], with `AdministratorAccess`).
    pub fn admin(&self) -> (String, String) {
        self.admin.clone()
    }

    /// The file moto's output goes to.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Kills moto with SIGKILL and waits until it is gone: afterwards every request to
    /// [`MotoServer::url`] is refused (for "AWS unreachable" tests). Idempotent.
    pub fn stop(&mut self) {
        self.shutdown();
    }

    fn shutdown(&self) {
        let Some(mut running) = self.lock().take() else {
            return;
        };
        // EOF on the watchdog's stdin: it SIGKILLs moto, reaps it and exits.
        drop(running.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match running.watchdog.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    // The watchdog is stuck; kill it (moto then dies with our process).
                    let _ = running.watchdog.kill();
                    let _ = running.watchdog.wait();
                    return;
                }
            }
        }
    }

    /// moto's output since byte `start` of the log (for failure messages), at most 8 KiB.
    fn log_since(&self, start: u64) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log_path) {
            let _ = file.seek(SeekFrom::Start(start));
            let _ = file.read_to_string(&mut text);
        }
        let keep = text.len().saturating_sub(8 * 1024);
        let cut = (keep..=text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        text[cut..].to_owned()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Why one start attempt failed.
enum Start {
    /// Someone took the port between choosing and binding it: try another.
    PortTaken(String),
    Failed(String),
}

/// `<workspace>/target/test-logs`, where `scripts/test.sh` keeps its logs too.
fn log_dir() -> Result<PathBuf, String> {
    let dir = workspace_root().join("target").join("test-logs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Runs blocking work on a fresh thread, so it also works when called from async code
/// (reqwest's blocking client refuses to run on a tokio runtime thread).
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        File::create(path).expect("create");
    }

    #[test]
    fn the_override_wins_and_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = dir.path().join("my_moto");
        touch(&exe);
        touch(&dir.path().join(".venv/bin/moto_server"));
        let found = resolve_executable(Some(exe.clone().into()), dir.path(), None);
        assert_eq!(found, Ok(exe));
        let err = resolve_executable(Some("/nonexistent/moto_server".into()), dir.path(), None)
            .expect_err("missing override");
        assert!(err.contains("/nonexistent/moto_server"), "{err}");
    }

    #[test]
    fn the_workspace_venv_comes_before_path() {
        let workspace = tempfile::tempdir().expect("tempdir");
        let bin_dir = tempfile::tempdir().expect("tempdir");
        touch(&bin_dir.path().join("moto_server"));
        let path_var = Some(OsString::from(bin_dir.path()));
        assert_eq!(
            resolve_executable(None, workspace.path(), path_var.clone()),
            Ok(bin_dir.path().join("moto_server"))
        );
        let venv = workspace.path().join(".venv/bin/moto_server");
        touch(&venv);
        assert_eq!(
            resolve_executable(None, workspace.path(), path_var),
            Ok(venv)
        );
    }

    #[test]
    fn nothing_found_tells_how_to_install_moto() {
        let workspace = tempfile::tempdir().expect("tempdir");
        let err = resolve_executable(None, workspace.path(), Some(OsString::new()))
            .expect_err("nothing there");
        assert!(err.contains("scripts/test.sh"), "{err}");
        assert!(err.contains(MOTO_SERVER_ENV), "{err}");
    }

    #[test]
    fn the_watchdog_kills_its_child_when_the_pipe_closes() {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("moto-watchdog")
            .args(["sleep", "600"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs");
        let stdin = child.stdin.take();
        std::thread::sleep(Duration::from_millis(200));
        assert!(child.try_wait().expect("status").is_none(), "still running");
        let started = Instant::now();
        drop(stdin);
        let status = child.wait().expect("exits");
        assert!(!status.success(), "sleep was killed: {status}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn blocking_work_runs_from_async_code() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let value = runtime.block_on(async { off_runtime(|| 42) });
        assert_eq!(value, 42);
    }
}
