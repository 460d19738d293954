//! `Bucket::sync`: a local directory and a bucket prefix made the same, either way.
//!
//! The plan is made first (directory walk, listing, comparison in `plan.rs`, content checks
//! in `remote.rs`), with every key mapped to a path that cannot leave the directory; then
//! the copies run under one budget (`batch.rs`); deletions, when asked for, run last and only
//! when every copy succeeded.

pub(crate) mod batch;
pub(crate) mod local;
mod plan;
mod remote;

pub use batch::{FailedFile, FileProgress};
pub use plan::{Compare, SyncAction, SyncReason};

use super::glob::Filters;
use super::plan::{DEFAULT_CONCURRENCY, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE};
use super::progress::{CancelHandle, Progress, Tracker, callback, cancelled};
use crate::checksum::ChecksumAlgorithm;
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::ops::delete_objects::MAX_DELETE_KEYS;
use crate::types::S3ErrorBody;
use batch::{Job, Settings};
use futures_util::StreamExt;
use plan::{Direction, Stat};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// At most this many content checks (each a HEAD and a file read) run at once.
const MAX_CHECKS: usize = 64;

/// Makes a local directory and a bucket prefix hold the same files. Built by
/// [`Bucket::sync`]; finish it with [`from_dir`](Self::from_dir) (directory to bucket) or
/// [`to_dir`](Self::to_dir) (bucket to directory).
///
/// A file is copied when the destination lacks it or it differs: by default when the sizes
/// differ or the source is newer (whole seconds; downloaded files get the object's
/// `LastModified` as their time, so the next sync finds them unchanged); with
/// [`Compare::Content`], by content. Extra files on the destination are deleted only with
/// [`delete`](Self::delete), and only after every copy succeeded: if any copy failed, nothing
/// is deleted. [`dry_run`](Self::dry_run) returns the plan and changes nothing.
///
/// Keys map to paths as in [`Bucket::download_prefix`]: the prefix (given a trailing `/` if it
/// lacks one) is removed, `/` separates directories, and a key that would leave the
/// directory (`..`, an empty segment, a backslash, a NUL) or a symbolic link inside it on the
/// way to a file refuses the whole [`to_dir`](Self::to_dir) sync before anything is written or
/// deleted. [`from_dir`](Self::from_dir) never makes a path from a key, so such keys are only
/// objects no local file matches (a local `a\b.txt` on Unix syncs to `prefix/a\b.txt`).
/// Folder markers (keys ending in `/`) are skipped. Symbolic links in the local directory are skipped unless
/// [`follow_symlinks`](Self::follow_symlinks); include and exclude patterns (see
/// [`include`](Self::include)) apply to both sides, and deletion never touches what they
/// leave out.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a hostile key, a local name
/// that is not UTF-8, a prefix with `.`/`..`/empty segments, a missing source directory, a
/// symbolic link in the way; listing errors; [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled)
/// after a cancel; with [`fail_fast`](Self::fail_fast), the first file's error. Otherwise a
/// file that fails (its content check with [`Compare::Content`] included: a HEAD refused, a
/// file that cannot be read) is reported in [`SyncOutput::failed`] and the others go on.
///
/// # Cancel safety
///
/// Dropping the future stops the transfers: multipart uploads are aborted, downloads leave no
/// half-written file; files already complete stay.
#[derive(Debug)]
#[must_use = "a sync does nothing until given a directory and awaited"]
pub struct DirSync {
    bucket: Bucket,
    prefix: String,
    filters: Filters,
    follow: bool,
    compare: Compare,
    delete: bool,
    dry_run: bool,
    settings: Settings,
}

/// What a sync did (or, in a dry run, would do).
#[derive(Debug)]
#[non_exhaustive]
pub struct SyncOutput {
    /// The plan: every copy and deletion, in order of relative path, copies first.
    pub plan: Vec<SyncAction>,
    /// Files found unchanged.
    pub unchanged: usize,
    /// Files copied.
    pub transferred: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Files or objects deleted.
    pub deleted: usize,
    /// Copies and deletions that failed.
    pub failed: Vec<FailedFile>,
    /// Deletions not made because a copy failed.
    pub deletes_skipped: usize,
    /// Symbolic links in the local directory not followed: all of them by default, dangling
    /// ones with [`follow_symlinks`](DirSync::follow_symlinks).
    pub skipped_links: usize,
    /// Whether this was a dry run (nothing was changed).
    pub dry_run: bool,
}

