//! Adaptive concurrency: one controller per client, shared by all its transfers, that lowers
//! the number of parts in flight when the store throttles (503 `SlowDown` and the other
//! throttling answers) and raises it again while answers are healthy (additive increase,
//! multiplicative decrease, as TCP does).
//!
//! Without throttling there is no limit beyond each transfer's own `concurrency`. A
//! throttling answer sets the limit to half of what was in flight (at least 1; a second
//! answer halves it again); every `limit` healthy answers after that add one; once the limit
//! is back above the most parts that were ever in flight at once, it is lifted. A lower limit
//! does not stop parts already running: new parts wait until fewer than `limit` are in
//! flight. The transport reports the answers; the transfer engine takes a [`Permit`] for
//! every part it starts.

use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The controller of one client. Cheap to share (`Arc`).
#[derive(Debug, Default)]
pub(crate) struct Congestion {
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// `None`: no limit (nothing was throttled, or the limit grew back).
    limit: Option<usize>,
    in_flight: usize,
    /// The most parts in flight at once so far.
    peak: usize,
    /// Healthy answers since the limit last grew or shrank.
    healthy: usize,
}

/// One part's place in flight; frees it when dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    owner: Arc<Congestion>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.owner.lock().in_flight -= 1;
        self.owner.freed.notify_waiters();
    }
}

impl Congestion {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until fewer parts than the limit are in flight and takes a place.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped wait takes nothing.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let freed = self.freed.notified();
            {
                let mut s = self.lock();
                if s.limit.is_none_or(|l| s.in_flight < l) {
                    s.in_flight += 1;
                    s.peak = s.peak.max(s.in_flight);
                    return Permit {
                        owner: self.clone(),
                    };
                }
            }
            freed.await;
        }
    }

    /// The store throttled a request: halve what may be in flight.
    pub(crate) fn throttled(&self) {
        let mut s = self.lock();
        let now = s.limit.unwrap_or(s.in_flight).min(s.in_flight.max(1));
        s.limit = Some((now / 2).max(1));
        s.healthy = 0;
    }

    /// A request was answered without throttling: after `limit` of them, one more part may
    /// be in flight.
    pub(crate) fn healthy(&self) {
        let mut s = self.lock();
        let Some(limit) = s.limit else {
            return;
        };
        s.healthy += 1;
        if s.healthy >= limit {
            s.healthy = 0;
            s.limit = (limit < s.peak).then_some(limit + 1);
            drop(s);
            self.freed.notify_waiters();
        }
    }

    /// The current limit (`None`: none).
    #[cfg(test)]
    pub(crate) fn limit(&self) -> Option<usize> {
        self.lock().limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttling_halves_and_health_restores() {
        let c = Arc::new(Congestion::default());
        let mut held = Vec::new();
        for _ in 0..8 {
            held.push(c.acquire().await);
        }
        assert_eq!(c.limit(), None);
        c.throttled();
        assert_eq!(c.limit(), Some(4));
        c.throttled();
        assert_eq!(c.limit(), Some(2));
        // Eight still run; a ninth waits until fewer than two are in flight.
        held.truncate(2);
        let waiting = tokio::spawn({
            let c = c.clone();
            async move { c.acquire().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        held.pop();
        let p = waiting.await.unwrap();
        held.push(p);
        // Healthy answers: +1 per `limit` of them, lifted above the peak of 8.
        let mut steps = Vec::new();
        for _ in 0..40 {
            c.healthy();
            steps.push(c.limit());
        }
        assert_eq!(steps[1], Some(3), "two healthy answers at limit 2");
        assert_eq!(steps[4], Some(4));
        assert!(steps.contains(&Some(8)));
        assert_eq!(c.limit(), None, "lifted once above the peak");
    }
}
