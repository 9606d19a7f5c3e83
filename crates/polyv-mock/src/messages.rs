//! The `message` strings the mock answers with, so tests can compare
//! against names rather than copies. Polyv documents the ones marked so;
//! the others are the mock's own choices where Polyv documents nothing
//! (`docs/mock.md` lists them per endpoint).

/// Documented: `sign` missing or empty.
pub const SIGN_EMPTY: &str = "sign can not be empty.";
/// Documented: `ptime` more than 3 minutes behind the server clock.
pub const PTIME_OLD: &str = "ptime is too old.";
/// Documented: `ptime` malformed or more than 3 minutes ahead.
pub const PTIME_ILLEGAL: &str = "ptime is illegal.";
/// Documented: unknown account.
pub const NO_USER: &str = "Could not find user by userid.";
/// Documented: wrong sign.
pub const BAD_SIGN: &str = "the sign is not right.";
/// Documented for del-videos: the same, without the final dot.
pub const BAD_SIGN_DEL_VIDEOS: &str = "the sign is not right";
/// Documented: unknown category.
pub const NO_CATA: &str = "cata is not exist.";
/// Documented (get-by-uploader): unknown sub-account e-mail.
pub const NO_CHILD: &str = "child user not exist.";
/// Documented: server-side exception (code 500).
pub const QUERY_FAILED: &str = "query failed.";
/// Documented for del-videos: more than 500 vids.
pub const TOO_MANY_VIDS: &str = "delete vids size can't greater than 500 once";
/// The mock's choice: a vid that is not (or no longer) a video of the account.
pub const NO_VIDEO: &str = "video is not exist.";
/// The mock's choice: addCata/updateCata with a `cataname` over 40 characters.
pub const CATANAME_TOO_LONG: &str = "cataname can't longer than 40.";
/// The mock's choice: deleteCata on the default category `1`.
pub const DEFAULT_CATA: &str = "default cata can not be deleted.";
/// The mock's choice: the per-IP rate limit tripped (HTTP 403).
pub const BLOCKED: &str = "request too frequent, ip blocked.";
/// The mock's choice: no endpoint at this path (HTTP 404).
pub const NOT_FOUND: &str = "not found.";
/// The mock's choice: the endpoint does not accept this method (HTTP 405).
pub const METHOD_NOT_ALLOWED: &str = "method not allowed.";
/// The mock's choice: a form body larger than 1 MiB (HTTP 413).
pub const TOO_LARGE: &str = "request body too large.";

/// Documented shape `xxx is empty` for a missing required parameter.
pub fn empty(name: &str) -> String {
    format!("{name} is empty")
}

/// The mock's choice for a parameter that cannot be read: `xxx is illegal.`.
pub fn illegal(name: &str) -> String {
    format!("{name} is illegal.")
}
