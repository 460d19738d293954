//! The transfer engine: multipart upload and ranged parallel download on tokio tasks.
//!
//! Built on the operations only (no HTTP, XML, signing or retry bookkeeping here: a download
//! range's body resumes itself inside `ops`). Concurrency is bounded by one task pool
//! (`pool.rs`: a semaphore, tasks in a `JoinSet`, so they die with the transfer), or for the
//! ordered download stream by its window of aborting handles, and every
//! way out of an upload that is not success (error, cancellation, the future dropped) aborts
//! the multipart upload exactly once.

// server-side copy (issue 11, part B)
mod copy;
mod dir;
mod download;
mod journal;
mod plan;
mod pool;
mod progress;
mod upload;
mod upload_source;
// delete a prefix, abort old uploads (issue 11)
mod abort_uploads;
mod delete_prefix;
// directory upload and sync (issue 13)
mod glob;
mod sync;
mod upload_dir;

pub use copy::{DEFAULT_COPY_PART_SIZE, DEFAULT_COPY_THRESHOLD, ObjectCopy, ObjectCopyOutput};
#[cfg(feature = "fuzzing")]
pub(crate) use dir::key_to_relative_path;
pub use dir::{DownloadPrefix, DownloadPrefixOutput};
pub use download::{Download, DownloadOutput, DownloadStream};
pub use plan::{
    DEFAULT_CONCURRENCY, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE, MAX_PART_SIZE,
    MIN_PART_SIZE,
};
pub(crate) use plan::{UploadPlan, ranges};
pub use progress::{CancelHandle, Progress};
pub use upload::{Upload, UploadOutput};
// delete a prefix, abort old uploads (issue 11)
pub use abort_uploads::{AbortUploadsOlderThan, AbortUploadsOutput};
pub use delete_prefix::{DeletePrefix, DeletePrefixOutput};
// directory upload and sync (issue 13)
pub use sync::{Compare, DirSync, FailedFile, FileProgress, SyncAction, SyncOutput, SyncReason};
pub use upload_dir::{UploadDir, UploadDirOutput};
