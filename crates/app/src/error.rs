//! The one error of the application core. Each front door maps it onto its own statuses and
//! wording (the Akeyless API: `mayfly_gateway::error::ApiError`).
//!
//! A variant's text is the message for the client: it says what was wrong and how to fix it,
//! and never carries a secret or an internal detail. Details that only an operator should see
//! (a database error's text, a bug) travel separately and go to the log.

use mayfly_store::StoreError;

/// `Clone`: a cache load's error is handed to every request that waited for that load.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// Bad input: the message names the field and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// No valid credential or token.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but the rules do not allow it.
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    NotFound(String),
    /// Exists already, delete protection, still in use, or changed concurrently.
    #[error("{0}")]
    Conflict(String),
    /// Throttled: the caller may retry after `retry_after_secs`.
    #[error("{message}")]
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    /// The database could not be reached or failed: retrying may help. The detail is for
    /// the log only.
    #[error("the gateway's database is unavailable; retry shortly")]
    Unavailable(String),
    /// A login could not be checked because what vouches for it (a JWT method's JWKS) could
    /// not be had; retrying may help. The message names the URL's origin, never a secret.
    #[error("{0}")]
    IdentityUnavailable(String),
    /// The operation ran past its deadline (seconds).
    #[error("the request took longer than the gateway's deadline of {0} seconds")]
    Timeout(u64),
    /// AWS answered with an error (passed on without secrets).
    #[error("{0}")]
    Aws(String),
    /// AWS could not be reached.
    #[error("{0}")]
    AwsUnavailable(String),
    /// AWS did not answer within the deadline.
    #[error("{0}")]
    AwsTimeout(String),
    /// AWS is throttling the target and the gateway held the call back rather than hang or
    /// add to the load: the caller may retry after `retry_after_secs`.
    #[error("{message}")]
    AwsOverloaded {
        message: String,
        retry_after_secs: u64,
    },
    /// A bug. The detail goes to the log only.
    #[error("internal error; the gateway log has the details under this request's id")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        AppError::Invalid(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        AppError::NotFound(msg.into())
    }

    pub fn conflict(msg: impl Into<String>) -> Self {
        AppError::Conflict(msg.into())
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        AppError::Internal(msg.into())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::Conflict(format!(
                "{what} already exists; choose another name or update the existing one"
            )),
            StoreError::Constraint(msg) => {
                AppError::Conflict(format!("the change conflicts with stored data: {msg}"))
            }
            StoreError::Corrupt(msg) => AppError::Internal(format!("corrupt row: {msg}")),
            StoreError::Db(err) => AppError::Unavailable(err.to_string()),
        }
    }
}

impl From<mayfly_domain::ValidationErrors> for AppError {
    fn from(e: mayfly_domain::ValidationErrors) -> Self {
        AppError::Invalid(e.to_string())
    }
}

impl From<mayfly_aws::AwsError> for AppError {
    fn from(e: mayfly_aws::AwsError) -> Self {
        use mayfly_aws::AwsError as A;
        match e {
            A::AccessDenied { action, message } => AppError::Aws(format!(
                "AWS denied {action} to the target's credentials: {message}; grant that action to the target's IAM user (see docs/operations.md)"
            )),
            A::Unreachable(detail) => {
                // The transport's own text names internal types and addresses: log it only.
                tracing::warn!(detail = %detail, "AWS unreachable");
                AppError::AwsUnavailable(
                    "AWS could not be reached (connection failed); check the target's endpoints and the gateway's network, then retry".into(),
                )
            }
            A::Timeout(detail) => {
                tracing::warn!(detail = %detail, "AWS timed out");
                AppError::AwsTimeout("AWS did not answer within the request's deadline; retry, or raise the request's timeout".into())
            }
            // Refused before any connection was attempted: the same answer whether or not
            // anything listens there. The message names the origin and the setting to use.
            A::EndpointRefused(why) => AppError::Aws(format!(
                "the gateway refused to send the target's credentials to its endpoint: {why}"
            )),
            A::Overloaded {
                message,
                retry_after_secs,
            } => AppError::AwsOverloaded {
                message: format!("{message}; retry in {retry_after_secs} s"),
                retry_after_secs,
            },
            A::Throttled(msg) => AppError::Aws(format!(
                "AWS kept throttling the request (retried until the deadline): {msg}"
            )),
            other => AppError::Aws(format!("AWS answered with an error: {other}")),
        }
    }
}
