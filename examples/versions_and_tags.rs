//! Versions and tags: the bucket's versioning state, two versions of one key and a delete
//! marker, reading an older version, object tags, and cleaning up with `delete_prefix`.
//!
//! ```text
//! cargo run --example versions_and_tags
//! ```
//!
//! Uses the in-process S3 server (s3s-fs) unless `AWS_ENDPOINT_URL[_S3]`, keys and `S3_BUCKET`
//! are set. s3s-fs answers `501 NotImplemented` to versioning and tagging requests; the
//! example says so and goes on with what works. It never changes a bucket's versioning state
//! (enabling versioning cannot be undone), and removes every key and version it wrote under
//! `async-s3-versions-example/`, even when a step fails.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

use async_s3::{Bucket, Error, VersionEntry, VersioningStatus};
use futures_util::TryStreamExt;

const PREFIX: &str = "async-s3-versions-example/";

/// Whether the server does not implement the operation (501 or `NotImplemented`).
fn unsupported(e: &Error) -> bool {
    e.status() == Some(501) || e.s3_code() == Some("NotImplemented")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, bucket) = support::connect("versions").await?;
    let result = tour(&bucket).await;
    // Whatever happened, every version and marker the tour made goes.
    let cleaned = clean_up(&bucket).await;
    result.and(cleaned)
}

async fn tour(bucket: &Bucket) -> Result<(), Box<dyn std::error::Error>> {
    let key = format!("{PREFIX}report.txt");

    let versioned = match bucket.get_bucket_versioning().await {
        Ok(v) => {
            println!("1. versioning of {}: {:?}", bucket.name(), v.status);
            v.status == Some(VersioningStatus::Enabled)
        }
        Err(e) if unsupported(&e) => {
            println!("1. this server does not implement versioning ({e})");
            false
        }
        Err(e) => return Err(e.into()),
    };

    let first = bucket
        .put_object(&key, "first draft")
        .tagging([("stage", "draft")])
        .await?;
    let second = bucket
        .put_object(&key, "final text")
        .tagging([("stage", "final"), ("owner", "team a&b")])
        .await?;
    println!(
        "2. wrote {key} twice (versions {:?} and {:?})",
        first.version_id, second.version_id
    );

    match bucket.get_object_tagging(&key).await {
        Ok(t) => println!("3. tags of the current version: {:?}", t.tags),
        Err(e) if unsupported(&e) => println!("3. this server does not implement tagging ({e})"),
        Err(e) => return Err(e.into()),
    }

    if versioned && let Some(old) = &first.version_id {
        let body = bucket
            .get_object(&key)
            .version_id(old)
            .await?
            .bytes()
            .await?;
        println!(
            "4. version {old} still reads {:?}",
            String::from_utf8_lossy(&body)
        );
        let del = bucket.delete_object(&key).await?;
        println!(
            "5. deleted {key}: delete marker {} ({:?})",
            del.delete_marker, del.version_id
        );
        for e in &versions(bucket).await? {
            match e {
                VersionEntry::Version(v) => {
                    println!(
                        "   version {} latest={} {} bytes",
                        v.version_id, v.is_latest, v.size
                    );
                }
                VersionEntry::DeleteMarker(d) => {
                    println!("   delete marker {} latest={}", d.version_id, d.is_latest);
                }
                _ => {}
            }
        }
    } else {
        println!("4. without versioning the second write replaced the first");
    }
    Ok(())
}

/// The versions and delete markers under [`PREFIX`].
async fn versions(bucket: &Bucket) -> Result<Vec<VersionEntry>, Error> {
    bucket
        .list_object_versions()
        .prefix(PREFIX)
        .into_stream()
        .try_collect()
        .await
}

/// Removes everything under [`PREFIX`]: each version and delete marker by its version id
/// (in a versioned bucket a plain delete would only add a marker), or every key with
/// `delete_prefix` where the server does not list versions.
async fn clean_up(bucket: &Bucket) -> Result<(), Box<dyn std::error::Error>> {
    let entries = match versions(bucket).await {
        Ok(entries) => entries,
        Err(e) if unsupported(&e) => {
            let out = bucket.delete_prefix(PREFIX).await?;
            println!("6. delete_prefix({PREFIX}) removed {} keys", out.deleted);
            if !out.errors.is_empty() {
                return Err(format!("could not remove: {:?}", out.errors).into());
            }
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut cleanup = bucket.delete_objects(Vec::<String>::new());
    let mut any = false;
    for e in entries {
        match e {
            VersionEntry::Version(v) => cleanup = cleanup.version(v.key, v.version_id),
            VersionEntry::DeleteMarker(d) => cleanup = cleanup.version(d.key, d.version_id),
            _ => continue,
        }
        any = true;
    }
    if !any {
        println!("6. nothing left to remove");
        return Ok(());
    }
    let out = cleanup.await?;
    println!("6. removed {} versions and markers", out.deleted.len());
    if !out.errors.is_empty() {
        return Err(format!("could not remove: {:?}", out.errors).into());
    }
    Ok(())
}
