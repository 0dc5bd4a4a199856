//! [`AwsError`]: what can go wrong when calling IAM or STS, in the terms the gateway acts on.
//!
//! The gateway turns these into HTTP statuses (502 for an AWS answer, 503 unreachable, 504
//! deadline) and the retry policy uses [`AwsError::is_retryable`], so the variants follow what
//! a caller *does* about an error, not the SDK's shape. The SDK's per-operation error enums are
//! mapped generically from error codes and HTTP statuses, because moto (and some real AWS
//! auth failures) answer with bodies the SDK cannot parse: then only the status is left.
//!
//! Messages never contain credentials: AWS messages are cut to their first sentence-ish part
//! (SigV4 mismatch messages can quote the canonical request, which includes the session token),
//! and the SDK clients additionally redact their own secrets with [`AwsError::redacted`].

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Longest AWS message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 400;

/// An IAM or STS call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// The user, key, policy attachment, ... does not exist (`NoSuchEntity`).
    #[error("AWS NoSuchEntity: {0}")]
    NoSuchEntity(String),

    /// The entity already exists (`EntityAlreadyExists`).
    #[error("AWS EntityAlreadyExists: {0}")]
    EntityAlreadyExists(String),

    /// AWS asked us to slow down (throttling codes or HTTP 429). Retryable.
    #[error("AWS throttled the request: {0}")]
    Throttled(String),

    /// The credentials were rejected or lack permission for `action` (e.g. `iam:CreateUser`).
    #[error("AWS denied {action}: {message}")]
    AccessDenied { action: String, message: String },

    /// AWS refused the request itself: validation, malformed policy, a limit exceeded, ...
    /// Retrying the same request cannot help.
    #[error("AWS rejected the request ({code}): {message}")]
    InvalidInput { code: String, message: String },

    /// Any other answer from AWS, including 5xx (retryable) and `DeleteConflict`.
    #[error("AWS error {code}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    ServiceError {
        status: Option<u16>,
        code: String,
        message: String,
    },

    /// The gateway itself held the call back: AWS is throttling the target and the call
    /// could not start before the caller's deadline, or the target's retry budget is spent.
    /// Not retryable now; the caller may come back after `retry_after_secs`.
    #[error("{message}")]
    Overloaded {
        message: String,
        retry_after_secs: u64,
    },

    /// No answer: DNS failure, connection refused or reset, TLS failure. Retryable.
    #[error("AWS unreachable: {0}")]
    Unreachable(String),

    /// An attempt or the whole call ran past its time limit. Retryable while time remains.
    #[error("AWS call timed out: {0}")]
    Timeout(String),

    /// The gateway's outbound policy refused the endpoint before connecting (see
    /// [`crate::sdk::guard`]); the message names the origin and the setting that would
    /// allow it. Not retryable: only a configuration change helps.
    #[error("endpoint refused: {0}")]
    EndpointRefused(String),

    /// The connection's credential source (the gateway's own identity, a role chain) could
    /// not give credentials; `code` is AWS's (`AccessDenied`, `ExpiredTokenException`) or
    /// `NoCredentials`. The message says what to set up. Not retryable here: the source has
    /// retried what it could.
    #[error("AWS credentials unavailable ({code}): {message}")]
    Credentials { code: String, message: String },
}

/// A connection's credential source (the gateway's identity, a role chain) failed: what it
/// hands the SDK, which [`AwsError::from_sdk`] finds again in the SDK's error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SourceFailure(pub AwsError);

/// The [`SourceFailure`] in an error's chain of causes, if a credential source failed.
pub(crate) fn find_source_failure<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a SourceFailure> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(f) = e.downcast_ref::<SourceFailure>() {
            return Some(f);
        }
        next = e.source();
    }
    None
}

/// Error codes that mean "slow down"; AWS services are not consistent about the spelling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
];

/// Whether an AWS error body (XML or JSON) names one of the throttling codes.
pub(crate) fn names_throttling(body: &str) -> bool {
    THROTTLING_CODES.iter().any(|code| {
        body.contains(&format!("<Code>{code}</Code>"))
            || body.contains(&format!("\"{code}\""))
            || body.contains(&format!("#{code}\""))
    })
}

