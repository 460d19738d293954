//! The journal of a resumable transfer (`Download::resume`, `Upload::resume`): what the
//! transfer is (bucket, key, size, part size, the pinned ETag or the upload id) and what of it
//! is finished (byte ranges, or parts with their ETags and checksums).
//!
//! The file is text, one record a line, values percent-encoded where they are not printable
//! ASCII, and ends with the SHA-256 of everything before it: a journal that was cut short or
//! edited is refused as corrupt instead of being trusted. Every save writes the whole journal
//! to a temporary file beside it, syncs it and renames it over the journal, so a crash leaves either the
//! old journal or the new one, never a mix.

use crate::checksum::{ChecksumAlgorithm, ChecksumType};
use crate::error::{Error, ErrorKind, Result};
use crate::types::PartInfo;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::AsyncWriteExt;

const MAGIC: &str = "async-s3-journal 1";

/// Which transfer a journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Progress {
    /// A download: the ETag every range is pinned to, and the finished ranges
    /// (offset → length).
    Download {
        etag: String,
        ranges: BTreeMap<u64, u64>,
        /// Each finished range's CRC64NVME as written to the partial file (offset → CRC).
        crcs: BTreeMap<u64, u64>,
        /// The partial file's name (absent in journals of older versions).
        partial: Option<String>,
    },
    /// An upload: the multipart upload id, the parts' checksum, the finished parts.
    Upload {
        upload_id: String,
        checksum: Option<(ChecksumAlgorithm, Option<ChecksumType>)>,
        /// The source file's modification time (ns since the epoch), when it is a file.
        modified: Option<u128>,
        parts: BTreeMap<u32, PartInfo>,
        /// Each finished part's CRC64NVME computed from the local source when it was sent,
        /// to check on resume that the source still holds the same bytes.
        local: BTreeMap<u32, u64>,
    },
}

/// The content of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Journal {
    pub(super) bucket: String,
    pub(super) key: String,
    pub(super) size: u64,
    pub(super) part_size: u64,
    pub(super) progress: Progress,
}

impl Journal {
    /// Refuses a journal written for another transfer (`what`: "download" or "upload").
    pub(super) fn check_identity(
        &self,
        path: &Path,
        what: &str,
        bucket: &str,
        key: &str,
    ) -> Result<()> {
        let kind = match self.progress {
            Progress::Download { .. } => "download",
            Progress::Upload { .. } => "upload",
        };
        if kind != what || self.bucket != bucket || self.key != key {
            return Err(Error::invalid_input(format!(
                "the journal {} belongs to another transfer (the {kind} of {:?} in bucket {:?}), \
                 not to the {what} of {key:?} in bucket {bucket:?}",
                path.display(),
                self.key,
                self.bucket
            )));
        }
        Ok(())
    }

    /// The journal as text.
    pub(super) fn encode(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{MAGIC}");
        let _ = writeln!(s, "bucket {}", escape(&self.bucket));
        let _ = writeln!(s, "key {}", escape(&self.key));
        let _ = writeln!(s, "size {}", self.size);
        let _ = writeln!(s, "part_size {}", self.part_size);
        match &self.progress {
            Progress::Download {
                etag,
                ranges,
                crcs,
                partial,
            } => {
                let _ = writeln!(s, "download {}", escape(etag));
                if let Some(name) = partial {
                    let _ = writeln!(s, "partial {}", escape(name));
                }
                for (offset, len) in ranges {
                    match crcs.get(offset) {
                        Some(crc) => {
                            let _ = writeln!(s, "range {offset} {len} {crc:016x}");
                        }
                        None => {
                            let _ = writeln!(s, "range {offset} {len}");
                        }
                    }
                }
            }
            Progress::Upload {
                upload_id,
                checksum,
                modified,
                parts,
                local,
            } => {
                let _ = writeln!(s, "upload {}", escape(upload_id));
                if let Some((alg, ty)) = checksum {
                    let ty = ty.map_or("-", |t| t.header_value());
                    let _ = writeln!(s, "checksum {} {ty}", alg.header_name());
                }
                if let Some(m) = modified {
                    let _ = writeln!(s, "modified {m}");
                }
                for p in parts.values() {
                    let sum = p
                        .checksum
                        .as_ref()
                        .map_or("-".to_owned(), |(_, v)| escape(v));
                    let _ = write!(
                        s,
                        "part {} {} {} {sum}",
                        p.part_number,
                        escape(&p.etag),
                        p.size
                    );
                    match local.get(&p.part_number) {
                        Some(crc) => {
                            let _ = writeln!(s, " {crc:016x}");
                        }
                        None => s.push('\n'),
                    }
                }
            }
        }
        let digest = hex(&Sha256::digest(s.as_bytes()));
        let _ = writeln!(s, "sha256 {digest}");
        s
    }

