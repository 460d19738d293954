//! Checking a download against the object's stored checksum: which checksums can be checked
//! on which destination, the combination of per-range CRCs, and the hash of a whole object
//! in memory.

use super::sink::RangeDone;
use crate::checksum::{ChecksumAlgorithm, ChecksumType, combine_crcs};
use crate::error::{Error, ErrorKind, Result};
use bytes::Bytes;

/// An object's stored checksum and how it can be checked.
#[derive(Debug, Clone)]
pub(super) struct StoredChecksum {
    pub(super) alg: ChecksumAlgorithm,
    pub(super) value: String,
    pub(super) check: Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// A full-object CRC: combined from per-range CRCs, whatever the destination.
    Crc,
    /// A full-object SHA: only where the bytes pass in order (streams, writers).
    InOrder,
    /// A composite checksum: it cannot be checked against the bytes.
    Never,
}

impl StoredChecksum {
    pub(super) fn new((alg, value): (ChecksumAlgorithm, String), ty: Option<ChecksumType>) -> Self {
        let check = if value.contains('-') || ty == Some(ChecksumType::Composite) {
            Check::Never
        } else if alg.is_crc() {
            Check::Crc
        } else {
            Check::InOrder
        };
        Self { alg, value, check }
    }

    pub(super) fn mismatch(&self, got: &str) -> Error {
        Error::new(ErrorKind::ChecksumMismatch).with_message(format!(
            "the downloaded bytes have {:?} checksum {got}, the object's stored checksum is {}",
            self.alg, self.value
        ))
    }

    /// Compares the per-range CRCs, combined in range order, with the stored CRC.
    pub(super) fn verify_ranges(&self, done: &[RangeDone]) -> Result<()> {
        let pieces = done
            .iter()
            .map(|d| d.crc)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::invalid_response("a range's checksum went missing"))?;
        let got = combine_crcs(self.alg, pieces)
            .ok_or_else(|| Error::invalid_response("not a CRC checksum"))?;
        if got == self.value.trim() {
            Ok(())
        } else {
            Err(self.mismatch(&got))
        }
    }

    /// Hashes a whole object in memory once, off the runtime's threads, and compares.
    pub(super) async fn verify_whole(&self, bytes: Bytes) -> Result<()> {
        let alg = self.alg;
        let got = tokio::task::spawn_blocking(move || alg.compute(&bytes))
            .await
            .map_err(|e| Error::io("the checksum task failed", std::io::Error::other(e)))?;
        if got != self.value.trim() {
            return Err(self.mismatch(&got));
        }
        Ok(())
    }
}
