//! What every CLI test file needs: the binary with a clean environment,
//! pointed at a mock, and readable output.
#![allow(dead_code)] // each test file uses its own part of it

use std::process::{Command, Output, Stdio};

use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, MockServer};

/// The binary with a clean environment: no inherited credentials, base URL,
/// shared rate limit, log filter or terminal width.
pub(crate) fn bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_polyv"));
    for var in [
        "POLYV_USER_ID",
        "POLYV_SECRET_KEY",
        "POLYV_BASE_URL",
        "POLYV_RATE_LIMIT_URL",
        "RUST_LOG",
        "COLUMNS",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// The binary pointed at `server` with the demo account.
pub(crate) fn polyv(server: &MockServer) -> Command {
    let mut cmd = bare();
    cmd.env("POLYV_USER_ID", DEMO_USER_ID)
        .env("POLYV_SECRET_KEY", DEMO_SECRET_KEY)
        .env("POLYV_BASE_URL", server.base_url());
    cmd
}

/// Runs `cmd` with `args`.
pub(crate) fn run(cmd: &mut Command, args: &[&str]) -> Output {
    cmd.args(args).output().unwrap()
}

/// stdout as text.
pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// stderr as text.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The exit status is `code`, or the output is shown.
pub(crate) fn assert_status(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
