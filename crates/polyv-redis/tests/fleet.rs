//! The fleet: 4 processes × 4 threads against one polyv-mock whose rate limit
//! is Polyv's scaled down (150 requests per 1 s window per IP, then a 2 s
//! block). Each process alone paces itself under the limit. Without the
//! shared limiter (the control) the mock blocks the fleet; with it, the mock
//! blocks no one and the fleet runs at ≥ 90% of the limit. Both are judged
//! from the mock's request log, in the mock's clock.
//!
//! The worker processes are this test binary, run again with
//! `POLYV_REDIS_FLEET_WORKER` set.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::RedisServer;
use polyv_blocking::{Client, Config, Credentials, GetByUploader, RateLimit, RetryPolicy};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, LoggedRequest, MockServer};
use polyv_redis::{RedisLimiter, Unavailable};

const WORKER_ENV: &str = "POLYV_REDIS_FLEET_WORKER";
const PROCESSES: usize = 4;
const THREADS: usize = 4;
/// The mock's limit: 150 requests in any 1 s window.
const MOCK_MAX: u32 = 150;
const MOCK_WINDOW: Duration = Duration::from_secs(1);
const MOCK_BLOCK: Duration = Duration::from_secs(2);

/// What every worker is configured with, alone right: 138/s (92% of the
/// mock's limit) without bursts, and the mock's block time.
fn fleet_limit() -> RateLimit {
    RateLimit::new(138, Duration::from_secs(1))
        .with_burst(1)
        .with_block_for(MOCK_BLOCK)
}

#[test]
fn fleet_shares_one_limit() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        worker(&spec);
        return;
    }
    let redis = RedisServer::start();

    // The control: each process paces itself in process.
    let control = run_fleet(None, Duration::from_secs(1));
    let blocked = control.iter().filter(|r| r.status == 403).count();
    assert!(
        blocked > 0,
        "without the shared limiter the mock should have blocked the fleet ({} requests)",
        control.len()
    );

    // The same fleet sharing one limit through Redis.
    let shared = run_fleet(Some(&redis.url()), Duration::from_secs(5));
    let refused: Vec<&LoggedRequest> = shared.iter().filter(|r| r.status != 200).collect();
    assert!(
        refused.is_empty(),
        "with the shared limiter no request may be refused: {:?}",
        refused.first()
    );
    let windows = per_window(&shared);
    assert!(windows.len() >= 3, "too few full windows: {windows:?}");
    let mean = windows.iter().sum::<usize>() as f64 / windows.len() as f64;
    let ratio = mean / f64::from(MOCK_MAX);
    // One line for `cargo xtask bench`'s fleet row.
    eprintln!(
        "fleet-result shared_ratio={ratio:.3} shared_windows={windows:?} control_accepted_ratio={:.3} control_blocked={blocked} control_requests={}",
        accepted_ratio(&control),
        control.len()
    );
    assert!(
        ratio >= 0.9,
        "fleet throughput {mean:.1}/s is under 90% of {MOCK_MAX}/s: {windows:?}"
    );
}

/// Requests answered 200 per second over the log's span, ÷ the mock's limit.
fn accepted_ratio(log: &[LoggedRequest]) -> f64 {
    let first = log.iter().map(|r| r.server_time_ms).min().unwrap_or(0);
    let last = log.iter().map(|r| r.server_time_ms).max().unwrap_or(0);
    let ok = log.iter().filter(|r| r.status == 200).count() as f64;
    let span_s = ((last - first).max(1) as f64) / 1000.0;
    ok / span_s / f64::from(MOCK_MAX)
}

/// Starts a fresh rate-limited mock, runs the fleet against it for about
/// `duration`, and returns the mock's log.
fn run_fleet(redis_url: Option<&str>, duration: Duration) -> Vec<LoggedRequest> {
    let mock = MockServer::builder()
        .videos(50)
        .rate_limit(polyv_mock::RateLimit {
            max_requests: MOCK_MAX,
            window: MOCK_WINDOW,
            block_for: MOCK_BLOCK,
        })
        .start()
        .expect("mock");
    let exe = std::env::current_exe().expect("the test binary");
    let spec = format!(
        "{}|{}|{}",
        mock.base_url(),
        redis_url.unwrap_or("-"),
        duration.as_millis()
    );
    let mut children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "fleet_shares_one_limit", "--test-threads", "1"])
                .env(WORKER_ENV, &spec)
                .stdout(Stdio::null())
                .spawn()
                .expect("a worker process")
        })
        .collect();
    for child in &mut children {
        let status = child.wait().expect("worker");
        assert!(status.success(), "a worker failed: {status}");
    }
    let log = mock.requests();
    assert!(!log.is_empty(), "the workers sent nothing");
    log
}

/// Requests per whole 1 s window of the mock's clock, leaving out the first
/// and the last second (processes starting and stopping).
fn per_window(log: &[LoggedRequest]) -> Vec<usize> {
    let first = log.iter().map(|r| r.server_time_ms).min().unwrap_or(0);
    let last = log.iter().map(|r| r.server_time_ms).max().unwrap_or(0);
    let window = MOCK_WINDOW.as_millis() as i64;
    let mut counts = Vec::new();
    let mut start = first + window;
    while start + window <= last - window {
        counts.push(
            log.iter()
                .filter(|r| (start..start + window).contains(&r.server_time_ms))
                .count(),
        );
        start += window;
    }
    counts
}

/// One worker process: `THREADS` threads sharing one client, requesting
/// one-video pages until the time is up. Errors (the control's blocks) are
/// the mock's to log.
fn worker(spec: &str) {
    let mut parts = spec.split('|');
    let (Some(base_url), Some(redis_url), Some(millis)) =
        (parts.next(), parts.next(), parts.next())
    else {
        panic!("bad worker spec {spec:?}");
    };
    let duration = Duration::from_millis(millis.parse().expect("duration"));
    let config = Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).expect("credentials"))
        .with_base_url(base_url)
        .expect("base url")
        .with_rate_limit(Some(fleet_limit()))
        .with_retry(RetryPolicy::never());
    let mut client = Client::new(config).expect("client");
    if redis_url != "-" {
        let limiter = RedisLimiter::new(redis_url)
            .expect("redis url")
            .with_key_prefix("fleet-test")
            .with_limit(fleet_limit())
            .with_unavailable(Unavailable::Strict);
        client = client.with_rate_limiter(Arc::new(limiter));
    }
    let query = GetByUploader::builder()
        .page_size(1)
        .build()
        .expect("query");
    let deadline = Instant::now() + duration;
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let client = client.clone();
            let query = query.clone();
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    match client.get_by_uploader(&query) {
                        Ok(_) => {}
                        Err(err) if err.is_rate_limit_block() => {}
                        Err(err) => panic!("worker: {err}"),
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("worker thread");
    }
}
