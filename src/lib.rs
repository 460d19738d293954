//! An async S3 client on tokio and reqwest.
//!
//! - [`signing`]: AWS Signature Version 4, pure and clock-injected, usable on its own.
//! - [`Client`] and [`Bucket`]: every object and bucket operation as a builder you `.await`,
//!   with typed outputs and one opaque [`Error`] whose [`ErrorKind`] you can match.
//! - Presigned URLs for GET, PUT, HEAD and DELETE, computed locally.
//!
//! # Example
//!
//! ```no_run
//! use async_s3::{Client, Credentials};
//!
//! # async fn demo() -> Result<(), async_s3::Error> {
//! let client = Client::builder()
//!     .endpoint("http://127.0.0.1:9000")
//!     .region("us-east-1")
//!     .credentials(Credentials::from_env()?)
//!     .build()?;
//! let bucket = client.bucket("photos");
//! bucket.put_object("cats/1.jpg", vec![0u8; 1024]).content_type("image/jpeg").await?;
//! let head = bucket.get_object("cats/1.jpg").range(0..16).await?.bytes().await?;
//! assert_eq!(head.len(), 16);
//! # Ok(()) }
//! ```
//!
//! Every request is signed right before it is sent, so each retry carries a fresh signature;
//! bodies are `Bytes` or files re-read from disk, so a retry sends the identical bytes.

/// Not a public API: entry points for `benches/parsing.rs` only, with no stability promise.
#[doc(hidden)]
#[path = "bench_api.rs"]
pub mod __bench;
mod bandwidth;
mod base64;
mod body;
mod checksum;
mod client;
mod config;
mod congestion;
pub mod credentials;
mod endpoint;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod headers;
mod ops;
mod request;
mod runtime;
pub mod signing;
mod transfer;
mod transport;
mod types;
mod xml;

pub use body::Body;
pub use checksum::{ChecksumAlgorithm, ChecksumType};
pub use client::{Bucket, Client, ClientBuilder};
pub use config::{PayloadSigning, ProxyConfig, RetryConfig};
pub use credentials::{Credentials, CredentialsFuture, ProvideCredentials};
pub use endpoint::AddressingStyle;
pub use error::{Error, ErrorKind, Result};
pub use ops::bucket_ops::{CreateBucket, CreateBucketOutput, ListBuckets};
pub use ops::copy_object::{CopyObject, CopyObjectOutput};
pub use ops::delete_object::{DeleteObject, DeleteObjectOutput};
pub use ops::delete_objects::{DeleteObjects, DeleteObjectsOutput, MAX_DELETE_KEYS};
pub use ops::get_object::{ByteRange, ContentRange, GetObject, GetObjectOutput, ObjectStream};
pub use ops::head_object::HeadObject;
pub use ops::list_objects::{Entries, ListObjects, Pages};
pub use ops::meta::{ObjectMeta, ServerSideEncryption};
pub use ops::multipart::{CreateMultipartUpload, MAX_PARTS, MultipartUpload};
pub use ops::multipart_complete::CompleteMultipartUploadOutput;
pub use ops::presign::{Presign, PresignedRequest};
pub use ops::put_object::{PutObject, PutObjectOutput};
pub use runtime::{AsyncSleep, Clock, JitterSource, SleepFuture, SystemClock};
pub use transfer::{
    CancelHandle, DEFAULT_CONCURRENCY, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE, Download,
    DownloadOutput, DownloadPrefix, DownloadPrefixOutput, DownloadStream, MAX_PART_SIZE,
    MIN_PART_SIZE, Progress, Upload, UploadOutput,
};
// issue 11, part B: server-side copy, encryption, conditional writes, attributes
pub use ops::multipart_options::CompleteMultipartUpload;
pub use ops::object_attributes::{
    GetObjectAttributes, ObjectAttribute, ObjectAttributes, ObjectParts,
};
pub use ops::sse::SseCustomerKey;
pub use ops::upload_part_copy::{UploadPartCopy, UploadPartCopyOutput};
pub use transfer::{DEFAULT_COPY_PART_SIZE, DEFAULT_COPY_THRESHOLD, ObjectCopy, ObjectCopyOutput};
pub use types::{
    BucketInfo, DeleteObjectError, DeletedObject, ListEntry, ListPage, ObjectInfo, PartInfo,
    S3ErrorBody, Text,
};
// versioning, tagging, object lock, uploads in progress, presigned POST (issue 11)
pub use ops::list_uploads::{ListMultipartUploads, UploadPages, Uploads};
pub use ops::object_lock::{
    GetObjectLegalHold, GetObjectRetention, ObjectRetention, PutObjectLegalHold,
    PutObjectRetention, RetentionMode,
};
pub use ops::post_policy::{PresignPost, PresignedPost};
pub use ops::tagging::{MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, Tagging, TaggingOutput};
pub use ops::versioning::{
    BucketVersioning, GetBucketVersioning, ListObjectVersions, PutBucketVersioning, VersionPages,
    VersioningStatus, Versions,
};
pub use transfer::{AbortUploadsOlderThan, AbortUploadsOutput, DeletePrefix, DeletePrefixOutput};
// directory upload and sync (issue 13)
pub use transfer::{
    Compare, DirSync, FailedFile, FileProgress, SyncAction, SyncOutput, SyncReason, UploadDir,
    UploadDirOutput,
};
pub use types::{
    DeleteMarkerEntry, MultipartUploadInfo, ObjectVersion, UploadsPage, VersionEntry, VersionsPage,
};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
