//! The `polyv` binary at a terminal and at the first run: the table's width
//! (driven by `COLUMNS`, as a terminal would), and every message a new user
//! meets. Against a `polyv_mock::MockServer` on loopback; never the network.

mod common;

use common::{assert_status, bare, polyv, run, stderr, stdout};
use std::time::Duration;

use polyv_mock::{
    DEMO_SECRET_KEY, DEMO_SUB_ACCOUNTS, DEMO_USER_ID, Dataset, Fault, FaultRule, MockServer, Video,
};

/// Terminal columns of `text`: CJK characters and emoji take two.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF => 2,
            0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1FAFF => 2,
            _ => 1,
        })
        .sum()
}

/// Three videos, oldest first: a long CJK title, a huge play count, ASCII.
fn terminal_dataset() -> Dataset {
    let mut ds = Dataset::empty_demo();
    let specs = [
        (
            "cjk_1",
            "高等数学 第一讲：极限与连续 🎬 and a long English tail that cannot fit anywhere at all",
            7_u64,
        ),
        ("big_2", "短", 123_456_789_012),
        ("ascii_3", "plain ascii title", 0),
    ];
    for (i, (vid, title, times)) in specs.into_iter().enumerate() {
        let mut v = Video::new(DEMO_USER_ID, vid, DEMO_SUB_ACCOUNTS[3], 1_539_918_907_896);
        v.title = title.into();
        v.times = times;
        v.ptime = 1_600_000_000_000 + i as i64 * 1000;
        ds.push_video(v);
    }
    ds
}

fn table_at(server: &MockServer, columns: Option<&str>) -> Vec<String> {
    let mut cmd = polyv(server);
    if let Some(columns) = columns {
        cmd.env("COLUMNS", columns);
    }
    let out = run(
        &mut cmd,
        &[
            "videos",
            "by-uploader",
            "--order",
            "ptime-asc",
            "--format",
            "table",
        ],
    );
    assert_status(&out, 0);
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn the_table_fits_80_and_200_columns() {
    let server = MockServer::builder()
        .dataset(terminal_dataset())
        .start()
        .unwrap();
    for (columns, expected) in [
        (80, &["VID", "PLAYS", "TITLE"][..]),
        (
            200,
            &[
                "VID",
                "UPLOADED (UTC)",
                "STATUS",
                "PLAYS",
                "CATAID",
                "UPLOADER",
                "TITLE",
            ],
        ),
    ] {
        let lines = table_at(&server, Some(&columns.to_string()));
        assert_eq!(lines.len(), 4, "{lines:#?}");
        let header: Vec<&str> = lines[0].split("  ").filter(|c| !c.is_empty()).collect();
        let header: Vec<&str> = header.iter().map(|c| c.trim()).collect();
        assert_eq!(header, expected, "{columns}: {}", lines[0]);
        for line in &lines {
            assert!(
                width(line) <= columns,
                "{columns}: {line:?} is {} wide",
                width(line)
            );
        }
        // Aligned: every title starts at the TITLE header's column, CJK or not.
        let title_at = width(&lines[0][..lines[0].find("TITLE").unwrap()]);
        for (line, title) in lines[1..].iter().zip(["高等数学", "短", "plain ascii"]) {
            let at = line
                .find(title)
                .unwrap_or_else(|| panic!("{title} in {line}"));
            assert_eq!(width(&line[..at]), title_at, "{columns}: {line}");
        }
        // Titles are cut with an ellipsis; numbers never.
        assert!(lines[1].ends_with('…'), "{columns}: {}", lines[1]);
        assert!(
            lines[2].contains(" 123456789012  "),
            "{columns}: {}",
            lines[2]
        );
    }
}

#[test]
fn the_table_to_a_pipe_is_160_columns_wide() {
    let server = MockServer::builder()
        .dataset(terminal_dataset())
        .start()
        .unwrap();
    let lines = table_at(&server, None);
    assert!(lines[0].contains("UPLOADER"), "{}", lines[0]);
    assert!(lines.iter().all(|l| width(l) <= 160), "{lines:#?}");
    assert_eq!(width(&lines[1]), 160, "the long title fills the width");
    // A COLUMNS that is not a number is ignored.
    assert_eq!(table_at(&server, Some("wide")), lines);
}

#[test]
fn negative_numbers_reach_the_range_checks() {
    for (args, needle) in [
        (
            &["videos", "by-uploader", "--page", "-1"][..],
            "-1 is not in 1..=",
        ),
        (
            &["videos", "by-uploader", "--page-size", "-5"],
            "-5 is not in 1..=1000",
        ),
        (
            &["videos", "by-uploader", "--retries", "-2"],
            "-2 is not in 0..=100",
        ),
        (
            &["videos", "by-uploader", "--timeout", "-1"],
            "positive number of seconds",
        ),
        (
            &["videos", "by-uploader", "--deadline", "-3"],
            "positive number of seconds",
        ),
        (&["videos", "by-uploader", "--page=-1"], "-1 is not in 1..="),
    ] {
        let out = run(&mut bare(), args);
        assert_status(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
}

#[test]
fn dot_user_ids_are_refused_before_any_request() {
    let server = MockServer::builder().videos(5).start().unwrap();
    for id in [".", ".."] {
        let out = run(
            polyv(&server).env("POLYV_USER_ID", id),
            &["videos", "by-uploader"],
        );
        assert_status(&out, 2);
        assert!(
            stderr(&out).contains(&format!("the user id {id:?} is a relative path segment")),
            "{}",
            stderr(&out)
        );
    }
    assert!(server.requests().is_empty());
}

#[test]
fn missing_and_empty_variables_are_named_together() {
    let out = run(&mut bare(), &["videos", "by-uploader"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).starts_with(
            "error: environment variables POLYV_USER_ID and POLYV_SECRET_KEY are not set; export them"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(bare().env("POLYV_USER_ID", ""), &["videos", "by-uploader"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).starts_with(
            "error: environment variable POLYV_SECRET_KEY is not set, and POLYV_USER_ID is set but empty; export them"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(
        bare().env("POLYV_USER_ID", "").env("POLYV_SECRET_KEY", "k"),
        &["videos", "by-uploader"],
    );
    assert!(
        stderr(&out).starts_with("error: environment variable POLYV_USER_ID is set but empty"),
        "{}",
        stderr(&out)
    );
    let out = run(bare().env("POLYV_SECRET_KEY", ""), &["sign", "a=1"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).starts_with("error: environment variable POLYV_SECRET_KEY is set but empty"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn network_errors_name_the_host_and_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(
        bare()
            .env("POLYV_USER_ID", DEMO_USER_ID)
            .env("POLYV_SECRET_KEY", DEMO_SECRET_KEY)
            .env("POLYV_BASE_URL", format!("http://127.0.0.1:{port}")),
        &[
            "videos",
            "by-uploader",
            "--retries",
            "0",
            "--email",
            "ops@example.com",
        ],
    );
    assert_status(&out, 3);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: network error (connect): 127.0.0.1:{port}: "
        )),
        "{err}"
    );
    assert!(!err.contains("ptime") && !err.contains("ops@"), "{err}");

    let slow = MockServer::builder()
        .videos(5)
        .fault(FaultRule::always(Fault::Latency(Duration::from_secs(5))))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&slow),
        &[
            "videos",
            "by-uploader",
            "--timeout",
            "0.001",
            "--retries",
            "0",
        ],
    );
    assert_status(&out, 3);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: network error (timeout): {}: no complete response within the 1ms per-attempt timeout\n",
            slow.addr()
        )),
        "{err}"
    );
    assert!(err.contains("raise --timeout"), "{err}");
    assert!(!err.contains("timeout: global"), "{err}");
}

#[test]
fn max_body_is_the_flag_the_body_limit_error_suggests() {
    let server = MockServer::builder().videos(50).start().unwrap();
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--max-body",
            "1K",
            "--retries",
            "0",
        ],
    );
    assert_status(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("1024-byte limit"), "{err}");
    assert!(err.contains("raise the limit with --max-body"), "{err}");
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--max-body",
            "1M",
            "--format",
            "jsonl",
        ],
    );
    assert_status(&out, 0);
    assert_eq!(stdout(&out).lines().count(), 20);
    for bad in ["0", "1X", "-1", ""] {
        let out = run(
            &mut polyv(&server),
            &["videos", "by-uploader", "--max-body", bad],
        );
        assert_status(&out, 2);
        assert!(
            stderr(&out).contains("--max-body"),
            "{bad}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn deadline_bounds_a_command_that_would_retry_for_minutes() {
    let server = MockServer::builder()
        .videos(5)
        .fault(FaultRule::always(Fault::QueryFailed))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--retries",
            "100",
            "--deadline",
            "0.5",
        ],
    );
    assert_status(&out, 3);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: stopped after --deadline 500ms: the command had not finished\n"),
        "{err}"
    );
    assert!(err.contains("hint: raise --deadline"), "{err}");
    let requests = server.requests().len();
    assert!(
        requests < 101,
        "{requests} requests: the deadline cut the retries short"
    );
}

