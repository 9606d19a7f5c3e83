//! Every endpoint's happy path, its data shape and its signature check,
//! driven by hand-signed requests (the tests' own signers).

mod common;

use common::*;
use polyv_mock::{
    DEMO_CHILD_CATAID, DEMO_LEAF_CATAID, DEMO_ROOT_CATAID, Endpoint, MockServer, messages,
};

fn demo_vids(s: &MockServer, n: usize) -> Vec<String> {
    s.dataset()
        .videos
        .iter()
        .filter(|v| v.user_id == USER)
        .take(n)
        .map(|v| v.vid.clone())
        .collect()
}

fn yesterday(s: &MockServer) -> String {
    // China day of the mock clock, minus one.
    let days = (s.now_ms() + 8 * 3_600_000).div_euclid(86_400_000) - 1;
    // civil from days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

#[test]
fn get_video_msg_is_an_array_of_one_detail() {
    let s = MockServer::start().unwrap();
    let vid = &demo_vids(&s, 1)[0];
    for method in ["GET", "POST"] {
        let d = data(&call(
            s.addr(),
            Endpoint::GetVideoMsg,
            method,
            &[("vid", vid)],
        ));
        let list = d.as_array().unwrap();
        assert_eq!(list.len(), 1);
        let v = &list[0];
        let stored = s.video(vid).unwrap();
        assert_eq!(v["vid"], vid.as_str());
        assert_eq!(v["title"], stored.title.as_str());
        assert_eq!(v["cataid"].as_u64(), Some(stored.cataid));
        assert_eq!(v["times"].as_u64(), Some(stored.times));
        assert_eq!(v["status"].as_i64(), stored.status.parse::<i64>().ok());
        let duration = v["duration"].as_str().unwrap();
        assert_eq!(duration.len(), 8, "{duration}");
        for key in [
            "tag",
            "context",
            "ptime",
            "cataname",
            "df",
            "seed",
            "keepsource",
            "playerwidth",
            "playerheight",
            "original_definition",
            "filesize",
            "source_filesize",
            "md5checksum",
            "first_image",
            "images",
            "images_b",
            "imageUrls",
            "swf_link",
            "mp4",
            "default_video",
            "previewVid",
            "mp4_1",
            "mp4_2",
            "mp4_3",
            "flv1",
            "flv2",
            "flv3",
            "hls_1",
            "hls_2",
            "hls_3",
            "hls",
            "hlsLevel",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        assert_eq!(
            v["filesize"].as_array().unwrap().len() as u64,
            v["df"].as_u64().unwrap()
        );
        assert!(v["uploader"]["email"].as_str().unwrap().contains('@'));
    }
    let r = sdk_call(
        s.addr(),
        Endpoint::GetVideoMsg,
        &[("vid", "demo0000a1nope_d")],
    );
    assert_eq!(r.error(), messages::NO_VIDEO);
    let r = sdk_call(s.addr(), Endpoint::GetVideoMsg, &[]);
    assert_eq!(r.error(), "vid is empty");
    // Another account's video is not this account's.
    let other = s
        .dataset()
        .videos
        .iter()
        .find(|v| v.user_id != USER)
        .unwrap()
        .vid
        .clone();
    let r = sdk_call(s.addr(), Endpoint::GetVideoMsg, &[("vid", &other)]);
    assert_eq!(r.error(), messages::NO_VIDEO);
}

#[test]
fn play_times_keeps_the_order_asked_and_leaves_out_unknown_vids() {
    let s = MockServer::start().unwrap();
    let vids = demo_vids(&s, 3);
    let list = format!("{},nope_x,{},{}", vids[2], vids[0], vids[1]);
    for method in ["GET", "POST"] {
        let d = data(&call(
            s.addr(),
            Endpoint::PlayTimes,
            method,
            &[("vids", &list), ("realTime", "1")],
        ));
        let got: Vec<(String, u64)> = d
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["vid"].as_str().unwrap().to_owned(),
                    e["times"].as_u64().unwrap(),
                )
            })
            .collect();
        let want = s.play_times(&[&vids[2], &vids[0], &vids[1]]);
        assert_eq!(got, want);
        assert_eq!(got.len(), 3);
    }
    let r = sdk_call(s.addr(), Endpoint::PlayTimes, &[]);
    assert_eq!(r.error(), "vids is empty");
}

