//! The bandwidth cap (issue 13 item 4) against the scripted server, with generous bounds
//! only (the exact rate is measured by `cargo bench --bench bandwidth`): a capped client
//! cannot move 1.5 MiB in under about 1.4 s at 1 MiB/s, in either direction, for a single
//! request or a transfer, and the cap is shared by concurrent transfers.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};
use support::fault::{FaultServer, Recorded, Reply, serve_range};

const MIB: usize = 1 << 20;

fn store(r: &Recorded, _: &[Recorded]) -> Reply {
    match r.method.as_str() {
        "GET" => serve_range(&vec![7u8; MIB + MIB / 2], Some("\"v1\""), r),
        _ => Reply::new(200, "text/plain", "").header("etag", "\"e\""),
    }
}

/// At 1 MiB/s, 1.5 MiB take 1.5 s less one 64 KiB burst: at least 1.4 s; at most a
/// generous 20 s.
fn capped(took: Duration) {
    assert!(took >= Duration::from_millis(1400), "{took:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cap_holds_both_ways() {
    let server = FaultServer::with_handler(store).await;
    let c = support::fault_client_builder(&server)
        .max_bandwidth(MIB as u64)
        .build()
        .unwrap();
    let b = c.bucket("bkt");

    let start = Instant::now();
    b.put_object("k", vec![1u8; MIB + MIB / 2]).await.unwrap();
    capped(start.elapsed());
    assert_eq!(server.requests()[0].payload().len(), MIB + MIB / 2);

    let start = Instant::now();
    let got = b.get_object("k").await.unwrap().bytes().await.unwrap();
    assert_eq!(got.len(), MIB + MIB / 2);
    capped(start.elapsed());

    // Two transfers at once share the one cap: 0.75 MiB each, 1.5 MiB in all.
    let start = Instant::now();
    let (x, y) = tokio::join!(
        b.upload("x").from_bytes(vec![2u8; 3 * MIB / 4]),
        b.upload("y").from_bytes(vec![3u8; 3 * MIB / 4]),
    );
    x.unwrap();
    y.unwrap();
    capped(start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_cap_holds_both_ways() {
    let server = FaultServer::with_handler(store).await;
    let b = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");

    let start = Instant::now();
    let got = b
        .download("k")
        .part_size(256 * 1024)
        .concurrency(4)
        .max_bandwidth(MIB as u64)
        .to_bytes()
        .await
        .unwrap();
    assert_eq!(got.len(), MIB + MIB / 2);
    capped(start.elapsed());

    let start = Instant::now();
    b.upload("k")
        .max_bandwidth(MIB as u64)
        .from_bytes(vec![1u8; MIB + MIB / 2])
        .await
        .unwrap();
    capped(start.elapsed());
}
