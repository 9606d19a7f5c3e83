//! Uploading videos: Polyv's `init`/`token` endpoints, the Aliyun OSS
//! multipart upload they hand out credentials for (signature V1), the part
//! planner, and the upload state machine with its resumable state. All
//! sans-IO: the transports read the file, keep the clock and send.
//!
//! The flow (spec sections 1b and 2; `docs/upload.md` says which parts are
//! inferred):
//!
//! 1. [`InitUpload`] (`POST /v2/uploadvideo/{userid}/init`): a new vid and
//!    STS credentials ([`UploadTicket`]); [`check_space`] against
//!    `remainSpace`. A resumed upload asks [`InitUpload::resume`] instead:
//!    fresh credentials, same vid.
//! 2. OSS multipart upload to `{scheme}://{domain}/{dir}{vid}.{ext}` with
//!    [`OssRequests`]: Initiate, UploadPart × [`PartPlan::part_count`],
//!    Complete with Polyv's callback as `x-oss-callback`.
//! 3. [`RefreshUploadToken`] when the credentials run out.
//!
//! [`Upload`] decides all of it; a transport is a loop around it. Here one
//! runs against canned answers, where a real one sends each request:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use polyv_core::upload::*;
//! use polyv_core::{Config, Credentials, parse_response};
//!
//! let config = Config::new(Credentials::new("1b448be323", "secret")?);
//! let file = FileIdentity::new("/videos/talk.mp4", 300 * 1024, 1_700_000_000_000);
//! let plan = PartPlan::with_part_size(file.size, 100 * 1024)?;
//! let mut upload = Upload::new(file.clone(), plan, UrlScheme::of_base_url(config.base_url()), 2)?;
//! let now_ms = 1_700_000_000_000;
//! let date = UNIX_EPOCH + Duration::from_millis(now_ms);
//! let init_answer = br#"{"code":200,"status":"success","message":"","data":{"vid":"1b448be323a_1",
//!   "accessId":"STS.id","accessKey":"k","token":"t","validityTime":3600,"bucketName":"b",
//!   "domain":"upload.example.com","dir":"polyvupload/","remainSpace":1073741824,
//!   "callback":"{\"callbackUrl\":\"https://cb.example/\",\"callbackBody\":\"x\"}"}}"#;
//!
//! let mut saved = String::new();
//! let vid = loop {
//!     match upload.next(now_ms) {
//!         Action::Init => {
//!             let request = config.prepare(&InitUpload::new("talk", file.size)?, now_ms)?;
//!             # let _ = request;
//!             let ticket: UploadTicket = parse_response(200, None, init_answer)?; // the answer
//!             upload.on_ticket(&ticket, now_ms);
//!         }
//!         Action::Save => saved = upload.resume_state().to_json()?, // write it to the cache file
//!         Action::Initiate { .. } => {
//!             let request = upload.oss().unwrap().initiate(date)?;
//!             # let _ = request;
//!             let body = b"<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>";
//!             upload.on_initiated(&parse_initiate(body)?);
//!         }
//!         Action::UploadPart { part, upload_id, .. } => {
//!             let head = upload.oss().unwrap().upload_part_head(part.number, &upload_id, part.len, date)?;
//!             // Stream part.len bytes of the file from part.offset as the body; the answer's ETag:
//!             # let _ = head;
//!             upload.on_part_uploaded(part.number, &upload_id, &format!("\"E{}\"", part.number));
//!         }
//!         Action::Complete { upload_id, parts, .. } => {
//!             let request = upload.oss().unwrap().complete(&upload_id, &parts, upload.callback(), date)?;
//!             assert!(request.headers().contains_key(CALLBACK_HEADER));
//!             upload.on_completed(); // HTTP 200; else on_complete_failed(OssError::from_response(..).into())
//!         }
//!         Action::Done { vid } => break vid,
//!         Action::Failed(err) => return Err(err.into()),
//!         other => unreachable!("not in this run: {other:?}"),
//!     }
//! };
//! assert_eq!(vid, "1b448be323a_1");
//! assert_eq!(ResumeState::from_json(saved.as_bytes())?.parts.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod endpoints;
mod machine;
mod options;
mod oss;
mod oss_error;
mod plan;
#[cfg(test)]
mod properties;
mod xml;

pub use endpoints::{
    GrabItem, GrabUrls, InitUpload, MAX_GRAB_BATCH, MAX_GRAB_STATE_CHARS, MAX_GRAB_URL_CHARS,
    RefreshUploadToken, UPLOAD_TYPE, UploadTicket, check_space,
};
pub use machine::{
    Action, Failure, FileIdentity, MAX_ATTEMPTS, MAX_REFRESHES_WITHOUT_PROGRESS, MAX_RESTARTS,
    REFRESH_MARGIN_MS, RESUME_STATE_VERSION, ResumeState, Upload,
};
pub use options::{
    ProgressFn, UploadOptions, UploadProgress, Uploaded, default_state_dir, upload_plan,
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
