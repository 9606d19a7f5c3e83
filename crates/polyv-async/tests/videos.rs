//! The `Videos` stream: lazy, ordered, no duplicates, errors end the walk,
//! the rate limit still applies. (Fetch-ahead under latency is in the shared
//! table, crates/polyv-conformance, run here by tests/conformance.rs.)

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use polyv_async::{Client, Error, GetByUploader, Order, RateLimit, RetryPolicy};
use polyv_mock::{Fault, FaultRule, MockServer};

/// The vids a plain page-by-page loop of `get_by_uploader` sees.
async fn by_hand(client: &Client, query: &GetByUploader) -> Vec<String> {
    let mut vids = Vec::new();
    for page in 1.. {
        let q = GetByUploader::builder()
            .order(Order::PtimeAsc)
            .page(page)
            .page_size(u32::from(query.page_size().unwrap_or(20)))
            .build()
            .unwrap();
        let got = client.get_by_uploader(&q).await.unwrap();
        vids.extend(got.items.iter().map(|v| v.vid().to_owned()));
        if !got.has_next() {
            break;
        }
    }
    vids
}

fn query(page_size: u32) -> GetByUploader {
    GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(page_size)
        .build()
        .unwrap()
}

fn assert_unique(vids: &[String]) {
    let set: HashSet<&String> = vids.iter().collect();
    assert_eq!(set.len(), vids.len(), "duplicates");
}

#[tokio::test]
async fn sequential_walk_is_lazy_and_complete() {
    let server = MockServer::builder().dataset(dataset(105)).start().unwrap();
    let client = client(&server);
    let mut stream = client.videos(&query(20));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        server.requests().is_empty(),
        "nothing before the first poll"
    );

    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        pages_requested(&server),
        [1],
        "one page for the first video"
    );
    let mut vids = vec![first.vid().to_owned()];
    while let Some(v) = stream.next().await {
        vids.push(v.unwrap().vid().to_owned());
    }
    assert!(stream.next().await.is_none(), "stays ended");
    assert_eq!(vids.len(), 105);
    assert_unique(&vids);
    assert_eq!(pages_requested(&server), [1, 2, 3, 4, 5, 6]);
    server.clear_requests();
    assert_eq!(vids, by_hand(&client, &query(20)).await);
}

#[tokio::test]
async fn fetch_ahead_on_current_thread_matches_sequential() {
    let server = MockServer::builder()
        .dataset(dataset(61))
        .fault(FaultRule::at_rate(
            Fault::Latency(Duration::from_millis(30)),
            0.5,
            3,
        ))
        .start()
        .unwrap();
    let client = client(&server);
    for n in [0, 1, 2, 4, 16] {
        let all = client.videos(&query(5)).fetch_ahead(n).collect_all().await;
        let vids: Vec<String> = all
            .unwrap()
            .into_iter()
            .map(|v| v.vid().to_owned())
            .collect();
        assert_eq!(vids.len(), 61, "fetch_ahead({n})");
        assert_unique(&vids);
        assert_eq!(vids, by_hand(&client, &query(5)).await, "fetch_ahead({n})");
    }
}

#[tokio::test]
async fn an_error_ends_the_stream_without_skipping_a_page() {
    // Request 4 is one of the fetch-ahead pages 2..=5; it fails for good.
    let server = MockServer::builder()
        .dataset(dataset(100))
        .fault(FaultRule::on_requests(Fault::BadGateway, [4]))
        .start()
        .unwrap();
    let config = config(&server.base_url()).with_retry(RetryPolicy::never());
    let client = Client::new(config).unwrap();
    let mut stream = client.videos(&query(10)).fetch_ahead(4);
    let mut vids = Vec::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(v)) => vids.push(v.vid().to_owned()),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without the error"),
        }
    };
    assert!(
        matches!(error, Error::Http { status: 502, .. }),
        "{error:?}"
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends after an error"
    );
    let log = server.requests();
    let failed: usize = log
        .iter()
        .find(|r| r.number == 4)
        .and_then(|r| r.param("page"))
        .unwrap()
        .parse()
        .unwrap();
    // Exactly the pages before the failed one, in order.
    assert_eq!(vids.len(), (failed - 1) * 10);
    let expected = by_hand(&client, &query(10)).await;
    assert_eq!(vids, expected[..vids.len()]);
}

#[tokio::test]
async fn a_failed_first_page_is_reported() {
    let server = MockServer::builder()
        .dataset(dataset(10))
        .fault(FaultRule::always(Fault::QueryFailed))
        .start()
        .unwrap();
    let client = Client::new(config(&server.base_url()).with_retry(RetryPolicy::never())).unwrap();
    let err = client.videos(&query(10)).collect_all().await.unwrap_err();
    assert!(matches!(err, Error::QueryFailed), "{err:?}");
}

