//! Streaming payloads (aws-chunked): file and stream bodies signed chunk by chunk
//! (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), and checksums of stream bodies sent as trailing
//! headers (`…-TRAILER`). s3s-fs verifies every chunk signature, the trailer signature and
//! the trailing checksum; the scripted server shows what went over the wire.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Body, ChecksumAlgorithm, Client, ErrorKind, PayloadSigning};
use bytes::Bytes;
use support::fault::{FaultServer, Reply};
use support::{ACCESS_KEY, SECRET_KEY, data, env};

fn ok() -> Reply {
    Reply::new(200, "text/plain", "").header("etag", "\"e\"")
}

/// A stream body of `bytes` in pieces of `piece` bytes.
fn stream_body(bytes: &[u8], piece: usize) -> Body {
    let pieces: Vec<std::io::Result<Bytes>> = bytes
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures_util::stream::iter(pieces), bytes.len() as u64)
}

/// Over plain http, file and stream bodies are chunk-signed by default; the server checks
/// every chunk signature, and the object is the bytes sent, for sizes around the 64 KiB chunk.
#[tokio::test]
async fn file_and_stream_bodies_are_chunk_signed_and_stored_intact() {
    let e = env("chunked").await;
    let dir = tempfile::tempdir().unwrap();
    for len in [0usize, 1, 65_535, 65_536, 65_537, 300_001] {
        let body = data(len, len as u64);
        let path = dir.path().join(format!("f{len}"));
        std::fs::write(&path, &body).unwrap();
        e.bucket
            .put_object(format!("file-{len}"), Body::from_file(&path))
            .await
            .unwrap_or_else(|err| panic!("file of {len}: {err:?}"));
        e.bucket
            .put_object(format!("stream-{len}"), stream_body(&body, 10_000))
            .await
            .unwrap_or_else(|err| panic!("stream of {len}: {err:?}"));
        for key in [format!("file-{len}"), format!("stream-{len}")] {
            let got = e
                .bucket
                .get_object(key.as_str())
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(got.len(), len, "{key}");
            assert!(got == body, "{key} differs from what was sent");
        }
    }
}

/// A stream body's checksum is computed while it is sent and follows it as a signed
/// trailer; the server verifies it and keeps it, for every CRC and SHA algorithm.
#[tokio::test]
async fn stream_checksums_travel_as_trailers_and_are_stored() {
    let e = env("trailers").await;
    let body = data(200_000, 9);
    for alg in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ] {
        let key = format!("{alg:?}");
        e.bucket
            .put_object(key.as_str(), stream_body(&body, 7_777))
            .checksum(alg)
            .await
            .unwrap_or_else(|err| panic!("{alg:?}: {err:?}"));
        let got = e
            .bucket
            .get_object(key.as_str())
            .validate_checksum()
            .await
            .unwrap();
        let (stored_alg, stored) = got.meta.checksum.clone().expect("a stored checksum");
        assert_eq!(stored_alg, alg);
        assert_eq!(stored, alg.compute(&body));
        assert_eq!(got.bytes().await.unwrap(), body);
    }
}

/// With payload signing off, a stream checksum goes as an unsigned trailer
/// (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`), still verified by the server.
#[tokio::test]
async fn unsigned_trailer_is_accepted() {
    let e = env("unsigned-trailer").await;
    let client = Client::builder()
        .endpoint(e.server.endpoint())
        .credentials(async_s3::Credentials::new(ACCESS_KEY, SECRET_KEY))
        .proxy(async_s3::ProxyConfig::None)
        .payload_signing(PayloadSigning::Never)
        .build()
        .unwrap();
    let bucket = client.bucket("unsigned-trailer");
    let body = data(150_000, 3);
    bucket
        .put_object("k", stream_body(&body, 50_000))
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap();
    let got = bucket.get_object("k").validate_checksum().await.unwrap();
    assert!(got.checksum_verified);
    assert_eq!(got.bytes().await.unwrap(), body);
}

/// Content-MD5 must be known before the body is sent, so a stream body cannot carry it.
#[tokio::test]
async fn content_md5_of_a_stream_is_refused_before_sending() {
    let server = FaultServer::start(vec![]).await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let err = client
        .bucket("bkt")
        .put_object("k", stream_body(b"abc", 2))
        .checksum(ChecksumAlgorithm::ContentMd5)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("Content-MD5"), "{err}");
    assert!(server.requests().is_empty(), "nothing was sent");
}

