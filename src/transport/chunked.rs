//! aws-chunked request bodies: the body cut into fixed-size chunks, each framed as
//! `hex-size[;chunk-signature=sig]\r\n data \r\n`, an empty last chunk, and optionally
//! trailing headers carrying a checksum computed while the bytes went by.
//!
//! The data is never copied: a chunk is sent as the slices of the input that make it up,
//! preceded by its header. The encoded length is known before sending
//! ([`encoded_len`]), so the request carries a `Content-Length` like any other.

use super::errors::WrongLength;
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::signing::ChunkSigner;
use bytes::Bytes;
use futures_core::Stream;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The size of every chunk but the last: 64 KiB, as the AWS SDKs use (S3 wants at least 8 KiB).
pub(crate) const CHUNK_SIZE: usize = 64 * 1024;

/// `;chunk-signature=` plus 64 hex digits.
const SIGNATURE_EXT_LEN: u64 = 17 + 64;

/// The length of the base64 value of each trailing checksum.
fn checksum_value_len(alg: ChecksumAlgorithm) -> u64 {
    match alg {
        ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 8,
        ChecksumAlgorithm::Crc64Nvme => 12,
        ChecksumAlgorithm::Sha1 => 28,
        ChecksumAlgorithm::Sha256 => 44,
        // Never a trailer (put_object refuses it for streams); 16 bytes in base64.
        ChecksumAlgorithm::ContentMd5 => 24,
    }
}

fn hex_len(n: u64) -> u64 {
    if n == 0 {
        1
    } else {
        u64::from(64 - n.leading_zeros()).div_ceil(4)
    }
}

/// How the chunks are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Framing {
    /// Chunk signatures (and a trailer signature) are sent.
    pub(crate) signed: bool,
    /// The checksum sent as a trailing header.
    pub(crate) trailer: Option<ChecksumAlgorithm>,
}

/// The number of bytes on the wire for a body of `decoded` bytes.
pub(crate) fn encoded_len(decoded: u64, framing: Framing) -> u64 {
    let sig = if framing.signed { SIGNATURE_EXT_LEN } else { 0 };
    let chunk = CHUNK_SIZE as u64;
    let full = decoded / chunk;
    let rest = decoded % chunk;
    let mut n = full * (hex_len(chunk) + sig + 2 + chunk + 2);
    if rest > 0 {
        n += hex_len(rest) + sig + 2 + rest + 2;
    }
    // The empty last chunk: "0" + signature + CRLF.
    n += 1 + sig + 2;
    if let Some(alg) = framing.trailer {
        n += alg.header_name().len() as u64 + 1 + checksum_value_len(alg) + 2;
        if framing.signed {
            n += "x-amz-trailer-signature:".len() as u64 + 64 + 2;
        }
    }
    // The CRLF that ends the body.
    n + 2
}

/// The aws-chunked encoding of `inner`, signed by `signer` (or unsigned when `None`).
pub(crate) struct AwsChunked<S> {
    inner: S,
    signer: Option<ChunkSigner>,
    checksum: Option<(ChecksumAlgorithm, Hasher)>,
    /// Input slices not yet sent, `pending_len` bytes in all.
    pending: VecDeque<Bytes>,
    pending_len: usize,
    /// Framed output ready to go.
    out: VecDeque<Bytes>,
    finished: bool,
    /// Where the trailing checksum's value goes once computed: the attempt puts it on the
    /// response, for the operation to compare with the service's echo.
    sent: Option<tokio::sync::oneshot::Sender<String>>,
}

impl<S> AwsChunked<S> {
    /// `inner` must yield exactly the length the encoded length was computed from (it is
    /// wrapped in [`ExactLen`]).
    pub(crate) fn new(
        inner: S,
        signer: Option<ChunkSigner>,
        trailer: Option<ChecksumAlgorithm>,
        sent: Option<tokio::sync::oneshot::Sender<String>>,
    ) -> Self {
        Self {
            sent,
            inner,
            signer,
            checksum: trailer.map(|a| (a, Hasher::new(a))),
            pending: VecDeque::new(),
            pending_len: 0,
            out: VecDeque::new(),
            finished: false,
        }
    }

