//! The `Video` record of get-by-uploader and its field types.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::lenient::{LenientInt, LenientText, fit};

/// One video, as get-by-uploader lists it.
///
/// Deserialises from, and serialises back to, the API's own field names and
/// values (`status` as its string code, `tag` as the comma-separated string),
/// so a consumer can re-emit what the server sent, normalised.
///
/// Reading is lenient ([`lenient`](crate::lenient)): numbers may arrive as
/// numeric strings or integral floats, text as `null` (read as `""`; for
/// `aacLink`, as no link) or as a number, unknown fields are ignored, and
/// every field but `vid` may be absent (numbers then read 0, text `""`, the
/// status an unknown empty code). Serialising writes the normalised values:
/// numbers as JSON numbers, `status` as its string code.
///
/// The text fields live in **one allocation per video** (read them through
/// the accessors): a page of 1,000 videos costs 1,000 allocations, not 7,000,
/// which is most of what typed parsing costs beyond reading the JSON.
///
/// ```
/// use polyv_core::{Video, VideoStatus};
///
/// let json = r#"{"vid":"b0f7_b","cataid":1539918907896,"title":"test","context":"简介",
///   "times":3,"firstImage":"http://img.example/1.jpg","tag":"a,b","aacLink":null,
///   "status":"61","uploaderEmail":"test1@zzs.com","ptime":1540797491063}"#;
/// let video: Video = serde_json::from_str(json)?;
/// assert_eq!(video.title(), "test");
/// assert_eq!(video.cataid(), 1539918907896);
/// assert_eq!(video.status(), &VideoStatus::Published61);
/// assert_eq!(video.tags().iter().collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(video.aac_link(), None);
/// assert!(serde_json::to_string(&video)?.contains(r#""status":"61""#));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Video {
    /// The text fields back to back, in [`TextField`] order.
    text: Box<str>,
    /// Where each text field ends in `text`.
    ends: [u32; TEXT_FIELDS],
    /// `aacLink` was a string (possibly empty), not null or absent.
    has_aac_link: bool,
    cataid: u64,
    times: u64,
    status: VideoStatus,
    ptime: Timestamp,
}

/// The text fields, in the order they are stored.
#[derive(Clone, Copy)]
enum TextField {
    Vid,
    Title,
    Context,
    FirstImage,
    Tag,
    AacLink,
    UploaderEmail,
}

const TEXT_FIELDS: usize = 7;

impl Video {
    fn text(&self, field: TextField) -> &str {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        // The bounds were computed from this very string, on char boundaries.
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    /// The video id (`vid`).
    pub fn vid(&self) -> &str {
        self.text(TextField::Vid)
    }

    /// The category id (`cataid`; values exceed 32 bits).
    pub fn cataid(&self) -> u64 {
        self.cataid
    }

    /// The title.
    pub fn title(&self) -> &str {
        self.text(TextField::Title)
    }

    /// The description (`context`, 简介).
    pub fn context(&self) -> &str {
        self.text(TextField::Context)
    }

    /// The play count (`times`).
    pub fn times(&self) -> u64 {
        self.times
    }

    /// The cover image URL (`firstImage`).
    pub fn first_image(&self) -> &str {
        self.text(TextField::FirstImage)
    }

    /// The tags (`tag`, comma-separated on the wire).
    pub fn tags(&self) -> Tags<'_> {
        Tags(self.text(TextField::Tag))
    }

    /// The audio URL (`aacLink`), when the server sent one.
    pub fn aac_link(&self) -> Option<&str> {
        self.has_aac_link.then(|| self.text(TextField::AacLink))
    }

    /// The processing state.
    pub fn status(&self) -> &VideoStatus {
        &self.status
    }

    /// The e-mail of the sub-account that uploaded it (`uploaderEmail`).
    pub fn uploader_email(&self) -> &str {
        self.text(TextField::UploaderEmail)
    }

    /// The upload time (`ptime`).
    pub fn ptime(&self) -> Timestamp {
        self.ptime
    }
}

