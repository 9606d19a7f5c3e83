//! The upload flow: Polyv's `init`, `token` and URL fetch, and the OSS side
//! (multipart upload, signature V1 with the security token, callback).

mod common;

use common::*;
use polyv_mock::{Endpoint, MockServer, UPLOAD_BUCKET};

fn init(server: &MockServer, params: &[(&str, &str)]) -> serde_json::Value {
    data(&sdk_call(server.addr(), Endpoint::UploadInit, params))
}

#[test]
fn init_hands_out_a_vid_credentials_and_the_mocks_own_domain() {
    let server = MockServer::builder()
        .videos(3)
        .upload_validity_secs(120)
        .start()
        .unwrap();
    let d = init(
        &server,
        &[("title", "My talk"), ("filesize", "1000"), ("autoid", "1")],
    );
    let vid = d["vid"].as_str().unwrap();
    assert!(vid.len() > 32 && vid.contains('_'), "{vid}");
    assert_eq!(d["domain"], server.addr().to_string());
    assert_eq!(d["bucketName"], UPLOAD_BUCKET);
    assert_eq!(d["dir"], format!("polyvupload/{USER}/"));
    assert_eq!(d["validityTime"], 120);
    assert!(d["remainSpace"].as_i64().unwrap() > 0);
    for field in ["accessId", "accessKey", "token", "Expiration"] {
        assert!(!d[field].as_str().unwrap().is_empty(), "{field}: {d}");
    }
    let callback: serde_json::Value =
        serde_json::from_str(d["callback"].as_str().unwrap()).unwrap();
    assert!(callback["callbackBody"].as_str().unwrap().contains(vid));
    // Not listed before its upload completes.
    let listed = sdk_call(
        server.addr(),
        Endpoint::GetByUploader,
        &[("pageSize", "100")],
    );
    assert!(!listed.vids().iter().any(|v| v == vid));
    assert_eq!(server.initiated_vids(), [vid.to_owned()]);
    assert!(server.uploaded_videos().is_empty());

    // autoid=0 + vid: fresh credentials, same vid, no new video.
    let again = init(
        &server,
        &[("autoid", "0"), ("vid", vid), ("filesize", "1000")],
    );
    assert_eq!(again["vid"], vid);
    assert_ne!(again["accessId"], d["accessId"]);
    assert_eq!(server.initiated_vids().len(), 1);
    // An unknown vid is refused.
    let r = sdk_call(
        server.addr(),
        Endpoint::UploadInit,
        &[("autoid", "0"), ("vid", "nope_1"), ("filesize", "1")],
    );
    assert_eq!(r.status, 400);
    // Size 0: 406.
    let r = sdk_call(
        server.addr(),
        Endpoint::UploadInit,
        &[("title", "t"), ("filesize", "0")],
    );
    assert_eq!(r.json()["code"], 406);
    // A bad sign is refused like on every generic endpoint.
    let target = Endpoint::UploadInit.path(USER);
    let body = encode(&[
        ("title", "t"),
        ("filesize", "5"),
        ("ptime", &now_ms().to_string()),
        ("sign", "ABC"),
    ]);
    let r = request_with_body(server.addr(), "POST", &target, Some(FORM), body.as_bytes());
    assert_eq!(r.status, 400);
    assert_eq!(server.initiated_vids().len(), 1);
}

#[test]
fn token_hands_out_fresh_credentials_without_a_vid() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let d = data(&sdk_call(server.addr(), Endpoint::UploadToken, &[]));
    assert!(d.get("vid").is_none(), "{d}");
    assert!(d["accessId"].as_str().unwrap().starts_with("STS."));
    assert_eq!(d["domain"], server.addr().to_string());
}

