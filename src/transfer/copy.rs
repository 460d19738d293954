//! `Bucket::copy`: a server-side copy of any size. One CopyObject up to the threshold (5 GiB,
//! the most CopyObject takes), otherwise a multipart upload whose parts are UploadPartCopy
//! ranges of the source, run in parallel and aborted on any failure by the upload engine's
//! one abort path.

use super::plan::{DEFAULT_CONCURRENCY, MAX_PART_SIZE, UploadPlan};
use super::pool::TaskPool;
use super::progress::{CancelHandle, Progress, Tracker, callback, cancelled};
use super::upload::{AbortGuard, abort_after_failure, create_guarded};
use crate::checksum::ChecksumAlgorithm;
use crate::client::Bucket;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::meta::{ObjectHeaders, ObjectMeta, object_header_setters};
use crate::ops::multipart::MultipartUpload;
use crate::ops::sse::{ExtraHeaders, SseCustomerKey};

/// Default part size of a multipart copy: 64 MiB (no byte passes through the client, so
/// larger parts only mean fewer requests).
pub const DEFAULT_COPY_PART_SIZE: u64 = 64 << 20;

/// Default size above which a copy goes multipart: 5 GiB, the most one CopyObject copies.
pub const DEFAULT_COPY_THRESHOLD: u64 = MAX_PART_SIZE;

/// Copies an object of any size within S3, server-side. Built by [`Bucket::copy`]; await it.
///
/// The source is looked up first (HeadObject): its size chooses the way, and its entity tag
/// pins every request to that version of the source (`x-amz-copy-source-if-match`), so a
/// source replaced during the copy fails the copy ([`ErrorKind::ObjectChanged`]) instead of
/// stitching two versions. Up to the [threshold](Self::multipart_threshold) (5 GiB) the copy
/// is one [`CopyObject`](crate::CopyObject). Above it, a multipart upload is created and its
/// parts ([`part_size`](Self::part_size), 64 MiB by default, grown so there are never more
/// than 10,000) are copied with [`UploadPartCopy`](crate::UploadPartCopy), `concurrency` at a
/// time.
///
/// Metadata (content headers and user metadata) is kept from the source unless a content
/// header or user metadata is set on the builder, or [`replace_metadata`](Self::replace_metadata)
/// is called: then all of it is replaced by what the builder sets. For a multipart copy "kept"
/// means read from the source's HeadObject answer and set on the new upload (`Content-Type`,
/// `Cache-Control`, `Content-Disposition`, `Content-Encoding`, `Content-Language`, `Expires`,
/// `x-amz-meta-*`; like CopyObject, not the website redirect). Storage class
/// and encryption come from the builder, never from the source (an SSE-C source needs
/// [`copy_source_sse_customer_key`](Self::copy_source_sse_customer_key)). A single CopyObject
/// keeps the source's checksum, as S3 does; a multipart copy gets a checksum of the algorithm
/// given to [`checksum`](Self::checksum), or by default of the source's algorithm (its
/// HeadObject asks for it with `x-amz-checksum-mode: ENABLED`), combined from the parts' and
/// checked at completion; a source without a checksum gives a copy without one. Without
/// [`replace_metadata`](Self::replace_metadata) or new content headers, a multipart copy
/// Every copy request is pinned to the source the HeadObject found: its ETag
/// (`x-amz-copy-source-if-match`) and, when the HEAD names one, its version id.
/// Tags are kept (a multipart copy reads them with GetObjectTagging, which needs
/// `s3:GetObjectTagging`; a store without tagging gives none) unless
/// [`tagging`](Self::tagging) replaces them. [`source_version_id`](Self::source_version_id)
/// copies a given version of the source.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] for a part size outside 5 MiB ..= 5 GiB, a threshold above
/// 5 GiB or a bad header, before anything is sent; [`ErrorKind::NotFound`] for a missing
/// source; [`ErrorKind::ObjectChanged`] when the source changed during the copy;
/// [`ErrorKind::Cancelled`] after [`CancelHandle::cancel`]; otherwise the first error of a
/// part or of the completion, with the upload id attached ([`Error::upload_id`]).
///
/// # Cancel safety
///
/// On any failure and on cancellation a multipart upload is aborted before the error is
/// returned (the upload engine's abort path, repeated once if parts are still listed). If the
/// future is dropped instead, the abort is started in the background and the part tasks are
/// stopped. A single CopyObject dropped mid-way may or may not have made the copy.
#[derive(Debug)]
#[must_use = "a copy does nothing until awaited"]
pub struct ObjectCopy {
    bucket: Bucket,
    source_bucket: String,
    source_key: String,
    key: String,
    headers: ObjectHeaders,
    replace_metadata: bool,
    part_size: u64,
    threshold: u64,
    concurrency: usize,
    tracker: Tracker,
    cancel: CancelHandle,
    /// The source's SSE-C key, for its HeadObject.
    source_key_sse: Option<SseCustomerKey>,
    /// The source's SSE-C headers for CopyObject and UploadPartCopy.
    source_copy: ExtraHeaders,
    /// The checksum the copy gets (the service computes it).
    checksum: Option<ChecksumAlgorithm>,
    /// The version of the source to copy.
    source_version_id: Option<String>,
    /// Whether the builder's tags replace the source's.
    replace_tags: bool,
}

