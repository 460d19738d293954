//! The crate's one error type.
//!
//! [`Error`] is a single pointer wide; [`Error::kind`] classifies it, the predicates answer the
//! common questions, and [`std::error::Error::source`] leads to the underlying cause (an I/O
//! or transport error) without its text being repeated in `Display`.

use crate::types::{DeletePrefixOutput, S3ErrorBody};
use std::fmt;

/// A boxed error source.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, broadly. Match on it to decide what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bucket, key or upload does not exist (404, `NoSuchKey`, `NoSuchBucket`, …).
    NotFound,
    /// The request was refused: bad credentials, a bad signature, or no permission (403).
    AccessDenied,
    /// A condition (`If-Match`, `If-None-Match: *`, …) did not hold (412).
    PreconditionFailed,
    /// A conditional GET found the object unchanged (304).
    NotModified,
    /// The object was replaced while a transfer was reading it (its ETag changed).
    ObjectChanged,
    /// The bytes received do not match the checksum the service sent for them.
    ChecksumMismatch,
    /// The requested byte range cannot be satisfied (416).
    InvalidRange,
    /// The bucket already exists or is not empty, or a conflicting operation is under way (409).
    Conflict,
    /// The service asked us to slow down (503 `SlowDown`, `Throttling`, …).
    Throttled,
    /// Any other error answered by the service, with its status and code.
    Service,
    /// A timeout: connecting, waiting for a response, or a stalled body.
    Timeout,
    /// The connection failed or broke (refused, reset, closed early).
    Transport,
    /// The service answered something this client cannot accept (malformed XML, a missing
    /// header, a length that does not match).
    InvalidResponse,
    /// The caller asked for something invalid; nothing was sent.
    InvalidInput,
    /// No credentials could be had.
    Credentials,
    /// The operation was cancelled.
    Cancelled,
    /// A local file could not be read or written.
    Io,
    /// Another conditional write to the same key ran at the same time (409
    /// `ConditionalRequestConflict`). On a PutObject (or a CopyObject) it is safe to retry:
    /// the client retries it like a transient failure, and when it persists the whole write
    /// can be made again. On CompleteMultipartUpload it is final: S3 has dropped the upload,
    /// so the completion is not retried and [`Error::is_retryable`] is `false`; start a new
    /// upload (the upload engine aborts the old one and reports this error).
    ConditionalConflict,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::PreconditionFailed => "precondition failed",
            ErrorKind::NotModified => "not modified",
            ErrorKind::ObjectChanged => "object changed",
            ErrorKind::ChecksumMismatch => "checksum mismatch",
            ErrorKind::InvalidRange => "invalid range",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Service => "service error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Transport => "transport error",
            ErrorKind::InvalidResponse => "invalid response",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Credentials => "credentials error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Io => "local I/O error",
            ErrorKind::ConditionalConflict => "conflicting conditional write",
        }
    }
}

