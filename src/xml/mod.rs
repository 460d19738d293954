//! S3 XML documents: response parsers and request body writers.
//!
//! This is the only module that imports `quick_xml`. Everything here is crate-private; callers
//! get plain data types from `crate::types` and an [`XmlError`] to wrap as a source.
//!
//! The parsers share a small cursor over `quick_xml::Reader` (see `reader.rs`) with these rules:
//!
//! - the body must be UTF-8; a `<!DOCTYPE>` anywhere is refused, so no entity is ever expanded
//!   beyond the five predefined ones and character references;
//! - elements nest at most [`MAX_DEPTH`] deep and each collected text value is at most
//!   [`MAX_TEXT`] bytes;
//! - names are matched on their local part (namespaces ignored), child order does not matter,
//!   and unknown elements are skipped together with their subtrees;
//! - leading whitespace, an XML declaration and comments before the root are accepted.

// Until ops/ calls every parser and writer, the non-test build sees them as unused. The
// `unused_imports` expectation starts warning once they are all wired in: then delete this.
#![cfg_attr(
    not(test),
    allow(dead_code, reason = "parsers are wired into ops/ separately"),
    expect(unused_imports, reason = "parsers are wired into ops/ separately")
)]

mod error_doc;
mod list;
mod multipart;
mod reader;
mod results;
mod sts;
mod write;

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests;

pub(crate) use error_doc::{is_error_document, parse_error};
pub(crate) use list::{parse_list_buckets, parse_list_objects_v2};
pub(crate) use multipart::{
    CompleteResult, PartsPage, parse_complete_multipart, parse_initiate_multipart, parse_list_parts,
};
pub(crate) use results::{
    CopyResult, parse_copy_object_result, parse_delete_result, parse_location_constraint,
};
pub(crate) use sts::{parse_assume_role_with_web_identity, parse_sts_error};
pub(crate) use write::{write_complete_multipart, write_create_bucket, write_delete_objects};

/// The deepest element nesting a document may have (the root is depth 1).
pub(crate) const MAX_DEPTH: usize = 64;

/// The largest text value, in bytes after unescaping, that a parser collects.
pub(crate) const MAX_TEXT: usize = 64 * 1024;

/// The S3 namespace written on the root of every request document.
const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Why an XML document could not be read or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum XmlError {
    /// The document is not well-formed XML (truncated, mismatched tags, bad escapes, ...).
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The document is not UTF-8.
    #[error("XML document is not valid UTF-8")]
    NotUtf8,
    /// The root element is not the one this response should have (an `<Error>` root lands here).
    #[error("unexpected root element <{found}>, expected <{expected}>")]
    UnexpectedRoot {
        /// The root element the parser wanted.
        expected: &'static str,
        /// The root element found (truncated to a few dozen characters).
        found: String,
    },
    /// A required element is absent (or empty where a value is required).
    #[error("missing required element <{0}>")]
    MissingElement(&'static str),
    /// An element's text is not a valid number, boolean, date or percent-encoding.
    #[error("invalid value in element <{0}>")]
    InvalidValue(&'static str),
    /// The document has a `<!DOCTYPE>`, which is refused outright.
    #[error("XML document type declarations are not accepted")]
    DocType,
    /// Elements are nested deeper than [`MAX_DEPTH`].
    #[error("XML elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A text value is larger than [`MAX_TEXT`] bytes.
    #[error("XML text value larger than {MAX_TEXT} bytes")]
    TextTooLarge,
    /// A value to write holds a character that XML 1.0 cannot carry (a C0 control other than
    /// tab, line feed and carriage return, or U+FFFE/U+FFFF).
    #[error("value for <{0}> contains a character XML 1.0 cannot represent")]
    UnrepresentableChar(&'static str),
}
