//! Fetch-ahead on worker threads: ending the walk stops new requests. (Order
//! under out-of-order answers, overlap within the window and every other case
//! of the shared table run with fetch-ahead in tests/conformance.rs.)
#![allow(missing_docs)]

use std::time::Duration;

use polyv_blocking::{Client, Config, Credentials, GetByUploader, Order};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_SUB_ACCOUNTS, DEMO_USER_ID, Dataset, MockServer};

#[test]
fn ending_the_walk_stops_new_requests() {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, DEMO_SUB_ACCOUNTS[0], 1, 100);
    let server = MockServer::builder().dataset(ds).start().unwrap();
    let config = Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&server.base_url())
        .unwrap();
    let client = Client::new(config).unwrap();
    let query = GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(10)
        .build()
        .unwrap();
    let mut videos = client.videos(&query).fetch_ahead(4);
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
