//! The signature rules of Polyv's v2 API, written independently from the spec
//! (`docs/mock.md`, Polyv's pages, `vod-api.md` A.4-A.5): the mock verifies
//! requests with this code, never with the client's signer.
//!
//! Two shapes exist ([`Shape`]): **generic**, every non-empty parameter sent
//! except `sign` ([`base_string`]), and a **fixed subset** that includes the
//! account id as `userid` although it travels only in the URL path
//! ([`fixed_base_string`]); other sent parameters are then not signed.

use sha1::{Digest, Sha1};

/// The string that is hashed: every parameter with a non-empty value except
/// `sign`, sorted by name in byte order (stable, so duplicate names keep their
/// wire order), joined as `name=value` with `&`, raw (decoded) values, then the
/// secret key appended with no separator.
pub fn base_string<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], secret_key: &str) -> String {
    let mut kept: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, v)| !v.is_empty() && *k != "sign")
        .collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (k, v)) in kept.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out.push_str(secret_key);
    out
}

/// The sign the mock expects for these decoded parameters: 40 uppercase hex
/// digits of SHA-1 over [`base_string`].
pub fn expected_sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], secret_key: &str) -> String {
    sha1_upper(&base_string(params, secret_key))
}

/// Whether `given` is exactly the expected sign (case-sensitive: Polyv documents
/// uppercase hex, and a lowercase sign is rejected by the mock).
pub fn verify<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    secret_key: &str,
    given: &str,
) -> bool {
    same(&expected_sign(params, secret_key), given)
}

/// The fixed set of cataJson: `ptime, userid`.
pub const CATA_JSON_FIELDS: &[&str] = &["ptime", "userid"];
/// The fixed set of updateCata: `cataid, cataname, ptime, userid`.
pub const UPDATE_CATA_FIELDS: &[&str] = &["cataid", "cataname", "ptime", "userid"];
/// The fixed set of deleteCata: `cataid, ptime, userid`.
pub const DELETE_CATA_FIELDS: &[&str] = &["cataid", "ptime", "userid"];
/// The fixed set of changeCata: `cataid, ptime, userid, vids`.
pub const CHANGE_CATA_FIELDS: &[&str] = &["cataid", "ptime", "userid", "vids"];
/// The fixed set of viewlog: `day, ptime, userid`.
pub const VIEWLOG_FIELDS: &[&str] = &["day", "ptime", "userid"];

/// Which parameters a request's sign covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every parameter sent with a non-empty value, except `sign` (the path's
    /// `userid` is not a parameter and is not signed).
    Generic,
    /// Exactly these names (one of the `*_FIELDS` constants): `userid` is the
    /// account id from the path, the others are taken from the sent
    /// parameters; absent or empty ones are left out; any other sent
    /// parameter is not signed.
    Fixed(&'static [&'static str]),
}

impl Shape {
    /// The string that is hashed under this shape, the secret appended.
    /// `userid` is the account id of the URL path (ignored by [`Shape::Generic`]).
    pub fn base_string<K: AsRef<str>, V: AsRef<str>>(
        &self,
        params: &[(K, V)],
        userid: &str,
        secret_key: &str,
    ) -> String {
        match self {
            Shape::Generic => base_string(params, secret_key),
            Shape::Fixed(names) => fixed_base_string(params, names, userid, secret_key),
        }
    }

    /// The expected sign under this shape: 40 uppercase hex digits.
    pub fn expected_sign<K: AsRef<str>, V: AsRef<str>>(
        &self,
        params: &[(K, V)],
        userid: &str,
        secret_key: &str,
    ) -> String {
        sha1_upper(&self.base_string(params, userid, secret_key))
    }

    /// Whether `given` is exactly the expected sign under this shape.
    pub fn verify<K: AsRef<str>, V: AsRef<str>>(
        &self,
        params: &[(K, V)],
        userid: &str,
        secret_key: &str,
        given: &str,
    ) -> bool {
        same(&self.expected_sign(params, userid, secret_key), given)
    }
}

