//! The three SigV4 steps and what they work on: the request description ([`SignableRequest`],
//! [`PayloadHash`]), the canonical request, the string to sign, the signing key, and the
//! signed headers they produce.

use super::AmzDate;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;

/// The algorithm name of SigV4 with HMAC-SHA256.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The longest expiry a presigned URL may have: seven days.
pub const MAX_PRESIGN_EXPIRY_SECS: u64 = 604_800;

pub(super) type HmacSha256 = Hmac<Sha256>;

/// The value of `x-amz-content-sha256`: how the payload takes part in the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadHash {
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (use a checksum instead).
    Unsigned,
    /// The SHA-256 digest of the whole body.
    Sha256([u8; 32]),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked encoding with a signature per chunk
    /// ([`ChunkSigner`](super::ChunkSigner)).
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks followed by signed trailing
    /// headers (a checksum computed while the body is sent).
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked without chunk signatures, followed by
    /// trailing headers (a checksum), for when the payload is not signed (over TLS, or when
    /// payload signing is turned off).
    StreamingUnsignedTrailer,
}

impl PayloadHash {
    /// The hash of an empty body.
    pub const EMPTY: PayloadHash = PayloadHash::Sha256([
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55,
    ]);

    /// Hashes `body` with SHA-256.
    pub fn of(body: &[u8]) -> Self {
        PayloadHash::Sha256(Sha256::digest(body).into())
    }

    /// The header value: a lowercase hex digest or one of the literal modes.
    pub fn header_value(&self) -> String {
        match self {
            PayloadHash::Unsigned => "UNSIGNED-PAYLOAD".to_owned(),
            PayloadHash::StreamingSigned => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned(),
            PayloadHash::StreamingSignedTrailer => {
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".to_owned()
            }
            PayloadHash::StreamingUnsignedTrailer => {
                "STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_owned()
            }
            PayloadHash::Sha256(d) => {
                let mut hex = String::with_capacity(64);
                push_hex(&mut hex, d);
                hex
            }
        }
    }
}

/// A request as the signer sees it.
///
/// `path` must already be encoded by [`encode_path`](super::encode_path) and `query` must come from
/// [`CanonicalQuery`](super::CanonicalQuery), because the same strings are sent on the wire: S3 recomputes the
/// canonical request from what it receives.
///
/// Its `Debug` output hides the values of secret headers: SSE-C keys (`*-customer-key`),
/// `authorization` and `x-amz-security-token`.
#[derive(Clone, Copy)]
pub struct SignableRequest<'a> {
    /// The HTTP method in upper case.
    pub method: &'a str,
    /// The encoded path, starting with `/`.
    pub path: &'a str,
    /// The canonical (encoded, sorted) query string, without `?`; empty for none.
    pub query: &'a str,
    /// The headers to sign, `host` included; names in any case; values are trimmed and every
    /// run of ASCII whitespace (a tab too) signed as one space, as botocore signs them (send
    /// them that way: a server that keeps a tab computes another signature). Only ASCII
    /// whitespace: botocore also folds Unicode whitespace (U+00A0, U+3000, …), which is kept
    /// as it is here, so such a value signs differently from botocore. `x-amz-date`,
    /// `x-amz-content-sha256` and `x-amz-security-token` are added by the signer.
    pub headers: &'a [(&'a str, &'a str)],
}

impl std::fmt::Debug for SignableRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secret values: an SSE-C key, a signature, a session token.
        let secret = |name: &str| {
            let name = name.trim().to_ascii_lowercase();
            name.ends_with("-customer-key")
                || name == "authorization"
                || name == "x-amz-security-token"
        };
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|&(n, v)| (n, if secret(n) { "<redacted>" } else { v }))
            .collect();
        f.debug_struct("SignableRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .finish()
    }
}

/// The headers a signed request must carry in addition to its own.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedHeaders {
    /// The `authorization` header.
    pub authorization: String,
    /// The `x-amz-date` header.
    pub amz_date: String,
    /// The `x-amz-content-sha256` header.
    pub content_sha256: String,
    /// The `x-amz-security-token` header, when the credentials have a session token.
    pub security_token: Option<String>,
}

impl SignedHeaders {
    /// The request's signature: the hex at the end of `authorization`. For an aws-chunked
    /// body it is the seed of the chunk signatures ([`Signer::chunk_signer`](super::Signer::chunk_signer)).
    pub fn signature(&self) -> &str {
        let a = self.authorization.as_str();
        a.rsplit_once("Signature=").map_or("", |(_, sig)| sig)
    }

    /// The headers as (name, value) pairs, ready to add to the request.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        [
            Some(("authorization", self.authorization.as_str())),
            Some(("x-amz-date", self.amz_date.as_str())),
            Some(("x-amz-content-sha256", self.content_sha256.as_str())),
            self.security_token
                .as_deref()
                .map(|t| ("x-amz-security-token", t)),
        ]
        .into_iter()
        .flatten()
    }
}

