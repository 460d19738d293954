//! [`Client`] (one `Arc` around the transport) and the [`Bucket`] handle: the entry points
//! that hand out operation builders, and the way every operation's request reaches the
//! transport.

use crate::checksum::{ChecksumAlgorithm, ChecksumChoice};
use crate::error::{Error, Result};
use crate::request::{OpRequest, validate_bucket, validate_key};
use crate::transport::{Response, RetryState, Transport};
use std::fmt;
use std::sync::Arc;

/// An S3 client. Cheap to clone (one reference count); share it freely across tasks.
///
/// # Example
///
/// ```
/// use async_s3::{Client, Credentials};
///
/// let client = Client::builder()
///     .endpoint("http://127.0.0.1:9000")
///     .credentials(Credentials::new("AKIDEXAMPLE", "secret"))
///     .build()?;
/// let photos = client.bucket("photos");
/// # let _ = photos;
/// # Ok::<(), async_s3::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    transport: Transport,
    /// The checksum uploads carry unless the request says otherwise.
    request_checksum: Option<ChecksumAlgorithm>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.transport.settings().endpoint)
            .field("region", &self.inner.transport.settings().region)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(super) fn from_parts(
        transport: Transport,
        request_checksum: Option<ChecksumAlgorithm>,
    ) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                transport,
                request_checksum,
            }),
        }
    }

    /// A handle on `name`. No request is made; the name is checked when an operation runs.
    pub fn bucket(&self, name: impl Into<String>) -> Bucket {
        Bucket {
            client: self.clone(),
            name: Arc::from(name.into()),
        }
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.inner.transport.settings().region
    }

    /// The checksum uploads carry unless the request says otherwise.
    pub(crate) fn request_checksum(&self) -> Option<ChecksumAlgorithm> {
        self.inner.request_checksum
    }

    /// The signed executor behind this client.
    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Sends one request (with retries), returning the successful response.
    pub(crate) async fn execute(&self, req: OpRequest) -> Result<Response> {
        self.execute_in(req, &mut RetryState::default()).await
    }

    /// Like [`execute`](Self::execute), continuing the retry bookkeeping in `state`.
    pub(crate) async fn execute_in(
        &self,
        req: OpRequest,
        state: &mut RetryState,
    ) -> Result<Response> {
        if let Some(b) = &req.bucket {
            validate_bucket(b).map_err(|e| {
                e.with_context(req.operation, req.bucket.as_deref(), req.key.as_deref())
            })?;
        }
        // issue 11 part B: an SSE-C key never travels in the clear (loopback excepted).
        let endpoint = &self.inner.transport.settings().endpoint;
        let secret =
            |(n, _): &(std::borrow::Cow<'static, str>, String)| n.ends_with("-customer-key");
        if endpoint.scheme == crate::endpoint::Scheme::Http
            && !endpoint.is_loopback()
            && req.headers.iter().any(secret)
        {
            return Err(Error::invalid_input(
                "an SSE-C key is never sent over plain http to a host that is not loopback",
            )
            .with_context(req.operation, req.bucket.as_deref(), req.key.as_deref()));
        }
        self.inner.transport.execute_in(&req, state).await
    }

    /// The client's retry decision for a failure found after a response arrived (a download
    /// body that broke off): `true` once the backoff has been waited out and the retry paid
    /// from the shared budget; `false` when the error is final (not transient, attempts or
    /// budget spent).
    pub(crate) async fn pause_before_retry(&self, state: &mut RetryState, e: &mut Error) -> bool {
        self.inner.transport.pause_before_retry(state, e).await
    }

    /// Reports that a response read under `state` arrived whole, paying its last retry back.
    pub(crate) fn retry_succeeded(&self, state: &mut RetryState) {
        self.inner.transport.succeeded(state);
    }

    /// The client's clock (the injected one), corrected by the skew learned from the
    /// service: the time requests are signed at.
    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.inner.transport.now()
    }
}

/// A handle on one bucket: owned, `'static`, cheap to clone.
///
/// Object operations start here: [`put_object`](Bucket::put_object),
/// [`get_object`](Bucket::get_object), [`list_objects`](Bucket::list_objects), …
#[derive(Clone)]
pub struct Bucket {
    pub(crate) client: Client,
    pub(crate) name: Arc<str>,
}

impl fmt::Debug for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket").field("name", &self.name).finish()
    }
}

impl Bucket {
    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client this handle belongs to.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client's adaptive concurrency, shared by its transfers (issue 13).
    pub(crate) fn congestion(&self) -> Arc<crate::congestion::Congestion> {
        self.client.transport().settings().congestion.clone()
    }

    /// The throughput the client's transfers aim for, in bits per second (issue 13).
    pub(crate) fn target_throughput(&self) -> Option<u64> {
        self.client.transport().settings().target_throughput
    }

    /// The client's default request checksum.
    pub(crate) fn default_checksum(&self) -> ChecksumChoice {
        ChecksumChoice::inherit(self.client.request_checksum())
    }

    /// Sends a request built for this bucket, with the key validated first.
    pub(crate) async fn execute(&self, req: OpRequest) -> Result<Response> {
        self.execute_in(req, &mut RetryState::default()).await
    }

    /// Like [`execute`](Self::execute), continuing the retry bookkeeping in `state`.
    pub(crate) async fn execute_in(
        &self,
        req: OpRequest,
        state: &mut RetryState,
    ) -> Result<Response> {
        if let Some(k) = &req.key {
            validate_key(k)
                .map_err(|e: Error| e.with_context(req.operation, Some(&self.name), Some(k)))?;
        }
        self.client.execute_in(req, state).await
    }
}

/// Compile-time checks that the handles can cross tasks.
#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync + Clone + 'static>() {}
    is::<Client>();
    is::<Bucket>();
}
