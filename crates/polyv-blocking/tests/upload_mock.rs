//! `Client::upload` against polyv-mock's Polyv and OSS sides: signatures
//! and security tokens checked by the mock's own code, the video added to
//! the account on Complete, and the mock's upload faults.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use polyv_blocking::{
    Client, Config, Credentials, Error, GetByUploader, RetryPolicy, UploadOptions,
};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, MockServer, UploadFault};

const PART: u64 = 100 * 1024;
const SIZE: usize = 2_500_000; // 25 parts of 100 KiB, the last shorter

fn client(server: &MockServer) -> Client {
    let config = Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&server.base_url())
        .unwrap()
        .with_retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        );
    Client::new(config).unwrap()
}

struct Files {
    dir: PathBuf,
}

impl Files {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "polyv-upload-mock-{}-{name}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn file(&self, len: usize) -> (PathBuf, Vec<u8>) {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 253) as u8).collect();
        let path = self.dir.join("talk.mp4");
        std::fs::write(&path, &data).unwrap();
        (path, data)
    }

    fn states(&self) -> PathBuf {
        self.dir.join("states")
    }

    fn saved(&self) -> usize {
        std::fs::read_dir(self.states()).map_or(0, |d| d.count())
    }

    fn options(&self) -> UploadOptions {
        UploadOptions::new()
            .part_size(PART)
            .parallel(4)
            .state_dir(self.states())
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn key(vid: &str) -> String {
    format!("polyvupload/{DEMO_USER_ID}/{vid}.mp4")
}

fn total_parts_received(server: &MockServer) -> u64 {
    server.all_parts_received().iter().map(|(_, n)| n).sum()
}

fn assert_listed(client: &Client, vid: &str) {
    let listed = client
        .videos(&GetByUploader::builder().page_size(1000).build().unwrap())
        .map(|v| v.unwrap().vid().to_owned())
        .any(|v| v == vid);
    assert!(listed, "{vid} is not listed");
}

#[test]
fn a_few_megabytes_in_tens_of_parts_become_one_listed_video() {
    let server = MockServer::builder().videos(3).start().unwrap();
    let files = Files::new("plain");
    let (path, data) = files.file(SIZE);
    let client = client(&server);
    let done = client
        .upload(&path, files.options().title("Talk").tags(["t1", "t2"]))
        .unwrap();
    assert_eq!(done.bytes, SIZE as u64);
    assert!(!done.resumed);
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&done.vid));
    assert_eq!(server.initiated_vids(), std::slice::from_ref(&done.vid));
    assert_eq!(total_parts_received(&server), 25);
    assert!(
        server.object(&key(&done.vid)) == Some(data),
        "the object differs from the file"
    );
    assert_eq!(server.video(&done.vid).unwrap().title, "Talk");
    assert_listed(&client, &done.vid);
    assert_eq!(files.saved(), 0, "the saved state is deleted when done");
}

#[test]
fn a_cancelled_upload_resumes_sending_only_the_missing_parts() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let files = Files::new("resume");
    let (path, data) = files.file(SIZE);
    let client = client(&server);
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let err = client
        .upload(
            &path,
            files
                .options()
                .parallel(2)
                .cancel_flag(cancel)
                .on_progress(move |p| {
                    if p.parts_sent >= 8 {
                        flag.store(true, Ordering::SeqCst);
                    }
                }),
        )
        .unwrap_err();
    assert!(matches!(err, Error::UploadCancelled { .. }), "{err}");
    let first_run = total_parts_received(&server);
    assert!((8..25).contains(&first_run), "{first_run}");
    assert!(server.uploaded_videos().is_empty());
    assert_eq!(files.saved(), 1);

    let done = client.upload(&path, files.options()).unwrap();
    assert!(done.resumed);
    // One video, one vid, each part received once (the parts in flight at
    // the cancel were finished and saved before it returned).
    assert_eq!(server.initiated_vids(), std::slice::from_ref(&done.vid));
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&done.vid));
    let counts = server.all_parts_received();
    assert_eq!(counts.len(), 25, "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
    assert_eq!(done.bytes_sent, SIZE as u64 - first_run * PART);
    assert!(server.object(&key(&done.vid)) == Some(data));
    assert_eq!(files.saved(), 0);
}

