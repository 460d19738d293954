//! `Bucket::download`: a discovery GET that pins the ETag, then the other ranges in parallel
//! with `If-Match`, written at their offsets into a temporary file (renamed into place when
//! complete), into one buffer, or yielded in order through a bounded window.

use super::plan::ranges;
use super::progress::{CancelHandle, Progress, Tracker, callback, cancelled};
use super::{DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE};
use crate::checksum::{ChecksumAlgorithm, ChecksumType, Hasher, combine_crcs};
use crate::client::Bucket;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::get_object::GetObjectOutput;
use crate::transport::RetryState;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

/// Downloads an object with parallel ranged GETs. Built by [`Bucket::download`]; finish it
/// with [`to_path`](Self::to_path), [`to_bytes`](Self::to_bytes) or
/// [`to_stream`](Self::to_stream).
///
/// The first GET asks for the first part and learns the size and the ETag; every other range
/// carries `If-Match` with that ETag, so a download never stitches two versions together.
/// Each answer's `Content-Range` is checked against what was asked; a range whose body breaks
/// off is resumed from the first missing byte, as a retry like any other: after the client's
/// backoff, paid from its retry budget, and counted toward its
/// [`max_attempts`](crate::RetryConfig::max_attempts) (a body that keeps breaking ends in the
/// error, with [`Error::attempts`] counting every request made for that range).
///
/// With [`validate_checksum`](Self::validate_checksum), the whole object is checked against
/// its stored full-object checksum (see there).
///
/// # Errors
///
/// [`ErrorKind::ObjectChanged`] when the object was replaced during the download (nothing is
/// left behind); [`ErrorKind::NotFound`]; [`ErrorKind::InvalidResponse`] for answers that do
/// not match the request; [`ErrorKind::Io`] when the destination cannot be written;
/// [`ErrorKind::ChecksumMismatch`] when the bytes do not match the stored checksum (nothing
/// is left behind); [`ErrorKind::Cancelled`] after [`CancelHandle::cancel`].
///
/// # Cancel safety
///
/// Dropping the future stops every range task and removes the temporary file; the destination
/// is never touched unless the download completed.
#[derive(Debug)]
#[must_use = "a download does nothing until given a destination and awaited"]
pub struct Download {
    bucket: Bucket,
    key: String,
    part_size: u64,
    concurrency: usize,
    tracker: Tracker,
    cancel: CancelHandle,
    validate: bool,
}

/// What a download to a file returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadOutput {
    /// Bytes downloaded.
    pub size: u64,
    /// The entity tag every range was pinned to.
    pub etag: Option<String>,
    /// How many ranged requests were made (resumptions not counted).
    pub ranges: u32,
    /// The object's stored checksum, when [`Download::validate_checksum`] asked for it and
    /// the store has one.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// Whether the whole file was checked against that checksum (and matched). `false`
    /// without validation, without a stored checksum, for composite checksums of multipart
    /// objects (`…-<parts>`), and for SHA-1 and SHA-256, which cannot be combined from
    /// ranges fetched in parallel.
    pub checksum_verified: bool,
}

impl Bucket {
    /// Starts a download of `key` through the transfer engine.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.download("backups/db.tar").concurrency(16).to_path("db.tar").await?;
    /// # Ok(()) }
    /// ```
    pub fn download(&self, key: impl Into<String>) -> Download {
        Download {
            bucket: self.clone(),
            key: key.into(),
            part_size: DEFAULT_PART_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            tracker: Tracker::default(),
            cancel: CancelHandle::default(),
            validate: false,
        }
    }
}

/// What the discovery GET found.
struct Discovered {
    size: u64,
    etag: Option<String>,
    /// The first response, its body not yet read (none for an empty object).
    first: Option<Started>,
    /// Length of the first range.
    first_len: u64,
    /// The stored checksum, when the first answer covered the whole object and carried one.
    checksum: Option<StoredChecksum>,
}

