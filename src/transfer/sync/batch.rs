//! Many file transfers under one budget: at most `concurrency` requests in flight across all
//! files (a small file holds one permit, a large one as many as it runs parts at once), total
//! and per-file progress, and a summary in which one failed file does not lose the others.

use super::super::progress::{CancelHandle, Progress, Tracker, cancelled};
use crate::checksum::ChecksumAlgorithm;
use crate::client::Bucket;
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Progress of one file of a directory transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileProgress {
    /// The object key.
    pub key: String,
    /// The local path.
    pub path: PathBuf,
    /// Bytes of this file transferred so far.
    pub transferred: u64,
    /// The file's size.
    pub total: u64,
    /// Whether the file is complete (reported once, last).
    pub finished: bool,
}

/// A file that could not be transferred or deleted, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedFile {
    /// The object key.
    pub key: String,
    /// The local path.
    pub path: PathBuf,
    /// What went wrong.
    pub error: Error,
}

pub(crate) type FileCallback = Arc<dyn Fn(&FileProgress) + Send + Sync + 'static>;

/// One file to move.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) key: String,
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) up: bool,
    /// For downloads: the modification time the file gets (the object's `LastModified`).
    pub(crate) modified: Option<SystemTime>,
}

/// The settings every file of a batch shares.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) concurrency: usize,
    pub(crate) part_size: u64,
    pub(crate) threshold: u64,
    pub(crate) fail_fast: bool,
    /// `None`: the client's default.
    pub(crate) checksum: Option<Option<ChecksumAlgorithm>>,
    pub(crate) total: Tracker,
    pub(crate) on_file: Option<FileCallback>,
    pub(crate) cancel: CancelHandle,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("concurrency", &self.concurrency)
            .field("part_size", &self.part_size)
            .field("threshold", &self.threshold)
            .field("fail_fast", &self.fail_fast)
            .field("checksum", &self.checksum)
            .field("on_file", &self.on_file.is_some())
            .finish_non_exhaustive()
    }
}

/// What a batch did.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) files: usize,
    pub(crate) bytes: u64,
    pub(crate) failed: Vec<FailedFile>,
}

impl Settings {
    /// How many permits (requests in flight) a file takes: one, or as many parts as it
    /// would run at once when it is split.
    fn permits(&self, job: &Job) -> usize {
        let size = job.size;
        let big = if job.up {
            size >= self.threshold
        } else {
            size > self.part_size
        };
        if !big {
            return 1;
        }
        let parts = size.div_ceil(self.part_size.max(1));
        usize::try_from(parts)
            .unwrap_or(usize::MAX)
            .min(self.concurrency)
            .max(1)
    }
}

/// The largest budget: what a semaphore can hold and a file's share (a `u32`) can take.
pub(crate) const MAX_BUDGET: usize = if Semaphore::MAX_PERMITS < u32::MAX as usize {
    Semaphore::MAX_PERMITS
} else {
    u32::MAX as usize
};

/// Refuses an upload part size S3 cannot take, before anything is sent.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) outside 5 MiB ..= 5 GiB.
pub(crate) fn check_upload_part_size(part_size: u64) -> Result<()> {
    use crate::transfer::plan::{MAX_PART_SIZE, MIN_PART_SIZE};
    if (MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part_size) {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "part size {part_size} is outside 5 MiB ..= 5 GiB"
    )))
}

/// Runs every job, at most `concurrency` requests at once across all of them.
///
/// # Errors
///
/// [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled) after a cancel; with `fail_fast`,
/// the first file's error (the others are stopped). Otherwise failures are in the outcome.
pub(crate) async fn run(bucket: &Bucket, jobs: Vec<Job>, s: &Settings) -> Result<Outcome> {
    let budget = Arc::new(Semaphore::new(s.concurrency.clamp(1, MAX_BUDGET)));
    let mut tasks: JoinSet<(Job, Result<u64>)> = JoinSet::new();
    let mut out = Outcome::default();
    let total_bytes: u64 = jobs.iter().map(|j| j.size).sum();
    for job in jobs {
        let n = u32::try_from(s.permits(&job)).unwrap_or(u32::MAX);
        let permit = loop {
            while let Some(done) = tasks.try_join_next() {
                record(&mut out, done, s)?;
            }
            tokio::select! {
                biased;
                () = s.cancel.cancelled() => return Err(cancelled()),
                Some(done) = tasks.join_next() => record(&mut out, done, s)?,
                p = budget.clone().acquire_many_owned(n) => {
                    break p.map_err(|_| cancelled())?;
                }
            }
        };
        let (bucket, s2) = (bucket.clone(), s.clone());
        // Boxed: moved into the task as a pointer, not kilobytes (see `TaskPool::spawn`).
        tasks.spawn(Box::pin(async move {
            let r = one(&bucket, &job, &s2, n as usize, total_bytes).await;
            drop(permit);
            (job, r)
        }));
    }
    loop {
        let done = tokio::select! {
            biased;
            () = s.cancel.cancelled() => return Err(cancelled()),
            d = tasks.join_next() => d,
        };
        match done {
            Some(d) => record(&mut out, d, s)?,
            None => return Ok(out),
        }
    }
}

/// Counts a finished file; with `fail_fast` a failure ends the batch (the caller's `JoinSet`
/// is dropped with the error, which stops the other files).
fn record(
    out: &mut Outcome,
    done: std::result::Result<(Job, Result<u64>), tokio::task::JoinError>,
    s: &Settings,
) -> Result<()> {
    let (job, r) =
        done.map_err(|e| super::super::pool::task_stopped("a file transfer stopped", e))?;
    match r {
        Ok(bytes) => {
            out.files += 1;
            out.bytes += bytes;
        }
        Err(e) if s.fail_fast => return Err(e),
        Err(error) => out.failed.push(FailedFile {
            key: job.key,
            path: job.path,
            error,
        }),
    }
    Ok(())
}

