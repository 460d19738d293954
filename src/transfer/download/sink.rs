//! Where one range's bytes go: a file positioned at the range's offset (chunks batched into
//! vectored writes on the blocking pool) or a region of a buffer, with the running CRC of
//! what went there when the download verifies one.

use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::error::{Error, Result};
use bytes::{Bytes, BytesMut};

/// File writes are batched to this size: each write is a blocking-pool round trip.
const FILE_BATCH: usize = 1 << 20;

/// What a range hands back once its sink is finished: its buffer when it filled one, and the
/// CRC of its bytes (value, length) when the download verifies one.
pub(super) struct RangeDone {
    pub(super) buf: Option<BytesMut>,
    pub(super) crc: Option<(u64, u64)>,
}

/// Where one range's bytes go, and the running CRC of what went there (each byte is
/// written once, in order, whatever resumption happened).
pub(super) struct Sink {
    to: Target,
    crc: Option<Hasher>,
}

enum Target {
    /// A file positioned at the range's offset (lent to the blocking pool while a batch is
    /// written), and the received chunks not yet written, with their total length. The
    /// chunks are written as they came (one vectored write), never copied into a buffer.
    File(Option<std::fs::File>, Vec<Bytes>, usize),
    Buf(BytesMut, usize),
}

impl Sink {
    pub(super) fn file(f: std::fs::File, crc: Option<ChecksumAlgorithm>) -> Self {
        Sink {
            to: Target::File(Some(f), Vec::new(), 0),
            crc: crc.map(Hasher::new),
        }
    }

    pub(super) fn buf(b: BytesMut, crc: Option<ChecksumAlgorithm>) -> Self {
        Sink {
            to: Target::Buf(b, 0),
            crc: crc.map(Hasher::new),
        }
    }

    pub(super) async fn write(&mut self, chunk: Bytes) -> Result<()> {
        if let Some(h) = &mut self.crc {
            h.update(&chunk);
        }
        match &mut self.to {
            Target::File(file, pending, len) => {
                *len += chunk.len();
                pending.push(chunk);
                if *len >= FILE_BATCH {
                    write_batch(file, pending).await?;
                    *len = 0;
                }
                Ok(())
            }
            Target::Buf(b, pos) => {
                let end = *pos + chunk.len();
                if end > b.len() {
                    return Err(Error::invalid_response(
                        "a range sent more bytes than asked for",
                    ));
                }
                b[*pos..end].copy_from_slice(&chunk);
                *pos = end;
                Ok(())
            }
        }
    }

    pub(super) async fn finish(self) -> Result<RangeDone> {
        let crc = self.crc.as_ref().and_then(Hasher::crc_piece);
        let buf = match self.to {
            Target::File(mut file, mut pending, _) => {
                write_batch(&mut file, &mut pending).await?;
                None
            }
            Target::Buf(b, _) => Some(b),
        };
        Ok(RangeDone { buf, crc })
    }
}

/// Writes `chunks` at the file's position on the blocking pool, and empties the list.
async fn write_batch(file: &mut Option<std::fs::File>, chunks: &mut Vec<Bytes>) -> Result<()> {
    let io = |e| Error::io("cannot write the download", e);
    // A sink whose earlier write failed stays failed, even with nothing left to write.
    if file.is_none() {
        return Err(io(std::io::Error::other("an earlier write failed")));
    }
    if chunks.is_empty() {
        return Ok(());
    }
    let mut f = file
        .take()
        .ok_or_else(|| io(std::io::Error::other("an earlier write failed")))?;
    let batch = std::mem::take(chunks);
    let (f, mut batch, written) = tokio::task::spawn_blocking(move || {
        let written = write_all_chunks(&mut f, &batch);
        (f, batch, written)
    })
    .await
    .map_err(|e| io(std::io::Error::other(e)))?;
    written.map_err(io)?;
    *file = Some(f);
    batch.clear();
    *chunks = batch; // keep the list's allocation for the next batch
    Ok(())
}

/// `write_all` for a list of chunks, with vectored writes.
fn write_all_chunks(f: &mut std::fs::File, chunks: &[Bytes]) -> std::io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
