//! Form bodies, methods and the request log across endpoints.

mod common;

use common::*;
use polyv_mock::{DEMO_LEAF_CATAID, Endpoint, MockServer, messages};

/// updateCata by hand: the body is built here, byte for byte.
fn update_cata_body(cataname_encoded: &str, cataname_signed: &str, ptime: &str) -> String {
    let id = DEMO_LEAF_CATAID.to_string();
    let s = sign_fixed(
        &[
            ("cataid", &id),
            ("cataname", cataname_signed),
            ("ptime", ptime),
        ],
        &["cataid", "cataname", "ptime", "userid"],
        USER,
        KEY,
    );
    format!("cataid={id}&cataname={cataname_encoded}&ptime={ptime}&sign={s}")
}

#[test]
fn form_values_are_decoded_before_the_sign_is_checked() {
    let s = MockServer::start().unwrap();
    let path = Endpoint::UpdateCata.path(USER);
    let ptime = now_ms().to_string();
    // `+` as %2B, a space as `+`, non-ASCII percent-encoded UTF-8.
    let name = "C++ 线性 代数";
    let encoded = "C%2B%2B+%E7%BA%BF%E6%80%A7+%E4%BB%A3%E6%95%B0";
    let body = update_cata_body(encoded, name, &ptime);
    let r = request_with_body(s.addr(), "POST", &path, Some(FORM), body.as_bytes());
    assert_eq!(data(&r), true);
    assert_eq!(
        s.category_tree(USER).find(DEMO_LEAF_CATAID).unwrap().name,
        name
    );
    // A raw `+` decodes to a space: the sign over `C++` no longer matches.
    let body = update_cata_body("C++", "C++", &ptime);
    let r = request_with_body(s.addr(), "POST", &path, Some(FORM), body.as_bytes());
    assert_eq!(r.error(), messages::BAD_SIGN);
    // Signed over what it decodes to (`C  `, trailing spaces kept): accepted.
    let body = update_cata_body("C++", "C  ", &ptime);
    let r = request_with_body(s.addr(), "POST", &path, Some(FORM), body.as_bytes());
    assert_eq!(data(&r), true);
    assert_eq!(
        s.category_tree(USER).find(DEMO_LEAF_CATAID).unwrap().name,
        "C  "
    );
    // The log shows decoded values, the form flag, the raw body.
    let last = s.requests().pop().unwrap();
    assert_eq!(last.method, "POST");
    assert!(last.form);
    assert_eq!(last.param("cataname"), Some("C  "));
    assert_eq!(last.raw_body, body);
    assert_eq!(last.raw_query, "");
    assert_eq!(last.endpoint, Some(Endpoint::UpdateCata));
}

#[test]
fn the_content_type_may_carry_a_charset_and_any_case() {
    let s = MockServer::start().unwrap();
    let ptime = now_ms().to_string();
    let body = update_cata_body("x", "x", &ptime);
    for ct in [
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-Urlencoded ; charset=UTF-8",
    ] {
        let r = request_with_body(
            s.addr(),
            "POST",
            &Endpoint::UpdateCata.path(USER),
            Some(ct),
            body.as_bytes(),
        );
        assert_eq!(data(&r), true, "{ct}");
    }
    // Not a form: the body is not read as parameters.
    let r = request_with_body(
        s.addr(),
        "POST",
        &Endpoint::UpdateCata.path(USER),
        Some("application/json"),
        body.as_bytes(),
    );
    assert_eq!(r.error(), messages::SIGN_EMPTY);
    let last = s.requests().pop().unwrap();
    assert!(!last.form);
    assert!(last.params.is_empty());
    assert_eq!(last.raw_body, body);
}

#[test]
fn a_post_may_carry_parameters_in_the_query_too() {
    // gitbook's viewlog: "the signed params are passed together with sign in the URL".
    let s = MockServer::start().unwrap();
    let ptime = now_ms().to_string();
    let day = "20250101";
    let sig = sign_fixed(
        &[("day", day), ("ptime", &ptime)],
        &["day", "ptime", "userid"],
        USER,
        KEY,
    );
    let target = format!(
        "{}?{}",
        Endpoint::Viewlog.path(USER),
        encode(&[("ptime", &ptime), ("sign", &sig)])
    );
    let body = encode(&[("day", day)]);
    let r = request_with_body(s.addr(), "POST", &target, Some(FORM), body.as_bytes());
    assert!(data(&r).is_array());
    let last = s.requests().pop().unwrap();
    let names: Vec<&str> = last.params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["ptime", "sign", "day"]);
}

#[test]
fn each_endpoint_refuses_the_methods_it_does_not_take() {
    let s = MockServer::start().unwrap();
    for e in Endpoint::ALL {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            let r = send(s.addr(), method, &e.path(USER), &[]);
            if e.methods().contains(&method) {
                assert_eq!(r.error(), messages::SIGN_EMPTY, "{e:?} {method}");
            } else {
                assert_eq!(r.status, 405, "{e:?} {method}");
                assert_eq!(r.error(), messages::METHOD_NOT_ALLOWED);
            }
        }
    }
    // The SDK's method is always accepted; writes that only the SDK documents stay POST only.
    for e in [
        Endpoint::AddCata,
        Endpoint::DeleteCata,
        Endpoint::ChangeCata,
        Endpoint::VideoInfo,
        Endpoint::DelVideos,
    ] {
        assert_eq!(e.methods(), ["POST"]);
    }
}

#[test]
fn the_log_records_get_and_post_alike_with_arrival_times() {
    let s = MockServer::start().unwrap();
    let before = s.now_ms();
    let vid = s
        .dataset()
        .videos
        .iter()
        .find(|v| v.user_id == USER)
        .unwrap()
        .vid
        .clone();
    data(&call(
        s.addr(),
        Endpoint::PlayTimes,
        "GET",
        &[("vids", &vid)],
    ));
    data(&call(
        s.addr(),
        Endpoint::PlayTimes,
        "POST",
        &[("vids", &vid)],
    ));
    let log = s.requests();
    assert_eq!(log.len(), 2);
    for (entry, method) in log.iter().zip(["GET", "POST"]) {
        assert_eq!(entry.method, method);
        assert_eq!(entry.endpoint, Some(Endpoint::PlayTimes));
        assert_eq!(entry.param("vids"), Some(vid.as_str()));
        assert!(entry.param("sign").is_some() && entry.param("ptime").is_some());
        assert_eq!(entry.code, Some(200));
        assert!(entry.arrived_at_ms >= before);
        assert!(entry.answered_at_ms >= entry.arrived_at_ms);
        assert_eq!(entry.server_time_ms, entry.arrived_at_ms);
    }
    assert!(!log[0].form && log[1].form);
    assert!(log[1].arrived_at_ms >= log[0].arrived_at_ms);
    let unknown = get(s.addr(), "/v2/video/x/nothing");
    assert_eq!(unknown.status, 404);
    assert_eq!(s.requests().pop().unwrap().endpoint, None);
}
