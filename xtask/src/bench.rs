//! `cargo xtask bench`'s second half, run by the release xtask (`xtask
//! bench-run`): reads criterion's results, runs the Python micro-benchmarks,
//! the end-to-end walks and the CLI memory walks, then writes
//! `docs/benchmarks.md` and prints the goals table. The smoke (`cargo xtask
//! test`) runs the same code in debug with a tiny catalogue and writes its
//! report under `target/` instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::e2e::{Harness, Mock, Res, Walk, Walker, cli_peak_rss, pages_of};

/// What to run, and how big.
#[derive(Debug, Clone)]
pub(crate) struct Opts {
    pub(crate) label: &'static str,
    pub(crate) target: PathBuf,
    pub(crate) bin_dir: PathBuf,
    pub(crate) out: PathBuf,
    pub(crate) videos: usize,
    pub(crate) reps: usize,
    pub(crate) python_reps: usize,
    pub(crate) latency_videos: usize,
    pub(crate) latency_ms: u64,
    pub(crate) latency_reps: usize,
    pub(crate) limited_pages: usize,
    pub(crate) memory_videos: (usize, usize),
    pub(crate) python_micro_iterations: u32,
    /// The command that reproduces the report.
    pub(crate) command: &'static str,
}

impl Opts {
    fn base(label: &'static str, release: bool) -> Self {
        let root = workspace_root();
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        let bin_dir = target.join(if release { "release" } else { "debug" });
        Self {
            label,
            out: root.join("docs/benchmarks.md"),
            target,
            bin_dir,
            videos: 100_000,
            reps: 5,
            python_reps: 3,
            latency_videos: 10_000,
            latency_ms: 20,
            latency_reps: 3,
            limited_pages: 1000,
            memory_videos: (1_000, 100_000),
            python_micro_iterations: 20_000,
            command: "cargo xtask bench",
        }
    }

    /// The full run.
    pub(crate) fn full() -> Self {
        Self::base("full", true)
    }

    /// A shorter run for development: fewer repetitions and pages.
    pub(crate) fn quick() -> Self {
        let mut o = Self::base("quick", true);
        o.out = o.target.join("bench-results/benchmarks-quick.md");
        o.reps = 1;
        o.python_reps = 1;
        o.latency_videos = 2_000;
        o.latency_reps = 1;
        o.limited_pages = 200;
        o.command = "cargo xtask bench --quick";
        o
    }

    /// The smoke of `cargo xtask test`: debug binaries, a few hundred videos.
    pub(crate) fn smoke() -> Self {
        let mut o = Self::base("smoke", false);
        o.out = o.target.join("bench-results/benchmarks-smoke.md");
        o.videos = 400;
        o.reps = 1;
        o.python_reps = 1;
        o.latency_videos = 100;
        o.latency_ms = 2;
        o.latency_reps = 1;
        o.limited_pages = 5;
        o.memory_videos = (100, 400);
        o.python_micro_iterations = 100;
        o.command = "cargo xtask test (smoke)";
        o
    }

    pub(crate) fn fixtures(&self) -> PathBuf {
        self.target.join("bench-fixtures")
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Median, min and max of some measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stat {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Stat {
    pub(crate) fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 0 {
            (v[mid - 1] + v[mid]) / 2.0
        } else {
            v[mid]
        };
        Some(Self {
            median,
            min: v[0],
            max: v[v.len() - 1],
        })
    }
}

/// One criterion benchmark: time per iteration in ns.
#[derive(Debug, Clone, Copy)]
struct Crit {
    ns: Stat,
    bytes: Option<u64>,
}

/// Every criterion result under `target/criterion`, by (group, function).
fn criterion_results(target: &Path) -> BTreeMap<(String, String), Crit> {
    let mut out = BTreeMap::new();
    let Ok(groups) = std::fs::read_dir(target.join("criterion")) else {
        return out;
    };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let dir = bench.path().join("new");
            let read = |name: &str| -> Option<serde_json::Value> {
                serde_json::from_slice(&std::fs::read(dir.join(name)).ok()?).ok()
            };
            let (Some(meta), Some(estimates), Some(sample)) = (
                read("benchmark.json"),
                read("estimates.json"),
                read("sample.json"),
            ) else {
                continue;
            };
            let per_iter: Vec<f64> = match (sample["iters"].as_array(), sample["times"].as_array())
            {
                (Some(iters), Some(times)) => iters
                    .iter()
                    .zip(times)
                    .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
                    .collect(),
                _ => continue,
            };
            let (Some(mut ns), Some(median)) = (
                Stat::of(&per_iter),
                estimates["median"]["point_estimate"].as_f64(),
            ) else {
                continue;
            };
            ns.median = median;
            let key = (
                meta["group_id"].as_str().unwrap_or_default().to_owned(),
                meta["function_id"].as_str().unwrap_or_default().to_owned(),
            );
            let bytes = meta["throughput"]["Bytes"].as_u64();
            out.insert(key, Crit { ns, bytes });
        }
    }
    out
}

/// The Python micro-benchmarks: µs per sign + urlencode, ms per `json.loads`.
struct PyMicro {
    sign_us: Stat,
    loads_ms: Stat,
}

