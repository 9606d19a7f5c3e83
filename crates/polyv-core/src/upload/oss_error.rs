//! What an OSS answer other than success means for an upload.

use std::fmt;

use crate::Error;

/// The status of a CompleteMultipartUpload whose callback failed: the
/// object is stored, the callback server did not accept it.
pub const CALLBACK_FAILED_STATUS: u16 = 203;

/// An OSS error answer: the HTTP status and the `<Error>` document's
/// `Code`, `Message` and `RequestId` (nothing else of it is kept: OSS's
/// `StringToSign` would quote the security token).
///
/// ```
/// use polyv_core::upload::{OssError, OssErrorAction};
///
/// let body = b"<Error><Code>SecurityTokenExpired</Code><Message>The security token you provided has expired.</Message><RequestId>R1</RequestId></Error>";
/// let err = OssError::from_response(403, body);
/// assert_eq!(err.code(), "SecurityTokenExpired");
/// assert_eq!(err.action(), OssErrorAction::RefreshCredentials);
/// assert_eq!(err.to_string(), "OSS answered HTTP 403 SecurityTokenExpired: The security token you provided has expired. (request R1)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssError {
    status: u16,
    code: String,
    message: String,
    request_id: String,
}

/// What to do about an [`OssError`] (the spec's 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OssErrorAction {
    /// The STS credentials expired or were refused (`SecurityTokenExpired`,
    /// `InvalidAccessKeyId`, or any other 403 but a signature mismatch):
    /// get fresh ones from Polyv's `token` and send the same request again,
    /// same uploadId and parts.
    RefreshCredentials,
    /// The multipart upload is gone (`NoSuchUpload`: aborted, expired):
    /// start a new multipart upload of the same object for the same vid.
    RestartMultipart,
    /// CompleteMultipartUpload stored the object but Polyv's callback failed
    /// (HTTP 203 `CallbackFailed`): worth one more Complete, then an error
    /// saying the bytes are stored.
    CallbackFailed,
    /// A passing failure (5xx, throttling, `RequestTimeout`): send the same
    /// request again after a backoff.
    Retry,
    /// Anything else (a signature mismatch, a refused part size...): stop
    /// and report.
    Fail,
}

impl OssError {
    /// Reads an answer's status and body. A body that is not an OSS
    /// `<Error>` document keeps the code `HTTP{status}` and no message.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        match super::xml::parse_error(body) {
            Some((code, message, request_id)) => Self {
                status,
                code,
                message: printable(&message),
                request_id: printable(&request_id),
            },
            None => Self {
                status,
                code: format!("HTTP{status}"),
                message: String::new(),
                request_id: String::new(),
            },
        }
    }

    /// An error with these parts (for tests and mocks).
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            request_id: String::new(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The OSS error code (`NoSuchUpload`...), or `HTTP{status}` when the
    /// body was not an OSS error document.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// OSS's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// OSS's request id, for Aliyun support.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// What to do about it.
    pub fn action(&self) -> OssErrorAction {
        match (self.status, self.code.as_str()) {
            (_, "SecurityTokenExpired" | "InvalidAccessKeyId" | "InvalidSecurityToken") => {
                OssErrorAction::RefreshCredentials
            }
            (_, "NoSuchUpload") => OssErrorAction::RestartMultipart,
            (_, "CallbackFailed") | (CALLBACK_FAILED_STATUS, _) => OssErrorAction::CallbackFailed,
            (_, "SignatureDoesNotMatch" | "RequestTimeTooSkewed") => OssErrorAction::Fail,
            // JS refreshes on any 403; an expired token is the likely cause.
            (403, _) => OssErrorAction::RefreshCredentials,
            (_, "RequestTimeout" | "InternalError" | "ServiceUnavailable") => OssErrorAction::Retry,
            (408 | 429 | 500..=599, _) => OssErrorAction::Retry,
            _ => OssErrorAction::Fail,
        }
    }

    /// As the SDK's [`Error`]: [`Error::Oss`] (never [`Error::Api`], whose
    /// 403 would read as Polyv's rate-limit block). 5xx and 429 read as
    /// retryable.
    pub fn into_error(self) -> Error {
        Error::Oss(self)
    }
}

impl fmt::Display for OssError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OSS answered HTTP {} {}", self.status, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if !self.request_id.is_empty() {
            write!(f, " (request {})", self.request_id)?;
        }
        Ok(())
    }
}

impl std::error::Error for OssError {}

/// At most 300 characters, control characters as spaces.
fn printable(text: &str) -> String {
    text.trim()
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_means_one_thing() {
        use OssErrorAction::*;
        let table: &[(u16, &str, OssErrorAction)] = &[
            (403, "SecurityTokenExpired", RefreshCredentials),
            (403, "InvalidAccessKeyId", RefreshCredentials),
            (400, "InvalidAccessKeyId", RefreshCredentials),
            (403, "AccessDenied", RefreshCredentials),
            (403, "SignatureDoesNotMatch", Fail),
            (403, "RequestTimeTooSkewed", Fail),
            (404, "NoSuchUpload", RestartMultipart),
            (203, "CallbackFailed", CallbackFailed),
            (203, "HTTP203", CallbackFailed),
            (400, "RequestTimeout", Retry),
            (500, "InternalError", Retry),
            (503, "HTTP503", Retry),
            (429, "HTTP429", Retry),
            (400, "InvalidPartOrder", Fail),
            (400, "EntityTooSmall", Fail),
            (404, "NoSuchKey", Fail),
        ];
        for (status, code, action) in table {
            assert_eq!(
                OssError::new(*status, *code, "").action(),
                *action,
                "{status} {code}"
            );
        }
    }

    #[test]
    fn bodies_that_are_not_oss_errors_keep_the_status() {
        let err = OssError::from_response(502, b"<html>bad gateway</html>");
        assert_eq!(err.code(), "HTTP502");
        assert_eq!(err.action(), OssErrorAction::Retry);
        let as_error = err.into_error();
        assert!(matches!(&as_error, Error::Oss(e) if e.status() == 502));
        assert!(as_error.is_retryable());
        assert!(!as_error.is_rate_limit_block());
        assert!(
            !OssError::new(403, "AccessDenied", "")
                .into_error()
                .is_rate_limit_block()
        );
    }

    #[test]
    fn messages_are_cut_and_never_carry_the_string_to_sign() {
        let body = format!(
            "<Error><Code>SignatureDoesNotMatch</Code><Message>{}\nx</Message><StringToSign>x-oss-security-token:SECRET</StringToSign></Error>",
            "m".repeat(500)
        );
        let err = OssError::from_response(403, body.as_bytes());
        assert_eq!(err.message().chars().count(), 300);
        assert!(!err.to_string().contains("SECRET"));
        assert!(!format!("{err:?}").contains("SECRET"));
    }
}
