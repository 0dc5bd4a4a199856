//! The command line, black-box: clap reads every `MAYFLY_*` variable, but never judges one,
//! so `openapi` (which needs no configuration) runs whatever they hold, and serving reports
//! every bad value at once, naming its setting.

use std::process::{Command, Output, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_mayfly-gateway");

/// Values clap itself used to refuse (numbers, true/false, empty paths) and values only
/// validation refuses.
const BAD: [(&str, &str); 6] = [
    ("MAYFLY_MAX_BODY_BYTES", "lots"),
    ("MAYFLY_DB_MAX_CONNECTIONS", "-1"),
    ("MAYFLY_INSECURE_PLAIN_HTTP", "yes"),
    ("MAYFLY_DATA_DIR", ""),
    ("MAYFLY_LISTEN", "nowhere"),
    ("MAYFLY_CONFIG", "/nonexistent/mayfly.toml"),
];

fn run(args: &[&str]) -> Output {
    let mut command = Command::new(BINARY);
    // Only what the test sets: no MAYFLY_* or DATABASE_URL from the environment running it.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("MAYFLY_") || key_text == "DATABASE_URL" {
            command.env_remove(&key);
        }
    }
    command
        .args(args)
        .envs(BAD)
        .stdin(Stdio::null())
        .output()
        .expect("running mayfly-gateway")
}

#[test]
fn openapi_runs_whatever_the_mayfly_variables_hold() {
    let out = run(&["openapi"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(document["openapi"].is_string(), "{document}");
    assert!(document["paths"].is_object());
}

#[test]
fn serving_with_bad_variables_names_every_setting_and_exits_2() {
    let out = run(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("mayfly-gateway: invalid configuration:"),
        "{stderr}"
    );
    for (variable, _) in BAD {
        assert!(
            stderr.contains(&format!("({variable})")),
            "{variable}: {stderr}"
        );
    }
}
