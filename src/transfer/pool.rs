//! The bounded fan-out of every transfer: at most `concurrency` tasks at once (a semaphore's
//! permits, held by the tasks), owned by a `JoinSet` so that dropping the pool aborts them.
//! Waiting for a slot also collects the tasks that finished meanwhile, so the first failure
//! stops the transfer without waiting for the rest.
//!
//! Used by downloads to a file and to memory, multipart uploads and directory downloads. The
//! ordered window of [`DownloadStream`](super::DownloadStream) is not a pool: it must hand
//! results back in range order, from a `poll_next` rather than an async loop.

use super::progress::{CancelHandle, cancelled};
use crate::congestion::{Congestion, Permit};
use crate::error::{Error, ErrorKind, Result};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinSet};

/// Tasks that each produce a `T`, at most `concurrency` at once.
pub(crate) struct TaskPool<T> {
    slots: Arc<Semaphore>,
    /// How many places `slots` has.
    size: usize,
    tasks: JoinSet<Result<T>>,
    /// The outputs of the tasks that finished, in the order they finished.
    done: Vec<T>,
    cancel: CancelHandle,
    /// The message of the error for a task that panicked or was aborted.
    stopped: &'static str,
    /// The client's adaptive limit, which every task also needs a place in (issue 13).
    congestion: Option<Arc<Congestion>>,
}

/// A free place in the pool, taken by [`TaskPool::slot`] and held by the task it is given to.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    _congestion: Option<Permit>,
}

impl<T: Send + 'static> TaskPool<T> {
    /// A pool of `concurrency` slots (at least 1) that stops with
    /// [`ErrorKind::Cancelled`] when `cancel` fires; `stopped` describes a task that panicked.
    pub(crate) fn new(concurrency: usize, cancel: &CancelHandle, stopped: &'static str) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            size: concurrency.max(1),
            tasks: JoinSet::new(),
            done: Vec::new(),
            cancel: cancel.clone(),
            stopped,
            congestion: None,
        }
    }

    /// The same pool, each task also taking a place under the client's adaptive limit.
    pub(crate) fn with_congestion(mut self, congestion: Arc<Congestion>) -> Self {
        self.congestion = Some(congestion);
        self
    }

    /// Waits for a free slot, collecting the tasks that finish meanwhile.
    ///
    /// # Errors
    ///
    /// The first error of a finished task; [`ErrorKind::Cancelled`] on cancellation or when
    /// a task panicked. The other tasks keep running until the pool is dropped or
    /// [`shut down`](Self::shutdown).
    pub(crate) async fn slot(&mut self) -> Result<Slot> {
        self.slot_of(1).await
    }

    /// A slot that takes `units` of the pool's places (clamped to 1 ..= the pool's size),
    /// for a task that holds that many times the memory of one (a grown stream part).
    ///
    /// # Errors
    ///
    /// As [`slot`](Self::slot).
    pub(crate) async fn slot_of(&mut self, units: usize) -> Result<Slot> {
        let size = u32::try_from(self.size).unwrap_or(u32::MAX);
        let units = u32::try_from(units).unwrap_or(u32::MAX).clamp(1, size);
        loop {
            while let Some(res) = self.tasks.try_join_next() {
                self.keep(res)?;
            }
            let finished = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(cancelled()),
                Some(res) = self.tasks.join_next() => res,
                p = self.slots.clone().acquire_many_owned(units) => {
                    let _permit = p.map_err(|_| cancelled())?;
                    let _congestion = self.adaptive_place().await?;
                    return Ok(Slot { _permit, _congestion });
                }
            };
            self.keep(finished)?;
        }
    }

    /// A place under the client's adaptive limit, when the pool has one; tasks that finish
    /// meanwhile are collected as in [`slot`](Self::slot).
    async fn adaptive_place(&mut self) -> Result<Option<Permit>> {
        let Some(congestion) = self.congestion.clone() else {
            return Ok(None);
        };
        loop {
            let finished = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(cancelled()),
                Some(res) = self.tasks.join_next() => res,
                p = congestion.acquire() => return Ok(Some(p)),
            };
            self.keep(finished)?;
        }
    }

    /// Runs `task` in `slot`, which it frees when it ends.
    pub(crate) fn spawn<F>(&mut self, slot: Slot, task: F)
    where
        F: Future<Output = Result<T>> + Send + 'static,
    {
        // Boxed before spawning: a transfer's futures are kilobytes, and tokio moves a task's
        // future into its cell by value (a memcpy per spawn that dominated a download of many
        // small files under callgrind); a box moves as a pointer.
        let task = Box::pin(task);
        self.tasks.spawn(async move {
            let _slot = slot;
            task.await
        });
    }

    /// Waits for every task; returns the outputs of all of them, in the order they finished.
    ///
    /// # Errors
    ///
    /// As [`slot`](Self::slot).
    pub(crate) async fn join_all(&mut self) -> Result<Vec<T>> {
        loop {
            let finished = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(cancelled()),
                res = self.tasks.join_next() => res,
            };
            match finished {
                Some(res) => self.keep(res)?,
                None => return Ok(std::mem::take(&mut self.done)),
            }
        }
    }

    /// Aborts every task still running and waits until they are gone.
    pub(crate) async fn shutdown(&mut self) {
        self.tasks.shutdown().await;
    }

    fn keep(&mut self, res: std::result::Result<Result<T>, JoinError>) -> Result<()> {
        let out = res.map_err(|e| task_stopped(self.stopped, e))??;
        self.done.push(out);
        Ok(())
    }
}

/// The error for a transfer task that panicked or was aborted: `Cancelled`, with `message`
/// and the join error as its source.
pub(crate) fn task_stopped(message: &'static str, e: JoinError) -> Error {
    Error::new(ErrorKind::Cancelled)
        .with_message(message)
        .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn runs_at_most_concurrency_tasks_and_returns_every_output() {
        let cancel = CancelHandle::default();
        let mut pool = TaskPool::new(2, &cancel, "stopped");
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        for i in 0..10u32 {
            let slot = pool.slot().await.unwrap();
            let (running, most) = (running.clone(), most.clone());
            pool.spawn(slot, async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(i)
            });
        }
        let mut out = pool.join_all().await.unwrap();
        out.sort_unstable();
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[tokio::test]
    async fn waiting_for_a_slot_surfaces_a_finished_task_error() {
        let cancel = CancelHandle::default();
        let mut pool = TaskPool::<()>::new(1, &cancel, "stopped");
        let slot = pool.slot().await.unwrap();
        pool.spawn(slot, async { Err(Error::invalid_input("boom")) });
        let e = pool.slot().await.err().expect("the task's error");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn a_panicking_task_and_a_cancel_are_cancelled_errors() {
        let cancel = CancelHandle::default();
        let mut pool = TaskPool::<()>::new(1, &cancel, "a test task stopped");
        let slot = pool.slot().await.unwrap();
        pool.spawn(slot, async { panic!("task panics") });
        let e = pool.join_all().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
        assert!(e.to_string().contains("a test task stopped"), "{e}");

        let mut pool = TaskPool::<()>::new(1, &cancel, "stopped");
        let slot = pool.slot().await.unwrap();
        pool.spawn(slot, std::future::pending());
        cancel.cancel();
        assert_eq!(
            pool.slot().await.err().unwrap().kind(),
            ErrorKind::Cancelled
        );
        assert_eq!(
            pool.join_all().await.unwrap_err().kind(),
            ErrorKind::Cancelled
        );
    }
}