fn python_micro(script: &Path, fixture: &Path, iterations: u32) -> Res<PyMicro> {
    let out = Command::new("python3")
        .arg(script)
        .arg("micro")
        .arg(fixture)
        .arg(iterations.to_string())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "python micro failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let stat = |k: &str| -> Res<Stat> {
        let f = |m: &str| v[k][m].as_f64().ok_or(format!("python micro: no {k}.{m}"));
        Ok(Stat {
            median: f("median")?,
            min: f("min")?,
            max: f("max")?,
        })
    };
    Ok(PyMicro {
        sign_us: stat("sign_us")?,
        loads_ms: stat("json_loads_ms")?,
    })
}

/// Repeated walks of one walker.
struct Series {
    walker: Walker,
    walks: Vec<Walk>,
}

impl Series {
    fn wall(&self) -> Option<Stat> {
        Stat::of(&self.walks.iter().map(|w| w.wall).collect::<Vec<_>>())
    }
    fn median(&self) -> f64 {
        self.wall().map_or(f64::NAN, |s| s.median)
    }
    fn cpu(&self, f: impl Fn(&Walk) -> f64) -> f64 {
        Stat::of(&self.walks.iter().map(f).collect::<Vec<_>>()).map_or(f64::NAN, |s| s.median)
    }
}

/// Runs each walker `reps` times, interleaved (walker A, B, C, then A, B, C
/// again) so that a drift of the machine touches them all alike.
fn walk_series(
    harness: &Harness,
    mock: &Mock,
    walkers: &[(Walker, usize)],
    page_size: Option<u32>,
) -> Res<Vec<Series>> {
    let mut series: Vec<Series> = walkers
        .iter()
        .map(|&(walker, _)| Series {
            walker,
            walks: Vec::new(),
        })
        .collect();
    let rounds = walkers.iter().map(|w| w.1).max().unwrap_or(0);
    for round in 0..rounds {
        for (i, &(walker, reps)) in walkers.iter().enumerate() {
            if round >= reps {
                continue;
            }
            let walk = harness.walk(walker, mock, page_size, false, None)?;
            eprintln!(
                "xtask bench: {:<45} {:>8.3} s  ({} pages, {} videos; client CPU {:.2} s, mock CPU {:.2} s)",
                walker.label(),
                walk.wall,
                walk.pages,
                walk.videos,
                walk.client_cpu,
                walk.mock_cpu
            );
            series[i].walks.push(walk);
        }
    }
    Ok(series)
}

/// Whether every Rust walker yielded the videos in the same (server) order.
fn same_order(series: &[Series]) -> bool {
    let digests: Vec<u64> = series
        .iter()
        .filter(|s| matches!(s.walker, Walker::Blocking(_) | Walker::Async(_)))
        .flat_map(|s| s.walks.iter().map(|w| w.digest))
        .collect();
    digests.windows(2).all(|w| w[0] == w[1])
}

fn find(series: &[Series], walker: Walker) -> Option<&Series> {
    series.iter().find(|s| s.walker == walker)
}

/// One goal's line.
struct Goal {
    what: String,
    target: String,
    measured: f64,
    unit: &'static str,
    met: Option<bool>,
}

fn goal(what: &str, target: &str, measured: f64, met: impl Fn(f64) -> bool) -> Goal {
    Goal {
        what: what.into(),
        target: target.into(),
        measured,
        unit: "×",
        met: measured.is_finite().then(|| met(measured)),
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn fmt_stat_ns(s: Stat) -> (String, String) {
    (
        fmt_ns(s.median),
        format!("{} – {}", fmt_ns(s.min), fmt_ns(s.max)),
    )
}

fn fmt_s(s: Stat) -> (String, String) {
    (
        format!("{:.3} s", s.median),
        format!("{:.3} – {:.3} s", s.min, s.max),
    )
}

fn ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}×")
    } else {
        "n/a".into()
    }
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            let model = c
                .lines()
                .find_map(|l| l.strip_prefix("model name"))?
                .trim_start_matches([' ', '\t', ':'])
                .to_owned();
            let sha = c.split_whitespace().any(|f| f == "sha_ni");
            Some(format!(
                "{model}{}",
                if sha { ", SHA-NI" } else { ", no SHA-NI" }
            ))
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Runs everything after criterion and writes the report.
/// `xtask bench-run --walk <walker> [reps]`: one walker, `reps` times, over
/// the full catalogue, printing each wall; for profilers (`perf record -p`),
/// not for the report.
pub(crate) fn walk_only(name: &str, reps: usize) -> Res<()> {
    let walker = match name {
        "blocking" => Walker::Blocking(1),
        "ureq-floor" => Walker::UreqFloor,
        "ureq-timeout" => Walker::UreqTimeout,
        "reqwest-floor" => Walker::ReqwestFloor,
        "reqwest-timeout" => Walker::ReqwestTimeout,
        "ureq-parse" => Walker::UreqParse,
        "reqwest-parse" => Walker::ReqwestParse,
        "python" => Walker::Python,
        other => match (
            other.strip_prefix("async").map(str::parse),
            other.strip_prefix("blocking").map(str::parse),
        ) {
            (Some(Ok(n)), _) => Walker::Async(n),
            (_, Some(Ok(n))) => Walker::Blocking(n),
            _ => {
                return Err(format!(
                    "unknown walker {other}: blocking, blocking<N>, async<N>, ureq-floor, ureq-timeout, \
                     reqwest-floor, reqwest-timeout, ureq-parse, reqwest-parse or python"
                ));
            }
        },
    };
    let opts = Opts::full();
    let harness = Harness::new(&workspace_root().join("xtask/bench/polyv_walk.py"))?;
    let mock = Mock::start(&opts.bin_dir.join("polyv-mock"), opts.videos, None)?;
    for _ in 0..reps {
        let walk = harness.walk(walker, &mock, None, false, None)?;
        eprintln!(
            "{}: {:.3} s wall, client CPU {:.2} s, mock CPU {:.2} s",
            walker.label(),
            walk.wall,
            walk.client_cpu,
            walk.mock_cpu
        );
    }
    Ok(())
}

