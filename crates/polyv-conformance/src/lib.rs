//! The behaviour table every polyv-rs transport must pass.
//!
//! Each case starts a [`polyv_mock::MockServer`] on loopback, drives a client
//! through a [`Subject`] adapter, and checks both what the client returned and
//! what the mock saw on the wire (its request log). The table is written once;
//! each transport crate runs it with one line:
//!
//! ```ignore
//! polyv_conformance::conformance_tests!(MyAdapter);
//! ```

use std::io::Write;
use std::time::Duration;

mod nothing_lost;

use polyv_core::{
    Config, Credentials, Endpoint, Error, GetByUploader, Order, Page, Paged, Progress, RateLimit,
    RawCall, RetryPolicy, TransportErrorKind, Video,
};
use polyv_mock::{
    DEMO_PLUS_EMAIL, DEMO_ROOT_CATAID, DEMO_SECRET_KEY, DEMO_SUB_ACCOUNTS, DEMO_USER_ID, Dataset,
    Fault, FaultRule, LoggedRequest, MockBuilder, MockServer,
};

/// A client under test, as the table sees it: any endpoint called, any
/// paged endpoint walked in the adapter's walk mode. Async clients block on a
/// current-thread runtime inside the adapter, so everything they log is
/// emitted on the test's thread. A new endpoint's cases need no new adapter
/// code.
pub trait Subject: Sized {
    /// Builds the client.
    fn connect(config: Config) -> Result<Self, Error>;
    /// Calls any endpoint (`Client::call`).
    fn call<E>(&self, endpoint: &E) -> Result<E::Data, Error>
    where
        E: Endpoint + Sync;
    /// The first `limit` items the client's walker yields over any paged
    /// endpoint (fewer if it ends first; then the walk is dropped), and the
    /// walk's progress at that point.
    fn walk_items<E>(&self, query: E, limit: usize) -> (Vec<Result<E::Item, Error>>, Progress)
    where
        E: Paged + Send + Sync + 'static,
        E::Item: Send + 'static;
    /// The client's `Debug` output.
    fn debug(&self) -> String;
    /// How many page requests a walk keeps in flight (1: one after the other).
    fn fetch_ahead(&self) -> usize;

    /// One page of get-by-uploader.
    fn get_by_uploader(&self, query: &GetByUploader) -> Result<Page<Video>, Error> {
        self.call(query)
    }
    /// The first `items` videos of a get-by-uploader walk.
    fn walk_first(&self, query: &GetByUploader, items: usize) -> Vec<Result<Video, Error>> {
        self.walk_items(query.clone(), items).0
    }
    /// Every video of a get-by-uploader walk.
    fn walk(&self, query: &GetByUploader) -> Vec<Result<Video, Error>> {
        self.walk_first(query, usize::MAX)
    }
    /// Every video of a get-by-uploader walk, and the walk's progress.
    fn walk_with_progress(&self, query: &GetByUploader) -> (Vec<Result<Video, Error>>, Progress) {
        self.walk_items(query.clone(), usize::MAX)
    }
    /// The raw escape hatch.
    fn raw(&self, call: &RawCall) -> Result<serde_json::Value, Error> {
        self.call(call)
    }
}

/// Expands to one `#[test]` per case of the table for the given adapter type;
/// or, given `module: Adapter` pairs, to one module of those tests per
/// adapter (one client walking sequentially and with fetch-ahead, say).
#[macro_export]
macro_rules! conformance_tests {
    ($($module:ident : $adapter:ident),+ $(,)?) => {
        $(
            mod $module {
                $crate::conformance_tests!(super::$adapter);
            }
        )+
    };
    ($subject:ty) => {
        $crate::conformance_tests!(@cases $subject;
            documented_errors_are_typed,
            documented_400s_are_not_retried,
            query_failed_is_retried_then_reported,
            retries_are_signed_afresh,
            timeout_is_retried_then_reported,
            too_many_requests_honours_retry_after,
            bad_gateway_is_retried_then_reported,
            truncated_json_is_retried,
            dropped_connection_is_retried,
            refused_connection_is_a_connect_error,
            clock_ahead_is_corrected,
            clock_behind_is_corrected,
            pagination_boundaries,
            pagination_follows_the_response_page_size,
            walks_ask_for_the_largest_page_by_default,
            pagination_survives_a_transient_fault,
            pagination_reports_a_failed_page,
            walks_yield_pages_in_order_however_they_are_answered,
            walks_overlap_requests_within_the_fetch_ahead_window,
            ending_a_walk_early_stops_requests_within_the_window,
            email_with_plus,
            user_id_with_slash_is_refused_before_any_request,
            secret_absent_from_debug_and_trace_logs,
            attempts_are_traced_alike,
            raw_escape_hatch,
            body_limit,
            client_side_rate_limit,
            loosely_typed_pages_read_as_the_strict_ones,
            an_unreadable_record_costs_only_itself,
            stale_kept_alive_connections_cost_nothing,
            uploads_during_a_walk_are_reported_and_never_doubled,
            deletions_during_a_walk_are_reported,
            rate_limit_block_is_waited_out
        );
    };
    (@cases $subject:ty; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::cases::$case::<$subject>();
            }
        )*
    };
}

/// A configuration for the demo account against this mock: fast retries,
/// short timeouts, no client-side rate limit (each case opts in).
pub fn demo_config(server: &MockServer) -> Config {
    config_for(server, DEMO_USER_ID, DEMO_SECRET_KEY)
}

