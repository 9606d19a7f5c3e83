//! # polyv-redis
//!
//! One Polyv (保利威) rate limit for many processes and machines, kept in
//! Redis. Polyv allows 1,500 requests per 10 s per IP across the whole
//! `api.polyv.net` domain and blocks the IP for 5 minutes when that is
//! exceeded; each client's in-process limiter is right alone and wrong
//! together. A [`RedisLimiter`] plugged into every worker's client
//! (`Client::with_rate_limiter`, in polyv-blocking and polyv-async alike)
//! makes them share one limit:
//!
//! - **One atomic decision per request.** A Lua script runs the GCRA of
//!   [`polyv_core::driver::Gcra`] against a single Redis hash per egress (no
//!   read-modify-write race), on Redis's own clock (`TIME`), so the workers'
//!   clocks do not matter.
//! - **A shared block.** When any worker receives Polyv's rate-limit block
//!   ([`Error::is_rate_limit_block`]), it records it in the same hash and
//!   every worker waits it out instead of hammering a blocked IP.
//! - **Redis unreachable** is a choice ([`Unavailable`]): by default each
//!   worker falls back to an in-process limiter and logs a warning (and
//!   retries Redis a second later); in strict mode the call fails with
//!   [`Error::RateLimiter`] and nothing is sent.
//!
//! Features: `blocking` (default) implements `polyv_blocking::RateLimiter`
//! on redis's synchronous connection, with no async runtime; `async`
//! implements `polyv_async::RateLimiter` on its multiplexed tokio connection.
//! Plain `redis://` URLs only (no TLS).
//!
//! ```no_run
//! # #[cfg(feature = "blocking")] {
//! use std::sync::Arc;
//! use polyv_blocking::Client;
//! use polyv_redis::RedisLimiter;
//!
//! let limiter = RedisLimiter::new("redis://127.0.0.1:6379/")?;
//! let client = Client::from_env()?.with_rate_limiter(Arc::new(limiter));
//! let page = client.get_by_uploader(&Default::default())?;
//! # let _ = page;
//! # }
//! # Ok::<(), polyv_core::Error>(())
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// Without a transport feature there is nothing to plug the limiter into.
#![cfg_attr(not(any(feature = "blocking", feature = "async")), allow(dead_code))]

#[cfg(feature = "async")]
mod asynchronous;
#[cfg(feature = "blocking")]
mod blocking;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use polyv_core::driver::{Gcra, Pacer};
pub use polyv_core::{Error, RateDecision, RateLimit};

/// The key prefix unless set: keys are `{prefix}:{scope}`.
pub const DEFAULT_KEY_PREFIX: &str = "polyv-rs:rate-limit";

/// The scope unless set: the limit Polyv applies to the whole domain, per IP.
pub const DEFAULT_SCOPE: &str = "api.polyv.net";

/// How long a worker that found Redis unreachable decides in process before
/// trying Redis again.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The environment variable the CLI reads a fleet's Redis URL from.
pub const ENV_RATE_LIMIT_URL: &str = "POLYV_RATE_LIMIT_URL";

/// The one-decision script (`src/decide.lua`).
static DECIDE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("decide.lua")));

/// The record-a-block script (`src/block.lua`).
static BLOCK: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("block.lua")));

/// The fleet's default limit: 130 requests a second with bursts of 20, so
/// any 10 s window holds at most 1,320 requests, under Polyv's 1,500 per
/// 10 s per IP with room for the network's jitter; a block is waited out for
/// Polyv's 5 minutes.
///
/// ```
/// let limit = polyv_redis::default_limit();
/// assert!(limit.requests * 10 + limit.burst < 1500);
/// ```
pub fn default_limit() -> RateLimit {
    RateLimit::new(130, Duration::from_secs(1)).with_burst(20)
}

