//! Shared by the transfer examples: connect to the in-process server or a real endpoint,
//! and draw a progress bar.

#![allow(dead_code, clippy::print_stderr)]

use crate::s3_server::{ACCESS_KEY, S3Server, SECRET_KEY};
use async_s3::{Bucket, Client, Credentials};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// A real endpoint, as every example reads it from the environment.
pub(crate) struct Target {
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`.
    pub(crate) url: String,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
    pub(crate) region: String,
    /// `S3_BUCKET`: an existing bucket the example may write to (and cleans up after).
    pub(crate) bucket: String,
}

/// The real endpoint when `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` is set (then `S3_BUCKET`
/// must be set too); `None` means: use the in-process server.
pub(crate) fn real_target() -> Result<Option<Target>, Box<dyn std::error::Error>> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let Some(url) = var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL")) else {
        return Ok(None);
    };
    let bucket = var("S3_BUCKET").ok_or(
        "AWS_ENDPOINT_URL[_S3] is set: set S3_BUCKET to an existing bucket the example may write to",
    )?;
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_owned());
    Ok(Some(Target {
        url,
        region,
        bucket,
    }))
}

/// A client for `target` with the environment's keys (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`).
pub(crate) fn real_client(target: &Target) -> Result<Client, Box<dyn std::error::Error>> {
    Ok(Client::builder()
        .endpoint(target.url.as_str())
        .region(target.region.as_str())
        .credentials(Credentials::from_env()?)
        .build()?)
}

/// Connects to the real endpoint of [`real_target`] when there is one; otherwise starts an
/// in-process server and creates `bucket` there.
pub(crate) async fn connect(
    bucket: &str,
) -> Result<(Option<S3Server>, Bucket), Box<dyn std::error::Error>> {
    if let Some(target) = real_target()? {
        let client = real_client(&target)?;
        eprintln!(
            "using {} (region {}), bucket {}",
            target.url, target.region, target.bucket
        );
        return Ok((None, client.bucket(target.bucket)));
    }
    let server = S3Server::start().await?;
    let client = Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY))
        .build()?;
    client.create_bucket(bucket).await?;
    Ok((Some(server), client.bucket(bucket)))
}

/// Deletes `key`, the example's own object, whatever happened before; reports a failure
/// instead of hiding it.
pub(crate) async fn remove(bucket: &Bucket, key: &str) {
    match bucket.delete_object(key).await {
        Ok(_) => eprintln!("removed {key}"),
        Err(e) => eprintln!("could not remove {key}: {e}"),
    }
}

/// Redraws a one-line progress bar on stderr when the percentage changes.
pub(crate) fn draw_bar(done: u64, total: u64) {
    static LAST: AtomicU64 = AtomicU64::new(u64::MAX);
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    if LAST.swap(pct, Ordering::Relaxed) == pct {
        return;
    }
    let filled = (pct * 40 / 100) as usize;
    let bar = format!("{}{}", "#".repeat(filled), " ".repeat(40 - filled.min(40)));
    eprint!("\r[{bar}] {pct:>3}% {done}/{total} bytes");
    let _ = std::io::stderr().flush();
}
