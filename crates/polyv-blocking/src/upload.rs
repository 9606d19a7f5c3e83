//! Uploading a file: a loop around [`polyv_core::upload::Upload`], which
//! decides everything. This module only performs its actions: `init` and
//! `token` through [`Client::call`], OSS requests with the client's ureq
//! agent (parts streamed from disk on a few worker threads), the resume
//! state written atomically to the cache directory.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use polyv_core::driver::Response;
use polyv_core::upload::{
    Action, DEFAULT_CONCURRENCY, Failure, FileIdentity, GrabItem, GrabUrls, InitUpload, Part,
    PartPlan, RefreshUploadToken, RequestHead, ResumeState, Upload, UploadTicket, UrlScheme,
};
use polyv_core::{Error, http};

use crate::Client;
use crate::transport::{self, Phase};

/// Called with the progress of an upload after every part.
pub type ProgressFn = Arc<dyn Fn(&UploadProgress) + Send + Sync>;

/// How to upload a file with [`Client::upload`].
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::AtomicBool;
/// use polyv_blocking::UploadOptions;
///
/// let cancel = Arc::new(AtomicBool::new(false));
/// let options = UploadOptions::new()
///     .title("Talk")
///     .tags(["conference", "2026"])
///     .part_size(1024 * 1024)
///     .parallel(4)
///     .cancel_flag(cancel.clone())
///     .on_progress(|p| eprintln!("{} of {} bytes, {:.0} B/s", p.bytes_done, p.bytes_total, p.rate));
/// assert_eq!(options.get_parallel(), 4);
/// ```
#[derive(Clone, Default)]
pub struct UploadOptions {
    title: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
    cataid: Option<u64>,
    part_size: Option<u64>,
    parallel: Option<usize>,
    progress: Option<ProgressFn>,
    cancel: Option<Arc<AtomicBool>>,
    state_dir: Option<PathBuf>,
    restart: bool,
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("title", &self.title)
            .field("description", &self.description)
            .field("tags", &self.tags)
            .field("cataid", &self.cataid)
            .field("part_size", &self.part_size)
            .field("parallel", &self.parallel)
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .field("state_dir", &self.state_dir)
            .field("restart", &self.restart)
            .finish()
    }
}

impl UploadOptions {
    /// The defaults: the file's name (without extension) as title, the
    /// planner's part size, [`DEFAULT_CONCURRENCY`] parts in flight, the
    /// default resume-state directory ([`default_state_dir`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The video's title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The video's description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The video's tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// The category to upload into.
    pub fn cataid(mut self, cataid: u64) -> Self {
        self.cataid = Some(cataid);
        self
    }

    /// The part size in bytes (at least 100 KB; the planner grows it for
    /// huge files). A resumed upload keeps its saved part size.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = Some(bytes);
        self
    }

    /// How many parts are in flight at once (1 to 64; default 4). Memory
    /// use is bounded by this times the part size... in fact less: parts
    /// are streamed from the file, not buffered.
    pub fn parallel(mut self, parts: usize) -> Self {
        self.parallel = Some(parts);
        self
    }

    /// The number of parts in flight at once.
    pub fn get_parallel(&self) -> usize {
        self.parallel.unwrap_or(DEFAULT_CONCURRENCY)
    }

    /// Called (on the calling thread) after every finished part.
    pub fn on_progress(
        mut self,
        progress: impl Fn(&UploadProgress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// When this flag becomes `true`, the upload starts no new request,
    /// waits for the parts in flight, saves its state and returns
    /// [`Error::InvalidInput`] saying that running it again resumes
    /// ([`is_cancelled`] tells this error apart).
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Where resume states are kept (default: [`default_state_dir`]).
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Ignore a saved upload of the same file and start a new video (the
    /// saved one is overwritten; its vid stays incomplete). For a saved
    /// upload that cannot be resumed any more (its video was deleted).
    pub fn restart(mut self, yes: bool) -> Self {
        self.restart = yes;
        self
    }

    fn init(&self, path: &Path, size: u64) -> Result<InitUpload, Error> {
        let title = match &self.title {
            Some(title) => title.clone(),
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "video".to_owned()),
        };
        let mut init = InitUpload::new(title, size)?;
        if let Some(description) = &self.description {
            init = init.description(description.clone());
        }
        if !self.tags.is_empty() {
            init = init.tags(self.tags.iter().cloned())?;
        }
        if let Some(cataid) = self.cataid {
            init = init.cataid(cataid)?;
        }
        Ok(init)
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }
}

/// The plan [`Client::upload`] would use for a file of `size` bytes with
/// this part size (none: the default), e.g. for a dry run.
///
/// ```
/// let plan = polyv_blocking::upload_plan(1_000_000, Some(100 * 1024))?;
/// assert_eq!(plan.part_count(), 10);
/// # Ok::<(), polyv_blocking::Error>(())
/// ```
pub fn upload_plan(size: u64, part_size: Option<u64>) -> Result<PartPlan, Error> {
    match part_size {
        Some(part_size) => PartPlan::with_part_size(size, part_size),
        None => PartPlan::new(size),
    }
}

/// The default resume-state directory: `$XDG_CACHE_HOME/polyv/uploads`,
/// else `$HOME/.cache/polyv/uploads`; `None` when neither is set.
///
/// ```
/// if let Some(dir) = polyv_blocking::default_state_dir() {
///     assert!(dir.ends_with("polyv/uploads"));
/// }
/// ```
pub fn default_state_dir() -> Option<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(cache) = non_empty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(cache).join("polyv").join("uploads"));
    }
    non_empty("HOME").map(|home| {
        PathBuf::from(home)
            .join(".cache")
            .join("polyv")
            .join("uploads")
    })
}

