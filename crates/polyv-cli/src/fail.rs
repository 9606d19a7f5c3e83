//! Exit statuses, and what is said on stderr when something goes wrong.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use polyv_core::{Error, StopReason, TransportErrorKind};

/// The exit statuses scripts rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// 0: success (also when stdout was closed early, e.g. by `head`).
    Success = 0,
    /// 1: the API refused the request.
    Refused = 1,
    /// 2: bad usage or input; nothing was sent.
    Usage = 2,
    /// 3: network or server trouble that the retries did not cure.
    Trouble = 3,
    /// 4: the command finished, but some records could not be read (each
    /// was reported on stderr; every other record was written).
    Incomplete = 4,
    /// 130: stopped on request before finishing (an upload cancelled;
    /// running the same command again resumes it).
    Stopped = 130,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status as u8)
    }
}

/// Why a command ended early.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An SDK error (bad input, the API refused, the network failed).
    Sdk(Error),
    /// Writing the results failed for a reason other than a closed pipe.
    Output(io::Error),
    /// The in-process mock server could not start.
    #[cfg(feature = "mock")]
    Mock(io::Error),
    /// stdout was closed by its reader (`polyv ... | head`): not an error.
    StdoutClosed,
    /// Everything readable was written, but this many records were not
    /// (each already reported with a warning).
    Unreadable {
        /// Records that could not be read.
        records: u64,
        /// Records that were written.
        written: u64,
    },
    /// Bad usage found by the command itself (a delete without `--yes`):
    /// nothing was sent; exit status 2.
    Usage {
        /// The `error:` line.
        error: String,
        /// The `hint:` line.
        hint: String,
    },
    /// Stopped on request before finishing (an upload cancelled): the
    /// `stopped:` line, then the `hint:` line; exit status 130.
    Stopped {
        /// What was done before the stop.
        error: String,
        /// How to continue.
        hint: String,
    },
    /// A failure, then one more `hint:` line of the command's own (the
    /// flag that fixes it, the values that would work).
    Hinted(Box<Failure>, String),
}

/// How the last call that failed for good ended: its attempts and why it
/// stopped, as the SDK's observer reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GaveUp {
    pub(crate) attempts: u32,
    pub(crate) reason: StopReason,
}

/// The last [`GaveUp`] of this process (the CLI makes its calls for one
/// command; the hint describes the one that failed).
static LAST_GAVE_UP: Mutex<Option<GaveUp>> = Mutex::new(None);

/// Remembers how a call gave up, for the hint.
pub(crate) fn record_gave_up(gave_up: GaveUp) {
    if let Ok(mut slot) = LAST_GAVE_UP.lock() {
        *slot = Some(gave_up);
    }
}

fn last_gave_up() -> Option<GaveUp> {
    LAST_GAVE_UP.lock().ok().and_then(|slot| *slot)
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Sdk(error)
    }
}

/// Which exit status an SDK error means. Every variant is named, so a new one
/// is a compile-time decision here; `Error` is `#[non_exhaustive]`, and a
/// variant added later counts as trouble (3).
pub(crate) fn status_of(error: &Error) -> Status {
    match error {
        Error::InvalidInput(_) | Error::MissingEnv(_) | Error::Env { .. } => Status::Usage,
        Error::SignEmpty
        | Error::PtimeTooOld
        | Error::PtimeIllegal
        | Error::UserNotFound
        | Error::SignNotRight
        | Error::CategoryNotFound
        | Error::ChildUserNotFound
        | Error::DeleteBatchTooLarge => Status::Refused,
        // A code the SDK does not know: a refusal, unless it is the kind of
        // answer (429, 5xx) that retries were meant to cure.
        Error::Api { .. } if error.is_retryable() => Status::Trouble,
        Error::Api { .. } => Status::Refused,
        // OSS's refusals (a bad signature, a part size it will not take)
        // are final; its 5xx and throttling are trouble, as for Polyv.
        Error::Oss(_) if error.is_retryable() => Status::Trouble,
        Error::Oss(_) => Status::Refused,
        Error::UploadCancelled { .. } => Status::Stopped,
        Error::CallbackFailed { .. } | Error::UploadUnconfirmed { .. } => Status::Trouble,
        Error::QueryFailed
        | Error::Http { .. }
        | Error::EmptyBody { .. }
        | Error::Truncated { .. }
        | Error::UnreadableRecord(_)
        | Error::Decode { .. }
        | Error::BodyTooLarge { .. }
        | Error::Transport { .. } => Status::Trouble,
        _ => Status::Trouble,
    }
}

