//! The upload state machine and its resumable state.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::Error;

use super::{
    FinishedPart, OssCallback, OssError, OssErrorAction, OssRequests, Part, PartPlan, UploadTicket,
    UrlScheme, check_concurrency, check_space, file_extension,
};

/// Credentials with less than this left are refreshed before the next
/// request (Polyv's Java SDK: 60 s); credentials that live less than twice
/// as long are refreshed at half their lifetime instead.
pub const REFRESH_MARGIN_MS: u64 = 60_000;
/// How often one request (a part, Initiate, Complete) is tried before the
/// upload fails.
pub const MAX_ATTEMPTS: u32 = 5;
/// How many credential refreshes in a row, with no request succeeding in
/// between, before the upload fails (Polyv's Java SDK: 3).
pub const MAX_REFRESHES_WITHOUT_PROGRESS: u32 = 3;
/// How many times a vanished multipart upload (`NoSuchUpload`) is started
/// again before the upload fails.
pub const MAX_RESTARTS: u32 = 3;
/// The version of [`ResumeState`]'s format.
pub const RESUME_STATE_VERSION: u32 = 1;

/// The file being uploaded, as the transport found it: its path, size and
/// modification time (ms since the epoch). The core reads no file; a resume
/// state is used again only for the same identity.
///
/// ```
/// use polyv_core::upload::FileIdentity;
///
/// let file = FileIdentity::new("/videos/talk.mp4", 20_971_520, 1_700_000_000_000);
/// assert_eq!(file.extension(), "mp4");
/// assert_eq!(file.cache_key().len(), 40);
/// assert_ne!(file.cache_key(), FileIdentity::new("/videos/talk.mp4", 20_971_520, 1_700_000_000_001).cache_key());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileIdentity {
    /// The path as the user gave it (made absolute by the transport, ideally).
    pub path: String,
    /// The size in bytes.
    pub size: u64,
    /// The modification time in milliseconds since the epoch.
    pub modified_ms: i64,
}

impl FileIdentity {
    /// The identity of the file at `path` from its metadata as a client
    /// read it (`modified` is `None` where the platform keeps no time).
    pub fn of(path: &std::path::Path, size: u64, modified: Option<std::time::SystemTime>) -> Self {
        let modified_ms = modified
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self::new(path.to_string_lossy(), size, modified_ms)
    }

    /// An identity from plain values.
    pub fn new(path: impl Into<String>, size: u64, modified_ms: i64) -> Self {
        Self {
            path: path.into(),
            size,
            modified_ms,
        }
    }

    /// The file's extension, for the object key.
    pub fn extension(&self) -> &str {
        file_extension(&self.path)
    }

    /// 40 hex digits naming this identity (SHA-1 of path, size and mtime):
    /// a file name for the saved state, e.g. under
    /// `$XDG_CACHE_HOME/polyv/uploads/{cache_key}.json`.
    pub fn cache_key(&self) -> String {
        let mut hash = Sha1::new();
        hash.update(self.path.as_bytes());
        hash.update([0]);
        hash.update(self.size.to_be_bytes());
        hash.update(self.modified_ms.to_be_bytes());
        let mut out = String::with_capacity(40);
        for byte in hash.finalize() {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }
}

/// What a transport saves after every step so that an interrupted upload
/// continues where it stopped, in this process or another: the file's
/// identity, the vid (saved as soon as `init` answers, so a rerun never
/// creates a second video), the object key, the multipart upload id, the
/// part size and the finished parts with their ETags. No credentials.
///
/// ```
/// use polyv_core::upload::{FileIdentity, ResumeState};
///
/// let state = ResumeState::new(FileIdentity::new("/v/a.mp4", 1, 2), 8_388_608);
/// let json = state.to_json()?;
/// assert_eq!(ResumeState::from_json(json.as_bytes())?, state);
/// assert!(ResumeState::from_json(b"{}").is_err());
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeState {
    /// The format's version, [`RESUME_STATE_VERSION`].
    pub version: u32,
    /// The file.
    pub file: FileIdentity,
    /// The video's id; empty until `init` answered.
    pub vid: String,
    /// The object key; empty until `init` answered.
    pub key: String,
    /// The multipart upload's id, once initiated.
    pub upload_id: Option<String>,
    /// The part size of the plan.
    pub part_size: u64,
    /// The parts uploaded under `upload_id`, by number.
    pub parts: Vec<FinishedPart>,
}

impl ResumeState {
    /// A state with nothing done yet.
    pub fn new(file: FileIdentity, part_size: u64) -> Self {
        Self {
            version: RESUME_STATE_VERSION,
            file,
            vid: String::new(),
            key: String::new(),
            upload_id: None,
            part_size,
            parts: Vec::new(),
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self)
            .map_err(|err| Error::InvalidInput(format!("cannot write the upload state: {err}")))
    }

    /// From JSON written by [`to_json`](Self::to_json); another version or
    /// shape is refused (start the upload afresh).
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let state: Self = serde_json::from_slice(json).map_err(|err| Error::Decode {
            path: "upload state".into(),
            message: format!("{err}: delete the saved state to start the upload afresh"),
        })?;
        if state.version != RESUME_STATE_VERSION {
            return Err(Error::Decode {
                path: "upload state.version".into(),
                message: format!(
                    "version {} is not {RESUME_STATE_VERSION}: delete the saved state to start the upload afresh",
                    state.version
                ),
            });
        }
        Ok(state)
    }

    /// Whether this state is for that file (same path, size and mtime).
    pub fn matches(&self, file: &FileIdentity) -> bool {
        self.file == *file
    }

    fn record(&mut self, part: FinishedPart) {
        match self.parts.binary_search_by_key(&part.number, |p| p.number) {
            Ok(at) => self.parts[at] = part,
            Err(at) => self.parts.insert(at, part),
        }
    }
}

/// Why a request of the upload failed: an OSS error answer, or the
/// transport's error (network, timeout...).
#[derive(Debug)]
pub enum Failure {
    /// OSS answered with an error status.
    Oss(OssError),
    /// The request got no answer; [`Error::is_retryable`] says whether
    /// trying again may help.
    Transport(Error),
}

impl From<OssError> for Failure {
    fn from(err: OssError) -> Self {
        Self::Oss(err)
    }
}

/// What the transport does next, as told by [`Upload::next`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Call [`InitUpload::new`](super::InitUpload::new) (a new video, with
    /// the user's title...), then [`Upload::on_ticket`] or
    /// [`Upload::on_init_failed`].
    Init,
    /// Call [`InitUpload::resume`](super::InitUpload::resume) for this vid
    /// (fresh credentials, no new video), then the same.
    ResumeInit {
        /// The saved vid.
        vid: String,
    },
    /// Write [`Upload::resume_state`] to the saved-state file now (it
    /// changed: the vid arrived, the upload was initiated, a part finished).
    Save,
    /// Call [`RefreshUploadToken`](super::RefreshUploadToken), then
    /// [`Upload::on_credentials`] or [`Upload::on_refresh_failed`].
    RefreshCredentials,
    /// Send [`OssRequests::initiate`] (from [`Upload::oss`]), then
    /// [`Upload::on_initiated`] or [`Upload::on_initiate_failed`].
    Initiate {
        /// Earlier failed tries of this request: back off before sending
        /// when not 0.
        attempt: u32,
    },
    /// Send [`OssRequests::list_parts`] from part `marker` on, then
    /// [`Upload::on_list_parts_response`] or [`Upload::on_list_parts_failed`].
    /// Asked when a saved upload resumes: OSS's own list of the parts it
    /// holds replaces the saved one, so a part that finished after the last
    /// save (the process was killed while its answer was on the way) is not
    /// sent again, and one OSS no longer has is.
    ListParts {
        /// The multipart upload's id.
        upload_id: String,
        /// List the parts after this number (0: from the start).
        marker: u32,
        /// Earlier failed tries: back off before sending when not 0.
        attempt: u32,
    },
    /// Send this part (read from the file at `part.offset`, `part.len`
    /// bytes) with [`OssRequests::upload_part_head`], then
    /// [`Upload::on_part_uploaded`] or [`Upload::on_part_failed`]. Several
    /// may be in flight.
    UploadPart {
        /// The part.
        part: Part,
        /// The multipart upload's id.
        upload_id: String,
        /// Earlier failed tries of this part: back off before sending when
        /// not 0.
        attempt: u32,
        /// Send it on a new connection, not a kept-alive one: its last try
        /// failed on a kept-alive connection the server had closed (see
        /// [`Action::fresh_connection`]).
        fresh_connection: bool,
    },
    /// Send [`OssRequests::complete`] with these parts and
    /// [`Upload::callback`], then [`Upload::on_completed`] or
    /// [`Upload::on_complete_failed`].
    Complete {
        /// The multipart upload's id.
        upload_id: String,
        /// Every part, by number.
        parts: Vec<FinishedPart>,
        /// Earlier failed tries: back off before sending when not 0.
        attempt: u32,
    },
    /// Nothing new to start: wait for a request in flight to finish.
    Wait,
    /// Uploaded: OSS stored the object and Polyv's callback was accepted.
    /// The saved state can be deleted. Polyv now transcodes the video.
    Done {
        /// The video's id.
        vid: String,
    },
    /// The upload stopped. The saved state is kept: running the same upload
    /// again resumes it (unless the error says otherwise).
    Failed(Error),
}

