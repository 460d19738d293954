//! Server-side encryption with customer keys (SSE-C), against the scripted server: the exact
//! headers every operation and engine sends, the key kept out of Debug, errors and logs, bad
//! keys and plain http refused before anything is sent.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, Credentials, ErrorKind, ProxyConfig, SseCustomerKey};
use support::fault::{FaultServer, Recorded, Reply};
use support::logs::LogCapture;
use support::sigcheck::assert_signed;

/// Bytes 0, 1, …, 31, and what S3 expects for them: the key in base64 and its MD5 in base64.
const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_MD5: &str = "tP/LI3N87DFaSk0aoqYgzg==";
/// Thirty-two 0xAB bytes (a copy's source key).
const SRC_B64: &str = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
const SRC_MD5: &str = "6Z+00jTp9DFT5j+l/q0WFA==";

fn key() -> SseCustomerKey {
    SseCustomerKey::new((0u8..32).collect::<Vec<u8>>()).unwrap()
}

fn source_key() -> SseCustomerKey {
    SseCustomerKey::new([0xABu8; 32]).unwrap()
}

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

/// The answer S3 documents for an SSE-C write: the algorithm and the key's MD5 echoed.
fn sse_ok(body: &str) -> Reply {
    Reply::new(200, "application/xml", body.as_bytes().to_vec())
        .header("etag", "\"0a0e2fc1ac4ad33c9e2bc8b1b5f7cf26\"")
        .header("x-amz-server-side-encryption-customer-algorithm", "AES256")
        .header("x-amz-server-side-encryption-customer-key-MD5", KEY_MD5)
}

fn assert_sse_c(r: &Recorded) {
    assert_eq!(
        r.header("x-amz-server-side-encryption-customer-algorithm"),
        Some("AES256"),
        "{} {}",
        r.method,
        r.target
    );
    assert_eq!(
        r.header("x-amz-server-side-encryption-customer-key"),
        Some(KEY_B64)
    );
    assert_eq!(
        r.header("x-amz-server-side-encryption-customer-key-md5"),
        Some(KEY_MD5)
    );
    // The signature is recomputed with the public signer, and covers the three headers.
    let signed = assert_signed(r, "AKIDTEST", "secret");
    for h in [
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
    ] {
        assert!(signed.iter().any(|s| s == h), "{h} is signed: {signed:?}");
    }
}

fn assert_no_sse_c(r: &Recorded) {
    assert!(
        !r.headers
            .iter()
            .any(|(n, _)| n.contains("server-side-encryption-customer")),
        "{} {} carries no key",
        r.method,
        r.target
    );
}

/// PutObject, GetObject and HeadObject send the algorithm, the key and its MD5, signed.
#[tokio::test]
async fn put_get_head_send_the_key_headers() {
    let server = FaultServer::start(vec![sse_ok(""), sse_ok("secret data"), sse_ok("")]).await;
    let c = client(&server);
    let b = c.bucket("bkt");
    b.put_object("k", "secret data")
        .sse_customer_key(&key())
        .await
        .unwrap();
    let got = b.get_object("k").sse_customer_key(&key()).await.unwrap();
    assert_eq!(&got.bytes().await.unwrap()[..], b"secret data");
    b.head_object("k").sse_customer_key(&key()).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_sse_c(r);
    }
}

/// A multipart upload carries the key on create, every part, ListParts and the completion
/// (S3 needs it on the last two for uploads with checksums), not on the abort.
#[tokio::test]
async fn multipart_upload_sends_the_key_where_s3_needs_it() {
    let server = FaultServer::with_handler(|r: &Recorded, _: &[Recorded]| {
        match (r.method.as_str(), r.target.contains("partNumber")) {
            ("POST", _) if r.target.ends_with("?uploads=") => Reply::new(
                200,
                "application/xml",
                "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>big</Key>\
                 <UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
            ),
            ("PUT", true) => sse_ok(""),
            ("GET", _) => Reply::new(
                200,
                "application/xml",
                "<ListPartsResult><Bucket>bkt</Bucket><Key>big</Key><UploadId>UP1</UploadId>\
                 <IsTruncated>false</IsTruncated></ListPartsResult>",
            ),
            ("POST", _) => Reply::new(
                200,
                "application/xml",
                "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>",
            ),
            _ => Reply::new(204, "text/plain", ""),
        }
    })
    .await;
    let c = client(&server);
    let out = c
        .bucket("bkt")
        .upload("big")
        .sse_customer_key(&key())
        .multipart_threshold(5 << 20)
        .part_size(5 << 20)
        .from_bytes(vec![7u8; 6 << 20])
        .await
        .unwrap();
    assert_eq!(out.parts, 2);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "create, two parts, complete");
    for r in &reqs {
        assert_sse_c(r);
    }

    // A resumed handle: the key is added for parts, ListParts and the completion; the abort
    // has none.
    let upload = c
        .bucket("bkt")
        .multipart_upload("big", "UP1")
        .with_sse_customer_key(&key());
    upload.upload_part(1, vec![1u8; 10]).await.unwrap();
    upload.list_parts().await.unwrap();
    upload.abort().await.unwrap();
    let reqs = server.requests();
    assert_sse_c(&reqs[4]);
    assert_eq!(reqs[5].method, "GET");
    assert_eq!(reqs[5].target, "/bkt/big?uploadId=UP1");
    assert_sse_c(&reqs[5]);
    assert_eq!(reqs[6].method, "DELETE");
    assert_no_sse_c(&reqs[6]);
}

