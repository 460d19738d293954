//! The bandwidth cap (issue 13), measured: transfers against the in-memory sink server under
//! a cap, each for about four seconds, reporting the rate reached and how far it is from the
//! cap. Fails (exit code 1) when a rate is more than 10 % off.
//!
//! ```text
//! cargo bench --bench bandwidth        # about 20 seconds
//! ```
//!
//! - a client cap of 16 MiB/s shared by four concurrent 16 MiB downloads (8 ranges in flight
//!   each): the total rate, and each download's share;
//! - the same cap on one 64 MiB multipart upload (8 parts in flight);
//! - a download with a cap of its own (8 MiB/s) on a client without one.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    missing_docs
)]

#[path = "support/sink.rs"]
mod sink;

use async_s3::{Bucket, Client, Credentials};
use bytes::Bytes;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn bucket(addr: &str, cap: Option<u64>) -> Bucket {
    let mut b = Client::builder()
        .endpoint(format!("http://{addr}"))
        .credentials(Credentials::new("AKIDBENCH", "bench-secret"));
    if let Some(cap) = cap {
        b = b.max_bandwidth(cap);
    }
    b.build().unwrap().bucket("bench")
}

/// Prints the rate of `bytes` in `took` against `cap`; returns whether it is within 10 %.
fn report(name: &str, bytes: u64, took: Duration, cap: u64) -> bool {
    let rate = bytes as f64 / took.as_secs_f64();
    let off = (rate / cap as f64 - 1.0) * 100.0;
    let ok = off.abs() <= 10.0;
    println!(
        "{name:<48} {:>6.2} MiB/s in {:>5.2} s, cap {:>5.1} MiB/s: {off:>+5.1} % {}",
        rate / MIB as f64,
        took.as_secs_f64(),
        cap as f64 / MIB as f64,
        if ok { "ok" } else { "OFF BY MORE THAN 10 %" }
    );
    ok
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` runs bench binaries without it: nothing to do.
    }
    let object = Bytes::from(vec![0x5a_u8; (16 * MIB) as usize]);
    let addr = sink::start(object).await.to_string();
    let mut all_ok = true;

    // Four downloads share the client's cap.
    let cap = 16 * MIB;
    let b = bucket(&addr, Some(cap));
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (b, path) = (b.clone(), dir.path().join(format!("d{i}")));
        tasks.push(tokio::spawn(async move {
            b.download("big")
                .part_size(MIB)
                .to_path(path)
                .await
                .unwrap();
            start.elapsed()
        }));
    }
    let mut ends = Vec::new();
    for t in tasks {
        ends.push(t.await.unwrap());
    }
    let took = start.elapsed();
    all_ok &= report(
        "client cap, 4 downloads x 16 MiB (total)",
        64 * MIB,
        took,
        cap,
    );
    let first = ends.iter().min().unwrap().as_secs_f64();
    println!(
        "{:<48} first done at {first:.2} s, last at {:.2} s",
        "  fairness",
        took.as_secs_f64()
    );

    // One multipart upload under the client's cap.
    let data = Bytes::from(vec![0xa5_u8; (64 * MIB) as usize]);
    let start = Instant::now();
    b.upload("up")
        .part_size(8 * MIB)
        .from_bytes(data)
        .await
        .unwrap();
    all_ok &= report(
        "client cap, 1 upload x 64 MiB",
        64 * MIB,
        start.elapsed(),
        cap,
    );

    // A download with its own cap, on a client without one.
    let own = 8 * MIB;
    let b = bucket(&addr, None);
    let start = Instant::now();
    let path = dir.path().join("own");
    let d = b.download("big").part_size(MIB).max_bandwidth(own);
    d.to_path(path).await.unwrap();
    all_ok &= report(
        "download cap, 1 download x 16 MiB",
        16 * MIB,
        start.elapsed(),
        own,
    );

    if !all_ok {
        std::process::exit(1);
    }
}
