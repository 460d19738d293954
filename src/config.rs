//! The client's settings that are plain values: how bodies are signed, the retry policy, the
//! proxy. A leaf: imports nothing of the crate. [`ClientBuilder`](crate::ClientBuilder) validates
//! them once and hands them to the transport.

use std::fmt;
use std::time::Duration;

/// How request bodies are covered by the signature.
///
/// A body in memory is hashed once and its SHA-256 signed. A body streamed from a file or a
/// stream cannot be hashed before it is sent without reading it twice; it is either sent as
/// `UNSIGNED-PAYLOAD` (the bytes are then protected by TLS and by any checksum) or
/// aws-chunked with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (64 KiB chunks, each signed as it
/// goes: one SHA-256 pass over the data and no second read).
///
/// Independently of this setting, a checksum asked for on a stream body is computed while
/// the body is sent and follows it as a trailing header (aws-chunked with a trailer, signed
/// when streamed bodies are signed, `STREAMING-UNSIGNED-PAYLOAD-TRAILER` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadSigning {
    /// In-memory bodies are signed; streamed bodies are chunk-signed over plain `http://`,
    /// where nothing else protects them, and sent unsigned over TLS, as the AWS SDKs do (the
    /// default).
    #[default]
    Auto,
    /// In-memory bodies are signed; streamed bodies are sent `UNSIGNED-PAYLOAD` even over
    /// plain `http://` (for stores that do not accept aws-chunked bodies).
    InMemoryBodies,
    /// Every body is signed: in-memory bodies by their hash, streamed bodies chunk by chunk,
    /// over TLS too.
    Always,
    /// No body is signed, plain `http://` included: least CPU, integrity left to TLS and
    /// checksums.
    Never,
}

/// The retry policy: attempts and backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Total attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff ceiling; it doubles each retry (full jitter below it).
    pub initial_backoff: Duration,
    /// The largest backoff ceiling; also the most a server's `Retry-After` hint is obeyed.
    pub max_backoff: Duration,
    /// The retry budget shared by every request of a client, in tokens: a retry costs 5
    /// (10 after a timeout), a success gives back what its last retry cost (or 1 when it
    /// needed none). When the budget is spent, failures are returned without retrying, so a storm
    /// of throttling cannot multiply the load (the AWS SDKs' standard mode; default 500).
    pub budget: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
            budget: 500,
        }
    }
}

impl RetryConfig {
    /// A policy with `max_attempts` attempts and the default backoff.
    pub fn with_max_attempts(max_attempts: u32) -> Self {
        Self {
            max_attempts,
            ..Self::default()
        }
    }

    /// The same policy with another retry budget (see [`budget`](Self::budget)).
    #[must_use]
    pub fn with_budget(self, tokens: u32) -> Self {
        Self {
            budget: tokens,
            ..self
        }
    }

    /// The same policy with other backoff bounds: the first ceiling and the largest.
    #[must_use]
    pub fn with_backoff(self, initial: Duration, max: Duration) -> Self {
        Self {
            initial_backoff: initial,
            max_backoff: max,
            ..self
        }
    }
}

/// How the client finds a proxy.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// Honour `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (the default), except
    /// for loopback endpoints, which are always reached directly.
    #[default]
    FromEnvironment,
    /// Connect directly, whatever the environment says.
    None,
    /// Send everything through this proxy URL.
    Url(String),
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyConfig::FromEnvironment => f.write_str("FromEnvironment"),
            ProxyConfig::None => f.write_str("None"),
            // A proxy URL may carry a password.
            ProxyConfig::Url(u) => match u.split_once("://") {
                Some((scheme, rest)) if rest.contains('@') => {
                    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                    write!(f, "Url({scheme}://** redacted **@{host})")
                }
                _ => write!(f, "Url({u})"),
            },
        }
    }
}
