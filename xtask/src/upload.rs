//! The upload rows of `cargo xtask bench`: a generated file uploaded to the
//! `polyv-mock` binary (a separate process, `--drop-part-bytes`) on
//! 127.0.0.1, by polyv-blocking, polyv-async and the CLI, against a raw
//! floor: a plain ureq loop that PUTs the same parts, signed beforehand.
//!
//! - The floor does `init` and InitiateMultipartUpload untimed, signs every
//!   part's head, then times only the PUT loop: `parallel` threads, each
//!   part streamed from the file (`SendBody::from_reader` over a `take` of
//!   it, as polyv-blocking sends them), each answer checked for 200 and an
//!   ETag. CompleteMultipartUpload follows, untimed.
//! - The SDK rows time the whole `upload` call (init, initiate, the parts,
//!   the state saves, complete): in-process for the two clients, and the
//!   whole process for `polyv videos upload`, run under `/usr/bin/time -v`
//!   for its peak RSS. Each run is a new video with a fresh state directory.
//!
//! Runs are interleaved (floor, blocking, async, CLI, then again), after
//! one untimed run of the floor that warms the page cache and the mock.

use std::fs::File;
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use polyv_core::upload::{
    FinishedPart, InitUpload, Part, PartPlan, RequestHead, UploadOptions, Uploaded, UrlScheme,
    file_extension, parse_initiate,
};

use crate::bench::{Opts, Stat};
use crate::e2e::{Mock, Res, Timed, Timer, err, time_v};

pub(crate) const MIB: u64 = 1024 * 1024;

/// How big the upload rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sizes {
    /// The file's size in bytes.
    pub(crate) file: u64,
    /// The part size in bytes.
    pub(crate) part: u64,
    /// Parts in flight.
    pub(crate) parallel: usize,
    /// Timed runs of each uploader.
    pub(crate) reps: usize,
}

impl Sizes {
    /// The goal on the CLI's peak RSS: parts in flight × part size + 32 MiB.
    pub(crate) fn rss_bound_kib(&self) -> u64 {
        (self.parallel as u64 * self.part + 32 * MIB) / 1024
    }

    pub(crate) fn parts(&self) -> u64 {
        self.file.div_ceil(self.part)
    }
}

/// Who uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Uploader {
    /// The raw ureq PUT loop over pre-signed parts.
    Floor,
    /// `polyv_blocking::Client::upload`, in-process.
    Blocking,
    /// `polyv_async::Client::upload` on a multi-threaded runtime, in-process.
    Async,
    /// `polyv videos upload`, a process under `/usr/bin/time -v`.
    Cli,
}

impl Uploader {
    pub(crate) const ALL: [Self; 4] = [Self::Floor, Self::Blocking, Self::Async, Self::Cli];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Floor => "floor: raw ureq PUT loop, pre-signed (parts only)",
            Self::Blocking => "polyv-blocking `Client::upload`",
            Self::Async => "polyv-async `Client::upload`",
            Self::Cli => "CLI `polyv videos upload` (whole process)",
        }
    }
}

/// One timed upload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Run {
    /// Wall seconds.
    pub(crate) wall: f64,
    /// CPU seconds of the uploading process during the run.
    pub(crate) client_cpu: f64,
    /// CPU seconds of the mock during the run.
    pub(crate) mock_cpu: f64,
    /// The CLI's peak RSS, KiB.
    pub(crate) peak_kib: Option<u64>,
    /// The floor's wall with its untimed steps (init, Initiate, signing
    /// the heads, Complete) included: context.
    pub(crate) whole: Option<f64>,
    /// The CLI's own timing of its upload call (the `seconds` it prints),
    /// without the process's start and exit: context.
    pub(crate) call: Option<f64>,
}

/// Every run of the upload rows.
#[derive(Debug, Clone)]
pub(crate) struct UploadBench {
    pub(crate) sizes: Sizes,
    pub(crate) fixture: PathBuf,
    /// Every timed run: its round (from 0), who, what it measured.
    pub(crate) runs: Vec<(usize, Uploader, Run)>,
}

