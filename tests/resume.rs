//! Crash-resumable transfers (issue 13 item 3) against the scripted server: a transfer broken
//! off midway is finished by a NEW client from the journal alone, sending only what is
//! missing; a corrupt or foreign journal is refused before anything is sent or written.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind, RetryConfig};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::fault::{FaultServer, Recorded, Reply, parse_range, serve_range};

const PART: usize = 64 * 1024;

/// A client that tries each request once, so a broken connection ends the transfer.
fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server)
        .retry(RetryConfig::with_max_attempts(1))
        .build()
        .unwrap()
}

/// Six ranges of 64 KiB, the last one short.
fn object(seed: u8) -> Vec<u8> {
    (0..5 * PART + 1000)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn sha(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}

/// Serves `obj` with `etag` (412 for another `If-Match`); while `broken` is set, the
/// connection is closed on any range starting at 3 × 64 KiB.
fn ranged(
    obj: Vec<u8>,
    etag: &'static str,
    broken: Arc<AtomicBool>,
) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static {
    move |r, _| {
        if r.header("if-match").is_some_and(|m| m != etag) {
            return Reply::s3_error(412, "PreconditionFailed");
        }
        let start = parse_range(r.header("range"), obj.len()).map(|(s, _)| s);
        if broken.load(Ordering::SeqCst) && start == Some(3 * PART) {
            return Reply::Close;
        }
        serve_range(&obj, Some(etag), r)
    }
}

fn ranges_asked(server: &FaultServer) -> Vec<(String, Option<String>)> {
    server
        .requests()
        .iter()
        .map(|r| {
            (
                r.header("range").unwrap_or("-").to_owned(),
                r.header("if-match").map(str::to_owned),
            )
        })
        .collect()
}

fn range(i: usize, len: usize) -> String {
    format!("bytes={}-{}", i * PART, i * PART + len - 1)
}

/// The offsets of the ranges a download journal lists.
fn journal_ranges(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("range ")?.split(' ').next()?.parse().ok())
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Breaks a download at range 3 (concurrency 1: ranges 0-2 are on disk and in the journal).
async fn broken_download(dir: &Path) -> FaultServer {
    let broken = Arc::new(AtomicBool::new(true));
    let server = FaultServer::with_handler(ranged(object(0), "\"v1\"", broken)).await;
    let err = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(PART as u64)
        .concurrency(1)
        .resume(dir.join("out.journal"))
        .to_path(dir.join("out.bin"))
        .await
        .unwrap_err();
    assert_ne!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert_eq!(
        names(dir),
        [".out.bin.async-s3.resume", "out.journal"],
        "the partial file and the journal stay"
    );
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_download_fetches_only_the_missing_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let first = broken_download(dir.path()).await;
    let asked: Vec<String> = ranges_asked(&first).into_iter().map(|(r, _)| r).collect();
    // Range 4 may have been started before the failure of range 3 was seen.
    assert_eq!(asked[..4], [0, 1, 2, 3].map(|i| range(i, PART)));
    let journaled = journal_ranges(&dir.path().join("out.journal"));
    assert_eq!(journaled[..3], [0, PART as u64, 2 * PART as u64]);
    assert!(!journaled.contains(&(3 * PART as u64)));

    // A new client, a healthy server: only the journal carries over.
    let server = FaultServer::with_handler(ranged(
        object(0),
        "\"v1\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .concurrency(1)
        .resume(dir.path().join("out.journal"))
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap();
    // Exactly the ranges the journal does not list, pinned to the journal's ETag.
    let v1 = Some("\"v1\"".to_owned());
    let missing: Vec<_> = [(3, PART), (4, PART), (5, 1000)]
        .into_iter()
        .filter(|(i, _)| !journaled.contains(&((i * PART) as u64)))
        .map(|(i, len)| (range(i, len), v1.clone()))
        .collect();
    assert_eq!(ranges_asked(&server), missing);
    assert_eq!(out.ranges as usize, missing.len());
    let got = std::fs::read(dir.path().join("out.bin")).unwrap();
    assert_eq!(sha(&got), sha(&object(0)));
    assert_eq!(
        names(dir.path()),
        ["out.bin"],
        "journal and partial file gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_object_starts_the_download_over() {
    let dir = tempfile::tempdir().unwrap();
    broken_download(dir.path()).await;
    let server = FaultServer::with_handler(ranged(
        object(7),
        "\"v2\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(PART as u64)
        .concurrency(1)
        .resume(dir.path().join("out.journal"))
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap();
    assert_eq!(out.etag.as_deref(), Some("\"v2\""));
    let asked = ranges_asked(&server);
    // The pinned range is refused (412); then the whole object again, pinned to v2.
    assert_eq!(asked[0], (range(3, PART), Some("\"v1\"".to_owned())));
    assert_eq!(asked[1], (range(0, PART), None));
    assert_eq!(asked.len(), 1 + 6);
    let got = std::fs::read(dir.path().join("out.bin")).unwrap();
    assert_eq!(sha(&got), sha(&object(7)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_or_corrupt_journal_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    broken_download(dir.path()).await;
    let journal = dir.path().join("out.journal");
    let before = names(dir.path());
    let server = FaultServer::with_handler(ranged(
        object(0),
        "\"v1\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    let c = client(&server);

    // Another key.
    let err = c
        .bucket("bkt")
        .download("other")
        .resume(&journal)
        .to_path(dir.path().join("other.bin"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(
        err.to_string().contains("belongs to another transfer"),
        "{err}"
    );
    // An upload with a download's journal.
    let err = c
        .bucket("bkt")
        .upload("k")
        .multipart_threshold(0)
        .resume(&journal)
        .from_bytes(vec![0u8; 6 << 20])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");

    // Cut short.
    let text = std::fs::read(&journal).unwrap();
    std::fs::write(&journal, &text[..text.len() - 10]).unwrap();
    let err = c
        .bucket("bkt")
        .download("k")
        .resume(&journal)
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(err.to_string().contains("corrupt"), "{err}");

    assert!(server.requests().is_empty(), "nothing was sent");
    assert_eq!(names(dir.path()), before, "nothing was written");
}
