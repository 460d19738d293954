//! Deleting every object under a prefix: a listing, and DeleteObjects in batches of 1000,
//! with every key that could not be deleted reported back.

use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::ops::delete_objects::MAX_DELETE_KEYS;
use crate::types::{DeleteObjectError, ListEntry};
use futures_util::TryStreamExt;

/// Deletes every object whose key starts with a prefix. Built by [`Bucket::delete_prefix`];
/// await it.
///
/// Keys are listed (ListObjectsV2) and deleted in batches of 1000 (DeleteObjects) as the
/// listing goes. A key S3 could not delete is not an error of the whole operation: it is
/// returned in [`DeletePrefixOutput::errors`], never dropped. In a versioned bucket this
/// deletes current versions only (S3 adds delete markers); older versions stay.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty prefix (which
/// would empty the bucket); otherwise the first listing or DeleteObjects request that failed
/// as a whole, after which nothing more is deleted (what was deleted before stays deleted).
///
/// # Cancel safety
///
/// Dropping the future stops between requests; the batches already sent may have deleted
/// their keys.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct DeletePrefix {
    bucket: Bucket,
    prefix: String,
    url_encoding: bool,
}

/// What [`DeletePrefix`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DeletePrefixOutput {
    /// How many keys S3 reported deleted.
    pub deleted: u64,
    /// Every key S3 reported it could not delete, with its code and message.
    pub errors: Vec<DeleteObjectError>,
    /// How many DeleteObjects requests were sent.
    pub requests: u64,
}

impl Bucket {
    /// Deletes every object under `prefix` (which must not be empty).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let out = bucket.delete_prefix("logs/2024/").await?;
    /// println!("{} deleted", out.deleted);
    /// for e in &out.errors {
    ///     eprintln!("not deleted: {} ({})", e.key, e.code);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn delete_prefix(&self, prefix: impl Into<String>) -> DeletePrefix {
        DeletePrefix {
            bucket: self.clone(),
            prefix: prefix.into(),
            url_encoding: true,
        }
    }
}

impl DeletePrefix {
    /// Lists without `encoding-type=url`, for stores that echo it without applying it (see
    /// [`ListObjects::without_url_encoding`](crate::ListObjects::without_url_encoding)).
    pub fn without_url_encoding(mut self) -> Self {
        self.url_encoding = false;
        self
    }

    async fn send(self) -> Result<DeletePrefixOutput> {
        if self.prefix.is_empty() {
            return Err(Error::invalid_input(
                "delete_prefix needs a non-empty prefix (an empty one would empty the bucket)",
            )
            .with_context("DeletePrefix", Some(&self.bucket.name), None));
        }
        let mut list = self.bucket.list_objects().prefix(&self.prefix);
        if !self.url_encoding {
            list = list.without_url_encoding();
        }
        let mut entries = list.into_stream();
        let mut out = DeletePrefixOutput::default();
        let mut batch: Vec<String> = Vec::with_capacity(MAX_DELETE_KEYS);
        loop {
            let next = entries.try_next().await?;
            let done = next.is_none();
            match next {
                Some(ListEntry::Object(o)) => {
                    batch.push(o.key);
                    if batch.len() < MAX_DELETE_KEYS {
                        continue;
                    }
                }
                Some(_) => continue,
                None => {}
            }
            if !batch.is_empty() {
                let keys = std::mem::replace(&mut batch, Vec::with_capacity(MAX_DELETE_KEYS));
                let result = self.bucket.delete_objects(keys).await?;
                out.requests += 1;
                out.deleted += result.deleted.len() as u64;
                out.errors.extend(result.errors);
            }
            if done {
                return Ok(out);
            }
        }
    }
}

crate::ops::into_future!(DeletePrefix => DeletePrefixOutput);
