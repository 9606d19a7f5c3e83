//! # polyv-async
//!
//! An async client for the Polyv (保利威) video cloud API, on
//! [`reqwest`] + [`tokio`]. All the logic (signing, retries, clock-skew
//! correction, pacing, pagination, parsing) lives in [`polyv_core`]; this
//! crate only sends the requests, reads the bodies and sleeps.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use polyv_async::{Client, GetByUploader, Order};
//!
//! # async fn run() -> Result<(), polyv_async::Error> {
//! // POLYV_USER_ID, POLYV_SECRET_KEY and (when set) POLYV_BASE_URL.
//! let client = Client::from_env()?;
//!
//! // One page.
//! let query = GetByUploader::builder().order(Order::PtimeDesc).page_size(100).build()?;
//! let page = client.get_by_uploader(&query).await?;
//! println!("{} videos in all", page.total_items);
//!
//! // Every page, lazily, with up to 4 page requests in flight.
//! let mut videos = client.videos(&query).fetch_ahead(4);
//! while let Some(video) = videos.try_next().await? {
//!     println!("{} {}", video.vid(), video.title());
//! }
//! # Ok(()) }
//! ```
//!
//! The client works on tokio's current-thread and multi-thread runtimes alike;
//! it needs the runtime's time driver (`enable_time`/`enable_all`) and I/O
//! driver. TLS is rustls with the *ring* provider and the webpki root
//! certificates; redirects are never followed, so a signed URL is never
//! replayed to another host.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod limiter;
mod pages;
mod upload;

use std::sync::Arc;
use std::time::SystemTime;

use polyv_core::driver::{Call, ClientState, Response, Step, Tick, unix_ms};
use polyv_core::{Endpoint, Paged, TransportCause, redact_signed};

pub use limiter::{LimiterFuture, RateLimiter};
pub use pages::{Items, Pages, Videos};
pub use polyv_core::upload::{
    ProgressFn, UploadOptions, UploadProgress, Uploaded, default_state_dir, upload_plan,
};
pub use polyv_core::{
    self as core, Config, Credentials, Error, GetByUploader, Order, Page, RateDecision, RateLimit,
    RawCall, RetryPolicy, TransportErrorKind, Video, VideoStatus,
};
/// The `reqwest` this crate is built on, for [`Client::with_reqwest`].
pub use reqwest;
/// The `rustls` of [`tls_config`].
pub use rustls;

/// An async Polyv client.
///
/// Cheap to clone: every clone shares the HTTP connection pool (keep-alive),
/// the clock offset learnt from the server and the rate limiter. It is
/// `Send + Sync`, so clones can be used from any task. Its `Debug` output never
/// shows the secret key.
///
/// ```no_run
/// use polyv_async::{Client, Config, Credentials};
///
/// # fn run() -> Result<(), polyv_async::Error> {
/// let config = Config::new(Credentials::new("b0f7041324", "tIQp4ATe9Z")?)
///     .with_base_url("http://127.0.0.1:8080")?;
/// let client = Client::new(config)?;
/// let other_task = client.clone(); // same pool, same rate limit
/// # let _ = other_task;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    state: ClientState,
    http: reqwest::Client,
    /// Sends without reusing a pooled connection: for the resend after a
    /// stale kept-alive connection failed (`Attempt::fresh_connection`).
    fresh: reqwest::Client,
    /// A limiter shared beyond this process, asked instead of `state`'s.
    limiter: Option<Arc<dyn RateLimiter>>,
    /// The pacer's monotonic clock starts here.
    start: tokio::time::Instant,
}

