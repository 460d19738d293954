//! Server-side copy: UploadPartCopy and the engine's `Bucket::copy`, against s3s-fs (bytes,
//! metadata) and the scripted server (exact requests, failures, error documents in a 200).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind};
use sha2::{Digest, Sha256};
use support::fault::{FaultServer, Recorded, Reply};
use support::{data, env};

const MIB: u64 = 1 << 20;

fn sha(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}

async fn get(bucket: &async_s3::Bucket, key: &str) -> Vec<u8> {
    bucket
        .get_object(key)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

/// A 12 MiB + 3 object above a 5 MiB threshold: three parts copied, same bytes, source
/// metadata kept on the new object.
#[tokio::test]
async fn multipart_copy_keeps_bytes_and_metadata() {
    let e = env("copy-mp").await;
    let body = data((12 * MIB + 3) as usize, 7);
    e.bucket
        .put_object("src", body.clone())
        .content_type("video/mp4")
        .metadata("color", "blue")
        .await
        .unwrap();
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p2 = progress.clone();
    let out = e
        .bucket
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .concurrency(2)
        .on_progress(move |p| p2.store(p.transferred, std::sync::atomic::Ordering::SeqCst))
        .await
        .unwrap();
    assert_eq!(out.parts, 3);
    assert_eq!(out.size, 12 * MIB + 3);
    assert!(out.upload_id.is_some());
    assert!(out.source_etag.is_some());
    assert_eq!(
        progress.load(std::sync::atomic::Ordering::SeqCst),
        12 * MIB + 3
    );
    assert_eq!(sha(&get(&e.bucket, "dst").await), sha(&body));
    let h = e.bucket.head_object("dst").await.unwrap();
    assert_eq!(h.size, 12 * MIB + 3);
    assert_eq!(h.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(h.metadata.get("color").map(String::as_str), Some("blue"));
}

/// Metadata replaced on a multipart copy, and across buckets.
#[tokio::test]
async fn multipart_copy_replaces_metadata_across_buckets() {
    let e = env("copy-src").await;
    e.client.create_bucket("copy-dst").await.unwrap();
    let body = data((10 * MIB) as usize, 9);
    e.bucket
        .put_object("a/src.bin", body.clone())
        .content_type("video/mp4")
        .metadata("color", "blue")
        .await
        .unwrap();
    let dst = e.client.bucket("copy-dst");
    let out = dst
        .copy("a/src.bin", "b/dst.bin")
        .source_bucket("copy-src")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .content_type("application/octet-stream")
        .metadata("shape", "round")
        .await
        .unwrap();
    assert_eq!(out.parts, 2);
    assert_eq!(sha(&get(&dst, "b/dst.bin").await), sha(&body));
    let h = dst.head_object("b/dst.bin").await.unwrap();
    assert_eq!(h.content_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(h.metadata.get("shape").map(String::as_str), Some("round"));
    assert_eq!(h.metadata.get("color"), None);
}

/// At or below the threshold one CopyObject does it, metadata kept or replaced.
#[tokio::test]
async fn small_copy_is_one_copy_object() {
    let e = env("copy-small").await;
    let body = data((5 * MIB) as usize, 3);
    e.bucket
        .put_object("src", body.clone())
        .metadata("color", "blue")
        .await
        .unwrap();
    let out = e
        .bucket
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .await
        .unwrap();
    assert_eq!((out.parts, out.upload_id.as_deref()), (0, None));
    assert_eq!(sha(&get(&e.bucket, "dst").await), sha(&body));
    let h = e.bucket.head_object("dst").await.unwrap();
    assert_eq!(h.metadata.get("color").map(String::as_str), Some("blue"));

    e.bucket
        .copy("src", "dst2")
        .replace_metadata()
        .await
        .unwrap();
    let h = e.bucket.head_object("dst2").await.unwrap();
    assert!(h.metadata.is_empty(), "{:?}", h.metadata);

    let err = e.bucket.copy("absent", "x").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

/// UploadPartCopy by hand: ranges of two objects joined into one.
#[tokio::test]
async fn upload_part_copy_joins_ranges() {
    let e = env("upc").await;
    let a = data((6 * MIB) as usize, 1);
    let b = data(1000, 2);
    e.bucket.put_object("a", a.clone()).await.unwrap();
    e.bucket.put_object("b", b.clone()).await.unwrap();
    let upload = e.bucket.create_multipart_upload("joined").await.unwrap();
    let p1 = upload
        .upload_part_copy(1, "upc", "a")
        .range(MIB, 6 * MIB - 1)
        .await
        .unwrap();
    assert_eq!(p1.part.size, 5 * MIB);
    upload.upload_part_copy(2, "upc", "b").await.unwrap();
    assert_eq!(upload.uploaded_parts().len(), 2);
    upload.complete().await.unwrap();
    let mut want = a[MIB as usize..].to_vec();
    want.extend_from_slice(&b);
    assert_eq!(sha(&get(&e.bucket, "joined").await), sha(&want));
}

/// Bad input is refused before anything is sent.
#[tokio::test]
async fn bad_copy_input_sends_nothing() {
    let server = FaultServer::start(vec![Reply::s3_error(500, "Unexpected")]).await;
    let c = client(&server);
    let b = c.bucket("bkt");
    let err = b.copy("s", "d").part_size(MIB).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = b
        .copy("s", "d")
        .multipart_threshold(6 * 1024 * MIB)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let upload = b.multipart_upload("d", "UP1");
    let err = upload
        .upload_part_copy(1, "bkt", "s")
        .range(10, 9)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = upload.upload_part_copy(0, "bkt", "s").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // One part copies at most 5 GiB.
    let err = upload
        .upload_part_copy(1, "bkt", "s")
        .range(0, 5 * 1024 * MIB)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    upload
        .upload_part_copy(1, "bkt", "s")
        .range(1, 5 * 1024 * MIB)
        .await
        .unwrap_err();
    // Only that one (exactly 5 GiB) was sent (and retried after the scripted 500).
    let sent = server.requests();
    assert!(!sent.is_empty());
    for r in &sent {
        assert_eq!(
            r.header("x-amz-copy-source-range"),
            Some("bytes=1-5368709120")
        );
    }
}

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

fn part_number(r: &Recorded) -> Option<u32> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("partNumber=")?.parse().ok())
}

const SOURCE_ETAG: &str = "\"9b2cf535f27731c974343645a3985328\"";

/// The documented UploadPartCopy answer.
fn part_copied(n: u32) -> Reply {
    Reply::new(
        200,
        "application/xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyPartResult>\
             <LastModified>2009-10-28T22:32:00.000Z</LastModified>\
             <ETag>\"b0c6f0e7e054ab8fa2536a2677f8734{n}\"</ETag></CopyPartResult>"
        ),
    )
}

/// A scripted copy: HEAD says 12 MiB; `part` answers each UploadPartCopy.
fn copy_server(
    part: impl Fn(u32) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static {
    move |r, _| match (r.method.as_str(), part_number(r)) {
        ("HEAD", _) => Reply::Http {
            status: 200,
            headers: vec![
                ("content-length".into(), (12 * MIB).to_string()),
                ("etag".into(), SOURCE_ETAG.into()),
                ("content-type".into(), "text/plain".into()),
                ("x-amz-meta-color".into(), "blue".into()),
            ],
            body: Vec::new(),
        },
        ("POST", _) if r.target.ends_with("?uploads") || r.target.contains("uploads=") => {
            Reply::new(
                200,
                "application/xml",
                "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>dst</Key>\
                 <UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
            )
        }
        ("GET", _) if r.target.ends_with("?tagging=") => Reply::new(
            200,
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <TagSet><Tag><Key>tag1</Key><Value>val1</Value></Tag></TagSet></Tagging>",
        ),
        ("PUT", Some(n)) => part(n),
        ("POST", _) => Reply::new(
            200,
            "application/xml",
            "<CompleteMultipartUploadResult><Location>x</Location><Bucket>bkt</Bucket>\
             <Key>dst</Key><ETag>\"3858f62230ac3c915f300c664312c11f-3\"</ETag>\
             </CompleteMultipartUploadResult>",
        ),
        ("DELETE", _) => Reply::new(204, "text/plain", ""),
        ("GET", _) => Reply::new(
            200,
            "application/xml",
            "<ListPartsResult><Bucket>bkt</Bucket><Key>dst</Key><UploadId>UP1</UploadId>\
             <IsTruncated>false</IsTruncated></ListPartsResult>",
        ),
        _ => Reply::s3_error(400, "Unexpected"),
    }
}

fn count(server: &FaultServer, method: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method)
        .count()
}

/// The exact requests of a multipart copy: the source's HEAD and tags, the upload created
/// with the source's metadata and tags, each part a pinned range of the source, then the
/// completion.
#[tokio::test]
async fn multipart_copy_sends_pinned_ranges() {
    let server = FaultServer::with_handler(copy_server(part_copied)).await;
    let c = client(&server);
    let out = c
        .bucket("bkt")
        .copy("dir/a b.txt", "dst")
        .source_bucket("src-bkt")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .concurrency(1)
        .await
        .unwrap();
    assert_eq!(out.parts, 3);
    assert_eq!(
        out.etag.as_deref(),
        Some("\"3858f62230ac3c915f300c664312c11f-3\"")
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].method, "HEAD");
    assert_eq!(reqs[0].target, "/src-bkt/dir/a%20b.txt");
    assert_eq!(reqs[1].method, "GET");
    assert_eq!(reqs[1].target, "/src-bkt/dir/a%20b.txt?tagging=");
    assert_eq!(reqs[2].method, "POST");
    assert_eq!(reqs[2].target, "/bkt/dst?uploads=");
    assert_eq!(reqs[2].header("content-type"), Some("text/plain"));
    assert_eq!(reqs[2].header("x-amz-meta-color"), Some("blue"));
    assert_eq!(reqs[2].header("x-amz-tagging"), Some("tag1=val1"));
    let parts: Vec<&Recorded> = reqs.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(parts.len(), 3);
    let ranges = [
        "bytes=0-5242879",
        "bytes=5242880-10485759",
        "bytes=10485760-12582911",
    ];
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            p.target,
            format!("/bkt/dst?partNumber={}&uploadId=UP1", i + 1)
        );
        assert_eq!(
            p.header("x-amz-copy-source"),
            Some("/src-bkt/dir/a%20b.txt")
        );
        assert_eq!(p.header("x-amz-copy-source-range"), Some(ranges[i]));
        assert_eq!(p.header("x-amz-copy-source-if-match"), Some(SOURCE_ETAG));
        assert!(p.body.is_empty());
        let signed = support::sigcheck::assert_signed(p, "AKIDTEST", "secret");
        for h in [
            "x-amz-copy-source",
            "x-amz-copy-source-if-match",
            "x-amz-copy-source-range",
        ] {
            assert!(signed.iter().any(|s| s == h), "{h} is signed: {signed:?}");
        }
    }
    let complete = reqs
        .iter()
        .find(|r| r.method == "POST" && r.target.contains("uploadId"));
    let xml = String::from_utf8(complete.unwrap().body.clone()).unwrap();
    for n in 1..=3 {
        assert!(
            xml.contains(&format!("<PartNumber>{n}</PartNumber>")),
            "{xml}"
        );
        assert!(
            xml.contains(&format!("b0c6f0e7e054ab8fa2536a2677f8734{n}")),
            "{xml}"
        );
    }
    assert_eq!(count(&server, "DELETE"), 0);
}

