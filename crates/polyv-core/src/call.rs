//! One API call as a state machine over its attempts, so that every transport
//! runs the same loop: ask for a request, send it, report what came back, and
//! either take the result or sleep and go again.

use std::sync::Arc;
use std::time::Duration;

use crate::policy::{RetryDecision, StopReason, clock_offset_ms, corrected_ms};
use crate::{Config, Endpoint, Error, parse_retry_after};

/// What a transport does after reporting an attempt's outcome.
#[derive(Debug)]
pub enum Next<T> {
    /// The call is over.
    Done(Result<T, Error>),
    /// Sleep this long, then ask [`Call::request`] for a freshly signed request.
    Retry(Duration),
    /// Ask [`Call::request`] for a freshly signed request at once and send it
    /// on a **new** connection, not a pooled one: the last one failed on a
    /// stale kept-alive connection before any response arrived. This does
    /// not use up a retry, and happens at most once per attempt.
    ResendOnFreshConnection,
}

/// Something worth telling the user about a call while it runs, handed to
/// the [observer](Config::with_observer) as it happens. Transports also log
/// these with `tracing`.
#[derive(Debug)]
#[non_exhaustive]
pub enum CallEvent<'a> {
    /// An attempt failed and the call will be tried again after `delay`.
    Retrying {
        /// The attempt that failed (1-based).
        attempt: u32,
        /// The most attempts the policy allows.
        max_attempts: u32,
        /// How long the client waits before the next attempt.
        delay: Duration,
        /// Why the attempt failed.
        error: &'a Error,
    },
    /// The request failed on a stale kept-alive connection before any
    /// response arrived and is sent again at once on a fresh connection
    /// (free: no retry used, no backoff).
    ResendingOnFreshConnection {
        /// The attempt being resent (1-based).
        attempt: u32,
        /// How the stale connection failed.
        error: &'a Error,
    },
    /// The server's clock differs from ours: the offset was corrected from
    /// its `Date` header and the request is signed again (free).
    ClockCorrected {
        /// The new offset, server minus local, in milliseconds.
        offset_ms: i64,
    },
    /// The call failed for good.
    GaveUp {
        /// The attempts actually made.
        attempts: u32,
        /// The most attempts the policy allows.
        max_attempts: u32,
        /// Why no further attempt was made.
        reason: StopReason,
        /// The error the call ends with.
        error: &'a Error,
    },
}

/// A callback that sees every [`CallEvent`] of every call a client makes
/// (set with [`Config::with_observer`]); it runs on the thread or task that
/// makes the call, so it should be quick.
pub type Observer = Arc<dyn Fn(&CallEvent<'_>) + Send + Sync>;

/// What came back from one attempt, as the transport saw it.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Date` header, if any.
    pub date: Option<&'a str>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// The whole body.
    pub body: &'a [u8],
    /// Local time (ms since the epoch, uncorrected) when the response arrived.
    pub received_at_ms: u64,
}

impl<'a> Response<'a> {
    /// Reads status and headers from an `http::Response`.
    pub fn from_http<B: AsRef<[u8]>>(response: &'a http::Response<B>, received_at_ms: u64) -> Self {
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
        };
        Self {
            status: response.status().as_u16(),
            date: header(http::header::DATE),
            retry_after: header(http::header::RETRY_AFTER),
            body: response.body().as_ref(),
            received_at_ms,
        }
    }
}

/// One call of an endpoint, across all its attempts.
///
/// ```
/// use polyv_core::{Call, Config, Credentials, GetByUploader, Next, Response};
///
/// let config = Config::new(Credentials::new("u1", "secret")?);
/// let query = GetByUploader::new();
/// let mut call = Call::new(&config, &query, 0);
/// let request = call.request(1_700_000_000_000)?;
/// # let _ = request;
/// // ... send `request` with any HTTP client, then:
/// let body = br#"{"code":500,"status":"error","message":"query failed.","data":""}"#;
/// let response = Response { status: 500, date: None, retry_after: None, body, received_at_ms: 1_700_000_000_050 };
/// assert!(matches!(call.on_response(response, 0.5), Next::Retry(_)));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Call<'a, E: ?Sized> {
    config: &'a Config,
    endpoint: &'a E,
    attempts: u32,
    clock_offset_ms: i64,
    skew_retried: bool,
    /// The next request repeats the current attempt (a clock fix or a
    /// resend on a fresh connection) instead of starting a new one.
    repeat_next: bool,
    /// The current attempt was already resent on a fresh connection.
    resent_fresh: bool,
    sent_at_ms: u64,
}

