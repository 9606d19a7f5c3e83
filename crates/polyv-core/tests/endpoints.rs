//! Golden signed requests for every typed endpoint, through the public API:
//! the account and secret of Polyv's published vectors (spec A.7), at the
//! published `ptime`. Where the spec gives a sign, it is asserted literally;
//! elsewhere it is computed independently with `sign()` over the pairs the
//! spec says are signed.

use polyv_core::account::{AccountUsage, Day};
use polyv_core::categories::{
    AddCategory, CategoryTree, DeleteCategory, MoveVideos, RenameCategory,
};
use polyv_core::stats::ViewLog;
use polyv_core::videos::{DeleteMode, DeleteVideo, DeleteVideos, GetVideo, UpdateVideo};
use polyv_core::{Config, Credentials, Endpoint, FORM_CONTENT_TYPE, SecretKey, UserId, http, sign};

const USER: &str = "3828390191";
const SECRET: &str = "tIQp4ATe9Z";
const PTIME: u64 = 1_469_599_842_000;
const PTIME_TEXT: &str = "1469599842000";
const VID_A: &str = "3828390191de2b3fd3467c36187aac08_3";
const VID_B: &str = "382839019131be68715e9455f8d0971a_3";
const CATAID: u64 = 1_466_567_123_649;

fn config() -> Config {
    Config::new(Credentials::new(USER, SECRET).unwrap())
}

fn sign_of(pairs: &[(&str, &str)]) -> String {
    sign(pairs.iter().copied(), &SecretKey::new(SECRET)).to_string()
}

/// A GET: the method, the whole URL, no body.
fn assert_get<E: Endpoint>(endpoint: &E, url: &str) {
    let request = config().prepare(endpoint, PTIME).unwrap();
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.uri().to_string(), url);
    assert!(request.body().is_empty());
    assert!(request.headers().get(http::header::CONTENT_TYPE).is_none());
}

/// A form POST: the method, the whole URL (no query), the body bytes.
fn assert_post<E: Endpoint>(endpoint: &E, url: &str, body: &str) {
    let request = config().prepare(endpoint, PTIME).unwrap();
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri().to_string(), url);
    assert_eq!(request.uri().query(), None);
    assert_eq!(std::str::from_utf8(request.body()).unwrap(), body);
    assert_eq!(
        request.headers()[http::header::CONTENT_TYPE],
        FORM_CONTENT_TYPE
    );
}

#[test]
fn get_video_msg() {
    let sign = sign_of(&[("ptime", PTIME_TEXT), ("vid", VID_B)]);
    assert_get(
        &GetVideo::new(VID_B).unwrap(),
        &format!(
            "https://api.polyv.net/v2/video/{USER}/get-video-msg?ptime={PTIME_TEXT}&vid={VID_B}&sign={sign}"
        ),
    );
    assert!(GetVideo::new(VID_B).unwrap().resend_safe());
}

#[test]
fn main_usage() {
    let sign = sign_of(&[("date", "2020-10-13"), ("ptime", PTIME_TEXT)]);
    let usage = AccountUsage::on(Day::new(2020, 10, 13).unwrap());
    assert_post(
        &usage,
        &format!("https://api.polyv.net/v2/user/{USER}/main"),
        &format!("date=2020-10-13&ptime={PTIME_TEXT}&sign={sign}"),
    );
    assert!(usage.resend_safe());
    let sign = sign_of(&[("ptime", PTIME_TEXT)]);
    assert_post(
        &AccountUsage::new(),
        &format!("https://api.polyv.net/v2/user/{USER}/main"),
        &format!("ptime={PTIME_TEXT}&sign={sign}"),
    );
}

#[test]
fn del_video() {
    let sign = sign_of(&[("ptime", PTIME_TEXT), ("vid", VID_B)]);
    assert_post(
        &DeleteVideo::new(VID_B).unwrap(),
        &format!("https://api.polyv.net/v2/video/{USER}/del-video"),
        &format!("ptime={PTIME_TEXT}&vid={VID_B}&sign={sign}"),
    );
    let sign = sign_of(&[("deleteType", "2"), ("ptime", PTIME_TEXT), ("vid", VID_B)]);
    assert_post(
        &DeleteVideo::new(VID_B).unwrap().mode(DeleteMode::Permanent),
        &format!("https://api.polyv.net/v2/video/{USER}/del-video"),
        &format!("deleteType=2&ptime={PTIME_TEXT}&vid={VID_B}&sign={sign}"),
    );
}

