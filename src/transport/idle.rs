//! Idle timeouts: a request fails when no byte moved for `read_timeout`, however long the
//! whole transfer takes.
//!
//! While the request body flows, every chunk handed to the connection counts as activity;
//! after the body ends, the wait for the response head counts as idle time; then each chunk of
//! the response body must arrive within the limit.
//!
//! Handing a chunk over is not sending it: the kernel's socket buffers (megabytes) may still
//! hold the tail of the body while the server reads it slowly. So once the body is handed over,
//! the wait for the response head gets an allowance for draining what may still be buffered:
//! `min(body, 8 MiB)` at 64 KiB/s. A healthy slow link is never cut off; a dead one is found a
//! bounded time later.

use bytes::Bytes;
use futures_core::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// When the request last made progress, as milliseconds since `start`.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
    /// Extra idle time allowed once the body was handed over (see the module docs).
    drain: Duration,
}

/// The slowest drain rate the allowance assumes.
const MIN_DRAIN_RATE: u64 = 64 * 1024;
/// The most body bytes assumed to sit in buffers.
const MAX_BUFFERED: u64 = 8 << 20;

impl Activity {
    /// Tracks a request whose body has `body_len` bytes.
    pub(crate) fn new(body_len: u64) -> Self {
        let buffered = body_len.min(MAX_BUFFERED);
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
            drain: Duration::from_millis(buffered * 1000 / MIN_DRAIN_RATE),
        }
    }

    pub(crate) fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let now = self.start.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }

    /// Completes once nothing happened for `limit` (plus the drain allowance).
    pub(crate) async fn idle_for(&self, limit: Duration) {
        let limit = limit + self.drain;
        loop {
            let idle = self.idle();
            if idle >= limit {
                return;
            }
            tokio::time::sleep(limit - idle).await;
        }
    }
}

/// A request body stream that records activity as the connection pulls each chunk.
pub(crate) struct Tracked<S> {
    pub(crate) inner: S,
    pub(crate) activity: Activity,
}

impl<S, E> Stream for Tracked<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(_))) = &item {
            self.activity.touch();
        }
        item
    }
}

/// Splits an in-memory body into slices (no copy), so its progress can be tracked.
pub(crate) fn slices(b: Bytes, size: usize) -> impl Stream<Item = std::io::Result<Bytes>> + Unpin {
    let n = b.len().div_ceil(size.max(1));
    futures_util::stream::iter((0..n).map(move |i| {
        let end = ((i + 1) * size).min(b.len());
        Ok(b.slice(i * size..end))
    }))
}
