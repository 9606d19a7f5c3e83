//! Cases: what is retried, how (freshly signed, with backoff, honouring `Retry-After`), and clock-skew correction.

use crate::*;

/// `query failed.` is retried up to the policy's limit, then reported.
pub fn query_failed_is_retried_then_reported<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::on_requests(Fault::QueryFailed, [1])),
    );
    let client: S = connect(demo_config(&server));
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let log = api_requests(&server);
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 200]);

    let failing = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::always(Fault::QueryFailed)),
    );
    let client: S = connect(demo_config(&failing));
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(matches!(err, Error::QueryFailed), "{err:?}");
    assert_eq!(api_requests(&failing).len(), 4, "1 attempt + 3 retries");
}

/// Every attempt is signed when it is sent: `ptime` follows the clock
/// from attempt to attempt, and the sign follows `ptime`. (Two attempts
/// inside the same millisecond rightly share both: the backoff's full
/// jitter can be ~0, so the test asks for the clock to move, not for
/// every `ptime` to differ.)
pub fn retries_are_signed_afresh<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::on_requests(Fault::QueryFailed, [1, 2, 3])),
    );
    let client: S = connect(demo_config(&server));
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let log = api_requests(&server);
    assert_eq!(log.len(), 4);
    let signed: Vec<(u64, String)> = log
        .iter()
        .map(|r| {
            let ptime = r.param("ptime").and_then(|p| p.parse().ok());
            let sign = r.param("sign").map(str::to_owned);
            (
                ptime.unwrap_or_else(|| panic!("no ptime")),
                sign.unwrap_or_else(|| panic!("no sign")),
            )
        })
        .collect();
    assert!(
        signed.windows(2).all(|w| w[0].0 <= w[1].0),
        "ptime went back: {signed:?}"
    );
    assert!(
        signed[3].0 > signed[0].0,
        "every attempt reused the first ptime: {signed:?}"
    );
    for pair in signed.windows(2) {
        assert_eq!(
            pair[0].0 == pair[1].0,
            pair[0].1 == pair[1].1,
            "sign does not follow ptime: {signed:?}"
        );
    }
}

/// An attempt slower than the timeout is abandoned and retried; if every
/// attempt is, a timeout error comes back.
pub fn timeout_is_retried_then_reported<S: Subject>() {
    let slow = Fault::Latency(Duration::from_millis(1500));
    let server = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::on_requests(slow.clone(), [1])),
    );
    let client: S = connect(demo_config(&server).with_timeout(Duration::from_millis(400)));
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    // The abandoned first request may still be sleeping in the mock (it
    // is logged when answered), so look for the retry by arrival number.
    let log = api_requests(&server);
    assert!(
        log.iter().any(|r| r.number == 2 && r.status == 200),
        "the second attempt answered: {log:?}"
    );

    let always = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::always(slow)),
    );
    let client: S = connect(
        demo_config(&always)
            .with_timeout(Duration::from_millis(300))
            .with_retry(
                RetryPolicy::default()
                    .with_retries(1)
                    .with_backoff(Duration::ZERO, Duration::ZERO),
            ),
    );
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
}

/// HTTP 429 is retried no sooner than its `Retry-After`.
pub fn too_many_requests_honours_retry_after<S: Subject>() {
    let fault = Fault::TooManyRequests {
        retry_after_secs: 1,
    };
    let server = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::on_requests(fault, [1])),
    );
    let client: S = connect(demo_config(&server));
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let log = api_requests(&server);
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 200]);
    let waited = log[1].server_time_ms - log[0].server_time_ms;
    assert!(
        waited >= 950,
        "retried after {waited} ms, before Retry-After: 1"
    );
}

/// A proxy's HTML 502 is retried; if it persists, the status and an
/// excerpt of the page come back.
pub fn bad_gateway_is_retried_then_reported<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::on_requests(Fault::BadGateway, [1])),
    );
    let client: S = connect(demo_config(&server));
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));

    let always = start(
        MockServer::builder()
            .videos(5)
            .fault(FaultRule::always(Fault::BadGateway)),
    );
    let client: S = connect(demo_config(&always));
    match client.get_by_uploader(&GetByUploader::new()).unwrap_err() {
        Error::Http {
            status: 502,
            excerpt,
            ..
        } => assert!(!excerpt.is_empty()),
        other => panic!("expected HTTP 502, got {other:?}"),
    }
    assert_eq!(api_requests(&always).len(), 4);
}

/// A JSON body cut short is retried.
pub fn truncated_json_is_retried<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(30)
            .fault(FaultRule::on_requests(Fault::TruncatedJson, [1])),
    );
    let client: S = connect(demo_config(&server));
    let page = client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!page.items.is_empty());
    assert_eq!(api_requests(&server).len(), 2);
}

/// A connection dropped mid-body is retried; if it keeps dropping, a
/// retryable error comes back.
pub fn dropped_connection_is_retried<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(30)
            .fault(FaultRule::on_requests(Fault::DropConnection, [1])),
    );
    let client: S = connect(demo_config(&server));
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(api_requests(&server).len(), 2);

    let always = start(
        MockServer::builder()
            .videos(30)
            .fault(FaultRule::always(Fault::DropConnection)),
    );
    let client: S = connect(demo_config(&always));
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(err, Error::Transport { .. } | Error::Truncated { .. }),
        "{err:?}"
    );
}

/// Nothing listening: a retryable connect error that shows no full sign.
pub fn refused_connection_is_a_connect_error<S: Subject>() {
    // Bind, learn the port, close: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|e| panic!("{e}"))
        .port();
    let config = Config::new(
        Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap_or_else(|e| panic!("{e}")),
    )
    .with_base_url(&format!("http://127.0.0.1:{port}"))
    .unwrap_or_else(|e| panic!("{e}"))
    .with_rate_limit(None)
    .with_retry(RetryPolicy::never());
    let client: S = connect(config);
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.to_string().contains(DEMO_SECRET_KEY));
    assert!(!err.to_string().contains("sign="), "{err}");
    // The HTTP client's error stays reachable as the source, redacted too.
    let mut chain = Vec::new();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    assert!(!chain.is_empty(), "no source() for {err:?}");
    assert!(
        chain
            .iter()
            .all(|c| !c.contains(DEMO_SECRET_KEY) && !c.contains("sign=")),
        "{chain:?}"
    );
}

fn skew_is_corrected<S: Subject>(offset_ms: i64) {
    let server = start(MockServer::builder().videos(5).clock_offset_ms(offset_ms));
    let client: S = connect(demo_config(&server));
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let first = api_requests(&server);
    assert_eq!(first.len(), 2, "one refused attempt, one corrected");
    assert_eq!(first[0].status, 400);
    assert_eq!(first[1].status, 200);
    // The offset is kept: the next call succeeds at once.
    server.clear_requests();
    client
        .get_by_uploader(&GetByUploader::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(api_requests(&server).len(), 1);
}

/// A server 10 minutes ahead of us (we look too old).
pub fn clock_ahead_is_corrected<S: Subject>() {
    skew_is_corrected::<S>(600_000);
}

/// A server 10 minutes behind us (we look illegally early).
pub fn clock_behind_is_corrected<S: Subject>() {
    skew_is_corrected::<S>(-600_000);
}