/// The lines to print on stderr for an SDK error: the server's own message
/// verbatim when it sent one, then a hint of what to check and, when a
/// request was made, how many attempts were made and why they stopped.
pub(crate) fn describe(error: &Error, retries: u32, gave_up: Option<GaveUp>) -> Vec<String> {
    let mut lines = Vec::with_capacity(3);
    match error.api_message() {
        Some(message) => {
            lines.push(format!("error: {}", printable(message)));
            lines.push(format!("hint: {}", printable(&error.to_string())));
        }
        None => lines.push(format!("error: {}", printable(&error.to_string()))),
    }
    let attempts = gave_up.map(|g| attempts_made(g, retries));
    let hint = match error {
        Error::MissingEnv(_) | Error::Env { .. } => Some(
            "export POLYV_USER_ID and POLYV_SECRET_KEY; no account? try `polyv demo` or `--mock`"
                .to_owned(),
        ),
        Error::Transport { kind, .. } => Some(
            match kind {
                TransportErrorKind::Connect => "check --base-url / POLYV_BASE_URL and the network",
                TransportErrorKind::Timeout => "the server was slow; raise --timeout or --retries",
                _ => "the connection failed; try again or raise --retries",
            }
            .to_owned(),
        ),
        Error::Http { status, .. } => Some(format!(
            "HTTP {status} came from the server or a proxy in between"
        )),
        Error::Oss(_) => Some(
            "OSS is the object storage Polyv hands uploads to; its code and request id are what Polyv's support asks for".to_owned(),
        ),
        Error::EmptyBody { .. } | Error::QueryFailed | Error::Truncated { .. } => {
            Some("the server is having trouble".to_owned())
        }
        Error::Api { .. } if error.is_retryable() => {
            Some("the server is having trouble".to_owned())
        }
        _ => None,
    };
    match (hint, attempts) {
        (Some(hint), Some(attempts)) => lines.push(format!("hint: {hint}; {attempts}")),
        (Some(hint), None) => lines.push(format!("hint: {hint}")),
        (None, Some(attempts)) if error.is_retryable() => lines.push(format!("hint: {attempts}")),
        (None, _) => {}
    }
    lines
}

/// "gave up after 4 attempts (--retries 3)", or why there were fewer.
fn attempts_made(gave_up: GaveUp, retries: u32) -> String {
    let GaveUp { attempts, reason } = gave_up;
    let plural = if attempts == 1 { "" } else { "s" };
    match reason {
        StopReason::RetriesExhausted => {
            format!("gave up after {attempts} attempt{plural} (--retries {retries})")
        }
        StopReason::NotRetryable => {
            format!("stopped after {attempts} attempt{plural}: retrying cannot fix this error")
        }
        StopReason::RetryAfterTooLong { requested, cap } => format!(
            "stopped after {attempts} attempt{plural}: the server asked to retry after {} s, longer than the {} s the client waits",
            requested.as_secs(),
            cap.as_secs()
        ),
        StopReason::NotSafeToResend => format!(
            "stopped after {attempts} attempt{plural}: the call must not run twice and may have reached the server"
        ),
        _ => format!("stopped after {attempts} attempt{plural}: {reason}"),
    }
}

/// Prints `failure` on stderr and returns its exit status. A closed stderr
/// is ignored: the status still tells.
pub(crate) fn report(failure: &Failure, retries: u32) -> Status {
    let (status, lines) = match failure {
        Failure::StdoutClosed => return Status::Success,
        Failure::Hinted(failure, hint) => {
            let status = report(failure, retries);
            let _ = writeln!(io::stderr().lock(), "{}", printable(hint));
            return status;
        }
        Failure::Sdk(error) => (status_of(error), describe(error, retries, last_gave_up())),
        Failure::Usage { error, hint } => (
            Status::Usage,
            vec![
                format!("error: {}", printable(error)),
                format!("hint: {}", printable(hint)),
            ],
        ),
        Failure::Stopped { error, hint } => (
            Status::Stopped,
            vec![
                format!("stopped: {}", printable(error)),
                format!("hint: {}", printable(hint)),
            ],
        ),
        Failure::Unreadable { records, written } => (
            Status::Incomplete,
            vec![format!(
                "error: {records} record{} could not be read (see the warnings above); the other {written} were written",
                if *records == 1 { "" } else { "s" }
            )],
        ),
        Failure::Output(error) => (
            Status::Trouble,
            vec![format!("error: cannot write the output: {error}")],
        ),
        #[cfg(feature = "mock")]
        Failure::Mock(error) => (
            Status::Trouble,
            vec![format!("error: cannot start the mock server: {error}")],
        ),
    };
    let mut stderr = io::stderr().lock();
    for line in lines {
        let _ = writeln!(stderr, "{line}");
    }
    status
}

