//! `s3 cp` and `s3 mv`: local <-> s3 <-> s3, one object or a tree, through the library's
//! upload, download and copy engines.

use super::ctx::Ctx;
use super::walk::{self, LocalFile};
use crate::args::Transfer;
use crate::location::{Location, S3Url};
use crate::progress::Tracker;
use crate::report::{Failure, Report};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One object or file to move.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    Upload {
        from: PathBuf,
        to: S3Url,
        size: u64,
    },
    Download {
        from: S3Url,
        to: PathBuf,
        size: Option<u64>,
        /// The object's date, given to the file (so that a later sync sees them equal).
        modified: Option<SystemTime>,
    },
    Copy {
        from: S3Url,
        to: S3Url,
        size: Option<u64>,
    },
}

impl Job {
    fn size(&self) -> Option<u64> {
        match self {
            Job::Upload { size, .. } => Some(*size),
            Job::Download { size, .. } | Job::Copy { size, .. } => *size,
        }
    }

    fn from(&self) -> String {
        match self {
            Job::Upload { from, .. } => from.display().to_string(),
            Job::Download { from, .. } | Job::Copy { from, .. } => from.to_string(),
        }
    }

    fn to(&self) -> String {
        match self {
            Job::Download { to, .. } => to.display().to_string(),
            Job::Upload { to, .. } | Job::Copy { to, .. } => to.to_string(),
        }
    }

    fn verb(&self, moving: bool) -> &'static str {
        match (self, moving) {
            (_, true) => "move",
            (Job::Upload { .. }, false) => "upload",
            (Job::Download { .. }, false) => "download",
            (Job::Copy { .. }, false) => "copy",
        }
    }
}

pub(crate) async fn run(ctx: &Ctx, args: Transfer, moving: bool) -> Result<Report, Failure> {
    let source = Location::parse(&args.source)?;
    let dest = Location::parse(&args.dest)?;
    let mut report = Report::default();
    let jobs = if args.recursive {
        plan_tree(ctx, &source, &dest, &mut report).await?
    } else {
        vec![plan_one(source, dest, &args.dest)?]
    };
    execute(ctx, jobs, moving, &mut report).await;
    Ok(report)
}

/// The job of a single object or file.
fn plan_one(source: Location, dest: Location, dest_text: &str) -> Result<Job, Failure> {
    Ok(match (source, dest) {
        (Location::Local(from), Location::S3(mut to)) => {
            let meta = std::fs::metadata(&from)
                .map_err(|e| Failure::failed(format!("{}: {e}", from.display())))?;
            if meta.is_dir() {
                return Err(Failure::usage(format!(
                    "{} is a directory; add --recursive",
                    from.display()
                )));
            }
            if to.key.is_empty() || to.key.ends_with('/') {
                let name = from
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                to.key.push_str(name);
            }
            Job::Upload {
                from,
                to,
                size: meta.len(),
            }
        }
        (Location::S3(from), Location::Local(mut to)) => {
            if from.key.is_empty() || from.key.ends_with('/') {
                return Err(Failure::usage(format!(
                    "{from} names no object; add --recursive"
                )));
            }
            if to.is_dir()
                || dest_text.ends_with(std::path::MAIN_SEPARATOR)
                || dest_text.ends_with('/')
            {
                to.push(from.basename());
            }
            Job::Download {
                from,
                to,
                size: None,
                modified: None,
            }
        }
        (Location::S3(from), Location::S3(mut to)) => {
            if from.key.is_empty() || from.key.ends_with('/') {
                return Err(Failure::usage(format!(
                    "{from} names no object; add --recursive"
                )));
            }
            if to.key.is_empty() || to.key.ends_with('/') {
                to.key.push_str(from.basename());
            }
            Job::Copy {
                from,
                to,
                size: None,
            }
        }
        (Location::Local(_), Location::Local(_)) => {
            return Err(Failure::usage("one side must be an s3:// URL"));
        }
    })
}

/// The jobs of a tree: every file under a directory or every object under a prefix.
async fn plan_tree(
    ctx: &Ctx,
    source: &Location,
    dest: &Location,
    report: &mut Report,
) -> Result<Vec<Job>, Failure> {
    Ok(match (source, dest) {
        (Location::Local(dir), Location::S3(to)) => {
            let prefix = to.dir_prefix();
            local_tree(dir, report)?
                .into_iter()
                .map(|f| Job::Upload {
                    to: to.with_key(format!("{prefix}{}", f.rel)),
                    from: f.path,
                    size: f.size,
                })
                .collect()
        }
        (Location::S3(from), Location::Local(dir)) => {
            let mut jobs = Vec::new();
            for o in remote_tree(ctx, from).await? {
                match walk::local_path(dir, &o.rel) {
                    Ok(to) => jobs.push(Job::Download {
                        from: from.with_key(o.key),
                        to,
                        size: Some(o.size),
                        modified: o.modified,
                    }),
                    Err(why) => report.fail(from.with_key(o.key), why),
                }
            }
            jobs
        }
        (Location::S3(from), Location::S3(to)) => {
            let prefix = to.dir_prefix();
            remote_tree(ctx, from)
                .await?
                .into_iter()
                .map(|o| Job::Copy {
                    from: from.with_key(o.key),
                    to: to.with_key(format!("{prefix}{}", o.rel)),
                    size: Some(o.size),
                })
                .collect()
        }
        (Location::Local(_), Location::Local(_)) => {
            return Err(Failure::usage("one side must be an s3:// URL"));
        }
    })
}

