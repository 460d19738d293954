//! Compile-time checks of the public API's promises: handles are `Send + Sync + Clone +
//! 'static`, every public future is `Send + 'static` (so it can be spawned), and errors are
//! `std::error::Error + Send + Sync + 'static`.

#![allow(clippy::unwrap_used)]

use async_s3::{Body, Bucket, Client, Credentials, Error};
use std::future::IntoFuture;
use std::time::Duration;

fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
fn shareable<T: Send + Sync + Clone + 'static>() {}

#[test]
fn handles_can_cross_tasks_and_errors_can_be_boxed() {
    shareable::<Client>();
    shareable::<Bucket>();
    shareable::<Credentials>();
    fn boxable<E: std::error::Error + Send + Sync + 'static>() {}
    boxable::<Error>();
}

#[tokio::test]
async fn every_public_future_can_be_spawned() {
    let client = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .credentials(Credentials::new("a", "b"))
        .build()
        .unwrap();
    let b = client.bucket("bkt");
    // Building the futures sends nothing; they are dropped unpolled.
    spawnable(b.put_object("k", "v").into_future());
    spawnable(
        b.put_object("k", Body::from_file("/nonexistent"))
            .into_future(),
    );
    spawnable(b.get_object("k").range(0..1).into_future());
    spawnable(b.head_object("k").into_future());
    spawnable(b.delete_object("k").into_future());
    spawnable(b.delete_objects(["k"]).into_future());
    spawnable(b.copy_object("a", "b").into_future());
    spawnable(b.list_objects().into_future());
    spawnable(b.presign_get("k", Duration::from_secs(1)).into_future());
    spawnable(b.create_multipart_upload("k").into_future());
    spawnable(client.list_buckets().into_future());
    spawnable(client.create_bucket("bkt").into_future());
    spawnable(b.upload("k").from_bytes(vec![1u8]));
    spawnable(b.upload("k").from_path("/nonexistent"));
    spawnable(b.download("k").to_bytes());
    spawnable(b.download("k").to_path("/nonexistent"));
    spawnable(b.download("k").to_stream());
    // versioning, tagging, object lock, uploads in progress, presigned POST, delete_prefix
    fn sendable<T: Send + 'static>(_: T) {}
    spawnable(b.get_bucket_versioning().into_future());
    spawnable(
        b.put_bucket_versioning(async_s3::VersioningStatus::Enabled)
            .into_future(),
    );
    spawnable(b.list_object_versions().into_future());
    sendable(b.list_object_versions().into_stream());
    sendable(b.list_object_versions().into_pages());
    spawnable(b.get_object_tagging("k").into_future());
    spawnable(b.put_bucket_tagging([("a", "b")]).into_future());
    spawnable(b.get_object_retention("k").into_future());
    spawnable(b.put_object_legal_hold("k", true).into_future());
    spawnable(b.list_multipart_uploads().into_future());
    sendable(b.list_multipart_uploads().into_stream());
    spawnable(
        b.abort_uploads_older_than(Duration::from_secs(1))
            .into_future(),
    );
    spawnable(b.delete_prefix("p/").into_future());
    spawnable(b.presign_post("k", Duration::from_secs(1)).into_future());
    // issue 11 part B
    spawnable(b.copy("a", "b").into_future());
    let upload = b.multipart_upload("k", "UP1");
    spawnable(upload.upload_part_copy(1, "bkt", "a").into_future());
    spawnable(upload.completion().if_none_match_any().into_future());
    spawnable(b.get_object_attributes("k").into_future());
}
