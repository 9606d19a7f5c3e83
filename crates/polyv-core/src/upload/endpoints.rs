//! Polyv's upload endpoints: `init` (a new video, or fresh credentials for
//! one being resumed), `token` (fresh credentials) and URL fetch
//! (`grab/upload/multi`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::{Endpoint, Error, Params, UserId, input, wire};

use super::{OssCallback, OssObject, OssRequests, StsCredentials, UrlScheme, object_key};

/// The `uploadType` sent by `init`: the value of Polyv's own server-side
/// (Java) SDK, whose signing this SDK follows (the spec's open question 8:
/// whether the server checks it is unknown).
pub const UPLOAD_TYPE: &str = "java_sdk_chunk_v1";

/// What `init` and `token` answer: the video's id (from `init`), the STS
/// credentials and where to upload. Read leniently (numbers as strings,
/// `null`s, absent fields). `Debug` redacts `accessKey` and `token`.
///
/// ```
/// use polyv_core::parse_response;
/// use polyv_core::upload::{UploadTicket, UrlScheme};
///
/// let body = br#"{"code":200,"status":"success","message":"","data":{
///   "vid":"1b448be3230a0194d959426ae005645f_1","remainSpace":"107374182400",
///   "accessId":"STS.id","accessKey":"sec","token":"tok","Expiration":"2021-05-26T05:00:00Z",
///   "validityTime":3600,"bucketName":"polyv-test-bucket","domain":"upload.example.com",
///   "dir":"polyvupload/test/","callback":"{\"callbackUrl\":\"https://cb.example/\",\"callbackBody\":\"x\"}"}}"#;
/// let ticket: UploadTicket = parse_response(200, None, body)?;
/// assert_eq!(ticket.vid(), "1b448be3230a0194d959426ae005645f_1");
/// assert_eq!(ticket.remain_space(), Some(107_374_182_400));
/// let oss = ticket.oss_requests(UrlScheme::Https, "mp4")?;
/// assert_eq!(oss.object().key(), "polyvupload/test/1b448be3230a0194d959426ae005645f_1.mp4");
/// assert!(!format!("{ticket:?}").contains("tok\""));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct UploadTicket {
    #[serde(default, deserialize_with = "lenient::text")]
    vid: String,
    #[serde(
        default,
        rename = "remainSpace",
        deserialize_with = "lenient::opt_number"
    )]
    remain_space: Option<i64>,
    #[serde(default, rename = "accessId", deserialize_with = "lenient::text")]
    access_id: String,
    #[serde(default, rename = "accessKey", deserialize_with = "lenient::text")]
    access_key: String,
    #[serde(default, deserialize_with = "lenient::text")]
    token: String,
    #[serde(default, rename = "Expiration", deserialize_with = "lenient::text")]
    expiration: String,
    #[serde(default, rename = "validityTime", deserialize_with = "lenient::number")]
    validity_time: u64,
    #[serde(default, rename = "bucketName", deserialize_with = "lenient::text")]
    bucket_name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    domain: String,
    #[serde(default, deserialize_with = "lenient::text")]
    endpoint: String,
    #[serde(default, deserialize_with = "lenient::text")]
    dir: String,
    #[serde(default, deserialize_with = "lenient::text")]
    callback: String,
    #[serde(
        default,
        rename = "encodedCallback",
        deserialize_with = "lenient::text"
    )]
    encoded_callback: String,
    #[serde(default, deserialize_with = "lenient::text")]
    host: String,
}

impl fmt::Debug for UploadTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |s: &str| if s.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("UploadTicket")
            .field("vid", &self.vid)
            .field("remain_space", &self.remain_space)
            .field("access_id", &self.access_id)
            .field("access_key", &redacted(&self.access_key))
            .field("token", &redacted(&self.token))
            .field("expiration", &self.expiration)
            .field("validity_time", &self.validity_time)
            .field("bucket_name", &self.bucket_name)
            .field("domain", &self.domain)
            .field("endpoint", &self.endpoint)
            .field("dir", &self.dir)
            .field("callback", &self.callback)
            .field("encoded_callback", &self.encoded_callback)
            .field("host", &self.host)
            .finish()
    }
}