#[test]
fn grab_records_the_urls_and_refuses_more_than_100() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let infos = r#"[{"fileUrl":"https://example.com/a.mp4","title":"a"},{"fileUrl":"http://example.com/b.mp4"}]"#;
    let d = data(&sdk_call(
        server.addr(),
        Endpoint::GrabUpload,
        &[("uploadInfos", infos)],
    ));
    assert_eq!(d["accepted"], 2);
    assert_eq!(
        server.grab_urls(),
        ["https://example.com/a.mp4", "http://example.com/b.mp4"]
    );
    let many: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"fileUrl":"https://example.com/{i}.mp4"}}"#))
        .collect();
    let many = format!("[{}]", many.join(","));
    let r = sdk_call(
        server.addr(),
        Endpoint::GrabUpload,
        &[("uploadInfos", &many)],
    );
    assert_eq!(r.status, 400);
    let r = sdk_call(
        server.addr(),
        Endpoint::GrabUpload,
        &[("uploadInfos", r#"[{"fileUrl":"ftp://x"}]"#)],
    );
    assert_eq!(r.status, 400);
    assert_eq!(server.grab_urls().len(), 2);
}

// ---- The OSS side, driven by hand-built requests signed by the test's own
// ---- OSS V1 signer (HMAC-SHA1, base64).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use polyv_mock::UploadFault;

/// What `init`/`token` lent: (accessId, accessKey, token).
#[derive(Clone)]
struct Sts {
    id: String,
    secret: String,
    token: String,
}

fn sts(d: &serde_json::Value) -> Sts {
    Sts {
        id: d["accessId"].as_str().unwrap().to_owned(),
        secret: d["accessKey"].as_str().unwrap().to_owned(),
        token: d["token"].as_str().unwrap().to_owned(),
    }
}

/// An OSS answer; `None` status when the connection closed without one.
struct OssResp {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: String,
}

impl OssResp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn code(&self) -> String {
        between(&self.body, "<Code>", "</Code>").unwrap_or_default()
    }
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].to_owned())
}