/// An object's stored checksum and how it can be checked.
#[derive(Debug, Clone)]
struct StoredChecksum {
    alg: ChecksumAlgorithm,
    value: String,
    check: Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A full-object CRC: combined from per-range CRCs, whatever the destination.
    Crc,
    /// A full-object SHA: only where the bytes pass in order (streams, writers).
    InOrder,
    /// A composite checksum: it cannot be checked against the bytes.
    Never,
}

impl StoredChecksum {
    fn new((alg, value): (ChecksumAlgorithm, String), ty: Option<ChecksumType>) -> Self {
        let check = if value.contains('-') || ty == Some(ChecksumType::Composite) {
            Check::Never
        } else if alg.is_crc() {
            Check::Crc
        } else {
            Check::InOrder
        };
        Self { alg, value, check }
    }

    fn mismatch(&self, got: &str) -> Error {
        Error::new(ErrorKind::ChecksumMismatch).with_message(format!(
            "the downloaded bytes have {:?} checksum {got}, the object's stored checksum is {}",
            self.alg, self.value
        ))
    }

    /// Compares the per-range CRCs, combined in range order, with the stored CRC.
    fn verify_ranges(&self, done: &Finished, count: usize) -> Result<()> {
        let pieces = (0..count)
            .map(|i| done.get(&i).and_then(|d| d.crc))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::invalid_response("a range's checksum went missing"))?;
        let got = combine_crcs(self.alg, pieces)
            .ok_or_else(|| Error::invalid_response("not a CRC checksum"))?;
        if got == self.value.trim() {
            Ok(())
        } else {
            Err(self.mismatch(&got))
        }
    }
}

/// What one range task hands back: its buffer when it filled one, and the CRC of its bytes
/// (value, length) when the download verifies one.
struct RangeDone {
    buf: Option<BytesMut>,
    crc: Option<(u64, u64)>,
}

/// A response already received for a range, and the retry bookkeeping that got it.
type Started = (GetObjectOutput, RetryState);

/// File writes are batched to this size: each write is a blocking-pool round trip.
const FILE_BATCH: usize = 1 << 20;

/// Where one range's bytes go, and the running CRC of what went there (each byte is
/// written once, in order, whatever resumption happened).
struct Sink {
    to: Target,
    crc: Option<Hasher>,
}

enum Target {
    /// A file positioned at the range's offset (lent to the blocking pool while a batch is
    /// written), and the received chunks not yet written, with their total length. The
    /// chunks are written as they came (one vectored write), never copied into a buffer.
    File(Option<std::fs::File>, Vec<Bytes>, usize),
    Buf(BytesMut, usize),
}

impl Sink {
    fn file(f: std::fs::File, crc: Option<ChecksumAlgorithm>) -> Self {
        Sink {
            to: Target::File(Some(f), Vec::new(), 0),
            crc: crc.map(Hasher::new),
        }
    }

    fn buf(b: BytesMut, crc: Option<ChecksumAlgorithm>) -> Self {
        Sink {
            to: Target::Buf(b, 0),
            crc: crc.map(Hasher::new),
        }
    }

    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        if let Some(h) = &mut self.crc {
            h.update(&chunk);
        }
        match &mut self.to {
            Target::File(file, pending, len) => {
                *len += chunk.len();
                pending.push(chunk);
                if *len >= FILE_BATCH {
                    write_batch(file, pending).await?;
                    *len = 0;
                }
                Ok(())
            }
            Target::Buf(b, pos) => {
                let end = *pos + chunk.len();
                if end > b.len() {
                    return Err(Error::invalid_response(
                        "a range sent more bytes than asked for",
                    ));
                }
                b[*pos..end].copy_from_slice(&chunk);
                *pos = end;
                Ok(())
            }
        }
    }

    async fn finish(self) -> Result<RangeDone> {
        let crc = self.crc.as_ref().and_then(Hasher::crc_piece);
        let buf = match self.to {
            Target::File(mut file, mut pending, _) => {
                write_batch(&mut file, &mut pending).await?;
                None
            }
            Target::Buf(b, _) => Some(b),
        };
        Ok(RangeDone { buf, crc })
    }
}

