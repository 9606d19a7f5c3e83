//! The `polyv` binary end to end, against a `polyv_mock::MockServer` started
//! by each test on loopback. Never the network.

mod common;

use common::{assert_status, bare, polyv, run, stderr, stdout};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use polyv_mock::{
    DEMO_DEFAULT_CATAID, DEMO_PLUS_EMAIL, DEMO_ROOT_CATAID, DEMO_SECRET_KEY, DEMO_SUB_ACCOUNTS,
    DEMO_USER_ID, Dataset, Fault, FaultRule, MockServer, Video,
};
use serde_json::{Value, json};

/// A mock video as the API sends it.
fn wire(v: &Video) -> Value {
    json!({
        "vid": v.vid, "cataid": v.cataid, "title": v.title, "context": v.context,
        "times": v.times, "firstImage": v.first_image, "tag": v.tag, "aacLink": v.aac_link,
        "status": v.status, "uploaderEmail": v.uploader_email, "ptime": v.ptime,
    })
}

/// The demo account's videos, oldest first, as `--order ptime-asc` lists them.
fn demo_videos_oldest_first(server: &MockServer) -> Vec<Value> {
    let dataset = server.dataset();
    let mut videos: Vec<&Video> = dataset
        .videos
        .iter()
        .filter(|v| v.user_id == DEMO_USER_ID)
        .collect();
    videos.sort_by(|a, b| (a.ptime, &a.vid).cmp(&(b.ptime, &b.vid)));
    videos.into_iter().map(wire).collect()
}

fn with_tricky_titles() -> Dataset {
    let mut ds = Dataset::generate(7, 90);
    let mut quoted = Video::new(DEMO_USER_ID, "tricky_1", DEMO_SUB_ACCOUNTS[0], 1);
    quoted.title = "Hello, \"world\"".into();
    quoted.context = "two\nlines".into();
    quoted.tag = "a,b".into();
    quoted.status = "70".into();
    quoted.ptime = 1_000_000_000_000;
    ds.push_video(quoted);
    ds
}

#[test]
fn jsonl_and_json_give_back_the_dataset() {
    let server = MockServer::builder()
        .dataset(with_tricky_titles())
        .start()
        .unwrap();
    let expected = demo_videos_oldest_first(&server);
    assert!(expected.len() > 40, "several pages of 20");

    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--all",
            "--order",
            "ptime-asc",
            "--format",
            "jsonl",
        ],
    );
    assert_status(&out, 0);
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, expected);
    assert_eq!(
        stderr(&out),
        "",
        "stderr is quiet when it is not a terminal"
    );

    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--all",
            "--order",
            "ptime-asc",
            "--format",
            "json",
        ],
    );
    assert_status(&out, 0);
    let array: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(array, expected);

    // Without --all: one page (the server's default size of 20).
    let out = run(
        &mut polyv(&server),
        &["videos", "by-uploader", "--format", "json"],
    );
    assert_status(&out, 0);
    let array: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(array.len(), 20);
}

#[test]
fn jsonl_is_the_default_when_stdout_is_not_a_terminal() {
    let server = MockServer::builder().videos(30).start().unwrap();
    let out = run(&mut polyv(&server), &["videos", "by-uploader"]);
    assert_status(&out, 0);
    for line in stdout(&out).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["vid"].is_string());
    }
}

#[test]
fn csv_has_the_header_and_quotes_per_rfc_4180() {
    let server = MockServer::builder()
        .dataset(with_tricky_titles())
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--order",
            "ptime-asc",
            "--page-size",
            "5",
            "--format",
            "csv",
        ],
    );
    assert_status(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with(
        "vid,cataid,title,context,times,firstImage,tag,aacLink,status,uploaderEmail,ptime\r\n"
    ));
    // The oldest video is the tricky one: quoted title, context and tag,
    // empty aacLink, unknown status kept as its code.
    let first = text.split("\r\n").nth(1).unwrap();
    assert!(
        first.starts_with("tricky_1,1,\"Hello, \"\"world\"\"\",\"two\nlines\",0,"),
        "{first}"
    );
    assert!(
        first.ends_with(",\"a,b\",,70,test1@zzs.com,1000000000000"),
        "{first}"
    );
    assert_eq!(text.matches("\r\n").count(), 1 + 5);
}

