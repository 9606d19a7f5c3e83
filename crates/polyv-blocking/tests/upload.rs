//! `Client::upload` and `Client::fetch_urls` against polyv-conformance's
//! hand-written Polyv + OSS stand-in (`stand`): the transport's side of an
//! upload (parts sent with the right length and no Content-Type, several
//! in flight, retries, saved state, cancellation, resume without a second
//! video).
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use polyv_blocking::{Client, Error, UploadOptions};
use polyv_conformance::stand::{Stand, temp_dir, write_file};

fn client(stand: &Stand) -> Client {
    Client::new(stand.config()).unwrap()
}

const PART: u64 = 100 * 1024;

#[test]
fn uploads_in_streamed_parts_and_deletes_the_saved_state() {
    let stand = Stand::start();
    stand.seen.lock().unwrap().fail_part_once = Some(3);
    let dir = temp_dir("whole");
    let (path, data) = write_file(&dir, 2_000_000);
    let states = dir.join("states");
    let progress = Arc::new(AtomicUsize::new(0));
    let p = progress.clone();
    let done = client(&stand)
        .upload(
            &path,
            UploadOptions::new()
                .title("Clip")
                .tags(["a", "b"])
                .cataid(7)
                .part_size(PART)
                .parallel(3)
                .state_dir(&states)
                .on_progress(move |_| {
                    p.fetch_add(1, Ordering::SeqCst);
                }),
        )
        .unwrap();
    assert_eq!(done.vid, "1b448be323a1_1");
    assert_eq!(
        (done.bytes, done.bytes_sent, done.resumed),
        (2_000_000, 2_000_000, false)
    );
    let seen = stand.seen.lock().unwrap();
    assert_eq!(seen.inits.len(), 1);
    assert!(seen.inits[0].contains("title=Clip"), "{}", seen.inits[0]);
    assert!(seen.inits[0].contains("cataid=7"), "{}", seen.inits[0]);
    assert_eq!(seen.initiates, 1);
    // 20 parts, part 3 twice (its first try answered 500).
    assert_eq!(seen.parts.len(), 21);
    assert_eq!(seen.parts.iter().filter(|p| p.0 == 3).count(), 2);
    for (number, len, content_type, content_length) in &seen.parts {
        assert!(!content_type, "part {number} carried a Content-Type");
        assert_eq!(content_length.as_deref(), Some(len.to_string().as_str()));
    }
    // The bytes arrived as cut.
    let joined: Vec<u8> = seen.bodies.values().flatten().copied().collect();
    assert!(joined == data, "the parts do not add up to the file");
    assert_eq!(seen.completes.len(), 1);
    assert_eq!(seen.completes[0].matches("<PartNumber>").count(), 20);
    assert!(progress.load(Ordering::SeqCst) >= 20);
    // Done: no saved state left.
    let left = std::fs::read_dir(&states).map_or(0, |d| d.count());
    assert_eq!(left, 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_cancelled_upload_resumes_without_a_second_video() {
    let stand = Stand::start();
    let dir = temp_dir("resume");
    let (path, data) = write_file(&dir, 1_500_000); // 15 parts
    let states = dir.join("states");
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    let err = client(&stand)
        .upload(
            &path,
            UploadOptions::new()
                .part_size(PART)
                .parallel(1)
                .state_dir(&states)
                .cancel_flag(cancel.clone())
                .on_progress(move |p| {
                    if p.parts_done >= 5 {
                        c.store(true, Ordering::SeqCst);
                    }
                }),
        )
        .unwrap_err();
    assert!(matches!(err, Error::UploadCancelled { .. }), "{err}");
    assert!(err.to_string().contains("resumes"), "{err}");
    let first_run = stand.seen.lock().unwrap().parts.len();
    assert!(
        (5..15).contains(&first_run),
        "{first_run} parts sent before the cancel"
    );
    assert_eq!(
        std::fs::read_dir(&states).unwrap().count(),
        1,
        "one saved state"
    );
    assert!(stand.seen.lock().unwrap().completes.is_empty());

    let done = client(&stand)
        .upload(&path, UploadOptions::new().parallel(2).state_dir(&states))
        .unwrap();
    assert!(done.resumed);
    assert!(done.bytes_sent < done.bytes);
    let seen = stand.seen.lock().unwrap();
    // The rerun asked `init` for the saved vid: no second video.
    assert_eq!(seen.inits.len(), 2);
    assert!(
        seen.inits[1].contains("vid=1b448be323a1_1"),
        "{}",
        seen.inits[1]
    );
    assert!(seen.inits[1].contains("autoid=0"), "{}", seen.inits[1]);
    assert_eq!(done.vid, "1b448be323a1_1");
    // Same multipart upload, its parts listed once; only the missing parts
    // sent (the one in flight at the cancel finished and was saved).
    assert_eq!(seen.initiates, 1);
    assert_eq!(seen.lists, 1);
    assert_eq!(seen.parts.len(), 15, "every part once");
    let joined: Vec<u8> = seen.bodies.values().flatten().copied().collect();
    assert!(joined == data, "the parts do not add up to the file");
    assert_eq!(seen.completes.len(), 1);
    assert_eq!(std::fs::read_dir(&states).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let stand = Stand::start();
    let err = client(&stand)
        .upload(
            "/nonexistent/polyv/clip.mp4",
            UploadOptions::new().state_dir(temp_dir("none")),
        )
        .unwrap_err();
    assert!(err.to_string().contains("clip.mp4"), "{err}");
    assert!(stand.seen.lock().unwrap().inits.is_empty());
}