/// CopyObject: the destination's key as `x-amz-server-side-encryption-customer-*`, the
/// source's as `x-amz-copy-source-server-side-encryption-customer-*`.
#[tokio::test]
async fn copy_sends_source_and_destination_keys() {
    let server = FaultServer::start(vec![sse_ok(
        "<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
         <ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>",
    )])
    .await;
    let c = client(&server);
    c.bucket("bkt")
        .copy_object("src", "dst")
        .sse_customer_key(&key())
        .copy_source_sse_customer_key(&source_key())
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_sse_c(r);
    assert_eq!(
        r.header("x-amz-copy-source-server-side-encryption-customer-algorithm"),
        Some("AES256")
    );
    assert_eq!(
        r.header("x-amz-copy-source-server-side-encryption-customer-key"),
        Some(SRC_B64)
    );
    assert_eq!(
        r.header("x-amz-copy-source-server-side-encryption-customer-key-md5"),
        Some(SRC_MD5)
    );
}

/// The copy engine: the source's HEAD with the source's key (as a read), every part copy
/// with both keys, the new upload and its completion with the destination's.
#[tokio::test]
async fn the_copy_engine_sends_both_keys() {
    let server = FaultServer::with_handler(|r: &Recorded, _: &[Recorded]| {
        match (r.method.as_str(), r.target.contains("partNumber")) {
            ("HEAD", _) => Reply::Http {
                status: 200,
                headers: vec![
                    ("content-length".into(), (11u64 << 20).to_string()),
                    ("etag".into(), "\"e1\"".into()),
                ],
                body: Vec::new(),
            },
            ("GET", _) => Reply::new(
                200,
                "application/xml",
                "<Tagging><TagSet></TagSet></Tagging>",
            ),
            ("POST", _) if r.target.ends_with("?uploads=") => Reply::new(
                200,
                "application/xml",
                "<InitiateMultipartUploadResult><UploadId>UP1</UploadId>\
                 </InitiateMultipartUploadResult>",
            ),
            ("PUT", true) => Reply::new(
                200,
                "application/xml",
                "<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified>\
                 <ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyPartResult>",
            ),
            ("POST", _) => Reply::new(
                200,
                "application/xml",
                "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag></CompleteMultipartUploadResult>",
            ),
            _ => Reply::s3_error(400, "Unexpected"),
        }
    })
    .await;
    let c = client(&server);
    c.bucket("bkt")
        .copy("src", "dst")
        .sse_customer_key(&key())
        .copy_source_sse_customer_key(&source_key())
        .multipart_threshold(5 << 20)
        .part_size(5 << 20)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 7, "HEAD, tags, create, 3 parts, complete");
    let head = &reqs[0];
    assert_eq!(
        head.header("x-amz-server-side-encryption-customer-key"),
        Some(SRC_B64)
    );
    assert_eq!(
        head.header("x-amz-server-side-encryption-customer-key-md5"),
        Some(SRC_MD5)
    );
    assert_no_sse_c(&reqs[1]);
    assert_sse_c(&reqs[2]);
    assert_eq!(
        reqs[2].header("x-amz-copy-source-server-side-encryption-customer-key"),
        None,
        "the new upload does not read the source"
    );
    for part in reqs.iter().filter(|r| r.method == "PUT") {
        assert_sse_c(part);
        assert_eq!(
            part.header("x-amz-copy-source-server-side-encryption-customer-key"),
            Some(SRC_B64)
        );
    }
    assert_sse_c(&reqs[6]);
}

