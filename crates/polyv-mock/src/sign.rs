//! The signature rule of Polyv's v2 API, written independently from the spec
//! (`docs/mock.md`, Polyv's page): the mock verifies requests with this code,
//! never with the client's signer.

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
    let digest = Sha1::digest(base_string(params, secret_key).as_bytes());
    hex::encode_upper(digest)
}

/// Whether `given` is exactly the expected sign (case-sensitive: Polyv documents
/// uppercase hex, and a lowercase sign is rejected by the mock).
pub fn verify<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    secret_key: &str,
    given: &str,
) -> bool {
    let expected = expected_sign(params, secret_key);
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
