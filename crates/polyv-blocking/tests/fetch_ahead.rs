//! Fetch-ahead on worker threads: changing the setting mid-walk. (Order under
//! out-of-order answers, overlap within the window, ending a walk early and
//! every other case of the shared table run with fetch-ahead in
//! tests/conformance.rs.)
#![allow(missing_docs)]

use polyv_blocking::{Client, Config, Credentials, GetByUploader, Order};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_SUB_ACCOUNTS, DEMO_USER_ID, Dataset, MockServer};

fn start(videos: usize) -> (MockServer, Client) {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, DEMO_SUB_ACCOUNTS[0], 1, videos);
    let server = MockServer::builder().dataset(ds).start().unwrap();
    let config = Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&server.base_url())
        .unwrap();
    (server, Client::new(config).unwrap())
}

fn by_ten() -> GetByUploader {
    GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(10)
        .build()
        .unwrap()
}

#[test]
fn changing_fetch_ahead_mid_walk_keeps_every_page_once_in_order() {
    let (server, client) = start(95);
    let sequential: Vec<u32> = client
        .pages(&by_ten())
        .map(|p| p.unwrap().page_number)
        .collect();
    server.clear_requests();
    let mut pages = client.pages(&by_ten()).fetch_ahead(4);
    let mut seen = vec![pages.next().unwrap().unwrap().page_number];
    seen.push(pages.next().unwrap().unwrap().page_number);
    // Pages 3.. may be in flight on the workers; going back to 1 must not
    // request any of them twice or lose one.
    let rest = pages.fetch_ahead(1);
    seen.extend(rest.map(|p| p.unwrap().page_number));
    assert_eq!(seen, sequential);
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());
    assert_eq!(server.requests().len(), 10);
}