#[test]
fn table_has_the_columns() {
    let server = MockServer::builder()
        .dataset(with_tricky_titles())
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
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
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    for column in [
        "VID",
        "UPLOADED (UTC)",
        "STATUS",
        "PLAYS",
        "CATAID",
        "UPLOADER",
        "TITLE",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let first = lines.next().unwrap();
    assert!(first.starts_with("tricky_1 "), "{first}");
    assert!(first.contains("2001-09-09 01:46"), "{first}");
    assert!(first.contains("unknown (70)"), "{first}");
    assert!(first.contains("Hello, \"world\""), "{first}");
    assert_eq!(text.lines().count(), 1 + 20);
    for word in ["published", "encoding", "deleted"] {
        assert!(
            polyv_table_all(&server).contains(word),
            "status {word} in words"
        );
    }
}

fn polyv_table_all(server: &MockServer) -> String {
    let out = run(
        &mut polyv(server),
        &["videos", "by-uploader", "--all", "--format", "table"],
    );
    assert_status(&out, 0);
    stdout(&out)
}

#[test]
fn every_flag_maps_to_its_parameter() {
    let server = MockServer::builder().videos(200).start().unwrap();
    let root = DEMO_ROOT_CATAID.to_string();
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--email",
            DEMO_PLUS_EMAIL,
            "--cataid",
            &root,
            "--subcategories",
            "--published",
            "--order",
            "times-desc",
            "--page-size",
            "7",
            "--page",
            "2",
        ],
    );
    assert_status(&out, 0);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, format!("/v2/video/{DEMO_USER_ID}/get-by-uploader"));
    assert_eq!(r.param("email"), Some(DEMO_PLUS_EMAIL));
    assert!(r.raw_query.contains("email=ops%2Bcn%40example.com"));
    assert_eq!(r.param("cataid"), Some(root.as_str()));
    assert_eq!(r.param("containSubCata"), Some("1"));
    assert_eq!(r.param("published"), Some("1"));
    assert_eq!(r.param("orderType"), Some("4"));
    assert_eq!(r.param("pageSize"), Some("7"));
    assert_eq!(r.param("page"), Some("2"));
    assert_eq!(r.param("ptime").map(str::len), Some(13));
    assert_eq!(r.param("sign").map(str::len), Some(40));
    assert_eq!(r.code, Some(200));

    for (flag, order_type) in [
        ("ptime-asc", "1"),
        ("ptime-desc", "2"),
        ("times-asc", "3"),
        ("times-desc", "4"),
    ] {
        server.clear_requests();
        let out = run(
            &mut polyv(&server),
            &["videos", "by-uploader", "--order", flag],
        );
        assert_status(&out, 0);
        assert_eq!(server.requests()[0].param("orderType"), Some(order_type));
    }

    // No flags: none of the optional parameters is sent.
    server.clear_requests();
    let out = run(&mut polyv(&server), &["videos", "by-uploader"]);
    assert_status(&out, 0);
    let r = &server.requests()[0];
    let mut names: Vec<&str> = r.params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["ptime", "sign"]);
}

#[test]
fn all_walks_every_page_once_in_order() {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, DEMO_SUB_ACCOUNTS[0], DEMO_DEFAULT_CATAID, 250);
    let vids: Vec<String> = ds.videos.iter().map(|v| v.vid.clone()).collect();
    for fetch_ahead in [None, Some("4")] {
        let server = MockServer::builder().dataset(ds.clone()).start().unwrap();
        let mut args = vec![
            "videos",
            "by-uploader",
            "--all",
            "--page-size",
            "20",
            "--order",
            "ptime-asc",
            "--format",
            "jsonl",
        ];
        args.extend(
            fetch_ahead
                .map(|n| ["--fetch-ahead", n])
                .into_iter()
                .flatten(),
        );
        let out = run(&mut polyv(&server), &args);
        assert_status(&out, 0);
        let got: Vec<String> = stdout(&out)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["vid"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(got, vids, "--fetch-ahead {fetch_ahead:?}");
        let requests = server.requests();
        let mut pages: Vec<u32> = requests
            .iter()
            .map(|r| r.param("page").unwrap().parse().unwrap())
            .collect();
        if fetch_ahead.is_none() {
            assert!(pages.is_sorted(), "one page after the other: {pages:?}");
        }
        // Answers may arrive out of order with fetch-ahead; each page once.
        pages.sort_unstable();
        assert_eq!(
            pages,
            (1..=13).collect::<Vec<_>>(),
            "--fetch-ahead {fetch_ahead:?}"
        );
        assert!(requests.iter().all(|r| r.param("pageSize") == Some("20")));
    }
}