/// Moves one file with `lanes` requests at once; reports its progress.
async fn one(bucket: &Bucket, job: &Job, s: &Settings, lanes: usize, all: u64) -> Result<u64> {
    let last = Arc::new(AtomicU64::new(0));
    let report = {
        let (total, on_file, last) = (s.total.clone(), s.on_file.clone(), last.clone());
        let (key, path, size) = (job.key.clone(), job.path.clone(), job.size);
        move |p: Progress| {
            let before = last.fetch_max(p.transferred, Ordering::Relaxed);
            if p.transferred > before {
                total.add(p.transferred - before, Some(all));
            }
            if let Some(cb) = &on_file {
                cb(&FileProgress {
                    key: key.clone(),
                    path: path.clone(),
                    transferred: p.transferred,
                    total: size,
                    finished: false,
                });
            }
        }
    };
    let size = if job.up {
        let send = || {
            let mut up = bucket
                .upload(job.key.clone())
                .part_size(s.part_size)
                .multipart_threshold(s.threshold)
                .concurrency(lanes)
                .on_progress(report.clone());
            if let Some(alg) = s.checksum {
                up = up.checksum(alg);
            }
            up.from_path(job.path.clone())
        };
        upload_settled(bucket, job, s, send).await?
    } else {
        if let Some(parent) = job.path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        }
        let out = bucket
            .download(job.key.clone())
            .part_size(s.part_size)
            .concurrency(lanes)
            .on_progress(report)
            .to_path(&job.path)
            .await?;
        if let Some(t) = job.modified {
            set_modified(job.path.clone(), t).await?;
        }
        out.size
    };
    let before = last.swap(size, Ordering::Relaxed);
    if size > before {
        s.total.add(size - before, Some(all));
    }
    if let Some(cb) = &s.on_file {
        cb(&FileProgress {
            key: job.key.clone(),
            path: job.path.clone(),
            transferred: size,
            total: job.size,
            finished: true,
        });
    }
    Ok(size)
}

/// The size and time of a local file, `None` when it cannot be read.
async fn stamp(path: &std::path::Path) -> Option<(u64, Option<SystemTime>)> {
    let m = tokio::fs::metadata(path).await.ok()?;
    Some((m.len(), m.modified().ok()))
}

/// Uploads a file with `send`; a file that changed while it was sent is sent once more.
///
/// An upload fails when its file changed meanwhile; a single PUT has then already written
/// an object that may mix two states and, with the same size and a time not newer than its
/// `LastModified`, would pass the next sync as unchanged. So a local I/O failure with the
/// file's size or time moved is retried once; if the file moved again, the object is
/// deleted (unconditionally: the upload's ETag is not known after its failure) so that the
/// next sync finds it missing, and the failure is returned. A multipart upload that fails is
/// aborted and writes nothing, so it has nothing to delete.
async fn upload_settled<F, Fut>(bucket: &Bucket, job: &Job, s: &Settings, send: F) -> Result<u64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<crate::transfer::UploadOutput>>,
{
    let mut tries = 0;
    loop {
        let before = stamp(&job.path).await;
        let err = match send().await {
            Ok(out) => return Ok(out.size),
            Err(e) => e,
        };
        let moved = err.kind() == crate::ErrorKind::Io && stamp(&job.path).await != before;
        if !moved {
            return Err(err);
        }
        tries += 1;
        if tries < 2 {
            continue;
        }
        let single = before.is_none_or(|(len, _)| len < s.threshold);
        if single && let Err(del) = bucket.delete_object(job.key.clone()).await {
            return Err(err.with_message(format!(
                "{} changed while it was being uploaded, twice; deleting the object it may \
                 have left failed too: {del}",
                job.path.display()
            )));
        }
        return Err(err);
    }
}

/// Gives a downloaded file the object's `LastModified`, so that the next sync sees it as
/// unchanged.
async fn set_modified(path: PathBuf, t: SystemTime) -> Result<()> {
    tokio::task::spawn_blocking(move || {
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(t))
            .map_err(|e| Error::io(format!("cannot set the time of {}", path.display()), e))
    })
    .await
    .map_err(|e| super::super::pool::task_stopped("setting a file time stopped", e))?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared budget: a small file takes one place, a large one as many as it sends parts
    /// at once, never more than the whole budget.
    #[test]
    fn permits_follow_the_parts_a_file_sends_at_once() {
        let s = Settings {
            concurrency: 6,
            part_size: 8,
            threshold: 16,
            fail_fast: false,
            checksum: None,
            total: Tracker::default(),
            on_file: None,
            cancel: CancelHandle::default(),
        };
        let job = |size, up| Job {
            key: String::new(),
            path: PathBuf::new(),
            size,
            up,
            modified: None,
        };
        let permits = |size, up| s.permits(&job(size, up));
        assert_eq!(permits(0, true), 1);
        assert_eq!(permits(15, true), 1);
        assert_eq!(permits(16, true), 2);
        assert_eq!(permits(24, true), 3);
        assert_eq!(permits(1000, true), 6);
        assert_eq!(permits(8, false), 1);
        assert_eq!(permits(9, false), 2);
        assert_eq!(permits(1000, false), 6);
    }
}
