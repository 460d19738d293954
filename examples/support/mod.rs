//! Shared by the transfer examples: connect to the in-process server or a real endpoint,
//! and draw a progress bar.

#![allow(dead_code, clippy::print_stderr)]

use crate::s3_server::{ACCESS_KEY, S3Server, SECRET_KEY};
use async_s3::{Bucket, Client, Credentials};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Connects to `AWS_ENDPOINT_URL[_S3]` with environment keys and `S3_BUCKET` when set;
/// otherwise starts an in-process server and creates `bucket` there.
pub(crate) async fn connect(
    bucket: &str,
) -> Result<(Option<S3Server>, Bucket), Box<dyn std::error::Error>> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .ok();
    if let (Some(url), Ok(name)) = (endpoint, std::env::var("S3_BUCKET")) {
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
        let client = Client::builder()
            .endpoint(url)
            .region(region)
            .credentials(Credentials::from_env()?)
            .build()?;
        return Ok((None, client.bucket(name)));
    }
    let server = S3Server::start().await?;
    let client = Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY))
        .build()?;
    client.create_bucket(bucket).await?;
    Ok((Some(server), client.bucket(bucket)))
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
