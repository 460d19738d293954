//! Where the parts of an upload come from: a stream cut into parts (`PartReader`), or a
//! source of known size read at each part's offset (`PartSource`).

use crate::body::Body;
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::error::{Error, ErrorKind, Result};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::SystemTime;

/// A stream of upload chunks.
pub(super) type ChunkStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// A stream of chunks cut into parts: the bytes past a part's end wait in `leftover`.
pub(super) struct PartReader {
    stream: ChunkStream,
    leftover: Option<Bytes>,
}

impl PartReader {
    pub(super) fn new(stream: ChunkStream) -> Self {
        Self {
            stream,
            leftover: None,
        }
    }

    /// Reads until `want` bytes or the end; returns the bytes and whether the stream ended.
    /// A chunk that holds a whole part is sliced, not copied.
    pub(super) async fn fill(&mut self, want: u64) -> Result<(Bytes, bool)> {
        let want = usize::try_from(want).unwrap_or(usize::MAX);
        let mut buf = BytesMut::new();
        loop {
            let chunk = match self.leftover.take() {
                Some(c) => c,
                None => match self.stream.next().await {
                    None => return Ok((buf.freeze(), true)),
                    Some(Err(e)) => return Err(Error::io("the upload source failed", e)),
                    Some(Ok(c)) => c,
                },
            };
            let room = want - buf.len();
            if chunk.len() >= room {
                let mut chunk = chunk;
                let rest = chunk.split_off(room);
                if !rest.is_empty() {
                    self.leftover = Some(rest);
                }
                if buf.is_empty() {
                    return Ok((chunk, false));
                }
                buf.extend_from_slice(&chunk);
                return Ok((buf.freeze(), false));
            }
            buf.extend_from_slice(&chunk);
        }
    }
}

/// Where part bodies come from, for sources of known size.
#[derive(Clone)]
pub(super) enum PartSource {
    Bytes(Bytes),
    /// The file, and its size and modification time when the upload started.
    File(PathBuf, (u64, Option<SystemTime>)),
}

impl PartSource {
    pub(super) fn body(&self, offset: u64, len: u64) -> Body {
        match self {
            PartSource::Bytes(b) => Body::from(b.slice(offset as usize..(offset + len) as usize)),
            PartSource::File(p, _) => Body::from_file_range(p.clone(), offset, len),
        }
    }

    /// The CRC64NVME of the source's bytes `offset..offset + len`, read again from the
    /// source (a file cut short hashes fewer bytes, so its value differs).
    pub(super) async fn local_crc(&self, offset: u64, len: u64) -> Result<u64> {
        let mut h = Hasher::new(ChecksumAlgorithm::Crc64Nvme);
        match self {
            PartSource::Bytes(b) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
                let end = usize::try_from(offset.saturating_add(len))
                    .unwrap_or(usize::MAX)
                    .min(b.len());
                h.update(&b[start..end]);
            }
            PartSource::File(path, _) => return file_crc(path, offset, len).await,
        }
        Ok(h.crc_piece().map_or(0, |(crc, _)| crc))
    }

    /// Fails when the file changed while it was being uploaded (TEST-PLAN U9).
    pub(super) async fn check_unchanged(&self) -> Result<()> {
        let PartSource::File(path, (len, modified)) = self else {
            return Ok(());
        };
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if meta.len() != *len || meta.modified().ok() != *modified {
            return Err(Error::new(ErrorKind::Io).with_message(format!(
                "{} changed while it was being uploaded",
                path.display()
            )));
        }
        Ok(())
    }
}

/// The CRC64NVME of the bytes `offset..offset + len` of the file at `path` (a file cut short
/// hashes fewer bytes, so its value differs).
pub(super) async fn file_crc(path: &std::path::Path, offset: u64, len: u64) -> Result<u64> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut h = Hasher::new(ChecksumAlgorithm::Crc64Nvme);
    let err = |e| Error::io(format!("cannot read {}", path.display()), e);
    let mut f = tokio::fs::File::open(path).await.map_err(err)?;
    f.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(err)?;
    let mut f = f.take(len);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = f.read(&mut buf).await.map_err(err)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.crc_piece().map_or(0, |(crc, _)| crc))
}
