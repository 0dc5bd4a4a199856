//! What the simulated network does: how long a round trip takes, and which actions AWS
//! throttles at what rate.

use std::time::Duration;

/// IAM's write actions, the ones AWS throttles hardest (a low rate per account, shared by
/// them all): what issuing and tearing down an `iam_user` credential calls. Pass it to
/// [`NetSimConfig::throttle`] to give them one shared bucket, as IAM does.
pub const IAM_WRITE_ACTIONS: &[&str] = &[
    "CreateUser",
    "DeleteUser",
    "TagUser",
    "UntagUser",
    "CreateAccessKey",
    "DeleteAccessKey",
    "UpdateAccessKey",
    "CreateLoginProfile",
    "DeleteLoginProfile",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "PutUserPolicy",
    "DeleteUserPolicy",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
    "DeleteSigningCertificate",
    "DeleteSSHPublicKey",
    "DeleteServiceSpecificCredential",
    "PutRolePolicy",
    "DeleteRolePolicy",
];

/// The time a call spends on the network: a round trip of `rtt`, give or take up to `jitter`
/// (uniformly), never below zero. Half of it passes before the call reaches AWS (moto) and
/// half after its answer, as on a real link, so the throttle sees calls when AWS would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    pub rtt: Duration,
    pub jitter: Duration,
}

impl Latency {
    /// No added delay: a plain pass-through proxy.
    pub const NONE: Latency = Latency {
        rtt: Duration::ZERO,
        jitter: Duration::ZERO,
    };

    /// `rtt` ± `jitter`.
    pub fn new(rtt: Duration, jitter: Duration) -> Self {
        Latency { rtt, jitter }
    }

    /// One round trip drawn from the distribution.
    pub fn sample(&self) -> Duration {
        if self.jitter.is_zero() {
            return self.rtt;
        }
        let span = self.jitter.as_secs_f64();
        let offset = (fastrand::f64() * 2.0 - 1.0) * span;
        Duration::from_secs_f64((self.rtt.as_secs_f64() + offset).max(0.0))
    }
}

/// A token bucket's settings: `per_second` tokens added each second, at most `burst` held
/// (a full bucket at the start). Each call takes one token or is throttled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl RateLimit {
    pub fn new(per_second: f64, burst: u32) -> Self {
        RateLimit { per_second, burst }
    }

    /// Every call is throttled.
    pub fn refuse_all() -> Self {
        RateLimit {
            per_second: 0.0,
            burst: 0,
        }
    }
}

/// One throttle: the actions that share one bucket, and its rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Throttle {
    pub actions: Vec<String>,
    pub limit: RateLimit,
}

/// How a [`crate::NetSim`] behaves when it starts (the running proxy can change it).
#[derive(Debug, Clone, Default)]
pub struct NetSimConfig {
    pub latency: Latency,
    pub throttles: Vec<Throttle>,
    /// Keep every call's form body and signing key for [`crate::NetSim::calls`] (tests that
    /// read what moto does not check). Off by default: a long benchmark would hoard them.
    pub record_calls: bool,
}

impl NetSimConfig {
    /// A pass-through: no delay, no throttling, nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every call takes `rtt` ± `jitter` on the network.
    pub fn latency(mut self, rtt: Duration, jitter: Duration) -> Self {
        self.latency = Latency::new(rtt, jitter);
        self
    }

    /// `actions` share one token bucket of `limit` (call once per action for a bucket each).
    pub fn throttle(mut self, actions: &[&str], limit: RateLimit) -> Self {
        self.throttles.push(Throttle {
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            limit,
        });
        self
    }

    /// Keep every call for [`crate::NetSim::calls`].
    pub fn record_calls(mut self) -> Self {
        self.record_calls = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_stay_within_the_jitter_and_never_go_negative() {
        let ms = Duration::from_millis;
        let l = Latency::new(ms(20), ms(5));
        for _ in 0..1000 {
            let s = l.sample();
            assert!(s >= ms(15) && s <= ms(25), "{s:?}");
        }
        let wide = Latency::new(ms(1), ms(10));
        for _ in 0..1000 {
            assert!(wide.sample() <= ms(11));
        }
        assert_eq!(Latency::new(ms(7), Duration::ZERO).sample(), ms(7));
        assert_eq!(Latency::NONE.sample(), Duration::ZERO);
    }
}
