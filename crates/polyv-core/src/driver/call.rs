//! One API call as a state machine over its attempts, so that every
//! transport runs the same short loop: ask what to do, do it (wait, or send
//! a request and report what came back), until the call is done. Pacing,
//! signing, judging, the retry and clock-skew decisions and the tracing
//! events are all decided here.

use std::sync::Arc;
use std::time::Duration;

use crate::driver::ClientState;
use crate::driver::policy::{
    RateDecision, RetryDecision, StopReason, clock_offset_ms, corrected_ms,
};
use crate::{Config, Endpoint, Error, parse_retry_after};

/// The transport's clocks and a random number, read when it asks for a
/// step or reports an outcome: the core reads no clock and no random source
/// of its own.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    /// Local wall-clock time in milliseconds since the Unix epoch, as read
    /// (the call corrects it by the clock offset it learnt).
    pub unix_ms: u64,
    /// Monotonic time since a fixed start of the client: the rate limiter's
    /// clock, and the latency's.
    pub monotonic: Duration,
    /// A random number in `[0, 1]`, for the backoff's jitter.
    pub jitter: f64,
}

/// What the transport does next for a call.
#[derive(Debug)]
pub enum Step<T> {
    /// Sleep this long (the rate limit, a block, or a backoff), then ask
    /// again.
    Wait(Duration),
    /// Only for a client with a shared limiter
    /// ([`ClientState::with_shared_limiter`]): ask it for the next request's
    /// [`RateDecision`](crate::driver::RateDecision) and hand the answer to
    /// [`Call::admitted`], then ask again.
    Admit,
    /// Only for a client with a shared limiter: Polyv answered with its
    /// rate-limit block ([`Error::is_rate_limit_block`]); record it in the
    /// shared limiter so every sharer waits it out, then ask again.
    RecordBlock,
    /// Send this request, then report the outcome with [`Call::receive`]
    /// and ask again.
    Send(Attempt),
    /// The call is over.
    Done(Result<T, Error>),
}

/// One request to send.
#[derive(Debug)]
#[non_exhaustive]
pub struct Attempt {
    /// The request, signed for this attempt (the body is empty for a GET).
    pub request: http::Request<Vec<u8>>,
    /// Send it on a **new** connection, not a pooled one: the previous try
    /// failed on a stale kept-alive connection.
    pub fresh_connection: bool,
}

/// What came back from one attempt, as the transport read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The `Date` header, if any.
    pub date: Option<String>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response from its status, headers and body.
    ///
    /// ```
    /// use polyv_core::driver::Response;
    ///
    /// let mut headers = polyv_core::http::HeaderMap::new();
    /// headers.insert("retry-after", "7".parse()?);
    /// let response = Response::new(429, &headers, b"slow down".to_vec());
    /// assert_eq!((response.status, response.retry_after.as_deref()), (429, Some("7")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(status: u16, headers: &http::HeaderMap, body: Vec<u8>) -> Self {
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            status,
            date: header(http::header::DATE),
            retry_after: header(http::header::RETRY_AFTER),
            body,
        }
    }
}

