//! Throttling of failed logins at `/auth`.
//!
//! Two rules, both about *failures* and both answered with 429 and `Retry-After`:
//!
//! - **Per (access id, client address)**: the first [`FREE_FAILURES`] wrong keys cost nothing;
//!   after that each further try must wait a delay that doubles with every consecutive failure
//!   (1 s, 2 s, 4 s ... up to [`MAX_DELAY`]). A success resets the pair. The correct key from
//!   another address is never slowed by someone else's failures, so nobody can lock an access
//!   id out by guessing at it (the old rule, a hard lockout of the id, could).
//! - **Per client address, across ids** (spraying one address over many ids): a bucket of
//!   [`CLIENT_BURST`] failures that refills one failure every [`CLIENT_REFILL`]. An empty bucket
//!   refuses logins from that address until it refills; successes do not refill it.
//!
//! The client address is the TCP peer, or the source address a trusted proxy gave in its
//! PROXY protocol header (see the gateway's `listener`). Counts live in this process's memory, in maps
//! bounded to [`MAX_ENTRIES`] entries (idle entries are forgotten after [`FORGET_AFTER`]; when a
//! map is full, the older half goes). With several gateways a client gets each gateway's
//! allowance, which keeps guessing 256-bit keys hopeless all the same.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Consecutive failures of one (id, client) pair that are not slowed down.
pub const FREE_FAILURES: u32 = 3;
/// The delay after the first failure beyond the free ones; it doubles with each further one.
pub const BASE_DELAY: Duration = Duration::from_secs(1);
/// The longest delay between two tries of one (id, client) pair.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// Failures one client address may make across all ids in a burst.
pub const CLIENT_BURST: u32 = 60;
/// How fast a client's burst allowance comes back: one failure per this time.
pub const CLIENT_REFILL: Duration = Duration::from_secs(5);
/// An entry untouched this long is forgotten (its delay has long passed).
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Largest number of entries per map.
pub const MAX_ENTRIES: usize = 100_000;

/// Consecutive failures of one (id, client) pair.
#[derive(Debug, Clone, Copy)]
struct Streak {
    failures: u32,
    last: Instant,
}

impl Streak {
    /// When the next try may come, if it must wait at all.
    fn next_allowed(&self) -> Option<Instant> {
        // The free failures and the first try after them cost nothing; each failure beyond
        // that doubles the wait.
        let beyond = self.failures.checked_sub(FREE_FAILURES + 1)?;
        let delay = BASE_DELAY
            .checked_mul(1u32 << beyond.min(16))
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY);
        Some(self.last + delay)
    }
}

/// A client's failure allowance across ids (a token bucket counted in failures).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Failures charged and not yet refilled, as of `at`.
    used: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(&self, now: Instant) -> f64 {
        let back = now.duration_since(self.at).as_secs_f64() / CLIENT_REFILL.as_secs_f64();
        (self.used - back).max(0.0)
    }
}

/// The login throttle: what `/auth` asks before checking a key and tells after.
#[derive(Default)]
pub struct AuthLimiter {
    pairs: Mutex<HashMap<(String, String), Streak>>,
    clients: Mutex<HashMap<String, Bucket>>,
}

/// Keeps a map within [`MAX_ENTRIES`]: drops idle entries, then (if still full) the older half.
fn make_room<K: Eq + Hash, V>(
    map: &mut HashMap<K, V>,
    now: Instant,
    last_used: impl Fn(&V) -> Instant,
) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    map.retain(|_, v| now.duration_since(last_used(v)) < FORGET_AFTER);
    if map.len() >= MAX_ENTRIES {
        let mut times: Vec<Instant> = map.values().map(&last_used).collect();
        let mid = times.len() / 2;
        let (_, median, _) = times.select_nth_unstable(mid);
        let median = *median;
        map.retain(|_, v| last_used(v) > median);
    }
}

impl AuthLimiter {
    /// `Err(wait)` when a login for `access_id` from `client` must not be tried now.
    pub fn check(&self, access_id: &str, client: &str) -> Result<(), Duration> {
        self.check_at(access_id, client, Instant::now())
    }

    /// Records a wrong key (or unknown id).
    pub fn failed(&self, access_id: &str, client: &str) {
        self.failed_at(access_id, client, Instant::now());
    }