#[test]
fn exit_1_when_the_api_refuses() {
    let server = MockServer::builder().videos(10).start().unwrap();
    let out = run(
        polyv(&server).env("POLYV_SECRET_KEY", "NotTheDemoSecret"),
        &["videos", "by-uploader", "--all"],
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert!(err.starts_with("error: the sign is not right.\n"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert_eq!(stdout(&out), "");
    assert_eq!(server.requests().len(), 1, "a refusal is not retried");

    let out = run(
        &mut polyv(&server),
        &["videos", "by-uploader", "--email", "nobody@example.com"],
    );
    assert_status(&out, 1);
    assert!(stderr(&out).starts_with("error: child user not exist.\n"));
}

#[test]
fn exit_2_for_bad_input_before_any_request() {
    let server = MockServer::builder().videos(10).start().unwrap();
    let cases: Vec<(Command, &[&str], &str)> = vec![
        (
            {
                let mut c = polyv(&server);
                c.env("POLYV_USER_ID", "demo/../x");
                c
            },
            &["videos", "by-uploader"],
            "'/'",
        ),
        (
            {
                let mut c = polyv(&server);
                c.env_remove("POLYV_SECRET_KEY");
                c
            },
            &["videos", "by-uploader"],
            "POLYV_SECRET_KEY",
        ),
        (
            {
                let mut c = polyv(&server);
                c.env("POLYV_BASE_URL", "ftp://example.com");
                c
            },
            &["videos", "by-uploader"],
            "base URL",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--page-size", "0"],
            "--page-size",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--page-size", "1001"],
            "--page-size",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--page", "2", "--all"],
            "--all",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--fetch-ahead", "4"],
            "--all",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--all", "--fetch-ahead", "0"],
            "--fetch-ahead",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--cataid", "12x"],
            "12x",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--secret-key", "x"],
            "--secret-key",
        ),
        (
            polyv(&server),
            &["videos", "by-uploader", "--format", "xml"],
            "xml",
        ),
        (polyv(&server), &["nonsense"], "nonsense"),
    ];
    for (mut cmd, args, needle) in cases {
        let out = run(&mut cmd, args);
        assert_status(&out, 2);
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    assert!(server.requests().is_empty(), "nothing reached the mock");
}

#[test]
fn exit_3_when_retries_do_not_cure_the_server() {
    let server = MockServer::builder()
        .videos(10)
        .fault(FaultRule::always(Fault::BadGateway))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &["videos", "by-uploader", "--retries", "0"],
    );
    assert_status(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("HTTP 502"), "{err}");
    assert!(err.contains("--retries 0"), "{err}");
    assert_eq!(server.requests().len(), 1);

    server.clear_requests();
    let out = run(
        &mut polyv(&server),
        &["--retries", "2", "videos", "by-uploader"],
    );
    assert_status(&out, 3);
    assert_eq!(server.requests().len(), 3, "one attempt and two retries");

    // Nobody listening: a connect error, also 3.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(
        polyv(&server).env("POLYV_BASE_URL", format!("http://127.0.0.1:{port}")),
        &["videos", "by-uploader", "--retries", "0", "--timeout", "5"],
    );
    assert_status(&out, 3);
    assert!(stderr(&out).contains("network error"), "{}", stderr(&out));
}

#[test]
fn a_walk_that_fails_midway_keeps_what_it_wrote_and_exits_3() {
    let server = MockServer::builder()
        .videos(200)
        .fault(FaultRule::on_requests(Fault::QueryFailed, [3]))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--all",
            "--page-size",
            "20",
            "--retries",
            "0",
            "--format",
            "jsonl",
        ],
    );
    assert_status(&out, 3);
    assert_eq!(stdout(&out).lines().count(), 40, "two pages came first");
    assert!(
        stderr(&out).starts_with("error: query failed.\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_secret_never_shows_even_at_trace_level() {
    let server = MockServer::builder().videos(60).start().unwrap();
    let out = run(
        polyv(&server).env("RUST_LOG", "trace"),
        &["-vv", "videos", "by-uploader", "--all", "--format", "table"],
    );
    assert_status(&out, 0);
    assert!(!stderr(&out).is_empty(), "tracing was on");
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(DEMO_SECRET_KEY));
    }

    let secret = "Zq8Secret-NeverPrinted";
    let out = run(
        polyv(&server).env("POLYV_SECRET_KEY", secret),
        &["videos", "by-uploader", "-vv"],
    );
    assert_status(&out, 1);
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(secret), "{text}");
    }
    let out = run(
        bare()
            .env("POLYV_SECRET_KEY", secret)
            .env("RUST_LOG", "trace"),
        &["-vv", "sign", "--explain", "a=1"],
    );
    assert_status(&out, 0);
    assert!(!stdout(&out).contains(secret) && !stderr(&out).contains(secret));
    assert!(stdout(&out).contains("a=1<secret key: 22 chars>"));
}

