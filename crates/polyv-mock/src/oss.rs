//! The OSS side of uploading, on the same server as the Polyv API: the five
//! requests of a multipart upload (Initiate, UploadPart, Complete with
//! Polyv's callback, ListParts, Abort), addressed custom-domain style
//! (`/{key}`, the bucket only in the signed resource), verified with the
//! mock's **own** OSS signature V1 code ([`string_to_sign`],
//! [`canonical_resource`], [`signature`]) and the STS credentials `init` and
//! `token` handed out, answered with OSS's XML.
//!
//! A request is an OSS request when its path does not start with `/v2/`
//! and it either carries `Authorization: OSS ...` or its path starts with
//! `/polyvupload/` (the `dir` of every account).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};

use crate::data::Video;
use crate::log::LoggedRequest;
use crate::server::{Shared, http_date, lock, percent_decode};
use crate::upload::{Multipart, Part, UPLOAD_BUCKET, UPLOAD_DIR_ROOT, UploadFault, dir_of};

/// The sub-resources that are part of the V1 signature (Aliyun's list);
/// other query parameters (`max-parts`, `part-number-marker`) are not.
const SIGNED_SUB_RESOURCES: &[&str] = &[
    "acl",
    "append",
    "callback",
    "callback-var",
    "delete",
    "location",
    "partNumber",
    "position",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "security-token",
    "uploadId",
    "uploads",
];

/// OSS's limits: a part but the last is at least 100 KB; part numbers 1 to 10,000.
const MIN_PART: u64 = 100 * 1024;
const MAX_PART_NUMBER: u32 = 10_000;
/// How far the request's `Date` may be from the mock's clock (15 minutes).
const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// Whether a request belongs to the OSS side.
pub(crate) fn is_oss(path: &str, headers: &HeaderMap) -> bool {
    if path.starts_with("/v2/") {
        return false;
    }
    let signed = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("OSS "));
    signed || path.starts_with(&format!("/{UPLOAD_DIR_ROOT}"))
}

/// `VERB\nContent-MD5\nContent-Type\nDate\n` + the `x-oss-*` headers
/// (names lowercased, sorted, `name:value\n`) + the resource.
pub(crate) fn string_to_sign(
    method: &str,
    content_md5: &str,
    content_type: &str,
    date: &str,
    headers: &[(String, String)],
    resource: &str,
) -> String {
    let mut oss: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim()))
        .filter(|(k, _)| k.starts_with("x-oss-"))
        .collect();
    oss.sort();
    let mut out = format!("{method}\n{content_md5}\n{content_type}\n{date}\n");
    for (k, v) in oss {
        out.push_str(&k);
        out.push(':');
        out.push_str(v);
        out.push('\n');
    }
    out.push_str(resource);
    out
}

/// `/{bucket}/{key}` (the key decoded) and the signed sub-resources of the
/// query, sorted by name, after a `?`.
pub(crate) fn canonical_resource(
    bucket: &str,
    key: &str,
    query: &[(String, Option<String>)],
) -> String {
    let mut signed: Vec<&(String, Option<String>)> = query
        .iter()
        .filter(|(k, _)| SIGNED_SUB_RESOURCES.contains(&k.as_str()))
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = format!("/{bucket}/{key}");
    for (i, (k, v)) in signed.into_iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// `base64(HMAC-SHA1(secret, string_to_sign))`.
pub(crate) fn signature(secret: &str, string_to_sign: &str) -> String {
    match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(string_to_sign.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The query as OSS reads it: decoded names, `None` for a bare name.
fn parse_query(raw: &str) -> Vec<(String, Option<String>)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), Some(percent_decode(v))),
            None => (percent_decode(p), None),
        })
        .collect()
}

fn query_value<'a>(query: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_deref().unwrap_or(""))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of each `<name>...</name>` in `text`, in order.
fn elements<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else {
            break;
        };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

/// An answer of the OSS side.
struct OssReply {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    code: Option<&'static str>,
    /// Close the connection without an answer (a dropped part).
    drop: bool,
}

impl OssReply {
    fn xml(status: u16, body: String) -> OssReply {
        OssReply {
            status,
            body: body.into_bytes(),
            headers: vec![("content-type", "application/xml".to_owned())],
            code: None,
            drop: false,
        }
    }

