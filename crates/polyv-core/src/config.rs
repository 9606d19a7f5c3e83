//! Client configuration, request signing, and the state every clone of a
//! client shares.

use std::time::Duration;

use crate::driver::{CallEvent, Observer};
use crate::sign::{self, Carrier};
use crate::{Credentials, Endpoint, Error, RateLimit, RetryPolicy};

/// Polyv's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.polyv.net";

/// The environment variable that overrides [`DEFAULT_BASE_URL`] in
/// [`Config::from_env`].
pub const ENV_BASE_URL: &str = "POLYV_BASE_URL";

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
    user_agent_header: http::HeaderValue,
    max_body_bytes: u64,
    observer: ObserverSlot,
}

/// The observer, behind a `Debug` that says only whether there is one.
#[derive(Clone, Default)]
struct ObserverSlot(Option<Observer>);

impl std::fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(<observer>)"
        } else {
            "None"
        })
    }
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
            user_agent_header: http::HeaderValue::from_static(DEFAULT_USER_AGENT),
            max_body_bytes: 8 * 1024 * 1024,
            observer: ObserverSlot::default(),
        }
    }

    /// Calls `observer` with every [`CallEvent`] of every call (retries and
    /// why, resends on fresh connections, clock fixes, giving up): what a
    /// command-line tool needs to tell its user what is going on and why a
    /// call failed. Clones of the config share it.
    ///
    /// ```
    /// use polyv_core::{CallEvent, Config, Credentials};
    ///
    /// let config = Config::new(Credentials::new("u1", "secret")?).with_observer(|event| {
    ///     if let CallEvent::Retrying { attempt, max_attempts, delay, error, .. } = event {
    ///         eprintln!("retrying in {delay:?} (attempt {} of {max_attempts}): {error}", attempt + 1);
    ///     }
    /// });
    /// assert!(config.observer().is_some());
    /// # Ok::<(), polyv_core::Error>(())
    /// ```
    pub fn with_observer(
        mut self,
        observer: impl Fn(&CallEvent<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.observer = ObserverSlot(Some(std::sync::Arc::new(observer)));
        self
    }

    /// The observer set with [`with_observer`](Self::with_observer).
    pub fn observer(&self) -> Option<&Observer> {
        self.observer.0.as_ref()
    }

    /// A configuration from the process environment, which is read for
    /// exactly these variables:
    ///
    /// | variable | |
    /// |---|---|
    /// | `POLYV_USER_ID` | the account's user id (required) |
    /// | `POLYV_SECRET_KEY` | the account's secret key (required) |
    /// | `POLYV_BASE_URL` | the base URL (optional): when set and non-empty it replaces [`DEFAULT_BASE_URL`], checked as by [`Config::with_base_url`] |
    ///
    /// Unset or empty required variables are reported together in one
    /// [`Error::Env`]; a value that is not UTF-8 or a base URL that does not
    /// validate is [`Error::InvalidInput`]. Everything else has the
    /// defaults of [`Config::new`].
    pub fn from_env() -> Result<Self, Error> {
        let credentials = Credentials::from_env()?;
        let base_url = crate::credentials::env_var(ENV_BASE_URL)?;
        Self::new(credentials).with_base_url_from(base_url)
    }

    /// Like [`Config::from_env`], with the variables looked up by the given
    /// function (a test's map, a config file...).
    ///
    /// ```
    /// use polyv_core::Config;
    ///
    /// let vars = [("POLYV_USER_ID", "u1"), ("POLYV_SECRET_KEY", "k"), ("POLYV_BASE_URL", "http://127.0.0.1:8080")];
    /// let lookup = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
    /// let config = Config::from_lookup(lookup)?;
    /// assert_eq!(config.base_url(), "http://127.0.0.1:8080");
    /// # Ok::<(), polyv_core::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let credentials = Credentials::from_lookup(&lookup)?;
        Self::new(credentials).with_base_url_from(lookup(ENV_BASE_URL))
    }

    /// `with_base_url` for a variable's value; unset or empty: the default.
    fn with_base_url_from(self, base_url: Option<String>) -> Result<Self, Error> {
        match base_url.filter(|url| !url.is_empty()) {
            Some(url) => self.with_base_url(&url).map_err(|e| match e {
                Error::InvalidInput(why) => Error::InvalidInput(format!("{ENV_BASE_URL}: {why}")),
                other => other,
            }),
            None => Ok(self),
        }
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

    /// Sets the `User-Agent`; refused ([`Error::InvalidInput`]) when it
    /// cannot be an HTTP header value. The one place it is checked.
    ///
    /// ```
    /// use polyv_core::{Config, Credentials};
    ///
    /// let config = Config::new(Credentials::new("u1", "secret")?);
    /// assert!(config.clone().with_user_agent("my-app/1.0").is_ok());
    /// assert!(config.with_user_agent("a\nb").is_err());
    /// # Ok::<(), polyv_core::Error>(())
    /// ```
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Result<Self, Error> {
        let user_agent = user_agent.into();
        self.user_agent_header = http::HeaderValue::from_str(&user_agent).map_err(|_| {
            Error::InvalidInput(format!(
                "the user agent {user_agent:?} is not a valid HTTP header value"
            ))
        })?;
        self.user_agent = user_agent;
        Ok(self)
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
    /// method, URL, `Accept` and `User-Agent`, and for a GET the encoded,
    /// signed query, for a POST the same as an
    /// `application/x-www-form-urlencoded; charset=UTF-8` body (empty for a
    /// GET).
    ///
    /// Every attempt must be prepared afresh: a signed request expires after
    /// 3 minutes and must never be resent.
    pub fn prepare<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        now_ms: u64,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let method = endpoint.method();
        let carrier = if method == http::Method::GET || method == http::Method::HEAD {
            Carrier::Query
        } else {
            Carrier::Form
        };
        let encoded = sign::encode(endpoint, &self.credentials, &self.base_url, now_ms, carrier)?;
        let user_agent = self.user_agent_header.clone();
        let uri = http::Uri::try_from(encoded.url)
            .map_err(|err| Error::InvalidInput(format!("cannot build the request URL: {err}")))?;
        // Assembled in place rather than through `http::request::Builder`,
        // whose chained results move the whole request head at every step.
        let mut request =
            http::Request::new(encoded.form.map(String::into_bytes).unwrap_or_default());
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.reserve(3);
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        headers.insert(http::header::USER_AGENT, user_agent);
        if carrier == Carrier::Form {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(FORM_CONTENT_TYPE),
            );
        }
        Ok(request)
    }

    /// The lean path under [`prepare`](Self::prepare) for a GET endpoint:
    /// only the signed URL, for HTTP clients that take a URL string (and for
    /// the method and headers, [`Endpoint::method`] and
    /// [`user_agent`](Self::user_agent)). A POST endpoint's parameters go in
    /// its body: use [`prepare`](Self::prepare).
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
        let method = endpoint.method();
        if method != http::Method::GET && method != http::Method::HEAD {
            return Err(Error::InvalidInput(format!(
                "a {method} endpoint sends its parameters in the body: use Config::prepare"
            )));
        }
        sign::encode(
            endpoint,
            &self.credentials,
            &self.base_url,
            now_ms,
            Carrier::Query,
        )
        .map(|encoded| encoded.url)
    }
}

