//! The blocking client against the mock server.
#![allow(missing_docs)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use polyv_blocking::{
    Client, Config, Credentials, Error, GetByUploader, RateLimit, RawCall, RetryPolicy,
};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, Fault, FaultRule, MockBuilder, MockServer};

fn config(server: &MockServer) -> Config {
    Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&server.base_url())
        .unwrap()
        .with_retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}

fn start(builder: MockBuilder) -> (MockServer, Client) {
    let server = builder.log_requests(true).start().unwrap();
    let client = Client::new(config(&server)).unwrap();
    (server, client)
}

fn query(page_size: u32) -> GetByUploader {
    GetByUploader::builder()
        .page_size(page_size)
        .build()
        .unwrap()
}

#[test]
fn one_page() {
    let (server, client) = start(MockServer::builder().videos(50));
    let page = client.get_by_uploader(&query(20)).unwrap();
    assert_eq!(page.page_number, 1);
    assert_eq!(page.page_size, 20);
    assert_eq!(page.items.len(), 20);
    assert!(page.total_items > 20);
    let log = server.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, 200);
    assert_eq!(log[0].param("pageSize"), Some("20"));
}

#[test]
fn videos_walks_every_page_lazily() {
    let (server, client) = start(MockServer::builder().videos(120));
    let total = client.get_by_uploader(&query(20)).unwrap().total_items;
    server.clear_requests();

    let mut videos = client.videos(&query(20));
    assert!(
        server.requests().is_empty(),
        "nothing is fetched before next()"
    );
    assert_eq!(
        (videos.progress().pages_done, videos.progress().last_page),
        (0, None)
    );
    assert!(videos.next().unwrap().is_ok());
    assert_eq!(server.requests().len(), 1, "one page per page of items");
    assert_eq!(videos.progress().pages_done, 1);
    let last = total.div_ceil(20);
    assert_eq!(videos.progress().last_page, Some(last));
    assert_eq!(videos.progress().total_items, Some(total));

    let mut vids: Vec<String> = vec!["first".into()];
    for video in videos.by_ref() {
        vids.push(video.unwrap().vid().to_owned());
    }
    assert_eq!(vids.len() as u64, total);
    assert_eq!(videos.progress().pages_done as u64, last);
    assert!(videos.next().is_none(), "fused");
    assert!(!videos.progress().failed);
    let log = server.requests();
    assert_eq!(log.len() as u64, last);
    let pages: Vec<_> = log
        .iter()
        .map(|r| r.param("page").unwrap_or("1").to_owned())
        .collect();
    let expected: Vec<_> = (1..=last).map(|p| p.to_string()).collect();
    assert_eq!(pages, expected);

    // Same set of videos as the page-by-page walk, no duplicates.
    let all: Vec<_> = client
        .pages(&query(20))
        .flat_map(|p| p.unwrap().items)
        .map(|v| v.vid().to_owned())
        .collect();
    assert_eq!(all.len() as u64, total);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len());
}

