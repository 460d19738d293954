//! `Bucket::download_prefix`: every object under a prefix into a local directory, with keys
//! mapped to paths that can never leave that directory.

use super::plan::{DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE};
use super::pool::TaskPool;
use super::progress::{CancelHandle, cancelled};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::types::ListEntry;
use futures_util::TryStreamExt;
use std::path::{Component, Path, PathBuf};

/// Downloads every object under a prefix into a directory. Built by
/// [`Bucket::download_prefix`]; finish it with [`to_dir`](Self::to_dir).
///
/// Each key, with the prefix removed, becomes a relative path under the directory, `/`
/// separating directories. Keys that cannot be mapped safely are refused before anything is
/// written: an empty segment (`a//b`, a leading `/`), `.` or `..`, a NUL, a backslash, or a
/// path that would pass through a symbolic link inside the directory. Keys ending in `/`
/// (folder markers) are skipped.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::error::ErrorKind::InvalidInput) naming the first key that
/// cannot be mapped (nothing is written then); otherwise the first error of a file's download
/// (see [`Download`](super::Download)).
///
/// # Cancel safety
///
/// Dropping the future stops the downloads; files already complete stay, none is left
/// half-written.
#[derive(Debug)]
#[must_use = "a download does nothing until given a directory and awaited"]
pub struct DownloadPrefix {
    bucket: Bucket,
    prefix: String,
    concurrency: usize,
    part_size: u64,
    cancel: CancelHandle,
    // issue 11 part B: request payer
    request_payer: bool,
}

/// What a directory download returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadPrefixOutput {
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
}

impl Bucket {
    /// Starts a download of every object under `prefix` (an empty prefix means the whole
    /// bucket).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let out = bucket.download_prefix("photos/2024/").to_dir("./photos").await?;
    /// println!("{} files", out.files);
    /// # Ok(()) }
    /// ```
    pub fn download_prefix(&self, prefix: impl Into<String>) -> DownloadPrefix {
        DownloadPrefix {
            bucket: self.clone(),
            prefix: prefix.into(),
            concurrency: DEFAULT_CONCURRENCY,
            part_size: DEFAULT_PART_SIZE,
            cancel: CancelHandle::default(),
            request_payer: false,
        }
    }
}

/// The relative path for `key` under `prefix`, or why there is none.
///
/// `Ok(None)` for the prefix itself and for folder markers (keys ending in `/`), once the
/// marker passed the same checks as a file key (`p/../` is refused, not skipped).
pub(crate) fn key_to_relative_path(prefix: &str, key: &str) -> Result<Option<PathBuf>> {
    let refuse = |why: &str| {
        Err(Error::invalid_input(format!(
            "key {key:?} cannot be a file under the target directory: {why}"
        )))
    };
    let Some(rest) = key.strip_prefix(prefix) else {
        return refuse("it is not under the prefix");
    };
    if rest.is_empty() {
        return Ok(None);
    }
    // A folder marker is checked like a file key, then skipped.
    let (rest, marker) = match rest.strip_suffix('/') {
        Some(dir) => (dir, true),
        None => (rest, false),
    };
    if rest.contains('\0') {
        return refuse("it holds a NUL");
    }
    if rest.contains('\\') {
        return refuse("it holds a backslash");
    }
    let mut path = PathBuf::new();
    for seg in rest.split('/') {
        match seg {
            "" => return refuse("it has an empty path segment (a leading or doubled '/')"),
            "." | ".." => return refuse("it has a '.' or '..' segment"),
            s => {
                // A segment must stay one plain component on this platform (no drive prefix,
                // no root).
                let mut comps = Path::new(s).components();
                match (comps.next(), comps.next()) {
                    (Some(Component::Normal(_)), None) => path.push(s),
                    _ => return refuse("a segment is not a plain file name here"),
                }
            }
        }
    }
    Ok((!marker).then_some(path))
}

