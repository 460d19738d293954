//! Injected time for retry tests: a sleep that records the delays asked for and returns at
//! once, and a jitter source with a fixed value, so backoff is checked exactly, never timed.

use async_s3::{AsyncSleep, JitterSource, SleepFuture};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records every requested delay; never waits.
#[derive(Debug, Default, Clone)]
pub(crate) struct RecordingSleep(Arc<Mutex<Vec<Duration>>>);

impl RecordingSleep {
    /// The delays asked for so far, in order.
    pub(crate) fn delays(&self) -> Vec<Duration> {
        self.0.lock().expect("delays").clone()
    }
}

impl AsyncSleep for RecordingSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.0.lock().expect("delays").push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// Always the same "random" value: `HALF` makes every jittered delay half its ceiling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedJitter(pub(crate) u64);

impl FixedJitter {
    /// 2^63: each delay is exactly half of its backoff ceiling.
    pub(crate) const HALF: Self = Self(1 << 63);
}

impl JitterSource for FixedJitter {
    fn next_u64(&self) -> u64 {
        self.0
    }
}
