//! Polyv's v2 request signature, for any endpoint.
//!
//! The rule (see `NOTES.md`): take the non-empty parameters except `sign`,
//! sort them by name in byte order, join them as `name=value` with `&` using
//! the raw values, append the secret key, and write the SHA-1 of that as 40
//! uppercase hex digits.

use std::fmt;

use sha1::{Digest, Sha1};

use crate::SecretKey;
use crate::inline::InlineList;

/// The parameter that carries the signature; never part of what is signed.
pub const SIGN_PARAM: &str = "sign";

/// A request signature: 40 uppercase hexadecimal digits.
///
/// `Display` writes the whole sign (it is what goes on the wire); `Debug`
/// shows only its first 8 digits, so a logged request cannot be replayed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sign([u8; 40]);

impl Sign {
    /// The sign as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The first 8 digits followed by `…`, for logs.
    pub fn truncated(&self) -> &str {
        &self.as_str()[..8]
    }
}

impl fmt::Display for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sign({}…)", self.truncated())
    }
}

/// The pairs to sign, borrowed; on the stack for any endpoint this SDK knows.
pub(crate) type PairBuf<'a> = InlineList<(&'a str, &'a str)>;

/// An empty [`PairBuf`].
pub(crate) fn pair_buf<'a>() -> PairBuf<'a> {
    InlineList::new(("", ""))
}

/// Puts the pairs in signing order: byte order of the names, values breaking
/// ties so that a repeated name still signs deterministically. Endpoints that
/// already list their parameters in that order pay only for the check.
fn into_signing_order(pairs: &mut [(&str, &str)]) {
    let in_order = |a: &(&str, &str), b: &(&str, &str)| {
        byte_order(a.0, b.0).then_with(|| byte_order(a.1, b.1))
    };
    if !pairs.is_sorted_by(|a, b| in_order(a, b).is_le()) {
        pairs.sort_unstable_by(in_order);
    }
}

/// The byte order of two strings (`str`'s own order), compared inline:
/// parameter names are short and differ early, where a `memcmp` call would
/// cost more than the comparison.
#[inline]
pub(crate) fn byte_order(a: &str, b: &str) -> std::cmp::Ordering {
    for (x, y) in a.bytes().zip(b.bytes()) {
        if x != y {
            return x.cmp(&y);
        }
    }
    a.len().cmp(&b.len())
}

/// Keeps the parameters that take part in the signature.
fn signed_pairs<'a, I>(params: I) -> PairBuf<'a>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs = pair_buf();
    for (name, value) in params {
        if !value.is_empty() && name != SIGN_PARAM {
            pairs.push((name, value));
        }
    }
    pairs
}

/// Calls `emit` with each piece of the canonical string, in order, so that
/// hashing needs no intermediate string.
fn for_each_piece<'a>(pairs: &[(&'a str, &'a str)], mut emit: impl FnMut(&'a str)) {
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            emit("&");
        }
        emit(name);
        emit("=");
        emit(value);
    }
}

/// Signs pairs that are already filtered (non-empty values, no `sign`),
/// sorting them first if they are not in signing order.
pub(crate) fn sign_pairs(pairs: &mut [(&str, &str)], secret: &SecretKey) -> Sign {
    into_signing_order(pairs);
    let mut hasher = Sha1::new();
    for_each_piece(pairs, |piece| hasher.update(piece.as_bytes()));
    hasher.update(secret.expose_secret().as_bytes());
    let digest = hasher.finalize();
    // Uppercase hex straight from the digest: no lowercase pass to convert.
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut hex = [0u8; 40];
    for (out, byte) in hex.chunks_exact_mut(2).zip(digest) {
        out[0] = HEX[usize::from(byte >> 4)];
        out[1] = HEX[usize::from(byte & 0xF)];
    }
    Sign(hex)
}

/// The canonical string that is signed, without the secret key appended.
///
/// ```
/// let canonical = polyv_core::canonical_string([
///     ("vid", "382839019131be68715e9455f8d0971a_3"),
///     ("ptime", "1492591990000"),
///     ("format", "json"),
///     ("email", ""),
/// ]);
/// assert_eq!(canonical, "format=json&ptime=1492591990000&vid=382839019131be68715e9455f8d0971a_3");
/// ```
pub fn canonical_string<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs = signed_pairs(params);
    let pairs = pairs.as_mut_slice();
    into_signing_order(pairs);
    let mut out = String::new();
    for_each_piece(pairs, |piece| out.push_str(piece));
    out
}

