//! `GET /v2/video/{userid}/get-video-msg`: one video's full information.

use std::time::Duration;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

use super::{Tags, VideoStatus};
use crate::stats::{ApiTime, opt_time};
use crate::{Endpoint, Error, Params, UserId, input, lenient, wire};

/// One video's full information (get-video-msg).
///
/// - **Method:** GET, as the official SDK does.
/// - **Signing:** every parameter sent (`ptime`, `vid`).
/// - **Resending:** safe, it is a read.
/// - **Answer:** an array holding the video (the SDK takes element 0); an
///   object given directly is read too. An empty array is
///   [`Error::Decode`].
///
/// ```
/// use polyv_core::videos::GetVideo;
/// use polyv_core::{Config, Credentials};
///
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&GetVideo::new("382839019131be68715e9455f8d0971a_3")?, 1_469_599_842_000)?;
/// assert_eq!(request.method(), "GET");
/// assert_eq!(request.uri().path(), "/v2/video/3828390191/get-video-msg");
/// assert!(request.uri().query().unwrap().starts_with("ptime=1469599842000&vid=382839019131be68715e9455f8d0971a_3&sign="));
/// assert!(GetVideo::new("a,b").is_err());
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetVideo {
    vid: String,
}

impl GetVideo {
    /// The video `vid` (one id: not blank, no comma or space).
    pub fn new(vid: impl Into<String>) -> Result<Self, Error> {
        let vid = vid.into();
        input::vid(&vid)?;
        Ok(Self { vid })
    }

    /// The video asked for.
    pub fn vid(&self) -> &str {
        &self.vid
    }
}

impl Endpoint for GetVideo {
    type Data = VideoDetail;

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/video/");
        path.push_str(user_id.as_str());
        path.push_str("/get-video-msg");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        params.push("vid", &self.vid);
    }

    fn resend_safe(&self) -> bool {
        true
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<VideoDetail, Error> {
        crate::parse_response::<wire::FirstOf<VideoDetail>>(status, retry_after, body)?
            .0
            .ok_or_else(|| Error::Decode {
                path: "data".into(),
                message: format!(
                    "the server answered success without a video for {:?}: check the vid",
                    self.vid
                ),
            })
    }
}

/// The person who uploaded a video.
///
/// ```
/// use polyv_core::videos::Uploader;
///
/// let u: Uploader = serde_json::from_str(r#"{"email":"a@b.c","name":"Ann","role":"管理员"}"#)?;
/// assert_eq!((u.email.as_str(), u.name.as_str(), u.role.as_str()), ("a@b.c", "Ann", "管理员"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Uploader {
    /// The uploader's e-mail.
    #[serde(default, deserialize_with = "lenient::text")]
    pub email: String,
    /// The uploader's name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    /// The uploader's role (e.g. 管理员, 上传者, 主账号).
    #[serde(default, deserialize_with = "lenient::text")]
    pub role: String,
}