#[test]
fn del_videos() {
    let vids = format!("{VID_A},{VID_B}");
    // The spec's vector is SDK-style, with a requestId we do not send: the
    // same rule over our pairs.
    let sign = sign_of(&[
        ("deleteType", "1"),
        ("ptime", PTIME_TEXT),
        ("userId", USER),
        ("vids", &vids),
    ]);
    let account = UserId::new(USER).unwrap();
    let delete = DeleteVideos::new(&account, [VID_A, VID_B])
        .unwrap()
        .mode(DeleteMode::RecycleBin);
    assert_post(
        &delete,
        "https://api.polyv.net/v2/video/del-videos",
        &format!(
            "deleteType=1&ptime={PTIME_TEXT}&userId={USER}&vids={VID_A}%2C{VID_B}&sign={sign}"
        ),
    );
    assert!(!delete.resend_safe());
    // The SDK's own vector holds for the same rule with its requestId.
    assert_eq!(
        sign_of(&[
            ("deleteType", "1"),
            ("ptime", PTIME_TEXT),
            ("requestId", "0123456789abcdef0123456789abcdef"),
            ("userId", USER),
            ("vids", &vids),
        ]),
        "727931A78B939DB967A5071ED448ACF3D6C61583"
    );
    let sign = sign_of(&[
        ("deleteType", "2"),
        ("ignoreInvalidVids", "Y"),
        ("ptime", PTIME_TEXT),
        ("userId", USER),
        ("vids", VID_A),
    ]);
    let delete = DeleteVideos::new(&account, [VID_A])
        .unwrap()
        .mode(DeleteMode::Permanent)
        .ignore_invalid_vids(true);
    assert_post(
        &delete,
        "https://api.polyv.net/v2/video/del-videos",
        &format!(
            "deleteType=2&ignoreInvalidVids=Y&ptime={PTIME_TEXT}&userId={USER}&vids={VID_A}&sign={sign}"
        ),
    );
    assert!(delete.resend_safe());
}

#[test]
fn video_info() {
    let update = UpdateVideo::builder(VID_B)
        .title("新 标题")
        .tags(["a", "b+c"])
        .description("简介")
        .publish_url("https://example.com/p?id=1")
        .build()
        .unwrap();
    let sign = sign_of(&[
        ("describ", "简介"),
        ("ptime", PTIME_TEXT),
        ("publishUrl", "https://example.com/p?id=1"),
        ("tag", "a,b+c"),
        ("title", "新 标题"),
        ("vid", VID_B),
    ]);
    assert_post(
        &update,
        &format!("https://api.polyv.net/v2/video/{USER}/video-info"),
        &format!(
            "describ=%E7%AE%80%E4%BB%8B&ptime={PTIME_TEXT}&publishUrl=https%3A%2F%2Fexample.com%2Fp%3Fid%3D1&tag=a%2Cb%2Bc&title=%E6%96%B0+%E6%A0%87%E9%A2%98&vid={VID_B}&sign={sign}"
        ),
    );
    assert!(update.resend_safe());
}

#[test]
fn cata_json() {
    // Derived vector (A.7): `ptime` and the unsent `userid` only.
    const SIGN: &str = "2978737EA5C53917AFBE04A8151858187F0C23C6";
    assert_eq!(sign_of(&[("ptime", PTIME_TEXT), ("userid", USER)]), SIGN);
    assert_post(
        &CategoryTree::new(),
        &format!("https://api.polyv.net/v2/video/{USER}/cataJson"),
        &format!("ptime={PTIME_TEXT}&sign={SIGN}"),
    );
    // A subtree's `cataid` is sent but not signed: the same sign.
    assert_post(
        &CategoryTree::subtree(CATAID).unwrap(),
        &format!("https://api.polyv.net/v2/video/{USER}/cataJson"),
        &format!("cataid={CATAID}&ptime={PTIME_TEXT}&sign={SIGN}"),
    );
    assert!(CategoryTree::new().resend_safe());
}

