//! Reading response bodies under the idle timeout: chunk by chunk, whole with a cap, or an
//! error body cut short.

use super::errors::{idle_timeout, transport_error};
use crate::error::{Error, Result};
use bytes::{Bytes, BytesMut};
use std::time::Duration;

/// The next body chunk, or a retryable timeout when none comes within `limit`.
pub(crate) async fn next_chunk(
    r: &mut reqwest::Response,
    limit: Duration,
) -> Result<Option<Bytes>> {
    let mut chunk = std::pin::pin!(r.chunk());
    // A chunk already received needs no timer: the timeout is set up only to wait.
    let first = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::future::Future::poll(chunk.as_mut(), cx))
    });
    let got = match first.await {
        std::task::Poll::Ready(c) => c,
        std::task::Poll::Pending => match tokio::time::timeout(limit, chunk).await {
            Ok(c) => c,
            Err(_) => return Err(idle_timeout("the response body stalled")),
        },
    };
    got.map_err(|e| transport_error(&e, true))
}

/// Reads the whole body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(
    mut r: reqwest::Response,
    limit: usize,
    idle: Duration,
) -> Result<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = next_chunk(&mut r, idle).await? {
        if buf.len() + chunk.len() > limit {
            return Err(Error::invalid_response(format!(
                "response body is larger than the {limit}-byte cap"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Reads at most `limit` bytes of an error body; a body that breaks is cut short, not fatal.
pub(crate) async fn read_error_body(
    mut r: reqwest::Response,
    limit: usize,
    idle: Duration,
) -> Bytes {
    let mut buf = BytesMut::new();
    while let Ok(Some(chunk)) = next_chunk(&mut r, idle).await {
        let room = limit.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= limit {
            break;
        }
    }
    buf.freeze()
}
