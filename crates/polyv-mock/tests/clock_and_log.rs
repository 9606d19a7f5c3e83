//! Clock offset (Date header and ptime check), '+' in e-mails, and the request log.

mod common;

use common::*;
use polyv_mock::{DEMO_PLUS_EMAIL, Fault, FaultRule, MockServer};

fn date_ms(r: &Resp) -> i64 {
    let d = httpdate::parse_http_date(r.header("date").expect("Date header")).unwrap();
    d.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn every_response_has_a_date_from_the_real_clock_by_default() {
    let s = MockServer::start().unwrap();
    for t in [
        signed_target(&[]),
        "/nope".to_owned(),
        "/v2/video/x/get-by-uploader".to_owned(),
    ] {
        let r = get(s.addr(), &t);
        assert!((date_ms(&r) - now_ms()).abs() < 3_000);
    }
    assert!((s.now_ms() - now_ms()).abs() < 1_000);
}

#[test]
fn clock_offset_moves_date_and_ptime_window() {
    let offset: i64 = 10 * 60 * 1000; // server is 10 minutes ahead
    let s = MockServer::builder()
        .clock_offset_ms(offset)
        .start()
        .unwrap();
    // Signed with the local clock: too old for the server.
    let r = get(s.addr(), &signed_target(&[]));
    assert_eq!(r.error(), "ptime is too old.");
    let server_now = date_ms(&r);
    assert!(
        (server_now - (now_ms() + offset)).abs() < 3_000,
        "Date follows the offset"
    );
    // Corrected from the Date header: accepted.
    let p = server_now.to_string();
    assert_eq!(get(s.addr(), &signed_target(&[("ptime", &p)])).status, 200);
    let log = s.requests();
    assert!((log[0].server_time_ms - (now_ms() + offset)).abs() < 3_000);

    // Server 10 minutes behind: the local clock is "in the future".
    let s = MockServer::builder()
        .clock_offset_ms(-offset)
        .start()
        .unwrap();
    let r = get(s.addr(), &signed_target(&[]));
    assert_eq!(r.error(), "ptime is illegal.");
    assert!((date_ms(&r) - (now_ms() - offset)).abs() < 3_000);
    let p = date_ms(&r).to_string();
    assert_eq!(get(s.addr(), &signed_target(&[("ptime", &p)])).status, 200);
}

#[test]
fn extreme_offsets_do_not_break_the_server() {
    for off in [i64::MIN, i64::MAX] {
        let s = MockServer::builder().clock_offset_ms(off).start().unwrap();
        let r = get(s.addr(), &signed_target(&[]));
        assert_eq!(r.status, 400);
        assert!(r.header("date").is_some());
    }
}

#[test]
fn plus_in_email_must_travel_as_percent_2b() {
    let s = MockServer::builder().videos(400).start().unwrap();
    // Correct: '+' encoded as %2B, signed with the raw '+'.
    let good = signed_target(&[("email", DEMO_PLUS_EMAIL)]);
    assert!(good.contains("ops%2Bcn%40example.com"), "{good}");
    let r = get(s.addr(), &good);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert!(j["data"]["totalItems"].as_u64().unwrap() > 0);
    for v in j["data"]["contents"].as_array().unwrap() {
        assert_eq!(v["uploaderEmail"], DEMO_PLUS_EMAIL);
    }
    // A raw '+' decodes to a space: the sign (computed over '+') no longer matches.
    let raw_plus = good.replace("%2B", "+");
    assert_eq!(get(s.addr(), &raw_plus).error(), "the sign is not right.");
    // Signed over what the server decodes (a space): the sub-account is not found.
    let now = now_ms().to_string();
    let sig = sign(&[("ptime", &now), ("email", "ops cn@example.com")], KEY);
    let t =
        format!("/v2/video/{USER}/get-by-uploader?ptime={now}&email=ops+cn@example.com&sign={sig}");
    assert_eq!(get(s.addr(), &t).error(), "child user not exist.");
    // %20 and '+' are both a space.
    let t = format!(
        "/v2/video/{USER}/get-by-uploader?ptime={now}&email=ops%20cn@example.com&sign={sig}"
    );
    assert_eq!(get(s.addr(), &t).error(), "child user not exist.");
}

#[test]
fn request_log_contents() {
    let s = MockServer::builder()
        .videos(100)
        .fault(FaultRule::on_requests(Fault::QueryFailed, [3]))
        .start()
        .unwrap();
    let t1 = signed_target(&[("email", DEMO_PLUS_EMAIL), ("page", "2")]);
    let before = now_ms();
    assert_eq!(get(s.addr(), &t1).status, 200);
    assert_eq!(
        get(
            s.addr(),
            "/v2/video/nobody/get-by-uploader?a=1&a=2&b=x+y%26z"
        )
        .status,
        400
    );
    assert_eq!(get(s.addr(), &signed_target(&[])).status, 500);
    let after = now_ms();
    let log = s.requests();
    assert_eq!(log.len(), 3);

    let r = &log[0];
    assert_eq!(r.number, 1);
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, format!("/v2/video/{USER}/get-by-uploader"));
    assert_eq!(r.raw_query, t1.split_once('?').unwrap().1);
    let names: Vec<&str> = r.params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["email", "page", "ptime", "sign"]);
    assert_eq!(r.param("email"), Some(DEMO_PLUS_EMAIL));
    assert_eq!(r.param("sign").unwrap().len(), 40);
    assert!(r.server_time_ms >= before - 5 && r.server_time_ms <= after + 5);
    assert_eq!(
        (r.status, r.code, r.message.as_deref()),
        (200, Some(200), Some("success"))
    );
    assert_eq!(r.fault, None);

    let r = &log[1];
    assert_eq!(r.number, 2);
    assert_eq!(r.raw_query, "a=1&a=2&b=x+y%26z");
    assert_eq!(
        r.params,
        vec![
            ("a".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned()),
            ("b".to_owned(), "x y&z".to_owned())
        ]
    );
    assert_eq!(
        (r.status, r.code, r.message.as_deref()),
        (400, Some(400), Some("sign can not be empty."))
    );

    let r = &log[2];
    assert_eq!(r.fault, Some(Fault::QueryFailed));
    assert_eq!(
        (r.status, r.code, r.message.as_deref()),
        (500, Some(500), Some("query failed."))
    );

    let line = log[0].log_line();
    assert!(line.contains("sign="), "{line}");
    assert!(
        !line.contains(log[0].param("sign").unwrap()),
        "sign is truncated: {line}"
    );
    assert!(line.contains(&log[0].param("sign").unwrap()[..8]));
    assert!(line.contains("-> 200"));

    s.clear_requests();
    assert!(s.requests().is_empty());
    get(s.addr(), "/x");
    let log = s.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].number, 4, "numbering continues after clear");
}

#[test]
fn concurrent_requests_are_logged_in_arrival_order() {
    let s = MockServer::builder().videos(100).start().unwrap();
    let addr = s.addr();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| get(addr, &signed_target(&[])).status)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().iter().all(|&st| st == 200));
    }
    let numbers: Vec<u64> = s.requests().iter().map(|r| r.number).collect();
    assert_eq!(numbers, (1..=80).collect::<Vec<u64>>());
}

#[test]
fn works_inside_a_tokio_runtime_too() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = MockServer::builder().videos(10).start().unwrap();
        let addr = s.addr();
        let st = tokio::task::spawn_blocking(move || get(addr, &signed_target(&[])).status)
            .await
            .unwrap();
        assert_eq!(st, 200);
        drop(s); // Drop inside async context must not panic.
    });
}

#[test]
fn fixed_port() {
    // Find a free port, then ask for it explicitly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = MockServer::builder().port(port).start().unwrap();
    assert_eq!(s.base_url(), format!("http://127.0.0.1:{port}"));
    assert!(s.addr().ip().is_loopback());
    // Same port twice: an error, not a panic.
    assert!(MockServer::builder().port(port).start().is_err());
}