fn percent(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sends one OSS request for `key` with `query` (signed sub-resources given
/// apart in `signed`, already sorted), signed with `cred` (or a given
/// Authorization).
#[allow(clippy::too_many_arguments)]
fn oss(
    addr: SocketAddr,
    cred: &Sts,
    method: &str,
    key: &str,
    query: &str,
    signed: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> OssResp {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let mut oss_headers: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect();
    if !cred.token.is_empty() {
        oss_headers.push(("x-oss-security-token".into(), cred.token.clone()));
    }
    oss_headers.sort();
    let mut to_sign = format!("{method}\n\n{content_type}\n{date}\n");
    for (k, v) in &oss_headers {
        to_sign.push_str(&format!("{k}:{v}\n"));
    }
    to_sign.push_str(&format!("/{UPLOAD_BUCKET}/{key}"));
    if !signed.is_empty() {
        to_sign.push('?');
        to_sign.push_str(signed);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(cred.secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let mut head = format!(
        "{method} /{}{}{query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nDate: {date}\r\nAuthorization: OSS {}:{sig}\r\nContent-Length: {}\r\n",
        percent(key),
        if query.is_empty() { "" } else { "?" },
        cred.id,
        body.len()
    );
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (k, v) in &oss_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return OssResp {
            status: None,
            headers: Vec::new(),
            body: String::from_utf8_lossy(&raw).into_owned(),
        };
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    OssResp {
        status,
        headers,
        body: String::from_utf8_lossy(&raw[split + 4..]).into_owned(),
    }
}

/// One upload in progress: the ticket's credentials, key and callback.
struct Flow {
    addr: SocketAddr,
    vid: String,
    key: String,
    cred: Sts,
    callback_b64: String,
}

impl Flow {
    fn start(server: &MockServer, title: &str) -> Flow {
        let d = init(
            server,
            &[("title", title), ("filesize", "300000"), ("tag", "a,b")],
        );
        let vid = d["vid"].as_str().unwrap().to_owned();
        Flow {
            addr: server.addr(),
            key: format!("{}{vid}.mp4", d["dir"].as_str().unwrap()),
            vid,
            cred: sts(&d),
            callback_b64: base64::engine::general_purpose::STANDARD
                .encode(d["callback"].as_str().unwrap()),
        }
    }
    fn initiate(&self) -> String {
        let r = oss(
            self.addr,
            &self.cred,
            "POST",
            &self.key,
            "uploads",
            "uploads",
            "text/plain",
            &[],
            b"",
        );
        assert_eq!(r.status, Some(200), "{}", r.body);
        assert!(
            r.body.contains("<InitiateMultipartUploadResult>"),
            "{}",
            r.body
        );
        between(&r.body, "<UploadId>", "</UploadId>").unwrap()
    }
    fn part(&self, upload_id: &str, n: u32, bytes: &[u8]) -> OssResp {
        oss(
            self.addr,
            &self.cred,
            "PUT",
            &self.key,
            &format!("partNumber={n}&uploadId={upload_id}"),
            &format!("partNumber={n}&uploadId={upload_id}"),
            "",
            &[],
            bytes,
        )
    }
    fn complete(&self, upload_id: &str, parts: &[(u32, &str)]) -> OssResp {
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (n, etag) in parts {
            xml.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        oss(
            self.addr,
            &self.cred,
            "POST",
            &self.key,
            &format!("uploadId={upload_id}"),
            &format!("uploadId={upload_id}"),
            "application/xml",
            &[("x-oss-callback", &self.callback_b64)],
            xml.as_bytes(),
        )
    }
}

fn listed(server: &MockServer) -> Vec<serde_json::Value> {
    let r = sdk_call(
        server.addr(),
        Endpoint::GetByUploader,
        &[("pageSize", "1000")],
    );
    data(&r)["contents"].as_array().unwrap().clone()
}

#[test]
fn a_multipart_upload_completes_and_the_video_lists_once() {
    let server = MockServer::builder().videos(5).start().unwrap();
    let before = listed(&server).len();
    let flow = Flow::start(&server, "My talk");
    let upload_id = flow.initiate();
    let first = vec![7u8; 200 * 1024];
    let second = b"the end".to_vec();
    let p1 = flow.part(&upload_id, 1, &first);
    assert_eq!(p1.status, Some(200), "{}", p1.body);
    let e1 = p1.header("etag").unwrap().to_owned();
    assert!(e1.starts_with('"') && e1.len() == 34, "{e1}");
    let p2 = flow.part(&upload_id, 2, &second);
    let e2 = p2.header("etag").unwrap().to_owned();
    // ListParts (max-parts and the marker are not signed).
    let list = oss(
        flow.addr,
        &flow.cred,
        "GET",
        &flow.key,
        &format!("max-parts=1&part-number-marker=0&uploadId={upload_id}"),
        &format!("uploadId={upload_id}"),
        "",
        &[],
        b"",
    );
    assert_eq!(list.status, Some(200), "{}", list.body);
    assert!(
        list.body.contains("<IsTruncated>true</IsTruncated>"),
        "{}",
        list.body
    );
    assert!(list.body.contains(&format!("<Size>{}</Size>", first.len())));
    // A wrong ETag or order is refused, nothing is added.
    assert_eq!(
        flow.complete(&upload_id, &[(1, "\"00\""), (2, &e2)]).code(),
        "InvalidPart"
    );
    assert_eq!(
        flow.complete(&upload_id, &[(2, &e2), (1, &e1)]).code(),
        "InvalidPartOrder"
    );
    assert!(server.uploaded_videos().is_empty());

    let done = flow.complete(&upload_id, &[(1, &e1), (2, &e2)]);
    assert_eq!(done.status, Some(200), "{}", done.body);
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&flow.vid));
    let videos = listed(&server);
    assert_eq!(videos.len(), before + 1);
    let video = videos
        .iter()
        .find(|v| v["vid"] == flow.vid.as_str())
        .unwrap();
    assert_eq!(video["status"], "10");
    assert_eq!(video["title"], "My talk");
    assert_eq!(video["tag"], "a,b");
    let mut object = first.clone();
    object.extend_from_slice(&second);
    assert_eq!(server.object(&flow.key).unwrap(), object);
    assert_eq!(server.parts_received(&upload_id, 1), 1);

    // A Complete resent (its answer lost) adds nothing.
    let again = flow.complete(&upload_id, &[(1, &e1), (2, &e2)]);
    assert_eq!(again.status, Some(200), "{}", again.body);
    assert_eq!(listed(&server).len(), before + 1);
    assert_eq!(server.uploaded_videos().len(), 1);
    assert_eq!(server.object(&flow.key).unwrap(), object);
    // Resume credentials for the vid still work; no new video either.
    let fresh = init(
        &server,
        &[("autoid", "0"), ("vid", &flow.vid), ("filesize", "300000")],
    );
    assert_eq!(fresh["vid"], flow.vid.as_str());
    assert_eq!(listed(&server).len(), before + 1);
}

#[test]
fn small_parts_but_the_last_are_refused_and_abort_forgets() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let flow = Flow::start(&server, "t");
    let upload_id = flow.initiate();
    let e1 = flow
        .part(&upload_id, 1, b"tiny")
        .header("etag")
        .unwrap()
        .to_owned();
    let e2 = flow
        .part(&upload_id, 2, b"tiny")
        .header("etag")
        .unwrap()
        .to_owned();
    assert_eq!(
        flow.complete(&upload_id, &[(1, &e1), (2, &e2)]).code(),
        "EntityTooSmall"
    );
    let r = flow.part(&upload_id, 10_001, b"x");
    assert_eq!(
        (r.status, r.code()),
        (Some(400), "InvalidArgument".to_owned())
    );
    let q = format!("uploadId={upload_id}");
    let abort = oss(
        flow.addr,
        &flow.cred,
        "DELETE",
        &flow.key,
        &q,
        &q,
        "",
        &[],
        b"",
    );
    assert_eq!(abort.status, Some(204));
    let r = flow.part(&upload_id, 3, b"x");
    assert_eq!((r.status, r.code()), (Some(404), "NoSuchUpload".to_owned()));
}

#[test]
fn signatures_tokens_and_keys_are_checked() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let flow = Flow::start(&server, "t");
    let wrong_secret = Sts {
        secret: "not-the-secret".into(),
        ..flow.cred.clone()
    };
    let r = oss(
        flow.addr,
        &wrong_secret,
        "POST",
        &flow.key,
        "uploads",
        "uploads",
        "text/plain",
        &[],
        b"",
    );
    assert_eq!(
        (r.status, r.code()),
        (Some(403), "SignatureDoesNotMatch".to_owned()),
        "{}",
        r.body
    );
    assert!(r.body.contains("<StringToSign>"));
    // Signing without the sub-resource is a different string.
    let r = oss(
        flow.addr,
        &flow.cred,
        "POST",
        &flow.key,
        "uploads",
        "",
        "text/plain",
        &[],
        b"",
    );
    assert_eq!(r.code(), "SignatureDoesNotMatch");
    let no_token = Sts {
        token: String::new(),
        ..flow.cred.clone()
    };
    let r = oss(
        flow.addr,
        &no_token,
        "POST",
        &flow.key,
        "uploads",
        "uploads",
        "text/plain",
        &[],
        b"",
    );
    assert_eq!(
        (r.status, r.code()),
        (Some(403), "InvalidSecurityToken".to_owned())
    );
    let unknown = Sts {
        id: "STS.nobody".into(),
        ..flow.cred.clone()
    };
    let r = oss(
        flow.addr,
        &unknown,
        "POST",
        &flow.key,
        "uploads",
        "uploads",
        "text/plain",
        &[],
        b"",
    );
    assert_eq!(
        (r.status, r.code()),
        (Some(403), "InvalidAccessKeyId".to_owned())
    );
    let r = oss(
        flow.addr,
        &flow.cred,
        "POST",
        "polyvupload/someone-else/x.mp4",
        "uploads",
        "uploads",
        "text/plain",
        &[],
        b"",
    );
    assert_eq!((r.status, r.code()), (Some(403), "AccessDenied".to_owned()));
    // Unsigned: AccessDenied, as XML.
    let r = request_with_body(
        server.addr(),
        "POST",
        &format!("/{}?uploads", flow.key),
        None,
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(String::from_utf8_lossy(&r.body).contains("<Code>AccessDenied</Code>"));
    assert!(server.uploaded_videos().is_empty());
}

#[test]
fn expired_credentials_are_refused_until_refreshed_and_the_upload_goes_on() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let mut flow = Flow::start(&server, "t");
    let upload_id = flow.initiate();
    server.expire_upload_credentials();
    let r = flow.part(&upload_id, 1, b"x");
    assert_eq!(
        (r.status, r.code()),
        (Some(403), "SecurityTokenExpired".to_owned())
    );
    flow.cred = sts(&data(&sdk_call(server.addr(), Endpoint::UploadToken, &[])));
    let r = flow.part(&upload_id, 1, b"x");
    assert_eq!(r.status, Some(200), "{}", r.body);
    // The fault: the next request refused, every credential so far expired.
    server.upload_fault(UploadFault::InvalidAccessKeyId { times: 1 });
    assert_eq!(flow.part(&upload_id, 2, b"x").code(), "InvalidAccessKeyId");
    assert_eq!(flow.part(&upload_id, 2, b"x").code(), "InvalidAccessKeyId");
    flow.cred = sts(&init(
        &server,
        &[("autoid", "0"), ("vid", &flow.vid), ("filesize", "2")],
    ));
    let e1 = flow
        .part(&upload_id, 1, b"x")
        .header("etag")
        .unwrap()
        .to_owned();
    assert_eq!(flow.complete(&upload_id, &[(1, &e1)]).status, Some(200));
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&flow.vid));
    assert_eq!(server.parts_received(&upload_id, 1), 2);
}