impl fmt::Debug for Video {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Video")
            .field("vid", &self.vid())
            .field("cataid", &self.cataid)
            .field("title", &self.title())
            .field("context", &self.context())
            .field("times", &self.times)
            .field("first_image", &self.first_image())
            .field("tags", &self.tags())
            .field("aac_link", &self.aac_link())
            .field("status", &self.status)
            .field("uploader_email", &self.uploader_email())
            .field("ptime", &self.ptime)
            .finish()
    }
}

impl Serialize for Video {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("Video", 11)?;
        s.serialize_field("vid", self.vid())?;
        s.serialize_field("cataid", &self.cataid)?;
        s.serialize_field("title", self.title())?;
        s.serialize_field("context", self.context())?;
        s.serialize_field("times", &self.times)?;
        s.serialize_field("firstImage", self.first_image())?;
        s.serialize_field("tag", self.tags().as_raw())?;
        s.serialize_field("aacLink", &self.aac_link())?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("uploaderEmail", self.uploader_email())?;
        s.serialize_field("ptime", &self.ptime)?;
        s.end()
    }
}

/// A JSON key of a video.
enum Key {
    Text(TextField),
    Cataid,
    Times,
    Status,
    Ptime,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "vid" => Key::Text(TextField::Vid),
                    "title" => Key::Text(TextField::Title),
                    "context" => Key::Text(TextField::Context),
                    "firstImage" => Key::Text(TextField::FirstImage),
                    "tag" => Key::Text(TextField::Tag),
                    "aacLink" => Key::Text(TextField::AacLink),
                    "uploaderEmail" => Key::Text(TextField::UploaderEmail),
                    "cataid" => Key::Cataid,
                    "times" => Key::Times,
                    "status" => Key::Status,
                    "ptime" => Key::Ptime,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

const NAMES: [&str; TEXT_FIELDS] = [
    "vid",
    "title",
    "context",
    "firstImage",
    "tag",
    "aacLink",
    "uploaderEmail",
];

impl<'de> Deserialize<'de> for Video {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VideoVisitor;
        impl<'de> Visitor<'de> for VideoVisitor {
            type Value = Video;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a video object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Video, A::Error> {
                // Leniency (A.8): text may be null or a number, numbers may be
                // strings or integral floats, and only `vid` is required.
                let mut texts: [Option<Cow<'de, str>>; TEXT_FIELDS] = Default::default();
                let mut seen = [false; TEXT_FIELDS];
                let (mut cataid, mut times, mut ptime) = (None, None, None);
                let mut status: Option<Option<VideoStatus>> = None;
                fn once<T, E: de::Error>(slot: &Option<T>, name: &'static str) -> Result<(), E> {
                    match slot {
                        Some(_) => Err(E::duplicate_field(name)),
                        None => Ok(()),
                    }
                }
                fn int<'de, T: TryFrom<i128>, A: de::MapAccess<'de>>(
                    map: &mut A,
                ) -> Result<Option<T>, A::Error> {
                    map.next_value::<LenientInt>()?.0.map(fit).transpose()
                }
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Text(field) => {
                            let i = field as usize;
                            if std::mem::replace(&mut seen[i], true) {
                                return Err(de::Error::duplicate_field(NAMES[i]));
                            }
                            texts[i] = map.next_value::<LenientText<'de>>()?.0;
                        }
                        Key::Cataid => {
                            once(&cataid, "cataid")?;
                            cataid = Some(int(&mut map)?);
                        }
                        Key::Times => {
                            once(&times, "times")?;
                            times = Some(int(&mut map)?);
                        }
                        Key::Status => {
                            once(&status, "status")?;
                            status = Some(map.next_value::<Option<VideoStatus>>()?);
                        }
                        Key::Ptime => {
                            once(&ptime, "ptime")?;
                            ptime = Some(int(&mut map)?);
                        }
                        Key::Other => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                if texts[TextField::Vid as usize]
                    .as_deref()
                    .is_none_or(str::is_empty)
                {
                    return Err(de::Error::missing_field("vid"));
                }
                let has_aac_link = texts[TextField::AacLink as usize].is_some();
                let len: usize = texts.iter().flatten().map(|t| t.len()).sum();
                if u32::try_from(len).is_err() {
                    return Err(de::Error::custom("a video's text exceeds 4 GiB"));
                }
                // The one allocation: exactly the text's length.
                let mut text = String::with_capacity(len);
                let mut ends = [0u32; TEXT_FIELDS];
                for (end, piece) in ends.iter_mut().zip(&texts) {
                    text.push_str(piece.as_deref().unwrap_or_default());
                    // Bounded by `len`, checked above.
                    *end = text.len() as u32;
                }
                Ok(Video {
                    text: text.into_boxed_str(),
                    ends,
                    has_aac_link,
                    cataid: cataid.flatten().unwrap_or_default(),
                    times: times.flatten().unwrap_or_default(),
                    status: status
                        .flatten()
                        .unwrap_or_else(|| VideoStatus::Unknown(String::new())),
                    ptime: Timestamp(ptime.flatten().unwrap_or_default()),
                })
            }
        }
        deserializer.deserialize_map(VideoVisitor)
    }
}

/// A video's tags: the comma-separated string the API sends, split only when
/// asked, so parsing a page allocates nothing per tag.
///
/// ```
/// use polyv_core::videos::Tags;
///
/// assert_eq!(Tags::from("教程,入门").iter().collect::<Vec<_>>(), ["教程", "入门"]);
/// assert!(Tags::from("").is_empty());
/// assert_eq!(Tags::from("").iter().count(), 0);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Tags<'a>(&'a str);

impl<'a> Tags<'a> {
    /// Each tag, in order; empty pieces (`"a,,b"`) are skipped.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0.split(',').filter(|t| !t.is_empty())
    }

