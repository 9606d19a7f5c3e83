//! Injected faults and the optional rate limit.

use std::collections::BTreeSet;
use std::time::Duration;

/// A fault the mock can inject in place of (or before) a normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// HTTP 500 with Polyv's envelope `{"code":500,"status":"error","message":"query failed.","data":""}`.
    QueryFailed,
    /// HTTP 429 with a `Retry-After` header (seconds) and a small `text/plain` body.
    TooManyRequests {
        /// Value of the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// HTTP 502 with a `text/html` proxy error page.
    BadGateway,
    /// HTTP 200 and a complete response whose JSON body is the first half of the
    /// normal body (`Content-Length` matches what is sent).
    TruncatedJson,
    /// HTTP 200 headers with the full `Content-Length`, the first half of the
    /// body, then the connection is closed.
    DropConnection,
    /// A normal answer whose middle record cannot be read (`"times": {}`,
    /// its `vid` intact): one bad record must not cost the page.
    UnreadableRecord,
    /// Before answering, `count` videos are uploaded to the first account,
    /// newer than any: they land at the front of the default newest-first
    /// order, shifting every page of a walk in progress.
    Upload {
        /// How many videos are added.
        count: usize,
    },
    /// Before answering, the first account's `count` newest videos are
    /// deleted, shifting every later page of a walk in progress forward.
    Delete {
        /// How many videos are removed.
        count: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum When {
    Requests(BTreeSet<u64>),
    Rate { rate: f64, seed: u64 },
    Always,
}

/// When to inject a [`Fault`]. Rules are tried in the order they were added;
/// the first that matches a request wins.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    fault: Fault,
    when: When,
}

impl FaultRule {
    /// Inject `fault` on these 1-based request numbers (counted across the
    /// whole server, every path, including rate-limited requests).
    pub fn on_requests(fault: Fault, numbers: impl IntoIterator<Item = u64>) -> FaultRule {
        FaultRule {
            fault,
            when: When::Requests(numbers.into_iter().collect()),
        }
    }

    /// Inject `fault` on a fraction `rate` (0.0..=1.0) of requests, chosen
    /// deterministically from `seed` and the request number.
    pub fn at_rate(fault: Fault, rate: f64, seed: u64) -> FaultRule {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        FaultRule {
            fault,
            when: When::Rate { rate, seed },
        }
    }

    /// Inject `fault` on every request.
    pub fn always(fault: Fault) -> FaultRule {
        FaultRule {
            fault,
            when: When::Always,
        }
    }

    /// The fault this rule injects.
    pub fn fault(&self) -> &Fault {
        &self.fault
    }

    /// Whether the rule fires for this 1-based request number.
    pub fn matches(&self, number: u64) -> bool {
        match &self.when {
            When::Requests(set) => set.contains(&number),
            When::Always => true,
            When::Rate { rate, seed } => {
                let x = splitmix64(seed ^ splitmix64(number));
                // 53 random bits -> [0, 1)
                ((x >> 11) as f64 / (1u64 << 53) as f64) < *rate
            }
        }
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A per-client-IP rate limit: more than `max_requests` within any `window`
/// blocks the IP for `block_for` (sliding window; blocked requests do not count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub max_requests: u32,
    /// Window length.
    pub window: Duration,
    /// How long an IP stays blocked once it goes over.
    pub block_for: Duration,
}

impl RateLimit {
    /// Polyv's documented limit: 1500 requests per 10 seconds per IP, then a 5-minute block.
    pub fn polyv_default() -> RateLimit {
        RateLimit {
            max_requests: 1500,
            window: Duration::from_secs(10),
            block_for: Duration::from_secs(300),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_deterministic_and_roughly_right() {
        let r = FaultRule::at_rate(Fault::QueryFailed, 0.25, 7);
        let hits: Vec<u64> = (1..=10_000).filter(|&n| r.matches(n)).collect();
        let again: Vec<u64> = (1..=10_000).filter(|&n| r.matches(n)).collect();
        assert_eq!(hits, again);
        assert!((2200..2800).contains(&hits.len()), "{}", hits.len());
        assert!(!FaultRule::at_rate(Fault::QueryFailed, 0.0, 7).matches(3));
        assert!(FaultRule::at_rate(Fault::QueryFailed, 1.0, 7).matches(3));
        assert!(!FaultRule::at_rate(Fault::QueryFailed, f64::NAN, 7).matches(3));
    }
}
