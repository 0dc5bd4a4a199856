//! Rate limiting of failed logins at `/auth`, per access id and per client address, so that
//! guessing keys is slow even from many addresses or against many ids.
//!
//! Counts live in this process's memory: with several gateways an attacker gets each
//! gateway's allowance, which keeps guessing 256-bit keys hopeless all the same.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failures allowed per window before requests are refused.
pub const MAX_FAILURES_PER_ID: u32 = 10;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct AuthLimiter {
    by_id: Mutex<HashMap<String, (u32, Instant)>>,
    by_address: Mutex<HashMap<String, (u32, Instant)>>,
}

fn over(
    map: &Mutex<HashMap<String, (u32, Instant)>>,
    key: &str,
    max: u32,
    now: Instant,
) -> Option<Duration> {
    let map = map.lock().unwrap_or_else(|p| p.into_inner());
    match map.get(key) {
        Some((count, start)) if now.duration_since(*start) < WINDOW && *count >= max => {
            Some(WINDOW - now.duration_since(*start))
        }
        _ => None,
    }
}

fn bump(map: &Mutex<HashMap<String, (u32, Instant)>>, key: &str, now: Instant) {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() > 100_000 {
        map.retain(|_, (_, start)| now.duration_since(*start) < WINDOW);
    }
    let entry = map.entry(key.to_owned()).or_insert((0, now));
    if now.duration_since(entry.1) >= WINDOW {
        *entry = (0, now);
    }
    entry.0 += 1;
}

impl AuthLimiter {
    /// `Some(wait)` when this id or address has failed too often lately.
    pub fn check(&self, access_id: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        over(&self.by_id, access_id, MAX_FAILURES_PER_ID, now)
            .or_else(|| over(&self.by_address, address, MAX_FAILURES_PER_ADDRESS, now))
    }

    pub fn failed(&self, access_id: &str, address: &str) {
        let now = Instant::now();
        bump(&self.by_id, access_id, now);
        bump(&self.by_address, address, now);
    }

    pub fn succeeded(&self, access_id: &str) {
        self.by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(access_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_per_id_and_per_address_are_limited_and_success_resets_the_id() {
        let l = AuthLimiter::default();
        for _ in 0..MAX_FAILURES_PER_ID {
            assert!(l.check("p-a", "1.1.1.1").is_none());
            l.failed("p-a", "1.1.1.1");
        }
        assert!(
            l.check("p-a", "2.2.2.2").is_some(),
            "per id, from any address"
        );
        assert!(l.check("p-b", "3.3.3.3").is_none());
        l.succeeded("p-a");
        assert!(l.check("p-a", "2.2.2.2").is_none());
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            l.failed(&format!("p-{i}"), "9.9.9.9");
        }
        assert!(
            l.check("p-new", "9.9.9.9").is_some(),
            "per address, for any id"
        );
    }
}