impl Action {
    /// Whether to send this action's request on a new connection rather
    /// than a kept-alive one. Initiate, ListParts and Complete always are
    /// (a few per upload, and Complete must not be lost to a connection
    /// the server closed while it was idle: it cannot be told apart from a
    /// Complete that arrived). A part is when its last try failed on a
    /// kept-alive connection before any answer
    /// ([`Error::is_closed_before_response`]): it is sent again at once on a
    /// new one, with no backoff and no try counted, once per try; parts
    /// otherwise keep the pool.
    pub fn fresh_connection(&self) -> bool {
        match self {
            Self::UploadPart {
                fresh_connection, ..
            } => *fresh_connection,
            Self::Initiate { .. } | Self::ListParts { .. } | Self::Complete { .. } => true,
            _ => false,
        }
    }

    /// For the OSS requests sent one at a time ([`Initiate`](Self::Initiate),
    /// [`ListParts`](Self::ListParts), [`Complete`](Self::Complete)): the
    /// earlier failed tries, to back off before sending when not 0. `None`
    /// for every other action.
    pub fn sequential_attempt(&self) -> Option<u32> {
        match self {
            Self::Initiate { attempt }
            | Self::ListParts { attempt, .. }
            | Self::Complete { attempt, .. } => Some(*attempt),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    InitInFlight,
    Initiate,
    InitiateInFlight,
    ListParts,
    ListPartsInFlight,
    Parts,
    Complete,
    CompleteInFlight,
    Done,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refresh {
    Idle,
    Needed,
    InFlight,
}

/// The upload of one file as a pure state machine: it says what to do next
/// and learns what came back; the transport reads the file, sends, sleeps
/// and keeps the clock (milliseconds since the epoch, handed in).
///
/// ```
/// use polyv_core::upload::{Action, FileIdentity, PartPlan, Upload, UploadTicket, UrlScheme};
///
/// let file = FileIdentity::new("/videos/talk.mp4", 20 * 1024 * 1024, 1_700_000_000_000);
/// let plan = PartPlan::new(file.size)?;
/// let mut upload = Upload::new(file, plan, UrlScheme::Https, 2)?;
/// let now = 1_700_000_000_000;
///
/// assert!(matches!(upload.next(now), Action::Init));
/// let ticket = UploadTicket::new("v_1", ("STS.id", "secret", "token"), 3600, "bucket",
///     "upload.example.com", "dir/", r#"{"callbackUrl":"https://cb.example/","callbackBody":"x"}"#, None);
/// upload.on_ticket(&ticket, now);
/// assert!(matches!(upload.next(now), Action::Save)); // the vid is known: save it first
/// assert!(matches!(upload.next(now), Action::Initiate { attempt: 0 }));
/// upload.on_initiated("U1");
/// assert!(matches!(upload.next(now), Action::Save));
///
/// // Two parts in flight (the concurrency), the third waits.
/// for n in 1..=2 {
///     assert!(matches!(upload.next(now), Action::UploadPart { part, .. } if part.number == n));
/// }
/// assert!(matches!(upload.next(now), Action::Wait));
/// upload.on_part_uploaded(1, "U1", "\"E1\"");
/// assert!(matches!(upload.next(now), Action::Save));
/// assert!(matches!(upload.next(now), Action::UploadPart { part, .. } if part.number == 3));
/// upload.on_part_uploaded(2, "U1", "\"E2\"");
/// upload.on_part_uploaded(3, "U1", "\"E3\"");
/// assert!(matches!(upload.next(now), Action::Save));
/// assert!(matches!(upload.next(now), Action::Complete { ref parts, .. } if parts.len() == 3));
/// upload.on_completed();
/// assert!(matches!(upload.next(now), Action::Done { ref vid } if vid == "v_1"));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Upload {
    plan: PartPlan,
    state: ResumeState,
    scheme: UrlScheme,
    concurrency: usize,
    resuming: bool,
    phase: Phase,
    oss: Option<OssRequests>,
    callback: Option<OssCallback>,
    expires_at_ms: Option<u64>,
    /// How early before `expires_at_ms` to refresh: 60 s, or half the
    /// credentials' lifetime when that is shorter (so that short-lived
    /// credentials are used at all).
    refresh_margin_ms: u64,
    refresh: Refresh,
    credentials_refused: bool,
    refreshes_without_progress: u32,
    restarts: u32,
    pending: BTreeSet<u32>,
    in_flight: BTreeSet<u32>,
    /// Parts whose next try goes on a new connection, and parts in flight
    /// on one (their failure is an ordinary one).
    fresh_next: BTreeSet<u32>,
    sent_fresh: BTreeSet<u32>,
    fresh_resends: u32,
    /// Failed tries per part (index: number - 1).
    attempts: Vec<u32>,
    initiate_attempts: u32,
    /// The parts ListParts named so far, and where its next page starts.
    listed: Vec<FinishedPart>,
    list_marker: u32,
    list_attempts: u32,
    complete_attempts: u32,
    callback_failed: bool,
    complete_maybe_delivered: bool,
    unsaved: bool,
    failure: Option<Error>,
}

impl Upload {
    /// A new upload of `file` cut as `plan` (of the same size), at most
    /// `concurrency` parts in flight, OSS requests over `scheme` (that of
    /// the configured base URL: [`UrlScheme::of_base_url`]).
    pub fn new(
        file: FileIdentity,
        plan: PartPlan,
        scheme: UrlScheme,
        concurrency: usize,
    ) -> Result<Self, Error> {
        if plan.file_size() != file.size {
            return Err(Error::InvalidInput(format!(
                "the plan is for {} bytes but the file has {}: plan the file's own size",
                plan.file_size(),
                file.size
            )));
        }
        let state = ResumeState::new(file, plan.part_size());
        Self::from_state(state, plan, scheme, concurrency, false)
    }

    /// Continues the upload saved in `saved`, for `file` (which must match
    /// the saved identity: a changed file is a new upload). The saved vid is
    /// asked for fresh credentials (`init` with `autoid=0`); the parts
    /// finished are not sent again.
    pub fn resume(
        saved: ResumeState,
        file: &FileIdentity,
        scheme: UrlScheme,
        concurrency: usize,
    ) -> Result<Self, Error> {
        if !saved.matches(file) {
            return Err(Error::InvalidInput(format!(
                "the file {:?} changed since its upload was saved (size or modification time): upload it as a new video{}",
                file.path,
                if saved.vid.is_empty() {
                    String::new()
                } else {
                    format!(" (the saved video {} stays incomplete)", saved.vid)
                }
            )));
        }
        let plan = PartPlan::with_part_size(file.size, saved.part_size)?;
        let mut state = saved;
        state.parts.sort_by_key(|p| p.number);
        state.parts.dedup_by_key(|p| p.number);
        if let Some(bad) = state
            .parts
            .iter()
            .find(|p| p.number == 0 || p.number > plan.part_count() || p.etag.is_empty())
        {
            return Err(Error::InvalidInput(format!(
                "the saved upload lists part {} with ETag {:?}, which the plan of {} parts cannot have: delete the saved state",
                bad.number,
                bad.etag,
                plan.part_count()
            )));
        }
        if state.upload_id.is_none() {
            state.parts.clear();
        }
        let resuming = !state.vid.is_empty();
        Self::from_state(state, plan, scheme, concurrency, resuming)
    }

    fn from_state(
        state: ResumeState,
        plan: PartPlan,
        scheme: UrlScheme,
        concurrency: usize,
        resuming: bool,
    ) -> Result<Self, Error> {
        let concurrency = check_concurrency(concurrency)?;
        let mut upload = Self {
            attempts: vec![0; plan.part_count() as usize],
            plan,
            state,
            scheme,
            concurrency,
            resuming,
            phase: Phase::Init,
            oss: None,
            callback: None,
            expires_at_ms: None,
            refresh_margin_ms: REFRESH_MARGIN_MS,
            refresh: Refresh::Idle,
            credentials_refused: false,
            refreshes_without_progress: 0,
            restarts: 0,
            pending: BTreeSet::new(),
            in_flight: BTreeSet::new(),
            fresh_next: BTreeSet::new(),
            sent_fresh: BTreeSet::new(),
            fresh_resends: 0,
            initiate_attempts: 0,
            listed: Vec::new(),
            list_marker: 0,
            list_attempts: 0,
            complete_attempts: 0,
            callback_failed: false,
            complete_maybe_delivered: false,
            unsaved: false,
            failure: None,
        };
        upload.fill_pending();
        Ok(upload)
    }

    /// Every part not finished is pending.
    fn fill_pending(&mut self) {
        let done: BTreeSet<u32> = self.state.parts.iter().map(|p| p.number).collect();
        self.pending = (1..=self.plan.part_count())
            .filter(|n| !done.contains(n))
            .collect();
    }

    /// The plan.
    pub fn plan(&self) -> &PartPlan {
        &self.plan
    }

    /// What to save (see [`Action::Save`]).
    pub fn resume_state(&self) -> &ResumeState {
        &self.state
    }

    /// The OSS requests for the current object and credentials, once `init`
    /// answered.
    pub fn oss(&self) -> Option<&OssRequests> {
        self.oss.as_ref()
    }

    /// Polyv's callback for Complete, once `init` answered.
    pub fn callback(&self) -> Option<&OssCallback> {
        self.callback.as_ref()
    }

    /// The video's id, once known.
    pub fn vid(&self) -> Option<&str> {
        (!self.state.vid.is_empty()).then_some(self.state.vid.as_str())
    }

    /// Bytes of the finished parts (for progress).
    pub fn bytes_done(&self) -> u64 {
        self.state
            .parts
            .iter()
            .filter_map(|p| self.plan.part(p.number))
            .map(|p| p.len)
            .sum()
    }

    /// How many parts are finished.
    pub fn parts_done(&self) -> u32 {
        u32::try_from(self.state.parts.len()).unwrap_or(u32::MAX)
    }

    /// Whether the upload has ended, done or failed: [`next`](Self::next)
    /// says which. A cancellation that comes now must not hide that end (a
    /// finished upload reported as cancelled would be uploaded again).
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Failed)
    }