#[test]
fn add_cata() {
    let sign = sign_of(&[
        ("cataname", "分类 A"),
        ("parentid", "1"),
        ("ptime", PTIME_TEXT),
    ]);
    let add = AddCategory::at_root("分类 A").unwrap();
    assert_post(
        &add,
        &format!("https://api.polyv.net/v2/video/{USER}/addCata"),
        &format!("cataname=%E5%88%86%E7%B1%BB+A&parentid=1&ptime={PTIME_TEXT}&sign={sign}"),
    );
    assert!(!add.resend_safe());
}

#[test]
fn update_cata() {
    // Published by Polyv (A.7).
    assert_post(
        &RenameCategory::new(CATAID, "polyv").unwrap(),
        &format!("https://api.polyv.net/v2/video/{USER}/updateCata"),
        &format!(
            "cataid={CATAID}&cataname=polyv&ptime={PTIME_TEXT}&sign=DB6037A8186F71E6D992F16E1C148CF94D164C1D"
        ),
    );
    // Derived (A.7): a non-ASCII name is signed raw, sent encoded.
    let rename = RenameCategory::new(CATAID, "分类 A").unwrap();
    assert_post(
        &rename,
        &format!("https://api.polyv.net/v2/video/{USER}/updateCata"),
        &format!(
            "cataid={CATAID}&cataname=%E5%88%86%E7%B1%BB+A&ptime={PTIME_TEXT}&sign=DF3A24BA0BF137474B3A9AA19A9F95C324060524"
        ),
    );
    assert!(rename.resend_safe());
}

#[test]
fn delete_cata() {
    let delete = DeleteCategory::new(CATAID).unwrap();
    assert_post(
        &delete,
        &format!("https://api.polyv.net/v2/video/{USER}/deleteCata"),
        &format!(
            "cataid={CATAID}&ptime={PTIME_TEXT}&sign=EB9E36F247C2343C770324C804E8C52A9C944CFB"
        ),
    );
    assert!(delete.resend_safe());
}

#[test]
fn change_cata() {
    let moves = MoveVideos::new([VID_A, VID_B], CATAID).unwrap();
    assert_post(
        &moves,
        &format!("https://api.polyv.net/v2/video/{USER}/changeCata"),
        &format!(
            "cataid={CATAID}&vids={VID_A}%2C{VID_B}&ptime={PTIME_TEXT}&sign=69932E53B9135058A1C1323450ADE6525FF96C33"
        ),
    );
    assert!(moves.resend_safe());
}

#[test]
fn viewlog() {
    const SIGN: &str = "3DC04285D04E70B8063852D151A0EF421B62F6FC";
    let day: Day = "2016-07-13".parse().unwrap();
    assert_get(
        &ViewLog::new(day),
        &format!(
            "https://api.polyv.net/v2/data/{USER}/viewlog?day=20160713&ptime={PTIME_TEXT}&sign={SIGN}"
        ),
    );
    // The filters are sent but not signed: the same sign.
    let filtered = ViewLog::builder(day)
        .vid(VID_B)
        .cataid(CATAID)
        .session_id("s 1")
        .viewer_id("v+1")
        .build()
        .unwrap();
    assert_get(
        &filtered,
        &format!(
            "https://api.polyv.net/v2/data/{USER}/viewlog?cataid={CATAID}&day=20160713&sessionId=s+1&vid={VID_B}&viewerId=v%2B1&ptime={PTIME_TEXT}&sign={SIGN}"
        ),
    );
    assert!(filtered.resend_safe());
}

