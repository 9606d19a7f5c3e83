//! Redis unreachable: the default falls back to the in-process limiter with
//! one warning per outage and comes back to Redis; strict mode fails the
//! call before anything is sent.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RedisServer, free_port};
use polyv_blocking::{Client, Config, Credentials, Error, GetByUploader, RateLimiter};
use polyv_core::{RateDecision, RateLimit};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, MockServer};
use polyv_redis::{RECONNECT_AFTER, RedisLimiter, Unavailable};

/// One request per 1000 s, so a booked wait tells which limiter decided.
fn slow() -> RateLimit {
    RateLimit::new(1, Duration::from_secs(1000)).with_burst(1)
}

fn wait(decision: Result<RateDecision, Error>) -> Duration {
    match decision {
        Ok(RateDecision::Wait(wait)) => wait,
        other => panic!("expected a booked slot, got {other:?}"),
    }
}

/// Runs `f` with a subscriber on this thread and returns what it logged.
fn logs(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn unreachable_redis_falls_back_in_process_with_one_warning() {
    let url = format!("redis://:pw-secret@127.0.0.1:{}/", free_port());
    let limiter = RedisLimiter::new(&url)
        .unwrap()
        .with_limit(RateLimit::new(1000, Duration::from_secs(1)))
        .with_unavailable(Unavailable::Fallback(slow()));
    let log = logs(|| {
        // The in-process fallback paces at its own (slow) limit.
        assert_eq!(wait(limiter.decide()), Duration::ZERO);
        let second = wait(limiter.decide());
        assert!(second > Duration::from_secs(999), "{second:?}");
    });
    assert_eq!(limiter.fallbacks(), 2);
    assert_eq!(log.matches("Redis unreachable").count(), 1, "{log}");
    assert!(log.contains("WARN"), "{log}");
    assert!(!log.contains("pw-secret"), "{log}");
}

#[test]
fn strict_mode_fails_the_call_and_sends_nothing() {
    let url = format!("redis://:pw-secret@127.0.0.1:{}/", free_port());
    let limiter = RedisLimiter::new(&url)
        .unwrap()
        .with_unavailable(Unavailable::Strict);
    let err = limiter.decide().expect_err("strict mode");
    assert!(matches!(err, Error::RateLimiter { .. }), "{err:?}");
    assert!(!err.to_string().contains("pw-secret"), "{err}");
    assert!(err.to_string().contains(":***@127.0.0.1"), "{err}");
    assert!(!err.is_retryable());

    let mock = MockServer::builder().videos(5).start().unwrap();
    let config = Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(&mock.base_url())
        .unwrap();
    let client = Client::new(config)
        .unwrap()
        .with_rate_limiter(Arc::new(limiter));
    let err = client
        .get_by_uploader(&GetByUploader::new())
        .expect_err("strict mode");
    assert!(matches!(err, Error::RateLimiter { .. }), "{err:?}");
    assert!(mock.requests().is_empty(), "nothing may be sent");
    assert!(!format!("{client:?}").contains("pw-secret"));
}

#[test]
fn redis_going_down_and_coming_back() {
    let mut server = RedisServer::start();
    let port = server.port();
    let limit = RateLimit::new(1, Duration::from_secs(1000)).with_burst(100);
    let fallback = RedisLimiter::new(&server.url())
        .unwrap()
        .with_limit(limit)
        .with_unavailable(Unavailable::Fallback(slow()));
    let strict = RedisLimiter::new(&server.url())
        .unwrap()
        .with_limit(limit)
        .with_unavailable(Unavailable::Strict);
    assert_eq!(wait(fallback.decide()), Duration::ZERO);
    assert_eq!(wait(strict.decide()), Duration::ZERO);
    assert_eq!(fallback.fallbacks(), 0);

    server.kill();
    // The broken connection is noticed on the next decision.
    assert_eq!(wait(fallback.decide()), Duration::ZERO);
    assert_eq!(fallback.fallbacks(), 1);
    assert!(matches!(strict.decide(), Err(Error::RateLimiter { .. })));
    // While Redis is down, the fallback does not retry it at every request.
    let second = wait(fallback.decide());
    assert!(second > Duration::from_secs(999), "{second:?}");
    assert_eq!(fallback.fallbacks(), 2);

    // Redis is back (a fresh, empty one on the same port): after
    // RECONNECT_AFTER the shared limit (burst 100) decides again.
    let _server = RedisServer::start_on(port);
    std::thread::sleep(RECONNECT_AFTER + Duration::from_millis(100));
    assert_eq!(wait(fallback.decide()), Duration::ZERO);
    assert_eq!(fallback.fallbacks(), 2);
    assert_eq!(wait(strict.decide()), Duration::ZERO);
}

#[test]
fn a_block_seen_while_redis_is_down_is_kept_in_process() {
    let url = format!("redis://127.0.0.1:{}/", free_port());
    for unavailable in [Unavailable::Fallback(slow()), Unavailable::Strict] {
        let limiter = RedisLimiter::new(&url)
            .unwrap()
            .with_limit(RateLimit::polyv_default().with_block_for(Duration::from_secs(60)))
            .with_unavailable(unavailable);
        limiter.record_block();
        match limiter.decide() {
            Ok(RateDecision::Blocked(left)) => {
                assert!(left > Duration::from_secs(59), "{left:?}")
            }
            other => panic!("{unavailable:?}: expected the block, got {other:?}"),
        }
    }
}
