//! UploadPartCopy: one part of a multipart upload copied server-side from a range of an
//! existing object.

use super::MAX_XML_BODY;
use super::multipart::{MAX_PARTS, MultipartUpload};
use super::sse::{ExtraHeaders, scope};
use crate::error::{Error, Result};
use crate::headers::{header_string, request_id};
use crate::request::{OpRequest, validate_bucket, validate_header_value, validate_key};
use crate::signing::encode_path;
use crate::types::PartInfo;
use crate::xml;
use http::Method;
use std::borrow::Cow;
use std::time::SystemTime;

/// Copies a byte range of an existing object into one part of a multipart upload. Built by
/// [`MultipartUpload::upload_part_copy`]; await it.
///
/// The part is recorded in the upload's part list like one sent with
/// [`upload_part`](MultipartUpload::upload_part), so [`complete`](MultipartUpload::complete)
/// lists it. A `200` answer whose body is an `<Error>` document is a failure, as S3
/// documents for this call.
/// See the [UploadPartCopy API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a part number outside
/// 1 ..= 10,000, an empty or reversed range, or a bad source bucket or key;
/// [`ErrorKind::PreconditionFailed`](crate::ErrorKind::PreconditionFailed) when the source no
/// longer has the entity tag given to [`source_if_match`](Self::source_if_match);
/// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for an answer without an
/// ETag; otherwise the service's error (also inside a `200`). The error carries the upload id.
///
/// # Cancel safety
///
/// Dropping the future may leave the part copied or not; the upload stays open.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct UploadPartCopy {
    upload: MultipartUpload,
    part_number: u32,
    source_bucket: String,
    source_key: String,
    /// First and last byte (inclusive) of the source to copy.
    range: Option<(u64, u64)>,
    source_if_match: Option<String>,
    extra: ExtraHeaders,
    source_version_id: Option<String>,
}

/// What UploadPartCopy returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadPartCopyOutput {
    /// The part as the completion lists it (number, ETag, size of the range when known).
    pub part: PartInfo,
    /// When the part was written, as the service reports it.
    pub last_modified: Option<SystemTime>,
    /// The version of the source that was copied, for versioned buckets.
    pub copy_source_version_id: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl MultipartUpload {
    /// Copies (a range of) `source_key` in `source_bucket` into part `part_number` of this
    /// upload. Without [`range`](UploadPartCopy::range) the whole source is copied (S3 allows
    /// up to 5 GiB per part).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let upload = bucket.create_multipart_upload("joined.bin").await?;
    /// upload.upload_part_copy(1, bucket.name(), "a.bin").range(0, 5 * 1024 * 1024 - 1).await?;
    /// upload.upload_part_copy(2, bucket.name(), "b.bin").await?;
    /// upload.complete().await?;
    /// # Ok(()) }
    /// ```
    pub fn upload_part_copy(
        &self,
        part_number: u32,
        source_bucket: impl Into<String>,
        source_key: impl Into<String>,
    ) -> UploadPartCopy {
        UploadPartCopy {
            upload: self.clone(),
            part_number,
            source_bucket: source_bucket.into(),
            source_key: source_key.into(),
            range: None,
            source_if_match: None,
            extra: ExtraHeaders::default(),
            source_version_id: None,
        }
    }
}

/// The `x-amz-copy-source` value: `/<bucket>/<key>`, each percent-encoded as in a path, and
/// `?versionId=<version>` for a version.
pub(crate) fn copy_source_value(bucket: &str, key: &str, version: Option<&str>) -> Result<String> {
    validate_bucket(bucket)?;
    validate_key(key)?;
    let mut source = String::with_capacity(bucket.len() + key.len() * 3 + 2);
    source.push('/');
    encode_path(&mut source, bucket);
    source.push('/');
    encode_path(&mut source, key);
    if let Some(v) = version {
        source.push_str("?versionId=");
        crate::signing::encode_query_component(&mut source, v);
    }
    Ok(source)
}

/// The most bytes one UploadPartCopy copies: 5 GiB.
const MAX_COPY_PART: u64 = 5 << 30;

impl UploadPartCopy {
    /// Copies bytes `first ..= last` of the source (`x-amz-copy-source-range`) instead of the
    /// whole object. At most 5 GiB: a longer range is an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before sending.
    pub fn range(mut self, first: u64, last: u64) -> Self {
        self.range = Some((first, last));
        self
    }

