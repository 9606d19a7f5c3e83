//! Cases: uploading a file through the mock's Polyv and OSS sides (its own
//! V1 signature and security-token checks), resuming from a saved state,
//! and the mock's upload faults.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use polyv_core::upload::{UploadOptions, UploadProgress};
use polyv_mock::UploadFault;

use crate::*;

/// How [`Subject::upload`] uploads: the client's `Client::upload` with
/// these options.
#[derive(Debug, Clone)]
pub struct UploadRun<'a> {
    /// The file.
    pub path: &'a Path,
    /// The part size in bytes.
    pub part_size: u64,
    /// Parts in flight.
    pub parallel: usize,
    /// Where saved states go.
    pub state_dir: &'a Path,
    /// Cancel (through the client's cancellation flag) once this run has
    /// stored this many parts.
    pub stop_after_parts: Option<u32>,
    /// The cancellation flag, when the case raises it itself.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Called with every progress report, when the case acts on them.
    pub on_progress: Option<ProgressHook>,
}

/// A case's own progress callback.
#[derive(Clone)]
pub struct ProgressHook(pub Arc<dyn Fn(&UploadProgress) + Send + Sync>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

impl UploadRun<'_> {
    /// The options of this run (both clients take the same
    /// `UploadOptions`): part size, parallel parts, the state directory,
    /// and a cancel flag raised after `stop_after_parts` parts.
    pub fn options(&self) -> UploadOptions {
        let cancel = self.cancel.clone().unwrap_or_default();
        let flag = Arc::clone(&cancel);
        let stop = self.stop_after_parts;
        let hook = self.on_progress.clone();
        UploadOptions::new()
            .title(UPLOAD_TITLE)
            .part_size(self.part_size)
            .parallel(self.parallel)
            .state_dir(self.state_dir)
            .cancel_flag(cancel)
            .on_progress(move |p| {
                if stop.is_some_and(|n| p.parts_sent >= n) {
                    flag.store(true, Ordering::SeqCst);
                }
                if let Some(ProgressHook(hook)) = &hook {
                    hook(p);
                }
            })
    }
}

/// What [`Subject::upload`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadDone {
    /// The video's id.
    pub vid: String,
    /// Whether the run continued a saved upload.
    pub resumed: bool,
    /// `Uploaded::fresh_resends`.
    pub fresh_resends: u32,
    /// `Uploaded::bytes_sent`: what this run sent.
    pub bytes_sent: u64,
    /// `Uploaded::bytes`: the file's size.
    pub bytes: u64,
}

/// The title every [`UploadRun::options`] gives its video.
pub const UPLOAD_TITLE: &str = "Conformance lecture";

const PART: u64 = 100 * 1024;
const SIZE: usize = 1_250_000; // 13 parts

/// A temp directory with a generated file and a state directory, removed
/// when dropped.
struct Scratch {
    dir: PathBuf,
    file: PathBuf,
    data: Vec<u8>,
}

impl Scratch {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "polyv-conformance-{name}-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let data: Vec<u8> = (0..SIZE).map(|i| (i * 17 % 241) as u8).collect();
        let file = dir.join("lecture.mp4");
        std::fs::write(&file, &data).unwrap_or_else(|e| panic!("{e}"));
        Self { dir, file, data }
    }

    fn run(&self, stop_after_parts: Option<u32>) -> UploadRun<'_> {
        UploadRun {
            path: &self.file,
            part_size: PART,
            parallel: 3,
            state_dir: &self.dir,
            stop_after_parts,
            cancel: None,
            on_progress: None,
        }
    }

    fn saved(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json"))
                })
                .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn object_key(vid: &str) -> String {
    format!("polyvupload/{DEMO_USER_ID}/{vid}.mp4")
}

/// Runs the saved upload again: it resumes and ends as one video.
fn resume_to_one_video<S: Subject>(
    client: &S,
    server: &MockServer,
    scratch: &Scratch,
) -> UploadDone {
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(done.resumed);
    assert_one_video(server, scratch, &done);
    done
}

/// The mock received each of the file's 13 parts exactly once.
fn assert_each_part_once(server: &MockServer) {
    let counts = server.all_parts_received();
    assert_eq!(counts.len(), 13);
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
}

/// The upload finished as one video holding the file's bytes, with no saved
/// state left.
fn assert_one_video(server: &MockServer, scratch: &Scratch, done: &UploadDone) {
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&done.vid));
    assert_eq!(server.initiated_vids(), std::slice::from_ref(&done.vid));
    assert!(
        server.object(&object_key(&done.vid)).as_deref() == Some(scratch.data.as_slice()),
        "the stored object is not the file"
    );
    assert_eq!(scratch.saved(), 0, "the saved state is deleted when done");
}

