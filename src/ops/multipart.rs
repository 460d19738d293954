//! Multipart uploads, by hand: create, upload parts (concurrently if you like), list, complete
//! or abort. The transfer engine (`Bucket::upload`) drives the same calls automatically.

use super::MAX_XML_BODY;
use super::integrity::{body_checksum, check_echo};
use super::meta::{ObjectHeaders, object_header_setters};
use super::sse::{ExtraHeaders, scope};
use crate::body::Body;
use crate::checksum::{ChecksumAlgorithm, ChecksumChoice, ChecksumType};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::headers::header_string;
use crate::request::OpRequest;
use crate::types::PartInfo;
use crate::xml;
use http::Method;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The highest part number S3 accepts.
pub const MAX_PARTS: u32 = 10_000;

/// Starts a multipart upload. Built by [`Bucket::create_multipart_upload`]; await it for a
/// [`MultipartUpload`] handle.
///
/// See the [CreateMultipartUpload API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a bad key or header, or the
/// service's error.
///
/// # Cancel safety
///
/// If dropped after the request was sent, an upload may have been created that nobody will
/// complete; S3 lifecycle rules (`AbortIncompleteMultipartUpload`) clean those up.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct CreateMultipartUpload {
    bucket: Bucket,
    key: String,
    headers: ObjectHeaders,
    checksum: ChecksumChoice,
    checksum_type: Option<ChecksumType>,
}

impl Bucket {
    /// Starts a multipart upload to `key`, with the object's headers set here.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let upload = bucket.create_multipart_upload("big.bin").content_type("application/octet-stream").await?;
    /// let (a, b) = tokio::join!(
    ///     upload.upload_part(1, vec![1u8; 5 << 20]),
    ///     upload.upload_part(2, vec![2u8; 1024]),
    /// );
    /// if let Err(e) = a.and(b) {
    ///     upload.abort().await?;
    ///     return Err(e);
    /// }
    /// upload.complete().await?; // completes with every part uploaded through this handle
    /// # Ok(()) }
    /// ```
    pub fn create_multipart_upload(&self, key: impl Into<String>) -> CreateMultipartUpload {
        CreateMultipartUpload {
            bucket: self.clone(),
            key: key.into(),
            headers: ObjectHeaders::default(),
            checksum: self.default_checksum(),
            checksum_type: None,
        }
    }

    /// A handle on a multipart upload created earlier (to resume, list, complete or abort it).
    ///
    /// The handle does not know the upload's checksum algorithm; for an upload created with
    /// one, add it with [`MultipartUpload::with_checksum`] before uploading more parts.
    pub fn multipart_upload(
        &self,
        key: impl Into<String>,
        upload_id: impl Into<String>,
    ) -> MultipartUpload {
        MultipartUpload::new(
            self.clone(),
            key.into(),
            upload_id.into(),
            ExtraHeaders::default(),
        )
    }
}

impl CreateMultipartUpload {
    object_header_setters!();

    pub(crate) fn with_headers(mut self, headers: ObjectHeaders) -> Self {
        self.headers = headers;
        self
    }

    /// The checksum every part carries (`None`: none, whatever the client's default
    /// [`ClientBuilder::request_checksum`](crate::ClientBuilder::request_checksum) says).
    ///
    /// With an `x-amz-checksum-*` algorithm the upload is created with
    /// `x-amz-checksum-algorithm` and `x-amz-checksum-type`; each
    /// [`upload_part`](MultipartUpload::upload_part) then computes and sends its part's
    /// checksum (a file part is read once more for it), and
    /// [`complete`](MultipartUpload::complete) lists them and checks the object's checksum
    /// the service reports. With [`ChecksumAlgorithm::ContentMd5`] each part carries
    /// `Content-MD5`, and there is no object checksum.
    pub fn checksum(mut self, algorithm: impl Into<Option<ChecksumAlgorithm>>) -> Self {
        self.checksum = ChecksumChoice::set(algorithm.into());
        self
    }

    /// How the parts' checksums make the object's (default: [`ChecksumType::FullObject`]
    /// for CRCs, [`ChecksumType::Composite`] for SHA-1 and SHA-256, the only kinds S3 offers
    /// them in).
    pub fn checksum_type(mut self, ty: ChecksumType) -> Self {
        self.checksum_type = Some(ty);
        self
    }