impl fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("amz_date", &self.amz_date)
            .field("content_sha256", &self.content_sha256)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .finish_non_exhaustive()
    }
}

/// Builds the canonical request (step 1 of SigV4) into a new string.
///
/// `headers` are (lowercase name, value) pairs already sorted by name, with values raw;
/// values are trimmed and every run of ASCII whitespace (tabs and line breaks too) folded
/// to one space here, botocore's rule. Headers of the same name must be adjacent; their
/// values are joined with `,`.
pub fn canonical_request<N: AsRef<str>>(
    method: &str,
    path: &str,
    query: &str,
    sorted_headers: &[(N, &str)],
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(
        method.len()
            + path.len()
            + query.len()
            + payload_hash.len()
            + sorted_headers
                .iter()
                .map(|(n, v)| 2 * n.as_ref().len() + v.len() + 2)
                .sum::<usize>()
            + 8,
    );
    write_canonical_request(&mut out, method, path, query, sorted_headers, payload_hash);
    out
}

/// Where the canonical request is written: a string, or straight into its hash.
pub(super) trait Sink {
    fn push_str(&mut self, s: &str);
    /// Appends one ASCII character.
    fn push(&mut self, c: char);
}

impl Sink for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    fn push(&mut self, c: char) {
        String::push(self, c);
    }
}

/// Hashes what is written to it through a block-sized buffer, so the canonical request is
/// never materialized and never allocated.
pub(super) struct HashSink {
    sha: Sha256,
    buf: [u8; 128],
    len: usize,
}

impl HashSink {
    pub(super) fn new() -> Self {
        Self {
            sha: Sha256::new(),
            buf: [0; 128],
            len: 0,
        }
    }

    pub(super) fn finish(mut self) -> [u8; 32] {
        self.sha.update(&self.buf[..self.len]);
        self.sha.finalize().into()
    }
}

impl Sink for HashSink {
    fn push(&mut self, c: char) {
        debug_assert!(c.is_ascii());
        if self.len == self.buf.len() {
            self.sha.update(self.buf);
            self.len = 0;
        }
        self.buf[self.len] = c as u8;
        self.len += 1;
    }

    fn push_str(&mut self, s: &str) {
        let b = s.as_bytes();
        if self.len + b.len() <= self.buf.len() {
            // Short pieces byte by byte: cheaper than a call to memcpy.
            if b.len() <= 16 {
                for (d, s) in self.buf[self.len..self.len + b.len()].iter_mut().zip(b) {
                    *d = *s;
                }
            } else {
                self.buf[self.len..self.len + b.len()].copy_from_slice(b);
            }
            self.len += b.len();
            return;
        }
        self.sha.update(&self.buf[..self.len]);
        self.len = 0;
        if b.len() >= self.buf.len() {
            self.sha.update(b);
        } else {
            self.buf[..b.len()].copy_from_slice(b);
            self.len = b.len();
        }
    }
}

pub(super) fn write_canonical_request<N: AsRef<str>, S: Sink>(
    out: &mut S,
    method: &str,
    path: &str,
    query: &str,
    sorted_headers: &[(N, &str)],
    payload_hash: &str,
) {
    out.push_str(method);
    out.push('\n');
    out.push_str(path);
    out.push('\n');
    out.push_str(query);
    out.push('\n');
    let mut prev: Option<&str> = None;
    for (name, value) in sorted_headers {
        let name = name.as_ref();
        if prev == Some(name) {
            out.push(',');
        } else {
            if prev.is_some() {
                out.push('\n');
            }
            out.push_str(name);
            out.push(':');
        }
        push_trimmed(out, value);
        prev = Some(name);
    }
    if prev.is_some() {
        out.push('\n');
    }
    out.push('\n');
    push_signed_header_names(out, sorted_headers);
    out.push('\n');
    out.push_str(payload_hash);
}

/// The `SignedHeaders` list: distinct names joined by `;`.
pub(super) fn push_signed_header_names<N: AsRef<str>, S: Sink>(
    out: &mut S,
    sorted_headers: &[(N, &str)],
) {
    let mut prev: Option<&str> = None;
    for (name, _) in sorted_headers {
        let name = name.as_ref();
        if prev == Some(name) {
            continue;
        }
        if prev.is_some() {
            out.push(';');
        }
        out.push_str(name);
        prev = Some(name);
    }
}

/// Whether `b` is whitespace that botocore folds: the ASCII characters Python's `str.split()`
/// splits on (space, tab, line feed, vertical tab, form feed, carriage return and the
/// separators 0x1C to 0x1F).
fn is_folded_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f)
}

