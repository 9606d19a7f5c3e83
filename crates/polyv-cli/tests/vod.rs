//! The VOD commands of `polyv` (videos get/plays/update/delete/move,
//! categories tree/add/rename/delete, account usage, stats views) end to
//! end, against a `polyv_mock::MockServer` started by each test on
//! loopback: what they print, their exit status, and what the mock saw.

mod common;

use common::{assert_status, polyv, stderr, stdout};
use std::collections::HashSet;
use std::process::Output;

use polyv_mock::{
    DEMO_CHILD_CATAID, DEMO_ENGLISH_CATAID, DEMO_SECRET_KEY, DEMO_USER_ID, Fault, FaultRule,
    LoggedRequest, MockServer,
};
use serde_json::Value;

fn run(server: &MockServer, args: &[&str]) -> Output {
    common::run(&mut polyv(server), args)
}

/// Runs and expects exit 0; the JSON lines of stdout.
fn jsonl(server: &MockServer, args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.extend(["--format", "jsonl"]);
    let out = run(server, &all);
    assert_status(&out, 0);
    stdout(&out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The one request the mock saw since the log was cleared.
fn only_request(server: &MockServer) -> LoggedRequest {
    let log = server.requests();
    assert_eq!(log.len(), 1, "{log:#?}");
    log.into_iter().next().unwrap()
}

/// The demo account's first `n` vids (the catalogue's order).
fn demo_vids(server: &MockServer, n: usize) -> Vec<String> {
    let vids: Vec<String> = server
        .dataset()
        .videos
        .iter()
        .filter(|v| v.user_id == DEMO_USER_ID)
        .map(|v| v.vid.clone())
        .take(n)
        .collect();
    assert_eq!(vids.len(), n);
    vids
}

#[test]
fn videos_get_prints_the_detail() {
    let server = MockServer::start().unwrap();
    let vid = demo_vids(&server, 1).remove(0);
    let video = server.video(&vid).unwrap();
    let lines = jsonl(&server, &["videos", "get", &vid]);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["vid"], vid.as_str());
    assert_eq!(lines[0]["title"], video.title.as_str());
    assert_eq!(lines[0]["times"], video.times);
    assert_eq!(lines[0]["cataid"], video.cataid);
    let request = only_request(&server);
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        format!("/v2/video/{DEMO_USER_ID}/get-video-msg")
    );
    assert_eq!(request.param("vid"), Some(vid.as_str()));

    // A table shows one `field  value` line per field.
    let out = run(&server, &["videos", "get", &vid, "--format", "table"]);
    assert_status(&out, 0);
    let text = stdout(&out);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .eq(["vid", vid.as_str()]),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("uploader ")), "{text}");

    // An unknown video: the API refuses, exit 1.
    let out = run(&server, &["videos", "get", "nosuchvideo_1"]);
    assert_status(&out, 1);
    assert!(stdout(&out).is_empty());
}

#[test]
fn videos_plays_keeps_the_order_given_and_batches_by_100() {
    let server = MockServer::start().unwrap();
    let mut vids = demo_vids(&server, 150);
    vids.reverse();
    let mut args: Vec<&str> = vec!["videos", "plays", "--realtime"];
    args.extend(vids.iter().map(String::as_str));
    args.push("unknown_vid_0");
    let lines = jsonl(&server, &args);
    let refs: Vec<&str> = vids.iter().map(String::as_str).collect();
    let expected = server.play_times(&refs);
    assert_eq!(lines.len(), 150);
    for (line, (vid, times)) in lines.iter().zip(&expected) {
        assert_eq!(line, &serde_json::json!({"vid": vid, "times": times}));
    }
    let log = server.requests();
    assert_eq!(log.len(), 2, "{log:#?}");
    let sizes: Vec<usize> = log
        .iter()
        .map(|r| {
            assert_eq!(r.method, "GET");
            assert_eq!(r.path, format!("/v2/data/{DEMO_USER_ID}/play-times"));
            assert_eq!(r.param("realTime"), Some("1"));
            r.param("vids").unwrap().split(',').count()
        })
        .collect();
    assert_eq!(sizes, [100, 51]);

    // Without --realtime, no realTime; the unknown vid gets a warning.
    server.clear_requests();
    let out = run(
        &server,
        &[
            "videos",
            "plays",
            &vids[0],
            "unknown_vid_0",
            "--format",
            "csv",
        ],
    );
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("vid,times\r\n{},{}\r\n", expected[0].0, expected[0].1)
    );
    assert!(stderr(&out).contains("unknown_vid_0"), "{}", stderr(&out));
    assert_eq!(only_request(&server).param("realTime"), None);
}