    /// Records a success: the pair's streak ends (the client's bucket is left alone).
    pub fn succeeded(&self, access_id: &str, client: &str) {
        self.pairs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(access_id.to_owned(), client.to_owned()));
    }

    fn check_at(&self, access_id: &str, client: &str, now: Instant) -> Result<(), Duration> {
        let mut wait = Duration::ZERO;
        {
            let pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(next) = pairs
                .get(&(access_id.to_owned(), client.to_owned()))
                .and_then(Streak::next_allowed)
            {
                wait = wait.max(next.saturating_duration_since(now));
            }
        }
        {
            let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(bucket) = clients.get(client) {
                let used = bucket.refilled(now);
                let over = used + 1.0 - f64::from(CLIENT_BURST);
                if over > 0.0 {
                    wait = wait.max(CLIENT_REFILL.mul_f64(over));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait)
        }
    }

    fn failed_at(&self, access_id: &str, client: &str, now: Instant) {
        {
            let mut pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
            make_room(&mut pairs, now, |s| s.last);
            let streak = pairs
                .entry((access_id.to_owned(), client.to_owned()))
                .or_insert(Streak {
                    failures: 0,
                    last: now,
                });
            if now.duration_since(streak.last) >= FORGET_AFTER {
                streak.failures = 0;
            }
            streak.failures = streak.failures.saturating_add(1);
            streak.last = now;
        }
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        make_room(&mut clients, now, |b| b.at);
        let bucket = clients
            .entry(client.to_owned())
            .or_insert(Bucket { used: 0.0, at: now });
        bucket.used = bucket.refilled(now) + 1.0;
        bucket.at = now;
    }

    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        (
            self.pairs.lock().unwrap().len(),
            self.clients.lock().unwrap().len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_per_id_and_client_and_a_success_resets_it() {
        let l = AuthLimiter::default();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert!(l.check_at("p-a", "1.1.1.1", t0).is_ok());
            l.failed_at("p-a", "1.1.1.1", t0);
        }
        // The free failures are used: the next try waits 1 s, then 2 s, 4 s ...
        assert!(l.check_at("p-a", "1.1.1.1", t0).is_ok());
        l.failed_at("p-a", "1.1.1.1", t0);
        assert_eq!(
            l.check_at("p-a", "1.1.1.1", t0),
            Err(Duration::from_secs(1))
        );
        let t1 = t0 + Duration::from_secs(1);
        assert!(l.check_at("p-a", "1.1.1.1", t1).is_ok());
        l.failed_at("p-a", "1.1.1.1", t1);
        assert_eq!(
            l.check_at("p-a", "1.1.1.1", t1),
            Err(Duration::from_secs(2))
        );
        // The same id from another client, and another id from this client, are not slowed.
        assert!(l.check_at("p-a", "2.2.2.2", t1).is_ok());
        assert!(l.check_at("p-b", "1.1.1.1", t1).is_ok());
        l.succeeded("p-a", "1.1.1.1");
        assert!(l.check_at("p-a", "1.1.1.1", t1).is_ok());
    }

    #[test]
    fn the_delay_is_capped() {
        let l = AuthLimiter::default();
        let t0 = Instant::now();
        for _ in 0..(FREE_FAILURES + 30) {
            l.failed_at("p-a", "1.1.1.1", t0);
        }
        assert_eq!(l.check_at("p-a", "1.1.1.1", t0), Err(MAX_DELAY));
        assert!(l.check_at("p-a", "1.1.1.1", t0 + MAX_DELAY).is_ok());
    }

    #[test]
    fn spraying_many_ids_from_one_client_is_limited_and_refills() {
        let l = AuthLimiter::default();
        let t0 = Instant::now();
        for i in 0..CLIENT_BURST {
            assert!(l.check_at(&format!("p-{i}"), "9.9.9.9", t0).is_ok());
            l.failed_at(&format!("p-{i}"), "9.9.9.9", t0);
        }
        let wait = l.check_at("p-new", "9.9.9.9", t0).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= CLIENT_REFILL, "{wait:?}");
        assert!(l.check_at("p-new", "8.8.8.8", t0).is_ok(), "other clients");
        assert!(l.check_at("p-new", "9.9.9.9", t0 + CLIENT_REFILL).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let l = AuthLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_ENTRIES + 10) {
            let t = t0 + Duration::from_micros(i as u64);
            l.failed_at("p-a", &format!("c{i}"), t);
        }
        let (pairs, clients) = l.len();
        assert!(
            pairs <= MAX_ENTRIES && clients <= MAX_ENTRIES,
            "{pairs} {clients}"
        );
        // The newest entries survive.
        let last = format!("c{}", MAX_ENTRIES + 9);
        assert!(l.pairs.lock().unwrap().contains_key(&("p-a".into(), last)));
    }
}
