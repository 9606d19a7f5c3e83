//! Test helpers: a tiny HTTP/1.1 client over `std::net::TcpStream` and an
//! independent request signer.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};

pub use polyv_mock::{DEMO_SECRET_KEY as KEY, DEMO_USER_ID as USER};

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Bytes announced by Content-Length, if any.
    pub content_length: Option<usize>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn message(&self) -> String {
        self.json()["message"].as_str().unwrap().to_owned()
    }
    /// Asserts a Polyv error envelope and returns its message.
    pub fn error(&self) -> String {
        let j = self.json();
        assert_eq!(j["status"], "error", "{j}");
        assert_eq!(j["data"], "", "{j}");
        assert_eq!(j["code"].as_i64().unwrap(), i64::from(self.status), "{j}");
        j["message"].as_str().unwrap().to_owned()
    }
    pub fn vids(&self) -> Vec<String> {
        self.json()["data"]["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["vid"].as_str().unwrap().to_owned())
            .collect()
    }
}

pub fn request(addr: SocketAddr, method: &str, target: &str) -> Resp {
    request_with_body(addr, method, target, None, b"")
}

/// A request with a body (`Content-Length` set; `Content-Type` when given).
pub fn request_with_body(
    addr: SocketAddr,
    method: &str,
    target: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    // A dropped connection may end with an error instead of EOF: keep what arrived.
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no header end");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let content_length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap());
    Resp {
        status,
        headers,
        body,
        content_length,
    }
}

pub fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target)
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The test's own signer (deliberately not the mock's): non-empty params
/// except `sign`, sorted by name bytes, `k=v` joined by `&`, + secret, SHA-1, uppercase hex.
pub fn sign(params: &[(&str, &str)], secret: &str) -> String {
    let mut p: Vec<_> = params
        .iter()
        .filter(|(k, v)| !v.is_empty() && *k != "sign")
        .collect();
    p.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let joined = p
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let digest = Sha1::digest(format!("{joined}{secret}").as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// Form-urlencodes params (PHP http_build_query style: '+' -> %2B, ' ' -> '+').
pub fn encode(params: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Path + query for `user`, adding `ptime` = now (unless given) and a correct sign.
pub fn signed_target_for(user: &str, secret: &str, params: &[(&str, &str)]) -> String {
    let ptime = now_ms().to_string();
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if !all.iter().any(|(k, _)| *k == "ptime") {
        all.push(("ptime", &ptime));
    }
    let s = sign(&all, secret);
    all.push(("sign", &s));
    format!("/v2/video/{user}/get-by-uploader?{}", encode(&all))
}

pub fn signed_target(params: &[(&str, &str)]) -> String {
    signed_target_for(USER, KEY, params)
}

/// Fetches every page and returns the vids in order, checking page shapes on the way.
pub fn fetch_all(
    addr: SocketAddr,
    params: &[(&str, &str)],
    page_size: usize,
) -> (Vec<String>, u64) {
    let mut out = Vec::new();
    let mut page = 1usize;
    let size = page_size.to_string();
    loop {
        let p = page.to_string();
        let mut all = params.to_vec();
        all.push(("page", &p));
        all.push(("pageSize", &size));
        let r = get(addr, &signed_target(&all));
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let j = r.json();
        let total = j["data"]["totalItems"].as_u64().unwrap();
        assert_eq!(j["data"]["pageNumber"].as_u64().unwrap() as usize, page);
        let vids = r.vids();
        let last_page = (total as usize).div_ceil(page_size).max(1);
        if page < last_page {
            assert_eq!(vids.len(), page_size);
        }
        out.extend(vids);
        if page >= last_page {
            assert_eq!(out.len() as u64, total);
            return (out, total);
        }
        page += 1;
    }
}

pub const FORM: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// The test's own fixed-subset signer (vod-api.md A.5, variant 2): exactly
/// `names`, `userid` from the path, the others from the sent params when
/// non-empty, sorted, `k=v&...` + secret, SHA-1, uppercase hex.
pub fn sign_fixed(params: &[(&str, &str)], names: &[&str], userid: &str, secret: &str) -> String {
    let mut names = names.to_vec();
    names.sort();
    let mut parts = Vec::new();
    for n in names {
        let v = if n == "userid" {
            Some(userid)
        } else {
            params.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)
        };
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            parts.push(format!("{n}={v}"));
        }
    }
    let digest = Sha1::digest(format!("{}{secret}", parts.join("&")).as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// The fixed set the spec gives for an endpoint's last path segment, `None` for generic ones.
pub fn fixed_set(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "cataJson" => Some(&["ptime", "userid"]),
        "updateCata" => Some(&["cataid", "cataname", "ptime", "userid"]),
        "deleteCata" => Some(&["cataid", "ptime", "userid"]),
        "changeCata" => Some(&["cataid", "ptime", "userid", "vids"]),
        "viewlog" => Some(&["day", "ptime", "userid"]),
        _ => None,
    }
}

/// Sends `params` to `path`: a GET/HEAD query, or a form body for POST.
pub fn send(addr: SocketAddr, method: &str, path: &str, params: &[(&str, &str)]) -> Resp {
    if method == "POST" {
        request_with_body(addr, "POST", path, Some(FORM), encode(params).as_bytes())
    } else {
        request(addr, method, &format!("{path}?{}", encode(params)))
    }
}

/// Calls an endpoint of the demo account by `method`, adding `ptime` (now,
/// unless given) and a sign in the endpoint's documented shape, computed by
/// the test's own signers.
pub fn call(
    addr: SocketAddr,
    endpoint: polyv_mock::Endpoint,
    method: &str,
    params: &[(&str, &str)],
) -> Resp {
    let ptime = now_ms().to_string();
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if !all.iter().any(|(k, _)| *k == "ptime") {
        all.push(("ptime", &ptime));
    }
    let s = match fixed_set(endpoint.name()) {
        Some(names) => sign_fixed(&all, names, USER, KEY),
        None => sign(&all, KEY),
    };
    all.push(("sign", &s));
    send(addr, method, &endpoint.path(USER), &all)
}

/// Like [`call`] with the endpoint's SDK method.
pub fn sdk_call(addr: SocketAddr, endpoint: polyv_mock::Endpoint, params: &[(&str, &str)]) -> Resp {
    call(addr, endpoint, endpoint.sdk_method(), params)
}

/// The `data` of a success envelope (asserting it is one).
pub fn data(r: &Resp) -> serde_json::Value {
    let j = r.json();
    assert_eq!(r.status, 200, "{j}");
    assert_eq!(j["code"], 200, "{j}");
    assert_eq!(j["status"], "success", "{j}");
    j["data"].clone()
}