/// What a worker does when Redis cannot be reached (refused, timed out,
/// an error reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unavailable {
    /// Decide in process with this limit, warn once per outage (target
    /// `polyv_redis`), and try Redis again after [`RECONNECT_AFTER`]. Each
    /// worker then paces alone: give it the fleet's limit divided by the
    /// number of workers to stay safe during an outage. The default, with
    /// [`RateLimit::polyv_default`] (the clients' own in-process default).
    Fallback(RateLimit),
    /// Fail the call with [`Error::RateLimiter`] before anything is sent.
    Strict,
}

impl Default for Unavailable {
    fn default() -> Self {
        Self::Fallback(RateLimit::polyv_default())
    }
}

/// A rate limit shared through Redis by every worker that uses the same key.
/// One limiter per process is enough: it is `Send + Sync` and its clones of a
/// client share it through an `Arc`. Its `Debug` output and its errors never
/// show the URL's password.
///
/// ```
/// use std::time::Duration;
/// use polyv_redis::{RedisLimiter, Unavailable};
/// use polyv_core::RateLimit;
///
/// let limiter = RedisLimiter::new("redis://:hunter2@10.0.0.5:6379/0")?
///     .with_limit(RateLimit::new(120, Duration::from_secs(1)).with_burst(10))
///     .with_key_prefix("acme:polyv")
///     .with_scope("egress-eu-1")
///     .with_unavailable(Unavailable::Strict);
/// assert_eq!(limiter.key(), "acme:polyv:egress-eu-1");
/// assert!(!format!("{limiter:?}").contains("hunter2"));
/// # Ok::<(), polyv_core::Error>(())
/// ```
pub struct RedisLimiter {
    client: redis::Client,
    url: String,
    password: Option<String>,
    key_prefix: String,
    scope: String,
    key: String,
    limit: RateLimit,
    gcra: Gcra,
    unavailable: Unavailable,
    timeout: Duration,
    /// The in-process limiter: decides while Redis is unreachable, and keeps
    /// every block this worker saw.
    local: Mutex<Pacer>,
    start: Instant,
    health: Mutex<Health>,
    fallbacks: AtomicU64,
    #[cfg(feature = "blocking")]
    sync_connection: Mutex<Option<redis::Connection>>,
    #[cfg(feature = "async")]
    async_connection: Mutex<Option<redis::aio::MultiplexedConnection>>,
}

/// Whether Redis answered last time, and when to try it again if not.
#[derive(Debug, Default)]
struct Health {
    down: bool,
    retry_at: Option<Instant>,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("url", &self.url)
            .field("key", &self.key)
            .field("limit", &self.limit)
            .field("unavailable", &self.unavailable)
            .field("timeout", &self.timeout)
            .field("fallbacks", &self.fallbacks())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data behind these locks stays consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl RedisLimiter {
    /// A limiter on the Redis at `url` (`redis://[[user]:password@]host[:port][/db]`
    /// or `redis+unix:///path`), with [`default_limit`], the keys
    /// `polyv-rs:rate-limit:api.polyv.net`, [`Unavailable::default`] and a
    /// 500 ms connect and response timeout. Nothing is connected yet: the
    /// first decision connects.
    ///
    /// Fails with [`Error::InvalidInput`] when the URL does not parse (the
    /// message shows it with its password redacted).
    pub fn new(url: &str) -> Result<Self, Error> {
        let redacted = redact_url(url);
        let client = redis::Client::open(url).map_err(|err| {
            Error::InvalidInput(format!(
                "the rate-limit URL {redacted} is not a Redis URL ({:?})",
                err.kind()
            ))
        })?;
        let password = client
            .get_connection_info()
            .redis_settings()
            .password()
            .map(str::to_owned);
        let limit = default_limit();
        let unavailable = Unavailable::default();
        let mut limiter = Self {
            client,
            url: redacted,
            password,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            scope: DEFAULT_SCOPE.to_owned(),
            key: String::new(),
            limit,
            gcra: Gcra::new(limit),
            unavailable,
            timeout: Duration::from_millis(500),
            local: Mutex::new(Pacer::new(RateLimit::polyv_default())),
            start: Instant::now(),
            health: Mutex::new(Health::default()),
            fallbacks: AtomicU64::new(0),
            #[cfg(feature = "blocking")]
            sync_connection: Mutex::new(None),
            #[cfg(feature = "async")]
            async_connection: Mutex::new(None),
        };
        limiter.rekey();
        Ok(limiter)
    }

    /// Sets the shared limit: its rate, burst and how long a block is waited
    /// out. Every worker sharing the key must use the same limit.
    pub fn with_limit(mut self, limit: RateLimit) -> Self {
        self.limit = limit;
        self.gcra = Gcra::new(limit);
        self
    }

    /// Sets the key prefix (default [`DEFAULT_KEY_PREFIX`]).
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self.rekey();
        self
    }

