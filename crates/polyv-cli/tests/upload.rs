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
    let args = [
        "videos",
        "upload",
        file.to_str().unwrap(),
        "--part-size",
        "100K",
        "--parallel",
        "2",
    ];
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
    let counts = server.all_parts_received();
    assert_eq!(counts.len(), 20);
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
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