/// Whether `error` is the one [`Client::upload`] returns when cancelled
/// through [`UploadOptions::cancel_flag`].
pub fn is_cancelled(error: &Error) -> bool {
    matches!(error, Error::InvalidInput(message) if message.starts_with(CANCELLED))
}

const CANCELLED: &str = "upload cancelled";

/// The progress of one upload.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct UploadProgress {
    /// The file.
    pub path: PathBuf,
    /// Bytes stored so far (finished parts, including those of an earlier run).
    pub bytes_done: u64,
    /// The file's size.
    pub bytes_total: u64,
    /// Parts stored so far.
    pub parts_done: u32,
    /// The plan's number of parts.
    pub parts_total: u32,
    /// Parts stored by this run (less than `parts_done` when resumed).
    pub parts_sent: u32,
    /// Bytes per second sent by this run so far.
    pub rate: f64,
    /// Seconds since this run started.
    pub elapsed: f64,
}

impl UploadProgress {
    /// Seconds until done at the current rate, when there is one.
    pub fn eta_secs(&self) -> Option<f64> {
        (self.rate > 0.0)
            .then(|| self.bytes_total.saturating_sub(self.bytes_done) as f64 / self.rate)
    }
}

/// A finished upload.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Uploaded {
    /// The new video's id.
    pub vid: String,
    /// The file.
    pub path: PathBuf,
    /// The file's size.
    pub bytes: u64,
    /// Seconds this run took.
    pub seconds: f64,
    /// Whether this run continued a saved upload.
    pub resumed: bool,
    /// Bytes this run sent (less than `bytes` when resumed).
    pub bytes_sent: u64,
}

/// A part for a worker: the signed head and where to read the body.
struct Job {
    part: Part,
    upload_id: String,
    attempt: u32,
    head: RequestHead,
}

/// A worker's answer for one part.
struct PartAnswer {
    part: Part,
    upload_id: String,
    outcome: Result<(u16, Option<String>, Vec<u8>), Error>,
}

fn now_ms() -> u64 {
    polyv_core::driver::unix_ms(SystemTime::now())
}

