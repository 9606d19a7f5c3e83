//! Client configuration, request signing, and the state every clone of a
//! client shares.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::endpoint::PTIME_PARAM;
use crate::policy::{Pacer, RateDecision, RateLimit, RetryPolicy};
use crate::sign::{SIGN_PARAM, byte_order, pair_buf, sign_pairs};
use crate::{Credentials, Endpoint, Error, Params};

/// Polyv's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.polyv.net";

/// The `User-Agent` sent unless configured otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("polyv-rs/", env!("CARGO_PKG_VERSION"));

/// Everything a client needs to know: who is calling (credentials), where
/// (the base URL), and how (timeouts, retries, clock-skew correction, pacing,
/// user agent, body limit). Both transports take one `Config`, so they are
/// configured the same way; the core uses it to sign requests.
///
/// ```
/// use polyv_core::{Config, Credentials, GetByUploader};
///
/// let config = Config::new(Credentials::new("u1", "secret")?)
///     .with_base_url("http://127.0.0.1:8080")?;
/// let request = config.prepare(&GetByUploader::new(), 1_700_000_000_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/u1/get-by-uploader");
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    credentials: Credentials,
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    correct_clock_skew: bool,
    rate_limit: Option<RateLimit>,
    user_agent: String,
    /// `user_agent`, validated once; `None` when it is not a valid header value.
    user_agent_header: Option<http::HeaderValue>,
    max_body_bytes: u64,
}

