//! `cargo xtask bench`'s second half, run by the release xtask (`xtask
//! bench-run`): reads criterion's results, runs the Python micro-benchmarks,
//! the end-to-end walks and the CLI memory walks, then writes
//! `docs/benchmarks.md` and prints the goals table. The smoke (`cargo xtask
//! test`) runs the same code in debug with a tiny catalogue and writes its
//! report under `target/` instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::e2e::{Harness, Mock, Res, Walk, Walker, cli_peak_rss, pages_of};
use crate::report::Report;
use crate::upload::{MIB, Sizes};

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
    /// The upload rows: file, part size, parts in flight, runs.
    pub(crate) upload: Sizes,
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
            upload: Sizes {
                file: 256 * MIB,
                part: 8 * MIB,
                parallel: 4,
                reps: 11,
            },
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
        o.upload.file = 64 * MIB;
        o.upload.reps = 1;
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
        // A short last part too.
        o.upload = Sizes {
            file: 3 * MIB + 4321,
            part: 512 * 1024,
            parallel: 4,
            reps: 1,
        };
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
pub(crate) struct Crit {
    pub(crate) ns: Stat,
    pub(crate) bytes: Option<u64>,
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
pub(crate) struct PyMicro {
    pub(crate) sign_us: Stat,
    pub(crate) loads_ms: Stat,
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
pub(crate) struct Series {
    pub(crate) walker: Walker,
    pub(crate) walks: Vec<Walk>,
}

impl Series {
    pub(crate) fn wall(&self) -> Option<Stat> {
        Stat::of(&self.walks.iter().map(|w| w.wall).collect::<Vec<_>>())
    }
    pub(crate) fn median(&self) -> f64 {
        self.wall().map_or(f64::NAN, |s| s.median)
    }
    pub(crate) fn cpu(&self, f: impl Fn(&Walk) -> f64) -> f64 {
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
pub(crate) fn same_order(series: &[Series]) -> bool {
    let digests: Vec<u64> = series
        .iter()
        .filter(|s| matches!(s.walker, Walker::Blocking(_) | Walker::Async(_)))
        .flat_map(|s| s.walks.iter().map(|w| w.digest))
        .collect();
    digests.windows(2).all(|w| w[0] == w[1])
}

pub(crate) fn find(series: &[Series], walker: Walker) -> Option<&Series> {
    series.iter().find(|s| s.walker == walker)
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

    // 5: uploads.
    let upload = crate::upload::run(opts)?;

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
        upload: &upload,
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

/// `xtask bench-run --upload-only`: only the upload rows, their goals and
/// table written under `target/bench-results/` (never `docs/`).
pub(crate) fn upload_only(opts: &Opts) -> Res<()> {
    let upload = crate::upload::run(opts)?;
    let (markdown, summary) = crate::report::render_upload_only(opts, &upload);
    let out = opts
        .target
        .join(format!("bench-results/benchmarks-upload-{}.md", opts.label));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&out, markdown).map_err(|e| e.to_string())?;
    println!("{summary}");
    println!("written: {}", out.display());
    Ok(())
}

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
