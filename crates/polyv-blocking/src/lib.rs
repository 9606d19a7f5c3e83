//! # polyv-blocking
//!
//! A blocking client for the Polyv (保利威) video cloud API, on [`ureq`] with
//! rustls. Every decision (signing, retries, clock-skew correction, pacing,
//! pagination, parsing) is made by [`polyv_core`]; this crate only sends the
//! requests, reads the clocks and sleeps. It does not depend on any async
//! runtime.
//!
//! ```no_run
//! use polyv_blocking::{Client, Config, Credentials, GetByUploader, Order};
//!
//! let client = Client::new(Config::new(Credentials::new("b0f7041324", "tIQp4ATe9Z")?))?;
//! let query = GetByUploader::builder().order(Order::PtimeDesc).page_size(100).build()?;
//!
//! // One page...
//! let page = client.get_by_uploader(&query)?;
//! println!("{} videos in all", page.total_items);
//!
//! // ...or every video, fetched lazily page by page.
//! for video in client.videos(&query) {
//!     let video = video?;
//!     println!("{} {}", video.vid(), video.title());
//! }
//! # Ok::<(), polyv_blocking::Error>(())
//! ```
//!
//! ## Behaviour
//!
//! - **One retry loop.** [`Client::call`] runs [`polyv_core::driver::Call`]: every
//!   attempt is signed afresh, server exceptions, 429/5xx and network failures
//!   are retried with backoff (honouring `Retry-After`), documented 400s are
//!   final, and a `ptime` error is fixed once from the server's `Date` header.
//! - **Shared state.** Clones share the connection pool, the learnt clock
//!   offset and the client-side rate limit ([`Config::with_rate_limit`]).
//! - **Safe transport.** Redirects are never followed (a signed URL must not
//!   reach another host), bodies over [`Config::max_body_bytes`] fail with
//!   [`Error::BodyTooLarge`] without being buffered, and no error or log line
//!   carries the secret key or a full signature.
//! - **One limit for a fleet.** By default the rate limit is kept in process.
//!   [`Client::with_rate_limiter`] plugs in a [`RateLimiter`] shared by many
//!   processes (polyv-redis); both remember Polyv's rate-limit block
//!   ([`Error::is_rate_limit_block`]) and hold requests back until it is over.
//! - **Logging.** With a [`tracing`] subscriber, each call is a
//!   `polyv.call` span (method, path) with one debug event per attempt
//!   (attempt number, status, latency in ms, body size) and one per retry
//!   (the delay), target `polyv`: the core's call driver emits them, the same
//!   for every transport. The query string is never logged.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod limiter;
mod pages;
mod transport;
mod upload;

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use polyv_core::driver::{Call, ClientState, Paginator, Step, Tick, unix_ms};
use polyv_core::{Endpoint, Paged};

pub use limiter::RateLimiter;
pub use pages::{Items, Pages, Videos};
pub use polyv_core::upload::{
    ProgressFn, UploadOptions, UploadProgress, Uploaded, default_state_dir, upload_plan,
};
pub use polyv_core::{
    self as core, Config, Credentials, Error, GetByUploader, Order, Page, RateDecision, RateLimit,
    RawCall, RetryPolicy, TransportErrorKind, Video, VideoStatus,
};