#[test]
fn videos_update_changes_the_video_and_prints_it() {
    let server = MockServer::start().unwrap();
    let vid = demo_vids(&server, 1).remove(0);
    let lines = jsonl(
        &server,
        &[
            "videos",
            "update",
            &vid,
            "--title",
            "新标题 & more",
            "--tag",
            "a,b",
            "--description",
            "line1\nline2",
        ],
    );
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["vid"], vid.as_str());
    assert_eq!(lines[0]["title"], "新标题 & more");
    let video = server.video(&vid).unwrap();
    assert_eq!(
        (
            video.title.as_str(),
            video.tag.as_str(),
            video.context.as_str()
        ),
        ("新标题 & more", "a,b", "line1\nline2")
    );
    let request = only_request(&server);
    assert_eq!(request.method, "POST");
    assert!(request.form);
    assert_eq!(request.path, format!("/v2/video/{DEMO_USER_ID}/video-info"));
    assert_eq!(request.param("tag"), Some("a,b"));
    assert_eq!(request.param("describ"), Some("line1\nline2"));

    // Nothing to change, or a blank tag: exit 2, nothing sent.
    server.clear_requests();
    for args in [
        &["videos", "update", vid.as_str()][..],
        &["videos", "update", vid.as_str(), "--tag", "a,,b"],
        &["videos", "update", vid.as_str(), "--publish-url", "ftp://x"],
    ] {
        let out = run(&server, args);
        assert_status(&out, 2);
    }
    assert!(server.requests().is_empty());
}