/// One video's full information, under the API's own field names
/// (`first_image`, `mp4_1`, `hlsLevel`...), as get-video-msg (and, echoing
/// an update, video-info) return it.
///
/// Read leniently (spec A.8; the SDK itself types `times`, `status`,
/// `filesize` and more as numbers for one endpoint and strings for the
/// other): numbers may be numeric strings, text may be `null` or a number,
/// lists may be `null`, any field but `vid` may be absent (0, `""`, empty),
/// unknown fields are ignored. `ptime` is kept as sent ([`ApiTime`]).
///
/// ```
/// use polyv_core::videos::{VideoDetail, VideoStatus};
/// use std::time::Duration;
///
/// let v: VideoDetail = serde_json::from_str(r#"{"vid":"v1","title":"t","duration":"00:01:48",
///   "times":"72","status":61,"filesize":[1024,"2048",4096],"source_filesize":"123456",
///   "seed":1,"ptime":"2017-04-06 15:23:36","uploader":{"email":"a@b.c","name":"A","role":"主账号"}}"#)?;
/// assert_eq!(v.length(), Some(Duration::from_secs(108)));
/// assert_eq!((v.times, v.source_filesize), (72, 123_456));
/// assert_eq!(v.filesize, [1024, 2048, 4096]);
/// assert_eq!(v.status, VideoStatus::Published61);
/// assert!(v.is_encrypted());
/// assert_eq!(v.uploader.as_ref().map(|u| u.role.as_str()), Some("主账号"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VideoDetail {
    /// The video id.
    #[serde(deserialize_with = "lenient::text")]
    pub vid: String,
    /// The title.
    #[serde(default, deserialize_with = "lenient::text")]
    pub title: String,
    /// The tags, comma-separated as sent (`tag`); see [`tags`](Self::tags).
    #[serde(default, deserialize_with = "lenient::text")]
    pub tag: String,
    /// The description (`context`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub context: String,
    /// The length as sent, `HH:MM:SS` (`duration`); see
    /// [`length`](Self::length).
    #[serde(default, deserialize_with = "lenient::text")]
    pub duration: String,
    /// The play count (`times`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub times: u64,
    /// The upload time (`ptime`), in whichever shape was sent.
    #[serde(
        default,
        deserialize_with = "opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub ptime: Option<ApiTime>,
    /// The category id (`cataid`; 1 is the root).
    #[serde(default, deserialize_with = "lenient::number")]
    pub cataid: u64,
    /// The category's name (`cataname`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub cataname: String,
    /// The processing state (`status`); an unknown code is kept.
    #[serde(default = "no_status", deserialize_with = "status")]
    pub status: VideoStatus,
    /// How many definitions (bitrates) there are (`df`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub df: u32,
    /// 1 when the video is encrypted (`seed`); see
    /// [`is_encrypted`](Self::is_encrypted).
    #[serde(default, deserialize_with = "lenient::number")]
    pub seed: u8,
    /// 1 when it is a source-file video (`keepsource`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub keepsource: u8,
    /// The player's width (`playerwidth`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub playerwidth: u32,
    /// The player's height (`playerheight`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub playerheight: u32,
    /// The best resolution, e.g. `"1280x720"` (`original_definition`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub original_definition: String,
    /// The size in bytes of each definition, lowest first (`filesize`).
    #[serde(default, deserialize_with = "wire::numbers")]
    pub filesize: Vec<u64>,
    /// The source file's size in bytes (`source_filesize`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub source_filesize: u64,
    /// The source file's MD5 (`md5checksum`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub md5checksum: String,
    /// The cover image URL (`first_image`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub first_image: String,
    /// Small snapshots (`images`; relative paths in Polyv's samples).
    #[serde(default, deserialize_with = "wire::texts")]
    pub images: Vec<String>,
    /// Big snapshots (`images_b`).
    #[serde(default, deserialize_with = "wire::texts")]
    pub images_b: Vec<String>,
    /// Snapshot URLs (`imageUrls`; key taken from the SDK's field name).
    #[serde(rename = "imageUrls", default, deserialize_with = "wire::texts")]
    pub image_urls: Vec<String>,
    /// The flash player link (`swf_link`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub swf_link: String,
    /// The source MP4 URL (`mp4`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub mp4: String,
    /// The default video URL (`default_video`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub default_video: String,
    /// The preview video's vid (`previewVid`).
    #[serde(rename = "previewVid", default, deserialize_with = "lenient::text")]
    pub preview_vid: String,
    /// MP4 URL, definition 1 (`mp4_1`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub mp4_1: String,
    /// MP4 URL, definition 2 (`mp4_2`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub mp4_2: String,
    /// MP4 URL, definition 3 (`mp4_3`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub mp4_3: String,
    /// FLV URL, definition 1 (`flv1`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub flv1: String,
    /// FLV URL, definition 2 (`flv2`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub flv2: String,
    /// FLV URL, definition 3 (`flv3`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub flv3: String,
    /// HLS URL, definition 1 (`hls_1`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub hls_1: String,
    /// HLS URL, definition 2 (`hls_2`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub hls_2: String,
    /// HLS URL, definition 3 (`hls_3`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub hls_3: String,
    /// The m3u8 URL of each definition (`hls`).
    #[serde(default, deserialize_with = "wire::texts")]
    pub hls: Vec<String>,
    /// Who may play the HLS stream: `open`, `web`, `app`, `wxa_app`
    /// (`hlsLevel`; key taken from the SDK's field name).
    #[serde(rename = "hlsLevel", default, deserialize_with = "lenient::text")]
    pub hls_level: String,
    /// Who uploaded it (`uploader`), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploader: Option<Uploader>,
}

fn no_status() -> VideoStatus {
    VideoStatus::Unknown(String::new())
}

/// A status code as a string or a number; `null` reads as an unknown empty
/// code.
fn status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<VideoStatus, D::Error> {
    Ok(Option::<VideoStatus>::deserialize(deserializer)?.unwrap_or_else(no_status))
}

