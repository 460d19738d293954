//! Completing a multipart upload: the CompleteMultipartUpload request, the object checksum
//! the parts imply (sent and checked), and a completion whose answer was lost, confirmed from
//! the object under the key.

use super::MAX_XML_BODY;
use super::multipart::MultipartUpload;
use super::multipart_checksums::{ExpectedChecksums, expected_multipart_etag};
use super::sse::{ExtraHeaders, scope};
use crate::checksum::{
    ChecksumAlgorithm, ChecksumType, composite_from_parts, full_object_from_parts,
};
use crate::error::{Error, ErrorKind, Result};
use crate::headers::{header_string, request_id};
use crate::request::OpRequest;
use crate::types::PartInfo;
use crate::xml;
use http::Method;

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
    /// The object's checksum as computed from the parts' checksums (the full-object CRC for
    /// [`ChecksumType::FullObject`], `…-<parts>` for [`ChecksumType::Composite`]); when the
    /// service reported one, the two were found equal.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

impl MultipartUpload {
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
    /// (`NoSuchUpload`), or its write condition failing (412, for a conditional completion),
    /// because an earlier attempt completed it, the object under the key is checked (part
    /// count in its ETag, and size) and success is reported only if it matches.
    ///
    /// # Checksums
    ///
    /// Parts that carry checksums are listed with them. For a [`ChecksumType::FullObject`]
    /// upload the object's CRC is combined from the parts' CRCs (in part order, from their
    /// values and sizes, without reading data) and sent as `x-amz-checksum-<alg>`: a store
    /// that checks it refuses a mismatch (`BadDigest`) and the upload stays open, to be
    /// retried or aborted. When the answer reports the object's checksum, it is compared with
    /// the one computed from the parts (full-object, or composite for a `…-<parts>` value);
    /// a difference is [`ErrorKind::ChecksumMismatch`](crate::ErrorKind::ChecksumMismatch). The service has then already
    /// completed the upload: the key holds an object that is not what the parts say, and the
    /// upload id is spent. Nothing is deleted (the key may have held another writer's object
    /// by then); delete or upload the object again.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the object completed or the upload still open.
    pub async fn complete_with(
        &self,
        parts: Vec<PartInfo>,
    ) -> Result<CompleteMultipartUploadOutput> {
        self.complete_inner(parts, &ExtraHeaders::default()).await
    }

    /// Completes with `parts`, adding the finishing headers of `extra` (conditions).
    pub(crate) async fn complete_inner(
        &self,
        mut parts: Vec<PartInfo>,
        extra: &ExtraHeaders,
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
        let sums = self.expected_checksums(&parts);
        let mut req = OpRequest::new("CompleteMultipartUpload", Method::POST)
            .bucket(self.bucket().name())
            .key(self.key())
            .query([("uploadId", self.upload_id())])
            .header("content-type", "application/xml")
            .body(body.into())
            .error_in_200()
            .conflict_is_final();
        let mut finishing = self.extra().clone();
        finishing.merge(extra);
        req = finishing.apply(req, scope::FINISH);
        if let Some(sums) = &sums
            && sums.ty == Some(ChecksumType::FullObject)
            && let Some(full) = &sums.full
        {
            req = req
                .header(sums.alg.header_name(), full.clone())
                .header("x-amz-checksum-type", "FULL_OBJECT");
        }
        let resp = match self.bucket().execute(req).await {
            Ok(r) => r,
            // A retry found no upload, or (with a write condition) found the key written: an
            // earlier attempt may have completed it and only its answer was lost (TEST-PLAN
            // U7). Success only if the object is the one we built.
            Err(e)
                if e.attempts() > 1
                    && (e.s3_code() == Some("NoSuchUpload")
                        || e.kind() == ErrorKind::PreconditionFailed) =>
            {
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
        let checksum = match &sums {
            Some(sums) => sums.check(done.checksum.as_ref()).map_err(&ctx)?,
            None => None,
        };
        Ok(CompleteMultipartUploadOutput {
            etag: done.etag,
            location: done.location,
            version_id,
            request_id: rid,
            checksum,
        })
    }

    /// The object checksums the parts imply, when every part carries a checksum of the
    /// upload's algorithm (or, for a resumed handle, of one algorithm).
    fn expected_checksums(&self, parts: &[PartInfo]) -> Option<ExpectedChecksums> {
        let (alg, ty) = match self.checksum_setting() {
            Some(c) => c,
            None => (parts.first()?.checksum.as_ref()?.0, None),
        };
        alg.amz_name()?;
        let values = parts
            .iter()
            .map(|p| match &p.checksum {
                Some((a, v)) if *a == alg => Some(v.as_str()),
                _ => None,
            })
            .collect::<Option<Vec<&str>>>()?;
        // Combining CRCs needs every part's exact size; 0 means "not known" for all but a
        // single empty part.
        let sizes_known = parts.iter().all(|p| p.size > 0) || parts.len() == 1;
        // Both forms are computed (a digest over a few bytes per part), whatever the upload
        // asked for: a store that ignores `x-amz-checksum-type` answers with the other one.
        let full = sizes_known
            .then(|| {
                full_object_from_parts(
                    alg,
                    values.iter().copied().zip(parts.iter().map(|p| p.size)),
                )
            })
            .flatten();
        let composite = composite_from_parts(alg, values.iter().copied());
        Some(ExpectedChecksums {
            alg,
            ty,
            full,
            composite,
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
            .bucket()
            .head_object(self.key().to_owned())
            .with_extra(self.extra())
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
            checksum: None,
        })
    }
}
