//! Entry points for the criterion benches in `benches/` (not a public API: hidden from the
//! docs, may change in any release). Always compiled, because a bench cannot turn on a
//! feature of the crate it measures; each function only forwards to crate-private code.

use crate::error::Result;
use crate::types::ListPage;

/// Parses a ListObjectsV2 response page, as [`Bucket::list_objects`](crate::Bucket::list_objects)
/// does with each answer (the scanner, falling back to the full parser on pages it does not
/// handle).
///
/// # Errors
///
/// `InvalidResponse` when the page is not a well-formed `ListBucketResult`.
pub fn parse_list_objects_v2(body: &bytes::Bytes) -> Result<ListPage> {
    crate::xml::scan_list_objects_v2(body)
        .map_err(|e| crate::Error::invalid_response("malformed ListBucketResult").with_source(e))
}

/// Parses a ListObjectsV2 response page with the full (quick-xml) parser only, the scanner's
/// reference and fallback: the cost the scanner saves.
///
/// # Errors
///
/// `InvalidResponse` when the page is not a well-formed `ListBucketResult`.
pub fn parse_list_objects_v2_reference(body: &[u8]) -> Result<ListPage> {
    crate::xml::parse_list_objects_v2(body)
        .map_err(|e| crate::Error::invalid_response("malformed ListBucketResult").with_source(e))
}

/// The part size and part count an upload of `size` bytes with parts of `preferred` bytes
/// is planned with.
///
/// # Errors
///
/// `InvalidInput` for a part size outside 5 MiB ..= 5 GiB or a size S3 cannot hold.
pub fn plan_upload(size: u64, preferred: u64) -> Result<(u64, u32)> {
    let plan = crate::transfer::UploadPlan::new(size, preferred)?;
    Ok((plan.part_size, plan.parts))
}

/// The `(offset, len)` ranges a download of `size` bytes from `start` is cut into.
pub fn plan_ranges(start: u64, size: u64, part_size: u64) -> impl Iterator<Item = (u64, u64)> {
    crate::transfer::ranges(start, size, part_size)
}
