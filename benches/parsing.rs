//! Pure costs of listing and transfer planning: parsing one 1000-key ListObjectsV2 page (the
//! page the sink server answers, so the throughput bench's `list` workload is this plus HTTP),
//! and cutting uploads and downloads into parts.
//!
//! ```text
//! cargo bench --bench parsing
//! ```
//!
//! For instruction counts, `PARSE_LIST_TIMES=<n>` parses the page n times with the path users
//! get (`PARSE_LIST_WITH=reference`: the full quick-xml parser alone) and exits, without
//! criterion, e.g.
//!
//! ```text
//! cargo bench --bench parsing --no-run   # prints the binary's path
//! PARSE_LIST_TIMES=20 valgrind --tool=callgrind \
//!     --toggle-collect='async_s3::__bench::parse_list_objects_v2*' target/release/deps/parsing-…
//! ```
//!
//! (collected instructions / 20 = instructions per 1000-key page).

#![allow(missing_docs, dead_code)]

#[path = "support/sink.rs"]
mod sink;

use async_s3::__bench::{
    parse_list_objects_v2, parse_list_objects_v2_reference, plan_ranges, plan_upload,
};
use criterion::{Criterion, Throughput, criterion_group};
use std::hint::black_box;

fn list(c: &mut Criterion) {
    let page = bytes::Bytes::from(sink::list_page());
    let parsed = parse_list_objects_v2(&page).expect("the sink's page parses");
    assert_eq!(parsed.objects.len(), 1000);
    let reference = parse_list_objects_v2_reference(&page).expect("the full parser agrees");
    assert_eq!(parsed, reference);
    let mut group = c.benchmark_group("xml");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("list_objects_v2_1000_keys", |b| {
        b.iter(|| parse_list_objects_v2(black_box(&page)));
    });
    // The full quick-xml parser alone: what the scanner saves.
    group.bench_function("list_objects_v2_1000_keys_reference", |b| {
        b.iter(|| parse_list_objects_v2_reference(black_box(&page)));
    });
    group.finish();
}

fn planning(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");
    // A 1 GiB upload in 8 MiB parts, and a 5 TiB one whose part size must grow.
    group.bench_function("upload_1gib", |b| {
        b.iter(|| plan_upload(black_box(1 << 30), black_box(8 << 20)));
    });
    group.bench_function("upload_5tib_grown", |b| {
        b.iter(|| plan_upload(black_box(5 << 40), black_box(8 << 20)));
    });
    // Every range of a 1 GiB download in 8 MiB parts (128 ranges).
    group.bench_function("download_ranges_1gib", |b| {
        b.iter(|| {
            plan_ranges(black_box(8 << 20), black_box(1 << 30), black_box(8 << 20))
                .fold(0u64, |acc, (o, l)| acc ^ o ^ l)
        });
    });
    group.finish();
}

criterion_group!(benches, list, planning);

fn main() {
    if let Some(times) = std::env::var("PARSE_LIST_TIMES")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        let page = bytes::Bytes::from(sink::list_page());
        let reference = std::env::var("PARSE_LIST_WITH").is_ok_and(|w| w == "reference");
        for _ in 0..times {
            let parsed = if reference {
                parse_list_objects_v2_reference(black_box(&page))
            } else {
                parse_list_objects_v2(black_box(&page))
            };
            assert_eq!(black_box(parsed).map(|p| p.objects.len()).ok(), Some(1000));
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
