//! The hook for a rate limiter shared beyond this process.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use polyv_core::{Error, RateDecision};

/// The boxed future a [`RateLimiter`] returns (a trait object cannot have
/// `async fn`s).
pub type LimiterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A rate limiter that [`Client::with_rate_limiter`](crate::Client::with_rate_limiter)
/// asks before every request, in place of the in-process one: typically one
/// shared by every process and machine behind the same IP (polyv-redis's
/// `RedisLimiter`). The async twin of polyv-blocking's `RateLimiter`; the
/// decision ([`RateDecision`]) is the core's.
///
/// The client does the waiting: it sleeps for [`RateDecision::Wait`], and
/// for [`RateDecision::Blocked`] it sleeps and asks again. An `Err` from
/// [`decide`](Self::decide) ends the call with that error, nothing sent.
///
/// ```
/// use std::time::Duration;
/// use polyv_async::{Error, LimiterFuture, RateDecision, RateLimiter};
///
/// /// Lets a request go every 50 ms, whoever asks.
/// #[derive(Debug)]
/// struct Fixed;
/// impl RateLimiter for Fixed {
///     fn decide(&self) -> LimiterFuture<'_, Result<RateDecision, Error>> {
///         Box::pin(async { Ok(RateDecision::Wait(Duration::from_millis(50))) })
///     }
///     fn record_block(&self) -> LimiterFuture<'_, ()> {
///         Box::pin(async {})
///     }
/// }
/// # let _ = Fixed;
/// ```
pub trait RateLimiter: fmt::Debug + Send + Sync {
    /// Books the next request: how long to wait before sending it, or that
    /// the server has blocked us and for how long more.
    fn decide(&self) -> LimiterFuture<'_, Result<RateDecision, Error>>;

    /// Polyv just answered with its rate-limit block
    /// ([`Error::is_rate_limit_block`]): record it so that every sharer of
    /// the limit waits it out. Failures are the limiter's to log.
    fn record_block(&self) -> LimiterFuture<'_, ()>;
}

/// Stands in when no shared limiter is plugged in: the core's in-process
/// pacer decides then, and never asks this one.
#[derive(Debug)]
pub(crate) struct InProcess;

impl RateLimiter for InProcess {
    fn decide(&self) -> LimiterFuture<'_, Result<RateDecision, Error>> {
        Box::pin(async { Ok(RateDecision::Wait(std::time::Duration::ZERO)) })
    }

    fn record_block(&self) -> LimiterFuture<'_, ()> {
        Box::pin(async {})
    }
}
