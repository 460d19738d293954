//! ListObjectsV2 against the in-process S3 server: pagination, prefixes, delimiters.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::ListEntry;
use futures_util::TryStreamExt;
use support::env;

#[tokio::test]
async fn stream_hides_pagination() {
    let e = env("listing").await;
    let mut want = Vec::new();
    for i in 0..23 {
        let k = format!("p/{i:03}");
        e.bucket.put_object(k.as_str(), vec![0u8; i]).await.unwrap();
        want.push(k);
    }
    e.bucket.put_object("other", "x").await.unwrap();

    let entries: Vec<ListEntry> = e
        .bucket
        .list_objects()
        .prefix("p/")
        .page_size(5)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let keys: Vec<String> = entries
        .iter()
        .map(|en| match en {
            ListEntry::Object(o) => o.key.to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(keys, want);
    if let ListEntry::Object(o) = &entries[7] {
        assert_eq!(o.size, 7);
        assert!(o.last_modified.is_some());
    }

    let pages: Vec<_> = e
        .bucket
        .list_objects()
        .prefix("p/")
        .page_size(5)
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 5);
    assert!(
        pages[..4]
            .iter()
            .all(|p| p.is_truncated && p.objects.len() == 5)
    );
    assert_eq!(pages[4].objects.len(), 3);
}

#[tokio::test]
async fn delimiter_gives_common_prefixes_and_manual_paging_works() {
    let e = env("delims").await;
    for k in ["a/1", "a/2", "b/1", "c", "d/x/y"] {
        e.bucket.put_object(k, "x").await.unwrap();
    }
    let page = e.bucket.list_objects().delimiter("/").await.unwrap();
    let keys: Vec<_> = page.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["c"]);
    assert_eq!(page.common_prefixes, ["a/", "b/", "d/"]);

    let first = e.bucket.list_objects().page_size(2).await.unwrap();
    assert!(first.is_truncated);
    let token = first.next_continuation_token.clone().unwrap();
    let second = e
        .bucket
        .list_objects()
        .page_size(2)
        .continuation_token(token)
        .await
        .unwrap();
    assert_eq!(second.objects[0].key, "b/1");

    let after = e.bucket.list_objects().start_after("b/1").await.unwrap();
    let keys: Vec<_> = after.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["c", "d/x/y"]);
}

#[tokio::test]
async fn listing_a_missing_bucket_is_not_found() {
    let e = env("here").await;
    let err = e
        .client
        .bucket("not-here")
        .list_objects()
        .into_stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}