/// Signs a parameter set with the secret key.
///
/// Empty values and any `sign` parameter are left out; order does not matter.
///
/// ```
/// use polyv_core::{sign, SecretKey};
///
/// // The vector published on Polyv's API page.
/// let sign = sign(
///     [("ptime", "1492591990000"), ("vid", "382839019131be68715e9455f8d0971a_3"), ("format", "json")],
///     &SecretKey::new("tIQp4ATe9Z"),
/// );
/// assert_eq!(sign.as_str(), "50BF9B165630A8047EB1D17D95A469CC51FF754E");
/// ```
pub fn sign<'a, I>(params: I, secret: &SecretKey) -> Sign
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    sign_pairs(signed_pairs(params).as_mut_slice(), secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inline::INLINE_ITEMS;

    #[test]
    fn byte_order_is_strs_order() {
        let words = [
            "", "a", "ab", "b", "page", "pageSize", "ptime", "Z", "é", "e\u{0}",
        ];
        for a in words {
            for b in words {
                assert_eq!(byte_order(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn published_vector() {
        let s = sign(
            [
                ("format", "json"),
                ("ptime", "1492591990000"),
                ("vid", "382839019131be68715e9455f8d0971a_3"),
            ],
            &SecretKey::new("tIQp4ATe9Z"),
        );
        assert_eq!(s.as_str(), "50BF9B165630A8047EB1D17D95A469CC51FF754E");
        assert_eq!(s.to_string(), "50BF9B165630A8047EB1D17D95A469CC51FF754E");
        assert_eq!(format!("{s:?}"), "Sign(50BF9B16…)");
    }

    #[test]
    fn sign_and_empty_values_are_not_signed() {
        let secret = SecretKey::new("k");
        let base = sign([("a", "1"), ("b", "2")], &secret);
        assert_eq!(
            sign(
                [("b", "2"), ("sign", "XYZ"), ("c", ""), ("a", "1")],
                &secret
            ),
            base
        );
        assert_eq!(
            canonical_string([("b", "2"), ("a", "1"), ("z", "")]),
            "a=1&b=2"
        );
    }

    /// The plain rule, for comparing against: sort a copy, join, hash.
    fn reference(params: &[(&str, &str)], secret: &str) -> String {
        let mut kept: Vec<_> = params
            .iter()
            .filter(|(name, value)| !value.is_empty() && *name != SIGN_PARAM)
            .collect();
        kept.sort();
        let joined: Vec<String> = kept.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let digest = Sha1::digest(format!("{}{secret}", joined.join("&")));
        digest.iter().map(|b| format!("{b:02X}")).collect()
    }

    #[test]
    fn more_pairs_than_fit_inline() {
        let names: Vec<String> = (0..3 * INLINE_ITEMS).map(|i| format!("p{i:03}")).collect();
        let secret = SecretKey::new("k");
        for len in [
            INLINE_ITEMS - 1,
            INLINE_ITEMS,
            INLINE_ITEMS + 1,
            3 * INLINE_ITEMS,
        ] {
            // Reversed, so that the spilled pairs must be sorted too.
            let params: Vec<(&str, &str)> = names[..len]
                .iter()
                .rev()
                .map(|name| (name.as_str(), "v"))
                .collect();
            assert_eq!(
                sign(params.iter().copied(), &secret).as_str(),
                reference(&params, "k"),
                "{len} pairs"
            );
            let canonical = canonical_string(params.iter().copied());
            assert_eq!(canonical.matches('&').count(), len - 1);
            assert!(canonical.starts_with("p000=v&p001=v&"));
        }
    }

    #[test]
    fn sorted_unsorted_and_repeated_names() {
        let secret = SecretKey::new("s");
        let cases: [&[(&str, &str)]; 5] = [
            &[],
            &[("a", "1"), ("b", "2"), ("c", "3")],
            &[("c", "3"), ("a", "1"), ("b", "2")],
            // A repeated name signs in value order, whatever the input order.
            &[("a", "2"), ("b", "1"), ("a", "1")],
            &[("a", "1"), ("a", "2"), ("sign", "x"), ("b", "")],
        ];
        for params in cases {
            assert_eq!(
                sign(params.iter().copied(), &secret).as_str(),
                reference(params, "s"),
                "{params:?}"
            );
        }
        assert_eq!(
            canonical_string([("a", "2"), ("b", "1"), ("a", "1")]),
            "a=1&a=2&b=1"
        );
    }

    #[test]
    fn names_sort_by_bytes_not_case_folded() {
        assert_eq!(
            canonical_string([("page", "1"), ("orderType", "2"), ("Z", "3")]),
            "Z=3&orderType=2&page=1"
        );
    }
}
