//! Cases: walking pages, sequentially and fetching ahead.

use crate::*;

fn walk_ok<S: Subject>(client: &S, query: &GetByUploader) -> Vec<String> {
    client
        .walk(query)
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("walk failed: {e}"))
                .vid()
                .to_owned()
        })
        .collect()
}

/// 0, 1, 20, 21 and 1000 items: exact order, no duplicates, no extra requests.
pub fn pagination_boundaries<S: Subject>() {
    for n in [0usize, 1, 20, 21, 1000] {
        let ds = dataset_with(n);
        let expected = vids_in_ptime_order(&ds);
        let server = start(MockServer::builder().dataset(ds));
        let client: S = connect(demo_config(&server));
        let got = walk_ok(&client, &ptime_asc());
        assert_eq!(got, expected, "{n} items");
        let pages = n.div_ceil(20).max(1);
        assert_eq!(api_requests(&server).len(), pages, "{n} items: requests");
    }
}

/// With no page size given, a walk asks for the largest page (1,000), so
/// a whole catalogue takes few requests under Polyv's rate limit; a
/// single page keeps the server's default.
pub fn walks_ask_for_the_largest_page_by_default<S: Subject>() {
    let ds = dataset_with(2500);
    let expected = vids_in_ptime_order(&ds);
    let server = start(MockServer::builder().dataset(ds));
    let client: S = connect(demo_config(&server));
    let query = GetByUploader::builder()
        .order(Order::PtimeAsc)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(walk_ok(&client, &query), expected);
    let requests = api_requests(&server);
    assert_eq!(requests.len(), 3, "2,500 videos in pages of 1,000");
    assert!(requests.iter().all(|r| r.param("pageSize") == Some("1000")));
    server.clear_requests();
    client
        .get_by_uploader(&query)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(api_requests(&server)[0].param("pageSize"), None);
}

/// Pages follow the response's `pageSize`, even when the server ignores the request's.
pub fn pagination_follows_the_response_page_size<S: Subject>() {
    let ds = dataset_with(45);
    let expected = vids_in_ptime_order(&ds);
    let server = start(
        MockServer::builder()
            .dataset(ds.clone())
            .ignore_page_size(true),
    );
    let client: S = connect(demo_config(&server));
    let q = GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(100)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(walk_ok(&client, &q), expected);
    assert_eq!(api_requests(&server).len(), 3);

    let honours = start(MockServer::builder().dataset(ds));
    let client: S = connect(demo_config(&honours));
    assert_eq!(walk_ok(&client, &q), expected);
    assert_eq!(api_requests(&honours).len(), 1);
}

/// A transient fault mid-walk neither skips nor repeats a page.
pub fn pagination_survives_a_transient_fault<S: Subject>() {
    let ds = dataset_with(100);
    let expected = vids_in_ptime_order(&ds);
    let server = start(
        MockServer::builder()
            .dataset(ds)
            .fault(FaultRule::on_requests(Fault::QueryFailed, [3]))
            .fault(FaultRule::on_requests(Fault::DropConnection, [5])),
    );
    let client: S = connect(demo_config(&server));
    assert_eq!(walk_ok(&client, &ptime_asc()), expected);
}

/// A page that keeps failing is reported, and the walk ends there.
pub fn pagination_reports_a_failed_page<S: Subject>() {
    let ds = dataset_with(60);
    let expected = vids_in_ptime_order(&ds);
    let server = start(
        MockServer::builder()
            .dataset(ds)
            .fault(FaultRule::on_requests(Fault::QueryFailed, 2..=20)),
    );
    let client: S = connect(demo_config(&server));
    let results = client.walk(&ptime_asc());
    let (oks, errs): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    let vids: Vec<String> = oks
        .into_iter()
        .filter_map(Result::ok)
        .map(|v| v.vid().to_owned())
        .collect();
    assert_eq!(vids, expected[..20], "only page 1 is yielded");
    assert_eq!(errs.len(), 1, "exactly one error, then the walk ends");
    assert!(matches!(errs[0], Err(Error::QueryFailed)), "{:?}", errs[0]);
}

