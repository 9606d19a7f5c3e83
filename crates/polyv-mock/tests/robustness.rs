//! Hostile input never breaks the server, and the binary starts, logs and stops.

mod common;

use common::*;
use polyv_mock::MockServer;

#[test]
fn random_queries_always_get_an_answer() {
    let s = MockServer::builder().videos(200).start().unwrap();
    let mut rng = fastrand::Rng::with_seed(99);
    let pieces = [
        "sign=",
        "sign=ABC",
        "ptime=",
        "ptime=9999999999999",
        "ptime=0000000000000",
        "%",
        "%%",
        "%zz",
        "%ff%fe",
        "+",
        "&",
        "=",
        "==",
        "&&",
        "page=-9223372036854775808",
        "page=9223372036854775807",
        "pageSize=-1",
        "pageSize=18446744073709551616",
        "orderType=0",
        "cataid=",
        "cataid=-0",
        "email=%00",
        "email=%E4%B8",
        "containSubCata=1",
        "published=1",
        "%E2%80%A8",
        "a",
        "%F0%9F%8E%89",
    ];
    let now = now_ms().to_string();
    for i in 0..400 {
        let mut q = String::new();
        for _ in 0..rng.usize(0..8) {
            if !q.is_empty() && rng.bool() {
                q.push('&');
            }
            q.push_str(pieces[rng.usize(0..pieces.len())]);
        }
        // Half of them get a valid ptime and a sign over whatever they decode to.
        let target = if i % 2 == 0 {
            format!("/v2/video/{USER}/get-by-uploader?{q}")
        } else {
            let decoded: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .filter(|(k, _)| k != "ptime" && k != "sign")
                .collect();
            let mut p: Vec<(&str, &str)> = decoded
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            p.push(("ptime", &now));
            signed_target(&p)
        };
        let r = get(s.addr(), &target);
        assert!([200, 400].contains(&r.status), "{target}: {}", r.status);
        let j = r.json();
        assert!(j["code"] == 200 || j["code"] == 400, "{target}");
    }
    for path in [
        "/v2/video/%/get-by-uploader",
        "/v2/video/%ff/get-by-uploader",
        "/v2/video/%E4%B8%AD/get-by-uploader",
        "//",
        "/v2/video/",
    ] {
        let r = get(s.addr(), path);
        assert!([400, 404].contains(&r.status), "{path}");
    }
    // Still alive.
    assert_eq!(get(s.addr(), &signed_target(&[])).status, 200);
}

// The binary needs the `cli` feature (`cargo xtask test` turns it on).
#[cfg(all(unix, feature = "cli"))]
#[test]
fn binary_prints_credentials_logs_requests_and_stops_on_sigint() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_polyv-mock"))
        .args([
            "--port",
            "0",
            "--videos",
            "30",
            "--seed",
            "5",
            "--fault",
            "bad-gateway",
            "--fault-on",
            "2",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut line = String::new();
    while lines.len() < 5 {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0);
        lines.push(line.trim_end().to_owned());
    }
    let base = lines
        .iter()
        .find_map(|l| l.strip_prefix("POLYV_BASE_URL="))
        .unwrap()
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"));
    assert!(lines.contains(&format!("POLYV_USER_ID={USER}")));
    assert!(lines.contains(&format!("POLYV_SECRET_KEY={KEY}")));
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();

    let t = signed_target(&[("email", "ops+cn@example.com")]);
    assert_eq!(get(addr, &t).status, 200);
    assert_eq!(get(addr, &t).status, 502);
    let sign = form_urlencoded::parse(t.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "sign")
        .unwrap()
        .1
        .into_owned();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("#1 GET /v2/video/demo0000a1/get-by-uploader"),
        "{line}"
    );
    assert!(line.contains("email=ops+cn@example.com"), "{line}");
    assert!(line.contains(&format!("sign={}…", &sign[..8])), "{line}");
    assert!(!line.contains(&sign), "{line}");
    assert!(
        line.contains("-> 200") && line.contains("\"success\""),
        "{line}"
    );
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(
        line.contains("-> 502") && line.contains("BadGateway"),
        "{line}"
    );

    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(rest.contains("polyv-mock stopped"));
}
