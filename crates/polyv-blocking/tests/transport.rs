//! Transport behaviour that needs a hand-written server: connection reuse,
//! redirects, the body cap, what error messages may contain.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polyv_blocking::{Client, Config, Credentials, Error, GetByUploader, RetryPolicy};

const OK: &str = r#"{"code":200,"status":"success","message":"success","data":{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}}"#;

/// What the server does with a request (given its request line).
enum Reply {
    /// Write these bytes and keep the connection open.
    Bytes(Vec<u8>),
    /// A chunked body that never ends (until the client hangs up).
    Endless,
}

/// A tiny HTTP/1.1 server on loopback that counts connections and keeps a
/// log of request lines and headers.
struct RawServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl RawServer {
    fn start(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        let (c, r) = (connections.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                c.fetch_add(1, Ordering::SeqCst);
                let (reply, r) = (reply.clone(), r.clone());
                std::thread::spawn(move || serve(stream, &*reply, &r));
            }
        });
        Self {
            port,
            connections,
            requests,
        }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    reply: &(dyn Fn(&str) -> Reply + Send + Sync),
    log: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        log.lock().unwrap().push(head.clone());
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        match reply(&request_line) {
            Reply::Bytes(bytes) => {
                if out.write_all(&bytes).is_err() {
                    return;
                }
            }
            Reply::Endless => {
                let _ = out.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
                let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
                while out.write_all(chunk.as_bytes()).is_ok() {}
                return;
            }
        }
    }
}

fn response(status: &str, extra_headers: &str, body: &str) -> Reply {
    Reply::Bytes(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn client(base_url: &str) -> Client {
    Client::new(
        Config::new(Credentials::new("u1", "the-secret-key").unwrap())
            .with_base_url(base_url)
            .unwrap()
            .with_retry(RetryPolicy::never()),
    )
    .unwrap()
}

/// The full sign the client sent in the first request the server saw.
fn first_sign(server: &RawServer) -> String {
    let line = server.requests()[0].lines().next().unwrap().to_owned();
    let start = line.find("sign=").unwrap() + 5;
    line[start..].split([' ', '&']).next().unwrap().to_owned()
}

#[test]
fn connections_are_reused_across_calls_and_clones() {
    let server = RawServer::start(|_| response("200 OK", "", OK));
    let client = client(&server.base_url());
    let clone = client.clone();
    for c in [&client, &clone, &client, &clone] {
        c.get_by_uploader(&GetByUploader::new()).unwrap();
    }
    assert_eq!(server.requests().len(), 4);
    assert_eq!(
        server.connections(),
        1,
        "one kept-alive connection for all calls"
    );
}

#[test]
fn headers_carry_the_configured_user_agent() {
    let server = RawServer::start(|_| response("200 OK", "", OK));
    let client = Client::new(
        Config::new(Credentials::new("u1", "k").unwrap())
            .with_base_url(&server.base_url())
            .unwrap()
            .with_user_agent("my-app/1.0")
            .unwrap(),
    )
    .unwrap();
    client.get_by_uploader(&GetByUploader::new()).unwrap();
    let head = server.requests()[0].to_ascii_lowercase();
    assert!(head.contains("user-agent: my-app/1.0\r\n"), "{head}");
    assert!(
        head.starts_with("get /v2/video/u1/get-by-uploader?ptime="),
        "{head}"
    );
}

#[test]
fn redirects_are_never_followed() {
    let elsewhere = RawServer::start(|_| response("200 OK", "", OK));
    let target = format!("{}/stolen", elsewhere.base_url());
    let server =
        RawServer::start(move |_| response("302 Found", &format!("location: {target}\r\n"), ""));
    let err = client(&server.base_url())
        .get_by_uploader(&GetByUploader::new())
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 302, .. }), "{err:?}");
    assert_eq!(
        elsewhere.connections(),
        0,
        "the signed request went nowhere else"
    );
}

