//! `s3 sync`: a local directory <-> an S3 prefix. What is missing at the destination, differs
//! in size, or is newer at the source is copied (through the same jobs as `cp --recursive`);
//! with `--delete`, what only the destination has is deleted.

use super::cp::{Job, execute, local_tree, remote_tree};
use super::ctx::Ctx;
use super::walk;
use crate::args::{Filter, Sync};
use crate::location::{Location, S3Url};
use crate::report::{Failure, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub(crate) async fn run(ctx: &Ctx, args: Sync) -> Result<Report, Failure> {
    let mut report = Report::default();
    let (jobs, extra) = match (Location::parse(&args.source)?, Location::parse(&args.dest)?) {
        (Location::Local(dir), Location::S3(to)) => {
            up(ctx, &dir, &to, &args.filter, &mut report).await?
        }
        (Location::S3(from), Location::Local(dir)) => {
            down(ctx, &from, &dir, &args.filter, &mut report).await?
        }
        _ => {
            return Err(Failure::usage(
                "sync needs a local directory on one side and s3:// on the other",
            ));
        }
    };
    let extra = if args.delete { extra } else { Vec::new() };
    if args.dryrun {
        for job in &jobs {
            ctx.out.data(&format!("(dryrun) {}", describe(job)));
        }
        for gone in &extra {
            ctx.out.data(&format!("(dryrun) delete: {gone}"));
        }
        return Ok(report);
    }
    execute(ctx, jobs, false, &mut report).await;
    for gone in extra {
        match delete(ctx, &gone).await {
            Ok(()) => ctx.note(&format!("delete: {gone}")),
            Err(why) => report.fail(gone, why),
        }
    }
    Ok(report)
}

/// What the destination only has: an object or a file.
#[derive(Debug)]
enum Extra {
    Object(S3Url),
    File(PathBuf),
}

impl std::fmt::Display for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Extra::Object(url) => url.fmt(f),
            Extra::File(path) => path.display().fmt(f),
        }
    }
}

fn describe(job: &Job) -> String {
    match job {
        Job::Upload { from, to, .. } => format!("upload: {} to {to}", from.display()),
        Job::Download { from, to, .. } => format!("download: {from} to {}", to.display()),
        Job::Copy { from, to, .. } => format!("copy: {from} to {to}"),
    }
}

/// Whether a source of (size, modified) must be copied over a destination of (size, modified).
fn differs(source: (u64, Option<SystemTime>), dest: (u64, Option<SystemTime>)) -> bool {
    source.0 != dest.0
        || match (source.1, dest.1) {
            (Some(s), Some(d)) => s > d,
            _ => true,
        }
}

async fn up(
    ctx: &Ctx,
    dir: &Path,
    to: &S3Url,
    filter: &Filter,
    report: &mut Report,
) -> Result<(Vec<Job>, Vec<Extra>), Failure> {
    let prefix = to.dir_prefix();
    let mut remote: BTreeMap<String, (u64, Option<SystemTime>)> =
        walk::objects(&ctx.client.bucket(&to.bucket), &prefix)
            .await
            .map_err(|e| Failure::about(to.with_key(prefix.clone()), &e))?
            .into_iter()
            .filter(|o| walk::takes(filter, &o.key[prefix.len()..]))
            .map(|o| (o.key, (o.size, o.last_modified)))
            .collect();
    let mut jobs = Vec::new();
    for file in local_tree(dir, report)?
        .into_iter()
        .filter(|f| walk::takes(filter, &f.rel))
    {
        let key = format!("{prefix}{}", file.rel);
        let there = remote.remove(&key);
        if there.is_none_or(|d| differs((file.size, file.modified), d)) {
            jobs.push(Job::Upload {
                from: file.path,
                to: to.with_key(key),
                size: file.size,
            });
        }
    }
    let extra = remote
        .into_keys()
        .filter(|k| !k.ends_with('/'))
        .map(|k| Extra::Object(to.with_key(k)))
        .collect();
    Ok((jobs, extra))
}

async fn down(
    ctx: &Ctx,
    from: &S3Url,
    dir: &Path,
    filter: &Filter,
    report: &mut Report,
) -> Result<(Vec<Job>, Vec<Extra>), Failure> {
    let objects = remote_tree(ctx, from).await?;
    let mut local: BTreeMap<PathBuf, (u64, Option<SystemTime>)> = if dir.exists() {
        local_tree(dir, report)?
            .into_iter()
            .filter(|f| walk::takes(filter, &f.rel))
            .map(|f| (f.path, (f.size, f.modified)))
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut jobs = Vec::new();
    for o in objects.into_iter().filter(|o| walk::takes(filter, &o.rel)) {
        let path = match walk::local_path(dir, &o.rel) {
            Ok(path) => path,
            Err(why) => {
                report.fail(from.with_key(o.key), why);
                continue;
            }
        };
        let here = local.remove(&path);
        if here.is_none_or(|d| differs((o.size, o.modified), d)) {
            jobs.push(Job::Download {
                from: from.with_key(o.key),
                to: path,
                size: Some(o.size),
                modified: o.modified,
            });
        }
    }
    Ok((jobs, local.into_keys().map(Extra::File).collect()))
}

async fn delete(ctx: &Ctx, gone: &Extra) -> Result<(), String> {
    match gone {
        Extra::Object(url) => ctx
            .client
            .bucket(&url.bucket)
            .delete_object(&url.key)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Extra::File(path) => tokio::fs::remove_file(path)
            .await
            .map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn copies_what_is_missing_resized_or_newer() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let later = t + Duration::from_secs(1);
        assert!(!differs((5, Some(t)), (5, Some(t))));
        assert!(!differs((5, Some(t)), (5, Some(later))));
        assert!(differs((5, Some(later)), (5, Some(t))));
        assert!(differs((5, Some(t)), (6, Some(later))));
        assert!(differs((5, None), (5, Some(t))));
    }
}
