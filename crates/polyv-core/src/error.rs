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
    /// `delete vids size can't greater than 500 once` (del-videos): more than
    /// 500 vids in one request. [`DeleteVideos`](crate::videos::DeleteVideos)
    /// never sends more; split larger lists with
    /// [`DeleteVideos::in_batches`](crate::videos::DeleteVideos::in_batches).
    #[error(
        "too many vids in one delete (server said `delete vids size can't greater than 500 once`): send at most 500 per request"
    )]
    DeleteBatchTooLarge,
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
    /// The server answered a success status with no body at all (HTTP 204,
    /// or an empty 200) where Polyv's JSON envelope was expected. Worth
    /// retrying.
    #[error("HTTP {status} with an empty body, where Polyv's JSON was expected")]
    EmptyBody {
        /// The HTTP status code.
        status: u16,
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
    /// A record of a listing could not be read, even leniently. The other
    /// records of its page were delivered: walkers yield this error in the
    /// record's place and go on with the walk. It names the record and keeps
    /// its raw JSON.
    #[error("{0}")]
    UnreadableRecord(Box<crate::RecordError>),
    /// The caller's input was refused before any request was made.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A needed environment variable is missing or empty. The SDK itself
    /// reports [`Error::Env`], which names every such variable at once; this
    /// variant stays for callers that construct it.
    #[error("environment variable {0} is not set; export it (see the README)")]
    MissingEnv(&'static str),
    /// Needed environment variables are unset or empty, all named at once
    /// (from [`Config::from_env`](crate::Config::from_env) and
    /// [`Credentials::from_env`](crate::Credentials::from_env)).
    #[error("{}", env_message(unset, empty))]
    Env {
        /// The variables that are not set at all.
        unset: Vec<&'static str>,
        /// The variables that are set to the empty string.
        empty: Vec<&'static str>,
    },
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
        /// The transport's own description, causes included, with any signed
        /// URL redacted: what is displayed.
        message: String,
        /// The HTTP client's error and its causes, one by one, each redacted
        /// the same way ([`std::error::Error::source`] walks them).
        #[source]
        cause: Option<TransportCause>,
    },
    /// OSS refused an upload request and nothing the client does by itself
    /// (fresh credentials, a new multipart upload, a few retries) helps; the
    /// upload's state is saved, so running it again resumes it once the
    /// cause (its code says which) is fixed.
    #[error("{0}; the upload's state is saved: running the same upload again resumes it")]
    Oss(crate::upload::OssError),
    /// The upload was stopped through its cancel flag
    /// ([`UploadOptions::cancel_flag`](crate::upload::UploadOptions::cancel_flag)),
    /// Ctrl-C in the CLI. The parts that finished are stored and the state
    /// is saved: running the same upload again sends only the missing parts,
    /// for the same vid.
    #[error(
        "upload cancelled: {parts_done} of {parts_total} parts of {} are stored; running the same upload again resumes it",
        path.display()
    )]
    UploadCancelled {
        /// Parts stored at OSS, this run's and any earlier run's.
        parts_done: u32,
        /// Parts in the whole file.
        parts_total: u32,
        /// The file.
        path: std::path::PathBuf,
    },
    /// OSS stored the whole video but Polyv's upload callback failed twice
    /// (HTTP 203 `CallbackFailed`): the bytes are there, yet Polyv may not
    /// process them. Uploading again would store a second copy; check the
    /// video first.
    #[error(
        "OSS CallbackFailed twice: the bytes of video {vid} are stored (object {object}), but Polyv's upload callback failed, so Polyv may not process it; check the video with get-video-info, and contact Polyv if it stays missing"
    )]
    CallbackFailed {
        /// The video's id.
        vid: String,
        /// The OSS object holding its bytes.
        object: String,
    },
    /// CompleteMultipartUpload was sent, its answer lost, and the multipart
    /// upload is now gone (`NoSuchUpload`): it most likely completed, but
    /// no answer said so.
    #[error(
        "OSS NoSuchUpload after a Complete whose answer was lost: the upload of video {vid} probably finished; check it with get-video-info before uploading again"
    )]
    UploadUnconfirmed {
        /// The video's id.
        vid: String,
    },
}

impl From<crate::RecordError> for Error {
    fn from(record: crate::RecordError) -> Self {
        Self::UnreadableRecord(Box::new(record))
    }
}

