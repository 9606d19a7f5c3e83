//! A small hand-written Polyv + OSS stand-in on loopback for the clients'
//! upload tests: no signature checks (the core's vectors cover signing;
//! polyv-mock's OSS side checks them end to end). It records what arrived
//! (part lengths, whether a Content-Type came, Content-Length), so the
//! tests check the transport: parts sent with the right length and no
//! Content-Type, several in flight, retries, saved state, cancellation and
//! resume without a second video. It answers `init`, `token`,
//! Initiate, UploadPart, ListParts and Complete.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use polyv_core::{Config, Credentials, RetryPolicy};

/// What the stand received.
#[derive(Debug, Default)]
pub struct Seen {
    /// `init` calls, with their form bodies.
    pub inits: Vec<String>,
    /// `token` calls.
    pub tokens: usize,
    /// InitiateMultipartUpload calls.
    pub initiates: usize,
    /// (part number, body length, had a Content-Type, Content-Length header).
    pub parts: Vec<(u32, usize, bool, Option<String>)>,
    /// Part bodies by number (the last received).
    pub bodies: BTreeMap<u32, Vec<u8>>,
    /// CompleteMultipartUpload bodies.
    pub completes: Vec<String>,
    /// ListParts calls.
    pub lists: usize,
    /// Answer the first try of this part number with a 500.
    pub fail_part_once: Option<u32>,
    /// Raised when a Complete arrives (a Ctrl-C while it is in flight).
    pub raise_on_complete: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// The stand: a port on 127.0.0.1 and what it saw.
#[derive(Debug)]
pub struct Stand {
    /// Its port.
    pub port: u16,
    /// What it received.
    pub seen: Arc<Mutex<Seen>>,
}

impl Stand {
    /// Listens on 127.0.0.1, port 0, one thread per connection.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(stream, port, &s));
            }
        });
        Self { port, seen }
    }

    /// The demo account's configuration against the stand, with fast
    /// backoff.
    pub fn config(&self) -> Config {
        Config::new(Credentials::new("1b448be323", "secret").unwrap())
            .with_base_url(&format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .with_retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            )
    }
}

fn ticket(port: u16, vid: &str) -> String {
    let callback = r#"{\"callbackUrl\":\"https://cb.example/\",\"callbackBody\":\"x\"}"#;
    format!(
        r#"{{"code":200,"status":"success","message":"","data":{{"vid":"{vid}","accessId":"STS.id","accessKey":"k","token":"t","validityTime":3600,"bucketName":"b","domain":"127.0.0.1:{port}","dir":"polyvupload/","remainSpace":1073741824,"callback":"{callback}"}}}}"#
    )
}

fn serve(stream: TcpStream, port: u16, seen: &Mutex<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            let (name, value) = h.split_once(':').unwrap();
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let len: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let mut words = line.split_whitespace();
        let method = words.next().unwrap_or_default().to_owned();
        let target = words.next().unwrap_or_default().to_owned();
        let (status, extra, answer) = route(
            &method,
            &target,
            header("content-type").is_some(),
            header("content-length"),
            body,
            port,
            seen,
        );
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{extra}\r\n",
            answer.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&answer).is_err() {
            return;
        }
    }
}

fn route(
    method: &str,
    target: &str,
    content_type: bool,
    content_length: Option<String>,
    body: Vec<u8>,
    port: u16,
    seen: &Mutex<Seen>,
) -> (u16, String, Vec<u8>) {
    let mut seen = seen.lock().unwrap();
    let text = String::from_utf8_lossy(&body).into_owned();
    if target.contains("/v2/uploadvideo/") && target.contains("/init") {
        seen.inits.push(text);
        let vid = format!("1b448be323a{}_1", seen.inits.len().min(1));
        return (200, String::new(), ticket(port, &vid).into_bytes());
    }
    if target.contains("/v2/uploadvideo/") && target.contains("/token") {
        seen.tokens += 1;
        return (200, String::new(), ticket(port, "").into_bytes());
    }
    if method == "POST" && target.ends_with("?uploads") {
        seen.initiates += 1;
        return (
            200,
            String::new(),
            b"<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>"
                .to_vec(),
        );
    }
    if method == "PUT" {
        let number: u32 = target
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("partNumber="))
            .unwrap()
            .parse()
            .unwrap();
        seen.parts
            .push((number, body.len(), content_type, content_length));
        if seen.fail_part_once == Some(number) {
            seen.fail_part_once = None;
            return (
                500,
                String::new(),
                b"<Error><Code>InternalError</Code></Error>".to_vec(),
            );
        }
        seen.bodies.insert(number, body);
        return (200, format!("ETag: \"E{number}\"\r\n"), Vec::new());
    }
    if method == "GET" && target.contains("uploadId=") {
        // ListParts: what is stored, with the ETags the parts were given.
        let mut xml = String::from(
            "<ListPartsResult><UploadId>U1</UploadId><IsTruncated>false</IsTruncated>",
        );
        for (number, part) in &seen.bodies {
            xml.push_str(&format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>\"E{number}\"</ETag><Size>{}</Size></Part>",
                part.len()
            ));
        }
        xml.push_str("</ListPartsResult>");
        seen.lists += 1;
        return (200, String::new(), xml.into_bytes());
    }
    if method == "POST" && target.contains("uploadId=") {
        seen.completes.push(text);
        if let Some(flag) = &seen.raise_on_complete {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        return (200, String::new(), br#"{"code":200}"#.to_vec());
    }
    (404, String::new(), Vec::new())
}

static UNIQUE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "polyv-upload-test-{}-{name}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `clip.mp4` of `len` patterned bytes in `dir`: its path and bytes.
pub fn write_file(dir: &Path, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let path = dir.join("clip.mp4");
    std::fs::write(&path, &data).unwrap();
    (path, data)
}
