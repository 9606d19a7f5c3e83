//! What every clone of a client shares.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::Config;
use crate::driver::Pacer;

/// What every clone of a client shares: the clock offset learnt from the
/// server and the rate-limit pacer. Transports keep one behind an `Arc`.
#[derive(Debug)]
pub struct ClientState {
    clock_offset_ms: AtomicI64,
    pacer: Option<Mutex<Pacer>>,
}

impl ClientState {
    /// Fresh state for a client with this configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            clock_offset_ms: AtomicI64::new(0),
            pacer: config
                .rate_limit()
                .map(|limit| Mutex::new(Pacer::new(limit))),
        }
    }

    /// The server's clock minus ours, in milliseconds, as last measured.
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Stores a newly measured clock offset for later calls.
    pub fn set_clock_offset_ms(&self, offset: i64) {
        self.clock_offset_ms.store(offset, Ordering::Relaxed);
    }

    /// Books one request with the rate limiter at `now` (a monotonic time the
    /// transport measures from a fixed start) and returns how long to wait
    /// before sending it: zero when there is no limit.
    pub fn pace(&self, now: Duration) -> Duration {
        match &self.pacer {
            // A poisoned lock only means another thread panicked mid-update of
            // two plain numbers; the pacer is still usable.
            Some(pacer) => pacer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .reserve(now),
            None => Duration::ZERO,
        }
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
        let free = ClientState::new(&limited.with_rate_limit(None));
        for _ in 0..1000 {
            assert_eq!(free.pace(Duration::ZERO), Duration::ZERO);
        }
    }
}
