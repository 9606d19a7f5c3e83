//! The benchmark report: the goals table, the tables of figures and the
//! analysis (kept in `docs/benchmarks-analysis.md`), written to
//! `docs/benchmarks.md` by `cargo xtask bench`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use crate::bench::{Crit, Opts, PyMicro, Series, Stat, find, same_order};
use crate::e2e::{Walk, Walker, pages_of};
use crate::upload::{MIB, Run, UploadBench, Uploader};

/// One goal's line.
pub(crate) struct Goal {
    what: String,
    target: String,
    measured: f64,
    unit: &'static str,
    met: Option<bool>,
}

fn goal(what: &str, target: &str, measured: f64, met: impl Fn(f64) -> bool) -> Goal {
    goal_in("×", what, target, measured, met)
}

/// A goal on a measure in `unit` (µs, s) rather than a ratio.
fn goal_in(
    unit: &'static str,
    what: &str,
    target: &str,
    measured: f64,
    met: impl Fn(f64) -> bool,
) -> Goal {
    Goal {
        what: what.into(),
        target: target.into(),
        measured,
        unit,
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

pub(crate) struct Report<'a> {
    pub(crate) opts: &'a Opts,
    pub(crate) crit: &'a BTreeMap<(String, String), Crit>,
    pub(crate) py_micro: Option<&'a PyMicro>,
    pub(crate) plain: &'a [Series],
    pub(crate) big_pages: &'a [Series],
    pub(crate) limited: Walk,
    pub(crate) limited_big: Walk,
    pub(crate) slow: &'a [Series],
    pub(crate) memory: &'a [(usize, Option<u32>, u64, f64)],
    pub(crate) upload: &'a UploadBench,
    pub(crate) notes: &'a [String],
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
        goals.push(goal(
            "signing alone (`sign`, no URL or http::Request) ÷ bare SHA-1 of the canonical bytes",
            "≤ 4×",
            self.crit_ns(SIGN_GROUP, "sign params") / sha,
            |x| x <= 4.0,
        ));
        goals.push(goal_in(
            " µs",
            "signing, the whole `prepare` (sign + encode + `http::Request`)",
            "≤ 1 µs",
            prepare / 1000.0,
            |x| x <= 1.0,
        ));
        goals.push(goal(
            "signing, `prepare` ÷ bare SHA-1 (context)",
            "-",
            prepare / sha,
            |_| true,
        ));
        let py_sign_ns = self.py_micro.map_or(f64::NAN, |p| p.sign_us.median * 1e3);
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
        goals.push(goal_in(
            " s",
            "walk with no page size given (the walk asks for 1,000 a page), default rate limit",
            "≤ 1.5 s",
            self.limited_big.wall,
            |x| x <= 1.5,
        ));
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
        goals.extend(upload_goals(self.upload));
        goals
    }
}

