//! The signing vector published on Polyv's API page, through the public API.

use polyv_core::{Config, Credentials, RawCall, SecretKey, canonical_string, sign};

#[test]
fn published_signing_vector() {
    let params = [
        ("ptime", "1492591990000"),
        ("vid", "382839019131be68715e9455f8d0971a_3"),
        ("format", "json"),
    ];
    assert_eq!(
        canonical_string(params),
        "format=json&ptime=1492591990000&vid=382839019131be68715e9455f8d0971a_3"
    );
    assert_eq!(
        sign(params, &SecretKey::new("tIQp4ATe9Z")).as_str(),
        "50BF9B165630A8047EB1D17D95A469CC51FF754E"
    );

    // The same vector through a prepared request.
    let config = Config::new(Credentials::new("anyuser", "tIQp4ATe9Z").unwrap());
    let call = RawCall::get("/v2/video/{userid}/x")
        .unwrap()
        .param("vid", "382839019131be68715e9455f8d0971a_3")
        .param("format", "json");
    let request = config.prepare(&call, 1_492_591_990_000).unwrap();
    assert!(
        request
            .uri()
            .query()
            .unwrap()
            .ends_with("sign=50BF9B165630A8047EB1D17D95A469CC51FF754E")
    );
}