#[test]
fn credentials_expire_on_the_mocks_clock() {
    let server = MockServer::builder()
        .videos(1)
        .upload_validity_secs(1)
        .start()
        .unwrap();
    let flow = Flow::start(&server, "t");
    let upload_id = flow.initiate();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        flow.part(&upload_id, 1, b"x").code(),
        "SecurityTokenExpired"
    );
}

#[test]
fn no_such_upload_when_forgotten() {
    let server = MockServer::builder()
        .videos(1)
        .upload_fault(UploadFault::NoSuchUpload { times: 1 })
        .start()
        .unwrap();
    let flow = Flow::start(&server, "t");
    let upload_id = flow.initiate();
    let r = flow.part(&upload_id, 1, b"x");
    assert_eq!((r.status, r.code()), (Some(404), "NoSuchUpload".to_owned()));
    // A new multipart upload for the same vid works; forget_uploads drops it too.
    let second = flow.initiate();
    assert_eq!(flow.part(&second, 1, b"x").status, Some(200));
    server.forget_uploads();
    assert_eq!(flow.part(&second, 1, b"x").code(), "NoSuchUpload");
    assert_eq!(
        flow.complete(&second, &[(1, "\"A\"")]).code(),
        "NoSuchUpload"
    );
    assert_eq!(server.initiated_vids().len(), 1);
}

