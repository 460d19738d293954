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

/// What one connection to S3 carries, in bits per second (the AWS CRT clients' estimate).
pub(crate) const THROUGHPUT_PER_CONNECTION: u64 = 400_000_000;
/// The most memory the parts in flight may take when the concurrency comes from a target
/// throughput.
pub(crate) const CONCURRENCY_MEMORY: u64 = 2 << 30;

/// The parts in flight that reach `bits_per_sec` at 0.4 Gbit/s each, at least 1 and no more
/// than 2 GiB of parts of `part_size` bytes hold.
pub(crate) fn concurrency_for(bits_per_sec: u64, part_size: u64) -> usize {
    let wanted = bits_per_sec.div_ceil(THROUGHPUT_PER_CONNECTION);
    let memory = CONCURRENCY_MEMORY / part_size.max(1);
    usize::try_from(wanted.min(memory).max(1)).unwrap_or(usize::MAX)
}

/// How many parts of a stream of unknown size share one part size before it doubles.
pub(crate) const STREAM_GROWTH_PARTS: u32 = 1_000;
/// The smallest size the doubling of a stream's parts starts from (after its first 1,000
/// parts), so that even 5 MiB parts reach 5 TiB within 10,000 parts.
pub(crate) const STREAM_GROWTH_BASE: u64 = 6 * MIB;

/// The part sizes of an upload of unknown size (a stream): part `n` (1-based) of group
/// `g = (n - 1) / 1000` is `preferred` for `g = 0`, then `max(preferred, 6 MiB) × 2^g`,
/// never over 5 GiB. With the default 8 MiB: 8 MiB for parts 1-1,000 (8 GB), 16 MiB for
/// 1,001-2,000, 32 MiB, …, 4 GiB for parts 9,001-10,000; 10,000 parts hold 7.8 TiB, more
/// than the 5 TiB S3 stores, and the 5 MiB minimum reaches 5.8 TiB. A stream below 1,000
/// parts is cut exactly as with a fixed part size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamSchedule {
    preferred: u64,
}

impl StreamSchedule {
    /// The schedule starting at `preferred` bytes.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `preferred` is outside 5 MiB ..= 5 GiB.
    pub(crate) fn new(preferred: u64) -> Result<Self> {
        UploadPlan::new(0, preferred)?;
        Ok(Self { preferred })
    }

    /// The size of part `number` (1-based; part numbers past 10,000 keep the last size).
    pub(crate) fn part_size(&self, number: u32) -> u64 {
        let group = (number.clamp(1, MAX_PARTS as u32) - 1) / STREAM_GROWTH_PARTS;
        if group == 0 {
            return self.preferred;
        }
        let base = self.preferred.max(STREAM_GROWTH_BASE);
        base.saturating_mul(1 << group).min(MAX_PART_SIZE)
    }

    /// How many of a pool's `concurrency` slots part `number` takes: one per started
    /// first part size, at least 1 and at most all of them. So parts in flight together
    /// never hold more than `concurrency × the first part size` bytes, or one part alone
    /// when it is larger: as parts grow, fewer of them are in flight.
    pub(crate) fn units(&self, number: u32, concurrency: usize) -> usize {
        let units = self.part_size(number).div_ceil(self.preferred);
        usize::try_from(units)
            .unwrap_or(usize::MAX)
            .clamp(1, concurrency.max(1))
    }
}

/// The largest object S3 stores: 5 TiB.
pub(crate) const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * MIB;

/// Refuses a stream once `total` bytes of it were read and that is more than S3 stores in
/// one object (checked before each part is sent, so a stream that is too long fails at
/// the part that crosses 5 TiB, not at the completion).
pub(crate) fn check_stream_size(total: u64) -> Result<()> {
    if total > MAX_OBJECT_SIZE {
        return Err(Error::invalid_input(format!(
            "the stream holds more than 5 TiB ({total} bytes read so far): more than S3 \
             stores in one object"
        )));
    }
    Ok(())
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

    #[test]
    fn concurrency_from_a_target_throughput() {
        assert_eq!(concurrency_for(10_000_000_000, 8 * MIB), 25);
        assert_eq!(concurrency_for(1, 8 * MIB), 1);
        assert_eq!(concurrency_for(400_000_001, 8 * MIB), 2);
        // 100 Gbit/s would be 250 parts; 2 GiB hold 256 of 8 MiB but 32 of 64 MiB.
        assert_eq!(concurrency_for(100_000_000_000, 8 * MIB), 250);
        assert_eq!(concurrency_for(100_000_000_000, 64 * MIB), 32);
        assert_eq!(concurrency_for(u64::MAX, MAX_PART_SIZE), 1);
    }

    #[test]
    fn the_stream_schedule_reaches_5_tib_in_10000_parts() {
        let total = |p: u64| -> u64 {
            let s = StreamSchedule::new(p).unwrap();
            (1..=MAX_PARTS as u32).map(|n| s.part_size(n)).sum()
        };
        assert!(total(MIN_PART_SIZE) >= MAX_OBJECT_SIZE);
        let s = StreamSchedule::new(DEFAULT_PART_SIZE).unwrap();
        let sizes = [1, 1000, 1001, 2001, 9001, 10_000].map(|n| s.part_size(n) / MIB);
        assert_eq!(sizes, [8, 8, 16, 32, 4096, 4096]);
        // The stream fails as soon as it passes 5 TiB, not at the completion.
        assert!(check_stream_size(MAX_OBJECT_SIZE).is_ok());
        let e = check_stream_size(MAX_OBJECT_SIZE + 1).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::InvalidInput);
        assert!(StreamSchedule::new(MIB).is_err());
        assert!(StreamSchedule::new(MAX_PART_SIZE + 1).is_err());
    }

    proptest! {
        /// Whatever the starting size: parts never shrink, stay within S3's limits, keep
        /// the starting size for the first 1,000 parts, and 10,000 of them hold 5 TiB.
        #[test]
        fn stream_parts_grow_to_5_tib(pref in MIN_PART_SIZE..=MAX_PART_SIZE) {
            let s = StreamSchedule::new(pref).unwrap();
            let mut total = 0u64;
            let mut last = 0;
            for n in 1..=MAX_PARTS as u32 {
                let size = s.part_size(n);
                prop_assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&size));
                prop_assert!(size >= last);
                if n <= STREAM_GROWTH_PARTS {
                    prop_assert_eq!(size, pref);
                }
                last = size;
                total += size;
            }
            prop_assert!(total >= MAX_OBJECT_SIZE);
        }

        /// Parts in flight each hold `units` slots of a pool of `concurrency`: whatever
        /// parts are in flight together, their bytes stay within `concurrency × the first
        /// part size`, or one part alone when a single part is larger than that.
        #[test]
        fn stream_bytes_in_flight_stay_within_the_budget(
            pref in MIN_PART_SIZE..=MAX_PART_SIZE,
            concurrency in 1usize..=64,
            numbers in proptest::collection::vec(1u32..=10_000, 1..64),
        ) {
            let s = StreamSchedule::new(pref).unwrap();
            let budget = concurrency as u64 * pref;
            let (mut units, mut bytes, mut largest) = (0usize, 0u64, 0u64);
            for n in numbers {
                let u = s.units(n, concurrency);
                prop_assert!((1..=concurrency).contains(&u));
                if units + u > concurrency {
                    break;
                }
                units += u;
                bytes += s.part_size(n);
                largest = largest.max(s.part_size(n));
            }
            prop_assert!(bytes <= budget.max(largest), "{bytes} > {budget}");
        }

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
