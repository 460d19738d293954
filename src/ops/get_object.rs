//! GetObject: download an object or a byte range of it, whole or as a stream.

use super::conditions::{Conditions, conditional_setters};
use super::meta::{ObjectMeta, Scanned};
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::request::OpRequest;
use crate::transport::{ByteStream, RetryState};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::Method;
use std::fmt;
use std::ops::{Range, RangeFrom, RangeInclusive};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// A byte range of an object, as in the `Range` header.
///
/// Built from Rust ranges: `0..1024` (the first KiB), `100..` (from byte 100 on),
/// `0..=99`, or [`ByteRange::suffix`] for the last bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ByteRange {
    /// Bytes `start` to `end`, both included.
    Inclusive {
        /// First byte.
        start: u64,
        /// Last byte, included.
        end: u64,
    },
    /// From `start` to the end of the object.
    From {
        /// First byte.
        start: u64,
    },
    /// The last `len` bytes of the object.
    Suffix {
        /// How many bytes.
        len: u64,
    },
}

impl ByteRange {
    /// The last `len` bytes of the object.
    pub fn suffix(len: u64) -> Self {
        ByteRange::Suffix { len }
    }

    fn header_value(&self) -> Result<String> {
        match *self {
            ByteRange::Inclusive { start, end } if start <= end => {
                Ok(format!("bytes={start}-{end}"))
            }
            ByteRange::From { start } => Ok(format!("bytes={start}-")),
            ByteRange::Suffix { len } if len > 0 => Ok(format!("bytes=-{len}")),
            _ => Err(Error::invalid_input(format!("empty byte range {self:?}"))),
        }
    }

    /// Whether `cr` is a correct answer to this range.
    fn accepts(&self, cr: &ContentRange) -> bool {
        let Some(total) = cr.total else {
            return matches!(*self, ByteRange::Inclusive { start, end } if cr.start == start && cr.end == end)
                || matches!(*self, ByteRange::From { start } if cr.start == start);
        };
        if cr.end >= total || cr.start > cr.end {
            return false;
        }
        match *self {
            ByteRange::Inclusive { start, end } => {
                cr.start == start && cr.end == end.min(total - 1)
            }
            ByteRange::From { start } => cr.start == start && cr.end == total - 1,
            ByteRange::Suffix { len } => cr.end == total - 1 && cr.start == total - len.min(total),
        }
    }
}

impl From<Range<u64>> for ByteRange {
    /// `a..b` is bytes `a` to `b - 1`; an empty range is refused when the request is sent.
    fn from(r: Range<u64>) -> Self {
        if r.end == 0 || r.end <= r.start {
            // Marks the range empty; `header_value` refuses it.
            return ByteRange::Inclusive { start: 1, end: 0 };
        }
        ByteRange::Inclusive {
            start: r.start,
            end: r.end - 1,
        }
    }
}

impl From<RangeInclusive<u64>> for ByteRange {
    fn from(r: RangeInclusive<u64>) -> Self {
        ByteRange::Inclusive {
            start: *r.start(),
            end: *r.end(),
        }
    }
}

impl From<RangeFrom<u64>> for ByteRange {
    fn from(r: RangeFrom<u64>) -> Self {
        ByteRange::From { start: r.start }
    }
}

/// A parsed `Content-Range: bytes start-end/total` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContentRange {
    /// First byte of the body.
    pub start: u64,
    /// Last byte of the body, included.
    pub end: u64,
    /// The whole object's size, when the server said (`*` otherwise).
    pub total: Option<u64>,
}

impl ContentRange {
    /// Parses the header value; `bytes */5000` (an unsatisfied range) is not a body range and
    /// gives `None`, like any malformed value.
    pub fn parse(v: &str) -> Option<Self> {
        let rest = v.trim().strip_prefix("bytes ")?;
        let (range, total) = rest.split_once('/')?;
        let (s, e) = range.split_once('-')?;
        let digits = |x: &str| -> Option<u64> {
            (!x.is_empty() && x.bytes().all(|b| b.is_ascii_digit())).then(|| x.parse().ok())?
        };
        let start = digits(s)?;
        let end = digits(e)?;
        let total = if total == "*" {
            None
        } else {
            Some(digits(total)?)
        };
        if start > end || total.is_some_and(|t| end >= t) {
            return None;
        }
        Some(ContentRange { start, end, total })
    }

