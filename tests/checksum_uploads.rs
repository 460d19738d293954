//! Request checksums: the client's default and per-request choices, multipart checksums
//! (per part, composite, full-object CRC combined from the parts) in the manual API and the
//! transfer engine, against the scripted server (to see exactly what is sent, and answers a
//! real store would not give) and against s3s-fs.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Body, ChecksumAlgorithm, ChecksumType, Client, ErrorKind, PartInfo};
use sha2::{Digest, Sha256};
use support::fault::{FaultServer, Recorded, Reply};
use support::{data, env};

const MIB: usize = 1 << 20;

fn put_ok() -> Reply {
    Reply::new(200, "text/plain", "").header("etag", "\"e\"")
}

fn checksum_headers(r: &Recorded) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter(|(n, _)| n.starts_with("x-amz-checksum") || n == "content-md5")
        .cloned()
        .collect()
}

/// No checksum unless one is chosen; a client default applies to every upload and a request
/// can choose another or none.
#[tokio::test]
async fn the_default_is_no_checksum_and_a_client_default_can_be_overridden_per_request() {
    let server = FaultServer::start(vec![put_ok()]).await;
    let body = b"some bytes to protect".to_vec();
    let plain = support::fault_client_builder(&server).build().unwrap();
    plain
        .bucket("bkt")
        .put_object("a", body.clone())
        .await
        .unwrap();
    let with_default = support::fault_client_builder(&server)
        .request_checksum(ChecksumAlgorithm::Crc32c)
        .build()
        .unwrap();
    let b = with_default.bucket("bkt");
    let out = b.put_object("b", body.clone()).await.unwrap();
    assert_eq!(
        out.checksum,
        Some((
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc32c.compute(&body)
        ))
    );
    b.put_object("c", body.clone())
        .checksum(None)
        .await
        .unwrap();
    b.put_object("d", body.clone())
        .checksum(ChecksumAlgorithm::ContentMd5)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(checksum_headers(&reqs[0]), []);
    assert_eq!(
        checksum_headers(&reqs[1]),
        [(
            "x-amz-checksum-crc32c".to_owned(),
            ChecksumAlgorithm::Crc32c.compute(&body)
        )]
    );
    assert_eq!(checksum_headers(&reqs[2]), []);
    assert_eq!(
        checksum_headers(&reqs[3]),
        [(
            "content-md5".to_owned(),
            ChecksumAlgorithm::ContentMd5.compute(&body)
        )]
    );
}

/// A stream body cannot be checksummed before it is sent: the client's default is skipped
/// for it, a checksum asked for on the request travels as a trailer (tests/streaming.rs),
/// and Content-MD5, which cannot, is an error.
#[tokio::test]
async fn stream_bodies_skip_the_default_and_take_an_explicit_checksum_as_a_trailer() {
    let server = FaultServer::start(vec![put_ok(), put_ok()]).await;
    let c = support::fault_client_builder(&server)
        .request_checksum(ChecksumAlgorithm::Crc32c)
        .build()
        .unwrap();
    let stream = || {
        Body::from_stream(
            futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"abc"))]),
            3,
        )
    };
    c.bucket("bkt").put_object("s", stream()).await.unwrap();
    let reqs = server.requests();
    assert_eq!(checksum_headers(&reqs[0]), []);
    assert_eq!(reqs[0].header("x-amz-trailer"), None);
    c.bucket("bkt")
        .put_object("s", stream())
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(checksum_headers(&reqs[1]), []);
    assert_eq!(
        reqs[1].header("x-amz-trailer"),
        Some("x-amz-checksum-crc32c")
    );
    let err = c
        .bucket("bkt")
        .put_object("s", stream())
        .checksum(ChecksumAlgorithm::ContentMd5)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert_eq!(server.requests().len(), 2);
}