impl UploadTicket {
    /// A ticket with these parts (for tests and mocks; real ones come from
    /// `init` and `token`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        vid: impl Into<String>,
        credentials: (&str, &str, &str),
        validity_secs: u64,
        bucket_name: impl Into<String>,
        domain: impl Into<String>,
        dir: impl Into<String>,
        callback: impl Into<String>,
        remain_space: Option<i64>,
    ) -> Self {
        Self {
            vid: vid.into(),
            remain_space,
            access_id: credentials.0.to_owned(),
            access_key: credentials.1.to_owned(),
            token: credentials.2.to_owned(),
            validity_time: validity_secs,
            bucket_name: bucket_name.into(),
            domain: domain.into(),
            dir: dir.into(),
            callback: callback.into(),
            ..Self::default()
        }
    }

    /// The video's id (`init`; empty in a `token` answer).
    pub fn vid(&self) -> &str {
        &self.vid
    }

    /// The account's space left, in bytes (inferred unit), when given.
    pub fn remain_space(&self) -> Option<i64> {
        self.remain_space
    }

    /// The STS AccessKeyId.
    pub fn access_id(&self) -> &str {
        &self.access_id
    }

    /// The STS expiry as Polyv wrote it (`Expiration`; format unverified).
    pub fn expiration(&self) -> &str {
        &self.expiration
    }

    /// How long the credentials last, in seconds (`validityTime`; unit
    /// inferred from Polyv's Java SDK); 0 when not given.
    pub fn validity_secs(&self) -> u64 {
        self.validity_time
    }

    /// When the credentials expire, in ms since the epoch, for a ticket
    /// received at `received_ms`; `None` when `validityTime` was not given
    /// (then only a 403 tells).
    pub fn expires_at_ms(&self, received_ms: u64) -> Option<u64> {
        (self.validity_time > 0)
            .then(|| received_ms.saturating_add(self.validity_time.saturating_mul(1000)))
    }

    /// The OSS bucket.
    pub fn bucket_name(&self) -> &str {
        &self.bucket_name
    }

    /// The host OSS requests go to (custom-domain style).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The OSS region endpoint (unused by Polyv's SDKs).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The object key prefix.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// Polyv's callback JSON, for CompleteMultipartUpload.
    pub fn callback_json(&self) -> &str {
        &self.callback
    }

    /// The STS credentials.
    pub fn credentials(&self) -> Result<StsCredentials, Error> {
        StsCredentials::new(&*self.access_id, &*self.access_key, &*self.token)
    }

    /// The callback for `x-oss-callback`: from `callback` (base64 of the
    /// JSON as received), else `encodedCallback`; `None` when Polyv sent
    /// neither (the upload would then reach OSS but Polyv would not be told:
    /// the state machine refuses to complete without one).
    pub fn oss_callback(&self) -> Result<Option<OssCallback>, Error> {
        if !self.callback.trim().is_empty() {
            OssCallback::from_json(&self.callback).map(Some)
        } else if !self.encoded_callback.trim().is_empty() {
            OssCallback::from_base64(&self.encoded_callback).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The object `{dir}{vid}.{ext}` at `{scheme}://{domain}`.
    pub fn object(&self, scheme: UrlScheme, ext: &str) -> Result<OssObject, Error> {
        input::vid(&self.vid)?;
        OssObject::new(
            scheme,
            &*self.domain,
            &*self.bucket_name,
            object_key(&self.dir, &self.vid, ext),
        )
    }

    /// The OSS requests for this ticket's object and credentials.
    pub fn oss_requests(&self, scheme: UrlScheme, ext: &str) -> Result<OssRequests, Error> {
        Ok(OssRequests::new(
            self.object(scheme, ext)?,
            self.credentials()?,
        ))
    }
}

/// The check to make after `init` and before sending a byte: refuses a file
/// larger than the account's `remainSpace` (as Polyv's JS SDK does). `init`
/// has already created the video by then; the message names it.
///
/// ```
/// use polyv_core::upload::{UploadTicket, check_space};
///
/// let ticket = UploadTicket::new("v_1", ("id", "k", "t"), 3600, "b", "d", "dir/", "{}", Some(1_000));
/// assert!(check_space(1_000, &ticket).is_ok());
/// assert!(check_space(1_001, &ticket).unwrap_err().to_string().contains("1001 bytes"));
/// ```
pub fn check_space(file_size: u64, ticket: &UploadTicket) -> Result<(), Error> {
    match ticket.remain_space {
        Some(left) if i128::from(file_size) > i128::from(left) => {
            Err(Error::InvalidInput(format!(
                "the file is {file_size} bytes but the account has {left} bytes of space left: free space or raise the quota (the video {} was created by init and holds no upload yet)",
                ticket.vid
            )))
        }
        _ => Ok(()),
    }
}

/// `POST /v2/uploadvideo/{userid}/init`: creates a video (`autoid=1`) and
/// hands out STS credentials to upload it, or (`autoid=0` with `vid`)
/// fresh credentials for a video whose upload is being resumed.
///
/// - **Signing:** Polyv's generic v2 SHA-1 over every parameter sent (as its
///   Java SDK does; the JS SDK's `sign`/`hash` MD5 pair is not used).
/// - **Parameters:** `autoid`, `cataid`, `describ`, `filesize`,
///   `keepsource`, `luping`, `ptime`, `requestId` (when set), `state`,
///   `tag`, `title`, `uploadType` ([`UPLOAD_TYPE`]), `vid` (resume).
/// - **Resending:** never once it may have arrived: a second `init` makes a
///   second video.
/// - **Then:** [`check_space`], and the OSS upload with
///   [`UploadTicket::oss_requests`].
///
/// ```
/// use polyv_core::upload::InitUpload;
/// use polyv_core::{Config, Credentials, Endpoint};
///
/// let init = InitUpload::new("My talk", 10_485_760)?.description("at the meetup").tags(["rust", "talk"])?.cataid(1)?;
/// assert!(!init.resend_safe());
/// let config = Config::new(Credentials::new("1b448be323", "secret")?);
/// let request = config.prepare(&init, 1_622_001_600_000)?;
/// assert_eq!(request.uri().path(), "/v2/uploadvideo/1b448be323/init");
/// assert!(request.body().starts_with(
///     b"autoid=1&cataid=1&describ=at+the+meetup&filesize=10485760&ptime=1622001600000&tag=rust%2Ctalk&title=My+talk&uploadType=java_sdk_chunk_v1&sign="));
///
/// let resume = InitUpload::resume("1b448be3230a0194d959426ae005645f_1", 10_485_760)?;
/// let request = config.prepare(&resume, 1_622_001_600_000)?;
/// assert!(request.body().starts_with(b"autoid=0&filesize=10485760&ptime=1622001600000&uploadType=java_sdk_chunk_v1&vid=1b448be3230a0194d959426ae005645f_1&sign="));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InitUpload {
    vid: Option<String>,
    title: String,
    description: String,
    cataid: Option<u64>,
    tags: String,
    luping: Option<bool>,
    keep_source: Option<bool>,
    file_size: u64,
    state: String,
    request_id: String,
}

