//! Governing the calls made on one target under AWS's rate limits (issue #15).
//!
//! IAM throttles writes at low rates per account. When a thousand CI jobs start at once,
//! every request retrying on its own (8 attempts each, plus the revoker's tasks) multiplies
//! the load on an API that is already saying "slow down". A [`Governor`] per target puts
//! three things in front of its IAM and STS clients ([`Governed`]):
//!
//! - an [`AdaptiveLimiter`] per service, which paces calls once AWS throttles;
//! - a [`RetryBudget`] shared by every request on the target: once spent, a failed call is
//!   returned at once (not retried) until successes earn it back;
//! - the caller's deadline: a call that could only start after it is refused at once with
//!   [`AwsError::Overloaded`] (and when to retry), never left to hang.
//!
//! Who is calling travels with the task, not the arguments: [`with_retries`] puts each
//! attempt's deadline in scope ([`deadline_scope`]), and background work (revoker,
//! reconciler) runs inside [`background`], so it yields to requests.
//!
//! [`with_retries`]: crate::with_retries

mod budget;
mod governed;
mod limiter;

use std::future::Future;
use std::sync::Arc;

use tokio::time::Instant;

pub use budget::RetryBudget;
pub use governed::{GovernedIam, GovernedSts};
pub use limiter::{AdaptiveLimiter, LimiterSnapshot, Priority};

use crate::{AwsClients, AwsError};

tokio::task_local! {
    static DEADLINE: Instant;
    static PRIORITY: Priority;
}

/// Runs `f` as background work: its AWS calls yield to requests' (but are never starved).
pub async fn background<F: Future>(f: F) -> F::Output {
    PRIORITY.scope(Priority::Background, f).await
}

/// Runs `f` with `deadline` as the time by which its AWS calls must have started.
pub async fn deadline_scope<F: Future>(deadline: Instant, f: F) -> F::Output {
    DEADLINE.scope(deadline, f).await
}

fn current_priority() -> Priority {
    PRIORITY.try_with(|p| *p).unwrap_or(Priority::Foreground)
}

fn current_deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// The limiters and the retry budget of one target.
#[derive(Debug, Default)]
pub struct Governor {
    pub iam: AdaptiveLimiter,
    pub sts: AdaptiveLimiter,
    pub budget: RetryBudget,
}

impl Governor {
    pub fn new() -> Arc<Governor> {
        Arc::new(Governor::default())
    }

    /// `clients` with every call going through this governor.
    pub fn govern(self: &Arc<Self>, clients: AwsClients) -> AwsClients {
        AwsClients {
            iam: Arc::new(GovernedIam::new(clients.iam, self.clone())),
            sts: Arc::new(GovernedSts::new(clients.sts, self.clone())),
        }
    }

    /// One call through `limiter`: waits for a token (or refuses when it would come too
    /// late), makes the call, and learns from the answer.
    async fn run<T, Fut>(
        &self,
        limiter: &AdaptiveLimiter,
        op: &str,
        call: Fut,
    ) -> Result<T, AwsError>
    where
        Fut: Future<Output = Result<T, AwsError>>,
    {
        if let Err(wait) = limiter
            .acquire(current_priority(), current_deadline())
            .await
        {
            return Err(AwsError::Overloaded {
                message: format!(
                    "{op}: AWS is throttling this target and the call could not start before the request's deadline"
                ),
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        let sent_at = Instant::now();
        match call.await {
            Ok(v) => {
                limiter.succeeded();
                self.budget.earn();
                Ok(v)
            }
            Err(e) => {
                let throttled = matches!(e, AwsError::Throttled(_));
                if throttled {
                    limiter.throttled(sent_at);
                }
                if e.is_retryable() && !self.budget.pay_for_retry(throttled) {
                    // Retrying now would only add to the load: fail fast, say when to return.
                    return Err(AwsError::Overloaded {
                        message: format!(
                            "{op}: AWS keeps failing or throttling this target and the gateway's retry budget for it is spent ({e})"
                        ),
                        retry_after_secs: 2,
                    });
                }
                Err(e)
            }
        }
    }
}
