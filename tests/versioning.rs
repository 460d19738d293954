//! Versioning (issue 11, item 1) against the scripted server: s3s-fs answers 501 to every
//! versioning request, so the server answers with the S3 API reference's example responses
//! and each test asserts the exact request the client sent, signature included.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind, VersionEntry, VersioningStatus};
use futures_util::TryStreamExt;
use md5::{Digest, Md5};
use std::time::Duration;
use support::fault::{FaultServer, Recorded, Reply};
use support::sigcheck::assert_signed;

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

fn xml(body: &str) -> Reply {
    Reply::new(200, "application/xml", body.as_bytes().to_vec())
}

fn signed(rec: &Recorded) {
    assert_signed(rec, "AKIDTEST", "secret");
}

fn md5_b64(body: &[u8]) -> String {
    support::sigcheck::base64(&Md5::digest(body))
}

#[tokio::test]
async fn put_and_get_bucket_versioning() {
    // The GetBucketVersioning reference's example answer.
    let server = FaultServer::start(vec![
        Reply::new(200, "application/xml", Vec::new()),
        xml(
            r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Status>Enabled</Status>
</VersioningConfiguration>"#,
        ),
        xml(r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#),
    ])
    .await;
    let bucket = client(&server).bucket("bkt");
    bucket
        .put_bucket_versioning(VersioningStatus::Enabled)
        .await
        .unwrap();
    let v = bucket.get_bucket_versioning().await.unwrap();
    assert_eq!(v.status, Some(VersioningStatus::Enabled));
    assert_eq!(v.mfa_delete, None);
    let never = bucket.get_bucket_versioning().await.unwrap();
    assert_eq!(never.status, None);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let put = &reqs[0];
    assert_eq!(
        (put.method.as_str(), put.target.as_str()),
        ("PUT", "/bkt?versioning=")
    );
    assert_eq!(
        String::from_utf8(put.body.clone()).unwrap(),
        "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Status>Enabled</Status></VersioningConfiguration>"
    );
    assert_eq!(put.header("content-md5").unwrap(), md5_b64(&put.body));
    assert_eq!(put.header("content-type"), Some("application/xml"));
    let get = &reqs[1];
    assert_eq!(
        (get.method.as_str(), get.target.as_str()),
        ("GET", "/bkt?versioning=")
    );
    for r in &reqs {
        signed(r);
    }
}

/// The ListObjectVersions reference's example answer, owners shortened.
const VERSIONS_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
    <Name>bucket</Name>
    <Prefix>my</Prefix>
    <KeyMarker/>
    <VersionIdMarker/>
    <MaxKeys>5</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Version>
        <Key>my-image.jpg</Key>
        <VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>
        <IsLatest>true</IsLatest>
         <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner><ID>75aa57f0</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
    </Version>
    <DeleteMarker>
        <Key>my-second-image.jpg</Key>
        <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
        <IsLatest>true</IsLatest>
        <LastModified>2009-11-12T17:50:30.000Z</LastModified>
        <Owner><ID>75aa57f0</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
    </DeleteMarker>
    <Version>
        <Key>my-second-image.jpg</Key>
        <VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId>
        <IsLatest>false</IsLatest>
        <LastModified>2009-10-10T17:50:30.000Z</LastModified>
        <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
        <Size>166434</Size>
        <StorageClass>STANDARD</StorageClass>
    </Version>
</ListVersionsResult>"#;

#[tokio::test]
async fn list_object_versions_follows_both_markers() {
    let first = r#"<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <NextKeyMarker>my+a%2Bb</NextKeyMarker><NextVersionIdMarker>v/1+x=</NextVersionIdMarker>
  <Version><Key>my%20a%2Bb</Key><VersionId>v/1+x=</VersionId><IsLatest>true</IsLatest><Size>3</Size></Version>
  <CommonPrefixes><Prefix>my/dir/</Prefix></CommonPrefixes>
</ListVersionsResult>"#;
    let server = FaultServer::start(vec![xml(first), xml(VERSIONS_EXAMPLE)]).await;
    let entries: Vec<VersionEntry> = client(&server)
        .bucket("bkt")
        .list_object_versions()
        .prefix("my")
        .delimiter("/")
        .page_size(5)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<String> = entries
        .iter()
        .map(|e| match e {
            VersionEntry::Version(v) => format!("V {} {} {}", v.key, v.version_id, v.is_latest),
            VersionEntry::DeleteMarker(d) => format!("D {} {}", d.key, d.version_id),
            VersionEntry::Prefix(p) => format!("P {p}"),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "V my a+b v/1+x= true",
            "P my/dir/",
            "V my-image.jpg 3/L4kqtJl40Nr8X8gdRQBpUMLUo true",
            "D my-second-image.jpg 03jpff543dhffds434rfdsFDN943fdsFkdmqnh892",
            "V my-second-image.jpg QUpfdndhfd8438MNFDN93jdnJFkdmqnh893 false",
        ]
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].target,
        "/bkt?delimiter=%2F&encoding-type=url&max-keys=5&prefix=my&versions="
    );
    // The next page starts at the decoded key marker (S3 writes a space as "+" and "+" as
    // "%2B": the last key, "my a+b") and the opaque version id marker.
    assert_eq!(
        reqs[1].target,
        "/bkt?delimiter=%2F&encoding-type=url&key-marker=my%20a%2Bb&max-keys=5&prefix=my\
         &version-id-marker=v%2F1%2Bx%3D&versions="
    );
    for r in &reqs {
        assert_eq!(r.method, "GET");
        signed(r);
    }
}

