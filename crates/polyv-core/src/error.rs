//! The one error type of the SDK.

use std::time::Duration;

/// Everything that can go wrong when calling Polyv, from bad input to a refused
/// request to a broken network.
///
/// Every variant says what happened and, where it can, what to do about it.
/// The secret key never appears in any variant, and neither does a full signed
/// URL.
///
/// ```
/// use polyv_core::Error;
///
/// let err = Error::from_api(400, "the sign is not right.");
/// assert!(matches!(err, Error::SignNotRight));
/// assert!(!err.is_retryable());
/// assert_eq!(err.api_message(), Some("the sign is not right."));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `sign can not be empty.`: the request carried no signature.
    #[error("the sign is empty (server said `sign can not be empty.`): sign every request")]
    SignEmpty,
    /// `ptime is too old.`: the timestamp is more than 3 minutes in the past
    /// for the server. The local clock is behind, or a request was reused.
    #[error(
        "ptime is too old (server said `ptime is too old.`): the local clock is behind the server's, or a signed request was resent; enable clock-skew correction or sync the clock"
    )]
    PtimeTooOld,
    /// `ptime is illegal.`: the timestamp is malformed or more than 3 minutes
    /// ahead of the server.
    #[error(
        "ptime is illegal (server said `ptime is illegal.`): the local clock is ahead of the server's or ptime is not a 13-digit millisecond timestamp"
    )]
    PtimeIllegal,
    /// `Could not find user by userid.`
    #[error("unknown user id (server said `Could not find user by userid.`): check POLYV_USER_ID")]
    UserNotFound,
    /// `the sign is not right.`
    #[error(
        "wrong signature (server said `the sign is not right.`): check the secret key, and compare the canonical string with `polyv sign --explain`"
    )]
    SignNotRight,
    /// `cata is not exist.`
    #[error("unknown category (server said `cata is not exist.`): check the category id")]
    CategoryNotFound,
    /// `child user not exist.`
    #[error("unknown sub-account (server said `child user not exist.`): check the e-mail")]
    ChildUserNotFound,
    /// `query failed.` (code 500): the server threw an exception. Worth retrying.
    #[error("the server failed the query (server said `query failed.`); retrying may help")]
    QueryFailed,
    /// Any other error the API reported in its envelope, verbatim.
    #[error("the API refused the request: code {code}, `{message}`")]
    Api {
        /// The envelope's `code`.
        code: i64,
        /// The envelope's `message`, verbatim.
        message: String,
    },
    /// The response was not Polyv's JSON envelope (a proxy's error page, a
    /// cut-off body, a throttling answer...).
    #[error("HTTP {status} without a Polyv response body{}: {excerpt:?}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// A short, printable excerpt of the body.
        excerpt: String,
    },
    /// A success status whose JSON body ended early: the connection was cut or
    /// a proxy truncated it. Worth retrying.
    #[error("HTTP {status} with a truncated JSON body: {excerpt:?}")]
    Truncated {
        /// The HTTP status code.
        status: u16,
        /// A short, printable excerpt of what arrived.
        excerpt: String,
    },
    /// The envelope said success but its `data` did not have the expected shape.
    #[error("unexpected response data at `{path}`: {message}")]
    Decode {
        /// Where in the document decoding failed, e.g. `data.contents[3].cataid`.
        path: String,
        /// What the decoder expected.
        message: String,
    },
    /// The caller's input was refused before any request was made.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A needed environment variable is missing or empty.
    #[error("environment variable {0} is not set; export it (see the README)")]
    MissingEnv(&'static str),
    /// The response body was larger than the client's limit.
    #[error("the response body exceeded the {limit}-byte limit; raise the client's body limit")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A shared rate limiter (polyv-redis in strict mode) could not decide,
    /// so the request was not sent.
    #[error("the shared rate limiter failed, nothing was sent: {message}")]
    RateLimiter {
        /// What went wrong, with any password redacted.
        message: String,
    },
    /// A network problem: connect, timeout, a connection closed mid-body.
    #[error("network error ({kind}): {message}")]
    Transport {
        /// What kind of failure.
        kind: TransportErrorKind,
        /// The transport's own description, with any signed URL redacted.
        message: String,
    },
}

/// The kinds of network failure a transport reports to the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (DNS, refused, TLS handshake).
    Connect,
    /// No answer within the timeout.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// Anything else the HTTP client reported; not retried.
    Other,
}

impl std::fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Io => "connection",
            Self::Other => "other",
        })
    }
}

impl Error {
    /// Maps an envelope's `code` and `message` to the typed variant, keeping
    /// unknown ones as [`Error::Api`] with the message verbatim.
    pub fn from_api(code: i64, message: &str) -> Self {
        match (code, message) {
            (400, "sign can not be empty.") => Self::SignEmpty,
            (400, "ptime is too old.") => Self::PtimeTooOld,
            (400, "ptime is illegal.") => Self::PtimeIllegal,
            (400, "Could not find user by userid.") => Self::UserNotFound,
            (400, "the sign is not right.") => Self::SignNotRight,
            (400, "cata is not exist.") => Self::CategoryNotFound,
            (400, "child user not exist.") => Self::ChildUserNotFound,
            (500, "query failed.") => Self::QueryFailed,
            _ => Self::Api {
                code,
                message: message.to_owned(),
            },
        }
    }

