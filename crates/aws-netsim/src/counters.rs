//! What the proxy saw, per AWS action: calls, throttled calls, calls in flight and the most
//! that were in flight at once (the proof that parallel calls overlapped).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The counts of one action (or of all, in [`Counters::total`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounters {
    /// Calls received (throttled ones included).
    pub calls: u64,
    /// Calls answered with `Throttling`.
    pub throttled: u64,
    /// Calls received and not yet answered.
    pub in_flight: u64,
    /// The most calls in flight at one time.
    pub max_in_flight: u64,
}

impl ActionCounters {
    fn enter(&mut self) {
        self.calls += 1;
        self.in_flight += 1;
        self.max_in_flight = self.max_in_flight.max(self.in_flight);
    }
}

/// A snapshot of everything counted since the start (or the last reset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// By action (`CreateUser`; an empty string for a call without one).
    pub actions: BTreeMap<String, ActionCounters>,
    /// All actions together; `max_in_flight` here counts calls of any action at once.
    pub total: ActionCounters,
}

impl Counters {
    /// The counts of `action` (zeros when it was never called).
    pub fn action(&self, action: &str) -> ActionCounters {
        self.actions.get(action).copied().unwrap_or_default()
    }

    /// Throttled calls of any of `actions`.
    pub fn throttled_of(&self, actions: &[&str]) -> u64 {
        actions.iter().map(|a| self.action(a).throttled).sum()
    }
}

/// The live counters, shared by every connection task.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally(Arc<Mutex<Counters>>);

impl Tally {
    /// Counts a call of `action` as received and in flight until the guard is dropped.
    pub(crate) fn enter(&self, action: &str) -> InFlight {
        {
            let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
            c.total.enter();
            c.actions.entry(action.to_owned()).or_default().enter();
        }
        InFlight {
            tally: self.clone(),
            action: action.to_owned(),
        }
    }

    pub(crate) fn snapshot(&self) -> Counters {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Zeros every count but keeps the calls now in flight (they still leave).
    pub(crate) fn reset(&self) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let keep = |a: &ActionCounters| ActionCounters {
            in_flight: a.in_flight,
            max_in_flight: a.in_flight,
            ..ActionCounters::default()
        };
        c.total = keep(&c.total);
        c.actions.retain(|_, a| a.in_flight > 0);
        for a in c.actions.values_mut() {
            *a = keep(a);
        }
    }
}

/// A call in flight; counts it as answered when dropped, whatever way the call ended.
pub(crate) struct InFlight {
    tally: Tally,
    action: String,
}

impl InFlight {
    pub(crate) fn throttled(&self) {
        let mut c = self.tally.0.lock().unwrap_or_else(|p| p.into_inner());
        c.total.throttled += 1;
        c.actions.entry(self.action.clone()).or_default().throttled += 1;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut c = self.tally.0.lock().unwrap_or_else(|p| p.into_inner());
        c.total.in_flight = c.total.in_flight.saturating_sub(1);
        if let Some(a) = c.actions.get_mut(&self.action) {
            a.in_flight = a.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_in_flight_and_their_peak_are_counted() {
        let t = Tally::default();
        let a = t.enter("CreateUser");
        let b = t.enter("CreateUser");
        let c = t.enter("GetUser");
        b.throttled();
        let snap = t.snapshot();
        assert_eq!(
            snap.action("CreateUser"),
            ActionCounters {
                calls: 2,
                throttled: 1,
                in_flight: 2,
                max_in_flight: 2
            }
        );
        assert_eq!(snap.total.max_in_flight, 3);
        drop((a, b, c));
        let snap = t.snapshot();
        assert_eq!(snap.total.in_flight, 0);
        assert_eq!(snap.total.max_in_flight, 3, "the peak stays");
        assert_eq!(snap.throttled_of(&["CreateUser", "DeleteUser"]), 1);
        assert_eq!(snap.action("DeleteUser"), ActionCounters::default());
    }

    #[test]
    fn a_reset_keeps_only_what_is_in_flight() {
        let t = Tally::default();
        let busy = t.enter("AssumeRole");
        drop(t.enter("GetUser"));
        t.reset();
        let snap = t.snapshot();
        assert_eq!(snap.total.calls, 0);
        assert_eq!(snap.action("AssumeRole").in_flight, 1);
        assert!(!snap.actions.contains_key("GetUser"));
        drop(busy);
        assert_eq!(t.snapshot().total.in_flight, 0);
    }
}