impl UploadBench {
    pub(crate) fn runs(&self, who: Uploader) -> impl Iterator<Item = &Run> {
        self.runs.iter().filter(move |r| r.1 == who).map(|r| &r.2)
    }

    pub(crate) fn stat(&self, who: Uploader, f: impl Fn(&Run) -> f64) -> Option<Stat> {
        Stat::of(&self.runs(who).map(f).collect::<Vec<_>>())
    }

    pub(crate) fn wall(&self, who: Uploader) -> Option<Stat> {
        self.stat(who, |r| r.wall)
    }

    /// Median throughput, 10⁶ bytes per second.
    pub(crate) fn mb_per_s(&self, who: Uploader) -> f64 {
        self.wall(who)
            .map_or(f64::NAN, |s| self.sizes.file as f64 / s.median / 1e6)
    }

    /// `who`'s throughput ÷ the floor's, run beside it: in each round, the
    /// floor's wall ÷ `who`'s (the same bytes), then the median over the
    /// rounds, so that a drift of the shared machine between rounds
    /// touches both sides of each ratio alike.
    pub(crate) fn vs_floor(&self, who: Uploader) -> Option<Stat> {
        self.vs_floor_by(who, |r| Some(r.wall))
    }

    /// [`UploadBench::vs_floor`] with `who`'s time taken by `time`.
    pub(crate) fn vs_floor_by(
        &self,
        who: Uploader,
        time: impl Fn(&Run) -> Option<f64>,
    ) -> Option<Stat> {
        let run = |round: usize, w: Uploader| {
            self.runs
                .iter()
                .find(|r| r.0 == round && r.1 == w)
                .map(|r| &r.2)
        };
        let rounds = self.runs.iter().map(|r| r.0 + 1).max().unwrap_or(0);
        let ratios: Vec<f64> = (0..rounds)
            .filter_map(|round| Some(run(round, Uploader::Floor)?.wall / time(run(round, who)?)?))
            .collect();
        Stat::of(&ratios)
    }

    /// The median of [`UploadBench::vs_floor`], NaN when there is none.
    pub(crate) fn vs_floor_median(&self, who: Uploader) -> f64 {
        self.vs_floor(who).map_or(f64::NAN, |s| s.median)
    }

    /// The CLI's highest peak RSS over its runs, KiB.
    pub(crate) fn cli_peak_kib(&self) -> Option<u64> {
        self.runs(Uploader::Cli).filter_map(|r| r.peak_kib).max()
    }
}

/// The file the rows upload: `size` bytes of deterministic pseudo-random
/// content under `dir`, generated once and reused while its size is right.
pub(crate) fn fixture(dir: &Path, size: u64) -> Res<PathBuf> {
    let name = if size % MIB == 0 {
        format!("upload-{}m.bin", size / MIB)
    } else {
        format!("upload-{size}b.bin")
    };
    let path = dir.join(name);
    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == size) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(err)?;
    eprintln!("xtask bench: generating {} ({size} bytes)", path.display());
    let temp = path.with_extension(format!("bin.{}.tmp", std::process::id()));
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&temp).map_err(err)?);
    // splitmix64: incompressible enough that nothing on the way can shortcut it.
    let mut state: u64 = 0x5eed_5eed_5eed_5eed;
    let mut left = size;
    let mut block = vec![0u8; 1 << 16];
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            word.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        let n = usize::try_from(left.min(block.len() as u64)).map_err(err)?;
        out.write_all(&block[..n]).map_err(err)?;
        left -= n as u64;
    }
    out.into_inner()
        .map_err(|e| e.to_string())?
        .sync_all()
        .map_err(err)?;
    std::fs::rename(&temp, &path).map_err(err)?;
    Ok(path)
}

/// Reads the file once so that every run finds it in the page cache.
fn warm_page_cache(path: &Path) -> Res<()> {
    let mut file = File::open(path).map_err(err)?;
    let mut buf = vec![0u8; 1 << 20];
    while file.read(&mut buf).map_err(err)? > 0 {}
    Ok(())
}

/// A [`Timer`]'s figures as an upload row's run.
fn run_of(timer: Timer<'_>) -> Run {
    let Timed {
        wall,
        client_cpu,
        mock_cpu,
    } = timer.stop();
    Run {
        wall,
        client_cpu,
        mock_cpu,
        peak_kib: None,
        whole: None,
        call: None,
    }
}

