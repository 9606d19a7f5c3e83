//! `polyv videos upload` and `polyv videos fetch-url` against the mock.
#![allow(missing_docs)]

mod common;

use std::path::{Path, PathBuf};

use common::{assert_status, polyv, run, stderr, stdout};
use polyv_mock::MockServer;
use serde_json::Value;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "polyv-cli-upload-{}-{name}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    let data: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn fetch_url_sends_batches_of_one_hundred_and_prints_each_url() {
    let server = MockServer::start().unwrap();
    let urls: Vec<String> = (0..150)
        .map(|i| format!("https://media.example/v{i}.mp4"))
        .collect();
    let mut args = vec!["videos", "fetch-url", "--cataid", "1"];
    args.extend(urls.iter().map(String::as_str));
    let out = run(&mut polyv(&server), &args);
    assert_status(&out, 0);
    let records = jsonl(&stdout(&out));
    assert_eq!(records.len(), 150);
    assert_eq!(records[0]["url"], urls[0].as_str());
    assert_eq!(records[149]["accepted"], true);
    assert_eq!(server.grab_urls(), urls);
    let calls = server
        .requests()
        .iter()
        .filter(|r| r.path.contains("/grab/"))
        .count();
    assert_eq!(calls, 2);
}

#[test]
fn fetch_url_dry_run_shows_two_calls_and_sends_nothing() {
    let server = MockServer::builder().log_requests(true).start().unwrap();
    let urls: Vec<String> = (0..101)
        .map(|i| format!("https://media.example/v{i}.mp4"))
        .collect();
    let mut args = vec!["videos", "fetch-url", "--dry-run", "--format", "jsonl"];
    args.extend(urls.iter().map(String::as_str));
    let out = run(&mut polyv(&server), &args);
    assert_status(&out, 0);
    let shown = jsonl(&stdout(&out));
    assert_eq!(shown.len(), 2);
    assert!(shown[0]["url"].as_str().unwrap().contains("/grab/"));
    assert!(server.requests().is_empty());
    assert!(server.grab_urls().is_empty());
}

