//! Presigned URLs fetched with a plain HTTP client against the in-process server
//! (test plan row S6 for expiry).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, Credentials, ErrorKind};
use std::time::{Duration, SystemTime};
use support::{ACCESS_KEY, SECRET_KEY, env};

#[tokio::test]
async fn presigned_get_put_head_delete_work_with_a_plain_client() {
    let e = env("presign").await;
    let http = reqwest::Client::new();
    e.bucket
        .put_object("hello.txt", "hello world")
        .await
        .unwrap();

    let get = e
        .bucket
        .presign_get("hello.txt", Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(get.method, "GET");
    assert!(get.url.contains("X-Amz-Signature="));
    let resp = http.get(&get.url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "hello world");

    let put = e
        .bucket
        .presign_put("up/loaded file.txt", Duration::from_secs(300))
        .header("content-type", "text/plain")
        .await
        .unwrap();
    let mut req = http.put(&put.url).body("via presigned PUT");
    for (n, v) in &put.headers {
        req = req.header(n, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let meta = e.bucket.head_object("up/loaded file.txt").await.unwrap();
    assert_eq!(meta.content_type.as_deref(), Some("text/plain"));
    let body = e
        .bucket
        .get_object("up/loaded file.txt")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"via presigned PUT");

    let head = e
        .bucket
        .presign_head("hello.txt", Duration::from_secs(60))
        .await
        .unwrap();
    let resp = http.head(&head.url).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let del = e
        .bucket
        .presign_delete("hello.txt", Duration::from_secs(60))
        .await
        .unwrap();
    let resp = http.delete(&del.url).send().await.unwrap();
    assert!(resp.status().is_success());
    assert!(
        e.bucket
            .head_object("hello.txt")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn tampered_and_expired_urls_are_rejected() {
    let e = env("presign2").await;
    let http = reqwest::Client::new();
    e.bucket.put_object("a", "A").await.unwrap();
    e.bucket.put_object("b", "B").await.unwrap();

    let url = e
        .bucket
        .presign_get("a", Duration::from_secs(300))
        .await
        .unwrap()
        .url;
    let tampered = url.replacen("/presign2/a?", "/presign2/b?", 1);
    assert_ne!(tampered, url);
    assert_eq!(http.get(&tampered).send().await.unwrap().status(), 403);

    // A client whose clock is two hours behind makes a URL that expired an hour ago.
    #[derive(Debug)]
    struct Behind;
    impl async_s3::Clock for Behind {
        fn now(&self) -> SystemTime {
            SystemTime::now() - Duration::from_secs(7200)
        }
    }
    let old = Client::builder()
        .endpoint(e.server.endpoint())
        .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY))
        .clock(Behind)
        .build()
        .unwrap();
    let url = old
        .bucket("presign2")
        .presign_get("a", Duration::from_secs(3600))
        .await
        .unwrap()
        .url;
    assert_eq!(http.get(&url).send().await.unwrap().status(), 403);
}

/// TEST-PLAN S6
#[tokio::test]
async fn expiry_over_seven_days_is_an_error() {
    let e = env("presign3").await;
    let err = e
        .bucket
        .presign_get("a", Duration::from_secs(604_801))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("604801"), "{err}");
    let ok = e
        .bucket
        .presign_get("a", Duration::from_secs(604_800))
        .await
        .unwrap();
    assert!(ok.url.contains("X-Amz-Expires=604800"));
    let err = e.bucket.presign_get("a", Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn session_token_is_part_of_the_presigned_url_and_debug_hides_it() {
    let e = env("presign4").await;
    let client = Client::builder()
        .endpoint(e.server.endpoint())
        .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY).with_session_token("TOKEN-CANARY"))
        .build()
        .unwrap();
    let p = client
        .bucket("presign4")
        .presign_get("k", Duration::from_secs(60))
        .await
        .unwrap();
    assert!(p.url.contains("X-Amz-Security-Token=TOKEN-CANARY"));
    let dbg = format!("{p:?}");
    assert!(
        !dbg.contains("TOKEN-CANARY") && !dbg.contains("X-Amz-Signature"),
        "{dbg}"
    );
}

#[tokio::test]
async fn presign_refuses_parameters_that_belong_to_the_signature() {
    let e = env("presign5").await;
    let b = &e.bucket;
    let ten = Duration::from_secs(10);
    for err in [
        b.presign_get("k", ten)
            .query("X-Amz-Expires", "999999")
            .await
            .unwrap_err(),
        b.presign_get("k", ten)
            .query("x-amz-signature", "x")
            .await
            .unwrap_err(),
        b.presign_get("k", ten)
            .header("bad header", "x")
            .await
            .unwrap_err(),
        b.presign_get("k", ten)
            .header("host", "evil")
            .await
            .unwrap_err(),
        b.presign_get("k", ten)
            .header("x-amz-meta-a", "tab\there")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    }
    let ok = b
        .presign_get("k", ten)
        .query(
            "response-content-disposition",
            "attachment; filename=\"a b.txt\"",
        )
        .await
        .unwrap();
    assert!(
        ok.url
            .contains("response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22")
    );
}

/// The `Debug` of a presign builder never shows an SSE-C key, whether it was given with
/// `sse_customer_key` or as a header to send.
#[test]
fn presign_builder_debug_hides_sse_c_keys() {
    let canary = "Q0FOQVJZLTZmMWQwYw==";
    let client = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY))
        .build()
        .unwrap();
    let key = async_s3::SseCustomerKey::new([7u8; 32]).unwrap();
    let key_b64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let p = client
        .bucket("bkt")
        .presign_get("k", Duration::from_secs(60))
        .sse_customer_key(&key)
        .header(
            "x-amz-copy-source-server-side-encryption-customer-key",
            canary,
        )
        .header("content-type", "text/plain");
    let dbg = format!("{p:?}");
    assert!(!dbg.contains(canary) && !dbg.contains(key_b64), "{dbg}");
    assert!(dbg.contains("text/plain"), "{dbg}");
}
