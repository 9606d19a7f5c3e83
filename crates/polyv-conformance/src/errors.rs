//! Cases: documented refusals are typed and final.

use crate::*;

/// Every documented refusal comes back as its typed variant.
pub fn documented_errors_are_typed<S: Subject>() {
    let server = start(MockServer::builder().videos(50));
    let ok = |r: Result<Page<Video>, Error>| r.unwrap_or_else(|e| panic!("{e}"));
    let client: S = connect(demo_config(&server));
    ok(client.get_by_uploader(&GetByUploader::new()));

    let stranger: S = connect(config_for(&server, "nobody00", DEMO_SECRET_KEY));
    let err = stranger.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(matches!(err, Error::UserNotFound), "{err:?}");

    let wrong_key: S = connect(config_for(&server, DEMO_USER_ID, "not-the-key"));
    let err = wrong_key
        .get_by_uploader(&GetByUploader::new())
        .unwrap_err();
    assert!(matches!(err, Error::SignNotRight), "{err:?}");

    let q = GetByUploader::builder()
        .category(424_242)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = client.get_by_uploader(&q).unwrap_err();
    assert!(matches!(err, Error::CategoryNotFound), "{err:?}");

    let q = GetByUploader::builder()
        .email("nobody@example.com")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = client.get_by_uploader(&q).unwrap_err();
    assert!(matches!(err, Error::ChildUserNotFound), "{err:?}");

    for (offset, expect_too_old) in [(600_000, true), (-600_000, false)] {
        let skewed = start(MockServer::builder().videos(5).clock_offset_ms(offset));
        let client: S = connect(demo_config(&skewed).with_clock_skew_correction(false));
        let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
        if expect_too_old {
            assert!(matches!(err, Error::PtimeTooOld), "{err:?}");
        } else {
            assert!(matches!(err, Error::PtimeIllegal), "{err:?}");
        }
        assert_eq!(
            api_requests(&skewed).len(),
            1,
            "ptime errors without correction are final"
        );
    }
}

/// The documented 400s return at once: one request each.
pub fn documented_400s_are_not_retried<S: Subject>() {
    let server = start(MockServer::builder().videos(5));
    let wrong_key: S = connect(config_for(&server, DEMO_USER_ID, "not-the-key"));
    assert!(wrong_key.get_by_uploader(&GetByUploader::new()).is_err());
    assert_eq!(api_requests(&server).len(), 1);
}
