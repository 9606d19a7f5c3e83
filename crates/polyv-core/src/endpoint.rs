//! The shape every Polyv v2 endpoint shares, and turning one into a signed
//! `http::Request`.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::de::DeserializeOwned;

use crate::{Error, UserId};

/// The parameter that carries the request time in milliseconds.
pub const PTIME_PARAM: &str = "ptime";

/// A query parameter: a name and its raw (unencoded) value. Both are `Cow`s
/// so that fixed names and values (flags, enum codes) cost no allocation.
pub type Param = (Cow<'static, str>, Cow<'static, str>);

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
    pub(crate) fn includes(self, name: &str) -> bool {
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
///         vec![("vid".into(), self.vid.clone().into())]
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
        self.params
            .push((Cow::Owned(name.into()), Cow::Owned(value.into())));
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

    #[test]
    fn redaction() {
        assert_eq!(redact_signed("no sign here"), "no sign here");
        assert_eq!(redact_signed("sign=ABC&x=1"), "sign=ABC&x=1");
        assert_eq!(
            redact_signed("a sign=0123456789AB b sign=FFFFFFFFFFFFFFFF"),
            "a sign=01234567… b sign=FFFFFFFF…"
        );
    }

    #[test]
    fn raw_call_paths_are_checked() {
        assert!(RawCall::get("no-slash").is_err());
        assert!(RawCall::get("/a?b").is_err());
        assert!(RawCall::get("/a b").is_err());
        assert!(RawCall::get("/v2/{userid}/x").is_ok());
    }
}
