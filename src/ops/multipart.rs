//! Multipart uploads, by hand: create, upload parts (concurrently if you like), list, complete
//! or abort. The transfer engine (`Bucket::upload`) drives the same calls automatically.

use super::MAX_XML_BODY;
use super::meta::{ObjectHeaders, header_string, object_header_setters, request_id};
use crate::body::Body;
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::request::OpRequest;
use crate::types::PartInfo;
use crate::xml;
use http::Method;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The ETag S3 gives an object completed from `parts` (sorted), when every part ETag is a
/// plain MD5: `hex(md5(md5_1 ‖ … ‖ md5_n))-n`.
pub(crate) fn expected_multipart_etag(parts: &[PartInfo]) -> Option<String> {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for p in parts {
        let hexed = p.etag.trim_matches('"');
        if hexed.len() != 32 {
            return None;
        }
        h.update(hex::decode(hexed).ok()?);
    }
    Some(format!("{}-{}", hex::encode(h.finalize()), parts.len()))
}

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
        }
    }

    /// A handle on a multipart upload created earlier (to resume, list, complete or abort it).
    pub fn multipart_upload(
        &self,
        key: impl Into<String>,
        upload_id: impl Into<String>,
    ) -> MultipartUpload {
        MultipartUpload::new(self.clone(), key.into(), upload_id.into())
    }
}

impl CreateMultipartUpload {
    object_header_setters!();

    pub(crate) fn with_headers(mut self, headers: ObjectHeaders) -> Self {
        self.headers = headers;
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
        let headers = self.headers.to_headers().map_err(ctx)?;
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
        Ok(MultipartUpload::new(self.bucket, self.key, upload_id))
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
    parts: Mutex<BTreeMap<u32, PartInfo>>,
}

impl fmt::Debug for MultipartUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartUpload")
            .field("bucket", &self.inner.bucket.name())
            .field("key", &self.inner.key)
            .field("upload_id", &self.inner.upload_id)
            .finish_non_exhaustive()
    }
}

/// What CompleteMultipartUpload returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompleteMultipartUploadOutput {
    /// The new object's entity tag (for multipart objects, `"<md5 of md5s>-<parts>"` on AWS).
    pub etag: Option<String>,
    /// The object's URL, as the service reports it.
    pub location: Option<String>,
    /// The version id, for versioned buckets.
    pub version_id: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl MultipartUpload {
    fn new(bucket: Bucket, key: String, upload_id: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                bucket,
                key,
                upload_id,
                parts: Mutex::new(BTreeMap::new()),
            }),
        }
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

    fn ctx(&self, operation: &'static str) -> impl Fn(Error) -> Error + '_ {
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
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a part number out of
    /// range; [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) when the
    /// answer has no ETag; otherwise the service's error. The error carries the upload id.
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
        let req = OpRequest::new("UploadPart", Method::PUT)
            .bucket(self.inner.bucket.name())
            .key(&self.inner.key)
            .query([
                ("partNumber", number.as_str()),
                ("uploadId", self.inner.upload_id.as_str()),
            ])
            .body(body);
        let size = req.body.known_len();
        let resp = self.inner.bucket.execute(req).await.map_err(&ctx)?;
        let etag = header_string(&resp.headers, "etag")
            .ok_or_else(|| ctx(Error::invalid_response("UploadPart answer has no ETag")))?;
        let part = PartInfo {
            part_number,
            etag,
            size: size.unwrap_or(0),
        };
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

    /// Completes the upload with every part uploaded through this handle.
    ///
    /// # Errors
    ///
    /// See [`complete_with`](Self::complete_with).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the object completed or the upload still open.
    pub async fn complete(&self) -> Result<CompleteMultipartUploadOutput> {
        self.complete_with(self.uploaded_parts()).await
    }

    /// Completes the upload with exactly these parts (sorted here by part number).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for no parts or a part
    /// number listed twice; the service's error otherwise, including one that arrives inside a
    /// `200` answer, as S3 documents for this call. When a retry finds the upload gone
    /// (`NoSuchUpload`) because an earlier attempt completed it, the object under the key is
    /// checked (part count in its ETag, and size) and success is reported only if it matches.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the object completed or the upload still open.
    pub async fn complete_with(
        &self,
        mut parts: Vec<PartInfo>,
    ) -> Result<CompleteMultipartUploadOutput> {
        let ctx = self.ctx("CompleteMultipartUpload");
        parts.sort_by_key(|p| p.part_number);
        if parts.is_empty() {
            return Err(ctx(Error::invalid_input(
                "cannot complete an upload with no parts",
            )));
        }
        if let Some(p) = parts.iter().find(|p| p.etag.is_empty()) {
            return Err(ctx(Error::invalid_input(format!(
                "part {} has no ETag (the store did not list one)",
                p.part_number
            ))));
        }
        if let Some(w) = parts
            .windows(2)
            .find(|w| w[0].part_number == w[1].part_number)
        {
            return Err(ctx(Error::invalid_input(format!(
                "part {} is listed twice",
                w[0].part_number
            ))));
        }
        let body = xml::write_complete_multipart(&parts);
        let req = OpRequest::new("CompleteMultipartUpload", Method::POST)
            .bucket(self.inner.bucket.name())
            .key(&self.inner.key)
            .query([("uploadId", self.inner.upload_id.as_str())])
            .header("content-type", "application/xml")
            .body(body.into())
            .error_in_200();
        let resp = match self.inner.bucket.execute(req).await {
            Ok(r) => r,
            // A retry found no upload: an earlier attempt may have completed it and only its
            // answer was lost (TEST-PLAN U7). Success only if the object is the one we built.
            Err(e) if e.s3_code() == Some("NoSuchUpload") && e.attempts() > 1 => {
                return self.confirm_completed(&parts).await.ok_or_else(|| ctx(e));
            }
            Err(e) => return Err(ctx(e)),
        };
        let version_id = header_string(&resp.headers, "x-amz-version-id");
        let rid = request_id(&resp.headers);
        let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(&ctx)?;
        let done = xml::parse_complete_multipart(&body).map_err(|e| {
            ctx(Error::invalid_response("malformed CompleteMultipartUploadResult").with_source(e))
        })?;
        Ok(CompleteMultipartUploadOutput {
            etag: done.etag,
            location: done.location,
            version_id,
            request_id: rid,
        })
    }

    /// After a lost Complete answer: whether the key now holds the object these parts make.
    ///
    /// S3's multipart ETag is the MD5 of the parts' binary MD5s, then `-<count>`; it is
    /// computed here from the parts' ETags and must match exactly (and the size too, when
    /// the part sizes are known). Part ETags that are not plain MD5s (some stores, SSE-KMS)
    /// give no answer: then the error stands.
    async fn confirm_completed(&self, parts: &[PartInfo]) -> Option<CompleteMultipartUploadOutput> {
        let expected = expected_multipart_etag(parts)?;
        let meta = self
            .inner
            .bucket
            .head_object(self.inner.key.clone())
            .await
            .ok()?;
        let etag = meta.etag.clone()?;
        let sizes_known = parts.iter().all(|p| p.size > 0);
        let size_ok = !sizes_known || parts.iter().map(|p| p.size).sum::<u64>() == meta.size;
        (etag.trim_matches('"') == expected && size_ok).then_some(CompleteMultipartUploadOutput {
            etag: Some(etag),
            location: None,
            version_id: meta.version_id,
            request_id: meta.request_id,
        })
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
}