    /// Sets what the limit applies to (default [`DEFAULT_SCOPE`]): one key,
    /// hence one limit, per egress IP (or per account, if that is how the
    /// fleet is split). Workers behind the same IP must share a scope.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self.rekey();
        self
    }

    /// Sets what happens when Redis is unreachable (default: fall back to
    /// [`RateLimit::polyv_default`] in process, with a warning).
    pub fn with_unavailable(mut self, unavailable: Unavailable) -> Self {
        self.unavailable = unavailable;
        let fallback = match unavailable {
            Unavailable::Fallback(limit) => limit,
            Unavailable::Strict => self.limit,
        };
        *lock(&self.local) = Pacer::new(fallback);
        self
    }

    /// Sets how long connecting to Redis, and each answer, may take (default
    /// 500 ms); past it Redis counts as unreachable.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The Redis key (a hash: `tat` and `blocked`, in microseconds of Redis's clock).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The shared limit.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// The URL, password redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many decisions this limiter made in process because Redis was
    /// unreachable.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn rekey(&mut self) {
        self.key = format!("{}:{}", self.key_prefix, self.scope);
    }

    /// The decision script's arguments: interval and tolerance in µs.
    fn decide_args(&self) -> (u64, u64) {
        (self.gcra.interval_us, self.gcra.tolerance_us)
    }

    /// The block script's argument: the block's length in µs.
    fn block_arg(&self) -> u64 {
        micros(self.limit.block_for)
    }

    /// False while a fallback worker waits before trying Redis again.
    fn should_try_redis(&self) -> bool {
        if self.unavailable == Unavailable::Strict {
            return true;
        }
        let health = lock(&self.health);
        health.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    /// Redis answered.
    fn redis_up(&self) {
        let mut health = lock(&self.health);
        if health.down {
            tracing::warn!(url = %self.url, key = %self.key, "Redis is reachable again: the shared rate limit is back");
        }
        *health = Health::default();
    }

    /// The script's reply as a decision.
    fn decision(&self, reply: (i64, i64)) -> Result<RateDecision, Error> {
        let amount = Duration::from_micros(u64::try_from(reply.1).unwrap_or(0));
        match reply.0 {
            0 => Ok(RateDecision::Wait(amount)),
            1 => Ok(RateDecision::Blocked(amount)),
            other => Err(self.limiter_error(&format!("unexpected script reply kind {other}"))),
        }
    }

    /// Redis failed this decision: strict mode fails the call, else the
    /// in-process limiter decides.
    fn redis_down(&self, err: &redis::RedisError) -> Result<RateDecision, Error> {
        let message = self.scrub(&err.to_string());
        if self.unavailable == Unavailable::Strict {
            tracing::debug!(url = %self.url, error = %message, "Redis unreachable: strict mode fails the call");
            return Err(self.limiter_error(&message));
        }
        {
            let mut health = lock(&self.health);
            if !health.down {
                tracing::warn!(
                    url = %self.url,
                    error = %message,
                    "Redis unreachable: pacing in process until it is back; the fleet's limit is not shared meanwhile"
                );
            }
            health.down = true;
            health.retry_at = Instant::now().checked_add(RECONNECT_AFTER);
        }
        Ok(self.local_decision())
    }

    /// `Blocked` while a block this worker saw lasts: no need to ask Redis
    /// (which may not have heard of it, if it was down then).
    fn local_block(&self) -> Option<RateDecision> {
        lock(&self.local)
            .blocked_for(self.start.elapsed())
            .map(RateDecision::Blocked)
    }

    /// A decision by the in-process limiter.
    fn local_decision(&self) -> RateDecision {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        lock(&self.local).decide(self.start.elapsed())
    }

    /// Keeps a block in process (whatever Redis says).
    fn record_block_locally(&self) {
        lock(&self.local).block(self.start.elapsed(), self.limit.block_for);
    }

    fn record_block_failed(&self, err: &redis::RedisError) {
        tracing::warn!(
            url = %self.url,
            error = %self.scrub(&err.to_string()),
            "could not record Polyv's block in Redis; only this worker will wait it out"
        );
    }

    fn limiter_error(&self, message: &str) -> Error {
        Error::RateLimiter {
            message: format!("Redis at {}: {message}", self.url),
        }
    }

    /// Removes the password from a message, wherever it appears.
    fn scrub(&self, message: &str) -> String {
        match &self.password {
            Some(password) if !password.is_empty() => message.replace(password.as_str(), "***"),
            _ => message.to_owned(),
        }
    }
}