    /// The number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Always false: a content range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Downloads an object. Built by [`Bucket::get_object`]; await it to get the metadata, then
/// read the body with [`GetObjectOutput::bytes`] or [`GetObjectOutput::into_stream`].
///
/// See the [GetObject API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
///
/// # Errors
///
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound),
/// [`ErrorKind::InvalidRange`](crate::ErrorKind::InvalidRange) (416),
/// [`ErrorKind::PreconditionFailed`](crate::ErrorKind::PreconditionFailed) (`If-Match`),
/// [`ErrorKind::NotModified`](crate::ErrorKind::NotModified) (`If-None-Match`,
/// `If-Modified-Since`), and [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse)
/// when a range answer does not match the range asked for.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future or the body closes the connection and changes nothing.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct GetObject {
    bucket: Bucket,
    key: String,
    range: Option<ByteRange>,
    conditions: Conditions,
    version_id: Option<String>,
    validate_checksum: bool,
    // issue 11 part B: SSE-C, request payer
    extra: super::sse::ExtraHeaders,
}

/// The answer to GetObject: metadata now, body to be read.
#[non_exhaustive]
pub struct GetObjectOutput {
    /// The object's metadata; `meta.size` is the size of this body (the range's length for a
    /// ranged GET).
    pub meta: ObjectMeta,
    /// The range this body covers, for a ranged GET.
    pub content_range: Option<ContentRange>,
    /// Whether the body is being verified against the object's full-object checksum (asked
    /// for with [`GetObject::validate_checksum`]): then it ends with
    /// [`ErrorKind::ChecksumMismatch`](crate::ErrorKind::ChecksumMismatch) on a difference.
    /// `false` when there was nothing to verify against (no stored checksum, a composite
    /// checksum of a multipart object, a partial range).
    pub checksum_verified: bool,
    body: ByteStream,
}

impl fmt::Debug for GetObjectOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetObjectOutput")
            .field("meta", &self.meta)
            .field("content_range", &self.content_range)
            .field("checksum_verified", &self.checksum_verified)
            .finish_non_exhaustive()
    }
}

impl Bucket {
    /// Downloads `key` (or a range of it).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let first_kib = bucket.get_object("cats/1.jpg").range(0..1024).await?.bytes().await?;
    /// # Ok(()) }
    /// ```
    pub fn get_object(&self, key: impl Into<String>) -> GetObject {
        GetObject {
            bucket: self.clone(),
            key: key.into(),
            range: None,
            conditions: Conditions::default(),
            version_id: None,
            validate_checksum: false,
            extra: super::sse::ExtraHeaders::default(),
        }
    }
}

impl GetObject {
    /// Asks for a byte range only: `0..1024`, `100..`, `0..=99` or [`ByteRange::suffix`].
    pub fn range(mut self, range: impl Into<ByteRange>) -> Self {
        self.range = Some(range.into());
        self
    }

    conditional_setters! {
        /// Succeeds only if the object has this entity tag (else `PreconditionFailed`).
        if_match;
        /// Succeeds only if the object does not have this entity tag (else `NotModified`).
        if_none_match;
        /// Succeeds only if the object changed after `t` (else `NotModified`).
        if_modified_since;
        /// Succeeds only if the object did not change after `t` (else `PreconditionFailed`).
        if_unmodified_since;
    }

    /// Reads this version rather than the current one.
    pub fn version_id(mut self, v: impl Into<String>) -> Self {
        self.version_id = Some(v.into());
        self
    }

    /// Asks for the object's stored checksum (`x-amz-checksum-mode: ENABLED`) and verifies the
    /// body against it as it streams: the last chunk is followed by an
    /// [`ErrorKind::ChecksumMismatch`](crate::ErrorKind::ChecksumMismatch) error instead of
    /// the end when the bytes differ. Only whole-object GETs of objects stored with a
    /// full-object checksum can be verified; others are passed through unverified.
    pub fn validate_checksum(mut self) -> Self {
        self.validate_checksum = true;
        self
    }