#[test]
fn sign_matches_the_published_vector() {
    let args = [
        "sign",
        "format=json",
        "ptime=1492591990000",
        "vid=382839019131be68715e9455f8d0971a_3",
    ];
    let out = run(bare().env("POLYV_SECRET_KEY", "tIQp4ATe9Z"), &args);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out).lines().last(),
        Some("50BF9B165630A8047EB1D17D95A469CC51FF754E")
    );

    let out = run(
        bare().env("POLYV_SECRET_KEY", "tIQp4ATe9Z"),
        &[&args[..], &["--explain"]].concat(),
    );
    assert_status(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "format=json&ptime=1492591990000&vid=382839019131be68715e9455f8d0971a_3<secret key: 10 chars>",
            "50BF9B165630A8047EB1D17D95A469CC51FF754E",
        ]
    );
    assert!(!text.contains("tIQp4ATe9Z"));

    // Only the secret is needed; without it, a usage error.
    let out = run(&mut bare(), &args);
    assert_status(&out, 2);
    assert!(stderr(&out).contains("POLYV_SECRET_KEY"));
}

#[test]
fn head_closes_the_pipe_long_before_the_walk_ends() {
    let server = MockServer::builder()
        .videos(100_000)
        .fault(FaultRule::always(Fault::Latency(Duration::from_millis(20))))
        .start()
        .unwrap();
    let mut child = polyv(&server)
        .args([
            "videos",
            "by-uploader",
            "--all",
            "--format",
            "jsonl",
            "--page-size",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let first: Value = serde_json::from_str(&line).unwrap();
    assert!(first["vid"].is_string());
    drop(reader); // `head -1` exits
    let closed = Instant::now();

    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("polyv kept walking after its stdout was closed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(err, "", "a closed pipe is not an error");
    assert!(
        closed.elapsed() < Duration::from_secs(5),
        "exited {:?} after the pipe closed",
        closed.elapsed()
    );
    // About 4000 pages exist; a handful were fetched.
    let requested = server.requests().len();
    assert!(requested < 20, "{requested} pages requested");
}

#[cfg(feature = "mock")]
#[test]
fn mock_flag_and_demo_need_no_account() {
    let out = run(
        &mut bare(),
        &[
            "--mock",
            "videos",
            "by-uploader",
            "--all",
            "--format",
            "jsonl",
        ],
    );
    assert_status(&out, 0);
    let n = stdout(&out).lines().count();
    assert!(n > 300, "{n} videos from the 500-video mock's demo account");
    assert_eq!(stderr(&out), "");

    let out = run(&mut bare(), &["demo", "--format", "jsonl"]);
    assert_status(&out, 0);
    let videos: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected = Dataset::generate(1, 500)
        .videos
        .iter()
        .filter(|v| v.user_id == DEMO_USER_ID && v.uploader_email == DEMO_SUB_ACCOUNTS[0])
        .count();
    assert!(expected > 20, "the demo spans several pages");
    assert_eq!(videos.len(), expected);
    assert!(
        videos
            .iter()
            .all(|v| v["uploaderEmail"] == DEMO_SUB_ACCOUNTS[0])
    );
    assert_eq!(stderr(&out), "");

    let out = run(&mut bare(), &["demo", "--email", "nobody@example.com"]);
    assert_status(&out, 1);
    assert!(stderr(&out).starts_with("error: child user not exist.\n"));
    let listed = format!(
        "hint: the demo's sub-accounts are: {}\n",
        DEMO_SUB_ACCOUNTS.join(", ")
    );
    assert!(stderr(&out).ends_with(&listed), "{}", stderr(&out));
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&mut bare(), &["completions", shell]);
        assert_status(&out, 0);
        let text = stdout(&out);
        assert!(
            text.contains("polyv") && text.contains("by-uploader"),
            "{shell}"
        );
    }
}

#[test]
fn timeout_and_default_retries() {
    let slow = MockServer::builder()
        .videos(10)
        .fault(FaultRule::always(Fault::Latency(Duration::from_secs(3))))
        .start()
        .unwrap();
    let started = Instant::now();
    let out = run(
        &mut polyv(&slow),
        &[
            "videos",
            "by-uploader",
            "--timeout",
            "0.3",
            "--retries",
            "0",
        ],
    );
    assert_status(&out, 3);
    assert!(stderr(&out).contains("timeout"), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout applied"
    );

    let failing = MockServer::builder()
        .videos(10)
        .fault(FaultRule::always(Fault::QueryFailed))
        .start()
        .unwrap();
    let out = run(&mut polyv(&failing), &["videos", "by-uploader"]);
    assert_status(&out, 3);
    assert!(stderr(&out).starts_with("error: query failed.\n"));
    assert!(stderr(&out).contains("gave up after 4 attempts (--retries 3)"));
    assert_eq!(failing.requests().len(), 4, "3 retries by default");
}

#[test]
fn verbose_logs_to_stderr_only_when_asked() {
    let server = MockServer::builder().videos(30).start().unwrap();
    let out = run(&mut polyv(&server), &["videos", "by-uploader", "-v"]);
    assert_status(&out, 0);
    assert!(stderr(&out).contains("response"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(DEMO_SECRET_KEY));
    let out = run(&mut polyv(&server), &["videos", "by-uploader"]);
    assert_status(&out, 0);
    assert_eq!(stderr(&out), "");
}

/// The demo account with `n` videos from one sub-account, oldest first.
fn demo_with(n: usize) -> Dataset {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, DEMO_SUB_ACCOUNTS[0], DEMO_ROOT_CATAID, n);
    ds
}

fn jsonl_vids(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["vid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn exit_4_when_a_record_cannot_be_read_and_every_other_is_written() {
    let ds = demo_with(60);
    let server = MockServer::builder()
        .dataset(ds.clone())
        .fault(FaultRule::on_requests(Fault::UnreadableRecord, [2]))
        .start()
        .unwrap();
    let bad_vid = ds.videos[30].vid.clone();
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--all",
            "--page-size",
            "20",
            "--format",
            "jsonl",
        ],
    );
    assert_status(&out, 4);
    let vids = jsonl_vids(&out);
    let expected: Vec<String> = ds
        .videos
        .iter()
        .map(|v| v.vid.clone())
        .filter(|v| *v != bad_vid)
        .collect();
    assert_eq!(vids, expected, "every readable video, in order");
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains(&format!("record 10 of page 2 (vid {bad_vid})"))
            && warnings[0].contains("data.contents[10].times")
            && warnings[0].contains(r#""times":{}"#),
        "{err}"
    );
    assert!(
        err.contains(
            "error: 1 record could not be read (see the warnings above); the other 59 were written"
        ),
        "{err}"
    );

    // One page on its own: the same warning, the same status.
    let server = MockServer::builder()
        .dataset(ds)
        .fault(FaultRule::always(Fault::UnreadableRecord))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &["videos", "by-uploader", "--page", "2", "--page-size", "20"],
    );
    assert_status(&out, 4);
    assert_eq!(stdout(&out).lines().count(), 19);
    assert_eq!(
        stderr(&out)
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .count(),
        1
    );
}

