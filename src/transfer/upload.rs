//! `Bucket::upload`: one PutObject below the threshold, otherwise a multipart upload with
//! bounded concurrency that is aborted on any failure, on cancellation and on drop.

use super::plan::{DEFAULT_CONCURRENCY, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE};
use super::plan::{MAX_PARTS, StreamSchedule, UploadPlan, check_stream_size, concurrency_for};
use super::pool::{Slot, TaskPool};
use super::progress::{CancelHandle, Progress, Tracker, callback, cancelled};
use super::upload_source::{ChunkStream, PartReader, PartSource};
use crate::bandwidth::Limiter;
use crate::body::Body;
use crate::checksum::{ChecksumAlgorithm, ChecksumChoice, ChecksumType};
use crate::client::Bucket;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::meta::{ObjectHeaders, object_header_setters};
use crate::ops::multipart::{CreateMultipartUpload, MultipartUpload, resolve_checksum};
use crate::ops::put_object::PutObject;
use crate::ops::sse::scope;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use std::future::{Future, IntoFuture};
use std::path::PathBuf;

// issue 13: crash-resumable uploads
mod resume;

/// Uploads an object of any size. Built by [`Bucket::upload`]; finish it with
/// [`from_path`](Self::from_path), [`from_bytes`](Self::from_bytes),
/// [`from_stream`](Self::from_stream) or [`from_reader`](Self::from_reader) and await.
///
/// Below the multipart threshold (16 MiB by default) the object goes up in one PutObject.
/// Above it, parts of 8 MiB (grown so there are never more than 10,000) go up `concurrency`
/// at a time (8 by default); each part is retried with identical bytes by the client's retry
/// policy, and the completion list is sorted and complete. Memory stays under
/// `concurrency × part size` (plus the threshold for streams) whatever the object's size:
/// files are read at each part's offset, never whole.
///
/// With a [`checksum`](Self::checksum) (or the client's default), every part carries its
/// checksum and the completion checks the object's (see
/// [`MultipartUpload::complete_with`]). A file part is read once for its checksum and then
/// streamed from disk again as it is sent: a second read from the page cache costs less
/// than holding `concurrency` parts in memory, and memory stays what it is without a
/// checksum. Parts of streams are in memory already and are hashed there.
///
/// # Errors
///
/// Whatever failed (a part, the completion, reading the source), with the upload id attached
/// ([`Error::upload_id`]); [`ErrorKind::Cancelled`] after [`CancelHandle::cancel`];
/// [`ErrorKind::InvalidInput`] for a part size outside 5 MiB ..= 5 GiB or a source too large;
/// [`ErrorKind::Io`] when the file cannot be read or changed during the upload.
///
/// # Cancel safety
///
/// On any failure and on cancellation the multipart upload is aborted (once) before the error
/// is returned. If the future is dropped instead, an abort is started on the runtime in the
/// background and the part tasks are stopped; nothing is left half-written.
#[derive(Debug)]
#[must_use = "an upload does nothing until given a source and awaited"]
pub struct Upload {
    bucket: Bucket,
    key: String,
    headers: ObjectHeaders,
    part_size: u64,
    threshold: u64,
    concurrency: usize,
    tracker: Tracker,
    cancel: CancelHandle,
    checksum: ChecksumChoice,
    checksum_type: Option<ChecksumType>,
    // issue 13: crash-resumable uploads, bandwidth cap
    journal: Option<PathBuf>,
    limit: Option<Limiter>,
    /// The client's target throughput (bits/s) while no concurrency is set.
    throughput: Option<u64>,
}

/// What an upload returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOutput {
    /// The object's entity tag.
    pub etag: Option<String>,
    /// The version id, for versioned buckets.
    pub version_id: Option<String>,
    /// Bytes uploaded.
    pub size: u64,
    /// Parts uploaded; 0 when the object went up in a single PutObject.
    pub parts: u32,
    /// The multipart upload id, when multipart was used.
    pub upload_id: Option<String>,
    /// The object's checksum as sent (single request) or as computed from the parts'
    /// checksums (multipart: the full-object CRC, or the composite `…-<parts>`), when the
    /// upload had one; a store that reported the object's checksum agreed with it.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

