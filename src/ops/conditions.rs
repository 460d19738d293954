//! The conditional request headers of the reads (`If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`), shared by GetObject and HeadObject: the
//! values, the builder setters that fill them, and the headers they become.

use crate::headers::format_http_date;
use crate::request::OpRequest;
use std::time::SystemTime;

/// The conditions a read is made under; each one set becomes its request header.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditions {
    pub(crate) if_match: Option<String>,
    pub(crate) if_none_match: Option<String>,
    pub(crate) if_modified_since: Option<SystemTime>,
    pub(crate) if_unmodified_since: Option<SystemTime>,
}

impl Conditions {
    /// Adds a header for each condition set.
    pub(crate) fn apply(&self, mut req: OpRequest) -> OpRequest {
        if let Some(v) = &self.if_match {
            req = req.header("if-match", v.clone());
        }
        if let Some(v) = &self.if_none_match {
            req = req.header("if-none-match", v.clone());
        }
        if let Some(t) = self.if_modified_since {
            req = req.header("if-modified-since", format_http_date(t));
        }
        if let Some(t) = self.if_unmodified_since {
            req = req.header("if-unmodified-since", format_http_date(t));
        }
        req
    }
}

/// Writes the named condition setters for a builder with a `conditions: Conditions` field.
/// Each setter is preceded by its doc comment, so every builder keeps the docs that fit it:
///
/// ```text
/// impl HeadObject {
///     conditional_setters! {
///         /// Succeeds only if the object has this entity tag.
///         if_match;
///     }
/// }
/// ```
macro_rules! conditional_setters {
    ($( $(#[$doc:meta])* $name:ident; )*) => {
        $( $crate::ops::conditions::conditional_setters!(@one [$(#[$doc])*] $name); )*
    };
    (@one [$($doc:tt)*] if_match) => {
        $($doc)*
        pub fn if_match(mut self, etag: impl Into<String>) -> Self {
            self.conditions.if_match = Some(etag.into());
            self
        }
    };
    (@one [$($doc:tt)*] if_none_match) => {
        $($doc)*
        pub fn if_none_match(mut self, etag: impl Into<String>) -> Self {
            self.conditions.if_none_match = Some(etag.into());
            self
        }
    };
    (@one [$($doc:tt)*] if_modified_since) => {
        $($doc)*
        pub fn if_modified_since(mut self, t: ::std::time::SystemTime) -> Self {
            self.conditions.if_modified_since = Some(t);
            self
        }
    };
    (@one [$($doc:tt)*] if_unmodified_since) => {
        $($doc)*
        pub fn if_unmodified_since(mut self, t: ::std::time::SystemTime) -> Self {
            self.conditions.if_unmodified_since = Some(t);
            self
        }
    };
}
pub(crate) use conditional_setters;