/// An error from an S3 operation.
///
/// # Example
///
/// ```no_run
/// # async fn demo(bucket: async_s3::Bucket) {
/// match bucket.head_object("maybe.txt").await {
///     Ok(meta) => println!("{} bytes", meta.size),
///     Err(e) if e.is_not_found() => println!("no such object"),
///     Err(e) => eprintln!("failed: {e}"),
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    operation: &'static str,
    bucket: Option<String>,
    key: Option<String>,
    status: Option<u16>,
    s3: Option<S3ErrorBody>,
    message: Option<String>,
    attempts: u32,
    retryable: bool,
    upload_id: Option<String>,
    /// A credentials provider that is not set up at all (the chain moves on).
    not_configured: bool,
    /// How long the server asked us to wait before retrying.
    retry_after: Option<std::time::Duration>,
    source: Option<BoxError>,
    /// What a DeletePrefix had done before this error stopped it.
    partial_delete_prefix: Option<Box<DeletePrefixOutput>>,
    /// For an answer with `x-amz-delete-marker: true`: `Some`, with its `x-amz-version-id`.
    delete_marker: Option<Option<String>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                operation: "",
                bucket: None,
                key: None,
                status: None,
                s3: None,
                message: None,
                attempts: 0,
                retryable: false,
                upload_id: None,
                not_configured: false,
                retry_after: None,
                source: None,
                partial_delete_prefix: None,
                delete_marker: None,
            }),
        }
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput).with_message(message)
    }

    pub(crate) fn invalid_response(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidResponse).with_message(message)
    }

    pub(crate) fn credentials(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Credentials).with_message(message)
    }

    /// A provider has nothing to offer because it is not set up (no variable, no file, no
    /// profile): a credentials chain moves on to the next provider. Any other credentials
    /// error stops the chain.
    pub(crate) fn credentials_not_configured(message: impl Into<String>) -> Self {
        let mut e = Self::credentials(message);
        e.inner.not_configured = true;
        e
    }

    /// A credentials error a service answered (STS, the SSO portal, OIDC): kind
    /// `Credentials`, with the status, the service's error code, message and request id, so
    /// [`s3_code`](Self::s3_code) and [`request_id`](Self::request_id) report them.
    pub(crate) fn credentials_from_service(
        message: impl Into<String>,
        status: u16,
        body: S3ErrorBody,
    ) -> Self {
        let mut e = Self::credentials(message);
        e.inner.status = Some(status);
        e.inner.s3 = Some(body);
        e
    }

    pub(crate) fn is_not_configured(&self) -> bool {
        self.inner.not_configured
    }

    pub(crate) fn with_retry_after(mut self, hint: Option<std::time::Duration>) -> Self {
        self.inner.retry_after = hint;
        self
    }

    pub(crate) fn retry_after(&self) -> Option<std::time::Duration> {
        self.inner.retry_after
    }

    pub(crate) fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io)
            .with_message(message)
            .with_source(source)
    }

    /// An error answered by the service: classified from the status and S3 error code, and
    /// retryable when the status or the code says the failure is transient.
    pub(crate) fn from_response(status: u16, s3: Option<S3ErrorBody>) -> Self {
        let (kind, retry) = code_row(s3.as_ref().and_then(|b| b.code.as_deref()));
        let kind = kind.unwrap_or_else(|| status_kind(status));
        let retryable = is_retryable_status(status)
            || matches!(retry, CodeRetry::Transient | CodeRetry::WriteConflict);
        let mut e = Self::new(kind);
        e.inner.retryable = retryable;
        e.inner.status = Some(status);
        e.inner.s3 = s3;
        e
    }

    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.inner.message = Some(message.into());
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_retryable(mut self, retryable: bool) -> Self {
        self.inner.retryable = retryable;
        self
    }

    pub(crate) fn set_retryable(&mut self, retryable: bool) {
        self.inner.retryable = retryable;
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    pub(crate) fn with_upload_id(mut self, upload_id: impl Into<String>) -> Self {
        self.inner.upload_id = Some(upload_id.into());
        self
    }

    /// Fills in the operation and target, unless already set.
    pub(crate) fn with_context(
        mut self,
        operation: &'static str,
        bucket: Option<&str>,
        key: Option<&str>,
    ) -> Self {
        if self.inner.operation.is_empty() {
            self.inner.operation = operation;
            self.inner.bucket = bucket.map(str::to_owned);
            self.inner.key = key.map(str::to_owned);
        }
        self
    }

    /// The broad class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether the bucket, key or upload does not exist.
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    /// Whether the request was refused for credentials, signature or permission.
    pub fn is_access_denied(&self) -> bool {
        self.inner.kind == ErrorKind::AccessDenied
    }

    /// Whether the failure is transient: the same request may succeed if sent again.
    ///
    /// The client already retried such failures up to its configured attempts; this tells a
    /// caller whether retrying at a higher level makes sense.
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// Whether the error is a timeout.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The HTTP status of the service's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The S3 error code (`NoSuchKey`, `SlowDown`, …), when the service sent one.
    pub fn s3_code(&self) -> Option<&str> {
        self.inner.s3.as_ref()?.code.as_deref()
    }

    /// The S3 error message, when the service sent one.
    pub fn s3_message(&self) -> Option<&str> {
        self.inner.s3.as_ref()?.message.as_deref()
    }

    /// The request id of the failed request, for support cases.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.s3.as_ref()?.request_id.as_deref()
    }

    /// How many attempts were made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The S3 operation that failed, e.g. `GetObject`.
    pub fn operation(&self) -> &str {
        self.inner.operation
    }

    /// The multipart upload id, for errors of a multipart upload.
    pub fn upload_id(&self) -> Option<&str> {
        self.inner.upload_id.as_deref()
    }

    pub(crate) fn set_request_id_if_missing(&mut self, request_id: Option<&str>) {
        if let Some(id) = request_id {
            let s3 = self.inner.s3.get_or_insert_with(S3ErrorBody::default);
            if s3.request_id.is_none() {
                s3.request_id = Some(id.to_owned());
            }
        }
    }

    pub(crate) fn with_partial_delete_prefix(mut self, done: DeletePrefixOutput) -> Self {
        self.inner.partial_delete_prefix = Some(Box::new(done));
        self
    }

    /// What a [`DeletePrefix`](crate::DeletePrefix) had done when this error stopped it: the
    /// keys deleted and the per-key errors of the batches S3 answered before. `None` for
    /// errors of other operations and for a prefix refused before anything was sent.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) {
    /// if let Err(e) = bucket.delete_prefix("tmp/").await {
    ///     if let Some(done) = e.partial_delete_prefix() {
    ///         eprintln!("stopped after {} deleted: {e}", done.deleted);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn partial_delete_prefix(&self) -> Option<&DeletePrefixOutput> {
        self.inner.partial_delete_prefix.as_deref()
    }

    /// Records that the error answer said `x-amz-delete-marker: true`, with the answer's
    /// `x-amz-version-id`.
    pub(crate) fn set_delete_marker(&mut self, version_id: Option<String>) {
        self.inner.delete_marker = Some(version_id);
    }

    /// Whether the service answered that the object is a delete marker
    /// (`x-amz-delete-marker: true`): a 404 for a key whose current version is a delete
    /// marker, a 405 for a request naming a delete marker's version.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) {
    /// match bucket.head_object("report.csv").await {
    ///     Err(e) if e.is_delete_marker() => {
    ///         println!("deleted (marker {:?})", e.delete_marker_version_id());
    ///     }
    ///     other => println!("{other:?}"),
    /// }
    /// # }
    /// ```
    pub fn is_delete_marker(&self) -> bool {
        self.inner.delete_marker.is_some()
    }

    /// The version id of the delete marker the service answered about, when it sent one
    /// (`x-amz-version-id` of an answer with `x-amz-delete-marker: true`).
    pub fn delete_marker_version_id(&self) -> Option<&str> {
        self.inner.delete_marker.as_ref()?.as_deref()
    }
}