/// `text` with every URL query (a `?` followed by `name=value` text up to the
/// next whitespace) cut to `?…`, in case a transport quoted a request's URL.
fn without_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('?') {
        let after = &rest[at + 1..];
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        out.push_str(&rest[..=at]);
        if after[..end].contains('=') {
            out.push('…');
            rest = &after[end..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `Error::Env`'s message: "environment variable X is not set, and Y is set
/// but empty; export them (see the README)".
fn env_message(unset: &[&str], empty: &[&str]) -> String {
    let names = |list: &[&str]| list.join(" and ");
    let mut parts = Vec::new();
    if !unset.is_empty() {
        let verb = if unset.len() == 1 { "is" } else { "are" };
        parts.push(format!("{} {verb} not set", names(unset)));
    }
    if !empty.is_empty() {
        let verb = if empty.len() == 1 { "is" } else { "are" };
        parts.push(format!("{} {verb} set but empty", names(empty)));
    }
    let count = unset.len() + empty.len();
    format!(
        "environment variable{} {}; export {} (see the README)",
        if parts.len() == 1 && count > 1 {
            "s"
        } else {
            ""
        },
        parts.join(", and "),
        if count == 1 { "it" } else { "them" }
    )
}

/// One link of a transport error's chain of causes, as the HTTP client
/// reported it, its text redacted ([`redact_signed`](crate::redact_signed)):
/// an error keeps its `source()` without ever carrying a replayable signed
/// URL.
///
/// ```
/// use polyv_core::TransportCause;
/// use std::error::Error as _;
///
/// let io = std::io::Error::other("refused for https://h/p?ptime=1&sign=50BF9B165630A8047EB1D17D95A469CC51FF754E");
/// let cause = TransportCause::of(&io);
/// assert_eq!(cause.to_string(), "refused for https://h/p?ptime=1&sign=50BF9B16…");
/// assert!(cause.source().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportCause {
    message: String,
    source: Option<Box<TransportCause>>,
}

impl TransportCause {
    /// `error` and its sources, each as redacted text.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Self {
        Self {
            message: crate::redact_signed(&error.to_string()),
            source: error.source().map(|source| Box::new(Self::of(source))),
        }
    }
}

impl std::fmt::Display for TransportCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
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
    /// The connection was closed before any byte of a response arrived:
    /// typically a kept-alive connection that the server or a load balancer
    /// closed while it sat idle in the pool. The request most likely never
    /// reached the server, so a call that is safe to resend is sent again at
    /// once on a fresh connection, without using a retry.
    Closed,
    /// Anything else the HTTP client reported; not retried.
    Other,
}

impl std::fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Io => "connection",
            Self::Closed => "connection closed before a response",
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
            // del-videos' page spells it without the final dot.
            (400, "the sign is not right." | "the sign is not right") => Self::SignNotRight,
            (400, "cata is not exist.") => Self::CategoryNotFound,
            (400, "child user not exist.") => Self::ChildUserNotFound,
            (400, "delete vids size can't greater than 500 once") => Self::DeleteBatchTooLarge,
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
            Self::EmptyBody { .. } => true,
            Self::Api { code, .. } => *code == 429 || (500..600).contains(code),
            Self::Http { status, .. } => *status == 429 || (500..600).contains(status),
            Self::Oss(err) => err.status() == 429 || (500..600).contains(&err.status()),
            Self::Transport { kind, .. } => !matches!(kind, TransportErrorKind::Other),
            _ => false,
        }
    }

    /// Whether the request failed on a connection that was closed before
    /// any byte of a response arrived ([`TransportErrorKind::Closed`]).
    pub fn is_closed_before_response(&self) -> bool {
        matches!(
            self,
            Self::Transport {
                kind: TransportErrorKind::Closed,
                ..
            }
        )
    }

    /// Whether the request surely never reached the server (the connection
    /// could not be made), so even a call that must not run twice may be
    /// sent again.
    pub fn never_sent(&self) -> bool {
        matches!(
            self,
            Self::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        )
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

    /// Prefixes an [`Error::Transport`]'s message with the host (and port,
    /// when the URI gives one) of `uri`, so that "connection refused" says
    /// where; the call driver does it for every transport. Only the host and port are taken, never the path
    /// or the query. Other errors are returned unchanged.
    ///
    /// ```
    /// use polyv_core::{Error, TransportErrorKind};
    ///
    /// let uri: polyv_core::http::Uri = "http://127.0.0.1:9/v2/video/u/get-by-uploader?ptime=1".parse().unwrap();
    /// let err = Error::Transport { kind: TransportErrorKind::Connect, message: "refused".into(), cause: None };
    /// assert_eq!(err.at_host(&uri).to_string(), "network error (connect): 127.0.0.1:9: refused");
    ///
    /// // A URL the transport quoted loses its query.
    /// let err = Error::Transport {
    ///     kind: TransportErrorKind::Other,
    ///     message: "bad uri http://h/p?email=a%40b&ptime=1 here?".into(),
    ///     cause: None,
    /// };
    /// assert_eq!(err.at_host(&uri).to_string(), "network error (other): 127.0.0.1:9: bad uri http://h/p?… here?");
    /// ```
    #[must_use]
    pub fn at_host(self, uri: &http::Uri) -> Self {
        self.prefixed_with_host(uri)
    }

    /// What a failed attempt reports: the host, and for a timeout which
    /// limit ran out (clients say only "timeout: global" and the like).
    pub(crate) fn in_attempt(self, uri: &http::Uri, timeout: std::time::Duration) -> Self {
        self.timeout_said_plainly(timeout).prefixed_with_host(uri)
    }

    fn timeout_said_plainly(self, timeout: std::time::Duration) -> Self {
        match self {
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                cause,
                ..
            } => Error::Transport {
                kind: TransportErrorKind::Timeout,
                message: format!("no complete response within the {timeout:?} per-attempt timeout"),
                cause,
            },
            other => other,
        }
    }

    fn prefixed_with_host(self, uri: &http::Uri) -> Self {
        match (self, uri.host()) {
            (
                Error::Transport {
                    kind,
                    message,
                    cause,
                },
                Some(host),
            ) => {
                let host = match uri.port_u16() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                };
                Error::Transport {
                    kind,
                    message: format!("{host}: {}", without_queries(&message)),
                    cause,
                }
            }
            (other, _) => other,
        }
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
            Self::DeleteBatchTooLarge => "delete vids size can't greater than 500 once",
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
                400,
                "delete vids size can't greater than 500 once",
                |e| matches!(e, Error::DeleteBatchTooLarge),
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
        // The dotless spelling of del-videos' page is the same refusal.
        assert!(matches!(
            Error::from_api(400, "the sign is not right"),
            Error::SignNotRight
        ));
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