/// A PutObject answer that reports another checksum than the one sent is not a success.
#[tokio::test]
async fn a_put_answered_with_another_checksum_is_an_error() {
    let server = FaultServer::start(vec![put_ok().header(
        "x-amz-checksum-crc32c",
        &ChecksumAlgorithm::Crc32c.compute(b"other"),
    )])
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let err = c
        .bucket("bkt")
        .put_object("k", "payload")
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
}

// ---- multipart against the scripted server ----

fn part_number(r: &Recorded) -> Option<u32> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("partNumber=")?.parse().ok())
}

fn initiate() -> Reply {
    Reply::new(
        200,
        "application/xml",
        "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key><UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
    )
}

/// A completion answer reporting `checksum` (element name and value) and its type.
fn completed_with(checksum: Option<(&str, String)>, ty: &str) -> Reply {
    let sum = checksum
        .map(|(e, v)| format!("<{e}>{v}</{e}><ChecksumType>{ty}</ChecksumType>"))
        .unwrap_or_default();
    Reply::new(
        200,
        "application/xml",
        format!(
            "<CompleteMultipartUploadResult><Location>x</Location><ETag>\"done-3\"</ETag>{sum}\
             </CompleteMultipartUploadResult>"
        ),
    )
}

/// A multipart server whose parts echo the checksum header they received (as S3 does) and
/// whose completion answer is `complete`.
fn mpu_server(complete: Reply) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync {
    move |r, _| match (r.method.as_str(), part_number(r)) {
        ("POST", _) if r.target.contains("uploads") => initiate(),
        ("PUT", Some(n)) => {
            let mut reply = Reply::new(200, "text/plain", "").header("etag", &format!("\"p{n}\""));
            for (name, value) in checksum_headers(r) {
                if name.starts_with("x-amz-checksum-") {
                    reply = reply.header(&name, &value);
                }
            }
            reply
        }
        ("POST", _) => complete.clone(),
        ("DELETE", _) => Reply::new(204, "text/plain", ""),
        _ => Reply::s3_error(400, "Unexpected"),
    }
}

fn requests<'a>(reqs: &'a [Recorded], method: &str, needle: &str) -> Vec<&'a Recorded> {
    reqs.iter()
        .filter(|r| r.method == method && r.target.contains(needle))
        .collect()
}

fn three_parts() -> (Vec<u8>, Vec<Vec<u8>>) {
    let whole = data(2 * 5 * MIB + 4321, 3);
    let parts = whole.chunks(5 * MIB).map(<[u8]>::to_vec).collect();
    (whole, parts)
}

/// Manual API, CRC32C full-object (the default kind for CRCs): the upload is created with
/// the algorithm and type, each part carries its CRC, the completion lists them and sends
/// the whole object's CRC, combined from the parts' CRCs; the answer's checksum is checked.
#[tokio::test]
async fn full_object_crc_multipart_by_hand() {
    let (whole, parts) = three_parts();
    let full = ChecksumAlgorithm::Crc32c.compute(&whole);
    let server = FaultServer::with_handler(mpu_server(completed_with(
        Some(("ChecksumCRC32C", full.clone())),
        "FULL_OBJECT",
    )))
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let up = c
        .bucket("bkt")
        .create_multipart_upload("k")
        .checksum(ChecksumAlgorithm::Crc32c)
        .await
        .unwrap();
    assert_eq!(up.checksum_algorithm(), Some(ChecksumAlgorithm::Crc32c));
    for (i, p) in parts.iter().enumerate() {
        let info = up.upload_part(i as u32 + 1, p.clone()).await.unwrap();
        assert_eq!(
            info.checksum,
            Some((
                ChecksumAlgorithm::Crc32c,
                ChecksumAlgorithm::Crc32c.compute(p)
            ))
        );
    }
    let done = up.complete().await.unwrap();
    assert_eq!(
        done.checksum,
        Some((ChecksumAlgorithm::Crc32c, full.clone()))
    );

    let reqs = server.requests();
    let create = requests(&reqs, "POST", "uploads")[0];
    assert_eq!(create.header("x-amz-checksum-algorithm"), Some("CRC32C"));
    assert_eq!(create.header("x-amz-checksum-type"), Some("FULL_OBJECT"));
    for r in requests(&reqs, "PUT", "partNumber") {
        let n = part_number(r).unwrap() as usize;
        assert_eq!(
            r.header("x-amz-checksum-crc32c").unwrap(),
            ChecksumAlgorithm::Crc32c.compute(&parts[n - 1])
        );
    }
    let complete = requests(&reqs, "POST", "uploadId=UP1")[0];
    assert_eq!(
        complete.header("x-amz-checksum-crc32c"),
        Some(full.as_str())
    );
    assert_eq!(complete.header("x-amz-checksum-type"), Some("FULL_OBJECT"));
    let xml = String::from_utf8(complete.body.clone()).unwrap();
    for p in &parts {
        let element = format!(
            "<ChecksumCRC32C>{}</ChecksumCRC32C>",
            ChecksumAlgorithm::Crc32c.compute(p)
        );
        assert!(xml.contains(&element), "{xml}");
    }
}

