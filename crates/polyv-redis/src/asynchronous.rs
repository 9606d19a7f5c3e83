//! The limiter for polyv-async, on redis's multiplexed tokio connection.

use polyv_async::LimiterFuture;
use polyv_core::{Error, RateDecision};
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

use crate::{BLOCK, DECIDE, RedisLimiter, lock};

impl RedisLimiter {
    /// This process's multiplexed connection (cheap to clone; every task
    /// shares it), connected on first use.
    async fn async_connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        if let Some(connection) = lock(&self.async_connection).clone() {
            return Ok(connection);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *lock(&self.async_connection) = Some(connection.clone());
        Ok(connection)
    }

    /// Runs one script; a failure drops the connection so the next call
    /// reconnects.
    async fn invoke_async<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> redis::RedisResult<T> {
        let mut connection = self.async_connection().await?;
        let result = invocation.invoke_async(&mut connection).await;
        if result.is_err() {
            *lock(&self.async_connection) = None;
        }
        result
    }
}

/// Decides in Redis through a multiplexed tokio connection (feature `async`).
///
/// ```no_run
/// use std::sync::Arc;
/// use polyv_async::{Client, Config};
/// use polyv_redis::RedisLimiter;
///
/// let limiter = Arc::new(RedisLimiter::new("redis://127.0.0.1:6379/")?);
/// let client = Client::new(Config::from_env()?)?.with_rate_limiter(limiter);
/// # let _ = client;
/// # Ok::<(), polyv_core::Error>(())
/// ```
impl polyv_async::RateLimiter for RedisLimiter {
    fn decide(&self) -> LimiterFuture<'_, Result<RateDecision, Error>> {
        Box::pin(async move {
            if let Some(blocked) = self.local_block() {
                return Ok(blocked);
            }
            if !self.should_try_redis() {
                return Ok(self.local_decision());
            }
            let (interval, tolerance) = self.decide_args();
            let mut invocation = DECIDE.prepare_invoke();
            invocation.key(&self.key).arg(interval).arg(tolerance);
            match self.invoke_async::<(i64, i64)>(&invocation).await {
                Ok(reply) => {
                    self.redis_up();
                    self.decision(reply)
                }
                Err(err) => self.redis_down(&err),
            }
        })
    }

    fn record_block(&self) -> LimiterFuture<'_, ()> {
        Box::pin(async move {
            self.record_block_locally();
            let mut invocation = BLOCK.prepare_invoke();
            invocation.key(&self.key).arg(self.block_arg());
            if let Err(err) = self.invoke_async::<i64>(&invocation).await {
                self.record_block_failed(&err);
            }
        })
    }
}