/// Fails if any existing directory on the way from `root` to `relative`'s parent is a
/// symbolic link (it could lead outside the root).
async fn check_no_links(root: &Path, relative: &Path) -> Result<()> {
    let mut cur = root.to_path_buf();
    let parents: Vec<_> = relative
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    for c in parents {
        cur.push(c);
        match tokio::fs::symlink_metadata(&cur).await {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::invalid_input(format!(
                    "{} is a symbolic link inside the target directory",
                    cur.display()
                )));
            }
            _ => {}
        }
    }
    // The file itself: a link there would be replaced by the rename, not followed, but refuse
    // it all the same so nothing surprising happens.
    let file = root.join(relative);
    if let Ok(m) = tokio::fs::symlink_metadata(&file).await
        && m.file_type().is_symlink()
    {
        return Err(Error::invalid_input(format!(
            "{} is a symbolic link inside the target directory",
            file.display()
        )));
    }
    Ok(())
}

impl DownloadPrefix {
    /// How many files download at once (default 8; each also uses ranged parallelism).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The range size of each file's download (default 8 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// A handle that cancels this download.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Downloads into `dir` (created if missing).
    ///
    /// # Errors
    ///
    /// See [`DownloadPrefix`].
    pub async fn to_dir(self, dir: impl AsRef<Path>) -> Result<DownloadPrefixOutput> {
        let ctx = |e: Error| e.with_context("DownloadPrefix", Some(self.bucket.name()), None);
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(ctx(cancelled())),
            r = self.run(dir.as_ref()) => r.map_err(ctx),
        }
    }

    async fn run(&self, dir: &Path) -> Result<DownloadPrefixOutput> {
        // Map every key first: one bad key refuses the whole download before any write.
        let mut jobs = Vec::new();
        let mut list = self.bucket.list_objects().prefix(self.prefix.clone());
        if self.request_payer {
            list = list.request_payer();
        }
        let mut entries = list.into_stream();
        while let Some(entry) = entries.try_next().await? {
            if let ListEntry::Object(o) = entry
                && let Some(rel) = key_to_relative_path(&self.prefix, &o.key)?
            {
                jobs.push((String::from(o.key), rel));
            }
        }
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        for (_, rel) in &jobs {
            check_no_links(dir, rel).await?;
        }
        let mut pool = TaskPool::new(self.concurrency, &self.cancel, "a file download stopped");
        for (key, rel) in jobs {
            let slot = pool.slot().await?;
            let path = dir.join(&rel);
            let mut download = self
                .bucket
                .download(key)
                .part_size(self.part_size)
                .concurrency(4);
            if self.request_payer {
                download = download.request_payer();
            }
            pool.spawn(slot, async move {
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
                }
                download.to_path(&path).await.map(|d| d.size)
            });
        }
        let sizes = pool.join_all().await?;
        Ok(DownloadPrefixOutput {
            files: sizes.len(),
            bytes: sizes.iter().sum(),
        })
    }

    // issue 11 part B: request payer
    /// Agrees to pay for the listing and every download on a Requester Pays bucket
    /// (`x-amz-request-payer: requester`).
    pub fn request_payer(mut self) -> Self {
        self.request_payer = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// TEST-PLAN D10 (the mapping)
    #[test]
    fn hostile_keys_are_refused() {
        for key in [
            "p/../../x",
            "p//abs",
            "p/a/../../x",
            "p/..",
            "p/.",
            "p/a\0b",
            "p/a\\..\\x",
            "q/x",
            // Folder markers are checked before they are skipped.
            "p/../",
            "p/a/../",
            "p/./",
            "p//",
            "p/a\\b/",
        ] {
            let r = key_to_relative_path("p/", key);
            let err = r.expect_err(key);
            assert_eq!(
                err.kind(),
                crate::ErrorKind::InvalidInput,
                "{key:?}: {err:?}"
            );
        }
        // The prefix itself and directory markers are skipped, not files.
        assert_eq!(key_to_relative_path("p/", "p/").unwrap(), None);
        assert_eq!(key_to_relative_path("p/", "p/sub/").unwrap(), None);
        assert_eq!(
            key_to_relative_path("p/", "p/a/b c.txt").unwrap(),
            Some(PathBuf::from("a").join("b c.txt"))
        );
        assert_eq!(key_to_relative_path("", "dir/").unwrap(), None);
    }

    proptest! {
        /// Whatever the key, a mapped path is relative and made of plain components only.
        #[test]
        fn mapped_paths_never_escape(key in "\\PC{0,40}") {
            if let Ok(Some(p)) = key_to_relative_path("", &key) {
                prop_assert!(p.is_relative());
                prop_assert!(p.components().all(|c| matches!(c, Component::Normal(_))));
            }
        }
    }
}