impl<'a, E: Endpoint + ?Sized> Call<'a, E> {
    /// Starts a call with the clock offset the client has learnt so far.
    pub fn new(config: &'a Config, endpoint: &'a E, clock_offset_ms: i64) -> Self {
        Self {
            config,
            endpoint,
            attempts: 0,
            clock_offset_ms,
            skew_retried: false,
            repeat_next: false,
            resent_fresh: false,
            sent_at_ms: 0,
        }
    }

    /// The next attempt's request, signed afresh at the local time `local_now_ms`
    /// plus the clock offset.
    pub fn request(&mut self, local_now_ms: u64) -> Result<http::Request<()>, Error> {
        if !std::mem::take(&mut self.repeat_next) {
            self.attempts += 1;
            self.resent_fresh = false;
        }
        self.sent_at_ms = local_now_ms;
        self.config.prepare(
            self.endpoint,
            corrected_ms(local_now_ms, self.clock_offset_ms),
        )
    }

    /// Reports the response to the last request. `jitter` is a random number
    /// in `[0, 1]` for the backoff.
    pub fn on_response(&mut self, response: Response<'_>, jitter: f64) -> Next<E::Data> {
        let retry_after = response.retry_after.and_then(|v| {
            parse_retry_after(
                v,
                std::time::UNIX_EPOCH + Duration::from_millis(response.received_at_ms),
            )
        });
        let error = match self
            .endpoint
            .parse(response.status, retry_after, response.body)
        {
            Ok(data) => return Next::Done(Ok(data)),
            Err(error) => error,
        };
        if error.is_clock_error() && self.config.clock_skew_correction() && !self.skew_retried {
            if let Some(offset) = response
                .date
                .and_then(|date| clock_offset_ms(date, self.sent_at_ms, response.received_at_ms))
            {
                self.skew_retried = true;
                self.clock_offset_ms = offset;
                // A clock fix is not a failure of the server: no backoff, and
                // it does not use up a retry.
                self.repeat_next = true;
                self.observe(&CallEvent::ClockCorrected { offset_ms: offset });
                return Next::Retry(Duration::ZERO);
            }
        }
        self.decide(error, retry_after, jitter)
    }

    /// Reports that the last request failed in the transport (connect, timeout,
    /// broken connection, body too large...).
    ///
    /// A request that failed on a stale kept-alive connection before any
    /// response arrived ([`Error::is_closed_before_response`]) is resent at
    /// once on a fresh connection ([`Next::ResendOnFreshConnection`]), once
    /// per attempt and only for calls that are
    /// [safe to resend](Endpoint::resend_safe); the transport knows whether
    /// the connection was a reused one and says so with `reused` (pass
    /// `true` when it cannot tell).
    pub fn on_transport_error(&mut self, error: Error, reused: bool, jitter: f64) -> Next<E::Data> {
        if reused
            && error.is_closed_before_response()
            && !self.resent_fresh
            && self.endpoint.resend_safe()
        {
            self.resent_fresh = true;
            self.repeat_next = true;
            self.observe(&CallEvent::ResendingOnFreshConnection {
                attempt: self.attempts,
                error: &error,
            });
            return Next::ResendOnFreshConnection;
        }
        self.decide(error, None, jitter)
    }

    fn decide(&self, error: Error, retry_after: Option<Duration>, jitter: f64) -> Next<E::Data> {
        let policy = self.config.retry();
        let decision =
            if error.is_retryable() && !error.never_sent() && !self.endpoint.resend_safe() {
                RetryDecision::Stop(StopReason::NotSafeToResend)
            } else {
                policy.decide(&error, retry_after, self.attempts, jitter)
            };
        match decision {
            RetryDecision::Stop(reason) => {
                self.observe(&CallEvent::GaveUp {
                    attempts: self.attempts,
                    max_attempts: policy.max_attempts,
                    reason,
                    error: &error,
                });
                Next::Done(Err(error))
            }
            RetryDecision::RetryAfter(delay) => {
                self.observe(&CallEvent::Retrying {
                    attempt: self.attempts,
                    max_attempts: policy.max_attempts,
                    delay,
                    error: &error,
                });
                Next::Retry(delay)
            }
        }
    }

    fn observe(&self, event: &CallEvent<'_>) {
        if let Some(observer) = self.config.observer() {
            observer(event);
        }
    }