impl Config {
    /// A configuration for Polyv's production API ([`DEFAULT_BASE_URL`]) with
    /// the defaults: 10 s connect and 30 s per-attempt timeouts,
    /// [`RetryPolicy::default`], clock-skew correction on,
    /// [`RateLimit::polyv_default`], user agent `polyv-rs/<version>`, and an
    /// 8 MiB response body limit.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            base_url: DEFAULT_BASE_URL.to_owned(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            correct_clock_skew: true,
            rate_limit: Some(RateLimit::polyv_default()),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            user_agent_header: Some(http::HeaderValue::from_static(DEFAULT_USER_AGENT)),
            max_body_bytes: 8 * 1024 * 1024,
        }
    }

    /// Reads the credentials from `POLYV_USER_ID` and `POLYV_SECRET_KEY`.
    pub fn from_env() -> Result<Self, Error> {
        Credentials::from_env().map(Self::new)
    }

    /// Sets the time allowed to open a connection.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed for one attempt, from sending to the last body byte.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Turns clock-skew correction on or off.
    pub fn with_clock_skew_correction(mut self, on: bool) -> Self {
        self.correct_clock_skew = on;
        self
    }

    /// Sets the client-side rate limit, or removes it with `None`. Every clone
    /// of a client shares one limit.
    pub fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Sets the `User-Agent`.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self.user_agent_header = http::HeaderValue::from_str(&self.user_agent).ok();
        self
    }

    /// Sets the largest response body accepted, in bytes.
    pub fn with_max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Whether clock-skew correction is on.
    pub fn clock_skew_correction(&self) -> bool {
        self.correct_clock_skew
    }

    /// The client-side rate limit, if any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    /// The `User-Agent`.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The largest response body accepted, in bytes.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }

    /// The buffer a transport reads a response body into, sized from the
    /// announced `Content-Length` so the body lands without reallocations
    /// (capped at 1 MiB up front: the length is the server's word, not
    /// yet a fact). A length over [`max_body_bytes`](Self::max_body_bytes)
    /// is refused before a byte is read.
    ///
    /// ```
    /// use polyv_core::{Config, Credentials, Error};
    ///
    /// let config = Config::new(Credentials::new("u1", "secret")?);
    /// assert!(config.body_buffer(Some(9_000))?.capacity() >= 9_000);
    /// assert!(matches!(config.body_buffer(Some(u64::MAX)), Err(Error::BodyTooLarge { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn body_buffer(&self, content_length: Option<u64>) -> Result<Vec<u8>, Error> {
        let announced = content_length.unwrap_or(0);
        if announced > self.max_body_bytes {
            return Err(Error::BodyTooLarge {
                limit: self.max_body_bytes,
            });
        }
        let capacity = announced.min(1 << 20);
        Ok(Vec::with_capacity(usize::try_from(capacity).unwrap_or(0)))
    }

    /// Points at another server (a proxy, a mock). The URL must be `http` or
    /// `https` with a host, and may carry a path prefix; no query or fragment.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, Error> {
        self.base_url = validate_base_url(base_url)?;
        Ok(self)
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Signs the endpoint's call at `now_ms` (milliseconds since the epoch, as
    /// the server's clock would read it) and returns the request to send:
    /// method, URL with the encoded, signed query, `Accept` and `User-Agent`.
    ///
    /// Every attempt must be prepared afresh: a signed request expires after
    /// 3 minutes and must never be resent.
    pub fn prepare<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        now_ms: u64,
    ) -> Result<http::Request<()>, Error> {
        let url = self.signed_url(endpoint, now_ms)?;
        let user_agent = self.user_agent_header.clone().ok_or_else(|| {
            Error::InvalidInput(format!(
                "the user agent {:?} is not a valid header value",
                self.user_agent
            ))
        })?;
        let uri = http::Uri::try_from(url)
            .map_err(|err| Error::InvalidInput(format!("cannot build the request URL: {err}")))?;
        // Assembled in place rather than through `http::request::Builder`,
        // whose chained results move the whole request head at every step.
        let mut request = http::Request::new(());
        *request.method_mut() = endpoint.method();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.reserve(2);
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        headers.insert(http::header::USER_AGENT, user_agent);
        Ok(request)
    }

    /// The lean path under [`prepare`](Self::prepare): only the signed URL,
    /// for HTTP clients that take a URL string (and for the method and
    /// headers, [`Endpoint::method`] and [`user_agent`](Self::user_agent)).
    ///
    /// When every parameter is signed (as for get-by-uploader), the query
    /// lists them in signing order, `ptime` included, then `sign`: it reads
    /// as the string that was signed. Otherwise the parameters keep the order
    /// the endpoint lists them in, followed by `ptime` and `sign`.
    ///
    /// ```
    /// use polyv_core::{Config, Credentials, GetByUploader};
    ///
    /// let config = Config::new(Credentials::new("u1", "secret")?);
    /// let url = config.signed_url(&GetByUploader::new(), 1_700_000_000_000)?;
    /// assert!(url.starts_with("https://api.polyv.net/v2/video/u1/get-by-uploader?ptime=1700000000000&sign="));
    /// # Ok::<(), polyv_core::Error>(())
    /// ```
    pub fn signed_url<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        now_ms: u64,
    ) -> Result<String, Error> {
        let mut params = Params::new();
        endpoint.params(&mut params);
        let signed = endpoint.signed_params();
        let mut ptime_digits = itoa::Buffer::new();
        let ptime = ptime_digits.format(now_ms);

        // One pass over the parameters: reject the reserved names, pick what
        // is signed, and size the URL.
        let mut pairs = pair_buf();
        let mut ptime_placed = false;
        let mut all_signed = true;
        let mut query_len = 0;
        for (name, value) in params.iter() {
            if value.is_empty() {
                continue;
            }
            if name == PTIME_PARAM || name == SIGN_PARAM {
                return Err(Error::InvalidInput(format!(
                    "the parameter `{name}` is set by the signer; do not pass it"
                )));
            }
            query_len += name.len() + value.len() + 2;
            if signed.includes(name) {
                // `ptime` goes before the first name after it: parameters
                // listed in signing order then stay in order, and signing
                // skips the sort. In any other order the signer sorts anyway.
                if !ptime_placed && byte_order(name, PTIME_PARAM).is_gt() {
                    pairs.push((PTIME_PARAM, ptime));
                    ptime_placed = true;
                }
                pairs.push((name, value));
            } else {
                all_signed = false;
            }
        }
        if !ptime_placed {
            pairs.push((PTIME_PARAM, ptime));
        }
        let sign = sign_pairs(pairs.as_mut_slice(), self.credentials.secret_key());

        let user_id = self.credentials.user_id();
        // Room for a path with the user id in it, `ptime=`, `&sign=` and the
        // 40 digits of the sign, plus a few escapes (`%40` in an email):
        // growing the URL would copy it.
        let path_len = user_id.as_str().len() + 64;
        let tail_len = "ptime=&sign=".len() + ptime.len() + 40 + 24;
        let mut url =
            String::with_capacity(self.base_url.len() + path_len + 1 + query_len + tail_len);
        url.push_str(&self.base_url);
        endpoint.write_path(user_id, &mut url);
        url.push('?');
        if all_signed {
            // The signed pairs are every parameter and `ptime`, now in
            // signing order: the query follows it.
            for &(name, value) in pairs.as_slice() {
                push_pair(&mut url, name, value);
            }
        } else {
            for (name, value) in params.iter() {
                if !value.is_empty() {
                    push_pair(&mut url, name, value);
                }
            }
            // Digits: nothing to encode.
            url.push_str("ptime=");
            url.push_str(ptime);
            url.push('&');
        }
        // Hex digits: nothing to encode.
        url.push_str("sign=");
        url.push_str(sign.as_str());
        Ok(url)
    }
}

