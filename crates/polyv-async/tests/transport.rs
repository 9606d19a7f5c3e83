//! Transport-specific behaviour of the reqwest client: first page, keep-alive
//! across clones, no redirects, the body cap, error mapping and redaction.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use polyv_async::{Client, Error, GetByUploader, RawCall, RetryPolicy, TransportErrorKind};
use polyv_mock::{DEMO_SECRET_KEY, Fault, FaultRule, MockServer};
use tokio::io::AsyncWriteExt;

fn no_full_sign(text: &str) {
    // A full signature is 40 uppercase hex digits after `sign=`.
    if let Some(at) = text.find("sign=") {
        let value: String = text[at + 5..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(value.len() <= 8, "full sign leaked: {text}");
    }
    assert!(!text.contains(DEMO_SECRET_KEY), "secret leaked: {text}");
}

#[tokio::test]
async fn first_page_on_current_thread_runtime() {
    let server = MockServer::builder().dataset(dataset(45)).start().unwrap();
    let page = client(&server)
        .get_by_uploader(&GetByUploader::new())
        .await
        .unwrap();
    assert_eq!(
        (page.page_number, page.page_size, page.total_items),
        (1, 20, 45)
    );
    assert_eq!(page.items.len(), 20);
    let log = server.requests();
    assert_eq!(log.len(), 1);
    assert!(log[0].param("sign").is_some_and(|s| s.len() == 40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_page_and_raw_on_multi_thread_runtime() {
    let server = MockServer::builder().dataset(dataset(5)).start().unwrap();
    let client = client(&server);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_by_uploader(&GetByUploader::new()).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().items.len(), 5);
    }
    let raw = RawCall::get("/v2/video/{userid}/get-by-uploader")
        .unwrap()
        .param("page", "1");
    let data = client.raw(&raw).await.unwrap();
    assert_eq!(data["totalItems"], 5);
}

#[tokio::test]
async fn connections_are_reused_across_calls_and_clones() {
    let (base, accepted) = raw_server(|_head, stream| async move {
        reply(
            stream,
            "200 OK",
            "Content-Type: application/json\r\n",
            EMPTY_PAGE,
        )
        .await
    })
    .await;
    let client = Client::new(config(&base)).unwrap();
    let clone = client.clone();
    for c in [&client, &clone, &client, &clone] {
        c.get_by_uploader(&GetByUploader::new()).await.unwrap();
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "keep-alive across clones"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (target, hit) =
        raw_server(|_head, stream| async move { reply(stream, "200 OK", "", EMPTY_PAGE).await })
            .await;
    let location = format!("Location: {target}/elsewhere\r\n");
    let (base, _) = raw_server(move |_head, stream| {
        let location = location.clone();
        async move { reply(stream, "302 Found", &location, "moved").await }
    })
    .await;
    let err = Client::new(config(&base))
        .unwrap()
        .get_by_uploader(&GetByUploader::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 302, .. }), "{err:?}");
    assert_eq!(
        hit.load(Ordering::SeqCst),
        0,
        "the redirect target was contacted"
    );
}

#[tokio::test]
async fn body_over_the_cap_is_refused() {
    let server = MockServer::builder().dataset(dataset(20)).start().unwrap();
    let client = Client::new(config(&server.base_url()).with_max_body_bytes(200)).unwrap();
    let err = client
        .get_by_uploader(&GetByUploader::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 200 }), "{err:?}");
    assert_eq!(server.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn endless_chunked_body_stops_at_the_cap() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let (base, _) = raw_server(move |_head, mut stream| {
        let counter = Arc::clone(&counter);
        async move {
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            stream.write_all(head.as_bytes()).await.ok()?;
            let chunk = format!("400\r\n{}\r\n", "x".repeat(0x400));
            // Endless: only the client hanging up stops it.
            while stream.write_all(chunk.as_bytes()).await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            None
        }
    })
    .await;
    let client = Client::new(config(&base).with_max_body_bytes(64 * 1024)).unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client.get_by_uploader(&GetByUploader::new()),
    )
    .await
    .expect("the body cap must end the read")
    .unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 65536 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn dropped_connection_is_io_and_redacted() {
    let server = MockServer::builder()
        .dataset(dataset(20))
        .fault(FaultRule::always(Fault::DropConnection))
        .start()
        .unwrap();
    let client = Client::new(config(&server.base_url()).with_retry(RetryPolicy::never())).unwrap();
    let err = client
        .get_by_uploader(&GetByUploader::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Io,
                ..
            }
        ),
        "{err:?}"
    );
    no_full_sign(&err.to_string());
    no_full_sign(&format!("{err:?}"));
    assert!(
        err.to_string().contains("reading the response body"),
        "{err}"
    );
}

#[tokio::test]
async fn clock_offset_is_learnt_once_and_shared_by_clones() {
    let server = MockServer::builder()
        .dataset(dataset(1))
        .clock_offset_ms(-10 * 60 * 1000)
        .start()
        .unwrap();
    let client = client(&server);
    client.get_by_uploader(&GetByUploader::new()).await.unwrap();
    assert_eq!(
        server.requests().len(),
        2,
        "one ptime error, one corrected retry"
    );
    client
        .clone()
        .get_by_uploader(&GetByUploader::new())
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 3, "the clone reuses the offset");
}

#[test]
fn debug_never_shows_the_secret() {
    let client = Client::new(config("http://127.0.0.1:9")).unwrap();
    let debug = format!("{client:?} {:?}", client.videos(&GetByUploader::new()));
    assert!(!debug.contains(DEMO_SECRET_KEY), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

#[test]
fn client_builds_outside_a_runtime_and_from_env_needs_credentials() {
    assert!(Client::new(config("https://api.polyv.net")).is_ok());
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn transport_errors_name_the_host_never_the_query() {
    let port = closed_port();
    let config = config(&format!("http://127.0.0.1:{port}")).with_retry(RetryPolicy::never());
    let query = GetByUploader::builder().email(EMAIL).build().unwrap();
    let err = Client::new(config)
        .unwrap()
        .get_by_uploader(&query)
        .await
        .unwrap_err();
    let text = err.to_string();
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
    assert!(text.contains(&format!("127.0.0.1:{port}: ")), "{text}");
    for secret in ["ptime", "sign", "ops", "get-by-uploader", "?"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[tokio::test]
async fn a_timeout_says_which_limit_ran_out() {
    let server = MockServer::builder()
        .dataset(dataset(1))
        .fault(FaultRule::always(Fault::Latency(Duration::from_secs(5))))
        .start()
        .unwrap();
    let config = config(&server.base_url())
        .with_retry(RetryPolicy::never())
        .with_timeout(Duration::from_millis(1));
    let err = Client::new(config)
        .unwrap()
        .get_by_uploader(&GetByUploader::new())
        .await
        .unwrap_err();
    let text = err.to_string();
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
    assert!(
        text.contains(&format!(
            "{}: no complete response within the 1ms per-attempt timeout",
            server.addr()
        )),
        "{text}"
    );
}