/// Error codes that mean the caller's credentials are bad or lack permission.
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "MissingAuthenticationToken",
    "AuthFailure",
];

/// Error codes that mean the request itself is wrong; retrying it cannot help.
const INVALID_INPUT_CODES: &[&str] = &[
    "ValidationError",
    "ValidationException",
    "InvalidInput",
    "MalformedPolicyDocument",
    "LimitExceeded",
    "PasswordPolicyViolation",
    "PackedPolicyTooLarge",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "MissingParameter",
    "MalformedQueryString",
    "InvalidAction",
    "InvalidAuthenticationCode",
    "InvalidIdentityToken",
    "PolicyNotAttachable",
    "UnmodifiableEntity",
    "InvalidUserType",
];

/// Error codes AWS uses for its own transient failures, sometimes without a 5xx status.
const SERVER_FAULT_CODES: &[&str] = &[
    "ServiceFailure",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

impl AwsError {
    /// Whether trying the same call again may succeed: throttling, server faults, no answer,
    /// a timed-out attempt. Everything else is an answer that will not change by itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Throttled(_) | Self::Unreachable(_) | Self::Timeout(_) => true,
            Self::ServiceError { status, code, .. } => {
                status.is_some_and(|s| s >= 500) || SERVER_FAULT_CODES.contains(&code.as_str())
            }
            Self::NoSuchEntity(_)
            | Self::EntityAlreadyExists(_)
            | Self::AccessDenied { .. }
            | Self::InvalidInput { .. }
            | Self::EndpointRefused(_)
            | Self::Overloaded { .. }
            | Self::Credentials { .. } => false,
        }
    }

    /// Whether AWS said the entity does not exist (teardown counts that as done).
    pub fn is_no_such_entity(&self) -> bool {
        matches!(self, Self::NoSuchEntity(_))
    }

    /// Whether AWS said the entity already exists.
    pub fn is_entity_already_exists(&self) -> bool {
        matches!(self, Self::EntityAlreadyExists(_))
    }

    /// A short machine-readable code: the AWS error code where there is one, otherwise the
    /// variant (`Unreachable`, `Timeout`).
    pub fn code(&self) -> &str {
        match self {
            Self::NoSuchEntity(_) => "NoSuchEntity",
            Self::EntityAlreadyExists(_) => "EntityAlreadyExists",
            Self::Throttled(_) => "Throttling",
            Self::AccessDenied { .. } => "AccessDenied",
            Self::InvalidInput { code, .. }
            | Self::ServiceError { code, .. }
            | Self::Credentials { code, .. } => code,
            Self::Unreachable(_) => "Unreachable",
            Self::Timeout(_) => "Timeout",
            Self::EndpointRefused(_) => "EndpointRefused",
            Self::Overloaded { .. } => "Overloaded",
        }
    }

    /// The same error with every occurrence of each non-empty `secret` replaced by `***`.
    ///
    /// A second line of defence for messages that echo request data back.
    pub fn redacted(self, secrets: &[&str]) -> Self {
        let clean = |s: String| -> String {
            secrets
                .iter()
                .filter(|secret| !secret.is_empty())
                .fold(s, |acc, secret| acc.replace(secret, "***"))
        };
        match self {
            Self::NoSuchEntity(m) => Self::NoSuchEntity(clean(m)),
            Self::EntityAlreadyExists(m) => Self::EntityAlreadyExists(clean(m)),
            Self::Throttled(m) => Self::Throttled(clean(m)),
            Self::AccessDenied { action, message } => Self::AccessDenied {
                action,
                message: clean(message),
            },
            Self::InvalidInput { code, message } => Self::InvalidInput {
                code,
                message: clean(message),
            },
            Self::ServiceError {
                status,
                code,
                message,
            } => Self::ServiceError {
                status,
                code,
                message: clean(message),
            },
            Self::Unreachable(m) => Self::Unreachable(clean(m)),
            Self::Timeout(m) => Self::Timeout(clean(m)),
            Self::EndpointRefused(m) => Self::EndpointRefused(clean(m)),
            Self::Credentials { code, message } => Self::Credentials {
                code,
                message: clean(message),
            },
            Self::Overloaded {
                message,
                retry_after_secs,
            } => Self::Overloaded {
                message: clean(message),
                retry_after_secs,
            },
        }
    }

    /// Maps any SDK error of any IAM or STS operation. `action` is what was being called
    /// (see [`crate::ops`]); it names the denied action in [`AwsError::AccessDenied`].
    pub fn from_sdk<E>(action: &str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let Some(refused) = crate::sdk::guard::find_refusal(&err) {
            return Self::EndpointRefused(refused.0.clone());
        }
        if let Some(failed) = find_source_failure(&err) {
            return failed.0.clone();
        }
        let status = err.raw_response().map(|r| r.status().as_u16());
        match &err {
            SdkError::ConstructionFailure(_) => Self::InvalidInput {
                code: "RequestConstruction".into(),
                message: format!("{action}: {}", clean_message(&chain(&err))),
            },
            SdkError::TimeoutError(_) => Self::Timeout(format!("{action}: {}", chain(&err))),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                Self::Timeout(format!("{action}: {}", chain(&err)))
            }
            SdkError::DispatchFailure(_) => Self::Unreachable(format!("{action}: {}", chain(&err))),
            SdkError::ResponseError(_) => match status {
                Some(s) if s >= 400 => classify(action, status, None, None),
                _ => Self::ServiceError {
                    status,
                    code: "InvalidResponse".into(),
                    message: format!(
                        "{action}: the response could not be read: {}",
                        clean_message(&chain(&err))
                    ),
                },
            },
            // `SdkError::ServiceError` and any variant added in future SDK versions.
            _ => classify(action, status, err.code(), err.message()),
        }
    }
}

