//! The shape every Polyv v2 endpoint shares, and turning one into a signed
//! `http::Request`.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::de::DeserializeOwned;

use crate::sign::{SIGN_PARAM, sign};
use crate::{Credentials, Error, UserId};

/// Polyv's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.polyv.net";

/// The parameter that carries the request time in milliseconds.
pub const PTIME_PARAM: &str = "ptime";

/// A query parameter: a name and its raw (unencoded) value.
pub type Param = (Cow<'static, str>, String);

/// Which parameters an endpoint signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedParams {
    /// Every non-empty query parameter, `ptime` included (get-by-uploader and
    /// most v2 endpoints).
    All,
    /// Only these names (plus `ptime`, which Polyv always signs).
    Only(&'static [&'static str]),
}

impl SignedParams {
    fn includes(self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(names) => name == PTIME_PARAM || names.contains(&name),
        }
    }
}

/// A Polyv v2 endpoint: where it lives, what it sends, what it signs and what
/// its `data` is. Adding an endpoint means implementing this, nothing else.
///
/// ```
/// use polyv_core::{Endpoint, Param, UserId};
/// use serde::Deserialize;
///
/// /// A hypothetical endpoint returning one video's title.
/// struct VideoTitle { vid: String }
///
/// #[derive(Deserialize)]
/// struct Title { title: String }
///
/// impl Endpoint for VideoTitle {
///     type Data = Title;
///     fn path(&self, user_id: &UserId) -> String {
///         format!("/v2/video/{user_id}/get-title")
///     }
///     fn params(&self) -> Vec<Param> {
///         vec![("vid".into(), self.vid.clone())]
///     }
/// }
/// ```
pub trait Endpoint {
    /// The type of the envelope's `data` on success.
    type Data: DeserializeOwned;

    /// The HTTP method; GET unless the endpoint says otherwise.
    fn method(&self) -> http::Method {
        http::Method::GET
    }

    /// The path, starting with `/`, for this account.
    fn path(&self, user_id: &UserId) -> String;

    /// The query parameters, raw. Empty values are dropped from the query and
    /// the signature alike; `ptime` and `sign` are added when signing.
    fn params(&self) -> Vec<Param>;

    /// Which parameters are signed; all of them unless the endpoint says otherwise.
    fn signed_params(&self) -> SignedParams {
        SignedParams::All
    }
}

/// Any path with any parameters, signed like the rest, `data` left as JSON:
/// the escape hatch for endpoints this SDK does not type yet.
///
/// `{userid}` in the path is replaced by the account id.
///
/// ```
/// use polyv_core::{Config, Credentials, RawCall, SignedParams};
///
/// let config = Config::new(Credentials::new("u1", "secret")?);
/// let call = RawCall::get("/v2/video/{userid}/get-by-uploader")?
///     .param("page", "2")
///     .signed(SignedParams::All);
/// let request = config.prepare(&call, 1_700_000_000_000)?;
/// assert!(request.uri().to_string().starts_with("https://api.polyv.net/v2/video/u1/get-by-uploader?page=2&ptime=1700000000000&sign="));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCall {
    method: http::Method,
    path: String,
    params: Vec<Param>,
    signed: SignedParams,
}

impl RawCall {
    /// A call with the given method and path (which must start with `/` and
    /// hold no `?` or `#`).
    pub fn new(method: http::Method, path: impl Into<String>) -> Result<Self, Error> {
        let path = path.into();
        if !path.starts_with('/')
            || path.contains(['?', '#'])
            || path.chars().any(char::is_whitespace)
        {
            return Err(Error::InvalidInput(format!(
                "the path {path:?} must start with '/' and contain no '?', '#' or whitespace"
            )));
        }
        Ok(Self {
            method,
            path,
            params: Vec::new(),
            signed: SignedParams::All,
        })
    }

    /// A GET call.
    pub fn get(path: impl Into<String>) -> Result<Self, Error> {
        Self::new(http::Method::GET, path)
    }

    /// Adds a parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((Cow::Owned(name.into()), value.into()));
        self
    }

    /// Says which parameters are signed (default: all).
    pub fn signed(mut self, signed: SignedParams) -> Self {
        self.signed = signed;
        self
    }
}

impl Endpoint for RawCall {
    type Data = serde_json::Value;

