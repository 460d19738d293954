//! `s3 mb` and `s3 rb`.

use super::ctx::Ctx;
use crate::location::S3Url;
use crate::report::{Failure, Report};

pub(crate) async fn make(ctx: &Ctx, url: &str) -> Result<Report, Failure> {
    let name = S3Url::parse_bucket(url)?;
    ctx.client
        .create_bucket(&name)
        .await
        .map_err(|e| Failure::about(format!("s3://{name}"), &e))?;
    ctx.note(&format!("make_bucket: {name}"));
    Ok(Report::default())
}

pub(crate) async fn remove(ctx: &Ctx, url: &str, force: bool) -> Result<Report, Failure> {
    let name = S3Url::parse_bucket(url)?;
    let mut report = Report::default();
    if force {
        super::rm::delete_all(&ctx.client.bucket(&name), "", &mut report).await?;
        if !report.failed.is_empty() {
            return Ok(report);
        }
    }
    ctx.client
        .delete_bucket(&name)
        .await
        .map_err(|e| Failure::about(format!("s3://{name}"), &e))?;
    ctx.note(&format!("remove_bucket: {name}"));
    Ok(report)
}
