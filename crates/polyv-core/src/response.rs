//! Turning a response (status, headers, body bytes) into a typed result.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, IntoDeserializer, Visitor};

use crate::page::RecordError;
use crate::{Error, Page, lenient};

/// How many characters of an unexpected body an error keeps.
const EXCERPT_CHARS: usize = 200;

/// Polyv's response envelope: `{code, status, message, data}`.
#[derive(Deserialize)]
struct Envelope<T> {
    /// A number, or a numeric string (see [`lenient`]).
    #[serde(default, deserialize_with = "lenient::opt_number")]
    code: Option<i64>,
    message: Option<String>,
    #[serde(default = "Data::absent")]
    data: Data<T>,
}

/// The envelope's `data`: an object on success, `""` on failure.
enum Data<T> {
    Absent,
    Empty,
    Value(T),
}

impl<T> Data<T> {
    fn absent() -> Self {
        Self::Absent
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Data<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Dispatch on the JSON type without buffering: `data` can be a large
        // object, and an untagged enum would copy all of it first.
        struct DataVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for DataVisitor<T> {
            type Value = Data<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the response data")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Data<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Data::Value)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Data<T>, A::Error> {
                T::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Data::Value)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Data<T>, E> {
                if v.is_empty() {
                    return Ok(Data::Empty);
                }
                T::deserialize(v.into_deserializer()).map(Data::Value)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Data<T>, E> {
                Ok(Data::Empty)
            }
            fn visit_none<E: de::Error>(self) -> Result<Data<T>, E> {
                Ok(Data::Empty)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Data<T>, E> {
                T::deserialize(v.into_deserializer()).map(Data::Value)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Data<T>, E> {
                T::deserialize(v.into_deserializer()).map(Data::Value)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Data<T>, E> {
                T::deserialize(v.into_deserializer()).map(Data::Value)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Data<T>, E> {
                T::deserialize(v.into_deserializer()).map(Data::Value)
            }
        }
        deserializer.deserialize_any(DataVisitor(PhantomData))
    }
}

/// Parses a Polyv response into the endpoint's `data` type.
///
/// Success is decided by the body's `code`, not the HTTP status (Polyv
/// answers errors with either). When the body is not the envelope at all (a
/// proxy's page, a cut-off body), the error carries the HTTP status and a
/// short excerpt.
///
/// ```
/// use polyv_core::{parse_response, Error, Page, Video};
///
/// let body = br#"{"code":400,"status":"error","message":"ptime is too old.","data":""}"#;
/// let err = parse_response::<Page<Video>>(400, None, body).unwrap_err();
/// assert!(matches!(err, Error::PtimeTooOld));
///
/// let body = br#"{"code":200,"status":"success","message":"success",
///     "data":{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}}"#;
/// let page = parse_response::<Page<Video>>(200, None, body)?;
/// assert_eq!(page.total_items, 0);
/// # Ok::<(), Error>(())
/// ```
pub fn parse_response<T: DeserializeOwned>(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<T, Error> {
    match serde_json::from_slice::<Envelope<T>>(body) {
        Ok(Envelope {
            code: Some(200),
            data,
            ..
        }) => match data {
            Data::Value(value) => Ok(value),
            // Some calls answer success with `"data": ""` (del-videos): fine
            // for a type that can be nothing (`()`, `Option`, JSON `null`).
            Data::Empty | Data::Absent => {
                T::deserialize(().into_deserializer()).map_err(|_: de::value::Error| {
                    Error::Decode {
                        path: "data".into(),
                        message: "the response said success but carried no data".into(),
                    }
                })
            }
        },
        Ok(envelope) => Err(refusal(envelope, status, retry_after, body)),
        // Slow path, errors only: learn whether the body was an envelope at
        // all, and if so where its data went wrong.
        Err(err) => match serde_json::from_slice::<Envelope<IgnoredAny>>(body) {
            Ok(Envelope {
                code: Some(200), ..
            }) => Err(decode_error::<T>(body)),
            Ok(envelope) => Err(refusal(envelope, status, retry_after, body)),
            Err(_) if body.trim_ascii().is_empty() && (200..300).contains(&status) => {
                Err(Error::EmptyBody { status })
            }
            Err(_) if err.is_eof() && (200..300).contains(&status) => Err(Error::Truncated {
                status,
                excerpt: excerpt(body),
            }),
            Err(_) => Err(not_polyv(status, retry_after, body)),
        },
    }
}

/// The error for an envelope whose code is not success; a JSON body without
/// a `code` is not an envelope at all.
fn refusal<U>(
    envelope: Envelope<U>,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Error {
    match envelope.code {
        Some(code) => Error::from_api(code, envelope.message.as_deref().unwrap_or_default()),
        None => not_polyv(status, retry_after, body),
    }
}

/// Parses a Polyv response whose `data` is a page of records, like
/// [`parse_response`], except that records which cannot be read (even
/// leniently) do not fail the page: they are kept in
/// [`Page::unreadable`] with their position, field path, reason and raw
/// JSON, and the page's other records are delivered. Every client parses
/// pages this way.
///
/// A page whose own fields (`pageNumber`, `pageSize`, `totalItems`) cannot
/// be read is still an [`Error::Decode`].
///
/// ```
/// use polyv_core::{Page, Video, parse_page_response};
///
/// let body = br#"{"code":"200","status":"success","message":"success","data":{"pageSize":"20",
///   "pageNumber":1,"totalItems":3,"contents":[{"vid":"a","times":"7"},{"vid":"b","times":{}},{"vid":"c","title":null}]}}"#;
/// let page: Page<Video> = parse_page_response(200, None, body)?;
/// assert_eq!(page.items.iter().map(|v| v.vid()).collect::<Vec<_>>(), ["a", "c"]);
/// assert_eq!(page.items[0].times(), 7);
/// assert_eq!(page.unreadable[0].vid.as_deref(), Some("b"));
/// # Ok::<(), polyv_core::Error>(())
/// ```
pub fn parse_page_response<T: DeserializeOwned>(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Page<T>, Error> {
    // The fast path reads the page in one pass; only a page that failed to
    // decode is read again, record by record, so good pages pay nothing.
    match parse_response::<Page<T>>(status, retry_after, body) {
        Err(Error::Decode { path, message }) => {
            recover_page(body).ok_or(Error::Decode { path, message })
        }
        other => other,
    }
}

/// Reads a successful page whose records are decoded one at a time, so an
/// unreadable record is kept as a [`RecordError`] instead of failing the
/// page. `None` when the page itself is unreadable.
fn recover_page<T: DeserializeOwned>(body: &[u8]) -> Option<Page<T>> {
    use serde_json::value::RawValue;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct RawPage<'a> {
        #[serde(deserialize_with = "lenient::number")]
        page_number: u32,
        #[serde(deserialize_with = "lenient::number")]
        page_size: u32,
        #[serde(deserialize_with = "lenient::number")]
        total_items: u64,
        #[serde(default, deserialize_with = "lenient::opt_number")]
        total_pages: Option<u32>,
        #[serde(borrow, default)]
        contents: Option<Vec<&'a RawValue>>,
    }
    #[derive(Deserialize)]
    struct RawEnvelope<'a> {
        #[serde(borrow)]
        data: RawPage<'a>,
    }

    let RawEnvelope { data } = serde_json::from_slice(body).ok()?;
    let contents = data.contents.unwrap_or_default();
    let mut items = Vec::with_capacity(contents.len());
    let mut unreadable = Vec::new();
    for (index, raw) in contents.into_iter().enumerate() {
        let mut de = serde_json::Deserializer::from_str(raw.get());
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(item) => items.push(item),
            Err(err) => {
                let inner = err.path().to_string();
                let path = match inner.as_str() {
                    "." | "" => format!("data.contents[{index}]"),
                    field => format!("data.contents[{index}].{field}"),
                };
                unreadable.push(RecordError {
                    page: data.page_number,
                    index,
                    vid: lenient::vid_of(raw.get()),
                    path,
                    reason: err.into_inner().to_string(),
                    raw: raw.get().to_owned(),
                });
            }
        }
    }
    Some(Page {
        page_number: data.page_number,
        page_size: data.page_size,
        total_items: data.total_items,
        total_pages: data.total_pages,
        items,
        unreadable,
    })
}

/// Re-parses with path tracking to say which field failed. Only on errors, so
/// the success path pays nothing for it.
fn decode_error<T: DeserializeOwned>(body: &[u8]) -> Error {
    #[derive(Deserialize)]
    struct Wrapper<T> {
        #[serde(rename = "data")]
        _data: T,
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, Wrapper<T>>(&mut de) {
        Err(err) => Error::Decode {
            path: err.path().to_string(),
            message: err.into_inner().to_string(),
        },
        Ok(_) => Error::Decode {
            path: "data".into(),
            message: "the data did not match the expected shape".into(),
        },
    }
}

fn not_polyv(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
    Error::Http {
        status,
        retry_after,
        excerpt: excerpt(body),
    }
}

/// A short, single-line, printable excerpt of a body. Any `sign=` value in it
/// is cut to 8 characters ([`redact_signed`](crate::redact_signed)): a proxy's
/// error page often quotes the URL it was asked for, and an error must never
/// carry a replayable signed URL.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = crate::redact_signed(&String::from_utf8_lossy(
        &body[..body.len().min(EXCERPT_CHARS * 4)],
    ));
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    if text.chars().count() > EXCERPT_CHARS || body.len() > EXCERPT_CHARS * 4 {
        out.push('…');
    }
    out.trim().to_owned()
}

/// Reads a `Retry-After` header value: delay-seconds, or an HTTP date
/// compared with `now`.
///
/// ```
/// use polyv_core::parse_retry_after;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// assert_eq!(parse_retry_after("3", UNIX_EPOCH), Some(Duration::from_secs(3)));
/// let now = UNIX_EPOCH + Duration::from_secs(784_111_772);
/// assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(5)));
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Page, Video, VideoStatus};

