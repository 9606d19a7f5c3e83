//! Exit statuses, and what is said on stderr when something goes wrong.

use std::io::{self, Write};
use std::process::ExitCode;

use polyv_core::{Error, TransportErrorKind};

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
    /// A failure, then one more `hint:` line of the command's own (the
    /// flag that fixes it, the values that would work).
    Hinted(Box<Failure>, String),
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
        | Error::ChildUserNotFound => Status::Refused,
        // A code the SDK does not know: a refusal, unless it is the kind of
        // answer (429, 5xx) that retries were meant to cure.
        Error::Api { .. } if error.is_retryable() => Status::Trouble,
        Error::Api { .. } => Status::Refused,
        Error::QueryFailed
        | Error::Http { .. }
        | Error::Truncated { .. }
        | Error::Decode { .. }
        | Error::BodyTooLarge { .. }
        | Error::Transport { .. } => Status::Trouble,
        _ => Status::Trouble,
    }
}

/// The lines to print on stderr for an SDK error: the server's own message
/// verbatim when it sent one, then a hint of what to check.
pub(crate) fn describe(error: &Error, retries: u32) -> Vec<String> {
    let mut lines = Vec::with_capacity(3);
    match error.api_message() {
        Some(message) => {
            lines.push(format!("error: {}", printable(message)));
            lines.push(format!("hint: {}", printable(&error.to_string())));
        }
        None => lines.push(format!("error: {}", printable(&error.to_string()))),
    }
    let attempts = retries.saturating_add(1);
    let gave_up = format!(
        "gave up after {attempts} attempt{} (--retries {retries})",
        if attempts == 1 { "" } else { "s" }
    );
    match error {
        Error::MissingEnv(_) | Error::Env { .. } => lines.push(
            "hint: export POLYV_USER_ID and POLYV_SECRET_KEY; no account? try `polyv demo` or `--mock`"
                .into(),
        ),
        Error::Transport { kind, .. } => {
            let what = match kind {
                TransportErrorKind::Connect => {
                    "check --base-url / POLYV_BASE_URL and the network"
                }
                TransportErrorKind::Timeout => "the server was slow; raise --timeout or --retries",
                _ => "the connection failed; try again or raise --retries",
            };
            lines.push(format!("hint: {what}; {gave_up}"));
        }
        Error::Http { status, .. } => lines.push(format!(
            "hint: HTTP {status} came from the server or a proxy in between; {gave_up}"
        )),
        Error::QueryFailed | Error::Truncated { .. } => {
            lines.push(format!("hint: the server is having trouble; {gave_up}"));
        }
        Error::Api { .. } if error.is_retryable() => {
            lines.push(format!("hint: the server is having trouble; {gave_up}"));
        }
        _ => {}
    }
    lines
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
        Failure::Sdk(error) => (status_of(error), describe(error, retries)),
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
fn printable(text: &str) -> String {
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
                Error::Transport {
                    kind: TransportErrorKind::Connect,
                    message: "refused".into(),
                },
                Status::Trouble,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(status_of(&error), status, "{error:?}");
            assert!(!describe(&error, 3).is_empty());
        }
    }

    #[test]
    fn server_messages_come_first_and_verbatim() {
        let lines = describe(&Error::SignNotRight, 3);
        assert_eq!(lines[0], "error: the sign is not right.");
        assert!(lines[1].starts_with("hint: ") && lines[1].contains("polyv sign --explain"));
        let lines = describe(&Error::from_api(401, "new\x1b[2J message."), 3);
        assert_eq!(lines[0], "error: new\\u{1b}[2J message.");
        let http = Error::Http {
            status: 502,
            retry_after: None,
            excerpt: "<html>".into(),
        };
        let lines = describe(&http, 0);
        assert!(lines[0].contains("HTTP 502"));
        assert!(lines[1].contains("1 attempt (--retries 0)"));
    }
}