impl InitUpload {
    /// A new video (`autoid=1`) titled `title` (not blank) for a file of
    /// `file_size` bytes (not 0).
    pub fn new(title: impl Into<String>, file_size: u64) -> Result<Self, Error> {
        let title = title.into();
        if title.trim().is_empty() {
            return Err(Error::InvalidInput(
                "the video title is empty: give a title (the file name without its extension is a good default)".into(),
            ));
        }
        Self::with(None, title, file_size)
    }

    /// Fresh credentials for the existing video `vid` (`autoid=0`): what a
    /// resumed upload asks for. No new video is created.
    pub fn resume(vid: impl Into<String>, file_size: u64) -> Result<Self, Error> {
        let vid = vid.into();
        input::vid(&vid)?;
        Self::with(Some(vid), String::new(), file_size)
    }

    fn with(vid: Option<String>, title: String, file_size: u64) -> Result<Self, Error> {
        if file_size == 0 {
            return Err(Error::InvalidInput(
                "the file is empty: Polyv refuses a video of size 0 (init error 406)".into(),
            ));
        }
        check_text("title", &title)?;
        Ok(Self {
            vid,
            title,
            description: String::new(),
            cataid: None,
            tags: String::new(),
            luping: None,
            keep_source: None,
            file_size,
            state: String::new(),
            request_id: String::new(),
        })
    }

