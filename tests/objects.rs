//! Object operations against the in-process S3 server (s3s-fs, which verifies SigV4).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Body, ByteRange, ErrorKind};
use futures_util::TryStreamExt;
use support::{data, env};

#[tokio::test]
async fn put_get_head_delete_round_trip() {
    let e = env("objects").await;
    let body = data(10_000, 1);
    let put = e
        .bucket
        .put_object("dir/file.bin", body.clone())
        .content_type("application/x-test")
        .cache_control("max-age=60")
        .content_disposition("attachment")
        .metadata("Owner", "alice")
        .await
        .unwrap();
    assert!(put.etag.is_some());

    let head = e.bucket.head_object("dir/file.bin").await.unwrap();
    assert_eq!(head.size, 10_000);
    assert_eq!(head.etag, put.etag);
    assert_eq!(head.content_type.as_deref(), Some("application/x-test"));
    assert_eq!(
        head.metadata.get("owner").map(String::as_str),
        Some("alice")
    );
    assert!(head.last_modified.is_some());

    let got = e.bucket.get_object("dir/file.bin").await.unwrap();
    assert_eq!(got.meta.etag, put.etag);
    assert_eq!(got.bytes().await.unwrap(), body);

    e.bucket.delete_object("dir/file.bin").await.unwrap();
    let err = e.bucket.head_object("dir/file.bin").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn get_missing_key_is_typed_not_found() {
    let e = env("missing").await;
    let err = e.bucket.get_object("nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.s3_code(), Some("NoSuchKey"));
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("GetObject missing/nope"), "{err}");
    let err = e
        .client
        .bucket("nosuchbucket")
        .get_object("k")
        .await
        .unwrap_err();
    // s3s-fs answers NoSuchKey here where AWS says NoSuchBucket; both are NotFound.
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn ranges_bounded_open_and_suffix() {
    let e = env("ranges").await;
    let body = data(5000, 2);
    e.bucket.put_object("r", body.clone()).await.unwrap();

    let o = e.bucket.get_object("r").range(100..200).await.unwrap();
    let cr = o.content_range.unwrap();
    assert_eq!((cr.start, cr.end, cr.total), (100, 199, Some(5000)));
    assert_eq!(o.bytes().await.unwrap(), body[100..200]);

    let o = e.bucket.get_object("r").range(4990..).await.unwrap();
    assert_eq!(o.bytes().await.unwrap(), body[4990..]);

    let o = e
        .bucket
        .get_object("r")
        .range(ByteRange::suffix(7))
        .await
        .unwrap();
    assert_eq!(o.bytes().await.unwrap(), body[4993..]);

    let o = e.bucket.get_object("r").range(0..=0).await.unwrap();
    assert_eq!(o.bytes().await.unwrap(), body[..1]);

    let err = e
        .bucket
        .get_object("r")
        .range(9000..9100)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRange, "{err:?}");

    let err = e.bucket.get_object("r").range(10..10).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.attempts(), 0);
}

#[tokio::test]
async fn get_as_stream() {
    let e = env("stream").await;
    let body = data(3 << 20, 3);
    e.bucket.put_object("big", body.clone()).await.unwrap();
    let o = e.bucket.get_object("big").await.unwrap();
    let chunks: Vec<bytes::Bytes> = o.into_stream().try_collect().await.unwrap();
    let joined: Vec<u8> = chunks.concat();
    assert_eq!(joined.len(), body.len());
    assert!(joined == body);
}

