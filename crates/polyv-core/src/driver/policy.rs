//! Pure decisions every transport shares: when to retry and how long to wait,
//! how far the server's clock is from ours, and how fast to send.
//!
//! None of these read a clock or a random source: the caller hands in the
//! time and the jitter, so they are tested with plain tables.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;

/// When and how often a failed call is tried again.
///
/// ```
/// use polyv_core::driver::{RetryDecision, RetryPolicy, StopReason};
/// use polyv_core::Error;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::default();
/// // A server exception on the first attempt, with jitter 0.5: wait half the first backoff.
/// assert_eq!(
///     policy.decide(&Error::QueryFailed, None, 1, 0.5),
///     RetryDecision::RetryAfter(Duration::from_millis(100))
/// );
/// // A documented 400 is final.
/// assert_eq!(
///     policy.decide(&Error::SignNotRight, None, 1, 0.5),
///     RetryDecision::Stop(StopReason::NotRetryable)
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff cap of the first retry; it doubles with each attempt.
    pub base_delay: Duration,
    /// The backoff never exceeds this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this ends the call with the error (which
    /// carries the delay) instead of sleeping that long.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Give the error to the caller, for this reason.
    Stop(StopReason),
    /// Sign afresh and try again after this delay.
    RetryAfter(Duration),
}

/// Why a call stopped trying: what an error message should say instead of
/// guessing how many attempts were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The error is final: trying again cannot help (a documented refusal,
    /// a redirect, bad input, a 4xx).
    NotRetryable,
    /// The server asked to wait (`Retry-After`) longer than the policy's
    /// [`max_retry_after`](RetryPolicy::max_retry_after).
    RetryAfterTooLong {
        /// What the server asked for.
        requested: Duration,
        /// The longest wait the policy accepts.
        cap: Duration,
    },
    /// Every attempt the policy allows was made.
    RetriesExhausted,
    /// The call must not run twice (it creates something) and the request
    /// may have reached the server.
    NotSafeToResend,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotRetryable => f.write_str("the error is not one that retrying can fix"),
            Self::RetryAfterTooLong { requested, cap } => write!(
                f,
                "the server asked to retry after {} s, longer than the {} s the client waits",
                requested.as_secs(),
                cap.as_secs()
            ),
            Self::RetriesExhausted => f.write_str("the retries were used up"),
            Self::NotSafeToResend => f.write_str(
                "the call must not run twice and the request may have reached the server",
            ),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of retries after the first attempt.
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.max_attempts = retries.saturating_add(1);
        self
    }

    /// Sets the backoff's base and cap.
    pub fn with_backoff(mut self, base_delay: Duration, max_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self.max_delay = max_delay;
        self
    }

    /// The "full jitter" backoff before retry number `attempt` (1-based):
    /// `jitter × min(max_delay, base_delay × 2^(attempt-1))`, with `jitter` in `[0, 1]`.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(31);
        let cap = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        cap.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// Sets the longest `Retry-After` the client will sleep through.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Decides after attempt number `attempt` (1-based) failed with `error`.
    /// `retry_after` is the server's `Retry-After`, which is honoured as a
    /// lower bound on the wait.
    pub fn decide(
        &self,
        error: &Error,
        retry_after: Option<Duration>,
        attempt: u32,
        jitter: f64,
    ) -> RetryDecision {
        if !error.is_retryable() {
            return RetryDecision::Stop(StopReason::NotRetryable);
        }
        if attempt >= self.max_attempts {
            return RetryDecision::Stop(StopReason::RetriesExhausted);
        }
        let backoff = self.backoff(attempt, jitter);
        match retry_after.or_else(|| error.retry_after()) {
            Some(wait) if wait > self.max_retry_after => {
                RetryDecision::Stop(StopReason::RetryAfterTooLong {
                    requested: wait,
                    cap: self.max_retry_after,
                })
            }
            Some(wait) => RetryDecision::RetryAfter(wait.max(backoff)),
            None => RetryDecision::RetryAfter(backoff),
        }
    }
}

