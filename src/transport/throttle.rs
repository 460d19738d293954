//! The bandwidth cap on request bodies: a body stream cut into pieces, each passing the
//! client's and the body's own [`Limiter`] before it is handed to the connection (and
//! counted as progress for the idle timeout once through).

use super::idle::Activity;
use super::prepare::Source;
use crate::bandwidth::{Limiter, pieces};
use bytes::Bytes;
use futures_util::StreamExt;

/// `source` under `limits` (none: `source` as it is, nothing added).
pub(super) fn throttle(source: Source, limits: Vec<Limiter>, activity: &Activity) -> Source {
    if limits.is_empty() {
        return source;
    }
    let activity = activity.clone();
    let stream = source
        .into_stream()
        .flat_map(|item: std::io::Result<Bytes>| {
            let items: Vec<std::io::Result<Bytes>> = match item {
                Ok(chunk) => pieces(chunk).map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures_util::stream::iter(items)
        })
        .then(move |item| {
            let (limits, activity) = (limits.clone(), activity.clone());
            async move {
                if let Ok(piece) = &item {
                    for l in &limits {
                        l.acquire(piece.len()).await;
                    }
                    activity.touch();
                }
                item
            }
        });
    Source::Chunks(Box::pin(stream))
}