fn config_for(server: &MockServer, user: &str, secret: &str) -> Config {
    Config::new(Credentials::new(user, secret).unwrap_or_else(|e| panic!("credentials: {e}")))
        .with_base_url(&server.base_url())
        .unwrap_or_else(|e| panic!("base url: {e}"))
        .with_timeout(Duration::from_secs(5))
        .with_connect_timeout(Duration::from_secs(2))
        .with_rate_limit(None)
        .with_retry(
            RetryPolicy::default()
                .with_retries(3)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(50)),
        )
}

fn start(builder: MockBuilder) -> MockServer {
    builder
        .start()
        .unwrap_or_else(|e| panic!("mock server: {e}"))
}

fn connect<S: Subject>(config: Config) -> S {
    S::connect(config).unwrap_or_else(|e| panic!("client: {e}"))
}

/// The demo account with `n` videos from one sub-account, ptime strictly increasing.
fn dataset_with(n: usize) -> Dataset {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, DEMO_SUB_ACCOUNTS[0], DEMO_ROOT_CATAID, n);
    ds
}

fn vids_in_ptime_order(ds: &Dataset) -> Vec<String> {
    let mut videos: Vec<_> = ds.videos.iter().collect();
    videos.sort_by(|a, b| a.ptime.cmp(&b.ptime).then(a.vid.cmp(&b.vid)));
    videos.into_iter().map(|v| v.vid.clone()).collect()
}

/// Oldest first, 20 a page (the server's default, stated: a walk would
/// otherwise ask for 1,000), so walks span several pages.
fn ptime_asc() -> GetByUploader {
    GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(20)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn api_requests(server: &MockServer) -> Vec<LoggedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/get-by-uploader"))
        .collect()
}

/// The cases. Each panics with a message naming what failed.
pub mod cases {
    use super::*;

    pub use crate::nothing_lost::*;

    /// Every documented refusal comes back as its typed variant.
    pub fn documented_errors_are_typed<S: Subject>() {
        let server = start(MockServer::builder().videos(50));
        let ok = |r: Result<Page<Video>, Error>| r.unwrap_or_else(|e| panic!("{e}"));
        let client: S = connect(demo_config(&server));
        ok(client.get_by_uploader(&GetByUploader::new()));

        let stranger: S = connect(config_for(&server, "nobody00", DEMO_SECRET_KEY));
        let err = stranger.get_by_uploader(&GetByUploader::new()).unwrap_err();
        assert!(matches!(err, Error::UserNotFound), "{err:?}");

        let wrong_key: S = connect(config_for(&server, DEMO_USER_ID, "not-the-key"));
        let err = wrong_key
            .get_by_uploader(&GetByUploader::new())
            .unwrap_err();
        assert!(matches!(err, Error::SignNotRight), "{err:?}");

        let q = GetByUploader::builder()
            .category(424_242)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = client.get_by_uploader(&q).unwrap_err();
        assert!(matches!(err, Error::CategoryNotFound), "{err:?}");

        let q = GetByUploader::builder()
            .email("nobody@example.com")
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = client.get_by_uploader(&q).unwrap_err();
        assert!(matches!(err, Error::ChildUserNotFound), "{err:?}");

        for (offset, expect_too_old) in [(600_000, true), (-600_000, false)] {
            let skewed = start(MockServer::builder().videos(5).clock_offset_ms(offset));
            let client: S = connect(demo_config(&skewed).with_clock_skew_correction(false));
            let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
            if expect_too_old {
                assert!(matches!(err, Error::PtimeTooOld), "{err:?}");
            } else {
                assert!(matches!(err, Error::PtimeIllegal), "{err:?}");
            }
            assert_eq!(
                api_requests(&skewed).len(),
                1,
                "ptime errors without correction are final"
            );
        }
    }

    /// The documented 400s return at once: one request each.
    pub fn documented_400s_are_not_retried<S: Subject>() {
        let server = start(MockServer::builder().videos(5));
        let wrong_key: S = connect(config_for(&server, DEMO_USER_ID, "not-the-key"));
        assert!(wrong_key.get_by_uploader(&GetByUploader::new()).is_err());
        assert_eq!(api_requests(&server).len(), 1);
    }

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
        let raw =
            RawCall::get("/v2/video/{userid}/get-by-uploader").unwrap_or_else(|e| panic!("{e}"));
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
}

/// Runs `f` with a trace-level subscriber on this thread and returns what it logged.
pub fn capture_logs(f: impl FnOnce()) -> String {
    thread_local! {
        static CAPTURED: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
    }
    /// Writes into this thread's capture, if one is running; else nowhere.
    struct ThreadBuffer;
    impl Write for ThreadBuffer {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            CAPTURED.with(|captured| {
                if let Some(buffer) = captured.borrow_mut().as_mut() {
                    buffer.extend_from_slice(data);
                }
            });
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // One global subscriber for the whole test binary: with per-test scoped
    // subscribers, a callsite first reached on another thread could be
    // cached as disabled and events went missing at random.
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| ThreadBuffer)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
    CAPTURED.with(|captured| *captured.borrow_mut() = Some(Vec::new()));
    f();
    let bytes = CAPTURED
        .with(|captured| captured.borrow_mut().take())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
