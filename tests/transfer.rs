//! The transfer engine against the in-process S3 server: round trips of every edge size
//! from every source, and parallel downloads to a file, to memory and to a stream.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Body, Progress};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use support::{data, env};

const MIB: usize = 1 << 20;

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn stream_of(
    body: &[u8],
    chunk: usize,
) -> impl futures_core::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    let chunks: Vec<std::io::Result<bytes::Bytes>> = body
        .chunks(chunk.max(1))
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(chunks)
}

/// TEST-PLAN U10 (round trips) and U12 (stream of unknown length)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_of_edge_sizes_round_trip_from_every_source() {
    let e = env("sizes").await;
    let dir = tempfile::tempdir().unwrap();
    let sizes = [
        0,
        1,
        5 * MIB - 1,
        5 * MIB,
        5 * MIB + 1,
        15 * MIB,
        12 * MIB + 7,
    ];
    for (i, &size) in sizes.iter().enumerate() {
        let body = data(size, i as u64 + 100);
        let want = sha(&body);
        let path = dir.path().join(format!("src-{i}"));
        std::fs::write(&path, &body).unwrap();
        let multipart = size >= 5 * MIB;
        for source in ["file", "bytes", "stream"] {
            let key = format!("{source}/{size}");
            let up = e
                .bucket
                .upload(key.as_str())
                .part_size(5 * MIB as u64)
                .multipart_threshold(5 * MIB as u64)
                .concurrency(3)
                .content_type("application/x-test");
            let out = match source {
                "file" => up.from_path(&path).await,
                "bytes" => up.from_bytes(body.clone()).await,
                _ => up.from_stream(stream_of(&body, 300_000)).await,
            }
            .unwrap_or_else(|err| panic!("{key}: {err:?}"));
            assert_eq!(out.size, size as u64, "{key}");
            assert_eq!(out.parts > 0, multipart, "{key}: {out:?}");
            if multipart {
                assert_eq!(out.parts as usize, size.div_ceil(5 * MIB), "{key}");
                assert!(out.upload_id.is_some());
            }
            let got = e.bucket.get_object(key.as_str()).await.unwrap();
            assert_eq!(got.meta.content_type.as_deref(), Some("application/x-test"));
            assert_eq!(sha(&got.bytes().await.unwrap()), want, "{key}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_sources_and_progress() {
    let e = env("reader").await;
    let body = data(11 * MIB + 5, 7);
    let seen = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let (s, c) = (seen.clone(), calls.clone());
    let out = e
        .bucket
        .upload("r")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .on_progress(move |p: Progress| {
            s.fetch_max(p.transferred, Ordering::Relaxed);
            c.fetch_add(1, Ordering::Relaxed);
        })
        .from_reader(std::io::Cursor::new(body.clone()))
        .await
        .unwrap();
    assert_eq!(out.parts, 3);
    assert_eq!(seen.load(Ordering::Relaxed), body.len() as u64);
    assert_eq!(calls.load(Ordering::Relaxed), 3);
    let got = e.bucket.download("r").to_bytes().await.unwrap();
    assert_eq!(sha(&got), sha(&body));
}

async fn put_40_mib(e: &support::Env) -> Vec<u8> {
    let body = data(40 * MIB + 12_345, 42);
    e.bucket
        .put_object("forty", Body::from(body.clone()))
        .await
        .unwrap();
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_download_to_file_memory_and_stream() {
    let e = env("down").await;
    let body = put_40_mib(&e).await;
    let want = sha(&body);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("copy.bin");

    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    let out = e
        .bucket
        .download("forty")
        .part_size(MIB as u64)
        .concurrency(8)
        .on_progress(move |p| {
            s.fetch_max(p.transferred, Ordering::Relaxed);
            assert_eq!(p.total, Some(40 * MIB as u64 + 12_345));
        })
        .to_path(&dest)
        .await
        .unwrap();
    assert_eq!(out.size, body.len() as u64);
    assert_eq!(out.ranges, 41);
    assert!(out.etag.is_some());
    assert_eq!(seen.load(Ordering::Relaxed), body.len() as u64);
    let file = std::fs::read(&dest).unwrap();
    if let Some(i) = file.iter().zip(&body).position(|(a, b)| a != b) {
        panic!(
            "file differs from byte {i} (len {} vs {})",
            file.len(),
            body.len()
        );
    }
    assert_eq!(sha(&file), want);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only the destination remains");

    let mem = e
        .bucket
        .download("forty")
        .part_size(MIB as u64)
        .to_bytes()
        .await
        .unwrap();
    if let Some(i) = mem.iter().zip(&body).position(|(a, b)| a != b) {
        let w = &body[i..i + 8];
        let found = body.windows(8).position(|x| x == &mem[i..i + 8]);
        panic!(
            "memory differs from byte {i} (len {} vs {}); want {w:?} got {:?} which is at {found:?}",
            mem.len(),
            body.len(),
            &mem[i..i + 8]
        );
    }
    assert_eq!(sha(&mem), want);

    let chunks: Vec<bytes::Bytes> = e
        .bucket
        .download("forty")
        .part_size(MIB as u64)
        .concurrency(4)
        .to_stream()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.len(), 41);
    assert_eq!(sha(&chunks.concat()), want);

    let mut out = Vec::new();
    let n = e
        .bucket
        .download("forty")
        .part_size(4 * MIB as u64)
        .to_writer(&mut out)
        .await
        .unwrap();
    assert_eq!(n, body.len() as u64);
    assert_eq!(sha(&out), want);
}

#[tokio::test]
async fn small_and_empty_objects_download_in_one_request() {
    let e = env("small").await;
    e.bucket.put_object("tiny", "0123456789").await.unwrap();
    e.bucket.put_object("empty", Body::empty()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = e
        .bucket
        .download("tiny")
        .to_path(dir.path().join("t"))
        .await
        .unwrap();
    assert_eq!((out.size, out.ranges), (10, 1));
    assert_eq!(std::fs::read(dir.path().join("t")).unwrap(), b"0123456789");
    let out = e
        .bucket
        .download("empty")
        .to_path(dir.path().join("e"))
        .await
        .unwrap();
    assert_eq!(out.size, 0);
    assert!(std::fs::read(dir.path().join("e")).unwrap().is_empty());
    assert!(
        e.bucket
            .download("empty")
            .to_bytes()
            .await
            .unwrap()
            .is_empty()
    );
}

/// A failed download leaves nothing: a missing key, a destination whose parent is missing (a
/// failure midway and a failing rename, TEST-PLAN D11, are in tests/download_faults.rs).
#[tokio::test]
async fn failed_downloads_leave_no_file() {
    let e = env("fail").await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let err = e
        .bucket
        .download("absent")
        .to_path(&dest)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    e.bucket.put_object("k", "data").await.unwrap();
    let err = e
        .bucket
        .download("k")
        .to_path(dir.path().join("no/such/dir/out"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), async_s3::ErrorKind::Io, "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// TEST-PLAN L1 (no deadlock part; memory is measured by `cargo bench --bench throughput`):
/// many transfers at once on a 2-core runtime all finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_transfers_finish() {
    let e = env("many").await;
    let body = bytes::Bytes::from(data(6 * MIB + 3, 11));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let b = e.bucket.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("t{i}");
            b.upload(key.as_str())
                .part_size(5 * MIB as u64)
                .multipart_threshold(5 * MIB as u64)
                .concurrency(4)
                .from_bytes(body)
                .await?;
            b.download(key.as_str())
                .part_size(MIB as u64)
                .concurrency(4)
                .to_bytes()
                .await
        }));
    }
    let all = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap().unwrap());
        }
        out
    })
    .await
    .expect("no deadlock");
    assert!(all.iter().all(|b| *b == body));
}
