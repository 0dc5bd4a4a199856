//! A client-side rate limiter that adapts to throttling, as the AWS SDKs' adaptive retry mode
//! does: off until AWS first throttles, then a token bucket whose rate drops by a factor on
//! each throttle and grows back along a cubic curve (CUBIC, as in TCP) while calls succeed.
//! Off again after a quiet minute, so a burst after a calm period is not held to a stale rate.
//!
//! Two priorities share it: background work (the revoker, the reconciler) yields to requests,
//! but gets every [`BACKGROUND_EVERY`]th token while both wait, so it never starves.
//!
//! Headroom: while requests and background work both use a limiter, its rate is held at
//! [`HEADROOM`] of the rate AWS last throttled instead of probing past it every few seconds.
//! A background drain alone keeps AWS's bucket empty by probing; a request whose call then
//! meets a throttle backs off for hundreds of milliseconds. Held just below the edge, AWS's
//! bucket refills and requests' calls go through; every [`PROBE_AFTER`] of holding, one probe
//! past the edge still finds out whether AWS now allows more.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Who is asking for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A request a client waits for.
    Foreground,
    /// Work that can wait (revocation, reconciliation).
    Background,
}

/// The rate falls to this fraction of what it was on each throttle.
const BETA: f64 = 0.7;
/// How fast the rate grows back (the SDKs' scale constant).
const SCALE: f64 = 0.4;
/// The slowest the limiter ever goes, in calls per second.
const MIN_RATE: f64 = 0.5;
/// Quiet time after which the limiter switches itself off.
const QUIET: Duration = Duration::from_secs(60);
/// While requests wait, background work gets one token in this many.
pub const BACKGROUND_EVERY: u32 = 4;
/// The window over which the sending rate is measured.
const METER_WINDOW: Duration = Duration::from_millis(500);
/// While requests and background work contend, the rate is held at this fraction of the
/// rate of the last throttle.
pub const HEADROOM: f64 = 0.95;
/// Both kinds of caller seen within this window: they contend.
const CONTENDED: Duration = Duration::from_secs(10);
/// After this long held below the edge, the limiter probes past it once.
pub const PROBE_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct State {
    enabled: bool,
    /// Tokens per second while enabled.
    rate: f64,
    tokens: f64,
    refilled_at: Instant,
    /// The rate when AWS last throttled, and when.
    last_max: f64,
    throttled_at: Instant,
    /// Where the cubic curve's clock starts: the last throttle, or (while the rate is held
    /// at the headroom ceiling) the point where the curve meets the ceiling, so lifting the
    /// ceiling resumes the curve from there instead of from far up it.
    curve_from: Instant,
    /// When the rate was first held at the ceiling since the last throttle.
    held_since: Option<Instant>,
    /// The ceiling is lifted until the next throttle (a probe past the edge).
    probing: bool,
    /// When a request and when background work last got a token.
    foreground_at: Option<Instant>,
    background_at: Option<Instant>,
    /// Calls sent in the current window, and the smoothed rate of past windows.
    sent_in_window: u32,
    window_start: Instant,
    measured: f64,
    waiting_foreground: u32,
    waiting_background: u32,
    /// Tokens given to requests in a row while background work waited.
    foreground_streak: u32,
    /// The rate the operator says AWS allows: the limiter starts on at it, and returns to it
    /// (instead of switching off) after a quiet minute.
    known: Option<f64>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct AdaptiveLimiter {
    state: Mutex<State>,
}

/// What a limiter looks like now (for tests and metrics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterSnapshot {
    pub enabled: bool,
    pub rate: f64,
}

impl Default for AdaptiveLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl AdaptiveLimiter {
    pub fn new() -> Self {
        Self::starting_at(None)
    }

