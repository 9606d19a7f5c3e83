//! `GET /v2/data/{userid}/viewlog`: one day's play log.

use serde::{Deserialize, Serialize};

use super::day::{ApiTime, Day, opt_time};
use crate::{Endpoint, Error, Params, SignedParams, UserId, input, lenient};

/// The longest `sessionId` the API accepts, in characters (the SDK's
/// description).
pub const MAX_SESSION_ID_CHARS: usize = 50;

/// One day's view log (viewlog): every play of the account's videos that
/// day, optionally narrowed to a video, a category or a viewer.
///
/// - **Method:** GET, as the official SDK does (the docs also mention POST).
/// - **Signing:** the fixed subset `day`, `ptime` and the account id as
///   `userid` (which only the path carries). `vid`, `cataid`, `sessionId` and
///   `viewerId` are sent but **not** signed, as in the SDK.
/// - **Resending:** safe, it is a read.
/// - **`day`:** sent as `yyyyMMdd`, the caller's calendar date as is.
///
/// ```
/// use polyv_core::stats::{Day, ViewLog};
/// use polyv_core::{Config, Credentials};
///
/// let query = ViewLog::builder("2016-07-13".parse::<Day>()?)
///     .vid("382839019131be68715e9455f8d0971a_3")
///     .build()?;
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&query, 1_469_599_842_000)?;
/// assert_eq!(request.method(), "GET");
/// assert_eq!(request.uri().path(), "/v2/data/3828390191/viewlog");
/// assert!(request.uri().query().unwrap().starts_with("day=20160713&vid=382839019131be68715e9455f8d0971a_3&ptime=1469599842000&sign="));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ViewLog {
    day: Day,
    /// `day` as sent, `yyyyMMdd`.
    day_text: String,
    cataid: Option<u64>,
    session_id: Option<String>,
    vid: Option<String>,
    viewer_id: Option<String>,
}

impl ViewLog {
    /// The whole day's log, every video.
    pub fn new(day: Day) -> Self {
        Self {
            day,
            day_text: day.compact(),
            cataid: None,
            session_id: None,
            vid: None,
            viewer_id: None,
        }
    }

    /// A builder for the optional filters.
    pub fn builder(day: Day) -> ViewLogBuilder {
        ViewLogBuilder {
            query: Self::new(day),
        }
    }

    /// The day asked for.
    pub fn day(&self) -> Day {
        self.day
    }
}

/// Builds a [`ViewLog`]; [`build`](Self::build) checks the filters.
///
/// ```
/// use polyv_core::stats::{Day, ViewLog};
///
/// let day = Day::new(2021, 4, 7)?;
/// assert!(ViewLog::builder(day).session_id("x".repeat(51)).build().is_err());
/// assert!(ViewLog::builder(day).vid("a,b").build().is_err());
/// let query = ViewLog::builder(day).cataid(1466567123649).viewer_id("viewer-9").build()?;
/// assert_eq!(query.day(), day);
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ViewLogBuilder {
    query: ViewLog,
}

impl ViewLogBuilder {
    /// Only this video's plays (`vid`; sent, not signed).
    pub fn vid(mut self, vid: impl Into<String>) -> Self {
        self.query.vid = Some(vid.into());
        self
    }

    /// Only this category's plays (`cataid`; sent, not signed).
    pub fn cataid(mut self, cataid: u64) -> Self {
        self.query.cataid = Some(cataid);
        self
    }

    /// Only plays with this caller-defined viewer id (`sessionId`, at most 50
    /// characters; sent, not signed).
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        self.query.session_id = Some(session_id.into());
        self
    }

    /// Only this viewer's plays (`viewerId`; takes precedence over
    /// `sessionId` on the server; sent, not signed).
    pub fn viewer_id(mut self, viewer_id: impl Into<String>) -> Self {
        self.query.viewer_id = Some(viewer_id.into());
        self
    }

    /// Checks the filters and returns the query.
    pub fn build(self) -> Result<ViewLog, Error> {
        let query = self.query;
        if let Some(vid) = &query.vid {
            input::vid(vid)?;
        }
        if let Some(cataid) = query.cataid {
            input::cataid(cataid)?;
        }
        if let Some(session_id) = &query.session_id {
            input::non_blank("sessionId", session_id)?;
            let chars = session_id.chars().count();
            if chars > MAX_SESSION_ID_CHARS {
                return Err(Error::InvalidInput(format!(
                    "the sessionId has {chars} characters: use at most {MAX_SESSION_ID_CHARS}"
                )));
            }
        }
        if let Some(viewer_id) = &query.viewer_id {
            input::non_blank("viewerId", viewer_id)?;
        }
        Ok(query)
    }
}

