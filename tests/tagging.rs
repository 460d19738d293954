//! Tagging (issue 11, item 2) against the scripted server (s3s-fs answers 501 to tagging):
//! documented answers, the exact requests asserted, signatures recomputed.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind};
use md5::{Digest, Md5};
use support::fault::{FaultServer, Recorded, Reply};
use support::sigcheck::assert_signed;

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

fn signed(rec: &Recorded) {
    assert_signed(rec, "AKIDTEST", "secret");
}

fn ok() -> Reply {
    Reply::new(200, "application/xml", Vec::new()).header("etag", "\"e\"")
}

/// The GetObjectTagging reference's example answer.
const GET_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <TagSet>
     <Tag>
       <Key>tag1</Key>
       <Value>val1</Value>
     </Tag>
  </TagSet>
</Tagging>"#;

#[tokio::test]
async fn object_tagging_get_put_delete() {
    let server = FaultServer::start(vec![
        Reply::new(200, "application/xml", GET_EXAMPLE.as_bytes().to_vec())
            .header("x-amz-version-id", "v1"),
        ok().header("x-amz-version-id", "v1"),
        Reply::Http {
            status: 204,
            headers: vec![("x-amz-version-id".into(), "v1".into())],
            body: Vec::new(),
        },
    ])
    .await;
    let bucket = client(&server).bucket("bkt");
    let got = bucket
        .get_object_tagging("a b")
        .version_id("v1")
        .await
        .unwrap();
    assert_eq!(got.tags, [("tag1".to_owned(), "val1".to_owned())]);
    assert_eq!(got.version_id.as_deref(), Some("v1"));
    let put = bucket
        .put_object_tagging("a b", [("Project", "x&y"), ("Classification", "<blue>")])
        .version_id("v1")
        .await
        .unwrap();
    assert_eq!(put.version_id.as_deref(), Some("v1"));
    bucket.delete_object_tagging("a b").await.unwrap();

    let reqs = server.requests();
    let targets: Vec<_> = reqs
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        targets,
        [
            "GET /bkt/a%20b?tagging=&versionId=v1",
            "PUT /bkt/a%20b?tagging=&versionId=v1",
            "DELETE /bkt/a%20b?tagging=",
        ]
    );
    assert_eq!(
        String::from_utf8(reqs[1].body.clone()).unwrap(),
        "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\
         <Tag><Key>Project</Key><Value>x&amp;y</Value></Tag>\
         <Tag><Key>Classification</Key><Value>&lt;blue&gt;</Value></Tag></TagSet></Tagging>"
    );
    let md5 = Md5::digest(&reqs[1].body);
    assert_eq!(
        reqs[1].header("content-md5").unwrap(),
        support::sigcheck::base64(&md5),
        "Content-MD5 of the body"
    );
    for r in &reqs {
        signed(r);
    }
}

#[tokio::test]
async fn bucket_tagging_and_no_tag_set() {
    let server = FaultServer::start(vec![
        Reply::s3_error(404, "NoSuchTagSet"),
        ok(),
        Reply::new(200, "application/xml", GET_EXAMPLE.as_bytes().to_vec()),
        Reply::Http {
            status: 204,
            headers: vec![],
            body: Vec::new(),
        },
    ])
    .await;
    let bucket = client(&server).bucket("bkt");
    assert!(bucket.get_bucket_tagging().await.unwrap().tags.is_empty());
    let fifty: Vec<_> = (0..50).map(|i| (format!("k{i}"), "v")).collect();
    bucket.put_bucket_tagging(fifty).await.unwrap();
    assert_eq!(bucket.get_bucket_tagging().await.unwrap().tags.len(), 1);
    bucket.delete_bucket_tagging().await.unwrap();
    let reqs = server.requests();
    let targets: Vec<_> = reqs
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        targets,
        [
            "GET /bkt?tagging=",
            "PUT /bkt?tagging=",
            "GET /bkt?tagging=",
            "DELETE /bkt?tagging=",
        ]
    );
    assert_eq!(
        String::from_utf8_lossy(&reqs[1].body)
            .matches("<Tag>")
            .count(),
        50
    );
    for r in &reqs {
        signed(r);
    }
}

