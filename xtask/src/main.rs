//! Project automation for polyv-rs.
//!
//! - `cargo xtask test`: formatting, lints, the whole test suite (doctests
//!   included), the published signing vector reported by name, a one-shot run
//!   of every benchmark so they cannot rot, the dependency checks (the core
//!   stays sans-IO, no OpenSSL, no aws-lc, `polyv-cli --no-default-features`
//!   and the `polyv-mock` library carry no server or command-line weight),
//!   and the packaging checks (every publishable crate packages with its
//!   README and both licence files; CI builds with `--locked`). Every cargo
//!   build it runs is `--locked`: Cargo.lock is what gets tested.
//! - `cargo xtask bench [--quick]`: the full benchmarks, written to
//!   `docs/benchmarks.md` (see there). It builds the release binaries, runs
//!   criterion on the core, then re-runs this crate in release as
//!   `xtask bench-run` for the Python comparisons, the end-to-end walks and
//!   the memory walks, and writes the report.
//! - `cargo xtask bench --upload-only [--quick]`: only the upload rows
//!   (release binaries, `xtask bench-run --upload-only`), written under
//!   `target/bench-results/`; for working on the upload path.

mod bench;
mod e2e;
mod fleet;
mod report;
mod upload;

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
            eprintln!("usage: cargo xtask <test|bench [--quick] [--upload-only]>");
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

/// The subcommands that take `--locked`.
const LOCKABLE: [&str; 8] = [
    "build", "check", "clippy", "doc", "test", "tree", "package", "metadata",
];

/// `args` with `--locked` after the subcommand, when it takes one.
fn locked<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut out = args.to_vec();
    if args.first().is_some_and(|sub| LOCKABLE.contains(sub)) && !args.contains(&"--locked") {
        out.insert(1, "--locked");
    }
    out
}

fn cargo_with_env(args: &[&str], env: &[(&str, &str)]) -> Step {
    let args = &locked(args)[..];
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
    let args = &locked(args)[..];
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
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    // The lean CLI (no `mock` feature) builds, warnings included.
    cargo(&[
        "clippy",
        "-p",
        "polyv-cli",
        "--no-default-features",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    docs()?;
    dependency_checks()?;
    lean_dependency_checks()?;
    packaging_checks()?;
    signing_vector()?;
    // `--all-features`: the mock's binary (feature `cli`) and its test too.
    cargo(&["test", "--workspace", "--all-features"])?;
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

/// The first word of each `cargo tree --prefix none` line: the package names.
fn tree_names(tree: &str) -> std::collections::BTreeSet<String> {
    tree.lines()
        .filter_map(|l| l.split(' ').next())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `cargo tree -e normal` of one package with extra flags, as package names.
fn normal_deps(
    package: &str,
    extra: &[&str],
) -> Result<std::collections::BTreeSet<String>, Failure> {
    let mut args = vec![
        "tree",
        "-p",
        package,
        "-e",
        "normal",
        "--prefix",
        "none",
        "--offline",
    ];
    args.extend_from_slice(extra);
    Ok(tree_names(&cargo_output(&args)?))
}

/// The features that keep users lean: `polyv-cli --no-default-features` has
/// no mock server (axum, hyper, tokio), and the `polyv-mock` library has no
/// command-line parser (clap is only in its binary, feature `cli`).
fn lean_dependency_checks() -> Step {
    let lean = normal_deps("polyv-cli", &["--no-default-features"])?;
    for heavy in [
        "polyv-mock",
        "axum",
        "hyper",
        "hyper-util",
        "tokio",
        "tower",
    ] {
        if lean.contains(heavy) {
            return Err(Failure(format!(
                "polyv-cli --no-default-features depends on {heavy}: the mock server belongs to the `mock` feature"
            )));
        }
    }
    let full = normal_deps("polyv-cli", &[])?;
    if !full.contains("polyv-mock") {
        return Err(Failure(
            "polyv-cli's default features no longer include the mock (`polyv demo`)".into(),
        ));
    }
    let mock = normal_deps("polyv-mock", &[])?;
    for cli in ["clap", "clap_builder"] {
        if mock.contains(cli) {
            return Err(Failure(format!(
                "the polyv-mock library depends on {cli}: it belongs to the binary's `cli` feature"
            )));
        }
    }
    println!(
        "lean features: polyv-cli {} packages with `mock`, {} without (no axum/hyper/tokio); polyv-mock library {} packages, no clap: passed",
        full.len(),
        lean.len(),
        mock.len()
    );
    Ok(())
}

/// Every publishable crate packages (offline, without the verify build) with
/// its README and both licence files, and CI runs with `--locked`.
fn packaging_checks() -> Step {
    let metadata = cargo_output(&[
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--offline",
    ])?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)
        .map_err(|e| Failure(format!("cargo metadata is not JSON: {e}")))?;
    let mut publishable = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default().to_owned();
        // `publish = false` is an empty registry list; absent is null.
        if package["publish"].as_array().is_some_and(Vec::is_empty) {
            continue;
        }
        for field in [
            "description",
            "license",
            "repository",
            "documentation",
            "readme",
        ] {
            if package[field].as_str().is_none_or(str::is_empty) {
                return Err(Failure(format!("{name}: Cargo.toml has no `{field}`")));
            }
        }
        for field in ["keywords", "categories"] {
            if package[field].as_array().is_none_or(Vec::is_empty) {
                return Err(Failure(format!("{name}: Cargo.toml has no `{field}`")));
            }
        }
        publishable.push(name);
    }
    if publishable.is_empty() {
        return Err(Failure("no publishable crate in the workspace".into()));
    }
    let mut args = vec!["package", "--no-verify", "--offline", "--allow-dirty"];
    for name in &publishable {
        args.extend(["-p", name.as_str()]);
    }
    cargo(&args)?;
    for name in &publishable {
        let files = cargo_output(&[
            "package",
            "--list",
            "-p",
            name,
            "--offline",
            "--allow-dirty",
        ])?;
        for needed in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
            if !files.lines().any(|f| f == needed) {
                return Err(Failure(format!("the {name} package has no {needed}")));
            }
        }
    }
    let ci = std::fs::read_to_string(".ci/run")
        .map_err(|e| Failure(format!("cannot read .ci/run: {e}")))?;
    if !ci
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.trim() == "cargo xtask test")
    {
        return Err(Failure(
            ".ci/run must run `cargo xtask test`, the README's test command".into(),
        ));
    }
    let alias = std::fs::read_to_string(".cargo/config.toml")
        .map_err(|e| Failure(format!("cannot read .cargo/config.toml: {e}")))?;
    if !alias
        .lines()
        .any(|l| l.trim_start().starts_with("xtask =") && l.contains("--locked"))
    {
        return Err(Failure(
            "the `xtask` alias in .cargo/config.toml must run --locked (Cargo.lock is what gets tested)".into(),
        ));
    }
    println!(
        "packaging: {} package with README and licences; CI builds --locked: passed",
        publishable.join(", ")
    );
    Ok(())
}

