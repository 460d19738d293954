//! The throughput workloads of `benches/throughput.rs` run with async-s3 and with other Rust
//! S3 clients (aws-sdk-s3, object_store, rust-s3) and a raw hyper client without S3 logic,
//! against the same sink server in the same run; prints one table and the ratios of async-s3
//! to the best peer, with the issue's targets.
//!
//! ```text
//! cd benches/peers && cargo run --release            # about 10 minutes on 2 cores
//! ASYNC_S3_BENCH_RUNS=1 ASYNC_S3_BENCH_ONLY=get,list cargo run --release
//! ASYNC_S3_BENCH_CLIENTS=async-s3,object_store cargo run --release
//! ```
//!
//! Environment variables: see `benches/support/workloads.rs`, plus `ASYNC_S3_BENCH_CLIENTS`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../support/ours.rs"]
mod ours;
#[path = "../../support/sink.rs"]
mod sink;
#[path = "../../support/workloads.rs"]
mod workloads;

mod clients;
mod files;
mod tm;

use workloads::{Cell, Kind, Workload};

/// Every client, in table order. `aws-sdk-s3` runs with request checksums only where an
/// operation requires them (like the others); `aws-sdk-s3+crc32` is its default (a CRC32 of
/// every PUT body), run for the PUT workloads only.
const CLIENTS: &[&str] = &[
    "async-s3",
    "aws-sdk-s3",
    "aws-sdk-s3+crc32",
    "object_store",
    "rust-s3",
    "raw-hyper",
    "aws-s3-transfer",
];

/// Clients that are S3 clients (the baseline without S3 logic is not a peer).
fn is_peer(name: &str) -> bool {
    name != "async-s3" && name != "raw-hyper"
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--sink") {
        return workloads::sink_main();
    }
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let name = args[i + 1].clone();
        let workload = Workload::by_name(&args[i + 2]).expect("workload");
        let file = std::path::PathBuf::from(&args[i + 3]);
        let addr = args[i + 4].clone();
        workloads::child(workload, &file, || clients::make(&name, &addr, workload));
        return;
    }
    let clients: Vec<&str> = match std::env::var("ASYNC_S3_BENCH_CLIENTS") {
        Ok(list) if !list.trim().is_empty() => CLIENTS
            .iter()
            .copied()
            .filter(|c| list.split(',').any(|x| x.trim() == *c))
            .collect(),
        _ => CLIENTS.to_vec(),
    };
    let exe = std::env::current_exe().expect("exe");
    println!("{}", machine());
    let results = workloads::orchestrate(&exe, &clients);
    workloads::print_table(&results, &clients);
    println!();
    ratios(&results, &clients);
    println!();
    println!("Notes: every client talks plain HTTP/1.1 to the sink on loopback, signs SigV4 with");
    println!("static credentials, path-style. aws-sdk-s3 computes a CRC32 of every PUT body by");
    println!("default (request_checksum_calculation = when_supported): the row aws-sdk-s3+crc32;");
    println!("the row aws-sdk-s3 sets when_required, so like the others it sends no checksum.");
    println!("Signed PUTs hash the body with SHA-256; unsigned ones send UNSIGNED-PAYLOAD");
    println!("(async-s3: PayloadSigning::Never, aws-sdk-s3: disable_payload_signing,");
    println!("object_store: with_unsigned_payload; rust-s3 has no such mode). async-s3 streams");
    println!("file parts from disk; over http its signed row sends them aws-chunked, each 64 KiB");
    println!("chunk signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, one SHA-256 pass). Peers download");
    println!("and upload through the same driver (8 ranges or parts of 8 MiB in flight, each on");
    println!("a task of its own, written at / read from its offset); async-s3 uses its transfer");
    println!("engine (Bucket::download / Bucket::upload).");
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("machine: {cores} cores, {cpu}")
}

/// The best peer for a workload: lowest CPU per operation, or for the big transfers the
/// highest GiB/s.
fn best_peer<'a>(cells: &'a [Cell], clients: &[&'a str], big: bool) -> Option<(&'a str, &'a Cell)> {
    let mut best: Option<(&str, &Cell)> = None;
    for (cell, name) in cells.iter().zip(clients) {
        if !is_peer(name) || cell.unsupported || cell.samples.is_empty() {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, b)) if big => cell.gib_per_sec() > b.gib_per_sec(),
            Some((_, b)) => cell.cpu_us_per_op() < b.cpu_us_per_op(),
        };
        if better {
            best = Some((name, cell));
        }
    }
    best
}

fn ratios(results: &[(Workload, Vec<Cell>)], clients: &[&str]) {
    let Some(ours_at) = clients.iter().position(|c| *c == "async-s3") else {
        return;
    };
    println!("async-s3 / best peer, and the issue's targets:");
    let mut off_cpu: [Option<f64>; 2] = [None, None];
    for (wl, cells) in results {
        let ours = &cells[ours_at];
        if ours.samples.is_empty() {
            continue;
        }
        let big = matches!(wl.kind, Kind::Download | Kind::Upload);
        if wl.progress {
            let i = usize::from(wl.kind == Kind::Upload);
            if let Some(off) = off_cpu[i] {
                let cost = ours.cpu_s_per_gib() / off - 1.0;
                println!(
                    "  {:<58} progress costs {:+.1} % CPU/GiB [target < 2 %: {}]",
                    wl.describe(),
                    cost * 100.0,
                    met(cost < 0.02)
                );
            }
            continue;
        }
        if big && wl.kind == Kind::Download || wl.name == "unsigned-upload" {
            off_cpu[usize::from(wl.kind == Kind::Upload)] = Some(ours.cpu_s_per_gib());
        }
        let Some((peer, best)) = best_peer(cells, clients, big) else {
            continue;
        };
        if big {
            let speed = ours.gib_per_sec() / best.gib_per_sec();
            let cpu = ours.cpu_s_per_gib() / best.cpu_s_per_gib();
            let rss_ok = ours.rss() <= 80.0;
            let target = if wl.name == "upload" {
                "(signed peers; the target compares unsigned with unsigned)".to_owned()
            } else {
                format!(
                    "[target GiB/s >= 1x and CPU <= 1x: {}; RSS {:.0} <= 80 MiB: {}]",
                    met(speed >= 1.0 && cpu <= 1.0),
                    ours.rss(),
                    met(rss_ok)
                )
            };
            println!(
                "  {:<58} GiB/s {:.2}x, CPU/GiB {:.2}x of {peer} {target}",
                wl.describe(),
                speed,
                cpu
            );
        } else {
            let r = ours.cpu_us_per_op() / best.cpu_us_per_op();
            let limit = if wl.kind == Kind::List {
                1.0 / 3.0
            } else {
                0.4
            };
            println!(
                "  {:<58} CPU/op {:.2}x of {peer} [target <= {:.2}x: {}]",
                wl.describe(),
                r,
                limit,
                met(r <= limit)
            );
        }
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}