/// A fresh, empty directory for one run's resume state (or the CLI's
/// `XDG_CACHE_HOME`), so that no run resumes another.
struct StateDir(PathBuf);

impl StateDir {
    fn new(root: &Path, n: usize) -> Res<Self> {
        let dir = root.join(format!("run-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(err)?;
        Ok(Self(dir))
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the rows need to run.
pub(crate) struct Bencher<'a> {
    sizes: Sizes,
    mock: &'a Mock,
    cli: &'a Path,
    file: &'a Path,
    state_root: PathBuf,
    rt: tokio::runtime::Runtime,
    count: usize,
}

/// Runs the upload rows: the mock (with `--drop-part-bytes`) from
/// `opts.bin_dir`, the fixture under `opts.fixtures()`.
pub(crate) fn run(opts: &Opts) -> Res<UploadBench> {
    let sizes = opts.upload;
    let file = fixture(&opts.fixtures(), sizes.file)?;
    warm_page_cache(&file)?;
    let mock = Mock::start_with(
        &opts.bin_dir.join("polyv-mock"),
        20,
        None,
        &["--drop-part-bytes"],
    )?;
    let cli = opts.bin_dir.join("polyv");
    eprintln!(
        "xtask bench: upload of {:.1} MiB, {} parts of {} KiB, {} in flight, {} runs each",
        sizes.file as f64 / MIB as f64,
        sizes.parts(),
        sizes.part / 1024,
        sizes.parallel,
        sizes.reps
    );
    let mut bencher = Bencher {
        sizes,
        mock: &mock,
        cli: &cli,
        file: &file,
        state_root: opts.target.join("bench-results/upload-state"),
        // What `#[tokio::main]` gives a user: the multi-threaded runtime.
        rt: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(err)?,
        count: 0,
    };
    // Untimed: the page cache, the mock's first allocations.
    bencher.floor()?;
    let mut runs = Vec::new();
    for round in 0..sizes.reps {
        for who in Uploader::ALL {
            let run = bencher.one(who)?;
            eprintln!(
                "xtask bench: upload {:<50} {:>7.3} s  {:>7.1} MB/s  (client CPU {:.2} s, mock CPU {:.2} s{})",
                who.label(),
                run.wall,
                sizes.file as f64 / run.wall / 1e6,
                run.client_cpu,
                run.mock_cpu,
                run.peak_kib.map_or(String::new(), |k| format!(
                    ", peak RSS {:.1} MiB",
                    k as f64 / 1024.0
                ))
            );
            runs.push((round, who, run));
        }
    }
    let _ = std::fs::remove_dir(&bencher.state_root);
    Ok(UploadBench {
        sizes,
        fixture: file,
        runs,
    })
}

impl Bencher<'_> {
    fn one(&mut self, who: Uploader) -> Res<Run> {
        match who {
            Uploader::Floor => self.floor(),
            Uploader::Blocking => self.blocking(),
            Uploader::Async => self.asynchronous(),
            Uploader::Cli => self.cli(),
        }
    }

    fn state_dir(&mut self) -> Res<StateDir> {
        self.count += 1;
        StateDir::new(&self.state_root, self.count)
    }

    fn options(&self, state: &StateDir) -> UploadOptions {
        UploadOptions::new()
            .title("xtask bench upload")
            .parallel(self.sizes.parallel)
            .part_size(self.sizes.part)
            .state_dir(&state.0)
    }

    /// A client's upload made a new video of the whole file.
    fn check(&self, who: Uploader, done: &Uploaded) -> Res<()> {
        if done.vid.is_empty() || done.resumed || done.bytes_sent != self.sizes.file {
            return Err(format!(
                "{}: not a fresh upload of the whole file: {done:?}",
                who.label()
            ));
        }
        Ok(())
    }

    fn blocking(&mut self) -> Res<Run> {
        let state = self.state_dir()?;
        let client = polyv_blocking::Client::new(self.mock.config(true)?).map_err(err)?;
        let options = self.options(&state);
        let timer = Timer::start(self.mock);
        let done = client.upload(self.file, options).map_err(err)?;
        let run = run_of(timer);
        self.check(Uploader::Blocking, &done)?;
        Ok(run)
    }

    fn asynchronous(&mut self) -> Res<Run> {
        let state = self.state_dir()?;
        let config = self.mock.config(true)?;
        let options = self.options(&state);
        let (mock, file) = (self.mock, self.file);
        let (run, done) = self.rt.block_on(async {
            let client = polyv_async::Client::new(config).map_err(err)?;
            let timer = Timer::start(mock);
            let done = client.upload(file, options).await.map_err(err)?;
            Ok::<_, String>((run_of(timer), done))
        })?;
        self.check(Uploader::Async, &done)?;
        Ok(run)
    }

    /// `polyv videos upload FILE --parallel N --part-size S --format jsonl`
    /// under `/usr/bin/time -v`, with its cache in a fresh directory.
    fn cli(&mut self) -> Res<Run> {
        let cache = self.state_dir()?;
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-v")
            .arg(self.cli)
            .args(["videos", "upload"])
            .arg(self.file)
            .args(["--parallel", &self.sizes.parallel.to_string()])
            .args(["--part-size", &self.sizes.part.to_string()])
            .args(["--format", "jsonl"])
            .env("POLYV_USER_ID", &self.mock.user)
            .env("POLYV_SECRET_KEY", &self.mock.secret)
            .env("POLYV_BASE_URL", &self.mock.base_url)
            .env("XDG_CACHE_HOME", &cache.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mock_cpu = self.mock.cpu();
        let started = Instant::now();
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
        let wall = started.elapsed().as_secs_f64();
        let mock_cpu = self.mock.cpu() - mock_cpu;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("the CLI upload failed ({}): {stderr}", out.status));
        }
        let record: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "the CLI upload printed no record ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })?;
        if record["vid"].as_str().is_none_or(str::is_empty)
            || record["bytes"].as_u64() != Some(self.sizes.file)
        {
            return Err(format!("the CLI upload printed {record}"));
        }
        let seconds = |name| time_v::<f64>(&stderr, name).unwrap_or(f64::NAN);
        let peak_kib = time_v(&stderr, "Maximum resident set size (kbytes)")
            .ok_or_else(|| format!("no peak RSS in /usr/bin/time's output: {stderr}"))?;
        Ok(Run {
            wall,
            client_cpu: seconds("User time (seconds)") + seconds("System time (seconds)"),
            mock_cpu,
            peak_kib: Some(peak_kib),
            whole: None,
            call: record["seconds"].as_f64(),
        })
    }

    /// The floor: init and InitiateMultipartUpload untimed, every part's
    /// head signed up front, then the timed loop of PUTs, then Complete.
    fn floor(&mut self) -> Res<Run> {
        let sizes = self.sizes;
        let whole = Instant::now();
        let client = polyv_blocking::Client::new(self.mock.config(false)?).map_err(err)?;
        let ticket = client
            .call(&InitUpload::new("xtask bench upload floor", sizes.file).map_err(err)?)
            .map_err(err)?;
        let oss = ticket
            .oss_requests(
                UrlScheme::of_base_url(&self.mock.base_url),
                file_extension(&self.file.to_string_lossy()),
            )
            .map_err(err)?;
        let agent = ureq::Agent::new_with_defaults();
        let initiate = oss.initiate(SystemTime::now()).map_err(err)?;
        let body = agent
            .run(initiate)
            .map_err(err)?
            .body_mut()
            .read_to_vec()
            .map_err(err)?;
        let upload_id = parse_initiate(&body).map_err(err)?;
        let plan = PartPlan::with_part_size(sizes.file, sizes.part).map_err(err)?;
        let now = SystemTime::now();
        let jobs = plan
            .parts()
            .map(|part| {
                oss.upload_part_head(part.number, &upload_id, part.len, now)
                    .map(|head| (part, head))
                    .map_err(err)
            })
            .collect::<Res<Vec<_>>>()?;
        let queue = Mutex::new(jobs.into_iter());

        let timer = Timer::start(self.mock);
        let answers = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..sizes.parallel)
                .map(|_| scope.spawn(|| put_parts(&agent, self.file, &queue)))
                .collect();
            threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err("a PUT thread panicked".into()))
                })
                .collect::<Vec<_>>()
        });
        let run = run_of(timer);

        let mut parts = Vec::new();
        for answer in answers {
            parts.extend(answer?);
        }
        if parts.len() != plan.part_count() as usize {
            return Err(format!(
                "the floor stored {} parts of {}",
                parts.len(),
                plan.part_count()
            ));
        }
        let complete = oss
            .complete(
                &upload_id,
                &parts,
                ticket.oss_callback().map_err(err)?.as_ref(),
                SystemTime::now(),
            )
            .map_err(err)?;
        let mut answer = agent
            .run(complete)
            .map_err(|e| format!("the floor's Complete failed: {e}"))?;
        answer.body_mut().read_to_vec().map_err(err)?;
        Ok(Run {
            whole: Some(whole.elapsed().as_secs_f64()),
            ..run
        })
    }
}