#[test]
fn callback_failed_stores_the_bytes_and_a_second_complete_adds_the_video_once() {
    let server = MockServer::builder().videos(1).start().unwrap();
    server.upload_fault(UploadFault::CallbackFailed { times: 1 });
    let flow = Flow::start(&server, "t");
    let upload_id = flow.initiate();
    let e1 = flow
        .part(&upload_id, 1, b"abc")
        .header("etag")
        .unwrap()
        .to_owned();
    let r = flow.complete(&upload_id, &[(1, &e1)]);
    assert_eq!(
        (r.status, r.code()),
        (Some(203), "CallbackFailed".to_owned()),
        "{}",
        r.body
    );
    assert_eq!(server.object(&flow.key).unwrap(), b"abc");
    assert!(server.uploaded_videos().is_empty());
    assert!(
        !listed(&server)
            .iter()
            .any(|v| v["vid"] == flow.vid.as_str())
    );
    let r = flow.complete(&upload_id, &[(1, &e1)]);
    assert_eq!(r.status, Some(200), "{}", r.body);
    let r = flow.complete(&upload_id, &[(1, &e1)]);
    assert_eq!(r.status, Some(200), "{}", r.body);
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&flow.vid));
    assert_eq!(server.object(&flow.key).unwrap(), b"abc");
    assert_eq!(
        listed(&server)
            .iter()
            .filter(|v| v["vid"] == flow.vid.as_str())
            .count(),
        1
    );
}

#[test]
fn a_dropped_part_gets_no_answer_and_a_slow_part_waits() {
    let server = MockServer::builder().videos(1).start().unwrap();
    server.upload_fault(UploadFault::DropPart { part: 2, times: 1 });
    server.upload_fault(UploadFault::SlowPart {
        part: 3,
        delay: Duration::from_millis(300),
        times: 1,
    });
    let flow = Flow::start(&server, "t");
    let upload_id = flow.initiate();
    assert_eq!(flow.part(&upload_id, 1, b"x").status, Some(200));
    let dropped = flow.part(&upload_id, 2, b"y");
    assert_eq!(dropped.status, None, "{}", dropped.body);
    assert_eq!(server.parts_received(&upload_id, 2), 0);
    assert_eq!(flow.part(&upload_id, 2, b"y").status, Some(200));
    assert_eq!(server.parts_received(&upload_id, 2), 1);
    let started = Instant::now();
    assert_eq!(flow.part(&upload_id, 3, b"z").status, Some(200));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(flow.part(&upload_id, 3, b"z").status, Some(200));
    assert_eq!(server.parts_received(&upload_id, 3), 2);
    // The fault held only the first try: the server's own log says how
    // long it kept each (no client-side clock, no upper bound on wall time).
    let held: Vec<i64> = server
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.raw_query.contains("partNumber=3"))
        .map(|r| r.answered_at_ms - r.arrived_at_ms)
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(held[0] >= 300, "{held:?}");
    assert!(held[1] < held[0], "the second try was not held: {held:?}");
}