/// The download engine sends the key with every ranged GET, resumptions included.
#[tokio::test]
async fn the_download_engine_sends_the_key_with_every_range() {
    let body: Vec<u8> = (0..(3u32 << 20)).map(|i| (i % 251) as u8).collect();
    let server = FaultServer::with_handler(move |r: &Recorded, _: &[Recorded]| {
        support::fault::serve_range(&body, Some("\"e1\""), r)
    })
    .await;
    let c = client(&server);
    let bytes = c
        .bucket("bkt")
        .download("k")
        .sse_customer_key(&key())
        .part_size(1 << 20)
        .to_bytes()
        .await
        .unwrap();
    assert_eq!(bytes.len(), 3 << 20);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_sse_c(r);
    }
}

/// A key that is not 32 bytes is refused, without showing it.
#[test]
fn a_key_of_the_wrong_size_is_invalid_input() {
    for len in [0usize, 16, 31, 33] {
        let err = SseCustomerKey::new(vec![b'Z'; len]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(!format!("{err} {err:?}").contains("ZZZZ"), "{err:?}");
    }
}

/// TEST-PLAN X1: the key never appears in Debug of the key, the builders, the error of a
/// refused request or the log events of a failed, retried one.
#[tokio::test]
async fn the_key_never_shows() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = FaultServer::start(vec![
        Reply::s3_error(500, "InternalError"),
        Reply::s3_error(400, "InvalidArgument"),
    ])
    .await;
    let c = client(&server);
    let b = c.bucket("bkt");
    let k = key();
    let put = b.put_object("k", "x").sse_customer_key(&k);
    let get = b.get_object("k").sse_customer_key(&k);
    let upload = b.upload("k").sse_customer_key(&k);
    let copy = b.copy("a", "b").copy_source_sse_customer_key(&k);
    let debug = format!("{k:?} {put:?} {get:?} {upload:?} {copy:?}");
    let err = put.await.unwrap_err();
    assert_eq!(err.s3_code(), Some("InvalidArgument"));
    let shown = format!("{debug} {err} {err:?}");
    let logged: Vec<String> = logs
        .events_of("async_s3")
        .iter()
        .map(|e| e.text())
        .collect();
    assert!(!logged.is_empty());
    for text in std::iter::once(&shown).chain(logged.iter()) {
        assert!(!text.contains(KEY_B64), "{text}");
        assert!(!text.contains(&KEY_B64[..20]), "{text}");
    }
    assert!(debug.contains("x-amz-server-side-encryption-customer-key"));
    assert!(debug.contains("<redacted>"));
}

/// Over plain http the key is refused (nothing sent) unless the host is loopback.
#[tokio::test]
async fn plain_http_to_another_host_is_refused() {
    // 192.0.2.0/24 is TEST-NET-1: nothing answers there, and nothing is sent.
    let c = Client::builder()
        .endpoint("http://192.0.2.10:9000")
        .allow_http(true)
        .credentials(Credentials::new("AKIDTEST", "secret"))
        .proxy(ProxyConfig::None)
        .build()
        .unwrap();
    let b = c.bucket("bkt");
    let err = b
        .put_object("k", "x")
        .sse_customer_key(&key())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = b
        .copy_object("a", "b")
        .copy_source_sse_customer_key(&key())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.attempts(), 0);
    // Loopback over http is fine (the scripted server is http://127.0.0.1).
    let server = FaultServer::start(vec![sse_ok("")]).await;
    client(&server)
        .bucket("bkt")
        .put_object("k", "x")
        .sse_customer_key(&key())
        .await
        .unwrap();
}