#[test]
fn main_reports_space_and_traffic() {
    let s = MockServer::start().unwrap();
    let own = s
        .dataset()
        .videos
        .iter()
        .filter(|v| v.user_id == USER)
        .count() as u64;
    for method in ["POST", "GET"] {
        let d = data(&call(s.addr(), Endpoint::Main, method, &[]));
        assert_eq!(d["userId"], USER);
        assert_eq!(d["videoCount"].as_u64(), Some(own));
        assert!(d["email"].as_str().unwrap().contains('@'));
        let used = d["usedSpace"].as_u64().unwrap();
        assert!(used > 0 && used <= d["totalSpace"].as_u64().unwrap());
        assert!(d["usedFlow"].as_u64().unwrap() <= d["totalFlow"].as_u64().unwrap());
        let usage = s.usage(USER, None).unwrap();
        assert_eq!(d["usedSpace"].as_u64(), Some(usage.used_space));
        assert_eq!(d["usedFlow"].as_u64(), Some(usage.used_flow));
    }
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::Main,
        &[("date", "2025-10-01")],
    ));
    assert_eq!(
        d["usedFlow"].as_u64(),
        Some(s.usage(USER, Some("2025-10-01")).unwrap().used_flow)
    );
    let r = sdk_call(s.addr(), Endpoint::Main, &[("date", "20251001")]);
    assert_eq!(r.error(), "date is illegal.");
}

#[test]
fn cata_json_is_the_tree_from_root_1() {
    let s = MockServer::start().unwrap();
    for method in ["POST", "GET"] {
        let d = data(&call(s.addr(), Endpoint::CataJson, method, &[]));
        let root = &d.as_array().unwrap()[0];
        assert_eq!(root["cataid"], 1);
        assert_eq!(root["parentid"], 0);
        assert_eq!(root["catatree"], "1");
        assert_eq!(root["cataname"], "默认分类");
        let own = s
            .dataset()
            .videos
            .iter()
            .filter(|v| v.user_id == USER)
            .count();
        assert_eq!(root["videos"].as_u64(), Some(own as u64));
        assert_eq!(root["text"], format!("默认分类 ({own}) "));
        let top = root["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["cataid"] == DEMO_ROOT_CATAID)
            .unwrap();
        assert_eq!(top["parentid"], 1);
        assert_eq!(top["catatree"], format!("1,{DEMO_ROOT_CATAID}"));
    }
    // The sent cataid (not signed) picks a subtree; a leaf has no `nodes`.
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::CataJson,
        &[("cataid", &DEMO_LEAF_CATAID.to_string())],
    ));
    let leaf = &d[0];
    assert_eq!(leaf["cataid"], DEMO_LEAF_CATAID);
    assert!(leaf.get("nodes").is_none(), "{leaf}");
    assert_eq!(
        leaf["catatree"],
        "1,1539918907896,1539918907897,1539918907898,1539918907899"
    );
    let tree = s.category_tree(USER);
    assert_eq!(
        leaf["videos"].as_u64(),
        Some(tree.find(DEMO_LEAF_CATAID).unwrap().videos)
    );
    let r = sdk_call(s.addr(), Endpoint::CataJson, &[("cataid", "42")]);
    assert_eq!(r.error(), messages::NO_CATA);
}