/// What the decision after an attempt was.
#[derive(Debug)]
enum Next<T> {
    Done(Result<T, Error>),
    Retry(Duration),
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

/// One call of an endpoint, across all its attempts: the one brain every
/// transport runs.
///
/// ```
/// use polyv_core::driver::{Call, ClientState, Response, Step, Tick};
/// use polyv_core::{Config, Credentials, GetByUploader};
/// use std::time::Duration;
///
/// let config = Config::new(Credentials::new("u1", "secret")?).with_rate_limit(None);
/// let state = ClientState::new(&config);
/// let query = GetByUploader::new();
/// let mut call = Call::new(&config, &state, &query);
/// let tick = Tick { unix_ms: 1_700_000_000_000, monotonic: Duration::ZERO, jitter: 0.5 };
/// let Step::Send(attempt) = call.next(tick) else { unreachable!() };
/// // ... send `attempt.request` with any HTTP client, then report what came back:
/// let body = br#"{"code":200,"status":"success","message":"","data":{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}}"#;
/// call.receive(Ok(Response { status: 200, body: body.to_vec(), ..Response::default() }), tick);
/// let Step::Done(page) = call.next(tick) else { unreachable!() };
/// assert_eq!(page?.total_items, 0);
/// # let _ = attempt;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Call<'a, E: Endpoint + ?Sized> {
    config: &'a Config,
    state: &'a ClientState,
    endpoint: &'a E,
    span: tracing::Span,
    attempts: u32,
    clock_offset_ms: i64,
    skew_retried: bool,
    /// The next request repeats the current attempt (a clock fix or a
    /// resend on a fresh connection) instead of starting a new one.
    repeat_next: bool,
    /// The current attempt was already resent on a fresh connection.
    resent_fresh: bool,
    /// A backoff to sleep before the next request.
    backoff: Duration,
    /// The next request was booked with the rate limiter.
    paced: bool,
    /// What the shared limiter said, once the transport asked it.
    admission: Option<RateDecision>,
    /// The shared limiter must hear of a block before the call ends.
    block_to_record: bool,
    /// The next request goes on a fresh connection.
    fresh_next: bool,
    /// The request in flight, if any: when it left and on what connection.
    in_flight: Option<Sent>,
    outcome: Option<Result<E::Data, Error>>,
    done: bool,
}

#[derive(Debug, Clone)]
struct Sent {
    at_ms: u64,
    at: Duration,
    fresh_connection: bool,
    /// Where it went: a transport error names the host.
    uri: http::Uri,
}

impl<'a, E: Endpoint + ?Sized> Call<'a, E> {
    /// Starts a call with the client's shared state (the clock offset learnt
    /// so far, the rate limiter).
    pub fn new(config: &'a Config, state: &'a ClientState, endpoint: &'a E) -> Self {
        // The fields are computed only when the span is enabled.
        let span = tracing::debug_span!(
            target: "polyv",
            "polyv.call",
            method = %endpoint.method(),
            path = %endpoint.path(config.credentials().user_id()),
        );
        Self {
            config,
            state,
            endpoint,
            span,
            attempts: 0,
            clock_offset_ms: state.clock_offset_ms(),
            skew_retried: false,
            repeat_next: false,
            resent_fresh: false,
            backoff: Duration::ZERO,
            paced: false,
            admission: None,
            block_to_record: false,
            fresh_next: false,
            in_flight: None,
            outcome: None,
            done: false,
        }
    }

    /// What to do next, at `tick`.
    pub fn next(&mut self, tick: Tick) -> Step<E::Data> {
        if std::mem::take(&mut self.block_to_record) {
            return Step::RecordBlock;
        }
        if let Some(result) = self.outcome.take() {
            self.done = true;
            return Step::Done(result);
        }
        if self.done || self.in_flight.is_some() {
            return Step::Done(Err(Error::InvalidInput(
                "Call::next: the call is over, or its request was not reported with Call::receive"
                    .into(),
            )));
        }
        let backoff = std::mem::take(&mut self.backoff);
        if !backoff.is_zero() {
            return Step::Wait(backoff);
        }
        if !self.paced {
            let decision = if self.state.uses_shared_limiter() {
                match self.admission.take() {
                    Some(decision) => decision,
                    None => return Step::Admit,
                }
            } else {
                self.state.decide(tick.monotonic)
            };
            match decision {
                RateDecision::Wait(wait) => {
                    self.paced = true;
                    if !wait.is_zero() {
                        tracing::debug!(target: "polyv", parent: &self.span, wait_ms = millis(wait), "rate limit: waiting");
                        return Step::Wait(wait);
                    }
                }
                // Booked nothing: ask again once the block is over.
                RateDecision::Blocked(left) => {
                    tracing::warn!(target: "polyv", parent: &self.span, wait_ms = millis(left), "rate limit: Polyv has blocked this IP; waiting the block out");
                    return Step::Wait(left);
                }
            }
        }
        self.paced = false;
        let request = match self.request(tick.unix_ms) {
            Ok(request) => request,
            Err(error) => {
                self.done = true;
                return Step::Done(Err(error));
            }
        };
        // A call that must not run twice never rides a kept-alive
        // connection: one the server has just closed would fail it with no
        // way to tell whether it arrived, and it could not be resent. A new
        // connection costs a handshake on a rare call (init, addCata, grab).
        let fresh_connection = std::mem::take(&mut self.fresh_next) || !self.endpoint.resend_safe();
        self.in_flight = Some(Sent {
            at_ms: tick.unix_ms,
            at: tick.monotonic,
            fresh_connection,
            uri: request.uri().clone(),
        });
        Step::Send(Attempt {
            request,
            fresh_connection,
        })
    }

