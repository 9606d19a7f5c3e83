//! The hook for a rate limiter shared beyond this process.

use std::fmt;

use polyv_core::{Error, RateDecision};

/// A rate limiter that [`Client::with_rate_limiter`](crate::Client::with_rate_limiter)
/// asks before every request, in place of the in-process one: typically one
/// shared by every process and machine behind the same IP (polyv-redis's
/// `RedisLimiter`).
///
/// The client's call driver ([`polyv_core::driver::Call`]) does the
/// waiting: it sleeps for [`RateDecision::Wait`], and for
/// [`RateDecision::Blocked`] it sleeps and asks again. An `Err` from
/// [`decide`](Self::decide) ends the call with that error, nothing sent.
///
/// ```
/// use std::sync::Mutex;
/// use std::time::{Duration, Instant};
/// use polyv_blocking::core::driver::Pacer;
/// use polyv_blocking::{Error, RateDecision, RateLimit, RateLimiter};
///
/// /// The in-process pacer behind the trait (what the client does anyway).
/// #[derive(Debug)]
/// struct Local { pacer: Mutex<Pacer>, start: Instant, block_for: Duration }
///
/// impl RateLimiter for Local {
///     fn decide(&self) -> Result<RateDecision, Error> {
///         let mut pacer = self.pacer.lock().map_err(|_| Error::RateLimiter { message: "poisoned".into() })?;
///         Ok(pacer.decide(self.start.elapsed()))
///     }
///     fn record_block(&self) {
///         if let Ok(mut pacer) = self.pacer.lock() {
///             pacer.block(self.start.elapsed(), self.block_for);
///         }
///     }
/// }
///
/// let limit = RateLimit::new(10, Duration::from_secs(1));
/// let local = Local { pacer: Mutex::new(Pacer::new(limit)), start: Instant::now(), block_for: limit.block_for };
/// assert!(matches!(local.decide()?, RateDecision::Wait(_)));
/// # Ok::<(), Error>(())
/// ```
pub trait RateLimiter: fmt::Debug + Send + Sync {
    /// Books the next request: how long to wait before sending it, or that
    /// the server has blocked us and for how long more.
    fn decide(&self) -> Result<RateDecision, Error>;

    /// Polyv just answered with its rate-limit block
    /// ([`Error::is_rate_limit_block`]): record it so that every sharer of
    /// the limit waits it out. Failures are the limiter's to log.
    fn record_block(&self);
}

/// Stands in when no shared limiter is plugged in: the core's in-process
/// pacer decides then, and never asks this one.
#[derive(Debug)]
pub(crate) struct InProcess;

impl RateLimiter for InProcess {
    fn decide(&self) -> Result<RateDecision, Error> {
        Ok(RateDecision::Wait(std::time::Duration::ZERO))
    }

    fn record_block(&self) {}
}