/// What a copy returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectCopyOutput {
    /// The new object's entity tag.
    pub etag: Option<String>,
    /// The new object's version id, for versioned buckets.
    pub version_id: Option<String>,
    /// The number of bytes copied.
    pub size: u64,
    /// Parts copied; 0 when one CopyObject made the copy.
    pub parts: u32,
    /// The multipart upload id, when multipart was used.
    pub upload_id: Option<String>,
    /// The source's entity tag the copy was pinned to.
    pub source_etag: Option<String>,
    /// The new object's checksum: for a single CopyObject, the one its answer reports; for a
    /// multipart copy with a checksum (asked for, or the source's algorithm), the one
    /// combined from the parts' (full-object for CRCs), which the service's, when reported,
    /// matched.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

impl Bucket {
    /// Starts a server-side copy of `source_key` (in this bucket, or the one given to
    /// [`ObjectCopy::source_bucket`]) to `key` in this bucket, of any size.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let out = bucket
    ///     .copy("videos/raw.mp4", "archive/raw.mp4")
    ///     .source_bucket("ingest")
    ///     .concurrency(16)
    ///     .await?;
    /// println!("{} bytes in {} parts", out.size, out.parts);
    /// # Ok(()) }
    /// ```
    pub fn copy(&self, source_key: impl Into<String>, key: impl Into<String>) -> ObjectCopy {
        ObjectCopy {
            bucket: self.clone(),
            source_bucket: self.name.to_string(),
            source_key: source_key.into(),
            key: key.into(),
            headers: ObjectHeaders::default(),
            replace_metadata: false,
            part_size: DEFAULT_COPY_PART_SIZE,
            threshold: DEFAULT_COPY_THRESHOLD,
            concurrency: DEFAULT_CONCURRENCY,
            tracker: Tracker::default(),
            cancel: CancelHandle::default(),
            source_key_sse: None,
            source_copy: ExtraHeaders::default(),
            checksum: None,
            source_version_id: None,
            replace_tags: false,
        }
    }
}

impl ObjectCopy {
    object_header_setters!();