    fn empty(status: u16) -> OssReply {
        OssReply {
            status,
            body: Vec::new(),
            headers: Vec::new(),
            code: None,
            drop: false,
        }
    }
}

fn error(status: u16, code: &'static str, message: &str, request_id: &str) -> OssReply {
    error_with(status, code, message, request_id, "")
}

fn error_with(
    status: u16,
    code: &'static str,
    message: &str,
    request_id: &str,
    extra: &str,
) -> OssReply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{}</Message>\n  <RequestId>{request_id}</RequestId>\n  <HostId>{UPLOAD_BUCKET}.polyv-mock</HostId>\n{extra}</Error>\n",
        xml_escape(message)
    );
    let mut reply = OssReply::xml(status, body);
    reply.code = Some(code);
    reply
}

/// What the request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Initiate,
    UploadPart,
    Complete,
    ListParts,
    Abort,
}

fn op_of(method: &str, query: &[(String, Option<String>)]) -> Option<Op> {
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    match method {
        "POST" if has("uploads") => Some(Op::Initiate),
        "PUT" if has("partNumber") && has("uploadId") => Some(Op::UploadPart),
        "POST" if has("uploadId") => Some(Op::Complete),
        "GET" if has("uploadId") => Some(Op::ListParts),
        "DELETE" if has("uploadId") => Some(Op::Abort),
        _ => None,
    }
}

/// A part's ETag: 32 uppercase hex digits in quotes, the shape of OSS's
/// MD5 ETags (the mock takes them from SHA-1; nothing may rely on them
/// being MD5).
fn etag_of(bytes: &[u8]) -> String {
    let digest = hex::encode_upper(Sha1::digest(bytes));
    format!("\"{}\"", &digest[..32])
}

fn same_etag(a: &str, b: &str) -> bool {
    a.trim()
        .trim_matches('"')
        .eq_ignore_ascii_case(b.trim().trim_matches('"'))
}

/// Everything a request carried that the handler needs.
struct OssRequest {
    method: String,
    key: String,
    query: Vec<(String, Option<String>)>,
    headers: HeaderMap,
    body: Bytes,
    request_id: String,
    now_ms: i64,
}

impl OssRequest {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Serves one OSS request and logs it.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request,
    number: u64,
    now_ms: i64,
) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let raw_query = req.uri().query().unwrap_or("").to_owned();
    let headers = req.headers().clone();
    let query = parse_query(&raw_query);
    let key = percent_decode(path.strip_prefix('/').unwrap_or(&path));
    let request_id = format!(
        "{:024X}",
        u128::from(number) << 32 | u128::from(fastrand::u32(..))
    );
    let limit = shared.config.upload.max_part_bytes;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let reply = match read_body(req.into_body(), limit, announced).await {
        Err(()) => error(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size.",
            &request_id,
        ),
        Ok(body) => {
            let request = OssRequest {
                method: method.clone(),
                key,
                query,
                headers,
                body,
                request_id: request_id.clone(),
                now_ms,
            };
            let delay = slow_part(&shared, &request);
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            serve(&shared, &request)
        }
    };
    let raw_body = String::new();
    shared.record(LoggedRequest {
        number,
        method,
        path,
        raw_query: raw_query.clone(),
        params: parse_query(&raw_query)
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect(),
        server_time_ms: now_ms,
        status: if reply.drop { 0 } else { reply.status },
        code: None,
        message: reply.code.map(str::to_owned),
        fault: None,
        endpoint: None,
        form: false,
        raw_body,
        arrived_at_ms: now_ms,
        answered_at_ms: shared.now_ms(),
    });
    respond(&shared, reply, &request_id)
}

/// The body, up to `limit` bytes. A larger one is read on (up to 256 MiB
/// more) and dropped, so the client is not cut off while it still sends
/// and does reach the error answer.
async fn read_body(body: Body, limit: usize, announced: usize) -> Result<Bytes, ()> {
    use futures_util::StreamExt as _;
    const DRAIN: usize = 256 << 20;
    let mut stream = body.into_data_stream();
    let mut kept: Vec<u8> = Vec::with_capacity(announced.min(limit));
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Err(());
        };
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            kept = Vec::new();
            if seen > limit.saturating_add(DRAIN) {
                return Err(());
            }
            continue;
        }
        kept.extend_from_slice(&chunk);
    }
    if seen > limit {
        return Err(());
    }
    Ok(Bytes::from(kept))
}