/// The files under a local directory (which must be one).
pub(crate) fn local_tree(dir: &Path, report: &mut Report) -> Result<Vec<LocalFile>, Failure> {
    if !dir.is_dir() {
        return Err(Failure::failed(format!(
            "{}: not a directory",
            dir.display()
        )));
    }
    walk::local_files(dir, report).map_err(|e| Failure::failed(format!("{}: {e}", dir.display())))
}

/// An object under a prefix.
#[derive(Debug)]
pub(crate) struct RemoteObject {
    pub(crate) key: String,
    /// The key below the prefix.
    pub(crate) rel: String,
    pub(crate) size: u64,
    pub(crate) modified: Option<SystemTime>,
}

/// Every object under the URL's prefix; "directory" markers (keys ending in `/`) are left out.
pub(crate) async fn remote_tree(ctx: &Ctx, from: &S3Url) -> Result<Vec<RemoteObject>, Failure> {
    let prefix = from.dir_prefix();
    let objects = walk::objects(&ctx.client.bucket(&from.bucket), &prefix)
        .await
        .map_err(|e| Failure::about(from, &e))?;
    Ok(objects
        .into_iter()
        .filter(|o| !o.key.ends_with('/'))
        .map(|o| RemoteObject {
            rel: o.key[prefix.len()..].to_owned(),
            key: o.key.into(),
            size: o.size,
            modified: o.last_modified,
        })
        .collect())
}

/// Runs the jobs, `--concurrency` objects at a time, with a total bar when there are several.
pub(crate) async fn execute(ctx: &Ctx, jobs: Vec<Job>, moving: bool, report: &mut Report) {
    let total = (jobs.len() > 1).then(|| ctx.bars.total(jobs.iter().filter_map(Job::size).sum()));
    let total = total.as_ref();
    walk::each(
        jobs,
        ctx.concurrency,
        |job| async move {
            if ctx.interrupt.fired() {
                return Err((job.from(), "not started: interrupted".to_owned()));
            }
            let tracker = ctx
                .bars
                .transfer(&job.from(), job.size().unwrap_or(0), total);
            let result = one(ctx, &job, &tracker, moving).await;
            tracker.finish();
            match result {
                Ok(()) => {
                    ctx.note(&format!(
                        "{}: {} to {}",
                        job.verb(moving),
                        job.from(),
                        job.to()
                    ));
                    Ok(())
                }
                Err(why) => Err((job.from(), why)),
            }
        },
        report,
    )
    .await;
    if let Some(total) = total {
        total.finish();
    }
}

/// One job through its engine (then the source deleted, when moving).
async fn one(ctx: &Ctx, job: &Job, tracker: &Tracker, moving: bool) -> Result<(), String> {
    let c = ctx.concurrency;
    match job {
        Job::Upload { from, to, .. } => {
            let mut up = ctx.client.bucket(&to.bucket).upload(&to.key).concurrency(c);
            if let Some(p) = ctx.part_size {
                up = up.part_size(p);
            }
            ctx.interrupt.track(up.cancel_handle());
            up.on_progress(tracker.callback())
                .from_path(from)
                .await
                .map_err(|e| e.to_string())?;
            if moving {
                tokio::fs::remove_file(from)
                    .await
                    .map_err(|e| format!("copied, not removed: {e}"))?;
            }
        }
        Job::Download {
            from, to, modified, ..
        } => {
            if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            let bucket = ctx.client.bucket(&from.bucket);
            let mut down = bucket.download(&from.key).concurrency(c);
            if let Some(p) = ctx.part_size {
                down = down.part_size(p);
            }
            ctx.interrupt.track(down.cancel_handle());
            down.on_progress(tracker.callback())
                .to_path(to)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(t) = modified {
                let file = std::fs::OpenOptions::new().write(true).open(to);
                file.and_then(|f| f.set_modified(*t))
                    .map_err(|e| format!("downloaded, but its date was not set: {e}"))?;
            }
            if moving {
                delete_source(ctx, from).await?;
            }
        }
        Job::Copy { from, to, .. } => {
            let mut copy = ctx
                .client
                .bucket(&to.bucket)
                .copy(&from.key, &to.key)
                .source_bucket(&from.bucket)
                .concurrency(c);
            if let Some(p) = ctx.part_size {
                copy = copy.part_size(p);
            }
            ctx.interrupt.track(copy.cancel_handle());
            copy.on_progress(tracker.callback())
                .await
                .map_err(|e| e.to_string())?;
            if moving {
                delete_source(ctx, from).await?;
            }
        }
    }
    Ok(())
}

async fn delete_source(ctx: &Ctx, from: &S3Url) -> Result<(), String> {
    ctx.client
        .bucket(&from.bucket)
        .delete_object(&from.key)
        .await
        .map(drop)
        .map_err(|e| format!("copied, not deleted: {e}"))
}
