//! `Bucket::download`: a discovery GET that pins the ETag, then the other ranges in parallel
//! with `If-Match`, written at their offsets into a temporary file (renamed into place when
//! complete), into one buffer, or yielded in order through a bounded window.

mod range;
mod resume;
mod sink;
mod stream;
mod temp_file;
mod verify;

pub use stream::DownloadStream;

use super::plan::{DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE};
use super::plan::{concurrency_for, ranges};
use super::pool::TaskPool;
use super::progress::{CancelHandle, Progress, Tracker, callback, cancelled};
use crate::bandwidth::Limiter;
use crate::checksum::ChecksumAlgorithm;
use crate::client::Bucket;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::meta::ObjectMeta;
use crate::ops::resumable::{PinnedObject, ResumableBody, etag_changed, object_changed};
use crate::ops::sse::ExtraHeaders;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use range::{RANGE_STOPPED, RangeJob};
use sink::{RangeDone, Sink};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use temp_file::TempFile;

/// Objects up to this size that came whole in the discovery answer are written to their path
/// in one piece (`small_to_path`): what a file download batches before a write anyway.
const WHOLE_IN_MEMORY: u64 = 1 << 20;
use tokio::io::AsyncWriteExt;
use verify::{Check, StoredChecksum};

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
    // issue 11 part B: SSE-C, request payer
    extra: ExtraHeaders,
    // issue 13: crash-resumable downloads, bandwidth cap
    journal: Option<PathBuf>,
    limit: Option<Limiter>,
    /// The client's target throughput (bits/s) while no concurrency is set.
    throughput: Option<u64>,
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
            extra: ExtraHeaders::default(),
            journal: None,
            limit: None,
            throughput: self.target_throughput(),
        }
    }
}

/// What the discovery GET found (its body aside).
struct Discovered {
    size: u64,
    etag: Option<String>,
    /// Length of the first range.
    first_len: u64,
    /// The stored checksum, when the first answer covered the whole object and carried one.
    checksum: Option<StoredChecksum>,
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
        self.throughput = None;
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

    /// Caps this download's bytes at `bytes_per_sec`, all its ranges together (a token bucket
    /// they share evenly; see
    /// [`ClientBuilder::max_bandwidth`](crate::ClientBuilder::max_bandwidth), whose client-wide
    /// cap applies as well). No cap by default.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.download("big.bin").max_bandwidth(10 << 20).to_path("big.bin").await?;
    /// # Ok(()) }
    /// ```
    pub fn max_bandwidth(mut self, bytes_per_sec: u64) -> Self {
        self.limit = Some(Limiter::new(bytes_per_sec));
        self
    }