/// A file in 13 parts becomes one video that the listing shows.
pub fn upload_becomes_one_listed_video<S: Subject>() {
    let server = start(MockServer::builder().videos(2));
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("plain");
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!done.resumed);
    assert_eq!((done.bytes, done.bytes_sent), (SIZE as u64, SIZE as u64));
    assert_one_video(&server, &scratch, &done);
    let parts: u64 = server.all_parts_received().iter().map(|(_, n)| n).sum();
    assert_eq!(parts, 13);
    let video = server
        .video(&done.vid)
        .unwrap_or_else(|| panic!("{} not in the account", done.vid));
    assert_eq!(video.title, UPLOAD_TITLE);
    let q = GetByUploader::builder()
        .page_size(1000)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = client.walk(&q);
    assert!(
        listed
            .iter()
            .any(|v| v.as_ref().is_ok_and(|v| v.vid() == done.vid)),
        "the new video is not listed"
    );
}

/// A cancelled upload resumes from its saved state: same vid, each part
/// stored once, one video.
pub fn upload_resumes_from_a_saved_state<S: Subject>() {
    let server = start(MockServer::builder().videos(1));
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("resume");
    let err = client.upload(&scratch.run(Some(4))).unwrap_err();
    assert!(err.to_string().contains("upload cancelled"), "{err}");
    assert_eq!(scratch.saved(), 1);
    assert!(server.uploaded_videos().is_empty());
    let first_run: u64 = server.all_parts_received().iter().map(|(_, n)| n).sum();
    let done = resume_to_one_video(&client, &server, &scratch);
    assert_each_part_once(&server);
    // Only the missing parts were sent (the first run's are all full parts).
    assert_eq!(done.bytes_sent, SIZE as u64 - first_run * PART);
}

/// A resume goes by the parts OSS lists, not only by the saved state: a
/// part that finished after the last save (the process was killed while
/// its answer came back) is not sent again, and a saved part that OSS does
/// not hold is.
pub fn upload_resume_goes_by_what_oss_holds<S: Subject>() {
    let server = start(MockServer::builder().videos(1));
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("listparts");
    let err = client.upload(&scratch.run(Some(4))).unwrap_err();
    assert!(matches!(err, Error::UploadCancelled { .. }), "{err:?}");
    // Forget the last saved part, and claim the last part of the file.
    let state_file = std::fs::read_dir(&scratch.dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap_or_else(|| panic!("no saved state"));
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_file).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
    let parts = state["parts"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("no parts in the saved state"));
    assert!(parts.pop().is_some(), "no part saved");
    parts.push(serde_json::json!({"number": 13, "etag": "\"NOT-AT-OSS\""}));
    std::fs::write(&state_file, state.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let received_before: Vec<u32> = server
        .all_parts_received()
        .iter()
        .map(|((_, n), _)| *n)
        .collect();
    assert!(!received_before.contains(&13), "part 13 was sent");

    resume_to_one_video(&client, &server, &scratch);
    // The forgotten part is not sent again, and part 13 is sent.
    assert_each_part_once(&server);
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.raw_query.contains("uploadId")),
        "no ListParts"
    );
}

/// A server that closes every kept-alive connection after one answer,
/// without saying so (`Connection: close` absent): every part still
/// arrives, each once, and the upload uses no retry for it.
pub fn upload_survives_connections_closed_under_it<S: Subject>() {
    let server = start(MockServer::builder().videos(1).silent_close(true));
    let client: S = connect(demo_config(&server).with_retry(RetryPolicy::never()));
    let scratch = Scratch::new("silentclose");
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_one_video(&server, &scratch, &done);
    assert_each_part_once(&server);
    // The server did close connections under the parts, and each such part
    // went again on a new connection (no try used, no backoff).
    assert!(done.fresh_resends > 0, "{done:?}");
}