impl Bucket {
    /// Starts an upload to `key` through the transfer engine.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let out = bucket
    ///     .upload("backups/db.tar")
    ///     .part_size(16 << 20)
    ///     .concurrency(8)
    ///     .on_progress(|p| eprintln!("{} / {:?}", p.transferred, p.total))
    ///     .from_path("db.tar")
    ///     .await?;
    /// println!("{} bytes in {} parts", out.size, out.parts);
    /// # Ok(()) }
    /// ```
    pub fn upload(&self, key: impl Into<String>) -> Upload {
        Upload {
            bucket: self.clone(),
            key: key.into(),
            headers: ObjectHeaders::default(),
            part_size: DEFAULT_PART_SIZE,
            threshold: DEFAULT_MULTIPART_THRESHOLD,
            concurrency: DEFAULT_CONCURRENCY,
            tracker: Tracker::default(),
            cancel: CancelHandle::default(),
            checksum: self.default_checksum(),
            checksum_type: None,
            journal: None,
            limit: None,
            throughput: self.target_throughput(),
        }
    }
}

enum Source {
    Path(PathBuf),
    Bytes(Bytes),
    Stream(ChunkStream),
}

/// Aborts, in the background, an upload whose creation was still running when the future
/// was dropped.
struct CreateGuard(Option<tokio::task::JoinHandle<Result<MultipartUpload>>>);

impl Drop for CreateGuard {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                if let Ok(Ok(upload)) = handle.await {
                    let _ = upload.abort().await;
                }
            });
        }
    }
}

/// Aborts the multipart upload in the background if dropped while armed (the future of the
/// upload was dropped mid-way).
pub(super) struct AbortGuard(pub(super) Option<MultipartUpload>);

impl AbortGuard {
    pub(super) fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if let Some(upload) = self.0.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                let _ = upload.abort().await;
            });
        }
    }
}

/// Creates a multipart upload in a task of its own, so that an upload created while the
/// caller's future is dropped is still aborted (by `CreateGuard`); a cancel during the call is
/// honoured once it returns. Shared by the upload and copy engines.
pub(super) async fn create_guarded(
    create: CreateMultipartUpload,
    cancel: &CancelHandle,
) -> Result<MultipartUpload> {
    let mut guard = CreateGuard(Some(tokio::spawn(create.into_future())));
    let created = match guard.0.as_mut() {
        Some(handle) => handle.await,
        None => unreachable!("the guard holds the task until it is joined"),
    };
    guard.0 = None;
    let upload = created.map_err(|e| {
        Error::new(ErrorKind::Cancelled)
            .with_message("the create task stopped")
            .with_source(e)
    })??;
    if cancel.is_cancelled() {
        let _ = upload.abort().await;
        return Err(cancelled().with_upload_id(upload.upload_id()));
    }
    Ok(upload)
}

/// The one abort path of the engines (ARCHITECTURE invariant 11): stops every part task (so
/// no part lands after the abort), aborts, repeats the abort once when parts are still
/// listed, and returns the original error with the upload id. The guard stays armed until
/// the abort returned, so dropping the caller's future mid-abort still aborts.
pub(super) async fn abort_after_failure<T: Send + 'static>(
    upload: &MultipartUpload,
    guard: &mut AbortGuard,
    parts: &mut TaskPool<T>,
    e: Error,
) -> Error {
    parts.shutdown().await;
    // The original error wins even if the abort fails too (TEST-PLAN U3).
    if upload.abort().await.is_ok() {
        // A part still in flight on the server can land after the abort; S3 then
        // lists it, and the abort must be repeated.
        if let Ok(parts) = upload.list_parts().await
            && !parts.is_empty()
        {
            let _ = upload.abort().await;
        }
    }
    guard.disarm();
    e.with_upload_id(upload.upload_id())
}

impl Upload {
    object_header_setters!();