#[test]
fn network_options_are_hidden_where_they_do_nothing() {
    let help = |args: &[&str]| {
        let out = run(&mut bare(), args);
        assert_status(&out, 0);
        stdout(&out)
    };
    // As the options list shows them (the --mock text mentions --base-url).
    let network = [
        "--base-url <URL>",
        "--timeout <SECS>",
        "--retries <N>",
        "--deadline <SECS>",
        "--max-body <BYTES>",
    ];
    let sign = help(&["sign", "--help"]);
    let completions = help(&["completions", "--help"]);
    let videos = help(&["videos", "by-uploader", "--help"]);
    for flag in network {
        assert!(!sign.contains(flag), "sign shows {flag}");
        assert!(!completions.contains(flag), "completions shows {flag}");
        assert!(videos.contains(flag), "videos by-uploader lacks {flag}");
    }
    assert!(sign.contains("--explain") && sign.contains("--mock"));
    assert!(!completions.contains("--mock") && !completions.contains("--verbose"));
    // Still accepted (a script that passes them everywhere keeps working).
    let out = run(
        bare().env("POLYV_SECRET_KEY", "k"),
        &["--retries", "0", "sign", "--timeout", "1", "a=1"],
    );
    assert_status(&out, 0);
}

#[cfg(feature = "mock")]
#[test]
fn mock_sign_uses_the_demo_key_and_demo_hides_what_it_ignores() {
    let params = ["format=json", "ptime=1492591990000"];
    let mock = run(&mut bare(), &[&["--mock", "sign"][..], &params].concat());
    assert_status(&mock, 0);
    let demo_key = run(
        bare().env("POLYV_SECRET_KEY", DEMO_SECRET_KEY),
        &[&["sign"][..], &params].concat(),
    );
    assert_eq!(stdout(&mock), stdout(&demo_key));
    assert_eq!(stderr(&mock), "");

    let out = run(&mut bare(), &["demo", "--help"]);
    let help = stdout(&out);
    assert!(
        !help.contains("--base-url <URL>") && !help.contains("  --mock"),
        "{help}"
    );
    assert!(
        help.contains("--email") && help.contains("--deadline"),
        "{help}"
    );
}