    /// Parses a journal; `None` for anything that is not a whole, unaltered journal.
    pub(super) fn decode(text: &str) -> Option<Journal> {
        let body_end = text.rfind("sha256 ")?;
        let (body, tail) = text.split_at(body_end);
        let digest = tail.strip_prefix("sha256 ")?.strip_suffix('\n')?;
        if digest != hex(&Sha256::digest(body.as_bytes())) {
            return None;
        }
        let mut lines = body.lines();
        if lines.next()? != MAGIC {
            return None;
        }
        let mut field = |name: &str| -> Option<String> {
            let line = lines.next()?;
            let v = line.strip_prefix(name)?.strip_prefix(' ')?;
            Some(v.to_owned())
        };
        let bucket = unescape(&field("bucket")?)?;
        let key = unescape(&field("key")?)?;
        let size = field("size")?.parse().ok()?;
        let part_size = field("part_size")?.parse().ok()?;
        let mut rest = lines.peekable();
        let first = rest.next()?;
        let progress = if let Some(etag) = first.strip_prefix("download ") {
            let partial = match rest.next_if(|l| l.starts_with("partial ")) {
                Some(line) => Some(unescape(&line["partial ".len()..])?),
                None => None,
            };
            let mut ranges = BTreeMap::new();
            let mut crcs = BTreeMap::new();
            for line in rest {
                let mut w = line.strip_prefix("range ")?.split(' ');
                let offset: u64 = w.next()?.parse().ok()?;
                let len: u64 = w.next()?.parse().ok()?;
                // The CRC64NVME (absent in journals of older versions: such a range cannot
                // be checked and is fetched again).
                if let Some(crc) = w.next() {
                    if crc.len() != 16 {
                        return None;
                    }
                    crcs.insert(offset, u64::from_str_radix(crc, 16).ok()?);
                }
                if w.next().is_some() || offset.checked_add(len)? > size {
                    return None;
                }
                ranges.insert(offset, len);
            }
            Progress::Download {
                etag: unescape(etag)?,
                ranges,
                crcs,
                partial,
            }
        } else {
            let upload_id = unescape(first.strip_prefix("upload ")?)?;
            let mut checksum = None;
            if let Some(line) = rest.next_if(|l| l.starts_with("checksum ")) {
                let mut w = line["checksum ".len()..].split(' ');
                let alg = algorithm(w.next()?)?;
                let ty = match w.next()? {
                    "-" => None,
                    t => Some(ChecksumType::parse(t)?),
                };
                checksum = Some((alg, ty));
            }
            let modified = match rest.next_if(|l| l.starts_with("modified ")) {
                Some(line) => Some(line["modified ".len()..].parse().ok()?),
                None => None,
            };
            let mut parts = BTreeMap::new();
            let mut local = BTreeMap::new();
            for line in rest {
                let mut w = line.strip_prefix("part ")?.split(' ');
                let number: u32 = w.next()?.parse().ok()?;
                let etag = unescape(w.next()?)?;
                let len: u64 = w.next()?.parse().ok()?;
                let sum = match (w.next()?, checksum) {
                    ("-", _) => None,
                    (v, Some((alg, _))) => Some((alg, unescape(v)?)),
                    (_, None) => return None,
                };
                // The local CRC64NVME (absent in journals of older versions: such a part
                // cannot be checked and is sent again).
                if let Some(crc) = w.next() {
                    if crc.len() != 16 {
                        return None;
                    }
                    local.insert(number, u64::from_str_radix(crc, 16).ok()?);
                }
                if w.next().is_some() {
                    return None;
                }
                let mut part = PartInfo::new(number, etag).with_size(len);
                part.checksum = sum;
                parts.insert(number, part);
            }
            Progress::Upload {
                upload_id,
                checksum,
                modified,
                parts,
                local,
            }
        };
        Some(Journal {
            bucket,
            key,
            size,
            part_size,
            progress,
        })
    }
}

/// A journal on disk, saved after every change.
pub(super) struct JournalFile {
    path: PathBuf,
    state: tokio::sync::Mutex<Journal>,
}

impl JournalFile {
    /// Reads the journal at `path`: `None` when there is none; an error when it cannot be
    /// read or is not a whole, unaltered journal.
    pub(super) async fn load(path: &Path) -> Result<Option<Journal>> {
        let bytes = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read the journal {}", path.display()),
                    e,
                ));
            }
        };
        let journal = std::str::from_utf8(&bytes)
            .ok()
            .and_then(Journal::decode)
            .ok_or_else(|| {
                Error::new(ErrorKind::InvalidInput).with_message(format!(
                    "the journal {} is corrupt (cut short, edited, or not a journal); \
                     remove it to start the transfer over",
                    path.display()
                ))
            })?;
        Ok(Some(journal))
    }

    /// Writes `journal` to `path` (atomically) and keeps it for further changes.
    pub(super) async fn create(path: &Path, journal: Journal) -> Result<Self> {
        save(path, &journal).await?;
        Ok(Self {
            path: path.to_owned(),
            state: tokio::sync::Mutex::new(journal),
        })
    }

    /// Records a change and saves the journal. Saves are serialized, so an older state never
    /// overwrites a newer one.
    pub(super) async fn update(&self, change: impl FnOnce(&mut Progress)) -> Result<()> {
        let mut state = self.state.lock().await;
        change(&mut state.progress);
        save(&self.path, &state).await
    }

    /// Removes the journal once the transfer succeeded.
    pub(super) async fn remove(path: &Path) {
        let _ = tokio::fs::remove_file(path).await;
    }
}

