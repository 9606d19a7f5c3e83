//! `Day`, a calendar date, and `ApiTime`, a time the API sends in one of
//! several shapes.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Error;
use crate::lenient::fit;

/// A calendar date, as the caller means it: no time zone is applied (Polyv's
/// day boundaries are probably China time, UTC+8; unverified). Sent as
/// `yyyyMMdd` by viewlog ([`compact`](Self::compact)) and as `yyyy-MM-dd` by
/// main ([`Display`](fmt::Display)).
///
/// ```
/// use polyv_core::stats::Day;
///
/// let day: Day = "2016-07-13".parse()?;
/// assert_eq!(day, Day::new(2016, 7, 13)?);
/// assert_eq!(day.compact(), "20160713");
/// assert_eq!(day.to_string(), "2016-07-13");
/// assert!(Day::new(2023, 2, 29).is_err());
/// assert!("2016-7-13".parse::<Day>().is_err());
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    year: u16,
    month: u8,
    day: u8,
}

impl Day {
    /// A date, checked: year 1000 to 9999, month 1 to 12, a day that exists
    /// in that month (leap years included).
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, Error> {
        if !(1000..=9999).contains(&year) {
            return Err(Error::InvalidInput(format!(
                "the year {year} is out of range: use a four-digit year"
            )));
        }
        if !(1..=12).contains(&month) {
            return Err(Error::InvalidInput(format!(
                "the month {month} is out of range: use 1 to 12"
            )));
        }
        let last = days_in_month(year, month);
        if !(1..=last).contains(&day) {
            return Err(Error::InvalidInput(format!(
                "{year:04}-{month:02} has no day {day}: use 1 to {last}"
            )));
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// `yyyyMMdd`, e.g. `20160713`: the form viewlog's `day` takes.
    pub fn compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Day {
    /// `yyyy-MM-dd`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Day {
    type Err = Error;

    /// Reads `YYYY-MM-DD` (exactly: four, two and two digits), or the
    /// compact `YYYYMMDD`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::InvalidInput(format!(
                "the date {s:?} is not YYYY-MM-DD: write it like 2016-07-13"
            ))
        };
        let b = s.as_bytes();
        let (y, m, d) = match b.len() {
            10 if b[4] == b'-' && b[7] == b'-' => (&s[0..4], &s[5..7], &s[8..10]),
            8 => (&s[0..4], &s[4..6], &s[6..8]),
            _ => return Err(bad()),
        };
        let all_digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
        if !(all_digits(y) && all_digits(m) && all_digits(d)) {
            return Err(bad());
        }
        let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse()) else {
            return Err(bad());
        };
        Self::new(y, m, d)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A time as the API sends it: Polyv's Java backend writes dates either as
/// epoch milliseconds (`1468339200000`) or as formatted text
/// (`"2016-07-13 08:00"`), and the same field has been seen both ways (spec
/// A.8). Both are kept as sent, never a reason to fail a record.
///
/// ```
/// use polyv_core::stats::ApiTime;
///
/// let ms: ApiTime = serde_json::from_str("1468339200000")?;
/// assert_eq!(ms, ApiTime::EpochMillis(1_468_339_200_000));
/// assert_eq!(serde_json::from_str::<ApiTime>(r#""1468339200000""#)?, ms);
/// let text: ApiTime = serde_json::from_str(r#""2016-07-13 08:00""#)?;
/// assert_eq!(text.epoch_millis(), None);
/// assert_eq!(text.to_string(), "2016-07-13 08:00");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiTime {
    /// Milliseconds since the Unix epoch (a JSON number, or a string of
    /// digits).
    EpochMillis(i64),
    /// Any other text, verbatim (a formatted date such as
    /// `"2017-04-06 15:23:36"`).
    Text(String),
}

impl ApiTime {
    /// The milliseconds since the epoch, when the API sent them.
    pub fn epoch_millis(&self) -> Option<i64> {
        match self {
            Self::EpochMillis(ms) => Some(*ms),
            Self::Text(_) => None,
        }
    }
}

