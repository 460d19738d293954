//! The parallel download verifies the whole object against a full-object checksum: per-range
//! CRCs combined in offset order (files, memory), or the bytes hashed in order (streams,
//! writers); mismatches leave nothing behind (TEST-PLAN D9).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{ChecksumAlgorithm, Client, ErrorKind};
use futures_util::StreamExt;
use support::fault::{FaultServer, Recorded, Reply, serve_range};
use support::{data, env};

const MIB: usize = 1 << 20;

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

/// A store holding `object` with a stored checksum, answering as S3 does: ranged GETs carry
/// the checksum only when the range is the whole object; HEAD always does (with
/// `x-amz-checksum-mode: ENABLED`).
fn store(
    object: Vec<u8>,
    checksum: (&'static str, String),
    ty: &'static str,
) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static {
    move |r, _| {
        let with_sum = |reply: Reply| {
            if r.header("x-amz-checksum-mode") == Some("ENABLED") {
                reply
                    .header(checksum.0, &checksum.1)
                    .header("x-amz-checksum-type", ty)
            } else {
                reply
            }
        };
        if r.method == "HEAD" {
            return with_sum(
                Reply::new(200, "application/octet-stream", object.clone())
                    .header("etag", "\"v1\""),
            );
        }
        let reply = serve_range(&object, Some("\"v1\""), r);
        let whole = support::fault::parse_range(r.header("range"), object.len())
            .is_none_or(|(s, e)| s == 0 && e + 1 == object.len());
        if whole { with_sum(reply) } else { reply }
    }
}

fn dir_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// A correct full-object CRC64NVME of a 10-range object: verified, on every destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_object_crc_is_verified_from_the_ranges() {
    let obj = data(10 * MIB - 5, 1);
    let sum = ChecksumAlgorithm::Crc64Nvme.compute(&obj);
    let server = FaultServer::with_handler(store(
        obj.clone(),
        ("x-amz-checksum-crc64nvme", sum),
        "FULL_OBJECT",
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let down = || {
        client(&server)
            .bucket("bkt")
            .download("k")
            .part_size(MIB as u64)
    };
    let out = down().validate_checksum().to_path(&dest).await.unwrap();
    assert!(out.checksum_verified);
    assert_eq!(
        out.checksum.as_ref().map(|c| c.0),
        Some(ChecksumAlgorithm::Crc64Nvme)
    );
    assert!(std::fs::read(&dest).unwrap() == obj);
    assert!(down().validate_checksum().to_bytes().await.unwrap() == obj);
    let mut w = Vec::new();
    down().validate_checksum().to_writer(&mut w).await.unwrap();
    assert!(w == obj);

    let reqs = server.requests();
    let heads: Vec<&Recorded> = reqs.iter().filter(|r| r.method == "HEAD").collect();
    assert_eq!(
        heads.len(),
        3,
        "one HEAD per download, for the stored checksum"
    );
    for h in heads {
        assert_eq!(h.header("if-match"), Some("\"v1\""));
        assert_eq!(h.header("x-amz-checksum-mode"), Some("ENABLED"));
    }
    // Without verification: no checksum mode, no HEAD, and the output says so.
    let before = server.requests().len();
    let out = down().to_path(&dest).await.unwrap();
    assert!(!out.checksum_verified);
    let after = server.requests();
    assert!(
        after[before..]
            .iter()
            .all(|r| r.method == "GET" && r.header("x-amz-checksum-mode").is_none())
    );
}

/// TEST-PLAN D9 for the parallel download: the store's checksum says the bytes are wrong:
/// ChecksumMismatch, the destination untouched, no temporary file; the same for memory and
/// streams (whose last item is the error).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_crc32c_fails_the_download_and_leaves_nothing() {
    let obj = data(6 * MIB + 3, 2);
    let mut other = obj.clone();
    other[4 * MIB] ^= 1;
    let wrong = ChecksumAlgorithm::Crc32c.compute(&other);
    let server =
        FaultServer::with_handler(store(obj, ("x-amz-checksum-crc32c", wrong), "FULL_OBJECT"))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    std::fs::write(&dest, b"previous contents").unwrap();
    let down = || {
        client(&server)
            .bucket("bkt")
            .download("k")
            .part_size(MIB as u64)
            .validate_checksum()
    };
    let err = down().to_path(&dest).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous contents");
    assert_eq!(dir_entries(dir.path()), 1, "temp file removed");

    let err = down().to_bytes().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");

    let mut stream = down().to_stream().await.unwrap();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    let last = items.pop().unwrap().unwrap_err();
    assert_eq!(last.kind(), ErrorKind::ChecksumMismatch, "{last:?}");
    assert!(items.iter().all(Result::is_ok));
}

/// The same for an object small enough to come whole in the discovery answer (written to its
/// path in one piece, not through the range pool): ChecksumMismatch, the destination
/// untouched, no temporary file; with the right checksum, exactly the bytes and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_object_with_a_wrong_crc_leaves_nothing_and_a_right_one_lands_whole() {
    let obj = data(5000, 3);
    let mut other = obj.clone();
    other[4321] ^= 1;
    let wrong = ChecksumAlgorithm::Crc32c.compute(&other);
    let server = FaultServer::with_handler(store(
        obj.clone(),
        ("x-amz-checksum-crc32c", wrong),
        "FULL_OBJECT",
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("small.bin");
    std::fs::write(&dest, b"previous contents").unwrap();
    let bucket = client(&server).bucket("bkt");
    let err = bucket
        .download("k")
        .validate_checksum()
        .to_path(&dest)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous contents");
    assert_eq!(dir_entries(dir.path()), 1, "temp file removed");

    let right = ChecksumAlgorithm::Crc32c.compute(&obj);
    let server = FaultServer::with_handler(store(
        obj.clone(),
        ("x-amz-checksum-crc32c", right),
        "FULL_OBJECT",
    ))
    .await;
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .validate_checksum()
        .to_path(&dest)
        .await
        .unwrap();
    assert!(out.checksum_verified);
    assert_eq!((out.size, out.ranges), (5000, 1));
    assert_eq!(std::fs::read(&dest).unwrap(), obj);
    assert_eq!(dir_entries(dir.path()), 1, "only the destination remains");
}

/// A single-range object: the discovery GET already carries the checksum; no HEAD is needed.
#[tokio::test]
async fn a_one_range_object_is_verified_from_the_discovery_answer() {
    let obj = data(300_000, 3);
    let sum = ChecksumAlgorithm::Crc32.compute(&obj);
    let server =
        FaultServer::with_handler(store(obj, ("x-amz-checksum-crc32", sum), "FULL_OBJECT")).await;
    let dir = tempfile::tempdir().unwrap();
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .validate_checksum()
        .to_path(dir.path().join("o"))
        .await
        .unwrap();
    assert!(out.checksum_verified);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("x-amz-checksum-mode"), Some("ENABLED"));
}

/// A composite checksum (`…-<parts>`) cannot be checked against the bytes: the download
/// succeeds and says it was not verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composite_checksum_is_reported_unverified() {
    let obj = data(3 * MIB, 4);
    let server = FaultServer::with_handler(store(
        obj.clone(),
        ("x-amz-checksum-crc32c", "AAAAAA==-3".to_owned()),
        "COMPOSITE",
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .validate_checksum()
        .to_path(dir.path().join("o"))
        .await
        .unwrap();
    assert!(!out.checksum_verified);
    assert_eq!(
        out.checksum,
        Some((ChecksumAlgorithm::Crc32c, "AAAAAA==-3".to_owned()))
    );
    assert!(std::fs::read(dir.path().join("o")).unwrap() == obj);
}

/// A whole-object SHA-256 cannot be combined from parallel ranges: files are not verified
/// (and say so); ordered destinations hash the bytes in order and are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha256_is_verified_on_ordered_destinations_and_in_memory() {
    let obj = data(3 * MIB + 1, 5);
    let good = ChecksumAlgorithm::Sha256.compute(&obj);
    let bad = ChecksumAlgorithm::Sha256.compute(&obj[1..]);
    let good_server = FaultServer::with_handler(store(
        obj.clone(),
        ("x-amz-checksum-sha256", good),
        "FULL_OBJECT",
    ))
    .await;
    let bad_server = FaultServer::with_handler(store(
        obj.clone(),
        ("x-amz-checksum-sha256", bad),
        "FULL_OBJECT",
    ))
    .await;
    let down = |s: &FaultServer| {
        client(s)
            .bucket("bkt")
            .download("k")
            .part_size(MIB as u64)
            .validate_checksum()
    };
    let dir = tempfile::tempdir().unwrap();
    let out = down(&bad_server)
        .to_path(dir.path().join("o"))
        .await
        .unwrap();
    assert!(!out.checksum_verified);
    let mut w = Vec::new();
    down(&good_server).to_writer(&mut w).await.unwrap();
    assert!(w == obj);
    let err = down(&bad_server)
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    // In memory the whole object is at hand: it is hashed once and checked.
    let got = down(&good_server).to_bytes().await.unwrap();
    assert!(got == obj);
    let err = down(&bad_server).to_bytes().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
}

/// Against s3s-fs: an object stored with a CRC32C (single PutObject) downloads in several
/// ranges and is verified (s3s-fs returns the stored checksum on HEAD).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_fs_objects_are_verified() {
    let e = env("sums-down").await;
    let obj = data(7 * MIB + 11, 6);
    e.bucket
        .put_object("k", obj.clone())
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = e
        .bucket
        .download("k")
        .part_size(2 * MIB as u64)
        .validate_checksum()
        .to_path(dir.path().join("o"))
        .await
        .unwrap();
    assert_eq!(out.ranges, 4);
    assert!(out.checksum_verified);
    assert!(std::fs::read(dir.path().join("o")).unwrap() == obj);
}