/// The settings a directory transfer starts with.
pub(crate) fn default_settings() -> Settings {
    Settings {
        concurrency: DEFAULT_CONCURRENCY * 2,
        part_size: DEFAULT_PART_SIZE,
        threshold: DEFAULT_MULTIPART_THRESHOLD,
        fail_fast: false,
        checksum: None,
        total: Tracker::default(),
        on_file: None,
        cancel: CancelHandle::default(),
    }
}

impl Bucket {
    /// Starts a sync between `prefix` and a local directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use async_s3::Compare;
    /// // Preview, then mirror ./site to site/ (deleting objects with no local file).
    /// let plan = bucket.sync("site/").delete(true).dry_run().from_dir("./site").await?;
    /// println!("{} steps", plan.plan.len());
    /// let out = bucket.sync("site/").delete(true).from_dir("./site").await?;
    /// println!("{} sent, {} deleted, {} failed", out.transferred, out.deleted, out.failed.len());
    /// // And back, comparing content.
    /// bucket.sync("site/").compare(Compare::Content).to_dir("./copy").await?;
    /// # Ok(()) }
    /// ```
    pub fn sync(&self, prefix: impl Into<String>) -> DirSync {
        DirSync {
            bucket: self.clone(),
            prefix: prefix.into(),
            filters: Filters::default(),
            follow: false,
            compare: Compare::default(),
            delete: false,
            dry_run: false,
            settings: default_settings(),
        }
    }
}

/// The setters a directory upload and a sync share.
macro_rules! dir_setters {
    () => {
        /// Takes only files whose relative path matches `pattern` (may be repeated; any
        /// pattern will do). `*` stays within a directory, `**` crosses them, `?` is one
        /// character; a pattern without `/` is matched against the file name at any depth.
        pub fn include(mut self, pattern: impl Into<String>) -> Self {
            self.filters.include(pattern.into());
            self
        }

        /// Leaves out files whose relative path matches `pattern` (may be repeated; wins over
        /// [`include`](Self::include)).
        pub fn exclude(mut self, pattern: impl Into<String>) -> Self {
            self.filters.exclude(pattern.into());
            self
        }

        /// Follows symbolic links in the local directory (default: skipped, and counted in
        /// the output's `skipped_links`). A link that leads back to a directory on its own
        /// way down is a loop and refuses the walk; two links to one directory are both
        /// walked (its files are sent once for each); a dangling link is skipped and counted.
        /// Syncing up with [`DirSync::delete`](crate::DirSync::delete), a skipped link is
        /// no local file: objects under its path are extras and are deleted.
        pub fn follow_symlinks(mut self, follow: bool) -> Self {
            self.follow = follow;
            self
        }

        /// How many requests are in flight at once across all files (default 16): small
        /// files take one each, a large file as many parts as it sends at once. Values
        /// beyond what a budget can count (over `u32::MAX`) are clamped.
        pub fn concurrency(mut self, n: usize) -> Self {
            self.settings.concurrency = n.clamp(1, $crate::transfer::sync::batch::MAX_BUDGET);
            self
        }

        /// The part size of large files (default 8 MiB; 5 MiB ..= 5 GiB for uploads, checked
        /// before anything is sent).
        pub fn part_size(mut self, bytes: u64) -> Self {
            self.settings.part_size = bytes.max(1);
            self
        }

        /// Files at least this large are uploaded in parts (default 16 MiB).
        pub fn multipart_threshold(mut self, bytes: u64) -> Self {
            self.settings.threshold = bytes;
            self
        }

        /// Stops at the first file that fails and returns its error (default: go on and
        /// report failures in the output).
        pub fn fail_fast(mut self) -> Self {
            self.settings.fail_fast = true;
            self
        }

        /// Calls `f` with the bytes of all files transferred so far, out of the total to
        /// transfer. Called from the transfer tasks: keep it quick.
        pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
            self.settings.total = Tracker::new(Some(callback(f)));
            self
        }

        /// Calls `f` as each file's bytes move, and once more when it is complete. Called
        /// from the transfer tasks, several at once: keep it quick.
        pub fn on_file(mut self, f: impl Fn(&FileProgress) + Send + Sync + 'static) -> Self {
            self.settings.on_file = Some(Arc::new(f));
            self
        }

        /// The checksum uploads are sent with; `None` for none (default: the client's).
        pub fn checksum(mut self, algorithm: impl Into<Option<ChecksumAlgorithm>>) -> Self {
            self.settings.checksum = Some(algorithm.into());
            self
        }

        /// A handle that cancels the whole transfer.
        pub fn cancel_handle(&self) -> CancelHandle {
            self.settings.cancel.clone()
        }
    };
}
pub(crate) use dir_setters;

