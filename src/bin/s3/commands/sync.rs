//! `s3 sync`: a local directory <-> an S3 prefix through the library's `Bucket::sync`, which
//! plans (what is missing, differs in size or is newer at the source), copies under one budget
//! of requests, gives downloads their object's date, and deletes extras with `--delete` only
//! after every copy succeeded.

use super::ctx::Ctx;
use crate::args::Sync;
use crate::location::{Location, S3Url};
use crate::report::{Failure, Report};
use async_s3::{FileProgress, SyncAction, SyncOutput};
use std::path::{Path, PathBuf};

pub(crate) async fn run(ctx: &Ctx, args: Sync) -> Result<Report, Failure> {
    let (dir, url, up) = match (Location::parse(&args.source)?, Location::parse(&args.dest)?) {
        (Location::Local(dir), Location::S3(to)) => (dir, to, true),
        (Location::S3(from), Location::Local(dir)) => (dir, from, false),
        _ => {
            return Err(Failure::usage(
                "sync needs a local directory on one side and s3:// on the other",
            ));
        }
    };
    let bucket = ctx.client.bucket(&url.bucket);
    let mut sync = bucket
        .sync(&url.key)
        .concurrency(ctx.concurrency)
        .delete(args.delete);
    if let Some(p) = ctx.part_size {
        sync = sync.part_size(p);
    }
    for pattern in &args.filter.include {
        sync = sync.include(pattern);
    }
    for pattern in &args.filter.exclude {
        sync = sync.exclude(pattern);
    }
    if args.dryrun {
        sync = sync.dry_run();
    }
    let total = ctx.bars.total(0);
    let names = Names {
        dir: dir.clone(),
        url: url.with_key(url.dir_prefix()),
        up,
    };
    let on_file = {
        let (names, bars, quiet) = (names.clone(), ctx.bars.clone(), ctx.out.quiet());
        move |f: &FileProgress| {
            if f.finished && !quiet {
                bars.println(&names.copied(&f.path, &f.key));
            }
        }
    };
    sync = sync.on_progress(total.callback()).on_file(on_file);
    ctx.interrupt.track(sync.cancel_handle());
    let out = if up {
        sync.from_dir(&dir).await
    } else {
        sync.to_dir(&dir).await
    };
    total.finish();
    let out = out.map_err(|e| Failure::about(&names.url, &e))?;
    Ok(report(ctx, &names, &out))
}

/// How the lines name files and objects.
#[derive(Debug, Clone)]
struct Names {
    dir: PathBuf,
    /// The prefix, as a "directory" (empty or ending in `/`).
    url: S3Url,
    up: bool,
}

impl Names {
    fn path(&self, rel: &str) -> PathBuf {
        rel.split('/').fold(self.dir.clone(), |p, s| p.join(s))
    }

    fn object(&self, rel: &str) -> S3Url {
        self.url.with_key(format!("{}{rel}", self.url.key))
    }

    /// `upload: path to s3://…` or `download: s3://… to path`.
    fn copied(&self, path: &Path, key: &str) -> String {
        let object = self.url.with_key(key);
        if self.up {
            format!("upload: {} to {object}", path.display())
        } else {
            format!("download: {object} to {}", path.display())
        }
    }

    fn action(&self, action: &SyncAction) -> Option<String> {
        Some(match action {
            SyncAction::Upload { rel, .. } | SyncAction::Download { rel, .. } => {
                self.copied(&self.path(rel), &self.object(rel).key)
            }
            SyncAction::DeleteObject { rel } => format!("delete: {}", self.object(rel)),
            SyncAction::DeleteFile { rel } => format!("delete: {}", self.path(rel).display()),
            _ => return None,
        })
    }
}

/// The dry run's plan, the deletions made, and every failure.
fn report(ctx: &Ctx, names: &Names, out: &SyncOutput) -> Report {
    let mut report = Report::default();
    if out.dry_run {
        for line in out.plan.iter().filter_map(|a| names.action(a)) {
            ctx.out.data(&format!("(dryrun) {line}"));
        }
        return report;
    }
    let failed = |rel: &str| out.failed.iter().any(|f| f.key == names.object(rel).key);
    if out.deletes_skipped == 0 {
        for action in out
            .plan
            .iter()
            .filter(|a| a.is_delete() && !failed(a.rel()))
        {
            if let Some(line) = names.action(action) {
                ctx.note(&line);
            }
        }
    }
    for f in &out.failed {
        let what = if names.up {
            f.path.display().to_string()
        } else {
            names.url.with_key(f.key.clone()).to_string()
        };
        report.fail(what, &f.error);
    }
    if out.deletes_skipped > 0 {
        report.fail(
            names.url.clone(),
            format!(
                "{} deletions not made, because a copy failed",
                out.deletes_skipped
            ),
        );
    }
    report
}
