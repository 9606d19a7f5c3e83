//! Fetch-ahead on worker threads: pages answered out of order are still
//! yielded in order, requests overlap but stay within the window, and ending
//! the walk stops new requests. (The behaviour table runs every other case
//! with fetch-ahead too: see tests/conformance.rs.)
#![allow(missing_docs)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use polyv_blocking::{Client, Config, Credentials, GetByUploader, Order, RetryPolicy};
use polyv_mock::{
    DEMO_SECRET_KEY, DEMO_SUB_ACCOUNTS, DEMO_USER_ID, Dataset, Fault, FaultRule, MockBuilder,
    MockServer,
};

fn start(builder: MockBuilder, videos: usize) -> (MockServer, Client) {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, DEMO_SUB_ACCOUNTS[0], 1, videos);
    let server = builder.dataset(ds).start().unwrap();
    let config = Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&server.base_url())
        .unwrap()
        .with_retry(
            RetryPolicy::default()
                .with_backoff(Duration::from_millis(5), Duration::from_millis(20)),
        );
    (server, Client::new(config).unwrap())
}

fn query() -> GetByUploader {
    GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(10)
        .build()
        .unwrap()
}

/// The `page` parameter of every logged request, in the order answered.
fn pages_answered(server: &MockServer) -> Vec<u32> {
    server
        .requests()
        .iter()
        .map(|r| r.param("page").map_or(1, |p| p.parse().unwrap()))
        .collect()
}

fn vids(client: &Client, fetch_ahead: usize) -> Vec<String> {
    client
        .videos(&query())
        .fetch_ahead(fetch_ahead)
        .map(|v| v.unwrap().vid().to_owned())
        .collect()
}

#[test]
fn pages_answered_out_of_order_are_yielded_in_order() {
    // Requests 2 and 3 (early fetch-ahead pages) answer last.
    let (server, client) = start(
        MockServer::builder().fault(FaultRule::on_requests(
            Fault::Latency(Duration::from_millis(300)),
            [2, 3],
        )),
        233,
    );
    let ahead = vids(&client, 4);
    let mut answered = pages_answered(&server);
    assert!(
        !answered.is_sorted(),
        "answers came in page order: {answered:?}"
    );
    answered.sort_unstable();
    assert_eq!(
        answered,
        (1..=24).collect::<Vec<_>>(),
        "each page exactly once"
    );
    assert_eq!(ahead.len(), 233);
    assert_eq!(
        ahead.iter().collect::<HashSet<_>>().len(),
        233,
        "duplicates"
    );
    assert_eq!(
        ahead,
        vids(&client, 1),
        "the same videos in the same order as a sequential walk"
    );
}

#[test]
fn requests_overlap_within_the_window() {
    // 9 pages, every answer 300 ms late: sequential ≈ 2.7 s; 4 in flight
    // ≈ 0.3 s + 2 × 0.3 s; unbounded concurrency would be ≈ 0.6 s.
    let (_server, client) = start(
        MockServer::builder().fault(FaultRule::always(Fault::Latency(Duration::from_millis(
            300,
        )))),
        90,
    );
    let started = Instant::now();
    let all = vids(&client, 4);
    let elapsed = started.elapsed();
    assert_eq!(all.len(), 90);
    assert!(
        elapsed < Duration::from_millis(2_000),
        "no overlap: {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(880),
        "more than 4 in flight: {elapsed:?}"
    );
}

#[test]
fn ending_the_walk_stops_new_requests() {
    let (server, client) = start(MockServer::builder(), 100);
    let mut videos = client.videos(&query()).fetch_ahead(4);
    for _ in 0..25 {
        videos.next().unwrap().unwrap();
    }
    drop(videos);
    // Requests already sent may still finish; nothing new is sent.
    std::thread::sleep(Duration::from_millis(200));
    let seen = server.requests().len();
    assert!(
        seen <= 3 + 4,
        "3 pages consumed plus at most 4 ahead, got {seen}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.requests().len(), seen);
}
