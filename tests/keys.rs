//! Tricky keys and query values against the in-process S3 server, which checks every
//! signature (test plan rows S3, S4).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{ErrorKind, ListEntry};
use futures_util::TryStreamExt;
use support::env;
use support::fault::{FaultServer, Reply};

/// The longest key s3s-fs can store: it names a metadata file after the base64 of the key,
/// and file names stop at 255 bytes. The 1024-byte limit itself is checked without a server
/// (a 1025-byte key is refused before sending; see `request::tests::keys_are_validated`).
fn long_key() -> String {
    let mut k = String::new();
    while k.len() < 150 {
        k.push(if k.len() % 50 == 49 { '/' } else { 'k' });
    }
    k
}

/// TEST-PLAN S3
#[tokio::test]
async fn tricky_keys_round_trip_through_put_list_get() {
    let e = env("keys").await;
    let keys = [
        "a b".to_owned(),
        "a+b".to_owned(),
        "~t".to_owned(),
        "ü/日本語".to_owned(),
        "a//b".to_owned(),
        "%2F".to_owned(),
        "=&?#".to_owned(),
        "emoji-😀-🚀".to_owned(),
        "x/..y/.z".to_owned(),
        "trailing/".to_owned(),
        "semi;colon,comma:colon@at$dollar!'()*".to_owned(),
        long_key(),
    ];
    for (i, key) in keys.iter().enumerate() {
        // s3s-fs treats a key ending in '/' as a directory object, which must be empty.
        let body = if key.ends_with('/') {
            String::new()
        } else {
            format!("body {i}")
        };
        e.bucket
            .put_object(key.as_str(), body.clone())
            .await
            .unwrap_or_else(|err| panic!("put {key:?}: {err:?}"));
        if !key.ends_with('/') {
            // (s3s-fs cannot GET or HEAD a directory object; PUT and LIST must still work.)
            let got = e
                .bucket
                .get_object(key.as_str())
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(got, body.as_bytes(), "{key:?}");
            e.bucket.head_object(key.as_str()).await.unwrap();
        }
        if key == "a//b" || key.ends_with('/') {
            // s3s-fs stores keys as file paths: `a//b` lands in `a/b` and lists as such, and
            // directory objects are not listed. The signature and the round trip above are
            // what this store can show for them.
            continue;
        }
        let mut list = e.bucket.list_objects().prefix(key.as_str());
        if key.contains(['%', '+']) {
            // s3s-fs echoes encoding-type=url without encoding keys; ask for raw keys.
            list = list.without_url_encoding();
        }
        let listed: Vec<ListEntry> = list
            .into_stream()
            .try_collect()
            .await
            .unwrap_or_else(|err| panic!("list {key:?}: {err:?}"));
        assert!(
            listed
                .iter()
                .any(|en| matches!(en, ListEntry::Object(o) if &o.key == key)),
            "{key:?} not listed exactly: {listed:?}"
        );
    }
    for key in keys.iter().filter(|k| !k.ends_with('/')) {
        e.bucket.delete_object(key.as_str()).await.unwrap();
        assert!(
            e.bucket
                .head_object(key.as_str())
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
}

/// TEST-PLAN S3: dot segments cannot be sent faithfully through a URL parser, so they are
/// refused with a clear error instead of silently addressing another key.
#[tokio::test]
async fn dot_segment_keys_are_refused_not_rewritten() {
    let e = env("dots").await;
    for key in ["a/./b", "a/../b", "./x", "x/.."] {
        let err = e.bucket.put_object(key, "x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{key:?}");
        assert!(err.to_string().contains("segment"), "{err}");
    }
    // Nothing was written under a normalized name.
    let page = e.bucket.list_objects().await.unwrap();
    assert!(page.objects.is_empty(), "{:?}", page.objects);
}

/// TEST-PLAN S4
#[tokio::test]
async fn query_values_with_every_printable_ascii_character_are_signed_right() {
    let e = env("queries").await;
    let printable: String = (0x20u8..0x7f).map(char::from).collect();
    // The server must accept the signature; nothing matches, so the page is empty.
    let page = e
        .bucket
        .list_objects()
        .prefix(printable.as_str())
        .await
        .unwrap();
    assert!(page.objects.is_empty());
    let page = e
        .bucket
        .list_objects()
        .start_after(printable.as_str())
        .delimiter("/")
        .await
        .unwrap();
    assert!(page.objects.is_empty());
    // A made-up continuation token with '+', '/' and '=' is signed and sent faithfully; the
    // server may reject the token itself, but never the signature.
    match e.bucket.list_objects().continuation_token("a+b/c==").await {
        Ok(_) => {}
        Err(err) => assert_ne!(err.kind(), ErrorKind::AccessDenied, "{err:?}"),
    }
}

/// SigV4's encoding of a query value: unreserved bytes as they are, every other byte `%XX`.
fn sigv4_encoded(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// TEST-PLAN S4 (what goes on the wire): a continuation token with `+`, `/` and `=`, and a
/// prefix of every printable ASCII character, are sent encoded exactly once, byte for byte as
/// SigV4 encodes them (the signature over them is checked by the test above).
#[tokio::test]
async fn continuation_tokens_and_printable_values_go_out_encoded_exactly() {
    let empty = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    let server = FaultServer::start(vec![Reply::new(200, "application/xml", empty)]).await;
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    let token = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+a==";
    bucket
        .list_objects()
        .continuation_token(token)
        .await
        .unwrap();
    let printable: String = (0x20u8..0x7f).map(char::from).collect();
    bucket
        .list_objects()
        .prefix(printable.as_str())
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for (req, name, raw) in [
        (&reqs[0], "continuation-token", token),
        (&reqs[1], "prefix", printable.as_str()),
    ] {
        let (path, query) = req.target.split_once('?').unwrap();
        assert_eq!(path, "/bkt");
        let sent: Vec<&str> = query
            .split('&')
            .filter_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .collect();
        assert_eq!(sent, [sigv4_encoded(raw)], "{}", req.target);
    }
}
