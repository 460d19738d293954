//! Copies objects server-side: a small one with one CopyObject, a larger one part by part
//! (UploadPartCopy ranges in parallel), metadata kept and replaced; then removes what it
//! wrote.
//!
//! ```text
//! cargo run --example server_side_copy
//! ```
//!
//! Uses the in-process S3 server unless `AWS_ENDPOINT_URL[_S3]` is set: then the keys, region
//! and `S3_BUCKET` come from the environment as for every example (see the README). The
//! objects it writes, under `async-s3-examples/server_side_copy/`, are deleted at the end,
//! whatever happened. The threshold is lowered to 8 MiB so that a 20 MiB object shows the
//! multipart path; the default is 5 GiB, the most one CopyObject copies.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

use sha2::{Digest, Sha256};

const PREFIX: &str = "async-s3-examples/server_side_copy/";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, bucket) = support::connect("copies").await?;
    let result = run(&bucket).await;
    // Remove what was written, whatever happened.
    for key in ["small", "small-copy", "big", "big-copy", "big-replaced"] {
        support::remove(&bucket, &format!("{PREFIX}{key}")).await;
    }
    result
}

async fn run(bucket: &async_s3::Bucket) -> Result<(), Box<dyn std::error::Error>> {
    let k = |name: &str| format!("{PREFIX}{name}");

    bucket
        .put_object(k("small"), "hello, copy")
        .content_type("text/plain")
        .metadata("origin", "example")
        .await?;
    let out = bucket.copy(k("small"), k("small-copy")).await?;
    println!(
        "small: one CopyObject ({} parts), etag {:?}",
        out.parts, out.etag
    );

    let big: Vec<u8> = (0..20u32 << 20).map(|i| (i % 251) as u8).collect();
    bucket
        .upload(k("big"))
        .content_type("application/octet-stream")
        .metadata("origin", "example")
        .from_bytes(big.clone())
        .await?;
    let total = big.len() as u64;
    let out = bucket
        .copy(k("big"), k("big-copy"))
        .multipart_threshold(8 << 20)
        .part_size(8 << 20)
        .on_progress(move |p| support::draw_bar(p.transferred, total))
        .await?;
    eprintln!();
    println!(
        "big: {} bytes in {} copied parts, source pinned to {:?}",
        out.size, out.parts, out.source_etag
    );
    let copied = bucket.get_object(k("big-copy")).await?.bytes().await?;
    assert_eq!(Sha256::digest(&copied), Sha256::digest(&big));
    let head = bucket.head_object(k("big-copy")).await?;
    assert_eq!(
        head.metadata.get("origin").map(String::as_str),
        Some("example")
    );
    println!("big-copy: same SHA-256, metadata kept: {:?}", head.metadata);

    bucket
        .copy(k("big"), k("big-replaced"))
        .multipart_threshold(8 << 20)
        .part_size(8 << 20)
        .content_type("application/x-example")
        .metadata("copied", "yes")
        .await?;
    let head = bucket.head_object(k("big-replaced")).await?;
    println!(
        "big-replaced: content type {:?}, metadata replaced: {:?}",
        head.content_type, head.metadata
    );
    Ok(())
}