impl VideoDetail {
    /// The tags, split on commas.
    pub fn tags(&self) -> Tags<'_> {
        Tags::from(self.tag.as_str())
    }

    /// The length, read from `duration` (`HH:MM:SS`, `MM:SS` or seconds);
    /// `None` when it does not read as one.
    pub fn length(&self) -> Option<Duration> {
        parse_clock(&self.duration).map(Duration::from_secs)
    }

    /// Whether the video is encrypted (`seed` is 1).
    pub fn is_encrypted(&self) -> bool {
        self.seed == 1
    }

    /// Whether it is a source-file video (`keepsource` is 1).
    pub fn keeps_source(&self) -> bool {
        self.keepsource == 1
    }

    /// The MP4 URLs of definitions 1 to 3 (`mp4_1`..`mp4_3`), `""` where
    /// there is none.
    pub fn mp4_urls(&self) -> [&str; 3] {
        [&self.mp4_1, &self.mp4_2, &self.mp4_3]
    }

    /// The FLV URLs of definitions 1 to 3 (`flv1`..`flv3`).
    pub fn flv_urls(&self) -> [&str; 3] {
        [&self.flv1, &self.flv2, &self.flv3]
    }

    /// The HLS URLs of definitions 1 to 3 (`hls_1`..`hls_3`).
    pub fn hls_urls(&self) -> [&str; 3] {
        [&self.hls_1, &self.hls_2, &self.hls_3]
    }
}

