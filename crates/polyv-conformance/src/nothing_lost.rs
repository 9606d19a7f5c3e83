//! Cases of "nothing lost": loosely typed answers, unreadable records, stale
//! kept-alive connections and listings that change during a walk.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use polyv_core::{CallEvent, Error, GetByUploader, Order, RetryPolicy, TotalChange};
use polyv_mock::{Fault, FaultRule, MockServer};

use crate::{
    Subject, api_requests, connect, dataset_with, demo_config, start, vids_in_ptime_order,
};

fn by_twenty(order: Option<Order>) -> GetByUploader {
    let mut builder = GetByUploader::builder().page_size(20);
    if let Some(order) = order {
        builder = builder.order(order);
    }
    builder.build().unwrap_or_else(|e| panic!("{e}"))
}

/// A loosely typed server (numbers as strings and floats, nulls, unknown
/// fields, `contents: null`) yields the very videos a strict one does.
pub fn loosely_typed_pages_read_as_the_strict_ones<S: Subject>() {
    let strict = start(MockServer::builder().videos(120).seed(7));
    let loose = start(MockServer::builder().videos(120).seed(7).loose_types(true));
    let query = by_twenty(None);
    let from = |server: &MockServer| -> Vec<_> {
        let client: S = connect(demo_config(server));
        client
            .walk(&query)
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("walk failed: {e}")))
            .collect()
    };
    let expected = from(&strict);
    assert!(!expected.is_empty());
    assert_eq!(from(&loose), expected);
    let client: S = connect(demo_config(&loose));
    let page = client
        .get_by_uploader(&query)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.items.len(), 20);
    assert!(page.unreadable.is_empty());

    let empty = start(
        MockServer::builder()
            .dataset(dataset_with(0))
            .loose_types(true),
    );
    let client: S = connect(demo_config(&empty));
    assert!(
        client.walk(&query).is_empty(),
        "contents: null is an empty page"
    );
}