    /// Hands over the shared limiter's answer to [`Step::Admit`]; an error
    /// (a strict limiter that cannot reach its store) ends the call with it,
    /// nothing sent.
    pub fn admitted(&mut self, decision: Result<RateDecision, Error>) {
        match decision {
            Ok(decision) => self.admission = Some(decision),
            Err(error) => self.outcome = Some(Err(error)),
        }
    }

    /// Reports what the request of the last [`Step::Send`] brought back: a
    /// response, or the transport's error (connect, timeout, a broken
    /// connection, a body over the limit...).
    pub fn receive(&mut self, outcome: Result<Response, Error>, tick: Tick) {
        let Some(sent) = self.in_flight.take() else {
            return;
        };
        let attempt = self.attempts;
        let latency_ms = millis(tick.monotonic.saturating_sub(sent.at));
        let next = match outcome {
            Ok(response) => {
                tracing::debug!(
                    target: "polyv",
                    parent: &self.span,
                    attempt,
                    status = response.status,
                    latency_ms,
                    bytes = response.body.len(),
                    "response"
                );
                self.on_response(&response, sent.at_ms, tick.unix_ms, tick.jitter)
            }
            Err(error) => {
                let error = error.in_attempt(&sent.uri, self.config.timeout());
                tracing::debug!(target: "polyv", parent: &self.span, attempt, latency_ms, error = %error, "transport error");
                self.on_transport_error(error, !sent.fresh_connection, tick.jitter)
            }
        };
        match next {
            Next::Retry(delay) => {
                tracing::debug!(target: "polyv", parent: &self.span, attempt, delay_ms = millis(delay), "retrying");
                self.backoff = delay;
            }
            Next::ResendOnFreshConnection => {
                tracing::debug!(target: "polyv", parent: &self.span, attempt, "stale connection: resending on a fresh one");
                self.fresh_next = true;
            }
            Next::Done(result) => {
                self.state.set_clock_offset_ms(self.clock_offset_ms);
                if let Err(error) = &result {
                    tracing::debug!(target: "polyv", parent: &self.span, attempts = self.attempts, error = %error, "call failed");
                    if error.is_rate_limit_block() {
                        tracing::warn!(target: "polyv", parent: &self.span, "Polyv answered with its rate-limit block: this IP is blocked");
                        if self.state.uses_shared_limiter() {
                            self.block_to_record = true;
                        } else {
                            self.state.record_block(tick.monotonic);
                        }
                    }
                }
                self.outcome = Some(result);
            }
        }
    }

    /// The next attempt's request, signed afresh at the local time
    /// `local_now_ms` plus the clock offset.
    fn request(&mut self, local_now_ms: u64) -> Result<http::Request<Vec<u8>>, Error> {
        if !std::mem::take(&mut self.repeat_next) {
            self.attempts += 1;
            self.resent_fresh = false;
        }
        self.config.prepare(
            self.endpoint,
            corrected_ms(local_now_ms, self.clock_offset_ms),
        )
    }

