//! CopyObject: copy an object server-side, keeping or replacing its metadata.

use super::meta::{ObjectHeaders, object_header_setters};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::headers::{header_string, request_id};
use crate::request::{OpRequest, validate_key};
use crate::signing::encode_path;
use crate::xml;
use http::Method;
use std::time::SystemTime;

/// Copies an object within S3 (up to 5 GiB). Built by [`Bucket::copy_object`]; await it.
///
/// Metadata is copied from the source unless a content header (`Content-Type`,
/// `Cache-Control`, …) or user metadata is set on the builder, in which case all of it is
/// replaced (`x-amz-metadata-directive: REPLACE`). Storage class and encryption settings do
/// not replace metadata.
/// A `200` answer whose body is an `<Error>` document is a failure, as S3 documents.
/// See the [CopyObject API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
///
/// # Errors
///
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing source, the service's
/// error otherwise (also when it arrives inside a `200`).
///
/// # Cancel safety
///
/// Dropping the future may or may not leave the copy made.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct CopyObject {
    bucket: Bucket,
    source_bucket: String,
    source_key: String,
    key: String,
    headers: ObjectHeaders,
    replace_metadata: bool,
    // versioning and tagging
    source_version_id: Option<String>,
    replace_tags: bool,
    // issue 11 part B: source pinning, encryption, request payer
    extra: super::sse::ExtraHeaders,
}

/// What CopyObject returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyObjectOutput {
    /// The new object's entity tag.
    pub etag: Option<String>,
    /// When the new object was written.
    pub last_modified: Option<SystemTime>,
    /// The new object's version id, for versioned buckets.
    pub version_id: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
    // versioning
    /// The version of the source that was copied (`x-amz-copy-source-version-id`).
    pub source_version_id: Option<String>,
    /// The new object's checksum and its algorithm, when the CopyObjectResult reports one
    /// (the source's, or the one asked for with [`checksum`](CopyObject::checksum)).
    pub checksum: Option<(crate::checksum::ChecksumAlgorithm, String)>,
}

impl Bucket {
    /// Copies `source_key` of this bucket to `key` of this bucket. Use
    /// [`CopyObject::source_bucket`] to copy from another bucket.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.copy_object("cats/1.jpg", "backup/cats/1.jpg").await?;
    /// # Ok(()) }
    /// ```
    pub fn copy_object(&self, source_key: impl Into<String>, key: impl Into<String>) -> CopyObject {
        CopyObject {
            bucket: self.clone(),
            source_bucket: self.name.to_string(),
            source_key: source_key.into(),
            key: key.into(),
            headers: ObjectHeaders::default(),
            replace_metadata: false,
            source_version_id: None,
            replace_tags: false,
            extra: super::sse::ExtraHeaders::default(),
        }
    }
}

impl CopyObject {
    object_header_setters!();

