//! Retrying AWS calls: exponential backoff with full jitter, bounded by a deadline.
//!
//! The SDK's own retries are disabled ([`crate::AwsFactory`]) so that exactly one policy
//! decides, and it knows the caller's deadline: a `get-dynamic-secret-value` request has a
//! budget, the revoker has another. Only [`AwsError::is_retryable`] errors are retried
//! (throttling, 5xx, no answer, timed-out attempt), and never past the deadline: when the next
//! sleep would end after it, the last error is returned as it is, so the caller can still tell
//! "AWS throttled us" (502) from "we ran out of time" (504).
//!
//! # Which calls are safe to retry
//! Reads, deletes, attaches, `PutUserPolicy` and `AddUserToGroup` are idempotent. The three
//! creating calls are retried too, but a lost response makes the retry see its own first
//! attempt, so their callers must cope:
//! - `CreateUser` answers `EntityAlreadyExists`: the caller checks the user's tags to see
//!   whether it is its own (see [`crate::iam_user::create_user_with_access`]);
//! - `CreateLoginProfile` answers `EntityAlreadyExists`: on a user we just created that is
//!   our own profile;
//! - `CreateAccessKey` creates a second key whose secret we never saw. It is harmless
//!   because teardown deletes every key of the user, but the user may briefly hold two keys.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::AwsError;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (at least 1 is always made).
    pub max_attempts: u32,
    /// Backoff ceiling after the first failure; doubles per failure.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The largest sleep after `failures` failed attempts (1-based):
    /// `min(cap, base * 2^(failures-1))`. The actual sleep is uniform in `[0, ceiling]`.
    pub fn backoff_ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// Runs `f` until it succeeds, fails with a non-retryable error, runs out of attempts, or the
/// deadline would pass. Each attempt is cut off at `deadline` (then the result is
/// [`AwsError::Timeout`]); a backoff sleep that would end after `deadline` is not taken and the
/// last error is returned instead. `op_name` (see [`crate::ops`]) is for logs.
pub async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    deadline: Instant,
    op_name: &str,
    mut f: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let max_attempts = policy.max_attempts.max(1);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        // The attempt's calls see the deadline: a governed call that could only start after
        // it is refused at once (`crate::governor`).
        let attempt_future = crate::governor::deadline_scope(deadline, f());
        let err = match tokio::time::timeout_at(deadline, attempt_future).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => err,
            Err(_elapsed) => {
                return Err(AwsError::Timeout(format!(
                    "{op_name}: no answer before the deadline (attempt {attempt})"
                )))
            }
        };
        if !err.is_retryable() {
            return Err(err);
        }
        let delay = full_jitter(policy.backoff_ceiling(attempt));
        if attempt >= max_attempts {
            return Err(gave_up(err, op_name, policy.backoff_ceiling(attempt)));
        }
        if Instant::now() + delay >= deadline {
            tracing::debug!(op = op_name, attempt, error = %err, "not retrying: deadline too close");
            return Err(gave_up(err, op_name, delay));
        }
        tracing::debug!(
            op = op_name,
            attempt,
            delay_ms = delay.as_millis() as u64,
            error = %err,
            "retrying AWS call"
        );
        tokio::time::sleep(delay).await;
    }
}

/// The error to return when retrying stops on a retryable error. Throttling becomes
/// [`AwsError::Overloaded`]: the caller should come back later (503 with `Retry-After`), not
/// treat it as AWS refusing the request. AWS's message is kept.
fn gave_up(err: AwsError, op_name: &str, wait: Duration) -> AwsError {
    match err {
        AwsError::Throttled(message) => AwsError::Overloaded {
            message: format!(
                "{op_name}: AWS kept throttling the target until the request's deadline or retry limit ({message})"
            ),
            retry_after_secs: wait.as_secs().max(1),
        },
        other => other,
    }
}

/// A uniformly random duration in `[0, ceiling]` ("full jitter": spreads out the retries of
/// many concurrent callers that were throttled at the same moment).
fn full_jitter(ceiling: Duration) -> Duration {
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn throttled() -> AwsError {
        AwsError::Throttled("Rate exceeded".into())
    }

    #[test]
    fn backoff_ceiling_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(p.backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(5), Duration::from_millis(1600));
        assert_eq!(p.backoff_ceiling(7), Duration::from_secs(5));
        assert_eq!(p.backoff_ceiling(1000), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_within_the_ceiling() {
        for _ in 0..1000 {
            assert!(full_jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
        assert_eq!(full_jitter(Duration::ZERO), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(30);
        let result = with_retries(&RetryPolicy::default(), deadline, "iam:GetUser", || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(throttled())
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(result, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(30);
        let result: Result<(), _> =
            with_retries(&RetryPolicy::default(), deadline, "iam:GetUser", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(AwsError::AccessDenied {
                    action: "iam:GetUser".into(),
                    message: "no".into(),
                })
            })
            .await;
        assert!(matches!(result, Err(AwsError::AccessDenied { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_bounded() {
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(3600);
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let result: Result<(), _> = with_retries(&policy, deadline, "iam:GetUser", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(throttled())
        })
        .await;
        // Still throttled at the last attempt: come back later, and AWS's words are kept.
        assert!(
            matches!(&result, Err(AwsError::Overloaded { message, retry_after_secs })
                if message.contains("Rate exceeded") && *retry_after_secs >= 1),
            "{result:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_sleeps_past_the_deadline_and_returns_the_last_error() {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(2);
        let policy = RetryPolicy {
            max_attempts: 1000,
            ..RetryPolicy::default()
        };
        let result: Result<(), _> = with_retries(&policy, deadline, "iam:GetUser", || async {
            Err(throttled())
        })
        .await;
        assert!(
            matches!(&result, Err(AwsError::Overloaded { message, .. }) if message.contains("Rate exceeded")),
            "{result:?}"
        );
        assert!(Instant::now() < deadline, "slept past the deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_attempt_is_cut_off_at_the_deadline() {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(2);
        let result: Result<(), _> =
            with_retries(&RetryPolicy::default(), deadline, "iam:GetUser", || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            })
            .await;
        assert!(
            matches!(&result, Err(AwsError::Timeout(m)) if m.contains("iam:GetUser")),
            "{result:?}"
        );
        assert_eq!(Instant::now(), deadline);
    }
}
