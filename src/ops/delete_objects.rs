//! DeleteObjects: remove up to 1000 objects in one request, with per-key results.

use super::MAX_XML_BODY;
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::headers::request_id;
use crate::request::OpRequest;
use crate::types::{DeleteObjectError, DeletedObject};
use crate::xml;
use http::Method;
use md5::{Digest, Md5};

/// The most keys one DeleteObjects request may name.
pub const MAX_DELETE_KEYS: usize = 1000;

/// Deletes up to 1000 keys in one request. Built by [`Bucket::delete_objects`]; await it.
///
/// The request can succeed while some keys fail: check
/// [`DeleteObjectsOutput::errors`].
/// See the [DeleteObjects API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for no keys, more than 1000, or
/// a key that cannot be sent; otherwise the service's error for the request as a whole.
///
/// # Cancel safety
///
/// Dropping the future may leave some of the keys deleted.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct DeleteObjects {
    bucket: Bucket,
    keys: Vec<(String, Option<String>)>,
    quiet: bool,
    // object lock
    bypass_governance: bool,
    // issue 11 part B: request payer
    extra: super::sse::ExtraHeaders,
}

/// What DeleteObjects returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteObjectsOutput {
    /// Keys deleted (empty in quiet mode).
    pub deleted: Vec<DeletedObject>,
    /// Keys that could not be deleted, with the reason.
    pub errors: Vec<DeleteObjectError>,
    /// The request id.
    pub request_id: Option<String>,
}

impl Bucket {
    /// Deletes the given keys (at most [`MAX_DELETE_KEYS`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let out = bucket.delete_objects(["a.txt", "b.txt"]).await?;
    /// for e in &out.errors {
    ///     eprintln!("{}: {} {}", e.key, e.code, e.message);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn delete_objects<I, K>(&self, keys: I) -> DeleteObjects
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        DeleteObjects {
            bucket: self.clone(),
            keys: keys.into_iter().map(|k| (k.into(), None)).collect(),
            quiet: false,
            bypass_governance: false,
            extra: super::sse::ExtraHeaders::default(),
        }
    }
}

impl DeleteObjects {
    /// Adds a specific version of a key.
    pub fn version(mut self, key: impl Into<String>, version_id: impl Into<String>) -> Self {
        self.keys.push((key.into(), Some(version_id.into())));
        self
    }

    /// Quiet mode: the answer lists only the failures.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    async fn send(self) -> Result<DeleteObjectsOutput> {
        let ctx = |e: Error| e.with_context("DeleteObjects", Some(&self.bucket.name), None);
        if self.keys.is_empty() || self.keys.len() > MAX_DELETE_KEYS {
            return Err(ctx(Error::invalid_input(format!(
                "DeleteObjects takes 1 to {MAX_DELETE_KEYS} keys, not {}",
                self.keys.len()
            ))));
        }
        // Keys travel in the XML body, not the URL, so dot segments are fine here: objects
        // other tools wrote under such keys can be deleted.
        for (k, _) in &self.keys {
            if k.is_empty() || k.len() > 1024 {
                return Err(ctx(Error::invalid_input(format!(
                    "object key of {} bytes: S3 keys are 1 to 1024 bytes",
                    k.len()
                ))));
            }
        }
        let refs: Vec<(&str, Option<&str>)> = self
            .keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        let body = xml::write_delete_objects(&refs, self.quiet).map_err(|e| {
            ctx(Error::invalid_input("a key cannot be written in XML").with_source(e))
        })?;
        // Many stores require Content-MD5 on this request, so it is always sent.
        let md5 = crate::base64::encode(&Md5::digest(body.as_bytes()));
        let mut req = OpRequest::new("DeleteObjects", Method::POST)
            .bucket(&self.bucket.name)
            .query([("delete", "")])
            .header("content-md5", md5)
            .header("content-type", "application/xml")
            .body(body.into());
        if self.bypass_governance {
            req = req.header("x-amz-bypass-governance-retention", "true");
        }
        let req = self.extra.apply(req, super::sse::scope::ALL);
        let resp = self.bucket.execute(req).await?;
        let rid = request_id(&resp.headers);
        let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
        let (deleted, errors) = xml::parse_delete_result(&body)
            .map_err(|e| ctx(Error::invalid_response("malformed DeleteResult").with_source(e)))?;
        Ok(DeleteObjectsOutput {
            deleted,
            errors,
            request_id: rid,
        })
    }

    // object lock

    /// Deletes versions locked in governance mode
    /// (`x-amz-bypass-governance-retention: true`; needs `s3:BypassGovernanceRetention`).
    pub fn bypass_governance_retention(mut self) -> Self {
        self.bypass_governance = true;
        self
    }
    // issue 11 part B: request payer
    super::sse::extra_setters!(extra => request_payer);
}

super::into_future!(DeleteObjects => DeleteObjectsOutput);