fn bench(args: &[String]) -> Step {
    let (mut quick, mut upload_only) = (false, false);
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            "--upload-only" => upload_only = true,
            _ => {
                return Err(Failure(format!(
                    "unknown bench argument {arg:?}; use --quick, --upload-only or nothing"
                )));
            }
        }
    }
    // The mock and the CLI, optimised, for the walks.
    cargo(&[
        "build",
        "--release",
        "-p",
        "polyv-mock",
        "-p",
        "polyv-cli",
        "--bins",
        "--features",
        "polyv-mock/cli",
    ])?;
    // Criterion on the core; the bench also writes the 1000-item page the
    // Python micro-benchmark parses.
    let opts = if quick {
        bench::Opts::quick()
    } else {
        bench::Opts::full()
    };
    // The measuring runs in an optimised xtask.
    let mut run = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "xtask",
        "--",
        "bench-run",
    ];
    if upload_only {
        run.push("--upload-only");
    }
    if quick {
        run.push("--quick");
    }
    if upload_only {
        return cargo(&run);
    }
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
    cargo(&run)?;
    fleet::row(&opts.out)
}

/// `xtask bench-run [--quick]`: the second half of `cargo xtask bench`.
fn bench_run(args: &[String]) -> Step {
    if cfg!(debug_assertions) {
        eprintln!("xtask: warning: bench-run is a debug build; the walks are not optimised");
    }
    let sized = |arg: Option<&str>| match arg {
        None => Ok(bench::Opts::full()),
        Some("--quick") => Ok(bench::Opts::quick()),
        Some("--smoke") => Ok(bench::Opts::smoke()),
        Some(_) => Err(Failure(format!("unknown bench-run arguments {args:?}"))),
    };
    let opts = match args {
        [] => bench::Opts::full(),
        [q] if q == "--quick" || q == "--smoke" => sized(Some(q.as_str()))?,
        [u, rest @ ..] if u == "--upload-only" && rest.len() <= 1 => {
            let opts = sized(rest.first().map(String::as_str))?;
            return bench::upload_only(&opts).map_err(|e| Failure(format!("bench-run: {e}")));
        }
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
    cargo(&[
        "build",
        "-p",
        "polyv-mock",
        "-p",
        "polyv-cli",
        "--bins",
        "--features",
        "polyv-mock/cli",
    ])?;
    bench::run(&bench::Opts::smoke()).map_err(|e| Failure(format!("bench smoke: {e}")))?;
    println!("bench smoke: the end-to-end harness ran: passed");
    Ok(())
}
