//! Integrity checksums: uploads carry them for the service to verify, downloads are checked
//! against the stored checksum (test plan row D9; the tests below name their rows).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Body, ChecksumAlgorithm, ErrorKind};
use futures_util::TryStreamExt;
use support::fault::{FaultServer, Reply};
use support::{data, env};

#[tokio::test]
async fn uploads_with_each_checksum_are_accepted_and_verified_on_download() {
    let e = env("sums").await;
    let body = data(300_000, 5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, &body).unwrap();
    for alg in [
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::ContentMd5,
    ] {
        let key = format!("{alg:?}");
        e.bucket
            .put_object(key.as_str(), body.clone())
            .checksum(alg)
            .await
            .unwrap_or_else(|err| panic!("{alg:?}: {err:?}"));
        e.bucket
            .put_object(format!("{key}-file"), Body::from_file(&path))
            .checksum(alg)
            .await
            .unwrap_or_else(|err| panic!("{alg:?} file: {err:?}"));
        let got = e
            .bucket
            .get_object(key.as_str())
            .validate_checksum()
            .await
            .unwrap();
        // An MD5 is not stored as a checksum: nothing to verify the download against.
        assert_eq!(
            got.checksum_verified,
            alg != ChecksumAlgorithm::ContentMd5,
            "{alg:?}"
        );
        if alg != ChecksumAlgorithm::ContentMd5 {
            // The store kept the checksum and returned it, so the download was verified.
            let (stored_alg, stored) = got.meta.checksum.clone().expect("a stored checksum");
            assert_eq!(stored_alg, alg);
            assert_eq!(stored, alg.compute(&body));
        }
        assert!(got.bytes().await.unwrap() == body, "{alg:?}");
    }
    let err = e
        .bucket
        .put_object("s", Body::from_stream(futures_util::stream::empty(), 0))
        // A CRC of a stream travels as a trailer (tests/streaming.rs); an MD5 cannot.
        .checksum(ChecksumAlgorithm::ContentMd5)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// TEST-PLAN D9: a byte flipped in transit is caught before success is reported.
#[tokio::test]
async fn a_corrupted_download_is_a_checksum_error() {
    let good = b"the bytes the store holds".to_vec();
    let mut bad = good.clone();
    bad[3] ^= 0x20;
    let sum = ChecksumAlgorithm::Crc32c.compute(&good);
    let server = FaultServer::start(vec![
        Reply::new(200, "application/octet-stream", bad).header("x-amz-checksum-crc32c", &sum),
        Reply::new(200, "application/octet-stream", good.clone())
            .header("x-amz-checksum-crc32c", &sum),
    ])
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let err = c
        .bucket("bkt")
        .get_object("k")
        .validate_checksum()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    assert_eq!(
        server.requests()[0].header("x-amz-checksum-mode"),
        Some("ENABLED")
    );
    // The right bytes pass the same check.
    let chunks: Result<Vec<bytes::Bytes>, _> = c
        .bucket("bkt")
        .get_object("k")
        .validate_checksum()
        .await
        .unwrap()
        .into_stream()
        .try_collect()
        .await;
    assert_eq!(chunks.unwrap().concat(), good);
}

/// What cannot be verified says so: composite checksums, partial ranges, no stored checksum.
#[tokio::test]
async fn unverifiable_answers_are_marked_as_such() {
    let body = b"0123456789".to_vec();
    let server = FaultServer::start(vec![
        Reply::new(200, "application/octet-stream", body.clone())
            .header("x-amz-checksum-crc32c", "AAAAAA==-3")
            .header("x-amz-checksum-type", "COMPOSITE"),
        Reply::new(206, "application/octet-stream", body[..4].to_vec())
            .header("content-range", "bytes 0-3/10")
            .header("x-amz-checksum-crc32c", "AAAAAA=="),
        Reply::new(200, "application/octet-stream", body.clone()),
    ])
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let b = c.bucket("bkt");
    let o = b.get_object("k").validate_checksum().await.unwrap();
    assert!(!o.checksum_verified);
    assert_eq!(o.bytes().await.unwrap(), body);
    let o = b
        .get_object("k")
        .range(0..4)
        .validate_checksum()
        .await
        .unwrap();
    assert!(!o.checksum_verified);
    o.bytes().await.unwrap();
    let o = b.get_object("k").validate_checksum().await.unwrap();
    assert!(!o.checksum_verified);
}
