//! Bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket.

use super::MAX_XML_BODY;
use crate::client::{Bucket, Client};
use crate::error::{Error, Result};
use crate::headers::{header_string, request_id};
use crate::request::OpRequest;
use crate::types::BucketInfo;
use crate::xml;
use http::Method;

/// Lists the buckets of the account. Built by [`Client::list_buckets`]; await it.
///
/// See the [ListBuckets API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html).
///
/// # Errors
///
/// The service's error, or [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse)
/// for a malformed answer.
///
/// # Cancel safety
///
/// Cancel safe.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct ListBuckets {
    client: Client,
}

impl Client {
    /// Lists the account's buckets.
    pub fn list_buckets(&self) -> ListBuckets {
        ListBuckets {
            client: self.clone(),
        }
    }
}

impl ListBuckets {
    async fn send(self) -> Result<Vec<BucketInfo>> {
        let ctx = |e: Error| e.with_context("ListBuckets", None, None);
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut req = OpRequest::new("ListBuckets", Method::GET);
            if let Some(t) = &token {
                req = req.query([("continuation-token", t.as_str())]);
            }
            let resp = self.client.execute(req).await?;
            let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
            let (buckets, next) = xml::parse_list_buckets(&body).map_err(|e| {
                ctx(Error::invalid_response("malformed ListAllMyBucketsResult").with_source(e))
            })?;
            all.extend(buckets);
            match next {
                Some(t) if seen.insert(t.clone()) => token = Some(t),
                Some(_) => {
                    return Err(ctx(Error::invalid_response(
                        "the server repeated a continuation token (pagination loop)",
                    )));
                }
                None => return Ok(all),
            }
        }
    }
}

super::into_future!(ListBuckets => Vec<BucketInfo>);

/// Creates a bucket. Built by [`Client::create_bucket`]; await it.
///
/// See the [CreateBucket API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
///
/// # Errors
///
/// [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) when the bucket exists
/// (`BucketAlreadyExists`, `BucketAlreadyOwnedByYou`); otherwise the service's error.
///
/// # Cancel safety
///
/// Dropping the future may or may not leave the bucket created.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct CreateBucket {
    bucket: Bucket,
    location: Option<String>,
}

/// What CreateBucket returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateBucketOutput {
    /// The `Location` header: where the bucket lives.
    pub location: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl Client {
    /// Creates the bucket `name`. Outside `us-east-1` the client's region is sent as the
    /// location constraint, as AWS requires; [`CreateBucket::location_constraint`] overrides it.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(client: async_s3::Client) -> Result<(), async_s3::Error> {
    /// client.create_bucket("photos").await?;
    /// # Ok(()) }
    /// ```
    pub fn create_bucket(&self, name: impl Into<String>) -> CreateBucket {
        let region = self.region();
        CreateBucket {
            location: (region != "us-east-1").then(|| region.to_owned()),
            bucket: self.bucket(name),
        }
    }

    /// Deletes the bucket `name`, which must be empty.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) (`BucketNotEmpty`) when objects
    /// remain; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when there is no such bucket.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may or may not leave the bucket deleted.
    pub async fn delete_bucket(&self, name: &str) -> Result<()> {
        let req = OpRequest::new("DeleteBucket", Method::DELETE).bucket(name);
        self.execute(req).await?;
        Ok(())
    }

    /// Checks that the bucket `name` exists and is accessible; returns its region when the
    /// server says (`x-amz-bucket-region`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) or
    /// [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn head_bucket(&self, name: &str) -> Result<Option<String>> {
        let req = OpRequest::new("HeadBucket", Method::HEAD).bucket(name);
        let resp = self.execute(req).await?;
        Ok(header_string(&resp.headers, "x-amz-bucket-region"))
    }
}

impl CreateBucket {
    /// Sets the region constraint explicitly (`None` sends no configuration, for `us-east-1`
    /// and most S3-compatible stores).
    pub fn location_constraint(mut self, region: Option<&str>) -> Self {
        self.location = region.map(str::to_owned);
        self
    }

    async fn send(self) -> Result<CreateBucketOutput> {
        let body = xml::write_create_bucket(self.location.as_deref());
        // A retried CreateBucket that had succeeded would answer 409.
        let mut req = OpRequest::new("CreateBucket", Method::PUT)
            .bucket(&self.bucket.name)
            .not_idempotent();
        if !body.is_empty() {
            req = req
                .header("content-type", "application/xml")
                .body(body.into());
        }
        let resp = self.bucket.client.execute(req).await?;
        Ok(CreateBucketOutput {
            location: header_string(&resp.headers, "location"),
            request_id: request_id(&resp.headers),
        })
    }
}

super::into_future!(CreateBucket => CreateBucketOutput);