/// Writes the journal to a temporary file of its own, syncs it and renames it over `path`.
///
/// Each step is one blocking-pool call, so a save whose future is dropped (the transfer was
/// cancelled) stops after the step under way instead of running on; the temporary file is
/// then removed. Each save has its own temporary name, so a save of a stopped transfer that
/// is still finishing its step never collides with the next run's.
async fn save(path: &Path, journal: &Journal) -> Result<()> {
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let text = journal.encode();
    let mut tmp = path.as_os_str().to_owned();
    let n = SAVES.fetch_add(1, Ordering::Relaxed);
    tmp.push(format!(".{}-{n}.tmp", std::process::id()));
    let mut tmp = TempName(PathBuf::from(tmp), false);
    let err = |e| Error::io(format!("cannot write the journal {}", path.display()), e);
    let mut f = tokio::fs::File::create(&tmp.0).await.map_err(err)?;
    f.write_all(text.as_bytes()).await.map_err(err)?;
    f.sync_all().await.map_err(err)?;
    drop(f);
    tokio::fs::rename(&tmp.0, path).await.map_err(err)?;
    tmp.1 = true;
    #[cfg(unix)]
    if let Ok(d) = tokio::fs::File::open(directory_of(path)).await {
        let _ = d.sync_all().await;
    }
    Ok(())
}

/// The directory holding `path`, to sync after the rename: `.` for a bare file name.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A temporary journal, removed on drop unless it was renamed into place (`.1`).
struct TempName(PathBuf, bool);

impl Drop for TempName {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn algorithm(name: &str) -> Option<ChecksumAlgorithm> {
    use ChecksumAlgorithm::*;
    [Crc32, Crc32c, Crc64Nvme, Sha1, Sha256, ContentMd5]
        .into_iter()
        .find(|a| a.header_name() == name)
}

/// Percent-encodes everything but printable ASCII other than `%` (so no value holds a space
/// or a line break).
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.is_empty() { "%".to_owned() } else { out }
}

fn unescape(v: &str) -> Option<String> {
    if v == "%" {
        return Some(String::new());
    }
    let mut out = Vec::with_capacity(v.len());
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload() -> Journal {
        let mut parts = BTreeMap::new();
        let mut p = PartInfo::new(2, "\"e 2\"").with_size(5 << 20);
        p.checksum = Some((ChecksumAlgorithm::Crc32, "AAAA==".into()));
        parts.insert(2, p);
        Journal {
            bucket: "bkt".into(),
            key: "dir/ünï code\nkey%".into(),
            size: 11 << 20,
            part_size: 5 << 20,
            progress: Progress::Upload {
                upload_id: "UP 1".into(),
                checksum: Some((ChecksumAlgorithm::Crc32, Some(ChecksumType::FullObject))),
                modified: Some(17),
                parts,
                local: [(2, 0x0123_4567_89ab_cdef)].into_iter().collect(),
            },
        }
    }

    #[test]
    fn journals_round_trip() {
        let j = upload();
        assert_eq!(Journal::decode(&j.encode()), Some(j));
        let d = Journal {
            bucket: "b".into(),
            key: String::new(),
            size: 10,
            part_size: 4,
            progress: Progress::Download {
                etag: "\"x\"".into(),
                ranges: [(0, 4), (8, 2)].into_iter().collect(),
                crcs: [(8, 7)].into_iter().collect(),
                partial: Some(".x ü.async-s3.resume".into()),
            },
        };
        assert_eq!(Journal::decode(&d.encode()), Some(d));
    }

    #[test]
    fn the_directory_synced_is_the_journals() {
        assert_eq!(directory_of(Path::new("j.journal")), Path::new("."));
        assert_eq!(directory_of(Path::new("d/j.journal")), Path::new("d"));
        assert_eq!(directory_of(Path::new("/j.journal")), Path::new("/"));
    }

    #[test]
    fn a_cut_or_edited_journal_is_refused() {
        let text = upload().encode();
        for cut in [0, 1, text.len() / 2, text.len() - 1] {
            assert_eq!(Journal::decode(&text[..cut]), None, "cut at {cut}");
        }
        let edited = text.replacen("part 2", "part 3", 1);
        assert_ne!(edited, text);
        assert_eq!(Journal::decode(&edited), None);
    }
}