impl fmt::Display for ApiTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EpochMillis(ms) => write!(f, "{ms}"),
            Self::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for ApiTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::EpochMillis(ms) => serializer.serialize_i64(*ms),
            Self::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for ApiTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl Visitor<'_> for TimeVisitor {
            type Value = ApiTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds or a date as text")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ApiTime, E> {
                Ok(ApiTime::EpochMillis(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ApiTime, E> {
                fit(i128::from(v)).map(ApiTime::EpochMillis)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ApiTime, E> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
                    Ok(ApiTime::EpochMillis(v as i64))
                } else {
                    Ok(ApiTime::Text(v.to_string()))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ApiTime, E> {
                let t = v.trim();
                let digits = t.strip_prefix('-').unwrap_or(t);
                if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
                    if let Ok(ms) = t.parse::<i64>() {
                        return Ok(ApiTime::EpochMillis(ms));
                    }
                }
                Ok(ApiTime::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(TimeVisitor)
    }
}

/// An optional time field: `null`, `""` and absence read `None`. Use with
/// `#[serde(default, deserialize_with = "...")]`.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ApiTime>, D::Error> {
    Ok(Option::<ApiTime>::deserialize(deserializer)?
        .filter(|t| !matches!(t, ApiTime::Text(text) if text.trim().is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_checked() {
        assert!(Day::new(2024, 2, 29).is_ok());
        assert!(Day::new(2000, 2, 29).is_ok());
        assert!(Day::new(1900, 2, 29).is_err());
        assert!(Day::new(2023, 4, 31).is_err());
        assert!(Day::new(2023, 13, 1).is_err());
        assert!(Day::new(2023, 0, 1).is_err());
        assert!(Day::new(2023, 1, 0).is_err());
        assert!(Day::new(999, 1, 1).is_err());
        let err = Day::new(2023, 2, 29).unwrap_err().to_string();
        assert!(err.contains("use 1 to 28"), "{err}");
    }

    #[test]
    fn days_parse_and_format() {
        let d: Day = "2021-04-07".parse().unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2021, 4, 7));
        assert_eq!(d.compact(), "20210407");
        assert_eq!(d.to_string(), "2021-04-07");
        assert_eq!("20210407".parse::<Day>().unwrap(), d);
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""2021-04-07""#);
        for bad in [
            "",
            "2021-4-7",
            "2021/04/07",
            "21-04-07",
            "2021-04-07 ",
            "２０２１-04-07",
            "+021-04-07",
            "2021-02-30",
            "2021-0a-07",
            "2021-04-0é",
        ] {
            assert!(bad.parse::<Day>().is_err(), "{bad:?}");
        }
        assert!(Day::new(2021, 1, 1).unwrap() < d);
    }

    #[test]
    fn times_in_every_shape() {
        let t = |json: &str| serde_json::from_str::<ApiTime>(json).unwrap();
        assert_eq!(t("1468339200000"), ApiTime::EpochMillis(1_468_339_200_000));
        assert_eq!(
            t(r#"" 1468339200000 ""#),
            ApiTime::EpochMillis(1_468_339_200_000)
        );
        assert_eq!(
            t("1468339200000.0"),
            ApiTime::EpochMillis(1_468_339_200_000)
        );
        assert_eq!(t("-5"), ApiTime::EpochMillis(-5));
        assert_eq!(
            t(r#""2016-07-13 08:00""#),
            ApiTime::Text("2016-07-13 08:00".into())
        );
        assert_eq!(t("1.5"), ApiTime::Text("1.5".into()));
        assert_eq!(
            t(r#""99999999999999999999""#),
            ApiTime::Text("99999999999999999999".into())
        );
        assert!(serde_json::from_str::<ApiTime>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<ApiTime>("{}").is_err());
        assert_eq!(serde_json::to_string(&t("5")).unwrap(), "5");
        assert_eq!(serde_json::to_string(&t(r#""x""#)).unwrap(), r#""x""#);
    }
}