#[test]
fn add_update_delete_and_change_cata_answer_their_shapes() {
    let s = MockServer::start().unwrap();
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::AddCata,
        &[
            ("cataname", "新分类"),
            ("parentid", &DEMO_CHILD_CATAID.to_string()),
        ],
    ));
    let id = d["cataid"].as_u64().unwrap();
    assert!(id > u64::from(u32::MAX));
    assert_eq!(
        d["catatree"],
        format!("1,{DEMO_ROOT_CATAID},{DEMO_CHILD_CATAID},{id}")
    );
    let id = id.to_string();

    let r = sdk_call(
        s.addr(),
        Endpoint::UpdateCata,
        &[("cataid", &id), ("cataname", "改名")],
    );
    let j = r.json();
    assert_eq!(data(&r), true);
    assert_eq!(j["message"], "");

    let vids = demo_vids(&s, 2).join(",");
    let r = sdk_call(
        s.addr(),
        Endpoint::ChangeCata,
        &[("vids", &vids), ("cataid", &id)],
    );
    assert_eq!(data(&r), true);

    let r = sdk_call(s.addr(), Endpoint::DeleteCata, &[("cataid", &id)]);
    assert_eq!(data(&r), true);

    // Errors.
    let r = sdk_call(s.addr(), Endpoint::DeleteCata, &[("cataid", &id)]);
    assert_eq!(r.error(), messages::NO_CATA);
    let r = sdk_call(s.addr(), Endpoint::DeleteCata, &[("cataid", "1")]);
    assert_eq!(r.error(), messages::DEFAULT_CATA);
    let r = sdk_call(
        s.addr(),
        Endpoint::AddCata,
        &[("cataname", "x"), ("parentid", "77")],
    );
    assert_eq!(r.error(), messages::NO_CATA);
    let r = sdk_call(s.addr(), Endpoint::AddCata, &[("parentid", "1")]);
    assert_eq!(r.error(), "cataname is empty");
    let long = "长".repeat(41);
    let r = sdk_call(
        s.addr(),
        Endpoint::AddCata,
        &[("cataname", &long), ("parentid", "1")],
    );
    assert_eq!(r.error(), messages::CATANAME_TOO_LONG);
    let r = sdk_call(
        s.addr(),
        Endpoint::UpdateCata,
        &[("cataid", "77"), ("cataname", "x")],
    );
    assert_eq!(r.error(), messages::NO_CATA);
    let r = sdk_call(
        s.addr(),
        Endpoint::ChangeCata,
        &[("vids", &vids), ("cataid", "77")],
    );
    assert_eq!(r.error(), messages::NO_CATA);
    let r = sdk_call(
        s.addr(),
        Endpoint::ChangeCata,
        &[("vids", "nope_x"), ("cataid", "1")],
    );
    assert_eq!(r.error(), messages::NO_VIDEO);
    let r = sdk_call(s.addr(), Endpoint::ChangeCata, &[("cataid", "1")]);
    assert_eq!(r.error(), "vids is empty");
}

#[test]
fn viewlog_serves_rows_of_a_past_day() {
    let s = MockServer::builder().videos(2_000).start().unwrap();
    let day = yesterday(&s);
    let want = s.view_log(USER, &day);
    assert!(!want.is_empty());
    for method in ["GET", "POST"] {
        let r = call(s.addr(), Endpoint::Viewlog, method, &[("day", &day)]);
        assert_eq!(r.json()["message"], "");
        let d = data(&r);
        let rows = d.as_array().unwrap();
        assert_eq!(rows.len(), want.len());
        let row = &rows[0];
        for key in [
            "playId",
            "userId",
            "videoId",
            "playDuration",
            "stayDuration",
            "currentTimes",
            "duration",
            "flowSize",
            "sessionId",
            "param1",
            "param2",
            "param3",
            "param4",
            "param5",
            "ipAddress",
            "country",
            "province",
            "city",
            "isp",
            "referer",
            "userAgent",
            "operatingSystem",
            "browser",
            "isMobile",
            "currentDay",
            "currentHour",
            "createdTime",
            "lastModified",
            "viewSource",
        ] {
            assert!(row.get(key).is_some(), "{key} missing in {row}");
        }
        assert_eq!(row["userId"], USER);
        assert_eq!(row["currentDay"].as_str().unwrap().replace('-', ""), day);
        assert!(row["createdTime"].is_i64());
    }
    // The unsigned filters: vid, viewerId.
    let vid = want[0].video_id.clone();
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::Viewlog,
        &[("day", &day), ("vid", &vid)],
    ));
    let rows = d.as_array().unwrap();
    assert_eq!(
        rows.len(),
        want.iter().filter(|r| r.video_id == vid).count()
    );
    assert!(rows.iter().all(|r| r["videoId"] == vid.as_str()));
    let viewer = want[0].session_id.clone();
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::Viewlog,
        &[
            ("day", &day),
            ("viewerId", &viewer),
            ("sessionId", "nobody"),
        ],
    ));
    assert!(!d.as_array().unwrap().is_empty());
    // A day after today has no rows; errors.
    let d = data(&sdk_call(
        s.addr(),
        Endpoint::Viewlog,
        &[("day", "29991231")],
    ));
    assert_eq!(d, serde_json::json!([]));
    let r = sdk_call(s.addr(), Endpoint::Viewlog, &[]);
    assert_eq!(r.error(), "day is empty");
    let r = sdk_call(s.addr(), Endpoint::Viewlog, &[("day", "2025-10-01")]);
    assert_eq!(r.error(), "day is illegal.");
}

