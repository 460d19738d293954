//! One range of a download fetched into a sink. The range's body resumes itself after a
//! break (see [`ResumableBody`]); here the chunks are only written and counted.

use super::sink::{RangeDone, Sink};
use crate::bandwidth::Limiter;
use crate::error::Result;
use crate::ops::resumable::{PinnedObject, ResumableBody};
use crate::transfer::progress::Tracker;

/// One range to fetch.
#[derive(Clone)]
pub(super) struct RangeJob {
    /// The object version every range is pinned to (its size is the progress total).
    pub(super) object: PinnedObject,
    pub(super) offset: u64,
    pub(super) len: u64,
    pub(super) tracker: Tracker,
    /// The download's own bandwidth cap (issue 13); the client's is applied below.
    pub(super) limit: Option<Limiter>,
}

impl RangeJob {
    /// Fetches the range into `sink`; `first` is a body already started for this range (the
    /// discovery answer's).
    pub(super) async fn run(
        self,
        mut sink: Sink,
        first: Option<ResumableBody>,
    ) -> Result<RangeDone> {
        let mut body = match first {
            Some(body) => body,
            None => self.object.range(self.offset, self.len).await?,
        };
        while let Some(chunk) = body.chunk().await? {
            let n = chunk.len() as u64;
            if let Some(limit) = &self.limit {
                limit.acquire(chunk.len()).await;
            }
            sink.write(chunk).await?;
            self.tracker.add(n, Some(self.object.size()));
        }
        sink.finish().await
    }
}

/// What a task that panicked or was aborted is called in the error.
pub(super) const RANGE_STOPPED: &str = "a range task stopped";