    /// Whether there is no tag.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The string as the API sent it.
    pub fn as_raw(&self) -> &'a str {
        self.0
    }
}

impl fmt::Debug for Tags<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> From<&'a str> for Tags<'a> {
    fn from(raw: &'a str) -> Self {
        Self(raw)
    }
}

/// A point in time as milliseconds since the Unix epoch, as Polyv sends it.
///
/// ```
/// use polyv_core::videos::Timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t = Timestamp::from_millis(1540797491063);
/// assert_eq!(t.to_system_time(), Some(UNIX_EPOCH + Duration::from_millis(1540797491063)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(#[serde(deserialize_with = "crate::lenient::number")] i64);

impl Timestamp {
    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// As a `SystemTime`; `None` only where the platform cannot represent it.
    pub fn to_system_time(self) -> Option<SystemTime> {
        let magnitude = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        }
    }
}

/// A video's state. Unknown codes are kept, not rejected, so a new state on
/// the server never fails a whole page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoStatus {
    /// `60`: published.
    Published60,
    /// `61`: published.
    Published61,
    /// `10`: waiting to be encoded.
    WaitingToEncode,
    /// `20`: being encoded.
    Encoding,
    /// `50`: waiting for review.
    WaitingForReview,
    /// `51`: rejected in review.
    Rejected,
    /// `-1`: deleted.
    Deleted,
    /// Any other code, as sent.
    Unknown(String),
}

