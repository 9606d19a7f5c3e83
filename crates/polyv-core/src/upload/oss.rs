//! Aliyun OSS requests of a multipart upload, signed with OSS signature V1.
//!
//! The rule ([Aliyun: include signatures in the Authorization header]; the
//! spec's section 2.2):
//!
//! ```text
//! Authorization: OSS {AccessKeyId}:{base64(HMAC-SHA1(AccessKeySecret, StringToSign))}
//! StringToSign = VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//!                CanonicalizedOSSHeaders CanonicalizedResource
//! ```
//!
//! `CanonicalizedOSSHeaders` is every `x-oss-*` header, name lowercased,
//! sorted, one `name:value\n` each (`x-oss-security-token` for STS
//! credentials, `x-oss-callback` on Complete). `CanonicalizedResource` is
//! `/{bucket}/{key}` with the raw key, then the signed sub-resources
//! (`uploads`, `partNumber`, `uploadId`, ...) sorted, after a `?`. Polyv's
//! uploads address the bucket through a custom domain (`Host: {domain}`,
//! path `/{key}`), so the bucket is in neither the host nor the path, but is
//! still in the signed resource.
//!
//! [Aliyun: include signatures in the Authorization header]: https://www.alibabacloud.com/help/en/oss/developer-reference/include-signatures-in-the-authorization-header

use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::Error;

use super::xml::{self, FinishedPart};

/// The header that carries an STS security token.
pub const SECURITY_TOKEN_HEADER: &str = "x-oss-security-token";
/// The header that carries the base64 callback on CompleteMultipartUpload.
pub const CALLBACK_HEADER: &str = "x-oss-callback";
/// The `Content-Type` of InitiateMultipartUpload, as Polyv's Java SDK sets
/// it for the object.
pub const INITIATE_CONTENT_TYPE: &str = "text/plain";
/// The `Content-Type` of CompleteMultipartUpload's XML body.
pub const XML_CONTENT_TYPE: &str = "application/xml";

/// The sub-resources that take part in the V1 signature (Aliyun's list, as
/// the official SDKs keep it); other query parameters (`max-parts`,
/// `part-number-marker`) are sent but not signed.
const SIGNED_SUB_RESOURCES: &[&str] = &[
    "acl",
    "append",
    "callback",
    "callback-var",
    "delete",
    "location",
    "partNumber",
    "position",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "symlink",
    "tagging",
    "uploadId",
    "uploads",
];

/// A text that must never print: an STS AccessKeySecret or SecurityToken.
#[derive(Clone, PartialEq, Eq)]
struct Hidden(String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Temporary STS credentials for OSS, as Polyv's `init` and `token` hand
/// them out (`accessId`, `accessKey`, `token`). `Debug` shows the
/// AccessKeyId only; the secret and the token print as `<redacted>`, and no
/// error of this module quotes them.
///
/// ```
/// use polyv_core::upload::StsCredentials;
///
/// let sts = StsCredentials::new("STS.testAccessKeyId", "testAccessKeySecret", "testSecurityToken")?;
/// let shown = format!("{sts:?}");
/// assert!(shown.contains("STS.testAccessKeyId"));
/// assert!(!shown.contains("testAccessKeySecret") && !shown.contains("testSecurityToken"));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StsCredentials {
    access_key_id: String,
    access_key_secret: Hidden,
    security_token: Hidden,
}

impl fmt::Debug for StsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &self.access_key_secret)
            .field("security_token", &self.security_token)
            .finish()
    }
}

impl StsCredentials {
    /// The AccessKeyId, AccessKeySecret and SecurityToken. The id and the
    /// secret must not be empty, and the id and the token must be valid
    /// header values (visible ASCII); an empty token means plain (non-STS)
    /// credentials, and no `x-oss-security-token` is sent.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        security_token: impl Into<String>,
    ) -> Result<Self, Error> {
        let access_key_id = access_key_id.into();
        let access_key_secret = access_key_secret.into();
        let security_token = security_token.into();
        if access_key_id.trim().is_empty() || access_key_secret.is_empty() {
            return Err(Error::InvalidInput(
                "the OSS credentials have an empty AccessKeyId or AccessKeySecret: ask Polyv for fresh ones (init or token)".into(),
            ));
        }
        if !is_header_text(&access_key_id) {
            return Err(Error::InvalidInput(format!(
                "the OSS AccessKeyId {access_key_id:?} is not a valid header value"
            )));
        }
        if !is_header_text(&security_token) {
            return Err(Error::InvalidInput(
                "the OSS security token is not a valid header value (it is not shown here)".into(),
            ));
        }
        Ok(Self {
            access_key_id,
            access_key_secret: Hidden(access_key_secret),
            security_token: Hidden(security_token),
        })
    }

    /// The AccessKeyId (not secret).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Whether there is a security token to send.
    pub fn has_security_token(&self) -> bool {
        !self.security_token.0.is_empty()
    }
}