/// The `Content-Type` of a POST's form body, as Polyv's SDK sends it.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RawCall, SecretKey, SignedParams, sign};

    fn config() -> Config {
        Config::new(Credentials::new("u1", "tIQp4ATe9Z").unwrap())
    }

    #[test]
    fn from_lookup_reads_the_base_url() {
        let with = |base: Option<&'static str>| {
            move |name: &str| match name {
                "POLYV_USER_ID" => Some("u1".to_owned()),
                "POLYV_SECRET_KEY" => Some("k".to_owned()),
                "POLYV_BASE_URL" => base.map(str::to_owned),
                _ => None,
            }
        };
        let at = |base| Config::from_lookup(with(base)).map(|c| c.base_url().to_owned());
        assert_eq!(at(None).unwrap(), DEFAULT_BASE_URL);
        assert_eq!(at(Some("")).unwrap(), DEFAULT_BASE_URL);
        assert_eq!(
            at(Some("http://127.0.0.1:9/")).unwrap(),
            "http://127.0.0.1:9"
        );
        match at(Some("ftp://x")) {
            Err(Error::InvalidInput(why)) => assert!(why.starts_with("POLYV_BASE_URL: "), "{why}"),
            other => panic!("{other:?}"),
        }
        // Credentials are checked first, and every missing one is named.
        assert!(matches!(
            Config::from_lookup(|_| None),
            Err(Error::Env { unset, .. }) if unset.len() == 2
        ));
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
            .signed(SignedParams::only(&["vid"]));
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
            .signed(SignedParams::only(&["vid"]));
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
    fn user_agent_is_sent() {
        let req = config().prepare(&RawCall::get("/p").unwrap(), 1).unwrap();
        assert_eq!(req.headers()["user-agent"], DEFAULT_USER_AGENT);
        assert!(DEFAULT_USER_AGENT.starts_with("polyv-rs/"));
    }
}