/// Writes `chunks` at the file's position on the blocking pool, and empties the list.
async fn write_batch(file: &mut Option<std::fs::File>, chunks: &mut Vec<Bytes>) -> Result<()> {
    let io = |e| Error::io("cannot write the download", e);
    // A sink whose earlier write failed stays failed, even with nothing left to write.
    if file.is_none() {
        return Err(io(std::io::Error::other("an earlier write failed")));
    }
    if chunks.is_empty() {
        return Ok(());
    }
    let mut f = file
        .take()
        .ok_or_else(|| io(std::io::Error::other("an earlier write failed")))?;
    let batch = std::mem::take(chunks);
    let (f, mut batch, written) = tokio::task::spawn_blocking(move || {
        let written = write_all_chunks(&mut f, &batch);
        (f, batch, written)
    })
    .await
    .map_err(|e| io(std::io::Error::other(e)))?;
    written.map_err(io)?;
    *file = Some(f);
    batch.clear();
    *chunks = batch; // keep the list's allocation for the next batch
    Ok(())
}

/// `write_all` for a list of chunks, with vectored writes.
fn write_all_chunks(f: &mut std::fs::File, chunks: &[Bytes]) -> std::io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One range to fetch.
#[derive(Clone)]
struct RangeJob {
    bucket: Bucket,
    key: String,
    etag: Option<String>,
    size: u64,
    offset: u64,
    len: u64,
    tracker: Tracker,
}

impl RangeJob {
    /// Fetches the range into `sink`, resuming after a broken body through the client's
    /// retry policy; `first` is a response already received for this range.
    async fn run(self, mut sink: Sink, first: Option<Started>) -> Result<RangeDone> {
        let client = self.bucket.client();
        let (mut resp, mut state) = match first {
            Some(started) => started,
            None => {
                let mut state = RetryState::for_body();
                let resp = self.get(self.offset, &mut state).await?;
                (resp, state)
            }
        };
        // Bytes already in the sink: kept across resumptions.
        let mut done = 0u64;
        loop {
            let mut body = resp.into_stream();
            let mut broke = None;
            let done_before = done;
            while let Some(chunk) = body.next().await {
                match chunk {
                    Ok(c) => {
                        let n = c.len() as u64;
                        if done + n > self.len {
                            return Err(Error::invalid_response(
                                "a range sent more bytes than asked for",
                            ));
                        }
                        sink.write(c).await?;
                        done += n;
                        self.tracker.add(n, Some(self.size));
                    }
                    Err(e) => {
                        broke = Some(e);
                        break;
                    }
                }
            }
            // Every byte arrived: an error after the last one changes nothing.
            if done == self.len {
                break;
            }
            if done > done_before {
                state.made_progress();
            }
            let e = broke.unwrap_or_else(|| {
                Error::invalid_response(format!(
                    "range at {} ended after {done} of {} bytes",
                    self.offset, self.len
                ))
                .with_retryable(true)
            });
            if !client.pause_before_retry(&mut state, &e).await {
                return Err(e.with_attempts(state.attempts));
            }
            resp = self.get(self.offset + done, &mut state).await?;
        }
        client.retry_succeeded(&mut state);
        sink.finish().await
    }

    /// GETs `[from, offset + len)`, pinned to the ETag, and checks the answer's total size.
    async fn get(&self, from: u64, state: &mut RetryState) -> Result<GetObjectOutput> {
        let end = self.offset + self.len - 1;
        let mut req = self.bucket.get_object(self.key.clone()).range(from..=end);
        if let Some(etag) = &self.etag {
            req = req.if_match(etag.clone());
        }
        let resp = req.send_in(state).await.map_err(object_changed)?;
        let attempts = state.attempts;
        // Not every store honours If-Match: check the ETag as well.
        if self.etag.is_some() && resp.meta.etag != self.etag {
            return Err(Error::new(ErrorKind::ObjectChanged)
                .with_message(format!(
                    "the object was replaced during the download (ETag {:?}, then {:?})",
                    self.etag, resp.meta.etag
                ))
                .with_attempts(attempts));
        }
        let total = resp.content_range.and_then(|cr| cr.total);
        if total != Some(self.size) {
            return Err(Error::invalid_response(format!(
                "the object's size changed from {} to {total:?} during the download",
                self.size
            ))
            .with_attempts(attempts));
        }
        Ok(resp)
    }
}