#[test]
fn an_empty_listing_is_one_request() {
    let (server, client) = start(MockServer::builder().dataset(polyv_mock::Dataset::empty_demo()));
    assert_eq!(client.videos(&GetByUploader::new()).count(), 0);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_failed_page_is_yielded_then_the_walk_ends() {
    // Request 2 is page 2: it fails on every attempt.
    let server = MockServer::builder()
        .videos(100)
        .log_requests(true)
        .fault(FaultRule::on_requests(Fault::BadGateway, [2]))
        .start()
        .unwrap();
    let client = Client::new(config(&server).with_retry(RetryPolicy::never())).unwrap();
    let results: Vec<_> = client.videos(&query(10)).collect();
    assert_eq!(results.len(), 11);
    assert!(results[..10].iter().all(Result::is_ok));
    assert!(
        matches!(results[10], Err(Error::Http { status: 502, .. })),
        "{:?}",
        results[10]
    );
    assert_eq!(server.requests().len(), 2);

    let mut pages = client.pages(&query(10));
    // Fresh walk: request 3 onwards, no fault.
    assert!(pages.next().unwrap().is_ok());
    assert!(!pages.progress().failed);
}

#[test]
fn errors_end_the_iterator() {
    let server = MockServer::builder()
        .fault(FaultRule::always(Fault::QueryFailed))
        .log_requests(true)
        .start()
        .unwrap();
    let client = Client::new(config(&server)).unwrap();
    let mut videos = client.videos(&GetByUploader::new());
    assert!(matches!(videos.next(), Some(Err(Error::QueryFailed))));
    assert!(videos.progress().failed);
    assert!(videos.next().is_none());
    assert!(videos.next().is_none());
    // The default policy tried 4 times.
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn clock_skew_is_learnt_once_and_shared_by_clones() {
    let (server, client) = start(
        MockServer::builder()
            .videos(10)
            .clock_offset_ms(10 * 60 * 1000),
    );
    client.get_by_uploader(&GetByUploader::new()).unwrap();
    assert_eq!(server.requests().len(), 2, "one refused, one corrected");
    let clone = client.clone();
    clone.get_by_uploader(&GetByUploader::new()).unwrap();
    assert_eq!(server.requests().len(), 3, "the clone knows the offset");

    let off = Client::new(config(&server).with_clock_skew_correction(false)).unwrap();
    assert!(matches!(
        off.get_by_uploader(&GetByUploader::new()),
        Err(Error::PtimeTooOld)
    ));
}

#[test]
fn raw_calls_return_json() {
    let (_server, client) = start(MockServer::builder().videos(10));
    let data = client
        .raw(
            &RawCall::get("/v2/video/{userid}/get-by-uploader")
                .unwrap()
                .param("pageSize", "3"),
        )
        .unwrap();
    assert_eq!(data["contents"].as_array().unwrap().len(), 3);
    let err = client.raw(&RawCall::get("/nowhere").unwrap()).unwrap_err();
    assert!(
        matches!(err, Error::Http { status: 404, .. } | Error::Api { .. }),
        "{err:?}"
    );
}

#[test]
fn the_rate_limit_is_shared_by_clones() {
    let server = MockServer::builder().videos(5).start().unwrap();
    let limited = Client::new(config(&server).with_rate_limit(Some(
        RateLimit::new(10, Duration::from_secs(1)).with_burst(1),
    )))
    .unwrap();
    let clone = limited.clone();
    let started = Instant::now();
    let handle = std::thread::spawn(move || {
        for _ in 0..3 {
            clone.get_by_uploader(&GetByUploader::new()).unwrap();
        }
    });
    for _ in 0..3 {
        limited.get_by_uploader(&GetByUploader::new()).unwrap();
    }
    handle.join().unwrap();
    // Six requests at 10/s with a burst of 1: the last waits >= 500 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn debug_never_shows_the_secret() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let client = Client::new(config(&server)).unwrap();
    for text in [format!("{client:?}"), format!("{client:#?}")] {
        assert!(!text.contains(DEMO_SECRET_KEY), "{text}");
        assert!(text.contains(DEMO_USER_ID));
    }
}

#[test]
fn from_env_reports_the_missing_variable() {
    // Only meaningful when the variables are not set in the test environment.
    if std::env::var_os("POLYV_USER_ID").is_none() {
        assert!(matches!(
            Client::from_env(),
            Err(Error::Env { unset, .. }) if unset.contains(&"POLYV_USER_ID")
        ));
    }
}

#[test]
fn transport_errors_name_the_host_never_the_query() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_retry(RetryPolicy::never());
    let query = GetByUploader::builder()
        .email("ops+cn@example.com")
        .build()
        .unwrap();
    let err = Client::new(config)
        .unwrap()
        .get_by_uploader(&query)
        .unwrap_err();
    let text = err.to_string();
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
    assert!(text.contains(&format!("127.0.0.1:{port}: ")), "{text}");
    for secret in ["ptime", "sign", "ops", "get-by-uploader", "?"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn a_timeout_says_which_limit_ran_out() {
    let (server, _) = start(
        MockServer::builder()
            .videos(1)
            .fault(FaultRule::always(Fault::Latency(Duration::from_secs(5)))),
    );
    let config = config(&server)
        .with_retry(RetryPolicy::never())
        .with_timeout(Duration::from_millis(1));
    let err = Client::new(config)
        .unwrap()
        .get_by_uploader(&GetByUploader::new())
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "{}: no complete response within the 1ms per-attempt timeout",
            server.addr()
        )),
        "{text}"
    );
}