/// A completion answer whose checksum is not the one the parts make is an error carrying the
/// upload id: never a success (the manual API and the engine alike).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_reporting_another_checksum_is_an_error() {
    let (whole, parts) = three_parts();
    let wrong = ChecksumAlgorithm::Crc64Nvme.compute(&whole[1..]);
    let server = FaultServer::with_handler(mpu_server(completed_with(
        Some(("ChecksumCRC64NVME", wrong)),
        "FULL_OBJECT",
    )))
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let up = c
        .bucket("bkt")
        .create_multipart_upload("k")
        .checksum(ChecksumAlgorithm::Crc64Nvme)
        .await
        .unwrap();
    for (i, p) in parts.iter().enumerate() {
        up.upload_part(i as u32 + 1, p.clone()).await.unwrap();
    }
    let err = up.complete().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    assert_eq!(err.upload_id(), Some("UP1"));

    let err = c
        .bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .checksum(ChecksumAlgorithm::Crc64Nvme)
        .from_bytes(whole)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    assert_eq!(err.upload_id(), Some("UP1"));
    // The object exists once Complete answered: the engine has nothing to abort.
    assert!(
        server.requests().iter().all(|r| r.method != "DELETE"),
        "no abort after a completed upload"
    );
}

/// A store that ignores `x-amz-checksum-type: FULL_OBJECT` and completes with a composite
/// CRC32C is checked against the composite form: right is a success, wrong an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composite_answer_to_a_full_object_upload_is_checked_as_composite() {
    let (whole, parts) = three_parts();
    let mut raw = Vec::new();
    for p in &parts {
        raw.extend_from_slice(
            &crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, p).to_be_bytes()[4..],
        );
    }
    let composite = format!("{}-3", ChecksumAlgorithm::Crc32c.compute(&raw));
    for (answer, ok) in [(composite.clone(), true), ("AAAAAA==-3".to_owned(), false)] {
        let server = FaultServer::with_handler(mpu_server(completed_with(
            Some(("ChecksumCRC32C", answer)),
            "COMPOSITE",
        )))
        .await;
        let res = support::fault_client_builder(&server)
            .build()
            .unwrap()
            .bucket("bkt")
            .upload("k")
            .part_size(5 * MIB as u64)
            .multipart_threshold(5 * MIB as u64)
            .checksum(ChecksumAlgorithm::Crc32c)
            .from_bytes(whole.clone())
            .await;
        if ok {
            assert_eq!(
                res.unwrap().checksum,
                Some((ChecksumAlgorithm::Crc32c, composite.clone()))
            );
        } else {
            assert_eq!(res.unwrap_err().kind(), ErrorKind::ChecksumMismatch);
        }
    }
}

