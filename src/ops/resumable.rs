//! A GetObject body that resumes itself. When the body of a range breaks off before its last
//! byte, the rest is asked for again from the first missing byte, pinned with `If-Match` to
//! the object's ETag and checked against its total size. A resumption is an ordinary retry of
//! the client's policy: it waits the backoff, is paid from the shared retry budget and counts
//! toward `max_attempts` together with the range's own HTTP retries, so [`Error::attempts`]
//! reports every request made for the range.
//!
//! The transfer engine reads its ranges through [`ResumableBody::chunk`] and never sees the
//! retry bookkeeping.

use super::get_object::{ContentRange, GetObject, GetObjectOutput, ObjectStream};
use super::meta::ObjectMeta;
use super::sse::ExtraHeaders;
use crate::client::Bucket;
use crate::error::{Error, ErrorKind, Result};
use crate::transport::RetryState;
use bytes::Bytes;
use futures_util::StreamExt;
use std::fmt;

/// One version of an object, which every range of a resumable body is pinned to: requests
/// carry `If-Match` with its ETag, and every answer must carry that ETag and report its size.
#[derive(Debug, Clone)]
pub(crate) struct PinnedObject {
    bucket: Bucket,
    key: String,
    etag: Option<String>,
    size: u64,
    /// Option headers every range carries (SSE-C key, request payer).
    extra: ExtraHeaders,
}

impl PinnedObject {
    /// `key` in `bucket`, as the version with `etag` (unpinned without one) and `size` bytes.
    pub(crate) fn new(bucket: Bucket, key: String, etag: Option<String>, size: u64) -> Self {
        Self {
            bucket,
            key,
            etag,
            size,
            extra: ExtraHeaders::default(),
        }
    }

    /// The same object, every range sent with `extra`'s headers.
    pub(crate) fn with_extra(mut self, extra: ExtraHeaders) -> Self {
        self.extra = extra;
        self
    }

    /// The object's size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Sends the GET of the `len` bytes at `offset` and returns its body, which resumes
    /// itself when it breaks off.
    ///
    /// # Errors
    ///
    /// Those of GetObject (with [`Error::attempts`] counting the requests made);
    /// [`ErrorKind::ObjectChanged`] when the answer is a 412 or carries another ETag;
    /// [`ErrorKind::InvalidResponse`] when it reports another total size;
    /// [`ErrorKind::InvalidInput`] for an empty range.
    pub(crate) async fn range(&self, offset: u64, len: u64) -> Result<ResumableBody> {
        if len == 0 {
            return Err(Error::invalid_input("an empty range has no body to resume"));
        }
        let mut state = RetryState::for_body();
        let resp = self.get(offset, offset + len - 1, &mut state).await?;
        Ok(ResumableBody::new(self.clone(), offset, len, resp, state))
    }

