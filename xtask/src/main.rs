//! Project automation for polyv-rs.
//!
//! - `cargo xtask test`: formatting, lints, the whole test suite (doctests
//!   included), the published signing vector reported by name, a one-shot run
//!   of every benchmark so they cannot rot, and the dependency checks (the core
//!   stays sans-IO, no OpenSSL, no aws-lc).
//! - `cargo xtask bench`: the full benchmarks (see `docs/benchmarks.md`).

use std::process::{Command, ExitCode};

/// A failed step: what ran and why it failed.
struct Failure(String);

type Step = Result<(), Failure>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <test|bench>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(why)) => {
            eprintln!("xtask: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

fn cargo(args: &[&str]) -> Step {
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .status()
        .map_err(|e| Failure(format!("cannot run cargo: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!("`cargo {}` exited with {status}", args.join(" "))))
    }
}

fn cargo_output(args: &[&str]) -> Result<String, Failure> {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .output()
        .map_err(|e| Failure(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(Failure(format!(
            "`cargo {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn test() -> Step {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    dependency_checks()?;
    signing_vector()?;
    cargo(&["test", "--workspace"])?;
    // Every benchmark once, in test mode, so benches cannot rot.
    cargo(&["test", "--workspace", "--benches"])?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

/// Runs the published vector on its own so its result is reported by name.
fn signing_vector() -> Step {
    cargo(&[
        "test",
        "--quiet",
        "-p",
        "polyv-core",
        "--test",
        "vector",
        "--",
        "--exact",
        "published_signing_vector",
    ])?;
    println!(
        "signing vector (Polyv's published example, secret tIQp4ATe9Z -> 50BF9B165630A8047EB1D17D95A469CC51FF754E): passed"
    );
    Ok(())
}

/// The core stays sans-IO, and nothing links OpenSSL or needs aws-lc's cmake.
fn dependency_checks() -> Step {
    let core = cargo_output(&[
        "tree", "-p", "polyv-core", "-e", "normal", "--prefix", "none", "--offline",
    ])?;
    for io in ["reqwest", "ureq", "tokio", "hyper", "mio", "socket2"] {
        if core.lines().any(|l| l.split(' ').next() == Some(io)) {
            return Err(Failure(format!("polyv-core depends on {io}: the core must stay sans-IO")));
        }
    }
    let all = cargo_output(&[
        "tree", "--workspace", "-e", "normal,build", "--prefix", "none", "--offline",
    ])?;
    for banned in ["openssl-sys", "openssl", "native-tls", "aws-lc-sys", "aws-lc-rs"] {
        if all.lines().any(|l| l.split(' ').next() == Some(banned)) {
            return Err(Failure(format!("the workspace depends on {banned}: use rustls with ring")));
        }
    }
    if let Ok(blocking) = cargo_output(&[
        "tree", "-p", "polyv-blocking", "-e", "normal", "--prefix", "none", "--offline",
    ]) {
        if blocking.lines().any(|l| l.split(' ').next() == Some("tokio")) {
            return Err(Failure("polyv-blocking depends on tokio".into()));
        }
    }
    println!("dependency checks: polyv-core is sans-IO; no OpenSSL, no aws-lc: passed");
    Ok(())
}

fn bench(args: &[String]) -> Step {
    let mut cmd = vec!["bench", "--workspace"];
    cmd.extend(args.iter().map(String::as_str));
    cargo(&cmd)
}