#[tokio::test]
async fn put_from_file_string_and_stream() {
    let e = env("bodies").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src.bin");
    let body = data(1_500_000, 4);
    std::fs::write(&path, &body).unwrap();

    e.bucket
        .put_object("file", Body::from_file(&path))
        .await
        .unwrap();
    assert!(
        e.bucket
            .get_object("file")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            == body
    );

    e.bucket
        .put_object("part", Body::from_file_range(&path, 1000, 2000))
        .await
        .unwrap();
    assert_eq!(
        e.bucket
            .get_object("part")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        body[1000..3000]
    );

    e.bucket
        .put_object("s", String::from("hello"))
        .await
        .unwrap();
    assert_eq!(
        &e.bucket
            .get_object("s")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()[..],
        b"hello"
    );

    let chunks: Vec<std::io::Result<bytes::Bytes>> = body
        .chunks(100_000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    e.bucket
        .put_object("streamed", Body::from_stream(stream, body.len() as u64))
        .await
        .unwrap();
    assert!(
        e.bucket
            .get_object("streamed")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            == body
    );

    let err = e
        .bucket
        .put_object("x", Body::from_file(dir.path().join("absent")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);

    let err = e
        .bucket
        .put_object("x", Body::from_file_range(&path, 1_499_000, 5000))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn empty_object() {
    let e = env("empty").await;
    e.bucket.put_object("zero", Body::empty()).await.unwrap();
    let head = e.bucket.head_object("zero").await.unwrap();
    assert_eq!(head.size, 0);
    assert!(
        e.bucket
            .get_object("zero")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn conditional_put_if_none_match() {
    let e = env("cond").await;
    e.bucket
        .put_object("once", "a")
        .if_none_match_any()
        .await
        .unwrap();
    let err = e
        .bucket
        .put_object("once", "b")
        .if_none_match_any()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err:?}");
    assert_eq!(
        &e.bucket
            .get_object("once")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()[..],
        b"a"
    );
}

#[tokio::test]
async fn copy_keeps_or_replaces_metadata() {
    let e = env("copies").await;
    e.bucket
        .put_object("src", "payload")
        .content_type("text/plain")
        .metadata("color", "blue")
        .await
        .unwrap();
    let out = e.bucket.copy_object("src", "dst").await.unwrap();
    assert!(out.etag.is_some());
    let h = e.bucket.head_object("dst").await.unwrap();
    assert_eq!(h.metadata.get("color").map(String::as_str), Some("blue"));
    assert_eq!(
        &e.bucket
            .get_object("dst")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()[..],
        b"payload"
    );

    e.bucket
        .copy_object("src", "dst2")
        .content_type("application/json")
        .metadata("color", "red")
        .await
        .unwrap();
    let h = e.bucket.head_object("dst2").await.unwrap();
    assert_eq!(h.metadata.get("color").map(String::as_str), Some("red"));
    assert_eq!(h.content_type.as_deref(), Some("application/json"));

    // Across buckets.
    e.client.create_bucket("other").await.unwrap();
    e.client
        .bucket("other")
        .copy_object("src", "c")
        .source_bucket("copies")
        .await
        .unwrap();
    let err = e.bucket.copy_object("absent", "x").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn delete_objects_in_batch() {
    let e = env("batch").await;
    for i in 0..5 {
        e.bucket.put_object(format!("k{i}"), "x").await.unwrap();
    }
    let out = e
        .bucket
        .delete_objects(["k0", "k1", "k2", "never-existed"])
        .await
        .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let mut keys: Vec<_> = out.deleted.iter().map(|d| d.key.as_str()).collect();
    keys.sort_unstable();
    assert!(keys.starts_with(&["k0", "k1", "k2"]), "{keys:?}");
    assert!(e.bucket.head_object("k1").await.unwrap_err().is_not_found());
    assert!(e.bucket.head_object("k3").await.is_ok());

    let too_many: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
    let err = e.bucket.delete_objects(too_many).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = e
        .bucket
        .delete_objects(Vec::<String>::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let e = env("inputs").await;
    for key in ["", "a/./b", "a/../b", ".."] {
        let err = e.bucket.put_object(key, "x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{key:?}");
        assert_eq!(err.attempts(), 0);
    }
    let err = e
        .bucket
        .put_object("k", "x")
        .metadata("note", "héllo")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = e
        .bucket
        .put_object("k", "x")
        .metadata("bad name", "v")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = e.client.bucket("a").put_object("k", "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// Setting a storage class on a copy must not wipe the object's metadata.
#[tokio::test]
async fn copy_with_storage_class_keeps_metadata() {
    let e = env("copy-sc").await;
    e.bucket
        .put_object("src", "x")
        .content_type("text/plain")
        .metadata("color", "green")
        .await
        .unwrap();
    e.bucket
        .copy_object("src", "dst")
        .storage_class("STANDARD")
        .await
        .unwrap();
    let h = e.bucket.head_object("dst").await.unwrap();
    assert_eq!(h.metadata.get("color").map(String::as_str), Some("green"));
    assert_eq!(h.content_type.as_deref(), Some("text/plain"));
}