    /// Attempts made so far (a clock-skew re-sign does not count).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The clock offset now believed, to keep for later calls.
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, GetByUploader, Page, Video};

    const OK: &[u8] =
        br#"{"code":200,"status":"success","message":"success","data":{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}}"#;
    const TOO_OLD: &[u8] =
        br#"{"code":400,"status":"error","message":"ptime is too old.","data":""}"#;
    const FAILED: &[u8] = br#"{"code":500,"status":"error","message":"query failed.","data":""}"#;

    fn resp<'a>(status: u16, body: &'a [u8], date: Option<&'a str>, at: u64) -> Response<'a> {
        Response {
            status,
            date,
            retry_after: None,
            body,
            received_at_ms: at,
        }
    }

    fn ptime_of(req: &http::Request<()>) -> u64 {
        let q = req.uri().query().unwrap();
        let p = q
            .split('&')
            .find_map(|kv| kv.strip_prefix("ptime="))
            .unwrap();
        p.parse().unwrap()
    }

    #[test]
    fn retries_are_resigned_and_bounded() {
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &query, 0);
        let mut ptimes = Vec::new();
        let mut outcome = None;
        for i in 0..10u64 {
            let req = call.request(1_700_000_000_000 + i * 1000).unwrap();
            ptimes.push(ptime_of(&req));
            match call.on_response(resp(500, FAILED, None, 0), 1.0) {
                Next::Retry(_) | Next::ResendOnFreshConnection => continue,
                Next::Done(r) => {
                    outcome = Some(r);
                    break;
                }
            }
        }
        assert!(matches!(outcome, Some(Err(Error::QueryFailed))));
        assert_eq!(call.attempts(), 4);
        assert_eq!(ptimes.len(), 4);
        ptimes.dedup();
        assert_eq!(ptimes.len(), 4, "every attempt carries a fresh ptime");
    }

    #[test]
    fn skew_is_corrected_once_from_the_date_header() {
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &query, 0);
        // Our clock is 10 minutes behind: 1_700_000_000 s is 22:13:20 on the server.
        let local = 1_700_000_000_000 - 600_000;
        call.request(local).unwrap();
        let date = Some("Tue, 14 Nov 2023 22:13:20 GMT");
        assert!(
            matches!(call.on_response(resp(400, TOO_OLD, date, local + 100), 1.0), Next::Retry(d) if d.is_zero())
        );
        assert_eq!(call.clock_offset_ms(), 600_000 + 500 - 50);
        let req = call.request(local + 100).unwrap();
        assert_eq!(ptime_of(&req), 1_700_000_000_550);
        // A second ptime error is final.
        assert!(matches!(
            call.on_response(resp(400, TOO_OLD, date, local + 200), 1.0),
            Next::Done(Err(Error::PtimeTooOld))
        ));
        assert_eq!(call.attempts(), 1);
    }

    #[test]
    fn skew_correction_can_be_off_and_needs_a_date() {
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let query = GetByUploader::new();
        let off = config.clone().with_clock_skew_correction(false);
        let mut call = Call::new(&off, &query, 0);
        call.request(1).unwrap();
        assert!(matches!(
            call.on_response(
                resp(400, TOO_OLD, Some("Tue, 14 Nov 2023 22:13:20 GMT"), 2),
                1.0
            ),
            Next::Done(Err(Error::PtimeTooOld))
        ));
        let mut call = Call::new(&config, &query, 0);
        call.request(1).unwrap();
        assert!(matches!(
            call.on_response(resp(400, TOO_OLD, None, 2), 1.0),
            Next::Done(Err(Error::PtimeTooOld))
        ));
    }

    #[test]
    fn success_and_retry_after() {
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &query, 0);
        call.request(1).unwrap();
        let r = Response {
            status: 429,
            date: None,
            retry_after: Some("2"),
            body: b"slow down",
            received_at_ms: 5,
        };
        assert!(matches!(call.on_response(r, 0.0), Next::Retry(d) if d == Duration::from_secs(2)));
        call.request(2).unwrap();
        match call.on_response(resp(200, OK, None, 6), 0.0) {
            Next::Done(Ok(page)) => {
                let page: Page<Video> = page;
                assert_eq!(page.total_items, 0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn from_http_reads_headers() {
        let response = http::Response::builder()
            .status(429)
            .header("date", "Tue, 14 Nov 2023 22:13:20 GMT")
            .header("retry-after", "7")
            .body(b"x".to_vec())
            .unwrap();
        let r = Response::from_http(&response, 9);
        assert_eq!(
            (
                r.status,
                r.date.is_some(),
                r.retry_after,
                r.body,
                r.received_at_ms
            ),
            (429, true, Some("7"), &b"x"[..], 9)
        );
    }

    fn closed() -> Error {
        Error::Transport {
            kind: crate::TransportErrorKind::Closed,
            message: "connection reset by peer".into(),
        }
    }

    #[test]
    fn a_stale_connection_is_resent_once_per_attempt_for_free() {
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&events);
        let config = Config::new(Credentials::new("u1", "k").unwrap())
            .with_retry(crate::RetryPolicy::never())
            .with_observer(move |e| seen.lock().unwrap().push(format!("{e:?}")));
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &query, 0);
        call.request(1).unwrap();
        assert!(matches!(
            call.on_transport_error(closed(), true, 1.0),
            Next::ResendOnFreshConnection
        ));
        call.request(2).unwrap();
        assert_eq!(call.attempts(), 1, "the resend uses no retry");
        // The fresh connection failing the same way is an ordinary error:
        // with no retries left the call ends.
        assert!(matches!(
            call.on_transport_error(closed(), false, 1.0),
            Next::Done(Err(_))
        ));
        let events = events.lock().unwrap();
        assert!(
            events[0].starts_with("ResendingOnFreshConnection"),
            "{events:?}"
        );
        assert!(
            events[1].contains("GaveUp") && events[1].contains("RetriesExhausted"),
            "{events:?}"
        );
    }

    #[test]
    fn only_a_reused_connection_and_a_resend_safe_call_get_the_free_resend() {
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &query, 0);
        call.request(1).unwrap();
        // A fresh connection: an ordinary retry with backoff.
        assert!(matches!(
            call.on_transport_error(closed(), false, 1.0),
            Next::Retry(_)
        ));
        // A second stale failure within one attempt is ordinary too.
        call.request(2).unwrap();
        assert!(matches!(
            call.on_transport_error(closed(), true, 1.0),
            Next::ResendOnFreshConnection
        ));
        call.request(3).unwrap();
        assert!(matches!(
            call.on_transport_error(closed(), true, 1.0),
            Next::Retry(_)
        ));
        assert_eq!(call.attempts(), 2);

        // A call that must not run twice is never resent once it may have
        // reached the server, but is when the connection could not be made.
        let post = crate::RawCall::new(http::Method::POST, "/v2/video/{userid}/addCata").unwrap();
        let mut call = Call::new(&config, &post, 0);
        call.request(1).unwrap();
        assert!(matches!(
            call.on_transport_error(closed(), true, 1.0),
            Next::Done(Err(_))
        ));
        let mut call = Call::new(&config, &post, 0);
        call.request(1).unwrap();
        let refused = Error::Transport {
            kind: crate::TransportErrorKind::Connect,
            message: "refused".into(),
        };
        assert!(matches!(
            call.on_transport_error(refused, false, 1.0),
            Next::Retry(_)
        ));
        let mut call = Call::new(&config, &post, 0);
        call.request(1).unwrap();
        assert!(matches!(
            call.on_response(resp(500, FAILED, None, 2), 1.0),
            Next::Done(Err(Error::QueryFailed))
        ));
        let safe = post.clone().resend_safe(true);
        let mut call = Call::new(&config, &safe, 0);
        call.request(1).unwrap();
        assert!(matches!(
            call.on_response(resp(500, FAILED, None, 2), 1.0),
            Next::Retry(_)
        ));
    }

    #[test]
    fn giving_up_says_why_and_after_how_many_attempts() {
        use std::sync::{Arc, Mutex};
        let gave_up = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&gave_up);
        let config = Config::new(Credentials::new("u1", "k").unwrap()).with_observer(move |e| {
            if let CallEvent::GaveUp {
                attempts,
                max_attempts,
                reason,
                ..
            } = e
            {
                *slot.lock().unwrap() = Some((*attempts, *max_attempts, *reason));
            }
        });
        let query = GetByUploader::new();
        // A 503 asking for an hour: one attempt, stopped for the Retry-After.
        let mut call = Call::new(&config, &query, 0);
        call.request(1).unwrap();
        let r = Response {
            status: 503,
            date: None,
            retry_after: Some("3600"),
            body: b"busy",
            received_at_ms: 2,
        };
        assert!(matches!(call.on_response(r, 1.0), Next::Done(Err(_))));
        assert_eq!(
            *gave_up.lock().unwrap(),
            Some((
                1,
                4,
                StopReason::RetryAfterTooLong {
                    requested: Duration::from_secs(3600),
                    cap: Duration::from_secs(60)
                }
            ))
        );
        // A redirect: one attempt, not retryable.
        let mut call = Call::new(&config, &query, 0);
        call.request(1).unwrap();
        assert!(matches!(
            call.on_response(resp(302, b"", None, 2), 1.0),
            Next::Done(Err(_))
        ));
        assert_eq!(
            *gave_up.lock().unwrap(),
            Some((1, 4, StopReason::NotRetryable))
        );
    }
}