    /// The error a client returns when the upload is cancelled
    /// ([`UploadOptions::cancel_flag`](super::UploadOptions::cancel_flag)),
    /// once the parts in flight have answered and the state is saved.
    pub fn cancelled(&self) -> Error {
        Error::UploadCancelled {
            parts_done: self.parts_done(),
            parts_total: self.plan.part_count(),
            path: std::path::PathBuf::from(&self.state.file.path),
        }
    }

    /// How many times a part was sent again on a new connection because
    /// the kept-alive one it went on had been closed by the server
    /// ([`Action::fresh_connection`]).
    pub fn fresh_resends(&self) -> u32 {
        self.fresh_resends
    }

    /// How many parts are in flight.
    pub fn parts_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// What to do next, at `now_ms` (ms since the epoch, the clock the
    /// credentials' validity is measured on).
    pub fn next(&mut self, now_ms: u64) -> Action {
        match self.phase {
            Phase::Done => {
                return Action::Done {
                    vid: self.state.vid.clone(),
                };
            }
            Phase::Failed if self.unsaved => {
                // The vid may have just arrived: keep it before stopping.
                self.unsaved = false;
                return Action::Save;
            }
            Phase::Failed => {
                return Action::Failed(self.failure.take().unwrap_or_else(|| {
                    Error::InvalidInput(
                        "this upload already failed: run it again to resume from its saved state"
                            .into(),
                    )
                }));
            }
            Phase::Init => {
                self.phase = Phase::InitInFlight;
                return if self.resuming {
                    Action::ResumeInit {
                        vid: self.state.vid.clone(),
                    }
                } else {
                    Action::Init
                };
            }
            Phase::InitInFlight => return Action::Wait,
            _ => {}
        }
        if self.unsaved {
            self.unsaved = false;
            return Action::Save;
        }
        // Credentials: refresh before they run out, or once refused.
        let running_out = self
            .expires_at_ms
            .is_some_and(|at| at.saturating_sub(now_ms) < self.refresh_margin_ms);
        if self.refresh == Refresh::Needed
            || (self.refresh == Refresh::Idle && running_out && !self.nothing_left_to_send())
        {
            self.refresh = Refresh::InFlight;
            return Action::RefreshCredentials;
        }
        let expired = self.expires_at_ms.is_some_and(|at| now_ms >= at);
        if self.refresh == Refresh::InFlight && (self.credentials_refused || expired) {
            return Action::Wait;
        }
        match self.phase {
            Phase::Initiate => {
                self.phase = Phase::InitiateInFlight;
                Action::Initiate {
                    attempt: self.initiate_attempts,
                }
            }
            Phase::ListParts => match self.state.upload_id.clone() {
                Some(upload_id) => {
                    self.phase = Phase::ListPartsInFlight;
                    Action::ListParts {
                        upload_id,
                        marker: self.list_marker,
                        attempt: self.list_attempts,
                    }
                }
                None => {
                    self.phase = Phase::Initiate;
                    self.next(now_ms)
                }
            },
            Phase::Parts => {
                let Some(upload_id) = self.state.upload_id.clone() else {
                    self.phase = Phase::Initiate;
                    return self.next(now_ms);
                };
                if self.in_flight.len() < self.concurrency {
                    if let Some(number) = self.pending.pop_first() {
                        self.in_flight.insert(number);
                        let fresh_connection = self.fresh_next.remove(&number);
                        if fresh_connection {
                            self.sent_fresh.insert(number);
                        } else {
                            self.sent_fresh.remove(&number);
                        }
                        if let Some(part) = self.plan.part(number) {
                            return Action::UploadPart {
                                part,
                                upload_id,
                                attempt: self.attempts_of(number),
                                fresh_connection,
                            };
                        }
                    }
                }
                if self.in_flight.is_empty() && self.pending.is_empty() {
                    self.phase = Phase::Complete;
                    return self.next(now_ms);
                }
                Action::Wait
            }
            Phase::Complete => match self.state.upload_id.clone() {
                Some(upload_id) => {
                    self.phase = Phase::CompleteInFlight;
                    Action::Complete {
                        upload_id,
                        parts: self.state.parts.clone(),
                        attempt: self.complete_attempts,
                    }
                }
                None => {
                    self.phase = Phase::Initiate;
                    self.next(now_ms)
                }
            },
            _ => Action::Wait,
        }
    }

    fn nothing_left_to_send(&self) -> bool {
        matches!(self.phase, Phase::CompleteInFlight)
    }