impl DirSync {
    dir_setters!();

    /// How files are compared (default [`Compare::SizeAndTime`]).
    pub fn compare(mut self, compare: Compare) -> Self {
        self.compare = compare;
        self
    }

    /// Deletes files on the destination that the source does not have (default: kept).
    pub fn delete(mut self, delete: bool) -> Self {
        self.delete = delete;
        self
    }

    /// Makes the plan and returns it in [`SyncOutput::plan`] without changing anything.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Syncs the local directory `dir` up to the prefix.
    ///
    /// # Errors
    ///
    /// See [`DirSync`].
    pub async fn from_dir(self, dir: impl AsRef<Path>) -> Result<SyncOutput> {
        self.go(dir.as_ref(), Direction::Up).await
    }

    /// Syncs the prefix down into the local directory `dir` (created if missing).
    ///
    /// # Errors
    ///
    /// See [`DirSync`].
    pub async fn to_dir(self, dir: impl AsRef<Path>) -> Result<SyncOutput> {
        self.go(dir.as_ref(), Direction::Down).await
    }

    async fn go(mut self, dir: &Path, way: Direction) -> Result<SyncOutput> {
        let name = self.bucket.name().to_owned();
        let ctx = |e: Error| e.with_context("Sync", Some(&name), None);
        if self.compare == Compare::Content && way == Direction::Up {
            // What the next content comparison checks against.
            self.settings.checksum = Some(Some(ChecksumAlgorithm::Crc64Nvme));
        }
        let cancel = self.settings.cancel.clone();
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(ctx(cancelled())),
            r = self.run(dir, way) => r.map_err(ctx),
        }
    }

    async fn run(&self, dir: &Path, way: Direction) -> Result<SyncOutput> {
        let prefix = local::normalize_prefix(&self.prefix)?;
        if way == Direction::Up {
            batch::check_upload_part_size(self.settings.part_size)?;
        }
        let remote = remote::list(&self.bucket, &prefix, &self.filters, way).await?;
        let mut skipped_links = 0;
        let local = match tokio::fs::metadata(dir).await {
            Err(e) if way == Direction::Down && e.kind() == std::io::ErrorKind::NotFound => {
                BTreeMap::new()
            }
            _ => {
                let walk = local::walk(dir.to_path_buf(), self.filters.clone(), self.follow);
                let walk = walk.await?;
                skipped_links = walk.skipped_links;
                let files = walk.files;
                let stat = |f: local::LocalFile| {
                    let s = Stat {
                        size: f.size,
                        modified: f.modified,
                    };
                    (f.rel, s)
                };
                files.into_iter().map(stat).collect()
            }
        };
        let (source, dest) = match way {
            Direction::Up => (&local, &remote),
            Direction::Down => (&remote, &local),
        };
        let mut draft = plan::draft(way, source, dest, self.compare, self.delete);
        // The content checks run at once under the sync's concurrency; one that fails is
        // that file's failure (which, like any, blocks deletions), not the sync's.
        let checks = std::mem::take(&mut draft.check).into_iter().map(|rel| {
            let key = format!("{prefix}{rel}");
            let path = local::local_path(dir, &rel);
            async move {
                let (bucket, part_size) = (&self.bucket, self.settings.part_size);
                let r = remote::same_content(bucket, &key, path.clone(), part_size).await;
                (rel, key, path, r)
            }
        });
        let mut checks = futures_util::stream::iter(checks)
            .buffer_unordered(self.settings.concurrency.clamp(1, MAX_CHECKS));
        let mut check_failed = Vec::new();
        while let Some((rel, key, path, same)) = checks.next().await {
            match same {
                Ok(true) => draft.unchanged += 1,
                Ok(false) => {
                    let size = source[&rel].size;
                    let reason = SyncReason::Content;
                    draft.actions.push(match way {
                        Direction::Up => SyncAction::Upload { rel, size, reason },
                        Direction::Down => SyncAction::Download { rel, size, reason },
                    });
                }
                Err(e) if self.settings.fail_fast => return Err(e),
                Err(error) => check_failed.push(FailedFile { key, path, error }),
            }
        }
        drop(checks);
        check_failed.sort_by(|a, b| a.key.cmp(&b.key));
        draft
            .actions
            .sort_by(|a, b| (a.is_delete(), a.rel()).cmp(&(b.is_delete(), b.rel())));
        if way == Direction::Down {
            // Nothing is written or deleted through a link.
            for a in &draft.actions {
                local::check_no_links(dir, a.rel()).await?;
            }
        }
        let mut out = SyncOutput {
            plan: draft.actions,
            unchanged: draft.unchanged,
            transferred: 0,
            bytes: 0,
            deleted: 0,
            failed: check_failed,
            deletes_skipped: 0,
            skipped_links,
            dry_run: self.dry_run,
        };
        if self.dry_run {
            return Ok(out);
        }
        let jobs = out.plan.iter().filter_map(|a| match a {
            SyncAction::Upload { rel, size, .. } | SyncAction::Download { rel, size, .. } => {
                Some(Job {
                    key: format!("{prefix}{rel}"),
                    path: local::local_path(dir, rel),
                    size: *size,
                    up: way == Direction::Up,
                    modified: remote.get(rel).and_then(|s| s.modified),
                })
            }
            _ => None,
        });
        let done = batch::run(&self.bucket, jobs.collect(), &self.settings).await?;
        out.transferred = done.files;
        out.bytes = done.bytes;
        out.failed.extend(done.failed);
        let deletes: Vec<&str> = out
            .plan
            .iter()
            .filter(|a| a.is_delete())
            .map(SyncAction::rel)
            .collect();
        if !out.failed.is_empty() {
            out.deletes_skipped = deletes.len();
            return Ok(out);
        }
        let (deleted, failed) = match way {
            Direction::Up => self.delete_objects(&prefix, dir, &deletes).await?,
            Direction::Down => delete_files(dir, &prefix, &deletes).await,
        };
        out.deleted = deleted;
        out.failed.extend(failed);
        Ok(out)
    }

    /// Deletes `rels` under the prefix, a thousand keys a request.
    async fn delete_objects(
        &self,
        prefix: &str,
        dir: &Path,
        rels: &[&str],
    ) -> Result<(usize, Vec<FailedFile>)> {
        let (mut deleted, mut failed) = (0, Vec::new());
        for chunk in rels.chunks(MAX_DELETE_KEYS) {
            let keys: Vec<String> = chunk.iter().map(|r| format!("{prefix}{r}")).collect();
            let res = match self.bucket.delete_objects(keys.clone()).await {
                Ok(res) => res,
                Err(e) if self.settings.fail_fast => return Err(e),
                // The request failed as a whole: every key of it is a failed deletion, and
                // the other chunks go on.
                Err(e) => {
                    for (key, rel) in keys.into_iter().zip(chunk) {
                        failed.push(FailedFile {
                            path: local::local_path(dir, rel),
                            key,
                            error: same_error(&e),
                        });
                    }
                    continue;
                }
            };
            deleted += chunk.len().saturating_sub(res.errors.len());
            for e in res.errors {
                let rel = e.key.strip_prefix(prefix).unwrap_or(&e.key).to_owned();
                let body = S3ErrorBody {
                    code: Some(e.code),
                    message: Some(e.message),
                    ..S3ErrorBody::default()
                };
                let error = Error::from_response(200, Some(body));
                failed.push(FailedFile {
                    path: local::local_path(dir, &rel),
                    key: e.key,
                    error,
                });
            }
        }
        Ok((deleted, failed))
    }
}

/// An error like `e` (same kind, status and S3 code) for each key of a failed request.
fn same_error(e: &Error) -> Error {
    match e.status() {
        Some(status) => {
            let body = S3ErrorBody {
                code: e.s3_code().map(str::to_owned),
                message: e.s3_message().map(str::to_owned),
                ..S3ErrorBody::default()
            };
            Error::from_response(status, Some(body))
                .with_message(format!("the DeleteObjects request failed: {e}"))
        }
        None => Error::new(e.kind()).with_message(format!("the DeleteObjects request failed: {e}")),
    }
}

/// Deletes the local files `rels` (their directories stay).
async fn delete_files(dir: &Path, prefix: &str, rels: &[&str]) -> (usize, Vec<FailedFile>) {
    let (mut deleted, mut failed) = (0, Vec::new());
    for rel in rels {
        let path: PathBuf = local::local_path(dir, rel);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => deleted += 1,
            Err(e) => failed.push(FailedFile {
                key: format!("{prefix}{rel}"),
                error: Error::io(format!("cannot delete {}", path.display()), e),
                path,
            }),
        }
    }
    (deleted, failed)
}