/// What each endpoint's `data` reads as, through `Endpoint::parse`.
#[test]
fn answers() {
    fn ok(data: &str) -> Vec<u8> {
        format!(r#"{{"code":200,"status":"success","message":"","data":{data}}}"#).into_bytes()
    }
    let video = GetVideo::new(VID_B)
        .unwrap()
        .parse(
            200,
            None,
            &ok(r#"[{"vid":"v","times":"3","filesize":[1,"2"]}]"#),
        )
        .unwrap();
    assert_eq!((video.times, video.filesize.as_slice()), (3, &[1, 2][..]));
    let tree = CategoryTree::new()
        .parse(200, None, &ok(r#"[{"cataid":1,"parentid":0,"cataname":"默认分类","nodes":[{"cataid":"1466567123649","parentid":1}]}]"#))
        .unwrap();
    assert_eq!(polyv_core::categories::walk(&tree).count(), 2);
    let new = AddCategory::at_root("a")
        .unwrap()
        .parse(
            200,
            None,
            &ok(r#"{"cataid":1539918907896,"catatree":"1,1539918907896"}"#),
        )
        .unwrap();
    assert_eq!(new.cataid, 1_539_918_907_896);
    for ack in [
        RenameCategory::new(CATAID, "a")
            .unwrap()
            .parse(200, None, &ok("true")),
        DeleteCategory::new(CATAID)
            .unwrap()
            .parse(200, None, &ok("true")),
        MoveVideos::new([VID_A], CATAID)
            .unwrap()
            .parse(200, None, &ok("true")),
    ] {
        assert!(ack.is_ok());
    }
    let refused = br#"{"code":400,"status":"error","message":"cata is not exist.","data":""}"#;
    assert!(matches!(
        DeleteCategory::new(CATAID)
            .unwrap()
            .parse(400, None, refused),
        Err(polyv_core::Error::CategoryNotFound)
    ));
    let other = br#"{"code":400,"status":"error","message":"vids is empty","data":""}"#;
    assert!(matches!(
        MoveVideos::new([VID_A], CATAID).unwrap().parse(400, None, other),
        Err(polyv_core::Error::Api { code: 400, message }) if message == "vids is empty"
    ));
    let usage = AccountUsage::new()
        .parse(200, None, &ok(r#"{"totalFlow":"10","usedFlow":1,"totalSpace":20,"usedSpace":"2","userId":"u","email":"e"}"#))
        .unwrap();
    assert_eq!((usage.total_flow, usage.used_space), (10, 2));
    let rows = ViewLog::new(Day::new(2016, 7, 13).unwrap())
        .parse(200, None, &ok(r#"[{"playId":"p","createdTime":1468375200000},{"playId":"q","createdTime":"2016-07-13 10:00"}]"#))
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].created_time.as_ref().and_then(|t| t.epoch_millis()),
        Some(1_468_375_200_000)
    );
    let empty_day = ViewLog::new(Day::new(2016, 7, 13).unwrap())
        .parse(200, None, &ok("[]"))
        .unwrap();
    assert!(empty_day.is_empty());
}

/// JSON values with the keys the typed `data` reads, in random types and
/// nestings.
fn data_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    const KEYS: &[&str] = &[
        "vid",
        "times",
        "filesize",
        "status",
        "ptime",
        "cataid",
        "parentid",
        "nodes",
        "videos",
        "cataname",
        "catatree",
        "uploader",
        "images",
        "totalFlow",
        "videoCount",
        "playDuration",
        "createdTime",
        "currentHour",
        "isMobile",
        "x",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9]{0,20}".prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest::proptest! {
    /// No `data`, however mistyped, makes an endpoint's parser panic, and
    /// only a success envelope can come back `Ok`.
    #[test]
    fn parsers_never_panic(data in data_value(), code in proptest::prop_oneof![proptest::strategy::Just(200i64), 100i64..600]) {
        let body = serde_json::to_vec(&serde_json::json!({
            "code": code, "status": "x", "message": "m", "data": data,
        })).unwrap();
        let account = UserId::new(USER).unwrap();
        let day = Day::new(2016, 7, 13).unwrap();
        let results = [
            GetVideo::new("v").unwrap().parse(200, None, &body).is_ok(),
            UpdateVideo::builder("v").title("t").build().unwrap().parse(200, None, &body).is_ok(),
            DeleteVideo::new("v").unwrap().parse(200, None, &body).is_ok(),
            DeleteVideos::new(&account, ["v"]).unwrap().parse(200, None, &body).is_ok(),
            AccountUsage::new().parse(200, None, &body).is_ok(),
            CategoryTree::new().parse(200, None, &body).is_ok(),
            AddCategory::at_root("a").unwrap().parse(200, None, &body).is_ok(),
            RenameCategory::new(2, "a").unwrap().parse(200, None, &body).is_ok(),
            DeleteCategory::new(2).unwrap().parse(200, None, &body).is_ok(),
            MoveVideos::new(["v"], 2).unwrap().parse(200, None, &body).is_ok(),
            ViewLog::new(day).parse(200, None, &body).is_ok(),
        ];
        if code != 200 {
            proptest::prop_assert!(results.iter().all(|ok| !ok));
        }
    }
}
