//! Cases of the VOD endpoints beyond get-by-uploader, through the generic
//! [`Subject::call`]: each shape of the wire (GET query, POST form, the
//! fixed-subset signature with the unsent `userid`) verified by the mock's
//! own code.

use polyv_core::videos::{PlayTimes, merge_play_counts};
use polyv_core::{Error, RawCall, SignedParams};
use polyv_mock::{DEMO_ENGLISH_CATAID, DEMO_USER_ID, MockServer};

use crate::{Subject, connect, demo_config, start};

fn demo_vids(server: &MockServer) -> Vec<String> {
    server
        .dataset()
        .videos
        .iter()
        .filter(|v| v.user_id == DEMO_USER_ID)
        .map(|v| v.vid.clone())
        .collect()
}

/// play-times answers in the caller's order; a long list goes in batches
/// whose answers are merged back in that order; an unknown vid is left out.
pub fn play_times_keep_the_callers_order<S: Subject>() {
    let server = start(MockServer::builder().videos(400));
    let client: S = connect(demo_config(&server));
    let mut vids = demo_vids(&server);
    assert!(vids.len() > PlayTimes::BATCH, "several batches");
    vids.reverse();
    let few = [vids[3].as_str(), "not-a-video_0", vids[0].as_str()];
    let counts = client
        .call(&PlayTimes::new(few).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = server.play_times(&few);
    assert_eq!(
        counts
            .iter()
            .map(|c| (c.vid.clone(), c.times))
            .collect::<Vec<_>>(),
        expected
    );

    server.clear_requests();
    let batches = PlayTimes::batches(&vids, true).unwrap_or_else(|e| panic!("{e}"));
    let answers: Vec<_> = batches
        .iter()
        .map(|batch| client.call(batch).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let merged = merge_play_counts(&vids, answers);
    let all: Vec<&str> = vids.iter().map(String::as_str).collect();
    assert_eq!(
        merged
            .iter()
            .map(|c| (c.vid.clone(), c.times))
            .collect::<Vec<_>>(),
        server.play_times(&all)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), batches.len());
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.status == 200 && r.param("realTime") == Some("1"))
    );
}

