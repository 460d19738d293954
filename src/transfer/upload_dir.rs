//! `Bucket::upload_dir`: every file under a local directory to keys under a prefix, under one
//! concurrency budget, with a summary of what was sent and what failed.

use super::glob::Filters;
use super::progress::{CancelHandle, Progress, Tracker, callback, cancelled};
use super::sync::batch::{self, FailedFile, FileProgress, Job, Settings};
use super::sync::local;
use super::sync::{default_settings, dir_setters};
use crate::checksum::ChecksumAlgorithm;
use crate::client::Bucket;
use crate::error::{Error, Result};
use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

/// Uploads every file under a directory. Built by [`Bucket::upload_dir`]; await it.
///
/// Each file's path relative to the directory, `/`-separated, after the
/// [`prefix`](Self::prefix), is its key. Symbolic links are skipped unless
/// [`follow_symlinks`](Self::follow_symlinks); [`include`](Self::include) and
/// [`exclude`](Self::exclude) patterns choose files. At most
/// [`concurrency`](Self::concurrency) requests are in flight across all files: many small
/// files go up at once, each in one PutObject, and a large file is split into parts that take
/// several places of the budget. Files are read from disk at each part's offset, never whole,
/// so memory stays bounded however many files there are.
///
/// A file that fails does not stop the others: it is listed in
/// [`UploadDirOutput::failed`] (unless [`fail_fast`](Self::fail_fast)).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before anything is sent when
/// the directory is missing or not a directory, a file name is not UTF-8, or the prefix has
/// an empty, `.` or `..` segment; [`ErrorKind::Io`](crate::ErrorKind::Io) when the directory
/// cannot be read; [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled) after a cancel;
/// with `fail_fast`, the first file's error.
///
/// # Cancel safety
///
/// Dropping the future stops the uploads and aborts their multipart uploads; objects
/// already complete stay.
#[derive(Debug)]
#[must_use = "a directory upload does nothing until awaited"]
pub struct UploadDir {
    bucket: Bucket,
    dir: PathBuf,
    prefix: String,
    filters: Filters,
    follow: bool,
    settings: Settings,
}

/// What a directory upload returns.
#[derive(Debug)]
#[non_exhaustive]
pub struct UploadDirOutput {
    /// Files uploaded.
    pub files: usize,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Symbolic links skipped (not followed).
    pub skipped_links: usize,
    /// Files that failed, with their errors.
    pub failed: Vec<FailedFile>,
}

impl Bucket {
    /// Starts an upload of every file under `dir`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let out = bucket
    ///     .upload_dir("./photos")
    ///     .prefix("photos/")
    ///     .include("*.jpg")
    ///     .exclude("**/.thumbs/**")
    ///     .on_progress(|p| eprintln!("{} / {:?}", p.transferred, p.total))
    ///     .await?;
    /// println!("{} files sent, {} failed", out.files, out.failed.len());
    /// for f in &out.failed {
    ///     eprintln!("{}: {}", f.path.display(), f.error);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn upload_dir(&self, dir: impl AsRef<Path>) -> UploadDir {
        UploadDir {
            bucket: self.clone(),
            dir: dir.as_ref().to_path_buf(),
            prefix: String::new(),
            filters: Filters::default(),
            follow: false,
            settings: default_settings(),
        }
    }
}

impl UploadDir {
    dir_setters!();

    /// The key prefix (default none). A prefix that does not end in `/` gets one.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    async fn run(self) -> Result<UploadDirOutput> {
        let prefix = local::normalize_prefix(&self.prefix)?;
        batch::check_upload_part_size(self.settings.part_size)?;
        let walk = local::walk(self.dir.clone(), self.filters.clone(), self.follow).await?;
        let jobs = walk
            .files
            .into_iter()
            .map(|f| Job {
                key: format!("{prefix}{}", f.rel),
                path: f.path,
                size: f.size,
                up: true,
                modified: None,
            })
            .collect();
        let cancel = self.settings.cancel.clone();
        let done = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(cancelled()),
            r = batch::run(&self.bucket, jobs, &self.settings) => r?,
        };
        Ok(UploadDirOutput {
            files: done.files,
            bytes: done.bytes,
            skipped_links: walk.skipped_links,
            failed: done.failed,
        })
    }
}

impl IntoFuture for UploadDir {
    type Output = Result<UploadDirOutput>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        let name = self.bucket.name().to_owned();
        Box::pin(async move {
            self.run()
                .await
                .map_err(|e: Error| e.with_context("UploadDir", Some(&name), None))
        })
    }
}