    /// Whether trying again, later and freshly signed, may succeed: server
    /// exceptions (`query failed.`, 5xx), throttling (429) and network
    /// failures. The documented 400s are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::QueryFailed | Self::Truncated { .. } => true,
            Self::Api { code, .. } => *code == 429 || (500..600).contains(code),
            Self::Http { status, .. } => *status == 429 || (500..600).contains(status),
            Self::Transport { kind, .. } => !matches!(kind, TransportErrorKind::Other),
            _ => false,
        }
    }

    /// Whether this is Polyv's rate-limit block: the IP went over 1,500
    /// requests in 10 s and is refused for 5 minutes. How Polyv answers then
    /// is not documented; we assume an envelope with code 403 (sent with
    /// HTTP 403, as polyv-mock's rate limit does), whatever its message. The
    /// one place this is recognised; rate limiters then hold every request
    /// back until the block is over.
    ///
    /// ```
    /// use polyv_core::Error;
    ///
    /// assert!(Error::from_api(403, "request too frequent, ip blocked.").is_rate_limit_block());
    /// assert!(!Error::from_api(400, "the sign is not right.").is_rate_limit_block());
    /// ```
    pub fn is_rate_limit_block(&self) -> bool {
        matches!(self, Self::Api { code: 403, .. })
    }

    /// Whether the server refused the timestamp (`ptime is too old.` or
    /// `ptime is illegal.`): a clock problem that correcting the local clock
    /// offset from the server's `Date` header may fix once.
    pub fn is_clock_error(&self) -> bool {
        matches!(self, Self::PtimeTooOld | Self::PtimeIllegal)
    }

    /// The server's own message, for errors the API reported.
    pub fn api_message(&self) -> Option<&str> {
        Some(match self {
            Self::SignEmpty => "sign can not be empty.",
            Self::PtimeTooOld => "ptime is too old.",
            Self::PtimeIllegal => "ptime is illegal.",
            Self::UserNotFound => "Could not find user by userid.",
            Self::SignNotRight => "the sign is not right.",
            Self::CategoryNotFound => "cata is not exist.",
            Self::ChildUserNotFound => "child user not exist.",
            Self::QueryFailed => "query failed.",
            Self::Api { message, .. } => message,
            _ => return None,
        })
    }

    /// The `Retry-After` the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_send_sync_static() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
    }

    #[test]
    fn every_documented_message_has_its_variant() {
        type Case = (i64, &'static str, fn(&Error) -> bool, bool);
        let table: &[Case] = &[
            (
                400,
                "sign can not be empty.",
                |e| matches!(e, Error::SignEmpty),
                false,
            ),
            (
                400,
                "ptime is too old.",
                |e| matches!(e, Error::PtimeTooOld),
                false,
            ),
            (
                400,
                "ptime is illegal.",
                |e| matches!(e, Error::PtimeIllegal),
                false,
            ),
            (
                400,
                "Could not find user by userid.",
                |e| matches!(e, Error::UserNotFound),
                false,
            ),
            (
                400,
                "the sign is not right.",
                |e| matches!(e, Error::SignNotRight),
                false,
            ),
            (
                400,
                "cata is not exist.",
                |e| matches!(e, Error::CategoryNotFound),
                false,
            ),
            (
                400,
                "child user not exist.",
                |e| matches!(e, Error::ChildUserNotFound),
                false,
            ),
            (
                500,
                "query failed.",
                |e| matches!(e, Error::QueryFailed),
                true,
            ),
        ];
        for (code, message, is_variant, retryable) in table {
            let err = Error::from_api(*code, message);
            assert!(is_variant(&err), "{message} mapped to {err:?}");
            assert_eq!(err.is_retryable(), *retryable, "{message}");
            assert_eq!(err.api_message(), Some(*message));
        }
        let other = Error::from_api(401, "something new.");
        assert!(matches!(&other, Error::Api { code: 401, message } if message == "something new."));
        assert!(!other.is_retryable());
        assert!(Error::PtimeTooOld.is_clock_error() && Error::PtimeIllegal.is_clock_error());
        assert!(!Error::SignNotRight.is_clock_error());
    }

    #[test]
    fn http_status_classification() {
        let http = |status| Error::Http {
            status,
            retry_after: None,
            excerpt: String::new(),
        };
        assert!(http(429).is_retryable());
        assert!(http(502).is_retryable());
        assert!(http(503).is_retryable());
        assert!(!http(404).is_retryable());
        assert!(!http(403).is_retryable());
    }

    #[test]
    fn the_rate_limit_block_is_recognised_in_one_place() {
        let block = Error::from_api(403, "request too frequent, ip blocked.");
        assert!(block.is_rate_limit_block());
        assert!(!block.is_retryable(), "a blocked IP is not retried");
        for other in [
            Error::from_api(429, "slow down."),
            Error::from_api(500, "query failed."),
            Error::from_api(400, "the sign is not right."),
            Error::Http {
                status: 403,
                retry_after: None,
                excerpt: "<html>forbidden</html>".into(),
            },
            Error::RateLimiter {
                message: "redis down".into(),
            },
        ] {
            assert!(!other.is_rate_limit_block(), "{other:?}");
        }
        assert!(
            !Error::RateLimiter {
                message: String::new()
            }
            .is_retryable()
        );
    }
}