/// A part copy that fails leaves no upload: the abort is sent (once) and the part's error
/// comes back with the upload id.
#[tokio::test]
async fn a_failed_part_copy_aborts_the_upload() {
    let server = FaultServer::with_handler(copy_server(|n| {
        if n == 2 {
            Reply::s3_error(403, "AccessDenied")
        } else {
            part_copied(n)
        }
    }))
    .await;
    let c = client(&server);
    let err = c
        .bucket("bkt")
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .concurrency(1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert_eq!(err.upload_id(), Some("UP1"));
    let reqs = server.requests();
    let aborts: Vec<&Recorded> = reqs.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(aborts.len(), 1);
    assert_eq!(aborts[0].target, "/bkt/dst?uploadId=UP1");
    assert!(
        !reqs
            .iter()
            .any(|r| r.method == "POST" && r.target.contains("uploadId")),
        "never completed"
    );
}

/// A 200 answer to UploadPartCopy whose body is an `<Error>` is a failure (retried as the
/// code says, then the upload is aborted), never a part.
#[tokio::test]
async fn an_error_inside_a_200_part_copy_is_a_failure() {
    let server = FaultServer::with_handler(copy_server(|n| {
        if n == 3 {
            Reply::new(
                200,
                "application/xml",
                "\n\n   <Error><Code>AccessDenied</Code><Message>Access Denied</Message>\
                 <RequestId>656c76696e6727732072657175657374</RequestId></Error>",
            )
        } else {
            part_copied(n)
        }
    }))
    .await;
    let c = client(&server);
    let err = c
        .bucket("bkt")
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .concurrency(1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert_eq!(err.s3_code(), Some("AccessDenied"));
    assert_eq!(count(&server, "DELETE"), 1);
}

/// The source replaced during the copy: the pinned part copy gets 412, which is
/// `ObjectChanged`; the upload is aborted.
#[tokio::test]
async fn a_replaced_source_fails_the_copy_as_object_changed() {
    let server = FaultServer::with_handler(copy_server(|n| {
        if n == 2 {
            Reply::s3_error(412, "PreconditionFailed")
        } else {
            part_copied(n)
        }
    }))
    .await;
    let c = client(&server);
    let err = c
        .bucket("bkt")
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .concurrency(1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ObjectChanged, "{err}");
    assert_eq!(count(&server, "DELETE"), 1);
}

/// A small copy is one CopyObject pinned to the source's ETag.
#[tokio::test]
async fn single_copy_is_pinned() {
    let server =
        FaultServer::with_handler(|r: &Recorded, _: &[Recorded]| match r.method.as_str() {
            "HEAD" => Reply::Http {
                status: 200,
                headers: vec![
                    ("content-length".into(), "11".into()),
                    ("etag".into(), SOURCE_ETAG.into()),
                ],
                body: Vec::new(),
            },
            "PUT" => Reply::new(
                200,
                "application/xml",
                "<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
             <ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>",
            ),
            _ => Reply::s3_error(400, "Unexpected"),
        })
        .await;
    let c = client(&server);
    let out = c.bucket("bkt").copy("src", "dst").await.unwrap();
    assert_eq!(out.parts, 0);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].target, "/bkt/dst");
    assert_eq!(reqs[1].header("x-amz-copy-source"), Some("/bkt/src"));
    assert_eq!(
        reqs[1].header("x-amz-copy-source-if-match"),
        Some(SOURCE_ETAG)
    );
    assert_eq!(reqs[1].header("x-amz-copy-source-range"), None);
    assert_eq!(reqs[1].header("x-amz-metadata-directive"), None);
}