/// A cancellation that arrives while Complete is in flight does not hide
/// the finished upload: it returns its vid and leaves no saved state (were
/// it reported as cancelled, the rerun would upload the file again). The
/// hand-written stand raises the flag when Complete arrives.
pub fn upload_cancelled_during_complete_reports_the_end<S: Subject>() {
    let stand = crate::stand::Stand::start();
    let cancel = Arc::new(AtomicBool::new(false));
    if let Ok(mut seen) = stand.seen.lock() {
        seen.raise_on_complete = Some(Arc::clone(&cancel));
    }
    let client: S = connect(stand.config());
    let dir = crate::stand::temp_dir("cancel-complete");
    let (path, _) = crate::stand::write_file(&dir, 300_000);
    let states = dir.join("states");
    let run = UploadRun {
        path: &path,
        part_size: PART,
        parallel: 2,
        state_dir: &states,
        stop_after_parts: None,
        cancel: Some(Arc::clone(&cancel)),
        on_progress: None,
    };
    let done = client.upload(&run).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(cancel.load(Ordering::SeqCst), "the flag was raised");
    assert_eq!(done.vid, "1b448be323a1_1");
    assert_eq!(std::fs::read_dir(&states).map_or(0, Iterator::count), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Expired STS credentials are refreshed (`token`) and the same multipart
/// upload goes on.
pub fn upload_refreshes_expired_credentials<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(1)
            .upload_fault(UploadFault::ExpireToken { times: 2 }),
    );
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("token");
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_one_video(&server, &scratch, &done);
    assert!(
        server.requests().iter().any(|r| r.path.ends_with("/token")),
        "no token call"
    );
    // The same multipart upload throughout: every part under one uploadId.
    let counts = server.all_parts_received();
    let ids: std::collections::BTreeSet<&str> =
        counts.iter().map(|((id, _), _)| id.as_str()).collect();
    assert_eq!(ids.len(), 1, "{counts:?}");
    // Every credential expired mid-upload (not by a fault): the same.
    let server = Arc::new(start(MockServer::builder().videos(1)));
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("expire");
    let mock = Arc::clone(&server);
    let expired = AtomicBool::new(false);
    let mut run = scratch.run(None);
    run.on_progress = Some(ProgressHook(Arc::new(move |p: &UploadProgress| {
        if p.parts_done >= 5 && !expired.swap(true, Ordering::SeqCst) {
            mock.expire_upload_credentials();
        }
    })));
    let done = client.upload(&run).unwrap_or_else(|e| panic!("{e}"));
    assert_one_video(&server, &scratch, &done);
    let counts = server.all_parts_received();
    let ids: std::collections::BTreeSet<&str> =
        counts.iter().map(|((id, _), _)| id.as_str()).collect();
    assert_eq!(ids.len(), 1, "{counts:?}");
}

/// A revoked access key (`403 InvalidAccessKeyId`) is refreshed like an
/// expired token.
pub fn upload_refreshes_a_revoked_access_key<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(1)
            .upload_fault(UploadFault::InvalidAccessKeyId { times: 1 }),
    );
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("revoked");
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_one_video(&server, &scratch, &done);
}

/// `Client::fetch_urls` sends 100 URLs a call, in order, with the category.
pub fn fetch_urls_reach_the_mock_in_batches_of_one_hundred<S: Subject>() {
    let server = start(MockServer::builder().videos(1));
    let client: S = connect(demo_config(&server));
    let urls: Vec<String> = (0..230)
        .map(|i| format!("https://media.example/{i}.mp4"))
        .collect();
    let calls = client
        .fetch_urls(urls.clone(), Some(1))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(calls, 3);
    assert_eq!(server.grab_urls(), urls);
    let grabs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/grab/"))
        .collect();
    assert_eq!(grabs.len(), 3);
    assert!(
        grabs.iter().all(|r| r.param("cataid") == Some("1")),
        "{grabs:?}"
    );
}

/// `404 NoSuchUpload` starts a new multipart upload for the same vid.
pub fn upload_restarts_after_no_such_upload<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(1)
            .upload_fault(UploadFault::NoSuchUpload { times: 1 }),
    );
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("nosuch");
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_one_video(&server, &scratch, &done);
}

/// One `203 CallbackFailed` is retried; two are an error that says the
/// bytes are stored, and the saved state stays.
pub fn upload_reports_callback_failures<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(1)
            .upload_fault(UploadFault::CallbackFailed { times: 1 }),
    );
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("callback1");
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_one_video(&server, &scratch, &done);

    let server = start(
        MockServer::builder()
            .videos(1)
            .upload_fault(UploadFault::CallbackFailed { times: 2 }),
    );
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("callback2");
    let err = client.upload(&scratch.run(None)).unwrap_err();
    assert!(matches!(err, Error::CallbackFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("stored"), "{err}");
    assert!(server.uploaded_videos().is_empty());
    assert_eq!(scratch.saved(), 1);
}

/// A part whose connection is dropped is sent again.
pub fn upload_resends_a_dropped_part<S: Subject>() {
    let server = start(
        MockServer::builder()
            .videos(1)
            .upload_fault(UploadFault::DropPart { part: 2, times: 1 }),
    );
    let client: S = connect(demo_config(&server));
    let scratch = Scratch::new("drop");
    let done = client
        .upload(&scratch.run(None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_one_video(&server, &scratch, &done);
    assert_eq!(server.all_parts_received().len(), 13);
}
