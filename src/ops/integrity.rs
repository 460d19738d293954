//! Request checksums shared by the upload operations: computing one over a body before it is
//! sent, and checking what the service echoes back.

use crate::body::{Body, BodyKind};
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::error::{Error, ErrorKind, Result};
use crate::headers::header;
use http::HeaderMap;
use std::io::{Read, Seek};

/// Digests of in-memory bodies larger than this are computed on the blocking pool, so a
/// runtime worker is never held for milliseconds of MD5 or SHA.
const INLINE_DIGEST: usize = 1 << 20;

/// The checksum of a replayable body, and the number of bytes it covers.
///
/// A file is read once more for it (on the blocking pool), so the body itself still streams
/// from disk when sent: memory stays one read buffer whatever the size. A stream body cannot
/// be checksummed before sending (`InvalidInput`).
pub(crate) async fn body_checksum(body: &Body, alg: ChecksumAlgorithm) -> Result<(String, u64)> {
    match &body.kind {
        BodyKind::Bytes(b) => {
            let len = b.len() as u64;
            if alg.is_crc() || b.len() <= INLINE_DIGEST {
                return Ok((alg.compute(b), len));
            }
            let b = b.clone();
            let sum = tokio::task::spawn_blocking(move || alg.compute(&b))
                .await
                .map_err(|e| Error::new(ErrorKind::Cancelled).with_source(e))?;
            Ok((sum, len))
        }
        BodyKind::File { path, offset, len } => {
            let (path, offset, len) = (path.clone(), *offset, *len);
            tokio::task::spawn_blocking(move || file_checksum(&path, offset, len, alg))
                .await
                .map_err(|e| Error::new(ErrorKind::Cancelled).with_source(e))?
        }
        BodyKind::Stream { .. } => Err(Error::invalid_input(
            "a stream body cannot be checksummed before sending; turn the checksum off for \
             this request (.checksum(None)) or upload through the transfer engine",
        )),
    }
}

/// Reads `len` bytes (the rest of the file when `None`) from `offset` and hashes them.
fn file_checksum(
    path: &std::path::Path,
    offset: u64,
    len: Option<u64>,
    alg: ChecksumAlgorithm,
) -> Result<(String, u64)> {
    let io = |e| Error::io(format!("cannot read {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let total = len.unwrap_or(size.saturating_sub(offset));
    f.seek(std::io::SeekFrom::Start(offset)).map_err(io)?;
    let mut h = Hasher::new(alg);
    let mut buf = vec![0u8; 256 * 1024];
    let mut left = total;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = f.read(&mut buf[..want]).map_err(io)?;
        if n == 0 {
            return Err(Error::invalid_input(format!(
                "{} ended before the body's length",
                path.display()
            )));
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok((h.finish(), total))
}

/// Fails when the answer carries this algorithm's checksum with another value than the one
/// sent: the service stored bytes other than ours (a store that verified the header would
/// have refused them instead).
pub(crate) fn check_echo(headers: &HeaderMap, alg: ChecksumAlgorithm, sent: &str) -> Result<()> {
    if alg.amz_name().is_none() {
        return Ok(());
    }
    match header(headers, alg.header_name()) {
        Some(echo) if echo.trim() != sent => Err(Error::new(ErrorKind::ChecksumMismatch)
            .with_message(format!(
                "sent {} {sent}, the service answered {}",
                alg.header_name(),
                echo.trim()
            ))),
        _ => Ok(()),
    }
}
