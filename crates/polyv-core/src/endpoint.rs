//! The shape every Polyv v2 endpoint shares, and turning one into a signed
//! `http::Request`.

use std::fmt::{self, Write as _};

use serde::de::DeserializeOwned;

use std::num::NonZeroU32;

use crate::{Error, Page, SignedParams, UserId};

/// The parameter that carries the request time in milliseconds.
pub const PTIME_PARAM: &str = "ptime";

/// The query parameters of one request, raw (unencoded), in the order an
/// [`Endpoint`] lists them. Names and text values are borrowed from the
/// endpoint and numbers are kept inline, so listing them allocates nothing.
///
/// ```
/// use polyv_core::Params;
///
/// let email = String::from("a+b@example.com");
/// let mut params = Params::new();
/// params.push("email", &email);
/// params.push_number("page", 2);
/// assert_eq!(params.iter().collect::<Vec<_>>(), [("email", "a+b@example.com"), ("page", "2")]);
/// ```
#[derive(Clone, Default)]
pub struct Params<'a> {
    list: Vec<Entry<'a>>,
}

#[derive(Clone, Copy)]
struct Entry<'a> {
    name: &'a str,
    value: Value<'a>,
}

#[derive(Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    /// The decimal digits of a number (a `u64` has at most 20).
    Digits {
        bytes: [u8; 20],
        len: u8,
    },
}

impl<'a> Entry<'a> {
    fn pair(&self) -> (&str, &str) {
        let value = match &self.value {
            Value::Text(text) => text,
            // Only ASCII digits are ever stored.
            Value::Digits { bytes, len } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
        };
        (self.name, value)
    }
}

impl<'a> Params<'a> {
    /// No parameters.
    pub fn new() -> Self {
        Self {
            // Room for every parameter an endpoint of this SDK sends.
            list: Vec::with_capacity(8),
        }
    }

    /// Adds a parameter. An empty value is left out of the query and the
    /// signature alike.
    #[inline]
    pub fn push(&mut self, name: &'a str, value: &'a str) {
        self.list.push(Entry {
            name,
            value: Value::Text(value),
        });
    }

    /// Adds a number, written in decimal.
    pub fn push_number(&mut self, name: &'a str, value: u64) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(value).as_bytes();
        let mut bytes = [0; 20];
        bytes[..digits.len()].copy_from_slice(digits);
        self.list.push(Entry {
            name,
            value: Value::Digits {
                bytes,
                // At most 20.
                len: u8::try_from(digits.len()).unwrap_or(20),
            },
        });
    }

    /// The parameters as `(name, value)` pairs, in the order they were added.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.list.iter().map(Entry::pair)
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A Polyv v2 endpoint: where it lives, what it sends, what it signs and what
/// its `data` is. Adding an endpoint means implementing this, nothing else.
///
/// ```
/// use polyv_core::{Endpoint, Params, UserId};
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
///     fn write_path(&self, user_id: &UserId, path: &mut String) {
///         path.push_str("/v2/video/");
///         path.push_str(user_id.as_str());
///         path.push_str("/get-title");
///     }
///     fn params<'a>(&'a self, params: &mut Params<'a>) {
///         params.push("vid", &self.vid);
///     }
/// }
/// ```
pub trait Endpoint {
    /// The type of the envelope's `data` on success.
    type Data: DeserializeOwned;

    /// The HTTP method; GET unless the endpoint says otherwise. A POST sends
    /// its parameters as an `application/x-www-form-urlencoded` body.
    fn method(&self) -> http::Method {
        http::Method::GET
    }

    /// Appends the path, starting with `/`, for this account (to the URL
    /// being built: the path costs no allocation of its own).
    fn write_path(&self, user_id: &UserId, path: &mut String);

    /// Lists the parameters, raw, borrowed from the endpoint: the query of a
    /// GET, the form body of a POST. Blank values are dropped from what is
    /// sent and signed alike; `ptime` and `sign` are added when signing.
    /// Listing them in signing order (byte order of the names) spares the
    /// signer a sort.
    fn params<'a>(&'a self, params: &mut Params<'a>);

    /// Which parameters are signed; every one sent unless the endpoint says
    /// otherwise (see [`SignedParams`] for the shapes Polyv uses).
    fn signed_params(&self) -> SignedParams {
        SignedParams::ALL
    }

    /// Whether sending this call twice is harmless, so that it may be retried
    /// after the request may have reached the server. Reads and listings
    /// are; a call that creates something is not, and is then retried only
    /// when the request surely never left ([`Error::never_sent`]). The
    /// default: GET and HEAD calls are safe, others are not.
    fn resend_safe(&self) -> bool {
        let method = self.method();
        method == http::Method::GET || method == http::Method::HEAD
    }

    /// Reads a response into this endpoint's `data`. The default is
    /// [`parse_response`](crate::parse_response); paged endpoints use
    /// [`parse_page_response`](crate::parse_page_response), so that an
    /// unreadable record does not fail its page.
    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<Self::Data, Error> {
        crate::parse_response(status, retry_after, body)
    }

    /// The path for this account as a `String` (for logs and messages).
    fn path(&self, user_id: &UserId) -> String {
        let mut path = String::new();
        self.write_path(user_id, &mut path);
        path
    }
}

/// An endpoint whose `data` is a [`Page`] and which can be asked for any page:
/// what the pagination walker needs.
pub trait Paged: Endpoint<Data = Page<Self::Item>> + Clone {
    /// The type of one listed item.
    type Item;

