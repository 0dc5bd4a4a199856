//! The one error type every handler returns, and how it becomes an HTTP response.
//!
//! An error carries the message for the client; anything internal (a database error's text, a
//! bug) is logged with the request id and replaced by a generic message, so responses never
//! leak internals.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use mayfly_api_types::ErrorBody;
use mayfly_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input: the message says which field and how to fix it.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Exists already, delete protection, still in use, or changed concurrently.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Throttled: the client may retry after `retry_after_secs` (sent as `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// The database could not be reached or failed: retrying may help.
    #[error("the gateway's database is unavailable; retry shortly")]
    Unavailable(String),
    #[error("the request took longer than the gateway's deadline of {0} seconds")]
    Timeout(u64),
    /// AWS answered with an error (passed on without secrets).
    #[error("{0}")]
    Upstream(String),
    /// AWS could not be reached.
    #[error("{0}")]
    UpstreamUnavailable(String),
    /// AWS did not answer within the request's deadline.
    #[error("{0}")]
    UpstreamTimeout(String),
    /// AWS is throttling and the call was held back: retry after `retry_after_secs` (sent as
    /// `Retry-After`).
    #[error("{message}")]
    UpstreamOverloaded {
        message: String,
        retry_after_secs: u64,
    },
    /// A bug. The detail goes to the log only.
    #[error("internal error; the gateway log has the details under this request's id")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::BadRequest(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError::NotFound(msg.into())
    }

    pub fn conflict(msg: impl Into<String>) -> Self {
        ApiError::Conflict(msg.into())
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        ApiError::Internal(msg.into())
    }
}

/// The application core's errors keep their meaning; only the HTTP status is chosen here.
impl From<mayfly_app::error::AppError> for ApiError {
    fn from(e: mayfly_app::error::AppError) -> Self {
        use mayfly_app::error::AppError as E;
        match e {
            E::Invalid(m) => ApiError::BadRequest(m),
            E::Unauthenticated(m) => ApiError::Unauthorized(m),
            E::Denied(m) => ApiError::Forbidden(m),
            E::NotFound(m) => ApiError::NotFound(m),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Throttled {
                message,
                retry_after_secs,
            } => ApiError::TooManyRequests {
                message,
                retry_after_secs,
            },
            E::Unavailable(detail) => ApiError::Unavailable(detail),
            E::Timeout(secs) => ApiError::Timeout(secs),
            E::Aws(m) => ApiError::Upstream(m),
            E::AwsUnavailable(m) | E::IdentityUnavailable(m) => ApiError::UpstreamUnavailable(m),
            E::AwsTimeout(m) => ApiError::UpstreamTimeout(m),
            E::AwsOverloaded {
                message,
                retry_after_secs,
            } => ApiError::UpstreamOverloaded {
                message,
                retry_after_secs,
            },
            E::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<mayfly_app::rotation::admin::RotationError> for ApiError {
    fn from(e: mayfly_app::rotation::admin::RotationError) -> Self {
        mayfly_app::error::AppError::from(e).into()
    }
}

/// Store, validation and AWS errors mean what the core says they mean (`AppError`'s
/// conversions word them); only the status is chosen here.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        mayfly_app::error::AppError::from(e).into()
    }
}

impl From<mayfly_domain::ValidationErrors> for ApiError {
    fn from(e: mayfly_domain::ValidationErrors) -> Self {
        mayfly_app::error::AppError::from(e).into()
    }
}

impl From<mayfly_aws::AwsError> for ApiError {
    fn from(e: mayfly_aws::AwsError) -> Self {
        mayfly_app::error::AppError::from(e).into()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::UpstreamUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::UpstreamOverloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(detail) => tracing::error!(detail = %detail, "internal error"),
            ApiError::Unavailable(detail) => {
                tracing::warn!(detail = %detail, "database unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        }
        | ApiError::UpstreamOverloaded {
            retry_after_secs, ..
        } = self
        {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                retry_after_secs.to_string(),
            ));
        }
        response.json(ErrorBody {
            error: self.to_string(),
        })
    }
}
