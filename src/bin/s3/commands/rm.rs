//! `s3 rm`: one object, or every object under a prefix in batches of 1000.

use super::ctx::Ctx;
use crate::args::Rm;
use crate::location::S3Url;
use crate::report::{Failure, Report, plural};
use async_s3::{Bucket, MAX_DELETE_KEYS};

pub(crate) async fn run(ctx: &Ctx, args: Rm) -> Result<Report, Failure> {
    let mut report = Report::default();
    if args.recursive {
        let url = S3Url::parse(&args.url)?;
        let prefix = url.dir_prefix();
        let deleted = delete_all(&ctx.client.bucket(&url.bucket), &prefix, &mut report).await?;
        ctx.note(&format!(
            "delete: {} under {}",
            plural(deleted as usize, "object"),
            url.with_key(prefix)
        ));
    } else {
        let url = S3Url::parse_object(&args.url)?;
        ctx.client
            .bucket(&url.bucket)
            .delete_object(&url.key)
            .await
            .map_err(|e| Failure::about(&url, &e))?;
        ctx.note(&format!("delete: {url}"));
    }
    Ok(report)
}

/// Deletes every object under `prefix` (the whole bucket for an empty one); returns how many
/// S3 reported deleted, and reports each key it could not delete.
pub(crate) async fn delete_all(
    bucket: &Bucket,
    prefix: &str,
    report: &mut Report,
) -> Result<u64, Failure> {
    let url = S3Url {
        bucket: bucket.name().to_owned(),
        key: prefix.to_owned(),
    };
    if !prefix.is_empty() {
        return match bucket.delete_prefix(prefix).await {
            Ok(out) => {
                for e in out.errors {
                    report.fail(url.with_key(e.key), format!("{}: {}", e.code, e.message));
                }
                Ok(out.deleted)
            }
            Err(e) => {
                if let Some(partial) = e.partial_delete_prefix() {
                    for d in &partial.errors {
                        report.fail(
                            url.with_key(d.key.clone()),
                            format!("{}: {}", d.code, d.message),
                        );
                    }
                }
                Err(Failure::about(&url, &e))
            }
        };
    }
    // delete_prefix refuses the empty prefix (a guard against emptying a bucket by mistake);
    // `rm --recursive s3://bucket` asks for exactly that, so it lists and deletes in batches.
    let keys: Vec<String> = super::walk::objects(bucket, "")
        .await
        .map_err(|e| Failure::about(&url, &e))?
        .into_iter()
        .map(|o| o.key.into())
        .collect();
    let mut deleted = 0;
    for batch in keys.chunks(MAX_DELETE_KEYS) {
        let out = bucket
            .delete_objects(batch.iter().cloned())
            .quiet()
            .await
            .map_err(|e| Failure::about(&url, &e))?;
        for e in &out.errors {
            report.fail(
                url.with_key(e.key.clone()),
                format!("{}: {}", e.code, e.message),
            );
        }
        deleted += (batch.len() - out.errors.len()) as u64;
    }
    Ok(deleted)
}
