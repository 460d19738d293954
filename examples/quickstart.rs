//! The whole tour of async-s3: create a bucket, put, head, get a range, list, presign and
//! fetch by URL, copy, delete.
//!
//! Runs against an S3 server started in this process (s3s-fs on a temp dir), unless
//! `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` is set: then the same tour runs there, with the
//! credentials the AWS CLI would use (the environment's keys, else the profile of
//! `AWS_PROFILE` or `default`: static keys, a role, an SSO session, …), in the region of
//! `AWS_REGION` or `AWS_DEFAULT_REGION` (else the profile's, else `us-east-1`), in the bucket
//! named by `S3_BUCKET` (which must exist; the tour only adds its own `async-s3-quickstart/`
//! keys, and removes them at the end even when a step fails). Every example reads these
//! settings the same way (`examples/support/mod.rs`).
//!
//! ```text
//! cargo run --example quickstart
//! ```

#![allow(clippy::print_stdout)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

use async_s3::{Client, Credentials, ListEntry};
use futures_util::TryStreamExt;
use std::time::Duration;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Where the tour writes: every key it makes is under it, and removed at the end.
const PREFIX: &str = "async-s3-quickstart/";

#[tokio::main]
async fn main() -> Res<()> {
    let (_server, client, bucket_name, create) = match support::real_target()? {
        Some(target) => {
            println!("using {}", target.describe());
            let client = support::real_client(&target).await?;
            (None, client, target.bucket, false)
        }
        _ => {
            let server = s3_server::S3Server::start().await?;
            println!(
                "started an in-process S3 server (s3s-fs) at {}",
                server.endpoint()
            );
            let client = Client::builder()
                .endpoint(server.endpoint())
                .region("us-east-1")
                .credentials(Credentials::new(
                    s3_server::ACCESS_KEY,
                    s3_server::SECRET_KEY,
                ))
                .build()?;
            (Some(server), client, "quickstart".to_owned(), true)
        }
    };

    if create {
        client.create_bucket(&bucket_name).await?;
        println!("1. created bucket {bucket_name}");
    } else {
        client.head_bucket(&bucket_name).await?;
        println!("1. bucket {bucket_name} is there");
    }
    let result = tour(&client, &bucket_name).await;
    // Whatever happened, nothing the tour wrote stays behind.
    support::remove_prefix(&client.bucket(&bucket_name), PREFIX).await;
    if create {
        client.delete_bucket(&bucket_name).await?;
        println!("10. deleted bucket {bucket_name}");
    }
    result?;
    println!("tour complete");
    Ok(())
}

/// Steps 2 to 9 in `bucket_name`, under [`PREFIX`].
async fn tour(client: &Client, bucket_name: &str) -> Res<()> {
    let bucket = client.bucket(bucket_name);
    let key = "async-s3-quickstart/hello.txt";
    let body = "Hello from async-s3! ".repeat(50);

    let put = bucket
        .put_object(key, body.clone())
        .content_type("text/plain")
        .metadata("tour", "quickstart")
        .await?;
    println!(
        "2. put {key}: {} bytes, etag {}",
        body.len(),
        put.etag.as_deref().unwrap_or("-")
    );

    let meta = bucket.head_object(key).await?;
    println!(
        "3. head {key}: {} bytes, content-type {}, metadata {:?}",
        meta.size,
        meta.content_type.as_deref().unwrap_or("-"),
        meta.metadata
    );
    assert_eq!(meta.size, body.len() as u64);

    let part = bucket.get_object(key).range(0..20).await?;
    let range = part.content_range;
    let first = part.bytes().await?;
    println!(
        "4. get bytes 0..20 ({range:?}): {:?}",
        String::from_utf8_lossy(&first)
    );
    assert_eq!(&first[..], &body.as_bytes()[..20]);

    for i in 0..3 {
        bucket
            .put_object(
                format!("async-s3-quickstart/list/{i}.txt"),
                format!("item {i}"),
            )
            .await?;
    }
    let listed: Vec<ListEntry> = bucket
        .list_objects()
        .prefix("async-s3-quickstart/list/")
        .into_stream()
        .try_collect()
        .await?;
    println!("5. list async-s3-quickstart/list/:");
    for entry in &listed {
        if let ListEntry::Object(o) = entry {
            println!("   {} ({} bytes)", o.key, o.size);
        }
    }
    assert_eq!(listed.len(), 3);

    let url = bucket.presign_get(key, Duration::from_secs(300)).await?.url;
    let fetched = reqwest::get(&url).await?.error_for_status()?.text().await?;
    println!(
        "6. presigned GET fetched {} bytes with a plain HTTP client",
        fetched.len()
    );
    assert_eq!(fetched, body);

    let copy_key = "async-s3-quickstart/copy.txt";
    bucket.copy_object(key, copy_key).await?;
    let copied = bucket.get_object(copy_key).await?.bytes().await?;
    println!("7. copied {key} to {copy_key} ({} bytes)", copied.len());
    assert_eq!(copied.len(), body.len());

    let mut keys: Vec<String> = vec![key.to_owned(), copy_key.to_owned()];
    keys.extend((0..3).map(|i| format!("async-s3-quickstart/list/{i}.txt")));
    let out = bucket.delete_objects(keys).await?;
    println!(
        "8. deleted {} objects, {} errors",
        out.deleted.len(),
        out.errors.len()
    );
    assert!(out.errors.is_empty());
    match bucket.head_object(key).await {
        Err(e) if e.is_not_found() => {
            println!("9. head {key} after delete: not found, as expected");
        }
        other => return Err(format!("expected not found, got {other:?}").into()),
    }
    Ok(())
}
