//! End-to-end walks: every client, the raw floors of its HTTP library and the
//! Python alternative walk a catalogue served by the release `polyv-mock`
//! binary, run as a separate process so that the server never shares the
//! client's threads or runtime; and the CLI's peak memory on a long walk.
//!
//! Everything talks to 127.0.0.1 only.

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt as _;
use polyv_core::{
    Config, Credentials, GetByUploader, Order, Page, Paged as _, Video, driver::unix_ms,
    parse_response,
};

/// An error message; the harness stops on the first one.
pub(crate) type Res<T> = Result<T, String>;

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The release (or, for the smoke, debug) `polyv-mock` binary, running.
pub(crate) struct Mock {
    child: Child,
    pub(crate) base_url: String,
    pub(crate) user: String,
    pub(crate) secret: String,
    pub(crate) videos: usize,
}

/// How many videos the mock must generate (seed 1, its default) for the demo
/// account to list exactly `listed`: the generator also makes videos of other
/// accounts, which get-by-uploader never lists. The generator is
/// prefix-stable, so the first `n` of a longer run are what `--videos n` makes.
pub(crate) fn catalogue_for(listed: usize) -> usize {
    let subs = polyv_mock::DEMO_SUB_ACCOUNTS;
    let mut guess = listed + listed / 2 + 100;
    loop {
        let ds = polyv_mock::Dataset::generate(1, guess);
        let mut seen = 0;
        for (i, v) in ds.videos.iter().enumerate() {
            if v.user_id == polyv_mock::DEMO_USER_ID && subs.contains(&v.uploader_email.as_str()) {
                seen += 1;
                if seen == listed {
                    return i + 1;
                }
            }
        }
        guess *= 2;
    }
}

impl Mock {
    /// Starts the mock with a catalogue in which the demo account lists
    /// `videos` videos (indexed once at start-up), with optional injected
    /// latency, and waits until it listens.
    pub(crate) fn start(bin: &Path, videos: usize, latency_ms: Option<u64>) -> Res<Self> {
        Self::start_with(bin, videos, latency_ms, &[])
    }

