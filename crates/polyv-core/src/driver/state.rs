//! What every clone of a client shares.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::Config;
use crate::driver::{Pacer, RateDecision};

/// What every clone of a client shares: the clock offset learnt from the
/// server and the in-process rate limiter (a [`Pacer`], which also remembers
/// a server block). Transports keep one behind an `Arc`; a transport that
/// plugs in a shared limiter (polyv-redis) asks that one instead.
#[derive(Debug)]
pub struct ClientState {
    clock_offset_ms: AtomicI64,
    pacer: Option<Mutex<Pacer>>,
    block_for: Duration,
    /// The rate limit is a shared limiter's, which the transport asks
    /// ([`Step::Admit`](crate::driver::Step::Admit)).
    shared_limiter: bool,
}

impl ClientState {
    /// Fresh state for a client with this configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            clock_offset_ms: AtomicI64::new(0),
            pacer: config
                .rate_limit()
                .map(|limit| Mutex::new(Pacer::new(limit))),
            block_for: config
                .rate_limit()
                .map_or(Duration::ZERO, |limit| limit.block_for),
            shared_limiter: false,
        }
    }

    /// State for a client whose rate limit is kept by a limiter shared
    /// beyond this process (polyv-redis): no in-process pacer; calls ask the
    /// transport to consult the shared limiter before every request
    /// ([`Step::Admit`](crate::driver::Step::Admit)) and to record a block
    /// there ([`Step::RecordBlock`](crate::driver::Step::RecordBlock)).
    pub fn with_shared_limiter(config: &Config) -> Self {
        Self {
            shared_limiter: true,
            ..Self::new(&config.clone().with_rate_limit(None))
        }
    }

    /// Whether calls ask a shared limiter instead of the in-process one.
    pub fn uses_shared_limiter(&self) -> bool {
        self.shared_limiter
    }

    /// The server's clock minus ours, in milliseconds, as last measured.
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Stores a newly measured clock offset for later calls.
    pub fn set_clock_offset_ms(&self, offset: i64) {
        self.clock_offset_ms.store(offset, Ordering::Relaxed);
    }

    fn with_pacer<T>(&self, f: impl FnOnce(&mut Pacer) -> T) -> Option<T> {
        // A poisoned lock only means another thread panicked mid-update of
        // plain numbers; the pacer is still usable.
        self.pacer.as_ref().map(|pacer| {
            f(&mut pacer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner))
        })
    }

    /// Books one request with the rate limiter at `now` (a monotonic time the
    /// transport measures from a fixed start) and returns how long to wait
    /// before sending it: zero when there is no limit. Ignores blocks; see
    /// [`decide`](Self::decide).
    pub fn pace(&self, now: Duration) -> Duration {
        self.with_pacer(|pacer| pacer.reserve(now))
            .unwrap_or(Duration::ZERO)
    }

    /// The in-process limiter's [`RateDecision`] at `now` (a monotonic time
    /// from a fixed start): [`RateDecision::Blocked`] while a block recorded
    /// by [`record_block`](Self::record_block) lasts, else the wait of a
    /// newly booked request (zero when there is no limit).
    pub fn decide(&self, now: Duration) -> RateDecision {
        self.with_pacer(|pacer| pacer.decide(now))
            .unwrap_or(RateDecision::Wait(Duration::ZERO))
    }

    /// Records that the server answered with its rate-limit block at `now`:
    /// later [`decide`](Self::decide)s say [`RateDecision::Blocked`] for the
    /// limit's [`block_for`](crate::RateLimit::block_for). Without a rate limit
    /// nothing is recorded.
    pub fn record_block(&self, now: Duration) {
        self.with_pacer(|pacer| pacer.block(now, self.block_for));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, RateLimit};

    #[test]
    fn state_shares_offset_and_paces() {
        let limited = Config::new(Credentials::new("u", "k").unwrap()).with_rate_limit(Some(
            RateLimit::new(10, Duration::from_secs(1)).with_burst(1),
        ));
        let state = ClientState::new(&limited);
        assert_eq!(state.pace(Duration::ZERO), Duration::ZERO);
        assert_eq!(state.pace(Duration::ZERO), Duration::from_millis(100));
        state.set_clock_offset_ms(-5);
        assert_eq!(state.clock_offset_ms(), -5);
        let free = ClientState::new(&limited.clone().with_rate_limit(None));
        for _ in 0..1000 {
            assert_eq!(free.pace(Duration::ZERO), Duration::ZERO);
        }
        free.record_block(Duration::ZERO);
        assert_eq!(
            free.decide(Duration::ZERO),
            RateDecision::Wait(Duration::ZERO)
        );
        // A recorded block holds every request back for the limit's block time.
        state.record_block(Duration::from_secs(1));
        assert_eq!(
            state.decide(Duration::from_secs(2)),
            RateDecision::Blocked(crate::driver::POLYV_BLOCK - Duration::from_secs(1))
        );
    }
}