/// A failed `If-Match` means the object was replaced: say so, and do not retry.
fn object_changed(e: Error) -> Error {
    if e.kind() == ErrorKind::PreconditionFailed {
        Error::new(ErrorKind::ObjectChanged)
            .with_message("the object was replaced during the download (its ETag changed)")
            .with_attempts(e.attempts())
            .with_source(e)
    } else {
        e
    }
}

impl Download {
    /// The size of each ranged GET (default 8 MiB; at least 1 byte).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// How many ranges are in flight at once (default 8; at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Calls `f` as bytes arrive (per received chunk). Called from the transfer's tasks,
    /// possibly from several at once: keep it quick.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.tracker = Tracker::new(Some(callback(f)));
        self
    }

    /// Verifies the whole object against its stored checksum (`x-amz-checksum-mode:
    /// ENABLED`, which a few stores refuse, hence opt-in).
    ///
    /// The checksum comes from the first answer when it covers the whole object, otherwise
    /// from a HEAD pinned to the same ETag (S3 sends no whole-object checksum with a partial
    /// range). A full-object CRC (CRC32, CRC32C, CRC64NVME) is checked on every destination:
    /// each range's CRC is computed as its bytes arrive and the CRCs are combined in offset
    /// order, so nothing is read twice; a file is renamed into place only after the check.
    /// A full-object SHA-1 or SHA-256 cannot be combined from parallel ranges: streams and
    /// writers, whose bytes pass in order, check it, and so does memory (hashed once when
    /// whole); files do not ([`DownloadOutput::checksum_verified`] says so). Composite checksums of multipart
    /// uploads (`…-<parts>`) cannot be checked against the bytes at all.
    pub fn validate_checksum(mut self) -> Self {
        self.validate = true;
        self
    }

    /// A handle that cancels this download.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    fn ctx(&self) -> impl Fn(Error) -> Error + '_ {
        |e: Error| e.with_context("Download", Some(self.bucket.name()), Some(&self.key))
    }

    async fn discover(&self) -> Result<Discovered> {
        let get = || {
            let req = self.bucket.get_object(self.key.clone());
            if self.validate {
                req.validate_checksum()
            } else {
                req
            }
        };
        let stored = |meta: &crate::ObjectMeta| {
            meta.checksum
                .clone()
                .map(|c| StoredChecksum::new(c, meta.checksum_type))
        };
        let mut state = RetryState::for_body();
        let first = get().range(0..self.part_size).send_in(&mut state).await;
        match first {
            Ok(resp) => {
                let size = resp.content_range.and_then(|cr| cr.total).ok_or_else(|| {
                    Error::invalid_response("the first range answer has no total size")
                })?;
                let etag = resp.meta.etag.clone();
                let first_len = resp.meta.size;
                // A checksum on a partial range is not the whole object's (it may be a part's).
                let checksum = (self.validate && first_len == size)
                    .then(|| stored(&resp.meta))
                    .flatten();
                Ok(Discovered {
                    size,
                    etag,
                    first: Some((resp, state)),
                    first_len,
                    checksum,
                })
            }
            // An empty object has no byte 0: S3 answers 416. Confirm with a plain GET.
            Err(e) if e.kind() == ErrorKind::InvalidRange => {
                let resp = get().await?;
                if resp.meta.size != 0 {
                    return Err(Error::invalid_response(
                        "416 for byte 0 of a non-empty object",
                    ));
                }
                Ok(Discovered {
                    size: 0,
                    checksum: self.validate.then(|| stored(&resp.meta)).flatten(),
                    etag: resp.meta.etag,
                    first: None,
                    first_len: 0,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The stored checksum to verify against, when validation is on: from the first answer,
    /// else from a HEAD pinned to the first answer's ETag.
    /// (Takes the discovery's pieces rather than `&Discovered`, whose first body is not
    /// `Sync`, so the future stays `Send`.)
    async fn stored_checksum(
        &self,
        etag: Option<String>,
        found: Option<StoredChecksum>,
    ) -> Result<Option<StoredChecksum>> {
        if !self.validate || found.is_some() {
            return Ok(found);
        }
        let mut head = self.bucket.head_object(self.key.clone()).include_checksum();
        if let Some(etag) = &etag {
            head = head.if_match(etag.clone());
        }
        let meta = head.await.map_err(object_changed)?;
        if etag.is_some() && meta.etag != etag {
            return Err(Error::new(ErrorKind::ObjectChanged).with_message(format!(
                "the object was replaced during the download (ETag {:?}, then {:?})",
                etag, meta.etag
            )));
        }
        Ok(meta
            .checksum
            .map(|c| StoredChecksum::new(c, meta.checksum_type)))
    }

    fn job(&self, d: &Discovered, offset: u64, len: u64) -> RangeJob {
        RangeJob {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            etag: d.etag.clone(),
            size: d.size,
            offset,
            len,
            tracker: self.tracker.clone(),
        }
    }

    /// Refuses to download several ranges of an object without an ETag to pin them to
    /// (TEST-PLAN D8): they could come from different versions.
    fn check_pinnable(d: &Discovered) -> Result<()> {
        if d.etag.is_none() && d.size > d.first_len {
            return Err(Error::invalid_response(
                "the object has no ETag, so its ranges cannot be pinned to one version; \
                 use get_object for a single-stream download",
            ));
        }
        Ok(())
    }

    /// Downloads to `path`: ranges are written at their offsets into a temporary file next to
    /// it, which is renamed onto `path` only once every byte has arrived.
    ///
    /// # Errors
    ///
    /// See [`Download`]; on any error the temporary file is removed and `path` is untouched.
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<DownloadOutput> {
        let path = path.as_ref().to_path_buf();
        let ctx = self.ctx();
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(ctx(cancelled())),
            r = self.to_path_inner(&path) => r.map_err(ctx),
        }
    }

    async fn to_path_inner(&self, path: &Path) -> Result<DownloadOutput> {
        let d = self.discover().await?;
        Self::check_pinnable(&d)?;
        let temp = TempFile::create(path).await?;
        let file = temp.open().await?;
        file.set_len(d.size)
            .await
            .map_err(|e| Error::io(format!("cannot size {}", temp.path.display()), e))?;
        drop(file);

        let mut d = d;
        let stored = self
            .stored_checksum(d.etag.clone(), d.checksum.take())
            .await?;
        let crc = stored
            .as_ref()
            .filter(|s| s.check == Check::Crc)
            .map(|s| s.alg);
        let first = d.first.take();
        let sem = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks: JoinSet<RangeResult> = JoinSet::new();
        let mut count = 0u32;
        let mut pending = Some(first);
        let mut finished = Finished::new();
        for (offset, len) in std::iter::once((0, d.first_len))
            .filter(|(_, l)| *l > 0)
            .chain(ranges(d.first_len, d.size, self.part_size))
        {
            let permit = acquire(&sem, &mut tasks, &mut finished).await?;
            let job = self.job(&d, offset, len);
            let first = if offset == 0 {
                pending.take().flatten()
            } else {
                None
            };
            let mut file = temp.open().await?;
            file.seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(|e| Error::io("cannot seek in the download", e))?;
            let file = file.into_std().await;
            let index = count as usize;
            count += 1;
            tasks.spawn(async move {
                let _permit = permit;
                (index, job.run(Sink::file(file, crc), first).await)
            });
        }
        join_all(&mut tasks, &mut finished).await?;
        // Checked before the rename: a mismatch leaves the destination untouched and drops
        // (removes) the temporary file.
        if let Some(s) = stored.as_ref().filter(|_| crc.is_some()) {
            s.verify_ranges(&finished, count as usize)?;
        }
        temp.commit(path).await?;
        Ok(DownloadOutput {
            size: d.size,
            etag: d.etag,
            ranges: count,
            checksum_verified: crc.is_some(),
            checksum: stored.map(|s| (s.alg, s.value)),
        })
    }

    /// Downloads into memory.
    ///
    /// # Errors
    ///
    /// See [`Download`].
    pub async fn to_bytes(self) -> Result<Bytes> {
        let ctx = self.ctx();
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(ctx(cancelled())),
            r = self.to_bytes_inner() => r.map_err(ctx),
        }
    }

    async fn to_bytes_inner(&self) -> Result<Bytes> {
        let mut d = self.discover().await?;
        Self::check_pinnable(&d)?;
        let stored = self
            .stored_checksum(d.etag.clone(), d.checksum.take())
            .await?;
        let crc = stored
            .as_ref()
            .filter(|s| s.check == Check::Crc)
            .map(|s| s.alg);
        let size = usize::try_from(d.size)
            .map_err(|_| Error::invalid_input("the object does not fit in memory"))?;
        // One allocation, split into disjoint regions that the tasks fill in place.
        let mut whole = BytesMut::zeroed(size);
        let first = d.first.take();
        let mut pending = Some(first);
        let sem = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks: JoinSet<RangeResult> = JoinSet::new();
        let mut count = 0usize;
        let mut done = Finished::new();
        for (offset, len) in std::iter::once((0, d.first_len))
            .filter(|(_, l)| *l > 0)
            .chain(ranges(d.first_len, d.size, self.part_size))
        {
            let permit = acquire(&sem, &mut tasks, &mut done).await?;
            let region = whole.split_to(len as usize);
            let job = self.job(&d, offset, len);
            let first = if offset == 0 {
                pending.take().flatten()
            } else {
                None
            };
            let index = count;
            count += 1;
            tasks.spawn(async move {
                let _permit = permit;
                (index, job.run(Sink::buf(region, crc), first).await)
            });
        }
        join_all(&mut tasks, &mut done).await?;
        if let Some(s) = stored.as_ref().filter(|_| crc.is_some()) {
            s.verify_ranges(&done, count)?;
        }
        let mut out = BytesMut::new();
        for index in 0..count {
            // Regions are contiguous and in order, so this re-joins without copying.
            let region = done
                .remove(&index)
                .and_then(|d| d.buf)
                .ok_or_else(|| Error::invalid_response(format!("range {index} went missing")))?;
            out.unsplit(region);
        }
        if out.len() != size {
            return Err(Error::invalid_response(format!(
                "assembled {} of {size} bytes",
                out.len()
            )));
        }
        let out = out.freeze();
        // A full-object SHA cannot be combined from the ranges, but the whole object is in
        // memory: hash it once, off the runtime's threads.
        if let Some(s) = stored.filter(|s| s.check == Check::InOrder) {
            let (bytes, alg) = (out.clone(), s.alg);
            let got = tokio::task::spawn_blocking(move || alg.compute(&bytes))
                .await
                .map_err(|e| Error::io("the checksum task failed", std::io::Error::other(e)))?;
            if got != s.value.trim() {
                return Err(s.mismatch(&got));
            }
        }
        Ok(out)
    }

    /// Downloads as an ordered stream of chunks (one per range), fetching up to
    /// `concurrency` ranges ahead of the consumer and no further: a slow consumer holds at
    /// most `concurrency × part size` bytes in memory.
    ///
    /// Awaiting makes the discovery request; the stream does the rest. With
    /// [`validate_checksum`](Self::validate_checksum), the chunks are hashed as they are
    /// yielded and a mismatch is the last item.
    ///
    /// # Errors
    ///
    /// See [`Download`]; errors of later ranges arrive as stream items.
    pub async fn to_stream(self) -> Result<DownloadStream> {
        let ctx = self.ctx();
        let mut d = self.discover().await.map_err(&ctx)?;
        Self::check_pinnable(&d).map_err(&ctx)?;
        let verify = self
            .stored_checksum(d.etag.clone(), d.checksum.take())
            .await
            .map_err(&ctx)?
            .filter(|s| s.check != Check::Never)
            .map(|s| (Hasher::new(s.alg), s));
        let first = d.first.take();
        let mut jobs: VecDeque<(RangeJob, Option<Started>)> = VecDeque::new();
        if d.first_len > 0 {
            jobs.push_back((self.job(&d, 0, d.first_len), first));
        }
        for (offset, len) in ranges(d.first_len, d.size, self.part_size) {
            jobs.push_back((self.job(&d, offset, len), None));
        }
        let mut s = DownloadStream {
            jobs,
            window: VecDeque::new(),
            concurrency: self.concurrency,
            cancelled: Box::pin(self.cancel.clone().cancelled_owned()),
            failed: false,
            verify,
        };
        s.refill();
        Ok(s)
    }
}

/// What a range task returns: its index, and what it hands back.
type RangeResult = (usize, Result<RangeDone>);

/// The finished ranges of a download, by range index.
type Finished = std::collections::HashMap<usize, RangeDone>;

impl Download {
    /// Downloads into `writer` in order, through the same bounded window as
    /// [`to_stream`](Self::to_stream); returns the bytes written. The writer is flushed at
    /// the end; on error, what was written so far stays written (it is a stream, not a file
    /// that can be withdrawn).
    ///
    /// # Errors
    ///
    /// See [`Download`]; [`ErrorKind::Io`] when the writer fails.
    pub async fn to_writer<W>(self, writer: &mut W) -> Result<u64>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        let ctx = self.ctx_owned();
        let mut stream = self.to_stream().await?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            writer
                .write_all(&chunk)
                .await
                .map_err(|e| ctx(Error::io("cannot write the download", e)))?;
            written += chunk.len() as u64;
        }
        writer
            .flush()
            .await
            .map_err(|e| ctx(Error::io("cannot write the download", e)))?;
        Ok(written)
    }

    fn ctx_owned(&self) -> impl Fn(Error) -> Error + use<> {
        let (bucket, key) = (self.bucket.name().to_owned(), self.key.clone());
        move |e: Error| e.with_context("Download", Some(&bucket), Some(&key))
    }
}