/// Decides the variant from an AWS error code (when readable) and the HTTP status.
pub(crate) fn classify(
    action: &str,
    status: Option<u16>,
    code: Option<&str>,
    message: Option<&str>,
) -> AwsError {
    let message = match message.map(clean_message).filter(|m| !m.is_empty()) {
        Some(m) => m,
        None => match status {
            Some(s) => format!("{action} failed with HTTP {s} and no readable error message"),
            None => format!("{action} failed without a readable error message"),
        },
    };
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    match code {
        Some("NoSuchEntity" | "NoSuchEntityException") => AwsError::NoSuchEntity(message),
        Some("EntityAlreadyExists" | "EntityAlreadyExistsException") => {
            AwsError::EntityAlreadyExists(message)
        }
        Some(c) if THROTTLING_CODES.contains(&c) => AwsError::Throttled(message),
        Some(c) if ACCESS_CODES.contains(&c) => AwsError::AccessDenied {
            action: action.to_owned(),
            message: if c == "AccessDenied" {
                message
            } else {
                format!("{c}: {message}")
            },
        },
        Some(c) if INVALID_INPUT_CODES.contains(&c) => AwsError::InvalidInput {
            code: c.to_owned(),
            message,
        },
        Some(c) if status == Some(429) => AwsError::Throttled(format!("{c}: {message}")),
        Some(c) => AwsError::ServiceError {
            status,
            code: c.to_owned(),
            message,
        },
        None => match status {
            Some(401 | 403) => AwsError::AccessDenied {
                action: action.to_owned(),
                message,
            },
            Some(429) => AwsError::Throttled(message),
            _ => AwsError::ServiceError {
                status,
                code: "Unknown".into(),
                message,
            },
        },
    }
}

/// The whole cause chain of an SDK error on one line ("dispatch failure: io error: ...").
fn chain<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    DisplayErrorContext(err).to_string()
}

