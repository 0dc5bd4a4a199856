//! The one error type of the CLI and the exit code each kind maps to.
//!
//! Messages here end up on stderr, so no variant ever carries a secret: request bodies and
//! tokens are never part of an error, and the gateway's own `error` message is passed on as is
//! (the gateway promises never to echo secrets).

use std::path::PathBuf;

/// Everything that can make a `mayfly` invocation fail.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The invocation cannot work as given (missing gateway URL, `http://` URL, no credentials).
    /// Exit code 2, like clap's own usage errors, because re-running it unchanged cannot help.
    #[error("{0}")]
    Usage(String),

    /// The gateway answered with a non-2xx status; `message` is its `{"error": ...}` text.
    #[error("{message} (HTTP {status})")]
    Gateway { status: u16, message: String },

    /// The request never got an HTTP answer (DNS, TCP, TLS, timeout). Build it with
    /// [`CliError::transport`], which keeps the URL out of reqwest's own message.
    #[error("cannot reach the gateway at {url}: {}{}", error_chain(.source), tls_hint(.source))]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// The gateway answered 2xx with something the command cannot use.
    #[error("unexpected response from the gateway: {0}")]
    InvalidResponse(String),

    /// Reading or writing a local file (profile, CA certificate, `@file` argument).
    #[error("{action} {}: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The profile file exists but is not the TOML we expect.
    #[error("invalid profile file {}: {message}", path.display())]
    ProfileFormat { path: PathBuf, message: String },

    /// The machine's AWS credentials, for an `aws_iam` login, could not be obtained (the
    /// instance metadata service or STS did not answer, a profile is broken) or used.
    #[error("AWS credentials for --access-type aws_iam: {0}")]
    AwsCredentials(String),

    /// Writing to stdout failed (for example a closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
}

impl CliError {
    /// The process exit code: 2 for usage errors (as clap does), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    /// A transport error; the URL is said once, by this error, not again by reqwest's.
    pub fn transport(url: impl Into<String>, source: reqwest::Error) -> Self {
        CliError::Transport {
            url: url.into(),
            source: source.without_url(),
        }
    }

    /// Shorthand for [`CliError::Usage`].
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }
}

/// Renders an error with its whole `source()` chain: reqwest's top-level message ("error sending
/// request") says nothing about *why* (an unknown CA, a refused connection), the causes do.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        current = cause.source();
    }
    text
}

/// The usual first-run mistake is a self-signed gateway without `--ca-cert`: say so.
fn tls_hint(error: &(dyn std::error::Error + 'static)) -> &'static str {
    let chain = error_chain(error);
    if chain.contains("UnknownIssuer") || chain.contains("invalid peer certificate") {
        " (is --ca-cert set to the gateway's CA, e.g. <data-dir>/tls/ca.pem?)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_exit_2_and_others_exit_1() {
        assert_eq!(CliError::usage("x").exit_code(), 2);
        let gateway = CliError::Gateway {
            status: 404,
            message: "not found".into(),
        };
        assert_eq!(gateway.exit_code(), 1);
        assert_eq!(gateway.to_string(), "not found (HTTP 404)");
    }

    #[test]
    fn error_chain_includes_causes_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("inner cause"));
        assert_eq!(error_chain(&error), "outer: inner cause");
    }
}