/// How the retry decision treats an S3 error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeRetry {
    /// Not worth another attempt by itself (the status may still make it transient).
    No,
    /// A transient failure: try again after the backoff.
    Transient,
    /// Our clock is off: sign again at once with the offset learned from the answer.
    ClockSkew,
    /// The credentials expired early: fetch new ones and sign again at once.
    ExpiredCredentials,
    /// A conflicting conditional write (`ConditionalRequestConflict`): transient for a request
    /// that makes the whole write again, final for one that ends a multipart upload (S3 drops
    /// the upload); [`Policy::decide`](crate::transport::retry::Policy::decide) tells them apart.
    WriteConflict,
}

/// Every S3 error code the crate treats specially: the kind it maps to (`None`: the status
/// decides) and what a retry makes of it. The one table for classification and retries.
const CODES: &[(&str, Option<ErrorKind>, CodeRetry)] = {
    use CodeRetry::{ClockSkew, ExpiredCredentials, No, Transient, WriteConflict};
    use ErrorKind::{
        AccessDenied, ConditionalConflict, Conflict, InvalidRange, NotFound, PreconditionFailed,
        Throttled,
    };
    &[
        ("NoSuchKey", Some(NotFound), No),
        ("NoSuchBucket", Some(NotFound), No),
        ("NoSuchUpload", Some(NotFound), No),
        ("NoSuchVersion", Some(NotFound), No),
        ("NotFound", Some(NotFound), No),
        ("AccessDenied", Some(AccessDenied), No),
        ("SignatureDoesNotMatch", Some(AccessDenied), No),
        ("InvalidAccessKeyId", Some(AccessDenied), No),
        ("InvalidToken", Some(AccessDenied), No),
        ("AllAccessDisabled", Some(AccessDenied), No),
        ("AccountProblem", Some(AccessDenied), No),
        ("RequestTimeTooSkewed", Some(AccessDenied), ClockSkew),
        ("ExpiredToken", Some(AccessDenied), ExpiredCredentials),
        ("ExpiredTokenException", None, ExpiredCredentials),
        ("TokenRefreshRequired", None, ExpiredCredentials),
        ("SlowDown", Some(Throttled), Transient),
        ("Throttling", Some(Throttled), Transient),
        ("ThrottlingException", Some(Throttled), Transient),
        ("RequestLimitExceeded", Some(Throttled), Transient),
        ("TooManyRequestsException", Some(Throttled), Transient),
        ("RequestThrottled", Some(Throttled), Transient),
        ("BandwidthLimitExceeded", Some(Throttled), Transient),
        ("InternalError", None, Transient),
        ("RequestTimeout", None, Transient),
        ("ServiceUnavailable", None, Transient),
        ("PreconditionFailed", Some(PreconditionFailed), No),
        ("InvalidRange", Some(InvalidRange), No),
        ("BucketAlreadyExists", Some(Conflict), No),
        ("BucketAlreadyOwnedByYou", Some(Conflict), No),
        ("BucketNotEmpty", Some(Conflict), No),
        ("OperationAborted", Some(Conflict), No),
        (
            "ConditionalRequestConflict",
            Some(ConditionalConflict),
            WriteConflict,
        ),
    ]
};