    fn on_response(
        &mut self,
        response: &Response,
        sent_at_ms: u64,
        received_at_ms: u64,
        jitter: f64,
    ) -> Next<E::Data> {
        let retry_after = response.retry_after.as_deref().and_then(|v| {
            parse_retry_after(
                v,
                std::time::UNIX_EPOCH + Duration::from_millis(received_at_ms),
            )
        });
        let error = match self
            .endpoint
            .parse(response.status, retry_after, &response.body)
        {
            Ok(data) => return Next::Done(Ok(data)),
            Err(error) => error,
        };
        if error.is_clock_error() && self.config.clock_skew_correction() && !self.skew_retried {
            if let Some(offset) = response
                .date
                .as_deref()
                .and_then(|date| clock_offset_ms(date, sent_at_ms, received_at_ms))
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

    /// A request that failed on a stale kept-alive connection before any
    /// response arrived ([`Error::is_closed_before_response`]) is resent at
    /// once on a fresh connection, once per attempt and only for calls that
    /// are [safe to resend](Endpoint::resend_safe).
    fn on_transport_error(&mut self, error: Error, reused: bool, jitter: f64) -> Next<E::Data> {
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

    /// Attempts made so far (a clock-skew re-sign and a resend on a fresh
    /// connection do not count).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// A duration in whole milliseconds, for logs.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, GetByUploader, RawCall, RetryPolicy};
    use std::sync::Mutex;

    const OK: &[u8] =
        br#"{"code":200,"status":"success","message":"success","data":{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}}"#;
    const TOO_OLD: &[u8] =
        br#"{"code":400,"status":"error","message":"ptime is too old.","data":""}"#;
    const FAILED: &[u8] = br#"{"code":500,"status":"error","message":"query failed.","data":""}"#;

    fn config() -> Config {
        Config::new(Credentials::new("u1", "k").unwrap()).with_rate_limit(None)
    }

    fn tick(ms: u64) -> Tick {
        Tick {
            unix_ms: ms,
            monotonic: Duration::from_millis(ms),
            jitter: 1.0,
        }
    }

    fn resp(status: u16, body: &[u8], date: Option<&str>) -> Response {
        Response {
            status,
            date: date.map(str::to_owned),
            retry_after: None,
            body: body.to_vec(),
        }
    }

    fn ptime_of(req: &http::Request<Vec<u8>>) -> u64 {
        let q = req.uri().query().unwrap();
        q.split('&')
            .find_map(|kv| kv.strip_prefix("ptime="))
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Sends until the call asks for something else; returns the attempt.
    fn send<E: Endpoint + ?Sized>(call: &mut Call<'_, E>, at: u64) -> Attempt {
        loop {
            match call.next(tick(at)) {
                Step::Send(attempt) => return attempt,
                Step::Wait(_) => continue,
                Step::Done(r) => panic!("done early: {:?}", r.err()),
                _ => panic!("no shared limiter here"),
            }
        }
    }

    fn closed() -> Error {
        Error::Transport {
            kind: crate::TransportErrorKind::Closed,
            message: "connection reset by peer".into(),
            cause: None,
        }
    }

    #[test]
    fn retries_are_resigned_backed_off_and_bounded() {
        let config = config();
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &state, &query);
        let mut ptimes = Vec::new();
        let mut waits = 0;
        let mut at = 1_700_000_000_000;
        let result = loop {
            at += 1000;
            match call.next(tick(at)) {
                Step::Send(attempt) => {
                    ptimes.push(ptime_of(&attempt.request));
                    call.receive(Ok(resp(500, FAILED, None)), tick(at));
                }
                Step::Wait(delay) => {
                    assert!(delay > Duration::ZERO);
                    waits += 1;
                }
                Step::Done(result) => break result,
                step => panic!("no shared limiter here: {step:?}"),
            }
        };
        assert!(matches!(result, Err(Error::QueryFailed)));
        assert_eq!(call.attempts(), 4);
        assert_eq!(waits, 3, "a backoff before each retry");
        ptimes.dedup();
        assert_eq!(ptimes.len(), 4, "every attempt carries a fresh ptime");
        // The call is over: asking again is an error, not a new request.
        assert!(matches!(
            call.next(tick(at)),
            Step::Done(Err(Error::InvalidInput(_)))
        ));
    }

    #[test]
    fn the_rate_limiter_is_asked_once_per_request() {
        let config = config().with_rate_limit(Some(
            crate::RateLimit::new(10, Duration::from_secs(1)).with_burst(1),
        ));
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        // The first request goes at once, the second waits its turn.
        for expected_wait in [None, Some(Duration::from_millis(100))] {
            let mut call = Call::new(&config, &state, &query);
            match (call.next(tick(0)), expected_wait) {
                (Step::Send(_), None) => {}
                (Step::Wait(wait), Some(expected)) => {
                    assert_eq!(wait, expected);
                    assert!(matches!(call.next(tick(100)), Step::Send(_)));
                }
                (step, _) => panic!("{step:?}"),
            }
        }
    }

    #[test]
    fn skew_is_corrected_once_from_the_date_header() {
        let config = config();
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &state, &query);
        // Our clock is 10 minutes behind: 1_700_000_000 s is 22:13:20 on the server.
        let local = 1_700_000_000_000 - 600_000;
        send(&mut call, local);
        let date = Some("Tue, 14 Nov 2023 22:13:20 GMT");
        call.receive(Ok(resp(400, TOO_OLD, date)), tick(local + 100));
        let attempt = send(&mut call, local + 100);
        assert_eq!(ptime_of(&attempt.request), 1_700_000_000_000 + 550);
        // A second ptime error is final, and the attempt was not counted twice.
        call.receive(Ok(resp(400, TOO_OLD, date)), tick(local + 200));
        assert!(matches!(
            call.next(tick(local + 200)),
            Step::Done(Err(Error::PtimeTooOld))
        ));
        assert_eq!(call.attempts(), 1);
        assert_eq!(
            state.clock_offset_ms(),
            600_000 + 500 - 50,
            "kept for later calls"
        );
    }

    #[test]
    fn skew_correction_can_be_off_and_needs_a_date() {
        let off = config().with_clock_skew_correction(false);
        let query = GetByUploader::new();
        for (config, date) in [
            (off, Some("Tue, 14 Nov 2023 22:13:20 GMT")),
            (config(), None),
        ] {
            let state = ClientState::new(&config);
            let mut call = Call::new(&config, &state, &query);
            send(&mut call, 1);
            call.receive(Ok(resp(400, TOO_OLD, date)), tick(2));
            assert!(matches!(
                call.next(tick(2)),
                Step::Done(Err(Error::PtimeTooOld))
            ));
        }
    }

    #[test]
    fn success_and_retry_after() {
        let config = config();
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &state, &query);
        send(&mut call, 1);
        let throttled = Response {
            status: 429,
            retry_after: Some("2".into()),
            body: b"slow down".to_vec(),
            ..Response::default()
        };
        call.receive(Ok(throttled), tick(5));
        assert!(matches!(call.next(tick(5)), Step::Wait(d) if d == Duration::from_secs(2)));
        send(&mut call, 2005);
        call.receive(Ok(resp(200, OK, None)), tick(2006));
        match call.next(tick(2006)) {
            Step::Done(Ok(page)) => assert_eq!(page.total_items, 0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stale_connection_is_resent_once_per_attempt_for_free() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        let config = config()
            .with_retry(RetryPolicy::never())
            .with_observer(move |e| seen.lock().unwrap().push(format!("{e:?}")));
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &state, &query);
        assert!(!send(&mut call, 1).fresh_connection);
        call.receive(Err(closed()), tick(2));
        let resend = send(&mut call, 2);
        assert!(
            resend.fresh_connection,
            "the resend goes on a new connection"
        );
        assert_eq!(call.attempts(), 1, "the resend uses no retry");
        // The fresh connection failing the same way is an ordinary error:
        // with no retries left the call ends.
        call.receive(Err(closed()), tick(3));
        assert!(matches!(call.next(tick(3)), Step::Done(Err(_))));
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
    fn only_a_resend_safe_call_is_sent_again_once_it_may_have_arrived() {
        let config = config();
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &state, &query);
        send(&mut call, 1);
        call.receive(Err(closed()), tick(2));
        assert!(send(&mut call, 2).fresh_connection);
        // A second stale failure within one attempt is an ordinary retry.
        call.receive(Err(closed()), tick(3));
        assert!(matches!(call.next(tick(3)), Step::Wait(_)));
        assert!(!send(&mut call, 4).fresh_connection);
        assert_eq!(call.attempts(), 2);

        // A call that must not run twice is never resent once it may have
        // reached the server, but is when the connection could not be made.
        let post = RawCall::post("/v2/video/{userid}/addCata").unwrap();
        let refused = || Error::Transport {
            kind: crate::TransportErrorKind::Connect,
            message: "refused".into(),
            cause: None,
        };
        for (outcome, resent) in [
            (Err(closed()), false),
            (Ok(resp(500, FAILED, None)), false),
            (Err(refused()), true),
        ] {
            let mut call = Call::new(&config, &state, &post);
            assert!(
                send(&mut call, 1).fresh_connection,
                "a call that must not run twice goes on a new connection"
            );
            call.receive(outcome, tick(2));
            let step = call.next(tick(2));
            assert_eq!(matches!(step, Step::Wait(_)), resent, "{step:?}");
        }
        let safe = post.clone().resend_safe(true);
        let mut call = Call::new(&config, &state, &safe);
        send(&mut call, 1);
        call.receive(Ok(resp(500, FAILED, None)), tick(2));
        assert!(matches!(call.next(tick(2)), Step::Wait(_)));
    }

    #[test]
    fn giving_up_says_why_and_after_how_many_attempts() {
        let gave_up = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&gave_up);
        let config = config().with_observer(move |e| {
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
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        // A 503 asking for an hour: one attempt, stopped for the Retry-After.
        let mut call = Call::new(&config, &state, &query);
        send(&mut call, 1);
        let busy = Response {
            status: 503,
            retry_after: Some("3600".into()),
            body: b"busy".to_vec(),
            ..Response::default()
        };
        call.receive(Ok(busy), tick(2));
        assert!(matches!(call.next(tick(2)), Step::Done(Err(_))));
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
        let mut call = Call::new(&config, &state, &query);
        send(&mut call, 1);
        call.receive(Ok(resp(302, b"", None)), tick(2));
        assert!(matches!(call.next(tick(2)), Step::Done(Err(_))));
        assert_eq!(
            *gave_up.lock().unwrap(),
            Some((1, 4, StopReason::NotRetryable))
        );
    }

    #[test]
    fn a_shared_limiter_is_asked_before_each_request_and_told_of_a_block() {
        let blocked = br#"{"code":403,"status":"error","message":"request too frequent, ip blocked.","data":""}"#;
        let config = config();
        let state = ClientState::with_shared_limiter(&config);
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &state, &query);
        assert!(matches!(call.next(tick(0)), Step::Admit));
        // A block: wait it out, then ask again.
        call.admitted(Ok(RateDecision::Blocked(Duration::from_secs(3))));
        assert!(matches!(call.next(tick(0)), Step::Wait(d) if d == Duration::from_secs(3)));
        assert!(matches!(call.next(tick(3000)), Step::Admit));
        call.admitted(Ok(RateDecision::Wait(Duration::from_millis(40))));
        assert!(matches!(call.next(tick(3000)), Step::Wait(d) if d == Duration::from_millis(40)));
        assert!(matches!(call.next(tick(3040)), Step::Send(_)));
        // Polyv's block ends the call, after the shared limiter records it.
        call.receive(Ok(resp(403, blocked, None)), tick(3050));
        assert!(matches!(call.next(tick(3050)), Step::RecordBlock));
        assert!(matches!(
            call.next(tick(3050)),
            Step::Done(Err(Error::Api { code: 403, .. }))
        ));

        // A strict limiter that cannot decide ends the call, nothing sent.
        let mut call = Call::new(&config, &state, &query);
        assert!(matches!(call.next(tick(0)), Step::Admit));
        call.admitted(Err(Error::InvalidInput("redis down".into())));
        assert!(matches!(
            call.next(tick(0)),
            Step::Done(Err(Error::InvalidInput(_)))
        ));
    }

    #[test]
    fn the_in_process_limiter_remembers_polyvs_block() {
        let blocked = br#"{"code":403,"status":"error","message":"request too frequent, ip blocked.","data":""}"#;
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let state = ClientState::new(&config);
        let query = GetByUploader::new();
        let mut call = Call::new(&config, &state, &query);
        send(&mut call, 0);
        call.receive(Ok(resp(403, blocked, None)), tick(10));
        assert!(matches!(call.next(tick(10)), Step::Done(Err(_))));
        // The next call waits the block out before sending anything.
        let mut call = Call::new(&config, &state, &query);
        match call.next(tick(20)) {
            Step::Wait(left) => assert!(left > Duration::from_secs(60), "{left:?}"),
            other => panic!("{other:?}"),
        }
    }
}