    /// A limiter for an API whose rate AWS is known to allow (`calls_per_second`, from the
    /// operator): on from the start, so the first burst is paced before AWS throttles it,
    /// still cut by throttles and grown back by successes, and back at that rate (not off)
    /// after a quiet minute. `None`: [`Self::new`].
    pub fn starting_at(calls_per_second: Option<f64>) -> Self {
        let now = Instant::now();
        let known = calls_per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| r.max(MIN_RATE));
        AdaptiveLimiter {
            state: Mutex::new(State {
                enabled: known.is_some(),
                rate: known.unwrap_or(0.0),
                tokens: known.unwrap_or(0.0),
                refilled_at: now,
                last_max: known.unwrap_or(0.0),
                throttled_at: now,
                curve_from: now,
                held_since: None,
                probing: false,
                foreground_at: None,
                background_at: None,
                sent_in_window: 0,
                window_start: now,
                measured: 0.0,
                waiting_foreground: 0,
                waiting_background: 0,
                foreground_streak: 0,
                known,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> LimiterSnapshot {
        let s = self.lock();
        LimiterSnapshot {
            enabled: s.enabled,
            rate: s.rate,
        }
    }

    /// Waits for a token. `Err(wait)`: the token would come only after `deadline`; the
    /// caller should give up now and say when to come back.
    pub async fn acquire(
        &self,
        priority: Priority,
        deadline: Option<Instant>,
    ) -> Result<(), Duration> {
        self.acquire_n(priority, 1, deadline).await
    }

    /// Waits for `cost` tokens at once: the calls of one operation that must all be made for
    /// it to succeed (an `iam_user` issue's writes), so that an operation which cannot finish
    /// in time is refused before its first call rather than after, when undoing it would cost
    /// calls too. The tokens are taken as soon as one is there, the rest as a debt that
    /// later callers wait out: a cost above the bucket's size is still served.
    pub async fn acquire_n(
        &self,
        priority: Priority,
        cost: u32,
        deadline: Option<Instant>,
    ) -> Result<(), Duration> {
        let cost = f64::from(cost.max(1));
        let mut waiting: Option<WaitGuard<'_>> = None;
        loop {
            let wait = {
                let mut s = self.lock();
                let now = Instant::now();
                s.refill(now);
                if !s.enabled {
                    s.count_sent(now);
                    return Ok(());
                }
                // Background work is owed a token after a streak of requests; until it takes
                // it, requests wait.
                let owed = s.waiting_background > 0 && s.foreground_streak >= BACKGROUND_EVERY - 1;
                let turn = match priority {
                    Priority::Foreground => !owed,
                    Priority::Background => s.waiting_foreground == 0 || owed,
                };
                if turn && s.tokens >= 1.0 {
                    s.tokens -= cost;
                    match priority {
                        Priority::Foreground if s.waiting_background > 0 => {
                            s.foreground_streak += 1
                        }
                        Priority::Foreground => {}
                        Priority::Background => s.foreground_streak = 0,
                    }
                    match priority {
                        Priority::Foreground => s.foreground_at = Some(now),
                        Priority::Background => s.background_at = Some(now),
                    }
                    s.count_sent(now);
                    return Ok(());
                }
                // Those ahead in the queue come first: the estimate counts them.
                let ahead = match (priority, &waiting) {
                    (Priority::Foreground, None) => s.waiting_foreground,
                    (Priority::Foreground, Some(_)) => s.waiting_foreground.saturating_sub(1),
                    (Priority::Background, _) => s.waiting_foreground + s.waiting_background,
                };
                let needed = f64::from(ahead) + cost - s.tokens;
                let estimate = Duration::from_secs_f64((needed / s.rate).max(0.001));
                if deadline.is_some_and(|d| now + estimate > d) {
                    return Err(estimate);
                }
                if waiting.is_none() {
                    match priority {
                        Priority::Foreground => s.waiting_foreground += 1,
                        Priority::Background => s.waiting_background += 1,
                    }
                }
                let own = Duration::from_secs_f64(((1.0 - s.tokens) / s.rate).max(0.001));
                own.min(Duration::from_millis(50))
            };
            if waiting.is_none() {
                waiting = Some(WaitGuard {
                    limiter: self,
                    priority,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Gives back `tokens` taken by [`Self::acquire_n`] for calls that were never made (the
    /// operation failed early), up to the bucket's size.
    pub fn refund(&self, tokens: u32) {
        let mut s = self.lock();
        if s.enabled && tokens > 0 {
            let now = Instant::now();
            s.refill(now);
            s.tokens = (s.tokens + f64::from(tokens)).min(s.rate.max(1.0));
        }
    }

    /// AWS throttled a call sent at `sent_at`: slow down. A call sent before the last cut
    /// tells nothing new (it left at the old pace), so a burst of calls in flight when AWS
    /// began throttling cuts the rate once, not once per call.
    pub fn throttled(&self, sent_at: Instant) {
        let mut s = self.lock();
        let now = Instant::now();
        if s.enabled && sent_at < s.throttled_at {
            return;
        }
        s.refill(now);
        let base = if s.enabled {
            s.rate
        } else {
            // First throttle: start from what was actually being sent.
            s.measured
                .max(f64::from(s.sent_in_window) / METER_WINDOW.as_secs_f64())
        };
        s.last_max = base.max(MIN_RATE);
        s.rate = (base * BETA).max(MIN_RATE);
        s.throttled_at = now;
        s.curve_from = now;
        s.held_since = None;
        s.probing = false;
        if !s.enabled {
            s.enabled = true;
            s.tokens = 0.0;
        }
        s.tokens = s.tokens.min(s.rate.max(1.0));
    }

    /// A call succeeded: grow back towards (and past) the rate of the last throttle.
    pub fn succeeded(&self) {
        let mut s = self.lock();
        if !s.enabled {
            return;
        }
        let now = Instant::now();
        s.refill(now);
        let t = now.duration_since(s.throttled_at).as_secs_f64();
        if t > QUIET.as_secs_f64() {
            match s.known {
                Some(known) => {
                    s.rate = known;
                    s.last_max = known;
                }
                None => s.enabled = false,
            }
            return;
        }
        let k = (s.last_max * (1.0 - BETA) / SCALE).cbrt();
        let c = now.duration_since(s.curve_from).as_secs_f64();
        let cubic = SCALE * (c - k).powi(3) + s.last_max;
        let rate = match s.known {
            // Before any throttle, the known rate is the rate: no probing above it.
            Some(known) if s.last_max == known && c < k => known,
            _ => cubic.max(MIN_RATE),
        };
        let ceiling = (HEADROOM * s.last_max).max(MIN_RATE);
        if rate > ceiling && !s.probing && s.contended(now) {
            s.rate = ceiling;
            // Hold the curve's clock where the curve meets the ceiling.
            let meets = k - ((s.last_max - ceiling) / SCALE).cbrt();
            s.curve_from = now - Duration::from_secs_f64(meets.max(0.0));
            let held = *s.held_since.get_or_insert(now);
            if now.duration_since(held) >= PROBE_AFTER {
                s.probing = true;
            }
        } else {
            if !s.contended(now) {
                // A later contention holds for its own PROBE_AFTER before probing.
                s.held_since = None;
            }
            s.rate = rate;
        }
    }
}

impl State {
    /// Requests and background work have both taken tokens lately.
    fn contended(&self, now: Instant) -> bool {
        let recent = |at: Option<Instant>| at.is_some_and(|at| now.duration_since(at) < CONTENDED);
        recent(self.foreground_at) && recent(self.background_at)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.refilled_at = now;
        if self.enabled {
            // A burst of at most one second's worth (and at least one call).
            self.tokens = (self.tokens + elapsed * self.rate).min(self.rate.max(1.0));
        }
    }

    fn count_sent(&mut self, now: Instant) {
        let since = now.duration_since(self.window_start);
        if since >= METER_WINDOW {
            let current = f64::from(self.sent_in_window) / since.as_secs_f64();
            self.measured = 0.8 * self.measured + 0.2 * current;
            self.sent_in_window = 0;
            self.window_start = now;
        }
        self.sent_in_window += 1;
    }
}

/// Takes a waiter off the count however its wait ends (a token, a deadline, cancellation).
struct WaitGuard<'a> {
    limiter: &'a AdaptiveLimiter,
    priority: Priority,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        let mut s = self.limiter.lock();
        match self.priority {
            Priority::Foreground => s.waiting_foreground = s.waiting_foreground.saturating_sub(1),
            Priority::Background => s.waiting_background = s.waiting_background.saturating_sub(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Mutex,
    };

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn off_until_the_first_throttle_then_paced() {
        let l = AdaptiveLimiter::new();
        for _ in 0..100 {
            l.acquire(Priority::Foreground, None).await.unwrap();
        }
        assert!(!l.snapshot().enabled);
        l.throttled(Instant::now());
        let snap = l.snapshot();
        assert!(snap.enabled);
        assert!(snap.rate >= MIN_RATE);
        // Ten calls at the limited rate take about ten over the rate seconds.
        let rate = snap.rate;
        let start = Instant::now();
        for _ in 0..10 {
            l.acquire(Priority::Foreground, None).await.unwrap();
        }
        let took = start.elapsed().as_secs_f64();
        assert!(took >= 9.0 / rate * 0.9, "{took} s at {rate}/s");
    }

    #[tokio::test(start_paused = true)]
    async fn each_throttle_cuts_the_rate_and_successes_grow_it_back() {
        let l = AdaptiveLimiter::new();
        l.throttled(Instant::now());
        let first = l.snapshot().rate;
        tokio::time::advance(Duration::from_millis(10)).await;
        l.throttled(Instant::now());
        let second = l.snapshot().rate;
        assert!(second < first || second == MIN_RATE, "{first} -> {second}");
        tokio::time::advance(Duration::from_secs(20)).await;
        l.succeeded();
        assert!(l.snapshot().rate > second, "grows back");
        tokio::time::advance(Duration::from_secs(61)).await;
        l.succeeded();
        assert!(!l.snapshot().enabled, "off after a quiet minute");
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_deadline_is_refused_at_once() {
        let l = AdaptiveLimiter::new();
        l.throttled(Instant::now());
        let rate = l.snapshot().rate;
        let deadline = Instant::now() + Duration::from_secs_f64(0.5 / rate);
        let before = Instant::now();
        let wait = l
            .acquire(Priority::Foreground, Some(deadline))
            .await
            .unwrap_err();
        assert_eq!(Instant::now(), before, "no waiting for nothing");
        assert!(wait > Duration::from_secs_f64(0.5 / rate), "{wait:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn background_work_yields_but_is_never_starved() {
        let l = Arc::new(AdaptiveLimiter::new());
        l.throttled(Instant::now());
        let fg = Arc::new(AtomicU32::new(0));
        let bg = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (l, fg) = (l.clone(), fg.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    l.acquire(Priority::Foreground, None).await.unwrap();
                    fg.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        let (lb, bgc) = (l.clone(), bg.clone());
        let background = tokio::spawn(async move {
            for _ in 0..5 {
                lb.acquire(Priority::Background, None).await.unwrap();
                bgc.fetch_add(1, Ordering::SeqCst);
            }
        });
        // While requests keep the limiter busy, background work still gets its share.
        while fg.load(Ordering::SeqCst) < 40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let got = bg.load(Ordering::SeqCst);
        assert!(got >= 1, "background starved: {got} while 40 requests went");
        assert!(
            got <= 40 / (BACKGROUND_EVERY - 1) + 1,
            "background took more than its share: {got}"
        );
        for t in tasks {
            t.await.unwrap();
        }
        background.await.unwrap();
        assert_eq!(bg.load(Ordering::SeqCst), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_reservation_of_several_tokens_is_paid_before_the_next_caller() {
        let l = AdaptiveLimiter::new();
        l.throttled(Instant::now());
        let rate = l.snapshot().rate;
        // Wait for the first token, then take four at once: one present, three owed.
        l.acquire(Priority::Foreground, None).await.unwrap();
        let start = Instant::now();
        l.acquire_n(Priority::Foreground, 4, None).await.unwrap();
        let after_reservation = Instant::now();
        l.acquire(Priority::Foreground, None).await.unwrap();
        let next = Instant::now()
            .duration_since(after_reservation)
            .as_secs_f64();
        assert!(
            next >= 3.0 / rate * 0.9,
            "the next caller waited out the debt: {next} s at {rate}/s (reserved after {:?})",
            after_reservation - start
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_reservation_that_cannot_be_paid_by_the_deadline_is_refused_at_once() {
        let l = AdaptiveLimiter::new();
        l.throttled(Instant::now());
        let rate = l.snapshot().rate;
        // Enough time for one token, not for five.
        let deadline = Instant::now() + Duration::from_secs_f64(2.0 / rate);
        let before = Instant::now();
        let wait = l
            .acquire_n(Priority::Foreground, 5, Some(deadline))
            .await
            .unwrap_err();
        assert_eq!(Instant::now(), before, "refused before waiting");
        assert!(wait >= Duration::from_secs_f64(4.0 / rate), "{wait:?}");
        // A single call fits the same deadline.
        l.acquire(Priority::Foreground, Some(deadline))
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn refunded_tokens_serve_the_next_caller_at_once() {
        let l = AdaptiveLimiter::new();
        l.throttled(Instant::now());
        l.acquire_n(Priority::Foreground, 1, None).await.unwrap();
        l.refund(1);
        let before = Instant::now();
        l.acquire(Priority::Foreground, None).await.unwrap();
        assert_eq!(Instant::now(), before);
    }

    #[tokio::test(start_paused = true)]
    async fn a_known_rate_paces_from_the_start_and_comes_back_after_a_quiet_minute() {
        let l = AdaptiveLimiter::starting_at(Some(10.0));
        let snap = l.snapshot();
        assert!(snap.enabled && snap.rate == 10.0, "{snap:?}");
        // One second's burst at once, then the rate: 30 calls take about 2 s, not 0.
        let start = Instant::now();
        for _ in 0..30 {
            l.acquire(Priority::Foreground, None).await.unwrap();
        }
        let took = start.elapsed().as_secs_f64();
        assert!((1.8..=2.2).contains(&took), "{took} s");
        l.throttled(Instant::now());
        assert!(l.snapshot().rate < 10.0, "a throttle still cuts it");
        tokio::time::advance(Duration::from_secs(61)).await;
        l.succeeded();
        let snap = l.snapshot();
        assert!(
            snap.enabled && snap.rate == 10.0,
            "back at the known rate: {snap:?}"
        );
    }

    #[test]
    fn an_unusable_known_rate_means_none() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                !AdaptiveLimiter::starting_at(Some(rate)).snapshot().enabled,
                "{rate}"
            );
        }
    }

    /// AWS's side of [`drain_beside_requests`]: a token bucket of `rate` per second.
    struct FakeAws {
        tokens: f64,
        at: Instant,
        rate: f64,
    }

    impl FakeAws {
        fn call(&mut self) -> bool {
            let now = Instant::now();
            self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate)
                .min(self.rate);
            self.at = now;
            let ok = self.tokens >= 1.0;
            if ok {
                self.tokens -= 1.0;
            }
            ok
        }
    }

    #[derive(Debug, Default)]
    struct DrainOutcome {
        /// Background calls AWS answered.
        drained: u32,
        /// Calls AWS throttled in the last `seconds - 20` (after the limiter learned the rate).
        throttled_late: u32,
        requests: u32,
        requests_throttled: u32,
    }

    /// Eight background tasks drain as fast as the limiter lets them against AWS at 20 calls/s
    /// (20 ms round trips, 50 ms back-off after a throttle) for `seconds`; with `requests`, one
    /// request call every 0.5 s beside them.
    async fn drain_beside_requests(seconds: u64, requests: bool) -> DrainOutcome {
        let l = Arc::new(AdaptiveLimiter::new());
        let aws = Arc::new(Mutex::new(FakeAws {
            tokens: 20.0,
            at: Instant::now(),
            rate: 20.0,
        }));
        let out = Arc::new(Mutex::new(DrainOutcome::default()));
        let start = Instant::now();
        let end = start + Duration::from_secs(seconds);
        let learned = start + Duration::from_secs(20);
        let call = |l: Arc<AdaptiveLimiter>, aws: Arc<Mutex<FakeAws>>, priority| async move {
            l.acquire(priority, None).await.unwrap();
            let sent_at = Instant::now();
            tokio::time::sleep(Duration::from_millis(20)).await;
            let ok = aws.lock().unwrap().call();
            if ok {
                l.succeeded();
            } else {
                l.throttled(sent_at);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ok
        };
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (l, aws, out) = (l.clone(), aws.clone(), out.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    let ok = call(l.clone(), aws.clone(), Priority::Background).await;
                    let mut o = out.lock().unwrap();
                    if ok {
                        o.drained += 1;
                    } else if Instant::now() > learned {
                        o.throttled_late += 1;
                    }
                }
            }));
        }
        if requests {
            let (l, aws, out) = (l.clone(), aws.clone(), out.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    let ok = call(l.clone(), aws.clone(), Priority::Foreground).await;
                    if Instant::now() > learned {
                        let mut o = out.lock().unwrap();
                        o.requests += 1;
                        if !ok {
                            o.requests_throttled += 1;
                            o.throttled_late += 1;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(out).unwrap().into_inner().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn beside_requests_a_drain_stays_below_the_edge_instead_of_probing_past_it() {
        let seconds = 140;
        let alone = drain_beside_requests(seconds, false).await;
        let beside = drain_beside_requests(seconds, true).await;
        // Alone, the drain probes past AWS's rate every few seconds (that is how it keeps up
        // with AWS); beside requests it probes once per PROBE_AFTER of holding.
        assert!(alone.throttled_late >= 20, "{alone:?}");
        let probes = (seconds - 20) / PROBE_AFTER.as_secs() + 1;
        assert!(
            beside.throttled_late <= 4 * probes as u32,
            "{beside:?} (alone: {alone:?})"
        );
        assert!(beside.requests_throttled <= 2, "{beside:?}");
        // The headroom costs the drain little: at least 90 % of what AWS allows in all.
        let allowed = 20.0 * seconds as f64;
        let used = f64::from(beside.drained + beside.requests);
        assert!(used >= 0.9 * allowed, "{used} of {allowed}: {beside:?}");
        assert!(f64::from(alone.drained) >= 0.9 * allowed, "{alone:?}");
    }

    /// Successes for `seconds`, one every 100 ms, with a token taken by each kind of caller
    /// in `kinds` before each.
    async fn succeed_for(l: &AdaptiveLimiter, seconds: u64, kinds: &[Priority]) {
        let end = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < end {
            for &kind in kinds {
                l.acquire(kind, None).await.unwrap();
            }
            l.succeeded();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_contention_holds_below_the_edge_for_its_own_probe_after() {
        use Priority::{Background, Foreground};
        let l = AdaptiveLimiter::starting_at(Some(20.0));
        l.throttled(Instant::now());
        let ceiling = HEADROOM * 20.0;
        // All within QUIET of the throttle (after it the known rate comes back anyway).
        // Contended for 10 s: held at the ceiling.
        succeed_for(&l, 10, &[Foreground, Background]).await;
        assert!(
            (l.snapshot().rate - ceiling).abs() < 1e-9,
            "{:?}",
            l.snapshot()
        );
        // Background alone for 13 s (requests gone for longer than CONTENDED): the curve
        // resumes past the edge.
        succeed_for(&l, 13, &[Background]).await;
        assert!(l.snapshot().rate > 20.0, "{:?}", l.snapshot());
        // Requests are back: held again, and for a full PROBE_AFTER, not probing as soon as
        // 30 s have passed since the earlier contention was first held.
        succeed_for(&l, PROBE_AFTER.as_secs() - 5, &[Foreground, Background]).await;
        assert!(
            (l.snapshot().rate - ceiling).abs() < 1e-9,
            "{:?}",
            l.snapshot()
        );
        // Then it probes.
        succeed_for(&l, 7, &[Foreground, Background]).await;
        assert!(l.snapshot().rate > ceiling, "{:?}", l.snapshot());
    }

    #[tokio::test(start_paused = true)]
    async fn calls_already_in_flight_cut_the_rate_once() {
        let l = AdaptiveLimiter::new();
        let sent = Instant::now();
        tokio::time::advance(Duration::from_millis(5)).await;
        l.throttled(sent);
        let once = l.snapshot().rate;
        for _ in 0..10 {
            l.throttled(sent);
        }
        assert_eq!(l.snapshot().rate, once, "the same burst counts once");
    }
}
