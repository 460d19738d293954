//! The throughput bench binary: async-s3 against an in-memory sink server (a separate
//! process), every workload in a child process of its own so that the CPU time and peak RSS
//! are the client's alone:
//!
//! - PUT 4 KiB (signed and unsigned payload) and GET 4 KiB, 64 in flight: ops/s and client
//!   CPU per operation;
//! - ListObjectsV2: client CPU per 1000-key page;
//! - 1 GiB ranged GET and multipart PUT, 8 x 8 MiB in flight, progress reporting off and on:
//!   GiB/s, client CPU seconds per GiB, peak RSS.
//!
//! ```text
//! cargo bench --bench throughput                              # about 2 minutes
//! ASYNC_S3_BENCH_RUNS=5 ASYNC_S3_BENCH_ONLY=get,list cargo bench --bench throughput
//! ```
//!
//! The environment variables are listed in `benches/support/workloads.rs`; the same
//! workloads run for other S3 clients in `benches/peers/`. CPU time is user + system from
//! /proc (10 ms ticks), so Linux only.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    missing_docs
)]

#[path = "support/ours.rs"]
mod ours;
#[path = "support/sink.rs"]
mod sink;
#[path = "support/workloads.rs"]
mod workloads;

use ours::ours;
use std::path::PathBuf;
use workloads::Workload;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    if !benching && !args.iter().any(|a| a == "--sink" || a == "--child") {
        // `cargo test --benches` runs this with no arguments, `--list` asks for names:
        // nothing to do. `cargo bench` passes `--bench`.
        return;
    }
    if args.iter().any(|a| a == "--sink") {
        return workloads::sink_main();
    }
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let workload = Workload::by_name(&args[i + 2]).unwrap();
        let file = PathBuf::from(&args[i + 3]);
        let addr = args[i + 4].clone();
        workloads::child(workload, &file, || Some(ours(&addr, workload.unsigned)));
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let clients = ["async-s3"];
    let results = workloads::orchestrate(&exe, &clients);
    workloads::print_table(&results, &clients);
}
