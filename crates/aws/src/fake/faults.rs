//! What both fakes share: call counting, fault injection, artificial latency and an in-flight
//! gauge (to prove that calls really overlap).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::AwsError;

/// Call counters and faults of one fake, keyed by action name ([`crate::ops`]).
#[derive(Debug)]
pub(crate) struct Faults {
    known_ops: &'static [&'static str],
    state: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    calls: HashMap<String, u64>,
    next: HashMap<String, VecDeque<AwsError>>,
    always: HashMap<String, AwsError>,
    /// Answers that replace the next successful result (the call took effect, the response
    /// was "lost").
    lost: HashMap<String, VecDeque<AwsError>>,
    latency: Option<Duration>,
    in_flight: usize,
    max_in_flight: usize,
}

/// Marks one call as in flight until dropped.
pub(crate) struct InFlight<'a> {
    faults: &'a Faults,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.faults.lock().in_flight -= 1;
    }
}

impl Faults {
    pub(crate) fn new(known_ops: &'static [&'static str]) -> Self {
        Self {
            known_ops,
            state: Mutex::new(FaultState::default()),
        }
    }

    /// The state; a panic in another test thread must not poison every later assertion.
    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Panics on an action this fake does not implement: a misspelt name in a test would
    /// otherwise inject a fault that never fires, and the test would pass for the wrong reason.
    fn check(&self, op: &str) {
        assert!(
            self.known_ops.contains(&op),
            "unknown operation {op:?}; use the constants in mayfly_aws::ops"
        );
    }

    /// Start of every fake call: counts it, marks it in flight, waits the artificial latency,
    /// then returns an injected fault if one is due. The guard must live until the call ends.
    pub(crate) async fn enter(&self, op: &'static str) -> Result<InFlight<'_>, AwsError> {
        let latency = {
            let mut state = self.lock();
            *state.calls.entry(op.to_owned()).or_default() += 1;
            state.in_flight += 1;
            state.max_in_flight = state.max_in_flight.max(state.in_flight);
            state.latency
        };
        let guard = InFlight { faults: self };
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
        // The lock is released before `guard` can drop (its drop takes the lock again).
        let fault = {
            let mut state = self.lock();
            match state.next.get_mut(op).and_then(VecDeque::pop_front) {
                Some(err) => Some(err),
                None => state.always.get(op).cloned(),
            }
        };
        match fault {
            Some(err) => Err(err),
            None => Ok(guard),
        }
    }

    /// Runs one fake call: [`Faults::enter`], then `body` (which changes the fake's state),
    /// then a queued lost response, if any, replaces the result.
    pub(crate) async fn run<T>(
        &self,
        op: &'static str,
        body: impl FnOnce() -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let call = self.enter(op).await?;
        let result = body();
        let lost = self.lock().lost.get_mut(op).and_then(VecDeque::pop_front);
        drop(call);
        match (result, lost) {
            (Ok(_), Some(err)) => Err(err),
            (result, _) => result,
        }
    }

    pub(crate) fn lose_response_next(&self, op: &str, err: AwsError) {
        self.check(op);
        self.lock()
            .lost
            .entry(op.to_owned())
            .or_default()
            .push_back(err);
    }

    pub(crate) fn fail_next(&self, op: &str, err: AwsError) {
        self.check(op);
        self.lock()
            .next
            .entry(op.to_owned())
            .or_default()
            .push_back(err);
    }

    pub(crate) fn fail_always(&self, op: &str, err: AwsError) {
        self.check(op);
        self.lock().always.insert(op.to_owned(), err);
    }

    pub(crate) fn throttle_next(&self, op: &str, n: usize) {
        self.check(op);
        let mut state = self.lock();
        let queue = state.next.entry(op.to_owned()).or_default();
        for _ in 0..n {
            queue.push_back(AwsError::Throttled(format!(
                "Rate exceeded ({op}, injected)"
            )));
        }
    }

    pub(crate) fn clear_faults(&self) {
        let mut state = self.lock();
        state.next.clear();
        state.always.clear();
        state.lost.clear();
    }

    pub(crate) fn set_latency(&self, latency: Option<Duration>) {
        self.lock().latency = latency;
    }

    pub(crate) fn calls(&self, op: &str) -> u64 {
        self.check(op);
        self.lock().calls.get(op).copied().unwrap_or(0)
    }

    pub(crate) fn total_calls(&self) -> u64 {
        self.lock().calls.values().sum()
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    pub(crate) fn reset_counters(&self) {
        let mut state = self.lock();
        state.calls.clear();
        state.max_in_flight = state.in_flight;
    }
}

/// Generates the fault-injection and counting methods on a fake that has a `faults` field.
macro_rules! fault_methods {
    () => {
        /// Makes the next call of `op` (e.g. [`crate::ops::CREATE_USER`]) fail with `err`.
        /// Several calls queue up. Panics on an unknown action name.
        pub fn fail_next(&self, op: &str, err: $crate::AwsError) {
            self.faults.fail_next(op, err);
        }

        /// Makes the next call of `op` take effect and then answer `err` anyway, as when the
        /// response is lost on the way back (use [`crate::AwsError::Timeout`] or
        /// [`crate::AwsError::Unreachable`]). A retry then sees the effect of the first call.
        pub fn lose_response_next(&self, op: &str, err: $crate::AwsError) {
            self.faults.lose_response_next(op, err);
        }

        /// Makes every call of `op` fail with `err` (until [`Self::clear_faults`]).
        pub fn fail_always(&self, op: &str, err: $crate::AwsError) {
            self.faults.fail_always(op, err);
        }

        /// Makes the next `n` calls of `op` fail with [`crate::AwsError::Throttled`].
        pub fn throttle_next(&self, op: &str, n: usize) {
            self.faults.throttle_next(op, n);
        }

        /// Removes every queued and permanent fault.
        pub fn clear_faults(&self) {
            self.faults.clear_faults();
        }

        /// Every call sleeps this long (tokio time, so `tokio::time::pause()` makes it free)
        /// before it answers; `None` for no delay.
        pub fn set_latency(&self, latency: Option<std::time::Duration>) {
            self.faults.set_latency(latency);
        }

        /// How many times `op` was called (failed calls included).
        pub fn calls(&self, op: &str) -> u64 {
            self.faults.calls(op)
        }

        /// Calls of all operations.
        pub fn total_calls(&self) -> u64 {
            self.faults.total_calls()
        }

        /// The most calls that were in flight at the same moment (use with a latency).
        pub fn max_in_flight(&self) -> usize {
            self.faults.max_in_flight()
        }

        /// Zeroes the call counters and the in-flight maximum.
        pub fn reset_counters(&self) {
            self.faults.reset_counters();
        }
    };
}

pub(crate) use fault_methods;