impl Client {
    /// A client for this configuration: its HTTP client gets the connect
    /// timeout, the user agent, no redirects, and rustls (ring provider,
    /// webpki roots). Call it once and clone the client: clones share
    /// connections.
    ///
    /// ```
    /// use polyv_async::{Client, Config, Credentials};
    ///
    /// let client = Client::new(Config::new(Credentials::new("u1", "secret")?))?;
    /// assert!(!format!("{client:?}").contains("secret\""));
    /// # Ok::<(), polyv_async::Error>(())
    /// ```
    pub fn new(config: Config) -> Result<Self, Error> {
        let build = |pooled: bool| -> Result<reqwest::Client, Error> {
            let builder = reqwest::Client::builder()
                .tls_backend_preconfigured(tls_config()?)
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(config.connect_timeout())
                .timeout(config.timeout())
                .user_agent(config.user_agent());
            let builder = if pooled {
                builder
            } else {
                builder.pool_max_idle_per_host(0)
            };
            builder
                .build()
                .map_err(|err| transport_error(TransportErrorKind::Other, &err))
        };
        let (http, fresh) = (build(true)?, build(false)?);
        Ok(Self::from_parts(config, http, fresh))
    }

    /// A client configured from `POLYV_USER_ID`, `POLYV_SECRET_KEY` and,
    /// when set, `POLYV_BASE_URL` (else the production API), with the default
    /// settings otherwise ([`Config::from_env`]).
    ///
    /// ```no_run
    /// let client = polyv_async::Client::from_env()?;
    /// # let _ = client;
    /// # Ok::<(), polyv_async::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::new(Config::from_env()?)
    }

    /// A client that sends through a `reqwest::Client` of the caller's own (a
    /// proxy, extra root certificates...). The per-attempt timeout and the
    /// body limit still come from `config`; the caller's client should not
    /// follow redirects (`reqwest::redirect::Policy::none()`), or a signed URL
    /// may be replayed to another host.
    ///
    /// This crate builds reqwest without a built-in crypto provider: hand the
    /// builder a rustls configuration, e.g. [`tls_config`], unless the process
    /// installed a default `rustls::crypto::CryptoProvider`.
    ///
    /// ```
    /// use polyv_async::{Client, Config, Credentials, reqwest};
    ///
    /// let http = reqwest::Client::builder()
    ///     .tls_backend_preconfigured(polyv_async::tls_config()?)
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()
    ///     .map_err(|e| polyv_async::Error::InvalidInput(e.to_string()))?;
    /// let client = Client::with_reqwest(Config::new(Credentials::new("u1", "k")?), http);
    /// # let _ = client;
    /// # Ok::<(), polyv_async::Error>(())
    /// ```
    pub fn with_reqwest(config: Config, client: reqwest::Client) -> Self {
        Self::from_parts(config, client.clone(), client)
    }

    fn from_parts(config: Config, http: reqwest::Client, fresh: reqwest::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: ClientState::new(&config),
                config,
                http,
                fresh,
                limiter: None,
                start: tokio::time::Instant::now(),
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
    /// use polyv_async::{Client, Config, Credentials, Error, LimiterFuture, RateDecision, RateLimiter};
    ///
    /// /// A limiter that lets everything through at once.
    /// #[derive(Debug)]
    /// struct Unlimited;
    /// impl RateLimiter for Unlimited {
    ///     fn decide(&self) -> LimiterFuture<'_, Result<RateDecision, Error>> {
    ///         Box::pin(async { Ok(RateDecision::Wait(Duration::ZERO)) })
    ///     }
    ///     fn record_block(&self) -> LimiterFuture<'_, ()> {
    ///         Box::pin(async {})
    ///     }
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
                state,
                http: inner.http.clone(),
                fresh: inner.fresh.clone(),
                limiter: Some(limiter),
                start: inner.start,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Calls any endpoint: paces, signs afresh, sends, retries as the
    /// configuration's [`RetryPolicy`] says, and corrects the clock once on a
    /// `ptime` error. The one retry loop of this crate.
    ///
    /// ```no_run
    /// use polyv_async::{Client, GetByUploader};
    ///
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let page = client.call(&GetByUploader::new()).await?;
    /// println!("{} videos", page.total_items);
    /// # Ok(()) }
    /// ```
    pub async fn call<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Data, Error> {
        let inner = &*self.inner;
        let mut call = Call::new(&inner.config, &inner.state, endpoint);
        loop {
            match call.next(inner.tick()) {
                Step::Wait(delay) => tokio::time::sleep(delay).await,
                Step::Admit => call.admitted(inner.limiter().decide().await),
                Step::RecordBlock => inner.limiter().record_block().await,
                Step::Send(attempt) => {
                    let outcome = self.send(attempt.request, attempt.fresh_connection).await;
                    call.receive(outcome, inner.tick());
                }
                Step::Done(result) => return result,
            }
        }
    }

    /// One page of `GET /v2/video/{userid}/get-by-uploader`.
    ///
    /// ```no_run
    /// use polyv_async::{Client, GetByUploader};
    ///
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let query = GetByUploader::builder().page(2).build()?;
    /// for video in client.get_by_uploader(&query).await?.items {
    ///     println!("{}", video.vid());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_by_uploader(&self, query: &GetByUploader) -> Result<Page<Video>, Error> {
        self.call(query).await
    }

    /// Any signed v2 call, answered with the envelope's raw `data`.
    ///
    /// ```no_run
    /// use polyv_async::{Client, RawCall};
    ///
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let call = RawCall::get("/v2/video/{userid}/get-by-uploader")?.param("page", "1");
    /// let data = client.raw(&call).await?;
    /// println!("{data}");
    /// # Ok(()) }
    /// ```
    pub async fn raw(&self, call: &RawCall) -> Result<serde_json::Value, Error> {
        self.call(call).await
    }

    /// Every video the query matches, page after page, as a lazy [`Videos`]
    /// stream (nothing is sent before it is polled). See
    /// [`Videos::fetch_ahead`] to fetch pages concurrently.
    ///
    /// ```no_run
    /// use polyv_async::{Client, GetByUploader};
    ///
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let all = client.videos(&GetByUploader::new()).fetch_ahead(4).collect_all().await?;
    /// println!("{} videos", all.len());
    /// # Ok(()) }
    /// ```
    pub fn videos(&self, query: &GetByUploader) -> Videos {
        self.items(query.clone())
    }

    /// Every item of any paged endpoint, from the query's page on, as a lazy
    /// [`Items`] stream.
    pub fn items<E>(&self, query: E) -> Items<E>
    where
        E: Paged + Send + Sync + 'static,
        E::Item: Send + 'static,
    {
        Items::new(self.paginate(query))
    }

    /// Every page the query matches, from its page on, as a lazy [`Pages`]
    /// stream. The stream ends after yielding an error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use polyv_async::{Client, GetByUploader};
    ///
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let mut pages = client.pages(&GetByUploader::new());
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("page {} holds {} videos", page.page_number, page.items.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pages(&self, query: &GetByUploader) -> Pages {
        self.paginate(query.clone())
    }

    /// Every page of any paged endpoint, as a lazy [`Pages`] stream, like
    /// [`pages`](Self::pages).
    ///
    /// ```no_run
    /// # use polyv_async::{Client, GetByUploader};
    /// # async fn run(client: Client) {
    /// let pages = client.paginate(GetByUploader::new()).fetch_ahead(4);
    /// # let _ = pages;
    /// # }
    /// ```
    pub fn paginate<E>(&self, query: E) -> Pages<E>
    where
        E: Paged + Send + Sync + 'static,
        E::Item: Send + 'static,
    {
        Pages::new(self.clone(), query)
    }

    /// Sends one signed request and reads the body up to the size limit.
    async fn send(
        &self,
        request: polyv_core::http::Request<Vec<u8>>,
        fresh_connection: bool,
    ) -> Result<Response, Error> {
        let inner = &*self.inner;
        let http = if fresh_connection {
            &inner.fresh
        } else {
            &inner.http
        };
        let (parts, body) = request.into_parts();
        // The URL carries the signature: it is parsed here and never printed.
        let url = reqwest::Url::parse(&parts.uri.to_string())
            .map_err(|err| Error::InvalidInput(format!("the request URL does not parse: {err}")))?;
        let mut builder = http
            .request(parts.method, url)
            .headers(parts.headers)
            .timeout(inner.config.timeout());
        if !body.is_empty() {
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(map_send_error)?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let limit = inner.config.max_body_bytes();
        let mut body = inner.config.body_buffer(response.content_length())?;
        while let Some(chunk) = response.chunk().await.map_err(map_reqwest_error)? {
            let len = u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX);
            if len > limit {
                return Err(Error::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response::new(status, &headers, body))
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

/// The TLS configuration [`Client::new`] uses: rustls with the *ring* crypto
/// provider, the webpki root certificates (certificate and host-name checks
/// on) and HTTP/1.1. Start from it to build a `reqwest::Client` of your own
/// for [`Client::with_reqwest`].
///
/// ```
/// let tls = polyv_async::tls_config()?;
/// assert_eq!(tls.alpn_protocols, [b"http/1.1".to_vec()]);
/// # Ok::<(), polyv_async::Error>(())
/// ```
pub fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| transport_error(TransportErrorKind::Other, &err))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// Classifies a reqwest failure for the retry policy, with any URL removed.
fn map_reqwest_error(err: reqwest::Error) -> Error {
    let kind = if err.is_timeout() {
        TransportErrorKind::Timeout
    } else if err.is_connect() {
        TransportErrorKind::Connect
    } else if err.is_request() || err.is_body() || err.is_decode() {
        // No content decoders are enabled: a "decode" error is a body that
        // broke off while being read.
        TransportErrorKind::Io
    } else {
        TransportErrorKind::Other
    };
    let err = err.without_url();
    match err
        .is_decode()
        .then(|| std::error::Error::source(&err))
        .flatten()
    {
        // reqwest calls a body that broke off mid-read "error decoding
        // response body"; say what happened instead.
        Some(cause) => match transport_error(kind, cause) {
            Error::Transport {
                kind,
                message,
                cause,
            } => Error::Transport {
                kind,
                message: format!("reading the response body: {message}"),
                cause,
            },
            other => other,
        },
        None => transport_error(kind, &err),
    }
}

/// An error of `send()` (no response head yet): one that says the
/// connection closed before any response is [`TransportErrorKind::Closed`],
/// which the core answers with a resend on a new connection where that is
/// safe.
pub(crate) fn map_send_error(err: reqwest::Error) -> Error {
    match map_reqwest_error(err) {
        Error::Transport {
            kind: TransportErrorKind::Io,
            message,
            cause,
        } if closed_before_response(&message) => Error::Transport {
            kind: TransportErrorKind::Closed,
            message,
            cause,
        },
        other => other,
    }
}

/// Whether a failed send (no response head) means the connection was closed
/// under the request: hyper's "connection closed before message completed",
/// or a reset or broken pipe while writing or waiting for the head.
fn closed_before_response(message: &str) -> bool {
    const CLOSED: [&str; 4] = [
        "connection closed before message completed",
        "connection reset",
        "broken pipe",
        "connection aborted",
    ];
    let message = message.to_ascii_lowercase();
    CLOSED.iter().any(|needle| message.contains(needle))
}

/// An [`Error::Transport`] whose message is the error and its sources, with
/// any signature redacted.
fn transport_error(kind: TransportErrorKind, err: &(dyn std::error::Error + 'static)) -> Error {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    Error::Transport {
        kind,
        message: redact_signed(&message),
        cause: Some(TransportCause::of(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
    }

    #[test]
    fn tls_uses_ring() {
        let tls = tls_config().unwrap();
        assert_eq!(tls.alpn_protocols, [b"http/1.1".to_vec()]);
    }
}
