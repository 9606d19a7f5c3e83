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
//! The crate root holds what users of the API need; the API's areas are
//! modules ([`videos`], [`categories`], [`account`], [`stats`]); [`driver`] holds the machinery a transport runs
//! ([`driver::Call`]: pacing, re-signing every attempt, retries, clock-skew
//! correction; [`driver::Paginator`]: walking pages), for anyone plugging in
//! an HTTP client of their own.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod account;
pub mod categories;
mod config;
mod credentials;
pub mod driver;
mod endpoint;
mod error;
mod input;
pub mod lenient;
mod page;
mod response;
mod sign;
pub mod stats;
pub mod upload;
pub mod videos;
mod wire;

pub use config::{Config, DEFAULT_BASE_URL, DEFAULT_USER_AGENT, ENV_BASE_URL, FORM_CONTENT_TYPE};
pub use credentials::{Credentials, ENV_SECRET_KEY, ENV_USER_ID, SecretKey, UserId};
pub use driver::{
    CallEvent, Observer, Progress, RateDecision, RateLimit, RetryPolicy, StopReason, TotalChange,
};
pub use endpoint::{Endpoint, PTIME_PARAM, Paged, Params, RawCall, redact_signed};
pub use error::{Error, TransportCause, TransportErrorKind};
pub use page::{Page, RecordError, Records};
pub use response::{parse_page_response, parse_response, parse_retry_after};
pub use sign::{SIGN_PARAM, Sign, SignedParams, canonical_string, sign};
pub use videos::{GetByUploader, Order, Video, VideoStatus};

/// Re-exported so callers name the same `http` types the core speaks.
pub use http;
