//! A successful answer as the operations see it: status, headers, and a body still to be
//! read (streamed under the idle timeout, or already read when it had to be checked).

use super::read::{next_chunk, read_limited};
use crate::bandwidth::Limiter;
use crate::error::Result;
use bytes::Bytes;
use http::HeaderMap;
use std::pin::Pin;
use std::time::Duration;

/// A response body stream.
pub(crate) type ByteStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<Bytes>> + Send + 'static>>;

/// A successful response: status, headers and a body still to be read.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// The value of the checksum sent as an aws-chunked trailer, computed while the request
    /// body was sent (for stream bodies with a checksum): the operation compares it with the
    /// service's echo.
    pub(crate) trailer_checksum: Option<String>,
    pub(super) body: ResponseBody,
    /// The longest wait for one body chunk.
    pub(super) read_timeout: Duration,
    /// The client's bandwidth cap, which every chunk of a streamed body passes (issue 13).
    pub(super) limit: Option<Limiter>,
}

#[derive(Debug)]
pub(super) enum ResponseBody {
    Streaming(reqwest::Response),
    Buffered(Bytes),
}

impl Response {
    /// Reads the whole body, refusing more than `limit` bytes.
    pub(crate) async fn bytes_limited(self, limit: usize) -> Result<Bytes> {
        match self.body {
            ResponseBody::Buffered(b) => Ok(b),
            ResponseBody::Streaming(r) => read_limited(r, limit, self.read_timeout).await,
        }
    }

    /// The body as a stream of chunks; errors carry the transport cause.
    pub(crate) fn into_stream(self) -> ByteStream {
        match self.body {
            ResponseBody::Buffered(b) => {
                Box::pin(futures_util::stream::iter((!b.is_empty()).then_some(Ok(b))))
            }
            ResponseBody::Streaming(r) => {
                let limit = self.read_timeout;
                let cap = self.limit;
                Box::pin(futures_util::stream::unfold(Some(r), move |r| {
                    let cap = cap.clone();
                    async move {
                        let mut r = r?;
                        match next_chunk(&mut r, limit).await {
                            Ok(Some(c)) => {
                                if let Some(cap) = &cap {
                                    cap.acquire(c.len()).await;
                                }
                                Some((Ok(c), Some(r)))
                            }
                            Ok(None) => None,
                            Err(e) => Some((Err(e), None)),
                        }
                    }
                }))
            }
        }
    }
}