/// Appends `name=value&`, form-urlencoded as PHP's `http_build_query` does.
#[inline]
fn push_pair(url: &mut String, name: &str, value: &str) {
    push_encoded(url, name);
    url.push('=');
    push_encoded(url, value);
    url.push('&');
}

/// The bytes `application/x-www-form-urlencoded` leaves as they are.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'*' | b'-' | b'.' | b'_');
        b += 1;
    }
    table
};

/// Form-urlencodes `text` onto `url`, byte for byte what
/// `form_urlencoded::byte_serialize` writes (a property test holds them
/// equal): unreserved runs are copied whole, a space becomes `+`, any other
/// byte `%XX`.
#[inline]
fn push_encoded(url: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if UNRESERVED[usize::from(b)] {
            continue;
        }
        // A run of unreserved (ASCII) bytes starts and ends on char boundaries.
        if run_start < i {
            url.push_str(&text[run_start..i]);
        }
        if b == b' ' {
            url.push('+');
        } else {
            url.push('%');
            url.push(char::from(HEX[usize::from(b >> 4)]));
            url.push(char::from(HEX[usize::from(b & 0xF)]));
        }
        run_start = i + 1;
    }
    if run_start < bytes.len() {
        url.push_str(&text[run_start..]);
    }
}

fn validate_base_url(base_url: &str) -> Result<String, Error> {
    let invalid = |why: &str| Error::InvalidInput(format!("base URL {base_url:?}: {why}"));
    let uri: http::Uri = base_url.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("the scheme must be http or https")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if uri.query().is_some() || base_url.contains('#') {
        return Err(invalid("it must not have a query or fragment"));
    }
    Ok(base_url.trim_end_matches('/').to_owned())
}

/// What every clone of a client shares: the clock offset learnt from the
/// server and the in-process rate limiter (a [`Pacer`], which also remembers
/// a server block). Transports keep one behind an `Arc`; a transport that
/// plugs in a shared limiter (polyv-redis) asks that one instead.
#[derive(Debug)]
pub struct ClientState {
    clock_offset_ms: AtomicI64,
    pacer: Option<Mutex<Pacer>>,
    block_for: Duration,
}

