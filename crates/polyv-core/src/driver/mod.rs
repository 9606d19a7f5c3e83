//! The machinery a transport runs: what both clients share, decided once.
//!
//! A transport (an HTTP client plugged into the core) needs three things
//! from here: [`Call`], the per-call state machine that paces, signs, judges
//! responses, decides retries and clock fixes and logs what happens (the
//! transport only waits and sends); [`Paginator`], the walk planner that
//! says which page to fetch next, how many may be in flight and what each
//! page means for the walk; and [`ClientState`], what every clone of a
//! client shares (the clock offset, the rate limiter). The clocks and the
//! random jitter are the transport's, handed in as a [`Tick`].
//!
//! ```text
//! let mut call = Call::new(&config, &state, &endpoint);
//! loop {
//!     match call.next(tick()) {
//!         Step::Wait(delay) => sleep(delay),
//!         Step::Send(attempt) => call.receive(send(attempt), tick()),
//!         Step::Done(result) => return result,
//!     }
//! }
//! ```

mod call;
mod paginate;
mod policy;
mod state;

pub use call::{Attempt, Call, CallEvent, Observer, Response, Step, Tick};
pub use paginate::{Paginator, Progress, TotalChange};
pub use policy::{
    Gcra, GcraStep, POLYV_BLOCK, Pacer, RateDecision, RateLimit, RetryDecision, RetryPolicy,
    StopReason, clock_offset_ms, corrected_ms, unix_ms,
};
pub use state::ClientState;
