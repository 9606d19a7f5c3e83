//! `Client::upload` and `Client::fetch_urls` against a small hand-written
//! Polyv + OSS stand-in on loopback (no signature checks: the core's vectors
//! cover signing; the mock's OSS side checks them end to end). What this
//! checks is the transport: parts streamed with the right length and no
//! Content-Type, several in flight, retries, saved state, cancellation and
//! resume without a second video.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use polyv_blocking::{Client, Config, Credentials, RetryPolicy, UploadOptions, is_cancelled};

#[derive(Default)]
struct Seen {
    /// `init` calls, with their form bodies.
    inits: Vec<String>,
    tokens: usize,
    initiates: usize,
    /// (part number, body length, had a Content-Type, Content-Length header).
    parts: Vec<(u32, usize, bool, Option<String>)>,
    /// Part bodies by number (the last received).
    bodies: BTreeMap<u32, Vec<u8>>,
    completes: Vec<String>,
    grabs: Vec<String>,
    /// Answer the first try of this part number with a 500.
    fail_part_once: Option<u32>,
}

struct Stand {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl Stand {
    fn start() -> Self {
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

    fn client(&self) -> Client {
        let config = Config::new(Credentials::new("1b448be323", "secret").unwrap())
            .with_base_url(&format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .with_retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            );
        Client::new(config).unwrap()
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
    if target.contains("/v2/video/grab/") {
        seen.grabs.push(text);
        return (
            200,
            String::new(),
            br#"{"code":200,"status":"success","message":"","data":[]}"#.to_vec(),
        );
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
    if method == "POST" && target.contains("uploadId=") {
        seen.completes.push(text);
        return (200, String::new(), br#"{"code":200}"#.to_vec());
    }
    (404, String::new(), Vec::new())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "polyv-upload-test-{}-{name}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_file(dir: &Path, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let path = dir.join("clip.mp4");
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

const PART: u64 = 100 * 1024;

#[test]
fn uploads_in_streamed_parts_and_deletes_the_saved_state() {
    let stand = Stand::start();
    stand.seen.lock().unwrap().fail_part_once = Some(3);
    let dir = temp_dir("whole");
    let (path, data) = write_file(&dir, 2_000_000);
    let states = dir.join("states");
    let progress = Arc::new(AtomicUsize::new(0));
    let p = progress.clone();
    let done = stand
        .client()
        .upload(
            &path,
            UploadOptions::new()
                .title("Clip")
                .tags(["a", "b"])
                .cataid(7)
                .part_size(PART)
                .parallel(3)
                .state_dir(&states)
                .on_progress(move |_| {
                    p.fetch_add(1, Ordering::SeqCst);
                }),
        )
        .unwrap();
    assert_eq!(done.vid, "1b448be323a1_1");
    assert_eq!(
        (done.bytes, done.bytes_sent, done.resumed),
        (2_000_000, 2_000_000, false)
    );
    let seen = stand.seen.lock().unwrap();
    assert_eq!(seen.inits.len(), 1);
    assert!(seen.inits[0].contains("title=Clip"), "{}", seen.inits[0]);
    assert!(seen.inits[0].contains("cataid=7"), "{}", seen.inits[0]);
    assert_eq!(seen.initiates, 1);
    // 20 parts, part 3 twice (its first try answered 500).
    assert_eq!(seen.parts.len(), 21);
    assert_eq!(seen.parts.iter().filter(|p| p.0 == 3).count(), 2);
    for (number, len, content_type, content_length) in &seen.parts {
        assert!(!content_type, "part {number} carried a Content-Type");
        assert_eq!(content_length.as_deref(), Some(len.to_string().as_str()));
    }
    // The bytes arrived as cut.
    let joined: Vec<u8> = seen.bodies.values().flatten().copied().collect();
    assert!(joined == data, "the parts do not add up to the file");
    assert_eq!(seen.completes.len(), 1);
    assert_eq!(seen.completes[0].matches("<PartNumber>").count(), 20);
    assert!(progress.load(Ordering::SeqCst) >= 20);
    // Done: no saved state left.
    let left = std::fs::read_dir(&states).map_or(0, |d| d.count());
    assert_eq!(left, 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_cancelled_upload_resumes_without_a_second_video() {
    let stand = Stand::start();
    let dir = temp_dir("resume");
    let (path, data) = write_file(&dir, 1_500_000); // 15 parts
    let states = dir.join("states");
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    let err = stand
        .client()
        .upload(
            &path,
            UploadOptions::new()
                .part_size(PART)
                .parallel(1)
                .state_dir(&states)
                .cancel_flag(cancel.clone())
                .on_progress(move |p| {
                    if p.parts_done >= 5 {
                        c.store(true, Ordering::SeqCst);
                    }
                }),
        )
        .unwrap_err();
    assert!(is_cancelled(&err), "{err}");
    assert!(err.to_string().contains("resumes"), "{err}");
    let first_run = stand.seen.lock().unwrap().parts.len();
    assert!(
        (5..15).contains(&first_run),
        "{first_run} parts sent before the cancel"
    );
    assert_eq!(
        std::fs::read_dir(&states).unwrap().count(),
        1,
        "one saved state"
    );
    assert!(stand.seen.lock().unwrap().completes.is_empty());

    let done = stand
        .client()
        .upload(&path, UploadOptions::new().parallel(2).state_dir(&states))
        .unwrap();
    assert!(done.resumed);
    assert!(done.bytes_sent < done.bytes);
    let seen = stand.seen.lock().unwrap();
    // The rerun asked `init` for the saved vid: no second video.
    assert_eq!(seen.inits.len(), 2);
    assert!(
        seen.inits[1].contains("vid=1b448be323a1_1"),
        "{}",
        seen.inits[1]
    );
    assert!(seen.inits[1].contains("autoid=0"), "{}", seen.inits[1]);
    assert_eq!(done.vid, "1b448be323a1_1");
    // Same multipart upload; only the missing parts (the one in flight at
    // most once more).
    assert_eq!(seen.initiates, 1);
    assert!(
        seen.parts.len() <= 16,
        "{} parts sent in all",
        seen.parts.len()
    );
    let joined: Vec<u8> = seen.bodies.values().flatten().copied().collect();
    assert!(joined == data, "the parts do not add up to the file");
    assert_eq!(seen.completes.len(), 1);
    assert_eq!(std::fs::read_dir(&states).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fetch_urls_sends_batches_of_one_hundred() {
    let stand = Stand::start();
    let urls: Vec<String> = (0..150)
        .map(|i| format!("https://media.example/{i}.mp4"))
        .collect();
    let calls = stand.client().fetch_urls(urls, Some(3)).unwrap();
    assert_eq!(calls, 2);
    let seen = stand.seen.lock().unwrap();
    assert_eq!(seen.grabs.len(), 2);
    assert!(seen.grabs.iter().all(|g| g.contains("cataid=3")));
    assert_eq!(seen.grabs[0].matches("fileUrl").count(), 100);
    assert_eq!(seen.grabs[1].matches("fileUrl").count(), 50);
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let stand = Stand::start();
    let err = stand
        .client()
        .upload(
            "/nonexistent/polyv/clip.mp4",
            UploadOptions::new().state_dir(temp_dir("none")),
        )
        .unwrap_err();
    assert!(err.to_string().contains("clip.mp4"), "{err}");
    assert!(stand.seen.lock().unwrap().inits.is_empty());
}
