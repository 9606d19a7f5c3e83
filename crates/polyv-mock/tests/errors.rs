//! Every documented error message, the check order, and the envelope shape.

mod common;

use common::*;
use polyv_mock::{DEMO_PLUS_EMAIL, DEMO_ROOT_CATAID, MockServer};

fn server() -> MockServer {
    MockServer::builder().videos(50).start().unwrap()
}

/// A target with explicit params, signed with `secret` (sign left as computed).
fn raw(params: &[(&str, &str)]) -> String {
    format!("/v2/video/{USER}/get-by-uploader?{}", encode(params))
}

#[test]
fn published_vector_with_test_signer_and_mock_signer() {
    let p = [
        ("ptime", "1492591990000"),
        ("vid", "382839019131be68715e9455f8d0971a_3"),
        ("format", "json"),
    ];
    assert_eq!(
        sign(&p, "tIQp4ATe9Z"),
        "50BF9B165630A8047EB1D17D95A469CC51FF754E"
    );
    assert_eq!(
        polyv_mock::sign::expected_sign(&p, "tIQp4ATe9Z"),
        "50BF9B165630A8047EB1D17D95A469CC51FF754E"
    );
}

#[test]
fn sign_can_not_be_empty() {
    let s = server();
    let now = now_ms().to_string();
    for t in [
        raw(&[("ptime", &now)]),
        raw(&[("ptime", &now), ("sign", "")]),
        raw(&[]),
        format!("/v2/video/{USER}/get-by-uploader"),
    ] {
        let r = get(s.addr(), &t);
        assert_eq!(r.status, 400);
        assert_eq!(r.error(), "sign can not be empty.", "{t}");
    }
    // Checked before everything else, even an unknown user and a bad ptime.
    let r = get(s.addr(), "/v2/video/nobody/get-by-uploader?ptime=abc");
    assert_eq!(r.error(), "sign can not be empty.");
}

#[test]
fn ptime_checks() {
    let s = server();
    let bad_sign = "0000000000000000000000000000000000000000";
    let now = now_ms();
    let illegal = [
        None,
        Some("abc".to_owned()),
        Some("149259199000".to_owned()),   // 12 digits
        Some("14925919900000".to_owned()), // 14 digits
        Some("-492591990000".to_owned()),
        Some("+492591990000".to_owned()),
        Some(" 1492591990000".to_owned()),
        Some(format!("{}.5", now / 10)),
        Some((now + 181_000).to_string()), // too far ahead
    ];
    for p in illegal {
        let mut params = vec![("sign", bad_sign)];
        if let Some(p) = &p {
            params.push(("ptime", p));
        }
        let r = get(s.addr(), &raw(&params));
        assert_eq!(r.status, 400);
        assert_eq!(r.error(), "ptime is illegal.", "{p:?}");
    }
    for old in [now - 181_000, 1_492_591_990_000] {
        let r = get(
            s.addr(),
            &raw(&[("sign", bad_sign), ("ptime", &old.to_string())]),
        );
        assert_eq!(r.error(), "ptime is too old.");
    }
    // Inside the window both ways: the next check (sign) answers.
    for ok in [now - 170_000, now + 170_000] {
        let r = get(
            s.addr(),
            &raw(&[("sign", bad_sign), ("ptime", &ok.to_string())]),
        );
        assert_eq!(r.error(), "the sign is not right.");
        // and correctly signed it succeeds
        let r = get(s.addr(), &signed_target(&[("ptime", &ok.to_string())]));
        assert_eq!(r.status, 200);
    }
    // ptime is checked before the user.
    let r = get(
        s.addr(),
        &format!(
            "/v2/video/nobody/get-by-uploader?sign=X&ptime={}",
            now - 200_000
        ),
    );
    assert_eq!(r.error(), "ptime is too old.");
}

#[test]
fn unknown_user() {
    let s = server();
    for user in ["nobody", "", "demo0000a", "DEMO0000A1", "demo0000a1%20"] {
        let t = signed_target_for(user, KEY, &[]);
        let r = get(s.addr(), &t);
        assert_eq!(r.status, 400, "{t}");
        assert_eq!(r.error(), "Could not find user by userid.", "{t}");
    }
    // Percent-encoded path segment is decoded.
    let t = signed_target_for("demo%30000a1", KEY, &[]);
    assert_eq!(get(s.addr(), &t).status, 200);
    // The user is checked before the sign.
    let r = get(
        s.addr(),
        &format!("/v2/video/nobody/get-by-uploader?sign=X&ptime={}", now_ms()),
    );
    assert_eq!(r.error(), "Could not find user by userid.");
}

