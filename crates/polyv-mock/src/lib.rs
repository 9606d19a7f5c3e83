//! A Polyv-compatible API server on loopback, for offline tests.
//!
//! It serves the 13 VOD v2 endpoints of [`Endpoint`] (get-by-uploader,
//! get-video-msg, play-times, main, del-video, del-videos, video-info,
//! cataJson, addCata, updateCata, deleteCata, changeCata, viewlog) against
//! one seeded, in-memory catalogue that writes change, checks requests in the
//! order Polyv documents (sign present, `ptime`, user, sign, then the
//! endpoint's own checks) with its **own** verifier for each signing shape
//! ([`sign::Shape`]), decodes form bodies, and can
//! inject faults (latency, `query failed.`, 429, 502, truncated JSON, dropped
//! connections), skew its clock and rate-limit per IP. It binds `127.0.0.1` only.
//!
//! It also serves the upload flow ([`Endpoint::UPLOAD`]: `init`, `token`,
//! URL fetch) and, on the same port, an OSS side (multipart Initiate,
//! UploadPart, Complete with Polyv's callback, ListParts, Abort) that checks
//! OSS signature V1 and the STS token with its own code and adds the video
//! on Complete; [`UploadFault`] injects the upload's failures
//! (`docs/mock.md`, "Uploading").
//!
//! ```no_run
//! use polyv_mock::{Fault, FaultRule, MockServer, DEMO_SECRET_KEY, DEMO_USER_ID};
//!
//! let server = MockServer::builder()
//!     .videos(100)
//!     .fault(FaultRule::on_requests(Fault::QueryFailed, [1]))
//!     .start()?;
//! let base = server.base_url(); // "http://127.0.0.1:PORT"
//! // ... point the client at `base` with DEMO_USER_ID / DEMO_SECRET_KEY ...
//! assert!(server.requests().len() <= 1);
//! # Ok::<(), std::io::Error>(())
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod conn;
mod data;
mod derive;
mod endpoint;
mod fault;
mod handlers;
mod index;
mod log;
pub mod messages;
mod oss;
mod server;
pub mod sign;
mod upload;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use data::{
    Account, BASE_PTIME, Category, DEMO_CHILD_CATAID, DEMO_DEFAULT_CATAID, DEMO_ENGLISH_CATAID,
    DEMO_EVENTS_CATAID, DEMO_GRANDCHILD_CATAID, DEMO_LEAF_CATAID, DEMO_PLUS_EMAIL,
    DEMO_ROOT_CATAID, DEMO_SECRET_KEY, DEMO_SUB_ACCOUNTS, DEMO_USER_ID, DEMO_WRAP_CATAID, Dataset,
    STATUSES, Video,
};
pub use derive::{
    CategoryNode, ROOT_CATAID, ROOT_NAME, TOTAL_FLOW, TOTAL_SPACE, Usage, ViewLogRow,
};
pub use endpoint::Endpoint;
pub use fault::{Fault, FaultRule, RateLimit};
pub use log::LoggedRequest;
pub use upload::{DEFAULT_VALIDITY_SECS, UPLOAD_BUCKET, UPLOAD_DIR_ROOT, UploadFault};

use server::{Config, Shared};

/// The API path for a user id: `/v2/video/{userid}/get-by-uploader`.
pub fn endpoint_path(user_id: &str) -> String {
    format!("/v2/video/{user_id}/get-by-uploader")
}