    /// Frames the first `n` pending bytes as one chunk.
    fn emit_chunk(&mut self, n: usize) {
        let mut taken = Vec::with_capacity(self.pending.len().min(8));
        let mut left = n;
        while left > 0 {
            let Some(mut b) = self.pending.pop_front() else {
                break;
            };
            if b.len() > left {
                let rest = b.split_off(left);
                self.pending.push_front(rest);
            }
            left -= b.len();
            taken.push(b);
        }
        self.pending_len -= n;
        let mut header = format!("{n:x}");
        if let Some(signer) = self.signer.as_mut() {
            let mut sha = Sha256::new();
            for b in &taken {
                sha.update(b);
            }
            let hash: [u8; 32] = sha.finalize().into();
            header.push_str(";chunk-signature=");
            header.push_str(signer.sign_chunk(&hash));
        }
        header.push_str("\r\n");
        if let Some((_, h)) = self.checksum.as_mut() {
            for b in &taken {
                h.update(b);
            }
        }
        self.out.push_back(Bytes::from(header));
        self.out.extend(taken);
        self.out.push_back(Bytes::from_static(b"\r\n"));
    }

    /// The empty last chunk, the trailer if any, and the closing CRLF.
    fn emit_end(&mut self) {
        let mut end = String::from("0");
        if let Some(signer) = self.signer.as_mut() {
            let empty: [u8; 32] = Sha256::digest(b"").into();
            end.push_str(";chunk-signature=");
            end.push_str(signer.sign_chunk(&empty));
        }
        end.push_str("\r\n");
        if let Some((alg, h)) = self.checksum.take() {
            let value = h.finish();
            let line = format!("{}:{value}", alg.header_name());
            if let Some(tx) = self.sent.take() {
                // The attempt may be gone already (cancelled): nobody needs the value then.
                let _ = tx.send(value);
            }
            end.push_str(&line);
            end.push_str("\r\n");
            if let Some(signer) = self.signer.as_mut() {
                let canonical = format!("{line}\n");
                end.push_str("x-amz-trailer-signature:");
                end.push_str(signer.sign_trailer(canonical.as_bytes()));
                end.push_str("\r\n");
            }
        }
        end.push_str("\r\n");
        self.out.push_back(Bytes::from(end));
    }
}

/// A body stream held to the length it announced: more bytes, or an end before the last one,
/// is a [`WrongLength`] error instead of a malformed request.
pub(crate) struct ExactLen<S> {
    inner: S,
    expected: u64,
    seen: u64,
    failed: bool,
}

impl<S> ExactLen<S> {
    pub(crate) fn new(inner: S, expected: u64) -> Self {
        Self {
            inner,
            expected,
            seen: 0,
            failed: false,
        }
    }

    fn fail(&mut self, msg: String) -> Poll<Option<std::io::Result<Bytes>>> {
        self.failed = true;
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            WrongLength(msg),
        ))))
    }
}

impl<S> Stream for ExactLen<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(b))) => {
                this.seen += b.len() as u64;
                if this.seen > this.expected {
                    let msg = format!(
                        "the body yielded more than the {} bytes it announced",
                        this.expected
                    );
                    return this.fail(msg);
                }
                Poll::Ready(Some(Ok(b)))
            }
            Poll::Ready(None) if this.seen != this.expected => {
                let msg = format!(
                    "the body ended after {} of the {} bytes it announced",
                    this.seen, this.expected
                );
                this.fail(msg)
            }
            other => other,
        }
    }
}