impl VideoStatus {
    /// Parses the API's code.
    pub fn from_code(code: &str) -> Self {
        match code {
            "60" => Self::Published60,
            "61" => Self::Published61,
            "10" => Self::WaitingToEncode,
            "20" => Self::Encoding,
            "50" => Self::WaitingForReview,
            "51" => Self::Rejected,
            "-1" => Self::Deleted,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The API's code, e.g. `"61"`.
    pub fn code(&self) -> &str {
        match self {
            Self::Published60 => "60",
            Self::Published61 => "61",
            Self::WaitingToEncode => "10",
            Self::Encoding => "20",
            Self::WaitingForReview => "50",
            Self::Rejected => "51",
            Self::Deleted => "-1",
            Self::Unknown(code) => code,
        }
    }

    /// Whether the video is published (60 or 61).
    pub fn is_published(&self) -> bool {
        matches!(self, Self::Published60 | Self::Published61)
    }

    /// A short English description, for people.
    pub fn describe(&self) -> &str {
        match self {
            Self::Published60 | Self::Published61 => "published",
            Self::WaitingToEncode => "waiting to encode",
            Self::Encoding => "encoding",
            Self::WaitingForReview => "waiting for review",
            Self::Rejected => "rejected",
            Self::Deleted => "deleted",
            Self::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for VideoStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for VideoStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for VideoStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;
        impl Visitor<'_> for StatusVisitor {
            type Value = VideoStatus;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code as a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VideoStatus, E> {
                Ok(VideoStatus::from_code(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<VideoStatus, E> {
                Ok(VideoStatus::from_code(&v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VideoStatus, E> {
                Ok(VideoStatus::from_code(&v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<VideoStatus, E> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
                    Ok(VideoStatus::from_code(&(v as i64).to_string()))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        deserializer.deserialize_any(StatusVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        for code in ["60", "61", "10", "20", "50", "51", "-1", "99", "x"] {
            let s = VideoStatus::from_code(code);
            assert_eq!(s.code(), code);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<VideoStatus>(&json).unwrap(), s);
        }
        assert_eq!(
            serde_json::from_str::<VideoStatus>("-1").unwrap(),
            VideoStatus::Deleted
        );
        assert_eq!(
            VideoStatus::from_code("70"),
            VideoStatus::Unknown("70".into())
        );
        assert!(VideoStatus::Published60.is_published());
        assert!(!VideoStatus::Rejected.is_published());
    }

    #[test]
    fn tags_split_lazily() {
        let t = Tags::from("a,,b,");
        assert_eq!(t.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(format!("{t:?}"), r#"["a", "b"]"#);
        assert_eq!(t.as_raw(), "a,,b,");
        assert!(Tags::from(",").is_empty());
    }

    const ONE: &str = r#"{"vid":"v1","cataid":7,"title":"标题 \"q\" \u00e9","context":"","times":3,
        "firstImage":"http://i/1.jpg","tag":"a,b","aacLink":"http://a/1.aac","status":"10",
        "uploaderEmail":"e@x.com","ptime":5}"#;

    #[test]
    fn text_fields_share_one_allocation_and_read_back() {
        let v: Video = serde_json::from_str(ONE).unwrap();
        assert_eq!(v.vid(), "v1");
        assert_eq!(v.title(), "标题 \"q\" é");
        assert_eq!(v.context(), "");
        assert_eq!(v.first_image(), "http://i/1.jpg");
        assert_eq!(v.tags().iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(v.aac_link(), Some("http://a/1.aac"));
        assert_eq!(v.uploader_email(), "e@x.com");
        assert_eq!((v.cataid(), v.times(), v.ptime().as_millis()), (7, 3, 5));
        assert_eq!(v.status(), &VideoStatus::WaitingToEncode);
        // Borrowed (from_slice) and copied (from_reader) strings build the same video.
        let from_reader: Video = serde_json::from_reader(ONE.as_bytes()).unwrap();
        assert_eq!(from_reader, v);
        // Serialising gives back the same JSON value.
        let back = serde_json::to_value(&v).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(ONE).unwrap()
        );
        let debug = format!("{v:?}");
        assert!(debug.contains(r#"title: "标题 \"q\" é""#), "{debug}");
        assert!(debug.contains(r#"tags: ["a", "b"]"#), "{debug}");
    }

    #[test]
    fn aac_link_null_absent_and_empty() {
        let null: Video =
            serde_json::from_str(&ONE.replace(r#""http://a/1.aac""#, "null")).unwrap();
        assert_eq!(null.aac_link(), None);
        let absent: Video =
            serde_json::from_str(&ONE.replace(r#""aacLink":"http://a/1.aac","#, "")).unwrap();
        assert_eq!(absent.aac_link(), None);
        assert_eq!(absent, null);
        let empty: Video = serde_json::from_str(&ONE.replace("http://a/1.aac", "")).unwrap();
        assert_eq!(empty.aac_link(), Some(""));
        assert_ne!(empty, null);
        assert_eq!(
            serde_json::to_value(&null).unwrap()["aacLink"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn only_a_missing_vid_duplicates_and_unreadable_values_are_errors() {
        let parse = |json: &str| serde_json::from_str::<Video>(json);
        for missing in [
            ONE.replace(r#""vid":"v1","#, ""),
            ONE.replace(r#""vid":"v1""#, r#""vid":null"#),
            ONE.replace(r#""vid":"v1""#, r#""vid":"""#),
        ] {
            let err = parse(&missing).unwrap_err();
            assert!(err.to_string().contains("missing field `vid`"), "{err}");
        }
        let twice = ONE.replace(r#""vid":"v1","#, r#""vid":"v1","vid":"v2","#);
        let err = parse(&twice).unwrap_err();
        assert!(err.to_string().contains("duplicate field `vid`"), "{err}");
        for unreadable in [
            ONE.replace(r#""times":3"#, r#""times":{}"#),
            ONE.replace(r#""times":3"#, r#""times":"three""#),
            ONE.replace(r#""times":3"#, r#""times":1.5"#),
            ONE.replace(r#""times":3"#, r#""times":-3"#),
            ONE.replace(r#""vid":"v1""#, r#""vid":true"#),
            ONE.replace(r#""status":"10""#, r#""status":[]"#),
        ] {
            assert!(parse(&unreadable).is_err(), "{unreadable}");
        }
        let extra = ONE.replace(r#""vid":"v1","#, r#""vid":"v1","new":{"a":[1,"x"]},"#);
        assert_eq!(parse(&extra).unwrap(), parse(ONE).unwrap());
    }

    #[test]
    fn loosely_typed_fields_read_as_their_values() {
        let parse = |json: String| serde_json::from_str::<Video>(&json).unwrap();
        let base = parse(ONE.to_owned());
        for loose in [
            ONE.replace(r#""times":3"#, r#""times":"3""#),
            ONE.replace(r#""times":3"#, r#""times":3.0"#),
            ONE.replace(r#""cataid":7"#, r#""cataid":"7""#),
            ONE.replace(r#""ptime":5"#, r#""ptime":"5""#),
            ONE.replace(r#""status":"10""#, r#""status":10"#),
        ] {
            assert_eq!(parse(loose.clone()), base, "{loose}");
        }
        let big = parse(ONE.replace(r#""cataid":7"#, r#""cataid":"1539918907896""#));
        assert_eq!(big.cataid(), 1_539_918_907_896);
        let numeric_vid = parse(ONE.replace(r#""vid":"v1""#, r#""vid":123"#));
        assert_eq!(numeric_vid.vid(), "123");
        let nulls = parse(
            ONE.replace(r#""title":"标题 \"q\" \u00e9""#, r#""title":null"#)
                .replace(r#""tag":"a,b""#, r#""tag":null"#)
                .replace(r#""times":3"#, r#""times":null"#),
        );
        assert_eq!(
            (nulls.title(), nulls.tags().as_raw(), nulls.times()),
            ("", "", 0)
        );
        let bare = parse(r#"{"vid":"v9"}"#.to_owned());
        assert_eq!((bare.vid(), bare.cataid(), bare.title()), ("v9", 0, ""));
        assert_eq!(bare.status(), &VideoStatus::Unknown(String::new()));
        assert_eq!(bare.aac_link(), None);
        // What is re-emitted is the normalised value: numbers as numbers.
        let back =
            serde_json::to_value(parse(ONE.replace(r#""times":3"#, r#""times":"3""#))).unwrap();
        assert_eq!(back["times"], 3);
        assert_eq!(back["status"], "10");
    }

    #[test]
    fn timestamps_before_the_epoch() {
        assert_eq!(
            Timestamp::from_millis(-1000).to_system_time(),
            Some(UNIX_EPOCH - Duration::from_secs(1))
        );
    }
}
