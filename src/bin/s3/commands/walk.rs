//! What the recursive commands walk: local trees and S3 prefixes; the key-to-path mapping; and
//! running jobs a few at a time.

use crate::report::Report;
use async_s3::{Bucket, ListEntry, ObjectInfo};
use futures_util::StreamExt;
use std::future::Future;
use std::path::{Path, PathBuf};

/// A file under a local directory.
#[derive(Debug, Clone)]
pub(crate) struct LocalFile {
    pub(crate) path: PathBuf,
    /// The path below the root, `/`-separated: the key suffix it maps to.
    pub(crate) rel: String,
    pub(crate) size: u64,
}

/// Every regular file under `root` (symbolic links followed), sorted by relative path; a
/// file whose name is not UTF-8 cannot be a key and is reported.
pub(crate) fn local_files(root: &Path, report: &mut Report) -> std::io::Result<Vec<LocalFile>> {
    let mut out = Vec::new();
    let mut dirs = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                report.fail(
                    path.display(),
                    "the name is not UTF-8, so it cannot be a key",
                );
                continue;
            };
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let meta = std::fs::metadata(&path)?;
            if meta.is_dir() {
                dirs.push((path, rel));
            } else if meta.is_file() {
                out.push(LocalFile {
                    path,
                    rel,
                    size: meta.len(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Every object under `prefix` (no delimiter), in key order.
pub(crate) async fn objects(bucket: &Bucket, prefix: &str) -> async_s3::Result<Vec<ObjectInfo>> {
    let mut list = bucket.list_objects();
    if !prefix.is_empty() {
        list = list.prefix(prefix);
    }
    let mut entries = list.into_stream();
    let mut out = Vec::new();
    while let Some(entry) = entries.next().await {
        if let ListEntry::Object(mut o) = entry? {
            // Kept until the walk ends: copy the values out of the page, so that the pages'
            // buffers are freed as the listing goes on instead of all held to the end.
            o.key = async_s3::Text::from(o.key.as_str());
            o.etag = o.etag.map(|e| async_s3::Text::from(e.as_str()));
            o.storage_class = o.storage_class.map(|c| async_s3::Text::from(c.as_str()));
            out.push(o);
        }
    }
    Ok(out)
}

/// The local path of the key suffix `rel` under `root`, or why it has none: a key whose
/// segments are empty, `.` or `..`, or hold a `\` or NUL would land elsewhere or nowhere.
pub(crate) fn local_path(root: &Path, rel: &str) -> Result<PathBuf, &'static str> {
    let mut path = root.to_path_buf();
    for segment in rel.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err("the key has an empty, . or .. segment, so it maps to no local path");
        }
        if segment.contains(['\\', '\0']) || (cfg!(windows) && segment.contains(':')) {
            return Err("the key has a character a local path cannot hold");
        }
        path.push(segment);
    }
    Ok(path)
}

/// Runs `job` on every item, `n` at a time; each error (what, why) goes to the report.
pub(crate) async fn each<T, F, Fut>(items: Vec<T>, n: usize, job: F, report: &mut Report)
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), (String, String)>>,
{
    let mut running =
        futures_util::stream::iter(items.into_iter().map(job)).buffer_unordered(n.max(1));
    while let Some(result) = running.next().await {
        if let Err((what, why)) = result {
            report.fail(what, why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_inside_the_root_or_not_at_all() {
        let root = Path::new("/tmp/root");
        assert_eq!(
            local_path(root, "a/b.txt"),
            Ok(root.join("a").join("b.txt"))
        );
        for bad in ["../x", "a/../../x", "a//b", "./a", "a/", "a\\..\\b", ""] {
            assert!(local_path(root, bad).is_err(), "{bad}");
        }
    }
}