    /// Copies from this bucket instead of the destination's.
    pub fn source_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.source_bucket = bucket.into();
        self
    }

    /// Replaces the metadata with what this builder sets (none, if nothing is set) instead of
    /// copying it from the source.
    pub fn replace_metadata(mut self) -> Self {
        self.replace_metadata = true;
        self
    }

    // versioning and tagging

    /// Copies this version of the source rather than its current one.
    pub fn source_version_id(mut self, v: impl Into<String>) -> Self {
        self.source_version_id = Some(v.into());
        self
    }

    /// Gives the copy these tags instead of the source's (`x-amz-tagging-directive: REPLACE`);
    /// an empty list gives it none. Without this call the source's tags are copied.
    /// At most 10 tags, keys up to 128 and values up to 256 characters: more is an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before sending.
    pub fn tagging<I, K, V>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.headers.tags = super::tagging::collect(tags);
        self.replace_tags = true;
        self
    }

    async fn send(self) -> Result<CopyObjectOutput> {
        let ctx = |e: Error| e.with_context("CopyObject", Some(&self.bucket.name), Some(&self.key));
        validate_key(&self.source_key).map_err(ctx)?;
        crate::request::validate_bucket(&self.source_bucket).map_err(ctx)?;
        let mut source =
            String::with_capacity(self.source_bucket.len() + self.source_key.len() * 3 + 2);
        source.push('/');
        encode_path(&mut source, &self.source_bucket);
        source.push('/');
        encode_path(&mut source, &self.source_key);
        if let Some(v) = &self.source_version_id {
            source.push_str("?versionId=");
            crate::signing::encode_query_component(&mut source, v);
        }
        // Storage class and encryption are not metadata: setting them must not wipe it.
        let replace = self.replace_metadata || self.headers.has_metadata();
        let mut headers = self.headers.to_headers().map_err(ctx)?;
        headers.push(("x-amz-copy-source".into(), source));
        if replace {
            headers.push(("x-amz-metadata-directive".into(), "REPLACE".to_owned()));
        }
        if self.replace_tags {
            headers.push(("x-amz-tagging-directive".into(), "REPLACE".to_owned()));
        }
        self.extra.validate().map_err(ctx)?;
        if self.extra.get("x-amz-checksum-algorithm") == Some("MD5") {
            return Err(ctx(Error::invalid_input(
                "a copy's checksum is one S3 stores: CRC32, CRC32C, CRC64NVME, SHA1 or SHA256",
            )));
        }
        headers.extend(self.extra.headers(super::sse::scope::START));
        let req = OpRequest::new("CopyObject", Method::PUT)
            .bucket(&self.bucket.name)
            .key(&self.key)
            .headers(headers)
            .error_in_200();
        let resp = self.bucket.execute(req).await?;
        let version_id = header_string(&resp.headers, "x-amz-version-id");
        let source_version_id = header_string(&resp.headers, "x-amz-copy-source-version-id");
        let rid = request_id(&resp.headers);
        let body = resp.bytes_limited(super::MAX_XML_BODY).await.map_err(ctx)?;
        let parsed = xml::parse_copy_object_result(&body).map_err(|e| {
            ctx(Error::invalid_response("malformed CopyObjectResult").with_source(e))
        })?;
        Ok(CopyObjectOutput {
            etag: parsed.etag,
            last_modified: parsed.last_modified,
            version_id,
            request_id: rid,
            source_version_id,
            checksum: parsed.checksum,
        })
    }

    // issue 11 part B: source pinning, encryption, request payer
    /// Copies only if the source still has this entity tag (`x-amz-copy-source-if-match`);
    /// otherwise the copy fails with
    /// [`ErrorKind::PreconditionFailed`](crate::ErrorKind::PreconditionFailed).
    pub fn source_if_match(mut self, etag: impl Into<String>) -> Self {
        let all = super::sse::scope::ALL;
        self.extra
            .set("x-amz-copy-source-if-match", etag.into(), all);
        self
    }

    /// Replaces the object headers (the copy engine passes its own).
    pub(crate) fn with_headers(mut self, headers: ObjectHeaders) -> Self {
        self.headers = headers;
        self
    }

    /// Adds option headers prepared by another builder (the copy engine's).
    pub(crate) fn with_extra(mut self, extra: &super::sse::ExtraHeaders) -> Self {
        self.extra.merge(extra);
        self
    }

    super::sse::extra_setters!(extra => copy_source_sse_customer_key);

    /// Gives the copy a checksum of `algorithm` (`x-amz-checksum-algorithm`), computed by
    /// the service, instead of the source's. Without it S3 keeps the source's checksum.
    ///
    /// Content-MD5 is not a stored checksum: asking for it fails with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when awaited.
    pub fn checksum(mut self, algorithm: crate::checksum::ChecksumAlgorithm) -> Self {
        let name = algorithm.amz_name().unwrap_or("MD5");
        let start = super::sse::scope::START;
        self.extra
            .set("x-amz-checksum-algorithm", name.to_owned(), start);
        self
    }
}

super::into_future!(CopyObject => CopyObjectOutput);
