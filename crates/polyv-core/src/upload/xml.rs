//! The few small XML documents of an OSS multipart upload, read and written
//! by hand: OSS's documents are flat, attribute-free and short, and a reader
//! of leaf elements with entity and CDATA handling is all they need.

use serde::{Deserialize, Serialize};

use crate::Error;

/// An uploaded part: its number and the `ETag` OSS answered, kept as
/// received (quotes included): what CompleteMultipartUpload lists, and what
/// a resume state remembers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FinishedPart {
    /// The part number, 1 to 10,000.
    pub number: u32,
    /// The part's ETag.
    pub etag: String,
}

impl FinishedPart {
    /// A part and its ETag.
    pub fn new(number: u32, etag: impl Into<String>) -> Self {
        Self {
            number,
            etag: etag.into(),
        }
    }
}

/// The body of CompleteMultipartUpload, parts sorted by number (OSS
/// requires ascending numbers).
///
/// ```
/// use polyv_core::upload::{FinishedPart, complete_body};
///
/// let body = complete_body(&[FinishedPart::new(2, "\"B\""), FinishedPart::new(1, "\"A&\"")]);
/// assert_eq!(body, "<CompleteMultipartUpload>\
///     <Part><PartNumber>1</PartNumber><ETag>&quot;A&amp;&quot;</ETag></Part>\
///     <Part><PartNumber>2</PartNumber><ETag>&quot;B&quot;</ETag></Part>\
///     </CompleteMultipartUpload>");
/// ```
pub fn complete_body(parts: &[FinishedPart]) -> String {
    let mut sorted: Vec<&FinishedPart> = parts.iter().collect();
    sorted.sort_by_key(|part| part.number);
    let mut out = String::with_capacity(64 + parts.len() * 80);
    out.push_str("<CompleteMultipartUpload>");
    for part in sorted {
        out.push_str("<Part><PartNumber>");
        out.push_str(itoa::Buffer::new().format(part.number));
        out.push_str("</PartNumber><ETag>");
        push_escaped(&mut out, &part.etag);
        out.push_str("</ETag></Part>");
    }
    out.push_str("</CompleteMultipartUpload>");
    out
}

/// Escapes the five XML special characters.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// Reads InitiateMultipartUploadResult's `UploadId`.
///
/// ```
/// let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
/// <InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>
/// <UploadId>0004B999EF518A1FE585B0C9360DC4C8</UploadId></InitiateMultipartUploadResult>"#;
/// assert_eq!(polyv_core::upload::parse_initiate(xml)?, "0004B999EF518A1FE585B0C9360DC4C8");
/// # Ok::<(), polyv_core::Error>(())
/// ```
pub fn parse_initiate(body: &[u8]) -> Result<String, Error> {
    let text = as_text(body, "InitiateMultipartUploadResult")?;
    let result = element(text, "InitiateMultipartUploadResult")
        .ok_or_else(|| decode_error("InitiateMultipartUploadResult", "no such element", text))?;
    match element(result, "UploadId").map(unescape) {
        Some(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        _ => Err(decode_error(
            "InitiateMultipartUploadResult.UploadId",
            "missing or empty",
            text,
        )),
    }
}

/// A part as ListParts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    /// The part number.
    pub number: u32,
    /// Its ETag, as OSS wrote it.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One page of ListParts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListedParts {
    /// The parts on this page.
    pub parts: Vec<ListedPart>,
    /// Whether more pages follow; ask again from
    /// [`next_marker`](Self::next_marker).
    pub truncated: bool,
    /// The marker of the next page.
    pub next_marker: u32,
}

/// Reads a ListPartsResult.
///
/// ```
/// let xml = br#"<ListPartsResult xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com">
///   <UploadId>U</UploadId><NextPartNumberMarker>2</NextPartNumberMarker><IsTruncated>false</IsTruncated>
///   <Part><PartNumber>1</PartNumber><ETag>&quot;A&quot;</ETag><Size>102400</Size></Part>
///   <Part><PartNumber>2</PartNumber><ETag>"B"</ETag><Size>5</Size></Part>
/// </ListPartsResult>"#;
/// let listed = polyv_core::upload::parse_list_parts(xml)?;
/// assert_eq!(listed.parts.len(), 2);
/// assert_eq!(listed.parts[0].etag, "\"A\"");
/// assert!(!listed.truncated);
/// # Ok::<(), polyv_core::Error>(())
/// ```
pub fn parse_list_parts(body: &[u8]) -> Result<ListedParts, Error> {
    let text = as_text(body, "ListPartsResult")?;
    let result = element(text, "ListPartsResult")
        .ok_or_else(|| decode_error("ListPartsResult", "no such element", text))?;
    let mut listed = ListedParts {
        truncated: element(result, "IsTruncated").is_some_and(|t| t.trim() == "true"),
        next_marker: match element(result, "NextPartNumberMarker").map(str::trim) {
            None | Some("") => 0,
            Some(n) => n.parse().map_err(|_| {
                decode_error("ListPartsResult.NextPartNumberMarker", "not a number", text)
            })?,
        },
        parts: Vec::new(),
    };
    for part in elements(result, "Part") {
        let number = element(part, "PartNumber")
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| {
                decode_error(
                    "ListPartsResult.Part.PartNumber",
                    "missing or not a number",
                    text,
                )
            })?;
        let etag = element(part, "ETag")
            .map(unescape)
            .ok_or_else(|| decode_error("ListPartsResult.Part.ETag", "missing", text))?;
        let size = element(part, "Size")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        listed.parts.push(ListedPart { number, etag, size });
    }
    Ok(listed)
}

