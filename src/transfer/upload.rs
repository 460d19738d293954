//! `Bucket::upload`: one PutObject below the threshold, otherwise a multipart upload with
//! bounded concurrency that is aborted on any failure, on cancellation and on drop.

use super::plan::{MAX_PARTS, UploadPlan};
use super::progress::{CancelHandle, Progress, Tracker, callback};
use super::{DEFAULT_CONCURRENCY, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE};
use crate::body::Body;
use crate::client::Bucket;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::meta::{ObjectHeaders, object_header_setters};
use crate::ops::multipart::MultipartUpload;
use crate::types::PartInfo;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

type ChunkStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

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
        }
    }
}

enum Source {
    Path(PathBuf),
    Bytes(Bytes),
    Stream(ChunkStream),
}

/// Aborts the multipart upload in the background if dropped while armed (the future of the
/// upload was dropped mid-way).
struct AbortGuard(Option<MultipartUpload>);

impl AbortGuard {
    fn disarm(&mut self) {
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

fn cancelled() -> Error {
    Error::new(ErrorKind::Cancelled).with_message("the transfer was cancelled")
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
        self
    }

    /// Calls `f` with the bytes done so far each time a part (or the single PutObject)
    /// completes. Called from the transfer's tasks: keep it quick.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.tracker = Tracker::new(Some(callback(f)));
        self
    }

    /// A handle that cancels this upload.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

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
    /// The part size cannot grow once the stream is under way, so a stream is limited to
    /// 10,000 parts of the configured size.
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
            return self.single_put(body, size).await;
        }
        let plan = UploadPlan::new(size, self.part_size)?;
        let upload = self.create().await?;
        let mut guard = AbortGuard(Some(upload.clone()));
        let result = self.known_parts(&upload, &source, plan).await;
        let result = match result {
            Ok(()) => source.check_unchanged().await,
            Err(e) => Err(e),
        };
        self.finish(upload, &mut guard, result, size).await
    }

    async fn single_put(&self, body: Body, size: u64) -> Result<UploadOutput> {
        let put = self
            .bucket
            .put_object(self.key.clone(), body)
            .with_headers(self.headers.clone());
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
        })
    }

    async fn create(&self) -> Result<MultipartUpload> {
        let create = self
            .bucket
            .create_multipart_upload(self.key.clone())
            .with_headers(self.headers.clone());
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(cancelled()),
            up = create => up,
        }
    }

    /// Completes on success; on failure aborts once and returns the first error.
    async fn finish(
        &self,
        upload: MultipartUpload,
        guard: &mut AbortGuard,
        result: Result<()>,
        size: u64,
    ) -> Result<UploadOutput> {
        let result = match result {
            Ok(()) => upload.complete().await,
            Err(e) => Err(e),
        };
        guard.disarm();
        match result {
            Ok(done) => Ok(UploadOutput {
                etag: done.etag,
                version_id: done.version_id,
                size,
                parts: upload.uploaded_parts().len() as u32,
                upload_id: Some(upload.upload_id().to_owned()),
            }),
            Err(e) => {
                // The original error wins even if the abort fails too (TEST-PLAN U3).
                let _ = upload.abort().await;
                Err(e.with_upload_id(upload.upload_id()))
            }
        }
    }

    async fn known_parts(
        &self,
        upload: &MultipartUpload,
        source: &PartSource,
        plan: UploadPlan,
    ) -> Result<()> {
        let sem = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        for index in 0..plan.parts {
            let permit = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(cancelled()),
                Some(res) = tasks.join_next() => { part_result(res)?; continue_acquire(&sem).await }
                p = sem.clone().acquire_owned() => p.map_err(|_| cancelled())?,
            };
            let (offset, len) = plan.part(index);
            let body = source.body(offset, len);
            self.spawn_part(
                &mut tasks,
                upload,
                index + 1,
                body,
                len,
                permit,
                Some(plan.size),
            );
        }
        self.drain(&mut tasks).await
    }

    #[allow(clippy::too_many_arguments)]
    fn spawn_part(
        &self,
        tasks: &mut JoinSet<Result<PartInfo>>,
        upload: &MultipartUpload,
        number: u32,
        body: Body,
        len: u64,
        permit: tokio::sync::OwnedSemaphorePermit,
        total: Option<u64>,
    ) {
        let upload = upload.clone();
        let tracker = self.tracker.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let part = upload.upload_part(number, body).await?;
            tracker.add(len, total);
            Ok(part)
        });
    }

    async fn drain(&self, tasks: &mut JoinSet<Result<PartInfo>>) -> Result<()> {
        loop {
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(cancelled()),
                res = tasks.join_next() => match res {
                    None => return Ok(()),
                    Some(res) => { part_result(res)?; }
                },
            }
        }
    }

    async fn run_stream(&self, mut stream: ChunkStream) -> Result<UploadOutput> {
        // Read up to the threshold first: a short stream is one PutObject.
        let first_len = self.threshold.max(1);
        let (first, ended) = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(cancelled()),
            r = fill(&mut stream, first_len) => r?,
        };
        if ended && (first.len() as u64) < self.threshold {
            let size = first.len() as u64;
            return self.single_put(Body::from(first), size).await;
        }
        UploadPlan::new(0, self.part_size)?; // validates the part size
        let upload = self.create().await?;
        let mut guard = AbortGuard(Some(upload.clone()));
        let result = self.stream_parts(&upload, first, ended, stream).await;
        let size = self.tracker.transferred();
        let size = match &result {
            Ok(total) => *total,
            Err(_) => size,
        };
        self.finish(upload, &mut guard, result.map(|_| ()), size)
            .await
    }

    /// Uploads the stream part by part; returns the total size.
    async fn stream_parts(
        &self,
        upload: &MultipartUpload,
        mut pending: Bytes,
        mut ended: bool,
        mut stream: ChunkStream,
    ) -> Result<u64> {
        let part_size = self.part_size;
        let sem = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let mut number = 0u32;
        let mut total = 0u64;
        loop {
            // Take one part from what is pending, reading more from the stream if needed.
            if (pending.len() as u64) < part_size && !ended {
                let want = part_size - pending.len() as u64;
                let (more, end) = tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => return Err(cancelled()),
                    r = fill(&mut stream, want) => r?,
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
            if pending.is_empty() && number > 0 {
                break;
            }
            let take = pending
                .len()
                .min(usize::try_from(part_size).unwrap_or(usize::MAX));
            let chunk = pending.split_to(take);
            number += 1;
            if u64::from(number) > MAX_PARTS {
                return Err(Error::invalid_input(format!(
                    "the stream needs more than {MAX_PARTS} parts of {part_size} bytes; use a larger part size"
                )));
            }
            let permit = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(cancelled()),
                p = sem.clone().acquire_owned() => p.map_err(|_| cancelled())?,
            };
            while let Some(res) = tasks.try_join_next() {
                part_result(res)?;
            }
            let len = chunk.len() as u64;
            total += len;
            self.spawn_part(
                &mut tasks,
                upload,
                number,
                Body::from(chunk),
                len,
                permit,
                None,
            );
            if pending.is_empty() && ended {
                break;
            }
        }
        self.drain(&mut tasks).await?;
        Ok(total)
    }
}