impl Endpoint for ViewLog {
    type Data = Vec<ViewLogRow>;

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/data/");
        path.push_str(user_id.as_str());
        path.push_str("/viewlog");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        if let Some(cataid) = self.cataid {
            params.push_number("cataid", cataid);
        }
        params.push("day", &self.day_text);
        if let Some(session_id) = &self.session_id {
            params.push("sessionId", session_id);
        }
        if let Some(vid) = &self.vid {
            params.push("vid", vid);
        }
        if let Some(viewer_id) = &self.viewer_id {
            params.push("viewerId", viewer_id);
        }
    }

    fn signed_params(&self) -> SignedParams {
        SignedParams::only_with_user_id(&["day"])
    }

    fn resend_safe(&self) -> bool {
        true
    }

    /// An empty day may come as `[]`, `""` or `null`: all read as no rows.
    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<Vec<ViewLogRow>, Error> {
        crate::parse_response::<crate::wire::ListOrNothing<ViewLogRow>>(status, retry_after, body)
            .map(|list| list.0)
    }
}

/// One play in a [`ViewLog`], under the API's own field names.
///
/// Read leniently ([`lenient`](crate::lenient)): numbers may be numeric
/// strings, text may be `null` or a number, every field may be absent (0 or
/// `""`), unknown fields are ignored. `createdTime` and `lastModified` are
/// epoch milliseconds in Polyv's sample but formatted dates in the SDK, so
/// they are kept as an [`ApiTime`] either way.
///
/// ```
/// use polyv_core::stats::{ApiTime, ViewLogRow};
///
/// let row: ViewLogRow = serde_json::from_str(r#"{"playId":"p1","videoId":"v1",
///   "playDuration":"30","flowSize":1048576,"isMobile":"Y","currentDay":"2016-07-13",
///   "currentHour":8,"createdTime":1468368000000,"lastModified":"2016-07-13 08:00"}"#)?;
/// assert_eq!((row.play_duration, row.flow_size), (30, 1_048_576));
/// assert_eq!(row.is_mobile(), Some(true));
/// assert_eq!(row.created_time, Some(ApiTime::EpochMillis(1_468_368_000_000)));
/// assert_eq!(row.day().map(|d| d.to_string()).as_deref(), Some("2016-07-13"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ViewLogRow {
    /// The id of this play (`playId`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub play_id: String,
    /// The account id (`userId`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_id: String,
    /// The video id (`videoId`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub video_id: String,
    /// Seconds watched (`playDuration`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub play_duration: u64,
    /// Seconds buffered, 缓存时长 (`stayDuration`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub stay_duration: u64,
    /// The last position reached, in seconds (`currentTimes`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub current_times: u64,
    /// The video's length in seconds (`duration`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub duration: u64,
    /// Traffic in bytes (`flowSize`; Polyv fills it in a day later).
    #[serde(default, deserialize_with = "lenient::number")]
    pub flow_size: u64,
    /// The caller-defined viewer id (`sessionId`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub session_id: String,
    /// Custom parameter 1 (`param1`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub param1: String,
    /// Custom parameter 2 (`param2`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub param2: String,
    /// Custom parameter 3 (`param3`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub param3: String,
    /// Custom parameter 4 (`param4`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub param4: String,
    /// Custom parameter 5 (`param5`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub param5: String,
    /// The viewer's IP address (`ipAddress`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub ip_address: String,
    /// The viewer's country.
    #[serde(default, deserialize_with = "lenient::text")]
    pub country: String,
    /// The viewer's province.
    #[serde(default, deserialize_with = "lenient::text")]
    pub province: String,
    /// The viewer's city.
    #[serde(default, deserialize_with = "lenient::text")]
    pub city: String,
    /// The viewer's network operator.
    #[serde(default, deserialize_with = "lenient::text")]
    pub isp: String,
    /// The page the video was played on.
    #[serde(default, deserialize_with = "lenient::text")]
    pub referer: String,
    /// The player's user agent (`userAgent`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_agent: String,
    /// The viewer's operating system (`operatingSystem`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub operating_system: String,
    /// The viewer's browser.
    #[serde(default, deserialize_with = "lenient::text")]
    pub browser: String,
    /// `"Y"` or `"N"` as sent (`isMobile`); see [`is_mobile`](Self::is_mobile).
    #[serde(default, deserialize_with = "lenient::text")]
    pub is_mobile: String,
    /// The day as sent, `yyyy-MM-dd` (`currentDay`); see [`day`](Self::day).
    #[serde(default, deserialize_with = "lenient::text")]
    pub current_day: String,
    /// The hour of the day, 0 to 23 (`currentHour`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub current_hour: u8,
    /// When the row was created (`createdTime`), in whichever shape was sent.
    #[serde(
        default,
        deserialize_with = "opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_time: Option<ApiTime>,
    /// When the row last changed (`lastModified`).
    #[serde(
        default,
        deserialize_with = "opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified: Option<ApiTime>,
    /// The player kind (`viewSource`: `vod_pc_html5`, `vod_ios_sdk`, ...);
    /// SDK only, absent from Polyv's 2016 sample.
    #[serde(
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub view_source: Option<String>,
}

impl ViewLogRow {
    /// Whether the play was on a mobile device; `None` unless `isMobile` is
    /// `Y` or `N`.
    pub fn is_mobile(&self) -> Option<bool> {
        match self.is_mobile.trim() {
            "Y" | "y" => Some(true),
            "N" | "n" => Some(false),
            _ => None,
        }
    }

