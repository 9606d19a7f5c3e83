//! Writes change later reads: one account, seen through every endpoint.

mod common;

use common::*;
use polyv_mock::{
    DEMO_CHILD_CATAID, DEMO_ENGLISH_CATAID, DEMO_ROOT_CATAID, Endpoint, MockServer, messages,
};

fn listing(s: &MockServer, params: &[(&str, &str)]) -> Vec<String> {
    fetch_all(s.addr(), params, 1000).0
}

fn detail(s: &MockServer, vid: &str) -> serde_json::Value {
    data(&sdk_call(s.addr(), Endpoint::GetVideoMsg, &[("vid", vid)]))[0].clone()
}

fn tree(s: &MockServer) -> serde_json::Value {
    data(&sdk_call(s.addr(), Endpoint::CataJson, &[]))[0].clone()
}

fn find(node: &serde_json::Value, id: u64) -> Option<serde_json::Value> {
    if node["cataid"].as_u64() == Some(id) {
        return Some(node.clone());
    }
    node["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|n| find(n, id))
}

/// Listed (sub-account) vids of the demo account.
fn listed(s: &MockServer, n: usize) -> Vec<String> {
    listing(s, &[]).into_iter().take(n).collect()
}

#[test]
fn a_renamed_category_shows_in_the_tree_and_in_details() {
    let s = MockServer::start().unwrap();
    let id = DEMO_CHILD_CATAID.to_string();
    let r = sdk_call(
        s.addr(),
        Endpoint::UpdateCata,
        &[("cataid", &id), ("cataname", "Mathematics 数学 ∑")],
    );
    assert_eq!(data(&r), true);
    let node = find(&tree(&s), DEMO_CHILD_CATAID).unwrap();
    assert_eq!(node["cataname"], "Mathematics 数学 ∑");
    assert!(
        node["text"]
            .as_str()
            .unwrap()
            .starts_with("Mathematics 数学 ∑ (")
    );
    assert_eq!(
        s.category_tree(USER).find(DEMO_CHILD_CATAID).unwrap().name,
        "Mathematics 数学 ∑"
    );
    // A video of that category reports the new name.
    let in_cat = listing(&s, &[("cataid", &id)]);
    let vid = in_cat.first().expect("the seeded category has videos");
    assert_eq!(detail(&s, vid)["cataname"], "Mathematics 数学 ∑");
}

#[test]
fn an_added_category_is_in_the_tree_and_can_be_listed_and_filled() {
    let s = MockServer::start().unwrap();
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::AddCata,
        &[
            ("cataname", "新课 New"),
            ("parentid", &DEMO_ROOT_CATAID.to_string()),
        ],
    ));
    let id = d["cataid"].as_u64().unwrap();
    let node = find(&tree(&s), id).unwrap();
    assert_eq!(node["cataname"], "新课 New");
    assert_eq!(node["parentid"], DEMO_ROOT_CATAID);
    assert_eq!(node["videos"], 0);
    assert!(node.get("nodes").is_none());
    let ids = id.to_string();
    // Listing it works (empty), instead of `cata is not exist.`.
    assert!(listing(&s, &[("cataid", &ids)]).is_empty());
    // A second category gets another id; a top-level one hangs under the root.
    let d2 = data(&sdk_call(
        s.addr(),
        Endpoint::AddCata,
        &[("cataname", "顶层"), ("parentid", "1")],
    ));
    let id2 = d2["cataid"].as_u64().unwrap();
    assert_ne!(id, id2);
    assert_eq!(d2["catatree"], format!("1,{id2}"));
    // Move three videos in: listings, details, the tree's counts follow.
    let vids = listed(&s, 3);
    let r = sdk_call(
        s.addr(),
        Endpoint::ChangeCata,
        &[("vids", &vids.join(",")), ("cataid", &ids)],
    );
    assert_eq!(data(&r), true);
    let mut got = listing(&s, &[("cataid", &ids)]);
    got.sort();
    let mut want = vids.clone();
    want.sort();
    assert_eq!(got, want);
    for vid in &vids {
        assert_eq!(detail(&s, vid)["cataid"].as_u64(), Some(id));
        assert_eq!(detail(&s, vid)["cataname"], "新课 New");
    }
    assert_eq!(find(&tree(&s), id).unwrap()["videos"], 3);
    // The parent's subtree listing includes them.
    let sub = listing(
        &s,
        &[
            ("cataid", &DEMO_ROOT_CATAID.to_string()),
            ("containSubCata", "1"),
        ],
    );
    assert!(vids.iter().all(|v| sub.contains(v)));
}