#[test]
fn videos_delete_one_with_del_video_and_many_in_batches_of_500() {
    let server = MockServer::builder().videos(800).start().unwrap();
    let vids = demo_vids(&server, 502);

    let lines = jsonl(&server, &["videos", "delete", &vids[0], "--yes"]);
    assert_eq!(
        lines,
        [serde_json::json!({"vid": vids[0], "deleteType": 1})]
    );
    let request = only_request(&server);
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/v2/video/{DEMO_USER_ID}/del-video"));
    assert_eq!(request.param("vid"), Some(vids[0].as_str()));
    assert_eq!(request.param("deleteType"), Some("1"));
    assert!(server.video(&vids[0]).is_none());

    server.clear_requests();
    let mut args = vec!["videos", "delete", "--permanent", "--yes"];
    args.extend(vids[1..].iter().map(String::as_str));
    let lines = jsonl(&server, &args);
    assert_eq!(lines.len(), 501);
    assert!(lines.iter().all(|l| l["deleteType"] == 2));
    let printed: Vec<&str> = lines.iter().map(|l| l["vid"].as_str().unwrap()).collect();
    assert_eq!(
        printed,
        vids[1..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    let log = server.requests();
    assert_eq!(log.len(), 2, "{log:#?}");
    for (request, size) in log.iter().zip([500, 1]) {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v2/video/del-videos");
        assert_eq!(request.param("userId"), Some(DEMO_USER_ID));
        assert_eq!(request.param("deleteType"), Some("2"));
        assert_eq!(request.param("vids").unwrap().split(',').count(), size);
        assert_eq!(request.code, Some(200));
    }
    assert!(vids.iter().all(|vid| server.video(vid).is_none()));
}

#[test]
fn a_delete_batch_that_fails_keeps_what_was_deleted_and_printed() {
    // The second del-videos request fails (`query failed.`, no retries).
    let server = MockServer::builder()
        .videos(800)
        .fault(FaultRule::on_requests(Fault::QueryFailed, [2]))
        .start()
        .unwrap();
    let vids = demo_vids(&server, 501);
    let mut args = vec![
        "--retries",
        "0",
        "videos",
        "delete",
        "--yes",
        "--format",
        "jsonl",
    ];
    args.extend(vids.iter().map(String::as_str));
    let out = run(&server, &args);
    assert_status(&out, 3);
    let printed: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(printed.len(), 500);
    assert_eq!(printed[499]["vid"], vids[499].as_str());
    assert!(vids[..500].iter().all(|vid| server.video(vid).is_none()));
    assert!(server.video(&vids[500]).is_some());
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn videos_move_changes_the_category() {
    let server = MockServer::start().unwrap();
    let vids = demo_vids(&server, 2);
    let cataid = DEMO_ENGLISH_CATAID.to_string();
    let lines = jsonl(
        &server,
        &[
            "videos", "move", &vids[0], &vids[1], "--to", &cataid, "--yes",
        ],
    );
    assert_eq!(
        lines,
        [
            serde_json::json!({"vid": vids[0], "cataid": DEMO_ENGLISH_CATAID}),
            serde_json::json!({"vid": vids[1], "cataid": DEMO_ENGLISH_CATAID}),
        ]
    );
    let request = only_request(&server);
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/v2/video/{DEMO_USER_ID}/changeCata"));
    assert_eq!(
        request.param("vids"),
        Some(format!("{},{}", vids[0], vids[1]).as_str())
    );
    assert_eq!(request.param("cataid"), Some(cataid.as_str()));
    for vid in &vids {
        assert_eq!(server.video(vid).unwrap().cataid, DEMO_ENGLISH_CATAID);
    }
}

#[test]
fn without_yes_deletes_and_moves_send_nothing_and_exit_2() {
    let server = MockServer::start().unwrap();
    let vids = demo_vids(&server, 2);
    let cataid = DEMO_ENGLISH_CATAID.to_string();
    for args in [
        &["videos", "delete", vids[0].as_str()][..],
        &[
            "videos",
            "delete",
            vids[0].as_str(),
            vids[1].as_str(),
            "--permanent",
        ],
        &["videos", "move", vids[0].as_str(), "--to", cataid.as_str()],
        &["categories", "delete", cataid.as_str()],
    ] {
        let out = run(&server, args);
        assert_status(&out, 2);
        assert!(stderr(&out).contains("--yes"), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    assert!(server.video(&vids[0]).is_some());
    assert!(
        server
            .category_tree(DEMO_USER_ID)
            .find(DEMO_ENGLISH_CATAID)
            .is_some()
    );
}

#[test]
fn categories_tree_is_one_node_per_line_and_indented_in_a_table() {
    let server = MockServer::start().unwrap();
    let lines = jsonl(&server, &["categories", "tree"]);
    let tree = server.category_tree(DEMO_USER_ID);
    let expected: Vec<(u64, &str, u64)> = tree
        .iter()
        .iter()
        .map(|c| (c.cataid, c.name.as_str(), c.videos))
        .collect();
    let got: Vec<(u64, &str, u64)> = lines
        .iter()
        .map(|l| {
            assert!(l.get("nodes").is_none(), "{l}");
            (
                l["cataid"].as_u64().unwrap(),
                l["cataname"].as_str().unwrap(),
                l["videos"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let request = only_request(&server);
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/v2/video/{DEMO_USER_ID}/cataJson"));
    assert_eq!(request.param("cataid"), None);

    // A subtree.
    server.clear_requests();
    let child = DEMO_CHILD_CATAID.to_string();
    let lines = jsonl(&server, &["categories", "tree", "--cataid", &child]);
    assert_eq!(lines[0]["cataid"], DEMO_CHILD_CATAID);
    assert_eq!(
        lines.len(),
        tree.find(DEMO_CHILD_CATAID).unwrap().iter().len()
    );
    assert_eq!(only_request(&server).param("cataid"), Some(child.as_str()));

    // On a table, each level is indented two more columns.
    let out = run(&server, &["categories", "tree", "--format", "table"]);
    assert_status(&out, 0);
    let text = stdout(&out);
    let name_at = |name: &str| {
        let line = text.lines().find(|l| l.contains(name)).unwrap();
        line.find(name).unwrap()
    };
    assert_eq!(text.lines().count(), expected.len() + 1, "{text}");
    assert_eq!(name_at("课程 Courses") + 2, name_at("数学"), "{text}");
    assert_eq!(name_at("数学") + 2, name_at("代数"), "{text}");
}

#[test]
fn categories_add_rename_delete_change_the_tree() {
    let server = MockServer::start().unwrap();
    let parent = DEMO_CHILD_CATAID.to_string();
    let lines = jsonl(
        &server,
        &["categories", "add", "新 分类 & co", "--parent", &parent],
    );
    assert_eq!(lines.len(), 1);
    let cataid = lines[0]["cataid"].as_u64().unwrap();
    assert_eq!(
        lines[0]["catatree"],
        format!(
            "{},{cataid}",
            server
                .category_tree(DEMO_USER_ID)
                .find(DEMO_CHILD_CATAID)
                .unwrap()
                .catatree
        )
    );
    assert_eq!(
        server
            .category_tree(DEMO_USER_ID)
            .find(cataid)
            .unwrap()
            .name,
        "新 分类 & co"
    );
    let request = only_request(&server);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", format!("/v2/video/{DEMO_USER_ID}/addCata").as_str())
    );
    assert_eq!(request.param("cataname"), Some("新 分类 & co"));
    assert_eq!(request.param("parentid"), Some(parent.as_str()));

    server.clear_requests();
    let id = cataid.to_string();
    let lines = jsonl(&server, &["categories", "rename", &id, "改名"]);
    assert_eq!(
        lines,
        [serde_json::json!({"cataid": cataid, "cataname": "改名"})]
    );
    assert_eq!(
        server
            .category_tree(DEMO_USER_ID)
            .find(cataid)
            .unwrap()
            .name,
        "改名"
    );
    let request = only_request(&server);
    assert_eq!(request.path, format!("/v2/video/{DEMO_USER_ID}/updateCata"));
    assert_eq!(request.param("cataname"), Some("改名"));

    server.clear_requests();
    let lines = jsonl(&server, &["categories", "delete", &id, "--yes"]);
    assert_eq!(lines, [serde_json::json!({"cataid": cataid})]);
    assert!(server.category_tree(DEMO_USER_ID).find(cataid).is_none());
    let request = only_request(&server);
    assert_eq!(request.path, format!("/v2/video/{DEMO_USER_ID}/deleteCata"));
    assert_eq!(request.param("cataid"), Some(id.as_str()));

    // Gone: renaming it is refused (exit 1); a name over 40 characters is
    // refused before sending (exit 2).
    let out = run(&server, &["categories", "rename", &id, "again"]);
    assert_status(&out, 1);
    assert!(
        stderr(&out).contains("cata is not exist."),
        "{}",
        stderr(&out)
    );
    server.clear_requests();
    let long = "长".repeat(41);
    assert_status(&run(&server, &["categories", "add", &long]), 2);
    assert!(server.requests().is_empty());
}

#[test]
fn account_usage_reports_space_and_traffic() {
    let server = MockServer::start().unwrap();
    let lines = jsonl(&server, &["account", "usage"]);
    let usage = server.usage(DEMO_USER_ID, None).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["totalSpace"], usage.total_space);
    assert_eq!(lines[0]["usedSpace"], usage.used_space);
    assert_eq!(lines[0]["totalFlow"], usage.total_flow);
    assert_eq!(lines[0]["usedFlow"], usage.used_flow);
    assert_eq!(lines[0]["userId"], DEMO_USER_ID);
    let request = only_request(&server);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", format!("/v2/user/{DEMO_USER_ID}/main").as_str())
    );
    assert_eq!(request.param("date"), None);

    server.clear_requests();
    let lines = jsonl(&server, &["account", "usage", "--date", "2025-10-01"]);
    let usage = server.usage(DEMO_USER_ID, Some("2025-10-01")).unwrap();
    assert_eq!(lines[0]["usedFlow"], usage.used_flow);
    assert_eq!(only_request(&server).param("date"), Some("2025-10-01"));

    server.clear_requests();
    for bad in ["2025-02-30", "yesterday", "2025-1-1"] {
        assert_status(&run(&server, &["account", "usage", "--date", bad]), 2);
    }
    assert!(server.requests().is_empty());
}

#[test]
fn stats_views_lists_the_days_plays() {
    let server = MockServer::start().unwrap();
    let lines = jsonl(&server, &["stats", "views", "--day", "2025-10-01"]);
    let rows = server.view_log(DEMO_USER_ID, "2025-10-01");
    assert!(!rows.is_empty());
    let got: Vec<&str> = lines
        .iter()
        .map(|l| l["playId"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = rows.iter().map(|r| r.play_id.as_str()).collect();
    assert_eq!(got, expected);
    let request = only_request(&server);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", format!("/v2/data/{DEMO_USER_ID}/viewlog").as_str())
    );
    assert_eq!(request.param("day"), Some("20251001"));

    // One video's plays.
    server.clear_requests();
    let vid = rows[0].video_id.clone();
    let lines = jsonl(
        &server,
        &["stats", "views", "--day", "2025-10-01", "--vid", &vid],
    );
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["videoId"] == vid.as_str()));
    assert_eq!(
        lines.len(),
        rows.iter().filter(|r| r.video_id == vid).count()
    );
    assert_eq!(only_request(&server).param("vid"), Some(vid.as_str()));

    // csv: a header of the API's names, a row per play.
    let out = run(
        &server,
        &["stats", "views", "--day", "2025-10-01", "--format", "csv"],
    );
    assert_status(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("playId,userId,videoId,"), "{text}");
    assert_eq!(text.matches("\r\n").count(), rows.len() + 1);
}

/// The sign as `--dry-run` shows it: 8 characters and `…`.
fn assert_sign_cut(text: &str) {
    let at = text.find("sign=").unwrap() + "sign=".len();
    let shown: String = text[at..].chars().take(9).collect();
    assert!(
        shown.chars().take(8).all(|c| c.is_ascii_hexdigit()) && shown.ends_with('…'),
        "{text}"
    );
}

#[test]
fn dry_run_prints_the_requests_and_sends_nothing() {
    let server = MockServer::start().unwrap();
    let vids = demo_vids(&server, 2);
    let (a, b) = (vids[0].as_str(), vids[1].as_str());
    let cataid = DEMO_ENGLISH_CATAID.to_string();
    let cases: [(&[&str], &str, &str); 13] = [
        (
            &["videos", "by-uploader", "--all"],
            "GET",
            "/get-by-uploader?",
        ),
        (&["videos", "get", a], "GET", "/get-video-msg?"),
        (&["videos", "plays", a, b], "GET", "/play-times?"),
        (
            &["videos", "update", a, "--title", "t"],
            "POST",
            "/video-info",
        ),
        (&["videos", "delete", a], "POST", "/del-video"),
        (&["videos", "delete", a, b], "POST", "/v2/video/del-videos"),
        (
            &["videos", "move", a, "--to", &cataid],
            "POST",
            "/changeCata",
        ),
        (&["categories", "tree"], "POST", "/cataJson"),
        (&["categories", "add", "x"], "POST", "/addCata"),
        (
            &["categories", "rename", &cataid, "y"],
            "POST",
            "/updateCata",
        ),
        (&["categories", "delete", &cataid], "POST", "/deleteCata"),
        (&["account", "usage"], "POST", "/main"),
        (
            &["stats", "views", "--day", "2025-10-01"],
            "GET",
            "/viewlog?",
        ),
    ];
    for (args, method, path) in cases {
        let mut all = args.to_vec();
        all.push("--dry-run");
        let lines = jsonl(&server, &all);
        assert_eq!(lines.len(), 1, "{args:?}");
        let line = &lines[0];
        assert_eq!(line["method"], method, "{args:?}");
        let url = line["url"].as_str().unwrap();
        assert!(url.starts_with(&server.base_url()), "{url}");
        assert!(url.contains(path), "{args:?}: {url}");
        let signed = if method == "POST" {
            line["body"].as_str().unwrap()
        } else {
            assert!(line.get("body").is_none());
            url
        };
        assert!(signed.contains("ptime="), "{signed}");
        assert_sign_cut(signed);
        assert!(!line.to_string().contains(DEMO_SECRET_KEY));
    }
    // On a table: `METHOD URL`, the form body indented below.
    let out = run(
        &server,
        &["categories", "add", "x", "--dry-run", "--format", "table"],
    );
    assert_status(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(
        lines[0],
        format!("POST {}/v2/video/{DEMO_USER_ID}/addCata", server.base_url())
    );
    assert!(
        lines[1].starts_with("  cataname=x&parentid=1&ptime="),
        "{text}"
    );
    assert_sign_cut(lines[1]);
    // 600 vids: two play-times requests, two del-videos requests, no --yes
    // needed as nothing is sent.
    let many: Vec<String> = (0..600).map(|i| format!("v{i}")).collect();
    for (command, requests) in [("plays", 6), ("delete", 2)] {
        let mut args = vec!["videos", command, "--dry-run"];
        args.extend(many.iter().map(String::as_str));
        assert_eq!(jsonl(&server, &args).len(), requests, "{command}");
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    assert!(server.video(a).is_some());
}

#[cfg(feature = "mock")]
#[test]
fn mock_flag_serves_every_new_command() {
    let bare = common::bare;
    for args in [
        &["categories", "tree"][..],
        &["account", "usage"],
        &["stats", "views", "--day", "2025-10-01"],
        &["categories", "add", "x"],
    ] {
        let out = bare()
            .arg("--mock")
            .args(args)
            .args(["--format", "jsonl"])
            .output()
            .unwrap();
        assert_status(&out, 0);
        assert!(!stdout(&out).is_empty(), "{args:?}");
    }
}

#[test]
fn help_shows_the_new_command_groups() {
    let out = common::run(&mut common::bare(), &["--help"]);
    assert_status(&out, 0);
    let help = stdout(&out);
    for group in ["videos", "categories", "account", "stats"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(group)),
            "{group}: {help}"
        );
    }
    let out = common::run(&mut common::bare(), &["videos", "--help"]);
    let help = stdout(&out);
    for command in ["by-uploader", "get", "plays", "update", "delete", "move"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command}: {help}"
        );
    }
}

/// The scripted run of issue 13: every write shows in the reads after it.
#[test]
fn end_to_end_every_write_is_reflected_in_later_reads() {
    let server = MockServer::start().unwrap();

    // 1. A new category at the root.
    let created = jsonl(&server, &["categories", "add", "E2E 课程"]);
    let cataid = created[0]["cataid"].as_u64().unwrap();
    let id = cataid.to_string();

    // 2. Three videos moved into it.
    let vids = demo_vids(&server, 3);
    let moved = jsonl(
        &server,
        &[
            "videos", "move", &vids[0], &vids[1], &vids[2], "--to", &id, "--yes",
        ],
    );
    assert_eq!(moved.len(), 3);

    // 3. Renamed.
    jsonl(&server, &["categories", "rename", &id, "E2E renamed"]);
    let tree = jsonl(&server, &["categories", "tree", "--cataid", &id]);
    assert_eq!(tree[0]["cataname"], "E2E renamed");
    assert_eq!(tree[0]["videos"], 3);

    // 4. One video's detail: in the category, under its new name.
    let detail = jsonl(&server, &["videos", "get", &vids[0]]);
    assert_eq!(detail[0]["cataid"], cataid);
    assert_eq!(detail[0]["cataname"], "E2E renamed");

    // 5. Play counts, in the order given.
    let plays = jsonl(&server, &["videos", "plays", &vids[2], &vids[0], &vids[1]]);
    let order: Vec<&str> = plays.iter().map(|p| p["vid"].as_str().unwrap()).collect();
    assert_eq!(order, [&vids[2], &vids[0], &vids[1]]);
    for play in &plays {
        let vid = play["vid"].as_str().unwrap();
        assert_eq!(play["times"], server.video(vid).unwrap().times);
    }

    // 6. One deleted.
    jsonl(&server, &["videos", "delete", &vids[1], "--yes"]);

    // 7. Listed again: the category holds the other two; the deleted one
    //    has no play count and the tree counts two.
    let listed = jsonl(
        &server,
        &["videos", "by-uploader", "--cataid", &id, "--all"],
    );
    let listed: HashSet<&str> = listed.iter().map(|v| v["vid"].as_str().unwrap()).collect();
    assert_eq!(listed, HashSet::from([vids[0].as_str(), vids[2].as_str()]));
    let plays = jsonl(&server, &["videos", "plays", &vids[0], &vids[1], &vids[2]]);
    let order: Vec<&str> = plays.iter().map(|p| p["vid"].as_str().unwrap()).collect();
    assert_eq!(order, [&vids[0], &vids[2]]);
    let tree = jsonl(&server, &["categories", "tree", "--cataid", &id]);
    assert_eq!(tree[0]["videos"], 2);
    let out = run(&server, &["videos", "get", &vids[1]]);
    assert_status(&out, 1);
}