/// A composite answer (`…-<parts>`) is checked against the digest of the parts' digests,
/// computed here from the definition with the sha2 crate; SHA-256 is composite by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_sha256_through_the_engine() {
    let (whole, parts) = three_parts();
    let mut raw = Vec::new();
    for p in &parts {
        raw.extend_from_slice(&Sha256::digest(p));
    }
    let composite = format!("{}-3", ChecksumAlgorithm::Sha256.compute(&raw));
    let server = FaultServer::with_handler(mpu_server(completed_with(
        Some(("ChecksumSHA256", composite.clone())),
        "COMPOSITE",
    )))
    .await;
    let c = support::fault_client_builder(&server)
        .request_checksum(ChecksumAlgorithm::Sha256)
        .build()
        .unwrap();
    let out = c
        .bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .from_bytes(whole)
        .await
        .unwrap();
    assert_eq!(out.parts, 3);
    assert_eq!(out.checksum, Some((ChecksumAlgorithm::Sha256, composite)));
    let reqs = server.requests();
    let create = requests(&reqs, "POST", "uploads")[0];
    assert_eq!(create.header("x-amz-checksum-algorithm"), Some("SHA256"));
    assert_eq!(create.header("x-amz-checksum-type"), Some("COMPOSITE"));
    let complete = requests(&reqs, "POST", "uploadId=UP1")[0];
    // Only a full-object checksum goes in the completion's headers.
    assert_eq!(complete.header("x-amz-checksum-sha256"), None);
    let xml = String::from_utf8(complete.body.clone()).unwrap();
    assert_eq!(xml.matches("<ChecksumSHA256>").count(), 3, "{xml}");
}

/// A file upload computes each part's checksum from the file (read once more, then streamed
/// from disk as the part is sent); the full-object CRC matches the whole file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_parts_are_checksummed_from_disk() {
    let (whole, parts) = three_parts();
    let full = ChecksumAlgorithm::Crc32.compute(&whole);
    let server = FaultServer::with_handler(mpu_server(completed_with(
        Some(("ChecksumCRC32", full.clone())),
        "FULL_OBJECT",
    )))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src.bin");
    std::fs::write(&path, &whole).unwrap();
    let out = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .checksum(ChecksumAlgorithm::Crc32)
        .from_path(&path)
        .await
        .unwrap();
    assert_eq!(out.checksum, Some((ChecksumAlgorithm::Crc32, full.clone())));
    let reqs = server.requests();
    let puts = requests(&reqs, "PUT", "partNumber");
    assert_eq!(puts.len(), 3);
    for r in puts {
        let n = part_number(r).unwrap() as usize;
        assert_eq!(r.payload(), parts[n - 1]);
        assert_eq!(
            r.header("x-amz-checksum-crc32").unwrap(),
            ChecksumAlgorithm::Crc32.compute(&parts[n - 1])
        );
    }
    let complete = requests(&reqs, "POST", "uploadId=UP1")[0];
    assert_eq!(complete.header("x-amz-checksum-crc32"), Some(full.as_str()));
}

/// An UploadPart answer reporting another checksum than the one sent fails the part, and the
/// engine aborts the upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_answered_with_another_checksum_aborts_the_upload() {
    let (whole, _) = three_parts();
    let normal = mpu_server(completed_with(None, ""));
    let server = FaultServer::with_handler(move |r, all| match part_number(r) {
        Some(2) if r.method == "PUT" => Reply::new(200, "text/plain", "")
            .header("etag", "\"p2\"")
            .header("x-amz-checksum-crc32c", "AAAAAA=="),
        _ => normal(r, all),
    })
    .await;
    let err = support::fault_client_builder(&server)
        .request_checksum(ChecksumAlgorithm::Crc32c)
        .build()
        .unwrap()
        .bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .from_bytes(whole)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChecksumMismatch, "{err:?}");
    let reqs = server.requests();
    assert_eq!(
        requests(&reqs, "POST", "uploadId=UP1").len(),
        0,
        "never completed"
    );
    assert_eq!(requests(&reqs, "DELETE", "uploadId=UP1").len(), 1);
}

