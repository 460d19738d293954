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
    pub(super) async fn create(dest: &Path) -> Result<Self> {
        let name = dest.file_name().ok_or_else(|| {
            Error::invalid_input(format!("{} is not a file path", dest.display()))
        })?;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        // Keep the name well under NAME_MAX (255 bytes) whatever the destination's length.
        let short: String = name.to_string_lossy().chars().take(100).collect();
        let path = dir.join(format!(
            ".{short}.{}-{unique}.async-s3.part",
            std::process::id()
        ));
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        Ok(Self {
            path,
            committed: false,
        })
    }

    pub(super) async fn open(&self) -> Result<tokio::fs::File> {
        tokio::fs::OpenOptions::new()
            .write(true)
            .open(&self.path)
            .await
            .map_err(|e| Error::io(format!("cannot open {}", self.path.display()), e))
    }

    pub(super) async fn commit(mut self, dest: &Path) -> Result<()> {
        let f = self.open().await?;
        f.sync_all()
            .await
            .map_err(|e| Error::io(format!("cannot flush {}", self.path.display()), e))?;
        tokio::fs::rename(&self.path, dest)
            .await
            .map_err(|e| Error::io(format!("cannot move the download to {}", dest.display()), e))?;
        self.committed = true;
        // Make the rename itself durable (best effort: not every platform can open a directory).
        #[cfg(unix)]
        if let Some(dir) = dest.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = tokio::fs::File::open(dir).await
        {
            let _ = d.sync_all().await;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
