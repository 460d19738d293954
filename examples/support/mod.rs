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
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`; `None`: the profile's region, else
    /// `us-east-1`.
    pub(crate) region: Option<String>,
    /// `S3_BUCKET`: an existing bucket the example may write to (and cleans up after).
    pub(crate) bucket: String,
}

impl Target {
    /// "https://… (region eu-west-1), bucket b", for the first line an example prints.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} (region {}), bucket {}",
            self.url,
            self.region
                .as_deref()
                .unwrap_or("of the profile, else us-east-1"),
            self.bucket
        )
    }
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
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
    Ok(Some(Target {
        url,
        region,
        bucket,
    }))
}

/// A client for `target` with the credentials of the default chain, as the AWS CLI would
/// find them: the environment's keys, else the profile (`AWS_PROFILE`, else `default`) with
/// its static keys, role, SSO session or `credential_process`, else web identity, container
/// or instance credentials.
pub(crate) async fn real_client(target: &Target) -> Result<Client, Box<dyn std::error::Error>> {
    let mut builder = Client::builder().endpoint(target.url.as_str());
    if let Some(region) = &target.region {
        builder = builder.region(region.as_str());
    }
    Ok(builder.load_env().await?.build()?)
}

/// Connects to the real endpoint of [`real_target`] when there is one; otherwise starts an
/// in-process server and creates `bucket` there.
pub(crate) async fn connect(
    bucket: &str,
) -> Result<(Option<S3Server>, Bucket), Box<dyn std::error::Error>> {
    if let Some(target) = real_target()? {
        let client = real_client(&target).await?;
        eprintln!("using {}", target.describe());
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

/// Deletes every key under `prefix`, the example's own keys, whatever happened before;
/// reports a failure instead of hiding it.
pub(crate) async fn remove_prefix(bucket: &Bucket, prefix: &str) {
    match bucket.delete_prefix(prefix).await {
        Ok(out) if out.errors.is_empty() => {
            eprintln!("removed {} keys under {prefix}", out.deleted);
        }
        Ok(out) => eprintln!(
            "could not remove some keys under {prefix}: {:?}",
            out.errors
        ),
        Err(e) => eprintln!("could not remove the keys under {prefix}: {e}"),
    }
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
