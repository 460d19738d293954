//! Peak memory of a 10,000-file directory upload (`Bucket::upload_dir`) against the in-memory
//! sink server (a separate process, so the peak RSS is the client's alone): 9,996 files of
//! 4 KiB and 4 of 40 MiB (sent in 8 MiB parts), 16 requests in flight across all files.
//! Checks the bound of issue 13: peak RSS under concurrency x part size + 32 MiB.
//!
//! ```text
//! cargo bench --bench dir_upload
//! ```
//!
//! Peak RSS is VmHWM from /proc/self/status, as in the throughput bench, so Linux only.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    missing_docs
)]

#[path = "support/sink.rs"]
mod sink;

use async_s3::{Client, Credentials};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const SMALL: usize = 9_996;
const LARGE: usize = 4;
const LARGE_MIB: usize = 40;
const CONCURRENCY: usize = 16;
const PART: u64 = 8 << 20;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--sink") {
        return sink_main();
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --benches` runs this with no arguments: nothing to do.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bytes = make_tree(dir.path());
    let mut sink = Command::new(std::env::current_exe().unwrap())
        .arg("--sink")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut addr = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(sink.stdout.as_mut().unwrap()),
        &mut addr,
    )
    .unwrap();
    let rss_before = peak_rss_mib();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let out = rt.block_on(async {
        let bucket = Client::builder()
            .endpoint(format!("http://{}", addr.trim()))
            .credentials(Credentials::new("AKIDBENCH", "bench-secret"))
            .build()
            .unwrap()
            .bucket("bench");
        bucket
            .upload_dir(dir.path())
            .prefix("tree/")
            .concurrency(CONCURRENCY)
            .part_size(PART)
            .await
            .unwrap()
    });
    let secs = started.elapsed().as_secs_f64();
    let peak = peak_rss_mib();
    let _ = sink.kill();
    let _ = sink.wait();
    let budget = ((CONCURRENCY as u64 * PART) >> 20) as f64 + 32.0;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!((out.files, out.bytes), (SMALL + LARGE, bytes));
    println!(
        "upload_dir: {} files, {:.1} MiB in {secs:.2} s; peak RSS {peak:.1} MiB \
         (before the upload {rss_before:.1} MiB); budget {CONCURRENCY} x {} MiB + 32 MiB = \
         {budget:.0} MiB: {}",
        out.files,
        bytes as f64 / 1048576.0,
        PART >> 20,
        if peak <= budget { "met" } else { "NOT met" }
    );
}

/// Writes the tree; returns its total size. Large files are written in 1 MiB pieces so that
/// making them does not raise this process's peak.
fn make_tree(root: &Path) -> u64 {
    let small = vec![0x61u8; 4096];
    for i in 0..SMALL {
        let d = root.join(format!("d{:02}", i % 100));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("f{i:05}.txt")), &small).unwrap();
    }
    let piece = vec![0x62u8; 1 << 20];
    for i in 0..LARGE {
        let mut f = std::fs::File::create(root.join(format!("large{i}.bin"))).unwrap();
        for _ in 0..LARGE_MIB {
            f.write_all(&piece).unwrap();
        }
    }
    (SMALL * 4096 + LARGE * (LARGE_MIB << 20)) as u64
}

/// The sink child: prints its address, serves until killed.
fn sink_main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        sink::serve(listener, bytes::Bytes::from(vec![0u8; 4096])).await;
    });
}

/// Peak RSS of this process in MiB (VmHWM).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}