impl Client {
    /// Uploads the file at `path` as a new video and returns its vid,
    /// resuming a saved upload of the same file (same path, size and
    /// modification time) when there is one: no second video is created.
    ///
    /// The state is saved (atomically: a temp file renamed) in the options'
    /// state directory, as `{user_id}-{FileIdentity::cache_key}.json`, after
    /// every step and deleted when done; a failed or cancelled upload keeps
    /// it ([`UploadOptions::restart`] ignores it). Parts are read from the file as they are
    /// sent; at most [`UploadOptions::parallel`] are in flight.
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, UploadOptions};
    ///
    /// let client = Client::from_env()?;
    /// let done = client.upload("talk.mp4", UploadOptions::new().title("Talk").cataid(1))?;
    /// println!("{} ({} bytes in {:.1} s)", done.vid, done.bytes, done.seconds);
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn upload(
        &self,
        path: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<Uploaded, Error> {
        let path = path.as_ref();
        let started = Instant::now();
        let io_err = |what: &str, e: io::Error| {
            Error::InvalidInput(format!("{what} {}: {e}", path.display()))
        };
        let absolute = std::fs::canonicalize(path).map_err(|e| io_err("cannot open", e))?;
        let meta = std::fs::metadata(&absolute).map_err(|e| io_err("cannot read", e))?;
        if !meta.is_file() {
            return Err(Error::InvalidInput(format!(
                "{} is not a file",
                path.display()
            )));
        }
        let modified_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let file = FileIdentity::new(absolute.to_string_lossy(), meta.len(), modified_ms);
        let state_dir = match &options.state_dir {
            Some(dir) => dir.clone(),
            None => default_state_dir().ok_or(Error::MissingEnv("XDG_CACHE_HOME or HOME"))?,
        };
        // One account's saved upload is never resumed by another.
        let state_file = state_dir.join(format!(
            "{}-{}.json",
            self.config().credentials().user_id().as_str(),
            file.cache_key()
        ));
        let scheme = UrlScheme::of_base_url(self.config().base_url());
        let parallel = options.get_parallel();
        let saved = std::fs::read(&state_file)
            .ok()
            .and_then(|json| ResumeState::from_json(&json).ok())
            .filter(|saved| !options.restart && saved.matches(&file));
        let (mut upload, resumed) = match saved {
            Some(saved) => (Upload::resume(saved, &file, scheme, parallel)?, true),
            None => {
                let plan = upload_plan(file.size, options.part_size)?;
                (Upload::new(file.clone(), plan, scheme, parallel)?, false)
            }
        };
        let init = options.init(path, file.size)?;
        let start_bytes = upload.bytes_done();
        let mut run = Run {
            client: self,
            options: &options,
            path: &absolute,
            state_dir: &state_dir,
            state_file: &state_file,
            started,
            start_bytes,
            start_parts: upload.parts_done(),
        };
        let vid = std::thread::scope(|scope| run.drive(scope, &mut upload, &init))?;
        Ok(Uploaded {
            vid,
            path: absolute,
            bytes: file.size,
            seconds: started.elapsed().as_secs_f64(),
            resumed,
            bytes_sent: file.size.saturating_sub(start_bytes),
        })
    }

    /// Asks Polyv to fetch videos from URLs (up to 100 per call; more are
    /// sent in several calls, in order) into category `cataid` (none: the
    /// default). Polyv accepts them and fetches later; the results arrive
    /// by its callbacks. Returns the number of calls made.
    ///
    /// A call that fails stops the rest: the URLs of earlier calls were
    /// accepted. A fetch call is never resent once it may have arrived.
    ///
    /// ```no_run
    /// use polyv_blocking::Client;
    ///
    /// let client = Client::from_env()?;
    /// let calls = client.fetch_urls(["https://media.example/a.mp4"], Some(1))?;
    /// assert_eq!(calls, 1);
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn fetch_urls<I, S>(&self, urls: I, cataid: Option<u64>) -> Result<usize, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let items = urls
            .into_iter()
            .map(GrabItem::new)
            .collect::<Result<Vec<_>, _>>()?;
        let batches = GrabUrls::in_batches(items)?;
        let batches = match cataid {
            Some(cataid) => batches
                .into_iter()
                .map(|b| b.cataid(cataid))
                .collect::<Result<Vec<_>, _>>()?,
            None => batches,
        };
        for batch in &batches {
            self.call(batch)?;
        }
        Ok(batches.len())
    }
}

struct Run<'a> {
    client: &'a Client,
    options: &'a UploadOptions,
    path: &'a Path,
    state_dir: &'a Path,
    state_file: &'a Path,
    started: Instant,
    start_bytes: u64,
    start_parts: u32,
}