pub(crate) fn run(opts: &Opts) -> Res<()> {
    let root = workspace_root();
    let script = root.join("xtask/bench/polyv_walk.py");
    let mock_bin = opts.bin_dir.join("polyv-mock");
    let cli_bin = opts.bin_dir.join("polyv");
    let harness = Harness::new(&script)?;
    let mut notes: Vec<String> = Vec::new();
    if harness.python.is_none() {
        notes.push("python3 with `requests` is absent: the Python figures are skipped.".into());
    }

    // 1 + 2: criterion's figures and the Python micro-benchmarks.
    let crit = criterion_results(&opts.target);
    if crit.is_empty() {
        notes.push("no criterion results under target/criterion: run `cargo bench -p polyv-core --bench core` (cargo xtask bench does).".into());
    }
    let fixture = opts.fixtures().join("page1000.json");
    let py_micro = match (&harness.python, fixture.exists()) {
        (Some(script), true) => {
            eprintln!("xtask bench: python micro-benchmarks");
            Some(python_micro(
                script,
                &fixture,
                opts.python_micro_iterations,
            )?)
        }
        (Some(_), false) => {
            notes.push(format!(
                "no fixture at {}: the Python parse and sign figures are skipped.",
                fixture.display()
            ));
            None
        }
        _ => None,
    };

    // 3: the walks.
    let with_python = |reps| harness.python.as_ref().map(|_| (Walker::Python, reps));
    eprintln!(
        "xtask bench: walks over {} videos (mock: {})",
        opts.videos,
        mock_bin.display()
    );
    let mock = Mock::start(&mock_bin, opts.videos, None)?;
    let mut walkers = vec![
        (Walker::UreqFloor, opts.reps),
        (Walker::UreqTimeout, opts.reps),
        (Walker::UreqParse, opts.reps),
        (Walker::Blocking(1), opts.reps),
        (Walker::Blocking(4), opts.reps),
        (Walker::Blocking(16), opts.reps),
        (Walker::ReqwestFloor, opts.reps),
        (Walker::ReqwestTimeout, opts.reps),
        (Walker::ReqwestParse, opts.reps),
        (Walker::Async(1), opts.reps),
        (Walker::Async(4), opts.reps),
        (Walker::Async(16), opts.reps),
    ];
    walkers.extend(with_python(opts.python_reps));
    let plain = walk_series(&harness, &mock, &walkers, None)?;

    // Page size 1000 (rate limit off), then the default rate limit.
    let big_pages = walk_series(
        &harness,
        &mock,
        &[(Walker::Blocking(1), opts.reps)],
        Some(1000),
    )?;
    eprintln!(
        "xtask bench: default rate limit, first {} pages",
        opts.limited_pages
    );
    let limited = harness.walk(
        Walker::Blocking(1),
        &mock,
        None,
        true,
        Some(opts.limited_pages.min(pages_of(opts.videos, None))),
    )?;
    let limited_big = harness.walk(Walker::Blocking(1), &mock, Some(1000), true, None)?;
    drop(mock);

    eprintln!(
        "xtask bench: walks over {} videos with {} ms latency per request",
        opts.latency_videos, opts.latency_ms
    );
    let slow_mock = Mock::start(&mock_bin, opts.latency_videos, Some(opts.latency_ms))?;
    let mut walkers = vec![
        (Walker::UreqFloor, opts.latency_reps),
        (Walker::Blocking(1), opts.latency_reps),
        (Walker::Blocking(4), opts.latency_reps),
        (Walker::Blocking(16), opts.latency_reps),
        (Walker::ReqwestFloor, opts.latency_reps),
        (Walker::Async(1), opts.latency_reps),
        (Walker::Async(4), opts.latency_reps),
        (Walker::Async(16), opts.latency_reps),
    ];
    walkers.extend(with_python(opts.latency_reps.min(opts.python_reps)));
    let slow = walk_series(&harness, &slow_mock, &walkers, None)?;
    drop(slow_mock);

    // 4: memory of the CLI.
    let mut memory = Vec::new();
    for page_size in [None, Some(1000)] {
        for videos in [opts.memory_videos.0, opts.memory_videos.1] {
            let mock = Mock::start(&mock_bin, videos, None)?;
            let (kib, wall) = cli_peak_rss(&cli_bin, &mock, page_size)?;
            eprintln!(
                "xtask bench: CLI jsonl walk, {videos} videos, page size {}: peak RSS {kib} KiB, {wall:.2} s",
                page_size.unwrap_or(20)
            );
            memory.push((videos, page_size, kib, wall));
        }
    }

    let report = Report {
        opts,
        crit: &crit,
        py_micro: py_micro.as_ref(),
        plain: &plain,
        big_pages: &big_pages,
        limited,
        limited_big,
        slow: &slow,
        memory: &memory,
        notes: &notes,
    };
    let (markdown, summary) = report.render();
    if let Some(dir) = opts.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&opts.out, markdown).map_err(|e| e.to_string())?;
    println!("{summary}");
    println!("written: {}", opts.out.display());
    Ok(())
}

