//! Each fault, fault selection, and the rate limit.

mod common;

use std::time::{Duration, Instant};

use common::*;
use polyv_mock::{Fault, FaultRule, MockServer, RateLimit};

fn ok_target() -> String {
    signed_target(&[("pageSize", "50")])
}

#[test]
fn latency_then_normal_answer() {
    let s = MockServer::builder()
        .fault(FaultRule::on_requests(
            Fault::Latency(Duration::from_millis(1000)),
            [1],
        ))
        .start()
        .unwrap();
    let t = Instant::now();
    let r = get(s.addr(), &ok_target());
    assert!(t.elapsed() >= Duration::from_millis(1000));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["code"], 200);
    let t = Instant::now();
    assert_eq!(get(s.addr(), &ok_target()).status, 200);
    // Only a fault-free answer comes back well inside the injected delay;
    // the log below is the exact check.
    assert!(t.elapsed() < Duration::from_millis(1000));
    let log = s.requests();
    assert_eq!(
        log[0].fault,
        Some(Fault::Latency(Duration::from_millis(1000)))
    );
    assert_eq!(log[0].code, Some(200));
    assert_eq!(log[1].fault, None);
}

#[test]
fn query_failed() {
    let s = MockServer::builder()
        .fault(FaultRule::always(Fault::QueryFailed))
        .start()
        .unwrap();
    let r = get(s.addr(), &ok_target());
    assert_eq!(r.status, 500);
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        r#"{"code":500,"status":"error","message":"query failed.","data":""}"#
    );
    assert!(r.header("date").is_some());
    let log = s.requests();
    assert_eq!(log[0].status, 500);
    assert_eq!(log[0].code, Some(500));
    assert_eq!(log[0].message.as_deref(), Some("query failed."));
}

#[test]
fn too_many_requests() {
    let s = MockServer::builder()
        .fault(FaultRule::always(Fault::TooManyRequests {
            retry_after_secs: 7,
        }))
        .start()
        .unwrap();
    let r = get(s.addr(), &ok_target());
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    assert!(!r.body.is_empty() && r.body.len() < 100);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
}

#[test]
fn bad_gateway() {
    let s = MockServer::builder()
        .fault(FaultRule::always(Fault::BadGateway))
        .start()
        .unwrap();
    let r = get(s.addr(), &ok_target());
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("502 Bad Gateway"));
}

#[test]
fn truncated_json() {
    let s = MockServer::builder()
        .fault(FaultRule::on_requests(Fault::TruncatedJson, [2]))
        .start()
        .unwrap();
    let full = get(s.addr(), &ok_target());
    let cut = get(s.addr(), &ok_target());
    assert_eq!(cut.status, 200);
    assert_eq!(cut.content_length, Some(cut.body.len()));
    assert!(cut.body.len() > 100);
    // Roughly half the normal body (the ptime differs, but not the size).
    assert!((cut.body.len() as i64 - (full.body.len() / 2) as i64).abs() < 8);
    assert!(serde_json::from_slice::<serde_json::Value>(&cut.body).is_err());
    assert!(cut.body.starts_with(b"{\"code\":200"));
    // Truncated errors too.
    let s = MockServer::builder()
        .fault(FaultRule::always(Fault::TruncatedJson))
        .start()
        .unwrap();
    let r = get(s.addr(), "/v2/video/x/get-by-uploader");
    assert_eq!(r.status, 200);
    let whole = br#"{"code":400,"status":"error","message":"sign can not be empty.","data":""}"#;
    assert_eq!(r.body, whole[..whole.len() / 2]);
    assert_eq!(s.requests()[0].code, None);
}

#[test]
fn drop_connection() {
    let s = MockServer::builder()
        .fault(FaultRule::always(Fault::DropConnection))
        .start()
        .unwrap();
    let r = get(s.addr(), &ok_target());
    assert_eq!(r.status, 200);
    let announced = r.content_length.unwrap();
    assert!(announced > 100);
    assert!(r.body.len() < announced, "{} of {announced}", r.body.len());
    assert!(!r.body.is_empty(), "part of the body arrives first");
    let log = s.requests();
    assert_eq!(log[0].fault, Some(Fault::DropConnection));
    // The server keeps serving afterwards.
    drop(s);
}

#[test]
fn rules_by_number_first_match_wins_and_every_path_counts() {
    let s = MockServer::builder()
        .fault(FaultRule::on_requests(Fault::BadGateway, [2, 4]))
        .fault(FaultRule::on_requests(Fault::QueryFailed, [4, 5]))
        .start()
        .unwrap();
    let statuses: Vec<u16> = (0..6)
        .map(|i| {
            if i == 0 {
                get(s.addr(), "/unknown").status
            } else {
                get(s.addr(), &ok_target()).status
            }
        })
        .collect();
    assert_eq!(statuses, [404, 502, 200, 502, 500, 200]);
    let numbers: Vec<u64> = s.requests().iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn rate_rule_is_deterministic() {
    let run = |seed| {
        let s = MockServer::builder()
            .fault(FaultRule::at_rate(Fault::QueryFailed, 0.3, seed))
            .start()
            .unwrap();
        (0..60)
            .map(|_| get(s.addr(), &ok_target()).status)
            .collect::<Vec<u16>>()
    };
    let a = run(11);
    assert_eq!(a, run(11));
    assert_ne!(a, run(12));
    let fails = a.iter().filter(|&&s| s == 500).count();
    assert!((5..=35).contains(&fails), "{fails}");
    assert!(a.iter().all(|&s| s == 200 || s == 500));
}

#[test]
fn rate_limit_blocks_then_recovers() {
    let s = MockServer::builder()
        .rate_limit(RateLimit {
            max_requests: 5,
            window: Duration::from_secs(10),
            block_for: Duration::from_millis(600),
        })
        .fault(FaultRule::on_requests(Fault::BadGateway, [3]))
        .start()
        .unwrap();
    let statuses: Vec<u16> = (0..8).map(|_| get(s.addr(), &ok_target()).status).collect();
    assert_eq!(statuses, [200, 200, 502, 200, 200, 403, 403, 403]);
    let r = get(s.addr(), &ok_target());
    assert_eq!(r.status, 403);
    assert_eq!(r.error(), "request too frequent, ip blocked.");
    assert_eq!(r.json()["code"], 403);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(get(s.addr(), &ok_target()).status, 200);
    let log = s.requests();
    assert_eq!(log[5].status, 403);
    assert_eq!(
        log[5].message.as_deref(),
        Some("request too frequent, ip blocked.")
    );
    assert_eq!(log[5].fault, None);
}

#[test]
fn polyv_default_rate_limit_values() {
    let d = RateLimit::polyv_default();
    assert_eq!(d.max_requests, 1500);
    assert_eq!(d.window, Duration::from_secs(10));
    assert_eq!(d.block_for, Duration::from_secs(300));
}

#[test]
fn shutdown_is_prompt_even_with_a_long_latency_in_flight() {
    let s = MockServer::builder()
        .fault(FaultRule::always(Fault::Latency(Duration::from_secs(3600))))
        .start()
        .unwrap();
    let addr = s.addr();
    let h = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut v = Vec::new();
        let _ = c.read_to_end(&mut v);
    });
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    s.shutdown();
    assert!(t.elapsed() < Duration::from_secs(3));
    h.join().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_err());
}
