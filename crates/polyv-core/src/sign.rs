//! Polyv's v2 request signature, for any endpoint.
//!
//! The rule (see `NOTES.md`): take the non-empty parameters except `sign`,
//! sort them by name in byte order, join them as `name=value` with `&` using
//! the raw values, append the secret key, and write the SHA-1 of that as 40
//! uppercase hex digits.

use std::fmt;

use sha1::{Digest, Sha1};

use crate::SecretKey;

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

/// Keeps the parameters that take part in the signature, in signing order.
fn signed_pairs<'a, I>(params: I) -> Vec<(&'a str, &'a str)>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(name, value)| !value.is_empty() && *name != SIGN_PARAM)
        .collect();
    // Byte order of the names; values break ties so that a repeated name still
    // signs deterministically.
    pairs.sort_unstable();
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
    let pairs = signed_pairs(params);
    let mut out = String::new();
    for_each_piece(&pairs, |piece| out.push_str(piece));
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
    let pairs = signed_pairs(params);
    let mut hasher = Sha1::new();
    for_each_piece(&pairs, |piece| hasher.update(piece.as_bytes()));
    hasher.update(secret.expose_secret().as_bytes());
    let digest = hasher.finalize();
    let mut hex = [0u8; 40];
    // 20 digest bytes always fill 40 hex digits exactly.
    if hex::encode_to_slice(digest, &mut hex).is_ok() {
        hex.make_ascii_uppercase();
    }
    Sign(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn names_sort_by_bytes_not_case_folded() {
        assert_eq!(
            canonical_string([("page", "1"), ("orderType", "2"), ("Z", "3")]),
            "Z=3&orderType=2&page=1"
        );
    }
}