#[test]
fn del_videos_takes_the_account_from_the_body() {
    let s = MockServer::start().unwrap();
    let vids = demo_vids(&s, 3).join(",");
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideos,
        &[("userId", USER), ("vids", &vids), ("deleteType", "2")],
    );
    assert_eq!(data(&r), "");
    // Missing userId, too many vids, unknown vid, wrong sign (no final dot).
    let r = sdk_call(s.addr(), Endpoint::DelVideos, &[("vids", "a")]);
    assert_eq!(r.error(), "userId is empty");
    let many = vec!["x"; 501].join(",");
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideos,
        &[("userId", USER), ("vids", &many)],
    );
    assert_eq!(r.error(), messages::TOO_MANY_VIDS);
    let r = sdk_call(s.addr(), Endpoint::DelVideos, &[("userId", USER)]);
    assert_eq!(r.error(), "vids is empty");
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideos,
        &[("userId", "nobody"), ("vids", "a")],
    );
    assert_eq!(r.error(), messages::NO_USER);
    let one = demo_vids(&s, 1).remove(0);
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideos,
        &[("userId", USER), ("vids", &format!("{one},nope_x"))],
    );
    assert_eq!(r.error(), messages::NO_VIDEO);
    assert!(s.video(&one).is_some(), "nothing deleted");
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideos,
        &[
            ("userId", USER),
            ("vids", &format!("{one},nope_x")),
            ("ignoreInvalidVids", "Y"),
        ],
    );
    assert_eq!(data(&r), "nope_x");
    assert!(s.video(&one).is_none());
    let ptime = now_ms().to_string();
    let body = [
        ("userId", USER),
        ("vids", "a"),
        ("ptime", ptime.as_str()),
        ("sign", "0000000000000000000000000000000000000000"),
    ];
    let r = send(s.addr(), "POST", &Endpoint::DelVideos.path(USER), &body);
    assert_eq!(r.error(), messages::BAD_SIGN_DEL_VIDEOS);
}

#[test]
fn del_video_answers_a_string() {
    let s = MockServer::start().unwrap();
    let vid = demo_vids(&s, 1).remove(0);
    let r = sdk_call(s.addr(), Endpoint::DelVideo, &[("vid", &vid)]);
    assert_eq!(data(&r), "删除成功.");
    let r = sdk_call(s.addr(), Endpoint::DelVideo, &[("vid", &vid)]);
    assert_eq!(r.error(), messages::NO_VIDEO);
    let vid = demo_vids(&s, 1).remove(0);
    let r = call(
        s.addr(),
        Endpoint::DelVideo,
        "GET",
        &[("vid", &vid), ("deleteType", "1")],
    );
    assert_eq!(data(&r), "删除成功.");
    let r = sdk_call(
        s.addr(),
        Endpoint::DelVideo,
        &[("vid", "x"), ("deleteType", "3")],
    );
    assert_eq!(r.error(), "deleteType is illegal.");
}

#[test]
fn video_info_answers_the_updated_video() {
    let s = MockServer::start().unwrap();
    let vid = demo_vids(&s, 1).remove(0);
    let r = sdk_call(
        s.addr(),
        Endpoint::VideoInfo,
        &[
            ("vid", &vid),
            ("title", "新标题 a+b"),
            ("tag", "x,y"),
            ("describ", "说明 & more"),
            ("publishUrl", "https://example.com/p?a=1&b=2"),
        ],
    );
    let d = data(&r);
    let v = &d.as_array().unwrap()[0];
    assert_eq!(v["vid"], vid.as_str());
    assert_eq!(v["title"], "新标题 a+b");
    assert_eq!(v["tag"], "x,y");
    assert_eq!(v["context"], "说明 & more");
    // video-info's entity types: numbers as strings.
    assert!(v["times"].is_string() && v["status"].is_string() && v["cataid"].is_string());
    let r = sdk_call(
        s.addr(),
        Endpoint::VideoInfo,
        &[("vid", "nope_x"), ("title", "t")],
    );
    assert_eq!(r.error(), messages::NO_VIDEO);
}

