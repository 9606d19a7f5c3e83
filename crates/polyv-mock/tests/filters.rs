//! Filters and orders against a brute-force reading of the data set, plus the
//! success body's exact shape.

mod common;

use common::*;
use polyv_mock::{
    DEMO_CHILD_CATAID, DEMO_LEAF_CATAID, DEMO_ROOT_CATAID, DEMO_WRAP_CATAID, Dataset, MockServer,
    Video,
};

fn expected(
    ds: &Dataset,
    email: Option<&str>,
    cata: Option<(u64, bool)>,
    published: bool,
    order: u8,
) -> Vec<String> {
    let acc = ds.account(USER).unwrap();
    let cats: Option<Vec<u64>> =
        cata.map(|(c, sub)| if sub { ds.subtree(USER, c) } else { vec![c] });
    let mut v: Vec<&Video> = ds
        .videos
        .iter()
        .filter(|v| v.user_id == USER)
        .filter(|v| acc.sub_accounts.contains(&v.uploader_email))
        .filter(|v| email.is_none_or(|e| v.uploader_email == e))
        .filter(|v| cats.as_ref().is_none_or(|c| c.contains(&v.cataid)))
        .filter(|v| !published || v.status == "60" || v.status == "61")
        .collect();
    match order {
        1 | 2 => v.sort_by(|a, b| a.ptime.cmp(&b.ptime).then(a.vid.cmp(&b.vid))),
        _ => v.sort_by(|a, b| a.times.cmp(&b.times).then(a.vid.cmp(&b.vid))),
    }
    if order == 2 || order == 4 {
        v.reverse();
    }
    v.into_iter().map(|v| v.vid.clone()).collect()
}

#[test]
fn every_filter_and_order_matches_brute_force() {
    let s = MockServer::builder().videos(3000).seed(7).start().unwrap();
    let ds = s.dataset().clone();
    let root = DEMO_ROOT_CATAID.to_string();
    let child = DEMO_CHILD_CATAID.to_string();
    let leaf = DEMO_LEAF_CATAID.to_string();
    let emails = [None, Some("ops+cn@example.com"), Some("张老师@example.cn")];
    let catas: [Option<(&str, u64, bool)>; 5] = [
        None,
        Some((&root, DEMO_ROOT_CATAID, false)),
        Some((&root, DEMO_ROOT_CATAID, true)),
        Some((&child, DEMO_CHILD_CATAID, true)),
        Some((&leaf, DEMO_LEAF_CATAID, true)),
    ];
    let mut nonempty = 0;
    for email in emails {
        for cata in catas {
            for published in [false, true] {
                for order in [None, Some(1u8), Some(2), Some(3), Some(4)] {
                    let o = order.map(|o| o.to_string());
                    let mut params: Vec<(&str, &str)> = Vec::new();
                    if let Some(e) = email {
                        params.push(("email", e));
                    }
                    if let Some((c, _, sub)) = cata {
                        params.push(("cataid", c));
                        if sub {
                            params.push(("containSubCata", "1"));
                        }
                    }
                    if published {
                        params.push(("published", "1"));
                    }
                    if let Some(o) = &o {
                        params.push(("orderType", o));
                    }
                    let want = expected(
                        &ds,
                        email,
                        cata.map(|(_, c, sub)| (c, sub)),
                        published,
                        order.unwrap_or(2),
                    );
                    let (got, total) = fetch_all(s.addr(), &params, 1000);
                    assert_eq!(total as usize, want.len());
                    assert_eq!(got, want, "{params:?}");
                    if !want.is_empty() {
                        nonempty += 1;
                    }
                }
            }
        }
    }
    assert!(nonempty > 100);
}

#[test]
fn explicit_zero_values_mean_off() {
    let s = MockServer::builder().videos(300).start().unwrap();
    let root = DEMO_ROOT_CATAID.to_string();
    let a = fetch_all(s.addr(), &[("cataid", &root)], 1000).0;
    let b = fetch_all(
        s.addr(),
        &[("cataid", &root), ("containSubCata", "0")],
        1000,
    )
    .0;
    assert_eq!(a, b);
    let c = fetch_all(s.addr(), &[("published", "0")], 1000).0;
    let d = fetch_all(s.addr(), &[], 1000).0;
    assert_eq!(c, d);
    // containSubCata without cataid is ignored.
    let e = fetch_all(s.addr(), &[("containSubCata", "1")], 1000).0;
    assert_eq!(e, d);
    // Unknown orderType values fall back to the default (ptime descending).
    let f = fetch_all(s.addr(), &[("orderType", "9")], 1000).0;
    assert_eq!(f, fetch_all(s.addr(), &[("orderType", "2")], 1000).0);
    assert_eq!(f, d);
}