    async fn send(self) -> Result<GetObjectOutput> {
        self.send_in(&mut RetryState::default()).await
    }

    /// The bucket and key this request reads.
    pub(super) fn target(&self) -> (Bucket, String) {
        (self.bucket.clone(), self.key.clone())
    }

    /// Sends the request, continuing the retry bookkeeping in `state` (a download range that
    /// resumes its body counts every request it made toward one attempt limit).
    pub(crate) async fn send_in(self, state: &mut RetryState) -> Result<GetObjectOutput> {
        let ctx = |e: Error| e.with_context("GetObject", Some(&self.bucket.name), Some(&self.key));
        let mut req = OpRequest::new("GetObject", Method::GET)
            .bucket(&self.bucket.name)
            .key(&self.key);
        if let Some(r) = &self.range {
            req = req.header("range", r.header_value().map_err(ctx)?);
        }
        req = self.conditions.apply(req);
        if let Some(v) = &self.version_id {
            req = req.query([("versionId", v.as_str())]);
        }
        if self.validate_checksum {
            req = req.header("x-amz-checksum-mode", "ENABLED");
        }
        req = self.extra.apply(req, super::sse::scope::READ);
        let resp = self.bucket.execute_in(req, state).await?;
        // A full-object checksum of a whole-object answer; composite ones ("…-3") cannot be
        // checked from the bytes alone.
        let whole = match self.range {
            None => true,
            Some(ByteRange::From { start: 0 }) => resp.status == 200,
            Some(_) => false,
        };
        // The headers are read in one pass.
        let scanned = Scanned::new(&resp.headers).map_err(ctx)?;
        let composite = scanned
            .checksum_type
            .is_some_and(|t| t.eq_ignore_ascii_case("COMPOSITE"));
        let verify = (self.validate_checksum && whole && !composite)
            .then(|| {
                ChecksumAlgorithm::RESPONSE_ORDER
                    .into_iter()
                    .zip(scanned.checksums)
                    .find_map(|(alg, v)| {
                        v.filter(|v| !v.contains('-'))
                            .map(|v| (Hasher::new(alg), v.trim().to_owned()))
                    })
            })
            .flatten();
        let checksum_verified = verify.is_some();
        let content_range = match scanned.content_range {
            Some(v) => Some(ContentRange::parse(v).ok_or_else(|| {
                ctx(Error::invalid_response(format!(
                    "malformed Content-Range {v:?}"
                )))
            })?),
            None => None,
        };
        let has_length = scanned.has_length;
        let meta = scanned.meta;
        if let Some(range) = &self.range {
            match (&content_range, resp.status) {
                (Some(cr), 206) if range.accepts(cr) && cr.len() == meta.size => {}
                (None, 200) if matches!(range, ByteRange::From { start: 0 }) => {}
                _ => {
                    return Err(ctx(Error::invalid_response(format!(
                        "asked for {range:?}, got status {} with Content-Range {content_range:?} \
                         and {} bytes",
                        resp.status, meta.size
                    ))));
                }
            }
        }
        let expected = has_length.then_some(meta.size);
        Ok(GetObjectOutput {
            meta,
            content_range,
            checksum_verified,
            body: Box::pin(CheckedStream {
                inner: resp.into_stream(),
                expected,
                received: 0,
                verify,
                op: ("GetObject", self.bucket.name.clone(), self.key),
            }),
        })
    }

    // issue 11 part B: SSE-C, request payer
    super::sse::extra_setters!(extra => sse_customer_key, request_payer);

    /// Adds option headers prepared elsewhere (a download's, a resumed range's).
    pub(crate) fn with_extra(mut self, extra: &super::sse::ExtraHeaders) -> Self {
        self.extra.merge(extra);
        self
    }

    /// The option headers, for the requests that resume this one's body.
    pub(super) fn extra_headers(&self) -> super::sse::ExtraHeaders {
        self.extra.clone()
    }
}

super::into_future!(GetObject => GetObjectOutput);

