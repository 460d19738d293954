//! The local side of directory uploads and syncs: walking a directory into relative paths
//! (`/`-separated, UTF-8, filtered), and the checks that keep writes inside a directory.

use super::super::glob::Filters;
use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// A regular file found under the directory.
#[derive(Debug, Clone)]
pub(crate) struct LocalFile {
    /// The path relative to the directory, `/`-separated.
    pub(crate) rel: String,
    /// The full path.
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) modified: Option<SystemTime>,
}

/// What a walk found: the files (sorted by relative path) and the symbolic links skipped.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub(crate) files: Vec<LocalFile>,
    pub(crate) skipped_links: usize,
}

/// Walks `root` (which must be a directory) on a blocking thread.
///
/// Symbolic links are skipped unless `follow` (and counted); followed links that lead back
/// to a directory on their own way down are refused (a loop), while two links to one
/// directory are both walked; a dangling link is skipped and counted. A name that is not UTF-8 cannot become a key and
/// is refused, naming it.
pub(crate) async fn walk(root: PathBuf, filters: Filters, follow: bool) -> Result<Walk> {
    tokio::task::spawn_blocking(move || walk_blocking(&root, &filters, follow))
        .await
        .map_err(|e| Error::invalid_input("the directory walk stopped").with_source(e))?
}

fn walk_blocking(root: &Path, filters: &Filters, follow: bool) -> Result<Walk> {
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::invalid_input(format!("{} does not exist", root.display()))
        }
        _ => Error::io(format!("cannot read {}", root.display()), e),
    })?;
    if !meta.is_dir() {
        return Err(Error::invalid_input(format!(
            "{} is not a directory",
            root.display()
        )));
    }
    let mut out = Walk::default();
    // Each directory carries the canonical paths of the directories on its own way down (its
    // ancestors): a link back to one of them is a loop; two links to one directory (a
    // diamond) are not.
    let top: Vec<PathBuf> = std::fs::canonicalize(root).into_iter().collect();
    let mut stack = vec![(root.to_path_buf(), String::new(), top)];
    while let Some((dir, rel_dir, ancestors)) = stack.pop() {
        let read = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        for entry in read {
            let entry =
                entry.map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
            let path = entry.path();
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(Error::invalid_input(format!(
                    "{} has a name that is not UTF-8 and cannot be a key",
                    path.display()
                )));
            };
            let rel = if rel_dir.is_empty() {
                name.to_owned()
            } else {
                format!("{rel_dir}/{name}")
            };
            let io = |e| Error::io(format!("cannot read {}", path.display()), e);
            let mut meta = std::fs::symlink_metadata(&path).map_err(io)?;
            if meta.file_type().is_symlink() {
                if !follow {
                    out.skipped_links += 1;
                    continue;
                }
                match std::fs::metadata(&path) {
                    Ok(m) => meta = m,
                    // A dangling link: nothing to send, counted like an unfollowed link.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        out.skipped_links += 1;
                        continue;
                    }
                    Err(e) => return Err(io(e)),
                }
            }
            if meta.is_dir() {
                let canon = std::fs::canonicalize(&path).map_err(io)?;
                if ancestors.contains(&canon) {
                    return Err(Error::invalid_input(format!(
                        "{} leads back to a directory on its own way (a link loop)",
                        path.display()
                    )));
                }
                let mut chain = ancestors.clone();
                chain.push(canon);
                stack.push((path, rel, chain));
            } else if meta.is_file() && !is_download_temp(name) && filters.accepts(&rel) {
                out.files.push(LocalFile {
                    rel,
                    path,
                    size: meta.len(),
                    modified: meta.modified().ok(),
                });
            }
        }
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Whether `name` is a download's temporary file (`.<name>.<pid>-<n>.async-s3.part`), left
/// behind only by a killed process: never sent, never a reason to delete.
fn is_download_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".async-s3.part")
}

/// A key prefix made ready for relative paths: `""` stays empty, anything else ends in `/`.
/// A prefix with an empty, `.` or `..` segment, a NUL or a leading `/` is refused.
pub(crate) fn normalize_prefix(prefix: &str) -> Result<String> {
    if prefix.is_empty() {
        return Ok(String::new());
    }
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    if trimmed.contains('\0') || trimmed.split('/').any(|s| matches!(s, "" | "." | "..")) {
        return Err(Error::invalid_input(format!(
            "prefix {prefix:?} has an empty, '.' or '..' segment or a NUL"
        )));
    }
    Ok(format!("{trimmed}/"))
}

/// The local path of a `/`-separated relative path under `root`.
pub(crate) fn local_path(root: &Path, rel: &str) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(rel.split('/'));
    p
}

/// Fails if anything on the way from `root` to `root/rel` (the file included) is a symbolic
/// link, which could lead a write or a delete outside `root`.
pub(crate) async fn check_no_links(root: &Path, rel: &str) -> Result<()> {
    let mut cur = root.to_path_buf();
    for seg in rel.split('/') {
        cur.push(seg);
        debug_assert!(matches!(
            Path::new(seg).components().next(),
            Some(Component::Normal(_))
        ));
        if let Ok(m) = tokio::fs::symlink_metadata(&cur).await
            && m.file_type().is_symlink()
        {
            return Err(Error::invalid_input(format!(
                "{} is a symbolic link inside the target directory",
                cur.display()
            )));
        }
    }
    Ok(())
}
