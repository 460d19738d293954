//! DeleteObject: remove one object.

use crate::client::Bucket;
use crate::error::Result;
use crate::headers::{header, header_string, request_id};
use crate::request::OpRequest;
use http::Method;

/// Deletes one object. Built by [`Bucket::delete_object`]; await it.
///
/// S3 answers success for a key that does not exist.
/// See the [DeleteObject API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html).
///
/// # Errors
///
/// The service's error (for example [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied)).
///
/// # Cancel safety
///
/// Dropping the future may or may not leave the object deleted.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct DeleteObject {
    bucket: Bucket,
    key: String,
    version_id: Option<String>,
    // object lock
    bypass_governance: bool,
    // issue 11 part B: request payer
    extra: super::sse::ExtraHeaders,
}

/// What DeleteObject returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteObjectOutput {
    /// The version id that was deleted or the delete marker created, for versioned buckets.
    pub version_id: Option<String>,
    /// Whether a delete marker was created.
    pub delete_marker: bool,
    /// The request id.
    pub request_id: Option<String>,
}

impl Bucket {
    /// Deletes `key`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.delete_object("old.txt").await?;
    /// # Ok(()) }
    /// ```
    pub fn delete_object(&self, key: impl Into<String>) -> DeleteObject {
        DeleteObject {
            bucket: self.clone(),
            key: key.into(),
            version_id: None,
            bypass_governance: false,
            extra: super::sse::ExtraHeaders::default(),
        }
    }
}

impl DeleteObject {
    /// Deletes this version rather than the current one.
    pub fn version_id(mut self, v: impl Into<String>) -> Self {
        self.version_id = Some(v.into());
        self
    }

    async fn send(self) -> Result<DeleteObjectOutput> {
        let mut req = OpRequest::new("DeleteObject", Method::DELETE)
            .bucket(&self.bucket.name)
            .key(&self.key);
        if let Some(v) = &self.version_id {
            req = req.query([("versionId", v.as_str())]);
        }
        if self.bypass_governance {
            req = req.header("x-amz-bypass-governance-retention", "true");
        }
        req = self.extra.apply(req, super::sse::scope::ALL);
        let resp = self.bucket.execute(req).await?;
        Ok(DeleteObjectOutput {
            version_id: header_string(&resp.headers, "x-amz-version-id"),
            delete_marker: header(&resp.headers, "x-amz-delete-marker") == Some("true"),
            request_id: request_id(&resp.headers),
        })
    }

    // object lock

    /// Deletes a version locked in governance mode
    /// (`x-amz-bypass-governance-retention: true`; needs `s3:BypassGovernanceRetention`).
    pub fn bypass_governance_retention(mut self) -> Self {
        self.bypass_governance = true;
        self
    }
    // issue 11 part B: request payer
    super::sse::extra_setters!(extra => request_payer);
}

super::into_future!(DeleteObject => DeleteObjectOutput);
