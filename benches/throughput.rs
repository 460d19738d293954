//! The transfer bench binary: 1 GiB upload and download against an in-memory sink server
//! (a separate process, so the numbers are the client's alone), with progress reporting off
//! and on. Prints GiB/s, client CPU seconds per GiB and the client's peak RSS.
//!
//! ```text
//! cargo bench --bench throughput            # 1 GiB, 3 runs of each, medians
//! ASYNC_S3_BENCH_MIB=256 ASYNC_S3_BENCH_RUNS=5 cargo bench --bench throughput
//! ASYNC_S3_BENCH_CHECKSUM=crc32c cargo bench --bench throughput   # uploads with a checksum
//! ```
//!
//! `ASYNC_S3_BENCH_CHECKSUM` is the client's request checksum (`crc32`, `crc32c`,
//! `crc64nvme`, `sha1`, `sha256`, `md5`; unset: none, the default).
//!
//! Runs of one workload alternate progress off and on, so drift of the machine hits both.
//!
//! Linux only (reads /proc for CPU time and peak RSS).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    missing_docs
)]

#[path = "support/sink.rs"]
mod sink;

use async_s3::{ChecksumAlgorithm, Client, Credentials};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const PART: u64 = 8 << 20;
const CONCURRENCY: usize = 8;

fn runs() -> usize {
    std::env::var("ASYNC_S3_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The request checksum named by `ASYNC_S3_BENCH_CHECKSUM`.
fn checksum() -> Option<ChecksumAlgorithm> {
    let name = std::env::var("ASYNC_S3_BENCH_CHECKSUM").ok()?;
    Some(match name.to_ascii_lowercase().as_str() {
        "crc32" => ChecksumAlgorithm::Crc32,
        "crc32c" => ChecksumAlgorithm::Crc32c,
        "crc64nvme" => ChecksumAlgorithm::Crc64Nvme,
        "sha1" => ChecksumAlgorithm::Sha1,
        "sha256" => ChecksumAlgorithm::Sha256,
        "md5" => ChecksumAlgorithm::ContentMd5,
        "" | "none" => return None,
        other => panic!("ASYNC_S3_BENCH_CHECKSUM={other}: not a checksum name"),
    })
}

fn mib() -> u64 {
    std::env::var("ASYNC_S3_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// (user + system CPU seconds, peak RSS in MiB) of this process, from /proc.
fn usage() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name.
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    let hz = 100.0; // USER_HZ on Linux
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    (ticks / hz, hwm / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--sink") {
        return run_sink();
    }
    if let Some(i) = args.iter().position(|a| a == "--client") {
        return run_client(&args[i + 1], &args[i + 2], args[i + 3] == "on");
    }
    if args.iter().any(|a| a == "--list") || args.iter().any(|a| a.starts_with("--test")) {
        return; // `cargo test --benches` and `--list`: nothing to do
    }
    orchestrate();
}

fn run_sink() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let object = bytes::Bytes::from(vec![0x5a; (mib() << 20) as usize]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        sink::serve(listener, object).await;
    });
}

fn orchestrate() {
    let exe = std::env::current_exe().unwrap();
    let mut sink = Command::new(&exe)
        .arg("--sink")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(sink.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line.trim().to_owned();
    println!(
        "transfer of {} MiB, parts of {} MiB, {} in flight, request checksum {:?}, sink server in a separate process at {addr}",
        mib(),
        PART >> 20,
        CONCURRENCY,
        checksum()
    );
    println!(
        "{:<10} {:>9} {:>8} {:>12} {:>14} {:>18}   (medians of {} runs)",
        "workload",
        "progress",
        "GiB/s",
        "CPU s/GiB",
        "peak RSS MiB",
        "RSS budget MiB",
        runs()
    );
    for workload in ["upload", "download"] {
        let mut results: [Vec<[f64; 4]>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..runs() {
            for (i, progress) in ["off", "on"].into_iter().enumerate() {
                let out = Command::new(&exe)
                    .args(["--client", &addr, workload, progress])
                    .output()
                    .unwrap();
                if !out.status.success() {
                    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
                    continue;
                }
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let nums: Vec<f64> = text
                    .split_whitespace()
                    .skip(1)
                    .map(|x| x.parse().unwrap())
                    .collect();
                results[i].push([nums[0], nums[1], nums[2], nums[3]]);
            }
        }
        for (i, progress) in ["off", "on"].into_iter().enumerate() {
            let r = &results[i];
            let col = |k: usize| median(r.iter().map(|x| x[k]).collect());
            let label = if progress == "on" {
                format!("on ({:.0})", col(3))
            } else {
                "off".to_owned()
            };
            println!(
                "{:<10} {:>9} {:>8.2} {:>12.2} {:>14.0} {:>18}",
                workload,
                label,
                col(0),
                col(1),
                col(2),
                format!("{} + 16", (CONCURRENCY as u64 * PART) >> 20)
            );
        }
    }
    let _ = sink.kill();
    let _ = sink.wait();
}

fn run_client(addr: &str, workload: &str, progress: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let size = mib() << 20;
    // tmpfs when there is one, so the disk does not set the pace.
    let dir = if std::path::Path::new("/dev/shm").exists() {
        tempfile::tempdir_in("/dev/shm").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let path = dir.path().join("data.bin");
    if workload == "upload" {
        // Write the source file in 8 MiB blocks so it never sits in this process's memory.
        use std::io::Write;
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0xa5u8; 8 << 20];
        for _ in 0..(size / block.len() as u64) {
            f.write_all(&block).unwrap();
        }
    }
    let (cpu0, _) = usage();
    let calls = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    rt.block_on(async {
        let client = Client::builder()
            .endpoint(format!("http://{addr}"))
            .credentials(Credentials::new("AKIDBENCH", "bench-secret"))
            .request_checksum(checksum())
            .build()
            .unwrap();
        let bucket = client.bucket("bench");
        let c = calls.clone();
        let cb = move |_p: async_s3::Progress| {
            c.fetch_add(1, Ordering::Relaxed);
        };
        if workload == "upload" {
            let mut up = bucket
                .upload("big")
                .part_size(PART)
                .concurrency(CONCURRENCY);
            if progress {
                up = up.on_progress(cb);
            }
            let out = up.from_path(&path).await.unwrap();
            assert_eq!(out.size, size);
        } else {
            let mut down = bucket
                .download("big")
                .part_size(PART)
                .concurrency(CONCURRENCY);
            if progress {
                down = down.on_progress(cb);
            }
            let out = down.to_path(&path).await.unwrap();
            assert_eq!(out.size, size);
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let (cpu1, rss) = usage();
    let gib = size as f64 / (1u64 << 30) as f64;
    println!(
        "RESULT {} {} {} {}",
        gib / secs,
        (cpu1 - cpu0) / gib,
        rss,
        calls.load(Ordering::Relaxed)
    );
}