impl<S> Stream for AwsChunked<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(b) = this.out.pop_front() {
                return Poll::Ready(Some(Ok(b)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            // One chunk is framed (hashed and signed) per turn, so a large input item is not
            // hashed in one go on the runtime's thread.
            if this.pending_len >= CHUNK_SIZE {
                this.emit_chunk(CHUNK_SIZE);
                continue;
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(b))) => {
                    if !b.is_empty() {
                        this.pending_len += b.len();
                        this.pending.push_back(b);
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finished = true;
                    this.out.clear();
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    if this.pending_len > 0 {
                        let n = this.pending_len;
                        this.emit_chunk(n);
                    }
                    this.emit_end();
                    this.finished = true;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    async fn encode(input: Vec<Bytes>, framing: Framing) -> Vec<u8> {
        let signer = framing.signed.then(|| {
            let creds = crate::Credentials::new("AKID", "secret");
            let signer = crate::signing::Signer::new("us-east-1", "s3");
            let req = crate::signing::SignableRequest {
                method: "PUT",
                path: "/b/k",
                query: "",
                headers: &[("host", "h")],
            };
            let t = std::time::UNIX_EPOCH;
            let seed = signer.sign_headers(
                &creds,
                t,
                &req,
                &crate::signing::PayloadHash::StreamingSigned,
            );
            signer.chunk_signer(&creds, &seed)
        });
        let inner = futures_util::stream::iter(input.into_iter().map(Ok));
        let s = AwsChunked::new(inner, signer, framing.trailer, None);
        let parts: Vec<std::io::Result<Bytes>> = s.collect().await;
        parts
            .into_iter()
            .flat_map(|b| b.unwrap().to_vec())
            .collect()
    }

    /// Parses an encoding back: the data, the chunk sizes, and the trailer lines.
    fn decode(mut wire: &[u8]) -> (Vec<u8>, Vec<usize>, Vec<String>) {
        let mut data = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let eol = wire.windows(2).position(|w| w == b"\r\n").unwrap();
            let head = std::str::from_utf8(&wire[..eol]).unwrap();
            let size = usize::from_str_radix(head.split(';').next().unwrap(), 16).unwrap();
            wire = &wire[eol + 2..];
            sizes.push(size);
            if size == 0 {
                break;
            }
            data.extend_from_slice(&wire[..size]);
            assert_eq!(&wire[size..size + 2], b"\r\n");
            wire = &wire[size + 2..];
        }
        let text = std::str::from_utf8(wire).unwrap();
        assert!(text.ends_with("\r\n"), "{text:?}");
        let lines = text
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        (data, sizes, lines)
    }

    #[tokio::test]
    async fn lengths_match_the_encoding_for_every_shape() {
        let data: Vec<u8> = (0..(3 * CHUNK_SIZE + 1234))
            .map(|i| (i % 251) as u8)
            .collect();
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE + 1234,
        ] {
            for signed in [false, true] {
                for trailer in [
                    None,
                    Some(ChecksumAlgorithm::Crc32c),
                    Some(ChecksumAlgorithm::Crc64Nvme),
                    Some(ChecksumAlgorithm::Sha256),
                    Some(ChecksumAlgorithm::Sha1),
                    Some(ChecksumAlgorithm::Crc32),
                ] {
                    let framing = Framing { signed, trailer };
                    // Input slices of an awkward size, so chunks straddle them.
                    let input: Vec<Bytes> = data[..len]
                        .chunks(7000)
                        .map(Bytes::copy_from_slice)
                        .collect();
                    let wire = encode(input, framing).await;
                    assert_eq!(
                        wire.len() as u64,
                        encoded_len(len as u64, framing),
                        "{len} {framing:?}"
                    );
                    let (decoded, sizes, lines) = decode(&wire);
                    assert_eq!(decoded, &data[..len]);
                    assert!(
                        sizes[..sizes.len() - 1]
                            .iter()
                            .rev()
                            .skip(1)
                            .all(|s| *s == CHUNK_SIZE)
                    );
                    if let Some(alg) = trailer {
                        assert_eq!(
                            lines[0],
                            format!("{}:{}", alg.header_name(), alg.compute(&data[..len]))
                        );
                        assert_eq!(lines.len(), if signed { 2 } else { 1 });
                    } else {
                        assert!(lines.is_empty());
                    }
                }
            }
        }
    }
}
