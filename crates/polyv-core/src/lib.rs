//! # polyv-core
//!
//! The sans-IO heart of the Polyv (保利威) video cloud SDK. It turns typed
//! queries into signed [`http::Request`]s and response bytes into typed
//! results, and holds the policies every transport shares (retries, clock
//! skew, pacing, pagination). It opens no socket, reads no clock and spawns
//! nothing: the time, the randomness and the bytes are handed in, so any HTTP
//! client can drive it.
//!
//! ```
//! use polyv_core::{Config, Credentials, GetByUploader, Order, parse_response};
//!
//! let config = Config::new(Credentials::new("b0f7041324", "tIQp4ATe9Z")?);
//! let query = GetByUploader::builder().order(Order::PtimeDesc).page_size(100).build()?;
//!
//! // 1. A request out: method, URL with the encoded, signed query, headers.
//! let request = config.prepare(&query, 1_700_000_000_000)?;
//! assert_eq!(request.method(), "GET");
//!
//! // 2. Send it with any HTTP client; 3. bytes in, a typed result back.
//! let body = br#"{"code":200,"status":"success","message":"success",
//!   "data":{"pageSize":100,"pageNumber":1,"totalItems":0,"contents":[]}}"#;
//! let page = parse_response::<polyv_core::Page<polyv_core::Video>>(200, None, body)?;
//! assert!(!page.has_next());
//! # Ok::<(), polyv_core::Error>(())
//! ```
//!
//! Transports that retry use [`Call`], which adds re-signing on every
//! attempt, the retry policy and clock-skew correction around the same two
//! steps; walkers use [`Paginator`].
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod call;
mod config;
mod credentials;
mod endpoint;
mod error;
mod get_by_uploader;
mod inline;
mod page;
mod paginate;
mod policy;
mod response;
mod sign;
mod video;

pub use call::{Call, Next, Response};
pub use config::{ClientState, Config, DEFAULT_BASE_URL, DEFAULT_USER_AGENT};
pub use credentials::{Credentials, ENV_SECRET_KEY, ENV_USER_ID, SecretKey, UserId};
pub use endpoint::{Endpoint, PTIME_PARAM, Params, RawCall, SignedParams, redact_signed};
pub use error::{Error, TransportErrorKind};
pub use get_by_uploader::{GetByUploader, GetByUploaderBuilder, MAX_PAGE_SIZE, Order, Paged};
pub use page::Page;
pub use paginate::{Paginator, Progress};
pub use policy::{
    Gcra, GcraStep, POLYV_BLOCK, Pacer, RateDecision, RateLimit, RetryDecision, RetryPolicy,
    clock_offset_ms, corrected_ms, unix_ms,
};
pub use response::{parse_response, parse_retry_after};
pub use sign::{SIGN_PARAM, Sign, canonical_string, sign};
pub use video::{Tags, Timestamp, Video, VideoStatus};

/// Re-exported so callers name the same `http` types the core speaks.
pub use http;
