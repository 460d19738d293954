//! SSE-KMS settings on writes (key id, encryption context, bucket key), against the scripted
//! server answering as S3 documents for SSE-KMS writes: exact headers, only where they belong.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind, ServerSideEncryption};
use support::fault::{FaultServer, Recorded, Reply};

const KEY_ID: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// `{"aws:s3:arn":"arn:aws:s3:::bkt/k","project":"blue"}` in base64 (keys sorted).
const CONTEXT: &str = "eyJhd3M6czM6YXJuIjoiYXJuOmF3czpzMzo6OmJrdC9rIiwicHJvamVjdCI6ImJsdWUifQ==";

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

fn kms() -> ServerSideEncryption {
    ServerSideEncryption::Kms {
        key_id: Some(KEY_ID.to_owned()),
    }
}

/// The answer to an SSE-KMS write: the encryption echoed.
fn kms_ok(body: &str) -> Reply {
    Reply::new(200, "application/xml", body.as_bytes().to_vec())
        .header("etag", "\"0c78aef83f66abc1fa1e8477f296d394\"")
        .header("x-amz-server-side-encryption", "aws:kms")
        .header("x-amz-server-side-encryption-aws-kms-key-id", KEY_ID)
        .header("x-amz-server-side-encryption-bucket-key-enabled", "true")
}

fn assert_kms(r: &Recorded) {
    assert_eq!(r.header("x-amz-server-side-encryption"), Some("aws:kms"));
    assert_eq!(
        r.header("x-amz-server-side-encryption-aws-kms-key-id"),
        Some(KEY_ID)
    );
    assert_eq!(
        r.header("x-amz-server-side-encryption-context"),
        Some(CONTEXT)
    );
    assert_eq!(
        r.header("x-amz-server-side-encryption-bucket-key-enabled"),
        Some("true")
    );
    let signed = support::sigcheck::assert_signed(r, "AKIDTEST", "secret");
    for h in [
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-bucket-key-enabled",
        "x-amz-server-side-encryption-context",
    ] {
        assert!(signed.iter().any(|s| s == h), "{h} is signed: {signed:?}");
    }
}

fn assert_no_kms(r: &Recorded) {
    assert!(
        !r.headers
            .iter()
            .any(|(n, _)| n.starts_with("x-amz-server-side-encryption")),
        "{} {}",
        r.method,
        r.target
    );
}

#[tokio::test]
async fn put_and_copy_send_key_context_and_bucket_key() {
    let server = FaultServer::start(vec![
        kms_ok(""),
        kms_ok(
            "<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
             <ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>",
        ),
    ])
    .await;
    let c = client(&server);
    let b = c.bucket("bkt");
    b.put_object("k", "data")
        .server_side_encryption(kms())
        .kms_encryption_context([("project", "blue"), ("aws:s3:arn", "arn:aws:s3:::bkt/k")])
        .bucket_key_enabled(true)
        .await
        .unwrap();
    b.copy_object("k", "k2")
        .server_side_encryption(kms())
        .kms_encryption_context([("aws:s3:arn", "arn:aws:s3:::bkt/k"), ("project", "blue")])
        .bucket_key_enabled(true)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_kms(&reqs[0]);
    assert_kms(&reqs[1]);
    assert_eq!(
        reqs[1].header("x-amz-metadata-directive"),
        None,
        "encryption settings do not replace metadata"
    );
}

/// The upload engine: the settings go with CreateMultipartUpload only, not the parts or the
/// completion.
#[tokio::test]
async fn a_multipart_upload_sends_them_on_create_only() {
    let server = FaultServer::with_handler(|r: &Recorded, _: &[Recorded]| match r.method.as_str() {
        "POST" if r.target.ends_with("?uploads=") => kms_ok(
            "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>big</Key>\
             <UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
        ),
        "PUT" => kms_ok(""),
        "POST" => kms_ok(
            "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>",
        ),
        _ => Reply::s3_error(400, "Unexpected"),
    })
    .await;
    client(&server)
        .bucket("bkt")
        .upload("big")
        .server_side_encryption(kms())
        .kms_encryption_context([("project", "blue"), ("aws:s3:arn", "arn:aws:s3:::bkt/k")])
        .bucket_key_enabled(true)
        .multipart_threshold(5 << 20)
        .part_size(5 << 20)
        .from_bytes(vec![3u8; 6 << 20])
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert_kms(&reqs[0]);
    for r in &reqs[1..] {
        assert_no_kms(r);
    }
}

#[tokio::test]
async fn kms_settings_without_kms_are_refused() {
    let server = FaultServer::start(vec![kms_ok("")]).await;
    let b = client(&server).bucket("bkt");
    let err = b
        .put_object("k", "x")
        .kms_encryption_context([("a", "b")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = b
        .put_object("k", "x")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .bucket_key_enabled(true)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(server.requests().is_empty());
}
