//! Downloads an object with parallel ranged GETs into a file, with a progress bar.
//!
//! ```text
//! cargo run --example download_file
//! ```
//!
//! Uses the in-process S3 server (seeded with a 48 MiB object) unless `AWS_ENDPOINT_URL[_S3]`
//! is set: then the keys, region and `S3_BUCKET` come from the environment as for every
//! example (see the README), and it downloads `S3_KEY` if set, else a 48 MiB object it
//! uploads first, `async-s3-examples/big.bin`, and deletes at the end whatever happened.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server, bucket) = support::connect("downloads").await?;
    if let (None, Ok(key)) = (&server, std::env::var("S3_KEY")) {
        // Someone else's object: only read.
        return run(&bucket, &key).await;
    }
    let result = async {
        let data: Vec<u8> = (0..48u32 << 20).map(|i| (i % 241) as u8).collect();
        bucket.upload(SEED).from_bytes(data).await?;
        run(&bucket, SEED).await
    }
    .await;
    support::remove(&bucket, SEED).await;
    result
}

/// The object the example uploads to download it.
const SEED: &str = "async-s3-examples/big.bin";

async fn run(bucket: &async_s3::Bucket, key: &str) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let dest = dir.path().join("big.bin");
    println!("downloading {key} to {}", dest.display());
    let started = std::time::Instant::now();
    let out = bucket
        .download(key)
        .part_size(8 << 20)
        .concurrency(8)
        .on_progress(|p| support::draw_bar(p.transferred, p.total.unwrap_or(0)))
        .to_path(&dest)
        .await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    println!(
        "done: {} bytes in {} ranges pinned to etag {}, {:.1} MiB/s",
        out.size,
        out.ranges,
        out.etag.as_deref().unwrap_or("-"),
        out.size as f64 / secs / 1048576.0
    );
    assert_eq!(std::fs::metadata(&dest)?.len(), out.size);
    Ok(())
}
