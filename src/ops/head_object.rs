//! HeadObject: an object's metadata without its body.

use super::conditions::{Conditions, conditional_setters};
use super::meta::ObjectMeta;
use crate::client::Bucket;
use crate::error::Result;
use crate::request::OpRequest;
use http::Method;

/// Reads an object's metadata. Built by [`Bucket::head_object`]; await it.
///
/// See the [HeadObject API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
///
/// # Errors
///
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when the key does not exist (a HEAD
/// answer has no body, so there is no S3 code); otherwise the service's error.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future changes nothing.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct HeadObject {
    bucket: Bucket,
    key: String,
    conditions: Conditions,
    checksum_mode: bool,
    // versioning
    version_id: Option<String>,
    // issue 11 part B: SSE-C, request payer
    extra: super::sse::ExtraHeaders,
}

impl Bucket {
    /// Reads the metadata of `key`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let meta = bucket.head_object("cats/1.jpg").await?;
    /// println!("{} bytes, etag {:?}", meta.size, meta.etag);
    /// # Ok(()) }
    /// ```
    pub fn head_object(&self, key: impl Into<String>) -> HeadObject {
        HeadObject {
            bucket: self.clone(),
            key: key.into(),
            conditions: Conditions::default(),
            checksum_mode: false,
            version_id: None,
            extra: super::sse::ExtraHeaders::default(),
        }
    }
}

impl HeadObject {
    conditional_setters! {
        /// Succeeds only if the object has this entity tag.
        if_match;
        /// Succeeds only if the object does not have this entity tag.
        if_none_match;
    }

    /// Asks for the object's stored checksum (`x-amz-checksum-mode: ENABLED`); it arrives
    /// in [`ObjectMeta::checksum`] and [`ObjectMeta::checksum_type`].
    pub fn include_checksum(mut self) -> Self {
        self.checksum_mode = true;
        self
    }

    // versioning

    /// Reads this version rather than the current one (`?versionId=`).
    pub fn version_id(mut self, v: impl Into<String>) -> Self {
        self.version_id = Some(v.into());
        self
    }

    async fn send(self) -> Result<ObjectMeta> {
        let mut req = OpRequest::new("HeadObject", Method::HEAD)
            .bucket(&self.bucket.name)
            .key(&self.key);
        req = self.conditions.apply(req);
        if self.checksum_mode {
            req = req.header("x-amz-checksum-mode", "ENABLED");
        }
        if let Some(v) = &self.version_id {
            req = req.query([("versionId", v.as_str())]);
        }
        req = self.extra.apply(req, super::sse::scope::READ);
        let resp = self.bucket.execute(req).await?;
        ObjectMeta::from_headers(&resp.headers)
            .map_err(|e| e.with_context("HeadObject", Some(&self.bucket.name), Some(&self.key)))
    }

    // issue 11 part B: SSE-C, request payer
    super::sse::extra_setters!(extra => sse_customer_key, request_payer);

    /// Adds option headers prepared elsewhere (a download's).
    pub(crate) fn with_extra(mut self, extra: &super::sse::ExtraHeaders) -> Self {
        self.extra.merge(extra);
        self
    }
}

super::into_future!(HeadObject => ObjectMeta);