/// Keeps the human part of an AWS message: the first line, without any quoted canonical
/// request or string-to-sign (they contain header values such as the session token),
/// at most [`MAX_MESSAGE_CHARS`] characters.
pub(crate) fn clean_message(message: &str) -> String {
    let mut cut = message;
    for marker in [
        "\n",
        "The Canonical String",
        "The String-to-Sign",
        "Canonical String",
        "StringToSign",
    ] {
        if let Some(at) = cut.find(marker) {
            cut = &cut[..at];
        }
    }
    let cut = cut.trim();
    match cut.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}...", &cut[..at]),
        None => cut.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_the_caller_does() {
        assert!(
            classify("iam:GetUser", Some(404), Some("NoSuchEntity"), Some("gone"))
                .is_no_such_entity()
        );
        assert!(classify(
            "iam:CreateUser",
            Some(409),
            Some("EntityAlreadyExists"),
            None
        )
        .is_entity_already_exists());
        assert_eq!(
            classify(
                "iam:CreateUser",
                Some(400),
                Some("Throttling"),
                Some("Rate exceeded")
            ),
            AwsError::Throttled("Rate exceeded".into())
        );
        assert_eq!(
            classify(
                "iam:CreateUser",
                Some(403),
                Some("AccessDenied"),
                Some("no")
            ),
            AwsError::AccessDenied {
                action: "iam:CreateUser".into(),
                message: "no".into()
            }
        );
        assert_eq!(
            classify(
                "sts:GetCallerIdentity",
                Some(403),
                Some("InvalidClientTokenId"),
                Some("bad")
            ),
            AwsError::AccessDenied {
                action: "sts:GetCallerIdentity".into(),
                message: "InvalidClientTokenId: bad".into()
            }
        );
        assert_eq!(
            classify(
                "iam:PutUserPolicy",
                Some(400),
                Some("MalformedPolicyDocument"),
                Some("x")
            )
            .code(),
            "MalformedPolicyDocument"
        );
        let conflict = classify(
            "iam:DeleteUser",
            Some(409),
            Some("DeleteConflict"),
            Some("keys"),
        );
        assert_eq!(conflict.code(), "DeleteConflict");
        assert!(!conflict.is_retryable());
    }

    #[test]
    fn unreadable_errors_fall_back_to_the_http_status() {
        let denied = classify("iam:ListUsers", Some(403), None, None);
        assert!(
            matches!(&denied, AwsError::AccessDenied { action, message }
                if action == "iam:ListUsers" && message.contains("403")),
            "{denied:?}"
        );
        assert!(matches!(
            classify("x", Some(429), None, None),
            AwsError::Throttled(_)
        ));
        let fault = classify("x", Some(503), None, None);
        assert!(fault.is_retryable(), "{fault:?}");
        assert!(!classify("x", Some(400), None, None).is_retryable());
        assert!(classify("x", None, Some("ServiceFailure"), None).is_retryable());
    }

    #[test]
    fn retryable_is_exactly_transient_failures() {
        assert!(AwsError::Throttled(String::new()).is_retryable());
        assert!(AwsError::Unreachable(String::new()).is_retryable());
        assert!(AwsError::Timeout(String::new()).is_retryable());
        assert!(!AwsError::NoSuchEntity(String::new()).is_retryable());
        assert!(!AwsError::EntityAlreadyExists(String::new()).is_retryable());
        assert!(!AwsError::InvalidInput {
            code: "LimitExceeded".into(),
            message: String::new()
        }
        .is_retryable());
        assert!(AwsError::ServiceError {
            status: Some(500),
            code: "Unknown".into(),
            message: String::new()
        }
        .is_retryable());
    }

    #[test]
    fn messages_lose_quoted_signing_material_and_known_secrets() {
        let raw = "The request signature we calculated does not match. The Canonical String for \
                   this request should have been 'POST\n/\n\nx-amz-security-token:SESSIONTOKEN'";
        let clean = clean_message(raw);
        assert!(!clean.contains("SESSIONTOKEN"), "{clean}");
        assert!(clean.starts_with("The request signature"), "{clean}");
        let long = "x".repeat(2000);
        assert!(clean_message(&long).chars().count() <= MAX_MESSAGE_CHARS + 3);

        let err = AwsError::Unreachable("connect to https://k:SECRET@host failed".into())
            .redacted(&["SECRET", ""]);
        assert_eq!(
            err.to_string(),
            "AWS unreachable: connect to https://k:***@host failed"
        );
    }

    #[test]
    fn display_names_the_code_and_status() {
        let err = AwsError::ServiceError {
            status: Some(500),
            code: "ServiceFailure".into(),
            message: "boom".into(),
        };
        assert_eq!(err.to_string(), "AWS error ServiceFailure (HTTP 500): boom");
    }
}
