//! Uploading a file: a loop around [`polyv_core::upload::Upload`], which
//! decides everything. This module only performs its actions: `init` and
//! `token` through [`Client::call`], OSS requests with the client's reqwest
//! client (several parts in flight in one task, each streamed from the
//! file with `tokio::fs` as it is sent), the resume state written
//! atomically to the cache directory.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt as _;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use polyv_core::Error;
use polyv_core::upload::{
    Action, Failure, FileIdentity, GrabItem, GrabUrls, InitUpload, Part, RefreshUploadToken,
    RequestHead, Upload, UploadOptions, UploadProgress, UploadTicket, Uploaded, UrlScheme,
};
use tokio::io::AsyncSeekExt as _;

use crate::Client;

/// A worker's answer for one part.
struct PartAnswer {
    part: Part,
    upload_id: String,
    outcome: Result<(u16, Option<String>, Vec<u8>), Error>,
}

type PartFuture<'a> = Pin<Box<dyn std::future::Future<Output = PartAnswer> + Send + 'a>>;

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
    /// sent; at most [`UploadOptions::parallel`] are in flight (polled by
    /// this future: no task is spawned). Dropping the future stops the
    /// upload where the last saved state left it.
    ///
    /// ```no_run
    /// use polyv_async::{Client, UploadOptions};
    ///
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let done = client.upload("talk.mp4", UploadOptions::new().title("Talk").cataid(1)).await?;
    /// println!("{} ({} bytes in {:.1} s)", done.vid, done.bytes, done.seconds);
    /// # Ok(()) }
    /// ```
    pub async fn upload(
        &self,
        path: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<Uploaded, Error> {
        let path = path.as_ref();
        let started = Instant::now();
        let io_err = |what: &str, e: io::Error| {
            Error::InvalidInput(format!("{what} {}: {e}", path.display()))
        };
        let absolute = tokio::fs::canonicalize(path)
            .await
            .map_err(|e| io_err("cannot open", e))?;
        let meta = tokio::fs::metadata(&absolute)
            .await
            .map_err(|e| io_err("cannot read", e))?;
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
        let saved = tokio::fs::read(&state_file).await.ok();
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
        let vid = run.lead(&mut upload, &init).await?;
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
    /// use polyv_async::Client;
    ///
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let calls = client.fetch_urls(["https://media.example/a.mp4"], Some(1)).await?;
    /// assert_eq!(calls, 1);
    /// # Ok(()) }
    /// ```
    pub async fn fetch_urls<I, S>(&self, urls: I, cataid: Option<u64>) -> Result<usize, Error>
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
            self.call(batch).await?;
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
    async fn lead(&mut self, upload: &mut Upload, init: &InitUpload) -> Result<String, Error> {
        let client = self.client;
        let path = self.path;
        let mut in_flight: FuturesUnordered<PartFuture<'a>> = FuturesUnordered::new();
        loop {
            // Once finished, the end is reported, not the cancellation.
            if self.options.cancel_requested() && !upload.is_finished() {
                while let Some(answer) = in_flight.next().await {
                    report(upload, answer);
                }
                // The parts that finished are kept; whatever else the
                // state machine expected is simply never sent.
                self.save(upload).await?;
                return Err(upload.cancelled());
            }
            // Take in every answer that has already arrived.
            while let Some(Some(answer)) = in_flight.next().now_or_never() {
                report(upload, answer);
                self.progress(upload);
            }
            match upload.next(now_ms()) {
                Action::Init => {
                    let answer: Result<UploadTicket, Error> = client.call(init).await;
                    match answer {
                        Ok(ticket) => upload.on_ticket(&ticket, now_ms()),
                        Err(err) => upload.on_init_failed(err),
                    }
                }
                Action::ResumeInit { vid } => {
                    let answer = match InitUpload::resume(vid, upload.plan().file_size()) {
                        Ok(resume) => client.call(&resume).await,
                        Err(err) => Err(err),
                    };
                    match answer {
                        Ok(ticket) => upload.on_ticket(&ticket, now_ms()),
                        Err(err) => upload.on_init_failed(err),
                    }
                }
                Action::Save => self.save(upload).await?,
                Action::RefreshCredentials => match client.call(&RefreshUploadToken).await {
                    Ok(ticket) => upload.on_credentials(&ticket, now_ms()),
                    Err(err) => upload.on_refresh_failed(err),
                },
                action @ (Action::Initiate { .. }
                | Action::ListParts { .. }
                | Action::Complete { .. }) => {
                    back_off(client, action.sequential_attempt().unwrap_or(0)).await;
                    let sent = match upload.oss_request(&action, SystemTime::now()) {
                        Ok(request) => client.send(request, action.fresh_connection()).await,
                        Err(err) => Err(err),
                    };
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
                        Ok(head) => in_flight.push(Box::pin(send_part(
                            client,
                            path,
                            part,
                            upload_id,
                            // A resend on a new connection waits for nothing.
                            if fresh_connection { 0 } else { attempt },
                            head,
                            fresh_connection,
                        ))),
                        Err(err) => {
                            upload.on_part_failed(part.number, &upload_id, Failure::Transport(err));
                        }
                    }
                }
                Action::Wait => {
                    if in_flight.is_empty() {
                        // Nothing can wake us: the state machine waits for
                        // an answer that will never come.
                        return Err(Error::InvalidInput(
                            "the upload waits for no request in flight".to_owned(),
                        ));
                    }
                    // Wake now and then to notice a cancellation.
                    if let Ok(Some(answer)) =
                        tokio::time::timeout(Duration::from_millis(200), in_flight.next()).await
                    {
                        report(upload, answer);
                        self.progress(upload);
                    }
                }
                Action::Done { vid } => {
                    self.progress(upload);
                    match tokio::fs::remove_file(self.state_file).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "could not delete the upload's saved state");
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

    /// Writes the resume state: a temp file beside it, then a rename.
    async fn save(&self, upload: &Upload) -> Result<(), Error> {
        let json = upload.resume_state().to_json()?;
        let failed = |e: io::Error| {
            Error::InvalidInput(format!(
                "cannot save the upload's state in {}: {e}",
                self.state_dir.display()
            ))
        };
        tokio::fs::create_dir_all(self.state_dir)
            .await
            .map_err(failed)?;
        let temp = self
            .state_file
            .with_extension(format!("json.{}.tmp", std::process::id()));
        tokio::fs::write(&temp, json.as_bytes())
            .await
            .map_err(failed)?;
        tokio::fs::rename(&temp, self.state_file)
            .await
            .map_err(failed)
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

async fn back_off(client: &Client, attempt: u32) {
    if attempt > 0 {
        let delay = client.config().retry().backoff(attempt, fastrand::f64());
        tokio::time::sleep(delay).await;
    }
}

fn no_credentials() -> Error {
    Error::InvalidInput("the upload has no OSS credentials yet".to_owned())
}

/// Hands a part's answer to the state machine.
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

/// Reads one part (`part.len` bytes from `part.offset`) and sends it.
async fn send_part(
    client: &Client,
    path: &Path,
    part: Part,
    upload_id: String,
    attempt: u32,
    head: RequestHead,
    fresh_connection: bool,
) -> PartAnswer {
    back_off(client, attempt).await;
    let outcome = read_and_send(client, path, part, head, fresh_connection).await;
    PartAnswer {
        part,
        upload_id,
        outcome,
    }
}

async fn read_and_send(
    client: &Client,
    path: &Path,
    part: Part,
    head: RequestHead,
    fresh_connection: bool,
) -> Result<(u16, Option<String>, Vec<u8>), Error> {
    let io_err = |e: io::Error| Error::InvalidInput(format!("cannot read {}: {e}", path.display()));
    let mut file = tokio::fs::File::open(path).await.map_err(io_err)?;
    file.seek(io::SeekFrom::Start(part.offset))
        .await
        .map_err(io_err)?;
    let body = reqwest::Body::wrap(FilePart::new(file.into_std().await, part.len));
    let (parts, ()) = head.into_parts();
    let url = reqwest::Url::parse(&parts.uri.to_string())
        .map_err(|err| Error::InvalidInput(format!("the request URL does not parse: {err}")))?;
    let config = client.config();
    // The per-attempt timeout, plus a second per 64 KiB of the part (a big
    // part on a slow link takes long).
    let timeout = config.timeout() + Duration::from_secs(part.len / (64 * 1024));
    // No Content-Type: none is signed.
    let http = if fresh_connection {
        &client.inner.fresh
    } else {
        &client.inner.http
    };
    let response = http
        .request(parts.method, url)
        .headers(parts.headers)
        .timeout(timeout)
        .body(body)
        .send()
        .await
        .map_err(crate::map_send_error)?;
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let limit = config.max_body_bytes();
    let mut response = response;
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(crate::map_reqwest_error)? {
        if u64::try_from(bytes.len() + chunk.len()).unwrap_or(u64::MAX) > limit {
            return Err(Error::BodyTooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((status, etag, bytes))
}

/// A part's bytes, read from the file as the connection takes them, one
/// `CHUNK` at a time on tokio's blocking pool: a part in flight holds a
/// chunk or two, not the whole part. Each chunk is read straight into the
/// buffer that becomes the body frame (no copy through `tokio::fs`'s own
/// buffer: that copy, per 64 KiB, doubled the client's CPU per byte). The
/// file must still have the bytes: a file that shrank under the upload is
/// an error, never a short part.
struct FilePart {
    read: Read,
    left: u64,
}

/// Where the file is: with us, or with the blocking pool reading a chunk.
enum Read {
    Idle(Option<std::fs::File>),
    Busy(tokio::task::JoinHandle<(std::fs::File, io::Result<Vec<u8>>)>),
}

/// 1 MiB: few trips to the blocking pool per part (8 for the default
/// part), little memory per part in flight.
const CHUNK: u64 = 1024 * 1024;

impl FilePart {
    /// The next `len` bytes of `file` (already at the part's offset).
    fn new(file: std::fs::File, len: u64) -> Self {
        Self {
            read: Read::Idle(Some(file)),
            left: len,
        }
    }
}

impl http_body::Body for FilePart {
    type Data = bytes::Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::future::Future as _;
        use std::io::Read as _;
        use std::task::Poll;
        let this = self.get_mut();
        loop {
            match &mut this.read {
                Read::Idle(file) => {
                    if this.left == 0 {
                        return Poll::Ready(None);
                    }
                    let Some(mut file) = file.take() else {
                        return Poll::Ready(Some(Err(io::Error::other(
                            "the part's file was lost by an earlier read",
                        ))));
                    };
                    // At most CHUNK (1 MiB), so it fits a usize anywhere.
                    let want = usize::try_from(this.left.min(CHUNK)).unwrap_or(1 << 20);
                    this.read = Read::Busy(tokio::task::spawn_blocking(move || {
                        let mut chunk = vec![0; want];
                        let read = match file.read_exact(&mut chunk) {
                            Ok(()) => Ok(chunk),
                            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                                Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "the file ended before the part did: it changed during the upload",
                                ))
                            }
                            Err(err) => Err(err),
                        };
                        (file, read)
                    }));
                }
                Read::Busy(reading) => {
                    let (file, read) = match Pin::new(reading).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(done)) => done,
                        Poll::Ready(Err(join)) => {
                            this.read = Read::Idle(None);
                            return Poll::Ready(Some(Err(io::Error::other(join))));
                        }
                    };
                    this.read = Read::Idle(Some(file));
                    return Poll::Ready(Some(match read {
                        Ok(chunk) => {
                            this.left -= chunk.len() as u64;
                            Ok(http_body::Frame::data(bytes::Bytes::from(chunk)))
                        }
                        Err(err) => {
                            // Nothing more comes after an error.
                            this.left = 0;
                            Err(err)
                        }
                    }));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    async fn frames(mut body: FilePart) -> (Vec<u8>, Option<io::Error>) {
        let mut bytes = Vec::new();
        loop {
            let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
            match frame {
                None => return (bytes, None),
                Some(Err(err)) => return (bytes, Some(err)),
                Some(Ok(frame)) => {
                    let data = frame.into_data().unwrap_or_default();
                    assert!(data.len() as u64 <= CHUNK);
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }

    #[tokio::test]
    async fn a_part_streams_exactly_its_bytes_and_a_short_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("polyv-async-filepart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();

        let mut file = std::fs::File::open(&path).unwrap();
        std::io::Seek::seek(&mut file, io::SeekFrom::Start(1000)).unwrap();
        let body = FilePart::new(file, 2_500_000);
        assert_eq!(body.size_hint().exact(), Some(2_500_000));
        let (bytes, err) = frames(body).await;
        assert!(err.is_none());
        assert!(bytes == data[1000..2_501_000], "not the part's bytes");

        // The file is shorter than the part: an error, never a short part.
        let file = std::fs::File::open(&path).unwrap();
        let (bytes, err) = frames(FilePart::new(file, 3_500_000)).await;
        assert_eq!(
            bytes.len(),
            2 * CHUNK as usize,
            "the whole chunks before the end"
        );
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::UnexpectedEof));
        std::fs::remove_dir_all(&dir).ok();
    }
}
