//! Object Lock (issue 11, item 8, first half) against the scripted server (s3s-fs does not
//! implement it): the API reference's example answers, the exact requests (query, headers,
//! body, Content-MD5) and their signatures.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind, RetentionMode};
use md5::{Digest, Md5};
use std::time::{Duration, UNIX_EPOCH};
use support::fault::{FaultServer, Reply};
use support::sigcheck::{assert_signed, base64};

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

fn xml(body: &str) -> Reply {
    Reply::new(200, "application/xml", body.as_bytes().to_vec())
}

fn empty() -> Reply {
    Reply::new(200, "application/xml", Vec::new())
}

#[tokio::test]
async fn retention_and_legal_hold_round_trip() {
    let server = FaultServer::start(vec![
        // The GetObjectRetention and GetObjectLegalHold references' example answers.
        xml(r#"<?xml version="1.0" encoding="UTF-8"?>
<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Mode>GOVERNANCE</Mode>
  <RetainUntilDate>2020-12-01T00:00:00.000Z</RetainUntilDate>
</Retention>"#),
        empty(),
        xml(r#"<?xml version="1.0" encoding="UTF-8"?>
<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>"#),
        empty(),
    ])
    .await;
    let bucket = client(&server).bucket("bkt");
    let until = UNIX_EPOCH + Duration::from_secs(1_606_780_800); // 2020-12-01T00:00:00Z
    let r = bucket
        .get_object_retention("ledger.csv")
        .version_id("v1")
        .await
        .unwrap();
    assert_eq!(r.mode, Some(RetentionMode::Governance));
    assert_eq!(r.retain_until, Some(until));
    bucket
        .put_object_retention("ledger.csv", RetentionMode::Compliance, until)
        .version_id("v1")
        .bypass_governance_retention()
        .await
        .unwrap();
    assert!(bucket.get_object_legal_hold("ledger.csv").await.unwrap());
    bucket
        .put_object_legal_hold("ledger.csv", false)
        .await
        .unwrap();

    let reqs = server.requests();
    let seen: Vec<_> = reqs
        .iter()
        .map(|r| {
            (
                format!("{} {}", r.method, r.target),
                r.header("x-amz-bypass-governance-retention"),
                String::from_utf8(r.body.clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "GET /bkt/ledger.csv?retention=&versionId=v1".to_owned(),
                None,
                String::new()
            ),
            (
                "PUT /bkt/ledger.csv?retention=&versionId=v1".to_owned(),
                Some("true"),
                "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>\
                 <RetainUntilDate>2020-12-01T00:00:00Z</RetainUntilDate></Retention>"
                    .to_owned()
            ),
            ("GET /bkt/ledger.csv?legal-hold=".to_owned(), None, String::new()),
            (
                "PUT /bkt/ledger.csv?legal-hold=".to_owned(),
                None,
                "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>OFF</Status>\
                 </LegalHold>"
                    .to_owned()
            ),
        ]
    );
    for r in [&reqs[1], &reqs[3]] {
        assert_eq!(
            r.header("content-md5").unwrap(),
            base64(&Md5::digest(&r.body))
        );
    }
    for r in &reqs {
        assert_signed(r, "AKIDTEST", "secret");
    }
}

#[tokio::test]
async fn deletes_bypass_governance_when_asked() {
    let server = FaultServer::with_handler(|req, _| {
        if req.method == "POST" {
            return xml("<DeleteResult><Deleted><Key>a</Key><VersionId>v1</VersionId></Deleted></DeleteResult>");
        }
        Reply::Http {
            status: 204,
            headers: vec![],
            body: Vec::new(),
        }
    })
    .await;
    let bucket = client(&server).bucket("bkt");
    bucket.delete_object("a").version_id("v1").await.unwrap();
    bucket
        .delete_object("a")
        .version_id("v1")
        .bypass_governance_retention()
        .await
        .unwrap();
    bucket
        .delete_objects(Vec::<String>::new())
        .version("a", "v1")
        .bypass_governance_retention()
        .await
        .unwrap();
    let reqs = server.requests();
    let bypass: Vec<_> = reqs
        .iter()
        .map(|r| r.header("x-amz-bypass-governance-retention"))
        .collect();
    assert_eq!(bypass, [None, Some("true"), Some("true")]);
    for r in &reqs {
        // The header is signed, as every x-amz-* header must be.
        let names = assert_signed(r, "AKIDTEST", "secret");
        assert_eq!(
            names
                .iter()
                .any(|n| n == "x-amz-bypass-governance-retention"),
            r.header("x-amz-bypass-governance-retention").is_some()
        );
    }
}

#[tokio::test]
async fn a_bucket_without_object_lock_is_a_typed_error() {
    let server = FaultServer::start(vec![Reply::s3_error(400, "InvalidRequest")]).await;
    let e = client(&server)
        .bucket("bkt")
        .get_object_retention("k")
        .await
        .unwrap_err();
    assert_eq!(e.s3_code(), Some("InvalidRequest"));
    assert_eq!(e.kind(), ErrorKind::Service);
    assert_eq!(server.requests().len(), 1);
}

/// A date no RFC 3339 text can hold (past year 9999) is refused before sending, not a panic.
#[tokio::test]
async fn a_retain_until_date_past_9999_is_invalid_input() {
    let server = FaultServer::start(vec![empty()]).await;
    let bucket = client(&server).bucket("bkt");
    let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000); // about year 14645
    let e = bucket
        .put_object_retention("k", RetentionMode::Governance, far)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(server.requests().is_empty());
}

/// A retain-until date between seconds is rounded up: the lock never ends before the time
/// asked for.
#[tokio::test]
async fn a_retain_until_date_is_rounded_up_to_the_second() {
    let server = FaultServer::start(vec![empty()]).await;
    let bucket = client(&server).bucket("bkt");
    let until = UNIX_EPOCH + Duration::from_millis(1_606_780_800_001);
    bucket
        .put_object_retention("k", RetentionMode::Governance, until)
        .await
        .unwrap();
    let body = String::from_utf8(server.requests()[0].body.clone()).unwrap();
    assert!(
        body.contains("<RetainUntilDate>2020-12-01T00:00:01Z</RetainUntilDate>"),
        "{body}"
    );
}

/// An object without retention or legal hold answers 404 NoSuchObjectLockConfiguration: that
/// reads as "none", not as a missing object (which stays NotFound).
#[tokio::test]
async fn no_retention_and_no_legal_hold_read_as_none() {
    let server = FaultServer::start(vec![
        Reply::s3_error(404, "NoSuchObjectLockConfiguration"),
        Reply::s3_error(404, "NoSuchObjectLockConfiguration"),
        Reply::s3_error(404, "NoSuchKey"),
        Reply::s3_error(404, "NoSuchKey"),
    ])
    .await;
    let bucket = client(&server).bucket("bkt");
    let r = bucket.get_object_retention("k").await.unwrap();
    assert_eq!((r.mode, r.retain_until), (None, None));
    assert!(!bucket.get_object_legal_hold("k").await.unwrap());
    let e = bucket.get_object_retention("gone").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = bucket.get_object_legal_hold("gone").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(server.requests().len(), 4);
}

/// Removing a governance retention: an empty `<Retention>` with the bypass header.
#[tokio::test]
async fn clear_retention_sends_an_empty_retention_with_bypass() {
    let server = FaultServer::start(vec![empty()]).await;
    let bucket = client(&server).bucket("bkt");
    bucket
        .clear_object_retention("ledger.csv")
        .version_id("v1")
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        format!("{} {}", r.method, r.target),
        "PUT /bkt/ledger.csv?retention=&versionId=v1"
    );
    assert_eq!(r.header("x-amz-bypass-governance-retention"), Some("true"));
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>"
    );
    assert_eq!(
        r.header("content-md5").unwrap(),
        base64(&Md5::digest(&r.body))
    );
    assert_signed(r, "AKIDTEST", "secret");
}
