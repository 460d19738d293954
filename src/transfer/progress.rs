//! Progress reporting and cancellation for transfers.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// How far a transfer has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes transferred so far (never counts a retried byte twice).
    pub transferred: u64,
    /// The total, when known (a stream of unknown length has none until it ends).
    pub total: Option<u64>,
}

type Callback = dyn Fn(Progress) + Send + Sync + 'static;

/// Where progress goes: an optional callback and the running count. Cheap: one atomic add per
/// chunk, and the callback only when the user set one.
#[derive(Clone, Default)]
pub(crate) struct Tracker {
    callback: Option<Arc<Callback>>,
    done: Arc<AtomicU64>,
    /// The highest value handed to the callback, so reports never go backwards when several
    /// tasks count at once. Held while the callback runs (callbacks are quick, by contract).
    reported: Arc<Mutex<u64>>,
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("callback", &self.callback.is_some())
            .field("done", &self.done.load(Ordering::Relaxed))
            .finish()
    }
}

impl Tracker {
    pub(crate) fn new(callback: Option<Arc<Callback>>) -> Self {
        Self {
            callback,
            done: Arc::new(AtomicU64::new(0)),
            reported: Arc::new(Mutex::new(0)),
        }
    }

    /// Counts `n` more bytes and tells the callback, unless a task that counted later
    /// already reported a higher figure (reports are monotonic; the last one is the total).
    pub(crate) fn add(&self, n: u64, total: Option<u64>) {
        let transferred = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(cb) = &self.callback {
            let mut last = self.reported.lock().unwrap_or_else(|e| e.into_inner());
            if transferred > *last {
                *last = transferred;
                cb(Progress { transferred, total });
            }
        }
    }

    pub(crate) fn transferred(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

/// Cancels a transfer from anywhere: the transfer stops, aborts its multipart upload or
/// removes its temporary file, and returns an error of kind
/// [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled).
///
/// Get one with `cancel_handle()` on an upload or download builder; it is cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    token: CancellationToken,
}

impl CancelHandle {
    /// Asks the transfer to stop. Idempotent.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    pub(crate) async fn cancelled(&self) {
        self.token.cancelled().await;
    }

    pub(crate) async fn cancelled_owned(self) {
        self.token.cancelled_owned().await;
    }
}

/// The error a cancelled transfer returns.
pub(crate) fn cancelled() -> crate::error::Error {
    crate::error::Error::new(crate::error::ErrorKind::Cancelled)
        .with_message("the transfer was cancelled")
}

/// Makes a callback from a closure, for the builders' `on_progress`.
pub(crate) fn callback(f: impl Fn(Progress) + Send + Sync + 'static) -> Arc<Callback> {
    Arc::new(f)
}