/// The kind and retry class of `code`, from [`CODES`].
fn code_row(code: Option<&str>) -> (Option<ErrorKind>, CodeRetry) {
    code.and_then(|c| CODES.iter().find(|(name, _, _)| *name == c))
        .map_or((None, CodeRetry::No), |&(_, kind, retry)| (kind, retry))
}

/// How a retry treats the S3 error code `code` (`No` for none or an unknown one).
pub(crate) fn code_retry(code: Option<&str>) -> CodeRetry {
    code_row(code).1
}

/// Statuses worth another attempt whatever the code: server errors and throttling.
fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Maps a status and S3 code to a kind: the code's row when it has a kind, else the status.
#[cfg(test)]
fn classify(status: u16, code: Option<&str>) -> ErrorKind {
    code_row(code).0.unwrap_or_else(|| status_kind(status))
}

/// The kind a status says when the code says none.
fn status_kind(status: u16) -> ErrorKind {
    match status {
        304 => ErrorKind::NotModified,
        401 | 403 => ErrorKind::AccessDenied,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        412 => ErrorKind::PreconditionFailed,
        416 => ErrorKind::InvalidRange,
        429 | 503 => ErrorKind::Throttled,
        _ => ErrorKind::Service,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        if !i.operation.is_empty() {
            f.write_str(i.operation)?;
            match (&i.bucket, &i.key) {
                (Some(b), Some(k)) => write!(f, " {b}/{k}")?,
                (Some(b), None) => write!(f, " {b}")?,
                _ => {}
            }
            f.write_str(": ")?;
        }
        f.write_str(i.kind.describe())?;
        if let Some(m) = &i.message {
            write!(f, ": {m}")?;
        }
        match (i.status, self.s3_code()) {
            (Some(s), Some(c)) => write!(f, " ({s} {c})")?,
            (Some(s), None) => write!(f, " ({s})")?,
            (None, Some(c)) => write!(f, " ({c})")?,
            (None, None) => {}
        }
        if let Some(m) = self.s3_message() {
            write!(f, ": {m}")?;
        }
        if let Some(u) = &i.upload_id {
            write!(f, " [upload id {u}]")?;
        }
        if i.attempts > 1 {
            write!(f, " after {} attempts", i.attempts)?;
        }
        if let Some(p) = &i.partial_delete_prefix {
            let n = p.errors.len();
            write!(f, "; before it: {} deleted, {n} not deleted", p.deleted)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind);
        if !i.operation.is_empty() {
            d.field("operation", &i.operation);
        }
        if let Some(b) = &i.bucket {
            d.field("bucket", b);
        }
        if let Some(k) = &i.key {
            d.field("key", k);
        }
        if let Some(s) = i.status {
            d.field("status", &s);
        }
        if let Some(s3) = &i.s3 {
            d.field("s3", s3);
        }
        if let Some(m) = &i.message {
            d.field("message", m);
        }
        if let Some(u) = &i.upload_id {
            d.field("upload_id", u);
        }
        d.field("attempts", &i.attempts);
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        if let Some(p) = &i.partial_delete_prefix {
            d.field("partial_delete_prefix", p);
        }
        if let Some(v) = &i.delete_marker {
            d.field("delete_marker_version_id", v);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn classification_prefers_the_s3_code() {
        assert_eq!(classify(404, Some("NoSuchKey")), ErrorKind::NotFound);
        assert_eq!(
            classify(403, Some("SignatureDoesNotMatch")),
            ErrorKind::AccessDenied
        );
        assert_eq!(classify(503, Some("SlowDown")), ErrorKind::Throttled);
        assert_eq!(classify(409, Some("BucketNotEmpty")), ErrorKind::Conflict);
        assert_eq!(classify(404, None), ErrorKind::NotFound);
        assert_eq!(classify(500, None), ErrorKind::Service);
        assert_eq!(classify(400, Some("InvalidArgument")), ErrorKind::Service);
    }

    /// The one table answers both questions; ServiceUnavailable is transient whatever the
    /// status, and its kind follows the status.
    #[test]
    fn codes_and_statuses_decide_retries() {
        let code = |c: &str| {
            Some(S3ErrorBody {
                code: Some(c.into()),
                ..S3ErrorBody::default()
            })
        };
        assert!(Error::from_response(200, code("InternalError")).is_retryable());
        assert!(!Error::from_response(403, code("AccessDenied")).is_retryable());
        let e = Error::from_response(500, code("ServiceUnavailable"));
        assert!(e.is_retryable());
        assert_eq!(e.kind(), ErrorKind::Service);
        assert_eq!(
            Error::from_response(503, code("ServiceUnavailable")).kind(),
            ErrorKind::Throttled
        );
        assert_eq!(
            code_retry(Some("RequestTimeTooSkewed")),
            CodeRetry::ClockSkew
        );
        assert_eq!(
            code_retry(Some("ExpiredToken")),
            CodeRetry::ExpiredCredentials
        );
        assert_eq!(
            code_retry(Some("TokenRefreshRequired")),
            CodeRetry::ExpiredCredentials
        );
        assert_eq!(code_retry(Some("NoSuchKey")), CodeRetry::No);
        assert_eq!(code_retry(None), CodeRetry::No);
        assert!(!Error::from_response(403, code("RequestTimeTooSkewed")).is_retryable());
    }

    #[test]
    fn display_is_one_line_with_context() {
        let e = Error::from_response(
            404,
            Some(S3ErrorBody {
                code: Some("NoSuchKey".into()),
                message: Some("The specified key does not exist.".into()),
                request_id: Some("R1".into()),
                host_id: None,
            }),
        )
        .with_context("GetObject", Some("b"), Some("k"));
        assert_eq!(
            e.to_string(),
            "GetObject b/k: not found (404 NoSuchKey): The specified key does not exist."
        );
        assert_eq!(e.request_id(), Some("R1"));
        assert!(!e.to_string().contains('\n'));
    }
}
