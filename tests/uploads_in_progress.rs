//! Uploads in progress (issue 11, item 5): ListMultipartUploads and aborting old uploads,
//! against the scripted server (s3s-fs answers 501 to ListMultipartUploads) with the API
//! reference's example answer, requests and signatures asserted.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind, MultipartUploadInfo};
use futures_util::TryStreamExt;
use std::time::{Duration, UNIX_EPOCH};
use support::fault::{FaultServer, Reply};
use support::sigcheck::assert_signed;

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

fn xml(body: &str) -> Reply {
    Reply::new(200, "application/xml", body.as_bytes().to_vec())
}

/// The first example answer of the ListMultipartUploads API reference (owners shortened).
const EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator><ID>arn:aws:iam::111122223333:user/user1</ID><DisplayName>user1</DisplayName></Initiator>
    <Owner><ID>75aa57f0</ID><DisplayName>OwnerDisplayName</DisplayName></Owner>
    <StorageClass>REDUCED_REDUNDANCY</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2008-11-10T20:48:33.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>"#;

const LAST: &str = r#"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
  <Upload><Key>old%20one</Key><UploadId>u4</UploadId><Initiated>2000-01-01T00:00:00.000Z</Initiated></Upload>
  <Upload><Key>no-date</Key><UploadId>u5</UploadId></Upload>
</ListMultipartUploadsResult>"#;

#[tokio::test]
async fn lists_across_pages_with_both_markers() {
    let server = FaultServer::start(vec![xml(EXAMPLE), xml(LAST)]).await;
    let all: Vec<MultipartUploadInfo> = client(&server)
        .bucket("bkt")
        .list_multipart_uploads()
        .prefix("my")
        .page_size(3)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = all
        .iter()
        .map(|u| (u.key.as_str(), u.upload_id.get(..4).unwrap_or(&u.upload_id)))
        .collect();
    assert_eq!(
        ids,
        [
            ("my-divisor", "XMgb"),
            ("my-movie.m2ts", "VXBs"),
            ("my-movie.m2ts", "YW55"),
            ("old one", "u4"),
            ("no-date", "u5"),
        ]
    );
    assert_eq!(all[0].storage_class.as_deref(), Some("REDUCED_REDUNDANCY"));
    let reqs = server.requests();
    let targets: Vec<_> = reqs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/bkt?encoding-type=url&max-uploads=3&prefix=my&uploads=",
            "/bkt?encoding-type=url&key-marker=my-movie.m2ts&max-uploads=3&prefix=my\
             &upload-id-marker=YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ&uploads=",
        ]
    );
    for r in &reqs {
        assert_eq!(r.method, "GET");
        assert_signed(r, "AKIDTEST", "secret");
    }
}

fn at(secs: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// 2010-11-12T00:00:00Z.
const NOW: u64 = 1_289_520_000;
const TWO_DAYS: Duration = Duration::from_secs(2 * 86_400);

#[tokio::test]
async fn dry_run_aborts_nothing() {
    let server = FaultServer::start(vec![xml(EXAMPLE), xml(LAST)]).await;
    let out = client(&server)
        .bucket("bkt")
        .abort_uploads_older_than(TWO_DAYS)
        .now(at(NOW))
        .dry_run()
        .await
        .unwrap();
    assert!(out.dry_run);
    let would: Vec<_> = out.aborted.iter().map(|u| u.upload_id.as_str()).collect();
    // Started 2010-11-10T20:48 is younger than two days; no date is never "old".
    assert_eq!(
        would,
        ["YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ", "u4"]
    );
    assert_eq!(out.kept, 3);
    assert!(server.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn aborts_the_old_ones_and_reports_failures() {
    let server = FaultServer::with_handler(|req, _| {
        if req.method == "GET" {
            return if req.target.contains("key-marker=") {
                xml(LAST)
            } else {
                xml(EXAMPLE)
            };
        }
        if req.target.contains("uploadId=u4") {
            // A second abort of the same upload: already gone.
            Reply::s3_error(404, "NoSuchUpload")
        } else {
            Reply::Http {
                status: 204,
                headers: vec![],
                body: Vec::new(),
            }
        }
    })
    .await;
    let out = client(&server)
        .bucket("bkt")
        .abort_uploads_older_than(TWO_DAYS)
        .now(at(NOW))
        .prefix("my")
        .await
        .unwrap();
    assert_eq!(out.aborted.len(), 2);
    assert!(out.errors.is_empty());
    let deletes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    let targets: Vec<_> = deletes.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/bkt/my-movie.m2ts?uploadId=YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ",
            "/bkt/old%20one?uploadId=u4",
        ]
    );
    for r in &deletes {
        assert_signed(r, "AKIDTEST", "secret");
    }

    // An abort refused: reported with its upload, the others still aborted.
    let server = FaultServer::with_handler(|req, _| {
        if req.method == "GET" {
            return xml(LAST);
        }
        Reply::s3_error(403, "AccessDenied")
    })
    .await;
    let out = client(&server)
        .bucket("bkt")
        .abort_uploads_older_than(TWO_DAYS)
        .await
        .unwrap();
    assert!(out.aborted.is_empty());
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].0.upload_id, "u4");
    assert_eq!(out.errors[0].1.kind(), ErrorKind::AccessDenied);
}

/// A clock stopped at one time.
#[derive(Debug)]
struct Fixed(std::time::SystemTime);

impl async_s3::Clock for Fixed {
    fn now(&self) -> std::time::SystemTime {
        self.0
    }
}

/// Without `.now(…)`, ages are measured from the client's clock (the one it signs with,
/// corrected for skew), not the system clock: at 2010-11-12 only two uploads are two days old.
#[tokio::test]
async fn ages_are_measured_from_the_clients_clock() {
    let server = FaultServer::start(vec![xml(EXAMPLE), xml(LAST)]).await;
    let out = support::fault_client_builder(&server)
        .clock(Fixed(at(NOW)))
        .build()
        .unwrap()
        .bucket("bkt")
        .abort_uploads_older_than(TWO_DAYS)
        .dry_run()
        .await
        .unwrap();
    let would: Vec<_> = out.aborted.iter().map(|u| u.upload_id.as_str()).collect();
    assert_eq!(
        would,
        ["YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ", "u4"]
    );
    assert_eq!(out.kept, 3);
}

/// Only NoSuchUpload means "already gone": another 404 (NoSuchBucket) is a failed abort.
#[tokio::test]
async fn only_no_such_upload_counts_as_aborted() {
    let server = FaultServer::with_handler(|req, _| {
        if req.method == "GET" {
            return xml(LAST);
        }
        Reply::s3_error(404, "NoSuchBucket")
    })
    .await;
    let out = client(&server)
        .bucket("bkt")
        .abort_uploads_older_than(TWO_DAYS)
        .now(at(NOW))
        .await
        .unwrap();
    assert!(out.aborted.is_empty());
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].0.upload_id, "u4");
    assert_eq!(out.errors[0].1.s3_code(), Some("NoSuchBucket"));
}

/// An upload id marker means nothing without its key marker: refused before sending.
#[tokio::test]
async fn an_upload_id_marker_without_a_key_marker_is_refused() {
    let server = FaultServer::start(vec![xml(LAST)]).await;
    let bucket = client(&server).bucket("bkt");
    let e = bucket
        .list_multipart_uploads()
        .upload_id_marker("u1")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let e = bucket
        .list_multipart_uploads()
        .upload_id_marker("u1")
        .into_stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(server.requests().is_empty());
}
