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

/// A client-side request rate: at most `requests` per `per`, with bursts of
/// up to `burst` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per period.
    pub requests: u32,
    /// The period.
    pub per: Duration,
    /// How many requests may go at once before pacing starts.
    pub burst: u32,
}

impl RateLimit {
    /// `requests` per `per`, with a burst of a tenth of that (at least 1).
    pub fn new(requests: u32, per: Duration) -> Self {
        Self {
            requests: requests.max(1),
            per,
            burst: (requests / 10).max(1),
        }
    }

    /// Sets how many requests may go at once before pacing starts (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
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
        }
    }
}

/// Paces requests to a [`RateLimit`] (a GCRA, the leaky-bucket-as-meter):
/// each call to [`reserve`](Self::reserve) books one request and says how long
/// to wait before sending it. Share one pacer (behind a lock) between every
/// clone of a client.
///
/// ```
/// use polyv_core::driver::{Pacer, RateLimit};
/// use std::time::Duration;
///
/// let mut pacer = Pacer::new(RateLimit::new(10, Duration::from_secs(1)).with_burst(1));
/// let now = Duration::ZERO;
/// assert_eq!(pacer.reserve(now), Duration::ZERO);
/// assert_eq!(pacer.reserve(now), Duration::from_millis(100));
/// assert_eq!(pacer.reserve(now), Duration::from_millis(200));
/// ```
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    tolerance: Duration,
    /// The theoretical arrival time of the next request.
    next: Duration,
}

impl Pacer {
    /// A pacer for this limit.
    pub fn new(limit: RateLimit) -> Self {
        let interval = limit.per / limit.requests.max(1);
        Self {
            interval,
            tolerance: interval.saturating_mul(limit.burst.max(1) - 1),
            next: Duration::ZERO,
        }
    }

    /// Books a request at `now` (any monotonic clock, as a duration since a
    /// fixed start) and returns how long to wait before sending it.
    pub fn reserve(&mut self, now: Duration) -> Duration {
        let start = self.next.max(now);
        let wait = start.saturating_sub(now + self.tolerance);
        self.next = start + self.interval;
        wait
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
}
