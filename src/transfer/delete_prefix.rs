//! Deleting every object under a prefix: a listing, and DeleteObjects in batches of 1000,
//! with every key that could not be deleted reported back.

use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::ops::delete_objects::MAX_DELETE_KEYS;
use crate::ops::sse::ExtraHeaders;
pub use crate::types::DeletePrefixOutput;
use crate::types::ListEntry;
use futures_util::TryStreamExt;

/// Deletes every object whose key starts with a prefix. Built by [`Bucket::delete_prefix`];
/// await it.
///
/// Keys are listed (ListObjectsV2) and deleted in batches of 1000 (DeleteObjects) as the
/// listing goes. A key S3 could not delete is not an error of the whole operation: it is
/// returned in [`DeletePrefixOutput::errors`], never dropped. In a versioned bucket this
/// deletes current versions only (S3 adds delete markers); older versions stay.
///
/// The prefix is a plain string prefix, not a folder: `"logs/2024"` also deletes
/// `logs/2024-old/…` and `logs/2024.gz`; end it with `/` to mean one folder. Every key the
/// listing answers is checked to start with the prefix before it is deleted. MFA delete is
/// not supported.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty prefix (which
/// would empty the bucket), before anything is sent;
/// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) when the listing answers
/// a key outside the prefix (that key and the rest of its batch are not deleted); otherwise
/// the first listing or DeleteObjects request that failed as a whole, after which nothing
/// more is deleted. Every error after the prefix check carries what was done before it
/// ([`Error::partial_delete_prefix`]: the keys deleted and the per-key errors of the batches
/// already answered, also counted in its `Display`), so no count or per-key error is dropped;
/// the keys of the batch that failed may or may not have been deleted.
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
    /// Option headers (request payer), for the listing and every batch.
    extra: ExtraHeaders,
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
            extra: ExtraHeaders::default(),
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

    crate::ops::sse::extra_setters!(extra => request_payer);

    fn pays(&self) -> bool {
        self.extra.get("x-amz-request-payer").is_some()
    }

    async fn send(self) -> Result<DeletePrefixOutput> {
        if self.prefix.is_empty() {
            return Err(Error::invalid_input(
                "delete_prefix needs a non-empty prefix (an empty one would empty the bucket)",
            )
            .with_context("DeletePrefix", Some(&self.bucket.name), None));
        }
        let mut out = DeletePrefixOutput::default();
        match self.run(&mut out).await {
            Ok(()) => Ok(out),
            Err(e) => Err(e
                .with_context("DeletePrefix", Some(&self.bucket.name), None)
                .with_partial_delete_prefix(out)),
        }
    }

    /// Lists and deletes, adding to `out` as each batch is answered, so that what was done
    /// is still there when a later request fails.
    async fn run(&self, out: &mut DeletePrefixOutput) -> Result<()> {
        let mut list = self.bucket.list_objects().prefix(&self.prefix);
        if !self.url_encoding {
            list = list.without_url_encoding();
        }
        if self.pays() {
            list = list.request_payer();
        }
        let mut entries = list.into_stream();
        let mut batch: Vec<String> = Vec::with_capacity(MAX_DELETE_KEYS);
        loop {
            let next = entries.try_next().await?;
            let done = next.is_none();
            match next {
                Some(ListEntry::Object(o)) => {
                    // A listing is only believed about keys under the prefix: a store that
                    // ignored the prefix must not make this delete anything else.
                    if !o.key.starts_with(&self.prefix) {
                        return Err(Error::invalid_response(format!(
                            "the listing answered key {:?}, which is not under the prefix {:?}",
                            o.key, self.prefix
                        )));
                    }
                    batch.push(o.key.into());
                    if batch.len() < MAX_DELETE_KEYS {
                        continue;
                    }
                }
                Some(_) => continue,
                None => {}
            }
            if !batch.is_empty() {
                let keys = std::mem::replace(&mut batch, Vec::with_capacity(MAX_DELETE_KEYS));
                let mut delete = self.bucket.delete_objects(keys);
                if self.pays() {
                    delete = delete.request_payer();
                }
                let result = delete.await?;
                out.requests += 1;
                out.deleted += result.deleted.len() as u64;
                out.errors.extend(result.errors);
            }
            if done {
                return Ok(());
            }
        }
    }
}

crate::ops::into_future!(DeletePrefix => DeletePrefixOutput);