fn respond(shared: &Shared, reply: OssReply, request_id: &str) -> Response {
    let body = if reply.drop {
        // An error before any byte of the body: hyper aborts the connection.
        Body::from_stream(futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("polyv-mock: injected DropPart"))
        }))
    } else {
        Body::from(reply.body)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (name, value) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-oss-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(shared.now_ms())) {
        h.insert(header::DATE, v);
    }
    h.insert(header::SERVER, HeaderValue::from_static("AliyunOSS"));
    if reply.drop {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// A `SlowPart` fault's delay for this request, if one is armed.
fn slow_part(shared: &Shared, request: &OssRequest) -> Option<Duration> {
    if op_of(&request.method, &request.query) != Some(Op::UploadPart) {
        return None;
    }
    let number: u32 = query_value(&request.query, "partNumber")?.parse().ok()?;
    let fault = lock(&shared.upload)
        .take_fault(|f| matches!(f, UploadFault::SlowPart { part, .. } if *part == number))?;
    match fault {
        UploadFault::SlowPart { delay, .. } => Some(delay),
        _ => None,
    }
}

/// The authorization checks, in OSS's order: a V1 `Authorization`, a
/// `Date` within 15 minutes, a known and live AccessKeyId, its security
/// token, the signature; then the key must be under the account's `dir`.
/// Returns the account the credentials belong to.
fn authorize(shared: &Shared, r: &OssRequest) -> Result<String, OssReply> {
    let rid = &r.request_id;
    let auth = r.header("authorization");
    let Some((access_id, given)) = auth
        .strip_prefix("OSS ")
        .and_then(|rest| rest.trim().rsplit_once(':'))
    else {
        return Err(error(
            403,
            "AccessDenied",
            "AccessDenied: the request carries no OSS signature (Authorization: OSS AccessKeyId:Signature).",
            rid,
        ));
    };
    let date = r.header("date");
    let Ok(when) = httpdate::parse_http_date(date) else {
        return Err(error(
            403,
            "AccessDenied",
            "Date header is required and must be an HTTP date.",
            rid,
        ));
    };
    let when_ms = when
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    if when_ms.saturating_sub(r.now_ms).saturating_abs() > MAX_SKEW_MS {
        return Err(error(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            rid,
        ));
    }
    let mut state = lock(&shared.upload);
    if state
        .take_fault(|f| matches!(f, UploadFault::ExpireToken { .. }))
        .is_some()
    {
        state.expire_all(false);
        return Err(error(
            403,
            "SecurityTokenExpired",
            "The security token you provided has expired.",
            rid,
        ));
    }
    if state
        .take_fault(|f| matches!(f, UploadFault::InvalidAccessKeyId { .. }))
        .is_some()
    {
        state.expire_all(true);
        return Err(error(
            403,
            "InvalidAccessKeyId",
            "The OSS Access Key Id you provided does not exist in our records.",
            rid,
        ));
    }
    let Some(cred) = state.creds.get(access_id).filter(|c| !c.revoked) else {
        return Err(error(
            403,
            "InvalidAccessKeyId",
            "The OSS Access Key Id you provided does not exist in our records.",
            rid,
        ));
    };
    let token = r.header("x-oss-security-token");
    if token != cred.token {
        return Err(error(
            403,
            "InvalidSecurityToken",
            "The security token you provided is invalid.",
            rid,
        ));
    }
    if cred.expired || r.now_ms > cred.expires_at_ms {
        return Err(error(
            403,
            "SecurityTokenExpired",
            "The security token you provided has expired.",
            rid,
        ));
    }
    let headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let to_sign = string_to_sign(
        &r.method,
        r.header("content-md5"),
        r.header("content-type"),
        date,
        &headers,
        &canonical_resource(UPLOAD_BUCKET, &r.key, &r.query),
    );
    let expected = signature(&cred.secret, &to_sign);
    if expected != given {
        // OSS quotes the string it signed (the token included).
        let extra = format!(
            "  <OSSAccessKeyId>{}</OSSAccessKeyId>\n  <StringToSign>{}</StringToSign>\n",
            xml_escape(access_id),
            xml_escape(&to_sign)
        );
        return Err(error_with(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            rid,
            &extra,
        ));
    }
    if !r.key.starts_with(&dir_of(&cred.user_id)) {
        return Err(error(
            403,
            "AccessDenied",
            "You have no right to access this object because of bucket acl.",
            rid,
        ));
    }
    Ok(cred.user_id.clone())
}

fn serve(shared: &Shared, r: &OssRequest) -> OssReply {
    let rid = &r.request_id;
    let Some(op) = op_of(&r.method, &r.query) else {
        return error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            rid,
        );
    };
    let user_id = match authorize(shared, r) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let upload_id = query_value(&r.query, "uploadId").unwrap_or("").to_owned();
    match op {
        Op::Initiate => initiate(shared, r),
        Op::UploadPart => upload_part(shared, r, &upload_id),
        Op::Complete => complete(shared, r, &upload_id, &user_id),
        Op::ListParts => list_parts(shared, r, &upload_id),
        Op::Abort => {
            let mut state = lock(&shared.upload);
            match state.uploads.get(&upload_id) {
                Some(u) if u.key == r.key && !u.completed => {
                    state.uploads.remove(&upload_id);
                    OssReply::empty(204)
                }
                _ => no_such_upload(rid),
            }
        }
    }
}