/// TEST-PLAN U8 with a checksum: `400 RequestTimeout` on a part; the retry carries the
/// same bytes and the same checksum (computed once, before the first attempt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_part_carries_the_same_checksum() {
    let (whole, parts) = three_parts();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src.bin");
    std::fs::write(&path, &whole).unwrap();
    let normal = mpu_server(completed_with(None, ""));
    let server = FaultServer::with_handler(move |r, all| {
        let tries_of_2 = all.iter().filter(|x| part_number(x) == Some(2)).count();
        match part_number(r) {
            Some(2) if r.method == "PUT" && tries_of_2 == 1 => {
                Reply::s3_error(400, "RequestTimeout")
            }
            _ => normal(r, all),
        }
    })
    .await;
    support::fault_client_builder(&server)
        .request_checksum(ChecksumAlgorithm::Crc64Nvme)
        .build()
        .unwrap()
        .bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .from_path(&path)
        .await
        .unwrap();
    let reqs = server.requests();
    let tries: Vec<&Recorded> = reqs.iter().filter(|r| part_number(r) == Some(2)).collect();
    assert_eq!(tries.len(), 2);
    let want = ChecksumAlgorithm::Crc64Nvme.compute(&parts[1]);
    for t in tries {
        assert_eq!(t.payload(), parts[1]);
        assert_eq!(t.header("x-amz-checksum-crc64nvme"), Some(want.as_str()));
    }
}

/// Content-MD5 on a multipart upload: each part carries `Content-MD5`; the upload is
/// created without an algorithm and the completion lists no checksums.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_md5_parts() {
    let (whole, parts) = three_parts();
    let server = FaultServer::with_handler(mpu_server(completed_with(None, ""))).await;
    let out = support::fault_client_builder(&server)
        .request_checksum(ChecksumAlgorithm::ContentMd5)
        .build()
        .unwrap()
        .bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .from_bytes(whole)
        .await
        .unwrap();
    assert_eq!(out.checksum, None);
    let reqs = server.requests();
    let create = requests(&reqs, "POST", "uploads")[0];
    assert_eq!(checksum_headers(create), []);
    for r in requests(&reqs, "PUT", "partNumber") {
        let n = part_number(r).unwrap() as usize;
        assert_eq!(
            checksum_headers(r),
            [(
                "content-md5".to_owned(),
                ChecksumAlgorithm::ContentMd5.compute(&parts[n - 1])
            )]
        );
    }
    let complete = requests(&reqs, "POST", "uploadId=UP1")[0];
    assert_eq!(checksum_headers(complete), []);
    assert!(!String::from_utf8_lossy(&complete.body).contains("Checksum"));
}

/// Combinations S3 does not offer are refused before anything is sent.
#[tokio::test]
async fn impossible_checksum_kinds_are_refused_up_front() {
    let server = FaultServer::start(vec![initiate()]).await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let b = c.bucket("bkt");
    for (alg, ty) in [
        (ChecksumAlgorithm::Crc64Nvme, ChecksumType::Composite),
        (ChecksumAlgorithm::Sha1, ChecksumType::FullObject),
        (ChecksumAlgorithm::ContentMd5, ChecksumType::Composite),
    ] {
        let err = b
            .create_multipart_upload("k")
            .checksum(alg)
            .checksum_type(ty)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{alg:?} {ty:?}");
        let err = b
            .upload("k")
            .checksum(alg)
            .checksum_type(ty)
            .multipart_threshold(5 * MIB as u64)
            .from_bytes(vec![0u8; 6 * MIB])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{alg:?} {ty:?}");
    }
    assert!(server.requests().is_empty());
}

