//! `polyv`: the command-line client for the Polyv (保利威) video cloud API.
//!
//! A thin shell over `polyv-blocking`: the SDK signs, sends, retries and
//! parses; this binary parses flags, renders results and picks the exit
//! status. See `docs/cli.md` for the reference.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// The clap doc comments are the `--help` text, where URLs must stay bare.
#![allow(rustdoc::bare_urls)]

mod cli;
mod fail;
mod progress;
mod records;
mod render;
mod run;
mod upload;
mod vod;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::fail::Status;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with status 0, usage errors to
            // stderr with status 2. A closed stream is no reason to panic.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    init_tracing(cli.global.verbose, cli.global.rate_limit_url.is_some());
    let retries = cli.global.retries;
    match run::run(cli) {
        Ok(()) => Status::Success.into(),
        Err(failure) => {
            let _ = std::io::stdout().flush();
            fail::report(&failure, retries).into()
        }
    }
}

/// Tracing to stderr: off unless `-v` or `RUST_LOG` asks for it (or, with a
/// shared rate limit, warnings only). `-v` shows the SDK's requests, retries,
/// timings and rate-limit waits, `-vv` all it traces; `RUST_LOG`,
/// when set, replaces the filter. The SDK never logs the secret key, and
/// signs only by their first 8 digits.
fn init_tracing(verbose: u8, fleet: bool) {
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let default = match verbose {
        // In a fleet, a Redis outage or a block waited out is worth a warning.
        0 if rust_log.is_none() && fleet => "off,polyv_blocking=warn,polyv_redis=warn",
        0 if rust_log.is_none() => return,
        0 | 1 => "warn,polyv=debug,polyv_blocking=debug,polyv_core=debug,polyv_redis=debug",
        _ => {
            "info,polyv=trace,polyv_blocking=trace,polyv_core=trace,polyv_redis=trace,polyv_mock=debug"
        }
    };
    let filter = rust_log
        .and_then(|directives| tracing_subscriber::EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