fn by_ten_ptime_asc() -> GetByUploader {
    GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(10)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Pages answered out of order (two early ones 300 ms late) are still
/// yielded in server order, each page requested exactly once.
pub fn walks_yield_pages_in_order_however_they_are_answered<S: Subject>() {
    let ds = dataset_with(233);
    let expected = vids_in_ptime_order(&ds);
    let server = start(
        MockServer::builder()
            .dataset(ds)
            .fault(FaultRule::on_requests(
                Fault::Latency(Duration::from_millis(300)),
                [2, 3],
            )),
    );
    let client: S = connect(demo_config(&server));
    assert_eq!(
        walk_ok(&client, &by_ten_ptime_asc()),
        expected,
        "server order"
    );
    // The mock logs a request when it answers it.
    let mut answered: Vec<u32> = api_requests(&server)
        .iter()
        .map(|r| r.param("page").and_then(|p| p.parse().ok()).unwrap_or(1))
        .collect();
    if client.fetch_ahead() > 1 {
        assert!(
            !answered.is_sorted(),
            "answers came in page order, nothing to reorder: {answered:?}"
        );
    }
    answered.sort_unstable();
    assert_eq!(
        answered,
        (1..=24).collect::<Vec<_>>(),
        "each page exactly once"
    );
}

/// With every answer 300 ms late, a walk of 9 pages takes one round for
/// page 1, then one round per `fetch_ahead` pages: concurrent, but never
/// more than the window.
pub fn walks_overlap_requests_within_the_fetch_ahead_window<S: Subject>() {
    let latency = Duration::from_millis(300);
    let server = start(
        MockServer::builder()
            .dataset(dataset_with(90))
            .fault(FaultRule::always(Fault::Latency(latency))),
    );
    let client: S = connect(demo_config(&server));
    let n = client.fetch_ahead();
    let rounds = 1 + 8usize.div_ceil(n) as u32;
    let started = std::time::Instant::now();
    assert_eq!(walk_ok(&client, &by_ten_ptime_asc()).len(), 90);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= latency * rounds - Duration::from_millis(20),
        "more than {n} in flight: {elapsed:?}"
    );
    assert!(
        elapsed < latency * rounds + Duration::from_millis(1_100),
        "requests did not overlap as {n} in flight should: {elapsed:?}"
    );
}

/// A walk ended after 25 of 100 videos (in page 3) has requested at most
/// `fetch_ahead` pages past page 2, although a slow answer lets later
/// pages arrive early and wait (held pages count against the window),
/// and sends nothing once it is dropped (else the count would pass the
/// bound).
pub fn ending_a_walk_early_stops_requests_within_the_window<S: Subject>() {
    let server = start(MockServer::builder().dataset(dataset_with(100)).fault(
        FaultRule::on_requests(Fault::Latency(Duration::from_millis(300)), [2]),
    ));
    let client: S = connect(demo_config(&server));
    let n = client.fetch_ahead();
    let first = client.walk_first(&by_ten_ptime_asc(), 25);
    assert_eq!(first.len(), 25);
    assert!(first.iter().all(Result::is_ok), "{first:?}");
    // The mock logs a request once it has answered it, and requests sent
    // before the walk ended may still be answering (slowly, on a busy
    // machine): wait for the log to settle. A walk that went on fetching
    // would not stay under the bound.
    let mut seen = api_requests(&server).len();
    for _ in 0..25 {
        std::thread::sleep(Duration::from_millis(200));
        let now = api_requests(&server).len();
        if now == seen {
            break;
        }
        seen = now;
    }
    assert!(
        seen <= 2 + n,
        "pages 1-2 consumed, page 3 and at most {} after it: {seen} requests",
        n - 1
    );
}