impl ClientState {
    /// Fresh state for a client with this configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            clock_offset_ms: AtomicI64::new(0),
            pacer: config
                .rate_limit()
                .map(|limit| Mutex::new(Pacer::new(limit))),
            block_for: config
                .rate_limit()
                .map_or(Duration::ZERO, |limit| limit.block_for),
        }
    }

    /// The server's clock minus ours, in milliseconds, as last measured.
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Stores a newly measured clock offset for later calls.
    pub fn set_clock_offset_ms(&self, offset: i64) {
        self.clock_offset_ms.store(offset, Ordering::Relaxed);
    }

    fn with_pacer<T>(&self, f: impl FnOnce(&mut Pacer) -> T) -> Option<T> {
        // A poisoned lock only means another thread panicked mid-update of
        // plain numbers; the pacer is still usable.
        self.pacer.as_ref().map(|pacer| {
            f(&mut pacer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner))
        })
    }

    /// Books one request with the rate limiter at `now` (a monotonic time the
    /// transport measures from a fixed start) and returns how long to wait
    /// before sending it: zero when there is no limit. Ignores blocks; see
    /// [`decide`](Self::decide).
    pub fn pace(&self, now: Duration) -> Duration {
        self.with_pacer(|pacer| pacer.reserve(now))
            .unwrap_or(Duration::ZERO)
    }

    /// The in-process limiter's [`RateDecision`] at `now` (a monotonic time
    /// from a fixed start): [`RateDecision::Blocked`] while a block recorded
    /// by [`record_block`](Self::record_block) lasts, else the wait of a
    /// newly booked request (zero when there is no limit).
    pub fn decide(&self, now: Duration) -> RateDecision {
        self.with_pacer(|pacer| pacer.decide(now))
            .unwrap_or(RateDecision::Wait(Duration::ZERO))
    }

    /// Records that the server answered with its rate-limit block at `now`:
    /// later [`decide`](Self::decide)s say [`RateDecision::Blocked`] for the
    /// limit's [`block_for`](RateLimit::block_for). Without a rate limit
    /// nothing is recorded.
    pub fn record_block(&self, now: Duration) {
        self.with_pacer(|pacer| pacer.block(now, self.block_for));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RawCall, SecretKey, SignedParams, sign};

    fn config() -> Config {
        Config::new(Credentials::new("u1", "tIQp4ATe9Z").unwrap())
    }

    #[test]
    fn base_urls() {
        for good in [
            "http://127.0.0.1:1234",
            "https://proxy.example/polyv/",
            "http://[::1]:80",
        ] {
            assert!(config().with_base_url(good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://x",
            "127.0.0.1:80",
            "http://x/?a=1",
            "http://x/#f",
            "",
            "http://",
        ] {
            assert!(config().with_base_url(bad).is_err(), "{bad}");
        }
        let c = config()
            .with_base_url("https://proxy.example/polyv/")
            .unwrap();
        let req = c.prepare(&RawCall::get("/v2/x").unwrap(), 1).unwrap();
        assert!(
            req.uri()
                .to_string()
                .starts_with("https://proxy.example/polyv/v2/x?ptime=1&sign=")
        );
    }

    #[test]
    fn raw_call_vector_and_encoding() {
        let call = RawCall::get("/v2/video/{userid}/x")
            .unwrap()
            .param("vid", "382839019131be68715e9455f8d0971a_3")
            .param("format", "json")
            .param("empty", "");
        let req = config().prepare(&call, 1_492_591_990_000).unwrap();
        assert_eq!(
            req.uri().to_string(),
            "https://api.polyv.net/v2/video/u1/x?format=json&ptime=1492591990000&vid=382839019131be68715e9455f8d0971a_3&sign=50BF9B165630A8047EB1D17D95A469CC51FF754E"
        );
        // Parameters left out of the signature keep their listed order, with
        // `ptime` after them.
        let partly = RawCall::get("/x")
            .unwrap()
            .param("vid", "v")
            .param("format", "json")
            .signed(SignedParams::Only(&["vid"]));
        let url = config().signed_url(&partly, 1).unwrap();
        assert!(url.contains("/x?vid=v&format=json&ptime=1&sign="), "{url}");
        let tricky = RawCall::get("/p")
            .unwrap()
            .param("email", "a+b c&d=e#f@x.com");
        let req = config().prepare(&tricky, 1).unwrap();
        assert!(
            req.uri()
                .query()
                .unwrap()
                .starts_with("email=a%2Bb+c%26d%3De%23f%40x.com&")
        );
    }

    #[test]
    fn signed_subset_and_reserved_names() {
        let only = RawCall::get("/p")
            .unwrap()
            .param("vid", "v")
            .param("extra", "not signed")
            .signed(SignedParams::Only(&["vid"]));
        let req = config().prepare(&only, 5).unwrap();
        let expected = sign(
            [("vid", "v"), ("ptime", "5")],
            &SecretKey::new("tIQp4ATe9Z"),
        );
        assert!(
            req.uri()
                .query()
                .unwrap()
                .ends_with(&format!("sign={expected}"))
        );
        for reserved in ["sign", "ptime"] {
            let call = RawCall::get("/p").unwrap().param(reserved, "1");
            assert!(matches!(
                config().prepare(&call, 1),
                Err(Error::InvalidInput(_))
            ));
        }
    }

    #[test]
    fn ptime_is_signed_in_its_place() {
        let secret = SecretKey::new("tIQp4ATe9Z");
        let cases: [&[(&str, &str)]; 6] = [
            // Sorted, `ptime` at the start, middle and end.
            &[("q", "1"), ("z", "2")],
            &[
                ("a", "1"),
                ("pageSize", "2"),
                ("published", "3"),
                ("z", "4"),
            ],
            &[("a", "1"), ("b", "2")],
            // Sorted but for an empty value, which is skipped.
            &[("a", "1"), ("zz", ""), ("b", "2")],
            // Unsorted, and a repeated name.
            &[("z", "1"), ("a", "2"), ("published", "3"), ("a", "1")],
            &[],
        ];
        for params in cases {
            let call = params
                .iter()
                .fold(RawCall::get("/p").unwrap(), |call, (n, v)| {
                    call.param(*n, *v)
                });
            let url = config().signed_url(&call, 1_700_000_000_000).unwrap();
            let expected = sign(
                params.iter().copied().chain([("ptime", "1700000000000")]),
                &secret,
            );
            assert!(url.ends_with(&format!("&sign={expected}")), "{params:?}");
        }
    }

    #[test]
    fn state_shares_offset_and_paces() {
        let limited = Config::new(Credentials::new("u", "k").unwrap()).with_rate_limit(Some(
            RateLimit::new(10, Duration::from_secs(1)).with_burst(1),
        ));
        let state = ClientState::new(&limited);
        assert_eq!(state.pace(Duration::ZERO), Duration::ZERO);
        assert_eq!(state.pace(Duration::ZERO), Duration::from_millis(100));
        state.set_clock_offset_ms(-5);
        assert_eq!(state.clock_offset_ms(), -5);
        let free = ClientState::new(&limited.clone().with_rate_limit(None));
        for _ in 0..1000 {
            assert_eq!(free.pace(Duration::ZERO), Duration::ZERO);
        }
        free.record_block(Duration::ZERO);
        assert_eq!(
            free.decide(Duration::ZERO),
            RateDecision::Wait(Duration::ZERO)
        );
        // A recorded block holds every request back for the limit's block time.
        state.record_block(Duration::from_secs(1));
        assert_eq!(
            state.decide(Duration::from_secs(2)),
            RateDecision::Blocked(crate::POLYV_BLOCK - Duration::from_secs(1))
        );
    }

    #[test]
    fn encoding_matches_form_urlencoded() {
        for text in [
            "",
            "plain-._*09AZaz",
            "a+b c&d=e#f@x.com",
            "测试 😀",
            "%2B",
            "~!'()",
            "\u{7f}\u{0}",
        ] {
            let mut ours = String::new();
            push_encoded(&mut ours, text);
            let reference: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
            assert_eq!(ours, reference, "{text:?}");
        }
    }

    #[test]
    fn user_agent_is_sent() {
        let req = config().prepare(&RawCall::get("/p").unwrap(), 1).unwrap();
        assert_eq!(req.headers()["user-agent"], DEFAULT_USER_AGENT);
        assert!(DEFAULT_USER_AGENT.starts_with("polyv-rs/"));
    }
}
