//! The upload flow: Polyv's `init`, `token` and URL fetch, and the OSS side
//! (multipart upload, signature V1 with the security token, callback).

mod common;

use common::*;
use polyv_mock::{Endpoint, MockServer, UPLOAD_BUCKET};

fn init(server: &MockServer, params: &[(&str, &str)]) -> serde_json::Value {
    data(&sdk_call(server.addr(), Endpoint::UploadInit, params))
}

#[test]
fn init_hands_out_a_vid_credentials_and_the_mocks_own_domain() {
    let server = MockServer::builder()
        .videos(3)
        .upload_validity_secs(120)
        .start()
        .unwrap();
    let d = init(
        &server,
        &[("title", "My talk"), ("filesize", "1000"), ("autoid", "1")],
    );
    let vid = d["vid"].as_str().unwrap();
    assert!(vid.len() > 32 && vid.contains('_'), "{vid}");
    assert_eq!(d["domain"], server.addr().to_string());
    assert_eq!(d["bucketName"], UPLOAD_BUCKET);
    assert_eq!(d["dir"], format!("polyvupload/{USER}/"));
    assert_eq!(d["validityTime"], 120);
    assert!(d["remainSpace"].as_i64().unwrap() > 0);
    for field in ["accessId", "accessKey", "token", "Expiration"] {
        assert!(!d[field].as_str().unwrap().is_empty(), "{field}: {d}");
    }
    let callback: serde_json::Value =
        serde_json::from_str(d["callback"].as_str().unwrap()).unwrap();
    assert!(callback["callbackBody"].as_str().unwrap().contains(vid));
    // Not listed before its upload completes.
    let listed = sdk_call(
        server.addr(),
        Endpoint::GetByUploader,
        &[("pageSize", "100")],
    );
    assert!(!listed.vids().iter().any(|v| v == vid));
    assert_eq!(server.initiated_vids(), [vid.to_owned()]);
    assert!(server.uploaded_videos().is_empty());

    // autoid=0 + vid: fresh credentials, same vid, no new video.
    let again = init(
        &server,
        &[("autoid", "0"), ("vid", vid), ("filesize", "1000")],
    );
    assert_eq!(again["vid"], vid);
    assert_ne!(again["accessId"], d["accessId"]);
    assert_eq!(server.initiated_vids().len(), 1);
    // An unknown vid is refused.
    let r = sdk_call(
        server.addr(),
        Endpoint::UploadInit,
        &[("autoid", "0"), ("vid", "nope_1"), ("filesize", "1")],
    );
    assert_eq!(r.status, 400);
    // Size 0: 406.
    let r = sdk_call(
        server.addr(),
        Endpoint::UploadInit,
        &[("title", "t"), ("filesize", "0")],
    );
    assert_eq!(r.json()["code"], 406);
    // A bad sign is refused like on every generic endpoint.
    let target = Endpoint::UploadInit.path(USER);
    let body = encode(&[
        ("title", "t"),
        ("filesize", "5"),
        ("ptime", &now_ms().to_string()),
        ("sign", "ABC"),
    ]);
    let r = request_with_body(server.addr(), "POST", &target, Some(FORM), body.as_bytes());
    assert_eq!(r.status, 400);
    assert_eq!(server.initiated_vids().len(), 1);
}

#[test]
fn token_hands_out_fresh_credentials_without_a_vid() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let d = data(&sdk_call(server.addr(), Endpoint::UploadToken, &[]));
    assert!(d.get("vid").is_none(), "{d}");
    assert!(d["accessId"].as_str().unwrap().starts_with("STS."));
    assert_eq!(d["domain"], server.addr().to_string());
}

#[test]
fn grab_records_the_urls_and_refuses_more_than_100() {
    let server = MockServer::builder().videos(1).start().unwrap();
    let infos = r#"[{"fileUrl":"https://example.com/a.mp4","title":"a"},{"fileUrl":"http://example.com/b.mp4"}]"#;
    let d = data(&sdk_call(
        server.addr(),
        Endpoint::GrabUpload,
        &[("uploadInfos", infos)],
    ));
    assert_eq!(d["accepted"], 2);
    assert_eq!(
        server.grab_urls(),
        ["https://example.com/a.mp4", "http://example.com/b.mp4"]
    );
    let many: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"fileUrl":"https://example.com/{i}.mp4"}}"#))
        .collect();
    let many = format!("[{}]", many.join(","));
    let r = sdk_call(
        server.addr(),
        Endpoint::GrabUpload,
        &[("uploadInfos", &many)],
    );
    assert_eq!(r.status, 400);
    let r = sdk_call(
        server.addr(),
        Endpoint::GrabUpload,
        &[("uploadInfos", r#"[{"fileUrl":"ftp://x"}]"#)],
    );
    assert_eq!(r.status, 400);
    assert_eq!(server.grab_urls().len(), 2);
}