/// How far the server's clock is ahead of ours, in milliseconds, from its
/// `Date` header and the local times the request was sent and the response
/// received. The server stamped `Date` somewhere in the round trip; the
/// midpoint is the best guess, and since `Date` has whole seconds, half a
/// second is added to centre the truncation.
///
/// ```
/// use polyv_core::driver::clock_offset_ms;
///
/// // Sent at t, answered at t+200ms, and the server's clock said t+600s.
/// let sent = 1_700_000_000_000;
/// let offset = clock_offset_ms("Tue, 14 Nov 2023 22:23:20 GMT", sent, sent + 200).unwrap();
/// assert_eq!(offset, 600_000 + 500 - 100);
/// ```
pub fn clock_offset_ms(date_header: &str, sent_at_ms: u64, received_at_ms: u64) -> Option<i64> {
    let server = httpdate::parse_http_date(date_header.trim()).ok()?;
    let server_ms = i64::try_from(server.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()? + 500;
    let midpoint = i64::try_from(sent_at_ms / 2 + received_at_ms / 2).ok()?;
    Some(server_ms - midpoint)
}

/// Milliseconds since the epoch of a `SystemTime` (0 before the epoch).
pub fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Applies a clock offset to a local time in milliseconds.
pub fn corrected_ms(local_ms: u64, offset_ms: i64) -> u64 {
    local_ms.saturating_add_signed(offset_ms)
}

/// How long Polyv blocks an IP that went over its limit: 5 minutes
/// (`vod-api.md` A.1), the default of [`RateLimit::block_for`].
pub const POLYV_BLOCK: Duration = Duration::from_secs(300);

/// A client-side request rate: at most `requests` per `per`, with bursts of
/// up to `burst` requests, and how long the server's rate-limit block is
/// assumed to last once it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per period.
    pub requests: u32,
    /// The period.
    pub per: Duration,
    /// How many requests may go at once before pacing starts.
    pub burst: u32,
    /// How long to hold every request back after the server answered with
    /// its rate-limit block ([`Error::is_rate_limit_block`]); [`POLYV_BLOCK`]
    /// unless set.
    pub block_for: Duration,
}

impl RateLimit {
    /// `requests` per `per`, with a burst of a tenth of that (at least 1).
    pub fn new(requests: u32, per: Duration) -> Self {
        Self {
            requests: requests.max(1),
            per,
            burst: (requests / 10).max(1),
            block_for: POLYV_BLOCK,
        }
    }

    /// Sets how many requests may go at once before pacing starts (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// Sets how long a server block is waited out (a mock's shorter block, say).
    pub fn with_block_for(mut self, block_for: Duration) -> Self {
        self.block_for = block_for;
        self
    }

    /// The default: 100 requests a second with bursts of 20, so that any 10 s
    /// window stays near 1,020 requests, well below Polyv's documented 1,500
    /// per 10 s per IP (whose breach blocks the IP for 5 minutes).
    pub fn polyv_default() -> Self {
        Self {
            requests: 100,
            per: Duration::from_secs(1),
            burst: 20,
            block_for: POLYV_BLOCK,
        }
    }
}

/// What a rate limiter answers before each request: the decision shape every
/// limiter gives, the in-process [`Pacer`] and a shared store (polyv-redis)
/// alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// A slot is booked: send after waiting this long (zero: now).
    Wait(Duration),
    /// The server has blocked us (every sharer of the limit) for at least this
    /// long more. Nothing is booked: wait, then ask again.
    Blocked(Duration),
}

/// The GCRA (generic cell rate algorithm, the leaky bucket as a meter) in
/// integer microseconds: the one copy of the arithmetic. [`Pacer`] runs it in
/// process; polyv-redis's Lua script mirrors [`reserve`](Self::reserve) line
/// by line against a timestamp kept in Redis.
///
/// ```
/// use polyv_core::driver::{Gcra, RateLimit};
/// use std::time::Duration;
///
/// // 10 a second (one every 100 ms), bursts of 2 (100 ms of tolerance).
/// let gcra = Gcra::new(RateLimit::new(10, Duration::from_secs(1)).with_burst(2));
/// let first = gcra.reserve(0, 5_000_000);
/// assert_eq!((first.tat_us, first.wait_us), (5_100_000, 0));
/// let second = gcra.reserve(first.tat_us, 5_000_000);
/// assert_eq!((second.tat_us, second.wait_us), (5_200_000, 0));
/// let third = gcra.reserve(second.tat_us, 5_000_000);
/// assert_eq!(third.wait_us, 100_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Microseconds between two requests at the steady rate (`per / requests`).
    pub interval_us: u64,
    /// How far ahead of now the schedule may run before requests wait:
    /// `interval × (burst − 1)`.
    pub tolerance_us: u64,
}