/// Visible ASCII and spaces: what a header value may be here.
fn is_header_text(text: &str) -> bool {
    text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

/// `http` or `https`: the scheme of OSS requests, which follows the scheme of
/// the configured Polyv base URL (production is HTTPS; a mock on
/// `http://127.0.0.1` gets plain HTTP).
///
/// ```
/// use polyv_core::upload::UrlScheme;
///
/// assert_eq!(UrlScheme::of_base_url("https://api.polyv.net"), UrlScheme::Https);
/// assert_eq!(UrlScheme::of_base_url("http://127.0.0.1:8080"), UrlScheme::Http);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrlScheme {
    /// `http://`
    Http,
    /// `https://`
    Https,
}

impl UrlScheme {
    /// The scheme of a base URL such as [`Config::base_url`](crate::Config::base_url):
    /// `Http` when it starts with `http://` (any case), `Https` otherwise.
    pub fn of_base_url(base_url: &str) -> Self {
        let lower = base_url.get(..7).map(str::to_ascii_lowercase);
        if lower.as_deref() == Some("http://") {
            Self::Http
        } else {
            Self::Https
        }
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// The object key of an upload: `{dir}{vid}.{ext}` (`{dir}{vid}` when there
/// is no extension; the spec's 2.1 notes Polyv's SDKs disagree there, and
/// an extension should be sent). A leading `.` of `ext` is dropped.
///
/// ```
/// use polyv_core::upload::object_key;
///
/// assert_eq!(object_key("polyvupload/test/", "1b448be3230a0194d959426ae005645f_1", "mp4"),
///            "polyvupload/test/1b448be3230a0194d959426ae005645f_1.mp4");
/// assert_eq!(object_key("d/", "v_1", ".MOV"), "d/v_1.MOV");
/// assert_eq!(object_key("d/", "v_1", ""), "d/v_1");
/// ```
pub fn object_key(dir: &str, vid: &str, ext: &str) -> String {
    let ext = ext.strip_prefix('.').unwrap_or(ext);
    let mut key = String::with_capacity(dir.len() + vid.len() + ext.len() + 1);
    key.push_str(dir);
    key.push_str(vid);
    if !ext.is_empty() {
        key.push('.');
        key.push_str(ext);
    }
    key
}

/// The extension of a file name (the text after its last `.`, when that is
/// not the first character of the name and no `/` or `\` follows it), or
/// `""`: what [`object_key`] takes. Pure string work; nothing is read.
///
/// ```
/// use polyv_core::upload::file_extension;
///
/// assert_eq!(file_extension("/videos/talk.final.mp4"), "mp4");
/// assert_eq!(file_extension("C:\\v\\a.MOV"), "MOV");
/// assert_eq!(file_extension("/videos/.hidden"), "");
/// assert_eq!(file_extension("/a.dir/noext"), "");
/// ```
pub fn file_extension(path: &str) -> &str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name.rfind('.') {
        Some(0) | None => "",
        Some(at) => &name[at + 1..],
    }
}

/// Where an upload's object lives: the URL scheme, the custom domain the
/// requests go to, the bucket (signed, never sent) and the object key.
///
/// ```
/// use polyv_core::upload::{OssObject, UrlScheme};
///
/// let object = OssObject::new(UrlScheme::Http, "127.0.0.1:8080", "bucket", "dir/v_1.mp4")?;
/// assert_eq!(object.url(&[])?, "http://127.0.0.1:8080/dir/v_1.mp4");
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssObject {
    scheme: UrlScheme,
    domain: String,
    bucket: String,
    key: String,
}

impl OssObject {
    /// The object `key` in `bucket`, reached at `domain` (a host, with a
    /// port if any; a leading `http://` or `https://` and trailing `/` are
    /// dropped, the scheme being `scheme`).
    pub fn new(
        scheme: UrlScheme,
        domain: impl Into<String>,
        bucket: impl Into<String>,
        key: impl Into<String>,
    ) -> Result<Self, Error> {
        let domain = domain.into();
        let bucket = bucket.into();
        let key = key.into();
        let host = strip_scheme(domain.trim()).trim_end_matches('/');
        // An ASCII host name or address, with a port if any, that a URL
        // can carry as its authority as it is (`]` alone is not one).
        let is_authority = || {
            format!("https://{host}/")
                .parse::<http::Uri>()
                .is_ok_and(|uri| uri.authority().is_some_and(|a| a.as_str() == host))
        };
        if host.is_empty()
            || !host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
            })
            || !is_authority()
        {
            return Err(Error::InvalidInput(format!(
                "the upload domain {domain:?} is not a host name: check init's `domain`"
            )));
        }
        if bucket.is_empty() || bucket.contains(['/', '?', '#']) || !is_header_text(&bucket) {
            return Err(Error::InvalidInput(format!(
                "the OSS bucket {bucket:?} is not a bucket name: check init's `bucketName`"
            )));
        }
        if key.is_empty() || key.starts_with('/') || key.chars().any(char::is_control) {
            return Err(Error::InvalidInput(format!(
                "the OSS object key {key:?} is empty, starts with '/' or holds a control character: check init's `dir`"
            )));
        }
        Ok(Self {
            scheme,
            domain: host.to_owned(),
            bucket,
            key,
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> UrlScheme {
        self.scheme
    }

    /// The host (and port) the requests go to.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `{scheme}://{domain}/{key}` with the key percent-encoded (`/` kept)
    /// and the query, in the order given (names and values encoded; a
    /// `None` value gives a bare name such as `uploads`).
    pub fn url(&self, query: &[(&str, Option<&str>)]) -> Result<String, Error> {
        let mut url = String::with_capacity(self.domain.len() + self.key.len() + 64);
        url.push_str(self.scheme.as_str());
        url.push_str("://");
        url.push_str(&self.domain);
        url.push('/');
        push_percent_encoded(&mut url, &self.key, true);
        for (i, (name, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            push_percent_encoded(&mut url, name, false);
            if let Some(value) = value {
                url.push('=');
                push_percent_encoded(&mut url, value, false);
            }
        }
        Ok(url)
    }

    /// The V1 `CanonicalizedResource`: `/{bucket}/{key}`, then the signed
    /// sub-resources among `query`, sorted, after a `?`.
    ///
    /// ```
    /// use polyv_core::upload::{OssObject, UrlScheme};
    ///
    /// let object = OssObject::new(UrlScheme::Https, "upload.example.com", "b", "d/v.mp4")?;
    /// assert_eq!(
    ///     object.canonical_resource(&[("uploadId", Some("U")), ("partNumber", Some("3")), ("max-parts", Some("9"))]),
    ///     "/b/d/v.mp4?partNumber=3&uploadId=U"
    /// );
    /// # Ok::<(), polyv_core::Error>(())
    /// ```
    pub fn canonical_resource(&self, query: &[(&str, Option<&str>)]) -> String {
        let mut resource = format!("/{}/{}", self.bucket, self.key);
        let mut signed: Vec<&(&str, Option<&str>)> = query
            .iter()
            .filter(|(name, _)| SIGNED_SUB_RESOURCES.contains(name))
            .collect();
        signed.sort_by(|a, b| a.0.cmp(b.0));
        for (i, (name, value)) in signed.into_iter().enumerate() {
            resource.push(if i == 0 { '?' } else { '&' });
            resource.push_str(name);
            if let Some(value) = value {
                resource.push('=');
                resource.push_str(value);
            }
        }
        resource
    }
}

fn strip_scheme(domain: &str) -> &str {
    for scheme in ["https://", "http://"] {
        // `get`: the domain may hold multi-byte characters anywhere.
        if let (Some(head), Some(rest)) = (domain.get(..scheme.len()), domain.get(scheme.len()..)) {
            if head.eq_ignore_ascii_case(scheme) {
                return rest;
            }
        }
    }
    domain
}

/// Percent-encodes all but the unreserved bytes (and `/` when `keep_slash`).
fn push_percent_encoded(out: &mut String, text: &str, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

/// The V1 string to sign.
///
/// `oss_headers` are the request's `x-oss-*` headers (any case, any order;
/// others are ignored); `resource` is the
/// [`canonical_resource`](OssObject::canonical_resource).
///
/// ```
/// use polyv_core::upload::string_to_sign;
///
/// let s = string_to_sign("PUT", "", "", "Wed, 26 May 2021 04:00:00 GMT",
///     &[("X-OSS-Security-Token", "t"), ("x-oss-callback", "c")], "/b/k?uploads");
/// assert_eq!(s, "PUT\n\n\nWed, 26 May 2021 04:00:00 GMT\nx-oss-callback:c\nx-oss-security-token:t\n/b/k?uploads");
/// ```
pub fn string_to_sign(
    method: &str,
    content_md5: &str,
    content_type: &str,
    date: &str,
    oss_headers: &[(&str, &str)],
    resource: &str,
) -> String {
    let mut headers: Vec<(String, &str)> = oss_headers
        .iter()
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim()))
        .filter(|(name, _)| name.starts_with("x-oss-"))
        .collect();
    headers.sort();
    let mut out = String::with_capacity(128 + resource.len());
    for piece in [method, content_md5, content_type, date] {
        out.push_str(piece);
        out.push('\n');
    }
    for (name, value) in headers {
        out.push_str(&name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push_str(resource);
    out
}

/// `base64(HMAC-SHA1(secret, string_to_sign))`: the V1 signature.
fn signature(secret: &str, string_to_sign: &str) -> String {
    // HMAC takes a key of any length.
    match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(string_to_sign.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The `Authorization` value, `OSS {AccessKeyId}:{signature}`, for a
/// string to sign.
///
/// ```
/// use polyv_core::upload::{StsCredentials, authorization};
///
/// let sts = StsCredentials::new("STS.testAccessKeyId", "testAccessKeySecret", "testSecurityToken")?;
/// let to_sign = "PUT\n\n\nWed, 26 May 2021 04:00:00 GMT\nx-oss-security-token:testSecurityToken\n\
///     /polyv-test-bucket/polyvupload/test/1b448be3230a0194d959426ae005645f_1.mp4?partNumber=1&uploadId=0004B999EF518A1FE585B0C9360DC4C8";
/// assert_eq!(authorization(&sts, to_sign), "OSS STS.testAccessKeyId:l3zfgz3usHImZrEIyVercSYF0aY=");
/// # Ok::<(), polyv_core::Error>(())
/// ```
pub fn authorization(credentials: &StsCredentials, string_to_sign: &str) -> String {
    format!(
        "OSS {}:{}",
        credentials.access_key_id,
        signature(&credentials.access_key_secret.0, string_to_sign)
    )
}

/// Polyv's OSS callback, ready for the `x-oss-callback` header: the base64
/// of the callback JSON.
///
/// ```
/// use polyv_core::upload::OssCallback;
///
/// let json = r#"{"callbackUrl":"https://callback.example/oss","callbackBody":"bucket=${bucket}&object=${object}","callbackBodyType":"application/x-www-form-urlencoded"}"#;
/// let callback = OssCallback::from_json(json)?;
/// assert!(callback.header_value().starts_with("eyJjYWxsYmFja1VybCI6"));
/// assert_eq!(OssCallback::from_base64(callback.header_value())?, callback);
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssCallback(String);

impl OssCallback {
    /// From Polyv's `callback` string (JSON, sent as received, base64
    /// encoded; the spec's 2.3 infers this equals what the official SDKs
    /// send). Refused when it is not a JSON object.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Object(_)) => Ok(Self(
                base64::engine::general_purpose::STANDARD.encode(json.as_bytes()),
            )),
            _ => Err(Error::InvalidInput(
                "Polyv's upload `callback` is not a JSON object; it cannot go on CompleteMultipartUpload".into(),
            )),
        }
    }

    /// From a value that is already base64 (Polyv's `encodedCallback`);
    /// refused when it is not base64 of a JSON object.
    pub fn from_base64(encoded: &str) -> Result<Self, Error> {
        let encoded = encoded.trim();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        match decoded {
            Some(serde_json::Value::Object(_)) => Ok(Self(encoded.to_owned())),
            _ => Err(Error::InvalidInput(
                "the encoded upload callback is not base64 of a JSON object".into(),
            )),
        }
    }

    /// The header value.
    pub fn header_value(&self) -> &str {
        &self.0
    }
}

/// A signed OSS request's head, for a body the transport streams (an
/// UploadPart read from disk): `http::Request<()>`; swap the body with
/// [`http::Request::map`].
pub type RequestHead = http::Request<()>;

/// The requests of one multipart upload of one object with one set of
/// credentials. Each builder takes the `Date` to sign, handed in (OSS refuses
/// a `Date` more than 15 minutes off its clock); every attempt is built
/// afresh.
///
/// ```
/// use polyv_core::upload::{OssObject, OssRequests, StsCredentials, UrlScheme};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let object = OssObject::new(UrlScheme::Https, "upload.example.com", "polyv-test-bucket",
///     "polyvupload/test/1b448be3230a0194d959426ae005645f_1.mp4")?;
/// let sts = StsCredentials::new("STS.testAccessKeyId", "testAccessKeySecret", "testSecurityToken")?;
/// let oss = OssRequests::new(object, sts);
/// let date = UNIX_EPOCH + Duration::from_secs(1_622_001_600); // Wed, 26 May 2021 04:00:00 GMT
///
/// let initiate = oss.initiate(date)?;
/// assert_eq!(initiate.uri(), "https://upload.example.com/polyvupload/test/1b448be3230a0194d959426ae005645f_1.mp4?uploads");
/// assert_eq!(initiate.headers()["authorization"], "OSS STS.testAccessKeyId:ejgfnkz6c6KNcUVIL4Bbz0PeWQI=");
///
/// let part = oss.upload_part_head(1, "0004B999EF518A1FE585B0C9360DC4C8", 5, date)?;
/// assert_eq!(part.headers()["authorization"], "OSS STS.testAccessKeyId:l3zfgz3usHImZrEIyVercSYF0aY=");
/// let part = part.map(|()| b"hello".to_vec()); // or a streamed body
/// assert_eq!(part.headers()["content-length"], "5");
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssRequests {
    object: OssObject,
    credentials: StsCredentials,
}

impl OssRequests {
    /// Requests for `object` signed with `credentials`.
    pub fn new(object: OssObject, credentials: StsCredentials) -> Self {
        Self {
            object,
            credentials,
        }
    }

    /// The object.
    pub fn object(&self) -> &OssObject {
        &self.object
    }

    /// The credentials (secrets redacted in `Debug`).
    pub fn credentials(&self) -> &StsCredentials {
        &self.credentials
    }

    /// The same requests with fresh credentials (after Polyv's `token`).
    pub fn with_credentials(mut self, credentials: StsCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// InitiateMultipartUpload: `POST /{key}?uploads`, `Content-Type:
    /// text/plain` (the object's type, as Polyv's Java SDK sets it), empty
    /// body. The answer's body is read by
    /// [`parse_initiate`](super::parse_initiate).
    pub fn initiate(&self, date: SystemTime) -> Result<http::Request<Vec<u8>>, Error> {
        let query = [("uploads", None)];
        let head = self.head(
            http::Method::POST,
            &query,
            INITIATE_CONTENT_TYPE,
            None,
            Some(0),
            date,
        )?;
        Ok(head.map(|()| Vec::new()))
    }

    /// UploadPart's head: `PUT /{key}?partNumber={n}&uploadId={id}` with
    /// `Content-Length: {len}` and **no `Content-Type`** (none is signed: a
    /// transport must not let its HTTP client add one). The answer's `ETag`
    /// header is the part's ETag, kept as received.
    pub fn upload_part_head(
        &self,
        part_number: u32,
        upload_id: &str,
        content_length: u64,
        date: SystemTime,
    ) -> Result<RequestHead, Error> {
        if !(1..=super::MAX_PARTS).contains(&part_number) {
            return Err(Error::InvalidInput(format!(
                "part number {part_number} is outside OSS's 1 to {}",
                super::MAX_PARTS
            )));
        }
        let number = itoa::Buffer::new().format(part_number).to_owned();
        let query = [
            ("partNumber", Some(number.as_str())),
            ("uploadId", Some(upload_id)),
        ];
        self.head(
            http::Method::PUT,
            &query,
            "",
            None,
            Some(content_length),
            date,
        )
    }

    /// UploadPart with the part's bytes in memory.
    pub fn upload_part(
        &self,
        part_number: u32,
        upload_id: &str,
        body: Vec<u8>,
        date: SystemTime,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
        Ok(self
            .upload_part_head(part_number, upload_id, len, date)?
            .map(|()| body))
    }

    /// CompleteMultipartUpload: `POST /{key}?uploadId={id}`,
    /// `Content-Type: application/xml`, Polyv's callback as
    /// `x-oss-callback`, the parts (sorted by number) as XML. A 200 means
    /// stored and Polyv told; read other answers with
    /// [`OssError::from_response`](super::OssError::from_response) (203 is
    /// `CallbackFailed`).
    pub fn complete(
        &self,
        upload_id: &str,
        parts: &[FinishedPart],
        callback: Option<&OssCallback>,
        date: SystemTime,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        if parts.is_empty() {
            return Err(Error::InvalidInput(
                "CompleteMultipartUpload needs at least one uploaded part".into(),
            ));
        }
        let body = xml::complete_body(parts).into_bytes();
        let query = [("uploadId", Some(upload_id))];
        let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
        let head = self.head(
            http::Method::POST,
            &query,
            XML_CONTENT_TYPE,
            callback,
            Some(len),
            date,
        )?;
        Ok(head.map(|()| body))
    }

    /// ListParts: `GET /{key}?uploadId={id}`, from part `marker` on (0: from
    /// the start; `part-number-marker` and `max-parts` are not signed). Read
    /// the answer with [`parse_list_parts`](super::parse_list_parts).
    pub fn list_parts(
        &self,
        upload_id: &str,
        marker: u32,
        date: SystemTime,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let marker = itoa::Buffer::new().format(marker).to_owned();
        let query = [
            ("max-parts", Some("1000")),
            ("part-number-marker", Some(marker.as_str())),
            ("uploadId", Some(upload_id)),
        ];
        let head = self.head(http::Method::GET, &query, "", None, None, date)?;
        Ok(head.map(|()| Vec::new()))
    }

    /// AbortMultipartUpload: `DELETE /{key}?uploadId={id}`: drops the
    /// uploaded parts (the vid stays, empty).
    pub fn abort(
        &self,
        upload_id: &str,
        date: SystemTime,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let query = [("uploadId", Some(upload_id))];
        let head = self.head(http::Method::DELETE, &query, "", None, None, date)?;
        Ok(head.map(|()| Vec::new()))
    }

    /// Builds and signs one request head.
    fn head(
        &self,
        method: http::Method,
        query: &[(&str, Option<&str>)],
        content_type: &str,
        callback: Option<&OssCallback>,
        content_length: Option<u64>,
        date: SystemTime,
    ) -> Result<RequestHead, Error> {
        if let Some((_, Some(upload_id))) = query.iter().find(|(name, _)| *name == "uploadId") {
            if upload_id.is_empty() || !is_header_text(upload_id) {
                return Err(Error::InvalidInput(format!(
                    "the uploadId {upload_id:?} is empty or not plain text: start a new multipart upload"
                )));
            }
        }
        let date = httpdate::fmt_http_date(date);
        let mut oss_headers: Vec<(&str, &str)> = Vec::with_capacity(2);
        if let Some(callback) = callback {
            oss_headers.push((CALLBACK_HEADER, callback.header_value()));
        }
        if self.credentials.has_security_token() {
            oss_headers.push((SECURITY_TOKEN_HEADER, &self.credentials.security_token.0));
        }
        let to_sign = string_to_sign(
            method.as_str(),
            "",
            content_type,
            &date,
            &oss_headers,
            &self.object.canonical_resource(query),
        );
        let authorization = authorization(&self.credentials, &to_sign);

        let uri = http::Uri::try_from(self.object.url(query)?).map_err(|err| {
            Error::InvalidInput(format!("cannot build the OSS request URL: {err}"))
        })?;
        let mut request = http::Request::new(());
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        let value = |text: &str, what: &str| {
            http::HeaderValue::from_str(text).map_err(|_| {
                Error::InvalidInput(format!("the OSS {what} is not a valid header value"))
            })
        };
        headers.insert(http::header::DATE, value(&date, "date")?);
        if !content_type.is_empty() {
            headers.insert(
                http::header::CONTENT_TYPE,
                value(content_type, "content type")?,
            );
        }
        if let Some(len) = content_length {
            headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
        }
        for (name, text) in oss_headers {
            let mut v = value(text, name)?;
            v.set_sensitive(name == SECURITY_TOKEN_HEADER);
            headers.insert(name, v);
        }
        let mut v = value(&authorization, "authorization")?;
        v.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, v);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const KEY: &str = "polyvupload/test/1b448be3230a0194d959426ae005645f_1.mp4";
    const UPLOAD_ID: &str = "0004B999EF518A1FE585B0C9360DC4C8";
    const CALLBACK_B64: &str = "eyJjYWxsYmFja1VybCI6Imh0dHBzOi8vY2FsbGJhY2suZXhhbXBsZS9vc3MiLCJjYWxsYmFja0JvZHkiOiJidWNrZXQ9JHtidWNrZXR9Jm9iamVjdD0ke29iamVjdH0iLCJjYWxsYmFja0JvZHlUeXBlIjoiYXBwbGljYXRpb24veC13d3ctZm9ybS11cmxlbmNvZGVkIn0=";
    const CALLBACK_JSON: &str = r#"{"callbackUrl":"https://callback.example/oss","callbackBody":"bucket=${bucket}&object=${object}","callbackBodyType":"application/x-www-form-urlencoded"}"#;

    fn date() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_622_001_600)
    }

    fn oss(scheme: UrlScheme, domain: &str) -> OssRequests {
        OssRequests::new(
            OssObject::new(scheme, domain, "polyv-test-bucket", KEY).unwrap(),
            StsCredentials::new(
                "STS.testAccessKeyId",
                "testAccessKeySecret",
                "testSecurityToken",
            )
            .unwrap(),
        )
    }

    #[test]
    fn the_date_is_the_vectors_date() {
        assert_eq!(
            httpdate::fmt_http_date(date()),
            "Wed, 26 May 2021 04:00:00 GMT"
        );
    }

    /// Spec 2.2, vector 1: InitiateMultipartUpload.
    #[test]
    fn vector_initiate() {
        let expected_to_sign = format!(
            "POST\n\ntext/plain\nWed, 26 May 2021 04:00:00 GMT\nx-oss-security-token:testSecurityToken\n/polyv-test-bucket/{KEY}?uploads"
        );
        let object = oss(UrlScheme::Https, "x").object().clone();
        assert_eq!(
            string_to_sign(
                "POST",
                "",
                "text/plain",
                "Wed, 26 May 2021 04:00:00 GMT",
                &[("x-oss-security-token", "testSecurityToken")],
                &object.canonical_resource(&[("uploads", None)])
            ),
            expected_to_sign
        );
        let request = oss(UrlScheme::Https, "upload.example.com")
            .initiate(date())
            .unwrap();
        assert_eq!(request.method(), "POST");
        assert_eq!(
            request.uri().to_string(),
            format!("https://upload.example.com/{KEY}?uploads")
        );
        let h = request.headers();
        assert_eq!(
            h["authorization"],
            "OSS STS.testAccessKeyId:ejgfnkz6c6KNcUVIL4Bbz0PeWQI="
        );
        assert_eq!(h["content-type"], "text/plain");
        assert_eq!(h["date"], "Wed, 26 May 2021 04:00:00 GMT");
        assert_eq!(h["x-oss-security-token"], "testSecurityToken");
        assert!(request.body().is_empty());
        // The token and the signature are sensitive headers: a logged request shows neither.
        let logged = format!("{request:?}");
        assert!(
            !logged.contains("testSecurityToken") && !logged.contains("ejgfnkz6"),
            "{logged}"
        );
    }

    /// Spec 2.2, vector 2: UploadPart.
    #[test]
    fn vector_upload_part() {
        let to_sign = format!(
            "PUT\n\n\nWed, 26 May 2021 04:00:00 GMT\nx-oss-security-token:testSecurityToken\n/polyv-test-bucket/{KEY}?partNumber=1&uploadId={UPLOAD_ID}"
        );
        let sts = StsCredentials::new("STS.testAccessKeyId", "testAccessKeySecret", "t").unwrap();
        assert_eq!(
            authorization(&sts, &to_sign),
            "OSS STS.testAccessKeyId:l3zfgz3usHImZrEIyVercSYF0aY="
        );
        let request = oss(UrlScheme::Http, "127.0.0.1:9000")
            .upload_part(1, UPLOAD_ID, vec![0; 10], date())
            .unwrap();
        assert_eq!(request.method(), "PUT");
        assert_eq!(
            request.uri().to_string(),
            format!("http://127.0.0.1:9000/{KEY}?partNumber=1&uploadId={UPLOAD_ID}")
        );
        let h = request.headers();
        assert_eq!(
            h["authorization"],
            "OSS STS.testAccessKeyId:l3zfgz3usHImZrEIyVercSYF0aY="
        );
        assert!(h.get("content-type").is_none());
        assert_eq!(h["content-length"], "10");
    }

    /// Spec 2.2, vector 3: CompleteMultipartUpload with Polyv's callback.
    #[test]
    fn vector_complete_with_callback() {
        let callback = OssCallback::from_json(CALLBACK_JSON).unwrap();
        assert_eq!(callback.header_value(), CALLBACK_B64);
        let parts = [FinishedPart::new(1, "\"7265F4D211B56873A381D321F586E4A9\"")];
        let request = oss(UrlScheme::Https, "upload.example.com")
            .complete(UPLOAD_ID, &parts, Some(&callback), date())
            .unwrap();
        let h = request.headers();
        assert_eq!(
            h["authorization"],
            "OSS STS.testAccessKeyId:IUPBBTcuy0D0GCWwpXhyVFXJ03A="
        );
        assert_eq!(h["x-oss-callback"], CALLBACK_B64);
        assert_eq!(h["content-type"], "application/xml");
        assert_eq!(
            h["content-length"].to_str().unwrap(),
            request.body().len().to_string()
        );
        assert_eq!(
            request.uri().to_string(),
            format!("https://upload.example.com/{KEY}?uploadId={UPLOAD_ID}")
        );
        assert!(
            std::str::from_utf8(request.body())
                .unwrap()
                .contains("<PartNumber>1</PartNumber>")
        );
    }

    /// More vectors made offline the same way as the spec's (oss2 2.19.1
    /// `StsAuth`, V1, `oss2.utils.http_date` pinned to the vectors' date,
    /// same credentials, bucket and upload id).
    #[test]
    fn offline_vectors_list_abort_part_7_and_a_utf8_key() {
        let oss = oss(UrlScheme::Https, "upload.example.com");
        let auth = |request: &http::Request<Vec<u8>>| {
            request.headers()["authorization"]
                .to_str()
                .unwrap()
                .to_owned()
        };
        // ListParts with max-parts and part-number-marker: only uploadId is signed.
        assert_eq!(
            auth(&oss.list_parts(UPLOAD_ID, 5, date()).unwrap()),
            "OSS STS.testAccessKeyId:ORYOd5DtR4Z8kCP0NrJy2TmistM="
        );
        assert_eq!(
            auth(&oss.abort(UPLOAD_ID, date()).unwrap()),
            "OSS STS.testAccessKeyId:0aQbufuhHI4e9do6B7yooATnYVM="
        );
        assert_eq!(
            auth(&oss.upload_part(7, UPLOAD_ID, vec![1], date()).unwrap()),
            "OSS STS.testAccessKeyId:dVnpaZHoWWsSFmLLKX6p8BC96pc="
        );
        let utf8 = OssRequests::new(
            OssObject::new(
                UrlScheme::Https,
                "upload.example.com",
                "polyv-test-bucket",
                "polyvupload/test/视频 1.mp4",
            )
            .unwrap(),
            oss.credentials().clone(),
        );
        let request = utf8.upload_part(1, UPLOAD_ID, vec![1], date()).unwrap();
        assert_eq!(
            auth(&request),
            "OSS STS.testAccessKeyId:At5WGxB8gO6ULGKJH9fT6DMkRTM="
        );
        assert_eq!(
            request.uri().path(),
            "/polyvupload/test/%E8%A7%86%E9%A2%91%201.mp4"
        );
    }

    #[test]
    fn list_and_abort_sign_only_the_upload_id() {
        let oss = oss(UrlScheme::Https, "h");
        let list = oss.list_parts(UPLOAD_ID, 5, date()).unwrap();
        assert_eq!(list.method(), "GET");
        assert_eq!(
            list.uri().query(),
            Some(format!("max-parts=1000&part-number-marker=5&uploadId={UPLOAD_ID}").as_str())
        );
        let expected = authorization(
            oss.credentials(),
            &format!(
                "GET\n\n\nWed, 26 May 2021 04:00:00 GMT\nx-oss-security-token:testSecurityToken\n/polyv-test-bucket/{KEY}?uploadId={UPLOAD_ID}"
            ),
        );
        assert_eq!(list.headers()["authorization"], expected.as_str());
        let abort = oss.abort(UPLOAD_ID, date()).unwrap();
        assert_eq!(abort.method(), "DELETE");
        assert_ne!(abort.headers()["authorization"], expected.as_str());
    }

    #[test]
    fn bad_inputs_are_refused_without_quoting_secrets() {
        let oss = oss(UrlScheme::Https, "h");
        assert!(oss.upload_part_head(0, UPLOAD_ID, 1, date()).is_err());
        assert!(oss.upload_part_head(10_001, UPLOAD_ID, 1, date()).is_err());
        assert!(oss.upload_part_head(1, "", 1, date()).is_err());
        assert!(oss.upload_part_head(1, "a\nb", 1, date()).is_err());
        assert!(oss.complete(UPLOAD_ID, &[], None, date()).is_err());
        let err = StsCredentials::new("id", "secret-value", "SEKRIT\nX").unwrap_err();
        assert!(!err.to_string().contains("SEKRIT"));
        assert!(StsCredentials::new("", "s", "t").is_err());
        assert!(StsCredentials::new("id", "", "t").is_err());
        assert!(OssCallback::from_json("not json").is_err());
        assert!(OssCallback::from_base64("!!").is_err());
        assert!(OssCallback::from_base64(CALLBACK_B64).is_ok());
        for domain in ["", "a/b", "a b", "https://"] {
            assert!(
                OssObject::new(UrlScheme::Https, domain, "b", "k").is_err(),
                "{domain}"
            );
        }
        assert!(OssObject::new(UrlScheme::Https, "h", "", "k").is_err());
        assert!(OssObject::new(UrlScheme::Https, "h", "b", "/k").is_err());
        assert!(OssObject::new(UrlScheme::Https, "h", "b", "").is_err());
        let debug = format!("{oss:?}");
        assert!(!debug.contains("testAccessKeySecret") && !debug.contains("testSecurityToken"));
    }

    #[test]
    fn domains_lose_a_scheme_and_keys_are_encoded_in_the_url_only() {
        let object = OssObject::new(
            UrlScheme::Http,
            "HTTPS://up.example.com/",
            "b",
            "d/视频 1.mp4",
        )
        .unwrap();
        assert_eq!(object.domain(), "up.example.com");
        assert_eq!(
            object.url(&[("uploads", None)]).unwrap(),
            "http://up.example.com/d/%E8%A7%86%E9%A2%91%201.mp4?uploads"
        );
        assert_eq!(object.canonical_resource(&[]), "/b/d/视频 1.mp4");
        // Brackets and colons only as an authority has them.
        for bad in ["[", "a]", "[::1", "a:b:c"] {
            assert!(
                OssObject::new(UrlScheme::Https, bad, "b", "k").is_err(),
                "{bad}"
            );
        }
        for good in ["[::1]:8080", "127.0.0.1:9000", "up.example.com"] {
            assert!(
                OssObject::new(UrlScheme::Https, good, "b", "k").is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn plain_credentials_send_no_token() {
        let oss = OssRequests::new(
            OssObject::new(UrlScheme::Https, "h", "b", "k").unwrap(),
            StsCredentials::new("id", "secret", "").unwrap(),
        );
        let request = oss.initiate(date()).unwrap();
        assert!(request.headers().get(SECURITY_TOKEN_HEADER).is_none());
        let expected = authorization(
            oss.credentials(),
            "POST\n\ntext/plain\nWed, 26 May 2021 04:00:00 GMT\n/b/k?uploads",
        );
        assert_eq!(request.headers()["authorization"], expected.as_str());
    }
}
