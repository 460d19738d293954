//! Crash-resumable transfers: an upload and a download are stopped halfway (as a crash would
//! stop them) and then finished by a new client from their journals, which send only what
//! is missing.
//!
//! ```text
//! cargo run --example resume
//! ```
//!
//! Uses the in-process S3 server unless `AWS_ENDPOINT_URL[_S3]` is set: then the keys,
//! region and `S3_BUCKET` come from the environment as for every example (see the README); it
//! uploads a 48 MiB object, `async-s3-examples/resume.bin`, and deletes it at the end
//! whatever happened.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

use async_s3::{Bucket, ErrorKind};
use std::path::Path;

const KEY: &str = "async-s3-examples/resume.bin";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, bucket) = support::connect("resume").await?;
    let dir = tempfile::tempdir()?;
    let result = run(&bucket, dir.path()).await;
    support::remove(&bucket, KEY).await;
    result
}

async fn run(bucket: &Bucket, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let data: Vec<u8> = (0..48u32 << 20).map(|i| (i % 239) as u8).collect();
    let source = dir.join("source.bin");
    std::fs::write(&source, &data)?;

    // Upload, stopped once half of it is sent; the journal keeps the upload id and parts.
    let journal = dir.join("upload.journal");
    println!("uploading {KEY} (stopping it halfway)");
    let up = bucket
        .upload(KEY)
        .part_size(8 << 20)
        .concurrency(2)
        .resume(&journal);
    let stop = up.cancel_handle();
    let err = up
        .on_progress(move |p| {
            support::draw_bar(p.transferred, p.total.unwrap_or(0));
            if p.transferred * 2 >= p.total.unwrap_or(0) {
                stop.cancel();
            }
        })
        .from_path(&source)
        .await
        .expect_err("stopped halfway");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    eprintln!();
    println!("stopped: {err}; the journal {} stays", journal.display());

    // Resume with the same call: the parts already sent are checked, not sent again.
    let resumed_at = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
    let first = resumed_at.clone();
    let out = bucket
        .upload(KEY)
        .part_size(8 << 20)
        .concurrency(2)
        .resume(&journal)
        .on_progress(move |p| {
            let _ = first.compare_exchange(
                u64::MAX,
                p.transferred,
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
            );
            support::draw_bar(p.transferred, p.total.unwrap_or(0));
        })
        .from_path(&source)
        .await?;
    eprintln!();
    println!(
        "resumed: {} bytes in {} parts, upload {}; {} bytes were already there",
        out.size,
        out.parts,
        out.upload_id.as_deref().unwrap_or("-"),
        resumed_at.load(std::sync::atomic::Ordering::SeqCst)
    );
    assert!(
        !journal.exists(),
        "the journal is removed once the upload is complete"
    );

    // Download, stopped halfway; a new client finishes it from the journal.
    let dest = dir.join("copy.bin");
    let journal = dir.join("download.journal");
    println!("downloading {KEY} (stopping it halfway)");
    let down = bucket
        .download(KEY)
        .part_size(4 << 20)
        .concurrency(2)
        .resume(&journal);
    let stop = down.cancel_handle();
    let err = down
        .on_progress(move |p| {
            support::draw_bar(p.transferred, p.total.unwrap_or(0));
            if p.transferred * 2 >= p.total.unwrap_or(0) {
                stop.cancel();
            }
        })
        .to_path(&dest)
        .await
        .expect_err("stopped halfway");
    eprintln!();
    println!("stopped: {err}; the journal {} stays", journal.display());
    let out = bucket
        .download(KEY)
        .resume(&journal)
        .on_progress(|p| support::draw_bar(p.transferred, p.total.unwrap_or(0)))
        .to_path(&dest)
        .await?;
    eprintln!();
    println!(
        "resumed: {} bytes, {} ranges fetched this time, pinned to etag {}",
        out.size,
        out.ranges,
        out.etag.as_deref().unwrap_or("-")
    );
    assert!(std::fs::read(&dest)? == data, "the copy is the source");
    println!("the downloaded file is identical to the source");
    Ok(())
}
