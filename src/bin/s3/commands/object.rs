//! `s3 cat`, `s3 stat` and `s3 presign`: one object each.

use super::ctx::Ctx;
use crate::args::{Method, Presign};
use crate::location::S3Url;
use crate::output::{date, date_json};
use crate::report::{Failure, Report};
use serde_json::json;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

pub(crate) async fn cat(ctx: &Ctx, url: &str) -> Result<Report, Failure> {
    let url = S3Url::parse_object(url)?;
    let mut down = ctx
        .client
        .bucket(&url.bucket)
        .download(&url.key)
        .concurrency(ctx.concurrency);
    if let Some(p) = ctx.part_size {
        down = down.part_size(p);
    }
    ctx.interrupt.track(down.cancel_handle());
    let mut stdout = tokio::io::stdout();
    down.to_writer(&mut stdout)
        .await
        .map_err(|e| Failure::about(&url, &e))?;
    stdout
        .flush()
        .await
        .map_err(|e| Failure::failed(format!("stdout: {e}")))?;
    Ok(Report::default())
}

pub(crate) async fn stat(ctx: &Ctx, url: &str, as_json: bool) -> Result<Report, Failure> {
    let url = S3Url::parse_object(url)?;
    let meta = ctx
        .client
        .bucket(&url.bucket)
        .head_object(&url.key)
        .await
        .map_err(|e| Failure::about(&url, &e))?;
    let checksum = meta.checksum.as_ref().map(|(a, v)| format!("{a:?} {v}"));
    if as_json {
        let line = json!({
            "url": url.to_string(),
            "size": meta.size,
            "etag": meta.etag,
            "last_modified": date_json(meta.last_modified),
            "content_type": meta.content_type,
            "storage_class": meta.storage_class,
            "version_id": meta.version_id,
            "server_side_encryption": meta.server_side_encryption,
            "checksum": checksum,
            "metadata": meta.metadata,
        });
        ctx.out.data(&line.to_string());
        return Ok(Report::default());
    }
    let mut lines = vec![
        format!("url:           {url}"),
        format!("size:          {}", meta.size),
        format!("last_modified: {}", date(meta.last_modified)),
    ];
    let optional = [
        ("etag", meta.etag.as_ref()),
        ("content_type", meta.content_type.as_ref()),
        ("storage_class", meta.storage_class.as_ref()),
        ("version_id", meta.version_id.as_ref()),
        ("encryption", meta.server_side_encryption.as_ref()),
        ("checksum", checksum.as_ref()),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            lines.push(format!("{:<15}{v}", format!("{name}:")));
        }
    }
    for (k, v) in &meta.metadata {
        lines.push(format!("meta {k}: {v}"));
    }
    for line in lines {
        ctx.out.data(&line);
    }
    Ok(Report::default())
}

pub(crate) async fn presign(ctx: &Ctx, args: Presign) -> Result<Report, Failure> {
    let url = S3Url::parse_object(&args.url)?;
    let bucket = ctx.client.bucket(&url.bucket);
    let expires = Duration::from_secs(args.expires_in);
    let request = match args.method {
        Method::Get => bucket.presign_get(&url.key, expires),
        Method::Put => bucket.presign_put(&url.key, expires),
    }
    .await
    .map_err(|e| Failure::about(&url, &e))?;
    ctx.out.data(&request.url);
    for (name, value) in &request.headers {
        // Headers the request must carry; on stderr so that stdout is the URL alone.
        eprintln!("header: {name}: {value}");
    }
    Ok(Report::default())
}
