//! reqwest's errors turned into ours: the cause found down the source chain, told without the
//! URL (which may carry a presigned query), and whether trying again is safe.

use crate::error::{Error, ErrorKind};

/// A body that yielded another number of bytes than it announced: the caller's mistake
/// (or a file changed while it was sent), not the network's.
#[derive(Debug)]
pub(crate) struct WrongLength(pub(crate) String);

impl std::fmt::Display for WrongLength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WrongLength {}

/// A stall: nothing moved within the read timeout. Retryable (the request says whether it
/// may be sent again).
pub(crate) fn idle_timeout(what: &str) -> Error {
    Error::new(ErrorKind::Timeout)
        .with_message(format!("{what}: no data within the read timeout"))
        .with_retryable(true)
}

/// Maps a reqwest error to ours, walking the sources for the real cause.
pub(crate) fn transport_error(e: &reqwest::Error, idempotent: bool) -> Error {
    if let Some(msg) = wrong_length(e) {
        return Error::invalid_input(msg);
    }
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    // A connection that could not be made carried nothing: always safe to retry. Anything
    // else may have reached the server, so only idempotent requests go again.
    let retryable = e.is_connect() || idempotent;
    let detail = if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "no data within the read timeout"
    } else if e.is_body() || e.is_decode() {
        "the connection broke during the body"
    } else {
        "the request failed"
    };
    Error::new(kind)
        .with_message(detail)
        .with_retryable(retryable)
        .with_source(WithoutUrl(chain_text(e)))
}

/// The message of a [`WrongLength`] in the error's chain: a body that did not keep to its
/// length is the caller's error, not a transport failure, and is not retried.
fn wrong_length(e: &reqwest::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = cur {
        if let Some(w) = err.downcast_ref::<WrongLength>() {
            return Some(w.0.clone());
        }
        // An `io::Error` hides what it wraps from `source()`.
        if let Some(w) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<WrongLength>())
        {
            return Some(w.0.clone());
        }
        cur = err.source();
    }
    None
}

/// The error chain as one line, without the URL (which may carry query parameters).
pub(crate) fn chain_text(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(e) = cur {
        parts.push(e.to_string());
        cur = e.source();
    }
    if parts.is_empty() {
        parts.push("reqwest error".to_owned());
    }
    parts.join(": ")
}

/// The underlying transport failure, as text (the reqwest error itself stays private).
#[derive(Debug)]
pub(crate) struct WithoutUrl(pub(crate) String);

impl std::fmt::Display for WithoutUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WithoutUrl {}
