//! Idle timeouts: a request fails when no byte moved for `read_timeout`, however long the
//! whole transfer takes.
//!
//! While the request body flows, every chunk handed to the connection counts as activity;
//! after the body ends, the wait for the response head counts as idle time; then each chunk of
//! the response body must arrive within the limit.

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
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
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

    /// Completes once nothing happened for `limit`.
    pub(crate) async fn idle_for(&self, limit: Duration) {
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
