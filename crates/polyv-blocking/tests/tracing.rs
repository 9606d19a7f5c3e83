//! What the client logs: one event per attempt, never the secret or a full sign.
#![allow(missing_docs)]

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use polyv_blocking::{Client, Config, Credentials, GetByUploader, RetryPolicy};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, Fault, FaultRule, MockServer};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn attempts_are_logged_without_secrets() {
    let server = MockServer::builder()
        .videos(10)
        .log_requests(true)
        .fault(FaultRule::on_requests(Fault::QueryFailed, [1]))
        .fault(FaultRule::on_requests(Fault::BadGateway, [2]))
        .start()
        .unwrap();
    let client = Client::new(
        Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
            .with_base_url(&server.base_url())
            .unwrap()
            .with_retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            ),
    )
    .unwrap();
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        client
            .get_by_uploader(&GetByUploader::builder().page(1).build().unwrap())
            .unwrap();
    });
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "attempt=1 status=500",
        "attempt=2 status=502",
        "attempt=3 status=200",
        "latency_ms=",
        "path=/v2/video/demo0000a1/get-by-uploader",
        "page=1",
        "retrying",
    ] {
        assert!(log.contains(expected), "{expected:?} missing in:\n{log}");
    }
    assert!(!log.contains(DEMO_SECRET_KEY), "{log}");
    assert!(!log.contains("ptime="), "the query is never logged:\n{log}");
    for request in server.requests() {
        let sign = request.param("sign").unwrap();
        assert!(!log.contains(sign), "{log}");
    }
}