    const EXAMPLE: &str = r#"{
"code": 200, "status": "success", "message": "success",
"data": { "pageSize": 20, "pageNumber": 1, "totalItems": 2, "contents": [
{ "vid": "b0f7041324d864436f410f581444542a_b", "cataid": 1, "title": "test",
  "context": "dasdasdadasd", "times": 0,
  "firstImage": "http://img.videocc.net/uimage/b/b0f7041324/a/b0f7041324d864436f410f581444542a_b.jpg",
  "tag": "1", "aacLink": null, "status": "61", "uploaderEmail": "test1@zzs.com", "ptime": 1540780829403 },
{ "vid": "b0f70413248dbeccef72d9f244278fe1_b", "cataid": 1539918907896, "title": "test",
  "context": "简介", "times": 0,
  "firstImage": "http://img.videocc.net/uimage/b/b0f7041324/1/b0f7041324d864436f410f581444542a_b.jpg",
  "tag": "标签", "aacLink": null, "status": "61", "uploaderEmail": "test1@zzs.com", "ptime": 1540797491063 }
] } }"#;

    #[test]
    fn excerpts_redact_signed_urls() {
        let body = b"<html>404: /v2/video/u1/get-by-uploader?ptime=1&sign=50BF9B165630A8047EB1D17D95A469CC51FF754E not found</html>";
        let err = parse_response::<Page<Video>>(404, None, body).unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains("50BF9B165630A8047EB1D17D95A469CC51FF754E"),
            "{text}"
        );
        assert!(text.contains("sign=50BF9B16…"), "{text}");
    }

    #[test]
    fn the_pages_example_parses() {
        let page: Page<Video> = parse_response(200, None, EXAMPLE.as_bytes()).unwrap();
        assert_eq!(
            (page.page_size, page.page_number, page.total_items),
            (20, 1, 2)
        );
        assert_eq!(page.items.len(), 2);
        let v = &page.items[1];
        assert_eq!(v.cataid(), 1_539_918_907_896);
        assert_eq!(v.context(), "简介");
        assert_eq!(v.tags().iter().collect::<Vec<_>>(), ["标签"]);
        assert_eq!(*v.status(), VideoStatus::Published61);
        assert_eq!(v.aac_link(), None);
        assert_eq!(v.ptime().as_millis(), 1_540_797_491_063);
    }

    #[test]
    fn serialises_back_with_the_apis_names() {
        let page: Page<Video> = parse_response(200, None, EXAMPLE.as_bytes()).unwrap();
        let original: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        let back = serde_json::to_value(&page.items[1]).unwrap();
        assert_eq!(back, original["data"]["contents"][1]);
    }

    #[test]
    fn every_documented_error_body() {
        for (code, message) in [
            (400, "sign can not be empty."),
            (400, "ptime is too old."),
            (400, "ptime is illegal."),
            (400, "Could not find user by userid."),
            (400, "the sign is not right."),
            (400, "cata is not exist."),
            (400, "child user not exist."),
            (500, "query failed."),
            (403, "a message we have never seen."),
        ] {
            let body =
                format!(r#"{{"code":{code},"status":"error","message":"{message}","data":""}}"#);
            for http_status in [200, code as u16] {
                let err =
                    parse_response::<Page<Video>>(http_status, None, body.as_bytes()).unwrap_err();
                assert_eq!(err.api_message(), Some(message), "{err:?}");
                let typed = !matches!(err, Error::Api { .. });
                assert_eq!(typed, code != 403, "{err:?}");
            }
        }
    }

    #[test]
    fn non_envelope_bodies_carry_status_and_excerpt() {
        let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
        match parse_response::<Page<Video>>(502, None, html).unwrap_err() {
            Error::Http {
                status: 502,
                excerpt,
                ..
            } => assert!(excerpt.contains("502 Bad Gateway")),
            other => panic!("{other:?}"),
        }
        let truncated = &EXAMPLE.as_bytes()[..EXAMPLE.len() / 2];
        let err = parse_response::<Page<Video>>(200, None, truncated).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { status: 200, .. }),
            "{err:?}"
        );
        assert!(err.is_retryable());
        let long = vec![b'x'; 10_000];
        match parse_response::<Page<Video>>(503, Some(Duration::from_secs(2)), &long).unwrap_err() {
            Error::Http {
                excerpt,
                retry_after,
                ..
            } => {
                assert!(excerpt.chars().count() <= EXCERPT_CHARS + 1);
                assert_eq!(retry_after, Some(Duration::from_secs(2)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_bodies_are_called_empty() {
        for (status, body) in [(204, &b""[..]), (200, b""), (200, b" \r\n")] {
            let err = parse_response::<Page<Video>>(status, None, body).unwrap_err();
            assert!(
                matches!(err, Error::EmptyBody { status: s } if s == status),
                "{err:?}"
            );
            assert!(err.to_string().contains("empty body"), "{err}");
            assert!(err.is_retryable());
        }
        // A throttling or failing server keeps its status and Retry-After.
        let err =
            parse_response::<Page<Video>>(503, Some(Duration::from_secs(1)), b"").unwrap_err();
        assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    }

    #[test]
    fn decode_errors_name_the_field() {
        let bad = EXAMPLE.replace("1539918907896", "\"not a number\"");
        match parse_response::<Page<Video>>(200, None, bad.as_bytes()).unwrap_err() {
            Error::Decode { path, .. } => assert_eq!(path, "data.contents[1].cataid"),
            other => panic!("{other:?}"),
        }
        let empty_success = br#"{"code":200,"status":"success","message":"success","data":""}"#;
        assert!(matches!(
            parse_response::<Page<Video>>(200, None, empty_success).unwrap_err(),
            Error::Decode { .. }
        ));
    }

    #[test]
    fn unknown_fields_and_status_codes_survive() {
        let body = EXAMPLE
            .replace(r#""status": "61", "uploaderEmail": "test1@zzs.com", "ptime": 1540780829403"#,
                r#""status": "77", "extra": {"x": [1]}, "uploaderEmail": "test1@zzs.com", "ptime": 1540780829403"#)
            .replace(r#""totalItems": 2"#, r#""totalItems": 2, "totalPages": 1"#);
        let page: Page<Video> = parse_response(200, None, body.as_bytes()).unwrap();
        assert_eq!(*page.items[0].status(), VideoStatus::Unknown("77".into()));
        assert_eq!(page.total_pages, Some(1));
    }

    #[test]
    fn raw_values_parse_too() {
        let value: serde_json::Value = parse_response(200, None, EXAMPLE.as_bytes()).unwrap();
        assert_eq!(value["totalItems"], 2);
    }
}
