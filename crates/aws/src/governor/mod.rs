//! Governing the calls made on one target under AWS's rate limits (issue #15).
//!
//! IAM throttles writes at low rates per account. When a thousand CI jobs start at once,
//! every request retrying on its own (8 attempts each, plus the revoker's tasks) multiplies
//! the load on an API that is already saying "slow down". A [`Governor`] per target puts
//! three things in front of its IAM and STS clients ([`Governed`]):
//!
//! - an [`AdaptiveLimiter`] for IAM's writes, one for its reads and one for STS, which pace
//!   calls once AWS throttles. IAM throttles writes at far lower rates than reads: with one
//!   limiter for both, a throttled write would also slow the reads, and the limiter's rate
//!   would swing with the mix of reads and writes (a revocation makes eight reads and four
//!   writes) instead of settling on the write rate AWS allows;
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

use std::cell::{Cell, RefCell};
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
    static RESERVED: Reserved;
}

/// IAM write tokens an operation reserved up front ([`crate::IamApi::reserve_writes`]) and
/// has not spent yet, with the governor they came from (for the refund).
#[derive(Default)]
struct Reserved {
    writes: Cell<u32>,
    from: RefCell<Option<Arc<Governor>>>,
}

/// Runs `f` so that it can reserve IAM writes ([`crate::IamApi::reserve_writes`]): its write
/// calls then spend the reservation instead of waiting for the limiter, one call each, and
/// what is left unspent when `f` ends (it failed early) goes back to the limiter. The calls
/// that `f` runs concurrently (`join`) share it; tasks it spawns do not.
pub async fn reservation_scope<F: Future>(f: F) -> F::Output {
    RESERVED
        .scope(Reserved::default(), async {
            let out = f.await;
            RESERVED.with(|r| {
                let left = r.writes.replace(0);
                if let Some(governor) = r.from.borrow_mut().take() {
                    governor.iam_write.refund(left);
                }
            });
            out
        })
        .await
}

/// Drops what is left of the current task's reservation, without a refund.
fn cancel_reserved_writes() {
    let _ = RESERVED.try_with(|r| r.writes.set(0));
}

/// Spends one reserved write of the current task, if it has one.
fn spend_reserved_write() -> bool {
    RESERVED
        .try_with(|r| {
            let left = r.writes.get();
            if left > 0 {
                r.writes.set(left - 1);
            }
            left > 0
        })
        .unwrap_or(false)
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
    /// IAM's writes (everything but `Get*` and `List*`).
    pub iam_write: AdaptiveLimiter,
    /// IAM's reads.
    pub iam_read: AdaptiveLimiter,
    pub sts: AdaptiveLimiter,
    pub budget: RetryBudget,
}

impl Governor {
    pub fn new() -> Arc<Governor> {
        Arc::new(Governor::default())
    }

    /// A governor whose IAM writes start paced at `iam_writes_per_second`, the rate the
    /// operator knows AWS allows the target's account (see [`AdaptiveLimiter::starting_at`]);
    /// `None`: learnt from throttling, as [`Self::new`].
    pub fn with_iam_write_rate(iam_writes_per_second: Option<f64>) -> Arc<Governor> {
        Arc::new(Governor {
            iam_write: AdaptiveLimiter::starting_at(iam_writes_per_second),
            ..Governor::default()
        })
    }

    /// The limiter an IAM action (in [`crate::ops`] spelling) goes through.
    fn iam_limiter(&self, op: &str) -> &AdaptiveLimiter {
        if crate::ops::is_read(op) {
            &self.iam_read
        } else {
            &self.iam_write
        }
    }

    /// Takes `writes` IAM write tokens for the current task's operation (see
    /// [`crate::IamApi::reserve_writes`]). Outside a [`reservation_scope`] there is nowhere to
    /// keep them, and each call waits on its own as usual.
    async fn reserve_writes(
        self: &Arc<Self>,
        writes: u32,
        deadline: Instant,
    ) -> Result<(), AwsError> {
        if writes == 0 || RESERVED.try_with(|_| ()).is_err() {
            return Ok(());
        }
        if let Err(wait) = self
            .iam_write
            .acquire_n(current_priority(), writes, Some(deadline))
            .await
        {
            return Err(AwsError::Overloaded {
                message: format!(
                    "AWS is throttling this target's IAM writes and the {writes} this credential needs could not all be made before the request's deadline"
                ),
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        RESERVED.with(|r| {
            r.writes.set(r.writes.get() + writes);
            *r.from.borrow_mut() = Some(self.clone());
        });
        Ok(())
    }

    /// The limiter an STS action goes through (one for them all).
    fn sts_limiter(&self, _op: &str) -> &AdaptiveLimiter {
        &self.sts
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
        let write = std::ptr::eq(limiter, &self.iam_write);
        let prepaid = write && spend_reserved_write();
        if prepaid {
            // Paid for when the operation was admitted.
        } else if let Err(wait) = limiter
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
                    if write {
                        // The rate the writes were reserved at was too high: the retries and
                        // the operation's remaining writes wait for the slowed limiter.
                        cancel_reserved_writes();
                    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fake::{FakeIam, FakeSts};
    use crate::{ops, CreateUser};

    fn input(name: &str) -> CreateUser {
        CreateUser {
            name: name.into(),
            path: "/mayfly/".into(),
            permissions_boundary: None,
            tags: Vec::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_write_gives_up_the_reservation_so_its_retry_waits_for_the_limiter() {
        let iam = Arc::new(FakeIam::new());
        let governor = Governor::new();
        let clients = governor.govern(AwsClients {
            iam: iam.clone(),
            sts: Arc::new(FakeSts::new()),
        });
        governor.iam_write.throttled(Instant::now());
        iam.throttle_next(ops::CREATE_USER, 1);
        let deadline = Instant::now() + Duration::from_secs(60);
        reservation_scope(async {
            clients.iam.reserve_writes(3, deadline).await.unwrap();
            assert!(clients.iam.create_user(&input("u")).await.is_err());
            // Two reserved writes were left; the throttle took them back, so the retry
            // waits for a token (at most 0.5/s) instead of going straight out.
            let before = Instant::now();
            clients.iam.create_user(&input("u")).await.unwrap();
            assert!(
                Instant::now() - before >= Duration::from_secs(1),
                "the retry went out at once"
            );
        })
        .await;
        assert_eq!(iam.calls(ops::CREATE_USER), 2);
    }
}