/// Appends `value` trimmed, every run of whitespace folded to one space: botocore's rule
/// (`' '.join(value.split())`), for ASCII whitespace only. Non-ASCII characters are kept as
/// they are, Unicode whitespace included (botocore's `str.split()` folds U+00A0, U+3000, …
/// too; header values on the wire are ASCII in practice).
pub(super) fn push_trimmed<S: Sink>(out: &mut S, value: &str) {
    let b = value.as_bytes();
    // The common case: no whitespace but single spaces between words.
    let mut clean = true;
    let mut last_space = true; // a leading space is not clean
    for &c in b {
        let space = is_folded_space(c);
        if space && (last_space || c != b' ') {
            clean = false;
            break;
        }
        last_space = space;
    }
    if clean && !last_space || b.is_empty() {
        out.push_str(value);
        return;
    }
    let words = value
        .split(|c: char| c.is_ascii() && is_folded_space(c as u8))
        .filter(|w| !w.is_empty());
    for (i, word) in words.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// `name` in lower case, borrowed when it already is.
pub(super) fn lowercase(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Builds the string to sign (step 2 of SigV4) from the canonical request.
pub fn string_to_sign(amz_date: &AmzDate, scope: &str, canonical_request: &str) -> String {
    let hash = Sha256::digest(canonical_request.as_bytes());
    let mut out = String::with_capacity(ALGORITHM.len() + scope.len() + 90);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(amz_date.as_str());
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    push_hex(&mut out, &hash);
    out
}

/// Feeds the string to sign to `mac`: the same bytes [`string_to_sign`] would build, from
/// the hash of the canonical request.
pub(super) fn feed_string_to_sign(
    mac: &mut HmacSha256,
    amz_date: &str,
    scope: &str,
    creq_hash: &[u8; 32],
) {
    let mut hex = [0u8; 64];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in creq_hash.iter().enumerate() {
        hex[2 * i] = HEX[(b >> 4) as usize];
        hex[2 * i + 1] = HEX[(b & 0xf) as usize];
    }
    // One update per piece would cost a buffer copy each; the pieces are joined on the stack.
    let mut buf = [0u8; 256];
    let mut n = 0;
    for piece in [
        ALGORITHM.as_bytes(),
        b"\n",
        amz_date.as_bytes(),
        b"\n",
        scope.as_bytes(),
        b"\n",
        &hex,
    ] {
        if n + piece.len() > buf.len() {
            mac.update(&buf[..n]);
            n = 0;
        }
        if piece.len() > buf.len() {
            mac.update(piece);
        } else {
            buf[n..n + piece.len()].copy_from_slice(piece);
            n += piece.len();
        }
    }
    mac.update(&buf[..n]);
}

/// The credential scope: `date/region/service/aws4_request`.
pub fn credential_scope(amz_date: &AmzDate, region: &str, service: &str) -> String {
    let mut out = String::with_capacity(30 + region.len() + service.len());
    push_scope(&mut out, amz_date.date(), region, service);
    out
}

pub(super) fn push_scope(out: &mut String, date: &str, region: &str, service: &str) {
    out.push_str(date);
    out.push('/');
    out.push_str(region);
    out.push('/');
    out.push_str(service);
    out.push_str("/aws4_request");
}

pub(super) fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        for (i, b) in chunk.iter().enumerate() {
            buf[2 * i] = HEX[(b >> 4) as usize];
            buf[2 * i + 1] = HEX[(b & 0xf) as usize];
        }
        // Only ASCII hex digits were written.
        out.push_str(std::str::from_utf8(&buf[..2 * chunk.len()]).unwrap_or_default());
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The derived SigV4 signing key for one (date, region, service) and one secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(pub(super) [u8; 32]);

impl SigningKey {
    /// Derives the key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    ///
    /// `date` is `YYYYMMDD`.
    pub fn derive(secret_access_key: &str, date: &str, region: &str, service: &str) -> Self {
        let mut k = Vec::with_capacity(4 + secret_access_key.len());
        k.extend_from_slice(b"AWS4");
        k.extend_from_slice(secret_access_key.as_bytes());
        let k_date = hmac(&k, date.as_bytes());
        let k_region = hmac(&k_date, region.as_bytes());
        let k_service = hmac(&k_region, service.as_bytes());
        SigningKey(hmac(&k_service, b"aws4_request"))
    }

    /// Signs `string_to_sign` (step 3 of SigV4): the lowercase hex HMAC-SHA256.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let mut out = String::with_capacity(64);
        push_hex(&mut out, &hmac(&self.0, string_to_sign.as_bytes()));
        out
    }

    /// An HMAC state keyed with this key.
    pub(super) fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

/// A presigned URL was asked for with an expiry outside 1 s ..= 7 days.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("presigned URL expiry of {expires_secs} s is outside 1 ..= 604800 s (7 days)")]
pub struct PresignError {
    /// The expiry that was asked for, in seconds.
    pub expires_secs: u64,
}
