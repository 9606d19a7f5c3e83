//! Property tests: the signer against a deliberately naive reference, and the
//! parser against arbitrary input.

use polyv_core::{
    Config, Credentials, Page, RawCall, SecretKey, Video, canonical_string, parse_response, sign,
};
use proptest::prelude::*;
use sha1::{Digest, Sha1};

/// The rule from NOTES.md written as plainly as possible, sharing no code
/// with the crate: filter, sort by name bytes (then value), join, append, hash.
fn reference_sign(params: &[(String, String)], secret: &str) -> String {
    let mut kept: Vec<(String, String)> = params
        .iter()
        .filter(|(k, v)| !v.is_empty() && k != "sign")
        .cloned()
        .collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
    let joined = kept
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let digest = Sha1::digest(format!("{joined}{secret}").as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z]{1,12}",
        Just("sign".to_owned()),
        Just("ptime".to_owned()),
        "\\PC{1,6}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[0-9]{1,13}",
        "[a-z0-9+&=#% .@]{1,20}",
        "\\PC{0,12}",
        Just("测试 😀+&=".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sign_matches_the_naive_reference(
        params in prop::collection::vec((name(), value()), 0..12),
        secret in "[A-Za-z0-9]{1,16}",
    ) {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let ours = sign(pairs.iter().copied(), &SecretKey::new(secret.clone()));
        prop_assert_eq!(ours.as_str(), reference_sign(&params, &secret));
    }

    #[test]
    fn order_does_not_matter(
        params in prop::collection::vec((name(), value()), 0..10),
        seed in any::<u64>(),
    ) {
        let mut shuffled = params.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let a: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let b: Vec<(&str, &str)> = shuffled.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        prop_assert_eq!(canonical_string(a.iter().copied()), canonical_string(b.iter().copied()));
        let key = SecretKey::new("k");
        prop_assert_eq!(sign(a, &key), sign(b, &key));
    }

    #[test]
    fn query_encoding_is_form_urlencoded(value in "\\PC{0,24}", name in "[a-zA-Z]{1,8}") {
        prop_assume!(name != "sign" && name != "ptime");
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let call = RawCall::get("/p").unwrap().param(name.clone(), value.clone());
        let url = config.signed_url(&call, 1).unwrap();
        let query = url.split_once('?').unwrap().1;
        // Encoded values hold no `&`: it only separates pairs.
        let pairs: Vec<&str> = query.split('&').collect();
        let expected = format!("{name}={}", form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>());
        // Blank values (whitespace only) are neither sent nor signed.
        let sent = !value.trim().is_empty();
        prop_assert_eq!(pairs.contains(&expected.as_str()), sent, "{} in {}", expected, query);
        prop_assert!(pairs.contains(&"ptime=1"), "{}", query);
        prop_assert!(pairs.last().unwrap().starts_with("sign="), "{}", query);
        prop_assert_eq!(pairs.len(), if sent { 3 } else { 2 });
    }

    #[test]
    fn signed_urls_carry_the_reference_sign(
        params in prop::collection::vec((name(), value()), 0..10),
        secret in "[A-Za-z0-9]{1,16}",
    ) {
        // Whatever the names' order and whatever encoding does to the text,
        // the sign in the URL is the rule's sign of the raw parameters.
        // The signer refuses `sign` and `ptime` from the caller.
        let params: Vec<(String, String)> =
            params.into_iter().filter(|(k, _)| k != "sign" && k != "ptime").collect();
        let config = Config::new(Credentials::new("u1", secret.clone()).unwrap());
        let mut call = RawCall::get("/p").unwrap();
        for (k, v) in &params {
            call = call.param(k.clone(), v.clone());
        }
        let url = config.signed_url(&call, 1_700_000_000_000).unwrap();
        // Blank values are neither sent nor signed (the SDK's `isBlank`).
        let mut with_ptime: Vec<(String, String)> =
            params.iter().filter(|(_, v)| !v.trim().is_empty()).cloned().collect();
        with_ptime.push(("ptime".into(), "1700000000000".into()));
        let expected = format!("&sign={}", reference_sign(&with_ptime, &secret));
        prop_assert!(url.ends_with(&expected), "{} vs {}", url, expected);
        let request = config.prepare(&call, 1_700_000_000_000).unwrap();
        prop_assert_eq!(request.uri().to_string(), url);
    }

    #[test]
    fn parser_never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
        let _ = parse_response::<Page<Video>>(status, None, &body);
    }

    #[test]
    fn parser_never_panics_on_json_shaped_documents(doc in json_document(), status in 100u16..600) {
        let body = serde_json::to_vec(&doc).unwrap();
        let result = parse_response::<Page<Video>>(status, None, &body);
        // Only a success envelope with a well-formed page may come back Ok.
        if result.is_ok() {
            prop_assert_eq!(&doc["code"], &serde_json::json!(200));
        }
        let _ = parse_response::<serde_json::Value>(status, None, &body);
    }
}

/// Documents shaped like Polyv's: envelopes whose fields have random types,
/// pages and videos with fields missing, mistyped, or out of range.
fn json_document() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,10}".prop_map(Value::from),
        Just(json!("")),
        Just(json!("61")),
    ];
    let any_json = leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("vid".to_owned()),
                    Just("cataid".to_owned()),
                    Just("status".to_owned()),
                    Just("tag".to_owned()),
                    Just("ptime".to_owned()),
                    Just("contents".to_owned()),
                    Just("pageSize".to_owned()),
                    Just("totalItems".to_owned()),
                    "[a-z]{1,5}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let video = (
        any_json.clone(),
        any::<u64>(),
        prop_oneof![Just(json!("61")), Just(json!(-1)), Just(json!("x"))],
    )
        .prop_map(|(extra, cataid, status)| {
            json!({
                "vid": "v", "cataid": cataid, "title": "标题😀", "context": "", "times": 1,
                "firstImage": "", "tag": "", "aacLink": null, "status": status,
                "uploaderEmail": "a@b", "ptime": 1, "extra": extra
            })
        });
    let page = (
        prop::collection::vec(prop_oneof![video, any_json.clone()], 0..4),
        any::<u32>(),
        any::<u64>(),
        any_json.clone(),
    )
        .prop_map(|(contents, size, total, number)| {
            json!({
                "pageSize": size, "pageNumber": number, "totalItems": total, "contents": contents
            })
        });
    let code = prop_oneof![
        Just(json!(200)),
        Just(json!(400)),
        Just(json!(500)),
        any_json.clone()
    ];
    (code, prop_oneof![page, any_json.clone()], any_json.clone()).prop_map(|(code, data, message)| {
        json!({ "code": code, "status": "x", "message": message, "data": data })
    })
}