/// Waits for a permit after a finished task freed one (used inside `select!`).
async fn continue_acquire(sem: &Arc<Semaphore>) -> tokio::sync::OwnedSemaphorePermit {
    // The semaphore is never closed, so this cannot fail.
    loop {
        if let Ok(p) = sem.clone().acquire_owned().await {
            return p;
        }
    }
}

fn part_result(res: std::result::Result<Result<PartInfo>, tokio::task::JoinError>) -> Result<()> {
    match res {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(join) => Err(Error::new(ErrorKind::Cancelled)
            .with_message("a part task stopped")
            .with_source(join)),
    }
}

/// Reads from `stream` until `want` bytes or its end; returns the bytes and whether it ended.
async fn fill(stream: &mut ChunkStream, want: u64) -> Result<(Bytes, bool)> {
    let want = usize::try_from(want).unwrap_or(usize::MAX);
    let mut buf = BytesMut::new();
    while buf.len() < want {
        match stream.next().await {
            None => return Ok((buf.freeze(), true)),
            Some(Err(e)) => return Err(Error::io("the upload source failed", e)),
            Some(Ok(chunk)) => {
                if buf.is_empty() && chunk.len() >= want {
                    // Common case: no copy for a whole chunk; keep the rest for later.
                    let mut chunk = chunk;
                    let rest = chunk.split_off(want);
                    if !rest.is_empty() {
                        // Put the remainder back in front of the stream.
                        let tail =
                            std::mem::replace(stream, Box::pin(futures_util::stream::empty()));
                        *stream = Box::pin(futures_util::stream::iter([Ok(rest)]).chain(tail));
                    }
                    return Ok((chunk, false));
                }
                let room = want - buf.len();
                if chunk.len() > room {
                    buf.extend_from_slice(&chunk[..room]);
                    let rest = chunk.slice(room..);
                    let tail = std::mem::replace(stream, Box::pin(futures_util::stream::empty()));
                    *stream = Box::pin(futures_util::stream::iter([Ok(rest)]).chain(tail));
                } else {
                    buf.extend_from_slice(&chunk);
                }
            }
        }
    }
    Ok((buf.freeze(), false))
}

/// Where part bodies come from, for sources of known size.
enum PartSource {
    Bytes(Bytes),
    /// The file, and its size and modification time when the upload started.
    File(PathBuf, (u64, Option<SystemTime>)),
}

impl PartSource {
    fn body(&self, offset: u64, len: u64) -> Body {
        match self {
            PartSource::Bytes(b) => Body::from(b.slice(offset as usize..(offset + len) as usize)),
            PartSource::File(p, _) => Body::from_file_range(p.clone(), offset, len),
        }
    }

    /// Fails when the file changed while it was being uploaded (TEST-PLAN U9).
    async fn check_unchanged(&self) -> Result<()> {
        let PartSource::File(path, (len, modified)) = self else {
            return Ok(());
        };
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if meta.len() != *len || meta.modified().ok() != *modified {
            return Err(Error::new(ErrorKind::Io).with_message(format!(
                "{} changed while it was being uploaded",
                path.display()
            )));
        }
        Ok(())
    }
}
