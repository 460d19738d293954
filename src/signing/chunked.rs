//! The signatures of an aws-chunked body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`):
//! each chunk is signed over the previous signature and the chunk's SHA-256, starting from the
//! request's own signature (the seed); trailing headers are signed the same way after the
//! last, empty chunk.

use super::sigv4::{HmacSha256, push_hex};
use crate::signing::AmzDate;
use hmac::Mac;
use sha2::{Digest, Sha256};
use std::fmt;

/// The hex SHA-256 of nothing: the "previous headers" hash every chunk string to sign carries.
const EMPTY_SHA256_HEX: &[u8; 64] =
    b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signs the chunks of one aws-chunked body in order. Made by
/// [`Signer::chunk_signer`](super::Signer::chunk_signer); one per attempt, since every attempt
/// has its own seed signature.
///
/// ```
/// use async_s3::Credentials;
/// use async_s3::signing::{PayloadHash, SignableRequest, Signer};
/// use sha2::{Digest, Sha256};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
/// let signer = Signer::new("us-east-1", "s3");
/// let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
/// let request = SignableRequest {
///     method: "PUT",
///     path: "/examplebucket/chunkObject.txt",
///     query: "",
///     headers: &[
///         ("host", "s3.amazonaws.com"),
///         ("content-encoding", "aws-chunked"),
///         ("content-length", "66824"),
///         ("x-amz-decoded-content-length", "66560"),
///         ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
///     ],
/// };
/// let seed = signer.sign_headers(&creds, time, &request, &PayloadHash::StreamingSigned);
/// let mut chunks = signer.chunk_signer(&creds, &seed);
/// let first: [u8; 32] = Sha256::digest(vec![b'a'; 65536]).into();
/// assert_eq!(
///     chunks.sign_chunk(&first),
///     "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
/// );
/// ```
#[derive(Clone)]
pub struct ChunkSigner {
    mac: HmacSha256,
    /// `x-amz-date` and the credential scope, each followed by `\n`.
    date_and_scope: String,
    /// The previous signature, in hex.
    prev: String,
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner").finish_non_exhaustive()
    }
}

impl ChunkSigner {
    pub(super) fn new(mac: HmacSha256, amz_date: &AmzDate, scope: &str, seed: &str) -> Self {
        let mut date_and_scope = String::with_capacity(18 + scope.len());
        date_and_scope.push_str(amz_date.as_str());
        date_and_scope.push('\n');
        date_and_scope.push_str(scope);
        date_and_scope.push('\n');
        Self {
            mac,
            date_and_scope,
            prev: seed.to_owned(),
        }
    }

    /// Signs the next chunk, given the SHA-256 of its bytes (the last chunk is empty), and
    /// returns its signature in hex (the `chunk-signature` of the chunk header).
    pub fn sign_chunk(&mut self, chunk_sha256: &[u8; 32]) -> &str {
        self.sign_next(
            b"AWS4-HMAC-SHA256-PAYLOAD\n",
            Some(EMPTY_SHA256_HEX),
            chunk_sha256,
        )
    }

    /// Signs the trailing headers, given in their canonical form (`name:value\n` per header,
    /// sorted by name), and returns the value of `x-amz-trailer-signature`.
    pub fn sign_trailer(&mut self, canonical_trailers: &[u8]) -> &str {
        let hash: [u8; 32] = Sha256::digest(canonical_trailers).into();
        self.sign_next(b"AWS4-HMAC-SHA256-TRAILER\n", None, &hash)
    }

    fn sign_next(&mut self, algorithm: &[u8], extra: Option<&[u8; 64]>, hash: &[u8; 32]) -> &str {
        let mut mac = self.mac.clone();
        mac.update(algorithm);
        mac.update(self.date_and_scope.as_bytes());
        mac.update(self.prev.as_bytes());
        mac.update(b"\n");
        if let Some(e) = extra {
            mac.update(e);
            mac.update(b"\n");
        }
        let mut hex = String::with_capacity(64);
        push_hex(&mut hex, hash);
        mac.update(hex.as_bytes());
        self.prev.clear();
        push_hex(&mut self.prev, &mac.finalize().into_bytes());
        &self.prev
    }
}