impl<'a> Run<'a> {
    fn drive<'s>(
        &mut self,
        scope: &'s std::thread::Scope<'s, '_>,
        upload: &mut Upload,
        init: &InitUpload,
    ) -> Result<String, Error>
    where
        'a: 's,
    {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = mpsc::channel::<PartAnswer>();
        let workers = self.options.get_parallel().clamp(1, 64);
        for _ in 0..workers {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let client = self.client;
            let path = self.path;
            scope.spawn(move || worker(client, path, &job_rx, &done_tx));
        }
        drop(done_tx);
        let result = self.lead(upload, init, &job_tx, &done_rx);
        // Closing the job channel ends the workers; the scope joins them.
        drop(job_tx);
        result
    }

    fn lead(
        &mut self,
        upload: &mut Upload,
        init: &InitUpload,
        jobs: &mpsc::Sender<Job>,
        done: &mpsc::Receiver<PartAnswer>,
    ) -> Result<String, Error> {
        let mut in_flight = 0usize;
        loop {
            if self.options.cancelled() {
                while in_flight > 0 {
                    match done.recv() {
                        Ok(answer) => {
                            in_flight -= 1;
                            report(upload, answer);
                        }
                        Err(_) => break,
                    }
                }
                // The parts that finished are kept; whatever else the
                // state machine expected is simply never sent.
                self.save(upload)?;
                return Err(Error::InvalidInput(format!(
                    "{CANCELLED}: {} of {} parts of {} are stored; running the same upload again resumes it",
                    upload.parts_done(),
                    upload.plan().part_count(),
                    self.path.display()
                )));
            }
            // Take in every answer that has already arrived.
            while let Ok(answer) = done.try_recv() {
                in_flight = in_flight.saturating_sub(1);
                report(upload, answer);
                self.progress(upload);
            }
            match upload.next(now_ms()) {
                Action::Init => {
                    let answer: Result<UploadTicket, Error> = self.client.call(init);
                    match answer {
                        Ok(ticket) => upload.on_ticket(&ticket, now_ms()),
                        Err(err) => upload.on_init_failed(err),
                    }
                }
                Action::ResumeInit { vid } => {
                    let answer = InitUpload::resume(vid, upload.plan().file_size())
                        .and_then(|resume| self.client.call(&resume));
                    match answer {
                        Ok(ticket) => upload.on_ticket(&ticket, now_ms()),
                        Err(err) => upload.on_init_failed(err),
                    }
                }
                Action::Save => self.save(upload)?,
                Action::RefreshCredentials => match self.client.call(&RefreshUploadToken) {
                    Ok(ticket) => upload.on_credentials(&ticket, now_ms()),
                    Err(err) => upload.on_refresh_failed(err),
                },
                Action::Initiate { attempt } => {
                    self.back_off(attempt);
                    let sent = upload
                        .oss()
                        .ok_or_else(no_credentials)
                        .and_then(|oss| oss.initiate(SystemTime::now()))
                        .and_then(|request| self.send(request));
                    match sent {
                        Ok(response) => {
                            upload.on_initiate_response(response.status, &response.body);
                        }
                        Err(err) => upload.on_initiate_failed(Failure::Transport(err)),
                    }
                }
                Action::UploadPart {
                    part,
                    upload_id,
                    attempt,
                } => {
                    let head = upload.oss().ok_or_else(no_credentials).and_then(|oss| {
                        oss.upload_part_head(part.number, &upload_id, part.len, SystemTime::now())
                    });
                    match head {
                        Ok(head) => {
                            let job = Job {
                                part,
                                upload_id,
                                attempt,
                                head,
                            };
                            if jobs.send(job).is_err() {
                                return Err(Error::InvalidInput(
                                    "the upload's worker threads stopped".to_owned(),
                                ));
                            }
                            in_flight += 1;
                        }
                        Err(err) => {
                            upload.on_part_failed(part.number, &upload_id, Failure::Transport(err));
                        }
                    }
                }
                Action::Complete {
                    upload_id,
                    parts,
                    attempt,
                } => {
                    self.back_off(attempt);
                    let sent = upload
                        .oss()
                        .ok_or_else(no_credentials)
                        .and_then(|oss| {
                            oss.complete(&upload_id, &parts, upload.callback(), SystemTime::now())
                        })
                        .and_then(|request| self.send(request));
                    match sent {
                        Ok(response) => {
                            upload.on_complete_response(response.status, &response.body);
                        }
                        Err(err) => upload.on_complete_failed(Failure::Transport(err)),
                    }
                }
                Action::Wait => {
                    if in_flight == 0 {
                        // Nothing can wake us: the state machine waits for
                        // an answer that will never come.
                        return Err(Error::InvalidInput(
                            "the upload waits for no request in flight".to_owned(),
                        ));
                    }
                    // Wake now and then to notice a cancellation.
                    match done.recv_timeout(Duration::from_millis(200)) {
                        Ok(answer) => {
                            in_flight -= 1;
                            report(upload, answer);
                            self.progress(upload);
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        Err(mpsc::RecvTimeoutError::Disconnected) => {
                            return Err(Error::InvalidInput(
                                "the upload's worker threads stopped".to_owned(),
                            ));
                        }
                    }
                }
                Action::Done { vid } => {
                    self.progress(upload);
                    match std::fs::remove_file(self.state_file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "could not delete the upload's saved state")
                        }
                    }
                    return Ok(vid);
                }
                Action::Failed(err) => return Err(err),
                other => {
                    return Err(Error::InvalidInput(format!(
                        "this client cannot perform the upload action {other:?}"
                    )));
                }
            }
        }
    }

    fn back_off(&self, attempt: u32) {
        if attempt > 0 {
            let delay = self
                .client
                .config()
                .retry()
                .backoff(attempt, fastrand::f64());
            std::thread::sleep(delay);
        }
    }

    fn send(&self, request: http::Request<Vec<u8>>) -> Result<Response, Error> {
        transport::send(&self.client.inner.agent, request, self.client.config())
    }

    /// Writes the resume state: a temp file beside it, then a rename.
    fn save(&self, upload: &Upload) -> Result<(), Error> {
        let json = upload.resume_state().to_json()?;
        let failed = |e: io::Error| {
            Error::InvalidInput(format!(
                "cannot save the upload's state in {}: {e}",
                self.state_dir.display()
            ))
        };
        std::fs::create_dir_all(self.state_dir).map_err(failed)?;
        let temp = self
            .state_file
            .with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&temp, json.as_bytes()).map_err(failed)?;
        std::fs::rename(&temp, self.state_file).map_err(failed)
    }

    fn progress(&self, upload: &Upload) {
        if let Some(progress) = &self.options.progress {
            let elapsed = self.started.elapsed().as_secs_f64();
            let sent = upload.bytes_done().saturating_sub(self.start_bytes);
            progress(&UploadProgress {
                path: self.path.to_path_buf(),
                bytes_done: upload.bytes_done(),
                bytes_total: upload.plan().file_size(),
                parts_done: upload.parts_done(),
                parts_total: upload.plan().part_count(),
                parts_sent: upload.parts_done().saturating_sub(self.start_parts),
                rate: if elapsed > 0.0 {
                    sent as f64 / elapsed
                } else {
                    0.0
                },
                elapsed,
            });
        }
    }
}

