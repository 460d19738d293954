//! Request bodies: in memory (replayable without copying), a file region (re-read for every
//! attempt), or a one-shot stream of known length.

use bytes::Bytes;
use futures_core::Stream;
use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed stream of body chunks.
pub(crate) type ChunkStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// The body of an upload.
///
/// Bodies in memory and file bodies are replayable, so a failed attempt is retried with the
/// identical bytes; a stream body can be sent once only, so a request with one is not retried
/// once its body started to flow.
///
/// # Example
///
/// ```
/// use async_s3::Body;
///
/// let a = Body::from("hello");
/// let b = Body::from(vec![1u8, 2, 3]);
/// let c = Body::from_file("/tmp/data.bin");
/// assert_eq!(a.known_len(), Some(5));
/// assert_eq!(c.known_len(), None); // learned when sent
/// # let _ = b;
/// ```
pub struct Body {
    pub(crate) kind: BodyKind,
    /// A transfer's own bandwidth cap, on top of the client's (issue 13).
    pub(crate) limit: Option<crate::bandwidth::Limiter>,
}

pub(crate) enum BodyKind {
    Bytes(Bytes),
    File {
        path: PathBuf,
        offset: u64,
        len: Option<u64>,
    },
    Stream {
        stream: Mutex<Option<ChunkStream>>,
        len: u64,
    },
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body::from(Bytes::new())
    }

    /// The whole file at `path`, streamed from disk (never read into memory at once). Its
    /// size is taken when the request is sent; the file is opened again for each attempt.
    pub fn from_file(path: impl Into<PathBuf>) -> Self {
        Body {
            kind: BodyKind::File {
                path: path.into(),
                offset: 0,
                len: None,
            },
            limit: None,
        }
    }

    /// `len` bytes of the file at `path`, starting at `offset`.
    pub fn from_file_range(path: impl Into<PathBuf>, offset: u64, len: u64) -> Self {
        Body {
            kind: BodyKind::File {
                path: path.into(),
                offset,
                len: Some(len),
            },
            limit: None,
        }
    }

    /// A stream of exactly `len` bytes. Sent once: it cannot be replayed on a retry.
    ///
    /// If the stream yields more or fewer bytes than `len`, the request fails.
    pub fn from_stream<S>(stream: S, len: u64) -> Self
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        Body {
            kind: BodyKind::Stream {
                stream: Mutex::new(Some(Box::pin(stream))),
                len,
            },
            limit: None,
        }
    }

    /// The length, when known without I/O.
    pub fn known_len(&self) -> Option<u64> {
        match &self.kind {
            BodyKind::Bytes(b) => Some(b.len() as u64),
            BodyKind::File { len, .. } => *len,
            BodyKind::Stream { len, .. } => Some(*len),
        }
    }

    /// The bytes, when the body is in memory.
    pub(crate) fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            BodyKind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Whether the body can be sent again for a retry.
    pub(crate) fn is_replayable(&self) -> bool {
        !matches!(self.kind, BodyKind::Stream { .. })
    }
}

impl Body {
    /// The same body, sent under `limit` as well as the client's cap (issue 13).
    pub(crate) fn limited(mut self, limit: Option<crate::bandwidth::Limiter>) -> Self {
        self.limit = limit;
        self
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Bytes(b) => f.debug_struct("Body").field("bytes", &b.len()).finish(),
            BodyKind::File { path, offset, len } => f
                .debug_struct("Body")
                .field("file", path)
                .field("offset", offset)
                .field("len", len)
                .finish(),
            BodyKind::Stream { len, .. } => f.debug_struct("Body").field("stream", len).finish(),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body {
            kind: BodyKind::Bytes(b),
            limit: None,
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(s))
    }
}