#[test]
fn sign_not_right() {
    let s = server();
    let now = now_ms().to_string();
    let good = sign(&[("ptime", &now)], KEY);
    let cases = [
        sign(&[("ptime", &now)], "wrong-key"),
        good.to_lowercase(),
        good[..39].to_owned(),
        sign(&[("ptime", &now), ("page", "2")], KEY), // signed a param that was not sent
        "not-a-sign".to_owned(),
    ];
    for c in cases {
        let r = get(s.addr(), &raw(&[("ptime", &now), ("sign", &c)]));
        assert_eq!(r.status, 400);
        assert_eq!(r.error(), "the sign is not right.", "{c}");
    }
    assert_eq!(
        get(s.addr(), &raw(&[("ptime", &now), ("sign", &good)])).status,
        200
    );
    // A param sent but not signed.
    let r = get(
        s.addr(),
        &raw(&[("ptime", &now), ("page", "2"), ("sign", &good)]),
    );
    assert_eq!(r.error(), "the sign is not right.");
    // Empty params are left out of the signature, so sending `page=` is harmless.
    let r = get(
        s.addr(),
        &raw(&[("ptime", &now), ("page", ""), ("sign", &good)]),
    );
    assert_eq!(r.status, 200);
    // Another account's key does not sign for the demo account.
    let r = get(s.addr(), &signed_target_for(USER, "tIQp4ATe9Z", &[]));
    assert_eq!(r.error(), "the sign is not right.");
    // Sign checked before the category.
    let r = get(
        s.addr(),
        &raw(&[("ptime", &now), ("cataid", "42"), ("sign", &good)]),
    );
    assert_eq!(r.error(), "the sign is not right.");
}

#[test]
fn cata_not_exist() {
    let s = server();
    for c in [
        "42",
        "1540000000001", /* another account's */
        "abc",
        "-1",
        "18446744073709551616",
        "1539918907896.0",
    ] {
        let r = get(s.addr(), &signed_target(&[("cataid", c)]));
        assert_eq!(r.status, 400);
        assert_eq!(r.error(), "cata is not exist.", "{c}");
    }
    // Checked before the e-mail.
    let r = get(
        s.addr(),
        &signed_target(&[("cataid", "42"), ("email", "nobody@example.com")]),
    );
    assert_eq!(r.error(), "cata is not exist.");
    let ok = DEMO_ROOT_CATAID.to_string();
    assert_eq!(
        get(s.addr(), &signed_target(&[("cataid", &ok)])).status,
        200
    );
    assert_eq!(
        get(s.addr(), &signed_target(&[("cataid", "1")])).status,
        200
    );
}

#[test]
fn child_user_not_exist() {
    let s = server();
    for e in [
        "nobody@example.com",
        "editor@zzs.com", /* another account's */
        "OPS+CN@example.com",
        "ops cn@example.com",
    ] {
        let r = get(s.addr(), &signed_target(&[("email", e)]));
        assert_eq!(r.status, 400);
        assert_eq!(r.error(), "child user not exist.", "{e}");
    }
    assert_eq!(
        get(s.addr(), &signed_target(&[("email", DEMO_PLUS_EMAIL)])).status,
        200
    );
    assert_eq!(
        get(s.addr(), &signed_target(&[("email", "张老师@example.cn")])).status,
        200
    );
}

#[test]
fn illegal_integer_params() {
    let s = server();
    for name in [
        "orderType",
        "containSubCata",
        "published",
        "page",
        "pageSize",
    ] {
        for v in ["abc", "1.5", "99999999999999999999"] {
            let r = get(s.addr(), &signed_target(&[(name, v)]));
            assert_eq!(r.status, 400);
            assert_eq!(r.error(), format!("{name} is illegal."));
        }
    }
}

#[test]
fn not_found_and_method() {
    let s = server();
    for path in [
        "/",
        "/v2/video/demo0000a1/get-by-uploader/",
        "/v2/video/a/b/get-by-uploader",
        "/v2/video/demo0000a1/list",
    ] {
        let r = get(s.addr(), path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.error(), "not found.");
        assert!(r.header("date").is_some());
    }
    let r = request(s.addr(), "POST", &signed_target(&[]));
    assert_eq!(r.status, 405);
    assert_eq!(r.error(), "method not allowed.");
}

#[test]
fn error_envelope_is_exact() {
    let s = server();
    let r = get(s.addr(), &raw(&[]));
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        r#"{"code":400,"status":"error","message":"sign can not be empty.","data":""}"#
    );
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
}