#[test]
fn a_moved_video_lists_under_its_new_category_only() {
    let s = MockServer::start().unwrap();
    let target = DEMO_ENGLISH_CATAID.to_string();
    let vid = listing(&s, &[])
        .into_iter()
        .find(|v| s.video(v).unwrap().cataid != DEMO_ENGLISH_CATAID)
        .unwrap();
    let old = s.video(&vid).unwrap().cataid.to_string();
    assert!(listing(&s, &[("cataid", &old)]).contains(&vid));
    let r = sdk_call(
        s.addr(),
        Endpoint::ChangeCata,
        &[("vids", &vid), ("cataid", &target)],
    );
    assert_eq!(data(&r), true);
    assert!(listing(&s, &[("cataid", &target)]).contains(&vid));
    assert!(!listing(&s, &[("cataid", &old)]).contains(&vid));
    assert_eq!(
        detail(&s, &vid)["cataid"].as_u64(),
        Some(DEMO_ENGLISH_CATAID)
    );
    assert_eq!(s.video(&vid).unwrap().cataid, DEMO_ENGLISH_CATAID);
}

#[test]
fn deleted_videos_disappear_everywhere() {
    let s = MockServer::start().unwrap();
    let before = listing(&s, &[]);
    let vids: Vec<String> = before.iter().take(4).cloned().collect();
    let r = sdk_call(s.addr(), Endpoint::DelVideo, &[("vid", &vids[0])]);
    assert_eq!(data(&r), "删除成功.");
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideos,
        &[("userId", USER), ("vids", &vids[1..3].join(","))],
    );
    assert_eq!(data(&r), "");
    let after = listing(&s, &[]);
    assert_eq!(after.len(), before.len() - 3);
    for vid in &vids[..3] {
        assert!(!after.contains(vid));
        let r = sdk_call(s.addr(), Endpoint::GetVideoMsg, &[("vid", vid)]);
        assert_eq!(r.error(), messages::NO_VIDEO);
        assert!(s.video(vid).is_none());
    }
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::PlayTimes,
        &[("vids", &vids.join(","))],
    ));
    let left: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["vid"].as_str().unwrap())
        .collect();
    assert_eq!(left, vec![vids[3].as_str()]);
    // main counts one video fewer per deletion.
    let d = data(&sdk_call(s.addr(), Endpoint::Main, &[]));
    let own = s
        .dataset()
        .videos
        .iter()
        .filter(|v| v.user_id == USER)
        .count();
    assert_eq!(d["videoCount"].as_u64(), Some(own as u64));
}

#[test]
fn video_info_changes_listings_and_details() {
    let s = MockServer::start().unwrap();
    let vid = listed(&s, 1).remove(0);
    let r = sdk_call(
        s.addr(),
        Endpoint::VideoInfo,
        &[
            ("vid", &vid),
            ("title", "Title+1 标题"),
            ("tag", "a,b"),
            ("describ", "line 1\nline 2"),
        ],
    );
    data(&r);
    let d = detail(&s, &vid);
    assert_eq!(d["title"], "Title+1 标题");
    assert_eq!(d["tag"], "a,b");
    assert_eq!(d["context"], "line 1\nline 2");
    let page = get(s.addr(), &signed_target(&[("pageSize", "1000")])).json();
    let listed = page["data"]["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vid"] == vid.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["title"], "Title+1 标题");
    assert_eq!(listed["tag"], "a,b");
    assert_eq!(listed["context"], "line 1\nline 2");
    // Only the sent fields change.
    let r = sdk_call(
        s.addr(),
        Endpoint::VideoInfo,
        &[("vid", &vid), ("tag", "c")],
    );
    data(&r);
    let d = detail(&s, &vid);
    assert_eq!(
        (d["title"].as_str(), d["tag"].as_str()),
        (Some("Title+1 标题"), Some("c"))
    );
}

#[test]
fn a_deleted_category_takes_its_subtree_and_leaves_its_videos_in_the_default() {
    let s = MockServer::start().unwrap();
    let root = DEMO_ROOT_CATAID.to_string();
    let moved = listing(&s, &[("cataid", &root), ("containSubCata", "1")]);
    assert!(!moved.is_empty());
    let r = sdk_call(s.addr(), Endpoint::DeleteCata, &[("cataid", &root)]);
    assert_eq!(data(&r), true);
    let t = tree(&s);
    for id in [DEMO_ROOT_CATAID, DEMO_CHILD_CATAID, DEMO_ENGLISH_CATAID] {
        assert!(find(&t, id).is_none(), "{id}");
    }
    let r = get(s.addr(), &signed_target(&[("cataid", &root)]));
    assert_eq!(r.error(), messages::NO_CATA);
    let default = listing(&s, &[("cataid", "1")]);
    assert!(moved.iter().all(|v| default.contains(v)));
    assert_eq!(detail(&s, &moved[0])["cataid"], 1);
}

#[test]
fn a_failed_write_changes_nothing() {
    let s = MockServer::start().unwrap();
    let before = s.dataset();
    let vid = listed(&s, 1).remove(0);
    let r = sdk_call(
        s.addr(),
        Endpoint::ChangeCata,
        &[("vids", &format!("{vid},nope_x")), ("cataid", "1")],
    );
    assert_eq!(r.error(), messages::NO_VIDEO);
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideos,
        &[("userId", USER), ("vids", &format!("{vid},nope_x"))],
    );
    assert_eq!(r.error(), messages::NO_VIDEO);
    assert_eq!(s.dataset(), before);
}
