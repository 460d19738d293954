//! A multipart upload that survives a crash ([`Upload::resume`]): a journal records the
//! upload id and every finished part (number, ETag, size, checksum). Run again with the same
//! journal, the upload asks the store which parts it holds (ListParts), keeps those whose
//! ETag and size match the journal and whose local bytes still hash to the recorded
//! CRC64NVME, sends only the others and completes.

use super::{PartSource, Upload, UploadOutput};
use crate::error::{Error, ErrorKind, Result};
use crate::ops::multipart::{MultipartUpload, resolve_checksum};
use crate::transfer::journal::{Journal, JournalFile, Progress};
use crate::transfer::plan::UploadPlan;
use crate::types::PartInfo;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl Upload {
    // issue 13: crash-resumable uploads
    /// Makes a multipart upload of a file or of bytes resumable after a crash, with a
    /// journal at `journal`.
    ///
    /// The journal records the upload id and each finished part's number, ETag, size,
    /// checksum and a CRC64NVME of the local bytes it was made of; it is replaced atomically
    /// after every part. The same call with the same journal after a crash, a cancel or a
    /// failure verifies the recorded parts with ListParts (a part the store does not hold with
    /// the same ETag and size is sent again; a store that lists no ETags is trusted on the
    /// size, since the completion names every part's ETag), reads every kept part again from
    /// the source and sends again those whose bytes changed (so a source of the same length
    /// and modification time but other bytes never completes a mixed object), sends the
    /// missing parts and completes; when the store no longer knows the upload,
    /// it starts a new one. On success the journal is removed.
    ///
    /// With a journal, a failure, a cancel or dropping the future does **not** abort the
    /// multipart upload: it stays open so that the next run can finish it (its parts are
    /// billed until then; abort it with [`MultipartUpload::abort`] to give up). Sources below
    /// the multipart threshold go up in one PutObject and need no journal. Streams cannot be
    /// resumed (their bytes cannot be read again).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] before anything is sent when the source is a stream, or
    /// when the journal is corrupt (cut short or edited) or belongs to another transfer
    /// (another bucket or key, a download, or a source of another size, part size or
    /// modification time); otherwise as the upload.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// // Run again after a crash: only the missing parts are sent.
    /// bucket
    ///     .upload("backups/db.tar")
    ///     .resume("db.tar.upload-journal")
    ///     .from_path("db.tar")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn resume(mut self, journal: impl Into<PathBuf>) -> Self {
        self.journal = Some(journal.into());
        self
    }

    /// A multipart upload of a source of known size, recorded in the journal at `path`.
    pub(super) async fn run_known_resumable(
        &self,
        source: PartSource,
        size: u64,
        path: &Path,
    ) -> Result<UploadOutput> {
        let plan = UploadPlan::new(size, self.part_size)?;
        let modified = match &source {
            PartSource::File(_, (_, m)) => m
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos()),
            PartSource::Bytes(_) => None,
        };
        let found = self.continue_from(path, &plan, &source, modified).await?;
        let (upload, journal) = match found {
            Some(found) => found,
            None => {
                let upload = self.create().await?;
                let checksum = resolve_checksum(self.checksum.algorithm, self.checksum_type)?;
                let j = Journal {
                    bucket: self.bucket.name().to_owned(),
                    key: self.key.clone(),
                    size,
                    part_size: plan.part_size,
                    progress: Progress::Upload {
                        upload_id: upload.upload_id().to_owned(),
                        checksum,
                        modified,
                        parts: BTreeMap::new(),
                        local: BTreeMap::new(),
                    },
                };
                (upload, j)
            }
        };
        let journal = Arc::new(JournalFile::create(path, journal).await?);
        let kept: u64 = upload.uploaded_parts().iter().map(|p| p.size).sum();
        self.tracker.add(kept, Some(size));
        let result = self.missing_parts(&upload, &source, &plan, &journal).await;
        let result = match result {
            Ok(()) => source.check_unchanged().await,
            Err(e) => Err(e),
        };
        let id = upload.upload_id().to_owned();
        result.map_err(|e| e.with_upload_id(&id))?;
        match upload.complete().await {
            Ok(done) => {
                JournalFile::remove(path).await;
                Ok(UploadOutput {
                    etag: done.etag,
                    version_id: done.version_id,
                    size,
                    parts: plan.parts,
                    upload_id: Some(id),
                    checksum: done.checksum,
                })
            }
            Err(e) => {
                // The object exists with another checksum: the upload id is spent.
                if e.kind() == ErrorKind::ChecksumMismatch {
                    JournalFile::remove(path).await;
                }
                Err(e.with_upload_id(&id))
            }
        }
    }

    /// The upload of the journal at `path`, with the parts the store still holds recorded
    /// on it, and the journal listing only those; `None` without a journal, or when the
    /// store no longer knows the upload.
    async fn continue_from(
        &self,
        path: &Path,
        plan: &UploadPlan,
        source: &PartSource,
        modified: Option<u128>,
    ) -> Result<Option<(MultipartUpload, Journal)>> {
        let Some(mut j) = JournalFile::load(path).await? else {
            return Ok(None);
        };
        j.check_identity(path, "upload", self.bucket.name(), &self.key)?;
        let Progress::Upload {
            upload_id,
            checksum,
            modified: recorded,
            parts,
            local,
        } = &mut j.progress
        else {
            return Err(Error::invalid_input("not an upload journal"));
        };
        if j.size != plan.size || j.part_size != plan.part_size || *recorded != modified {
            return Err(Error::invalid_input(format!(
                "the journal {} was written for another source (its size, part size or \
                 modification time differ)",
                path.display()
            )));
        }
        let mut upload = self
            .bucket
            .multipart_upload(self.key.clone(), upload_id.clone())
            .with_extra(&self.headers.extra);
        if let Some((alg, ty)) = *checksum {
            upload = upload.with_checksum(alg, ty);
        }
        let listed = match upload.list_parts().await {
            Ok(listed) => listed,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.with_upload_id(upload_id.clone())),
        };
        let mut kept = BTreeMap::new();
        let mut kept_local = BTreeMap::new();
        for p in listed {
            let index = p.part_number.wrapping_sub(1);
            let Some(ours) = parts.get(&p.part_number) else {
                continue;
            };
            let planned = index < plan.parts && plan.part(index).1 == ours.size;
            // A store that lists parts without their ETags (s3s-fs) is trusted on the size:
            // the completion names every part's ETag, and S3 refuses one that differs.
            let same_etag = ours.etag == p.etag || p.etag.is_empty();
            if !(planned && same_etag && (p.size == 0 || p.size == ours.size)) {
                continue;
            }
            // The source must still hold the bytes the part was made of: a source of the
            // same length and modification time may hold others (bytes have no modification
            // time; `cp -p` keeps it). A part without a recorded local hash is sent again.
            let Some(&crc) = local.get(&p.part_number) else {
                continue;
            };
            let (offset, len) = plan.part(index);
            if source.local_crc(offset, len).await? != crc {
                continue;
            }
            upload.record_part(ours.clone());
            kept.insert(p.part_number, ours.clone());
            kept_local.insert(p.part_number, crc);
        }
        *parts = kept;
        *local = kept_local;
        Ok(Some((upload, j)))
    }

    /// Sends every planned part the upload does not hold yet; each is listed in the journal
    /// once the store accepted it. On failure the part tasks are stopped, the upload is left
    /// open.
    async fn missing_parts(
        &self,
        upload: &MultipartUpload,
        source: &PartSource,
        plan: &UploadPlan,
        journal: &Arc<JournalFile>,
    ) -> Result<()> {
        let held: Vec<u32> = upload
            .uploaded_parts()
            .iter()
            .map(|p| p.part_number)
            .collect();
        let mut parts = self.pool();
        let result = async {
            for index in 0..plan.parts {
                let number = index + 1;
                if held.contains(&number) {
                    continue;
                }
                let slot = parts.slot().await?;
                let (offset, len) = plan.part(index);
                let body = source.body(offset, len).limited(self.limit.clone());
                let (upload, journal, tracker, source) = (
                    upload.clone(),
                    journal.clone(),
                    self.tracker.clone(),
                    source.clone(),
                );
                let total = plan.size;
                parts.spawn(slot, async move {
                    // Hashed before the part is sent, so a later change of the source is
                    // caught on resume (and by the modification time check at the end).
                    let crc = source.local_crc(offset, len).await?;
                    let mut part: PartInfo = upload.upload_part(number, body).await?;
                    if part.size == 0 {
                        part.size = len;
                    }
                    journal
                        .update(|p| {
                            if let Progress::Upload { parts, local, .. } = p {
                                parts.insert(number, part);
                                local.insert(number, crc);
                            }
                        })
                        .await?;
                    tracker.add(len, Some(total));
                    Ok(())
                });
            }
            parts.join_all().await.map(|_| ())
        }
        .await;
        if result.is_err() {
            parts.shutdown().await;
        }
        result
    }
}
