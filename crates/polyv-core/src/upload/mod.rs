//! Uploading videos: Polyv's `init`/`token` endpoints, the Aliyun OSS
//! multipart upload they hand out credentials for (signature V1), the part
//! planner, and the upload state machine with its resumable state. All
//! sans-IO: the transports read the file, keep the clock and send.
//!
//! See `docs/upload.md` for the flow, resume, and which parts of Polyv's
//! behaviour are inferred rather than documented.

mod endpoints;
mod machine;
mod oss;
mod oss_error;
mod plan;
mod xml;

pub use endpoints::{
    GrabItem, GrabUrls, InitUpload, MAX_GRAB_BATCH, MAX_GRAB_STATE_CHARS, MAX_GRAB_URL_CHARS,
    RefreshUploadToken, UPLOAD_TYPE, UploadTicket, check_space,
};
pub use machine::{
    Action, Failure, FileIdentity, MAX_ATTEMPTS, MAX_REFRESHES_WITHOUT_PROGRESS, MAX_RESTARTS,
    REFRESH_MARGIN_MS, RESUME_STATE_VERSION, ResumeState, Upload,
};
pub use oss::{
    CALLBACK_HEADER, INITIATE_CONTENT_TYPE, OssCallback, OssObject, OssRequests, RequestHead,
    SECURITY_TOKEN_HEADER, StsCredentials, UrlScheme, XML_CONTENT_TYPE, authorization,
    file_extension, object_key, string_to_sign,
};
pub use oss_error::{CALLBACK_FAILED_STATUS, OssError, OssErrorAction};
pub use plan::{
    DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, MAX_CONCURRENCY, MAX_FILE_SIZE, MAX_PART_SIZE,
    MIN_PART_SIZE, Part, PartPlan, check_concurrency,
};
pub use xml::{
    FinishedPart, ListedPart, ListedParts, complete_body, parse_initiate, parse_list_parts,
};

/// The most parts one OSS multipart upload may have.
pub const MAX_PARTS: u32 = 10_000;