struct Report<'a> {
    opts: &'a Opts,
    crit: &'a BTreeMap<(String, String), Crit>,
    py_micro: Option<&'a PyMicro>,
    plain: &'a [Series],
    big_pages: &'a [Series],
    limited: Walk,
    limited_big: Walk,
    slow: &'a [Series],
    memory: &'a [(usize, Option<u32>, u64, f64)],
    notes: &'a [String],
}

const SIGN_GROUP: &str = "sign";
const SIGN_FLOOR: &str = "floor: sha1 of canonical bytes";
const PREPARE: &str = "prepare get-by-uploader (all options)";
const SIGNED_URL: &str = "signed_url get-by-uploader (all options)";
const PAGE: &str = "Page<Video>";
const VALUE: &str = "serde_json::Value";

impl Report<'_> {
    fn crit(&self, group: &str, function: &str) -> Option<Crit> {
        self.crit
            .get(&(group.to_owned(), function.to_owned()))
            .copied()
    }

    fn crit_ns(&self, group: &str, function: &str) -> f64 {
        self.crit(group, function).map_or(f64::NAN, |c| c.ns.median)
    }

    /// The fastest typed parse measured in a group (every function whose id
    /// starts with "floor: borrowed" or "typed:"), by median.
    fn fastest_typed(&self, group: &str) -> Option<(String, f64)> {
        self.crit
            .iter()
            .filter(|((g, f), _)| {
                g == group && (f.starts_with("floor: borrowed") || f.starts_with("typed: "))
            })
            .map(|((_, f), c)| (f.clone(), c.ns.median))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn goals(&self) -> Vec<Goal> {
        let mut goals = Vec::new();
        let sha = self.crit_ns(SIGN_GROUP, SIGN_FLOOR);
        let prepare = self.crit_ns(SIGN_GROUP, PREPARE);
        let signed_url = self.crit_ns(SIGN_GROUP, SIGNED_URL);
        goals.push(goal(
            "signing, the lean path (`signed_url`: sign + encode) ÷ bare SHA-1 of the canonical bytes",
            "≤ 4×",
            signed_url / sha,
            |x| x <= 4.0,
        ));
        goals.push(goal(
            "signing, the whole `prepare` (sign + encode + `http::Request`) ÷ bare SHA-1",
            "≤ 4×",
            prepare / sha,
            |x| x <= 4.0,
        ));
        goals.push(goal(
            "signing alone (`sign`, no URL or http::Request) ÷ bare SHA-1 (context)",
            "≤ 4×",
            self.crit_ns(SIGN_GROUP, "sign params") / sha,
            |x| x <= 4.0,
        ));
        let py_sign_ns = self.py_micro.map_or(f64::NAN, |p| p.sign_us.median * 1e3);
        goals.push(goal(
            "signing: Python hashlib + urlencode ÷ `signed_url`",
            "≥ 40×",
            py_sign_ns / signed_url,
            |x| x >= 40.0,
        ));
        goals.push(goal(
            "signing: Python hashlib + urlencode ÷ `prepare`",
            "≥ 40×",
            py_sign_ns / prepare,
            |x| x >= 40.0,
        ));
        let g1000 = "parse 1000 items";
        let page = self.crit_ns(g1000, PAGE);
        goals.push(goal(
            "parse 1000 items: `serde_json::Value` ÷ `Page<Video>` (throughput ratio)",
            "≥ 1.6×",
            self.crit_ns(g1000, VALUE) / page,
            |x| x >= 1.6,
        ));
        let py_loads_ns = self.py_micro.map_or(f64::NAN, |p| p.loads_ms.median * 1e6);
        goals.push(goal(
            "parse 1000 items: Python `json.loads` ÷ `Page<Video>`",
            "≥ 3×",
            py_loads_ns / page,
            |x| x >= 3.0,
        ));
        let fastest = self.fastest_typed(g1000).map_or(f64::NAN, |f| f.1);
        goals.push(goal(
            "parse 1000 items: `Page<Video>` ÷ fastest typed parse",
            "≤ 1.5×",
            page / fastest,
            |x| x <= 1.5,
        ));
        let m = |s: &[Series], w| find(s, w).map_or(f64::NAN, Series::median);
        let p = self.plain;
        goals.push(goal(
            "walk: polyv-blocking ÷ raw ureq floor",
            "≤ 1.15×",
            m(p, Walker::Blocking(1)) / m(p, Walker::UreqFloor),
            |x| x <= 1.15,
        ));
        goals.push(goal(
            "walk: polyv-async sequential ÷ raw reqwest floor",
            "≤ 1.15×",
            m(p, Walker::Async(1)) / m(p, Walker::ReqwestFloor),
            |x| x <= 1.15,
        ));
        for w in [
            Walker::Blocking(1),
            Walker::Blocking(4),
            Walker::Blocking(16),
            Walker::Async(1),
            Walker::Async(4),
            Walker::Async(16),
        ] {
            goals.push(goal(
                &format!("walk: Python ÷ {}", w.label()),
                "≥ 5×",
                m(p, Walker::Python) / m(p, w),
                |x| x >= 5.0,
            ));
        }
        let s = self.slow;
        let order_kept = same_order(s) && same_order(self.plain);
        for (client, sequential, ahead) in [
            ("async", Walker::Async(1), Walker::Async(16)),
            ("blocking", Walker::Blocking(1), Walker::Blocking(16)),
        ] {
            let mut g = goal(
                &format!(
                    "walk, {} ms latency: {client} sequential ÷ {client} fetch_ahead(16), order kept",
                    self.opts.latency_ms
                ),
                "≥ 10×",
                m(s, sequential) / m(s, ahead),
                |x| x >= 10.0,
            );
            if !order_kept {
                g.met = Some(false);
                g.what.push_str(" (ORDER DIFFERS)");
            }
            goals.push(g);
        }
        let rss = |videos, size| {
            self.memory
                .iter()
                .find(|m| m.0 == videos && m.1 == size)
                .map_or(f64::NAN, |m| m.2 as f64)
        };
        let (small, large) = self.opts.memory_videos;
        for size in [None, Some(1000)] {
            goals.push(goal(
                &format!(
                    "memory: CLI peak RSS, {large} ÷ {small} videos, page size {}",
                    size.unwrap_or(20)
                ),
                "≤ 1.2×",
                rss(large, size) / rss(small, size),
                |x| x <= 1.2,
            ));
        }
        goals
    }

    fn goals_table(&self, goals: &[Goal]) -> String {
        let mut t = String::from("| Goal | Target | Measured | Met |\n|---|---|---|---|\n");
        for g in goals {
            let measured = if g.measured.is_finite() {
                format!("{:.2}{}", g.measured, g.unit)
            } else {
                "n/a".into()
            };
            let met = match g.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "n/a",
            };
            let _ = writeln!(t, "| {} | {} | {measured} | {met} |", g.what, g.target);
        }
        t
    }

    fn render(&self) -> (String, String) {
        let o = self.opts;
        let goals = self.goals();
        let goals_table = self.goals_table(&goals);
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        let mut d = String::new();
        let w = &mut d;
        let _ = writeln!(w, "# Benchmarks\n");
        let _ = writeln!(
            w,
            "Written by `{}` ({} run); every ratio compares two figures of the same run, absolute times are context only. \
             Medians, with min – max over the repetitions (criterion: over its samples).\n",
            o.command, o.label
        );
        let _ = writeln!(
            w,
            "- Reproduce: `{}` (full run ≈ 12 minutes on 2 cores; `cargo xtask bench --quick` for a shorter one, written under `target/bench-results/`).",
            o.command
        );
        let _ = writeln!(
            w,
            "- Machine: {cores} cores (`available_parallelism`), {}.",
            cpu_model()
        );
        if let Some(v) = command_line("rustc", &["-V"]) {
            let _ = writeln!(w, "- {v}; release profile; criterion 0.8.");
        }
        if let Some(v) = command_line("python3", &["-V"]) {
            let _ = writeln!(w, "- {v} (the alternative: `xtask/bench/polyv_walk.py`).");
        }
        if let Some(v) = command_line("git", &["rev-parse", "--short", "HEAD"]) {
            let _ = writeln!(
                w,
                "- Commit: {v} (plus any uncommitted changes in the tree)."
            );
        }
        for n in self.notes {
            let _ = writeln!(w, "- Note: {n}");
        }
        let _ = writeln!(w, "\n## Goals\n\n{goals_table}");

        // 1. Signing.
        let _ = writeln!(
            w,
            "## 1. Signing (criterion, `crates/polyv-core/benches/core.rs`)\n"
        );
        let _ = writeln!(
            w,
            "A get-by-uploader query with every option set, signed at a fixed time. The floor hashes the same canonical bytes \
             (parameters sorted and joined, secret appended) with one SHA-1 call.\n"
        );
        let _ = writeln!(
            w,
            "| Benchmark | Median | Min – max | ÷ SHA-1 floor |\n|---|---|---|---|"
        );
        let sha = self.crit_ns(SIGN_GROUP, SIGN_FLOOR);
        for f in [SIGN_FLOOR, "sign params", SIGNED_URL, PREPARE] {
            if let Some(c) = self.crit(SIGN_GROUP, f) {
                let (med, range) = fmt_stat_ns(c.ns);
                let _ = writeln!(
                    w,
                    "| {f} | {med} | {range} | {} |",
                    ratio(c.ns.median / sha)
                );
            }
        }
        if let Some(p) = self.py_micro {
            let s = p.sign_us;
            let _ = writeln!(
                w,
                "| Python: hashlib + urlencode, same parameters | {:.2} µs | {:.2} – {:.2} µs | {} |",
                s.median,
                s.min,
                s.max,
                ratio(s.median * 1e3 / sha)
            );
        }

        // 2. Parsing.
        let _ = writeln!(w, "\n## 2. Parsing (criterion)\n");
        let _ = writeln!(
            w,
            "A realistic page (Chinese titles and descriptions, tags present and absent, audio links, every status) \
             parsed from bytes. MB/s is 10⁶ bytes per second of the median.\n"
        );
        for items in [20, 1000] {
            let g = format!("parse {items} items");
            let page = self.crit_ns(&g, PAGE);
            let bytes = self.crit(&g, PAGE).and_then(|c| c.bytes);
            let _ = writeln!(
                w,
                "### {items} items ({} bytes)\n",
                bytes.map_or("?".into(), |b| b.to_string())
            );
            let _ = writeln!(
                w,
                "| Parse into | Median | Min – max | MB/s | ÷ `Page<Video>` |\n|---|---|---|---|---|"
            );
            let mut rows: Vec<(String, Crit)> = self
                .crit
                .iter()
                .filter(|((gr, _), _)| gr == &g)
                .map(|((_, f), c)| (f.clone(), *c))
                .collect();
            rows.sort_by(|a, b| a.1.ns.median.total_cmp(&b.1.ns.median).reverse());
            for (f, c) in rows {
                let (med, range) = fmt_stat_ns(c.ns);
                let mbs = c
                    .bytes
                    .map_or(f64::NAN, |b| b as f64 / (c.ns.median / 1e9) / 1e6);
                let _ = writeln!(
                    w,
                    "| {} | {med} | {range} | {mbs:.0} | {} |",
                    f.replace('<', "\\<"),
                    ratio(c.ns.median / page)
                );
            }
            if let (1000, Some(p)) = (items, self.py_micro) {
                let s = p.loads_ms;
                let mbs = bytes.map_or(f64::NAN, |b| b as f64 / (s.median / 1e3) / 1e6);
                let _ = writeln!(
                    w,
                    "| Python `json.loads` (same bytes) | {:.3} ms | {:.3} – {:.3} ms | {mbs:.0} | {} |",
                    s.median,
                    s.min,
                    s.max,
                    ratio(s.median * 1e6 / page)
                );
            }
            let _ = writeln!(w);
        }

        // 3. Walks.
        let pages = pages_of(o.videos, None);
        let _ = writeln!(w, "## 3. Walking a catalogue, end to end\n");
        let _ = writeln!(
            w,
            "The release `polyv-mock` binary serves the catalogue on 127.0.0.1 as a **separate process** (its own tokio runtime, \
             2 worker threads), started once per catalogue; it indexes the catalogue at start-up, so a page costs the same whatever \
             the catalogue's size. The walkers run in the release xtask (`xtask bench-run`); the async ones on a multi-threaded \
             tokio runtime, as `#[tokio::main]` gives. Client-side rate limit **off** (the mock does not throttle). Every walk \
             sends `orderType=1` and the server's default page size (20). Floors: the same HTTP library in a plain loop over \
             URLs signed just before the loop, reading each body and parsing nothing. The Python time is measured inside the \
             script (interpreter start-up and imports excluded). Walkers run interleaved, {} times each (Python {}). CPU columns: \
             median CPU seconds of the walking process and of the mock during a walk — the mock's share shows how much of a \
             floor's wall is the server.\n",
            o.reps, o.python_reps
        );
        let _ = writeln!(
            w,
            "### No injected latency: {} videos, {pages} pages\n",
            o.videos
        );
        self.walk_table(w, self.plain, true);
        let _ = writeln!(
            w,
            "### {} ms injected latency per request: {} videos, {} pages\n",
            o.latency_ms,
            o.latency_videos,
            pages_of(o.latency_videos, None)
        );
        let _ = writeln!(
            w,
            "Fewer pages than above so that the sequential walks stay near {:.0} s each. Repetitions: {}.\n",
            pages_of(o.latency_videos, None) as f64 * o.latency_ms as f64 / 1000.0,
            o.latency_reps
        );
        self.walk_table(w, self.slow, false);
        let _ = writeln!(
            w,
            "Videos yielded in the same (server) order by every Rust walker, fetch-ahead included: **{}** \
             (FNV digest of the video ids in yield order, compared across walks).\n",
            if same_order(self.slow) && same_order(self.plain) {
                "yes"
            } else {
                "NO"
            }
        );

        // Rate limit and page size.
        let _ = writeln!(w, "### The default rate limit, and `--page-size 1000`\n");
        let lim = self.limited;
        let per_page = lim.wall / lim.pages as f64;
        let _ = writeln!(
            w,
            "With `RateLimit::polyv_default()` (100 requests/s, bursts of 20; what `Client::new` and the CLI use), polyv-blocking \
             walked the first {} pages in {:.2} s ({:.1} pages/s); extrapolated linearly, the whole {pages}-page walk takes \
             **≈ {:.0} s**, against {:.2} s with the limit off.\n",
            lim.pages,
            lim.wall,
            lim.pages as f64 / lim.wall,
            per_page * pages as f64,
            find(self.plain, Walker::Blocking(1)).map_or(f64::NAN, Series::median)
        );
        let big = self.big_pages.first().and_then(Series::wall);
        let small = find(self.plain, Walker::Blocking(1)).map_or(f64::NAN, Series::median);
        let _ = writeln!(
            w,
            "| polyv-blocking, {} videos | Pages | Wall, limit off | Wall, default limit |\n|---|---|---|---|",
            o.videos
        );
        let _ = writeln!(
            w,
            "| page size 20 (default) | {pages} | {small:.3} s | ≈ {:.1} s (extrapolated from {} pages) |",
            per_page * pages as f64,
            lim.pages
        );
        if let Some(b) = big {
            let _ = writeln!(
                w,
                "| `--page-size 1000` | {} | {:.3} s ({:.3} – {:.3}) | {:.2} s (measured) |",
                pages_of(o.videos, Some(1000)),
                b.median,
                b.min,
                b.max,
                self.limited_big.wall
            );
            let _ = writeln!(
                w,
                "\n`--page-size 1000` saves {:.0}% of the wall with the limit off ({}) and {:.1}% with the default limit ({} faster).\n",
                (1.0 - b.median / small) * 100.0,
                ratio(small / b.median),
                (1.0 - self.limited_big.wall / (per_page * pages as f64)) * 100.0,
                ratio(per_page * pages as f64 / self.limited_big.wall)
            );
        }

        // 4. Memory.
        let _ = writeln!(w, "## 4. Memory: the CLI's peak RSS\n");
        let _ = writeln!(
            w,
            "`polyv videos by-uploader --all --format jsonl > /dev/null` (release binary, default rate limit) against the \
             release mock, peak RSS from `/usr/bin/time -v`.\n"
        );
        let _ = writeln!(
            w,
            "| Videos | Page size | Pages | Peak RSS | Wall |\n|---|---|---|---|---|"
        );
        for &(videos, size, kib, wall) in self.memory {
            let _ = writeln!(
                w,
                "| {videos} | {} | {} | {:.1} MiB | {wall:.2} s |",
                size.unwrap_or(20),
                pages_of(videos, size),
                kib as f64 / 1024.0
            );
        }
        let _ = writeln!(w, "\n{}", ANALYSIS.trim());
        let summary = format!(
            "polyv-rs benchmarks ({} run, {cores} cores)\n{goals_table}",
            o.label
        );
        (d, summary)
    }

    fn walk_table(&self, w: &mut String, series: &[Series], with_python: bool) {
        let _ = writeln!(
            w,
            "| Walker | Wall | Min – max | Pages/s | ÷ its floor | Python ÷ this | Client CPU | Mock CPU |\n|---|---|---|---|---|---|---|---|"
        );
        let m = |walker| find(series, walker).map_or(f64::NAN, Series::median);
        let python = m(Walker::Python);
        for s in series {
            let Some(wall) = s.wall() else { continue };
            let floor = match s.walker {
                Walker::Blocking(_) | Walker::UreqTimeout | Walker::UreqParse => {
                    m(Walker::UreqFloor)
                }
                Walker::Async(_) | Walker::ReqwestTimeout | Walker::ReqwestParse => {
                    m(Walker::ReqwestFloor)
                }
                _ => f64::NAN,
            };
            let (med, range) = fmt_s(wall);
            let pages = s.walks.first().map_or(0, |w| w.pages);
            let vs_python = if with_python || s.walker != Walker::Python {
                ratio(python / wall.median)
            } else {
                "n/a".into()
            };
            let _ = writeln!(
                w,
                "| {} | {med} | {range} | {:.0} | {} | {vs_python} | {:.2} s | {:.2} s |",
                s.walker.label(),
                pages as f64 / wall.median,
                ratio(wall.median / floor),
                s.cpu(|w| w.client_cpu),
                s.cpu(|w| w.mock_cpu),
            );
        }
        let _ = writeln!(w);
        // How much of a `+ parse` walk is the parse itself, timed call by call.
        for (parsing, floor) in [
            (Walker::UreqParse, Walker::UreqFloor),
            (Walker::ReqwestParse, Walker::ReqwestFloor),
        ] {
            let Some(s) = find(series, parsing) else {
                continue;
            };
            let parse = s.cpu(|w| w.parse);
            let pages = s.walks.first().map_or(0, |w| w.pages).max(1);
            let _ = writeln!(
                w,
                "- `{}`: parsing alone took {parse:.3} s ({:.1} µs per page), {:.0}% of the floor's wall.",
                parsing.label(),
                parse * 1e6 / pages as f64,
                parse / m(floor) * 100.0
            );
        }
        let _ = writeln!(w);
    }
}