/// A blocking Polyv client.
///
/// Cheap to clone: clones share the HTTP connection pool (connections are
/// kept alive and reused), the clock offset learnt from the server and the
/// rate limiter. It is `Send + Sync`, so one client can serve many threads.
/// Its `Debug` output never shows the secret key.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    agent: ureq::Agent,
    /// Sends without reusing a pooled connection: for the resend after a
    /// stale kept-alive connection failed (`Attempt::fresh_connection`).
    fresh: ureq::Agent,
    state: ClientState,
    /// A limiter shared beyond this process, asked instead of `state`'s.
    limiter: Option<Arc<dyn RateLimiter>>,
    /// The zero of the monotonic clock the pacer runs on.
    start: Instant,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Config`'s Debug redacts the secret key; the agent says nothing useful.
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("state", &self.state)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client, and its HTTP agent, from `config`: its connect and
    /// per-attempt timeouts and user agent, redirects never followed, TLS by
    /// rustls with the webpki roots.
    ///
    /// Fails with [`Error::InvalidInput`] when the user agent cannot be an
    /// HTTP header value.
    ///
    /// ```
    /// use polyv_blocking::{Client, Config, Credentials};
    ///
    /// let client = Client::new(Config::new(Credentials::new("u1", "secret")?))?;
    /// assert_eq!(client.config().base_url(), "https://api.polyv.net");
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn new(config: Config) -> Result<Self, Error> {
        let agent = transport::agent(&config, true);
        let fresh = transport::agent(&config, false);
        Ok(Self::from_parts(config, agent, fresh))
    }

    /// A client configured from `POLYV_USER_ID`, `POLYV_SECRET_KEY` and,
    /// when set, `POLYV_BASE_URL`, with the default settings otherwise
    /// ([`Config::from_env`]).
    pub fn from_env() -> Result<Self, Error> {
        Self::new(Config::from_env()?)
    }

    /// A client that sends through a caller-supplied [`ureq::Agent`] (a
    /// proxy, custom TLS roots...).
    ///
    /// Whatever the agent's own settings, every request is sent with
    /// redirects off, HTTP error statuses returned as responses (their bodies
    /// carry Polyv's error) and the config's per-attempt timeout. The agent's
    /// connect timeout and user agent apply as the agent has them, though the
    /// request's `User-Agent` header is the config's. A request that failed on
    /// a stale kept-alive connection is resent through the same agent (its
    /// pool cannot be bypassed from outside), so with a caller's agent the
    /// resend may meet another stale connection and count as a retry.
    ///
    /// ```
    /// use polyv_blocking::{Client, Config, Credentials};
    ///
    /// let agent = ureq::Agent::config_builder().no_delay(true).build().new_agent();
    /// let client = Client::with_ureq(Config::new(Credentials::new("u1", "secret")?), agent);
    /// # let _ = client;
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn with_ureq(config: Config, agent: ureq::Agent) -> Self {
        Self::from_parts(config, agent.clone(), agent)
    }

    fn from_parts(config: Config, agent: ureq::Agent, fresh: ureq::Agent) -> Self {
        let state = ClientState::new(&config);
        Self {
            inner: Arc::new(Inner {
                config,
                agent,
                fresh,
                state,
                limiter: None,
                start: Instant::now(),
            }),
        }
    }

    /// The same client (same configuration and connection pool) with its
    /// rate limit decided by `limiter` instead of in process: a limit shared
    /// by every process and machine behind one IP, e.g. polyv-redis's
    /// `RedisLimiter`. The configuration's own [`RateLimit`] is then not
    /// used. Clones of the returned client share `limiter`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use polyv_blocking::{Client, Config, Credentials, Error, RateDecision, RateLimiter};
    ///
    /// /// A limiter that lets everything through at once.
    /// #[derive(Debug)]
    /// struct Unlimited;
    /// impl RateLimiter for Unlimited {
    ///     fn decide(&self) -> Result<RateDecision, Error> {
    ///         Ok(RateDecision::Wait(Duration::ZERO))
    ///     }
    ///     fn record_block(&self) {}
    /// }
    ///
    /// let client = Client::new(Config::new(Credentials::new("u1", "secret")?))?
    ///     .with_rate_limiter(Arc::new(Unlimited));
    /// # let _ = client;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_rate_limiter(self, limiter: Arc<dyn RateLimiter>) -> Self {
        let inner = &*self.inner;
        let state = ClientState::with_shared_limiter(&inner.config);
        state.set_clock_offset_ms(inner.state.clock_offset_ms());
        Self {
            inner: Arc::new(Inner {
                config: inner.config.clone(),
                agent: inner.agent.clone(),
                fresh: inner.fresh.clone(),
                state,
                limiter: Some(limiter),
                start: inner.start,
            }),
        }
    }

    /// The client's configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Calls any endpoint: signs, sends, retries what is worth retrying
    /// (freshly signed every time), corrects the clock once on a `ptime`
    /// error, and returns the endpoint's `data`.
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, GetByUploader};
    ///
    /// let client = Client::from_env()?;
    /// let page = client.call(&GetByUploader::new())?;
    /// println!("{} videos", page.total_items);
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn call<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Data, Error> {
        let inner = &*self.inner;
        let mut call = Call::new(&inner.config, &inner.state, endpoint);
        loop {
            match call.next(inner.tick()) {
                Step::Wait(delay) => std::thread::sleep(delay),
                Step::Admit => call.admitted(inner.limiter().decide()),
                Step::RecordBlock => inner.limiter().record_block(),
                Step::Send(attempt) => {
                    let agent = if attempt.fresh_connection {
                        &inner.fresh
                    } else {
                        &inner.agent
                    };
                    let outcome = transport::send(agent, attempt.request, &inner.config);
                    call.receive(outcome, inner.tick());
                }
                Step::Done(result) => return result,
            }
        }
    }

    /// One page of the videos the sub-accounts uploaded.
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, GetByUploader};
    ///
    /// let client = Client::from_env()?;
    /// let page = client.get_by_uploader(&GetByUploader::builder().page(2).build()?)?;
    /// for video in &page.items {
    ///     println!("{} {:?}", video.vid(), video.status());
    /// }
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn get_by_uploader(&self, query: &GetByUploader) -> Result<Page<Video>, Error> {
        self.call(query)
    }

    /// Calls an endpoint this SDK does not type yet and returns its `data`
    /// as JSON.
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, RawCall};
    ///
    /// let client = Client::from_env()?;
    /// let data = client.raw(&RawCall::get("/v2/video/{userid}/get-by-uploader")?.param("page", "1"))?;
    /// println!("{data}");
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn raw(&self, call: &RawCall) -> Result<serde_json::Value, Error> {
        self.call(call)
    }

    /// Every video the query matches, from its page on, fetched lazily one
    /// page at a time: [`items`](Self::items) for get-by-uploader. A record
    /// that cannot be read is an error in its place and the walk goes on;
    /// the iterator ends after a page-level error.
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, GetByUploader};
    ///
    /// let client = Client::from_env()?;
    /// let mut videos = client.videos(&GetByUploader::builder().page_size(1000).build()?);
    /// while let Some(video) = videos.next() {
    ///     let video = video?;
    ///     eprintln!("page {}/{:?}: {}", videos.progress().pages_done, videos.progress().last_page, video.vid());
    /// }
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn videos(&self, query: &GetByUploader) -> Videos {
        self.items(query.clone())
    }

    /// Every item of any paged endpoint, from the query's page on, fetched
    /// lazily page by page (see [`Items`]).
    pub fn items<E: Paged>(&self, query: E) -> Items<E> {
        Items::new(self.paginate(query))
    }

    /// Every page the query matches, from its page on, fetched lazily. The
    /// iterator ends after yielding an error.
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, GetByUploader};
    ///
    /// let client = Client::from_env()?;
    /// for page in client.pages(&GetByUploader::new()) {
    ///     let page = page?;
    ///     println!("page {} holds {} videos", page.page_number, page.items.len());
    /// }
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn pages(&self, query: &GetByUploader) -> Pages {
        self.paginate(query.clone())
    }

    /// Every page of any paged endpoint, fetched lazily, like
    /// [`pages`](Self::pages).
    pub fn paginate<E: Paged>(&self, query: E) -> Pages<E> {
        Pages::new(self.clone(), Paginator::new(query))
    }
}

impl Inner {
    /// The shared limiter the core asks about ([`Step::Admit`] and
    /// [`Step::RecordBlock`] come only when there is one).
    fn limiter(&self) -> &dyn RateLimiter {
        self.limiter.as_deref().unwrap_or(&limiter::InProcess)
    }

    /// The clocks and a jitter, for the core's call driver.
    fn tick(&self) -> Tick {
        Tick {
            unix_ms: unix_ms(SystemTime::now()),
            monotonic: self.start.elapsed(),
            jitter: fastrand::f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        fn assert_send<T: Send + 'static>() {}
        assert_traits::<Client>();
        assert_send::<Videos>();
        assert_send::<Pages>();
    }

    #[test]
    fn bad_user_agent_is_refused() {
        let config = Config::new(Credentials::new("u", "k").unwrap()).with_user_agent("a\nb");
        assert!(matches!(config, Err(Error::InvalidInput(_))));
    }
}
