//! Uploading videos: Polyv's `init`/`token` endpoints, the Aliyun OSS
//! multipart upload they hand out credentials for (signature V1), the part
//! planner, and the upload state machine with its resumable state. All
//! sans-IO: the transports read the file, keep the clock and send.
//!
//! See `docs/upload.md` for the flow, resume, and which parts of Polyv's
//! behaviour are inferred rather than documented.

mod oss;
mod oss_error;
mod xml;

pub use oss::{
    CALLBACK_HEADER, INITIATE_CONTENT_TYPE, OssCallback, OssObject, OssRequests, RequestHead,
    SECURITY_TOKEN_HEADER, StsCredentials, UrlScheme, XML_CONTENT_TYPE, authorization,
    file_extension, object_key, string_to_sign,
};
pub use oss_error::{CALLBACK_FAILED_STATUS, OssError, OssErrorAction};
pub use xml::{
    FinishedPart, ListedPart, ListedParts, complete_body, parse_initiate, parse_list_parts,
};

/// The most parts one OSS multipart upload may have.
pub const MAX_PARTS: u32 = 10_000;
