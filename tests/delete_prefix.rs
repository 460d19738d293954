//! delete_prefix (issue 11, item 9): against s3s-fs for the real thing, and against the
//! scripted server for batches of 1000 and per-key errors.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{ErrorKind, ListEntry};
use futures_util::TryStreamExt;
use support::fault::{FaultServer, Reply};
use support::sigcheck::assert_signed;

#[tokio::test]
async fn deletes_exactly_the_prefix_on_s3s_fs() {
    let e = support::env("delprefix").await;
    for i in 0..25 {
        e.bucket
            .put_object(format!("logs/2024/{i:02}.gz"), "x")
            .await
            .unwrap();
    }
    for k in ["logs/2023/a.gz", "logs/2024.gz", "other"] {
        e.bucket.put_object(k, "y").await.unwrap();
    }
    // s3s-fs echoes encoding-type=url without applying it.
    let out = e
        .bucket
        .delete_prefix("logs/2024/")
        .without_url_encoding()
        .await
        .unwrap();
    assert_eq!((out.deleted, out.errors.len(), out.requests), (25, 0, 1));
    let left: Vec<String> = e
        .bucket
        .list_objects()
        .without_url_encoding()
        .into_stream()
        .map_ok(|en| match en {
            ListEntry::Object(o) => String::from(o.key),
            other => panic!("{other:?}"),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(left, ["logs/2023/a.gz", "logs/2024.gz", "other"]);
    // Nothing left under the prefix: a second run deletes nothing and sends no DeleteObjects.
    let again = e.bucket.delete_prefix("logs/2024/").await.unwrap();
    assert_eq!((again.deleted, again.requests), (0, 0));
}

/// One page of a listing of `keys`, continued with `token` when given.
fn page(keys: &[String], token: Option<&str>) -> Reply {
    let mut body = String::from("<ListBucketResult>");
    body.push_str(&format!("<IsTruncated>{}</IsTruncated>", token.is_some()));
    if let Some(t) = token {
        body.push_str(&format!(
            "<NextContinuationToken>{t}</NextContinuationToken>"
        ));
    }
    for k in keys {
        body.push_str(&format!(
            "<Contents><Key>{k}</Key><Size>1</Size></Contents>"
        ));
    }
    body.push_str("</ListBucketResult>");
    Reply::new(200, "application/xml", body.into_bytes())
}

#[tokio::test]
async fn batches_of_a_thousand_and_per_key_errors_returned() {
    let keys: Vec<String> = (0..1500).map(|i| format!("p/{i:04}")).collect();
    let server = FaultServer::with_handler(move |req, _| {
        if req.method == "GET" {
            return if req.target.contains("continuation-token=t1") {
                page(&keys[1000..], None)
            } else {
                page(&keys[..1000], Some("t1"))
            };
        }
        // DeleteObjects: every key deleted but those ending in "77".
        let body = String::from_utf8(req.body.clone()).unwrap();
        let mut out = String::from("<DeleteResult>");
        for k in body.split("<Key>").skip(1).map(|s| s.split("</Key>").next().unwrap()) {
            if k.ends_with("77") {
                out.push_str(&format!(
                    "<Error><Key>{k}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                ));
            } else {
                out.push_str(&format!("<Deleted><Key>{k}</Key></Deleted>"));
            }
        }
        out.push_str("</DeleteResult>");
        Reply::new(200, "application/xml", out.into_bytes())
    })
    .await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let out = client.bucket("bkt").delete_prefix("p/").await.unwrap();
    // 15 keys of 1500 end in 77.
    assert_eq!(out.deleted, 1485);
    assert_eq!(out.requests, 2);
    let failed: Vec<_> = out.errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(failed.len(), 15);
    assert_eq!((failed[0], failed[14]), ("p/0077", "p/1477"));
    assert!(out.errors.iter().all(|e| e.code == "AccessDenied"));

    let reqs = server.requests();
    let shape: Vec<(String, usize)> = reqs
        .iter()
        .map(|r| {
            let n = String::from_utf8_lossy(&r.body).matches("<Object>").count();
            (format!("{} {}", r.method, r.target), n)
        })
        .collect();
    assert_eq!(
        shape,
        [
            (
                "GET /bkt?encoding-type=url&list-type=2&prefix=p%2F".to_owned(),
                0
            ),
            ("POST /bkt?delete=".to_owned(), 1000),
            (
                "GET /bkt?continuation-token=t1&encoding-type=url&list-type=2&prefix=p%2F"
                    .to_owned(),
                0
            ),
            ("POST /bkt?delete=".to_owned(), 500),
        ]
    );
    for r in &reqs {
        assert_signed(r, "AKIDTEST", "secret");
    }
}

#[tokio::test]
async fn empty_prefix_refused_and_a_failed_batch_is_an_error() {
    let server = FaultServer::start(vec![
        page(&["a/1".to_owned()], None),
        Reply::s3_error(403, "AccessDenied"),
    ])
    .await;
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    let e = bucket.delete_prefix("").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(server.requests().is_empty());
    let e = bucket.delete_prefix("a/").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(server.requests().len(), 2);
}

/// The DeleteObjects answer for `body`: every key deleted but those ending in "77".
fn delete_result(body: &[u8]) -> Reply {
    let body = String::from_utf8(body.to_vec()).unwrap();
    let mut out = String::from("<DeleteResult>");
    for k in body
        .split("<Key>")
        .skip(1)
        .map(|s| s.split("</Key>").next().unwrap())
    {
        if k.ends_with("77") {
            out.push_str(&format!(
                "<Error><Key>{k}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            ));
        } else {
            out.push_str(&format!("<Deleted><Key>{k}</Key></Deleted>"));
        }
    }
    out.push_str("</DeleteResult>");
    Reply::new(200, "application/xml", out.into_bytes())
}

/// A failure after a first batch went through: the error says so, and carries the first
/// batch's count and per-key errors (nothing gathered is dropped).
#[tokio::test]
async fn a_later_failure_keeps_what_was_done_before() {
    let keys: Vec<String> = (0..1500).map(|i| format!("p/{i:04}")).collect();
    let server = FaultServer::with_handler(move |req, all| {
        if req.method == "GET" {
            return if req.target.contains("continuation-token=t1") {
                page(&keys[1000..], None)
            } else {
                page(&keys[..1000], Some("t1"))
            };
        }
        // The first DeleteObjects goes through; every later one answers 500.
        if all.iter().filter(|r| r.method == "POST").count() == 1 {
            delete_result(&req.body)
        } else {
            Reply::s3_error(500, "InternalError")
        }
    })
    .await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let e = client.bucket("bkt").delete_prefix("p/").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service);
    assert_eq!(e.status(), Some(500));
    let done = e
        .partial_delete_prefix()
        .expect("the work done before the failure");
    assert_eq!((done.deleted, done.requests), (990, 1));
    let failed: Vec<_> = done.errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(failed.len(), 10);
    assert_eq!((failed[0], failed[9]), ("p/0077", "p/0977"));
    assert!(e.to_string().contains("990 deleted, 10 not deleted"), "{e}");
    // GET, POST (ok), GET, then POST answered 500 three times (the client's attempts).
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "POST", "POST", "POST"]);
}

/// A listing failure after a batch was deleted carries the batch's count too.
#[tokio::test]
async fn a_failed_listing_keeps_what_was_done_before() {
    let keys: Vec<String> = (0..1000).map(|i| format!("p/{i:04}")).collect();
    let server = FaultServer::with_handler(move |req, _| {
        if req.method == "GET" {
            return if req.target.contains("continuation-token=t1") {
                Reply::s3_error(403, "AccessDenied")
            } else {
                page(&keys, Some("t1"))
            };
        }
        delete_result(&req.body)
    })
    .await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let e = client.bucket("bkt").delete_prefix("p/").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    let done = e.partial_delete_prefix().unwrap();
    assert_eq!(
        (done.deleted, done.errors.len(), done.requests),
        (990, 10, 1)
    );
}

/// A listing that answers a key outside the prefix is not believed: the call stops with
/// InvalidResponse before any DeleteObjects, so the stray key is never deleted.
#[tokio::test]
async fn a_listed_key_outside_the_prefix_is_never_deleted() {
    let server =
        FaultServer::start(vec![page(&["p/1".to_owned(), "other/x".to_owned()], None)]).await;
    let client = support::fault_client_builder(&server).build().unwrap();
    let e = client.bucket("bkt").delete_prefix("p/").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    assert!(e.to_string().contains("other/x"), "{e}");
    let done = e.partial_delete_prefix().unwrap();
    assert_eq!((done.deleted, done.requests), (0, 0));
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET"]);
}