fn no_such_upload(rid: &str) -> OssReply {
    error(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        rid,
    )
}

fn initiate(shared: &Shared, r: &OssRequest) -> OssReply {
    let mut state = lock(&shared.upload);
    state.next_id += 1;
    let upload_id = hex::encode_upper(
        &Sha1::digest(format!("{}/{}/{}", r.key, state.next_id, fastrand::u64(..)).as_bytes())
            [..16],
    );
    state.uploads.insert(
        upload_id.clone(),
        Multipart {
            key: r.key.clone(),
            parts: BTreeMap::new(),
            completed: false,
        },
    );
    OssReply::xml(
        200,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>\n  <Bucket>{UPLOAD_BUCKET}</Bucket>\n  <Key>{}</Key>\n  <UploadId>{upload_id}</UploadId>\n</InitiateMultipartUploadResult>\n",
            xml_escape(&r.key)
        ),
    )
}

/// Takes a `NoSuchUpload` fault: forgets the upload and says so.
fn forgotten(state: &mut crate::upload::UploadState, upload_id: &str) -> bool {
    if state
        .take_fault(|f| matches!(f, UploadFault::NoSuchUpload { .. }))
        .is_some()
    {
        state.uploads.remove(upload_id);
        return true;
    }
    false
}

fn upload_part(shared: &Shared, r: &OssRequest, upload_id: &str) -> OssReply {
    let rid = &r.request_id;
    let number = match query_value(&r.query, "partNumber").map(str::parse::<u32>) {
        Some(Ok(n)) if (1..=MAX_PART_NUMBER).contains(&n) => n,
        _ => {
            return error(
                400,
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive.",
                rid,
            );
        }
    };
    let mut state = lock(&shared.upload);
    if forgotten(&mut state, upload_id) {
        return no_such_upload(rid);
    }
    if !state
        .uploads
        .get(upload_id)
        .is_some_and(|u| u.key == r.key && !u.completed)
    {
        return no_such_upload(rid);
    }
    if state
        .take_fault(|f| matches!(f, UploadFault::DropPart { part, .. } if *part == number))
        .is_some()
    {
        let mut reply = OssReply::empty(500);
        reply.drop = true;
        return reply;
    }
    let etag = etag_of(&r.body);
    let part = Part {
        etag: etag.clone(),
        len: u64::try_from(r.body.len()).unwrap_or(u64::MAX),
        bytes: if shared.config.upload.keep_part_bytes {
            r.body.clone()
        } else {
            Bytes::new()
        },
    };
    if let Some(upload) = state.uploads.get_mut(upload_id) {
        upload.parts.insert(number, part);
    }
    *state
        .parts_received
        .entry((upload_id.to_owned(), number))
        .or_insert(0) += 1;
    let mut reply = OssReply::empty(200);
    reply.headers.push(("etag", etag));
    reply
}

