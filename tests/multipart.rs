//! The manual multipart API against the in-process S3 server.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{ErrorKind, PartInfo};
use support::{data, env};

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_parts_complete_in_order() {
    let e = env("mpu").await;
    let body = data(11 * MIB + 123, 9);
    let upload = e
        .bucket
        .create_multipart_upload("big.bin")
        .content_type("application/x-big")
        .metadata("kind", "manual")
        .await
        .unwrap();
    assert!(!upload.upload_id().is_empty());
    // Upload parts 3, 1, 2 concurrently from clones of the handle.
    let chunks: Vec<Vec<u8>> = body.chunks(5 * MIB).map(<[u8]>::to_vec).collect();
    assert_eq!(chunks.len(), 3);
    let mut tasks = Vec::new();
    for n in [3u32, 1, 2] {
        let up = upload.clone();
        let chunk = chunks[n as usize - 1].clone();
        tasks.push(tokio::spawn(async move { up.upload_part(n, chunk).await }));
    }
    for t in tasks {
        let part = t.await.unwrap().unwrap();
        assert!(!part.etag.is_empty());
    }
    let recorded: Vec<u32> = upload
        .uploaded_parts()
        .iter()
        .map(|p| p.part_number)
        .collect();
    assert_eq!(recorded, [1, 2, 3]);
    let listed = upload.list_parts().await.unwrap(); // (no ETags from s3s-fs)
    assert_eq!(
        listed.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(listed[0].size, 5 * MIB as u64);

    let done = upload.complete().await.unwrap();
    assert!(done.etag.is_some());
    let got = e.bucket.get_object("big.bin").await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("application/x-big"));
    assert_eq!(
        got.meta.metadata.get("kind").map(String::as_str),
        Some("manual")
    );
    assert!(got.bytes().await.unwrap() == body);
}

#[tokio::test]
async fn abort_discards_the_upload() {
    let e = env("mpu-abort").await;
    let upload = e.bucket.create_multipart_upload("gone").await.unwrap();
    upload.upload_part(1, vec![1u8; 1000]).await.unwrap();
    upload.abort().await.unwrap();
    // (s3s-fs lists parts of aborted uploads as empty instead of NoSuchUpload, and answers
    // AccessDenied rather than NoSuchUpload to completing one.)
    let err = upload.complete().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NotFound | ErrorKind::AccessDenied),
        "{err:?}"
    );
    assert_eq!(err.upload_id(), Some(upload.upload_id()));
    assert!(
        e.bucket
            .head_object("gone")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn bad_part_lists_are_refused_before_sending() {
    let e = env("mpu-bad").await;
    let upload = e.bucket.create_multipart_upload("k").await.unwrap();
    let err = upload.upload_part(0, vec![0u8; 10]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = upload.upload_part(10_001, vec![0u8; 10]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = upload.complete().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let p = upload.upload_part(1, vec![0u8; 10]).await.unwrap();
    let etag = p.etag.clone();
    let err = upload.complete_with(vec![p.clone(), p]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // Resuming by id works (s3s-fs lists no ETags, so the parts come from the first handle).
    let again = e.bucket.multipart_upload("k", upload.upload_id());
    let listed = again.list_parts().await.unwrap();
    assert_eq!(listed.len(), 1);
    let recorded = upload.uploaded_parts();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].part_number, recorded[0].etag.as_str()),
        (1, etag.as_str())
    );
    // A part list built by hand from a stored ETag completes the resumed upload.
    again
        .complete_with(vec![PartInfo::new(1, etag)])
        .await
        .unwrap();
    assert_eq!(e.bucket.head_object("k").await.unwrap().size, 10);
}
