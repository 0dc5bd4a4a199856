//! A retry budget shared by every request on one target, as the AWS SDKs' standard retry mode
//! keeps one: a retry costs tokens (a throttle more), a success earns one back. When AWS is
//! throttling, every waiting request retrying on its own would multiply the load; once the
//! budget is spent, failures are returned at once instead of retried.

use std::sync::Mutex;

/// Tokens the budget holds when full.
pub const CAPACITY: u32 = 500;
/// What a retry after an error costs.
pub const RETRY_COST: u32 = 5;
/// What a retry after a throttle costs.
pub const THROTTLE_COST: u32 = 10;

/// See the module documentation.
#[derive(Debug)]
pub struct RetryBudget {
    tokens: Mutex<u32>,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            tokens: Mutex::new(CAPACITY),
        }
    }
}

impl RetryBudget {
    /// Pays for the retry of a failed call; `false`: the budget is spent, do not retry.
    pub fn pay_for_retry(&self, throttled: bool) -> bool {
        let cost = if throttled { THROTTLE_COST } else { RETRY_COST };
        let mut t = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if *t >= cost {
            *t -= cost;
            true
        } else {
            false
        }
    }

    /// A call succeeded: one token back.
    pub fn earn(&self) {
        let mut t = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        *t = (*t + 1).min(CAPACITY);
    }

    pub fn available(&self) -> u32 {
        *self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_spend_the_budget_and_successes_refill_it() {
        let b = RetryBudget::default();
        let mut paid = 0;
        while b.pay_for_retry(true) {
            paid += 1;
        }
        assert_eq!(paid, CAPACITY / THROTTLE_COST);
        assert!(!b.pay_for_retry(false), "spent");
        for _ in 0..RETRY_COST {
            b.earn();
        }
        assert!(b.pay_for_retry(false));
        for _ in 0..10 * CAPACITY {
            b.earn();
        }
        assert_eq!(b.available(), CAPACITY);
    }
}