    /// [`Mock::start`] with more of the mock's flags (`--drop-part-bytes`).
    pub(crate) fn start_with(
        bin: &Path,
        videos: usize,
        latency_ms: Option<u64>,
        flags: &[&str],
    ) -> Res<Self> {
        let mut cmd = Command::new(bin);
        let catalogue = catalogue_for(videos);
        cmd.args(["--port", "0", "--videos", &catalogue.to_string(), "--quiet"]);
        if let Some(ms) = latency_ms {
            cmd.args(["--latency-ms", &ms.to_string()]);
        }
        cmd.args(flags);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("the mock has no stdout")?;
        let (mut base_url, mut user, mut secret) = (None, None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(err)?;
            if let Some(v) = line.strip_prefix("POLYV_BASE_URL=") {
                base_url = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("POLYV_USER_ID=") {
                user = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("POLYV_SECRET_KEY=") {
                secret = Some(v.to_owned());
            } else if line.starts_with("endpoint:") {
                break;
            }
        }
        let mut mock = Mock {
            child,
            base_url: String::new(),
            user: String::new(),
            secret: String::new(),
            videos,
        };
        match (base_url, user, secret) {
            (Some(b), Some(u), Some(s)) => {
                (mock.base_url, mock.user, mock.secret) = (b, u, s);
                Ok(mock)
            }
            _ => Err("the mock did not print its address and account".into()),
        }
    }

    /// The mock's CPU time so far (user + system), in seconds.
    pub(crate) fn cpu(&self) -> f64 {
        proc_cpu(&format!("/proc/{}/stat", self.child.id()))
    }

    pub(crate) fn config(&self, limited: bool) -> Res<Config> {
        let config = Config::new(Credentials::new(&self.user, &self.secret).map_err(err)?)
            .with_base_url(&self.base_url)
            .map_err(err)?;
        Ok(if limited {
            config
        } else {
            config.with_rate_limit(None)
        })
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU seconds of a process, from `/proc/<pid>/stat` (0 where
/// there is no procfs).
pub(crate) fn proc_cpu(stat: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at field 3;
    // utime and stime are fields 14 and 15, in clock ticks (100 per second).
    let Some((_, rest)) = text.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => 0.0,
    }
}

/// One walk's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Walk {
    /// Wall time, seconds.
    pub(crate) wall: f64,
    pub(crate) videos: u64,
    pub(crate) pages: u64,
    /// FNV-1a of the video ids in the order yielded (the floors: of the bytes).
    pub(crate) digest: u64,
    /// The walking process's CPU seconds during the walk.
    pub(crate) client_cpu: f64,
    /// The mock's CPU seconds during the walk.
    pub(crate) mock_cpu: f64,
    /// Seconds spent inside `parse_response` (the `+ parse` context walks
    /// time each call; 0 for the others).
    pub(crate) parse: f64,
}

/// Wall and CPU of one run, this process's and the mock's.
pub(crate) struct Timer<'a> {
    mock: &'a Mock,
    wall: Instant,
    client_cpu: f64,
    mock_cpu: f64,
}

/// What a [`Timer`] measured, in seconds.
pub(crate) struct Timed {
    pub(crate) wall: f64,
    pub(crate) client_cpu: f64,
    pub(crate) mock_cpu: f64,
}

impl<'a> Timer<'a> {
    pub(crate) fn start(mock: &'a Mock) -> Self {
        Self {
            mock,
            client_cpu: proc_cpu("/proc/self/stat"),
            mock_cpu: mock.cpu(),
            wall: Instant::now(),
        }
    }

    pub(crate) fn stop(self) -> Timed {
        Timed {
            wall: self.wall.elapsed().as_secs_f64(),
            client_cpu: proc_cpu("/proc/self/stat") - self.client_cpu,
            mock_cpu: self.mock.cpu() - self.mock_cpu,
        }
    }

    fn finish(self, videos: u64, pages: u64, digest: u64) -> Walk {
        let Timed {
            wall,
            client_cpu,
            mock_cpu,
        } = self.stop();
        Walk {
            wall,
            videos,
            pages,
            digest,
            client_cpu,
            mock_cpu,
            parse: 0.0,
        }
    }
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes.iter().chain(b"\n") {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The query every walker sends: oldest first (`orderType=1`), like the
/// Python script, and `pageSize` stated even when it is the server's 20:
/// the clients' walks would otherwise ask for 1,000 (their default since
/// issue 16), and the rows compare walks of the same pages. The rows at
/// 1,000 a page are what a walk with no page size given does now.
fn query(page_size: Option<u32>) -> Res<GetByUploader> {
    GetByUploader::builder()
        .order(Order::PtimeAsc)
        .page_size(page_size.unwrap_or(20))
        .build()
        .map_err(err)
}

/// Which walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walker {
    /// polyv-blocking's `videos` iterator.
    /// polyv-blocking's `videos()`, with this fetch-ahead (1: sequential).
    Blocking(usize),
    /// polyv-async's `videos` stream with this fetch-ahead.
    Async(usize),
    /// A raw ureq loop over pre-signed URLs, bodies read, nothing parsed.
    UreqFloor,
    /// The raw ureq loop with the one setting the client adds that costs:
    /// a per-request timeout (`timeout_global`, the config's 30 s). Context,
    /// not a floor.
    UreqTimeout,
    /// A raw reqwest loop over pre-signed URLs, bodies read, nothing parsed.
    ReqwestFloor,
    /// The raw reqwest loop with the client's per-request timeout (30 s):
    /// context, not a floor, like [`Walker::UreqTimeout`].
    ReqwestTimeout,
    /// The raw ureq loop, parsing each body into `Page<Video>`: context, to
    /// show how much of a client's distance to its floor is the parse the
    /// floor skips.
    UreqParse,
    /// The raw reqwest loop, parsing each body: context, like
    /// [`Walker::UreqParse`].
    ReqwestParse,
    /// `xtask/bench/polyv_walk.py walk`: requests.Session + hashlib + json.
    Python,
}

impl Walker {
    pub(crate) fn label(self) -> String {
        match self {
            Self::Blocking(1) => "polyv-blocking videos()".into(),
            Self::Blocking(n) => format!("polyv-blocking videos().fetch_ahead({n})"),
            Self::Async(1) => "polyv-async videos() sequential".into(),
            Self::Async(n) => format!("polyv-async videos().fetch_ahead({n})"),
            Self::UreqFloor => "floor: raw ureq loop, pre-signed".into(),
            Self::ReqwestFloor => "floor: raw reqwest loop, pre-signed".into(),
            Self::UreqTimeout => "context: raw ureq loop + timeout_global(30 s)".into(),
            Self::ReqwestTimeout => "context: raw reqwest loop + timeout(30 s)".into(),
            Self::UreqParse => "context: raw ureq loop + parse each page".into(),
            Self::ReqwestParse => "context: raw reqwest loop + parse each page".into(),
            Self::Python => "Python requests.Session + hashlib + json".into(),
        }
    }
}

/// Runs walks; owns the tokio runtime the async walkers share.
pub(crate) struct Harness {
    rt: tokio::runtime::Runtime,
    pub(crate) python: Option<PathBuf>,
}

impl Harness {
    pub(crate) fn new(python_script: &Path) -> Res<Self> {
        // What `#[tokio::main]` gives a user: the multi-threaded runtime.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(err)?;
        let python = python_ok().then(|| python_script.to_owned());
        Ok(Self { rt, python })
    }

    /// One walk over every page (or the first `max_pages`), rate limit off
    /// unless `limited`.
    pub(crate) fn walk(
        &self,
        walker: Walker,
        mock: &Mock,
        page_size: Option<u32>,
        limited: bool,
        max_pages: Option<usize>,
    ) -> Res<Walk> {
        let walk = match walker {
            Walker::Blocking(n) => blocking(mock, page_size, limited, max_pages, n)?,
            Walker::Async(n) => self.asynchronous(mock, page_size, n)?,
            Walker::UreqFloor => ureq_floor(mock, page_size, None, false)?,
            Walker::UreqTimeout => ureq_floor(mock, page_size, Some(30), false)?,
            Walker::UreqParse => ureq_floor(mock, page_size, None, true)?,
            Walker::ReqwestFloor => self.reqwest_floor(mock, page_size, None, false)?,
            Walker::ReqwestTimeout => self.reqwest_floor(mock, page_size, Some(30), false)?,
            Walker::ReqwestParse => self.reqwest_floor(mock, page_size, None, true)?,
            Walker::Python => self.python_walk(mock, page_size)?,
        };
        let expected_pages = max_pages.unwrap_or_else(|| pages_of(mock.videos, page_size));
        if walk.pages != expected_pages as u64 {
            return Err(format!(
                "{}: walked {} pages, expected {expected_pages}",
                walker.label(),
                walk.pages
            ));
        }
        let counts_videos = !matches!(
            walker,
            Walker::UreqFloor | Walker::UreqTimeout | Walker::ReqwestFloor | Walker::ReqwestTimeout
        );
        if counts_videos && max_pages.is_none() && walk.videos != mock.videos as u64 {
            return Err(format!(
                "{}: {} videos, expected {}",
                walker.label(),
                walk.videos,
                mock.videos
            ));
        }
        Ok(walk)
    }

    fn asynchronous(&self, mock: &Mock, page_size: Option<u32>, fetch_ahead: usize) -> Res<Walk> {
        let query = query(page_size)?;
        let config = mock.config(false)?;
        self.rt.block_on(async {
            let client = polyv_async::Client::new(config).map_err(err)?;
            let timer = Timer::start(mock);
            let mut videos = pin!(client.videos(&query).fetch_ahead(fetch_ahead));
            let (mut n, mut digest) = (0, FNV_START);
            while let Some(video) = videos.next().await {
                let video = video.map_err(err)?;
                n += 1;
                digest = fnv(digest, video.vid().as_bytes());
            }
            Ok(timer.finish(n, u64::from(videos.progress().pages_done), digest))
        })
    }

    fn reqwest_floor(
        &self,
        mock: &Mock,
        page_size: Option<u32>,
        timeout_s: Option<u64>,
        parse: bool,
    ) -> Res<Walk> {
        let urls = presigned(mock, page_size)?;
        self.rt.block_on(async {
            let mut builder = polyv_async::reqwest::Client::builder()
                .tls_backend_preconfigured(polyv_async::tls_config().map_err(err)?);
            if let Some(s) = timeout_s {
                builder = builder.timeout(std::time::Duration::from_secs(s));
            }
            let http = builder.build().map_err(err)?;
            let timer = Timer::start(mock);
            let mut seen = Seen::new();
            for url in &urls {
                let body = http
                    .get(url)
                    .send()
                    .await
                    .map_err(err)?
                    .bytes()
                    .await
                    .map_err(err)?;
                seen.body(&body, parse)?;
            }
            seen.finish(timer, urls.len())
        })
    }

    fn python_walk(&self, mock: &Mock, page_size: Option<u32>) -> Res<Walk> {
        let script = self
            .python
            .as_ref()
            .ok_or("python3 with requests is absent")?;
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .args(["walk", &mock.base_url, &mock.user, &mock.secret]);
        if let Some(size) = page_size {
            cmd.arg(size.to_string());
        }
        let mock_cpu = mock.cpu();
        let out = cmd.stderr(Stdio::inherit()).output().map_err(err)?;
        let mock_cpu = mock.cpu() - mock_cpu;
        if !out.status.success() {
            return Err(format!("the Python walk failed: {}", out.status));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(err)?;
        let num = |k: &str| v[k].as_f64().ok_or(format!("python printed no {k}"));
        Ok(Walk {
            wall: num("seconds")?,
            videos: num("videos")? as u64,
            pages: num("pages")? as u64,
            digest: 0,
            client_cpu: num("cpu")?,
            mock_cpu,
            parse: 0.0,
        })
    }
}

fn python_ok() -> bool {
    Command::new("python3")
        .args(["-c", "import requests"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Pages of a walk over `videos` videos (the mock's default page size is 20).
pub(crate) fn pages_of(videos: usize, page_size: Option<u32>) -> usize {
    videos.div_ceil(page_size.unwrap_or(20) as usize).max(1)
}

fn blocking(
    mock: &Mock,
    page_size: Option<u32>,
    limited: bool,
    max_pages: Option<usize>,
    fetch_ahead: usize,
) -> Res<Walk> {
    let client = polyv_blocking::Client::new(mock.config(limited)?).map_err(err)?;
    let query = query(page_size)?;
    let timer = Timer::start(mock);
    let (mut n, mut digest) = (0, FNV_START);
    if let Some(max) = max_pages {
        // Whole pages, so that the walk stops at a page boundary.
        let mut pages = client.pages(&query).fetch_ahead(fetch_ahead).take(max);
        let mut count = 0;
        for page in pages.by_ref() {
            let page = page.map_err(err)?;
            count += 1;
            for video in &page.items {
                n += 1;
                digest = fnv(digest, video.vid().as_bytes());
            }
        }
        return Ok(timer.finish(n, count, digest));
    }
    let mut videos = client.videos(&query).fetch_ahead(fetch_ahead);
    for video in videos.by_ref() {
        let video = video.map_err(err)?;
        n += 1;
        digest = fnv(digest, video.vid().as_bytes());
    }
    Ok(timer.finish(n, u64::from(videos.progress().pages_done), digest))
}

/// Every page's URL, signed now (a signature is valid 3 minutes).
fn presigned(mock: &Mock, page_size: Option<u32>) -> Res<Vec<String>> {
    let config = mock.config(false)?;
    let query = query(page_size)?;
    let now = unix_ms(SystemTime::now());
    (1..=pages_of(mock.videos, page_size))
        .map(|p| {
            let page = u32::try_from(p)
                .ok()
                .and_then(NonZeroU32::new)
                .ok_or("page out of range")?;
            let request = config.prepare(&query.for_page(page), now).map_err(err)?;
            Ok(request.uri().to_string())
        })
        .collect()
}

/// After a floor's timed loop: its bodies were real pages (signatures accepted).
fn check_page(body: &[u8]) -> Res<()> {
    let page = parse_response::<Page<Video>>(200, None, body)
        .map_err(|e| format!("the floor's last body is not a page: {e}"))?;
    if page.items.is_empty() {
        return Err("the floor's last page is empty".into());
    }
    Ok(())
}

/// What a raw loop saw: bytes (a floor) or parsed videos (a parsing loop).
struct Seen {
    /// Time spent parsing, summed over the pages.
    parse: Duration,
    bytes: u64,
    videos: u64,
    digest: u64,
    last: Vec<u8>,
}

impl Seen {
    fn new() -> Self {
        Self {
            parse: Duration::ZERO,
            bytes: 0,
            videos: 0,
            digest: FNV_START,
            last: Vec::new(),
        }
    }

    fn body(&mut self, body: &[u8], parse: bool) -> Res<()> {
        if parse {
            let started = Instant::now();
            let page = parse_response::<Page<Video>>(200, None, body).map_err(err)?;
            self.parse += started.elapsed();
            for video in &page.items {
                self.videos += 1;
                self.digest = fnv(self.digest, video.vid().as_bytes());
            }
        } else {
            self.bytes += body.len() as u64;
            self.last = black_box(body.to_vec());
        }
        Ok(())
    }

    /// After the timed loop: a floor's bodies were real pages (signatures accepted).
    fn finish(self, timer: Timer<'_>, pages: usize) -> Res<Walk> {
        if self.videos > 0 {
            let mut walk = timer.finish(self.videos, pages as u64, self.digest);
            walk.parse = self.parse.as_secs_f64();
            return Ok(walk);
        }
        let walk = timer.finish(0, pages as u64, self.bytes);
        check_page(&self.last)?;
        Ok(walk)
    }
}

fn ureq_floor(
    mock: &Mock,
    page_size: Option<u32>,
    timeout_s: Option<u64>,
    parse: bool,
) -> Res<Walk> {
    let urls = presigned(mock, page_size)?;
    let agent: ureq::Agent = match timeout_s {
        None => ureq::Agent::new_with_defaults(),
        Some(s) => ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(s)))
            .build()
            .new_agent(),
    };
    let timer = Timer::start(mock);
    let mut seen = Seen::new();
    for url in &urls {
        let body = agent
            .get(url)
            .call()
            .map_err(err)?
            .body_mut()
            .read_to_vec()
            .map_err(err)?;
        seen.body(&body, parse)?;
    }
    seen.finish(timer, urls.len())
}

/// Peak RSS (KiB) and wall (s) of `polyv videos by-uploader --all --format
/// jsonl` into /dev/null, measured by `/usr/bin/time -v`.
pub(crate) fn cli_peak_rss(cli: &Path, mock: &Mock, page_size: Option<u32>) -> Res<(u64, f64)> {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(cli)
        .args(["videos", "by-uploader", "--all", "--format", "jsonl"]);
    // Stated even when it is the server's 20: `--all` alone asks for 1,000.
    {
        let size = page_size.unwrap_or(20);
        cmd.args(["--page-size", &size.to_string()]);
    }
    let started = Instant::now();
    let out = cmd
        .env("POLYV_USER_ID", &mock.user)
        .env("POLYV_SECRET_KEY", &mock.secret)
        .env("POLYV_BASE_URL", &mock.base_url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("the CLI walk failed ({}): {stderr}", out.status));
    }
    time_v(&stderr, "Maximum resident set size (kbytes)")
        .map(|kib| (kib, wall))
        .ok_or_else(|| format!("no peak RSS in /usr/bin/time's output: {stderr}"))
}

/// A field of `/usr/bin/time -v`'s report (`\tName: value`), parsed.
pub(crate) fn time_v<T: std::str::FromStr>(stderr: &str, name: &str) -> Option<T> {
    stderr.lines().find_map(|l| {
        l.trim()
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_fields() {
        assert!(proc_cpu("/proc/self/stat") >= 0.0);
        assert_eq!(proc_cpu("/nonexistent"), 0.0);
        assert_eq!(pages_of(100_000, None), 5000);
        assert_eq!(pages_of(100_000, Some(1000)), 100);
        assert_eq!(pages_of(1001, Some(1000)), 2);
        assert_ne!(fnv(FNV_START, b"a"), fnv(FNV_START, b"b"));
    }
}