    /// The page this call asks for.
    fn page_number(&self) -> u32;

    /// The same call for another page.
    fn for_page(&self, page: NonZeroU32) -> Self;

    /// The call a walk starts from: the same, but asking for the largest
    /// page the endpoint allows when no page size was set (the default
    /// keeps the call as it is). Under Polyv's rate limit (1,500 requests
    /// per 10 s) fewer, larger pages make whole listings fast: 100,000
    /// videos are 100 requests at 1,000 a page, 5,000 at the server's 20.
    /// Walks follow the page size the server answers with, whatever was
    /// asked.
    fn for_walk(&self) -> Self {
        self.clone()
    }

    /// The key that identifies an item across pages (a video's `vid`), so a
    /// walk over a listing that changes never delivers one item twice;
    /// `None` (the default) for items without one.
    fn item_key(item: &Self::Item) -> Option<&str> {
        let _ = item;
        None
    }
}

/// Any path with any parameters, signed like the rest, `data` left as JSON:
/// the escape hatch for endpoints this SDK does not type yet. It can say
/// everything a typed endpoint can: the method (a POST sends a form body),
/// each signing shape ([`SignedParams`]), whether it may be sent twice, and
/// any `data` (an object, an array, `true`, a string; `""` reads as `null`).
///
/// `{userid}` in the path is replaced by the account id.
///
/// ```
/// use polyv_core::{Config, Credentials, RawCall, SignedParams};
///
/// let config = Config::new(Credentials::new("u1", "secret")?);
/// let call = RawCall::get("/v2/video/{userid}/get-by-uploader")?
///     .param("page", "2")
///     .signed(SignedParams::ALL);
/// let request = config.prepare(&call, 1_700_000_000_000)?;
/// assert!(request.uri().to_string().starts_with("https://api.polyv.net/v2/video/u1/get-by-uploader?page=2&ptime=1700000000000&sign="));
///
/// // updateCata: a form POST signing a fixed subset and the unsent `userid`.
/// let rename = RawCall::post("/v2/video/{userid}/updateCata")?
///     .param("cataid", "1466567123649")
///     .param("cataname", "polyv")
///     .signed(SignedParams::only_with_user_id(&["cataid", "cataname"]));
/// let request = config.prepare(&rename, 1_469_599_842_000)?;
/// assert_eq!(request.method(), "POST");
/// assert!(std::str::from_utf8(request.body())?.starts_with("cataid=1466567123649&cataname=polyv&ptime=1469599842000&sign="));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCall {
    method: http::Method,
    path: String,
    params: Vec<(String, String)>,
    signed: SignedParams,
    resend_safe: Option<bool>,
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
            signed: SignedParams::ALL,
            resend_safe: None,
        })
    }

    /// A GET call: the parameters go in the query.
    pub fn get(path: impl Into<String>) -> Result<Self, Error> {
        Self::new(http::Method::GET, path)
    }

    /// A POST call: the parameters go in an
    /// `application/x-www-form-urlencoded` body. Not sent twice unless
    /// [`resend_safe`](Self::resend_safe) says so.
    pub fn post(path: impl Into<String>) -> Result<Self, Error> {
        Self::new(http::Method::POST, path)
    }

    /// Adds a parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Says which parameters are signed (default: all).
    pub fn signed(mut self, signed: SignedParams) -> Self {
        self.signed = signed;
        self
    }

    /// Says whether the call may be sent twice (default: GET and HEAD may,
    /// others may not; see [`Endpoint::resend_safe`]).
    pub fn resend_safe(mut self, yes: bool) -> Self {
        self.resend_safe = Some(yes);
        self
    }
}

impl Endpoint for RawCall {
    type Data = serde_json::Value;

    fn method(&self) -> http::Method {
        self.method.clone()
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        let mut pieces = self.path.split("{userid}");
        path.push_str(pieces.next().unwrap_or_default());
        for piece in pieces {
            path.push_str(user_id.as_str());
            path.push_str(piece);
        }
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        for (name, value) in &self.params {
            params.push(name, value);
        }
    }

    fn signed_params(&self) -> SignedParams {
        self.signed.clone()
    }

    fn resend_safe(&self) -> bool {
        let method = &self.method;
        self.resend_safe
            .unwrap_or(method == http::Method::GET || method == http::Method::HEAD)
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

    #[test]
    fn raw_call_paths_take_the_user_id_wherever_it_is_asked() {
        let user = UserId::new("u1").unwrap();
        for (path, expected) in [
            ("/v2/x", "/v2/x"),
            ("/v2/{userid}/x", "/v2/u1/x"),
            ("/{userid}", "/u1"),
            ("/{userid}/{userid}", "/u1/u1"),
        ] {
            assert_eq!(RawCall::get(path).unwrap().path(&user), expected);
        }
    }

    #[test]
    fn params_keep_order_and_numbers_of_every_size() {
        let mut params = Params::new();
        assert!(params.is_empty());
        params.push("b", "x y");
        params.push_number("a", 0);
        params.push_number("max", u64::MAX);
        params.push("empty", "");
        assert_eq!(
            params.iter().collect::<Vec<_>>(),
            [
                ("b", "x y"),
                ("a", "0"),
                ("max", "18446744073709551615"),
                ("empty", "")
            ]
        );
        assert_eq!(params.len(), 4);
        assert_eq!(
            format!("{params:?}"),
            r#"[("b", "x y"), ("a", "0"), ("max", "18446744073709551615"), ("empty", "")]"#
        );
    }
}
