//! Reading Polyv's loosely typed JSON.
//!
//! Polyv's backend is Java serialised loosely: the same field arrives as a
//! number in one answer and as a numeric string in another (`"times":"72"`),
//! text fields can be `null`, and fields come and go (see the spec's A.8).
//! Every type the SDK decodes follows the same rules, implemented once here
//! as `deserialize_with` functions that new data types reuse:
//!
//! | wire | numbers ([`number`], [`opt_number`]) | text ([`text`], [`opt_text`]) |
//! |---|---|---|
//! | `72` | 72 | `"72"` (ids that are numbers on the wire) |
//! | `"72"`, `" 72 "` | 72 | `"72"`, `" 72 "` |
//! | `72.0` | 72 (a float with an integral value) | `"72"` |
//! | `72.5`, `"abc"`, `true`, `{}`, `[]` | an error | an error (except strings) |
//! | `null`, `""`, absent | the default (0), or `None` | `""`, or `None` |
//!
//! Integers are read exactly up to 64 bits (ids exceed 32 bits); a number
//! that does not fit the target type is an error, never truncated. Unknown
//! fields are ignored by every SDK type. What the SDK re-emits (`Serialize`)
//! is the normalised value under the API's own field names: numbers as JSON
//! numbers, text as strings.
//!
//! ```
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Row {
//!     #[serde(default, deserialize_with = "polyv_core::lenient::number")]
//!     times: u64,
//!     #[serde(default, deserialize_with = "polyv_core::lenient::text")]
//!     title: String,
//! }
//!
//! for json in [r#"{"times":72,"title":"a"}"#, r#"{"times":"72","title":"a"}"#, r#"{"times":72.0,"title":"a"}"#] {
//!     let row: Row = serde_json::from_str(json)?;
//!     assert_eq!((row.times, row.title.as_str()), (72, "a"));
//! }
//! let row: Row = serde_json::from_str(r#"{"times":null,"title":null}"#)?;
//! assert_eq!((row.times, row.title.as_str()), (0, ""));
//! assert!(serde_json::from_str::<Row>(r#"{"times":{}}"#).is_err());
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Largest magnitude a float may have and still be read as an integer
/// (2^127, below `i128::MAX`).
const FLOAT_LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

/// A number as the wire may carry it, or `None` for `null` and `""`.
pub(crate) struct LenientInt(pub(crate) Option<i128>);

impl<'de> Deserialize<'de> for LenientInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntVisitor).map(LenientInt)
    }
}

struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Option<i128>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or a string holding one")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        integral(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if let Ok(n) = t.parse::<i128>() {
            return Ok(Some(n));
        }
        t.parse::<f64>()
            .ok()
            .and_then(integral)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// The integer a float stands for, when it has no fractional part.
fn integral(v: f64) -> Option<i128> {
    // The range check makes the cast exact (no saturation) where it is used.
    (v.is_finite() && v.fract() == 0.0 && v.abs() < FLOAT_LIMIT).then_some(v as i128)
}

/// Narrows a wire integer to the field's type, or says why it cannot.
pub(crate) fn fit<T: TryFrom<i128>, E: de::Error>(n: i128) -> Result<T, E> {
    T::try_from(n).map_err(|_| {
        E::custom(format_args!(
            "the number {n} is out of range for {}",
            short_type_name::<T>()
        ))
    })
}

fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// A number field: a JSON number, a numeric string or an integral float;
/// `null` and `""` give the type's default (0). Use with
/// `#[serde(default, deserialize_with = "polyv_core::lenient::number")]` so
/// that an absent field takes the default too.
pub fn number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128> + Default,
{
    match LenientInt::deserialize(deserializer)?.0 {
        Some(n) => fit(n),
        None => Ok(T::default()),
    }
}

/// An optional number field: like [`number`], with `null`, `""` and (with
/// `#[serde(default)]`) absence as `None`.
pub fn opt_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    LenientInt::deserialize(deserializer)?
        .0
        .map(fit)
        .transpose()
}

/// A text value as the wire may carry it: a string (borrowed from the input
/// when it has no escapes), a number written in decimal, or `None` for
/// `null`.
pub(crate) struct LenientText<'de>(pub(crate) Option<Cow<'de, str>>);

impl<'de> Deserialize<'de> for LenientText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor).map(LenientText)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number or null")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(itoa::Buffer::new().format(v).to_owned())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(itoa::Buffer::new().format(v).to_owned())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(match integral(v) {
            Some(n) => n.to_string(),
            None => v.to_string(),
        })))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A text field: a string, or a number written in decimal (an id the server
/// sent as a number); `null` gives `""`. Use with
/// `#[serde(default, deserialize_with = "polyv_core::lenient::text")]`.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(LenientText::deserialize(deserializer)?
        .0
        .map(Cow::into_owned)
        .unwrap_or_default())
}

/// An optional text field: like [`text`], with `null` (and, with
/// `#[serde(default)]`, absence) as `None`; an empty string stays `Some("")`.
pub fn opt_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(LenientText::deserialize(deserializer)?
        .0
        .map(Cow::into_owned))
}