    /// GETs bytes `from..=end`, pinned to the ETag, and checks the answer's ETag and total
    /// size.
    async fn get(&self, from: u64, end: u64, state: &mut RetryState) -> Result<GetObjectOutput> {
        let mut req = self.bucket.get_object(self.key.clone()).range(from..=end);
        req = req.with_extra(&self.extra);
        if let Some(etag) = &self.etag {
            req = req.if_match(etag.clone());
        }
        let resp = req.send_in(state).await.map_err(object_changed)?;
        let attempts = state.attempts;
        // Not every store honours If-Match: check the ETag as well.
        if self.etag.is_some() && resp.meta.etag != self.etag {
            return Err(etag_changed(&self.etag, &resp.meta.etag).with_attempts(attempts));
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
pub(crate) fn object_changed(e: Error) -> Error {
    if e.kind() == ErrorKind::PreconditionFailed {
        Error::new(ErrorKind::ObjectChanged)
            .with_message("the object was replaced during the download (its ETag changed)")
            .with_attempts(e.attempts())
            .with_source(e)
    } else {
        e
    }
}

/// The error for an answer whose ETag is not the one pinned.
pub(crate) fn etag_changed(pinned: &Option<String>, got: &Option<String>) -> Error {
    Error::new(ErrorKind::ObjectChanged).with_message(format!(
        "the object was replaced during the download (ETag {pinned:?}, then {got:?})"
    ))
}

impl GetObject {
    /// Sends the request as the first of a body that resumes itself (see [`ResumableBody`]):
    /// when it breaks off, the rest is
    /// asked for from the first missing byte, pinned to this answer's ETag and total size,
    /// through the client's retry policy.
    pub(crate) async fn send_resumable(self) -> Result<ResumableOutput> {
        let (bucket, key) = self.target();
        let extra = self.extra_headers();
        let mut state = RetryState::for_body();
        let resp = self.send_in(&mut state).await?;
        Ok(ResumableOutput::new(bucket, key, resp, state, extra))
    }
}

/// The answer to [`GetObject::send_resumable`]:
/// the first answer's metadata, and its body pinned to that answer's ETag and total size.
#[derive(Debug)]
pub(crate) struct ResumableOutput {
    /// The first answer's metadata; `meta.size` is the length of this body.
    pub(crate) meta: ObjectMeta,
    /// The range the first answer covered, for a ranged GET.
    pub(crate) content_range: Option<ContentRange>,
    /// The body, resumed when it breaks off.
    pub(crate) body: ResumableBody,
}

impl ResumableOutput {
    /// Wraps the first answer, got with `state`. Resumptions ask for the rest of the range it
    /// covers (the whole object for a `200`), pinned to its ETag and to the total size its
    /// `Content-Range` reports (its own size without one).
    pub(super) fn new(
        bucket: Bucket,
        key: String,
        resp: GetObjectOutput,
        state: RetryState,
        extra: ExtraHeaders,
    ) -> Self {
        let meta = resp.meta.clone();
        let content_range = resp.content_range;
        let offset = content_range.map_or(0, |cr| cr.start);
        let size = content_range.and_then(|cr| cr.total).unwrap_or(meta.size);
        let object = PinnedObject::new(bucket, key, meta.etag.clone(), size).with_extra(extra);
        let body = ResumableBody::new(object, offset, meta.size, resp, state);
        Self {
            meta,
            content_range,
            body,
        }
    }
}

/// The body of one range of a [`PinnedObject`]: the chunks in order, each byte once, whatever
/// resumptions happened underneath. It ends (`Ok(None)`) only once every byte of the range
/// arrived, and otherwise with an error.
pub(crate) struct ResumableBody {
    object: PinnedObject,
    offset: u64,
    len: u64,
    /// The retry bookkeeping of every request made for this range.
    state: RetryState,
    /// The body being read; `None` between a break and the resumption.
    body: Option<ObjectStream>,
    /// Bytes handed out so far.
    done: u64,
    /// `done` when the current response began, to tell whether it made progress.
    resumed_at: u64,
    end: End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    Complete,
    Failed,
}

impl fmt::Debug for ResumableBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumableBody")
            .field("offset", &self.offset)
            .field("len", &self.len)
            .field("done", &self.done)
            .field("attempts", &self.state.attempts)
            .finish_non_exhaustive()
    }
}

impl ResumableBody {
    fn new(
        object: PinnedObject,
        offset: u64,
        len: u64,
        first: GetObjectOutput,
        state: RetryState,
    ) -> Self {
        Self {
            object,
            offset,
            len,
            state,
            body: Some(first.into_stream()),
            done: 0,
            resumed_at: 0,
            end: End::Open,
        }
    }

    /// The next chunk of the range, or `None` once every byte arrived (an error after the
    /// last byte changes nothing). A body that breaks off, or ends short, is resumed from its
    /// first missing byte when the client's retry policy allows: after the backoff, paid from
    /// the retry budget; an attempt that delivered bytes does not count toward the attempt
    /// limit (see `RetryState::made_progress`). A range read whole pays its last retry back.
    ///
    /// # Errors
    ///
    /// The error that broke the body, when it is final (not transient, attempts or budget
    /// spent), with [`Error::attempts`] counting every request of the range; those of the
    /// resumption's GET (see [`PinnedObject::range`]); [`ErrorKind::InvalidResponse`] when
    /// more bytes arrive than the range holds. After an error the body stays failed.
    ///
    /// # Cancel safety
    ///
    /// No byte is lost or repeated: a future dropped while a resumption is under way leaves the
    /// body to be asked for again by the next call, at the cost of one more retry (an attempt
    /// and its share of the budget).
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>> {
        match self.end {
            End::Open => {}
            End::Complete => return Ok(None),
            End::Failed => {
                return Err(Error::invalid_response(
                    "the range's body was read after it failed",
                ));
            }
        }
        let r = self.next().await;
        if r.is_err() {
            self.end = End::Failed;
            self.body = None;
        }
        r
    }

    async fn next(&mut self) -> Result<Option<Bytes>> {
        let client = self.object.bucket.client();
        loop {
            let item = match &mut self.body {
                Some(body) => body.next().await,
                None => None,
            };
            let broke = match item {
                Some(Ok(c)) => {
                    let n = c.len() as u64;
                    if self.done + n > self.len {
                        return Err(Error::invalid_response(
                            "a range sent more bytes than asked for",
                        ));
                    }
                    self.done += n;
                    return Ok(Some(c));
                }
                Some(Err(e)) => Some(e),
                None => None,
            };
            self.body = None;
            // Every byte arrived: an error after the last one changes nothing.
            if self.done == self.len {
                client.retry_succeeded(&mut self.state);
                self.end = End::Complete;
                return Ok(None);
            }
            if self.done > self.resumed_at {
                self.state.made_progress();
            }
            let mut e = broke.unwrap_or_else(|| {
                Error::invalid_response(format!(
                    "range at {} ended after {} of {} bytes",
                    self.offset, self.done, self.len
                ))
                .with_retryable(true)
            });
            if !client.pause_before_retry(&mut self.state, &mut e).await {
                return Err(e.with_attempts(self.state.attempts));
            }
            let end = self.offset + self.len - 1;
            let resp = self
                .object
                .get(self.offset + self.done, end, &mut self.state)
                .await?;
            self.resumed_at = self.done;
            self.body = Some(resp.into_stream());
        }
    }
}