/// Control characters escaped, so a message from the network cannot drive
/// the terminal; everything else verbatim.
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyv_core::upload::OssError;

    #[test]
    fn every_error_has_its_status() {
        let cases: Vec<(Error, Status)> = vec![
            (Error::InvalidInput("x".into()), Status::Usage),
            (Error::MissingEnv("POLYV_USER_ID"), Status::Usage),
            (
                Error::Env {
                    unset: vec!["POLYV_USER_ID"],
                    empty: vec!["POLYV_SECRET_KEY"],
                },
                Status::Usage,
            ),
            (Error::SignEmpty, Status::Refused),
            (Error::PtimeTooOld, Status::Refused),
            (Error::PtimeIllegal, Status::Refused),
            (Error::UserNotFound, Status::Refused),
            (Error::SignNotRight, Status::Refused),
            (Error::CategoryNotFound, Status::Refused),
            (Error::ChildUserNotFound, Status::Refused),
            (Error::from_api(403, "forbidden."), Status::Refused),
            (Error::from_api(429, "slow down."), Status::Trouble),
            (Error::from_api(503, "busy."), Status::Trouble),
            (Error::QueryFailed, Status::Trouble),
            (
                Error::Http {
                    status: 502,
                    retry_after: None,
                    excerpt: "<html>".into(),
                },
                Status::Trouble,
            ),
            (
                Error::Truncated {
                    status: 200,
                    excerpt: "{".into(),
                },
                Status::Trouble,
            ),
            (
                Error::Decode {
                    path: "data".into(),
                    message: "m".into(),
                },
                Status::Trouble,
            ),
            (Error::BodyTooLarge { limit: 1 }, Status::Trouble),
            (
                Error::Oss(OssError::new(403, "SignatureDoesNotMatch", "")),
                Status::Refused,
            ),
            (
                Error::Oss(OssError::new(503, "ServiceUnavailable", "")),
                Status::Trouble,
            ),
            (
                Error::UploadCancelled {
                    parts_done: 1,
                    parts_total: 2,
                    path: "a.mp4".into(),
                },
                Status::Stopped,
            ),
            (
                Error::CallbackFailed {
                    vid: "v".into(),
                    object: "o".into(),
                },
                Status::Trouble,
            ),
            (
                Error::UploadUnconfirmed { vid: "v".into() },
                Status::Trouble,
            ),
            (
                Error::Transport {
                    kind: TransportErrorKind::Connect,
                    message: "refused".into(),
                    cause: None,
                },
                Status::Trouble,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(status_of(&error), status, "{error:?}");
            assert!(!describe(&error, 3, None).is_empty());
        }
    }

    #[test]
    fn server_messages_come_first_and_verbatim() {
        let lines = describe(&Error::SignNotRight, 3, None);
        assert_eq!(lines[0], "error: the sign is not right.");
        assert!(lines[1].starts_with("hint: ") && lines[1].contains("polyv sign --explain"));
        let lines = describe(&Error::from_api(401, "new\x1b[2J message."), 3, None);
        assert_eq!(lines[0], "error: new\\u{1b}[2J message.");
        let http = Error::Http {
            status: 502,
            retry_after: None,
            excerpt: "<html>".into(),
        };
        let exhausted = GaveUp {
            attempts: 1,
            reason: StopReason::RetriesExhausted,
        };
        let lines = describe(&http, 0, Some(exhausted));
        assert!(lines[0].contains("HTTP 502"));
        assert!(
            lines[1].contains("gave up after 1 attempt (--retries 0)"),
            "{lines:?}"
        );
    }

    #[test]
    fn hints_say_how_many_attempts_were_made_and_why_they_stopped() {
        let busy = Error::Http {
            status: 503,
            retry_after: Some(std::time::Duration::from_secs(3600)),
            excerpt: String::new(),
        };
        let too_long = GaveUp {
            attempts: 1,
            reason: StopReason::RetryAfterTooLong {
                requested: std::time::Duration::from_secs(3600),
                cap: std::time::Duration::from_secs(60),
            },
        };
        let hint = describe(&busy, 3, Some(too_long)).join("\n");
        assert!(
            hint.contains("stopped after 1 attempt: the server asked to retry after 3600 s"),
            "{hint}"
        );
        assert!(!hint.contains("4 attempts"), "{hint}");
        let redirect = Error::Http {
            status: 302,
            retry_after: None,
            excerpt: String::new(),
        };
        let final_error = GaveUp {
            attempts: 1,
            reason: StopReason::NotRetryable,
        };
        let hint = describe(&redirect, 3, Some(final_error)).join("\n");
        assert!(
            hint.contains("stopped after 1 attempt: retrying cannot fix this error"),
            "{hint}"
        );
        let refused = Error::Transport {
            kind: TransportErrorKind::Connect,
            message: "refused".into(),
            cause: None,
        };
        let used_up = GaveUp {
            attempts: 4,
            reason: StopReason::RetriesExhausted,
        };
        let hint = describe(&refused, 3, Some(used_up)).join("\n");
        assert!(
            hint.contains("gave up after 4 attempts (--retries 3)"),
            "{hint}"
        );
        // No request made (bad input): no attempts to speak of.
        let hint = describe(&Error::InvalidInput("x".into()), 3, None).join("\n");
        assert!(!hint.contains("attempt"), "{hint}");
    }
}
