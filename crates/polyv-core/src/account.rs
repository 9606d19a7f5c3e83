//! The account: its space and traffic (main).

use serde::{Deserialize, Serialize};

use crate::{Endpoint, Params, UserId, lenient};

pub use crate::stats::Day;

/// The account's storage and traffic, optionally as of a date (main).
///
/// - **Method:** POST form, as the official SDK does (Polyv's pages disagree:
///   one says GET).
/// - **Signing:** every parameter sent (`date` when set, `ptime`).
/// - **Resending:** safe, it is a read although it is a POST.
/// - **`date`:** sent as `yyyy-MM-dd`; optional, as in the SDK (whether the
///   server requires it is unverified, spec C.4).
///
/// ```
/// use polyv_core::account::{AccountUsage, Day};
/// use polyv_core::{Config, Credentials};
///
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&AccountUsage::on(Day::new(2020, 10, 13)?), 1_469_599_842_000)?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.uri().path(), "/v2/user/3828390191/main");
/// assert!(request.body().starts_with(b"date=2020-10-13&ptime=1469599842000&sign="));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AccountUsage {
    date: Option<(Day, String)>,
}

impl AccountUsage {
    /// The usage as the server reports it by default (no `date`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The usage as of this date (`date`).
    pub fn on(day: Day) -> Self {
        Self {
            date: Some((day, day.to_string())),
        }
    }

    /// The date asked for, if any.
    pub fn date(&self) -> Option<Day> {
        self.date.as_ref().map(|(day, _)| *day)
    }
}

impl Endpoint for AccountUsage {
    type Data = Usage;

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/user/");
        path.push_str(user_id.as_str());
        path.push_str("/main");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        if let Some((_, text)) = &self.date {
            params.push("date", text);
        }
    }

    /// A read: sending it twice changes nothing.
    fn resend_safe(&self) -> bool {
        true
    }
}

/// The account's space and traffic, under the API's own field names. Sizes
/// are bytes. Read leniently: numbers may be numeric strings, text `null`,
/// any field absent (0, `""`, or `None` for `videoCount`, which only
/// Polyv's newer docs show).
///
/// ```
/// use polyv_core::account::Usage;
///
/// let usage: Usage = serde_json::from_str(r#"{"totalFlow":"107374182400","usedFlow":5,
///   "totalSpace":1073741824,"usedSpace":0,"userId":"3828390191","email":"a@b.c"}"#)?;
/// assert_eq!(usage.total_flow, 107_374_182_400);
/// assert_eq!(usage.remaining_space(), 1_073_741_824);
/// assert_eq!(usage.video_count, None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Usage {
    /// Traffic allowed, bytes (`totalFlow`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub total_flow: u64,
    /// Traffic used, bytes (`usedFlow`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub used_flow: u64,
    /// Storage allowed, bytes (`totalSpace`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub total_space: u64,
    /// Storage used, bytes (`usedSpace`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub used_space: u64,
    /// The account id (`userId`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_id: String,
    /// The account's e-mail.
    #[serde(default, deserialize_with = "lenient::text")]
    pub email: String,
    /// How many videos the account holds (`videoCount`), when sent.
    #[serde(
        default,
        deserialize_with = "lenient::opt_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub video_count: Option<u64>,
}

impl Usage {
    /// Traffic left, bytes (0 when over).
    pub fn remaining_flow(&self) -> u64 {
        self.total_flow.saturating_sub(self.used_flow)
    }

    /// Storage left, bytes (0 when over).
    pub fn remaining_space(&self) -> u64 {
        self.total_space.saturating_sub(self.used_space)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gitbook_sample_and_loose_variants() {
        let sample = r#"{"totalFlow":107374182400,"usedFlow":1234,"totalSpace":10737418240,
          "usedSpace":4321,"userId":"1b448be323","email":"a@example.com","videoCount":12}"#;
        let usage: Usage = serde_json::from_str(sample).unwrap();
        assert_eq!(
            (
                usage.total_flow,
                usage.used_flow,
                usage.total_space,
                usage.used_space
            ),
            (107_374_182_400, 1234, 10_737_418_240, 4321)
        );
        assert_eq!(
            (usage.user_id.as_str(), usage.video_count),
            ("1b448be323", Some(12))
        );
        assert_eq!(usage.remaining_flow(), 107_374_182_400 - 1234);
        let loose: Usage = serde_json::from_str(
            r#"{"totalFlow":"107374182400","usedFlow":1234.0,"totalSpace":"10737418240",
          "usedSpace":"4321","userId":1,"email":null,"videoCount":null,"extra":[1]}"#,
        )
        .unwrap();
        assert_eq!(loose.total_space, usage.total_space);
        assert_eq!((loose.user_id.as_str(), loose.email.as_str()), ("1", ""));
        assert_eq!(loose.video_count, None);
        let over = Usage {
            used_space: 10,
            ..Usage::default()
        };
        assert_eq!(over.remaining_space(), 0);
        assert!(serde_json::from_str::<Usage>(r#"{"usedFlow":-1}"#).is_err());
        let back = serde_json::to_value(&loose).unwrap();
        assert_eq!(back["totalFlow"], 107_374_182_400_u64);
        assert!(back.get("videoCount").is_none());
    }

    #[test]
    fn the_date_is_optional() {
        assert_eq!(AccountUsage::new().date(), None);
        let usage = AccountUsage::new();
        let mut params = Params::new();
        usage.params(&mut params);
        assert!(params.is_empty());
        let day = Day::new(2020, 1, 2).unwrap();
        assert_eq!(AccountUsage::on(day).date(), Some(day));
    }
}