#[test]
fn a_caller_supplied_agent_still_gets_error_bodies_and_no_redirects() {
    let server = RawServer::start(|line| {
        if line.contains("/redirect") {
            response("301 Moved", "location: http://127.0.0.1:9/\r\n", "")
        } else {
            response(
                "400 Bad Request",
                "",
                r#"{"code":400,"status":"error","message":"the sign is not right.","data":""}"#,
            )
        }
    });
    // ureq's defaults: statuses as errors, 10 redirects.
    let agent = ureq::Agent::new_with_defaults();
    let config = Config::new(Credentials::new("u1", "k").unwrap())
        .with_base_url(&server.base_url())
        .unwrap();
    let client = Client::with_ureq(config, agent);
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(matches!(err, Error::SignNotRight), "{err:?}");
    let err = client
        .raw(&polyv_blocking::RawCall::get("/redirect").unwrap())
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 301, .. }), "{err:?}");
}

#[test]
fn an_announced_oversized_body_is_refused_unread() {
    let server = RawServer::start(|_| {
        Reply::Bytes(
            b"HTTP/1.1 200 OK\r\ncontent-length: 10000000000\r\n\r\n{\"code\":200".to_vec(),
        )
    });
    let client = Client::new(
        Config::new(Credentials::new("u1", "k").unwrap())
            .with_base_url(&server.base_url())
            .unwrap()
            .with_max_body_bytes(1024),
    )
    .unwrap();
    let started = Instant::now();
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 1024 }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.requests().len(), 1, "too large is not retried");
}

#[test]
fn an_endless_body_stops_at_the_cap() {
    let server = RawServer::start(|_| Reply::Endless);
    let client = Client::new(
        Config::new(Credentials::new("u1", "k").unwrap())
            .with_base_url(&server.base_url())
            .unwrap()
            .with_max_body_bytes(64 * 1024),
    )
    .unwrap();
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 65536 }),
        "{err:?}"
    );
}

#[test]
fn a_body_at_the_cap_is_accepted() {
    let server = RawServer::start(|_| response("200 OK", "", OK));
    let client = Client::new(
        Config::new(Credentials::new("u1", "k").unwrap())
            .with_base_url(&server.base_url())
            .unwrap()
            .with_max_body_bytes(OK.len() as u64),
    )
    .unwrap();
    assert!(client.get_by_uploader(&GetByUploader::new()).is_ok());
}

#[test]
fn errors_never_carry_the_full_sign() {
    // A proxy page that quotes the URL it was asked for.
    let server = RawServer::start(|line| {
        let body = format!("<html><h1>404</h1><p>{line}</p></html>");
        Reply::Bytes(
            format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    });
    let err = client(&server.base_url())
        .get_by_uploader(&GetByUploader::new())
        .unwrap_err();
    let sign = first_sign(&server);
    assert_eq!(sign.len(), 40);
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(&sign), "{text}");
        assert!(!text.contains("the-secret-key"), "{text}");
    }
}

#[test]
fn a_stalled_body_times_out_and_is_retried() {
    let calls = AtomicUsize::new(0);
    let server = RawServer::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            // Promise 1000 bytes, send 10, then go quiet.
            Reply::Bytes(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"code\":20".to_vec())
        } else {
            response("200 OK", "", OK)
        }
    });
    let client = Client::new(
        Config::new(Credentials::new("u1", "k").unwrap())
            .with_base_url(&server.base_url())
            .unwrap()
            .with_timeout(Duration::from_millis(500))
            .with_retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            ),
    )
    .unwrap();
    let page = client.get_by_uploader(&GetByUploader::new()).unwrap();
    assert_eq!(page.total_items, 0);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        server.connections(),
        2,
        "the stalled connection is not reused"
    );
}

#[test]
fn https_runs_rustls_and_a_failed_handshake_is_a_connect_error() {
    // A plain-HTTP server behind an https URL: it answers the ClientHello
    // with an HTTP error, which is no TLS record.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let err = client(&format!("https://127.0.0.1:{port}"))
        .get_by_uploader(&GetByUploader::new())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: polyv_blocking::TransportErrorKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
}