fn goals_table(goals: &[Goal]) -> String {
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

impl Report<'_> {
    pub(crate) fn render(&self) -> (String, String) {
        let o = self.opts;
        let goals = self.goals();
        let goals_table = goals_table(&goals);
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
        machine(w, cores);
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
        let _ = writeln!(w);
        upload_section(w, self.upload);
        let _ = writeln!(w, "{}", ANALYSIS.trim());
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

/// The machine, compiler, Python and commit lines of a report's header.
fn machine(w: &mut String, cores: usize) {
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
}

/// `bytes` as MiB or KiB when it is a whole number of them.
fn size(bytes: u64) -> String {
    if bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{:.2} MiB", bytes as f64 / MIB as f64)
    }
}

/// The upload goals: each client's throughput against the raw PUT loop's,
/// and the CLI's peak RSS against parts in flight × part size + 32 MiB.
fn upload_goals(u: &UploadBench) -> Vec<Goal> {
    let s = u.sizes;
    let mut goals = Vec::new();
    for who in [Uploader::Blocking, Uploader::Async, Uploader::Cli] {
        let name = match who {
            Uploader::Blocking => "polyv-blocking",
            Uploader::Async => "polyv-async",
            _ => "CLI `polyv videos upload`",
        };
        goals.push(goal(
            &format!(
                "upload {}, {} parts, {} in flight: {name} ÷ raw ureq PUT loop, throughput",
                size(s.file),
                size(s.part),
                s.parallel
            ),
            "≥ 0.9×",
            u.vs_floor_median(who),
            |x| x >= 0.9,
        ));
    }
    let bound = s.rss_bound_kib() as f64 / 1024.0;
    goals.push(goal_in(
        " MiB",
        &format!(
            "upload: CLI peak RSS (highest of its runs) ≤ {} in flight × {} parts + 32 MiB",
            s.parallel,
            size(s.part)
        ),
        &format!("≤ {bound:.0} MiB"),
        u.cli_peak_kib().map_or(f64::NAN, |k| k as f64 / 1024.0),
        |x| x <= bound,
    ));
    goals
}

/// One of a run's times.
type RunTime = fn(&Run) -> Option<f64>;

/// Section 5: the upload table.
fn upload_section(w: &mut String, u: &UploadBench) {
    let s = u.sizes;
    let _ = writeln!(w, "## 5. Uploading a file, end to end\n");
    let _ = writeln!(
        w,
        "A {} file of pseudo-random bytes (`{}`, generated once), in {} parts of {}, {} in flight, uploaded \
         to the `polyv-mock` binary (a separate process, `--drop-part-bytes`: it reads and hashes each part, then \
         keeps only its length and ETag) on 127.0.0.1; every run is a new video with a fresh resume-state directory. \
         The floor is a plain ureq agent on {} threads PUTting the parts, each streamed from the file as \
         polyv-blocking streams them, over heads signed before the loop; `init`, InitiateMultipartUpload and \
         CompleteMultipartUpload are outside its timing (the context row times them too). The SDK rows time the \
         whole `upload` call (`init`, Initiate, the parts, the state file saved after each part, Complete) in this \
         process; the CLI row the whole `polyv videos upload` process, under `/usr/bin/time -v` (its peak RSS; its \
         CPU is user + system from the same report). Runs interleaved in rounds (floor, blocking, async, CLI), {} \
         rounds, after one untimed run of the floor. MB/s is 10⁶ bytes per second of the median wall. \
         `Throughput ÷ floor`: in each round, the floor's wall ÷ this row's (the same bytes), median (min – max) \
         over the rounds.\n",
        size(s.file),
        u.fixture.file_name().map_or_else(String::new, |n| format!(
            "target/bench-fixtures/{}",
            n.to_string_lossy()
        )),
        s.parts(),
        size(s.part),
        s.parallel,
        s.parallel,
        s.reps
    );
    let _ = writeln!(
        w,
        "| Uploader | Wall | Min – max | MB/s | Throughput ÷ floor | Client CPU | Mock CPU | Peak RSS |\n|---|---|---|---|---|---|---|---|"
    );
    let bound = s.rss_bound_kib() as f64 / 1024.0;
    for who in Uploader::ALL {
        let Some(wall) = u.wall(who) else { continue };
        let (med, range) = fmt_s(wall);
        let cpu = |f: fn(&Run) -> f64| u.stat(who, f).map_or(f64::NAN, |s| s.median);
        let rss = u.runs(who).filter_map(|r| r.peak_kib).max().map_or_else(
            || "-".to_owned(),
            |kib| format!("{:.1} MiB (bound {bound:.0} MiB)", kib as f64 / 1024.0),
        );
        let vs_floor = match (who, u.vs_floor(who)) {
            (Uploader::Floor, _) => "1×".to_owned(),
            (_, Some(r)) => format!("{} ({} – {})", ratio(r.median), ratio(r.min), ratio(r.max)),
            (_, None) => "n/a".to_owned(),
        };
        let _ = writeln!(
            w,
            "| {} | {med} | {range} | {:.0} | {vs_floor} | {:.2} s | {:.2} s | {rss} |",
            who.label(),
            u.mb_per_s(who),
            cpu(|r| r.client_cpu),
            cpu(|r| r.mock_cpu),
        );
        // Context: the floor with its untimed steps, the CLI without its process.
        let context: Option<(&str, RunTime)> = match who {
            Uploader::Floor => Some((
                "context: the same floor runs, `init`, Initiate, signing and Complete timed too",
                |r| r.whole,
            )),
            Uploader::Cli => Some((
                "context: the same CLI runs, its upload call alone (the `seconds` it prints)",
                |r| r.call,
            )),
            _ => None,
        };
        if let Some((label, time)) = context {
            if let Some(t) = u.stat(who, |r| time(r).unwrap_or(f64::NAN)) {
                let (med, range) = fmt_s(t);
                let vs = u.vs_floor_by(who, time).map_or_else(
                    || "n/a".to_owned(),
                    |r| format!("{} ({} – {})", ratio(r.median), ratio(r.min), ratio(r.max)),
                );
                let _ = writeln!(
                    w,
                    "| {label} | {med} | {range} | {:.0} | {vs} | | | |",
                    s.file as f64 / t.median / 1e6,
                );
            }
        }
    }
    let _ = writeln!(w);
}

/// `xtask bench-run --upload-only`: the upload goals and section alone.
pub(crate) fn render_upload_only(o: &Opts, u: &UploadBench) -> (String, String) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let goals_table = goals_table(&upload_goals(u));
    let mut d = String::new();
    let w = &mut d;
    let _ = writeln!(w, "# Benchmarks: uploads only\n");
    let _ = writeln!(
        w,
        "Written by `xtask bench-run --upload-only` ({} sizes); every ratio compares two figures of the same run. \
         The full report is `cargo xtask bench`'s `docs/benchmarks.md`.\n",
        o.label
    );
    machine(w, cores);
    let _ = writeln!(w, "\n## Goals\n\n{goals_table}");
    upload_section(w, u);
    let summary = format!(
        "polyv-rs upload benchmarks ({} sizes, {cores} cores)\n{goals_table}",
        o.label
    );
    (d, summary)
}

/// The closing analysis, written beside the figures it explains.
const ANALYSIS: &str = include_str!("../../docs/benchmarks-analysis.md");