    /// `currentDay` as a [`Day`], when it reads as one.
    pub fn day(&self) -> Option<Day> {
        self.current_day.trim().parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dev.polyv.net sample's keys and shapes.
    const SAMPLE: &str = r#"[{"playId":"a1b2","userId":"3828390191","videoId":"382839019131be68715e9455f8d0971a_3",
      "playDuration":30,"stayDuration":5,"currentTimes":28,"duration":48,"flowSize":2048,
      "sessionId":"s1","param1":"","param2":null,"param3":"x","param4":"","param5":"",
      "ipAddress":"1.2.3.4","country":"中国","province":"广东","city":"广州","isp":"电信",
      "referer":"http://example.com/","userAgent":"Mozilla","operatingSystem":"Windows",
      "browser":"Chrome","isMobile":"N","currentDay":"2016-07-13","currentHour":10,
      "createdTime":1468375200000,"lastModified":1468375260000}]"#;

    #[test]
    fn rows_read_the_sample() {
        let rows: Vec<ViewLogRow> = serde_json::from_str(SAMPLE).unwrap();
        let row = &rows[0];
        assert_eq!(row.video_id, "382839019131be68715e9455f8d0971a_3");
        assert_eq!(
            (
                row.play_duration,
                row.stay_duration,
                row.current_times,
                row.duration
            ),
            (30, 5, 28, 48)
        );
        assert_eq!((row.flow_size, row.current_hour), (2048, 10));
        assert_eq!(row.param2, "");
        assert_eq!(row.is_mobile(), Some(false));
        assert_eq!(row.day(), Some(Day::new(2016, 7, 13).unwrap()));
        assert_eq!(
            row.created_time,
            Some(ApiTime::EpochMillis(1_468_375_200_000))
        );
        assert_eq!(row.view_source, None);
        // Re-emitted under the API's names, normalised.
        let back = serde_json::to_value(row).unwrap();
        assert_eq!(back["playDuration"], 30);
        assert_eq!(back["createdTime"], 1_468_375_200_000_i64);
        assert_eq!(back["ipAddress"], "1.2.3.4");
    }

    #[test]
    fn rows_read_loosely_typed_values() {
        let loose = SAMPLE
            .replace(r#""playDuration":30"#, r#""playDuration":"30""#)
            .replace(r#""flowSize":2048"#, r#""flowSize":2048.0"#)
            .replace(r#""currentHour":10"#, r#""currentHour":"10""#)
            .replace(
                r#""createdTime":1468375200000"#,
                r#""createdTime":"2016-07-13 10:00""#,
            )
            .replace(r#""lastModified":1468375260000"#, r#""lastModified":null"#)
            .replace(r#""userId":"3828390191""#, r#""userId":3828390191"#)
            .replace(
                r#""playId":"a1b2","#,
                r#""playId":"a1b2","new":{"x":1},"viewSource":"vod_pc_html5","#,
            );
        let rows: Vec<ViewLogRow> = serde_json::from_str(&loose).unwrap();
        let row = &rows[0];
        assert_eq!(
            (row.play_duration, row.flow_size, row.current_hour),
            (30, 2048, 10)
        );
        assert_eq!(
            row.created_time,
            Some(ApiTime::Text("2016-07-13 10:00".into()))
        );
        assert_eq!(row.last_modified, None);
        assert_eq!(row.user_id, "3828390191");
        assert_eq!(row.view_source.as_deref(), Some("vod_pc_html5"));
        let bare: ViewLogRow = serde_json::from_str("{}").unwrap();
        assert_eq!(bare, ViewLogRow::default());
        assert_eq!((bare.is_mobile(), bare.day()), (None, None));
        assert!(serde_json::from_str::<ViewLogRow>(r#"{"playDuration":"long"}"#).is_err());
    }

    #[test]
    fn an_empty_day_in_any_shape() {
        let q = ViewLog::new(Day::new(2016, 7, 13).unwrap());
        for data in ["[]", r#""""#, "null"] {
            let body = format!(r#"{{"code":200,"status":"success","message":"","data":{data}}}"#);
            assert!(
                q.parse(200, None, body.as_bytes()).unwrap().is_empty(),
                "{data}"
            );
        }
    }

    #[test]
    fn filters_are_checked() {
        let day = Day::new(2016, 7, 13).unwrap();
        for bad in [
            ViewLog::builder(day).vid(""),
            ViewLog::builder(day).vid("a b"),
            ViewLog::builder(day).cataid(0),
            ViewLog::builder(day).session_id(" "),
            ViewLog::builder(day).session_id("é".repeat(51)),
            ViewLog::builder(day).viewer_id(""),
        ] {
            assert!(matches!(bad.build(), Err(Error::InvalidInput(_))));
        }
        assert!(
            ViewLog::builder(day)
                .session_id("é".repeat(50))
                .build()
                .is_ok()
        );
    }
}