/// Waits for a free slot, surfacing the error of any task that finished meanwhile and keeping
/// the buffers of those that succeeded.
async fn acquire(
    sem: &Arc<Semaphore>,
    tasks: &mut JoinSet<RangeResult>,
    finished: &mut Finished,
) -> Result<tokio::sync::OwnedSemaphorePermit> {
    loop {
        while let Some(res) = tasks.try_join_next() {
            keep(res, finished)?;
        }
        tokio::select! {
            p = sem.clone().acquire_owned() => return p.map_err(|_| cancelled()),
            Some(res) = tasks.join_next() => keep(res, finished)?,
        }
    }
}

/// Waits for every task, keeping the buffers.
async fn join_all(tasks: &mut JoinSet<RangeResult>, finished: &mut Finished) -> Result<()> {
    while let Some(res) = tasks.join_next().await {
        keep(res, finished)?;
    }
    Ok(())
}

fn keep(
    res: std::result::Result<RangeResult, tokio::task::JoinError>,
    finished: &mut Finished,
) -> Result<()> {
    let (index, r) = res.map_err(join_error)?;
    finished.insert(index, r?);
    Ok(())
}

fn join_error(e: tokio::task::JoinError) -> Error {
    Error::new(ErrorKind::Cancelled)
        .with_message("a range task stopped")
        .with_source(e)
}

