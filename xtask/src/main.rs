//! Project automation for polyv-rs.
//!
//! - `cargo xtask test`: formatting, lints, the whole test suite (doctests
//!   included), the published signing vector reported by name, a one-shot run
//!   of every benchmark so they cannot rot, and the dependency checks (the core
//!   stays sans-IO, no OpenSSL, no aws-lc).
//! - `cargo xtask bench [--quick]`: the full benchmarks, written to
//!   `docs/benchmarks.md` (see there). It builds the release binaries, runs
//!   criterion on the core, then re-runs this crate in release as
//!   `xtask bench-run` for the Python comparisons, the end-to-end walks and
//!   the memory walks, and writes the report.

mod bench;
mod e2e;
mod fleet;

use std::process::{Command, ExitCode};

/// A failed step: what ran and why it failed.
struct Failure(String);

type Step = Result<(), Failure>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        Some("bench-run") => bench_run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <test|bench [--quick]>");
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
    cargo_with_env(args, &[])
}

fn cargo_with_env(args: &[&str], env: &[(&str, &str)]) -> Step {
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
    eprintln!("xtask: {}cargo {}", shown.concat(), args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| Failure(format!("cannot run cargo: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!(
            "`cargo {}` exited with {status}",
            args.join(" ")
        )))
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
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    docs()?;
    dependency_checks()?;
    signing_vector()?;
    cargo(&["test", "--workspace"])?;
    // Every benchmark once, in test mode, so benches cannot rot...
    cargo(&["test", "--workspace", "--benches"])?;
    // ...and the end-to-end harness on a few hundred videos, debug build.
    bench_smoke()?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

/// `cargo doc` with every rustdoc warning an error (broken links, bare URLs...).
fn docs() -> Step {
    cargo_with_env(
        &["doc", "--workspace", "--no-deps", "--quiet"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )
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
        "tree",
        "-p",
        "polyv-core",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--offline",
    ])?;
    for io in ["reqwest", "ureq", "tokio", "hyper", "mio", "socket2"] {
        if core.lines().any(|l| l.split(' ').next() == Some(io)) {
            return Err(Failure(format!(
                "polyv-core depends on {io}: the core must stay sans-IO"
            )));
        }
    }
    let all = cargo_output(&[
        "tree",
        "--workspace",
        "-e",
        "normal,build",
        "--prefix",
        "none",
        "--offline",
    ])?;
    for banned in [
        "openssl-sys",
        "openssl",
        "native-tls",
        "aws-lc-sys",
        "aws-lc-rs",
    ] {
        if all.lines().any(|l| l.split(' ').next() == Some(banned)) {
            return Err(Failure(format!(
                "the workspace depends on {banned}: use rustls with ring"
            )));
        }
    }
    if let Ok(blocking) = cargo_output(&[
        "tree",
        "-p",
        "polyv-blocking",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--offline",
    ]) {
        if blocking
            .lines()
            .any(|l| l.split(' ').next() == Some("tokio"))
        {
            return Err(Failure("polyv-blocking depends on tokio".into()));
        }
    }
    // The shared rate limit for blocking users (polyv-redis's default
    // `blocking` feature) must not bring an async runtime either.
    let redis = cargo_output(&[
        "tree",
        "-p",
        "polyv-redis",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--offline",
    ])?;
    if redis.lines().any(|l| l.split(' ').next() == Some("tokio")) {
        return Err(Failure(
            "polyv-redis depends on tokio without its `async` feature".into(),
        ));
    }
    println!(
        "dependency checks: polyv-core is sans-IO; no OpenSSL, no aws-lc; no tokio in polyv-blocking or blocking polyv-redis: passed"
    );
    Ok(())
}

fn bench(args: &[String]) -> Step {
    let quick = match args {
        [] => false,
        [q] if q == "--quick" => true,
        _ => {
            return Err(Failure(format!(
                "unknown bench arguments {args:?}; use --quick or nothing"
            )));
        }
    };
    // The mock and the CLI, optimised, for the walks.
    cargo(&[
        "build",
        "--release",
        "-p",
        "polyv-mock",
        "-p",
        "polyv-cli",
        "--bins",
    ])?;
    // Criterion on the core; the bench also writes the 1000-item page the
    // Python micro-benchmark parses.
    let opts = if quick {
        bench::Opts::quick()
    } else {
        bench::Opts::full()
    };
    let fixtures = opts.fixtures();
    let mut criterion = vec!["bench", "-p", "polyv-core", "--bench", "core"];
    if quick {
        criterion.extend(["--", "--warm-up-time", "1", "--measurement-time", "2"]);
    }
    eprintln!("xtask: cargo {}", criterion.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(&criterion)
        .env("POLYV_BENCH_FIXTURES", &fixtures)
        .status()
        .map_err(|e| Failure(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Failure(format!("criterion failed: {status}")));
    }
    // The rest runs in an optimised xtask.
    let mut run = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "xtask",
        "--",
        "bench-run",
    ];
    if quick {
        run.push("--quick");
    }
    cargo(&run)?;
    fleet::row(&opts.out)
}

/// `xtask bench-run [--quick]`: the second half of `cargo xtask bench`.
fn bench_run(args: &[String]) -> Step {
    if cfg!(debug_assertions) {
        eprintln!("xtask: warning: bench-run is a debug build; the walks are not optimised");
    }
    let opts = match args {
        [] => bench::Opts::full(),
        [q] if q == "--quick" => bench::Opts::quick(),
        [q] if q == "--smoke" => bench::Opts::smoke(),
        [w, walker, reps @ ..] if w == "--walk" => {
            let reps = match reps {
                [] => 5,
                [n] => n
                    .parse()
                    .map_err(|_| Failure(format!("--walk: {n} is not a repetition count")))?,
                _ => return Err(Failure(format!("unknown bench-run arguments {args:?}"))),
            };
            return bench::walk_only(walker, reps).map_err(|e| Failure(format!("bench-run: {e}")));
        }
        _ => return Err(Failure(format!("unknown bench-run arguments {args:?}"))),
    };
    bench::run(&opts).map_err(|e| Failure(format!("bench-run: {e}")))
}

/// The end-to-end harness, once, on a tiny catalogue with the debug binaries,
/// so that it cannot rot. Its report goes under `target/bench-results/`.
fn bench_smoke() -> Step {
    cargo(&["build", "-p", "polyv-mock", "-p", "polyv-cli", "--bins"])?;
    bench::run(&bench::Opts::smoke()).map_err(|e| Failure(format!("bench smoke: {e}")))?;
    println!("bench smoke: the end-to-end harness ran: passed");
    Ok(())
}
