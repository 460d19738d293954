//! Requester Pays: `request_payer()` on every object operation and the engines sends
//! `x-amz-request-payer: requester`, signed, on every request they make (scripted server).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::Client;
use support::fault::{FaultServer, Recorded, Reply, serve_range};

const OBJECT: &[u8] = b"0123456789";

fn xml(body: &str) -> Reply {
    Reply::new(200, "application/xml", body).header("x-amz-request-charged", "requester")
}

/// Answers every operation the test makes.
fn answer(r: &Recorded, _: &[Recorded]) -> Reply {
    let t = r.target.as_str();
    let copy = r.header("x-amz-copy-source").is_some();
    match r.method.as_str() {
        "HEAD" => Reply::Http {
            status: 200,
            headers: vec![
                ("content-length".into(), "10".into()),
                ("etag".into(), "\"e1\"".into()),
            ],
            body: Vec::new(),
        },
        "GET" if t.contains("list-type=2") => xml(
            "<ListBucketResult><Name>bkt</Name><Prefix>p/</Prefix><KeyCount>1</KeyCount>\
             <IsTruncated>false</IsTruncated><Contents><Key>p/a</Key><Size>10</Size>\
             <ETag>\"e1\"</ETag></Contents></ListBucketResult>",
        ),
        "GET" if t.contains("attributes") => xml(
            "<GetObjectAttributesResponse><ObjectSize>10</ObjectSize></GetObjectAttributesResponse>",
        ),
        "GET" if t.ends_with("?tagging=") => {
            xml("<Tagging><TagSet><Tag><Key>team</Key><Value>data</Value></Tag></TagSet></Tagging>")
        }
        "PUT" if t.ends_with("?tagging=") => Reply::new(200, "text/plain", ""),
        "GET" if t.ends_with("?retention=") => xml("<Retention><Mode>GOVERNANCE</Mode>\
             <RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate></Retention>"),
        "GET" if t.ends_with("?legal-hold=") => xml("<LegalHold><Status>ON</Status></LegalHold>"),
        "PUT" if t.ends_with("?retention=") || t.ends_with("?legal-hold=") => {
            Reply::new(200, "text/plain", "")
        }
        "GET" if t.contains("versions=") => xml(
            "<ListVersionsResult><Name>bkt</Name><IsTruncated>false</IsTruncated><Version>\
             <Key>k</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>\
             <LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>\"e1\"</ETag>\
             <Size>10</Size></Version></ListVersionsResult>",
        ),
        "GET" if t.contains("uploads=") => xml(
            "<ListMultipartUploadsResult><Bucket>bkt</Bucket><IsTruncated>false</IsTruncated>\
             <Upload><Key>m</Key><UploadId>UP1</UploadId>\
             <Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload></ListMultipartUploadsResult>",
        ),
        "GET" if t.contains("uploadId") => {
            xml("<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>")
        }
        "GET" => serve_range(OBJECT, Some("\"e1\""), r),
        "PUT" if copy && t.contains("partNumber") => {
            xml("<CopyPartResult><ETag>\"p\"</ETag></CopyPartResult>")
        }
        "PUT" if copy => xml("<CopyObjectResult><ETag>\"c\"</ETag></CopyObjectResult>"),
        "PUT" => {
            Reply::new(200, "text/plain", "").header("etag", "\"0c78aef83f66abc1fa1e8477f296d394\"")
        }
        "POST" if t.ends_with("?uploads=") => xml(
            "<InitiateMultipartUploadResult><UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
        ),
        "POST" if t.contains("uploadId") => xml(
            "<CompleteMultipartUploadResult><ETag>\"x-1\"</ETag></CompleteMultipartUploadResult>",
        ),
        "POST" if t.contains("delete") => {
            xml("<DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>")
        }
        "DELETE" => Reply::new(204, "text/plain", ""),
        _ => Reply::s3_error(400, "Unexpected"),
    }
}

fn assert_every_request_pays(server: &FaultServer, expected: usize) {
    let reqs = server.requests();
    assert_eq!(reqs.len(), expected);
    for r in &reqs {
        assert_eq!(
            r.header("x-amz-request-payer"),
            Some("requester"),
            "{} {}",
            r.method,
            r.target
        );
        let signed = support::sigcheck::assert_signed(r, "AKIDTEST", "secret");
        assert!(
            signed.iter().any(|h| h == "x-amz-request-payer"),
            "signed: {} {}",
            r.method,
            r.target
        );
    }
}

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