fn list_parts(shared: &Shared, r: &OssRequest, upload_id: &str) -> OssReply {
    let rid = &r.request_id;
    let mut state = lock(&shared.upload);
    if forgotten(&mut state, upload_id) {
        return no_such_upload(rid);
    }
    let Some(upload) = state
        .uploads
        .get(upload_id)
        .filter(|u| u.key == r.key && !u.completed)
    else {
        return no_such_upload(rid);
    };
    let marker: u32 = query_value(&r.query, "part-number-marker")
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let max: usize = query_value(&r.query, "max-parts")
        .and_then(|m| m.parse().ok())
        .filter(|&m: &usize| (1..=1000).contains(&m))
        .unwrap_or(1000);
    let after: Vec<(&u32, &Part)> = upload.parts.range(marker.saturating_add(1)..).collect();
    let truncated = after.len() > max;
    let page = &after[..after.len().min(max)];
    let next = page.last().map_or(marker, |(n, _)| **n);
    let modified = crate::server::iso_date(r.now_ms);
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult>\n  <Bucket>{UPLOAD_BUCKET}</Bucket>\n  <Key>{}</Key>\n  <UploadId>{upload_id}</UploadId>\n  <PartNumberMarker>{marker}</PartNumberMarker>\n  <NextPartNumberMarker>{next}</NextPartNumberMarker>\n  <MaxParts>{max}</MaxParts>\n  <IsTruncated>{truncated}</IsTruncated>\n",
        xml_escape(&r.key)
    );
    for (n, part) in page {
        body.push_str(&format!(
            "  <Part>\n    <PartNumber>{n}</PartNumber>\n    <LastModified>{modified}</LastModified>\n    <ETag>{}</ETag>\n    <Size>{}</Size>\n  </Part>\n",
            xml_escape(&part.etag),
            part.len
        ));
    }
    body.push_str("</ListPartsResult>\n");
    OssReply::xml(200, body)
}

/// The vid the callback names (`vid=` in its `callbackBody`), or why it
/// cannot be read.
fn callback_vid(header: &str) -> Result<Option<String>, &'static str> {
    if header.trim().is_empty() {
        return Ok(None);
    }
    let json = base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .map_err(|_| "The callback is not base64.")?;
    let value: serde_json::Value = serde_json::from_slice(&json)
        .map_err(|_| "The callback configuration is not json format.")?;
    let body = value
        .get("callbackBody")
        .and_then(|b| b.as_str())
        .ok_or("The callback configuration has no callbackBody.")?;
    if value.get("callbackUrl").and_then(|u| u.as_str()).is_none() {
        return Err("The callback configuration has no callbackUrl.");
    }
    Ok(form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "vid")
        .map(|(_, v)| v.into_owned()))
}

