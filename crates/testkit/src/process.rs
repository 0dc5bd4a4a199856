//! Starting the gateway child process and waiting until it is ready.
//!
//! The child's stdout and stderr both go to one log file (opened in append mode, so restarts
//! add to it), which tests read to check what the gateway logs and which panic messages show
//! when start-up fails. Readiness means `GET /health/ready` answered 200 over HTTPS with the
//! gateway's own CA: that proves the listener, TLS and the database all work.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::http::client_trusting;
use crate::TestkitError;

/// How long one readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// Everything needed to start one gateway process.
#[derive(Debug)]
pub(crate) struct Launch<'a> {
    pub binary: &'a Path,
    pub port: u16,
    pub data_dir: &'a Path,
    pub log_path: &'a Path,
    /// Set after the inherited environment has been cleaned, so these win.
    pub env: &'a [(OsString, OsString)],
}

/// Starts the gateway with `--listen 127.0.0.1:<port> --data-dir <dir>`, output to the log.
///
/// Inherited `MAYFLY_*` and `DATABASE_URL` variables are removed first: a developer's shell
/// must not point a SQLite test at their own PostgreSQL, or change the listen address.
pub(crate) fn start(launch: &Launch<'_>) -> Result<Child, TestkitError> {
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(launch.log_path)
        .map_err(|e| TestkitError::io(format!("opening {}", launch.log_path.display()), e))?;
    writeln!(
        log,
        "=== mayfly-testkit: starting {} on 127.0.0.1:{} ===",
        launch.binary.display(),
        launch.port
    )
    .map_err(|e| TestkitError::io("writing the log header", e))?;
    let stderr = log
        .try_clone()
        .map_err(|e| TestkitError::io("duplicating the log file handle", e))?;

    let mut command = gateway_command(launch.binary, launch.port, launch.data_dir);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(stderr));
    for (key, value) in launch.env {
        command.env(key, value);
    }
    command
        .spawn()
        .map_err(|e| TestkitError::io(format!("starting {}", launch.binary.display()), e))
}

/// The command that runs `binary` with `--listen 127.0.0.1:<port> --data-dir <data_dir>`, with
/// inherited `MAYFLY_*` and `DATABASE_URL` variables removed ([`is_inherited_config`]). The
/// caller adds its own environment and output; the benchmarks turn it into a
/// `tokio::process::Command`.
pub fn gateway_command(binary: &Path, port: u16, data_dir: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir);
    for (key, _) in std::env::vars_os() {
        if is_inherited_config(&key) {
            command.env_remove(&key);
        }
    }
    command
}

/// Whether an inherited variable could reconfigure the gateway under test.
pub fn is_inherited_config(key: &std::ffi::OsStr) -> bool {
    let key = key.to_string_lossy();
    key.starts_with("MAYFLY_") || key == "DATABASE_URL"
}

/// Why a started gateway did not become ready.
#[derive(Debug)]
pub(crate) enum NotReady {
    /// The process ended on its own (port taken, bad configuration, crash).
    Exited(ExitStatus),
    /// It kept running but never answered 200; the last problem seen is kept.
    TimedOut(String),
    /// The process could not even be polled.
    Failed(TestkitError),
}

/// Polls until `GET <base_url>/health/ready` answers 200 with a client that trusts `ca_path`,
/// the child exits, or `timeout` passes.
pub(crate) fn wait_until_ready(
    child: &mut Child,
    base_url: &str,
    ca_path: &Path,
    timeout: Duration,
) -> Result<(), NotReady> {
    let deadline = Instant::now() + timeout;
    let ready_url = format!("{base_url}/health/ready");
    let mut probe = None;
    let mut last_problem = format!("{} was not written", ca_path.display());
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Err(NotReady::Exited(status)),
            Ok(None) => {}
            Err(e) => {
                return Err(NotReady::Failed(TestkitError::io(
                    "polling the gateway process",
                    e,
                )))
            }
        }
        if Instant::now() >= deadline {
            return Err(NotReady::TimedOut(last_problem));
        }
        if probe.is_none() {
            // The CA appears during the gateway's first start; until then there is nothing
            // to trust, so there is no point in connecting.
            match client_trusting(ca_path, PROBE_TIMEOUT) {
                Ok(client) => probe = Some(client),
                Err(e) => last_problem = e.to_string(),
            }
        }
        if let Some(client) = &probe {
            match client.get(&ready_url).send() {
                Ok(response) if response.status().as_u16() == 200 => return Ok(()),
                Ok(response) => {
                    last_problem = format!("{ready_url} answered {}", response.status())
                }
                Err(e) => last_problem = format!("{ready_url}: {}", error_chain(&e)),
            }
        }
        std::thread::sleep(PROBE_INTERVAL);
    }
}

/// An error and all its causes on one line (reqwest hides the interesting part in sources).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// SIGKILLs the child (if still running) and reaps it.
pub(crate) fn kill_and_reap(child: &mut Child) {
    // `kill` fails only when the process already exited, which is what we want anyway.
    let _ = child.kill();
    let _ = child.wait();
}

/// The log file path inside a gateway's temporary directory.
pub(crate) fn log_path_in(dir: &Path) -> PathBuf {
    dir.join("gateway.log")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn the_gateway_command_listens_on_loopback_and_drops_inherited_configuration() {
        let command = gateway_command(Path::new("/bin/gw"), 4242, Path::new("/tmp/d"));
        assert_eq!(command.get_program(), OsStr::new("/bin/gw"));
        let args: Vec<&OsStr> = command.get_args().collect();
        assert_eq!(
            args,
            ["--listen", "127.0.0.1:4242", "--data-dir", "/tmp/d"].map(OsStr::new)
        );
        for (key, value) in command.get_envs() {
            if is_inherited_config(key) {
                assert_eq!(value, None, "{key:?} is removed, not set");
            }
        }
    }

    #[test]
    fn gateway_configuration_is_not_inherited() {
        assert!(is_inherited_config(OsStr::new("MAYFLY_LISTEN")));
        assert!(is_inherited_config(OsStr::new("MAYFLY_CONFIG")));
        assert!(is_inherited_config(OsStr::new("DATABASE_URL")));
        assert!(!is_inherited_config(OsStr::new("PATH")));
        assert!(!is_inherited_config(OsStr::new("AWS_ENDPOINT_URL")));
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error sending request")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn error_chain_includes_causes() {
        let error = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            error_chain(&error),
            "error sending request: connection refused"
        );
    }
}
