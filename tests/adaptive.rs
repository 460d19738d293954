//! Adaptive concurrency (issue 13 item 6) against the scripted server, which records how
//! many requests it had read and not yet answered at once: a SlowDown storm lowers the
//! parts a client's transfers keep in flight, and healthy answers raise it again.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::RetryConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::fault::{FaultServer, Recorded, Reply, serve_range};

const PART: usize = 4096;

/// Objects `k<n>` of `n` ranges; each range is answered after 30 ms, except that the next
/// `storm` GETs of ranges after the first are answered `503 SlowDown` at once.
fn store(storm: Arc<AtomicUsize>) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync {
    move |r, _| {
        let first = r.header("range").is_some_and(|h| h.starts_with("bytes=0-"));
        if !first
            && storm
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Reply::s3_error(503, "SlowDown");
        }
        let ranges: usize = r
            .target
            .rsplit('/')
            .next()
            .and_then(|k| k.strip_prefix('k'))
            .and_then(|n| n.parse().ok())
            .unwrap();
        let object = vec![1u8; ranges * PART];
        Reply::Delay(
            Duration::from_millis(30),
            Box::new(serve_range(&object, Some("\"v1\""), r)),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowdown_storm_lowers_concurrency_and_health_raises_it() {
    let storm = Arc::new(AtomicUsize::new(0));
    let server = FaultServer::with_handler(store(storm.clone())).await;
    let bucket = support::fault_client_builder(&server)
        .retry(
            RetryConfig::with_max_attempts(20)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
        .bucket("bkt");
    let download = |ranges: usize| {
        let b = bucket.clone();
        async move {
            let got = b
                .download(format!("k{ranges}"))
                .part_size(PART as u64)
                .concurrency(16)
                .to_bytes()
                .await
                .unwrap();
            assert_eq!(got.len(), ranges * PART);
        }
    };

    // Healthy: 16 ranges in flight.
    download(48).await;
    assert_eq!(server.take_max_in_flight(), 16);

    // A storm of 12 SlowDown answers on the ranges after the first (fewer than the 20
    // attempts a range has, as they may all fall on one range once the limit is 1): every
    // one is retried and the download completes, but the client's limit fell to at most
    // half of what was in flight (7), and 15 healthy answers raise it by 2 at most.
    storm.store(12, Ordering::SeqCst);
    download(16).await;
    assert_eq!(storm.load(Ordering::SeqCst), 0, "the storm was met");
    server.take_max_in_flight();

    // The next transfer of the client starts under the lowered limit: with its 17 healthy
    // answers it stays at 11 or fewer parts in flight (7, +1 after 7, 8 and 9 answers more),
    // not 16.
    download(17).await;
    let lowered = server.take_max_in_flight();
    assert!(lowered <= 11, "{lowered} in flight after the storm");

    // Healthy answers raise the limit one by one until it is lifted: 16 again.
    download(400).await;
    assert_eq!(server.take_max_in_flight(), 16);
}