#[test]
fn expired_credentials_are_refreshed_without_restarting() {
    let server = Arc::new(MockServer::builder().videos(1).start().unwrap());
    let files = Files::new("token");
    let (path, data) = files.file(SIZE);
    let client = client(&server);
    let mock = server.clone();
    let expired = Arc::new(AtomicBool::new(false));
    let done = client
        .upload(
            &path,
            files.options().parallel(2).on_progress(move |p| {
                if p.parts_done >= 5 && !expired.swap(true, Ordering::SeqCst) {
                    mock.expire_upload_credentials();
                }
            }),
        )
        .unwrap();
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&done.vid));
    // The same multipart upload throughout: every part under one uploadId.
    let counts = server.all_parts_received();
    let ids: std::collections::BTreeSet<&str> =
        counts.iter().map(|((id, _), _)| id.as_str()).collect();
    assert_eq!(ids.len(), 1, "{counts:?}");
    assert_eq!(counts.len(), 25);
    // Fresh credentials came from `token` (no second `init`).
    let tokens = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/token"))
        .count();
    assert!(tokens >= 1, "no token call");
    assert!(server.object(&key(&done.vid)) == Some(data));
}

#[test]
fn a_revoked_access_key_is_refreshed_too() {
    let server = MockServer::builder()
        .videos(1)
        .upload_fault(UploadFault::InvalidAccessKeyId { times: 1 })
        .start()
        .unwrap();
    let files = Files::new("revoked");
    let (path, _) = files.file(300_000);
    let done = client(&server).upload(&path, files.options()).unwrap();
    assert_eq!(server.uploaded_videos(), [done.vid]);
}

#[test]
fn no_such_upload_starts_a_new_multipart_upload_for_the_same_vid() {
    let server = MockServer::builder()
        .videos(1)
        .upload_fault(UploadFault::NoSuchUpload { times: 1 })
        .start()
        .unwrap();
    let files = Files::new("nosuch");
    let (path, data) = files.file(SIZE);
    let done = client(&server).upload(&path, files.options()).unwrap();
    assert_eq!(server.initiated_vids(), std::slice::from_ref(&done.vid));
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&done.vid));
    assert!(server.object(&key(&done.vid)) == Some(data));
}

#[test]
fn one_callback_failure_is_retried_and_two_are_reported_as_stored() {
    let server = MockServer::builder()
        .videos(1)
        .upload_fault(UploadFault::CallbackFailed { times: 1 })
        .start()
        .unwrap();
    let files = Files::new("callback1");
    let (path, _) = files.file(300_000);
    let done = client(&server).upload(&path, files.options()).unwrap();
    assert_eq!(server.uploaded_videos(), [done.vid]);

    let server = MockServer::builder()
        .videos(1)
        .upload_fault(UploadFault::CallbackFailed { times: 2 })
        .start()
        .unwrap();
    let files = Files::new("callback2");
    let (path, _) = files.file(300_000);
    let err = client(&server).upload(&path, files.options()).unwrap_err();
    assert!(matches!(err, Error::CallbackFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("stored"), "{err}");
    assert!(server.uploaded_videos().is_empty());
    assert_eq!(files.saved(), 1, "a failed upload keeps its saved state");
}

#[test]
fn a_dropped_part_is_sent_again() {
    let server = MockServer::builder()
        .videos(1)
        .upload_fault(UploadFault::DropPart { part: 3, times: 1 })
        .start()
        .unwrap();
    let files = Files::new("drop");
    let (path, data) = files.file(SIZE);
    let done = client(&server).upload(&path, files.options()).unwrap();
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&done.vid));
    let counts = server.all_parts_received();
    assert_eq!(counts.len(), 25);
    assert!(server.object(&key(&done.vid)) == Some(data));
}

#[test]
fn fetch_urls_reaches_the_mock_in_batches() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let urls: Vec<String> = (0..230)
        .map(|i| format!("https://media.example/{i}.mp4"))
        .collect();
    assert_eq!(
        client(&server).fetch_urls(urls.clone(), Some(1)).unwrap(),
        3
    );
    assert_eq!(server.grab_urls(), urls);
}
