//! An HTTPS client that trusts exactly the gateway's CA, and response body parsing.
//!
//! The gateway generates its own CA on first start; trusting only that CA (no built-in roots)
//! makes the tests prove that the certificate chain the gateway serves is the one it wrote to
//! `<data-dir>/tls/ca.pem`. Proxies from the environment are ignored: tests talk to loopback
//! only.

use std::path::Path;
use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::Value;

use crate::TestkitError;

/// Builds a blocking client that trusts the PEM CA at `ca_path` and nothing else.
pub(crate) fn client_trusting(ca_path: &Path, timeout: Duration) -> Result<Client, TestkitError> {
    let pem = std::fs::read(ca_path)
        .map_err(|e| TestkitError::io(format!("reading {}", ca_path.display()), e))?;
    // reqwest accepts a PEM file without any certificate (and then trusts nothing); a file the
    // gateway is still writing must count as "not there yet", so insist on a complete block.
    let text = String::from_utf8_lossy(&pem);
    let complete = text
        .find("-----BEGIN CERTIFICATE-----")
        .is_some_and(|start| text[start..].contains("-----END CERTIFICATE-----"));
    if !complete {
        return Err(TestkitError::Client(format!(
            "{} holds no complete PEM certificate",
            ca_path.display()
        )));
    }
    let ca = reqwest::Certificate::from_pem(&pem).map_err(|e| {
        TestkitError::Client(format!(
            "{} is not a PEM certificate: {e}",
            ca_path.display()
        ))
    })?;
    Client::builder()
        .add_root_certificate(ca)
        .tls_built_in_root_certs(false)
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| TestkitError::Client(format!("with CA {}: {e}", ca_path.display())))
}

/// Parses a response body as JSON; anything else (including an empty body) is kept as a
/// `Value::String` so tests can still assert on it.
pub(crate) fn parse_body(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The last `lines` lines of `text`, for panic messages.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_bodies_are_parsed() {
        assert_eq!(
            parse_body(r#"{"error":"bad"}"#.to_owned()),
            json!({"error": "bad"})
        );
        assert_eq!(parse_body("[1,2]".to_owned()), json!([1, 2]));
    }

    #[test]
    fn non_json_bodies_become_strings() {
        assert_eq!(
            parse_body("Not Found".to_owned()),
            Value::String("Not Found".into())
        );
        assert_eq!(parse_body(String::new()), Value::String(String::new()));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\nd", 2), "c\nd");
        assert_eq!(tail("a\nb", 10), "a\nb");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn missing_ca_file_is_an_error_naming_the_file() {
        let err = client_trusting(Path::new("/nonexistent/ca.pem"), Duration::from_secs(1))
            .expect_err("no such file");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn garbage_ca_file_is_rejected() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").expect("write");
        assert!(client_trusting(&path, Duration::from_secs(1)).is_err());
    }
}
