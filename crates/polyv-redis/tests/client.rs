//! Both clients with a RedisLimiter plugged in: requests are paced by Redis,
//! and a block one client receives holds every other worker sharing the key.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::RedisServer;
use polyv_core::{Config, Credentials, GetByUploader, RateDecision, RateLimit, RetryPolicy};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, MockServer};
use polyv_redis::{RedisLimiter, Unavailable};

/// A mock that blocks after 3 requests a minute, for 300 ms.
fn strict_mock() -> MockServer {
    MockServer::builder()
        .videos(5)
        .rate_limit(polyv_mock::RateLimit {
            max_requests: 3,
            window: Duration::from_secs(60),
            block_for: Duration::from_millis(300),
        })
        .start()
        .unwrap()
}

fn config(mock: &MockServer) -> Config {
    Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&mock.base_url())
        .unwrap()
        .with_retry(RetryPolicy::never())
}

fn limiter(redis: &RedisServer, prefix: &str) -> RedisLimiter {
    RedisLimiter::new(&redis.url())
        .unwrap()
        .with_key_prefix(prefix)
        .with_limit(
            RateLimit::new(1000, Duration::from_secs(1))
                .with_burst(100)
                .with_block_for(Duration::from_secs(30)),
        )
        .with_unavailable(Unavailable::Strict)
}

/// Another worker's view of the shared key.
fn other_worker_sees_the_block(redis: &RedisServer, prefix: &str) {
    let other = limiter(redis, prefix);
    match polyv_blocking::RateLimiter::decide(&other) {
        Ok(RateDecision::Blocked(left)) => assert!(left > Duration::from_secs(29), "{left:?}"),
        other => panic!("the other worker should be held back, got {other:?}"),
    }
}

#[test]
fn blocking_client_shares_its_block() {
    let redis = RedisServer::start();
    let mock = strict_mock();
    let client = polyv_blocking::Client::new(config(&mock))
        .unwrap()
        .with_rate_limiter(Arc::new(limiter(&redis, "blocking")));
    for _ in 0..3 {
        client.get_by_uploader(&GetByUploader::new()).unwrap();
    }
    let err = client.get_by_uploader(&GetByUploader::new()).unwrap_err();
    assert!(err.is_rate_limit_block(), "{err:?}");
    other_worker_sees_the_block(&redis, "blocking");
    assert_eq!(mock.requests().len(), 4);
}

#[tokio::test(flavor = "current_thread")]
async fn async_client_shares_its_block() {
    let redis = RedisServer::start();
    let mock = strict_mock();
    let client = polyv_async::Client::new(config(&mock))
        .unwrap()
        .with_rate_limiter(Arc::new(limiter(&redis, "async")));
    for _ in 0..3 {
        client.get_by_uploader(&GetByUploader::new()).await.unwrap();
    }
    let err = client
        .get_by_uploader(&GetByUploader::new())
        .await
        .unwrap_err();
    assert!(err.is_rate_limit_block(), "{err:?}");
    other_worker_sees_the_block(&redis, "async");
    assert_eq!(mock.requests().len(), 4);
}
