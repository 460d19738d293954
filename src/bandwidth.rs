//! A bandwidth cap: a token bucket on bytes, shared by every body it is given to (the
//! client's, for all its requests, from `ClientBuilder::max_bandwidth`; a transfer's, from
//! `Upload::max_bandwidth` and `Download::max_bandwidth`).
//!
//! Bytes pass in pieces of at most [`PIECE`]. Each piece reserves its time on the bucket in
//! the order the pieces ask (first come, first served, so concurrent parts share the rate
//! evenly) and then sleeps once until its turn: no polling, no busy-waiting. The bucket lets
//! [`PIECE`] bytes through at once (its burst); beyond that, the bytes that passed in any
//! window of `t` seconds are at most `rate × t + PIECE`. Nothing of this exists when no cap
//! is set: the bodies are then not wrapped at all.

use bytes::Bytes;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The largest piece of a body that passes the bucket at once, and the bucket's burst.
pub(crate) const PIECE: usize = 64 * 1024;

/// A shared cap of `rate` bytes per second. Cheap to clone; clones share the bucket.
#[derive(Clone)]
pub(crate) struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    rate: u64,
    /// The time at which every byte reserved so far has been paid for (the bucket's
    /// "theoretical arrival time"); earlier than now when the bucket is idle.
    paid_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Limiter({} B/s)", self.inner.rate)
    }
}

impl Limiter {
    /// A cap of `bytes_per_sec` (at least 1).
    pub(crate) fn new(bytes_per_sec: u64) -> Self {
        Self {
            inner: Arc::new(Inner {
                rate: bytes_per_sec.max(1),
                paid_until: Mutex::new(None),
            }),
        }
    }

    /// Reserves `n` bytes and returns when they may pass.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future gives nothing back: the reservation stays paid (the cap is then
    /// undershot a little, never exceeded).
    pub(crate) async fn acquire(&self, n: usize) {
        if let Some(at) = self.reserve(n, Instant::now()) {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Books `n` bytes at `now`; the instant to wait for, if any.
    fn reserve(&self, n: usize, now: Instant) -> Option<Instant> {
        let rate = self.inner.rate;
        let cost = Duration::from_nanos(
            u64::try_from(u128::from(n as u64) * 1_000_000_000 / u128::from(rate))
                .unwrap_or(u64::MAX),
        );
        let burst = Duration::from_nanos(
            u64::try_from(PIECE as u128 * 1_000_000_000 / u128::from(rate)).unwrap_or(u64::MAX),
        );
        let mut paid = self
            .inner
            .paid_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // An idle bucket saves nothing up: the payment starts now at the earliest.
        let start = paid.map_or(now, |p| p.max(now));
        let until = start + cost;
        *paid = Some(until);
        // The bytes may pass once all but one burst of them is paid for.
        let at = until.checked_sub(burst).unwrap_or(until);
        (at > now).then_some(at)
    }
}

/// Cuts `chunk` into pieces of at most [`PIECE`] bytes (slices, no copy).
pub(crate) fn pieces(chunk: Bytes) -> impl Iterator<Item = Bytes> + Send {
    let n = chunk.len().div_ceil(PIECE);
    (0..n).map(move |i| chunk.slice(i * PIECE..((i + 1) * PIECE).min(chunk.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `tasks` tasks, each passing `pieces` pieces one after the other, on a simulated
    /// clock: the task that asks next is the one released earliest. Returns when each task
    /// had passed all its pieces, from the start.
    fn simulate(limiter: &Limiter, start: Instant, tasks: usize, pieces: usize) -> Vec<Duration> {
        let mut next = vec![start; tasks];
        let mut left = vec![pieces; tasks];
        while let Some(i) = (0..tasks).filter(|&i| left[i] > 0).min_by_key(|&i| next[i]) {
            let now = next[i];
            next[i] = limiter.reserve(PIECE, now).unwrap_or(now);
            left[i] -= 1;
        }
        next.iter().map(|t| *t - start).collect()
    }

    /// Four tasks push 3 MiB in 64 KiB pieces through a 1 MiB/s cap: the whole takes 3 s
    /// less one burst, and the tasks finish within two rounds (8 pieces, 0.5 s) of each other:
    /// none is starved while another runs ahead.
    #[test]
    fn the_cap_holds_and_is_shared_fairly() {
        let limiter = Limiter::new(1 << 20);
        let ends = simulate(&limiter, Instant::now(), 4, 12);
        let total = Duration::from_secs(3) - Duration::from_secs(1) / 16;
        let last = *ends.iter().max().unwrap();
        let first = *ends.iter().min().unwrap();
        let tick = Duration::from_micros(1);
        assert!(last + tick >= total && last <= total + tick, "{ends:?}");
        assert!(last - first <= Duration::from_millis(500), "{ends:?}");
    }

    /// After a long idle time one burst passes at once, then the rate applies again.
    #[test]
    fn an_idle_bucket_saves_up_one_burst_only() {
        let limiter = Limiter::new(1 << 20);
        let t0 = Instant::now();
        assert_eq!(limiter.reserve(PIECE, t0), None);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            limiter.reserve(PIECE, later),
            None,
            "one burst passes at once"
        );
        let at = limiter.reserve(PIECE, later).unwrap();
        assert_eq!(at - later, Duration::from_secs(1) / 16);
    }

    /// The waiting is one timer per piece, on tokio's clock.
    #[tokio::test]
    async fn acquire_waits_for_its_turn() {
        let limiter = Limiter::new(16 * PIECE as u64); // one piece per 62.5 ms
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire(PIECE).await;
        }
        assert!(
            start.elapsed() >= Duration::from_millis(120),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn pieces_cover_the_chunk() {
        let b = Bytes::from(vec![7u8; 2 * PIECE + 5]);
        let lens: Vec<usize> = pieces(b).map(|p| p.len()).collect();
        assert_eq!(lens, [PIECE, PIECE, 5]);
        assert_eq!(pieces(Bytes::new()).count(), 0);
    }
}