#[tokio::test]
async fn bad_tags_and_bucket_versions_are_refused_before_sending() {
    let server = FaultServer::start(vec![ok()]).await;
    let bucket = client(&server).bucket("bkt");
    let eleven: Vec<_> = (0..11).map(|i| (format!("k{i}"), "v")).collect();
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let errors = [
        bucket
            .put_object_tagging("k", eleven.clone())
            .await
            .unwrap_err(),
        bucket
            .put_object_tagging("k", [(long_key.as_str(), "v")])
            .await
            .unwrap_err(),
        bucket
            .put_object_tagging("k", [("k", long_value.as_str())])
            .await
            .unwrap_err(),
        bucket
            .put_bucket_tagging((0..51).map(|i| (format!("k{i}"), "v")))
            .await
            .unwrap_err(),
        // The aws: prefix is AWS's own, in any case.
        bucket
            .put_object_tagging("k", [("aws:cloudformation:stack-name", "v")])
            .await
            .unwrap_err(),
        bucket
            .put_bucket_tagging([("AWS:x", "v")])
            .await
            .unwrap_err(),
        bucket
            .get_bucket_tagging()
            .version_id("v1")
            .await
            .unwrap_err(),
        bucket
            .put_object("k", "body")
            .tagging(eleven.clone())
            .await
            .unwrap_err(),
        bucket
            .copy_object("a", "b")
            .tagging([("k", long_value.as_str())])
            .await
            .unwrap_err(),
        bucket
            .upload("k")
            .tagging(eleven)
            .from_bytes("body")
            .await
            .unwrap_err(),
    ];
    for e in &errors {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn writes_carry_url_encoded_tags_and_copy_replaces_them() {
    let server = FaultServer::with_handler(|req, _| {
        if req.header("x-amz-copy-source").is_some() {
            return Reply::new(
                200,
                "application/xml",
                b"<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>".to_vec(),
            );
        }
        if req.target.ends_with("?uploads=") {
            return Reply::new(
                200,
                "application/xml",
                b"<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>m</Key>\
                  <UploadId>up1</UploadId></InitiateMultipartUploadResult>"
                    .to_vec(),
            );
        }
        ok()
    })
    .await;
    let bucket = client(&server).bucket("bkt");
    let tags = [("team name", "a&b=c"), ("日", "+/~")];
    let encoded = "team%20name=a%26b%3Dc&%E6%97%A5=%2B%2F~";
    bucket.put_object("p", "x").tagging(tags).await.unwrap();
    bucket
        .upload("u")
        .tagging(tags)
        .from_bytes("x")
        .await
        .unwrap();
    bucket
        .create_multipart_upload("m")
        .tagging(tags)
        .await
        .unwrap();
    bucket.copy_object("p", "c1").await.unwrap();
    bucket.copy_object("p", "c2").tagging(tags).await.unwrap();
    bucket
        .copy_object("p", "c3")
        .tagging(Vec::<(String, String)>::new())
        .await
        .unwrap();
    let reqs = server.requests();
    let seen: Vec<_> = reqs
        .iter()
        .map(|r| {
            (
                r.target.as_str(),
                r.header("x-amz-tagging"),
                r.header("x-amz-tagging-directive"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/bkt/p", Some(encoded), None),
            ("/bkt/u", Some(encoded), None),
            ("/bkt/m?uploads=", Some(encoded), None),
            // Without tags, the source's are copied (no directive).
            ("/bkt/c1", None, None),
            ("/bkt/c2", Some(encoded), Some("REPLACE")),
            // An empty list replaces the source's tags with none.
            ("/bkt/c3", None, Some("REPLACE")),
        ]
    );
    for r in &reqs {
        signed(r);
    }
}