    fn method(&self) -> http::Method {
        self.method.clone()
    }

    fn path(&self, user_id: &UserId) -> String {
        self.path.replace("{userid}", user_id.as_str())
    }

    fn params(&self) -> Vec<Param> {
        self.params.clone()
    }

    fn signed_params(&self) -> SignedParams {
        self.signed
    }
}

/// Who is calling and where: credentials and the API's base URL. Turns
/// endpoints into signed requests.
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
}

impl Config {
    /// A configuration for Polyv's production API ([`DEFAULT_BASE_URL`]).
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
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
    /// the server's clock would read it) and returns the request to send.
    ///
    /// Every attempt must be prepared afresh: a signed request expires after
    /// 3 minutes and must never be resent.
    pub fn prepare<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        now_ms: u64,
    ) -> Result<http::Request<()>, Error> {
        let mut params = endpoint.params();
        params.retain(|(_, value)| !value.is_empty());
        if let Some((name, _)) = params
            .iter()
            .find(|(name, _)| name == PTIME_PARAM || name == SIGN_PARAM)
        {
            return Err(Error::InvalidInput(format!(
                "the parameter `{name}` is set by the signer; do not pass it"
            )));
        }
        let ptime = now_ms.to_string();
        let signed = endpoint.signed_params();
        let sign = sign(
            params
                .iter()
                .map(|(name, value)| (name.as_ref(), value.as_str()))
                .chain([(PTIME_PARAM, ptime.as_str())])
                .filter(|(name, _)| signed.includes(name)),
            self.credentials.secret_key(),
        );

        let path = endpoint.path(self.credentials.user_id());
        let mut url = String::with_capacity(self.base_url.len() + path.len() + 128);
        url.push_str(&self.base_url);
        url.push_str(&path);
        url.push('?');
        for (name, value) in &params {
            push_pair(&mut url, name, value);
        }
        push_pair(&mut url, PTIME_PARAM, &ptime);
        push_pair(&mut url, SIGN_PARAM, sign.as_str());
        url.pop(); // the last '&'

        http::Request::builder()
            .method(endpoint.method())
            .uri(url)
            .header(http::header::ACCEPT, "application/json")
            .body(())
            .map_err(|err| Error::InvalidInput(format!("cannot build the request URL: {err}")))
    }
}

/// Appends `name=value&`, form-urlencoded as PHP's `http_build_query` does.
fn push_pair(url: &mut String, name: &str, value: &str) {
    url.extend(form_urlencoded::byte_serialize(name.as_bytes()));
    url.push('=');
    url.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    url.push('&');
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

/// Hides all but the first 8 characters of any `sign=` value in a URL or a
/// message that may contain one, so logs and errors cannot be replayed.
///
/// ```
/// let url = "https://api.polyv.net/v2/video/u1/get-by-uploader?ptime=1&sign=50BF9B165630A8047EB1D17D95A469CC51FF754E";
/// assert_eq!(
///     polyv_core::redact_signed(url),
///     "https://api.polyv.net/v2/video/u1/get-by-uploader?ptime=1&sign=50BF9B16…"
/// );
/// ```
pub fn redact_signed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sign=") {
        let value_start = at + "sign=".len();
        out.push_str(&rest[..value_start]);
        let value_len = rest[value_start..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - value_start);
        let value = &rest[value_start..value_start + value_len];
        if value.len() > 8 {
            let _ = write!(out, "{}…", &value[..8]);
        } else {
            out.push_str(value);
        }
        rest = &rest[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "https://api.polyv.net/v2/video/u1/x?vid=382839019131be68715e9455f8d0971a_3&format=json&ptime=1492591990000&sign=50BF9B165630A8047EB1D17D95A469CC51FF754E"
        );
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
        assert!(RawCall::get("no-slash").is_err());
        assert!(RawCall::get("/a?b").is_err());
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_signed("no sign here"), "no sign here");
        assert_eq!(redact_signed("sign=ABC&x=1"), "sign=ABC&x=1");
        assert_eq!(
            redact_signed("a sign=0123456789AB b sign=FFFFFFFFFFFFFFFF"),
            "a sign=01234567… b sign=FFFFFFFF…"
        );
    }

    use crate::SecretKey;
}
