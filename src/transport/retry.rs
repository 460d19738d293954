//! The retry decision and the backoff schedule, in one place.

use crate::config::RetryConfig;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Statuses worth another attempt: server errors and throttling.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// S3 error codes worth another attempt, whatever the status.
pub(crate) fn is_retryable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "InternalError"
                | "RequestTimeout"
                | "SlowDown"
                | "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "RequestThrottled"
                | "TooManyRequestsException"
                | "BandwidthLimitExceeded"
                | "ServiceUnavailable"
        )
    )
}

/// What a retry costs from the budget, and what a timeout's retry costs.
const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;

/// The client-wide retry budget (a token bucket).
#[derive(Debug)]
pub(crate) struct Budget {
    tokens: std::sync::Mutex<u32>,
    capacity: u32,
}

impl Budget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            tokens: std::sync::Mutex::new(capacity),
            capacity,
        }
    }

    /// Takes the cost of one retry; `None` when the budget cannot pay for it.
    pub(crate) fn withdraw(&self, timeout: bool) -> Option<u32> {
        let cost = if timeout {
            TIMEOUT_RETRY_COST
        } else {
            RETRY_COST
        };
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if *t < cost {
            return None;
        }
        *t -= cost;
        Some(cost)
    }

    /// A request succeeded: its last retry's cost comes back (one token when it needed no
    /// retry), as in the AWS SDKs' standard mode.
    pub(crate) fn refund(&self, last_cost: u32) {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        *t = (*t + last_cost.max(1)).min(self.capacity);
    }
}

/// The server's hint of how long to wait: `x-amz-retry-after` (milliseconds) or `Retry-After`
/// (seconds).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("x-amz-retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_millis(ms));
    }
    get("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Full-jitter exponential backoff: a uniform delay below `min(cap, base * 2^(attempt-1))`.
#[derive(Debug)]
pub(crate) struct Backoff {
    config: RetryConfig,
    state: AtomicU64,
}

impl Backoff {
    pub(crate) fn new(config: RetryConfig) -> Self {
        let seed = RandomState::new().build_hasher().finish() | 1;
        Self {
            config,
            state: AtomicU64::new(seed),
        }
    }

    /// The delay before attempt `attempt + 1`, honouring the server's hint within the cap.
    pub(crate) fn delay_with_hint(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let jittered = self.delay(attempt);
        match hint {
            Some(h) => h.min(self.config.max_backoff).max(jittered),
            None => jittered,
        }
    }

    /// The delay before attempt `attempt + 1`.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .config
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.config.max_backoff);
        let nanos = ceiling.as_nanos() as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.next_random() % nanos)
    }

    /// xorshift64*: plenty for jitter, no dependency.
    fn next_random(&self) -> u64 {
        let mut x = self.state.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.store(x, Ordering::Relaxed);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_the_growing_ceiling() {
        let b = Backoff::new(RetryConfig::default());
        for attempt in 1..10 {
            let ceiling = Duration::from_millis(100) * (1 << (attempt - 1));
            let ceiling = ceiling.min(Duration::from_secs(20));
            for _ in 0..50 {
                assert!(b.delay(attempt) < ceiling);
            }
        }
    }

    #[test]
    fn the_budget_stops_retries_and_successes_refill_it() {
        let b = Budget::new(12);
        assert_eq!(b.withdraw(false), Some(5));
        assert_eq!(b.withdraw(false), Some(5));
        assert_eq!(b.withdraw(false), None, "2 tokens left");
        b.refund(5);
        assert_eq!(b.withdraw(true), None, "a timeout's retry costs 10");
        assert_eq!(b.withdraw(false), Some(5));
        for _ in 0..100 {
            b.refund(0);
        }
        assert_eq!(*b.tokens.lock().unwrap(), 12, "never above capacity");
    }

    #[test]
    fn server_hints_are_read_and_clamped() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", http::HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("x-amz-retry-after", http::HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let b = Backoff::new(
            RetryConfig::default().with_backoff(Duration::from_millis(1), Duration::from_secs(2)),
        );
        assert_eq!(
            b.delay_with_hint(1, Some(Duration::from_secs(60))),
            Duration::from_secs(2)
        );
        assert_eq!(
            b.delay_with_hint(1, Some(Duration::from_millis(700))),
            Duration::from_millis(700)
        );
    }

    #[test]
    fn classification() {
        assert!(is_retryable_status(503));
        assert!(!is_retryable_status(404));
        assert!(is_retryable_code(Some("SlowDown")));
        assert!(!is_retryable_code(Some("AccessDenied")));
        assert!(!is_retryable_code(None));
    }
}