    /// The size of each part (default 8 MiB; 5 MiB ..= 5 GiB). It grows automatically when a
    /// source of known size would need more than 10,000 parts.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Sources smaller than this go up in a single PutObject (default 16 MiB).
    pub fn multipart_threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes;
        self
    }

    /// How many parts are in flight at once (default 8; at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self.throughput = None;
        self
    }

    /// Calls `f` with the bytes done so far each time a part (or the single PutObject)
    /// completes. Called from the transfer's tasks: keep it quick.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.tracker = Tracker::new(Some(callback(f)));
        self
    }

    /// The checksum the object (or each part) is sent with; `None` for none, whatever the
    /// client's default ([`ClientBuilder::request_checksum`](crate::ClientBuilder::request_checksum)).
    pub fn checksum(mut self, algorithm: impl Into<Option<ChecksumAlgorithm>>) -> Self {
        self.checksum = ChecksumChoice::set(algorithm.into());
        self
    }

    /// How a multipart upload's parts make the object's checksum (default: full-object for
    /// CRCs, so that downloads can verify it; composite for SHA-1 and SHA-256).
    pub fn checksum_type(mut self, ty: ChecksumType) -> Self {
        self.checksum_type = Some(ty);
        self
    }

    /// A handle that cancels this upload.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Caps this upload's bytes at `bytes_per_sec`, all its parts together (a token bucket
    /// they share evenly; see
    /// [`ClientBuilder::max_bandwidth`](crate::ClientBuilder::max_bandwidth), whose client-wide
    /// cap applies as well). No cap by default.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.upload("big.bin").max_bandwidth(10 << 20).from_path("big.bin").await?;
    /// # Ok(()) }
    /// ```
    pub fn max_bandwidth(mut self, bytes_per_sec: u64) -> Self {
        self.limit = Some(Limiter::new(bytes_per_sec));
        self
    }

    // versioning and tagging
    crate::ops::tagging::tagging_setter!();

    /// Uploads the file at `path`; each part is read from disk at its offset.
    pub fn from_path(
        self,
        path: impl Into<PathBuf>,
    ) -> impl Future<Output = Result<UploadOutput>> + Send + 'static {
        self.run(Source::Path(path.into()))
    }

    /// Uploads bytes already in memory (parts are slices, never copies).
    pub fn from_bytes(
        self,
        bytes: impl Into<Bytes>,
    ) -> impl Future<Output = Result<UploadOutput>> + Send + 'static {
        self.run(Source::Bytes(bytes.into()))
    }

    /// Uploads a stream of unknown length, buffering one part at a time per slot.
    ///
    /// The part size grows as the stream goes, so that 10,000 parts reach the 5 TiB S3
    /// stores in one object: parts 1-1,000 have the configured [`part_size`](Self::part_size),
    /// then the size doubles every 1,000 parts from at least 6 MiB, never over 5 GiB (with
    /// the default 8 MiB: 16 MiB from part 1,001, 32 MiB from 2,001, …, 4 GiB from 9,001;
    /// 10,000 parts hold 7.8 TiB). A grown part takes as many of the `concurrency` slots as
    /// parts of the first size it holds, so fewer parts are in flight as they grow and the
    /// parts in memory stay under `concurrency × part_size` (64 MiB with the defaults), or
    /// one part alone once a part is larger than that (up to 4 GiB near 5 TiB), plus the
    /// multipart threshold, read first. A stream longer than 5 TiB fails with
    /// [`ErrorKind::InvalidInput`] at the part that crosses it (the upload is aborted).
    pub fn from_stream<S>(
        self,
        stream: S,
    ) -> impl Future<Output = Result<UploadOutput>> + Send + 'static
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        self.run(Source::Stream(Box::pin(stream)))
    }

    /// Uploads everything `reader` yields, like [`from_stream`](Self::from_stream).
    pub fn from_reader<R>(
        self,
        reader: R,
    ) -> impl Future<Output = Result<UploadOutput>> + Send + 'static
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024);
        self.run(Source::Stream(Box::pin(stream)))
    }

    async fn run(self, source: Source) -> Result<UploadOutput> {
        let bucket = self.bucket.name.clone();
        let key = self.key.clone();
        // An impossible algorithm and type is refused before anything is sent.
        if let Err(e) = resolve_checksum(self.checksum.algorithm, self.checksum_type) {
            return Err(e.with_context("Upload", Some(&bucket), Some(&key)));
        }
        if self.journal.is_some() && matches!(source, Source::Stream(_)) {
            let e = Error::invalid_input("a stream cannot be resumed: use a file or bytes");
            return Err(e.with_context("Upload", Some(&bucket), Some(&key)));
        }
        let result = match source {
            Source::Path(p) => self.run_path(p).await,
            Source::Bytes(b) => {
                self.run_known(PartSource::Bytes(b.clone()), b.len() as u64)
                    .await
            }
            Source::Stream(s) => self.run_stream(s).await,
        };
        result.map_err(|e| e.with_context("Upload", Some(&bucket), Some(&key)))
    }

    async fn run_path(&self, path: PathBuf) -> Result<UploadOutput> {
        let read_err = |e| Error::io(format!("cannot read {}", path.display()), e);
        let meta = tokio::fs::metadata(&path).await.map_err(read_err)?;
        if !meta.is_file() {
            return Err(Error::invalid_input(format!(
                "{} is not a file",
                path.display()
            )));
        }
        let stamp = (meta.len(), meta.modified().ok());
        let out = self
            .run_known(PartSource::File(path.clone(), stamp), meta.len())
            .await?;
        Ok(out)
    }

    /// A source of known size: one PutObject or a planned multipart upload.
    async fn run_known(&self, source: PartSource, size: u64) -> Result<UploadOutput> {
        if size < self.threshold {
            let body = source.body(0, size);
            let out = self.single_put(body, size).await?;
            // The object is written; if the file changed meanwhile it may mix two states, and
            // the caller must hear so (TEST-PLAN U9).
            source.check_unchanged().await?;
            return Ok(out);
        }
        if let Some(journal) = &self.journal {
            return self.run_known_resumable(source, size, journal).await;
        }
        let plan = UploadPlan::new(size, self.part_size)?;
        let upload = self.create().await?;
        let mut guard = AbortGuard(Some(upload.clone()));
        let mut parts = self.pool();
        let mut result = self.known_parts(&upload, &source, plan, &mut parts).await;
        if result.is_ok() {
            result = source.check_unchanged().await;
        }
        self.finish(upload, &mut guard, &mut parts, result, size)
            .await
    }

    async fn single_put(&self, body: Body, size: u64) -> Result<UploadOutput> {
        let put = self
            .bucket
            .put_object(self.key.clone(), body.limited(self.limit.clone()))
            .with_headers(self.headers.clone())
            .with_checksum(self.checksum);
        let put = self.conditional_put(put);
        let out = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(cancelled()),
            out = put => out?,
        };
        self.tracker.add(size, Some(size));
        Ok(UploadOutput {
            etag: out.etag,
            version_id: out.version_id,
            size,
            parts: 0,
            upload_id: None,
            checksum: out.checksum,
        })
    }

    /// Creates the multipart upload. It runs in its own task, so that an upload created
    /// while this future is dropped is still aborted (by `CreateGuard`); a cancel during the
    /// call is honoured once it returns.
    async fn create(&self) -> Result<MultipartUpload> {
        let create = self
            .bucket
            .create_multipart_upload(self.key.clone())
            .with_headers(self.headers.clone())
            .with_checksum(self.checksum, self.checksum_type);
        create_guarded(create, &self.cancel).await
    }

    /// Completes on success. On failure: stops every part task (so no part lands after the
    /// abort), aborts, and returns the first error; the guard stays armed until the abort
    /// returned, so dropping this future mid-abort still aborts.
    async fn finish(
        &self,
        upload: MultipartUpload,
        guard: &mut AbortGuard,
        parts: &mut TaskPool<()>,
        result: Result<()>,
        size: u64,
    ) -> Result<UploadOutput> {
        let result = match result {
            Ok(()) => match upload.complete().await {
                // The service completed the object but reported another checksum: there is
                // no upload left to abort (see `MultipartUpload::complete_with`).
                Err(e) if e.kind() == ErrorKind::ChecksumMismatch => {
                    guard.disarm();
                    return Err(e.with_upload_id(upload.upload_id()));
                }
                other => other,
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(done) => {
                guard.disarm();
                Ok(UploadOutput {
                    etag: done.etag,
                    version_id: done.version_id,
                    size,
                    parts: upload.uploaded_parts().len() as u32,
                    upload_id: Some(upload.upload_id().to_owned()),
                    checksum: done.checksum,
                })
            }
            Err(e) => Err(abort_after_failure(&upload, guard, parts, e).await),
        }
    }

    /// The pool the part tasks run in: `concurrency` at a time, stopped by a cancel. Tasks
    /// hand back nothing: the upload records every part it sent (`uploaded_parts`).
    fn pool(&self) -> TaskPool<()> {
        TaskPool::new(self.slots(), &self.cancel, "a part task stopped")
            .with_congestion(self.bucket.congestion())
    }

    /// The parts in flight: the concurrency set, or the one the client's target throughput
    /// picks for this part size (issue 13).
    fn slots(&self) -> usize {
        self.throughput
            .map_or(self.concurrency, |t| concurrency_for(t, self.part_size))
    }

    async fn known_parts(
        &self,
        upload: &MultipartUpload,
        source: &PartSource,
        plan: UploadPlan,
        parts: &mut TaskPool<()>,
    ) -> Result<()> {
        for index in 0..plan.parts {
            let slot = parts.slot().await?;
            let (offset, len) = plan.part(index);
            let body = source.body(offset, len);
            self.spawn_part(parts, slot, upload, index + 1, body, len, Some(plan.size));
        }
        parts.join_all().await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn spawn_part(
        &self,
        parts: &mut TaskPool<()>,
        slot: Slot,
        upload: &MultipartUpload,
        number: u32,
        body: Body,
        len: u64,
        total: Option<u64>,
    ) {
        let upload = upload.clone();
        let tracker = self.tracker.clone();
        let body = body.limited(self.limit.clone());
        parts.spawn(slot, async move {
            upload.upload_part(number, body).await?;
            tracker.add(len, total);
            Ok(())
        });
    }

    async fn run_stream(&self, stream: ChunkStream) -> Result<UploadOutput> {
        let mut reader = PartReader::new(stream);
        // Read up to the threshold first: a short stream is one PutObject.
        let first_len = self.threshold.max(1);
        let (first, ended) = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(cancelled()),
            r = reader.fill(first_len) => r?,
        };
        if ended && (first.len() as u64) < self.threshold {
            let size = first.len() as u64;
            return self.single_put(Body::from(first), size).await;
        }
        UploadPlan::new(0, self.part_size)?; // validates the part size
        let upload = self.create().await?;
        let mut guard = AbortGuard(Some(upload.clone()));
        let mut parts = self.pool();
        let result = self
            .stream_parts(&upload, first, ended, &mut reader, &mut parts)
            .await;
        let size = match &result {
            Ok(total) => *total,
            Err(_) => self.tracker.transferred(),
        };
        self.finish(upload, &mut guard, &mut parts, result.map(|_| ()), size)
            .await
    }

    /// Uploads the stream part by part; returns the total size. A part's slot is taken
    /// before its bytes are read, so at most `concurrency` parts are in memory.
    async fn stream_parts(
        &self,
        upload: &MultipartUpload,
        mut pending: Bytes,
        mut ended: bool,
        reader: &mut PartReader,
        parts: &mut TaskPool<()>,
    ) -> Result<u64> {
        // issue 13: the part size grows as the stream goes (see `StreamSchedule`)
        let schedule = StreamSchedule::new(self.part_size)?;
        let mut number = 0u32;
        let mut total = 0u64;
        while !(pending.is_empty() && ended) {
            // A grown part takes as many slots as first-size parts it holds, so the bytes in
            // flight stay within `concurrency × part_size` (see `StreamSchedule::units`).
            let slot = parts
                .slot_of(schedule.units(number + 1, self.slots()))
                .await?;
            let part_len = usize::try_from(schedule.part_size(number + 1)).unwrap_or(usize::MAX);
            if pending.len() < part_len && !ended {
                let (more, end) = tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => return Err(cancelled()),
                    r = reader.fill((part_len - pending.len()) as u64) => r?,
                };
                ended = end;
                pending = if pending.is_empty() {
                    more
                } else {
                    let mut b = BytesMut::with_capacity(pending.len() + more.len());
                    b.extend_from_slice(&pending);
                    b.extend_from_slice(&more);
                    b.freeze()
                };
            }
            if pending.is_empty() {
                break;
            }
            let chunk = pending.split_to(pending.len().min(part_len));
            number += 1;
            if u64::from(number) > MAX_PARTS {
                return Err(Error::invalid_input(format!(
                    "the stream holds more than {MAX_PARTS} parts ({total} bytes sent so far); \
                     S3 stores at most 5 TiB in one object"
                )));
            }
            let len = chunk.len() as u64;
            total += len;
            check_stream_size(total)?;
            self.spawn_part(parts, slot, upload, number, Body::from(chunk), len, None);
        }
        parts.join_all().await?;
        Ok(total)
    }

    // conditional writes (issue 11 part B)
    /// Writes the object only if no object exists under the key (`If-None-Match: *` on the
    /// PutObject or on the CompleteMultipartUpload): a create-only upload. When an object
    /// is there, the upload fails with [`ErrorKind::PreconditionFailed`] and a multipart
    /// upload is aborted; a conflicting conditional write at the same time is
    /// [`ErrorKind::ConditionalConflict`].
    pub fn if_none_match_any(mut self) -> Self {
        self.headers
            .extra
            .set("if-none-match", "*".to_owned(), scope::FINISH);
        self
    }

    /// Writes the object only if the current object under the key has this entity tag
    /// (`If-Match` on the PutObject or on the CompleteMultipartUpload); otherwise
    /// [`ErrorKind::PreconditionFailed`], and a multipart upload is aborted.
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.headers
            .extra
            .set("if-match", etag.into(), scope::FINISH);
        self
    }

    /// The engine's conditions on a single PutObject (a multipart upload sends them with its
    /// completion, from the upload's headers).
    fn conditional_put(&self, mut put: PutObject) -> PutObject {
        if self.headers.extra.get("if-none-match").is_some() {
            put = put.if_none_match_any();
        }
        if let Some(etag) = self.headers.extra.get("if-match") {
            put = put.if_match(etag.to_owned());
        }
        put
    }
}
