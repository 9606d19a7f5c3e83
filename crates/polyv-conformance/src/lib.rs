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

mod endpoints;
mod errors;
mod nothing_lost;
mod pagination;
mod retries;
mod safety;
pub mod stand;
mod upload;

pub use upload::{ProgressHook, UPLOAD_TITLE, UploadDone, UploadRun};

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
    /// Uploads a file with the client's `Client::upload` as `run` says.
    fn upload(&self, run: &UploadRun<'_>) -> Result<UploadDone, Error>;
    /// `Client::fetch_urls`: the number of calls made.
    fn fetch_urls(&self, urls: Vec<String>, cataid: Option<u64>) -> Result<usize, Error>;

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
            calls_that_must_not_run_twice_never_ride_a_stale_connection,
            uploads_during_a_walk_are_reported_and_never_doubled,
            deletions_during_a_walk_are_reported,
            rate_limit_block_is_waited_out,
            play_times_keep_the_callers_order,
            form_posts_and_fixed_subset_signatures_pass_the_mocks_verifier,
            reads_match_the_account,
            writes_show_in_later_reads,
            upload_becomes_one_listed_video,
            upload_resumes_from_a_saved_state,
            upload_resume_goes_by_what_oss_holds,
            upload_survives_connections_closed_under_it,
            upload_cancelled_during_complete_reports_the_end,
            upload_refreshes_a_revoked_access_key,
            fetch_urls_reach_the_mock_in_batches_of_one_hundred,
            upload_refreshes_expired_credentials,
            upload_restarts_after_no_such_upload,
            upload_reports_callback_failures,
            upload_resends_a_dropped_part
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

/// The cases, by topic. Each panics with a message naming what failed.
pub mod cases {
    pub use crate::endpoints::*;
    pub use crate::errors::*;
    pub use crate::nothing_lost::*;
    pub use crate::pagination::*;
    pub use crate::retries::*;
    pub use crate::safety::*;
    pub use crate::upload::{
        fetch_urls_reach_the_mock_in_batches_of_one_hundred, upload_becomes_one_listed_video,
        upload_cancelled_during_complete_reports_the_end, upload_refreshes_a_revoked_access_key,
        upload_refreshes_expired_credentials, upload_reports_callback_failures,
        upload_resends_a_dropped_part, upload_restarts_after_no_such_upload,
        upload_resume_goes_by_what_oss_holds, upload_resumes_from_a_saved_state,
        upload_survives_connections_closed_under_it,
    };
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