    /// The pool the ranges run in: the concurrency set, or the one the client's target
    /// throughput picks (issue 13), under the client's adaptive limit.
    fn pool<T: Send + 'static>(&self) -> TaskPool<T> {
        let slots = self
            .throughput
            .map_or(self.concurrency, |t| concurrency_for(t, self.part_size));
        TaskPool::new(slots, &self.cancel, RANGE_STOPPED).with_congestion(self.bucket.congestion())
    }

    fn ctx(&self) -> impl Fn(Error) -> Error + '_ {
        |e: Error| e.with_context("Download", Some(self.bucket.name()), Some(&self.key))
    }

    /// The discovery GET: the first range, which tells the size and the ETag to pin the
    /// others to; its body (none for an empty object) is read as the first range.
    async fn discover(&self) -> Result<(Discovered, Option<ResumableBody>)> {
        let get = || {
            let req = self
                .bucket
                .get_object(self.key.clone())
                .with_extra(&self.extra);
            if self.validate {
                req.validate_checksum()
            } else {
                req
            }
        };
        let stored = |meta: &ObjectMeta| {
            meta.checksum
                .clone()
                .map(|c| StoredChecksum::new(c, meta.checksum_type))
        };
        let first = get().range(0..self.part_size).send_resumable().await;
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
                let d = Discovered {
                    size,
                    etag,
                    first_len,
                    checksum,
                };
                Ok((d, Some(resp.body)))
            }
            // An empty object has no byte 0: S3 answers 416. Confirm with a plain GET.
            Err(e) if e.kind() == ErrorKind::InvalidRange => {
                let resp = get().await?;
                if resp.meta.size != 0 {
                    return Err(Error::invalid_response(
                        "416 for byte 0 of a non-empty object",
                    ));
                }
                let d = Discovered {
                    size: 0,
                    checksum: self.validate.then(|| stored(&resp.meta)).flatten(),
                    etag: resp.meta.etag,
                    first_len: 0,
                };
                Ok((d, None))
            }
            Err(e) => Err(e),
        }
    }

    /// The stored checksum to verify against, when validation is on: from the first answer,
    /// else from a HEAD pinned to the first answer's ETag.
    async fn stored_checksum(&self, d: &mut Discovered) -> Result<Option<StoredChecksum>> {
        let found = d.checksum.take();
        if !self.validate || found.is_some() {
            return Ok(found);
        }
        let etag = &d.etag;
        let mut head = self.bucket.head_object(self.key.clone()).include_checksum();
        head = head.with_extra(&self.extra);
        if let Some(etag) = etag {
            head = head.if_match(etag.clone());
        }
        let meta = head.await.map_err(object_changed)?;
        if etag.is_some() && meta.etag != *etag {
            return Err(etag_changed(etag, &meta.etag));
        }
        Ok(meta
            .checksum
            .map(|c| StoredChecksum::new(c, meta.checksum_type)))
    }

    /// Every range to fetch, in offset order, with its job; the first range comes with
    /// `first`, the discovery answer's body.
    fn jobs<'a>(
        &'a self,
        d: &'a Discovered,
        mut first: Option<ResumableBody>,
    ) -> impl Iterator<Item = (RangeJob, Option<ResumableBody>)> + Send + 'a {
        // The version every range is pinned to: the discovery answer's ETag and size.
        let object = PinnedObject::new(
            self.bucket.clone(),
            self.key.clone(),
            d.etag.clone(),
            d.size,
        )
        .with_extra(self.extra.clone());
        std::iter::once((0, d.first_len))
            .filter(|(_, l)| *l > 0)
            .chain(ranges(d.first_len, d.size, self.part_size))
            .map(move |(offset, len)| {
                let body = if offset == 0 { first.take() } else { None };
                let job = RangeJob {
                    object: object.clone(),
                    offset,
                    len,
                    tracker: self.tracker.clone(),
                    limit: self.limit.clone(),
                };
                (job, body)
            })
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
        if let Some(journal) = &self.journal {
            return self.to_path_resumable(path, journal).await;
        }
        let (mut d, first) = self.discover().await?;
        Self::check_pinnable(&d)?;
        let stored = self.stored_checksum(&mut d).await?;
        let crc = stored
            .as_ref()
            .filter(|s| s.check == Check::Crc)
            .map(|s| s.alg);
        if d.size <= d.first_len && d.size <= WHOLE_IN_MEMORY {
            return self.small_to_path(path, d, first, stored, crc).await;
        }
        let temp = TempFile::create(path, d.size).await?;
        let mut pool = self.pool();
        let mut count = 0u32;
        for (job, first) in self.jobs(&d, first) {
            let slot = pool.slot().await?;
            let file = temp.open_at(job.offset).await?;
            let index = count as usize;
            count += 1;
            pool.spawn(slot, async move {
                let done = job.run(Sink::file(file, crc), first).await?;
                Ok((index, done))
            });
        }
        let done = in_order(pool.join_all().await?, count as usize)?;
        // Checked before the rename: a mismatch leaves the destination untouched and drops
        // (removes) the temporary file.
        if let Some(s) = stored.as_ref().filter(|_| crc.is_some()) {
            s.verify_ranges(&done)?;
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

    /// A download whose whole object came in the discovery answer and is small: read into
    /// memory (no more than a file download batches before writing), checked, then written,
    /// flushed and renamed into place in one trip to the blocking pool, without a task pool.
    async fn small_to_path(
        &self,
        path: &Path,
        d: Discovered,
        first: Option<ResumableBody>,
        stored: Option<StoredChecksum>,
        crc: Option<ChecksumAlgorithm>,
    ) -> Result<DownloadOutput> {
        let mut done = Vec::new();
        for (job, first) in self.jobs(&d, first) {
            let buf = BytesMut::zeroed(job.len as usize);
            done.push(job.run(Sink::buf(buf, crc), first).await?);
        }
        if let Some(s) = stored.as_ref().filter(|_| crc.is_some()) {
            s.verify_ranges(&done)?;
        }
        let ranges = done.len() as u32;
        let bytes = done
            .into_iter()
            .next()
            .and_then(|r| r.buf)
            .map(BytesMut::freeze)
            .unwrap_or_default();
        TempFile::write_whole(path, bytes).await?;
        Ok(DownloadOutput {
            size: d.size,
            etag: d.etag,
            ranges,
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
        let (mut d, first) = self.discover().await?;
        Self::check_pinnable(&d)?;
        let stored = self.stored_checksum(&mut d).await?;
        let crc = stored
            .as_ref()
            .filter(|s| s.check == Check::Crc)
            .map(|s| s.alg);
        let size = usize::try_from(d.size)
            .map_err(|_| Error::invalid_input("the object does not fit in memory"))?;
        // One allocation, split into disjoint regions that the tasks fill in place.
        let mut whole = BytesMut::zeroed(size);
        let mut pool = self.pool();
        let mut count = 0usize;
        for (job, first) in self.jobs(&d, first) {
            let slot = pool.slot().await?;
            let region = whole.split_to(job.len as usize);
            let index = count;
            count += 1;
            pool.spawn(slot, async move {
                let done = job.run(Sink::buf(region, crc), first).await?;
                Ok((index, done))
            });
        }
        let done = in_order(pool.join_all().await?, count)?;
        if let Some(s) = stored.as_ref().filter(|_| crc.is_some()) {
            s.verify_ranges(&done)?;
        }
        let mut out = BytesMut::new();
        for (index, range) in done.into_iter().enumerate() {
            // Regions are contiguous and in order, so this re-joins without copying.
            let region = range
                .buf
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
            s.verify_whole(out.clone()).await?;
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
        let (mut d, first) = self.discover().await.map_err(&ctx)?;
        Self::check_pinnable(&d).map_err(&ctx)?;
        let verify = self
            .stored_checksum(&mut d)
            .await
            .map_err(&ctx)?
            .filter(|s| s.check != Check::Never);
        let jobs: VecDeque<_> = self.jobs(&d, first).collect();
        Ok(DownloadStream::new(
            jobs,
            self.concurrency,
            self.cancel.clone(),
            verify,
        ))
    }

    // issue 11 part B: SSE-C, request payer (every range and the checksum's HEAD carry them)
    crate::ops::sse::extra_setters!(extra => sse_customer_key, request_payer);

    // issue 13: crash-resumable downloads
    /// Makes a download to a path resumable after a crash, with a journal at `journal`
    /// (for instance beside the destination). For [`to_path`](Self::to_path) only.
    ///
    /// The bytes go into a partial file beside the destination
    /// (`.<name>.<hash>.async-s3.resume`: the name cut to 100 bytes and a hash of the whole
    /// name), and the journal records the object's ETag and size, the partial file's name and
    /// every range that is on disk with its CRC64NVME (synced before it is listed; the journal
    /// itself is replaced atomically). The same call with the same journal after a crash, a
    /// cancel or a failure re-reads the listed ranges from the partial file, fetches those
    /// whose bytes changed and those the journal does not list, pinned with `If-Match` to the
    /// recorded ETag; if the object
    /// changed meanwhile, the download starts over. On success the partial file is renamed
    /// onto the destination and the journal removed; on failure or cancel both stay, for
    /// the next attempt. The part size of a resumed download is the journal's.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] before anything is sent or written when the journal is
    /// corrupt (cut short or edited) or belongs to another download (another bucket, key,
    /// destination or an upload), and when combined with [`validate_checksum`](Self::validate_checksum)
    /// (not supported yet); otherwise as [`to_path`](Self::to_path).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// // Run again after a crash: only the missing ranges are fetched.
    /// bucket
    ///     .download("backups/db.tar")
    ///     .resume("db.tar.journal")
    ///     .to_path("db.tar")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn resume(mut self, journal: impl Into<PathBuf>) -> Self {
        self.journal = Some(journal.into());
        self
    }
}

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

/// The ranges' results, tagged with their index, in range order; all `count` of them.
fn in_order(mut done: Vec<(usize, RangeDone)>, count: usize) -> Result<Vec<RangeDone>> {
    done.sort_unstable_by_key(|(index, _)| *index);
    if let Some(missing) = (0..count).find(|&i| done.get(i).is_none_or(|(index, _)| *index != i)) {
        return Err(Error::invalid_response(format!(
            "range {missing} went missing"
        )));
    }
    Ok(done.into_iter().map(|(_, range)| range).collect())
}