#[tokio::test]
async fn list_object_versions_stops_on_a_pagination_loop() {
    let looping = "<ListVersionsResult><IsTruncated>true</IsTruncated>\
                   <NextKeyMarker>k</NextKeyMarker><NextVersionIdMarker>v</NextVersionIdMarker>\
                   </ListVersionsResult>";
    let server = FaultServer::start(vec![xml(looping)]).await;
    let pages = client(&server)
        .bucket("bkt")
        .list_object_versions()
        .into_pages();
    let got: Vec<_> = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::StreamExt::collect::<Vec<_>>(pages),
    )
    .await
    .unwrap();
    // Page 1 (first markers), page 2 (same markers again), then the error.
    assert_eq!(got.len(), 3, "{got:?}");
    let e = got[2].as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    assert_eq!(server.requests().len(), 2);

    let no_marker = "<ListVersionsResult><IsTruncated>true</IsTruncated></ListVersionsResult>";
    let server = FaultServer::start(vec![xml(no_marker)]).await;
    let err = client(&server)
        .bucket("bkt")
        .list_object_versions()
        .into_stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn version_id_reaches_every_object_operation() {
    let server = FaultServer::with_handler(|req, _| {
        if req.method == "PUT" && req.header("x-amz-copy-source").is_some() {
            return xml("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>")
                .header(
                    "x-amz-copy-source-version-id",
                    "3/L4kqtJl40Nr8X8gdRQBpUMLUo",
                )
                .header("x-amz-version-id", "new-v");
        }
        if req.method == "DELETE" {
            return Reply::Http {
                status: 204,
                headers: vec![
                    ("x-amz-delete-marker".into(), "true".into()),
                    (
                        "x-amz-version-id".into(),
                        "3/L4kqtJl40Nr8X8gdRQBpUMLUo".into(),
                    ),
                ],
                body: Vec::new(),
            };
        }
        Reply::new(200, "text/plain", b"abc".to_vec())
            .header("etag", "\"e\"")
            .header("x-amz-version-id", "3/L4kqtJl40Nr8X8gdRQBpUMLUo")
    })
    .await;
    let bucket = client(&server).bucket("bkt");
    let v = "3/L4kqtJl40Nr8X8gdRQBpUMLUo";
    let got = bucket.get_object("k").version_id(v).await.unwrap();
    assert_eq!(got.meta.version_id.as_deref(), Some(v));
    let head = bucket.head_object("k").version_id(v).await.unwrap();
    assert_eq!(head.version_id.as_deref(), Some(v));
    let del = bucket.delete_object("k").version_id(v).await.unwrap();
    assert!(del.delete_marker);
    assert_eq!(del.version_id.as_deref(), Some(v));
    let copy = bucket
        .copy_object("src key", "dst")
        .source_version_id(v)
        .await
        .unwrap();
    assert_eq!(copy.source_version_id.as_deref(), Some(v));
    assert_eq!(copy.version_id.as_deref(), Some("new-v"));

    let reqs = server.requests();
    let targets: Vec<(&str, &str)> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    let enc = "versionId=3%2FL4kqtJl40Nr8X8gdRQBpUMLUo";
    assert_eq!(
        targets,
        [
            ("GET", &*format!("/bkt/k?{enc}")),
            ("HEAD", &*format!("/bkt/k?{enc}")),
            ("DELETE", &*format!("/bkt/k?{enc}")),
            ("PUT", "/bkt/dst"),
        ]
    );
    assert_eq!(
        reqs[3].header("x-amz-copy-source"),
        Some(&*format!("/bkt/src%20key?{enc}"))
    );
    for r in &reqs {
        signed(r);
    }
}