#[test]
fn malformed_oss_requests_get_oss_errors_and_the_server_keeps_serving() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let flow = Flow::start(&server, "t");
    let addr = server.addr();
    let raw = |head: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    let key = &flow.key;
    let cases = [
        format!("POST /{key}?uploads HTTP/1.1\r\nHost: x\r\nAuthorization: OSS nocolon\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        format!("POST /{key}?uploads HTTP/1.1\r\nHost: x\r\nAuthorization: OSS a:b\r\nDate: yesterday\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        format!("POST /{key}?uploads HTTP/1.1\r\nHost: x\r\nAuthorization: OSS a:b\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        format!("PUT /{key}?partNumber=x&uploadId=%zz HTTP/1.1\r\nHost: x\r\nAuthorization: OSS :\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        "GET /polyvupload/%FF%FE HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
        "HEAD /anything?uploads HTTP/1.1\r\nHost: x\r\nAuthorization: OSS x:y\r\nConnection: close\r\n\r\n".to_owned(),
    ];
    for case in &cases {
        let answer = raw(case);
        let status: u16 = answer.split(' ').nth(1).unwrap().parse().unwrap();
        assert!((400..500).contains(&status), "{case:?} -> {answer}");
    }
    // A garbage callback on Complete is refused as OSS does.
    let upload_id = flow.initiate();
    let e1 = flow
        .part(&upload_id, 1, b"x")
        .header("etag")
        .unwrap()
        .to_owned();
    let q = format!("uploadId={upload_id}");
    let body = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{e1}</ETag></Part></CompleteMultipartUpload>"
    );
    let r = oss(
        addr,
        &flow.cred,
        "POST",
        key,
        &q,
        &q,
        "application/xml",
        &[("x-oss-callback", "!!notbase64")],
        body.as_bytes(),
    );
    assert_eq!(
        (r.status, r.code()),
        (Some(400), "InvalidArgument".to_owned())
    );
    let r = oss(
        addr,
        &flow.cred,
        "POST",
        key,
        &q,
        &q,
        "application/xml",
        &[],
        b"<nope/>",
    );
    assert_eq!(r.code(), "MalformedXML");
    assert!(server.uploaded_videos().is_empty());
    // Still serving both sides.
    assert_eq!(flow.part(&upload_id, 1, b"x").status, Some(200));
    assert_eq!(listed(&server).len(), 1);
}

#[test]
fn parts_of_several_mebibytes_are_taken_and_the_limit_is_enforced() {
    let server = MockServer::builder()
        .videos(1)
        .max_part_bytes(6 << 20)
        .keep_part_bytes(false)
        .start()
        .unwrap();
    let flow = Flow::start(&server, "t");
    let upload_id = flow.initiate();
    let started = Instant::now();
    let r = flow.part(&upload_id, 1, &vec![3u8; 5 << 20]);
    assert_eq!(r.status, Some(200), "{}", r.body);
    eprintln!("a 5 MiB part took {:?}", started.elapsed());
    let e1 = r.header("etag").unwrap().to_owned();
    let r = flow.part(&upload_id, 2, &vec![3u8; 7 << 20]);
    assert_eq!(
        (r.status, r.code()),
        (Some(400), "EntityTooLarge".to_owned())
    );
    assert_eq!(server.parts_received(&upload_id, 2), 0);
    assert_eq!(flow.complete(&upload_id, &[(1, &e1)]).status, Some(200));
    // Without kept bytes the object is recorded empty; the video is there.
    assert_eq!(server.object(&flow.key).unwrap(), b"");
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&flow.vid));
}