/// Seconds in `HH:MM:SS`, `MM:SS` or `SS` (each part digits; minutes and
/// seconds below 60 once there is a larger unit).
fn parse_clock(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut total: u64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let n: u64 = part.parse().ok()?;
        if i > 0 && n >= 60 {
            return None;
        }
        total = total.checked_mul(60)?.checked_add(n)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of the spec's B.2 table.
    const FULL: &str = r#"{"vid":"382839019131be68715e9455f8d0971a_3","title":"标题","tag":"a,b",
      "context":"简介","duration":"00:00:48","times":72,"ptime":"2017-04-06 15:23:36",
      "cataid":1466567123649,"cataname":"课程","status":61,"df":3,"seed":0,"keepsource":0,
      "playerwidth":1280,"playerheight":720,"original_definition":"1280x720",
      "filesize":[1048576,2097152,4194304],"source_filesize":"8388608","md5checksum":"abc",
      "first_image":"http://img/1.jpg","images":["1_0.jpg","1_1.jpg"],"images_b":["1_0_b.jpg"],
      "imageUrls":["http://img/1_0.jpg"],"swf_link":"http://player/1.swf","mp4":"http://v/1.mp4",
      "default_video":"http://v/d.mp4","previewVid":"p1","mp4_1":"http://v/1_1.mp4",
      "mp4_2":"http://v/1_2.mp4","mp4_3":"","flv1":"http://v/1_1.flv","flv2":"","flv3":"",
      "hls_1":"http://v/1_1.m3u8","hls_2":"http://v/1_2.m3u8","hls_3":"",
      "hls":["http://v/1_1.m3u8","http://v/1_2.m3u8"],"hlsLevel":"open",
      "uploader":{"email":"a@b.c","name":"Ann","role":"管理员"}}"#;

    #[test]
    fn every_key_of_the_table() {
        let v: VideoDetail = serde_json::from_str(FULL).unwrap();
        assert_eq!(v.vid, "382839019131be68715e9455f8d0971a_3");
        assert_eq!(v.tags().iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(v.length(), Some(Duration::from_secs(48)));
        assert_eq!(v.ptime, Some(ApiTime::Text("2017-04-06 15:23:36".into())));
        assert_eq!((v.cataid, v.cataname.as_str()), (1_466_567_123_649, "课程"));
        assert_eq!(v.status, VideoStatus::Published61);
        assert_eq!((v.df, v.playerwidth, v.playerheight), (3, 1280, 720));
        assert!(!v.is_encrypted() && !v.keeps_source());
        assert_eq!(v.filesize, [1_048_576, 2_097_152, 4_194_304]);
        assert_eq!(v.source_filesize, 8_388_608);
        assert_eq!(v.images.len() + v.images_b.len() + v.image_urls.len(), 4);
        assert_eq!(v.mp4_urls(), ["http://v/1_1.mp4", "http://v/1_2.mp4", ""]);
        assert_eq!(v.flv_urls()[0], "http://v/1_1.flv");
        assert_eq!(v.hls_urls()[1], "http://v/1_2.m3u8");
        assert_eq!(v.hls.len(), 2);
        assert_eq!(
            (v.hls_level.as_str(), v.preview_vid.as_str()),
            ("open", "p1")
        );
        assert_eq!(v.uploader.as_ref().unwrap().name, "Ann");
        // Re-emitted under the API's names, and read back the same.
        let back = serde_json::to_value(&v).unwrap();
        assert_eq!(back["hlsLevel"], "open");
        assert_eq!(back["status"], "61");
        assert_eq!(back["source_filesize"], 8_388_608);
        assert_eq!(serde_json::from_value::<VideoDetail>(back).unwrap(), v);
    }

    #[test]
    fn the_video_info_typing_reads_the_same() {
        // video-info's SDK entity: filesize String[], times/status/sizes as strings.
        let loose = FULL
            .replace(r#""times":72"#, r#""times":"72""#)
            .replace(r#""status":61"#, r#""status":"61""#)
            .replace(r#""playerwidth":1280"#, r#""playerwidth":"1280""#)
            .replace(r#""cataid":1466567123649"#, r#""cataid":"1466567123649""#)
            .replace(
                r#""filesize":[1048576,2097152,4194304]"#,
                r#""filesize":["1048576","2097152",4194304.0]"#,
            )
            .replace(
                r#""ptime":"2017-04-06 15:23:36""#,
                r#""ptime":1491463416000"#,
            )
            .replace(r#""vid":"#, r#""brandNew":[{"x":null}],"vid":"#);
        let v: VideoDetail = serde_json::from_str(&loose).unwrap();
        let full: VideoDetail = serde_json::from_str(FULL).unwrap();
        assert_eq!(v.ptime, Some(ApiTime::EpochMillis(1_491_463_416_000)));
        assert_eq!(
            VideoDetail {
                ptime: full.ptime.clone(),
                ..v
            },
            full
        );
    }

    #[test]
    fn nulls_and_missing_fields() {
        let v: VideoDetail = serde_json::from_str(
            r#"{"vid":"v1","title":null,"filesize":null,"images":[null,"a"],"status":null,
              "uploader":null,"ptime":"","times":""}"#,
        )
        .unwrap();
        assert_eq!(v.title, "");
        assert!(v.filesize.is_empty());
        assert_eq!(v.images, ["", "a"]);
        assert_eq!(v.status, VideoStatus::Unknown(String::new()));
        assert_eq!((v.uploader, v.ptime, v.times), (None, None, 0));
        let bare: VideoDetail = serde_json::from_str(r#"{"vid":"v1"}"#).unwrap();
        assert_eq!(bare.length(), None);
        assert!(serde_json::from_str::<VideoDetail>(r#"{"title":"no vid"}"#).is_err());
        assert!(serde_json::from_str::<VideoDetail>(r#"{"vid":"v","filesize":["big"]}"#).is_err());
    }

    #[test]
    fn durations() {
        for (text, secs) in [
            ("00:00:48", Some(48)),
            ("01:02:03", Some(3723)),
            ("100:00:00", Some(360_000)),
            ("02:03", Some(123)),
            ("59", Some(59)),
            ("", None),
            ("00:60:00", None),
            ("1:2:3:4", None),
            ("a:b", None),
            ("-1", None),
            ("00::01", None),
        ] {
            assert_eq!(parse_clock(text), secs, "{text:?}");
        }
    }

    #[test]
    fn the_answer_is_an_array_of_one() {
        let q = GetVideo::new("v1").unwrap();
        let body = |data: &str| {
            format!(r#"{{"code":200,"status":"success","message":"success","data":{data}}}"#)
        };
        let v = q
            .parse(200, None, body(r#"[{"vid":"v1","times":3}]"#).as_bytes())
            .unwrap();
        assert_eq!((v.vid.as_str(), v.times), ("v1", 3));
        let v = q
            .parse(200, None, body(r#"{"vid":"v1"}"#).as_bytes())
            .unwrap();
        assert_eq!(v.vid, "v1");
        for empty in ["[]", r#""""#, "null"] {
            let err = q.parse(200, None, body(empty).as_bytes()).unwrap_err();
            assert!(
                matches!(&err, Error::Decode { path, .. } if path == "data"),
                "{err:?}"
            );
        }
        let err = q
            .parse(200, None, body(r#"[{"vid":"v1","times":"x"}]"#).as_bytes())
            .unwrap_err();
        assert!(
            matches!(&err, Error::Decode { path, .. } if path.contains("times")),
            "{err:?}"
        );
        let refused = br#"{"code":400,"status":"error","message":"ptime is too old.","data":""}"#;
        assert!(matches!(
            q.parse(400, None, refused),
            Err(Error::PtimeTooOld)
        ));
    }
}