#[tokio::test]
async fn presigned_urls_carry_the_version() {
    let server = FaultServer::start(vec![Reply::new(200, "text/plain", b"old".to_vec())]).await;
    let bucket = client(&server).bucket("bkt");
    for p in [
        bucket.presign_get("k", Duration::from_secs(60)),
        bucket.presign_head("k", Duration::from_secs(60)),
        bucket.presign_delete("k", Duration::from_secs(60)),
    ] {
        let url = p.version_id("v1").await.unwrap().url;
        let query = url.split_once('?').unwrap().1;
        assert!(
            query.contains("&versionId=v1&") || query.ends_with("&versionId=v1"),
            "{url}"
        );
        assert!(query.contains("X-Amz-Signature="), "{url}");
    }
}

#[tokio::test]
async fn delete_objects_reports_delete_markers() {
    // The DeleteObjects reference's example answer for a versioned bucket.
    let server = FaultServer::start(vec![xml(r#"<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted>
    <Key>SampleDocument.txt</Key>
    <DeleteMarker>true</DeleteMarker>
    <DeleteMarkerVersionId>NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s</DeleteMarkerVersionId>
  </Deleted>
  <Deleted>
    <Key>sample1.txt</Key>
    <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
  </Deleted>
</DeleteResult>"#)])
    .await;
    let out = client(&server)
        .bucket("bkt")
        .delete_objects(["SampleDocument.txt"])
        .version("sample1.txt", "OYcLXagmS.WaD..oyH4KRguB95_YhLs7")
        .await
        .unwrap();
    assert!(out.deleted[0].delete_marker);
    assert_eq!(
        out.deleted[0].delete_marker_version_id.as_deref(),
        Some("NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s")
    );
    assert!(!out.deleted[1].delete_marker);
    assert_eq!(
        out.deleted[1].version_id.as_deref(),
        Some("OYcLXagmS.WaD..oyH4KRguB95_YhLs7")
    );
    let req = &server.requests()[0];
    assert!(
        String::from_utf8_lossy(&req.body).contains(
            "<Object><Key>sample1.txt</Key><VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId></Object>"
        )
    );
    signed(req);
}

/// A version id marker means nothing without the key marker it belongs to: refused before
/// anything is sent, by the one-page call and by the stream.
#[tokio::test]
async fn a_version_id_marker_without_a_key_marker_is_refused() {
    let server = FaultServer::start(vec![xml(VERSIONS_EXAMPLE)]).await;
    let bucket = client(&server).bucket("bkt");
    let e = bucket
        .list_object_versions()
        .version_id_marker("v1")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let e = bucket
        .list_object_versions()
        .version_id_marker("v1")
        .into_stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(server.requests().is_empty());
}

/// The starting markers count as seen: a server that answers them back as the next markers
/// is a loop after one page, not two.
#[tokio::test]
async fn starting_markers_answered_back_are_a_loop() {
    let looping = "<ListVersionsResult><IsTruncated>true</IsTruncated>\
                   <NextKeyMarker>k</NextKeyMarker><NextVersionIdMarker>v</NextVersionIdMarker>\
                   </ListVersionsResult>";
    let server = FaultServer::start(vec![xml(looping)]).await;
    let pages = client(&server)
        .bucket("bkt")
        .list_object_versions()
        .key_marker("k")
        .version_id_marker("v")
        .into_pages();
    let got: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(pages).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[1].as_ref().unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );
    assert_eq!(server.requests().len(), 1);
}

/// PutObject has no versionId: a presigned PUT with one is refused, not signed.
#[tokio::test]
async fn presigned_put_refuses_a_version_id() {
    let server = FaultServer::start(vec![]).await;
    let bucket = client(&server).bucket("bkt");
    for p in [
        bucket
            .presign_put("k", Duration::from_secs(60))
            .version_id("v1"),
        bucket
            .presign_put("k", Duration::from_secs(60))
            .query("versionId", "v1"),
    ] {
        let e = p.await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
}

/// HEAD and GET report the version they answered and whether it is a delete marker; a GET
/// of a key whose current version is a delete marker (404) and a HEAD of a delete marker's
/// version (405, no body) are errors that say so, with the marker's version id.
#[tokio::test]
async fn delete_markers_are_visible_on_outputs_and_errors() {
    let server = FaultServer::start(vec![
        Reply::new(200, "text/plain", b"v1 body".to_vec())
            .header("x-amz-version-id", "v1")
            .header("x-amz-delete-marker", "false"),
        Reply::Http {
            status: 200,
            headers: vec![
                ("content-length".into(), "0".into()),
                ("x-amz-version-id".into(), "v2".into()),
                // A store answering a delete marker with a success.
                ("x-amz-delete-marker".into(), "true".into()),
            ],
            body: Vec::new(),
        },
        // The GetObject reference: a current version that is a delete marker is a 404 with
        // x-amz-delete-marker: true.
        Reply::s3_error(404, "NoSuchKey")
            .header("x-amz-delete-marker", "true")
            .header("x-amz-version-id", "dm1"),
        // A HEAD of the delete marker's own version: 405 Method Not Allowed.
        Reply::Http {
            status: 405,
            headers: vec![
                ("x-amz-delete-marker".into(), "true".into()),
                ("x-amz-version-id".into(), "dm1".into()),
                (
                    "last-modified".into(),
                    "Wed, 28 Oct 2009 22:32:00 GMT".into(),
                ),
            ],
            body: Vec::new(),
        },
        Reply::s3_error(404, "NoSuchKey"),
    ])
    .await;
    let bucket = client(&server).bucket("bkt");
    let got = bucket.get_object("k").version_id("v1").await.unwrap();
    assert_eq!(got.meta.version_id.as_deref(), Some("v1"));
    assert!(!got.meta.delete_marker);
    assert_eq!(&got.bytes().await.unwrap()[..], b"v1 body");
    let head = bucket.head_object("k").await.unwrap();
    assert_eq!(head.version_id.as_deref(), Some("v2"));
    assert!(head.delete_marker);

    let e = bucket.get_object("k").await.unwrap_err();
    assert!(e.is_not_found());
    assert!(e.is_delete_marker());
    assert_eq!(e.delete_marker_version_id(), Some("dm1"));
    let e = bucket.head_object("k").version_id("dm1").await.unwrap_err();
    assert_eq!(e.status(), Some(405));
    assert!(e.is_delete_marker());
    assert_eq!(e.delete_marker_version_id(), Some("dm1"));
    // A plain 404 is no delete marker.
    let e = bucket.get_object("gone").await.unwrap_err();
    assert!(e.is_not_found() && !e.is_delete_marker());
    assert_eq!(e.delete_marker_version_id(), None);

    let targets: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        targets,
        [
            "GET /bkt/k?versionId=v1",
            "HEAD /bkt/k",
            "GET /bkt/k",
            "HEAD /bkt/k?versionId=dm1",
            "GET /bkt/gone",
        ]
    );
}
