//! What a client's `upload` is asked and what it reports: the options, the
//! progress, the result. Plain data, shared by polyv-blocking and
//! polyv-async, which perform the upload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::upload::{
    DEFAULT_CONCURRENCY, FileIdentity, InitUpload, PartPlan, ResumeState, Upload, UrlScheme,
};
use crate::{Error, UserId};

/// Called with the progress of an upload after every part.
pub type ProgressFn = Arc<dyn Fn(&UploadProgress) + Send + Sync>;

/// How to upload a file with a client's `upload`.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::AtomicBool;
/// use polyv_core::upload::UploadOptions;
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
    /// use is bounded by this times the part size (polyv-blocking streams
    /// parts from the file; polyv-async reads each just before sending it).
    pub fn parallel(mut self, parts: usize) -> Self {
        self.parallel = Some(parts);
        self
    }

    /// The number of parts in flight at once.
    pub fn get_parallel(&self) -> usize {
        self.parallel.unwrap_or(DEFAULT_CONCURRENCY)
    }

    /// Called after every finished part (polyv-blocking: on the calling
    /// thread; polyv-async: in the upload's task).
    pub fn on_progress(
        mut self,
        progress: impl Fn(&UploadProgress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// When this flag becomes `true`, the upload starts no new request,
    /// waits for the parts in flight, saves its state and returns
    /// [`Error::UploadCancelled`], which says that running it again
    /// resumes.
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

    /// The init call for `path` of `size` bytes: the title defaults to the
    /// file's name without its extension.
    pub fn init_request(&self, path: &Path, size: u64) -> Result<InitUpload, Error> {
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

    /// The progress callback, if one was set.
    pub fn get_progress(&self) -> Option<&ProgressFn> {
        self.progress.as_ref()
    }

    /// Whether a saved upload is ignored and a new one started.
    pub fn get_restart(&self) -> bool {
        self.restart
    }

    /// The part size set, if any (none: the planner's default).
    pub fn get_part_size(&self) -> Option<u64> {
        self.part_size
    }

    /// Where resume states are kept: the directory set, else
    /// [`default_state_dir`]; an error when neither gives one.
    pub fn get_state_dir(&self) -> Result<PathBuf, Error> {
        match &self.state_dir {
            Some(dir) => Ok(dir.clone()),
            None => default_state_dir().ok_or(Error::MissingEnv("XDG_CACHE_HOME or HOME")),
        }
    }

    /// The file a client keeps `file`'s resume state in, for this account
    /// (one account's saved upload is never resumed by another).
    pub fn state_file(&self, user_id: &UserId, file: &FileIdentity) -> Result<PathBuf, Error> {
        Ok(self
            .get_state_dir()?
            .join(format!("{}-{}.json", user_id.as_str(), file.cache_key())))
    }

    /// The upload to run for `file`: the saved one (`saved`, the state
    /// file's bytes, when it matches the file and no restart was asked), or
    /// a new one on this plan. Returns whether it resumes.
    pub fn begin(
        &self,
        file: &FileIdentity,
        saved: Option<&[u8]>,
        scheme: UrlScheme,
    ) -> Result<(Upload, bool), Error> {
        let parallel = self.get_parallel();
        let saved = saved
            .and_then(|json| match ResumeState::from_json(json) {
                Ok(state) => Some(state),
                Err(error) => {
                    // Written atomically, so only another program (or a full
                    // disk) leaves one unreadable; its vid cannot be known.
                    tracing::warn!(target: "polyv", file = %file.path, %error, "the upload's saved state cannot be read; starting a new upload (a new video)");
                    None
                }
            })
            .filter(|saved| !self.restart && saved.matches(file));
        match saved {
            Some(saved) => Ok((Upload::resume(saved, file, scheme, parallel)?, true)),
            None => {
                let plan = upload_plan(file.size, self.part_size)?;
                Ok((Upload::new(file.clone(), plan, scheme, parallel)?, false))
            }
        }
    }

    /// Whether the cancel flag is raised.
    pub fn cancel_requested(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }
}

/// The plan a client's `upload` would use for a file of `size` bytes with
/// this part size (none: the default), e.g. for a dry run.
///
/// ```
/// let plan = polyv_core::upload::upload_plan(1_000_000, Some(100 * 1024))?;
/// assert_eq!(plan.part_count(), 10);
/// # Ok::<(), polyv_core::Error>(())
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
/// if let Some(dir) = polyv_core::upload::default_state_dir() {
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
    /// Where `upload` stands for the file at `path`: this run started at
    /// `start_parts` stored parts and has sent `sent` bytes in `elapsed`
    /// seconds.
    pub fn of(upload: &Upload, path: &Path, start_parts: u32, sent: u64, elapsed: f64) -> Self {
        Self {
            path: path.to_path_buf(),
            bytes_done: upload.bytes_done(),
            bytes_total: upload.plan().file_size(),
            parts_done: upload.parts_done(),
            parts_total: upload.plan().part_count(),
            parts_sent: upload.parts_done().saturating_sub(start_parts),
            rate: if elapsed > 0.0 {
                sent as f64 / elapsed
            } else {
                0.0
            },
            elapsed,
        }
    }

    /// Seconds until done at the current rate, when there is one.
    pub fn eta_secs(&self) -> Option<f64> {
        (self.rate > 0.0)
            .then(|| self.bytes_total.saturating_sub(self.bytes_done) as f64 / self.rate)
    }
}

impl Uploaded {
    /// The upload of `file` (at `path`) that made `vid`, having started at
    /// `start_bytes` stored and taken `seconds`.
    pub fn of(
        vid: String,
        path: PathBuf,
        upload: &Upload,
        start_bytes: u64,
        seconds: f64,
        resumed: bool,
    ) -> Self {
        let bytes = upload.plan().file_size();
        Self {
            vid,
            path,
            bytes,
            seconds,
            resumed,
            bytes_sent: bytes.saturating_sub(start_bytes),
            fresh_resends: upload.fresh_resends(),
        }
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
    /// Parts sent again at once on a new connection because the server had
    /// closed the kept-alive one they went on ([`Upload::fresh_resends`]).
    pub fresh_resends: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_resumes_a_matching_state_and_starts_afresh_otherwise() {
        let file = FileIdentity::new("/v/talk.mp4", 300 * 1024, 1);
        let options = UploadOptions::new().part_size(100 * 1024);
        let scheme = UrlScheme::Https;
        let (upload, resumed) = options.begin(&file, None, scheme).unwrap();
        assert!(!resumed);
        assert_eq!(upload.plan().part_count(), 3);

        let mut state = ResumeState::new(file.clone(), 100 * 1024);
        state.vid = "v_1".into();
        let json = state.to_json().unwrap();
        let (upload, resumed) = options.begin(&file, Some(json.as_bytes()), scheme).unwrap();
        assert!(resumed);
        assert_eq!(upload.vid(), Some("v_1"));

        // Another file, a restart, or a state that cannot be read: a new upload.
        let other = FileIdentity::new("/v/talk.mp4", 300 * 1024, 2);
        assert!(
            !options
                .begin(&other, Some(json.as_bytes()), scheme)
                .unwrap()
                .1
        );
        let restart = UploadOptions::new().restart(true);
        assert!(
            !restart
                .begin(&file, Some(json.as_bytes()), scheme)
                .unwrap()
                .1
        );
        let (upload, resumed) = options
            .begin(&file, Some(b"{\"version\":1,"), scheme)
            .unwrap();
        assert!(!resumed);
        assert_eq!(upload.vid(), None);
    }
}
