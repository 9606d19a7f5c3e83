//! `polyv-mock`: run the Polyv mock API server on 127.0.0.1.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, Fault, FaultRule, MockServer, RateLimit};

/// A Polyv-compatible API server on 127.0.0.1, for offline tests.
#[derive(Debug, Parser)]
#[command(name = "polyv-mock", version, about)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one; the URL is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Number of generated videos.
    #[arg(long, default_value_t = 500)]
    videos: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// Inject `--fault` into this fraction (0.0-1.0) of requests, chosen from `--fault-seed`.
    #[arg(long, value_name = "RATE")]
    fault_rate: Option<f64>,
    /// Inject `--fault` on these 1-based request numbers (comma-separated).
    #[arg(long, value_name = "N,N,...", value_delimiter = ',')]
    fault_on: Vec<u64>,
    /// Which fault `--fault-rate` / `--fault-on` inject.
    #[arg(long, value_enum, default_value_t = FaultKind::QueryFailed)]
    fault: FaultKind,
    /// Seed for `--fault-rate`.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
    /// `Retry-After` seconds for `--fault too-many-requests`.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    /// Server clock = real clock + this offset (affects `Date` and the ptime check).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Enforce Polyv's documented limit: 1500 requests / 10 s per IP, then block for 5 minutes (HTTP 403).
    #[arg(long)]
    rate_limit: bool,
    /// Override the rate limit's request count (implies --rate-limit).
    #[arg(long, value_name = "N")]
    rate_limit_max: Option<u32>,
    /// Override the rate limit's window in ms (implies --rate-limit).
    #[arg(long, value_name = "MS")]
    rate_limit_window_ms: Option<u64>,
    /// Override the rate limit's block time in ms (implies --rate-limit).
    #[arg(long, value_name = "MS")]
    rate_limit_block_ms: Option<u64>,
    /// Ignore the `pageSize` parameter (always 20 per page).
    #[arg(long)]
    ignore_page_size: bool,
    /// Close each connection after its first answer without `Connection: close`,
    /// as load balancers close idle kept-alive connections.
    #[arg(long)]
    silent_close: bool,
    /// Serve loosely typed JSON (numbers as strings, nulls, unknown fields), as Polyv's backend may.
    #[arg(long)]
    loose_types: bool,
    /// Lifetime of the upload credentials `init` and `token` hand out (`validityTime`), seconds.
    #[arg(long, default_value_t = polyv_mock::DEFAULT_VALIDITY_SECS)]
    upload_validity_secs: u64,
    /// Keep only the length and ETag of uploaded parts, not their bytes.
    #[arg(long)]
    drop_part_bytes: bool,
    /// Videos uploaded (or, with --fault delete, deleted) by each --fault upload/delete.
    #[arg(long, default_value_t = 5)]
    change_count: usize,
    /// Do not print a line per request.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FaultKind {
    QueryFailed,
    TooManyRequests,
    BadGateway,
    TruncatedJson,
    DropConnection,
    Latency,
    UnreadableRecord,
    Upload,
    Delete,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let fault = match args.fault {
        FaultKind::QueryFailed => Fault::QueryFailed,
        FaultKind::TooManyRequests => Fault::TooManyRequests {
            retry_after_secs: args.retry_after_secs,
        },
        FaultKind::BadGateway => Fault::BadGateway,
        FaultKind::TruncatedJson => Fault::TruncatedJson,
        FaultKind::DropConnection => Fault::DropConnection,
        FaultKind::Latency => {
            Fault::Latency(Duration::from_millis(args.latency_ms.unwrap_or(1000)))
        }
        FaultKind::UnreadableRecord => Fault::UnreadableRecord,
        FaultKind::Upload => Fault::Upload {
            count: args.change_count,
        },
        FaultKind::Delete => Fault::Delete {
            count: args.change_count,
        },
    };
    let mut b = MockServer::builder()
        .port(args.port)
        .videos(args.videos)
        .seed(args.seed)
        .clock_offset_ms(args.clock_offset_ms)
        .ignore_page_size(args.ignore_page_size)
        .silent_close(args.silent_close)
        .loose_types(args.loose_types)
        .upload_validity_secs(args.upload_validity_secs)
        .keep_part_bytes(!args.drop_part_bytes)
        .log_requests(!args.quiet);
    if !args.fault_on.is_empty() {
        b = b.fault(FaultRule::on_requests(
            fault.clone(),
            args.fault_on.iter().copied(),
        ));
    }
    if let Some(rate) = args.fault_rate {
        b = b.fault(FaultRule::at_rate(fault.clone(), rate, args.fault_seed));
    }
    if let Some(ms) = args.latency_ms {
        // Plain latency on every request that no other rule claimed.
        b = b.fault(FaultRule::always(Fault::Latency(Duration::from_millis(ms))));
    }
    if args.rate_limit
        || args.rate_limit_max.is_some()
        || args.rate_limit_window_ms.is_some()
        || args.rate_limit_block_ms.is_some()
    {
        let mut rl = RateLimit::polyv_default();
        if let Some(n) = args.rate_limit_max {
            rl.max_requests = n;
        }
        if let Some(ms) = args.rate_limit_window_ms {
            rl.window = Duration::from_millis(ms);
        }
        if let Some(ms) = args.rate_limit_block_ms {
            rl.block_for = Duration::from_millis(ms);
        }
        b = b.rate_limit(rl);
    }

    let server = match b.start() {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "polyv-mock: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "polyv-mock listening on {}", server.base_url());
        let _ = writeln!(out, "POLYV_BASE_URL={}", server.base_url());
        let _ = writeln!(out, "POLYV_USER_ID={DEMO_USER_ID}");
        let _ = writeln!(out, "POLYV_SECRET_KEY={DEMO_SECRET_KEY}");
        let _ = writeln!(
            out,
            "endpoint: {}{} ({} videos, seed {}); Ctrl-C to stop",
            server.base_url(),
            polyv_mock::endpoint_path(DEMO_USER_ID),
            server.dataset().videos.len(),
            args.seed
        );
        let _ = out.flush();
    }

    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "polyv-mock: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(wait_for_stop());
    server.shutdown();
    let _ = writeln!(std::io::stdout(), "polyv-mock stopped");
    ExitCode::SUCCESS
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
