//! The testkit's error type.
//!
//! Public constructors of [`crate::TestGateway`] panic (they are test helpers and a failing
//! set-up must fail the test), but the pieces underneath return this error so the panic message
//! can say exactly which step went wrong.

use std::path::PathBuf;

/// Why a step of booting or cleaning up a test gateway failed.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// `MAYFLY_GATEWAY_BIN` names a file that does not exist.
    #[error("MAYFLY_GATEWAY_BIN points to {0}, which does not exist")]
    BinaryOverrideMissing(PathBuf),

    /// `cargo build -p mayfly-gateway` could not produce the binary.
    #[error("building mayfly-gateway failed: {0}")]
    Build(String),

    /// No PostgreSQL server answered at the configured URL.
    #[error("no PostgreSQL server reachable at {url}: {reason}")]
    PostgresUnreachable { url: String, reason: String },

    /// The PostgreSQL server answered but a statement failed.
    #[error("PostgreSQL at {url}: {reason}")]
    Postgres { url: String, reason: String },

    /// A URL could not be parsed or rewritten.
    #[error("invalid URL {url}: {reason}")]
    Url { url: String, reason: String },

    /// The HTTPS client could not be built (usually an unreadable CA file).
    #[error("HTTPS client: {0}")]
    Client(String),
}

impl TestkitError {
    /// Wraps an I/O error with what was being attempted.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