/// A presigned GET for an SSE-C object signs the key headers (the in-process server checks
/// the signature): the URL works with them and fails without them; the key never shows in
/// Debug; over plain http to another host the URL is refused.
#[tokio::test]
async fn presigned_urls_sign_the_key_headers() {
    let e = support::env("presign-ssec").await;
    e.bucket.put_object("k", "hello").await.unwrap();
    let p = e
        .bucket
        .presign_get("k", std::time::Duration::from_secs(300))
        .sse_customer_key(&key())
        .request_payer()
        .await
        .unwrap();
    let names: Vec<&str> = p.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "x-amz-server-side-encryption-customer-algorithm",
            "x-amz-server-side-encryption-customer-key",
            "x-amz-server-side-encryption-customer-key-md5",
            "x-amz-request-payer",
        ]
    );
    assert!(p.url.contains(
        "X-Amz-SignedHeaders=host%3Bx-amz-request-payer%3Bx-amz-server-side-encryption-customer-algorithm"
    ), "{}", p.url);
    let shown = format!("{p:?}");
    assert!(!shown.contains(KEY_B64), "{shown}");
    assert!(shown.contains(KEY_MD5), "the MD5 is not secret: {shown}");

    let http = reqwest::Client::new();
    let mut req = http.get(&p.url);
    for (n, v) in &p.headers {
        req = req.header(n, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "hello");
    let resp = http.get(&p.url).send().await.unwrap();
    assert_eq!(resp.status(), 403, "the signed headers are required");

    let c = Client::builder()
        .endpoint("http://192.0.2.10:9000")
        .allow_http(true)
        .credentials(Credentials::new("AKIDTEST", "secret"))
        .proxy(ProxyConfig::None)
        .build()
        .unwrap();
    let err = c
        .bucket("bkt")
        .presign_get("k", std::time::Duration::from_secs(60))
        .sse_customer_key(&key())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

/// TEST-PLAN U7 with SSE-C: when a retried completion finds the upload gone, the HEAD that
/// checks whether an earlier attempt completed it carries the key too (S3 refuses a HEAD of
/// an SSE-C object without it).
#[tokio::test]
async fn a_lost_completion_is_confirmed_with_the_key() {
    let server = FaultServer::with_handler(|r: &Recorded, all: &[Recorded]| {
        let completes = all.iter().filter(|q| q.method == "POST").count();
        match r.method.as_str() {
            "PUT" => sse_ok(""),
            "POST" if completes == 1 => Reply::s3_error(500, "InternalError"),
            "POST" => Reply::s3_error(404, "NoSuchUpload"),
            "HEAD" => Reply::Http {
                status: 200,
                headers: vec![
                    ("content-length".into(), "4".into()),
                    (
                        "etag".into(),
                        "\"62198e7408ac7fbb6997f1c83248a14d-1\"".into(),
                    ),
                ],
                body: Vec::new(),
            },
            _ => Reply::s3_error(400, "Unexpected"),
        }
    })
    .await;
    let upload = client(&server)
        .bucket("bkt")
        .multipart_upload("k", "UP1")
        .with_sse_customer_key(&key());
    upload.upload_part(1, "data").await.unwrap();
    let out = upload.complete().await.unwrap();
    assert_eq!(
        out.etag.as_deref(),
        Some("\"62198e7408ac7fbb6997f1c83248a14d-1\"")
    );
    let reqs = server.requests();
    let head = reqs.iter().find(|r| r.method == "HEAD").unwrap();
    assert_sse_c(head);
}

/// An SSE-C key and another server-side encryption cannot go together: refused before
/// anything is sent.
#[tokio::test]
async fn sse_c_with_another_encryption_is_invalid_input() {
    let server = FaultServer::start(vec![Reply::s3_error(500, "Unexpected")]).await;
    let b = client(&server).bucket("bkt");
    let err = b
        .put_object("k", "x")
        .sse_customer_key(&key())
        .server_side_encryption(async_s3::ServerSideEncryption::Aes256)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), async_s3::ErrorKind::InvalidInput, "{err}");
    let err = b
        .create_multipart_upload("k")
        .server_side_encryption(async_s3::ServerSideEncryption::Kms { key_id: None })
        .sse_customer_key(&key())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), async_s3::ErrorKind::InvalidInput, "{err}");
    assert!(server.requests().is_empty());
}

/// A presigned DELETE cannot carry an SSE-C key (DeleteObject takes none).
#[tokio::test]
async fn a_presigned_delete_refuses_an_sse_c_key() {
    let server = FaultServer::start(vec![]).await;
    let b = client(&server).bucket("bkt");
    let ten = std::time::Duration::from_secs(10);
    let err = b
        .presign_delete("k", ten)
        .sse_customer_key(&key())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), async_s3::ErrorKind::InvalidInput, "{err}");
    let put = b
        .presign_put("k", ten)
        .sse_customer_key(&key())
        .await
        .unwrap();
    assert!(
        put.headers
            .iter()
            .any(|(n, _)| n == "x-amz-server-side-encryption-customer-key")
    );
}
