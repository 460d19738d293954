//! Downloads an object with parallel ranged GETs into a file, with a progress bar.
//!
//! ```text
//! cargo run --example download_file
//! ```
//!
//! Uses the in-process S3 server (seeded with a 48 MiB object) unless
//! `AWS_ENDPOINT_URL[_S3]`, keys and `S3_BUCKET` are set; then it downloads `S3_KEY`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server, bucket) = support::connect("downloads").await?;
    let key = match (&server, std::env::var("S3_KEY")) {
        (None, Ok(k)) => k,
        _ => {
            let data: Vec<u8> = (0..48u32 << 20).map(|i| (i % 241) as u8).collect();
            bucket.upload("example/big.bin").from_bytes(data).await?;
            "example/big.bin".to_owned()
        }
    };
    let dir = tempfile::tempdir()?;
    let dest = dir.path().join("big.bin");
    println!("downloading {key} to {}", dest.display());
    let started = std::time::Instant::now();
    let out = bucket
        .download(key.as_str())
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
