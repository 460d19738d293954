//! `s3 ls`: buckets, or objects and prefixes.

use super::ctx::Ctx;
use crate::args::Ls;
use crate::location::S3Url;
use crate::output::{date, date_json, human};
use crate::report::{Failure, Report};
use async_s3::{ListEntry, VersionEntry};
use futures_util::StreamExt;
use serde_json::json;

pub(crate) async fn run(ctx: &Ctx, args: Ls) -> Result<Report, Failure> {
    let Some(url) = &args.url else {
        return buckets(ctx, args.json).await;
    };
    let url = S3Url::parse(url)?;
    let bucket = ctx.client.bucket(&url.bucket);
    if args.versions {
        return versions(ctx, &url, &args).await;
    }
    let mut list = bucket.list_objects();
    if !url.key.is_empty() {
        list = list.prefix(&url.key);
    }
    if !args.recursive {
        list = list.delimiter("/");
    }
    // Without --recursive, names are shown below the prefix's last `/`, as the AWS CLI does.
    let shown_from = if args.recursive {
        0
    } else {
        url.key.rfind('/').map_or(0, |i| i + 1)
    };
    let mut entries = list.into_stream();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| Failure::about(&url, &e))?;
        let line = match (&entry, args.json) {
            (ListEntry::Prefix(p), true) => json!({ "prefix": p }).to_string(),
            (ListEntry::Prefix(p), false) => {
                format!("{:>30} {}", "PRE", &p[shown_from.min(p.len())..])
            }
            (ListEntry::Object(o), true) => json!({
                "key": o.key.as_str(),
                "size": o.size,
                "last_modified": date_json(o.last_modified),
                "etag": o.etag.as_deref(),
                "storage_class": o.storage_class.as_deref(),
            })
            .to_string(),
            (ListEntry::Object(o), false) => {
                let size = if args.human_readable {
                    human(o.size)
                } else {
                    o.size.to_string()
                };
                format!(
                    "{} {size:>10} {}",
                    date(o.last_modified),
                    &o.key[shown_from.min(o.key.len())..]
                )
            }
            _ => continue,
        };
        ctx.out.data(&line);
    }
    Ok(Report::default())
}

/// `ls --versions`: `date size key version-id` per version (`(latest)` marked), `DELETE` for a
/// delete marker.
async fn versions(ctx: &Ctx, url: &S3Url, args: &Ls) -> Result<Report, Failure> {
    let mut list = ctx.client.bucket(&url.bucket).list_object_versions();
    if !url.key.is_empty() {
        list = list.prefix(&url.key);
    }
    if !args.recursive {
        list = list.delimiter("/");
    }
    let mut entries = list.into_stream();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| Failure::about(url, &e))?;
        let line = match (&entry, args.json) {
            (VersionEntry::Prefix(p), true) => json!({ "prefix": p }).to_string(),
            (VersionEntry::Prefix(p), false) => format!("{:>30} {p}", "PRE"),
            (VersionEntry::Version(v), true) => json!({
                "key": v.key.as_str(),
                "version_id": v.version_id,
                "is_latest": v.is_latest,
                "delete_marker": false,
                "size": v.size,
                "last_modified": date_json(v.last_modified),
                "etag": v.etag.as_deref(),
            })
            .to_string(),
            (VersionEntry::Version(v), false) => {
                let size = if args.human_readable {
                    human(v.size)
                } else {
                    v.size.to_string()
                };
                let latest = if v.is_latest { " (latest)" } else { "" };
                format!(
                    "{} {size:>10} {} {}{latest}",
                    date(v.last_modified),
                    v.key,
                    v.version_id
                )
            }
            (VersionEntry::DeleteMarker(d), true) => json!({
                "key": d.key.as_str(),
                "version_id": d.version_id,
                "is_latest": d.is_latest,
                "delete_marker": true,
                "last_modified": date_json(d.last_modified),
            })
            .to_string(),
            (VersionEntry::DeleteMarker(d), false) => {
                let latest = if d.is_latest { " (latest)" } else { "" };
                format!(
                    "{} {:>10} {} {}{latest}",
                    date(d.last_modified),
                    "DELETE",
                    d.key,
                    d.version_id
                )
            }
            _ => continue,
        };
        ctx.out.data(&line);
    }
    Ok(Report::default())
}

async fn buckets(ctx: &Ctx, as_json: bool) -> Result<Report, Failure> {
    let buckets = ctx
        .client
        .list_buckets()
        .await
        .map_err(|e| Failure::from_error(&e))?;
    for b in buckets {
        let line = if as_json {
            json!({ "name": b.name, "creation_date": date_json(b.creation_date) }).to_string()
        } else {
            format!("{} {}", date(b.creation_date), b.name)
        };
        ctx.out.data(&line);
    }
    Ok(Report::default())
}
