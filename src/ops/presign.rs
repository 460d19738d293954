//! Presigned URLs: signing only, never the transport.

use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::request::validate_header_value;
use crate::signing::CanonicalQuery;
use http::Method;
use std::time::Duration;

/// A presigned request: anyone holding it can perform the operation until it expires.
///
/// Treat the URL like a password: it carries a signature (and a session token, for temporary
/// credentials). Its `Debug` output hides the query string.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignedRequest {
    /// The HTTP method to use: `GET`, `PUT`, `HEAD` or `DELETE`.
    pub method: &'static str,
    /// The full URL, signature included.
    pub url: String,
    /// Headers that were signed and must be sent with the request (besides `host`).
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base = self.url.split('?').next().unwrap_or_default();
        f.debug_struct("PresignedRequest")
            .field("method", &self.method)
            .field("url", &format_args!("{base}?** redacted **"))
            .field("headers", &redacted(&self.headers))
            .finish()
    }
}

/// Builds a presigned URL. Made by [`Bucket::presign_get`] and its siblings; await it.
///
/// No request is sent: awaiting only asks the credentials provider for credentials.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an expiry of zero or over
/// seven days, a bad key, a header value that is not printable ASCII, a query parameter the
/// signer sets, a `versionId` on a PUT, or an SSE-C key on a DELETE;
/// [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) when no credentials can be had.
///
/// # Cancel safety
///
/// Cancel safe.
#[must_use = "a presigned URL is made only when awaited"]
pub struct Presign {
    bucket: Bucket,
    method: Method,
    key: String,
    expires_in: Duration,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    // issue 11 part B: SSE-C, request payer
    extra: super::sse::ExtraHeaders,
}

/// Hides the values of secret headers (an SSE-C key given with [`Presign::header`]).
impl std::fmt::Debug for Presign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presign")
            .field("bucket", &self.bucket)
            .field("method", &self.method)
            .field("key", &self.key)
            .field("expires_in", &self.expires_in)
            .field("query", &self.query)
            .field("headers", &redacted(&self.headers))
            .field("extra", &self.extra)
            .finish()
    }
}

impl Bucket {
    fn presign(&self, method: Method, key: impl Into<String>, expires_in: Duration) -> Presign {
        Presign {
            bucket: self.clone(),
            method,
            key: key.into(),
            expires_in,
            query: Vec::new(),
            headers: Vec::new(),
            extra: super::sse::ExtraHeaders::default(),
        }
    }

    /// A URL that downloads `key` with a plain GET, valid for `expires_in` (at most 7 days).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use std::time::Duration;
    /// let url = bucket.presign_get("cats/1.jpg", Duration::from_secs(900)).await?.url;
    /// # Ok(()) }
    /// ```
    pub fn presign_get(&self, key: impl Into<String>, expires_in: Duration) -> Presign {
        self.presign(Method::GET, key, expires_in)
    }

    /// A URL that uploads to `key` with a plain PUT of the body.
    pub fn presign_put(&self, key: impl Into<String>, expires_in: Duration) -> Presign {
        self.presign(Method::PUT, key, expires_in)
    }

    /// A URL that reads the metadata of `key` with HEAD.
    pub fn presign_head(&self, key: impl Into<String>, expires_in: Duration) -> Presign {
        self.presign(Method::HEAD, key, expires_in)
    }

    /// A URL that deletes `key`.
    pub fn presign_delete(&self, key: impl Into<String>, expires_in: Duration) -> Presign {
        self.presign(Method::DELETE, key, expires_in)
    }
}

