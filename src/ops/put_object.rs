//! PutObject: upload an object in one request.

use super::integrity::{body_checksum, check_echo};
use super::meta::{ObjectHeaders, object_header_setters};
use crate::body::Body;
use crate::body::BodyKind;
use crate::checksum::{ChecksumAlgorithm, ChecksumChoice};
use crate::client::Bucket;
use crate::error::Result;
use crate::headers::{header_string, request_id};
use crate::request::OpRequest;
use http::Method;

/// Uploads an object in a single request. Built by [`Bucket::put_object`]; await it.
///
/// See the [PutObject API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html).
///
/// # Errors
///
/// [`ErrorKind::PreconditionFailed`](crate::ErrorKind::PreconditionFailed) when
/// [`if_none_match_any`](Self::if_none_match_any) was set and the key exists;
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a bad key or header;
/// [`ErrorKind::Io`](crate::ErrorKind::Io) when a file body cannot be read;
/// [`ErrorKind::ChecksumMismatch`](crate::ErrorKind::ChecksumMismatch) when the answer
/// reports another checksum than the one sent; otherwise the service's error (`BadDigest`
/// when the body arrived damaged and the store checked it).
///
/// # Cancel safety
///
/// Dropping the future abandons the request; the object is then either fully written or not
/// at all (S3 writes are atomic).
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct PutObject {
    bucket: Bucket,
    key: String,
    body: Body,
    headers: ObjectHeaders,
    if_none_match: Option<String>,
    if_match: Option<String>,
    checksum: ChecksumChoice,
}

/// What PutObject returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutObjectOutput {
    /// The entity tag of the new object, quotes included.
    pub etag: Option<String>,
    /// The version id, for versioned buckets.
    pub version_id: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
    /// The checksum sent with the body, when there was one (for a stream body, the value
    /// computed while it was sent and sent as a trailer).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

impl Bucket {
    /// Uploads `body` to `key` in one request (up to 5 GiB; prefer the transfer engine for
    /// large files).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.put_object("notes/today.txt", "hello").content_type("text/plain").await?;
    /// # Ok(()) }
    /// ```
    pub fn put_object(&self, key: impl Into<String>, body: impl Into<Body>) -> PutObject {
        PutObject {
            bucket: self.clone(),
            key: key.into(),
            body: body.into(),
            headers: ObjectHeaders::default(),
            if_none_match: None,
            if_match: None,
            checksum: self.default_checksum(),
        }
    }
}

impl PutObject {
    object_header_setters!();

    pub(crate) fn with_headers(mut self, headers: ObjectHeaders) -> Self {
        self.headers = headers;
        self
    }

    pub(crate) fn with_checksum(mut self, checksum: ChecksumChoice) -> Self {
        self.checksum = checksum;
        self
    }

    /// Writes only if no object exists under the key (`If-None-Match: *`).
    pub fn if_none_match_any(mut self) -> Self {
        self.if_none_match = Some("*".to_owned());
        self
    }

    /// Sends a checksum of the body for the service to verify (`x-amz-checksum-*` or
    /// `Content-MD5`); a body that arrives damaged is refused (`BadDigest`) instead of stored.
    /// `None` sends none, whatever the client's default
    /// ([`ClientBuilder::request_checksum`](crate::ClientBuilder::request_checksum)).
    ///
    /// For a body in memory or a file the checksum is computed before sending (a file is read
    /// once more) and sent as a header. A stream body is read once only, so a checksum asked
    /// for here is computed while it is sent and follows it as a trailing header (aws-chunked
    /// with a trailer); `ContentMd5` cannot be sent that way and is an `InvalidInput` error
    /// for a stream body. The client's default is not applied to stream bodies (trailers are
    /// the form of checksum the fewest S3-compatible stores accept).
    pub fn checksum(mut self, algorithm: impl Into<Option<ChecksumAlgorithm>>) -> Self {
        self.checksum = ChecksumChoice::set(algorithm.into());
        self
    }

    /// Writes only if the current object has this entity tag (`If-Match`).
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    async fn send(self) -> Result<PutObjectOutput> {
        let ctx =
            |e: crate::Error| e.with_context("PutObject", Some(&self.bucket.name), Some(&self.key));
        let mut headers = self.headers.to_headers().map_err(ctx)?;
        // A conditional write that reached the server would fail its own retry (412).
        let conditional = self.if_none_match.is_some() || self.if_match.is_some();
        if let Some(v) = self.if_none_match {
            headers.push(("if-none-match".into(), v));
        }
        if let Some(v) = self.if_match {
            headers.push(("if-match".into(), v));
        }
        let stream = matches!(self.body.kind, BodyKind::Stream { .. });
        let mut trailer = None;
        let checksum = match self.checksum.algorithm {
            // The client's default does not apply to a body that can be read only once.
            Some(_) if stream && !self.checksum.explicit => None,
            Some(ChecksumAlgorithm::ContentMd5) if stream => {
                return Err(ctx(crate::Error::invalid_input(
                    "Content-MD5 must be known before a stream body is sent; choose a CRC, sent after the body",
                )));
            }
            // Computed on the way, sent as a trailer: what the store echoes is reported.
            Some(alg) if stream => {
                trailer = Some(alg);
                None
            }
            Some(alg) => {
                let (value, _) = body_checksum(&self.body, alg).await.map_err(ctx)?;
                headers.push((alg.header_name().into(), value.clone()));
                // As the AWS SDKs send it: some stores record the checksum only with it.
                if let Some(name) = alg.amz_name() {
                    headers.push(("x-amz-sdk-checksum-algorithm".into(), name.into()));
                }
                Some((alg, value))
            }
            None => None,
        };
        let mut req = OpRequest::new("PutObject", Method::PUT)
            .bucket(&self.bucket.name)
            .key(&self.key)
            .headers(headers)
            .body(self.body);
        req.trailer_checksum = trailer;
        if conditional {
            req = req.not_idempotent();
        }
        let resp = self.bucket.execute(req).await?;
        if let Some((alg, sent)) = &checksum {
            check_echo(&resp.headers, *alg, sent).map_err(ctx)?;
        }
        // A checksum sent as a trailer is checked against the echo like any other.
        let checksum = match (checksum, trailer) {
            (Some(c), _) => Some(c),
            (None, Some(alg)) => {
                let sent = resp.trailer_checksum.clone().ok_or_else(|| {
                    ctx(crate::Error::invalid_response(
                        "the trailing checksum was never computed",
                    ))
                })?;
                check_echo(&resp.headers, alg, &sent).map_err(ctx)?;
                Some((alg, sent))
            }
            (None, None) => None,
        };
        Ok(PutObjectOutput {
            etag: header_string(&resp.headers, "etag"),
            version_id: header_string(&resp.headers, "x-amz-version-id"),
            request_id: request_id(&resp.headers),
            checksum,
        })
    }

    // versioning and tagging
    super::tagging::tagging_setter!();
}

super::into_future!(PutObject => PutObjectOutput);
