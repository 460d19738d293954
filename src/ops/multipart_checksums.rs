//! What a multipart upload's parts say the object's checksum is, and the check of the
//! checksum the service reports on completion (split from `multipart.rs`).

use crate::checksum::{ChecksumAlgorithm, ChecksumType};
use crate::error::{Error, ErrorKind, Result};
use crate::types::PartInfo;

/// The ETag S3 gives an object completed from `parts` (sorted), when every part ETag is a
/// plain MD5: `hex(md5(md5_1 ‖ … ‖ md5_n))-n`.
pub(crate) fn expected_multipart_etag(parts: &[PartInfo]) -> Option<String> {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for p in parts {
        let hexed = p.etag.trim_matches('"');
        if hexed.len() != 32 {
            return None;
        }
        h.update(hex::decode(hexed).ok()?);
    }
    Some(format!("{}-{}", hex::encode(h.finalize()), parts.len()))
}

/// What the parts' checksums say the object's checksum is.
pub(super) struct ExpectedChecksums {
    pub(super) alg: ChecksumAlgorithm,
    /// The kind the upload was created with; `None` for a resumed handle that does not know.
    pub(super) ty: Option<ChecksumType>,
    /// The full-object CRC combined from the parts (CRCs only, part sizes known).
    pub(super) full: Option<String>,
    /// `digest(part digests)-<parts>`.
    pub(super) composite: Option<String>,
}

impl ExpectedChecksums {
    /// Compares the checksum the service reported (if any) with ours; returns the object's
    /// checksum as computed here.
    pub(super) fn check(
        &self,
        reported: Option<&(ChecksumAlgorithm, String)>,
    ) -> Result<Option<(ChecksumAlgorithm, String)>> {
        let ours = |composite: bool| {
            if composite {
                self.composite.clone()
            } else {
                self.full.clone()
            }
        };
        let Some((alg, value)) = reported.filter(|(a, _)| *a == self.alg) else {
            let composite = self.ty == Some(ChecksumType::Composite) || self.full.is_none();
            return Ok(ours(composite).map(|v| (self.alg, v)));
        };
        let value = value.trim();
        let composite = value.contains('-');
        match ours(composite) {
            Some(want) if want != value => Err(Error::new(ErrorKind::ChecksumMismatch)
                .with_message(format!(
                    "the service completed the object with {alg:?} checksum {value}, but the \
                     parts make {want}; the object under the key is not the one uploaded"
                ))),
            Some(want) => Ok(Some((self.alg, want))),
            None => Ok(None),
        }
    }
}