/// A list field: `null` (and, with `#[serde(default)]`, absence) is an
/// empty list.
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads only the `vid` of a record that failed to decode, to name it in the
/// error; `None` when even that is unreadable.
pub(crate) fn vid_of(raw: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        // Every other field is skipped unread.
        #[serde(default, deserialize_with = "opt_text")]
        vid: Option<String>,
    }
    // Only an object names a record (serde would also read `[…]` as a struct).
    if !raw.trim_start().starts_with('{') {
        return None;
    }
    let named: Named = serde_json::from_str(raw).ok()?;
    named.vid.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Nums {
        #[serde(default, deserialize_with = "number")]
        a: u64,
        #[serde(default, deserialize_with = "opt_number")]
        b: Option<u32>,
        #[serde(default, deserialize_with = "number")]
        c: i64,
    }

    fn nums(json: &str) -> Result<Nums, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numbers_take_every_shape_the_server_sends() {
        for (json, a) in [
            (r#"{"a":72}"#, 72),
            (r#"{"a":"72"}"#, 72),
            (r#"{"a":" 72 "}"#, 72),
            (r#"{"a":72.0}"#, 72),
            (r#"{"a":"72.0"}"#, 72),
            (r#"{"a":"1e3"}"#, 1000),
            (r#"{"a":null}"#, 0),
            (r#"{"a":""}"#, 0),
            (r#"{}"#, 0),
            (r#"{"a":18446744073709551615}"#, u64::MAX),
            (r#"{"a":"18446744073709551615"}"#, u64::MAX),
            (r#"{"a":"1539918907896"}"#, 1_539_918_907_896),
        ] {
            assert_eq!(nums(json).unwrap().a, a, "{json}");
        }
        assert_eq!(nums(r#"{"b":"20"}"#).unwrap().b, Some(20));
        assert_eq!(nums(r#"{"b":null}"#).unwrap().b, None);
        assert_eq!(nums(r#"{}"#).unwrap().b, None);
        assert_eq!(nums(r#"{"c":"-1"}"#).unwrap().c, -1);
        assert_eq!(nums(r#"{"c":-9223372036854775808}"#).unwrap().c, i64::MIN);
    }

    #[test]
    fn numbers_refuse_what_is_not_one() {
        for json in [
            r#"{"a":72.5}"#,
            r#"{"a":"72.5"}"#,
            r#"{"a":"abc"}"#,
            r#"{"a":true}"#,
            r#"{"a":{}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":-1}"#,
            r#"{"a":"18446744073709551616"}"#,
            r#"{"a":"NaN"}"#,
            r#"{"a":"inf"}"#,
            r#"{"a":1e300}"#,
            r#"{"b":4294967296}"#,
        ] {
            assert!(nums(json).is_err(), "{json}");
        }
        let err = nums(r#"{"a":-1}"#).unwrap_err().to_string();
        assert!(err.contains("out of range for u64"), "{err}");
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Texts {
        #[serde(default, deserialize_with = "text")]
        t: String,
        #[serde(default, deserialize_with = "opt_text")]
        o: Option<String>,
        #[serde(default, deserialize_with = "list")]
        l: Vec<u8>,
    }

    #[test]
    fn text_takes_null_and_numbers() {
        let t = |json: &str| serde_json::from_str::<Texts>(json).unwrap();
        assert_eq!(t(r#"{"t":"x"}"#).t, "x");
        assert_eq!(t(r#"{"t":null}"#).t, "");
        assert_eq!(t(r#"{}"#).t, "");
        assert_eq!(t(r#"{"t":1539918907896}"#).t, "1539918907896");
        assert_eq!(t(r#"{"t":-3}"#).t, "-3");
        assert_eq!(t(r#"{"t":3.0}"#).t, "3");
        assert_eq!(t(r#"{"t":"\u00e9"}"#).t, "é");
        assert_eq!(t(r#"{"o":null}"#).o, None);
        assert_eq!(t(r#"{"o":""}"#).o.as_deref(), Some(""));
        assert_eq!(t(r#"{"l":null}"#).l, Vec::<u8>::new());
        assert_eq!(t(r#"{"l":[1,2]}"#).l, [1, 2]);
        assert!(serde_json::from_str::<Texts>(r#"{"t":{}}"#).is_err());
        assert!(serde_json::from_str::<Texts>(r#"{"t":true}"#).is_err());
    }

    #[test]
    fn the_vid_of_a_broken_record() {
        assert_eq!(vid_of(r#"{"times":{},"vid":"v1"}"#).as_deref(), Some("v1"));
        assert_eq!(vid_of(r#"{"vid":12}"#).as_deref(), Some("12"));
        assert_eq!(vid_of(r#"{"vid":{}}"#), None);
        assert_eq!(vid_of(r#"{"vid":""}"#), None);
        assert_eq!(vid_of(r#"[1]"#), None);
    }
}
