//! AWS Signature Version 4 for S3, as pure functions.
//!
//! Nothing here performs I/O or reads the clock: a request description, credentials and a
//! time go in; headers (or a presigned query string) come out. The client calls this once per
//! attempt, right before sending, so every retry carries a fresh `x-amz-date`.
//!
//! The three steps of SigV4 are three named functions:
//! [`canonical_request`], [`string_to_sign`] and [`SigningKey::sign`]; [`Signer`] ties them
//! together and caches the derived signing key per (date, region, service, credentials).
//!
//! S3 rules honoured here: the path is URI-encoded exactly once and never normalized
//! ([`encode_path`]); query names and values are encoded with the strict SigV4 set
//! ([`CanonicalQuery`]); header values are trimmed and every run of whitespace (spaces, tabs,
//! line breaks: the ASCII whitespace Python's `str.split()` knows) folded to one space, as
//! botocore does (`aws-sigv4` folds spaces only, so the two differ for a tab; botocore also
//! folds Unicode whitespace such as U+00A0, which is kept as it is here); every header
//! handed to the signer is signed, plus `x-amz-date`, `x-amz-content-sha256` and, with a
//! session token, `x-amz-security-token`.
//!
//! # Example
//!
//! ```
//! use async_s3::Credentials;
//! use async_s3::signing::{CanonicalQuery, PayloadHash, SignableRequest, Signer};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
//! let signer = Signer::new("us-east-1", "s3");
//! let query = CanonicalQuery::new([("list-type", "2"), ("prefix", "photos/")]);
//! let request = SignableRequest {
//!     method: "GET",
//!     path: "/examplebucket",
//!     query: query.as_str(),
//!     headers: &[("host", "s3.amazonaws.com")],
//! };
//! let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
//! let signed = signer.sign_headers(&creds, time, &request, &PayloadHash::EMPTY);
//! assert!(signed.authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"));
//! ```

mod chunked;
mod encode;
mod signer;
mod sigv4;
mod time_fmt;

pub use chunked::ChunkSigner;
pub use encode::{CanonicalQuery, encode_path, encode_query_component};
pub use signer::{Signer, SigningCredentials};
pub use sigv4::{
    ALGORITHM, MAX_PRESIGN_EXPIRY_SECS, PayloadHash, PresignError, SignableRequest, SignedHeaders,
    SigningKey, canonical_request, credential_scope, string_to_sign,
};
pub use time_fmt::AmzDate;

#[cfg(test)]
mod tests;