impl GetObjectOutput {
    /// Reads the whole body into memory.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`](crate::ErrorKind::Transport) or
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) if the connection breaks or stalls,
    /// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) if fewer or more
    /// bytes arrive than announced.
    pub async fn bytes(self) -> Result<Bytes> {
        use futures_util::StreamExt;
        let mut buf =
            BytesMut::with_capacity(usize::try_from(self.meta.size).unwrap_or(0).min(64 << 20));
        let mut s = self.body;
        while let Some(chunk) = s.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }

    /// The body as a stream of chunks, for bodies too large to hold in memory.
    pub fn into_stream(self) -> ObjectStream {
        ObjectStream { inner: self.body }
    }
}

/// A downloaded body as a stream of `Bytes` chunks; ends with an error, never silently short.
#[must_use = "streams do nothing unless polled"]
pub struct ObjectStream {
    inner: ByteStream,
}

impl fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStream").finish_non_exhaustive()
    }
}

impl Stream for ObjectStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Counts bytes against the announced length, and checks the checksum when asked.
struct CheckedStream {
    inner: ByteStream,
    expected: Option<u64>,
    received: u64,
    /// The running checksum and the value the service sent.
    verify: Option<(Hasher, String)>,
    op: (&'static str, std::sync::Arc<str>, String),
}

impl Stream for CheckedStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = ready!(this.inner.as_mut().poll_next(cx));
        let ctx = |e: Error, op: &(&'static str, std::sync::Arc<str>, String)| {
            e.with_context(op.0, Some(&op.1), Some(&op.2))
        };
        match item {
            Some(Ok(chunk)) => {
                this.received += chunk.len() as u64;
                if let Some(exp) = this.expected
                    && this.received > exp
                {
                    this.expected = None;
                    return Poll::Ready(Some(Err(ctx(
                        Error::invalid_response(format!("more than the announced {exp} bytes")),
                        &this.op,
                    ))));
                }
                if let Some((h, _)) = &mut this.verify {
                    h.update(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(ctx(e, &this.op)))),
            None => {
                if let Some(exp) = this.expected.take()
                    && this.received != exp
                {
                    return Poll::Ready(Some(Err(ctx(
                        Error::invalid_response(format!(
                            "body ended after {} of {exp} bytes",
                            this.received
                        ))
                        .with_retryable(true),
                        &this.op,
                    ))));
                }
                if let Some((h, want)) = this.verify.take() {
                    let got = h.finish();
                    if got != want {
                        return Poll::Ready(Some(Err(ctx(
                            Error::new(crate::ErrorKind::ChecksumMismatch).with_message(format!(
                                "the body's checksum is {got}, the service sent {want}"
                            )),
                            &this.op,
                        ))));
                    }
                }
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TEST-PLAN S10
    #[test]
    fn content_range_parsing() {
        assert_eq!(
            ContentRange::parse("bytes 0-1023/5000"),
            Some(ContentRange {
                start: 0,
                end: 1023,
                total: Some(5000)
            })
        );
        assert_eq!(
            ContentRange::parse("bytes 5-9/*"),
            Some(ContentRange {
                start: 5,
                end: 9,
                total: None
            })
        );
        for bad in [
            "bytes */5000",
            "bytes 9-5/10",
            "bytes 0-10/10",
            "bytes a-1/2",
            "0-1/2",
            "bytes -1-2/3",
            "bytes 1-2",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_check_their_answers() {
        let cr = |s, e, t| ContentRange {
            start: s,
            end: e,
            total: Some(t),
        };
        let r: ByteRange = (0..1024).into();
        assert!(r.accepts(&cr(0, 1023, 5000)));
        assert!(r.accepts(&cr(0, 99, 100)));
        assert!(!r.accepts(&cr(1, 1023, 5000)));
        let r = ByteRange::suffix(10);
        assert!(r.accepts(&cr(90, 99, 100)));
        assert!(!r.accepts(&cr(89, 99, 100)));
        assert!(ByteRange::from(5..5).header_value().is_err());
        assert_eq!(ByteRange::from(100..).header_value().unwrap(), "bytes=100-");
    }
}