#[test]
fn only_sub_accounts_videos_and_per_account() {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(USER, "test1@zzs.com", 1, 3);
    // Uploaded by the main account (not a sub-account): never listed.
    ds.add_videos(USER, "owner@example.com", 1, 2);
    // Same e-mail in another account.
    ds.accounts.push(polyv_mock::Account {
        user_id: "otheruser1".into(),
        secret_key: "k2".into(),
        sub_accounts: vec!["test1@zzs.com".into()],
    });
    ds.add_videos("otheruser1", "test1@zzs.com", 1, 4);
    let s = MockServer::builder().dataset(ds).start().unwrap();
    assert_eq!(fetch_all(s.addr(), &[], 20).1, 3);
    assert_eq!(fetch_all(s.addr(), &[("email", "test1@zzs.com")], 20).1, 3);
    let r = get(s.addr(), &signed_target_for("otheruser1", "k2", &[]));
    assert_eq!(r.json()["data"]["totalItems"], 4);
    // cataid 1 is not a category of otheruser1 (categories are per account).
    let r = get(
        s.addr(),
        &signed_target_for("otheruser1", "k2", &[("cataid", "1")]),
    );
    assert_eq!(r.error(), "cata is not exist.");
}

#[test]
fn wrap_around_category_is_distinct() {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(USER, "test1@zzs.com", 1, 2);
    ds.add_videos(USER, "test1@zzs.com", DEMO_WRAP_CATAID, 5);
    let s = MockServer::builder().dataset(ds).start().unwrap();
    let w = DEMO_WRAP_CATAID.to_string();
    let r = get(s.addr(), &signed_target(&[("cataid", &w)]));
    let j = r.json();
    assert_eq!(j["data"]["totalItems"], 5);
    assert_eq!(
        j["data"]["contents"][0]["cataid"].as_u64().unwrap(),
        DEMO_WRAP_CATAID
    );
    assert_eq!(
        get(s.addr(), &signed_target(&[("cataid", "1")])).json()["data"]["totalItems"],
        2
    );
}

#[test]
fn ties_are_broken_by_vid() {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(USER, "test1@zzs.com", 1, 6);
    for v in &mut ds.videos {
        v.ptime = 1_600_000_000_000;
        v.times = 5;
    }
    ds.videos.reverse();
    let mut sorted: Vec<String> = ds.videos.iter().map(|v| v.vid.clone()).collect();
    sorted.sort();
    let s = MockServer::builder().dataset(ds).start().unwrap();
    for o in ["1", "3"] {
        assert_eq!(fetch_all(s.addr(), &[("orderType", o)], 20).0, sorted);
    }
    let mut rev = sorted.clone();
    rev.reverse();
    for o in ["2", "4"] {
        assert_eq!(fetch_all(s.addr(), &[("orderType", o)], 20).0, rev);
    }
}

#[test]
fn success_body_has_the_documented_shape() {
    let mut ds = Dataset::empty_demo();
    let mut v = Video::new(
        USER,
        "demo0000a1d864436f410f581444542a_d",
        "ops+cn@example.com",
        DEMO_ROOT_CATAID,
    );
    v.title = "标题 🎬 \"q\"".into();
    v.context = "简介\n第二行".into();
    v.times = 12;
    v.tag = "标签,tag".into();
    v.status = "10".into();
    v.ptime = 1_540_797_491_063;
    ds.push_video(v);
    let mut v2 = Video::new(
        USER,
        "demo0000a1aaaa436f410f581444542a_d",
        "ops+cn@example.com",
        1,
    );
    v2.aac_link = Some("http://hls.videocc.net/aac/x.m4a".into());
    v2.ptime = 1_540_780_829_403;
    ds.push_video(v2);
    let s = MockServer::builder().dataset(ds).start().unwrap();
    let r = get(s.addr(), &signed_target(&[]));
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = String::from_utf8(r.body.clone()).unwrap();
    let want = concat!(
        r#"{"code":200,"status":"success","message":"success","data":{"pageSize":20,"pageNumber":1,"totalItems":2,"contents":["#,
        r#"{"vid":"demo0000a1d864436f410f581444542a_d","cataid":1539918907896,"title":"标题 🎬 \"q\"","context":"简介\n第二行","times":12,"#,
        r#""firstImage":"http://img.videocc.net/uimage/d/demo0000a1/a/demo0000a1d864436f410f581444542a_d.jpg","tag":"标签,tag","aacLink":null,"#,
        r#""status":"10","uploaderEmail":"ops+cn@example.com","ptime":1540797491063},"#,
        r#"{"vid":"demo0000a1aaaa436f410f581444542a_d","cataid":1,"title":"video demo0000a1aaaa436f410f581444542a_d","context":"","times":0,"#,
        r#""firstImage":"http://img.videocc.net/uimage/d/demo0000a1/a/demo0000a1aaaa436f410f581444542a_d.jpg","tag":"","aacLink":"http://hls.videocc.net/aac/x.m4a","#,
        r#""status":"61","uploaderEmail":"ops+cn@example.com","ptime":1540780829403}]}}"#
    );
    assert_eq!(body, want);
}

