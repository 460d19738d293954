//! Bucket operations against the in-process S3 server.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::ErrorKind;
use support::{S3Server, client_for};

#[tokio::test]
async fn create_list_head_delete() {
    let server = S3Server::start().await.unwrap();
    let client = client_for(&server);
    assert!(client.list_buckets().await.unwrap().is_empty());
    client.create_bucket("alpha").await.unwrap();
    client.create_bucket("beta").await.unwrap();
    let mut names: Vec<String> = client
        .list_buckets()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    names.sort(); // s3s-fs lists in directory order; S3 sorts
    assert_eq!(names, ["alpha", "beta"]);

    client.head_bucket("alpha").await.unwrap();
    let err = client.head_bucket("gamma").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    let err = client.create_bucket("alpha").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err:?}");

    client.delete_bucket("beta").await.unwrap();
    let err = client.head_bucket("beta").await.unwrap_err();
    assert!(err.is_not_found());
    let err = client.delete_bucket("beta").await.unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn create_with_region_constraint_is_accepted() {
    let server = S3Server::start().await.unwrap();
    let client = async_s3::Client::builder()
        .endpoint(server.endpoint())
        .region("eu-west-1")
        .credentials(async_s3::Credentials::new(
            support::ACCESS_KEY,
            support::SECRET_KEY,
        ))
        .build()
        .unwrap();
    client.create_bucket("regional").await.unwrap();
    client.head_bucket("regional").await.unwrap();
}