/// One PUT thread of the floor: takes parts off the queue until it is
/// empty, each streamed from the file, each answer 200 with an ETag.
fn put_parts(
    agent: &ureq::Agent,
    path: &Path,
    queue: &Mutex<std::vec::IntoIter<(Part, RequestHead)>>,
) -> Res<Vec<FinishedPart>> {
    let file = File::open(path).map_err(err)?;
    let mut done = Vec::new();
    loop {
        let job = queue.lock().map_err(err)?.next();
        let Some((part, head)) = job else {
            return Ok(done);
        };
        (&file).seek(SeekFrom::Start(part.offset)).map_err(err)?;
        let mut body = (&file).take(part.len);
        let request = head.map(|()| ureq::SendBody::from_reader(&mut body));
        let mut answer = agent.run(request).map_err(err)?;
        if answer.status() != 200 {
            return Err(format!("part {}: HTTP {}", part.number, answer.status()));
        }
        let etag = answer
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("part {}: no ETag", part.number))?
            .to_owned();
        answer.body_mut().read_to_vec().map_err(err)?;
        done.push(FinishedPart::new(part.number, etag));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_bound_and_parts() {
        let s = Sizes {
            file: 256 * MIB,
            part: 8 * MIB,
            parallel: 4,
            reps: 3,
        };
        assert_eq!(s.rss_bound_kib(), 64 * 1024);
        assert_eq!(s.parts(), 32);
    }

    #[test]
    fn fixture_is_deterministic_and_reused() {
        let dir = std::env::temp_dir().join(format!("xtask-fixture-{}", std::process::id()));
        let a = fixture(&dir, 100_003).unwrap();
        let first = std::fs::read(&a).unwrap();
        assert_eq!(first.len(), 100_003);
        assert!(first.iter().filter(|&&b| b == 0).count() < 1000);
        std::fs::remove_file(&a).unwrap();
        let b = fixture(&dir, 100_003).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ratios() {
        let run = |wall| Run {
            wall,
            client_cpu: 0.0,
            mock_cpu: 0.0,
            peak_kib: None,
            whole: None,
            call: None,
        };
        let bench = UploadBench {
            sizes: Sizes {
                file: 1_000_000,
                part: MIB,
                parallel: 4,
                reps: 2,
            },
            fixture: PathBuf::new(),
            runs: vec![
                (0, Uploader::Floor, run(1.0)),
                (0, Uploader::Blocking, run(2.0)),
                (1, Uploader::Floor, run(2.0)),
                (1, Uploader::Blocking, run(2.0)),
                (2, Uploader::Floor, run(1.0)),
                (2, Uploader::Blocking, run(4.0)),
            ],
        };
        // Round by round: 0.5, 1.0, 0.25.
        let ratio = bench.vs_floor(Uploader::Blocking).unwrap();
        assert_eq!((ratio.median, ratio.min, ratio.max), (0.5, 0.25, 1.0));
        assert_eq!(bench.mb_per_s(Uploader::Floor), 1.0);
        assert!(bench.vs_floor_median(Uploader::Async).is_nan());
        assert_eq!(bench.cli_peak_kib(), None);
    }
}