/// A resumed upload: the parts ListParts reports keep their checksums, so completing from
/// the listing sends them.
#[tokio::test]
async fn listed_parts_keep_their_checksums() {
    let listing = "<ListPartsResult><IsTruncated>false</IsTruncated>\
        <Part><PartNumber>1</PartNumber><ETag>\"p1\"</ETag><Size>5242880</Size>\
        <ChecksumCRC32C>AAAAAQ==</ChecksumCRC32C></Part>\
        <Part><PartNumber>2</PartNumber><ETag>\"p2\"</ETag><Size>10</Size>\
        <ChecksumCRC32C>AAAAAg==</ChecksumCRC32C></Part></ListPartsResult>";
    let server = FaultServer::start(vec![
        Reply::new(200, "application/xml", listing),
        completed_with(None, ""),
    ])
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let up = c
        .bucket("bkt")
        .multipart_upload("k", "UP1")
        .with_checksum(ChecksumAlgorithm::Crc32c, Some(ChecksumType::FullObject));
    let parts = up.list_parts().await.unwrap();
    assert_eq!(
        parts[1],
        PartInfo::new(2, "\"p2\"")
            .with_size(10)
            .with_checksum(ChecksumAlgorithm::Crc32c, "AAAAAg==")
    );
    let done = up.complete_with(parts).await.unwrap();
    let reqs = server.requests();
    let xml = String::from_utf8(reqs[1].body.clone()).unwrap();
    assert!(
        xml.contains("<ChecksumCRC32C>AAAAAQ==</ChecksumCRC32C>"),
        "{xml}"
    );
    // The full-object CRC is combined from the listed values and sizes.
    let combined = reqs[1].header("x-amz-checksum-crc32c").unwrap().to_owned();
    assert_eq!(done.checksum, Some((ChecksumAlgorithm::Crc32c, combined)));
}

// ---- against s3s-fs ----

/// Every algorithm round-trips through a multipart upload (engine, from a file and from
/// memory) and a single PutObject on s3s-fs. s3s-fs 0.14.1 accepts the checksum headers and
/// completion elements of multipart uploads but neither verifies nor stores them; it does
/// verify and store single-request checksums.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_algorithm_round_trips_through_s3s_fs() {
    let e = env("sums-mpu").await;
    let whole = data(2 * 5 * MIB + 777, 8);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, &whole).unwrap();
    for alg in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::ContentMd5,
    ] {
        let up = || {
            e.bucket
                .upload(format!("{alg:?}"))
                .part_size(5 * MIB as u64)
                .multipart_threshold(5 * MIB as u64)
                .checksum(alg)
        };
        let out = up()
            .from_path(&path)
            .await
            .unwrap_or_else(|err| panic!("{alg:?}: {err:?}"));
        assert_eq!(out.parts, 3, "{alg:?}");
        let got = e
            .bucket
            .get_object(format!("{alg:?}"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(got == whole, "{alg:?}");
        up().from_bytes(whole.clone())
            .await
            .unwrap_or_else(|err| panic!("{alg:?}: {err:?}"));
        let small = up()
            .from_bytes(whole[..1000].to_vec())
            .await
            .unwrap_or_else(|err| panic!("{alg:?} single: {err:?}"));
        assert_eq!(small.parts, 0);
        assert_eq!(small.checksum, Some((alg, alg.compute(&whole[..1000]))));
    }
}

/// The manual API with a client default against s3s-fs: parts, completion and the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_multipart_with_a_client_default_on_s3s_fs() {
    let server = support::S3Server::start().await.unwrap();
    let client: Client = support::client_builder_for(&server)
        .request_checksum(ChecksumAlgorithm::Crc32c)
        .build()
        .unwrap();
    client.create_bucket("mpu-sums").await.unwrap();
    let b = client.bucket("mpu-sums");
    let (whole, parts) = three_parts();
    let up = b.create_multipart_upload("k").await.unwrap();
    for (i, p) in parts.iter().enumerate() {
        up.upload_part(i as u32 + 1, p.clone()).await.unwrap();
    }
    let done = up.complete().await.unwrap();
    // s3s-fs reports no checksum: ours is the one computed from the parts.
    assert_eq!(
        done.checksum,
        Some((
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc32c.compute(&whole)
        ))
    );
    assert!(b.get_object("k").await.unwrap().bytes().await.unwrap() == whole);
}