    /// Sets the title (a resumed upload may send it again).
    pub fn title(mut self, title: impl Into<String>) -> Result<Self, Error> {
        let title = title.into();
        check_text("title", &title)?;
        self.title = title;
        Ok(self)
    }

    /// The description (`describ`).
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The category (`cataid`; 1 is the root, the server's default).
    pub fn cataid(mut self, cataid: u64) -> Result<Self, Error> {
        input::cataid(cataid)?;
        self.cataid = Some(cataid);
        Ok(self)
    }

    /// The tags (`tag`, comma-joined; a tag may not hold a comma).
    pub fn tags<I, S>(mut self, tags: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut joined = String::new();
        for tag in tags {
            let tag = tag.as_ref().trim();
            if tag.contains(',') {
                return Err(Error::InvalidInput(format!(
                    "the tag {tag:?} contains a comma: pass each tag on its own"
                )));
            }
            check_text("tag", tag)?;
            if tag.is_empty() {
                continue;
            }
            if !joined.is_empty() {
                joined.push(',');
            }
            joined.push_str(tag);
        }
        self.tags = joined;
        Ok(self)
    }

    /// Screen-recording optimisation (`luping=1`).
    #[must_use]
    pub fn luping(mut self, on: bool) -> Self {
        self.luping = Some(on);
        self
    }

    /// Plays the source file, no transcoding (`keepsource=1`).
    #[must_use]
    pub fn keep_source(mut self, on: bool) -> Self {
        self.keep_source = Some(on);
        self
    }

    /// Free text echoed in Polyv's upload-complete callback (`state`).
    #[must_use]
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = state.into();
        self
    }

    /// A request id (`requestId`, 32 hex digits in Polyv's Java SDK), sent
    /// and signed when set. The core makes no randomness: hand one in.
    #[must_use]
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }

    /// The video resumed, for [`resume`](Self::resume).
    pub fn vid(&self) -> Option<&str> {
        self.vid.as_deref()
    }

    /// The file size sent.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }
}

fn check_text(what: &str, text: &str) -> Result<(), Error> {
    if text.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "the {what} contains a control character (a newline, a tab...): remove it"
        )));
    }
    Ok(())
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

impl Endpoint for InitUpload {
    type Data = UploadTicket;

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/uploadvideo/");
        path.push_str(user_id.as_str());
        path.push_str("/init");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        // Signing order.
        params.push("autoid", if self.vid.is_some() { "0" } else { "1" });
        if let Some(cataid) = self.cataid {
            params.push_number("cataid", cataid);
        }
        params.push("describ", &self.description);
        params.push_number("filesize", self.file_size);
        if let Some(on) = self.keep_source {
            params.push("keepsource", flag(on));
        }
        if let Some(on) = self.luping {
            params.push("luping", flag(on));
        }
        params.push("requestId", &self.request_id);
        params.push("state", &self.state);
        params.push("tag", &self.tags);
        params.push("title", &self.title);
        params.push("uploadType", UPLOAD_TYPE);
        if let Some(vid) = &self.vid {
            params.push("vid", vid);
        }
    }

    /// Never: a second arrival creates a second video.
    fn resend_safe(&self) -> bool {
        false
    }
}

/// `GET /v2/uploadvideo/{userid}/token`: fresh STS credentials for the
/// upload in progress (same bucket and dir; no vid). Call it when fewer
/// than 60 s of `validityTime` remain, and on an OSS
/// `SecurityTokenExpired`/`InvalidAccessKeyId`. Signed with `ptime` only.
///
/// ```
/// use polyv_core::upload::RefreshUploadToken;
/// use polyv_core::{Config, Credentials, Endpoint};
///
/// let config = Config::new(Credentials::new("1b448be323", "secret")?);
/// let url = config.signed_url(&RefreshUploadToken, 1_622_001_600_000)?;
/// assert!(url.starts_with("https://api.polyv.net/v2/uploadvideo/1b448be323/token?ptime=1622001600000&sign="));
/// assert!(RefreshUploadToken.resend_safe());
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RefreshUploadToken;

