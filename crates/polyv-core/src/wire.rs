//! Reading the `data` shapes of the typed endpoints, on top of
//! [`lenient`](crate::lenient): lists of loosely typed values, "an array
//! holding one object", and the `true` that acknowledges a change.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use crate::Error;
use crate::lenient::{LenientInt, LenientText, fit};

/// A list of numbers, each read leniently (a number, a numeric string, an
/// integral float; `null` and `""` read 0); a `null` or absent list is empty.
pub(crate) fn numbers<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128> + Default,
{
    Option::<Vec<LenientInt>>::deserialize(deserializer)?
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.0.map_or_else(|| Ok(T::default()), fit))
        .collect()
}

/// A list of text values, each read leniently (a string or a number; `null`
/// reads `""`); a `null` or absent list is empty.
pub(crate) fn texts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<LenientText<'de>>>::deserialize(deserializer)?
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.0.map(std::borrow::Cow::into_owned).unwrap_or_default())
        .collect())
}

/// The first element of an array (the SDK's `parseArray(..).get(0)`), or an
/// object given directly; `None` for an empty array, `null` or `""`.
pub(crate) struct FirstOf<T>(pub(crate) Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for FirstOf<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstVisitor<T> {
            type Value = FirstOf<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array holding one object, or the object")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<FirstOf<T>, A::Error> {
                let first = seq.next_element::<T>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstOf(first))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<FirstOf<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| FirstOf(Some(t)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<FirstOf<T>, E> {
                Ok(FirstOf(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<FirstOf<T>, E> {
                Ok(FirstOf(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FirstOf<T>, E> {
                if v.trim().is_empty() {
                    Ok(FirstOf(None))
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_any(FirstVisitor(PhantomData))
    }
}

/// A list, or nothing at all: `[]`, `null` and `""` all read as an empty
/// list (an empty day's view log, an account without categories).
pub(crate) struct ListOrNothing<T>(pub(crate) Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ListOrNothing<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = ListOrNothing<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<ListOrNothing<T>, A::Error> {
                Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(ListOrNothing)
            }
            fn visit_unit<E: de::Error>(self) -> Result<ListOrNothing<T>, E> {
                Ok(ListOrNothing(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<ListOrNothing<T>, E> {
                Ok(ListOrNothing(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ListOrNothing<T>, E> {
                if v.trim().is_empty() {
                    Ok(ListOrNothing(Vec::new()))
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// The `data` of a call that acknowledges a change with `true`: a boolean,
/// `"true"`/`"false"`, `1`/`0`; anything else (`""`, `null`, text, an
/// object) says nothing either way.
pub(crate) struct Ack(pub(crate) Option<bool>);

impl<'de> Deserialize<'de> for Ack {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AckVisitor;
        impl<'de> Visitor<'de> for AckVisitor {
            type Value = Ack;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Ack, E> {
                Ok(Ack(Some(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ack, E> {
                let v = v.trim();
                Ok(Ack(if v.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if v.eq_ignore_ascii_case("false") {
                    Some(false)
                } else {
                    None
                }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ack, E> {
                Ok(Ack(match v {
                    1 => Some(true),
                    0 => Some(false),
                    _ => None,
                }))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ack, E> {
                Ok(Ack(match v {
                    1 => Some(true),
                    0 => Some(false),
                    _ => None,
                }))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Ack, E> {
                Ok(Ack(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ack, E> {
                Ok(Ack(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Ack, E> {
                Ok(Ack(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Ack, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Ack(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Ack, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Ack(None))
            }
        }
        deserializer.deserialize_any(AckVisitor)
    }
}

/// Reads a change's acknowledgement: success unless the server said
/// `false` (with code 200), which is reported as [`Error::Decode`] since the
/// change may not have been made.
pub(crate) fn parse_ack(
    status: u16,
    retry_after: Option<std::time::Duration>,
    body: &[u8],
) -> Result<(), Error> {
    match crate::parse_response::<Ack>(status, retry_after, body)? {
        Ack(Some(false)) => Err(Error::Decode {
            path: "data".into(),
            message: "the server answered success with `false`: the change may not have been made; read the state back to check".into(),
        }),
        Ack(_) => Ok(()),
    }
}

/// Reads the `data` of a call whose answer carries nothing of use (del-video
/// answers a message such as `"删除成功."`, del-videos `""`): success is the
/// envelope's code alone.
pub(crate) fn parse_ignored(
    status: u16,
    retry_after: Option<std::time::Duration>,
    body: &[u8],
) -> Result<(), Error> {
    crate::parse_response::<IgnoredAny>(status, retry_after, body).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Lists {
        #[serde(default, deserialize_with = "numbers")]
        n: Vec<u64>,
        #[serde(default, deserialize_with = "texts")]
        t: Vec<String>,
    }

    #[test]
    fn lists_read_each_element_leniently() {
        let l: Lists =
            serde_json::from_str(r#"{"n":[1,"2",3.0,null,""],"t":["a",7,null]}"#).unwrap();
        assert_eq!(l.n, [1, 2, 3, 0, 0]);
        assert_eq!(l.t, ["a", "7", ""]);
        let l: Lists = serde_json::from_str(r#"{"n":null}"#).unwrap();
        assert!(l.n.is_empty() && l.t.is_empty());
        assert!(serde_json::from_str::<Lists>(r#"{"n":["x"]}"#).is_err());
        assert!(serde_json::from_str::<Lists>(r#"{"n":[-1]}"#).is_err());
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct One {
        a: u8,
    }

    #[test]
    fn first_of_an_array_or_the_object() {
        let first = |json: &str| serde_json::from_str::<FirstOf<One>>(json).map(|f| f.0);
        assert_eq!(first(r#"[{"a":1},{"a":2}]"#).unwrap(), Some(One { a: 1 }));
        assert_eq!(first(r#"{"a":3}"#).unwrap(), Some(One { a: 3 }));
        assert_eq!(first("[]").unwrap(), None);
        assert_eq!(first("null").unwrap(), None);
        assert_eq!(first(r#""""#).unwrap(), None);
        assert!(first(r#""x""#).is_err());
        assert!(first(r#"[{"a":"x"}]"#).is_err());
    }

    #[test]
    fn acknowledgements() {
        let ack = |data: &str| {
            parse_ack(
                200,
                None,
                format!(r#"{{"code":200,"status":"success","message":"","data":{data}}}"#)
                    .as_bytes(),
            )
        };
        for fine in [
            "true",
            r#""true""#,
            r#""""#,
            "null",
            "1",
            r#""ok""#,
            "{}",
            "[]",
        ] {
            assert!(ack(fine).is_ok(), "{fine}");
        }
        for refused in ["false", r#""false""#, "0"] {
            assert!(
                matches!(ack(refused), Err(Error::Decode { .. })),
                "{refused}"
            );
        }
        let body = br#"{"code":400,"status":"error","message":"cata is not exist.","data":""}"#;
        assert!(matches!(
            parse_ack(400, None, body),
            Err(Error::CategoryNotFound)
        ));
        let deleted = r#"{"code":200,"status":"success","message":"success","data":"删除成功."}"#;
        assert!(parse_ignored(200, None, deleted.as_bytes()).is_ok());
    }
}