impl Presign {
    /// Adds a query parameter to sign (e.g. `response-content-disposition`, `versionId`).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header the user of the URL must send with exactly this value (e.g.
    /// `content-type` for a PUT).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .push((name.into().to_ascii_lowercase(), value.into()));
        self
    }

    // versioning

    /// Addresses this version of the object (`versionId`), for GET, HEAD and DELETE; on a
    /// presigned PUT it is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    /// error (PutObject has no version id).
    pub fn version_id(self, v: impl Into<String>) -> Self {
        self.query("versionId", v)
    }

    async fn send(mut self) -> Result<PresignedRequest> {
        // The option headers of the step the URL performs: a read, or the start of a write.
        let step = match self.method {
            Method::GET | Method::HEAD => super::sse::scope::READ,
            Method::PUT => super::sse::scope::START,
            _ => super::sse::scope::ALL,
        };
        let extra = self.extra.headers(step);
        self.headers
            .extend(extra.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v)));
        let op = match self.method {
            Method::GET => "PresignGetObject",
            Method::PUT => "PresignPutObject",
            Method::HEAD => "PresignHeadObject",
            _ => "PresignDeleteObject",
        };
        let ctx = |e: Error| e.with_context(op, Some(&self.bucket.name), Some(&self.key));
        crate::request::validate_bucket(&self.bucket.name).map_err(ctx)?;
        crate::request::validate_key(&self.key).map_err(ctx)?;
        if self.method == Method::DELETE
            && self
                .headers
                .iter()
                .any(|(n, _)| n.to_ascii_lowercase().ends_with("-customer-key"))
        {
            return Err(ctx(Error::invalid_input(
                "a presigned DELETE takes no SSE-C key: DeleteObject does not use one",
            )));
        }
        for (n, v) in &self.headers {
            let name_ok = !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !matches!(n.as_str(), "host" | "authorization");
            if !name_ok {
                return Err(ctx(Error::invalid_input(format!(
                    "{n:?} cannot be a signed header of a presigned URL"
                ))));
            }
            validate_header_value(n, v).map_err(ctx)?;
        }
        // PutObject takes no versionId (S3 names the new version itself).
        if self.method == Method::PUT && self.query.iter().any(|(n, _)| n == "versionId") {
            return Err(ctx(Error::invalid_input(
                "a presigned PUT cannot name a version: PutObject has no versionId",
            )));
        }
        // The signature's own parameters are the signer's to write.
        if let Some((n, _)) = self.query.iter().find(|(n, _)| {
            let n = n.to_ascii_lowercase();
            n.starts_with("x-amz-")
                && matches!(
                    &n["x-amz-".len()..],
                    "algorithm"
                        | "credential"
                        | "date"
                        | "expires"
                        | "signedheaders"
                        | "signature"
                        | "security-token"
                )
        }) {
            return Err(ctx(Error::invalid_input(format!(
                "query parameter {n} is set by the signer"
            ))));
        }
        self.refuse_key_in_clear().map_err(ctx)?;
        let query = CanonicalQuery::new(self.query.iter().map(|(k, v)| (k, v)));
        let url = self
            .bucket
            .client()
            .transport()
            .presign(
                self.method.as_str(),
                (&self.bucket.name, &self.key),
                &query,
                &self.headers,
                self.expires_in.as_secs(),
            )
            .await
            .map_err(ctx)?;
        Ok(PresignedRequest {
            method: match self.method {
                Method::GET => "GET",
                Method::PUT => "PUT",
                Method::HEAD => "HEAD",
                _ => "DELETE",
            },
            url,
            headers: self.headers,
        })
    }
}

super::into_future!(Presign => PresignedRequest);

// issue 11 part B: SSE-C
/// The headers with the values of secret ones (SSE-C keys) replaced.
fn redacted(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| {
            let v = if crate::request::is_secret_header(n) {
                "** redacted **"
            } else {
                v.as_str()
            };
            (n.as_str(), v)
        })
        .collect()
}

impl Presign {
    // issue 11 part B: SSE-C, request payer
    super::sse::extra_setters!(extra => sse_customer_key, request_payer);

    /// A URL whose requests must carry an SSE-C key is refused over plain http to a host
    /// that is not loopback: whoever uses it would send the key in the clear.
    fn refuse_key_in_clear(&self) -> Result<()> {
        let endpoint = &self.bucket.client().transport().settings().endpoint;
        let key = self
            .headers
            .iter()
            .any(|(n, _)| n.ends_with("-customer-key"));
        if key && endpoint.scheme == crate::endpoint::Scheme::Http && !endpoint.is_loopback() {
            return Err(Error::invalid_input(
                "an SSE-C key is never sent over plain http to a host that is not loopback",
            ));
        }
        Ok(())
    }
}