    /// Copies from this bucket instead of the destination's.
    pub fn source_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.source_bucket = bucket.into();
        self
    }

    /// Replaces the metadata with what this builder sets (none, if nothing is set) instead of
    /// keeping the source's.
    pub fn replace_metadata(mut self) -> Self {
        self.replace_metadata = true;
        self
    }

    /// The size of each copied part (default 64 MiB; 5 MiB ..= 5 GiB). It grows when the
    /// source would need more than 10,000 parts.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Sources up to this size are copied with one CopyObject (default and maximum 5 GiB);
    /// larger ones part by part.
    pub fn multipart_threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes;
        self
    }

    /// How many parts are copied at once (default 8; at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Calls `f` with the bytes copied so far each time a part (or the single CopyObject)
    /// completes. Called from the transfer's tasks: keep it quick.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.tracker = Tracker::new(Some(callback(f)));
        self
    }

    /// A handle that cancels this copy.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    // encryption
    /// The customer-provided key the source is encrypted with (SSE-C): sent with the
    /// source's HeadObject and as `x-amz-copy-source-server-side-encryption-customer-*` with
    /// every copy request. The copy's own key is [`sse_customer_key`](Self::sse_customer_key).
    pub fn copy_source_sse_customer_key(mut self, key: &SseCustomerKey) -> Self {
        self.source_key_sse = Some(key.clone());
        let steps = crate::ops::sse::scope::START | crate::ops::sse::scope::PART;
        self.source_copy.sse_customer(key, true, steps);
        self
    }

    /// Gives the copy a checksum of `algorithm`, computed by the service: a single
    /// CopyObject asks for it (`x-amz-checksum-algorithm`; without it S3 keeps the source's
    /// checksum); a multipart copy creates its upload with it (full-object for CRCs), lists
    /// each part's checksum the service reports, and checks the object's at completion.
    /// Without it a multipart copy takes the source's algorithm, if the source has one.
    pub fn checksum(mut self, algorithm: ChecksumAlgorithm) -> Self {
        self.checksum = Some(algorithm);
        self
    }

    /// Copies this version of the source: its HeadObject, and every copy request
    /// (`x-amz-copy-source: …?versionId=`).
    pub fn source_version_id(mut self, v: impl Into<String>) -> Self {
        self.source_version_id = Some(v.into());
        self
    }

    /// Gives the copy these tags instead of the source's. At most 10 tags, keys of 1 to 128
    /// and values of at most 256 characters, each key once: anything else is an
    /// [`ErrorKind::InvalidInput`] error before sending.
    pub fn tagging<I, K, V>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.headers.tags = crate::ops::tagging::collect(tags);
        self.replace_tags = true;
        self
    }

    async fn send(self) -> Result<ObjectCopyOutput> {
        let bucket = self.bucket.name.clone();
        let key = self.key.clone();
        self.run()
            .await
            .map_err(|e| e.with_context("Copy", Some(&bucket), Some(&key)))
    }

    async fn run(mut self) -> Result<ObjectCopyOutput> {
        // Bad input is refused before anything is sent.
        UploadPlan::new(0, self.part_size)?;
        if self.threshold > MAX_PART_SIZE {
            return Err(Error::invalid_input(format!(
                "copy threshold {} is above 5 GiB, the most one CopyObject copies",
                self.threshold
            )));
        }
        self.headers.to_headers()?;
        if self.checksum.is_some_and(|a| a.amz_name().is_none()) {
            return Err(Error::invalid_input(
                "a copy's checksum is one S3 stores: CRC32, CRC32C, CRC64NVME, SHA1 or SHA256",
            ));
        }
        let source = self.head_source().await?;
        // Pinned by version too when the source has one: an ETag can come back (the same
        // bytes written again), a version id names one write.
        if self.source_version_id.is_none() {
            self.source_version_id.clone_from(&source.version_id);
        }
        if source.size <= self.threshold {
            return self.single_copy(source).await;
        }
        self.multipart_copy(source).await
    }

    async fn head_source(&self) -> Result<ObjectMeta> {
        let mut head = self
            .bucket
            .client()
            .bucket(self.source_bucket.clone())
            .head_object(self.source_key.clone());
        if let Some(key) = &self.source_key_sse {
            head = head.sse_customer_key(key);
        }
        if let Some(v) = &self.source_version_id {
            head = head.version_id(v.clone());
        }
        if self.headers.extra.get("x-amz-request-payer").is_some() {
            head = head.request_payer();
        }
        // The source's checksum algorithm, for a multipart copy to keep it.
        head = head.include_checksum();
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(cancelled()),
            meta = head => meta,
        }
    }

    async fn single_copy(&self, source: ObjectMeta) -> Result<ObjectCopyOutput> {
        let mut copy = self
            .bucket
            .copy_object(self.source_key.clone(), self.key.clone())
            .source_bucket(self.source_bucket.clone())
            .with_headers(self.headers.clone())
            .with_extra(&self.source_copy);
        if self.replace_metadata {
            copy = copy.replace_metadata();
        }
        if let Some(alg) = self.checksum {
            copy = copy.checksum(alg);
        }
        if let Some(v) = &self.source_version_id {
            copy = copy.source_version_id(v.clone());
        }
        if self.replace_tags {
            copy = copy.tagging(self.headers.tags.clone().unwrap_or_default());
        }
        if let Some(etag) = &source.etag {
            copy = copy.source_if_match(etag.clone());
        }
        let out = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(cancelled()),
            out = copy => out.map_err(source_changed)?,
        };
        self.tracker.add(source.size, Some(source.size));
        Ok(ObjectCopyOutput {
            etag: out.etag,
            version_id: out.version_id,
            size: source.size,
            parts: 0,
            upload_id: None,
            source_etag: source.etag,
            checksum: out.checksum,
        })
    }

    /// The headers of the new upload: the builder's, with the source's metadata unless it is
    /// replaced.
    fn upload_headers(&self, source: &ObjectMeta) -> ObjectHeaders {
        let mut headers = self.headers.clone();
        if self.replace_metadata || self.headers.has_metadata() {
            return headers;
        }
        headers.content_type.clone_from(&source.content_type);
        headers.cache_control.clone_from(&source.cache_control);
        headers
            .content_disposition
            .clone_from(&source.content_disposition);
        headers
            .content_encoding
            .clone_from(&source.content_encoding);
        headers
            .content_language
            .clone_from(&source.content_language);
        headers.expires.clone_from(&source.expires);
        // Not the website redirect: CopyObject does not copy it either.
        headers.metadata = source
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        headers
    }

    async fn multipart_copy(&self, source: ObjectMeta) -> Result<ObjectCopyOutput> {
        let plan = UploadPlan::new(source.size, self.part_size)?;
        let mut headers = self.upload_headers(&source);
        if !self.replace_tags {
            headers.tags = self.source_tags().await?;
        }
        // As CopyObject does: the source's checksum algorithm unless another is asked for.
        let checksum = self.checksum.or_else(|| {
            source
                .checksum
                .as_ref()
                .map(|(alg, _)| *alg)
                .filter(|alg| alg.amz_name().is_some())
        });
        let create = self
            .bucket
            .create_multipart_upload(self.key.clone())
            .with_headers(headers)
            .checksum(checksum);
        let upload = create_guarded(create, &self.cancel).await?;
        let mut guard = AbortGuard(Some(upload.clone()));
        let mut parts = TaskPool::new(self.concurrency, &self.cancel, "a part copy task stopped");
        let mut result = self.copy_parts(&upload, &source, plan, &mut parts).await;
        let done = match result {
            Ok(()) => match upload.complete().await {
                Ok(done) => Some(done),
                Err(e) => {
                    result = Err(e);
                    None
                }
            },
            Err(_) => None,
        };
        match (result, done) {
            (Ok(()), Some(done)) => {
                guard.disarm();
                Ok(ObjectCopyOutput {
                    etag: done.etag,
                    version_id: done.version_id,
                    size: source.size,
                    parts: plan.parts,
                    upload_id: Some(upload.upload_id().to_owned()),
                    source_etag: source.etag,
                    checksum: done.checksum,
                })
            }
            (Err(e), _) => Err(abort_after_failure(&upload, &mut guard, &mut parts, e).await),
            (Ok(()), None) => unreachable!("a completion without an answer is an error"),
        }
    }

    async fn copy_parts(
        &self,
        upload: &MultipartUpload,
        source: &ObjectMeta,
        plan: UploadPlan,
        parts: &mut TaskPool<()>,
    ) -> Result<()> {
        for index in 0..plan.parts {
            let slot = parts.slot().await?;
            let (offset, len) = plan.part(index);
            let mut copy = upload
                .upload_part_copy(
                    index + 1,
                    self.source_bucket.clone(),
                    self.source_key.clone(),
                )
                .range(offset, offset + len - 1)
                .with_extra(&self.source_copy);
            if let Some(etag) = &source.etag {
                copy = copy.source_if_match(etag.clone());
            }
            if let Some(v) = &self.source_version_id {
                copy = copy.source_version_id(v.clone());
            }
            let tracker = self.tracker.clone();
            let total = plan.size;
            parts.spawn(slot, async move {
                copy.await.map_err(source_changed)?;
                tracker.add(len, Some(total));
                Ok(())
            });
        }
        parts.join_all().await?;
        Ok(())
    }
}

impl ObjectCopy {
    /// The source's tags, for a multipart copy to keep them (S3 copies them only with
    /// CopyObject). A store without tagging (`501 NotImplemented`) gives none.
    async fn source_tags(&self) -> Result<Option<Vec<(String, String)>>> {
        let source = self.bucket.client().bucket(self.source_bucket.clone());
        let mut get = source.get_object_tagging(self.source_key.clone());
        if let Some(v) = &self.source_version_id {
            get = get.version_id(v.clone());
        }
        if self.headers.extra.get("x-amz-request-payer").is_some() {
            get = get.request_payer();
        }
        match get.await {
            Ok(out) => Ok(Some(out.tags)),
            Err(e) if e.status() == Some(501) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A failed `x-amz-copy-source-if-match` means the source was replaced after it was looked
/// up: [`ErrorKind::ObjectChanged`], as for downloads.
fn source_changed(e: Error) -> Error {
    if e.kind() == ErrorKind::PreconditionFailed {
        Error::new(ErrorKind::ObjectChanged)
            .with_message("the source was replaced during the copy")
            .with_source(e)
    } else {
        e
    }
}

impl std::future::IntoFuture for ObjectCopy {
    type Output = Result<ObjectCopyOutput>;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