#[test]
fn all_walks_oldest_first_unless_told_otherwise() {
    let server = MockServer::builder()
        .dataset(demo_with(30))
        .start()
        .unwrap();
    let out = run(&mut polyv(&server), &["videos", "by-uploader", "--all"]);
    assert_status(&out, 0);
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.param("orderType") == Some("1")),
        "{requests:?}"
    );
    server.clear_requests();
    let out = run(&mut polyv(&server), &["videos", "by-uploader"]);
    assert_status(&out, 0);
    assert_eq!(
        server.requests()[0].param("orderType"),
        None,
        "one page keeps the server's order"
    );
    server.clear_requests();
    let out = run(
        &mut polyv(&server),
        &["videos", "by-uploader", "--all", "--order", "times-desc"],
    );
    assert_status(&out, 0);
    assert_eq!(server.requests()[0].param("orderType"), Some("4"));
}

#[test]
fn a_listing_that_changes_during_the_walk_is_warned_about_once() {
    let server = MockServer::builder()
        .dataset(demo_with(100))
        .fault(FaultRule::on_requests(Fault::Upload { count: 5 }, [2]))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--all",
            "--order",
            "ptime-desc",
            "--page-size",
            "20",
            "--format",
            "jsonl",
        ],
    );
    assert_status(&out, 0);
    let vids = jsonl_vids(&out);
    let unique: std::collections::HashSet<&String> = vids.iter().collect();
    assert_eq!(unique.len(), vids.len(), "no video written twice");
    assert_eq!(vids.len(), 100);
    let err = stderr(&out);
    assert_eq!(
        err.matches("warning: the listing changed").count(),
        1,
        "{err}"
    );
    assert!(err.contains("totalItems 100 -> 105"), "{err}");
    assert!(err.contains("5 repeats dropped"), "{err}");
    assert!(err.contains("--order ptime-asc"), "{err}");
}