fn no_credentials() -> Error {
    Error::InvalidInput("the upload has no OSS credentials yet".to_owned())
}

/// Hands a worker's answer to the state machine.
fn report(upload: &mut Upload, answer: PartAnswer) {
    match answer.outcome {
        Ok((status, etag, body)) => upload.on_part_response(
            answer.part.number,
            &answer.upload_id,
            status,
            etag.as_deref(),
            &body,
        ),
        Err(err) => {
            upload.on_part_failed(
                answer.part.number,
                &answer.upload_id,
                Failure::Transport(err),
            );
        }
    }
}

/// Sends parts until the job channel closes.
fn worker(
    client: &Client,
    path: &Path,
    jobs: &Mutex<mpsc::Receiver<Job>>,
    done: &mpsc::Sender<PartAnswer>,
) {
    let mut file: Option<File> = None;
    loop {
        let job = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        if job.attempt > 0 {
            let delay = client
                .config()
                .retry()
                .backoff(job.attempt, fastrand::f64());
            std::thread::sleep(delay);
        }
        let Job {
            part,
            upload_id,
            head,
            ..
        } = job;
        let outcome = send_part(client, path, &mut file, part, head);
        let answer = PartAnswer {
            part,
            upload_id,
            outcome,
        };
        if done.send(answer).is_err() {
            return;
        }
    }
}

/// Streams one part from the file: `part.len` bytes from `part.offset`.
fn send_part(
    client: &Client,
    path: &Path,
    file: &mut Option<File>,
    part: Part,
    head: RequestHead,
) -> Result<(u16, Option<String>, Vec<u8>), Error> {
    let io_err = |e: io::Error| Error::InvalidInput(format!("cannot read {}: {e}", path.display()));
    let handle = match file {
        Some(handle) => handle,
        None => file.insert(File::open(path).map_err(io_err)?),
    };
    handle.seek(SeekFrom::Start(part.offset)).map_err(io_err)?;
    let mut body = (&*handle).take(part.len);
    let request = head.map(|()| ureq::SendBody::from_reader(&mut body));
    let config = client.config();
    let agent = &client.inner.agent;
    // No overall deadline for a part (a big part on a slow link takes
    // long); the answer must come within the per-attempt timeout.
    let request = agent
        .configure_request(request)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(None)
        .timeout_recv_response(Some(config.timeout()))
        .build();
    let response = agent
        .run(request)
        .map_err(|e| transport::map_error(e, Phase::Exchange))?;
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut bytes = Vec::new();
    response
        .into_body()
        .with_config()
        .limit(config.max_body_bytes())
        .reader()
        .read_to_end(&mut bytes)
        .map_err(|e| transport::map_error(ureq::Error::from(e), Phase::Body))?;
    Ok((status, etag, bytes))
}
