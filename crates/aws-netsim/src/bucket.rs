//! The token bucket behind each throttle, and the set of throttles a proxy applies.

use std::time::Instant;

use crate::config::{RateLimit, Throttle};

/// Tokens refill continuously at `per_second` up to `burst`; a call takes one or is refused.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        TokenBucket {
            limit,
            tokens: f64::from(limit.burst),
            refilled_at: now,
        }
    }

    /// Takes a token if there is one at `now`.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.refilled_at = self.refilled_at.max(now);
        self.tokens = (self.tokens + elapsed * self.limit.per_second.max(0.0))
            .min(f64::from(self.limit.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The throttles in force, each with its bucket. An action no throttle names is never
/// throttled; one named by several must get a token from each.
#[derive(Debug, Default)]
pub(crate) struct Throttles {
    buckets: Vec<(Vec<String>, TokenBucket)>,
}

impl Throttles {
    pub(crate) fn new(throttles: &[Throttle], now: Instant) -> Self {
        let mut t = Throttles::default();
        for throttle in throttles {
            t.add(throttle.clone(), now);
        }
        t
    }

    pub(crate) fn add(&mut self, throttle: Throttle, now: Instant) {
        self.buckets
            .push((throttle.actions, TokenBucket::new(throttle.limit, now)));
    }

    pub(crate) fn clear(&mut self) {
        self.buckets.clear();
    }

    /// Whether a call of `action` at `now` may pass (taking its tokens) or is throttled.
    pub(crate) fn admit(&mut self, action: &str, now: Instant) -> bool {
        let mut admitted = true;
        for (actions, bucket) in &mut self.buckets {
            if actions.iter().any(|a| a == action) && !bucket.take(now) {
                admitted = false;
            }
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut b = TokenBucket::new(RateLimit::new(10.0, 3), start);
        assert!((0..3).all(|_| b.take(start)), "the burst passes at once");
        assert!(!b.take(start), "then the bucket is empty");
        assert!(!b.take(start + Duration::from_millis(50)), "half a token");
        assert!(
            b.take(start + Duration::from_millis(100)),
            "a token per 100 ms"
        );
        assert!(!b.take(start + Duration::from_millis(100)));
        // A long pause refills up to the burst, no more.
        let later = start + Duration::from_secs(60);
        assert!((0..3).all(|_| b.take(later)));
        assert!(!b.take(later));
    }

    #[test]
    fn refuse_all_refuses_everything() {
        let now = Instant::now();
        let mut b = TokenBucket::new(RateLimit::refuse_all(), now);
        assert!(!b.take(now));
        assert!(!b.take(now + Duration::from_secs(3600)));
    }

    #[test]
    fn actions_of_one_throttle_share_its_bucket_and_others_pass() {
        let now = Instant::now();
        let mut t = Throttles::new(
            &[Throttle {
                actions: vec!["CreateUser".into(), "DeleteUser".into()],
                limit: RateLimit::new(0.0, 2),
            }],
            now,
        );
        assert!(t.admit("CreateUser", now));
        assert!(t.admit("DeleteUser", now));
        assert!(!t.admit("CreateUser", now), "the shared bucket is empty");
        assert!(
            t.admit("GetUser", now),
            "an unnamed action is never throttled"
        );
        t.clear();
        assert!(t.admit("CreateUser", now));
    }
}