/// The fields of an OSS `<Error>` document (code, message, request id), or
/// `None` when the body is not one. Other fields (`StringToSign`, which
/// holds the security token, `OSSAccessKeyId`...) are never read.
pub(crate) fn parse_error(body: &[u8]) -> Option<(String, String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let error = element(text, "Error")?;
    let field = |name| element(error, name).map(unescape).unwrap_or_default();
    let code = field("Code");
    if code.trim().is_empty() {
        return None;
    }
    Some((code.trim().to_owned(), field("Message"), field("RequestId")))
}

fn as_text<'a>(body: &'a [u8], what: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(body).map_err(|_| Error::Decode {
        path: what.to_owned(),
        message: "the OSS answer is not UTF-8 text".into(),
    })
}

fn decode_error(path: &str, what: &str, text: &str) -> Error {
    let excerpt: String = text.chars().take(120).collect();
    Error::Decode {
        path: path.to_owned(),
        message: format!("{what} in the OSS answer {excerpt:?}"),
    }
}

/// The inner text of the first `<name>` element (with or without
/// attributes; `<name/>` is empty), not unescaped.
fn element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    elements(text, name).next()
}

/// The inner text of each `<name>` element, in order (same-named elements
/// are not nested in OSS's documents).
fn elements<'a, 'n>(text: &'a str, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            let at = rest.find('<')?;
            let after = &rest[at + 1..];
            let Some(tail) = after.strip_prefix(name) else {
                rest = after;
                continue;
            };
            let Some(close) = tail.find('>') else {
                rest = "";
                return None;
            };
            let boundary = tail.chars().next();
            if !matches!(boundary, Some('>' | '/' | ' ' | '\t' | '\r' | '\n')) {
                rest = after;
                continue;
            }
            let open = &tail[..close];
            let body = &tail[close + 1..];
            if open.ends_with('/') {
                rest = body;
                return Some("");
            }
            let end_tag = format!("</{name}>");
            let Some(end) = body.find(&end_tag) else {
                rest = "";
                return None;
            };
            rest = &body[end + end_tag.len()..];
            return Some(&body[..end]);
        }
    })
}

/// Decodes the five named entities, numeric character references and CDATA
/// sections; anything unknown is kept as written.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = rest.find(['&', '<']);
        let Some(at) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            match cdata.find("]]>") {
                Some(end) => {
                    out.push_str(&cdata[..end]);
                    rest = &cdata[end + 3..];
                }
                None => {
                    out.push_str(cdata);
                    return out;
                }
            }
            continue;
        }
        if rest.starts_with('<') {
            out.push('<');
            rest = &rest[1..];
            continue;
        }
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for text in ["plain", "\"etag\"", "a&b<c>d'e\"", "&amp; literal", "视频"] {
            let mut escaped = String::new();
            push_escaped(&mut escaped, text);
            assert_eq!(unescape(&escaped), text, "{escaped}");
        }
        assert_eq!(
            unescape("&#65;&#x42;&#X43;<![CDATA[<x&y>]]>&bogus;&"),
            "ABC<x&y>&bogus;&"
        );
    }

    #[test]
    fn elements_match_whole_names_with_attributes_and_self_closing() {
        let xml = "<PartNumberX>9</PartNumberX><Part a=\"1\"><PartNumber>1</PartNumber></Part><Part/><Part>\n<PartNumber>2</PartNumber></Part>";
        let parts: Vec<&str> = elements(xml, "Part").collect();
        assert_eq!(
            parts,
            [
                "<PartNumber>1</PartNumber>",
                "",
                "\n<PartNumber>2</PartNumber>"
            ]
        );
        assert_eq!(element(xml, "PartNumber"), Some("1"));
        assert_eq!(element("<a>unclosed", "a"), None);
        assert_eq!(element("<a", "a"), None);
    }

    #[test]
    fn initiate_answers_without_an_upload_id_are_decode_errors() {
        for body in [
            &b"<InitiateMultipartUploadResult><UploadId> </UploadId></InitiateMultipartUploadResult>"[..],
            b"<Other/>",
            b"\xff\xfe",
            b"",
        ] {
            assert!(matches!(parse_initiate(body), Err(Error::Decode { .. })), "{body:?}");
        }
    }

    #[test]
    fn list_parts_pages_and_bad_parts() {
        let xml = b"<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>1000</NextPartNumberMarker><Part><PartNumber>1000</PartNumber><ETag>E</ETag></Part></ListPartsResult>";
        let listed = parse_list_parts(xml).unwrap();
        assert!(listed.truncated);
        assert_eq!(listed.next_marker, 1000);
        assert_eq!(
            listed.parts,
            [ListedPart {
                number: 1000,
                etag: "E".into(),
                size: 0
            }]
        );
        assert!(
            parse_list_parts(
                b"<ListPartsResult><Part><PartNumber>x</PartNumber></Part></ListPartsResult>"
            )
            .is_err()
        );
        assert!(
            parse_list_parts(
                b"<ListPartsResult><Part><PartNumber>1</PartNumber></Part></ListPartsResult>"
            )
            .is_err()
        );
        assert_eq!(
            parse_list_parts(b"<ListPartsResult/>").unwrap(),
            ListedParts::default()
        );
    }

    #[test]
    fn error_documents_keep_only_code_message_and_request_id() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided.</Message>
  <RequestId>5C3D9175B6FC201293AD****</RequestId>
  <StringToSign>x-oss-security-token:SECRET-TOKEN</StringToSign>
</Error>"#;
        let (code, message, request_id) = parse_error(xml).unwrap();
        assert_eq!(code, "SignatureDoesNotMatch");
        assert!(message.starts_with("The request signature"));
        assert_eq!(request_id, "5C3D9175B6FC201293AD****");
        assert_eq!(parse_error(b"<Error><Code></Code></Error>"), None);
        assert_eq!(parse_error(b"{\"json\":1}"), None);
    }
}