    pub(crate) fn with_checksum(
        mut self,
        checksum: ChecksumChoice,
        ty: Option<ChecksumType>,
    ) -> Self {
        self.checksum = checksum;
        self.checksum_type = ty;
        self
    }

    async fn send(self) -> Result<MultipartUpload> {
        let ctx = |e: Error| {
            e.with_context(
                "CreateMultipartUpload",
                Some(&self.bucket.name),
                Some(&self.key),
            )
        };
        let mut headers = self.headers.to_headers().map_err(ctx)?;
        let checksum =
            resolve_checksum(self.checksum.algorithm, self.checksum_type).map_err(ctx)?;
        if let Some((alg, Some(ty))) = checksum
            && let Some(name) = alg.amz_name()
        {
            headers.push(("x-amz-checksum-algorithm".into(), name.to_owned()));
            headers.push(("x-amz-checksum-type".into(), ty.header_value().to_owned()));
        }
        let req = OpRequest::new("CreateMultipartUpload", Method::POST)
            .bucket(&self.bucket.name)
            .key(&self.key)
            .query([("uploads", "")])
            .headers(headers)
            // A second CreateMultipartUpload would open a second upload nobody aborts.
            .not_idempotent();
        let resp = self.bucket.execute(req).await?;
        let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
        let upload_id = xml::parse_initiate_multipart(&body).map_err(|e| {
            ctx(Error::invalid_response("malformed InitiateMultipartUploadResult").with_source(e))
        })?;
        let upload = MultipartUpload::new(self.bucket, self.key, upload_id, self.headers.extra);
        Ok(match checksum {
            Some((alg, ty)) => upload.with_checksum(alg, ty),
            None => upload,
        })
    }

    // versioning and tagging
    super::tagging::tagging_setter!();
}

/// Validates an algorithm and kind of multipart checksum, filling in the default kind.
pub(crate) fn resolve_checksum(
    alg: Option<ChecksumAlgorithm>,
    ty: Option<ChecksumType>,
) -> Result<Option<(ChecksumAlgorithm, Option<ChecksumType>)>> {
    let Some(alg) = alg else {
        return Ok(None);
    };
    match (ty, alg.default_type()) {
        (Some(_), None) => Err(Error::invalid_input(
            "Content-MD5 is checked part by part; there is no object checksum to give a type",
        )),
        (Some(ty), Some(_)) if !alg.supports(ty) => Err(Error::invalid_input(format!(
            "S3 offers no {} checksum with {alg:?}",
            ty.header_value()
        ))),
        (Some(ty), Some(_)) => Ok(Some((alg, Some(ty)))),
        (None, default) => Ok(Some((alg, default))),
    }
}

super::into_future!(CreateMultipartUpload => MultipartUpload);

/// A multipart upload in progress. Cheap to clone; clones share the record of uploaded parts,
/// so parts can be uploaded from many tasks and the upload completed from any of them.
///
/// Nothing is aborted automatically when the handle is dropped: call
/// [`abort`](Self::abort), or use the transfer engine, which does.
#[derive(Clone)]
pub struct MultipartUpload {
    inner: Arc<Inner>,
}

struct Inner {
    bucket: Bucket,
    key: String,
    upload_id: String,
    /// The checksum every part carries, and how they make the object's.
    checksum: Option<(ChecksumAlgorithm, Option<ChecksumType>)>,
    parts: Mutex<BTreeMap<u32, PartInfo>>,
    /// Headers of the options the upload was created with (SSE-C key, request payer, the
    /// completion's conditions), each sent on the steps it belongs to.
    extra: ExtraHeaders,
}

impl fmt::Debug for MultipartUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartUpload")
            .field("bucket", &self.inner.bucket.name())
            .field("key", &self.inner.key)
            .field("upload_id", &self.inner.upload_id)
            .field("checksum", &self.inner.checksum)
            .finish_non_exhaustive()
    }
}

impl MultipartUpload {
    pub(crate) fn new(bucket: Bucket, key: String, upload_id: String, extra: ExtraHeaders) -> Self {
        Self {
            inner: Arc::new(Inner {
                bucket,
                key,
                upload_id,
                checksum: None,
                parts: Mutex::new(BTreeMap::new()),
                extra,
            }),
        }
    }

