//! Pagination boundaries: 0, 1, 20, 21 and 1000 items; pageSize handling.

mod common;

use common::*;
use polyv_mock::{Dataset, MockServer};

const EMAIL: &str = "ops+cn@example.com";

fn server_with(n: usize) -> MockServer {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(USER, EMAIL, 1, n);
    // Noise in another sub-account that the e-mail filter must drop.
    ds.add_videos(USER, "test1@zzs.com", 1, 7);
    MockServer::builder().dataset(ds).start().unwrap()
}

fn page(s: &MockServer, extra: &[(&str, &str)]) -> serde_json::Value {
    let mut p = vec![("email", EMAIL)];
    p.extend_from_slice(extra);
    let r = get(s.addr(), &signed_target(&p));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn len(j: &serde_json::Value) -> usize {
    j["data"]["contents"].as_array().unwrap().len()
}

#[test]
fn boundaries_with_default_page_size() {
    for (n, pages) in [(0usize, 1usize), (1, 1), (20, 1), (21, 2), (1000, 50)] {
        let s = server_with(n);
        let mut seen = Vec::new();
        for p in 1..=pages {
            let ps = p.to_string();
            let j = page(&s, &[("page", &ps), ("orderType", "1")]);
            assert_eq!(j["data"]["pageSize"], 20);
            assert_eq!(j["data"]["pageNumber"].as_u64().unwrap() as usize, p);
            assert_eq!(j["data"]["totalItems"].as_u64().unwrap() as usize, n);
            let want = if p < pages { 20 } else { n - 20 * (pages - 1) };
            assert_eq!(len(&j), want, "n={n} page={p}");
            seen.extend(
                j["data"]["contents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v["ptime"].as_i64().unwrap()),
            );
        }
        // Ascending ptime across pages, nothing lost or repeated.
        assert_eq!(seen.len(), n);
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        // Beyond the last page: empty contents, same total.
        let beyond = (pages + 1).to_string();
        let j = page(&s, &[("page", &beyond)]);
        assert_eq!(len(&j), 0);
        assert_eq!(j["data"]["totalItems"].as_u64().unwrap() as usize, n);
        assert_eq!(
            j["data"]["pageNumber"].as_u64().unwrap() as usize,
            pages + 1
        );
        let j = page(&s, &[("page", "9223372036854775807")]);
        assert_eq!(len(&j), 0);
    }
}

#[test]
fn page_size_parameter() {
    let s = server_with(1000);
    let j = page(&s, &[("pageSize", "1000")]);
    assert_eq!(j["data"]["pageSize"], 1000);
    assert_eq!(len(&j), 1000);
    let j = page(&s, &[("pageSize", "7"), ("page", "143")]);
    assert_eq!(j["data"]["pageSize"], 7);
    assert_eq!(len(&j), 1000 - 7 * 142);
    // Out of range: clamped.
    let j = page(&s, &[("pageSize", "5000")]);
    assert_eq!(j["data"]["pageSize"], 1000);
    assert_eq!(len(&j), 1000);
    for small in ["0", "-3"] {
        let j = page(&s, &[("pageSize", small)]);
        assert_eq!(j["data"]["pageSize"], 1);
        assert_eq!(len(&j), 1);
    }
    // page < 1 is page 1.
    let first = page(&s, &[]);
    for p in ["0", "-1"] {
        let j = page(&s, &[("page", p)]);
        assert_eq!(j["data"]["pageNumber"], 1);
        assert_eq!(j["data"]["contents"], first["data"]["contents"]);
    }
}

#[test]
fn server_that_ignores_page_size() {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(USER, EMAIL, 1, 45);
    let s = MockServer::builder()
        .dataset(ds)
        .ignore_page_size(true)
        .start()
        .unwrap();
    for ps in ["1000", "5", "abc"] {
        let j = page(&s, &[("pageSize", ps)]);
        assert_eq!(j["data"]["pageSize"], 20);
        assert_eq!(len(&j), 20);
    }
    let j = page(&s, &[("pageSize", "1000"), ("page", "3")]);
    assert_eq!(len(&j), 5);
    // Still signed like any other parameter.
    let now = now_ms().to_string();
    let sig = sign(&[("ptime", &now), ("email", EMAIL)], KEY);
    let t = format!(
        "/v2/video/{USER}/get-by-uploader?{}",
        encode(&[
            ("ptime", &now),
            ("email", EMAIL),
            ("pageSize", "1000"),
            ("sign", &sig)
        ])
    );
    assert_eq!(get(s.addr(), &t).error(), "the sign is not right.");
}

#[test]
fn big_catalogue_is_fast() {
    let t = std::time::Instant::now();
    let ds = Dataset::generate(3, 100_000);
    let generated = t.elapsed();
    let t = std::time::Instant::now();
    let s = MockServer::builder().dataset(ds).start().unwrap();
    let indexed = t.elapsed();
    eprintln!("generate 100k: {generated:?}, index+start: {indexed:?}");
    // Generous bounds: debug builds on a loaded 2-core box.
    assert!(generated.as_secs_f64() < 5.0);
    let root = polyv_mock::DEMO_ROOT_CATAID.to_string();
    let t = std::time::Instant::now();
    for i in 0..50 {
        let p = (i * 37 + 1).to_string();
        let r = get(
            s.addr(),
            &signed_target(&[
                ("page", &p),
                ("pageSize", "100"),
                ("cataid", &root),
                ("containSubCata", "1"),
                ("published", "1"),
                ("orderType", "4"),
            ]),
        );
        assert_eq!(r.status, 200);
    }
    eprintln!("50 pages: {:?}", t.elapsed());
    assert!(t.elapsed().as_secs_f64() < 5.0);
}