/// A multipart copy with a checksum: the upload is created with it, each part's checksum
/// from its CopyPartResult is listed in the completion, and the object's full-object CRC is
/// combined from them (12 MiB of zeros in parts of 5, 5 and 2 MiB).
#[tokio::test]
async fn a_multipart_copy_with_a_checksum_combines_the_parts() {
    let server = FaultServer::with_handler(copy_server(|n| {
        let crc = if n == 3 { "jYmHfg==" } else { "yTuzdQ==" };
        Reply::new(
            200,
            "application/xml",
            format!(
                "<CopyPartResult><ETag>\"b0c6f0e7e054ab8fa2536a2677f8734{n}\"</ETag>\
                 <LastModified>2009-10-28T22:32:00.000Z</LastModified>\
                 <ChecksumCRC32>{crc}</ChecksumCRC32></CopyPartResult>"
            ),
        )
    }))
    .await;
    let out = client(&server)
        .bucket("bkt")
        .copy("src", "dst")
        .checksum(async_s3::ChecksumAlgorithm::Crc32)
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .await
        .unwrap();
    assert_eq!(
        out.checksum,
        Some((async_s3::ChecksumAlgorithm::Crc32, "AfsszQ==".to_owned()))
    );
    let reqs = server.requests();
    assert_eq!(reqs[2].header("x-amz-checksum-algorithm"), Some("CRC32"));
    assert_eq!(reqs[2].header("x-amz-checksum-type"), Some("FULL_OBJECT"));
    let complete = reqs
        .iter()
        .find(|r| r.method == "POST" && r.target.contains("uploadId"))
        .unwrap();
    assert_eq!(complete.header("x-amz-checksum-crc32"), Some("AfsszQ=="));
    let xml = String::from_utf8(complete.body.clone()).unwrap();
    assert!(
        xml.contains("<ChecksumCRC32>jYmHfg==</ChecksumCRC32>"),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<ChecksumCRC32>yTuzdQ==</ChecksumCRC32>")
            .count(),
        2
    );

    // A single copy asks S3 for the checksum; Content-MD5 is no stored checksum.
    let server = FaultServer::with_handler(copy_server(part_copied)).await;
    let c = client(&server);
    let err = c
        .bucket("bkt")
        .copy("src", "dst")
        .checksum(async_s3::ChecksumAlgorithm::ContentMd5)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(server.requests().is_empty());
}