/// A POST form signed with a fixed subset and the unsent `userid`
/// (updateCata) passes the mock's verifier and takes effect; signed as a
/// generic call it is refused; a generic POST (addCata) passes too.
pub fn form_posts_and_fixed_subset_signatures_pass_the_mocks_verifier<S: Subject>() {
    let server = start(MockServer::builder().videos(20));
    let client: S = connect(demo_config(&server));
    let name = "新名字 A+B & C";
    let rename = RawCall::post("/v2/video/{userid}/updateCata")
        .unwrap_or_else(|e| panic!("{e}"))
        .param("cataid", DEMO_ENGLISH_CATAID.to_string())
        .param("cataname", name);
    let fixed = rename
        .clone()
        .signed(SignedParams::only_with_user_id(&["cataid", "cataname"]));
    let data = client.call(&fixed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(data, serde_json::Value::Bool(true));
    let tree = server.category_tree(DEMO_USER_ID);
    let node = tree
        .find(DEMO_ENGLISH_CATAID)
        .unwrap_or_else(|| panic!("the category is gone"));
    assert_eq!(node.name, name, "the form's `+` and `&` arrived intact");
    let logged = server.requests();
    let last = logged.last().unwrap_or_else(|| panic!("nothing logged"));
    assert!(last.form && last.method == "POST", "{last:?}");
    assert!(
        !last.params.iter().any(|(k, _)| k == "userid"),
        "userid is not sent"
    );

    let err = client.call(&rename).unwrap_err();
    assert!(matches!(err, Error::SignNotRight), "{err:?}");

    let add = RawCall::post("/v2/video/{userid}/addCata")
        .unwrap_or_else(|e| panic!("{e}"))
        .param("cataname", "新分类")
        .param("parentid", "1");
    let created = client.call(&add).unwrap_or_else(|e| panic!("{e}"));
    let cataid = created["cataid"]
        .as_u64()
        .unwrap_or_else(|| panic!("{created}"));
    assert!(server.category_tree(DEMO_USER_ID).find(cataid).is_some());
}

/// The reads: one video's detail, the account's usage, a day's view log,
/// each as the mock's account holds it.
pub fn reads_match_the_account<S: Subject>() {
    use polyv_core::account::AccountUsage;
    use polyv_core::stats::{Day, ViewLog};
    use polyv_core::videos::GetVideo;

    let server = start(MockServer::builder().videos(200));
    let client: S = connect(demo_config(&server));
    let vid = demo_vids(&server)[0].clone();
    let detail = client
        .call(&GetVideo::new(vid.clone()).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let held = server
        .video(&vid)
        .unwrap_or_else(|| panic!("{vid} is not in the mock"));
    assert_eq!(
        (detail.vid.as_str(), detail.title.as_str()),
        (vid.as_str(), held.title.as_str())
    );

    let usage = client
        .call(&AccountUsage::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = server
        .usage(DEMO_USER_ID, None)
        .unwrap_or_else(|| panic!("no usage"));
    assert_eq!(
        (usage.total_space, usage.used_space, usage.user_id.as_str()),
        (expected.total_space, expected.used_space, DEMO_USER_ID)
    );

    let day: Day = "2024-06-01".parse().unwrap_or_else(|e| panic!("{e}"));
    let rows = client
        .call(&ViewLog::new(day))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), server.view_log(DEMO_USER_ID, "20240601").len());
    let logged = server.requests();
    assert!(logged.iter().all(|r| r.status == 200), "{logged:?}");
}

/// Writes show in later reads: a new category, videos moved into it, a
/// rename, a deleted video gone from play counts, the category deleted.
pub fn writes_show_in_later_reads<S: Subject>() {
    use polyv_core::GetByUploader;
    use polyv_core::categories::{
        AddCategory, CategoryTree, DeleteCategory, MoveVideos, RenameCategory,
    };
    use polyv_core::videos::DeleteVideo;

    let server = start(MockServer::builder().videos(60));
    let client: S = connect(demo_config(&server));
    let ok = |e: Error| -> ! { panic!("{e}") };
    let created = client
        .call(&AddCategory::at_root("新分类").unwrap_or_else(|e| ok(e)))
        .unwrap_or_else(|e| ok(e));
    let vids: Vec<String> = demo_vids(&server).into_iter().take(3).collect();
    client
        .call(&MoveVideos::new(&vids, created.cataid).unwrap_or_else(|e| ok(e)))
        .unwrap_or_else(|e| ok(e));
    client
        .call(&RenameCategory::new(created.cataid, "改名 A+B").unwrap_or_else(|e| ok(e)))
        .unwrap_or_else(|e| ok(e));
    let tree = client.call(&CategoryTree::new()).unwrap_or_else(|e| ok(e));
    let node = tree
        .iter()
        .find_map(|root| root.find(created.cataid))
        .unwrap_or_else(|| panic!("the new category is not in the tree"));
    assert_eq!((node.name.as_str(), node.videos), ("改名 A+B", 3));
    let listed = client
        .walk(
            &GetByUploader::builder()
                .category(created.cataid)
                .build()
                .unwrap_or_else(|e| ok(e)),
        )
        .into_iter()
        .map(|v| v.map(|v| v.vid().to_owned()).unwrap_or_else(|e| ok(e)))
        .collect::<std::collections::HashSet<_>>();
    assert_eq!(listed, vids.iter().cloned().collect());

    client
        .call(&DeleteVideo::new(vids[0].clone()).unwrap_or_else(|e| ok(e)))
        .unwrap_or_else(|e| ok(e));
    let counts = client
        .call(&PlayTimes::new(&vids).unwrap_or_else(|e| ok(e)))
        .unwrap_or_else(|e| ok(e));
    assert!(counts.iter().all(|c| c.vid != vids[0]), "{counts:?}");
    assert_eq!(counts.len(), 2);

    client
        .call(&DeleteCategory::new(created.cataid).unwrap_or_else(|e| ok(e)))
        .unwrap_or_else(|e| ok(e));
    let tree = client.call(&CategoryTree::new()).unwrap_or_else(|e| ok(e));
    assert!(tree.iter().all(|root| root.find(created.cataid).is_none()));
}
