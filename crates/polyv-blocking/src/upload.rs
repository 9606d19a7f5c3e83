//! Uploading a file: a loop around [`polyv_core::upload::Upload`], which
//! decides everything. This module only performs its actions: `init` and
//! `token` through [`Client::call`], OSS requests with the client's ureq
//! agent (parts streamed from disk on a few worker threads), the resume
//! state written atomically to the cache directory.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use polyv_core::driver::Response;
use polyv_core::upload::{
    Action, Failure, FileIdentity, GrabItem, GrabUrls, InitUpload, Part, RefreshUploadToken,
    RequestHead, Upload, UploadOptions, UploadProgress, UploadTicket, Uploaded, UrlScheme,
};
use polyv_core::{Error, http};

use crate::Client;
use crate::transport::{self, Phase};

/// A part for a worker: the signed head and where to read the body.
struct Job {
    part: Part,
    upload_id: String,
    attempt: u32,
    head: RequestHead,
    fresh_connection: bool,
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
        let file = FileIdentity::of(&absolute, meta.len(), meta.modified().ok());
        let state_dir = options.get_state_dir()?;
        let state_file = options.state_file(self.config().credentials().user_id(), &file)?;
        let scheme = UrlScheme::of_base_url(self.config().base_url());
        let saved = std::fs::read(&state_file).ok();
        let (mut upload, resumed) = options.begin(&file, saved.as_deref(), scheme)?;
        let init = options.init_request(path, file.size)?;
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
        Ok(Uploaded::of(
            vid,
            absolute,
            &upload,
            start_bytes,
            started.elapsed().as_secs_f64(),
            resumed,
        ))
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
            // Once finished, the end is reported, not the cancellation.
            if self.options.cancel_requested() && !upload.is_finished() {
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
                return Err(upload.cancelled());
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
                action @ (Action::Initiate { .. }
                | Action::ListParts { .. }
                | Action::Complete { .. }) => {
                    self.back_off(action.sequential_attempt().unwrap_or(0));
                    let sent = upload
                        .oss_request(&action, SystemTime::now())
                        .and_then(|request| self.send(request, action.fresh_connection()));
                    match sent {
                        Ok(response) => {
                            upload.on_oss_answer(&action, Ok((response.status, &response.body)));
                        }
                        Err(err) => upload.on_oss_answer(&action, Err(err)),
                    }
                }
                Action::UploadPart {
                    part,
                    upload_id,
                    attempt,
                    fresh_connection,
                } => {
                    let head = upload.oss().ok_or_else(no_credentials).and_then(|oss| {
                        oss.upload_part_head(part.number, &upload_id, part.len, SystemTime::now())
                    });
                    match head {
                        Ok(head) => {
                            let job = Job {
                                part,
                                upload_id,
                                // A resend on a new connection waits for nothing.
                                attempt: if fresh_connection { 0 } else { attempt },
                                head,
                                fresh_connection,
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

    fn send(&self, request: http::Request<Vec<u8>>, fresh: bool) -> Result<Response, Error> {
        let inner = &self.client.inner;
        let agent = if fresh { &inner.fresh } else { &inner.agent };
        transport::send(agent, request, self.client.config())
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
        if let Some(progress) = self.options.get_progress() {
            let elapsed = self.started.elapsed().as_secs_f64();
            let sent = upload.bytes_done().saturating_sub(self.start_bytes);
            progress(&UploadProgress::of(
                upload,
                self.path,
                self.start_parts,
                sent,
                elapsed,
            ));
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
            fresh_connection,
            ..
        } = job;
        let outcome = send_part(client, path, &mut file, part, head, fresh_connection);
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
    fresh_connection: bool,
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
    let agent = if fresh_connection {
        &client.inner.fresh
    } else {
        &client.inner.agent
    };
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