#[tokio::test]
async fn every_object_operation_can_pay() {
    let server = FaultServer::with_handler(answer).await;
    let c = client(&server);
    let b = c.bucket("bkt");
    b.put_object("k", "v").request_payer().await.unwrap();
    b.get_object("k").request_payer().await.unwrap();
    b.head_object("k").request_payer().await.unwrap();
    b.delete_object("k").request_payer().await.unwrap();
    b.delete_objects(["a"]).request_payer().await.unwrap();
    b.list_objects().prefix("p/").request_payer().await.unwrap();
    b.copy_object("a", "b").request_payer().await.unwrap();
    b.get_object_attributes("k").request_payer().await.unwrap();
    // A multipart upload created paying pays on every later call of its handle.
    let upload = b
        .create_multipart_upload("m")
        .request_payer()
        .await
        .unwrap();
    upload.upload_part(1, "part").await.unwrap();
    upload
        .upload_part_copy(2, "bkt", "k")
        .request_payer()
        .await
        .unwrap();
    upload.list_parts().await.unwrap();
    upload.completion().request_payer().await.unwrap();
    upload.abort().await.unwrap();
    // A resumed handle agrees to pay too.
    let resumed = b.multipart_upload("m", "UP1").with_request_payer();
    resumed.upload_part(1, "part").await.unwrap();
    resumed.complete().await.unwrap();
    assert_every_request_pays(&server, 16);
}

#[tokio::test]
async fn the_engines_pay_on_every_request() {
    let server = FaultServer::with_handler(answer).await;
    let c = client(&server);
    let b = c.bucket("bkt");
    // Upload engine, multipart: create, 2 parts, complete.
    b.upload("big")
        .request_payer()
        .multipart_threshold(5 << 20)
        .part_size(5 << 20)
        .from_bytes(vec![0u8; 6 << 20])
        .await
        .unwrap();
    // Download engine: one range for 10 bytes.
    let got = b.download("k").request_payer().to_bytes().await.unwrap();
    assert_eq!(&got[..], OBJECT);
    // Copy engine: HEAD, then one CopyObject.
    b.copy("k", "k2").request_payer().await.unwrap();
    // Directory download: the listing and one file.
    let dir = tempfile::tempdir().unwrap();
    b.download_prefix("p/")
        .request_payer()
        .to_dir(dir.path())
        .await
        .unwrap();
    assert_every_request_pays(&server, 4 + 1 + 2 + 2);
}

/// Object tagging, retention, legal hold, the version and upload listings, and the
/// delete-prefix and abort-old-uploads helpers pay on every request they make.
#[tokio::test]
async fn tagging_lock_listings_and_cleanups_can_pay() {
    use async_s3::RetentionMode;
    use std::time::{Duration, SystemTime};
    let server = FaultServer::with_handler(answer).await;
    let b = client(&server).bucket("bkt");
    b.get_object_tagging("k").request_payer().await.unwrap();
    b.put_object_tagging("k", [("a", "b")])
        .request_payer()
        .await
        .unwrap();
    b.delete_object_tagging("k").request_payer().await.unwrap();
    b.get_object_retention("k").request_payer().await.unwrap();
    let until = SystemTime::now() + Duration::from_secs(86_400);
    b.put_object_retention("k", RetentionMode::Governance, until)
        .request_payer()
        .await
        .unwrap();
    assert!(b.get_object_legal_hold("k").request_payer().await.unwrap());
    b.put_object_legal_hold("k", true)
        .request_payer()
        .await
        .unwrap();
    let versions = b.list_object_versions().request_payer().await.unwrap();
    assert_eq!(versions.entries.len(), 1);
    let uploads = b.list_multipart_uploads().request_payer().await.unwrap();
    assert_eq!(uploads.uploads.len(), 1);
    assert_eq!(n_requests(&server), 9);
    // Listing and one DeleteObjects batch.
    let deleted = b.delete_prefix("p/").request_payer().await.unwrap();
    assert_eq!(deleted.requests, 1);
    // Listing and one abort.
    let aborted = b
        .abort_uploads_older_than(Duration::from_secs(3600))
        .request_payer()
        .await
        .unwrap();
    assert_eq!(aborted.aborted.len(), 1);
    assert_every_request_pays(&server, 13);
}

fn n_requests(server: &FaultServer) -> usize {
    server.requests().len()
}

/// A multipart copy reads the source's tags to keep them: that GetObjectTagging pays too,
/// like the HEAD, the create, the part copies and the completion.
#[tokio::test]
async fn a_multipart_copy_pays_for_reading_the_source_tags() {
    let server = FaultServer::with_handler(answer).await;
    let b = client(&server).bucket("bkt");
    let out = b
        .copy("k", "k2")
        .request_payer()
        .multipart_threshold(0)
        .await
        .unwrap();
    assert_eq!(out.parts, 1);
    let reqs = server.requests();
    let tagging = reqs
        .iter()
        .find(|r| r.method == "GET" && r.target == "/bkt/k?tagging=")
        .expect("the source's tags are read");
    assert_eq!(tagging.header("x-amz-request-payer"), Some("requester"));
    let create = reqs
        .iter()
        .find(|r| r.target.ends_with("?uploads="))
        .unwrap();
    assert_eq!(create.header("x-amz-tagging"), Some("team=data"));
    // HEAD, GetObjectTagging, create, one UploadPartCopy, complete.
    assert_every_request_pays(&server, 5);
}

/// Without it, nothing says so.
#[tokio::test]
async fn not_paying_sends_no_header() {
    let server = FaultServer::with_handler(answer).await;
    let b = client(&server).bucket("bkt");
    b.get_object("k").await.unwrap();
    b.upload("big").from_bytes(vec![0u8; 10]).await.unwrap();
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("x-amz-request-payer").is_none())
    );
}