/// The closing analysis, kept with the code that produces the figures.
const ANALYSIS: &str = r"
## Analysis: what limits the figures that miss their goal

- **Signing.** The signature itself (`sign`: pairs collected on the stack, names compared inline, the
  sort skipped when the endpoint lists its parameters in signing order, SHA-1 fed piece by piece,
  uppercase hex written straight from the digest) is about 2.2× the bare SHA-1. `signed_url` adds the
  query: the endpoint lists its parameters into a stack-held `Params` (text borrowed from the query,
  numbers formatted inline: nothing is allocated but the URL), `ptime` is placed in signing order, and
  every pair is form-urlencoded into the URL. Under perf, what stands above the SHA-1 is the encoder's
  byte-by-byte scan (~16%), the ~30 small `update` calls that copy into SHA-1's block buffer (~10%), and
  formatting three numbers (~8%). Tried and measured slower or no better: one contiguous buffer for
  SHA-1 (a byte loop: 1.4× slower than the pieces), hashing the URL's own bytes in long runs (~4% in a
  prototype, for more bookkeeping), writing the query byte by byte, a whole-value fast path in the
  encoder, and sorting the parameters in place instead of a list of pairs (every comparison turned
  numbers back into text: 1.5× slower). What got it from ~535 to ~430 ns: no allocation for the
  parameters or the path (`Endpoint::params` and `Endpoint::write_path` write into what the signer
  hands them), no `memcmp` call per name comparison, and smaller stack lists. `prepare` then parses the
  URL into an `http::Uri`, which validates every byte again, and builds the header map: fixed costs of
  the `http::Request` boundary. Python's sign + urlencode measures 14-16 µs here (not the ~24 µs
  reference), so ≥ 40× would need ~0.35-0.4 µs. Per page of a walk, signing is well under 1% of the time.