fn complete(shared: &Shared, r: &OssRequest, upload_id: &str, user_id: &str) -> OssReply {
    let rid = &r.request_id;
    let callback = match callback_vid(r.header("x-oss-callback")) {
        Ok(c) => c,
        Err(message) => return error(400, "InvalidArgument", message, rid),
    };
    let mut state = lock(&shared.upload);
    if forgotten(&mut state, upload_id) {
        return no_such_upload(rid);
    }
    let Some(upload) = state.uploads.get(upload_id).filter(|u| u.key == r.key) else {
        return no_such_upload(rid);
    };
    let text = String::from_utf8_lossy(&r.body);
    let mut listed: Vec<(u32, String)> = Vec::new();
    for part in elements(&text, "Part") {
        let number = elements(part, "PartNumber")
            .first()
            .and_then(|n| n.trim().parse::<u32>().ok());
        let etag = elements(part, "ETag").first().map(|e| xml_unescape(e));
        match (number, etag) {
            (Some(n), Some(e)) => listed.push((n, e)),
            _ => {
                return error(
                    400,
                    "MalformedXML",
                    "The XML you provided was not well-formed.",
                    rid,
                );
            }
        }
    }
    if listed.is_empty() || !text.contains("<CompleteMultipartUpload") {
        return error(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed.",
            rid,
        );
    }
    if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
        return error(
            400,
            "InvalidPartOrder",
            "The list of parts was not in ascending order.",
            rid,
        );
    }
    for (i, (n, etag)) in listed.iter().enumerate() {
        let Some(part) = upload.parts.get(n).filter(|p| same_etag(&p.etag, etag)) else {
            return error(
                400,
                "InvalidPart",
                "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.",
                rid,
            );
        };
        if i + 1 < listed.len() && part.len < MIN_PART {
            return error(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size.",
                rid,
            );
        }
    }
    // Stored: the object is the listed parts, in order (once: a resent
    // Complete finds the parts' bytes already moved into the object).
    let first_complete = !upload.completed;
    let mut object = Vec::new();
    if first_complete && shared.config.upload.keep_part_bytes {
        for (n, _) in &listed {
            if let Some(part) = upload.parts.get(n) {
                object.extend_from_slice(&part.bytes);
            }
        }
    }
    let etag = {
        let joined: String = listed.iter().map(|(_, e)| e.trim_matches('"')).collect();
        format!(
            "\"{}-{}\"",
            &hex::encode_upper(Sha1::digest(joined.as_bytes()))[..32],
            listed.len()
        )
    };
    let key = r.key.clone();
    if first_complete {
        if let Some(upload) = state.uploads.get_mut(upload_id) {
            upload.completed = true;
            for part in upload.parts.values_mut() {
                part.bytes = Bytes::new();
            }
        }
        state.objects.insert(key.clone(), object);
    }
    let result = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult>\n  <Location>http://{}/{}</Location>\n  <Bucket>{UPLOAD_BUCKET}</Bucket>\n  <Key>{}</Key>\n  <ETag>{}</ETag>\n</CompleteMultipartUploadResult>\n",
        shared.config.domain,
        xml_escape(&key),
        xml_escape(&key),
        xml_escape(&etag)
    );
    let Some(vid) = callback else {
        // No callback: stored, Polyv never told.
        return OssReply::xml(200, result);
    };
    if state
        .take_fault(|f| matches!(f, UploadFault::CallbackFailed { .. }))
        .is_some()
    {
        return callback_failed(rid, "Error status : 502.");
    }
    // The callback: Polyv adds the video (once).
    let Some(pending) = state
        .pending
        .get(&vid)
        .filter(|p| p.user_id == user_id)
        .cloned()
    else {
        return callback_failed(
            rid,
            "Error status : 400. The callback names an unknown vid.",
        );
    };
    if !pending.created {
        let added = shared.modify(|ds| {
            if ds.videos.iter().any(|v| v.vid == vid) {
                return Ok(());
            }
            let email = ds
                .accounts
                .iter()
                .find(|a| a.user_id == user_id)
                .and_then(|a| a.sub_accounts.first().cloned())
                .unwrap_or_default();
            let mut video = Video::new(user_id, &vid, &email, pending.cataid);
            video.title.clone_from(&pending.title);
            video.context.clone_from(&pending.describ);
            video.tag.clone_from(&pending.tag);
            video.status = "10".to_owned();
            video.times = 0;
            video.ptime = r.now_ms;
            ds.videos.push(video);
            Ok(())
        });
        if added.is_err() {
            return callback_failed(rid, "Error status : 500.");
        }
        if let Some(p) = state.pending.get_mut(&vid) {
            p.created = true;
        }
        state.created.push(vid.clone());
    }
    let mut reply = OssReply::empty(200);
    reply.body =
        serde_json::json!({"code": 200, "status": "success", "message": "", "data": {"vid": vid}})
            .to_string()
            .into_bytes();
    reply
        .headers
        .push(("content-type", "application/json".to_owned()));
    reply.headers.push(("etag", etag));
    reply
}