impl Endpoint for RefreshUploadToken {
    type Data = UploadTicket;

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/uploadvideo/");
        path.push_str(user_id.as_str());
        path.push_str("/token");
    }

    fn params<'a>(&'a self, _params: &mut Params<'a>) {}
}

/// The most URLs one URL-fetch call takes.
pub const MAX_GRAB_BATCH: usize = 100;
/// The longest URL Polyv fetches, in characters.
pub const MAX_GRAB_URL_CHARS: usize = 1000;
/// The longest `state` of a fetched URL, in characters.
pub const MAX_GRAB_STATE_CHARS: usize = 100;

/// One URL for Polyv to fetch: an item of `uploadInfos`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GrabItem {
    #[serde(rename = "fileUrl")]
    file_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    state: String,
}

impl GrabItem {
    /// An `http`/`https` URL of at most 1,000 characters.
    pub fn new(file_url: impl Into<String>) -> Result<Self, Error> {
        let file_url = file_url.into();
        let lower = file_url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://"))
            || file_url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::InvalidInput(format!(
                "{file_url:?} is not an http or https URL without spaces: Polyv fetches only those"
            )));
        }
        let chars = file_url.chars().count();
        if chars > MAX_GRAB_URL_CHARS {
            return Err(Error::InvalidInput(format!(
                "the URL has {chars} characters: Polyv fetches URLs of at most {MAX_GRAB_URL_CHARS}"
            )));
        }
        Ok(Self {
            file_url,
            title: String::new(),
            state: String::new(),
        })
    }

    /// The video's title (the item key `title` is inferred: the doc's row
    /// was unreadable).
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Free text (at most 100 characters) echoed in Polyv's callback.
    pub fn state(mut self, state: impl Into<String>) -> Result<Self, Error> {
        let state = state.into();
        let chars = state.chars().count();
        if chars > MAX_GRAB_STATE_CHARS {
            return Err(Error::InvalidInput(format!(
                "the state has {chars} characters: Polyv takes at most {MAX_GRAB_STATE_CHARS}"
            )));
        }
        self.state = state;
        Ok(self)
    }

    /// The URL.
    pub fn file_url(&self) -> &str {
        &self.file_url
    }
}

/// `POST /v2/video/grab/{userid}/upload/multi`: asks Polyv to fetch up to
/// 100 URLs (`uploadInfos`), asynchronously: success means queued; the new
/// vids (or failures) arrive later in Polyv's callbacks. Signed over every
/// parameter sent. Never resent once it may have arrived (each arrival
/// queues the fetches again).
///
/// ```
/// use polyv_core::upload::{GrabItem, GrabUrls};
/// use polyv_core::{Config, Credentials, Endpoint};
///
/// let items: Vec<GrabItem> = (0..250)
///     .map(|i| GrabItem::new(format!("https://media.example/{i}.mp4")))
///     .collect::<Result<_, _>>()?;
/// let batches = GrabUrls::in_batches(items)?;
/// assert_eq!(batches.iter().map(GrabUrls::len).collect::<Vec<_>>(), [100, 100, 50]);
///
/// let one = GrabUrls::new(vec![GrabItem::new("https://media.example/a.mp4")?.title("A")])?.cataid(1)?;
/// assert!(!one.resend_safe());
/// let config = Config::new(Credentials::new("1b448be323", "secret")?);
/// let request = config.prepare(&one, 1_622_001_600_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/grab/1b448be323/upload/multi");
/// assert!(request.body().starts_with(b"cataid=1&ptime=1622001600000&uploadInfos=%5B%7B%22fileUrl%22%3A%22https%3A%2F%2Fmedia.example%2Fa.mp4%22%2C%22title%22%3A%22A%22%7D%5D&sign="));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GrabUrls {
    upload_infos: String,
    count: usize,
    cataid: Option<u64>,
    luping: Option<bool>,
    watermark: String,
    watermark_location: Option<u8>,
}

