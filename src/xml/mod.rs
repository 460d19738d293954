//! S3 XML documents: response parsers and request body writers.
//!
//! This is the only module that imports `quick_xml`. Everything here is crate-private; callers
//! get plain data types from `crate::types` and an [`XmlError`] to wrap as a source.
//!
//! The parsers share a small cursor over `quick_xml::Reader` (see `reader.rs`) with these rules:
//!
//! - the body must be UTF-8; a `<!DOCTYPE>` anywhere is refused, so no entity is ever expanded
//!   beyond the five predefined ones and character references;
//! - elements nest at most [`MAX_DEPTH`](error::MAX_DEPTH) deep and each collected text value is at most
//!   [`MAX_TEXT`](error::MAX_TEXT) bytes;
//! - names are matched on their local part (namespaces ignored), child order does not matter,
//!   and unknown elements are skipped together with their subtrees;
//! - leading whitespace, an XML declaration and comments before the root are accepted.
//!
//! ListObjectsV2 and ListObjectVersions pages first go through `scan.rs`, a one-pass scanner
//! of the subset S3 sends that hands out keys, ETags and storage classes as slices of the page;
//! it gives every page outside that subset to the parsers above, whose results are the
//! reference (`scan_tests.rs` holds it to them).

// Until ops/ calls every parser and writer, the non-test build sees them as unused. The
// `unused_imports` expectation starts warning once they are all wired in: then delete this.
#![cfg_attr(
    not(test),
    allow(dead_code, reason = "parsers are wired into ops/ separately"),
    expect(unused_imports, reason = "parsers are wired into ops/ separately")
)]

mod assume_role;
// issue 11 part B
mod attributes;
mod error;
mod error_doc;
mod list;
mod multipart;
mod reader;
mod results;
// the fast path for ListObjectsV2 and ListObjectVersions pages (issue 15)
mod scan;
mod scan_values;
mod sts;
mod write;
// versioning, tagging, uploads in progress (issue 11)
mod object_lock;
mod tagging;
mod uploads;
mod versioning;

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod scan_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests;

pub(crate) use assume_role::parse_assume_role;
// issue 11 part B
pub(crate) use attributes::parse_object_attributes;
pub(crate) use error::XmlError;
pub(crate) use error_doc::{is_error_document, parse_error};
pub(crate) use list::{parse_list_buckets, parse_list_objects_v2};
pub(crate) use multipart::{
    CompleteResult, PartsPage, parse_complete_multipart, parse_initiate_multipart, parse_list_parts,
};
pub(crate) use results::{
    CopyResult, parse_copy_object_result, parse_delete_result, parse_location_constraint,
};
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use scan::check_scan;
pub(crate) use scan::{scan_list_objects_v2, scan_list_versions};
pub(crate) use sts::{StsCredentials, parse_assume_role_with_web_identity, parse_sts_error};
pub(crate) use write::{write_complete_multipart, write_create_bucket, write_delete_objects};
// versioning, tagging, uploads in progress (issue 11)
pub(crate) use object_lock::{
    parse_legal_hold, parse_retention, write_empty_retention, write_legal_hold, write_retention,
};
pub(crate) use tagging::{parse_tagging, write_tagging};
pub(crate) use uploads::parse_list_uploads;
pub(crate) use versioning::{parse_versioning, write_versioning};