/// A running mock server. It owns a background thread with its own tokio
/// runtime, so it works from plain `#[test]` and `#[tokio::test]` alike.
/// Dropping it shuts the server down.
#[derive(Debug)]
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Configures a [`MockServer`]; finish with [`MockBuilder::start`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MockBuilder {
    port: u16,
    videos: usize,
    seed: u64,
    dataset: Option<Dataset>,
    ignore_page_size: bool,
    clock_offset_ms: i64,
    faults: Vec<FaultRule>,
    rate_limit: Option<RateLimit>,
    log_requests: bool,
    max_logged_requests: usize,
    worker_threads: usize,
    silent_close: bool,
    loose_types: bool,
    upload: server::UploadOptions,
}

impl Default for MockBuilder {
    fn default() -> Self {
        MockBuilder {
            port: 0,
            videos: 500,
            seed: 1,
            dataset: None,
            ignore_page_size: false,
            clock_offset_ms: 0,
            faults: Vec::new(),
            rate_limit: None,
            log_requests: false,
            max_logged_requests: 100_000,
            worker_threads: 2,
            silent_close: false,
            loose_types: false,
            upload: server::UploadOptions {
                validity_secs: upload::DEFAULT_VALIDITY_SECS,
                keep_part_bytes: true,
                max_part_bytes: 64 << 20,
                faults: Vec::new(),
            },
        }
    }
}

impl MockBuilder {
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Number of videos of the generated data set (default 500).
    pub fn videos(mut self, n: usize) -> Self {
        self.videos = n;
        self
    }

    /// Seed of the generated data set (default 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Serve this data set instead of a generated one (`videos` and `seed` are then ignored).
    pub fn dataset(mut self, dataset: Dataset) -> Self {
        self.dataset = Some(dataset);
        self
    }

    /// Act as a server that ignores the `pageSize` parameter: every page has 20 items
    /// (the parameter is still signed, but never validated).
    pub fn ignore_page_size(mut self, yes: bool) -> Self {
        self.ignore_page_size = yes;
        self
    }

    /// Server clock = real clock + `offset_ms`. Both the `Date` header and the `ptime` check follow it.
    pub fn clock_offset_ms(mut self, offset_ms: i64) -> Self {
        self.clock_offset_ms = offset_ms;
        self
    }

    /// Adds a fault rule (rules are tried in the order added; the first match wins).
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Enables a per-IP rate limit (off by default); see [`RateLimit::polyv_default`].
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Print one line per request to stdout (off by default; the binary turns it on).
    pub fn log_requests(mut self, yes: bool) -> Self {
        self.log_requests = yes;
        self
    }

    /// How many requests the in-memory log keeps, the most recent ones (default 100 000; 0 keeps none).
    pub fn max_logged_requests(mut self, n: usize) -> Self {
        self.max_logged_requests = n;
        self
    }

    /// Closes each connection after its first answer, without saying so (no
    /// `Connection: close`), as load balancers close idle kept-alive
    /// connections: a client that reuses one sees it closed before any byte
    /// of a response, and the request never reaches the server (it is not
    /// logged). Default off.
    pub fn silent_close(mut self, yes: bool) -> Self {
        self.silent_close = yes;
        self
    }

    /// Serves pages the way a loosely typed backend does (the spec's A.8):
    /// the code and counts as strings, numbers as numeric strings or
    /// integral floats, the status as a number, empty text as `null`,
    /// `contents: null` for an empty page, and an unknown field, mixed by
    /// record position. The values mean the same, so a lenient client reads
    /// the same videos. Default off.
    pub fn loose_types(mut self, yes: bool) -> Self {
        self.loose_types = yes;
        self
    }

    /// Lifetime of the STS credentials `init` and `token` hand out, in
    /// seconds (`validityTime`; default [`DEFAULT_VALIDITY_SECS`]). The OSS
    /// side refuses them with `403 SecurityTokenExpired` once the mock's
    /// clock passes it.
    pub fn upload_validity_secs(mut self, secs: u64) -> Self {
        self.upload.validity_secs = secs;
        self
    }

    /// Keep the bytes of uploaded parts (default on; [`MockServer::object`]
    /// reads them back). Off, only each part's length and ETag are kept, so
    /// a large upload costs the mock no memory.
    pub fn keep_part_bytes(mut self, yes: bool) -> Self {
        self.upload.keep_part_bytes = yes;
        self
    }

    /// The largest OSS request body (an UploadPart) the mock reads, in
    /// bytes (default 64 MiB); a larger one answers `400 EntityTooLarge`.
    pub fn max_part_bytes(mut self, n: usize) -> Self {
        self.upload.max_part_bytes = n;
        self
    }

    /// Arms an upload fault from the start (see [`UploadFault`];
    /// [`MockServer::upload_fault`] arms one on a running server).
    pub fn upload_fault(mut self, fault: UploadFault) -> Self {
        self.upload.faults.push(fault);
        self
    }

    /// Worker threads of the server's runtime (default 2, minimum 1).
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// Binds 127.0.0.1, indexes the catalogue and starts serving in a background thread.
    /// The server accepts connections as soon as this returns.
    pub fn start(self) -> std::io::Result<MockServer> {
        let dataset = match self.dataset {
            Some(d) => d,
            None => Dataset::generate(self.seed, self.videos),
        };
        let std_listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, self.port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads)
            .thread_name("polyv-mock-worker")
            .enable_all()
            .build()?;
        let listener = {
            let _guard = rt.enter();
            conn::MockListener {
                inner: tokio::net::TcpListener::from_std(std_listener)?,
                silent_close: self.silent_close,
            }
        };
        let config = Config {
            ignore_page_size: self.ignore_page_size,
            clock_offset_ms: self.clock_offset_ms,
            faults: self.faults,
            rate_limit: self.rate_limit,
            log_requests: self.log_requests,
            max_logged_requests: self.max_logged_requests,
            loose_types: self.loose_types,
            domain: addr.to_string(),
            upload: self.upload,
        };
        let shared = Arc::new(Shared::new(dataset, config));
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("polyv-mock".to_owned())
            .spawn(move || {
                use axum::serve::ListenerExt as _;
                // `tap_io` lends the connections the `SocketAddr` connect info.
                let listener = listener.tap_io(|_| {});
                rt.block_on(async move {
                    let serve = axum::serve(
                        listener,
                        app.into_make_service_with_connect_info::<SocketAddr>(),
                    );
                    tokio::select! {
                        _ = serve => {}
                        _ = stopped => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })?;
        Ok(MockServer {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl MockServer {
    /// A builder with the defaults (random port, 500 generated videos, seed 1, no faults).
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    /// Starts a server with the defaults.
    pub fn start() -> std::io::Result<MockServer> {
        MockBuilder::default().start()
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The catalogue being served now (a copy: faults such as
    /// [`Fault::Upload`] change it while the server runs).
    pub fn dataset(&self) -> Dataset {
        self.shared.catalogue().dataset.clone()
    }

    /// The video with this vid as it is now (any account).
    pub fn video(&self, vid: &str) -> Option<Video> {
        self.shared
            .catalogue()
            .dataset
            .videos
            .iter()
            .find(|v| v.vid == vid)
            .cloned()
    }

    /// An account's category tree as `cataJson` serves it now (root `1`).
    pub fn category_tree(&self, user_id: &str) -> CategoryNode {
        self.shared.catalogue().dataset.category_tree(user_id)
    }

    /// `(vid, play count)` for each of these vids that is a video now, in
    /// the order given (what `play-times` answers, across accounts).
    pub fn play_times(&self, vids: &[&str]) -> Vec<(String, u64)> {
        let catalogue = self.shared.catalogue();
        vids.iter()
            .filter_map(|vid| catalogue.dataset.videos.iter().find(|v| v.vid == *vid))
            .map(|v| (v.vid.clone(), v.times))
            .collect()
    }

    /// A day's view log of an account as `viewlog` serves it now, before its
    /// filters (`day` as `yyyyMMdd` or `yyyy-MM-dd`). The mock answers `[]`
    /// for a day after its own today (China time); this does not.
    pub fn view_log(&self, user_id: &str, day: &str) -> Vec<ViewLogRow> {
        self.shared.catalogue().dataset.view_log(user_id, day)
    }

    /// An account's space and traffic as `main` serves it now (`date` as
    /// `yyyy-MM-dd`); `None` for an unknown account or a bad date.
    pub fn usage(&self, user_id: &str, date: Option<&str>) -> Option<Usage> {
        self.shared.catalogue().dataset.usage(user_id, date)
    }

    /// The mock's current clock (real time plus the configured offset), ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.shared.now_ms()
    }

    /// The request log, in arrival order (requests still being answered are not in it yet).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.requests()
    }

    /// Empties the request log (request numbering continues).
    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }

    /// Arms an upload fault on the running server (see [`UploadFault`]).
    pub fn upload_fault(&self, fault: UploadFault) {
        server::lock(&self.shared.upload).faults.push(fault);
    }

    /// Expires every STS credential handed out so far: the OSS side answers
    /// `403 SecurityTokenExpired` until the client fetches fresh ones
    /// (`token`, or `init` with `autoid=0`).
    pub fn expire_upload_credentials(&self) {
        server::lock(&self.shared.upload).expire_all(false);
    }

    /// Forgets every multipart upload not yet completed (their parts are
    /// dropped): the next request naming one answers `404 NoSuchUpload`.
    pub fn forget_uploads(&self) {
        server::lock(&self.shared.upload)
            .uploads
            .retain(|_, u| u.completed);
    }

    /// The vids whose upload completed and whose video was added to the
    /// account, in order (each once, whatever the retries).
    pub fn uploaded_videos(&self) -> Vec<String> {
        server::lock(&self.shared.upload).created.clone()
    }

    /// The vids `init` created (`autoid=1`), completed or not, sorted.
    pub fn initiated_vids(&self) -> Vec<String> {
        let mut vids: Vec<String> = server::lock(&self.shared.upload)
            .pending
            .keys()
            .cloned()
            .collect();
        vids.sort();
        vids
    }

    /// How many UploadPart requests of `part_number` in `upload_id` the mock
    /// stored (a dropped part is not counted; a resent one is).
    pub fn parts_received(&self, upload_id: &str, part_number: u32) -> u64 {
        server::lock(&self.shared.upload)
            .parts_received
            .get(&(upload_id.to_owned(), part_number))
            .copied()
            .unwrap_or(0)
    }

    /// Every `(uploadId, partNumber)` stored so far with its count.
    pub fn all_parts_received(&self) -> Vec<((String, u32), u64)> {
        server::lock(&self.shared.upload)
            .parts_received
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The bytes of a completed object (`{dir}{vid}.{ext}`), when part
    /// bytes are kept ([`MockBuilder::keep_part_bytes`]).
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        server::lock(&self.shared.upload).objects.get(key).cloned()
    }

    /// The URLs URL fetch (`grab/upload/multi`) received, in order.
    pub fn grab_urls(&self) -> Vec<String> {
        server::lock(&self.shared.upload).grabbed.clone()
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}