#[test]
fn upload_dry_run_prints_the_plan_and_sends_nothing() {
    let server = MockServer::builder().log_requests(true).start().unwrap();
    let dir = temp_dir("dry");
    let file = write_file(&dir, "clip.mp4", 1_000_000);
    let out = run(
        polyv(&server).env("XDG_CACHE_HOME", dir.join("cache")),
        &[
            "videos",
            "upload",
            file.to_str().unwrap(),
            "--part-size",
            "100K",
            "--dry-run",
        ],
    );
    assert_status(&out, 0);
    let plan = jsonl(&stdout(&out));
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0]["bytes"], 1_000_000);
    assert_eq!(plan[0]["part_size"], 102_400);
    assert_eq!(plan[0]["parts"], 10);
    assert_eq!(plan[0]["last_part"], 1_000_000 - 9 * 102_400);
    assert!(server.requests().is_empty());
    assert!(server.initiated_vids().is_empty());
    assert!(!dir.join("cache").exists(), "a dry run saves nothing");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn upload_refuses_a_part_size_under_100k_before_sending() {
    let server = MockServer::builder().log_requests(true).start().unwrap();
    let dir = temp_dir("small");
    let file = write_file(&dir, "clip.mp4", 1_000_000);
    let out = run(
        polyv(&server).env("XDG_CACHE_HOME", dir.join("cache")),
        &[
            "videos",
            "upload",
            file.to_str().unwrap(),
            "--part-size",
            "10K",
        ],
    );
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("nothing was sent"),
        "{}",
        stderr(&out)
    );
    assert!(server.requests().is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn upload_prints_a_record_per_file_and_each_becomes_a_video() {
    let server = MockServer::builder().videos(2).start().unwrap();
    let dir = temp_dir("two");
    let a = write_file(&dir, "a.mp4", 1_000_000);
    let b = write_file(&dir, "b.mov", 250_000);
    let out = run(
        polyv(&server).env("XDG_CACHE_HOME", dir.join("cache")),
        &[
            "videos",
            "upload",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--part-size",
            "100K",
            "--parallel",
            "3",
            "--tag",
            "x,y",
            "--cataid",
            "1",
        ],
    );
    assert_status(&out, 0);
    let records = jsonl(&stdout(&out));
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["bytes"], 1_000_000);
    assert_eq!(records[1]["bytes"], 250_000);
    assert!(records[0]["file"].as_str().unwrap().ends_with("a.mp4"));
    assert!(records[0]["seconds"].as_f64().unwrap() >= 0.0);
    let vids: Vec<String> = records
        .iter()
        .map(|r| r["vid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(server.uploaded_videos(), vids);
    assert_eq!(server.video(&vids[0]).unwrap().title, "a");
    // Nothing left to resume.
    let saved = std::fs::read_dir(dir.join("cache/polyv/uploads")).map_or(0, |d| d.count());
    assert_eq!(saved, 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_interrupted_upload_resumes_when_the_same_command_runs_again() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let dir = temp_dir("resume");
    let file = write_file(&dir, "talk.mp4", 2_000_000); // 20 parts
    let args = upload_args(&file, "2");
    let mut stopped: Vec<&str> = args.to_vec();
    stopped.extend(["--stop-after-parts", "6"]);
    let out = run(
        polyv(&server).env("XDG_CACHE_HOME", dir.join("cache")),
        &stopped,
    );
    assert_status(&out, 130);
    assert!(
        stderr(&out).contains("hint: ")
            && stderr(&out).contains("running the same command again resumes it"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    let first: u64 = server.all_parts_received().iter().map(|(_, n)| n).sum();
    assert!((6..20).contains(&first), "{first}");
    assert!(server.uploaded_videos().is_empty());
    assert_eq!(
        std::fs::read_dir(dir.join("cache/polyv/uploads"))
            .unwrap()
            .count(),
        1
    );

    let out = run(
        polyv(&server).env("XDG_CACHE_HOME", dir.join("cache")),
        &args,
    );
    assert_status(&out, 0);
    let records = jsonl(&stdout(&out));
    assert_eq!(records.len(), 1);
    let vid = records[0]["vid"].as_str().unwrap();
    // One video; every part received once.
    assert_eq!(server.initiated_vids(), [vid.to_owned()]);
    assert_eq!(server.uploaded_videos(), [vid.to_owned()]);
    assert_each_part_once(&server, 20);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn restart_forgets_a_saved_upload_and_makes_a_new_video() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let dir = temp_dir("restart");
    let file = write_file(&dir, "talk.mp4", 500_000);
    let cache = dir.join("cache");
    let base = [
        "videos",
        "upload",
        file.to_str().unwrap(),
        "--part-size",
        "100K",
    ];
    let mut stopped = base.to_vec();
    stopped.extend(["--parallel", "1", "--stop-after-parts", "1"]);
    let out = run(polyv(&server).env("XDG_CACHE_HOME", &cache), &stopped);
    assert_status(&out, 130);
    let mut restart = base.to_vec();
    restart.push("--restart");
    let out = run(polyv(&server).env("XDG_CACHE_HOME", &cache), &restart);
    assert_status(&out, 0);
    let vid = jsonl(&stdout(&out))[0]["vid"].as_str().unwrap().to_owned();
    let initiated = server.initiated_vids();
    assert_eq!(initiated.len(), 2, "a second video: {initiated:?}");
    assert_eq!(server.uploaded_videos(), [vid]);
    std::fs::remove_dir_all(&dir).ok();
}

/// Parts 3 to 20 of an upload are each answered after `delay`, so that a
/// signal sent once a few parts are in lands mid-upload.
fn slow_upload_server(delay: std::time::Duration) -> MockServer {
    let mut builder = MockServer::builder().videos(1);
    for part in 3..=20 {
        builder = builder.upload_fault(polyv_mock::UploadFault::SlowPart {
            part,
            delay,
            times: 1,
        });
    }
    builder.start().unwrap()
}

fn parts_received(server: &MockServer) -> u64 {
    server.all_parts_received().iter().map(|(_, n)| n).sum()
}

/// Starts `polyv videos upload` and returns once the mock holds `parts`
/// parts (or panics after 30 s, with what the child printed).
fn spawn_until_parts(
    server: &MockServer,
    cache: &Path,
    args: &[&str],
    parts: u64,
) -> std::process::Child {
    use std::process::Stdio;
    let mut child = polyv(server)
        .env("XDG_CACHE_HOME", cache)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while parts_received(server) < parts {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the upload ended ({status}) before {parts} parts: {}",
                stderr(&out)
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {parts} parts in 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child
}

/// The mock received each of `parts` parts exactly once.
fn assert_each_part_once(server: &MockServer, parts: usize) {
    let counts = server.all_parts_received();
    assert_eq!(counts.len(), parts);
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
}

/// `polyv videos upload FILE --part-size 100K --parallel N`.
fn upload_args<'a>(file: &'a Path, parallel: &'a str) -> [&'a str; 7] {
    [
        "videos",
        "upload",
        file.to_str().unwrap(),
        "--part-size",
        "100K",
        "--parallel",
        parallel,
    ]
}

/// Runs the same command again: it must finish as one video, the one
/// initiated by the first run. Returns its vid.
fn rerun_to_one_video(server: &MockServer, cache: &Path, args: &[&str]) -> String {
    let out = run(polyv(server).env("XDG_CACHE_HOME", cache), args);
    assert_status(&out, 0);
    let vid = jsonl(&stdout(&out))[0]["vid"].as_str().unwrap().to_owned();
    assert_eq!(
        server.initiated_vids(),
        std::slice::from_ref(&vid),
        "one video"
    );
    assert_eq!(server.uploaded_videos(), std::slice::from_ref(&vid));
    vid
}

#[test]
fn ctrl_c_stops_after_the_parts_in_flight_and_the_same_command_resumes() {
    let server = slow_upload_server(std::time::Duration::from_millis(200));
    let dir = temp_dir("sigint");
    let file = write_file(&dir, "talk.mp4", 2_000_000); // 20 parts
    let cache = dir.join("cache");
    let args = upload_args(&file, "2");
    let child = spawn_until_parts(&server, &cache, &args, 4);
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_status(&out, 130);
    let err = stderr(&out);
    assert!(
        err.contains("stopping: waiting for the parts in flight"),
        "{err}"
    );
    assert!(err.contains("stopped: upload cancelled: "), "{err}");
    assert!(
        err.contains("running the same command again resumes it"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    let first = parts_received(&server);
    assert!((4..20).contains(&first), "{first} parts before the stop");
    assert!(server.uploaded_videos().is_empty());

    rerun_to_one_video(&server, &cache, &args);
    // A clean stop waits for the parts in flight: none is sent twice.
    assert_each_part_once(&server, 20);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_killed_upload_resumes_with_one_video_and_each_part_at_most_twice() {
    let server = slow_upload_server(std::time::Duration::from_millis(100));
    let dir = temp_dir("sigkill");
    let data_len = 2_000_000;
    let file = write_file(&dir, "talk.mp4", data_len); // 20 parts
    let cache = dir.join("cache");
    let args = upload_args(&file, "3");
    // About half way: SIGKILL, no chance to save anything more.
    let mut child = spawn_until_parts(&server, &cache, &args, 10);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(server.uploaded_videos().is_empty());

    let vid = rerun_to_one_video(&server, &cache, &args);
    let stored = server
        .object(&format!(
            "polyvupload/{}/{vid}.mp4",
            polyv_mock::DEMO_USER_ID
        ))
        .unwrap();
    assert_eq!(stored, std::fs::read(&file).unwrap());
    // Only the parts in flight at the kill may have been sent twice.
    let counts = server.all_parts_received();
    assert_eq!(counts.len(), 20);
    assert!(counts.iter().all(|(_, n)| *n <= 2), "{counts:?}");
    let twice = counts.iter().filter(|(_, n)| *n == 2).count();
    assert!(twice <= 3, "{twice} parts sent twice: {counts:?}");
    std::fs::remove_dir_all(&dir).ok();
}
