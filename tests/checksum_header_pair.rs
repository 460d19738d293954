//! A checksum sent as a header travels with `x-amz-sdk-checksum-algorithm` naming it, as the
//! AWS SDKs send it (issue 12): some stores record the checksum only then, and a later
//! validating download reports "no checksum". Content-MD5 is not one of those algorithms and
//! goes alone.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::ChecksumAlgorithm;
use support::fault::{FaultServer, Recorded, Reply};

fn sdk_header(r: &Recorded) -> Option<&str> {
    r.header("x-amz-sdk-checksum-algorithm")
}

/// Issue 12: checksum header pair (PutObject).
#[tokio::test]
async fn put_object_sends_the_checksum_with_its_algorithm() {
    let server = FaultServer::start(vec![
        Reply::new(200, "text/plain", "").header("etag", "\"e\""),
    ])
    .await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let bucket = client.bucket("bkt");
    let body = b"bytes a store should keep a checksum of".to_vec();
    let cases = [
        (
            ChecksumAlgorithm::Crc32,
            "x-amz-checksum-crc32",
            Some("CRC32"),
        ),
        (
            ChecksumAlgorithm::Crc32c,
            "x-amz-checksum-crc32c",
            Some("CRC32C"),
        ),
        (
            ChecksumAlgorithm::Crc64Nvme,
            "x-amz-checksum-crc64nvme",
            Some("CRC64NVME"),
        ),
        (ChecksumAlgorithm::Sha1, "x-amz-checksum-sha1", Some("SHA1")),
        (
            ChecksumAlgorithm::Sha256,
            "x-amz-checksum-sha256",
            Some("SHA256"),
        ),
        (ChecksumAlgorithm::ContentMd5, "content-md5", None),
    ];
    for (alg, _, _) in cases {
        bucket
            .put_object("k", body.clone())
            .checksum(alg)
            .await
            .unwrap();
    }
    // And without a checksum, neither header.
    bucket.put_object("k", body.clone()).await.unwrap();
    let reqs = server.requests();
    for (r, (alg, header, name)) in reqs.iter().zip(cases) {
        assert_eq!(
            r.header(header),
            Some(alg.compute(&body).as_str()),
            "{alg:?}"
        );
        assert_eq!(sdk_header(r), name, "{alg:?}");
    }
    let last = reqs.last().unwrap();
    assert_eq!(sdk_header(last), None);
    assert!(
        !last
            .headers
            .iter()
            .any(|(n, _)| n.starts_with("x-amz-checksum")),
        "{last:?}"
    );
}

/// Issue 12: checksum header pair (UploadPart).
#[tokio::test]
async fn upload_part_sends_the_checksum_with_its_algorithm() {
    let server = FaultServer::with_handler(|r, _| {
        if r.method == "POST" {
            Reply::new(
                200,
                "application/xml",
                "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key>\
                 <UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
            )
        } else {
            let mut reply = Reply::new(200, "text/plain", "").header("etag", "\"p1\"");
            if let Some(v) = r.header("x-amz-checksum-crc32c") {
                reply = reply.header("x-amz-checksum-crc32c", v);
            }
            reply
        }
    })
    .await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let up = client
        .bucket("bkt")
        .create_multipart_upload("k")
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap();
    let part = vec![7u8; 1024];
    up.upload_part(1, part.clone()).await.unwrap();
    let reqs = server.requests();
    let put = reqs.iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(
        put.header("x-amz-checksum-crc32c"),
        Some(ChecksumAlgorithm::Crc32c.compute(&part).as_str())
    );
    assert_eq!(sdk_header(put), Some("CRC32C"));
    // CreateMultipartUpload names the algorithm in its own header, not this one.
    let create = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(create.header("x-amz-checksum-algorithm"), Some("CRC32C"));
    assert_eq!(sdk_header(create), None);
}
