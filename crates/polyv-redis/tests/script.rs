//! The decision script against a real redis-server: burst, steady rate,
//! Redis's clock, the shared block, and the same answers through the async
//! connection.

mod common;

use std::time::Duration;

use common::RedisServer;
use polyv_core::driver::Gcra;
use polyv_core::{RateDecision, RateLimit};
use polyv_redis::RedisLimiter;
use redis::Commands;

fn limiter(server: &RedisServer, limit: RateLimit) -> RedisLimiter {
    RedisLimiter::new(&server.url())
        .unwrap()
        .with_limit(limit)
        .with_key_prefix("test")
}

/// The wait of a `Wait` decision; panics on anything else.
fn wait(decision: Result<RateDecision, polyv_core::Error>) -> Duration {
    match decision {
        Ok(RateDecision::Wait(wait)) => wait,
        other => panic!("expected a booked slot, got {other:?}"),
    }
}

fn decide(limiter: &RedisLimiter) -> Duration {
    wait(polyv_blocking::RateLimiter::decide(limiter))
}

fn tat(server: &RedisServer, key: &str) -> Option<u64> {
    server.connection().hget(key, "tat").unwrap()
}

#[test]
fn burst_then_pacing() {
    let server = RedisServer::start();
    // One request per 1000 s, bursts of 3: the bookings themselves show the
    // arithmetic; nothing sleeps, and the time the test takes is noise
    // against 1000 s.
    let limiter = limiter(
        &server,
        RateLimit::new(1, Duration::from_secs(1000)).with_burst(3),
    );
    for i in 0..3 {
        assert_eq!(decide(&limiter), Duration::ZERO, "burst request {i}");
    }
    let fourth = decide(&limiter);
    assert!(
        fourth > Duration::from_secs(999) && fourth <= Duration::from_secs(1000),
        "{fourth:?}"
    );
    assert_eq!(limiter.fallbacks(), 0);
}

#[test]
fn steady_rate() {
    let server = RedisServer::start();
    // One every 10 s, no burst: bookings 0, 10, 20, 30 s out.
    let limiter = limiter(
        &server,
        RateLimit::new(10, Duration::from_secs(100)).with_burst(1),
    );
    for k in 0..4u64 {
        let wait = decide(&limiter);
        let due = Duration::from_secs(10 * k);
        assert!(
            wait <= due && wait + Duration::from_secs(1) > due,
            "booking {k}: {wait:?}"
        );
    }
    // The key expires on its own once the schedule is past.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(limiter.key())
        .query(&mut server.connection())
        .unwrap();
    assert!(ttl > 60_000, "{ttl}");
}

#[test]
fn the_clock_is_redis_time_and_the_script_mirrors_the_core() {
    let server = RedisServer::start();
    let limit = RateLimit::new(10, Duration::from_secs(1)).with_burst(3);
    let gcra = Gcra::new(limit);
    let limiter = limiter(&server, limit);

    // A fresh key: the stored schedule is stamped from Redis's TIME.
    let t0 = server.time_us();
    assert_eq!(decide(&limiter), Duration::ZERO);
    let t1 = server.time_us();
    let stored = tat(&server, limiter.key()).unwrap();
    assert!(
        (t0 + gcra.interval_us..=t1 + gcra.interval_us).contains(&stored),
        "tat {stored} not within Redis's [{t0}, {t1}] + interval"
    );

    // A schedule 10 s ahead of Redis's clock: the script answers what
    // Gcra::reserve answers for the same tat and a `now` read from Redis.
    let ahead = server.time_us() + 10_000_000;
    let _: () = server
        .connection()
        .hset(limiter.key(), "tat", ahead)
        .unwrap();
    let t0 = server.time_us();
    let wait = decide(&limiter);
    let t1 = server.time_us();
    let latest = gcra.reserve(ahead, t1);
    let earliest = gcra.reserve(ahead, t0);
    assert!(
        (latest.wait_us..=earliest.wait_us).contains(&(wait.as_micros() as u64)),
        "{wait:?} not within the core's [{}, {}] us",
        latest.wait_us,
        earliest.wait_us
    );
    assert_eq!(tat(&server, limiter.key()), Some(latest.tat_us));
}

#[test]
fn workers_share_one_schedule_per_key() {
    let server = RedisServer::start();
    let limit = RateLimit::new(10, Duration::from_secs(100)).with_burst(1);
    let a = limiter(&server, limit);
    let b = limiter(&server, limit);
    let elsewhere = limiter(&server, limit).with_scope("another-egress");
    assert_eq!(decide(&a), Duration::ZERO);
    let second = decide(&b);
    let third = decide(&a);
    assert!(second > Duration::from_secs(9), "{second:?}");
    assert!(third > Duration::from_secs(19), "{third:?}");
    // Another scope is another limit.
    assert_eq!(decide(&elsewhere), Duration::ZERO);
}

#[test]
fn a_block_seen_by_one_worker_holds_every_worker() {
    let server = RedisServer::start();
    let limit = RateLimit::new(10, Duration::from_secs(1))
        .with_burst(1)
        .with_block_for(Duration::from_secs(60));
    let seen_it = limiter(&server, limit);
    let other = limiter(&server, limit);
    assert_eq!(decide(&other), Duration::ZERO);
    let before = tat(&server, other.key());
    polyv_blocking::RateLimiter::record_block(&seen_it);
    for _ in 0..3 {
        match polyv_blocking::RateLimiter::decide(&other) {
            Ok(RateDecision::Blocked(left)) => assert!(
                left > Duration::from_secs(59) && left <= Duration::from_secs(60),
                "{left:?}"
            ),
            other => panic!("expected the block, got {other:?}"),
        }
    }
    // Blocked answers book nothing.
    assert_eq!(tat(&server, other.key()), before);
    // A shorter block recorded later does not shorten it.
    let short = limiter(&server, limit.with_block_for(Duration::from_secs(1)));
    polyv_blocking::RateLimiter::record_block(&short);
    match polyv_blocking::RateLimiter::decide(&other) {
        Ok(RateDecision::Blocked(left)) => assert!(left > Duration::from_secs(58), "{left:?}"),
        other => panic!("expected the block, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_async_connection_gives_the_same_answers() {
    use polyv_async::RateLimiter as _;
    let server = RedisServer::start();
    let limit = RateLimit::new(1, Duration::from_secs(1000))
        .with_burst(2)
        .with_block_for(Duration::from_secs(60));
    let limiter = limiter(&server, limit);
    assert_eq!(wait(limiter.decide().await), Duration::ZERO);
    assert_eq!(wait(limiter.decide().await), Duration::ZERO);
    let third = wait(limiter.decide().await);
    assert!(third > Duration::from_secs(999), "{third:?}");
    // The blocking and async connections of one limiter share the key.
    let fourth = decide(&limiter);
    assert!(fourth > Duration::from_secs(1999), "{fourth:?}");
    limiter.record_block().await;
    assert!(matches!(
        limiter.decide().await,
        Ok(RateDecision::Blocked(left)) if left > Duration::from_secs(59)
    ));
    assert_eq!(limiter.fallbacks(), 0);
}