    fn attempts_of(&self, number: u32) -> u32 {
        self.attempts
            .get(number.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(0)
    }

    fn fail(&mut self, error: Error) {
        if self.phase != Phase::Done {
            self.phase = Phase::Failed;
            self.failure = Some(error);
        }
    }

    /// `init` answered (at `now_ms`): the vid, the credentials and where to
    /// upload. Checks the account's space for a new video
    /// ([`check_space`]), and that a resumed video kept its vid.
    pub fn on_ticket(&mut self, ticket: &UploadTicket, now_ms: u64) {
        if self.phase != Phase::InitInFlight {
            return;
        }
        if let Err(err) = self.take_ticket(ticket, now_ms) {
            self.fail(err);
        }
    }

    fn take_ticket(&mut self, ticket: &UploadTicket, now_ms: u64) -> Result<(), Error> {
        if self.resuming {
            if ticket.vid() != self.state.vid {
                return Err(Error::Decode {
                    path: "data.vid".into(),
                    message: format!(
                        "init for the saved video {} answered the vid {:?}: delete the saved state to upload afresh",
                        self.state.vid,
                        ticket.vid()
                    ),
                });
            }
        } else {
            // Saved before anything else can fail: a rerun resumes this vid.
            crate::input::vid(ticket.vid())?;
            self.state.vid = ticket.vid().to_owned();
            self.unsaved = true;
            check_space(self.plan.file_size(), ticket)?;
        }
        let oss = ticket.oss_requests(self.scheme, self.state.file.extension())?;
        let callback = ticket.oss_callback()?.ok_or_else(|| Error::Decode {
            path: "data.callback".into(),
            message:
                "init gave no callback: without it Polyv would never learn the upload finished"
                    .into(),
        })?;
        if self.state.key != oss.object().key() {
            // A new video, or Polyv moved it: an old multipart upload is of no use.
            self.state.key = oss.object().key().to_owned();
            self.state.upload_id = None;
            self.state.parts.clear();
            self.fill_pending();
            self.unsaved = true;
        }
        self.oss = Some(oss);
        self.callback = Some(callback);
        self.set_expiry(ticket, now_ms);
        self.phase = if self.state.upload_id.is_some() {
            // Only a resumed upload has an id here: ask OSS what it holds.
            self.listed.clear();
            self.list_marker = 0;
            Phase::ListParts
        } else {
            Phase::Initiate
        };
        Ok(())
    }

    fn set_expiry(&mut self, ticket: &UploadTicket, now_ms: u64) {
        self.expires_at_ms = ticket.expires_at_ms(now_ms);
        let lifetime_ms = ticket.validity_secs().saturating_mul(1000);
        self.refresh_margin_ms = REFRESH_MARGIN_MS.min(lifetime_ms / 2);
    }

    /// `init` failed (after the driver's own retries): the upload stops.
    pub fn on_init_failed(&mut self, error: Error) {
        self.fail(error);
    }

    /// `token` answered (at `now_ms`): fresh credentials, same object.
    pub fn on_credentials(&mut self, ticket: &UploadTicket, now_ms: u64) {
        match (ticket.credentials(), self.oss.take()) {
            (Ok(credentials), Some(oss)) => {
                self.oss = Some(oss.with_credentials(credentials));
                self.set_expiry(ticket, now_ms);
                self.refresh = Refresh::Idle;
                self.credentials_refused = false;
            }
            (Err(err), oss) => {
                self.oss = oss;
                self.fail(err);
            }
            (Ok(_), None) => {}
        }
    }

    /// `token` failed (after the driver's own retries): the upload stops.
    pub fn on_refresh_failed(&mut self, error: Error) {
        self.fail(error);
    }

    /// InitiateMultipartUpload answered this upload id.
    pub fn on_initiated(&mut self, upload_id: &str) {
        if self.phase != Phase::InitiateInFlight {
            return;
        }
        self.state.upload_id = Some(upload_id.to_owned());
        self.state.parts.clear();
        self.fill_pending();
        self.initiate_attempts = 0;
        self.refreshes_without_progress = 0;
        self.unsaved = true;
        self.phase = Phase::Parts;
    }

    /// InitiateMultipartUpload failed.
    pub fn on_initiate_failed(&mut self, failure: Failure) {
        if self.phase != Phase::InitiateInFlight {
            return;
        }
        self.phase = Phase::Initiate;
        self.initiate_attempts += 1;
        let attempts = self.initiate_attempts;
        self.handle(failure, attempts);
    }

    /// The signed OSS request of an [`Action::Initiate`],
    /// [`Action::ListParts`] or [`Action::Complete`], dated `date`; send it,
    /// then hand its answer to [`on_oss_answer`](Self::on_oss_answer).
    /// Parts are not sent this way: their body is the file's, streamed
    /// ([`OssRequests::upload_part_head`]).
    pub fn oss_request(
        &self,
        action: &Action,
        date: std::time::SystemTime,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let oss = self.oss.as_ref().ok_or_else(|| {
            Error::InvalidInput("the upload has no OSS credentials yet".to_owned())
        })?;
        match action {
            Action::Initiate { .. } => oss.initiate(date),
            Action::ListParts {
                upload_id, marker, ..
            } => oss.list_parts(upload_id, *marker, date),
            Action::Complete {
                upload_id, parts, ..
            } => oss.complete(upload_id, parts, self.callback.as_ref(), date),
            other => Err(Error::InvalidInput(format!(
                "{other:?} is not an OSS request sent on its own"
            ))),
        }
    }

    /// The answer to [`oss_request`](Self::oss_request)'s request for
    /// `action`: its status and body as received, or the transport's error
    /// (which includes failing to build the request).
    pub fn on_oss_answer(&mut self, action: &Action, answer: Result<(u16, &[u8]), Error>) {
        match (action, answer) {
            (Action::Initiate { .. }, Ok((status, body))) => {
                self.on_initiate_response(status, body);
            }
            (Action::Initiate { .. }, Err(err)) => {
                self.on_initiate_failed(Failure::Transport(err));
            }
            (Action::ListParts { .. }, Ok((status, body))) => {
                self.on_list_parts_response(status, body);
            }
            (Action::ListParts { .. }, Err(err)) => {
                self.on_list_parts_failed(Failure::Transport(err));
            }
            (Action::Complete { .. }, Ok((status, body))) => {
                self.on_complete_response(status, body);
            }
            (Action::Complete { .. }, Err(err)) => {
                self.on_complete_failed(Failure::Transport(err));
            }
            _ => {}
        }
    }

    /// ListParts answered: 200 with a page of the parts OSS holds (another
    /// page is asked for when it is truncated), any other status
    /// [`on_list_parts_failed`](Self::on_list_parts_failed) with the
    /// [`OssError`] it carries.
    ///
    /// Once the list is whole it replaces the saved parts: a listed part of
    /// the plan's size counts as finished (with OSS's ETag), any other part
    /// is sent, saved or not.
    pub fn on_list_parts_response(&mut self, status: u16, body: &[u8]) {
        if self.phase != Phase::ListPartsInFlight {
            return;
        }
        if status != 200 {
            self.on_list_parts_failed(OssError::from_response(status, body).into());
            return;
        }
        let page = match super::parse_list_parts(body) {
            Ok(page) => page,
            Err(err) => return self.fail(err),
        };
        self.list_attempts = 0;
        let count = page.parts.len();
        for listed in page.parts {
            let fits = self
                .plan
                .part(listed.number)
                .is_some_and(|part| part.len == listed.size);
            if fits && !listed.etag.trim().is_empty() {
                self.listed
                    .push(FinishedPart::new(listed.number, listed.etag.trim()));
            }
        }
        // A truncated page must move the marker on, or the listing would
        // never end; one that does not is taken as the last.
        if page.truncated && page.next_marker > self.list_marker && count > 0 {
            self.list_marker = page.next_marker;
            self.phase = Phase::ListParts;
            return;
        }
        let mut listed = std::mem::take(&mut self.listed);
        listed.sort_by_key(|p| p.number);
        listed.dedup_by_key(|p| p.number);
        if listed != self.state.parts {
            tracing::info!(
                target: "polyv",
                saved = self.state.parts.len(),
                listed = listed.len(),
                "the saved upload's parts differ from what OSS holds; going by OSS's list"
            );
            self.state.parts = listed;
            self.unsaved = true;
        }
        self.fill_pending();
        self.refreshes_without_progress = 0;
        self.phase = Phase::Parts;
    }

    /// ListParts failed: like any OSS request (fresh credentials on a 403,
    /// a new multipart upload on `NoSuchUpload`, a few retries on passing
    /// trouble).
    pub fn on_list_parts_failed(&mut self, failure: Failure) {
        if self.phase != Phase::ListPartsInFlight {
            return;
        }
        self.phase = Phase::ListParts;
        self.list_attempts += 1;
        let attempts = self.list_attempts;
        self.handle(failure, attempts);
    }

    /// Part `number` of `upload_id` is stored with this ETag (the answer's
    /// `ETag` header, as received). Answers for another upload id (from
    /// before a restart) are ignored.
    pub fn on_part_uploaded(&mut self, number: u32, upload_id: &str, etag: &str) {
        if !self.current(upload_id) || !self.in_flight.remove(&number) {
            return;
        }
        if etag.trim().is_empty() {
            self.fail(Error::Decode {
                path: "ETag".into(),
                message: format!("OSS stored part {number} but sent no ETag"),
            });
            return;
        }
        self.state.record(FinishedPart::new(number, etag.trim()));
        if let Some(tries) = self.attempts.get_mut(number.saturating_sub(1) as usize) {
            *tries = 0;
        }
        self.refreshes_without_progress = 0;
        self.unsaved = true;
    }

    /// Part `number` of `upload_id` failed. Answers for another upload id
    /// are ignored.
    pub fn on_part_failed(&mut self, number: u32, upload_id: &str, failure: Failure) {
        if !self.current(upload_id) || !self.in_flight.remove(&number) {
            return;
        }
        self.pending.insert(number);
        let stale = matches!(&failure, Failure::Transport(err) if err.is_closed_before_response());
        if stale && !self.sent_fresh.contains(&number) {
            // A kept-alive connection the server had closed: the part never
            // arrived. At once, on a new connection, no try counted.
            self.fresh_next.insert(number);
            self.fresh_resends += 1;
            return;
        }
        let index = number.saturating_sub(1) as usize;
        let attempts = match self.attempts.get_mut(index) {
            Some(tries) => {
                *tries += 1;
                *tries
            }
            None => MAX_ATTEMPTS,
        };
        self.handle(failure, attempts);
    }

    fn current(&self, upload_id: &str) -> bool {
        self.phase == Phase::Parts && self.state.upload_id.as_deref() == Some(upload_id)
    }

    /// CompleteMultipartUpload answered 200: stored, and Polyv's callback
    /// accepted.
    pub fn on_completed(&mut self) {
        if self.phase == Phase::CompleteInFlight {
            self.phase = Phase::Done;
        }
    }

    /// CompleteMultipartUpload failed; a 203 is `CallbackFailed`.
    pub fn on_complete_failed(&mut self, failure: Failure) {
        if self.phase != Phase::CompleteInFlight {
            return;
        }
        self.phase = Phase::Complete;
        self.complete_attempts += 1;
        let action = match &failure {
            Failure::Oss(err) => Some(err.action()),
            Failure::Transport(_) => None,
        };
        match action {
            Some(OssErrorAction::CallbackFailed) if !self.callback_failed => {
                // One more Complete (the spec's 2.3).
                self.callback_failed = true;
            }
            Some(OssErrorAction::CallbackFailed) => self.fail(self.stored_but_not_told()),
            Some(OssErrorAction::RestartMultipart) if self.callback_failed => {
                // The first Complete stored the object, then the upload id was gone.
                self.fail(self.stored_but_not_told());
            }
            Some(OssErrorAction::RestartMultipart) if self.complete_maybe_delivered => {
                self.fail(Error::UploadUnconfirmed {
                    vid: self.state.vid.clone(),
                });
            }
            _ => {
                if let Failure::Transport(err) = &failure {
                    if !err.never_sent() {
                        self.complete_maybe_delivered = true;
                    }
                }
                let attempts = self.complete_attempts;
                self.handle(failure, attempts);
            }
        }
    }

    /// InitiateMultipartUpload's answer, as received: 200 with an
    /// `UploadId` is [`on_initiated`](Self::on_initiated), any other
    /// status [`on_initiate_failed`](Self::on_initiate_failed) with the
    /// [`OssError`] it carries.
    pub fn on_initiate_response(&mut self, status: u16, body: &[u8]) {
        if status != 200 {
            self.on_initiate_failed(OssError::from_response(status, body).into());
            return;
        }
        match super::parse_initiate(body) {
            Ok(upload_id) => self.on_initiated(&upload_id),
            Err(err) if self.phase == Phase::InitiateInFlight => self.fail(err),
            Err(_) => {}
        }
    }

    /// UploadPart's answer, as received: 200 with its `ETag` header is
    /// [`on_part_uploaded`](Self::on_part_uploaded) (200 without one stops
    /// the upload), any other status
    /// [`on_part_failed`](Self::on_part_failed).
    pub fn on_part_response(
        &mut self,
        number: u32,
        upload_id: &str,
        status: u16,
        etag: Option<&str>,
        body: &[u8],
    ) {
        if status == 200 {
            self.on_part_uploaded(number, upload_id, etag.unwrap_or_default());
        } else {
            self.on_part_failed(
                number,
                upload_id,
                OssError::from_response(status, body).into(),
            );
        }
    }

    /// CompleteMultipartUpload's answer, as received: only 200 is success;
    /// **203 is `CallbackFailed`**, though a 2xx.
    pub fn on_complete_response(&mut self, status: u16, body: &[u8]) {
        if status == 200 {
            self.on_completed();
        } else {
            self.on_complete_failed(OssError::from_response(status, body).into());
        }
    }

    fn stored_but_not_told(&self) -> Error {
        Error::CallbackFailed {
            vid: self.state.vid.clone(),
            object: self.state.key.clone(),
        }
    }

    /// The shared part of every OSS failure.
    fn handle(&mut self, failure: Failure, attempts: u32) {
        let action = match failure {
            Failure::Oss(err) => match err.action() {
                OssErrorAction::RefreshCredentials => {
                    if self.refresh == Refresh::Idle {
                        self.refreshes_without_progress += 1;
                        if self.refreshes_without_progress > MAX_REFRESHES_WITHOUT_PROGRESS {
                            self.fail(err.into_error());
                            return;
                        }
                        self.refresh = Refresh::Needed;
                    }
                    self.credentials_refused = true;
                    return;
                }
                OssErrorAction::RestartMultipart => {
                    self.restarts += 1;
                    if self.restarts > MAX_RESTARTS {
                        self.fail(err.into_error());
                        return;
                    }
                    self.state.upload_id = None;
                    self.state.parts.clear();
                    self.listed.clear();
                    self.list_marker = 0;
                    self.list_attempts = 0;
                    self.in_flight.clear();
                    self.fresh_next.clear();
                    self.sent_fresh.clear();
                    self.attempts.iter_mut().for_each(|t| *t = 0);
                    self.fill_pending();
                    self.initiate_attempts = 0;
                    self.complete_attempts = 0;
                    self.complete_maybe_delivered = false;
                    self.unsaved = true;
                    self.phase = Phase::Initiate;
                    return;
                }
                OssErrorAction::Retry => (true, err.into_error()),
                OssErrorAction::CallbackFailed | OssErrorAction::Fail => (false, err.into_error()),
            },
            Failure::Transport(err) => (err.is_retryable(), err),
        };
        let (retryable, error) = action;
        if !retryable || attempts >= MAX_ATTEMPTS {
            self.fail(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransportErrorKind;

    const NOW: u64 = 1_700_000_000_000;
    const MIB: u64 = 1024 * 1024;
    const CALLBACK: &str = r#"{"callbackUrl":"https://cb.example/","callbackBody":"x"}"#;

    fn file(size: u64) -> FileIdentity {
        FileIdentity::new("/v/talk.mp4", size, 1)
    }

    fn ticket(vid: &str, validity: u64) -> UploadTicket {
        UploadTicket::new(
            vid,
            ("STS.id", "secret", "token"),
            validity,
            "bucket",
            "upload.example.com",
            "dir/",
            CALLBACK,
            Some(1 << 40),
        )
    }

    /// An upload of `parts` parts of 1 MiB (the last full), `concurrency` in
    /// flight, initiated as `U1`, every save acknowledged.
    fn started(parts: u64, concurrency: usize) -> Upload {
        let plan = PartPlan::with_part_size(parts * MIB, MIB).unwrap();
        let mut up = Upload::new(file(parts * MIB), plan, UrlScheme::Https, concurrency).unwrap();
        assert!(matches!(up.next(NOW), Action::Init));
        up.on_ticket(&ticket("v_1", 3600), NOW);
        assert!(matches!(up.next(NOW), Action::Save));
        assert!(matches!(up.next(NOW), Action::Initiate { attempt: 0 }));
        up.on_initiated("U1");
        assert!(matches!(up.next(NOW), Action::Save));
        up
    }

    /// A compact name for an action, for table tests.
    fn name(action: &Action) -> String {
        match action {
            Action::Init => "init".into(),
            Action::ResumeInit { vid } => format!("resume-init {vid}"),
            Action::Save => "save".into(),
            Action::RefreshCredentials => "refresh".into(),
            Action::Initiate { attempt } => format!("initiate #{attempt}"),
            Action::UploadPart {
                part,
                upload_id,
                attempt,
                fresh_connection,
            } => {
                let fresh = if *fresh_connection { " fresh" } else { "" };
                format!("part {} of {upload_id} #{attempt}{fresh}", part.number)
            }
            Action::Complete {
                upload_id,
                parts,
                attempt,
            } => {
                format!("complete {upload_id} with {} #{attempt}", parts.len())
            }
            Action::ListParts {
                marker, attempt, ..
            } => format!("list parts after {marker} #{attempt}"),
            Action::Wait => "wait".into(),
            Action::Done { vid } => format!("done {vid}"),
            Action::Failed(err) => format!("failed: {err}"),
        }
    }

    /// A ListPartsResult page naming these (part, size) pairs, ETag `"L{n}"`.
    fn listing(parts: &[(u32, u64)], truncated: bool, next: u32) -> String {
        let mut xml = format!(
            "<ListPartsResult><UploadId>U1</UploadId><NextPartNumberMarker>{next}</NextPartNumberMarker><IsTruncated>{truncated}</IsTruncated>"
        );
        for (n, size) in parts {
            xml.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>\"L{n}\"</ETag><Size>{size}</Size></Part>"
            ));
        }
        xml.push_str("</ListPartsResult>");
        xml
    }

    /// The upload `started(parts, concurrency)` saved with `done` finished,
    /// resumed and given fresh credentials: its next action is ListParts.
    fn resumed(parts: u64, concurrency: usize, done: &[u32]) -> Upload {
        let mut saved = started(parts, concurrency).resume_state().clone();
        for n in done {
            saved.record(FinishedPart::new(*n, format!("\"E{n}\"")));
        }
        let up = Upload::resume(saved, &file(parts * MIB), UrlScheme::Https, concurrency).unwrap();
        let mut up = run(up, vec![Next(NOW, "resume-init v_1")]);
        up.on_ticket(&ticket("v_1", 3600), NOW);
        up
    }

    fn oss(status: u16, code: &str) -> Failure {
        Failure::Oss(OssError::new(status, code, ""))
    }

    fn network(kind: TransportErrorKind) -> Failure {
        Failure::Transport(Error::Transport {
            kind,
            message: "x".into(),
            cause: None,
        })
    }

    enum Event {
        Next(u64, &'static str),
        Uploaded(u32),
        PartFailed(u32, Failure),
        Credentials(u64),
        Initiated(&'static str),
        InitiateFailed(Failure),
        Completed,
        CompleteFailed(Failure),
        /// ListParts answered 200 with this body.
        Listed(String),
        ListFailed(Failure),
    }
    use Event::*;

    fn run(mut up: Upload, events: Vec<Event>) -> Upload {
        for (i, event) in events.into_iter().enumerate() {
            let upload_id = up.state.upload_id.clone().unwrap_or_default();
            match event {
                Next(now, expected) => {
                    let got = name(&up.next(now));
                    assert!(
                        got.starts_with(expected),
                        "step {i}: expected {expected:?}, got {got:?}"
                    );
                }
                Uploaded(n) => up.on_part_uploaded(n, &upload_id, &format!("\"E{n}\"")),
                PartFailed(n, failure) => up.on_part_failed(n, &upload_id, failure),
                Credentials(now) => up.on_credentials(&ticket("", 3600), now),
                Initiated(id) => up.on_initiated(id),
                InitiateFailed(failure) => up.on_initiate_failed(failure),
                Completed => up.on_completed(),
                CompleteFailed(failure) => up.on_complete_failed(failure),
                Listed(body) => up.on_list_parts_response(200, body.as_bytes()),
                ListFailed(failure) => up.on_list_parts_failed(failure),
            }
        }
        up
    }

    #[test]
    fn parts_go_in_order_within_the_concurrency_then_complete() {
        run(
            started(3, 2),
            vec![
                Next(NOW, "part 1 of U1 #0"),
                Next(NOW, "part 2 of U1 #0"),
                Next(NOW, "wait"),
                Uploaded(2),
                Next(NOW, "save"),
                Next(NOW, "part 3 of U1 #0"),
                Next(NOW, "wait"),
                Uploaded(3),
                Uploaded(1),
                Next(NOW, "save"),
                Next(NOW, "complete U1 with 3 #0"),
                Next(NOW, "wait"),
                Completed,
                Next(NOW, "done v_1"),
                Next(NOW, "done v_1"),
            ],
        );
    }

    #[test]
    fn credentials_are_refreshed_under_60_s_before_expiry_measured_on_the_clock_handed_in() {
        let expiry = NOW + 3_600_000;
        run(
            started(2, 1),
            vec![
                Next(expiry - 60_000, "part 1"),
                Uploaded(1),
                Next(expiry - 60_000, "save"),
                Next(expiry - 59_999, "refresh"),
                // Still valid: parts keep going while the refresh is in flight.
                Next(expiry - 59_000, "part 2"),
                Uploaded(2),
                Next(expiry - 59_000, "save"),
                Next(expiry, "wait"), // expired, the refresh not back yet
                Credentials(expiry),
                Next(expiry, "complete U1 with 2"),
            ],
        );
    }

    #[test]
    fn an_expired_token_refreshes_once_and_resends_the_parts_with_the_same_upload() {
        let up = run(
            started(3, 3),
            vec![
                Next(NOW, "part 1"),
                Next(NOW, "part 2"),
                Next(NOW, "part 3"),
                PartFailed(1, oss(403, "SecurityTokenExpired")),
                PartFailed(2, oss(403, "InvalidAccessKeyId")),
                Uploaded(3),
                Next(NOW, "save"),
                Next(NOW, "refresh"),
                Next(NOW, "wait"), // refused credentials: nothing goes until fresh ones
                Credentials(NOW),
                Next(NOW, "part 1 of U1 #1"),
                Next(NOW, "part 2 of U1 #1"),
                Uploaded(1),
                Uploaded(2),
                Next(NOW, "save"),
                Next(NOW, "complete U1 with 3"),
            ],
        );
        assert_eq!(up.refreshes_without_progress, 0);
    }

    #[test]
    fn endless_refusals_fail_after_three_refreshes() {
        let mut events = Vec::new();
        for _ in 0..MAX_REFRESHES_WITHOUT_PROGRESS {
            events.extend([
                Next(NOW, "part 1"),
                PartFailed(1, oss(403, "InvalidAccessKeyId")),
                Next(NOW, "refresh"),
                Credentials(NOW),
            ]);
        }
        events.extend([
            Next(NOW, "part 1"),
            PartFailed(1, oss(403, "InvalidAccessKeyId")),
            Next(NOW, "failed: OSS answered HTTP 403"),
        ]);
        run(started(1, 1), events);
    }

    #[test]
    fn no_such_upload_starts_a_new_multipart_upload_for_the_same_vid() {
        let up = run(
            started(3, 2),
            vec![
                Next(NOW, "part 1"),
                Next(NOW, "part 2"),
                Uploaded(1),
                PartFailed(2, oss(404, "NoSuchUpload")),
                Next(NOW, "save"),
                Next(NOW, "initiate #0"),
                Initiated("U2"),
                Next(NOW, "save"),
                Next(NOW, "part 1 of U2 #0"),
            ],
        );
        assert_eq!(up.state.vid, "v_1");
        assert_eq!(up.state.upload_id.as_deref(), Some("U2"));
        assert!(up.state.parts.is_empty());
    }

    #[test]
    fn answers_from_before_a_restart_are_ignored() {
        let mut up = run(
            started(2, 2),
            vec![
                Next(NOW, "part 1"),
                Next(NOW, "part 2"),
                PartFailed(2, oss(404, "NoSuchUpload")),
                Next(NOW, "save"),
                Next(NOW, "initiate"),
                Initiated("U2"),
                Next(NOW, "save"),
                Next(NOW, "part 1 of U2"),
            ],
        );
        up.on_part_uploaded(1, "U1", "\"OLD\"");
        assert!(up.state.parts.is_empty());
        up.on_part_uploaded(1, "U2", "\"NEW\"");
        assert_eq!(up.state.parts, [FinishedPart::new(1, "\"NEW\"")]);
    }

    #[test]
    fn passing_failures_are_retried_up_to_the_limit() {
        let mut events = Vec::new();
        for attempt in 0..MAX_ATTEMPTS {
            events.push(Next(
                NOW,
                [
                    "part 1 of U1 #0",
                    "part 1 of U1 #1",
                    "part 1 of U1 #2",
                    "part 1 of U1 #3",
                    "part 1 of U1 #4",
                ][attempt as usize],
            ));
            events.push(PartFailed(
                1,
                if attempt % 2 == 0 {
                    oss(503, "HTTP503")
                } else {
                    network(TransportErrorKind::Timeout)
                },
            ));
        }
        events.push(Next(NOW, "failed: OSS answered HTTP 503"));
        events.push(Next(
            NOW,
            "failed: invalid input: this upload already failed",
        ));
        run(started(1, 1), events);
    }

    #[test]
    fn final_errors_stop_at_once() {
        run(
            started(2, 1),
            vec![
                Next(NOW, "part 1"),
                PartFailed(1, oss(403, "SignatureDoesNotMatch")),
                Next(NOW, "failed: OSS answered HTTP 403"),
            ],
        );
        run(
            started(2, 1),
            vec![
                Next(NOW, "part 1"),
                PartFailed(1, network(TransportErrorKind::Other)),
                Next(NOW, "failed: network error (other)"),
            ],
        );
    }

    #[test]
    fn callback_failed_gets_one_more_complete_then_says_the_bytes_are_stored() {
        let up = run(
            started(1, 1),
            vec![
                Next(NOW, "part 1"),
                Uploaded(1),
                Next(NOW, "save"),
                Next(NOW, "complete U1 with 1 #0"),
                CompleteFailed(oss(203, "CallbackFailed")),
                Next(NOW, "complete U1 with 1 #1"),
                CompleteFailed(oss(203, "CallbackFailed")),
            ],
        );
        let mut up = up;
        let Action::Failed(err) = up.next(NOW) else {
            panic!("expected a failure")
        };
        let message = err.to_string();
        assert!(
            message.contains("bytes of video v_1 are stored"),
            "{message}"
        );
        assert!(!err.is_retryable() && !err.is_rate_limit_block());
        // After a 203, a vanished upload id means the first Complete stored it.
        run(
            started(1, 1),
            vec![
                Next(NOW, "part 1"),
                Uploaded(1),
                Next(NOW, "save"),
                Next(NOW, "complete"),
                CompleteFailed(oss(203, "CallbackFailed")),
                Next(NOW, "complete"),
                CompleteFailed(oss(404, "NoSuchUpload")),
                Next(NOW, "failed: OSS CallbackFailed twice"),
            ],
        );
    }

    #[test]
    fn complete_failures() {
        // A lost answer, then NoSuchUpload: probably done; say so, do not restart.
        run(
            started(1, 1),
            vec![
                Next(NOW, "part 1"),
                Uploaded(1),
                Next(NOW, "save"),
                Next(NOW, "complete U1 with 1 #0"),
                CompleteFailed(network(TransportErrorKind::Io)),
                Next(NOW, "complete U1 with 1 #1"),
                CompleteFailed(oss(404, "NoSuchUpload")),
                Next(
                    NOW,
                    "failed: OSS NoSuchUpload after a Complete whose answer was lost",
                ),
            ],
        );
        // NoSuchUpload on a first Complete: the upload vanished; start again.
        run(
            started(1, 1),
            vec![
                Next(NOW, "part 1"),
                Uploaded(1),
                Next(NOW, "save"),
                Next(NOW, "complete"),
                CompleteFailed(oss(404, "NoSuchUpload")),
                Next(NOW, "save"),
                Next(NOW, "initiate"),
            ],
        );
        // Expired credentials on Complete: refresh, then Complete again.
        run(
            started(1, 1),
            vec![
                Next(NOW, "part 1"),
                Uploaded(1),
                Next(NOW, "save"),
                Next(NOW, "complete"),
                CompleteFailed(oss(403, "SecurityTokenExpired")),
                Next(NOW, "refresh"),
                Credentials(NOW),
                Next(NOW, "complete U1 with 1 #1"),
                Completed,
                Next(NOW, "done"),
            ],
        );
    }

    #[test]
    fn initiate_failures() {
        let plan = PartPlan::with_part_size(MIB, MIB).unwrap();
        let mut up = Upload::new(file(MIB), plan, UrlScheme::Http, 1).unwrap();
        up.next(NOW);
        up.on_ticket(&ticket("v_1", 0), NOW);
        run(
            up,
            vec![
                Next(NOW, "save"),
                Next(NOW, "initiate #0"),
                InitiateFailed(oss(500, "InternalError")),
                Next(NOW, "initiate #1"),
                InitiateFailed(oss(403, "SecurityTokenExpired")),
                Next(NOW, "refresh"),
                Credentials(NOW),
                Next(NOW, "initiate #2"),
                Initiated("U9"),
                Next(NOW, "save"),
                Next(NOW, "part 1 of U9"),
            ],
        );
    }

    #[test]
    fn no_validity_time_means_no_early_refresh() {
        let plan = PartPlan::with_part_size(MIB, MIB).unwrap();
        let mut up = Upload::new(file(MIB), plan, UrlScheme::Http, 1).unwrap();
        up.next(NOW);
        up.on_ticket(&ticket("v_1", 0), NOW);
        assert_eq!(name(&up.next(u64::MAX)), "save");
        assert_eq!(name(&up.next(u64::MAX)), "initiate #0");
        assert_eq!(
            up.oss().unwrap().object().url(&[]).unwrap(),
            "http://upload.example.com/dir/v_1.mp4"
        );
    }

    #[test]
    fn init_answers_are_checked() {
        let plan = PartPlan::with_part_size(MIB, MIB).unwrap();
        let new = || Upload::new(file(MIB), plan, UrlScheme::Https, 1).unwrap();

        // Not enough space: refused before a byte is sent; the vid is saved all the same.
        let mut up = new();
        up.next(NOW);
        let small = UploadTicket::new(
            "v_1",
            ("STS.id", "s", "t"),
            3600,
            "b",
            "d",
            "",
            CALLBACK,
            Some(10),
        );
        up.on_ticket(&small, NOW);
        assert_eq!(up.resume_state().vid, "v_1");
        assert_eq!(name(&up.next(NOW)), "save");
        assert!(name(&up.next(NOW)).contains("space left"));

        // No callback: refused (Polyv would never hear of the upload).
        let mut up = new();
        up.next(NOW);
        up.on_ticket(
            &UploadTicket::new("v_1", ("i", "s", "t"), 1, "b", "d", "", "", None),
            NOW,
        );
        assert_eq!(name(&up.next(NOW)), "save");
        assert!(name(&up.next(NOW)).contains("no callback"));

        // No vid.
        let mut up = new();
        up.next(NOW);
        up.on_ticket(&ticket("", 3600), NOW);
        assert!(name(&up.next(NOW)).starts_with("failed: invalid input: a vid is empty"));

        // Init refused.
        let mut up = new();
        up.next(NOW);
        assert_eq!(name(&up.next(NOW)), "wait");
        up.on_init_failed(Error::from_api(400, "the sign is not right."));
        assert!(name(&up.next(NOW)).starts_with("failed: wrong signature"));
    }

    #[test]
    fn a_saved_upload_resumes_with_its_vid_and_sends_only_the_missing_parts() {
        let mut up = started(4, 2);
        for _ in 0..2 {
            up.next(NOW);
        }
        up.on_part_uploaded(2, "U1", "\"E2\"");
        let json = up.resume_state().to_json().unwrap();

        let saved = ResumeState::from_json(json.as_bytes()).unwrap();
        assert_eq!(saved.parts, [FinishedPart::new(2, "\"E2\"")]);
        let up = Upload::resume(saved, &file(4 * MIB), UrlScheme::Https, 2).unwrap();
        let mut up = run(up, vec![Next(NOW, "resume-init v_1"), Next(NOW, "wait")]);
        up.on_ticket(&ticket("v_1", 3600), NOW);
        let up = run(
            up,
            vec![
                // Same key, same upload id: what does OSS hold?
                Next(NOW, "list parts after 0 #0"),
                Next(NOW, "wait"),
                Listed(listing(&[(2, MIB)], false, 2)),
                // Part 2, as saved; OSS's ETag replaces ours.
                Next(NOW, "save"),
                Next(NOW, "part 1 of U1 #0"),
                Next(NOW, "part 3 of U1 #0"),
                Uploaded(1),
                Uploaded(3),
                Next(NOW, "save"),
                Next(NOW, "part 4"),
                Uploaded(4),
                Next(NOW, "save"),
                Next(NOW, "complete U1 with 4"),
            ],
        );
        assert_eq!(up.bytes_done(), 4 * MIB);
        assert_eq!(up.parts_done(), 4);
    }

    #[test]
    fn sequential_requests_are_built_and_answered_through_one_pair_of_calls() {
        let date = std::time::UNIX_EPOCH + std::time::Duration::from_millis(NOW);
        let plan = PartPlan::with_part_size(MIB, MIB).unwrap();
        let mut up = Upload::new(file(MIB), plan, UrlScheme::Https, 1).unwrap();
        let init = up.next(NOW);
        assert_eq!(init.sequential_attempt(), None);
        assert!(up.oss_request(&init, date).is_err(), "no credentials yet");
        up.on_ticket(&ticket("v_1", 3600), NOW);
        assert_eq!(name(&up.next(NOW)), "save");

        let initiate = up.next(NOW);
        assert_eq!(initiate.sequential_attempt(), Some(0));
        let request = up.oss_request(&initiate, date).unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert!(request.uri().to_string().ends_with("?uploads"));
        let body = b"<InitiateMultipartUploadResult><UploadId>U9</UploadId></InitiateMultipartUploadResult>";
        up.on_oss_answer(&initiate, Ok((200, body)));
        assert_eq!(name(&up.next(NOW)), "save");

        let part = up.next(NOW);
        assert_eq!(name(&part), "part 1 of U9 #0");
        assert!(up.oss_request(&part, date).is_err(), "parts are streamed");
        up.on_part_uploaded(1, "U9", "\"E1\"");
        assert_eq!(name(&up.next(NOW)), "save");

        let complete = up.next(NOW);
        let request = up.oss_request(&complete, date).unwrap();
        assert!(request.headers().contains_key("x-oss-callback"));
        let timeout = Error::Transport {
            kind: TransportErrorKind::Timeout,
            message: "x".into(),
            cause: None,
        };
        up.on_oss_answer(&complete, Err(timeout));
        let again = up.next(NOW);
        assert_eq!(name(&again), "complete U9 with 1 #1");
        assert_eq!(again.sequential_attempt(), Some(1));
        up.on_oss_answer(&again, Ok((200, b"{}")));
        assert_eq!(name(&up.next(NOW)), "done v_1");
    }

    #[test]
    fn a_part_lost_to_a_stale_connection_goes_again_at_once_on_a_new_one() {
        let up = run(
            started(2, 1),
            vec![
                Next(NOW, "part 1 of U1 #0"),
                PartFailed(1, network(TransportErrorKind::Closed)),
                // No try counted, no backoff, a new connection.
                Next(NOW, "part 1 of U1 #0 fresh"),
                // The new connection failing the same way is an ordinary failure.
                PartFailed(1, network(TransportErrorKind::Closed)),
                Next(NOW, "part 1 of U1 #1"),
                Uploaded(1),
                Next(NOW, "save"),
                Next(NOW, "part 2 of U1 #0"),
                // Any other failure is counted as before.
                PartFailed(2, network(TransportErrorKind::Io)),
                Next(NOW, "part 2 of U1 #1"),
            ],
        );
        assert_eq!(up.parts_done(), 1);
        assert_eq!(up.fresh_resends(), 1);
        let mut up = run(
            started(1, 1),
            vec![
                Next(NOW, "part 1 of U1 #0"),
                PartFailed(1, network(TransportErrorKind::Closed)),
            ],
        );
        let resend = up.next(NOW);
        assert!(resend.fresh_connection());
        // Initiate, ListParts and Complete always go on a new connection.
        up.on_part_uploaded(1, "U1", "\"E1\"");
        up.next(NOW);
        let complete = up.next(NOW);
        assert_eq!(name(&complete), "complete U1 with 1 #0");
        assert!(complete.fresh_connection());
        assert!(!Action::Wait.fresh_connection());
    }

    #[test]
    fn finished_means_done_or_failed() {
        let mut up = started(1, 1);
        assert!(!up.is_finished());
        up.next(NOW);
        up.on_part_uploaded(1, "U1", "\"E1\"");
        up.next(NOW);
        let complete = up.next(NOW);
        assert!(!up.is_finished(), "Complete in flight");
        up.on_oss_answer(&complete, Ok((200, b"")));
        assert!(up.is_finished());
        assert_eq!(name(&up.next(NOW)), "done v_1");

        let mut up = started(1, 1);
        up.next(NOW);
        up.on_part_failed(1, "U1", oss(403, "SignatureDoesNotMatch"));
        assert!(up.is_finished());
    }

    #[test]
    fn a_resume_goes_by_the_parts_oss_lists() {
        // Part 3 finished after the last save (killed while its answer
        // came back); part 2 was saved but OSS no longer has it; part 4 is
        // listed at the wrong size (a torn upload): sent again.
        let up = run(
            resumed(4, 1, &[1, 2]),
            vec![
                Next(NOW, "list parts after 0 #0"),
                Listed(listing(&[(1, MIB), (3, MIB), (4, 10)], false, 4)),
                Next(NOW, "save"),
                Next(NOW, "part 2 of U1 #0"),
                Uploaded(2),
                Next(NOW, "save"),
                Next(NOW, "part 4 of U1 #0"),
                Uploaded(4),
                Next(NOW, "save"),
                Next(NOW, "complete U1 with 4"),
            ],
        );
        let etags: Vec<&str> = up
            .resume_state()
            .parts
            .iter()
            .map(|p| p.etag.as_str())
            .collect();
        assert_eq!(etags, ["\"L1\"", "\"E2\"", "\"L3\"", "\"E4\""]);
    }

    #[test]
    fn a_long_listing_is_read_page_by_page() {
        let up = run(
            resumed(3, 2, &[]),
            vec![
                Next(NOW, "list parts after 0 #0"),
                Listed(listing(&[(1, MIB), (2, MIB)], true, 2)),
                Next(NOW, "list parts after 2 #0"),
                Listed(listing(&[(3, MIB)], false, 3)),
                Next(NOW, "save"),
                Next(NOW, "complete U1 with 3"),
            ],
        );
        assert_eq!(up.parts_done(), 3);
        // A truncated page that does not move the marker ends the listing.
        run(
            resumed(3, 1, &[]),
            vec![
                Next(NOW, "list parts after 0 #0"),
                Listed(listing(&[(1, MIB)], true, 0)),
                Next(NOW, "save"),
                Next(NOW, "part 2 of U1 #0"),
            ],
        );
    }

    #[test]
    fn listing_failures_are_handled_like_any_oss_failure() {
        // The multipart upload is gone: a new one, same vid.
        run(
            resumed(2, 1, &[1]),
            vec![
                Next(NOW, "list parts after 0 #0"),
                ListFailed(oss(404, "NoSuchUpload")),
                Next(NOW, "save"),
                Next(NOW, "initiate #0"),
            ],
        );
        // Refused credentials: fresh ones, then the listing again.
        run(
            resumed(2, 1, &[1]),
            vec![
                Next(NOW, "list parts after 0 #0"),
                ListFailed(oss(403, "SecurityTokenExpired")),
                Next(NOW, "refresh"),
                Credentials(NOW),
                Next(NOW, "list parts after 0 #1"),
            ],
        );
        // Passing trouble: tried again, then given up.
        let mut events = Vec::new();
        for attempt in 0..MAX_ATTEMPTS {
            events.push(Next(
                NOW,
                if attempt == 0 {
                    "list parts after 0 #0"
                } else {
                    "list parts"
                },
            ));
            events.push(ListFailed(oss(503, "ServiceUnavailable")));
        }
        events.push(Next(NOW, "failed: OSS answered HTTP 503"));
        run(resumed(2, 1, &[1]), events);
        // An answer that is not a listing stops the upload.
        let mut up = resumed(2, 1, &[1]);
        up.next(NOW);
        up.on_list_parts_response(200, b"<html>");
        assert!(name(&up.next(NOW)).starts_with("failed: "));
    }

    #[test]
    fn resuming_checks_the_file_and_the_vid() {
        let mut saved = started(2, 1).resume_state().clone();
        let err = Upload::resume(saved.clone(), &file(3 * MIB), UrlScheme::Https, 1).unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
        assert!(err.to_string().contains("v_1"));

        // init for the saved vid answering another vid: stop, never upload to it.
        let mut up = Upload::resume(saved.clone(), &file(2 * MIB), UrlScheme::Https, 1).unwrap();
        up.next(NOW);
        up.on_ticket(&ticket("v_2", 3600), NOW);
        assert!(name(&up.next(NOW)).contains("answered the vid"));

        // A different key (Polyv moved dir): a new multipart upload, same vid.
        let mut up = Upload::resume(saved.clone(), &file(2 * MIB), UrlScheme::Https, 1).unwrap();
        up.next(NOW);
        let moved = UploadTicket::new(
            "v_1",
            ("i", "s", "t"),
            3600,
            "bucket",
            "d",
            "new/",
            CALLBACK,
            None,
        );
        up.on_ticket(&moved, NOW);
        assert_eq!(name(&up.next(NOW)), "save");
        assert_eq!(name(&up.next(NOW)), "initiate #0");
        assert_eq!(up.resume_state().key, "new/v_1.mp4");

        // Parts the plan cannot have.
        saved.parts = vec![FinishedPart::new(3, "\"E\"")];
        assert!(Upload::resume(saved.clone(), &file(2 * MIB), UrlScheme::Https, 1).is_err());
        saved.parts = vec![FinishedPart::new(1, "")];
        assert!(Upload::resume(saved.clone(), &file(2 * MIB), UrlScheme::Https, 1).is_err());

        // Saved before init answered: a new upload.
        let fresh = ResumeState::new(file(2 * MIB), MIB);
        let mut up = Upload::resume(fresh, &file(2 * MIB), UrlScheme::Https, 1).unwrap();
        assert_eq!(name(&up.next(NOW)), "init");
    }

    #[test]
    fn construction_refuses_mismatches() {
        let plan = PartPlan::with_part_size(MIB, MIB).unwrap();
        assert!(Upload::new(file(2 * MIB), plan, UrlScheme::Https, 1).is_err());
        assert!(Upload::new(file(MIB), plan, UrlScheme::Https, 0).is_err());
        let mut state = ResumeState::new(file(1), 1);
        state.version = 2;
        let json = serde_json::to_string(&state).unwrap();
        assert!(
            ResumeState::from_json(json.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
    }

    #[test]
    fn answers_as_received() {
        let mut up = started(2, 2);
        // Back to Initiate through a vanished upload, to read an Initiate answer.
        let Action::UploadPart { upload_id, .. } = up.next(NOW) else {
            panic!("expected a part")
        };
        let no_such_upload = b"<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>";
        up.on_part_response(1, &upload_id, 404, None, no_such_upload);
        assert_eq!(name(&up.next(NOW)), "save");
        assert_eq!(name(&up.next(NOW)), "initiate #0");
        up.on_initiate_response(500, b"");
        assert_eq!(name(&up.next(NOW)), "initiate #1");
        up.on_initiate_response(
            200,
            b"<InitiateMultipartUploadResult><UploadId>U2</UploadId></InitiateMultipartUploadResult>",
        );
        assert_eq!(name(&up.next(NOW)), "save");
        for n in 1..=2 {
            assert_eq!(name(&up.next(NOW)), format!("part {n} of U2 #0"));
        }
        up.on_part_response(1, "U2", 200, Some("\"E1\""), b"");
        up.on_part_response(2, "U2", 200, Some("\"E2\""), b"");
        assert_eq!(name(&up.next(NOW)), "save");
        assert_eq!(name(&up.next(NOW)), "complete U2 with 2 #0");
        // 203 is a failure although a 2xx.
        up.on_complete_response(203, b"<Error><Code>CallbackFailed</Code></Error>");
        assert_eq!(name(&up.next(NOW)), "complete U2 with 2 #1");
        up.on_complete_response(200, b"{\"ok\":true}");
        assert_eq!(name(&up.next(NOW)), "done v_1");

        // A 200 part answer without an ETag, an unreadable Initiate answer: stop.
        let mut up = started(1, 1);
        up.next(NOW);
        up.on_part_response(1, "U1", 200, None, b"");
        assert!(name(&up.next(NOW)).contains("no ETag"));
        let plan = PartPlan::with_part_size(MIB, MIB).unwrap();
        let mut up = Upload::new(file(MIB), plan, UrlScheme::Https, 1).unwrap();
        up.next(NOW);
        up.on_ticket(&ticket("v_1", 3600), NOW);
        assert_eq!(name(&up.next(NOW)), "save");
        assert_eq!(name(&up.next(NOW)), "initiate #0");
        up.on_initiate_response(200, b"<html>proxy</html>");
        assert!(
            name(&up.next(NOW))
                .contains("unexpected response data at `InitiateMultipartUploadResult`")
        );
    }

    #[test]
    fn short_lived_credentials_refresh_at_half_their_life() {
        let plan = PartPlan::with_part_size(2 * MIB, MIB).unwrap();
        let mut up = Upload::new(file(2 * MIB), plan, UrlScheme::Https, 1).unwrap();
        up.next(NOW);
        up.on_ticket(&ticket("v_1", 30), NOW); // 30 s credentials
        let up = run(
            up,
            vec![
                Next(NOW, "save"),
                Next(NOW + 14_000, "initiate"),
                Initiated("U1"),
                Next(NOW + 14_000, "save"),
                Next(NOW + 14_000, "part 1"),
                Uploaded(1),
                Next(NOW + 15_001, "save"),
                Next(NOW + 15_001, "refresh"),
            ],
        );
        let mut up = up;
        up.on_credentials(&ticket("", 30), NOW + 16_000);
        // Fresh: not refreshed again at once, but 15 s before they end.
        assert_eq!(name(&up.next(NOW + 16_000)), "part 2 of U1 #0");
        up.on_part_uploaded(2, "U1", "\"E2\"");
        assert_eq!(name(&up.next(NOW + 31_001)), "save");
        assert_eq!(name(&up.next(NOW + 31_001)), "refresh");
        assert_eq!(up.refresh_margin_ms, 15_000);
    }

    #[test]
    fn nothing_secret_is_in_debug() {
        let up = started(1, 1);
        let shown = format!("{up:?}");
        assert!(
            !shown.contains("\"secret\"") && !shown.contains("\"token\""),
            "{shown}"
        );
        assert!(shown.contains("STS.id"));
    }
}
