//! Cases: input checks, secrets kept out of `Debug` and logs, tracing, the escape hatch, limits on bodies and rates.

use crate::*;

/// An e-mail with `+` travels encoded and finds its sub-account.
pub fn email_with_plus<S: Subject>() {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, DEMO_PLUS_EMAIL, DEMO_ROOT_CATAID, 5);
    ds.add_videos(DEMO_USER_ID, DEMO_SUB_ACCOUNTS[0], DEMO_ROOT_CATAID, 3);
    let server = start(MockServer::builder().dataset(ds));
    let client: S = connect(demo_config(&server));
    let q = GetByUploader::builder()
        .email(DEMO_PLUS_EMAIL)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let page = client.get_by_uploader(&q).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.total_items, 5);
    assert!(
        page.items
            .iter()
            .all(|v| v.uploader_email() == DEMO_PLUS_EMAIL)
    );
    assert_eq!(
        api_requests(&server)[0].param("email"),
        Some(DEMO_PLUS_EMAIL)
    );
}

/// A user id that would change the path is refused before any request.
pub fn user_id_with_slash_is_refused_before_any_request<S: Subject>() {
    let server = start(MockServer::builder().videos(5));
    for bad in ["demo/../x", "a?b", "a b"] {
        let err = Credentials::new(bad, DEMO_SECRET_KEY).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    }
    let raw = RawCall::get("/v2/video/{userid}/get-by-uploader").unwrap_or_else(|e| panic!("{e}"));
    let client: S = connect(demo_config(&server));
    let err = client.raw(&raw.param("sign", "forged")).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(server.requests().is_empty(), "nothing may reach the server");
}

/// Every client logs the same events with the same fields (the core's
/// call driver emits them): the call's span, one event per attempt, one
/// per retry; never the query.
pub fn attempts_are_traced_alike<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(10)
            .fault(FaultRule::on_requests(Fault::QueryFailed, [1]))
            .fault(FaultRule::on_requests(Fault::BadGateway, [2])),
    );
    let client: S = connect(demo_config(&server));
    let log = capture_logs(|| {
        client
            .get_by_uploader(&GetByUploader::new())
            .unwrap_or_else(|e| panic!("{e}"));
    });
    for expected in [
        "polyv.call{method=GET path=/v2/video/demo0000a1/get-by-uploader}",
        "response attempt=1 status=500",
        "response attempt=2 status=502",
        "response attempt=3 status=200",
        "latency_ms=",
        "bytes=",
        "retrying attempt=1 delay_ms=",
        "retrying attempt=2 delay_ms=",
    ] {
        assert!(log.contains(expected), "{expected:?} missing in:\n{log}");
    }
    assert!(!log.contains("ptime="), "the query is never logged:\n{log}");
}

/// Neither `Debug` nor the logs show the secret key or a full sign.
pub fn secret_absent_from_debug_and_trace_logs<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(30)
            .fault(FaultRule::on_requests(Fault::QueryFailed, [1])),
    );
    let client: S = connect(demo_config(&server));
    let debug = client.debug();
    assert!(
        !debug.contains(DEMO_SECRET_KEY),
        "Debug shows the secret: {debug}"
    );

    let logs = capture_logs(|| {
        client
            .get_by_uploader(&GetByUploader::new())
            .unwrap_or_else(|e| panic!("{e}"));
        let wrong: S = connect(config_for(&server, DEMO_USER_ID, "not-the-key"));
        let _ = wrong.get_by_uploader(&GetByUploader::new());
    });
    assert!(!logs.is_empty(), "the client logged nothing at trace level");
    assert!(
        logs.contains("attempt"),
        "no per-attempt event in the logs:\n{logs}"
    );
    assert!(!logs.contains(DEMO_SECRET_KEY), "the secret is in the logs");
    assert!(!logs.contains("not-the-key"), "a secret is in the logs");
    for request in api_requests(&server) {
        if let Some(sign) = request.param("sign") {
            assert!(!logs.contains(sign), "a full sign is in the logs");
        }
    }
}

/// Any path and parameters, signed, with `data` as JSON.
pub fn raw_escape_hatch<S: Subject>() {
    let server = start(MockServer::builder().videos(50));
    let client: S = connect(demo_config(&server));
    let call = RawCall::get("/v2/video/{userid}/get-by-uploader")
        .unwrap_or_else(|e| panic!("{e}"))
        .param("pageSize", "5")
        .param("page", "2");
    let data = client.raw(&call).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(data["pageNumber"], 2);
    assert_eq!(data["contents"].as_array().map(Vec::len), Some(5));
}

/// A body over the limit is refused, not buffered.
pub fn body_limit<S: Subject>() {
    let server = start(MockServer::builder().dataset(dataset_with(1000)));
    let client: S = connect(demo_config(&server).with_max_body_bytes(4096));
    let q = GetByUploader::builder()
        .page_size(1000)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = client.get_by_uploader(&q).unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 4096 }),
        "{err:?}"
    );
}

/// The client paces itself to its configured rate.
pub fn client_side_rate_limit<S: Subject>() {
    let server = start(MockServer::builder().videos(5));
    let limit = RateLimit::new(20, Duration::from_secs(1)).with_burst(1);
    let client: S = connect(demo_config(&server).with_rate_limit(Some(limit)));
    for _ in 0..6 {
        client
            .get_by_uploader(&GetByUploader::new())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let log = api_requests(&server);
    let span = log[5].server_time_ms - log[0].server_time_ms;
    assert!(span >= 240, "6 requests at 20/s took only {span} ms");
}

/// Polyv's rate-limit block (HTTP 403 with the envelope) ends that call,
/// unretried, and the client sends nothing more until the block is over.
pub fn rate_limit_block_is_waited_out<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(5)
            .rate_limit(polyv_mock::RateLimit {
                max_requests: 3,
                window: Duration::from_secs(60),
                block_for: Duration::from_millis(300),
            }),
    );
    let limit = RateLimit::new(1000, Duration::from_secs(1))
        .with_burst(100)
        .with_block_for(Duration::from_millis(500));
    let client: S = connect(demo_config(&server).with_rate_limit(Some(limit)));
    for _ in 0..3 {
        client
            .get_by_uploader(&GetByUploader::new())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let err = client
        .get_by_uploader(&GetByUploader::new())
        .expect_err("the 4th request is over the mock's limit");
    assert!(err.is_rate_limit_block(), "{err:?}");
    // The next call waits the client's 500 ms out, by which time the
    // mock's 300 ms block is over.
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("after the block: {e}"));
    let log = api_requests(&server);
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 200, 403, 200], "one attempt each");
    let gap = log[4].server_time_ms - log[3].server_time_ms;
    assert!(
        gap >= 490,
        "sent {gap} ms after the block, not after 500 ms"
    );
}