#[tokio::test]
async fn rate_limit_paces_fetch_ahead_requests() {
    let server = MockServer::builder().dataset(dataset(60)).start().unwrap();
    let config = config(&server.base_url()).with_rate_limit(Some(
        RateLimit::new(10, Duration::from_secs(1)).with_burst(1),
    ));
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let all = client
        .videos(&query(10))
        .fetch_ahead(4)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.len(), 60);
    // 6 requests at 100 ms intervals: at least 500 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(480),
        "{:?}",
        started.elapsed()
    );
    let mut times: Vec<i64> = server.requests().iter().map(|r| r.server_time_ms).collect();
    times.sort_unstable();
    // Sent 100 ms apart; each may arrive late by a scheduling hiccup, so
    // two neighbours can be closer, but k requests never come in less than
    // k × 100 ms minus one hiccup (50 ms). Unpaced, 4 in flight would
    // arrive within a few ms of each other.
    for (i, first) in times.iter().enumerate() {
        for (k, later) in times[i + 1..].iter().enumerate() {
            let spaced = 100 * (k as i64 + 1) - 50;
            assert!(later - first >= spaced, "requests too close: {times:?}");
        }
    }
}

#[tokio::test]
async fn empty_listing_and_start_page() {
    let server = MockServer::builder().dataset(dataset(0)).start().unwrap();
    let client = client(&server);
    assert!(
        client
            .videos(&query(10))
            .fetch_ahead(4)
            .collect_all()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(pages_requested(&server), [1]);

    let server = MockServer::builder().dataset(dataset(50)).start().unwrap();
    let client = common::client(&server);
    let from_3 = GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page(3)
        .page_size(10)
        .build()
        .unwrap();
    let vids = client
        .videos(&from_3)
        .fetch_ahead(4)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(vids.len(), 30);
    let mut pages = pages_requested(&server);
    pages.sort_unstable();
    assert_eq!(pages, [3, 4, 5]);
}

#[tokio::test]
async fn a_server_ignoring_page_size_is_followed() {
    let server = MockServer::builder()
        .dataset(dataset(45))
        .ignore_page_size(true)
        .start()
        .unwrap();
    let client = client(&server);
    let vids = client
        .videos(&query(7))
        .fetch_ahead(4)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(vids.len(), 45);
    let mut pages = pages_requested(&server);
    pages.sort_unstable();
    assert_eq!(
        pages,
        [1, 2, 3],
        "pages of the server's 20, not the asked 7"
    );
}

#[test]
fn streams_are_send_unpin_static() {
    fn check<T: futures_core::Stream + Send + Unpin + 'static>() {}
    check::<polyv_async::Videos>();
    check::<polyv_async::Pages>();
}

#[tokio::test]
async fn pages_stream_reports_progress_in_order() {
    let server = MockServer::builder()
        .dataset(dataset(45))
        .fault(FaultRule::on_requests(
            Fault::Latency(Duration::from_millis(150)),
            [2],
        ))
        .start()
        .unwrap();
    let client = client(&server);
    let mut pages = client.paginate(query(10)).fetch_ahead(3);
    assert_eq!(
        (
            pages.progress().pages_done,
            pages.progress().last_page,
            pages.progress().total_items
        ),
        (0, None, None)
    );
    let mut numbers = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        numbers.push(page.page_number);
        assert_eq!(pages.progress().pages_done, page.page_number);
        assert_eq!(pages.progress().last_page, Some(5));
        assert_eq!(pages.progress().total_items, Some(45));
    }
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    assert_eq!(pages.progress().next_page, None);
    assert!(!pages.progress().failed);
    assert!(pages.next().await.is_none());
}

#[tokio::test]
async fn videos_report_failure() {
    let server = MockServer::builder()
        .dataset(dataset(30))
        .fault(FaultRule::on_requests(Fault::QueryFailed, [2]))
        .start()
        .unwrap();
    let client = Client::new(config(&server.base_url()).with_retry(RetryPolicy::never())).unwrap();
    let mut videos = client.videos(&query(10));
    let mut ok = 0;
    while let Some(v) = videos.next().await {
        if v.is_err() {
            break;
        }
        ok += 1;
    }
    assert_eq!(ok, 10);
    assert!(videos.progress().failed);
    assert_eq!(videos.progress().next_page, None);
    assert!(videos.next().await.is_none());
}
