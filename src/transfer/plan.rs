//! Pure planning: part sizes for uploads and ranges for downloads, and the transfers'
//! defaults.

use crate::error::{Error, Result};

/// 1 MiB.
pub(crate) const MIB: u64 = 1 << 20;
/// The smallest part S3 accepts (except the last).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// The largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
/// The most parts an upload may have.
pub(crate) const MAX_PARTS: u64 = 10_000;

/// Default part size for uploads and downloads: 8 MiB.
pub const DEFAULT_PART_SIZE: u64 = 8 << 20;
/// Default size from which uploads use multipart: 16 MiB.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 16 << 20;
/// Default number of parts in flight.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How an upload of a known size is cut into parts: equal parts, the last one shorter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UploadPlan {
    pub(crate) size: u64,
    pub(crate) part_size: u64,
    pub(crate) parts: u32,
}

impl UploadPlan {
    /// Plans `size` bytes with parts of `preferred` bytes, growing the part size (in whole
    /// MiB) when more than 10,000 parts would be needed.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `preferred` is outside 5 MiB ..= 5 GiB, or `size` needs parts
    /// larger than 5 GiB.
    pub(crate) fn new(size: u64, preferred: u64) -> Result<Self> {
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&preferred) {
            return Err(Error::invalid_input(format!(
                "part size {preferred} is outside 5 MiB ..= 5 GiB"
            )));
        }
        let mut part_size = preferred;
        if size.div_ceil(part_size) > MAX_PARTS {
            part_size = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
        }
        if part_size > MAX_PART_SIZE {
            return Err(Error::invalid_input(format!(
                "{size} bytes need parts over 5 GiB: more than S3 allows in one object"
            )));
        }
        let parts = size.div_ceil(part_size).max(1) as u32;
        Ok(Self {
            size,
            part_size,
            parts,
        })
    }

    /// Offset and length of part `index` (0-based).
    pub(crate) fn part(&self, index: u32) -> (u64, u64) {
        let offset = u64::from(index) * self.part_size;
        (offset, self.part_size.min(self.size - offset))
    }
}

/// The ranges `[offset, offset + len)` that cover `size` bytes from `start`, `part_size` each.
pub(crate) fn ranges(start: u64, size: u64, part_size: u64) -> impl Iterator<Item = (u64, u64)> {
    let part_size = part_size.max(1);
    (start..size)
        .step_by(usize::try_from(part_size).unwrap_or(usize::MAX))
        .map(move |off| (off, part_size.min(size - off)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// TEST-PLAN U10 (planner)
    #[test]
    fn edge_sizes() {
        for size in [
            0,
            1,
            5 * MIB - 1,
            5 * MIB,
            5 * MIB + 1,
            40 * MIB,
            80 * MIB + 3,
        ] {
            let p = UploadPlan::new(size, 5 * MIB).unwrap();
            check(&p);
        }
        let p = UploadPlan::new(0, 8 * MIB).unwrap();
        assert_eq!((p.parts, p.part(0)), (1, (0, 0)));
        let p = UploadPlan::new(10 * MIB, 5 * MIB).unwrap();
        assert_eq!((p.parts, p.part(1)), (2, (5 * MIB, 5 * MIB)));
        // More than 10,000 parts at the minimum size: the part size grows.
        let big = 10_001 * 5 * MIB;
        let p = UploadPlan::new(big, 5 * MIB).unwrap();
        assert!(p.parts <= 10_000 && p.part_size > 5 * MIB);
        check(&p);
        assert!(UploadPlan::new(10, MIB).is_err());
        assert!(UploadPlan::new(10, 6 * 1024 * MIB).is_err());
        assert!(UploadPlan::new(10_000 * MAX_PART_SIZE + 1, 8 * MIB).is_err());
        assert!(UploadPlan::new(10_000 * MAX_PART_SIZE, 8 * MIB).is_ok());
    }

    fn check(p: &UploadPlan) {
        assert!(p.parts >= 1 && u64::from(p.parts) <= MAX_PARTS);
        assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&p.part_size));
        let mut next = 0;
        for i in 0..p.parts {
            let (off, len) = p.part(i);
            assert_eq!(off, next);
            if i + 1 < p.parts {
                assert_eq!(len, p.part_size, "all parts but the last are equal");
            } else {
                assert!(len <= p.part_size);
                assert!(len > 0 || p.size == 0);
            }
            next = off + len;
        }
        assert_eq!(next, p.size);
    }

    proptest! {
        #[test]
        fn plans_cover_every_byte_once(size in 0u64..(60_000 * MIB), pref_mib in 5u64..64) {
            let p = UploadPlan::new(size, pref_mib * MIB).unwrap();
            check(&p);
        }

        #[test]
        fn ranges_tile_the_object(start in 0u64..1000, size in 0u64..100_000, part in 1u64..5000) {
            let mut next = start;
            for (off, len) in ranges(start, size, part) {
                prop_assert_eq!(off, next);
                prop_assert!(len >= 1 && len <= part);
                next = off + len;
            }
            prop_assert_eq!(next, start.max(size));
        }
    }
}