#[test]
fn hints_tell_the_attempts_made_and_why_they_stopped() {
    let server = MockServer::builder()
        .videos(10)
        .fault(FaultRule::always(Fault::TooManyRequests {
            retry_after_secs: 3600,
        }))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &["videos", "by-uploader", "--retries", "3"],
    );
    assert_status(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("stopped after 1 attempt: the server asked to retry after 3600 s"),
        "{err}"
    );
    assert!(!err.contains("4 attempts"), "{err}");
    assert_eq!(server.requests().len(), 1);

    let server = MockServer::builder()
        .videos(10)
        .fault(FaultRule::always(Fault::BadGateway))
        .start()
        .unwrap();
    let out = run(
        &mut polyv(&server),
        &["videos", "by-uploader", "--retries", "2"],
    );
    assert_status(&out, 3);
    assert!(
        stderr(&out).contains("gave up after 3 attempts (--retries 2)"),
        "{}",
        stderr(&out)
    );
}

/// A server that closes each kept-alive connection after one answer,
/// without saying so: 20 walks of 30 pages with `--retries 0`, sequential
/// and fetching ahead, and not one fails.
#[test]
fn stale_kept_alive_connections_do_not_fail_walks() {
    let server = MockServer::builder()
        .dataset(demo_with(600))
        .silent_close(true)
        .start()
        .unwrap();
    for fetch_ahead in ["1", "4"] {
        for run_number in 1..=20 {
            server.clear_requests();
            let out = run(
                &mut polyv(&server),
                &[
                    "videos",
                    "by-uploader",
                    "--all",
                    "--page-size",
                    "20",
                    "--retries",
                    "0",
                    "--fetch-ahead",
                    fetch_ahead,
                    "--format",
                    "jsonl",
                ],
            );
            assert_status(&out, 0);
            assert_eq!(stdout(&out).lines().count(), 600, "run {run_number}");
            assert_eq!(
                server.requests().len(),
                30,
                "run {run_number}: each page once"
            );
        }
    }
}

#[test]
fn rate_limit_url_joins_a_fleet_or_falls_back_with_a_warning() {
    let server = MockServer::builder().videos(10).start().unwrap();
    // Not a Redis URL: bad input, nothing sent, the password never shown.
    let out = run(
        &mut polyv(&server),
        &[
            "videos",
            "by-uploader",
            "--rate-limit-url",
            "http://:pw-123@127.0.0.1:1/",
        ],
    );
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains(":***@127.0.0.1:1/"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("pw-123"), "{}", stderr(&out));
    assert!(server.requests().is_empty());

    // Nothing listens there: by default the call goes ahead, paced in
    // process, with a warning even without -v.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let out = run(
        polyv(&server).env(
            "POLYV_RATE_LIMIT_URL",
            format!("redis://:pw-123@127.0.0.1:{port}/"),
        ),
        &["videos", "by-uploader"],
    );
    assert_status(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("Redis unreachable"), "{err}");
    assert!(!err.contains("pw-123"), "{err}");
    assert_eq!(server.requests().len(), 1);
}
