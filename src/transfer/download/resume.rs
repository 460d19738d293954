//! A download to a path that survives a crash ([`Download::resume`]): the bytes go into a
//! partial file beside the destination, and a journal records the pinned ETag and every
//! range that is on disk. Run again with the same journal, the download fetches only the
//! ranges the journal does not list, pinned with `If-Match` to the journal's ETag; when the
//! object changed (412), it starts over.

use super::range::RangeJob;
use super::sink::Sink;
use super::{Download, DownloadOutput};
use crate::error::{Error, ErrorKind, Result};
use crate::ops::resumable::{PinnedObject, ResumableBody};
use crate::transfer::journal::{Journal, JournalFile, Progress};
use crate::transfer::plan::ranges;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncSeekExt;

impl Download {
    /// [`to_path`](Self::to_path) with a journal at `journal`.
    pub(super) async fn to_path_resumable(
        &self,
        dest: &Path,
        journal: &Path,
    ) -> Result<DownloadOutput> {
        if self.validate {
            return Err(Error::invalid_input(
                "validate_checksum cannot be combined with resume yet",
            ));
        }
        let partial = partial_path(dest)?;
        if let Some(j) = JournalFile::load(journal).await? {
            j.check_identity(journal, "download", self.bucket.name(), &self.key)?;
            let on_disk = tokio::fs::metadata(&partial).await.ok().map(|m| m.len());
            // Without the partial file (or with one of another size) nothing can be kept.
            if on_disk == Some(j.size) {
                match self.continue_from(dest, &partial, journal, j).await {
                    // The object changed since the journal was written: start over.
                    Err(e) if e.kind() == ErrorKind::ObjectChanged => {}
                    other => return other,
                }
            }
        }
        self.start_fresh(dest, &partial, journal).await
    }

    async fn start_fresh(
        &self,
        dest: &Path,
        partial: &Path,
        journal: &Path,
    ) -> Result<DownloadOutput> {
        let (d, first) = self.discover().await?;
        Self::check_pinnable(&d)?;
        let etag = d.etag.clone().ok_or_else(|| {
            Error::invalid_response("the object has no ETag, so its download cannot be resumed")
        })?;
        let file = tokio::fs::File::create(partial)
            .await
            .map_err(|e| Error::io(format!("cannot create {}", partial.display()), e))?;
        file.set_len(d.size)
            .await
            .map_err(|e| Error::io(format!("cannot size {}", partial.display()), e))?;
        drop(file);
        let j = Journal {
            bucket: self.bucket.name().to_owned(),
            key: self.key.clone(),
            size: d.size,
            part_size: self.part_size,
            progress: Progress::Download {
                etag,
                ranges: BTreeMap::new(),
            },
        };
        let file = JournalFile::create(journal, j).await?;
        let count = self.fetch(self.jobs(&d, first), partial, file).await?;
        finish(partial, dest, journal).await?;
        Ok(output(d.size, d.etag, count))
    }

    async fn continue_from(
        &self,
        dest: &Path,
        partial: &Path,
        journal: &Path,
        j: Journal,
    ) -> Result<DownloadOutput> {
        let Progress::Download { etag, ranges: done } = &j.progress else {
            return Err(Error::invalid_input("not a download journal"));
        };
        let object = PinnedObject::new(
            self.bucket.clone(),
            self.key.clone(),
            Some(etag.clone()),
            j.size,
        )
        .with_extra(self.extra.clone());
        let (size, part_size) = (j.size, j.part_size.max(1));
        let first = part_size.min(size);
        let planned = std::iter::once((0, first))
            .filter(|(_, l)| *l > 0)
            .chain(ranges(first, size, part_size));
        let mut kept = 0;
        let mut missing = Vec::new();
        for (offset, len) in planned {
            if done.get(&offset) == Some(&len) {
                kept += len;
            } else {
                missing.push((offset, len));
            }
        }
        self.tracker.add(kept, Some(size));
        let etag = Some(etag.clone());
        let jobs = missing.into_iter().map(|(offset, len)| {
            let job = RangeJob {
                object: object.clone(),
                offset,
                len,
                tracker: self.tracker.clone(),
                limit: self.limit.clone(),
            };
            (job, None)
        });
        let file = JournalFile::create(journal, j.clone()).await?;
        let count = self.fetch(jobs, partial, file).await?;
        finish(partial, dest, journal).await?;
        Ok(output(size, etag, count))
    }

    /// Fetches `jobs` into the partial file; each range is synced to disk before the journal
    /// lists it. Returns how many ranges were fetched.
    async fn fetch(
        &self,
        jobs: impl Iterator<Item = (RangeJob, Option<ResumableBody>)>,
        partial: &Path,
        journal: JournalFile,
    ) -> Result<u32> {
        let journal = Arc::new(journal);
        let mut pool = self.pool();
        let mut count = 0u32;
        for (job, first) in jobs {
            let slot = pool.slot().await?;
            let mut file = open(partial).await?;
            file.seek(std::io::SeekFrom::Start(job.offset))
                .await
                .map_err(|e| Error::io("cannot seek in the download", e))?;
            let file = file.into_std().await;
            let (journal, partial) = (journal.clone(), partial.to_owned());
            count += 1;
            pool.spawn(slot, async move {
                let (offset, len) = (job.offset, job.len);
                job.run(Sink::file(file, None), first).await?;
                sync(&partial).await?;
                journal
                    .update(|p| {
                        if let Progress::Download { ranges, .. } = p {
                            ranges.insert(offset, len);
                        }
                    })
                    .await
            });
        }
        pool.join_all().await?;
        Ok(count)
    }
}

fn output(size: u64, etag: Option<String>, ranges: u32) -> DownloadOutput {
    DownloadOutput {
        size,
        etag,
        ranges,
        checksum: None,
        checksum_verified: false,
    }
}

/// The partial file of a resumable download: `.<name>.async-s3.resume` beside `dest`.
fn partial_path(dest: &Path) -> Result<PathBuf> {
    let name = dest
        .file_name()
        .ok_or_else(|| Error::invalid_input(format!("{} is not a file path", dest.display())))?;
    let short: String = name.to_string_lossy().chars().take(100).collect();
    Ok(dest.with_file_name(format!(".{short}.async-s3.resume")))
}

async fn open(path: &Path) -> Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .await
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))
}

async fn sync(path: &Path) -> Result<()> {
    let f = open(path).await?;
    f.sync_data()
        .await
        .map_err(|e| Error::io(format!("cannot flush {}", path.display()), e))
}

/// Moves the whole partial file onto `dest` and removes the journal.
async fn finish(partial: &Path, dest: &Path, journal: &Path) -> Result<()> {
    sync(partial).await?;
    tokio::fs::rename(partial, dest)
        .await
        .map_err(|e| Error::io(format!("cannot move the download to {}", dest.display()), e))?;
    JournalFile::remove(journal).await;
    Ok(())
}
