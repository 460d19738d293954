//! What goes wrong reading or writing an XML document ([`XmlError`]), and the limits a
//! parser holds a document to.

/// The deepest element nesting a document may have (the root is depth 1).
pub(crate) const MAX_DEPTH: usize = 64;

/// The largest text value, in bytes after unescaping, that a parser collects.
pub(crate) const MAX_TEXT: usize = 64 * 1024;

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