/// What goes over the wire: the headers of each mode, the decoded length, and a stream that
/// yields fewer bytes than announced is an error, not a short object.
#[tokio::test]
async fn wire_format_of_each_mode() {
    let body = data(70_000, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, &body).unwrap();

    let server = FaultServer::start(vec![ok(), ok(), ok(), ok(), ok(), ok()]).await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let bucket = client.bucket("bkt");
    bucket
        .put_object("file", Body::from_file(&path))
        .content_encoding("gzip")
        .await
        .unwrap();
    bucket
        .put_object("sum", stream_body(&body, 9_000))
        .checksum(ChecksumAlgorithm::Crc64Nvme)
        .await
        .unwrap();
    bucket.put_object("mem", body.clone()).await.unwrap();

    let reqs = server.requests();
    let h = |i: usize, name: &str| reqs[i].header(name).unwrap_or_default();
    assert_eq!(
        h(0, "x-amz-content-sha256"),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    );
    assert_eq!(h(0, "content-encoding"), "aws-chunked,gzip");
    assert_eq!(h(0, "x-amz-decoded-content-length"), "70000");
    // 64 KiB + 4,464 bytes: two signed chunks, the empty last one and the closing CRLF
    // (5 + 81 + 2 + 65,536 + 2) + (4 + 81 + 2 + 4,464 + 2) + (1 + 81 + 2) + 2.
    assert_eq!(h(0, "content-length"), "70265");
    assert_eq!(reqs[0].body.len(), 70_265);
    assert!(reqs[0].body.len() > body.len());
    assert!(
        String::from_utf8_lossy(&reqs[0].body).starts_with("10000;chunk-signature="),
        "the first chunk is 64 KiB and signed"
    );

    assert_eq!(
        h(1, "x-amz-content-sha256"),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    );
    assert_eq!(h(1, "x-amz-trailer"), "x-amz-checksum-crc64nvme");
    let tail = String::from_utf8_lossy(&reqs[1].body[reqs[1].body.len() - 200..]).into_owned();
    let want = format!(
        "x-amz-checksum-crc64nvme:{}\r\n",
        ChecksumAlgorithm::Crc64Nvme.compute(&body)
    );
    assert!(tail.contains(&want), "{tail:?}");
    assert!(tail.contains("x-amz-trailer-signature:"), "{tail:?}");
    assert!(tail.ends_with("\r\n\r\n"), "{tail:?}");

    // A body in memory is hashed and signed whole, as before.
    assert_eq!(h(2, "x-amz-content-sha256").len(), 64);
    assert_eq!(h(2, "content-encoding"), "");
    assert!(reqs[2].body == body);

    // A stream shorter than it claims fails the request.
    let short = Body::from_stream(
        futures_util::stream::iter(vec![Ok(Bytes::from_static(b"abc"))]),
        10,
    );
    let err = bucket.put_object("short", short).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("ended after 3 of the 10 bytes"),
        "{err}"
    );
    assert_eq!(
        err.attempts(),
        1,
        "a body of the wrong length is not sent again"
    );
    assert_eq!(
        server.requests().len(),
        3,
        "the short upload never completed"
    );
}

/// A clock that moves one second forward every time it is read.
#[derive(Debug, Default)]
struct Ticking(std::sync::atomic::AtomicU64);

impl async_s3::Clock for Ticking {
    fn now(&self) -> std::time::SystemTime {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + n)
    }
}

/// Every chunk signature of an aws-chunked body, in order (the data is `Recorded::payload`).
fn chunk_signatures(wire: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(wire)
        .split(";chunk-signature=")
        .skip(1)
        .map(|s| s[..64].to_owned())
        .collect()
}

/// TEST-PLAN R6 for a chunk-signed file body: the retry is signed afresh (new date, new
/// seed, so every chunk signature changes) and carries the identical bytes.
#[tokio::test]
async fn a_retried_chunked_body_is_resigned_with_identical_bytes() {
    let body = data(150_000, 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, &body).unwrap();
    let server = FaultServer::start(vec![Reply::s3_error(503, "SlowDown"), ok()]).await;
    let client = support::fault_client_builder(&server)
        .clock(Ticking::default())
        .build()
        .unwrap();
    client
        .bucket("bkt")
        .put_object("k", Body::from_file(&path))
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_ne!(reqs[0].header("x-amz-date"), reqs[1].header("x-amz-date"));
    let (data0, sigs0) = (reqs[0].payload(), chunk_signatures(&reqs[0].body));
    let (data1, sigs1) = (reqs[1].payload(), chunk_signatures(&reqs[1].body));
    assert!(
        data0 == body && data1 == body,
        "both attempts carry the file's bytes"
    );
    assert_eq!(sigs0.len(), 4, "three data chunks and the empty last one");
    assert!(
        sigs0.iter().zip(&sigs1).all(|(a, b)| a != b),
        "every chunk re-signed"
    );
}

/// A stream body's trailing checksum is checked against the one the service echoes: a store
/// that reports another checksum (it stored other bytes) is not a success; one that echoes
/// ours is, and the output carries the value sent.
#[tokio::test]
async fn a_trailer_echoed_back_different_is_a_checksum_error() {
    let body = data(100_000, 2);
    let right = ChecksumAlgorithm::Crc32c.compute(&body);
    let wrong = ChecksumAlgorithm::Crc32c.compute(b"other bytes");
    let server = FaultServer::start(vec![
        ok().header("x-amz-checksum-crc32c", &wrong),
        ok().header("x-amz-checksum-crc32c", &right),
    ])
    .await;
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    let err = bucket
        .put_object("k", stream_body(&body, 30_000))
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    let out = bucket
        .put_object("k", stream_body(&body, 30_000))
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap();
    assert_eq!(out.checksum, Some((ChecksumAlgorithm::Crc32c, right)));
}
