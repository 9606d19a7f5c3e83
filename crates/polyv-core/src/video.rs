//! The `Video` record of get-by-uploader and its field types.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One video, as get-by-uploader lists it.
///
/// Deserialises from, and serialises back to, the API's own field names and
/// values (`status` as its string code, `tag` as the comma-separated string),
/// so a consumer can re-emit exactly what the server sent.
///
/// ```
/// use polyv_core::{Video, VideoStatus};
///
/// let json = r#"{"vid":"b0f7_b","cataid":1539918907896,"title":"test","context":"简介",
///   "times":3,"firstImage":"http://img.example/1.jpg","tag":"a,b","aacLink":null,
///   "status":"61","uploaderEmail":"test1@zzs.com","ptime":1540797491063}"#;
/// let video: Video = serde_json::from_str(json)?;
/// assert_eq!(video.cataid, 1539918907896);
/// assert_eq!(video.status, VideoStatus::Published61);
/// assert_eq!(video.tags.iter().collect::<Vec<_>>(), ["a", "b"]);
/// assert!(serde_json::to_string(&video)?.contains(r#""status":"61""#));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Video {
    /// The video id.
    pub vid: String,
    /// The category id (values exceed 32 bits).
    pub cataid: u64,
    /// The title.
    pub title: String,
    /// The description (`context`, 简介).
    pub context: String,
    /// The play count (`times`).
    pub times: u64,
    /// The cover image URL.
    pub first_image: String,
    /// The tags (`tag`, comma-separated on the wire).
    #[serde(rename = "tag")]
    pub tags: Tags,
    /// The audio URL, when there is one.
    pub aac_link: Option<String>,
    /// The processing state.
    pub status: VideoStatus,
    /// The e-mail of the sub-account that uploaded it.
    pub uploader_email: String,
    /// The upload time.
    pub ptime: Timestamp,
}

/// A video's tags, kept as the comma-separated string the API sends and split
/// only when asked, so parsing a page allocates nothing per tag.
///
/// ```
/// use polyv_core::Tags;
///
/// assert_eq!(Tags::from("教程,入门").iter().collect::<Vec<_>>(), ["教程", "入门"]);
/// assert!(Tags::from("").is_empty());
/// assert_eq!(Tags::from("").iter().count(), 0);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tags(String);

impl Tags {
    /// Each tag, in order; empty pieces (`"a,,b"`) are skipped.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.split(',').filter(|t| !t.is_empty())
    }

    /// Whether there is no tag.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The string as the API sent it.
    pub fn as_raw(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl From<&str> for Tags {
    fn from(raw: &str) -> Self {
        Self(raw.to_owned())
    }
}

impl From<String> for Tags {
    fn from(raw: String) -> Self {
        Self(raw)
    }
}

/// A point in time as milliseconds since the Unix epoch, as Polyv sends it.
///
/// ```
/// use polyv_core::Timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t = Timestamp::from_millis(1540797491063);
/// assert_eq!(t.to_system_time(), Some(UNIX_EPOCH + Duration::from_millis(1540797491063)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

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

    #[test]
    fn timestamps_before_the_epoch() {
        assert_eq!(
            Timestamp::from_millis(-1000).to_system_time(),
            Some(UNIX_EPOCH - Duration::from_secs(1))
        );
    }
}