fn task_result(
    res: std::result::Result<Result<RangeDone>, tokio::task::JoinError>,
) -> Result<RangeDone> {
    res.map_err(join_error)?
}

/// A task handle that aborts the task when dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The chunks of a download in order. Made by [`Download::to_stream`].
///
/// Dropping it stops the range tasks still running.
#[must_use = "streams do nothing unless polled"]
pub struct DownloadStream {
    jobs: VecDeque<(RangeJob, Option<Started>)>,
    window: VecDeque<AbortOnDrop<Result<RangeDone>>>,
    concurrency: usize,
    /// Resolves when the transfer is cancelled; polled first, so a cancel wakes the stream
    /// even while the front range stalls.
    cancelled: Pin<Box<dyn Future<Output = ()> + Send>>,
    failed: bool,
    /// The running checksum of the chunks yielded so far, and the stored one.
    verify: Option<(Hasher, StoredChecksum)>,
}

impl fmt::Debug for DownloadStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadStream")
            .field("ranges_left", &(self.jobs.len() + self.window.len()))
            .finish_non_exhaustive()
    }
}

impl DownloadStream {
    fn refill(&mut self) {
        while self.window.len() < self.concurrency {
            let Some((job, first)) = self.jobs.pop_front() else {
                break;
            };
            let len = job.len as usize;
            self.window.push_back(AbortOnDrop(tokio::spawn(async move {
                job.run(Sink::buf(BytesMut::zeroed(len), None), first).await
            })));
        }
    }
}

