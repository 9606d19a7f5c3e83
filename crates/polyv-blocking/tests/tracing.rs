//! What the client logs: one event per attempt, never the secret or a full sign.
#![allow(missing_docs)]

use std::time::Duration;

use polyv_blocking::{Client, Config, Credentials, GetByUploader, RetryPolicy};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, Fault, FaultRule, MockServer};

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
    let log = polyv_conformance::capture_logs(|| {
        client
            .get_by_uploader(&GetByUploader::builder().page(1).build().unwrap())
            .unwrap();
    });
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