#[test]
fn generated_data_is_realistic_and_deterministic() {
    let a = Dataset::generate(1, 2000);
    assert_eq!(a, Dataset::generate(1, 2000));
    assert_ne!(a, Dataset::generate(2, 2000));
    assert_eq!(a.videos.len(), 2000);
    assert_eq!(a.accounts[0].user_id, USER);
    assert!(a.accounts.len() >= 3);
    assert!(a.accounts.iter().all(|x| x.sub_accounts.len() >= 2));
    assert!(a.accounts[0].sub_accounts.iter().any(|e| e.contains('+')));
    assert!(a.categories.iter().any(|c| c.id > u64::from(u32::MAX)));
    // depth >= 3
    assert!(a.subtree(USER, DEMO_ROOT_CATAID).len() >= 4);
    let demo: Vec<&Video> = a.videos.iter().filter(|v| v.user_id == USER).collect();
    for st in polyv_mock::STATUSES {
        assert!(demo.iter().any(|v| v.status == st), "{st}");
    }
    assert!(a.videos.iter().any(|v| v.tag.is_empty()));
    assert!(a.videos.iter().any(|v| !v.tag.is_empty()));
    assert!(a.videos.iter().any(|v| v.aac_link.is_some()));
    assert!(a.videos.iter().any(|v| v.aac_link.is_none()));
    assert!(a.videos.iter().any(|v| {
        v.title
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }));
    assert!(
        a.videos
            .iter()
            .any(|v| v.title.chars().any(|c| c as u32 >= 0x1F300))
    );
    assert!(a.videos.iter().any(|v| v.times == 0));
    assert!(a.videos.iter().any(|v| v.times > 100_000));
    let mut vids: Vec<&str> = a.videos.iter().map(|v| v.vid.as_str()).collect();
    vids.sort();
    vids.dedup();
    assert_eq!(vids.len(), 2000);
    for v in &a.videos {
        let acc = a.account(&v.user_id).unwrap();
        assert!(acc.sub_accounts.contains(&v.uploader_email));
        assert!(
            a.categories
                .iter()
                .any(|c| c.id == v.cataid && c.user_id == v.user_id)
        );
    }
}

#[test]
fn odd_hand_built_data_does_not_hang_or_panic() {
    use polyv_mock::Category;
    let mut ds = Dataset::empty_demo();
    // A cycle 10 -> 11 -> 10, a duplicate id, a dangling parent.
    for (id, parent) in [
        (10u64, Some(11u64)),
        (11, Some(10)),
        (10, None),
        (12, Some(999)),
    ] {
        ds.categories.push(Category {
            id,
            parent,
            user_id: USER.into(),
            name: "x".into(),
        });
    }
    ds.add_videos(USER, "test1@zzs.com", 10, 2);
    ds.add_videos(USER, "test1@zzs.com", 11, 3);
    ds.add_videos(USER, "test1@zzs.com", 777, 4); // category that does not exist
    ds.accounts.push(ds.accounts[0].clone()); // duplicate account
    let s = MockServer::builder().dataset(ds).start().unwrap();
    assert_eq!(fetch_all(s.addr(), &[], 20).1, 9);
    assert_eq!(fetch_all(s.addr(), &[("cataid", "10")], 20).1, 2);
    assert_eq!(
        fetch_all(s.addr(), &[("cataid", "10"), ("containSubCata", "1")], 20).1,
        5
    );
    assert_eq!(
        fetch_all(s.addr(), &[("cataid", "12"), ("containSubCata", "1")], 20).1,
        0
    );
    assert_eq!(
        get(s.addr(), &signed_target(&[("cataid", "777")])).error(),
        "cata is not exist."
    );
}
