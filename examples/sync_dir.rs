//! Syncs a directory to a bucket prefix and back: a dry run, the upload with a progress bar,
//! a second sync that sends nothing, a change mirrored with deletion, and the download.
//!
//! ```text
//! cargo run --example sync_dir
//! ```
//!
//! Uses the in-process S3 server unless `AWS_ENDPOINT_URL[_S3]` is set: then the keys, region
//! and `S3_BUCKET` come from the environment as for every example (see the README); it writes
//! under `async-s3-examples/sync_dir/` and deletes that prefix at the end whatever happened.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

use async_s3::{Bucket, SyncAction};
use std::path::Path;

/// Where the example writes.
const PREFIX: &str = "async-s3-examples/sync_dir/";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, bucket) = support::connect("sync").await?;
    let result = run(&bucket).await;
    match bucket.delete_prefix(PREFIX).await {
        Ok(out) => eprintln!("removed {} objects under {PREFIX}", out.deleted),
        Err(e) => eprintln!("could not remove {PREFIX}: {e}"),
    }
    result
}

async fn run(bucket: &Bucket) -> Result<(), Box<dyn std::error::Error>> {
    let src = tempfile::tempdir()?;
    let files = make_tree(src.path())?;
    println!("{files} files under {}", src.path().display());

    let plan = bucket.sync(PREFIX).dry_run().from_dir(src.path()).await?;
    println!("dry run: {} uploads planned, nothing sent", plan.plan.len());

    let started = std::time::Instant::now();
    let out = bucket
        .sync(PREFIX)
        .concurrency(16)
        .on_progress(|p| support::draw_bar(p.transferred, p.total.unwrap_or(0)))
        .on_file(|f| {
            if f.finished && f.total >= 1 << 20 {
                eprint!("\n  {} done ({} bytes)", f.key, f.total);
            }
        })
        .from_dir(src.path())
        .await?;
    eprintln!();
    println!(
        "sync up: {} files, {} bytes in {:.2} s, {} failed",
        out.transferred,
        out.bytes,
        started.elapsed().as_secs_f64(),
        out.failed.len()
    );

    let again = bucket.sync(PREFIX).from_dir(src.path()).await?;
    println!(
        "second sync: {} sent, {} unchanged",
        again.transferred, again.unchanged
    );

    // Change one file, remove another, and mirror with deletion.
    std::fs::write(src.path().join("notes/readme.txt"), "changed, and longer")?;
    std::fs::remove_file(src.path().join("many/0007.txt"))?;
    let mirror = bucket
        .sync(PREFIX)
        .delete(true)
        .from_dir(src.path())
        .await?;
    for step in &mirror.plan {
        match step {
            SyncAction::Upload { rel, reason, .. } => println!("  upload {rel} ({reason:?})"),
            SyncAction::DeleteObject { rel } => println!("  delete {rel}"),
            other => println!("  {other:?}"),
        }
    }
    println!(
        "mirror: {} sent, {} deleted",
        mirror.transferred, mirror.deleted
    );

    let dst = tempfile::tempdir()?;
    let down = bucket
        .sync(PREFIX)
        .on_progress(|p| support::draw_bar(p.transferred, p.total.unwrap_or(0)))
        .to_dir(dst.path())
        .await?;
    eprintln!();
    let back = bucket.sync(PREFIX).from_dir(dst.path()).await?;
    println!(
        "sync down: {} files into {}; syncing that copy back up sends {}",
        down.transferred,
        dst.path().display(),
        back.transferred
    );
    Ok(())
}

/// A small tree: nested directories, an empty file, a unicode name, 300 small files and one
/// of 20 MiB (sent in parts). Returns how many files it wrote.
fn make_tree(root: &Path) -> std::io::Result<usize> {
    let write = |rel: &str, bytes: &[u8]| -> std::io::Result<()> {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(root))?;
        std::fs::write(p, bytes)
    };
    write("notes/readme.txt", b"hello")?;
    write("notes/empty", b"")?;
    write("photos/2024/été.jpg", &[0xFF; 4096])?;
    let big: Vec<u8> = (0..20u32 << 20).map(|i| (i % 251) as u8).collect();
    write("video/big.bin", &big)?;
    for i in 0..300 {
        write(&format!("many/{i:04}.txt"), format!("file {i}").as_bytes())?;
    }
    Ok(304)
}