    /// Copies only if the source still has this entity tag (`x-amz-copy-source-if-match`),
    /// so that every part of a copy comes from the same version of the source.
    pub fn source_if_match(mut self, etag: impl Into<String>) -> Self {
        self.source_if_match = Some(etag.into());
        self
    }

    /// Copies from this version of the source (`x-amz-copy-source: …?versionId=`).
    pub fn source_version_id(mut self, v: impl Into<String>) -> Self {
        self.source_version_id = Some(v.into());
        self
    }

    /// Adds option headers prepared by another builder (the copy engine's).
    pub(crate) fn with_extra(mut self, extra: &ExtraHeaders) -> Self {
        self.extra.merge(extra);
        self
    }

    // encryption, request payer
    super::sse::extra_setters!(extra => copy_source_sse_customer_key, request_payer);

    async fn send(self) -> Result<UploadPartCopyOutput> {
        let upload = &self.upload;
        let ctx = |e: Error| {
            e.with_context(
                "UploadPartCopy",
                Some(upload.bucket().name()),
                Some(upload.key()),
            )
            .with_upload_id(upload.upload_id())
        };
        if !(1..=MAX_PARTS).contains(&self.part_number) {
            return Err(ctx(Error::invalid_input(format!(
                "part number {} is outside 1 ..= {MAX_PARTS}",
                self.part_number
            ))));
        }
        let version = self.source_version_id.as_deref();
        let source = copy_source_value(&self.source_bucket, &self.source_key, version);
        let source = source.map_err(ctx)?;
        let mut headers: Vec<(Cow<'static, str>, String)> =
            vec![("x-amz-copy-source".into(), source)];
        if let Some((first, last)) = self.range {
            if last < first {
                return Err(ctx(Error::invalid_input(format!(
                    "copy range {first}-{last} ends before it starts"
                ))));
            }
            if last - first >= MAX_COPY_PART {
                return Err(ctx(Error::invalid_input(format!(
                    "copy range {first}-{last} is over 5 GiB, the most one part copies"
                ))));
            }
            headers.push((
                "x-amz-copy-source-range".into(),
                format!("bytes={first}-{last}"),
            ));
        }
        if let Some(etag) = &self.source_if_match {
            validate_header_value("x-amz-copy-source-if-match", etag).map_err(ctx)?;
            headers.push(("x-amz-copy-source-if-match".into(), etag.clone()));
        }
        self.extra.validate().map_err(ctx)?;
        // One value per header: the upload's options, then this request's over them.
        let mut extra = upload.extra().clone();
        extra.merge(&self.extra);
        headers.extend(extra.headers(scope::PART));
        let number = self.part_number.to_string();
        let req = OpRequest::new("UploadPartCopy", Method::PUT)
            .bucket(upload.bucket().name())
            .key(upload.key())
            .query([
                ("partNumber", number.as_str()),
                ("uploadId", upload.upload_id()),
            ])
            .headers(headers)
            .error_in_200();
        let resp = upload.bucket().execute(req).await.map_err(ctx)?;
        let copy_source_version_id = header_string(&resp.headers, "x-amz-copy-source-version-id");
        let rid = request_id(&resp.headers);
        let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
        let parsed = xml::parse_copy_object_result(&body)
            .map_err(|e| ctx(Error::invalid_response("malformed CopyPartResult").with_source(e)))?;
        let etag = parsed
            .etag
            .ok_or_else(|| ctx(Error::invalid_response("CopyPartResult has no ETag")))?;
        let size = self.range.map_or(0, |(first, last)| last - first + 1);
        let mut part = PartInfo::new(self.part_number, etag).with_size(size);
        // The part's checksum, for an upload created with an algorithm: the completion
        // lists it and combines the object's from it.
        part.checksum = parsed
            .checksum
            .filter(|(alg, _)| upload.checksum_algorithm() == Some(*alg));
        upload.record_part(part.clone());
        Ok(UploadPartCopyOutput {
            part,
            last_modified: parsed.last_modified,
            copy_source_version_id,
            request_id: rid,
        })
    }
}

super::into_future!(UploadPartCopy => UploadPartCopyOutput);
