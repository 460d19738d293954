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
    fn classification() {
        assert!(is_retryable_status(503));
        assert!(!is_retryable_status(404));
        assert!(is_retryable_code(Some("SlowDown")));
        assert!(!is_retryable_code(Some("AccessDenied")));
        assert!(!is_retryable_code(None));
    }
}