impl GrabUrls {
    /// One call for 1 to 100 URLs.
    pub fn new(items: Vec<GrabItem>) -> Result<Self, Error> {
        if items.is_empty() {
            return Err(Error::InvalidInput(
                "no URL given: pass at least one".into(),
            ));
        }
        if items.len() > MAX_GRAB_BATCH {
            return Err(Error::InvalidInput(format!(
                "{} URLs in one call: Polyv takes at most {MAX_GRAB_BATCH}; split them with GrabUrls::in_batches",
                items.len()
            )));
        }
        let upload_infos = serde_json::to_string(&items)
            .map_err(|err| Error::InvalidInput(format!("cannot write uploadInfos: {err}")))?;
        Ok(Self {
            upload_infos,
            count: items.len(),
            cataid: None,
            luping: None,
            watermark: String::new(),
            watermark_location: None,
        })
    }

    /// Any number of URLs (at least one), as calls of at most 100, in order.
    pub fn in_batches(items: Vec<GrabItem>) -> Result<Vec<Self>, Error> {
        if items.is_empty() {
            return Err(Error::InvalidInput(
                "no URL given: pass at least one".into(),
            ));
        }
        items
            .chunks(MAX_GRAB_BATCH)
            .map(|chunk| Self::new(chunk.to_vec()))
            .collect()
    }

    /// How many URLs this call carries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Never: a call carries at least one URL.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The category of the fetched videos.
    pub fn cataid(mut self, cataid: u64) -> Result<Self, Error> {
        input::cataid(cataid)?;
        self.cataid = Some(cataid);
        Ok(self)
    }

    /// Screen-recording optimisation.
    #[must_use]
    pub fn luping(mut self, on: bool) -> Self {
        self.luping = Some(on);
        self
    }

    /// A PNG watermark (http/https URL) in corner 1 to 4.
    pub fn watermark(mut self, png_url: impl Into<String>, location: u8) -> Result<Self, Error> {
        if !(1..=4).contains(&location) {
            return Err(Error::InvalidInput(format!(
                "watermark location {location}: use 1 to 4 (a corner)"
            )));
        }
        self.watermark = GrabItem::new(png_url)?.file_url;
        self.watermark_location = Some(location);
        Ok(self)
    }
}

