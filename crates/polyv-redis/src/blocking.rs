//! The limiter for polyv-blocking, on redis's synchronous connection.

use polyv_core::{Error, RateDecision};

use crate::{BLOCK, DECIDE, RedisLimiter, lock};

impl RedisLimiter {
    /// Runs `f` on this process's synchronous connection, connecting first
    /// if there is none; a failed connection is dropped, so the next call
    /// reconnects. Threads take turns: a decision is one loopback-fast
    /// round trip.
    fn with_sync<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        let mut slot = lock(&self.sync_connection);
        let connection = match &mut *slot {
            Some(connection) => connection,
            empty => {
                let connection = self.client.get_connection_with_timeout(self.timeout)?;
                connection.set_read_timeout(Some(self.timeout))?;
                connection.set_write_timeout(Some(self.timeout))?;
                empty.insert(connection)
            }
        };
        let result = f(connection);
        if result.is_err() {
            *slot = None;
        }
        result
    }
}

/// Decides in Redis through a synchronous connection (no async runtime).
///
/// ```no_run
/// use std::sync::Arc;
/// use polyv_blocking::{Client, Config, Credentials};
/// use polyv_redis::RedisLimiter;
///
/// let limiter = Arc::new(RedisLimiter::new("redis://127.0.0.1:6379/")?);
/// let client = Client::new(Config::from_env()?)?.with_rate_limiter(limiter);
/// # let _ = client;
/// # Ok::<(), polyv_core::Error>(())
/// ```
impl polyv_blocking::RateLimiter for RedisLimiter {
    fn decide(&self) -> Result<RateDecision, Error> {
        if let Some(blocked) = self.local_block() {
            return Ok(blocked);
        }
        if !self.should_try_redis() {
            return Ok(self.local_decision());
        }
        let (interval, tolerance) = self.decide_args();
        let reply = self.with_sync(|connection| {
            DECIDE
                .key(&self.key)
                .arg(interval)
                .arg(tolerance)
                .invoke::<(i64, i64)>(connection)
        });
        match reply {
            Ok(reply) => {
                self.redis_up();
                self.decision(reply)
            }
            Err(err) => self.redis_down(&err),
        }
    }

    fn record_block(&self) {
        self.record_block_locally();
        let block = self.block_arg();
        let recorded =
            self.with_sync(|connection| BLOCK.key(&self.key).arg(block).invoke::<i64>(connection));
        if let Err(err) = recorded {
            self.record_block_failed(&err);
        }
    }
}
