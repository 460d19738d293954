//! Uploads a file through the transfer engine with a progress bar.
//!
//! ```text
//! cargo run --example upload_file               # a generated 64 MiB file, in-process server
//! cargo run --example upload_file -- my.bin     # your file
//! ```
//!
//! Uses the in-process S3 server unless `AWS_ENDPOINT_URL[_S3]` is set: then the keys, region
//! and `S3_BUCKET` come from the environment as for every example (see the README). The
//! object it writes, `async-s3-examples/upload.bin`, is deleted at the end, whatever happened.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, bucket) = support::connect("uploads").await?;
    let result = run(&bucket).await;
    support::remove(&bucket, KEY).await;
    result
}

/// The example's own object.
const KEY: &str = "async-s3-examples/upload.bin";

async fn run(bucket: &async_s3::Bucket) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = match std::env::args().nth(1) {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let p = dir.path().join("generated.bin");
            let data: Vec<u8> = (0..64u32 << 20).map(|i| (i % 251) as u8).collect();
            std::fs::write(&p, data)?;
            p
        }
    };
    let size = std::fs::metadata(&path)?.len();
    println!(
        "uploading {} ({size} bytes) to {}",
        path.display(),
        bucket.name()
    );
    let started = std::time::Instant::now();
    let out = bucket
        .upload(KEY)
        .part_size(8 << 20)
        .concurrency(8)
        .on_progress(move |p| support::draw_bar(p.transferred, p.total.unwrap_or(size)))
        .from_path(&path)
        .await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    println!(
        "done: {} bytes in {} parts, etag {}, {:.1} MiB/s",
        out.size,
        out.parts,
        out.etag.as_deref().unwrap_or("-"),
        out.size as f64 / secs / 1048576.0
    );
    let head = bucket.head_object(KEY).await?;
    assert_eq!(head.size, size);
    std::io::stdout().flush()?;
    Ok(())
}