- **Noise.** This machine is shared: between full runs the ureq floor's median has moved from 0.48 to
  0.68 s, and with it the verdicts of the two `÷ its floor` rows (polyv-blocking 1.12× to 1.43×;
  polyv-async sequential 1.09× to 1.29×). Read those two rows as about 1.1-1.4×, not as met or missed.
  What held in every run is the comparison with the context rows below: each client lands close to the
  raw loop of its own library that parses.
- **Walks vs the raw floors: the parse the floor skips.** The context rows `raw ... loop + parse each
  page` are the floors plus `parse_response::<Page<Video>>` on every body and nothing else, and the
  lines under the table time that parse call by call: 18-21 µs per page inside a walk (cold caches,
  the body received on another core, the mock competing for the 2 cores; criterion measures ~12 µs for
  a 20-item page warm), which alone is 10-18% of the floor's wall. polyv-blocking lands on its
  parsing loop; polyv-async sequential at 1.0-1.1× its own (in one run its CPU was 0.06 s above the
  loop's over 5,000 pages; in perf profiles of earlier runs the two were within noise). A raw loop
  that adds nothing but the parse lands at 1.1-1.4× its floor across runs, so no sequential client
  that returns typed pages can reliably meet ≤ 1.15× on loopback; with 20 ms of latency client and
  floor are within 1%, and fetch-ahead (both clients: futures in async, worker threads in blocking)
  beats the floor.
  Moving each async page fetch and parse onto a runtime worker (`tokio::spawn`) was measured and did
  not help; under perf, a third of every loopback walk's CPU is the kernel switching between the
  client's and the mock's threads, for floors and clients alike.
- **polyv-blocking and ureq's timeouts.** With any timeout configured, ureq 3 resolves the host on a
  new thread for every request, even for an IP literal on a pooled connection; polyv-blocking plugs in
  a resolver that answers IP literals in place (the row `raw ureq loop + timeout_global(30 s)` shows
  the cost it avoids). What remains of the timeout is two `setsockopt` calls per request.
- **polyv-async.** The client's CPU per page matches the raw reqwest loop that parses (perf sample
  counts within noise); the reqwest timeout costs nothing measurable (context row).
- **Loopback walks are CPU-bound on 2 cores.** The mock and the client alternate on the same two
  cores; each walk's wall is roughly client CPU + mock CPU, which is why client-side microseconds show
  as wall time and why fetch-ahead helps even without injected latency (it overlaps the processes).
- **Parsing.** `Video` keeps its seven text fields in one allocation (accessors instead of `String`
  fields), which took `Page<Video>` from ~805 to ~620 µs for 1000 items. What remains above the
  borrowed-`&str` floor is that one allocation and copy per video.
- **Python.** `requests` costs ~0.8 ms of CPU per page; the ratio to Python is bounded by the mock's own
  share of the wall (it serves every walker alike).
- **Memory.** The CLI streams each page as it arrives and the walkers hold at most one page
  (fetch-ahead: n pages), so peak RSS does not grow with the catalogue.
- **Not measured:** a SIMD JSON parser (sonic-rs, simd-json): not a dependency of the workspace, and
  `Page<Video>` is already within reach of the borrowed-struct serde_json floor.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        let s = Stat::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Stat::of(&[1.0, 2.0, 3.0, 10.0]).unwrap().median, 2.5);
        assert!(Stat::of(&[]).is_none());
    }
}