/// The URL with its password (everything after the first `:` of the user
/// info) replaced by `***`.
///
/// ```
/// assert_eq!(polyv_redis::redact_url("redis://u:p%40ss@host:6379/0"), "redis://u:***@host:6379/0");
/// assert_eq!(polyv_redis::redact_url("redis://host"), "redis://host");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user_info = &rest[..at];
    let user = user_info.split_once(':').map_or("", |(user, _)| user);
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        let cases = [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://:secret@h:1/2", "redis://:***@h:1/2"),
            ("redis://user:secret@h", "redis://user:***@h"),
            ("redis://token@h/0", "redis://:***@h/0"),
            ("redis://u:p@ss@h/0?x=@", "redis://u:***@h/0?x=@"),
            ("not a url", "not a url"),
            ("", ""),
        ];
        for (url, redacted) in cases {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
    }

    #[test]
    fn bad_urls_are_typed_errors_without_the_password() {
        for url in ["http://:pw-123@h", "redis://:pw-123@h:notaport", "nonsense"] {
            let err = RedisLimiter::new(url).expect_err(url);
            assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
            assert!(!err.to_string().contains("pw-123"), "{err}");
        }
    }

    #[test]
    fn configuration() {
        let limiter = RedisLimiter::new("redis://:pw-123@127.0.0.1:1/")
            .unwrap()
            .with_key_prefix("p")
            .with_scope("s")
            .with_limit(RateLimit::new(10, Duration::from_secs(1)).with_burst(3));
        assert_eq!(limiter.key(), "p:s");
        assert_eq!(limiter.decide_args(), (100_000, 200_000));
        assert_eq!(limiter.block_arg(), 300_000_000);
        assert_eq!(limiter.url(), "redis://:***@127.0.0.1:1/");
        let debug = format!("{limiter:?}");
        assert!(
            !debug.contains("pw-123") && debug.contains("p:s"),
            "{debug}"
        );
        assert_eq!(limiter.scrub("auth pw-123 failed"), "auth *** failed");
        assert_eq!(
            limiter.decision((0, 5)).unwrap(),
            RateDecision::Wait(Duration::from_micros(5))
        );
        assert_eq!(
            limiter.decision((1, 7)).unwrap(),
            RateDecision::Blocked(Duration::from_micros(7))
        );
        assert_eq!(
            limiter.decision((0, -3)).unwrap(),
            RateDecision::Wait(Duration::ZERO)
        );
        assert!(matches!(
            limiter.decision((9, 0)),
            Err(Error::RateLimiter { .. })
        ));
        let limit = default_limit();
        assert!(limit.requests * 10 + limit.burst < 1500);
        assert_eq!(limit.block_for, polyv_core::driver::POLYV_BLOCK);
    }

    #[test]
    fn limiter_is_send_sync() {
        fn assert_traits<T: Send + Sync + fmt::Debug + 'static>() {}
        assert_traits::<RedisLimiter>();
    }
}

/// Compiles docs/fleet.md's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/fleet.md")]
struct FleetDoctests;
