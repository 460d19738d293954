//! The temporary file a download to a path is written into, beside the destination: renamed
//! over it only on success, removed otherwise.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A temporary file beside the destination, removed on drop unless committed.
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    committed: bool,
}

impl TempFile {
    /// Creates the temporary file beside `dest`, `size` bytes long: one trip to the blocking
    /// pool (a download of many small files pays these trips per file).
    pub(super) async fn create(dest: &Path, size: u64) -> Result<Self> {
        let path = temp_path(dest)?;
        blocking(move || {
            let (temp, f) = Self::create_blocking(path)?;
            f.set_len(size)
                .map_err(|e| Error::io(format!("cannot size {}", temp.path.display()), e))?;
            Ok(temp)
        })
        .await
    }

    /// The file opened for writing at `offset`: one trip to the blocking pool.
    pub(super) async fn open_at(&self, offset: u64) -> Result<std::fs::File> {
        let path = self.path.clone();
        blocking(move || {
            use std::io::Seek;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
            f.seek(std::io::SeekFrom::Start(offset))
                .map_err(|e| Error::io("cannot seek in the download", e))?;
            Ok(f)
        })
        .await
    }

    /// Flushes the file to disk, renames it over `dest` and makes the rename durable: one trip
    /// to the blocking pool.
    pub(super) async fn commit(self, dest: &Path) -> Result<()> {
        let to = dest.to_path_buf();
        blocking(move || self.commit_blocking(&to)).await
    }

    /// Writes `bytes` as the whole of `dest`: a temporary file beside it, written, flushed,
    /// renamed over `dest`, the rename made durable, all in one trip to the blocking pool (a
    /// small object's download). On any error the temporary file is removed and `dest` is
    /// untouched.
    pub(super) async fn write_whole(dest: &Path, bytes: bytes::Bytes) -> Result<()> {
        let path = temp_path(dest)?;
        let to = dest.to_path_buf();
        blocking(move || {
            use std::io::Write;
            let (temp, mut f) = Self::create_blocking(path)?;
            f.write_all(&bytes)
                .map_err(|e| Error::io("cannot write the download", e))?;
            drop(f);
            temp.commit_blocking(&to)
        })
        .await
    }

    /// Creates the file at `path` (which must not exist) on the calling thread; from then on
    /// it is removed on drop unless committed.
    fn create_blocking(path: PathBuf) -> Result<(Self, std::fs::File)> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        let temp = Self {
            path,
            committed: false,
        };
        Ok((temp, f))
    }

    /// [`commit`](Self::commit) on the calling thread.
    fn commit_blocking(mut self, to: &Path) -> Result<()> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| Error::io(format!("cannot open {}", self.path.display()), e))?;
        f.sync_all()
            .map_err(|e| Error::io(format!("cannot flush {}", self.path.display()), e))?;
        drop(f);
        std::fs::rename(&self.path, to)
            .map_err(|e| Error::io(format!("cannot move the download to {}", to.display()), e))?;
        self.committed = true;
        // Make the rename itself durable (best effort: not every platform can open a
        // directory).
        #[cfg(unix)]
        if let Some(dir) = to.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The temporary file's path beside `dest`: hidden, unique to this process and moment, and
/// well under NAME_MAX (255 bytes) whatever the destination's length.
fn temp_path(dest: &Path) -> Result<PathBuf> {
    let name = dest
        .file_name()
        .ok_or_else(|| Error::invalid_input(format!("{} is not a file path", dest.display())))?;
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let short: String = name.to_string_lossy().chars().take(100).collect();
    Ok(dir.join(format!(
        ".{short}.{}-{unique}.async-s3.part",
        std::process::id()
    )))
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::io("a file task stopped", std::io::Error::other(e.to_string())))?
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