impl Stream for DownloadStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        if self.cancelled.as_mut().poll(cx).is_ready() {
            self.failed = true;
            self.window.clear();
            return Poll::Ready(Some(Err(cancelled())));
        }
        let Some(front) = self.window.front_mut() else {
            // The end: the bytes yielded, in order, against the stored checksum.
            if let Some((h, stored)) = self.verify.take() {
                let got = h.finish();
                if got != stored.value.trim() {
                    self.failed = true;
                    return Poll::Ready(Some(Err(stored.mismatch(&got))));
                }
            }
            return Poll::Ready(None);
        };
        let res = std::task::ready!(Pin::new(&mut front.0).poll(cx));
        self.window.pop_front();
        match task_result(res) {
            Ok(done) => {
                self.refill();
                let chunk = done.buf.unwrap_or_default().freeze();
                if let Some((h, _)) = &mut self.verify {
                    h.update(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Err(e) => {
                self.failed = true;
                self.window.clear();
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

/// A temporary file beside the destination, removed on drop unless committed.
struct TempFile {
    path: PathBuf,
    committed: bool,
}

impl TempFile {
    async fn create(dest: &Path) -> Result<Self> {
        let name = dest.file_name().ok_or_else(|| {
            Error::invalid_input(format!("{} is not a file path", dest.display()))
        })?;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        // Keep the name well under NAME_MAX (255 bytes) whatever the destination's length.
        let short: String = name.to_string_lossy().chars().take(100).collect();
        let path = dir.join(format!(
            ".{short}.{}-{unique}.async-s3.part",
            std::process::id()
        ));
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        Ok(Self {
            path,
            committed: false,
        })
    }

    async fn open(&self) -> Result<tokio::fs::File> {
        tokio::fs::OpenOptions::new()
            .write(true)
            .open(&self.path)
            .await
            .map_err(|e| Error::io(format!("cannot open {}", self.path.display()), e))
    }

    async fn commit(mut self, dest: &Path) -> Result<()> {
        let f = self.open().await?;
        f.sync_all()
            .await
            .map_err(|e| Error::io(format!("cannot flush {}", self.path.display()), e))?;
        tokio::fs::rename(&self.path, dest)
            .await
            .map_err(|e| Error::io(format!("cannot move the download to {}", dest.display()), e))?;
        self.committed = true;
        // Make the rename itself durable (best effort: not every platform can open a directory).
        #[cfg(unix)]
        if let Some(dir) = dest.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = tokio::fs::File::open(dir).await
        {
            let _ = d.sync_all().await;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