/// For each endpoint: the right sign is accepted (checked above), a wrong
/// one refused; for fixed-subset endpoints an extra unsigned parameter does
/// not change the sign, and signing every sent parameter is refused.
#[test]
fn every_endpoint_verifies_its_signing_shape() {
    let s = MockServer::builder().videos(50).start().unwrap();
    let vid = demo_vids(&s, 1).remove(0);
    let leaf = DEMO_LEAF_CATAID.to_string();
    let day = yesterday(&s);
    let cases: Vec<(Endpoint, Vec<(&str, &str)>)> = vec![
        (Endpoint::GetByUploader, vec![]),
        (Endpoint::GetVideoMsg, vec![("vid", &vid)]),
        (Endpoint::PlayTimes, vec![("vids", &vid)]),
        (Endpoint::Main, vec![]),
        (Endpoint::VideoInfo, vec![("vid", &vid), ("title", "t")]),
        (
            Endpoint::AddCata,
            vec![("cataname", "c"), ("parentid", "1")],
        ),
        (Endpoint::CataJson, vec![]),
        (
            Endpoint::UpdateCata,
            vec![("cataid", &leaf), ("cataname", "n")],
        ),
        (
            Endpoint::ChangeCata,
            vec![("cataid", &leaf), ("vids", &vid)],
        ),
        (Endpoint::Viewlog, vec![("day", &day)]),
        (Endpoint::DeleteCata, vec![("cataid", &leaf)]),
        (Endpoint::DelVideo, vec![("vid", &vid)]),
    ];
    let ptime = now_ms().to_string();
    for (endpoint, params) in cases {
        let path = endpoint.path(USER);
        let method = endpoint.sdk_method();
        let mut all = params.clone();
        all.push(("ptime", &ptime));
        // A wrong sign.
        let mut bad = all.clone();
        bad.push(("sign", "50BF9B165630A8047EB1D17D95A469CC51FF754E"));
        let r = send(s.addr(), method, &path, &bad);
        assert_eq!(r.error(), messages::BAD_SIGN, "{endpoint:?}");
        if let Some(names) = fixed_set(endpoint.name()) {
            // Signed as generic (every sent param): refused, even without extras
            // (generic never signs `userid`).
            let mut generic = all.clone();
            let g = sign(&generic, KEY);
            generic.push(("sign", &g));
            let r = send(s.addr(), method, &path, &generic);
            assert_eq!(r.error(), messages::BAD_SIGN, "{endpoint:?}");
            // An extra unsigned parameter: the fixed sign still holds.
            let mut extra = all.clone();
            extra.push(("requestId", "0123456789abcdef0123456789abcdef"));
            let f = sign_fixed(&all, names, USER, KEY);
            assert_eq!(f, sign_fixed(&extra, names, USER, KEY));
            extra.push(("sign", &f));
            let r = send(s.addr(), method, &path, &extra);
            let j = r.json();
            assert_eq!(j["code"], 200, "{endpoint:?}: {j}");
        } else {
            // Generic: an extra parameter must be signed too.
            let mut extra = all.clone();
            let g = sign(&all, KEY);
            extra.push(("requestId", "0123456789abcdef0123456789abcdef"));
            extra.push(("sign", &g));
            let r = send(s.addr(), method, &path, &extra);
            assert_eq!(r.error(), messages::BAD_SIGN, "{endpoint:?}");
        }
    }
}

#[test]
fn shared_checks_come_first_on_every_endpoint() {
    let s = MockServer::start().unwrap();
    for endpoint in Endpoint::ALL {
        let path = endpoint.path(USER);
        let method = endpoint.sdk_method();
        let r = send(s.addr(), method, &path, &[("ptime", "1")]);
        assert_eq!(r.error(), messages::SIGN_EMPTY, "{endpoint:?}");
        let r = send(s.addr(), method, &path, &[("sign", "X"), ("ptime", "1")]);
        assert_eq!(r.error(), messages::PTIME_ILLEGAL, "{endpoint:?}");
        let r = send(
            s.addr(),
            method,
            &path,
            &[("sign", "X"), ("ptime", "1000000000000"), ("userId", USER)],
        );
        assert_eq!(r.error(), messages::PTIME_OLD, "{endpoint:?}");
        if endpoint != Endpoint::DelVideos {
            let ptime = now_ms().to_string();
            let r = send(
                s.addr(),
                method,
                &endpoint.path("nobody"),
                &[("sign", "X"), ("ptime", &ptime)],
            );
            assert_eq!(r.error(), messages::NO_USER, "{endpoint:?}");
        }
    }
}