    /// A handle on the same upload whose parts carry `algorithm`'s checksum, for an upload
    /// resumed with [`Bucket::multipart_upload`] that was created with one (`ty`: how the
    /// parts make the object's checksum, when known). The new handle starts a fresh record
    /// of uploaded parts.
    #[must_use]
    pub fn with_checksum(&self, algorithm: ChecksumAlgorithm, ty: Option<ChecksumType>) -> Self {
        Self {
            inner: Arc::new(Inner {
                bucket: self.inner.bucket.clone(),
                key: self.inner.key.clone(),
                upload_id: self.inner.upload_id.clone(),
                checksum: Some((algorithm, ty)),
                parts: Mutex::new(BTreeMap::new()),
                extra: self.inner.extra.clone(),
            }),
        }
    }

    /// The checksum algorithm every part carries, when the upload has one.
    pub fn checksum_algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.inner.checksum.map(|(a, _)| a)
    }

    /// The upload id.
    pub fn upload_id(&self) -> &str {
        &self.inner.upload_id
    }

    /// The key the object will have.
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.inner.bucket
    }

    pub(super) fn ctx(&self, operation: &'static str) -> impl Fn(Error) -> Error + '_ {
        move |e: Error| {
            e.with_context(
                operation,
                Some(self.inner.bucket.name()),
                Some(&self.inner.key),
            )
            .with_upload_id(self.inner.upload_id.clone())
        }
    }

    /// Uploads part `part_number` (1 to 10,000). Every part but the last must be at least
    /// 5 MiB. Uploading the same number again replaces the part.
    ///
    /// When the upload has a checksum algorithm, the part's checksum is computed first (a
    /// file part is read once for it, then streamed from disk again as it is sent) and sent
    /// with it; the service refuses a part that arrives damaged.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a part number out of
    /// range, or a stream body when the upload has a checksum;
    /// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) when the
    /// answer has no ETag; [`ErrorKind::ChecksumMismatch`](crate::ErrorKind::ChecksumMismatch) when the answer reports another
    /// checksum than the one sent; otherwise the service's error. The error carries the
    /// upload id.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the part uploaded or not; the upload stays open.
    pub async fn upload_part(&self, part_number: u32, body: impl Into<Body>) -> Result<PartInfo> {
        let ctx = self.ctx("UploadPart");
        if !(1..=MAX_PARTS).contains(&part_number) {
            return Err(ctx(Error::invalid_input(format!(
                "part number {part_number} is outside 1 ..= {MAX_PARTS}"
            ))));
        }
        let body = body.into();
        let number = part_number.to_string();
        let mut checksum = None;
        let mut size = body.known_len();
        if let Some((alg, _)) = self.inner.checksum {
            let (value, len) = body_checksum(&body, alg).await.map_err(&ctx)?;
            size = Some(len);
            checksum = Some((alg, value));
        }
        let mut req = OpRequest::new("UploadPart", Method::PUT)
            .bucket(self.inner.bucket.name())
            .key(&self.inner.key)
            .query([
                ("partNumber", number.as_str()),
                ("uploadId", self.inner.upload_id.as_str()),
            ])
            .body(body);
        req = self.inner.extra.apply(req, scope::PART);
        if let Some((alg, value)) = &checksum {
            req = req.header(alg.header_name(), value.clone());
            // As the AWS SDKs send it: some stores record the checksum only with it.
            if let Some(name) = alg.amz_name() {
                req = req.header("x-amz-sdk-checksum-algorithm", name);
            }
        }
        let resp = self.inner.bucket.execute(req).await.map_err(&ctx)?;
        if let Some((alg, value)) = &checksum {
            check_echo(&resp.headers, *alg, value).map_err(&ctx)?;
        }
        let etag = header_string(&resp.headers, "etag")
            .ok_or_else(|| ctx(Error::invalid_response("UploadPart answer has no ETag")))?;
        let mut part = PartInfo::new(part_number, etag).with_size(size.unwrap_or(0));
        part.checksum = checksum;
        self.inner
            .parts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(part_number, part.clone());
        Ok(part)
    }

    /// The parts uploaded through this handle (and its clones) so far, in part order.
    pub fn uploaded_parts(&self) -> Vec<PartInfo> {
        self.inner
            .parts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Lists the parts the service holds for this upload (all pages), in part order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) (`NoSuchUpload`) once the upload
    /// was completed or aborted; otherwise the service's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn list_parts(&self) -> Result<Vec<PartInfo>> {
        let ctx = self.ctx("ListParts");
        let mut parts = Vec::new();
        let mut marker: Option<u32> = None;
        loop {
            let marker_s = marker.map(|m| m.to_string());
            let params = [
                Some(("uploadId", self.inner.upload_id.as_str())),
                marker_s.as_deref().map(|m| ("part-number-marker", m)),
            ];
            let req = OpRequest::new("ListParts", Method::GET)
                .bucket(self.inner.bucket.name())
                .key(&self.inner.key)
                .query(params.into_iter().flatten());
            let req = self.inner.extra.apply(req, scope::LIST);
            let resp = self.inner.bucket.execute(req).await.map_err(&ctx)?;
            let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(&ctx)?;
            let page = xml::parse_list_parts(&body).map_err(|e| {
                ctx(Error::invalid_response("malformed ListPartsResult").with_source(e))
            })?;
            parts.extend(page.parts);
            match (page.is_truncated, page.next_part_number_marker) {
                (true, Some(m)) if marker.is_none_or(|old| m > old) => marker = Some(m),
                (true, _) => {
                    return Err(ctx(Error::invalid_response(
                        "ListParts pagination does not advance",
                    )));
                }
                (false, _) => {
                    // S3 lists in part order; not every store does.
                    parts.sort_by_key(|p| p.part_number);
                    return Ok(parts);
                }
            }
        }
    }

    /// Aborts the upload: the service drops every part.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) (`NoSuchUpload`) when the upload was
    /// already completed or aborted; otherwise the service's error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the upload open.
    pub async fn abort(&self) -> Result<()> {
        let ctx = self.ctx("AbortMultipartUpload");
        let req = OpRequest::new("AbortMultipartUpload", Method::DELETE)
            .bucket(self.inner.bucket.name())
            .key(&self.inner.key)
            .query([("uploadId", self.inner.upload_id.as_str())]);
        let req = self.inner.extra.apply(req, scope::ABORT);
        match self.inner.bucket.execute(req).await {
            Ok(_) => {
                tracing::info!(
                    target: "async_s3::multipart",
                    bucket = self.inner.bucket.name(),
                    key = self.inner.key.as_str(),
                    upload_id = self.inner.upload_id.as_str(),
                    "multipart upload aborted"
                );
                Ok(())
            }
            Err(e) => {
                tracing::warn!(
                    target: "async_s3::multipart",
                    bucket = self.inner.bucket.name(),
                    key = self.inner.key.as_str(),
                    upload_id = self.inner.upload_id.as_str(),
                    error = %e,
                    "aborting a multipart upload failed"
                );
                Err(ctx(e))
            }
        }
    }

    // server-side copy
    /// Records a part sent by another operation (UploadPartCopy), so `complete` lists it.
    pub(crate) fn record_part(&self, part: PartInfo) {
        let mut parts = self.inner.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.insert(part.part_number, part);
    }

    /// The checksum every part carries, and how they make the object's.
    pub(super) fn checksum_setting(&self) -> Option<(ChecksumAlgorithm, Option<ChecksumType>)> {
        self.inner.checksum
    }

    /// The headers of the options the upload was created with.
    pub(crate) fn extra(&self) -> &ExtraHeaders {
        &self.inner.extra
    }

    /// A handle on the same upload with `extra`'s headers added (a fresh record of parts).
    pub(crate) fn with_extra(&self, extra: &ExtraHeaders) -> Self {
        let mut merged = self.inner.extra.clone();
        merged.merge(extra);
        let (bucket, key, id) = (
            self.inner.bucket.clone(),
            self.inner.key.clone(),
            self.inner.upload_id.clone(),
        );
        let mut handle = Self::new(bucket, key, id, merged);
        if let Some((alg, ty)) = self.inner.checksum {
            handle = handle.with_checksum(alg, ty);
        }
        handle
    }
}