/// CopyObject with a checksum asks for it; the answer's checksum is read.
#[tokio::test]
async fn copy_object_asks_for_a_checksum() {
    let server = FaultServer::start(vec![Reply::new(
        200,
        "application/xml",
        "<CopyObjectResult><ETag>\"9b2cf535f27731c974343645a3985328\"</ETag>\
         <LastModified>2009-10-12T17:50:30.000Z</LastModified>\
         <ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></CopyObjectResult>",
    )])
    .await;
    let c = client(&server);
    let out = c
        .bucket("bkt")
        .copy_object("src", "dst")
        .checksum(async_s3::ChecksumAlgorithm::Crc32c)
        .await
        .unwrap();
    assert_eq!(
        out.checksum,
        Some((async_s3::ChecksumAlgorithm::Crc32c, "yZRlqg==".to_owned()))
    );
    let r = &server.requests()[0];
    assert_eq!(r.header("x-amz-checksum-algorithm"), Some("CRC32C"));
    assert_eq!(r.header("x-amz-metadata-directive"), None);
}

/// A version of the source, pinned everywhere; tags given on the builder replace the
/// source's (no GetObjectTagging), on the new upload or with the tagging directive.
#[tokio::test]
async fn a_source_version_and_replaced_tags() {
    let server = FaultServer::with_handler(copy_server(part_copied)).await;
    let c = client(&server);
    c.bucket("bkt")
        .copy("src", "dst")
        .source_version_id("3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
        .tagging([("team", "blue")])
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(
        reqs[0].target,
        "/bkt/src?versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY"
    );
    assert!(!reqs.iter().any(|r| r.target.contains("tagging")));
    assert_eq!(reqs[1].target, "/bkt/dst?uploads=");
    assert_eq!(reqs[1].header("x-amz-tagging"), Some("team=blue"));
    for p in reqs.iter().filter(|r| r.method == "PUT") {
        assert_eq!(
            p.header("x-amz-copy-source"),
            Some("/bkt/src?versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY")
        );
    }

    // The single CopyObject: the version in the source, the tags with REPLACE.
    let server = FaultServer::with_handler(|r: &Recorded, _: &[Recorded]| match r.method.as_str() {
        "HEAD" => Reply::Http {
            status: 200,
            headers: vec![
                ("content-length".into(), "11".into()),
                ("etag".into(), SOURCE_ETAG.into()),
            ],
            body: Vec::new(),
        },
        _ => Reply::new(
            200,
            "application/xml",
            "<CopyObjectResult><ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>",
        ),
    })
    .await;
    client(&server)
        .bucket("bkt")
        .copy("src", "dst")
        .source_version_id("v1")
        .tagging([("team", "blue")])
        .await
        .unwrap();
    let put = &server.requests()[1];
    assert_eq!(
        put.header("x-amz-copy-source"),
        Some("/bkt/src?versionId=v1")
    );
    assert_eq!(put.header("x-amz-tagging"), Some("team=blue"));
    assert_eq!(put.header("x-amz-tagging-directive"), Some("REPLACE"));
}

/// A multipart copy keeps what CopyObject keeps: Content-Language and Expires too (s3s-fs
/// stores both).
#[tokio::test]
async fn multipart_copy_keeps_language_and_expires() {
    let e = env("copy-lang").await;
    let expires = "Wed, 21 Oct 2026 07:28:00 GMT";
    e.bucket
        .put_object("src", data((6 * MIB) as usize, 5))
        .content_type("text/html")
        .content_language("de-CH")
        .expires(expires)
        .await
        .unwrap();
    let src = e.bucket.head_object("src").await.unwrap();
    assert_eq!(src.content_language.as_deref(), Some("de-CH"));
    assert_eq!(src.expires.as_deref(), Some(expires));
    let out = e
        .bucket
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .await
        .unwrap();
    assert_eq!(out.parts, 2);
    let h = e.bucket.head_object("dst").await.unwrap();
    assert_eq!(h.content_type.as_deref(), Some("text/html"));
    assert_eq!(h.content_language.as_deref(), Some("de-CH"));
    assert_eq!(h.expires.as_deref(), Some(expires));
}

/// By default a multipart copy takes the source's checksum algorithm, as CopyObject does:
/// the HEAD asks for the checksum (`x-amz-checksum-mode: ENABLED`) and the upload is
/// created with its algorithm. Content-Language and Expires are kept; the website redirect,
/// which CopyObject never copies, is not.
#[tokio::test]
async fn multipart_copy_keeps_the_source_checksum_algorithm() {
    let parts = copy_server(|n| {
        let crc = if n == 3 { "jYmHfg==" } else { "yTuzdQ==" };
        Reply::new(
            200,
            "application/xml",
            format!(
                "<CopyPartResult><ETag>\"b0c6f0e7e054ab8fa2536a2677f8734{n}\"</ETag>\
                 <LastModified>2009-10-28T22:32:00.000Z</LastModified>\
                 <ChecksumCRC32>{crc}</ChecksumCRC32></CopyPartResult>"
            ),
        )
    });
    let server = FaultServer::with_handler(move |r: &Recorded, all: &[Recorded]| {
        if r.method != "HEAD" {
            return parts(r, all);
        }
        let mut headers = vec![
            ("content-length".into(), (12 * MIB).to_string()),
            ("etag".into(), SOURCE_ETAG.into()),
            ("content-language".into(), "en".into()),
            ("expires".into(), "Thu, 01 Dec 1994 16:00:00 GMT".into()),
            (
                "x-amz-website-redirect-location".into(),
                "/other.html".into(),
            ),
        ];
        if r.header("x-amz-checksum-mode") == Some("ENABLED") {
            headers.push(("x-amz-checksum-crc32".into(), "AfsszQ==".into()));
            headers.push(("x-amz-checksum-type".into(), "FULL_OBJECT".into()));
        }
        Reply::Http {
            status: 200,
            headers,
            body: Vec::new(),
        }
    })
    .await;
    let out = client(&server)
        .bucket("bkt")
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .await
        .unwrap();
    assert_eq!(
        out.checksum,
        Some((async_s3::ChecksumAlgorithm::Crc32, "AfsszQ==".to_owned()))
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].header("x-amz-checksum-mode"), Some("ENABLED"));
    let create = &reqs[2];
    assert_eq!(create.target, "/bkt/dst?uploads=");
    assert_eq!(create.header("x-amz-checksum-algorithm"), Some("CRC32"));
    assert_eq!(create.header("content-language"), Some("en"));
    assert_eq!(
        create.header("expires"),
        Some("Thu, 01 Dec 1994 16:00:00 GMT")
    );
    assert_eq!(create.header("x-amz-website-redirect-location"), None);
    let complete = reqs
        .iter()
        .find(|r| r.method == "POST" && r.target.contains("uploadId"))
        .unwrap();
    assert_eq!(complete.header("x-amz-checksum-crc32"), Some("AfsszQ=="));
}