/// The string hashed by a fixed-subset endpoint: for each of `names` sorted
/// in byte order, `userid` → the path's account id, any other name → the
/// first non-empty value sent under that name; absent or empty values are
/// left out; joined as `name=value` with `&`, raw values, secret appended.
/// Parameters sent but not in `names` (`requestId`, viewlog's `vid`, …) do
/// not count.
pub fn fixed_base_string<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    names: &[&str],
    userid: &str,
    secret_key: &str,
) -> String {
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    sorted.dedup();
    let mut out = String::new();
    for name in sorted {
        let value = if name == "userid" {
            Some(userid)
        } else {
            params
                .iter()
                .find(|(k, v)| k.as_ref() == name && !v.as_ref().is_empty())
                .map(|(_, v)| v.as_ref())
        };
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out.push_str(secret_key);
    out
}

fn sha1_upper(s: &str) -> String {
    hex::encode_upper(Sha1::digest(s.as_bytes()))
}

fn same(expected: &str, given: &str) -> bool {
    // Not secret-sensitive (test server), but compare without early exit anyway.
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "tIQp4ATe9Z";
    const PTIME: &str = "1469599842000";
    const USERID: &str = "3828390191";
    const VIDS: &str = "3828390191de2b3fd3467c36187aac08_3,382839019131be68715e9455f8d0971a_3";

    #[test]
    fn generic_vector_list_by_playauth() {
        let params = [("vid", "test1"), ("ptime", "1")];
        assert_eq!(base_string(&params, "test2"), "ptime=1&vid=test1test2");
        assert_eq!(
            Shape::Generic.expected_sign(&params, "ignored", "test2"),
            "C2B1558D697EA3AF4ED2FC90152751860C1E2163"
        );
    }

    #[test]
    fn update_cata_vector_signs_the_unsent_userid() {
        // requestId is sent but not signed.
        let params = [
            ("requestId", "0123456789abcdef0123456789abcdef"),
            ("cataname", "polyv"),
            ("cataid", "1466567123649"),
            ("ptime", PTIME),
        ];
        let shape = Shape::Fixed(UPDATE_CATA_FIELDS);
        assert_eq!(
            shape.base_string(&params, USERID, SECRET),
            "cataid=1466567123649&cataname=polyv&ptime=1469599842000&userid=3828390191tIQp4ATe9Z"
        );
        assert_eq!(
            shape.expected_sign(&params, USERID, SECRET),
            "DB6037A8186F71E6D992F16E1C148CF94D164C1D"
        );
        assert!(shape.verify(
            &params,
            USERID,
            SECRET,
            "DB6037A8186F71E6D992F16E1C148CF94D164C1D"
        ));
        // The same request signed generically is a different sign.
        assert_ne!(
            Shape::Generic.expected_sign(&params, USERID, SECRET),
            "DB6037A8186F71E6D992F16E1C148CF94D164C1D"
        );
    }

    #[test]
    fn update_cata_non_ascii_vector() {
        let params = [
            ("cataid", "1466567123649"),
            ("cataname", "分类 A"),
            ("ptime", PTIME),
        ];
        assert_eq!(
            Shape::Fixed(UPDATE_CATA_FIELDS).expected_sign(&params, USERID, SECRET),
            "DF3A24BA0BF137474B3A9AA19A9F95C324060524"
        );
    }

    #[test]
    fn derived_fixed_subset_vectors() {
        type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>, &'a str);
        let cases: [Case<'_>; 4] = [
            (
                CATA_JSON_FIELDS,
                vec![("ptime", PTIME), ("cataid", "1466567123649")],
                "2978737EA5C53917AFBE04A8151858187F0C23C6",
            ),
            (
                DELETE_CATA_FIELDS,
                vec![("cataid", "1466567123649"), ("ptime", PTIME)],
                "EB9E36F247C2343C770324C804E8C52A9C944CFB",
            ),
            (
                CHANGE_CATA_FIELDS,
                vec![
                    ("vids", VIDS),
                    ("cataid", "1466567123649"),
                    ("ptime", PTIME),
                ],
                "69932E53B9135058A1C1323450ADE6525FF96C33",
            ),
            (
                VIEWLOG_FIELDS,
                vec![
                    ("day", "20160713"),
                    ("ptime", PTIME),
                    ("vid", "382839019131be68715e9455f8d0971a_3"),
                    ("sessionId", "viewer-1"),
                ],
                "3DC04285D04E70B8063852D151A0EF421B62F6FC",
            ),
        ];
        for (names, params, sign) in cases {
            let shape = Shape::Fixed(names);
            assert_eq!(
                shape.expected_sign(&params, USERID, SECRET),
                sign,
                "{names:?}"
            );
            assert!(
                !Shape::Generic.verify(&params, USERID, SECRET, sign),
                "{names:?}"
            );
        }
    }

    #[test]
    fn del_videos_generic_vector_signs_the_body_user_id() {
        let params = [
            ("vids", VIDS),
            ("userId", USERID),
            ("requestId", "0123456789abcdef0123456789abcdef"),
            ("ptime", PTIME),
            ("deleteType", "1"),
        ];
        assert_eq!(
            Shape::Generic.expected_sign(&params, "unused", SECRET),
            "727931A78B939DB967A5071ED448ACF3D6C61583"
        );
    }

    #[test]
    fn fixed_subset_leaves_out_absent_and_empty_fields() {
        let params = [("ptime", "5"), ("cataid", "")];
        assert_eq!(
            fixed_base_string(&params, DELETE_CATA_FIELDS, "u", "K"),
            "ptime=5&userid=uK"
        );
        // A sent `userid` is ignored: the path's account id is signed.
        let params = [("ptime", "5"), ("userid", "someone-else")];
        assert_eq!(
            fixed_base_string(&params, CATA_JSON_FIELDS, "u", "K"),
            "ptime=5&userid=uK"
        );
    }

    #[test]
    fn published_vector() {
        let params = [
            ("ptime", "1492591990000"),
            ("vid", "382839019131be68715e9455f8d0971a_3"),
            ("format", "json"),
        ];
        assert_eq!(
            base_string(&params, "tIQp4ATe9Z"),
            "format=json&ptime=1492591990000&vid=382839019131be68715e9455f8d0971a_3tIQp4ATe9Z"
        );
        assert_eq!(
            expected_sign(&params, "tIQp4ATe9Z"),
            "50BF9B165630A8047EB1D17D95A469CC51FF754E"
        );
        assert!(verify(
            &params,
            "tIQp4ATe9Z",
            "50BF9B165630A8047EB1D17D95A469CC51FF754E"
        ));
        assert!(!verify(
            &params,
            "tIQp4ATe9Z",
            "50bf9b165630a8047eb1d17d95a469cc51ff754e"
        ));
        assert!(!verify(&params, "tIQp4ATe9Z", ""));
    }

    #[test]
    fn empty_values_and_sign_are_left_out() {
        let with = [
            ("vid", "382839019131be68715e9455f8d0971a_3"),
            ("ptime", "1492591990000"),
            ("format", "json"),
            ("email", ""),
            ("sign", "whatever"),
        ];
        assert_eq!(
            expected_sign(&with, "tIQp4ATe9Z"),
            "50BF9B165630A8047EB1D17D95A469CC51FF754E"
        );
    }

    #[test]
    fn byte_order_is_case_sensitive() {
        let params = [("b", "1"), ("B", "2"), ("a", "3")];
        assert_eq!(base_string(&params, "K"), "B=2&a=3&b=1K");
    }
}
