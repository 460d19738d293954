//! Aborting the multipart uploads that were started long ago and never finished, as an
//! `AbortIncompleteMultipartUpload` lifecycle rule would, with a dry run to see them first.

use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::types::MultipartUploadInfo;
use futures_util::TryStreamExt;
use std::time::{Duration, SystemTime};

/// Aborts the multipart uploads in progress that were started more than a given time ago.
/// Built by [`Bucket::abort_uploads_older_than`]; await it.
///
/// Uploads are listed (ListMultipartUploads) and each one whose `Initiated` time is older
/// than the cutoff is aborted (AbortMultipartUpload), one after the other. An upload whose
/// start time the store does not report is never aborted. With
/// [`dry_run`](Self::dry_run) nothing is aborted: the output lists what would be.
///
/// # Errors
///
/// A listing that fails; an abort that fails is reported per upload in
/// [`AbortUploadsOutput::errors`] (an upload already gone, `NoSuchUpload`, counts as
/// aborted).
///
/// # Cancel safety
///
/// Dropping the future stops between requests; the uploads already aborted stay aborted.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct AbortUploadsOlderThan {
    bucket: Bucket,
    age: Duration,
    prefix: Option<String>,
    dry_run: bool,
    now: Option<SystemTime>,
    /// Agree to pay for the listing and the aborts (Requester Pays).
    extra: crate::ops::sse::ExtraHeaders,
}

/// What [`AbortUploadsOlderThan`] did (or, in a dry run, would do).
#[derive(Debug)]
#[non_exhaustive]
pub struct AbortUploadsOutput {
    /// The uploads aborted (in a dry run: that would have been aborted).
    pub aborted: Vec<MultipartUploadInfo>,
    /// How many uploads in progress were younger than the cutoff (or of unknown age) and kept.
    pub kept: u64,
    /// The uploads whose abort failed, with the error.
    pub errors: Vec<(MultipartUploadInfo, Error)>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

impl Bucket {
    /// Aborts every multipart upload in progress started more than `age` ago.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use std::time::Duration;
    /// let week = Duration::from_secs(7 * 24 * 3600);
    /// let preview = bucket.abort_uploads_older_than(week).dry_run().await?;
    /// println!("would abort {} uploads", preview.aborted.len());
    /// let done = bucket.abort_uploads_older_than(week).await?;
    /// assert!(done.errors.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn abort_uploads_older_than(&self, age: Duration) -> AbortUploadsOlderThan {
        AbortUploadsOlderThan {
            bucket: self.clone(),
            age,
            prefix: None,
            dry_run: false,
            now: None,
            extra: crate::ops::sse::ExtraHeaders::default(),
        }
    }
}

impl AbortUploadsOlderThan {
    /// Only uploads to keys under `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Lists what would be aborted, aborting nothing.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Measures ages from this time instead of the client's now (its clock, the one
    /// requests are signed with, corrected by the skew the service reported).
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    crate::ops::sse::extra_setters!(extra => request_payer);

    async fn send(self) -> Result<AbortUploadsOutput> {
        let now = self.now.unwrap_or_else(|| self.bucket.client().now());
        let cutoff = now.checked_sub(self.age).unwrap_or(SystemTime::UNIX_EPOCH);
        let mut list = self.bucket.list_multipart_uploads();
        if let Some(p) = &self.prefix {
            list = list.prefix(p);
        }
        let pays = self.extra.get("x-amz-request-payer").is_some();
        if pays {
            list = list.request_payer();
        }
        let mut uploads = list.into_stream();
        let mut out = AbortUploadsOutput {
            aborted: Vec::new(),
            kept: 0,
            errors: Vec::new(),
            dry_run: self.dry_run,
        };
        while let Some(u) = uploads.try_next().await? {
            if u.initiated.is_none_or(|t| t >= cutoff) {
                out.kept += 1;
                continue;
            }
            if self.dry_run {
                out.aborted.push(u);
                continue;
            }
            let mut handle = self.bucket.multipart_upload(&u.key, &u.upload_id);
            if pays {
                handle = handle.with_request_payer();
            }
            match handle.abort().await {
                Ok(()) => out.aborted.push(u),
                // Only this code means the upload is gone; NotFound also covers NoSuchBucket.
                Err(e) if e.s3_code() == Some("NoSuchUpload") => out.aborted.push(u),
                Err(e) => out.errors.push((u, e)),
            }
        }
        Ok(out)
    }
}

crate::ops::into_future!(AbortUploadsOlderThan => AbortUploadsOutput);