/// One record that cannot be read costs only itself: it comes back as a
/// record error in its place, naming it, and the walk goes on.
pub fn an_unreadable_record_costs_only_itself<S: Subject>() {
    let ds = dataset_with(60);
    let expected = vids_in_ptime_order(&ds);
    let server = start(
        MockServer::builder()
            .dataset(ds)
            .fault(FaultRule::on_requests(Fault::UnreadableRecord, [2])),
    );
    let client: S = connect(demo_config(&server));
    let walked = client.walk(&by_twenty(Some(Order::PtimeAsc)));
    assert_eq!(walked.len(), 60, "every record is accounted for");
    // With fetch-ahead, the second request may be page 2 or page 3.
    let bad: Vec<usize> = (0..60).filter(|&i| walked[i].is_err()).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    let at = bad[0];
    assert!(
        at == 30 || at == 50,
        "the middle record of page 2 or 3: {at}"
    );
    match &walked[at] {
        Err(Error::UnreadableRecord(record)) => {
            assert_eq!(record.vid.as_deref(), Some(expected[at].as_str()));
            assert_eq!(record.path, "data.contents[10].times");
            assert_eq!(record.index, 10);
            assert!(record.raw.contains(r#""times":{}"#), "{}", record.raw);
            assert!(record.raw.contains(&expected[at]), "{}", record.raw);
        }
        other => panic!("{other:?}"),
    }
    for (i, item) in walked.iter().enumerate().filter(|&(i, _)| i != at) {
        let video = item.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(video.vid(), expected[i]);
    }
    assert_eq!(
        api_requests(&server).len(),
        3,
        "a record error is not retried"
    );

    // A single page delivers its readable records.
    let server = start(
        MockServer::builder()
            .dataset(dataset_with(20))
            .fault(FaultRule::always(Fault::UnreadableRecord)),
    );
    let client: S = connect(demo_config(&server));
    let page = client
        .get_by_uploader(&by_twenty(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((page.items.len(), page.unreadable.len()), (19, 1));
}

/// A server that closes every kept-alive connection after one answer,
/// without saying so: with no retries at all, walks still succeed, because
/// a request that failed on a stale pooled connection is resent at once on
/// a fresh one. 20 walks of 30 pages, each page requested once.
pub fn stale_kept_alive_connections_cost_nothing<S: Subject>() {
    let ds = dataset_with(600);
    let expected = vids_in_ptime_order(&ds);
    let server = start(MockServer::builder().dataset(ds).silent_close(true));
    let resends = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&resends);
    let config = demo_config(&server)
        .with_retry(RetryPolicy::never())
        .with_observer(move |event| {
            if matches!(event, CallEvent::ResendingOnFreshConnection { .. }) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
    let client: S = connect(config);
    let query = by_twenty(Some(Order::PtimeAsc));
    for run in 1..=20 {
        server.clear_requests();
        let walked: Vec<String> = client
            .walk(&query)
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|e| panic!("run {run}: {e}"))
                    .vid()
                    .to_owned()
            })
            .collect();
        assert_eq!(walked, expected, "run {run}");
        // The stale attempts never reached the server; each page arrived once.
        assert_eq!(api_requests(&server).len(), 30, "run {run}");
    }
    // The server did close connections under the client, every run.
    assert!(resends.load(Ordering::Relaxed) >= 20, "{resends:?}");
}

/// A call that must not run twice (here addCata) never rides a kept-alive
/// connection the server may have closed: it goes on a new one, so it
/// neither fails for a stale connection nor arrives twice. Each round reads
/// first (leaving a pooled connection the server then drops), then adds.
pub fn calls_that_must_not_run_twice_never_ride_a_stale_connection<S: Subject>() {
    let server = start(MockServer::builder().videos(20).silent_close(true));
    let client: S = connect(demo_config(&server).with_retry(RetryPolicy::never()));
    let query = GetByUploader::new();
    for round in 1..=10 {
        client
            .call(&query)
            .unwrap_or_else(|e| panic!("round {round}, the read: {e}"));
        let add = polyv_core::categories::AddCategory::new(format!("round {round}"), 1)
            .unwrap_or_else(|e| panic!("{e}"));
        client
            .call(&add)
            .unwrap_or_else(|e| panic!("round {round}, addCata on a stale connection: {e}"));
    }
    let adds = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/addCata"))
        .count();
    assert_eq!(adds, 10, "each addCata arrived once");
}

fn unique(walked: &[Result<polyv_core::Video, Error>]) -> HashSet<String> {
    let mut seen = HashSet::new();
    for item in walked {
        let video = item.as_ref().unwrap_or_else(|e| panic!("walk failed: {e}"));
        assert!(
            seen.insert(video.vid().to_owned()),
            "{} delivered twice",
            video.vid()
        );
    }
    seen
}

/// Uploads landing at the front during a walk (the default newest-first
/// order) shift every later page: no video is delivered twice, none of the
/// listing's videos is lost, and the walk reports the change.
pub fn uploads_during_a_walk_are_reported_and_never_doubled<S: Subject>() {
    let ds = dataset_with(100);
    let all: HashSet<String> = ds.videos.iter().map(|v| v.vid.clone()).collect();
    let server = start(
        MockServer::builder()
            .dataset(ds)
            .fault(FaultRule::on_requests(Fault::Upload { count: 5 }, [2])),
    );
    let client: S = connect(demo_config(&server));
    let (walked, progress) = client.walk_with_progress(&by_twenty(None));
    let seen = unique(&walked);
    assert!(seen.is_superset(&all), "a video of the listing was lost");
    assert_eq!(
        progress
            .total_changed
            .map(|c: TotalChange| (c.before, c.after)),
        Some((100, 105))
    );
    assert!(progress.duplicates_dropped > 0, "{progress:?}");
}

/// Deletions during a walk shift later pages forward: what is delivered is
/// never doubled, and the walk says the listing changed (the skips it may
/// have caused cannot be seen from the pages).
pub fn deletions_during_a_walk_are_reported<S: Subject>() {
    let server = start(
        MockServer::builder()
            .dataset(dataset_with(100))
            .fault(FaultRule::on_requests(Fault::Delete { count: 5 }, [2])),
    );
    let client: S = connect(demo_config(&server));
    let (walked, progress) = client.walk_with_progress(&by_twenty(None));
    unique(&walked);
    assert_eq!(
        progress.total_changed.map(|c| (c.before, c.after)),
        Some((100, 95))
    );
}