fn callback_failed(rid: &str, message: &str) -> OssReply {
    error(
        203,
        "CallbackFailed",
        &format!("The callback failed: {message} The object was stored."),
        rid,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "polyvupload/test/1b448be3230a0194d959426ae005645f_1.mp4";
    const UPLOAD_ID: &str = "0004B999EF518A1FE585B0C9360DC4C8";
    const DATE: &str = "Wed, 26 May 2021 04:00:00 GMT";
    const SECRET: &str = "testAccessKeySecret";
    const CALLBACK_B64: &str = "eyJjYWxsYmFja1VybCI6Imh0dHBzOi8vY2FsbGJhY2suZXhhbXBsZS9vc3MiLCJjYWxsYmFja0JvZHkiOiJidWNrZXQ9JHtidWNrZXR9Jm9iamVjdD0ke29iamVjdH0iLCJjYWxsYmFja0JvZHlUeXBlIjoiYXBwbGljYXRpb24veC13d3ctZm9ybS11cmxlbmNvZGVkIn0=";

    fn token() -> Vec<(String, String)> {
        vec![(
            "X-OSS-Security-Token".to_owned(),
            "testSecurityToken".to_owned(),
        )]
    }

    fn q(raw: &str) -> Vec<(String, Option<String>)> {
        parse_query(raw)
    }

    /// Spec 2.2, vector 1: InitiateMultipartUpload.
    #[test]
    fn vector_initiate() {
        let resource = canonical_resource("polyv-test-bucket", KEY, &q("uploads"));
        let to_sign = string_to_sign("POST", "", "text/plain", DATE, &token(), &resource);
        assert_eq!(
            to_sign,
            format!(
                "POST\n\ntext/plain\n{DATE}\nx-oss-security-token:testSecurityToken\n/polyv-test-bucket/{KEY}?uploads"
            )
        );
        assert_eq!(signature(SECRET, &to_sign), "ejgfnkz6c6KNcUVIL4Bbz0PeWQI=");
    }

    /// Spec 2.2, vector 2: UploadPart (the query order does not matter).
    #[test]
    fn vector_upload_part() {
        let query = q(&format!("uploadId={UPLOAD_ID}&partNumber=1"));
        let resource = canonical_resource("polyv-test-bucket", KEY, &query);
        let to_sign = string_to_sign("PUT", "", "", DATE, &token(), &resource);
        assert_eq!(signature(SECRET, &to_sign), "l3zfgz3usHImZrEIyVercSYF0aY=");
    }

    /// Spec 2.2, vector 3: CompleteMultipartUpload with the callback.
    #[test]
    fn vector_complete_with_callback() {
        let mut headers = token();
        headers.push(("x-oss-callback".to_owned(), CALLBACK_B64.to_owned()));
        let resource = canonical_resource(
            "polyv-test-bucket",
            KEY,
            &q(&format!("uploadId={UPLOAD_ID}")),
        );
        let to_sign = string_to_sign("POST", "", "application/xml", DATE, &headers, &resource);
        assert_eq!(signature(SECRET, &to_sign), "IUPBBTcuy0D0GCWwpXhyVFXJ03A=");
        // The callback names no vid: it decodes, but adds no video.
        assert_eq!(callback_vid(CALLBACK_B64), Ok(None));
    }

    /// ListParts signs only `uploadId` (oss2 2.19.1, like polyv-core's extra vectors).
    #[test]
    fn list_parts_signs_only_the_upload_id() {
        let query = q(&format!(
            "max-parts=1000&part-number-marker=5&uploadId={UPLOAD_ID}"
        ));
        let resource = canonical_resource("polyv-test-bucket", KEY, &query);
        assert_eq!(
            resource,
            format!("/polyv-test-bucket/{KEY}?uploadId={UPLOAD_ID}")
        );
        let to_sign = string_to_sign("GET", "", "", DATE, &token(), &resource);
        assert_eq!(signature(SECRET, &to_sign), "ORYOd5DtR4Z8kCP0NrJy2TmistM=");
    }

    #[test]
    fn bad_callbacks_and_xml_never_panic() {
        assert!(callback_vid("!!").is_err());
        assert!(callback_vid("bm90IGpzb24=").is_err());
        assert_eq!(callback_vid(""), Ok(None));
        assert!(elements("<Part><PartNumber>1", "PartNumber").is_empty());
        assert_eq!(elements("<a>1</a><a>2</a>", "a"), ["1", "2"]);
        assert_eq!(parse_query("a=%zz&uploads&=x").len(), 3);
        assert_eq!(xml_unescape(&xml_escape("\"a&b<c>\"")), "\"a&b<c>\"");
    }
}