/// One booking by [`Gcra::reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcraStep {
    /// The new theoretical arrival time, to store for the next booking.
    pub tat_us: u64,
    /// How long the booked request waits, in microseconds.
    pub wait_us: u64,
}

impl Gcra {
    /// The parameters for a limit.
    pub fn new(limit: RateLimit) -> Self {
        let per_us = u64::try_from(limit.per.as_micros()).unwrap_or(u64::MAX);
        let interval_us = per_us / u64::from(limit.requests.max(1));
        Self {
            interval_us,
            tolerance_us: interval_us.saturating_mul(u64::from(limit.burst.max(1) - 1)),
        }
    }

    /// Books one request at `now_us` against the stored theoretical arrival
    /// time `tat_us` (0 when nothing is stored): the request goes at
    /// `max(tat, now)`, less the burst tolerance, and the next one is due one
    /// interval later.
    pub fn reserve(&self, tat_us: u64, now_us: u64) -> GcraStep {
        let start = tat_us.max(now_us);
        GcraStep {
            tat_us: start.saturating_add(self.interval_us),
            wait_us: start.saturating_sub(now_us.saturating_add(self.tolerance_us)),
        }
    }
}

/// Paces requests to a [`RateLimit`] with the [`Gcra`], in process: each
/// call to [`reserve`](Self::reserve) books one request and says how long to
/// wait before sending it, and [`decide`](Self::decide) also honours a server
/// block recorded with [`block`](Self::block). Share one pacer (behind a lock)
/// between every clone of a client.
///
/// ```
/// use polyv_core::driver::{Pacer, RateDecision, RateLimit};
/// use std::time::Duration;
///
/// let mut pacer = Pacer::new(RateLimit::new(10, Duration::from_secs(1)).with_burst(1));
/// let now = Duration::ZERO;
/// assert_eq!(pacer.reserve(now), Duration::ZERO);
/// assert_eq!(pacer.reserve(now), Duration::from_millis(100));
/// assert_eq!(pacer.reserve(now), Duration::from_millis(200));
/// pacer.block(now, Duration::from_secs(2));
/// assert_eq!(pacer.decide(Duration::from_secs(1)), RateDecision::Blocked(Duration::from_secs(1)));
/// ```
#[derive(Debug, Clone)]
pub struct Pacer {
    gcra: Gcra,
    /// The theoretical arrival time of the next request, in µs.
    tat_us: u64,
    /// No request before this (µs); 0 when not blocked.
    blocked_until_us: u64,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Pacer {
    /// A pacer for this limit.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            gcra: Gcra::new(limit),
            tat_us: 0,
            blocked_until_us: 0,
        }
    }

    /// Books a request at `now` (any monotonic clock, as a duration since a
    /// fixed start) and returns how long to wait before sending it. Ignores
    /// blocks; see [`decide`](Self::decide).
    pub fn reserve(&mut self, now: Duration) -> Duration {
        let step = self.gcra.reserve(self.tat_us, micros(now));
        self.tat_us = step.tat_us;
        Duration::from_micros(step.wait_us)
    }

    /// [`RateDecision::Blocked`] while a recorded block lasts (nothing is
    /// booked), else books a request as [`reserve`](Self::reserve) does.
    pub fn decide(&mut self, now: Duration) -> RateDecision {
        match self.blocked_for(now) {
            Some(left) => RateDecision::Blocked(left),
            None => RateDecision::Wait(self.reserve(now)),
        }
    }

    /// How long a recorded block still lasts at `now`, if it does.
    pub fn blocked_for(&self, now: Duration) -> Option<Duration> {
        let now_us = micros(now);
        (self.blocked_until_us > now_us)
            .then(|| Duration::from_micros(self.blocked_until_us - now_us))
    }

    /// Records that the server blocked us at `now` for `block_for`; a
    /// longer block already recorded is kept.
    pub fn block(&mut self, now: Duration, block_for: Duration) {
        let until = micros(now).saturating_add(micros(block_for));
        self.blocked_until_us = self.blocked_until_us.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> Error {
        Error::Http {
            status,
            retry_after: None,
            excerpt: String::new(),
        }
    }

    #[test]
    fn retry_table() {
        let p = RetryPolicy::default(); // 4 attempts, 200 ms base, 10 s cap, 60 s max Retry-After
        let ms = Duration::from_millis;
        let cases: Vec<(Error, Option<Duration>, u32, f64, RetryDecision)> = vec![
            (
                Error::QueryFailed,
                None,
                1,
                1.0,
                RetryDecision::RetryAfter(ms(200)),
            ),
            (
                Error::QueryFailed,
                None,
                2,
                1.0,
                RetryDecision::RetryAfter(ms(400)),
            ),
            (
                Error::QueryFailed,
                None,
                3,
                0.5,
                RetryDecision::RetryAfter(ms(400)),
            ),
            (
                Error::QueryFailed,
                None,
                4,
                1.0,
                RetryDecision::Stop(StopReason::RetriesExhausted),
            ),
            (http(503), None, 1, 0.0, RetryDecision::RetryAfter(ms(0))),
            (http(502), None, 1, 1.0, RetryDecision::RetryAfter(ms(200))),
            (
                http(429),
                Some(ms(3000)),
                1,
                1.0,
                RetryDecision::RetryAfter(ms(3000)),
            ),
            (
                http(429),
                Some(ms(100)),
                1,
                1.0,
                RetryDecision::RetryAfter(ms(200)),
            ),
            (
                http(429),
                Some(Duration::from_secs(120)),
                1,
                1.0,
                RetryDecision::Stop(StopReason::RetryAfterTooLong {
                    requested: Duration::from_secs(120),
                    cap: Duration::from_secs(60),
                }),
            ),
            (
                http(404),
                None,
                1,
                1.0,
                RetryDecision::Stop(StopReason::NotRetryable),
            ),
            (
                Error::SignNotRight,
                None,
                1,
                1.0,
                RetryDecision::Stop(StopReason::NotRetryable),
            ),
            (
                Error::PtimeTooOld,
                None,
                1,
                1.0,
                RetryDecision::Stop(StopReason::NotRetryable),
            ),
            (
                Error::CategoryNotFound,
                None,
                1,
                1.0,
                RetryDecision::Stop(StopReason::NotRetryable),
            ),
            (
                Error::InvalidInput("x".into()),
                None,
                1,
                1.0,
                RetryDecision::Stop(StopReason::NotRetryable),
            ),
            (
                Error::Transport {
                    kind: crate::TransportErrorKind::Timeout,
                    message: String::new(),
                    cause: None,
                },
                None,
                1,
                1.0,
                RetryDecision::RetryAfter(ms(200)),
            ),
            (
                Error::Transport {
                    kind: crate::TransportErrorKind::Other,
                    message: String::new(),
                    cause: None,
                },
                None,
                1,
                1.0,
                RetryDecision::Stop(StopReason::NotRetryable),
            ),
            (
                Error::BodyTooLarge { limit: 1 },
                None,
                1,
                1.0,
                RetryDecision::Stop(StopReason::NotRetryable),
            ),
        ];
        for (error, retry_after, attempt, jitter, expected) in cases {
            assert_eq!(
                p.decide(&error, retry_after, attempt, jitter),
                expected,
                "{error:?} attempt {attempt}"
            );
        }
    }

    #[test]
    fn backoff_is_capped_and_never_overflows() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(7, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(1, 7.0), Duration::from_millis(200));
        assert_eq!(p.backoff(1, -1.0), Duration::ZERO);
        assert_eq!(
            RetryPolicy::never().decide(&Error::QueryFailed, None, 1, 1.0),
            RetryDecision::Stop(StopReason::RetriesExhausted)
        );
        assert_eq!(RetryPolicy::default().with_retries(0).max_attempts, 1);
    }

    #[test]
    fn clock_offsets() {
        // 1_700_000_000 s = Tue, 14 Nov 2023 22:13:20 GMT
        let t = 1_700_000_000_000u64;
        let date = "Tue, 14 Nov 2023 22:13:20 GMT";
        assert_eq!(clock_offset_ms(date, t, t), Some(500));
        // Our clock is 10 minutes fast: the server looks 600 s behind.
        assert_eq!(
            clock_offset_ms(date, t + 600_000, t + 600_400),
            Some(500 - 600_200)
        );
        assert_eq!(clock_offset_ms("not a date", t, t), None);
        assert_eq!(corrected_ms(1000, -400), 600);
        assert_eq!(corrected_ms(100, -400), 0);
        assert_eq!(unix_ms(UNIX_EPOCH + Duration::from_millis(42)), 42);
    }

    #[test]
    fn pacer_holds_the_rate_over_a_window() {
        let limit = RateLimit::polyv_default();
        let mut pacer = Pacer::new(limit);
        // Send as fast as allowed for 10 s of simulated time and count.
        let mut now = Duration::ZERO;
        let mut sent = 0u32;
        while now < Duration::from_secs(10) {
            now += pacer.reserve(now);
            if now < Duration::from_secs(10) {
                sent += 1;
            }
        }
        assert!((990..=1_020).contains(&sent), "{sent}");
        assert!(sent < 1500);
    }

    #[test]
    fn gcra_table() {
        // 10/s (100 ms apart), bursts of 3 (200 ms of tolerance).
        let g = Gcra::new(RateLimit::new(10, Duration::from_secs(1)).with_burst(3));
        assert_eq!((g.interval_us, g.tolerance_us), (100_000, 200_000));
        // (stored tat, now) -> (new tat, wait)
        let cases: &[(u64, u64, u64, u64)] = &[
            // A fresh key: the first request goes at once.
            (0, 1_000_000, 1_100_000, 0),
            // The burst: the schedule may run 200 ms ahead without waiting...
            (1_100_000, 1_000_000, 1_200_000, 0),
            (1_200_000, 1_000_000, 1_300_000, 0),
            // ...and the next waits one interval.
            (1_300_000, 1_000_000, 1_400_000, 100_000),
            (1_400_000, 1_000_000, 1_500_000, 200_000),
            // Steady rate: arriving on schedule never waits.
            (1_500_000, 1_500_000, 1_600_000, 0),
            // Idle time is not banked beyond the burst: a stale tat is ignored.
            (1_000_000, 9_000_000, 9_100_000, 0),
            // No overflow at the far end.
            (u64::MAX, 0, u64::MAX, u64::MAX - 200_000),
        ];
        for &(tat, now, new_tat, wait) in cases {
            assert_eq!(
                g.reserve(tat, now),
                GcraStep {
                    tat_us: new_tat,
                    wait_us: wait
                },
                "tat {tat} now {now}"
            );
        }
        // Burst 1 has no tolerance; a zero period never divides by zero.
        let strict = Gcra::new(RateLimit::new(4, Duration::from_secs(1)).with_burst(1));
        assert_eq!((strict.interval_us, strict.tolerance_us), (250_000, 0));
        let zero = Gcra::new(RateLimit::new(0, Duration::ZERO));
        assert_eq!(zero.reserve(0, 7).wait_us, 0);
    }

    #[test]
    fn pacer_waits_out_a_block_without_booking() {
        let limit = RateLimit::new(10, Duration::from_secs(1)).with_burst(1);
        let mut pacer = Pacer::new(limit);
        let s = Duration::from_secs;
        assert_eq!(pacer.decide(s(0)), RateDecision::Wait(Duration::ZERO));
        pacer.block(s(1), s(5));
        // A shorter block does not shorten the longer one.
        pacer.block(s(2), s(1));
        assert_eq!(pacer.decide(s(2)), RateDecision::Blocked(s(4)));
        assert_eq!(pacer.blocked_for(s(2)), Some(s(4)));
        assert_eq!(pacer.blocked_for(s(6)), None);
        assert_eq!(pacer.decide(s(5)), RateDecision::Blocked(s(1)));
        // Blocked asks booked nothing: the first request after goes at once.
        assert_eq!(pacer.decide(s(6)), RateDecision::Wait(Duration::ZERO));
        assert_eq!(
            pacer.decide(s(6)),
            RateDecision::Wait(Duration::from_millis(100))
        );
        assert_eq!(limit.block_for, POLYV_BLOCK);
        assert_eq!(limit.with_block_for(s(2)).block_for, s(2));
    }
}
