//! A download to a path that survives a crash ([`Download::resume`]): the bytes go into a
//! partial file beside the destination, and a journal records the pinned ETag and every
//! range that is on disk with its CRC64NVME. Run again with the same journal, the download
//! re-reads the listed ranges from the partial file and fetches only those whose bytes
//! changed and those the journal does not list, pinned with `If-Match` to the journal's ETag; when the
//! object changed (412), it starts over.

use super::range::RangeJob;
use super::sink::Sink;
use super::{Download, DownloadOutput};
use crate::error::{Error, ErrorKind, Result};
use crate::ops::resumable::{PinnedObject, ResumableBody};
use crate::transfer::journal::{Journal, JournalFile, Progress};
use crate::transfer::plan::ranges;
use crate::transfer::upload_source::file_crc;
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
            if let Progress::Download {
                partial: Some(recorded),
                ..
            } = &j.progress
                && *recorded != file_name(&partial)
            {
                return Err(Error::invalid_input(format!(
                    "the journal {} belongs to the download to another destination (its \
                     partial file is {recorded:?})",
                    journal.display()
                )));
            }
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
                crcs: BTreeMap::new(),
                partial: Some(file_name(partial)),
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
        mut j: Journal,
    ) -> Result<DownloadOutput> {
        let Progress::Download {
            etag,
            ranges: done,
            crcs,
            partial: name,
        } = &mut j.progress
        else {
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
        let (mut kept_ranges, mut kept_crcs) = (BTreeMap::new(), BTreeMap::new());
        for (offset, len) in planned {
            // A range is kept only when the partial file still holds the bytes written:
            // one without a recorded CRC (an older journal) or another CRC is fetched again.
            let crc = match (done.get(&offset), crcs.get(&offset)) {
                (Some(&l), Some(&crc)) if l == len => Some(crc),
                _ => None,
            };
            match crc {
                Some(crc) if file_crc(partial, offset, len).await? == crc => {
                    kept += len;
                    kept_ranges.insert(offset, len);
                    kept_crcs.insert(offset, crc);
                }
                _ => missing.push((offset, len)),
            }
        }
        *done = kept_ranges;
        *crcs = kept_crcs;
        *name = Some(file_name(partial));
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
                // Read back from the file, so the CRC is of what is on disk.
                let crc = file_crc(&partial, offset, len).await?;
                journal
                    .update(|p| {
                        if let Progress::Download { ranges, crcs, .. } = p {
                            ranges.insert(offset, len);
                            crcs.insert(offset, crc);
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

/// The partial file of a resumable download: `.<name>.<hash>.async-s3.resume` beside
/// `dest`, the name cut to at most 100 bytes (at a character boundary) and `<hash>` the
/// first 8 hex digits of the SHA-256 of the whole name, so that long names sharing their
/// first 100 bytes get partial files of their own.
fn partial_path(dest: &Path) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let name = dest
        .file_name()
        .ok_or_else(|| Error::invalid_input(format!("{} is not a file path", dest.display())))?;
    let full = name.to_string_lossy();
    let mut cut = full.len().min(100);
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = Sha256::digest(name.as_encoded_bytes());
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    Ok(dest.with_file_name(format!(".{}.{hash}.async-s3.resume", &full[..cut])))
}

/// The file name of `path` (a partial file), as the journal records it.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_get_partial_files_of_their_own() {
        let long = |tail: &str| PathBuf::from(format!("d/{}{tail}", "é".repeat(120)));
        let (a, b) = (
            partial_path(&long("a")).unwrap(),
            partial_path(&long("b")).unwrap(),
        );
        assert_ne!(a, b);
        let name = file_name(&a);
        // 100 bytes of the name at most (50 two-byte characters), cut at a boundary.
        assert!(name.starts_with(&format!(".{}.", "é".repeat(50))), "{name}");
        assert!(name.len() <= 1 + 100 + 1 + 8 + ".async-s3.resume".len());
        assert_eq!(a.parent(), Some(Path::new("d")));
    }
}
