//! GetObjectAttributes against the scripted server (s3s-fs 0.14 does not implement it): the
//! exact request, the answer built from the API reference's response syntax, bad input.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{ChecksumAlgorithm, ChecksumType, Client, ErrorKind, ObjectAttribute};
use std::time::{Duration, UNIX_EPOCH};
use support::fault::{FaultServer, Reply};

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

/// Every attribute of a two-part object stored with a full-object CRC-64/NVME.
const ANSWER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<GetObjectAttributesResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
<ETag>c7b4f1a4d0b5a7f5bd1d4a1de9b8d1f7-2</ETag>\
<Checksum><ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME><ChecksumType>FULL_OBJECT</ChecksumType></Checksum>\
<ObjectParts><IsTruncated>true</IsTruncated><MaxParts>1</MaxParts>\
<NextPartNumberMarker>1</NextPartNumberMarker><PartNumberMarker>0</PartNumberMarker>\
<Part><ChecksumCRC64NVME>3Mtx0qaCvi4=</ChecksumCRC64NVME><PartNumber>1</PartNumber><Size>5242880</Size></Part>\
<PartsCount>2</PartsCount></ObjectParts>\
<StorageClass>STANDARD</StorageClass><ObjectSize>5243904</ObjectSize>\
</GetObjectAttributesResponse>";

#[tokio::test]
async fn every_attribute_is_asked_for_and_read() {
    let server = FaultServer::start(vec![
        Reply::new(200, "application/xml", ANSWER)
            .header("last-modified", "Thu, 26 Oct 2023 21:03:44 GMT")
            .header("x-amz-version-id", "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
            .header("x-amz-request-id", "REQ1"),
    ])
    .await;
    let a = client(&server)
        .bucket("bkt")
        .get_object_attributes("dir/big file.bin")
        .max_parts(1)
        .part_number_marker(0)
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/bkt/dir/big%20file.bin?attributes=");
    assert_eq!(
        r.header("x-amz-object-attributes"),
        Some("ETag,Checksum,ObjectParts,StorageClass,ObjectSize")
    );
    assert_eq!(r.header("x-amz-max-parts"), Some("1"));
    assert_eq!(r.header("x-amz-part-number-marker"), Some("0"));
    let signed = support::sigcheck::assert_signed(r, "AKIDTEST", "secret");
    for h in [
        "x-amz-max-parts",
        "x-amz-object-attributes",
        "x-amz-part-number-marker",
    ] {
        assert!(signed.iter().any(|s| s == h), "{h} is signed: {signed:?}");
    }

    // Quoted like every other ETag the crate returns (S3 sends it bare here).
    assert_eq!(
        a.etag.as_deref(),
        Some("\"c7b4f1a4d0b5a7f5bd1d4a1de9b8d1f7-2\"")
    );
    assert_eq!(
        a.checksum,
        Some((ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA=".to_owned()))
    );
    assert_eq!(a.checksum_type, Some(ChecksumType::FullObject));
    assert_eq!(a.storage_class.as_deref(), Some("STANDARD"));
    assert_eq!(a.object_size, Some(5_243_904));
    assert_eq!(
        a.last_modified,
        Some(UNIX_EPOCH + Duration::from_secs(1_698_354_224))
    );
    assert_eq!(
        a.version_id.as_deref(),
        Some("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
    );
    assert!(!a.delete_marker);
    assert_eq!(a.request_id.as_deref(), Some("REQ1"));
    let parts = a.parts.unwrap();
    assert_eq!(parts.parts_count, Some(2));
    assert!(parts.is_truncated);
    assert_eq!(parts.next_part_number_marker, Some(1));
    assert_eq!(parts.parts.len(), 1);
    assert_eq!(parts.parts[0].part_number, 1);
    assert_eq!(parts.parts[0].size, 5_242_880);
    assert_eq!(
        parts.parts[0].checksum,
        Some((ChecksumAlgorithm::Crc64Nvme, "3Mtx0qaCvi4=".to_owned()))
    );
}

/// Chosen attributes (each once), a version, the SSE-C key and request payer.
#[tokio::test]
async fn chosen_attributes_of_a_version() {
    let server = FaultServer::start(vec![Reply::new(
        200,
        "application/xml",
        "<GetObjectAttributesResponse><ObjectSize>5</ObjectSize></GetObjectAttributesResponse>",
    )])
    .await;
    let key = async_s3::SseCustomerKey::new([1u8; 32]).unwrap();
    let a = client(&server)
        .bucket("bkt")
        .get_object_attributes("k")
        .attributes([
            ObjectAttribute::ObjectSize,
            ObjectAttribute::ETag,
            ObjectAttribute::ObjectSize,
        ])
        .version_id("v 1")
        .sse_customer_key(&key)
        .request_payer()
        .await
        .unwrap();
    assert_eq!(a.object_size, Some(5));
    assert_eq!(a.etag, None);
    assert_eq!(a.parts, None);
    let r = &server.requests()[0];
    assert_eq!(r.target, "/bkt/k?attributes=&versionId=v%201");
    assert_eq!(r.header("x-amz-object-attributes"), Some("ObjectSize,ETag"));
    assert_eq!(r.header("x-amz-request-payer"), Some("requester"));
    assert_eq!(
        r.header("x-amz-server-side-encryption-customer-algorithm"),
        Some("AES256")
    );
    assert!(
        r.header("x-amz-server-side-encryption-customer-key")
            .is_some()
    );
    assert_eq!(r.header("x-amz-max-parts"), None);
}

#[tokio::test]
async fn bad_input_sends_nothing_and_errors_are_typed() {
    let server = FaultServer::start(vec![Reply::s3_error(404, "NoSuchKey")]).await;
    let b = client(&server).bucket("bkt");
    let err = b
        .get_object_attributes("k")
        .attributes([])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    for n in [0, 1001] {
        let err = b.get_object_attributes("k").max_parts(n).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(server.requests().is_empty());
    let err = b.get_object_attributes("k").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.operation(), "GetObjectAttributes");

    let server = FaultServer::start(vec![Reply::new(200, "application/xml", "<Other/>")]).await;
    let err = client(&server)
        .bucket("bkt")
        .get_object_attributes("k")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
}