impl Endpoint for GrabUrls {
    type Data = ();

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/video/grab/");
        path.push_str(user_id.as_str());
        path.push_str("/upload/multi");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        if let Some(cataid) = self.cataid {
            params.push_number("cataid", cataid);
        }
        if let Some(on) = self.luping {
            params.push("luping", flag(on));
        }
        params.push("uploadInfos", &self.upload_infos);
        params.push("watermark", &self.watermark);
        if let Some(location) = self.watermark_location {
            params.push_number("watermarkLocation", u64::from(location));
        }
    }

    /// Never: each arrival queues the fetches again.
    fn resend_safe(&self) -> bool {
        false
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<(), Error> {
        wire::parse_ignored(status, retry_after, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Credentials, parse_response};

    fn config() -> Config {
        Config::new(Credentials::new("1b448be323", "secret").unwrap())
    }

    #[test]
    fn init_signs_every_parameter_it_sends() {
        let init = InitUpload::new("t", 5)
            .unwrap()
            .luping(true)
            .keep_source(false)
            .state("s")
            .request_id("0123456789abcdef0123456789abcdef");
        let request = config().prepare(&init, 1_622_001_600_000).unwrap();
        let body = std::str::from_utf8(request.body()).unwrap();
        let (signed, sign) = body.rsplit_once("&sign=").unwrap();
        assert_eq!(
            signed,
            "autoid=1&filesize=5&keepsource=0&luping=1&ptime=1622001600000&requestId=0123456789abcdef0123456789abcdef&state=s&title=t&uploadType=java_sdk_chunk_v1"
        );
        let pairs: Vec<(&str, &str)> = signed
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        assert_eq!(
            sign,
            crate::sign(pairs, config().credentials().secret_key()).as_str()
        );
    }

    #[test]
    fn init_refuses_what_polyv_would() {
        assert!(InitUpload::new(" ", 5).is_err());
        assert!(InitUpload::new("t", 0).is_err());
        assert!(InitUpload::new("a\nb", 5).is_err());
        assert!(InitUpload::resume("a,b", 5).is_err());
        assert!(InitUpload::new("t", 5).unwrap().cataid(0).is_err());
        assert!(InitUpload::new("t", 5).unwrap().tags(["a,b"]).is_err());
        let tags = InitUpload::new("t", 5)
            .unwrap()
            .tags([" a ", "", "b"])
            .unwrap();
        assert_eq!(tags.tags, "a,b");
    }

    #[test]
    fn tickets_read_leniently_and_never_print_secrets() {
        let body = br#"{"code":200,"status":"success","message":"","data":{"vid":null,"remainSpace":null,"accessId":"id","accessKey":"SECRETKEY","token":"SECRETTOKEN","validityTime":"3600.0","bucketName":"b","domain":"d","dir":7}}"#;
        let ticket: UploadTicket = parse_response(200, None, body).unwrap();
        assert_eq!(ticket.vid(), "");
        assert_eq!(ticket.remain_space(), None);
        assert_eq!(ticket.validity_secs(), 3600);
        assert_eq!(ticket.dir(), "7");
        assert_eq!(ticket.expires_at_ms(1_000), Some(3_601_000));
        let shown = format!("{ticket:?} {:?}", ticket.credentials().unwrap());
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(ticket.object(UrlScheme::Https, "mp4").is_err(), "no vid");
        assert_eq!(ticket.oss_callback().unwrap(), None);
        let no_validity = UploadTicket::default();
        assert_eq!(no_validity.expires_at_ms(5), None);
    }

    #[test]
    fn the_callback_comes_from_either_field() {
        let json = r#"{"callbackUrl":"u","callbackBody":"b"}"#;
        let mut ticket = UploadTicket::new("v_1", ("i", "k", "t"), 1, "b", "d", "", json, None);
        let from_json = ticket.oss_callback().unwrap().unwrap();
        ticket.callback.clear();
        ticket.encoded_callback = from_json.header_value().to_owned();
        assert_eq!(ticket.oss_callback().unwrap(), Some(from_json));
        ticket.callback = "not json".into();
        assert!(ticket.oss_callback().is_err());
    }

    #[test]
    fn space_is_checked_against_remain_space() {
        let ticket = |left| UploadTicket::new("v_1", ("i", "k", "t"), 1, "b", "d", "", "", left);
        assert!(check_space(u64::MAX, &ticket(None)).is_ok());
        assert!(check_space(1, &ticket(Some(-1))).is_err());
        assert!(check_space(0, &ticket(Some(0))).is_ok());
        assert!(
            check_space(1, &ticket(Some(0)))
                .unwrap_err()
                .to_string()
                .contains("v_1")
        );
    }

    #[test]
    fn grab_items_and_batches_are_checked() {
        assert!(GrabItem::new("ftp://x").is_err());
        assert!(GrabItem::new("https://a b").is_err());
        assert!(GrabItem::new(format!("https://{}", "a".repeat(1000))).is_err());
        assert!(GrabItem::new("HTTPS://x").is_ok());
        assert!(
            GrabItem::new("https://x")
                .unwrap()
                .state("s".repeat(101))
                .is_err()
        );
        assert!(GrabUrls::new(vec![]).is_err());
        assert!(GrabUrls::in_batches(vec![]).is_err());
        let item = GrabItem::new("https://x").unwrap();
        assert!(GrabUrls::new(vec![item.clone(); 101]).is_err());
        assert_eq!(
            GrabUrls::in_batches(vec![item.clone(); 100]).unwrap().len(),
            1
        );
        let grab = GrabUrls::new(vec![item]).unwrap();
        assert!(grab.clone().watermark("https://w.png", 5).is_err());
        let grab = grab.watermark("https://w/p.png", 2).unwrap().luping(true);
        let request = config().prepare(&grab, 1).unwrap();
        let body = std::str::from_utf8(request.body()).unwrap();
        assert!(body.starts_with("luping=1&ptime=1&uploadInfos=%5B%7B%22fileUrl%22%3A%22https%3A%2F%2Fx%22%7D%5D&watermark=https%3A%2F%2Fw%2Fp.png&watermarkLocation=2&sign="), "{body}");
        assert_eq!(
            grab.parse(
                200,
                None,
                br#"{"code":200,"status":"success","message":"","data":true}"#
            )
            .ok(),
            Some(())
        );
    }
}
