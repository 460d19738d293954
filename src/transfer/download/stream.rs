//! The ordered stream of a download: a window of at most `concurrency` range tasks, started
//! in range order and handed back in that order, refilled as the consumer takes chunks.
//!
//! Not a [`TaskPool`](crate::transfer::pool::TaskPool): the pool hands back results in the
//! order tasks finish, from an async loop; the stream needs them in range order, from
//! `poll_next`, and a window that only moves when the consumer does.

use super::range::{RANGE_STOPPED, RangeJob};
use super::sink::{RangeDone, Sink};
use super::verify::StoredChecksum;
use crate::checksum::Hasher;
use crate::error::Result;
use crate::ops::resumable::ResumableBody;
use crate::transfer::pool::task_stopped;
use crate::transfer::progress::{CancelHandle, cancelled};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::task::JoinHandle;

/// A task handle that aborts the task when dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The chunks of a download in order. Made by [`Download::to_stream`](super::Download::to_stream).
///
/// Dropping it stops the range tasks still running.
#[must_use = "streams do nothing unless polled"]
pub struct DownloadStream {
    jobs: VecDeque<(RangeJob, Option<ResumableBody>)>,
    window: VecDeque<AbortOnDrop<Result<RangeDone>>>,
    concurrency: usize,
    /// Resolves when the transfer is cancelled; polled first, so a cancel wakes the stream
    /// even while the front range stalls.
    cancelled: Pin<Box<dyn Future<Output = ()> + Send>>,
    failed: bool,
    /// The running checksum of the chunks yielded so far, and the stored one.
    verify: Option<(Hasher, StoredChecksum)>,
}

impl fmt::Debug for DownloadStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadStream")
            .field("ranges_left", &(self.jobs.len() + self.window.len()))
            .finish_non_exhaustive()
    }
}

impl DownloadStream {
    /// A stream over `jobs` (in range order), up to `concurrency` of them running ahead;
    /// starts the first ones.
    pub(super) fn new(
        jobs: VecDeque<(RangeJob, Option<ResumableBody>)>,
        concurrency: usize,
        cancel: CancelHandle,
        verify: Option<StoredChecksum>,
    ) -> Self {
        let mut s = DownloadStream {
            jobs,
            window: VecDeque::new(),
            concurrency,
            cancelled: Box::pin(cancel.cancelled_owned()),
            failed: false,
            verify: verify.map(|s| (Hasher::new(s.alg), s)),
        };
        s.refill();
        s
    }

    fn refill(&mut self) {
        while self.window.len() < self.concurrency {
            let Some((job, first)) = self.jobs.pop_front() else {
                break;
            };
            let len = job.len as usize;
            self.window.push_back(AbortOnDrop(tokio::spawn(async move {
                job.run(Sink::buf(BytesMut::zeroed(len), None), first).await
            })));
        }
    }
}

impl Stream for DownloadStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        if self.cancelled.as_mut().poll(cx).is_ready() {
            self.failed = true;
            self.window.clear();
            return Poll::Ready(Some(Err(cancelled())));
        }
        let Some(front) = self.window.front_mut() else {
            // The end: the bytes yielded, in order, against the stored checksum.
            if let Some((h, stored)) = self.verify.take() {
                let got = h.finish();
                if got != stored.value.trim() {
                    self.failed = true;
                    return Poll::Ready(Some(Err(stored.mismatch(&got))));
                }
            }
            return Poll::Ready(None);
        };
        let res = std::task::ready!(Pin::new(&mut front.0).poll(cx));
        self.window.pop_front();
        match res
            .map_err(|e| task_stopped(RANGE_STOPPED, e))
            .and_then(|r| r)
        {
            Ok(done) => {
                self.refill();
                let chunk = done.buf.unwrap_or_default().freeze();
                if let Some((h, _)) = &mut self.verify {
                    h.update(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Err(e) => {
                self.failed = true;
                self.window.clear();
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}