/// When the source's HEAD names a version, the copy is pinned to it by version id too (a
/// version cannot be replaced, an ETag can repeat): the single CopyObject and, for a
/// multipart copy, the tags read and every part copied. The single copy reports the checksum
/// of its CopyObjectResult.
#[tokio::test]
async fn a_copy_is_pinned_to_the_version_the_head_found() {
    let server =
        FaultServer::with_handler(|r: &Recorded, all: &[Recorded]| match r.method.as_str() {
            "HEAD" => Reply::Http {
                status: 200,
                headers: vec![
                    ("content-length".into(), (12 * MIB).to_string()),
                    ("etag".into(), SOURCE_ETAG.into()),
                    ("x-amz-version-id".into(), "v7+/".into()),
                ],
                body: Vec::new(),
            },
            "GET" if r.target.contains("tagging") => Reply::new(
                200,
                "application/xml",
                "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
            ),
            "PUT" if part_number(r).is_none() => Reply::new(
                200,
                "application/xml",
                "<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
                 <ETag>\"9b2cf535f27731c974343645a3985328\"</ETag>\
                 <ChecksumCRC32>AfsszQ==</ChecksumCRC32></CopyObjectResult>",
            ),
            _ => copy_server(part_copied)(r, all),
        })
        .await;
    let c = client(&server);
    let out = c.bucket("bkt").copy("src", "dst").await.unwrap();
    assert_eq!(out.parts, 0);
    assert_eq!(
        out.checksum,
        Some((async_s3::ChecksumAlgorithm::Crc32, "AfsszQ==".to_owned()))
    );
    let reqs = server.requests();
    assert_eq!(
        reqs[1].header("x-amz-copy-source"),
        Some("/bkt/src?versionId=v7%2B%2F")
    );
    assert_eq!(
        reqs[1].header("x-amz-copy-source-if-match"),
        Some(SOURCE_ETAG)
    );

    c.bucket("bkt")
        .copy("src", "dst")
        .multipart_threshold(5 * MIB)
        .part_size(5 * MIB)
        .await
        .unwrap();
    let reqs = server.requests();
    let tagging = reqs
        .iter()
        .find(|r| r.method == "GET" && r.target.contains("tagging"))
        .unwrap();
    assert_eq!(tagging.target, "/bkt/src?tagging=&versionId=v7%2B%2F");
    let parts: Vec<&Recorded> = reqs.iter().filter(|r| part_number(r).is_some()).collect();
    assert_eq!(parts.len(), 3);
    for p in parts {
        assert_eq!(
            p.header("x-amz-copy-source"),
            Some("/bkt/src?versionId=v7%2B%2F")
        );
    }
}
