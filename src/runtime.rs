//! The hooks tests inject: the clock that dates signatures, the sleep before a retry, and the
//! random numbers behind the backoff's jitter. A leaf: imports nothing of the crate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A source of the current time, for signing. Tests inject a fixed or shifted clock.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The future an [`AsyncSleep`] returns.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How the client waits before a retry (set with [`ClientBuilder::sleep`](crate::ClientBuilder::sleep)).
///
/// The default is tokio's timer, called directly. Tests inject an implementation that records
/// the delays asked for and returns at once, so backoff can be checked exactly without
/// sleeping. Read and idle timeouts keep using tokio's timer.
///
/// # Example
///
/// ```
/// use async_s3::{AsyncSleep, SleepFuture};
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// /// Records every delay and does not wait.
/// #[derive(Debug, Default, Clone)]
/// struct Recording(Arc<Mutex<Vec<Duration>>>);
///
/// impl AsyncSleep for Recording {
///     fn sleep(&self, duration: Duration) -> SleepFuture {
///         self.0.lock().unwrap().push(duration);
///         Box::pin(std::future::ready(()))
///     }
/// }
/// ```
pub trait AsyncSleep: fmt::Debug + Send + Sync + 'static {
    /// A future that completes once `duration` has passed.
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// Random numbers for the backoff's jitter (set with [`ClientBuilder::jitter`](crate::ClientBuilder::jitter)).
///
/// The delay before a retry is `ceiling × value / 2⁶⁴`, where `ceiling` is the attempt's
/// backoff ceiling (see [`RetryConfig`](crate::RetryConfig)): a source that always returns `1 << 63` makes every
/// delay exactly half its ceiling. The default is a small xorshift generator seeded per client.
pub trait JitterSource: fmt::Debug + Send + Sync + 'static {
    /// A value uniformly distributed over all of `u64`.
    fn next_u64(&self) -> u64;
}
