//! The pure part of a sync: which files to copy, which to check by content, which to delete.
//! Both sides come in as relative paths (`/`-separated) with a size and a time.

use std::collections::BTreeMap;
use std::time::SystemTime;

/// Which way a sync copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Local directory to bucket prefix.
    Up,
    /// Bucket prefix to local directory.
    Down,
}

/// How a sync decides that a file is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compare {
    /// Same size, and the source is not newer than the destination (whole seconds). Costs
    /// nothing beyond the listing and the directory walk.
    #[default]
    SizeAndTime,
    /// Same size and same content: the file's checksum against the full-object checksum the
    /// store reports (HEAD with checksum mode; CRC32, CRC32C, CRC64NVME, SHA-1 or SHA-256,
    /// computed locally with the same algorithm), or, where none is stored (or only a
    /// composite one), its MD5 against the ETag (of a single upload, or of a multipart upload
    /// with the sync's part size). Reads every file of equal size and sends one HEAD for
    /// each. Where neither can tell, the file is copied: SSE-KMS and SSE-C objects without a
    /// stored checksum (their ETag is not an MD5) and multipart uploads made with another part
    /// size. Uploads made by a content sync carry a CRC64NVME, so the next comparison has one
    /// to check.
    Content,
}

/// Why a file is copied or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncReason {
    /// The destination has no such file.
    Missing,
    /// The sizes differ.
    Size,
    /// The source is newer than the destination.
    Newer,
    /// The content differs (with [`Compare::Content`]).
    Content,
    /// The destination has it, the source does not (with `delete`).
    Extra,
}

/// One step of a sync plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncAction {
    /// Upload the file to the key.
    Upload {
        /// The path relative to the directory, `/`-separated.
        rel: String,
        /// Its size.
        size: u64,
        /// Why.
        reason: SyncReason,
    },
    /// Download the key to the file.
    Download {
        /// The path relative to the directory, `/`-separated.
        rel: String,
        /// Its size.
        size: u64,
        /// Why.
        reason: SyncReason,
    },
    /// Delete the object (it has no local file).
    DeleteObject {
        /// The path relative to the directory, `/`-separated.
        rel: String,
    },
    /// Delete the local file (it has no object).
    DeleteFile {
        /// The path relative to the directory, `/`-separated.
        rel: String,
    },
}

impl SyncAction {
    /// The path relative to the directory, `/`-separated (the key without the prefix).
    pub fn rel(&self) -> &str {
        match self {
            SyncAction::Upload { rel, .. }
            | SyncAction::Download { rel, .. }
            | SyncAction::DeleteObject { rel }
            | SyncAction::DeleteFile { rel } => rel,
        }
    }

    /// Whether this step deletes something.
    pub fn is_delete(&self) -> bool {
        matches!(
            self,
            SyncAction::DeleteObject { .. } | SyncAction::DeleteFile { .. }
        )
    }
}

/// One side's view of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub(crate) size: u64,
    pub(crate) modified: Option<SystemTime>,
}

/// The plan before content checks: actions, files to check by content, files unchanged.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Draft {
    pub(crate) actions: Vec<SyncAction>,
    /// Same size on both sides; [`Compare::Content`] decides.
    pub(crate) check: Vec<String>,
    pub(crate) unchanged: usize,
}

fn secs(t: Option<SystemTime>) -> Option<u64> {
    t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
}

/// Compares the two sides. `source` and `dest` are keyed by relative path.
pub(crate) fn draft(
    dir: Direction,
    source: &BTreeMap<String, Stat>,
    dest: &BTreeMap<String, Stat>,
    compare: Compare,
    delete: bool,
) -> Draft {
    let mut out = Draft::default();
    let copy = |rel: &str, size, reason| match dir {
        Direction::Up => SyncAction::Upload {
            rel: rel.to_owned(),
            size,
            reason,
        },
        Direction::Down => SyncAction::Download {
            rel: rel.to_owned(),
            size,
            reason,
        },
    };
    for (rel, src) in source {
        let reason = match dest.get(rel) {
            None => Some(SyncReason::Missing),
            Some(d) if d.size != src.size => Some(SyncReason::Size),
            Some(_) if compare == Compare::Content => {
                out.check.push(rel.clone());
                continue;
            }
            // Unknown times count as newer: copying is the safe side.
            Some(d) => match (secs(src.modified), secs(d.modified)) {
                (Some(s), Some(t)) if s <= t => None,
                _ => Some(SyncReason::Newer),
            },
        };
        match reason {
            Some(r) => out.actions.push(copy(rel, src.size, r)),
            None => out.unchanged += 1,
        }
    }
    if delete {
        for rel in dest.keys().filter(|r| !source.contains_key(*r)) {
            out.actions.push(match dir {
                Direction::Up => SyncAction::DeleteObject { rel: rel.clone() },
                Direction::Down => SyncAction::DeleteFile { rel: rel.clone() },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(s: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_millis(s))
    }

    fn side(files: &[(&str, u64, u64)]) -> BTreeMap<String, Stat> {
        files
            .iter()
            .map(|(r, size, ms)| {
                (
                    (*r).to_owned(),
                    Stat {
                        size: *size,
                        modified: at(*ms),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn size_and_time() {
        let src = side(&[
            ("new", 1, 0),
            ("grown", 2, 0),
            ("newer", 1, 5_000),
            ("same_second", 1, 1_900),
            ("older", 1, 0),
        ]);
        let dst = side(&[
            ("grown", 1, 9_000),
            ("newer", 1, 4_000),
            ("same_second", 1, 1_100),
            ("older", 1, 3_000),
            ("extra", 1, 0),
        ]);
        let d = draft(Direction::Up, &src, &dst, Compare::SizeAndTime, false);
        let up = |rel: &str, size, reason| SyncAction::Upload {
            rel: rel.into(),
            size,
            reason,
        };
        assert_eq!(
            d.actions,
            vec![
                up("grown", 2, SyncReason::Size),
                up("new", 1, SyncReason::Missing),
                up("newer", 1, SyncReason::Newer),
            ]
        );
        assert_eq!(d.unchanged, 2);
        let d = draft(Direction::Down, &src, &dst, Compare::SizeAndTime, true);
        assert_eq!(
            d.actions.last(),
            Some(&SyncAction::DeleteFile {
                rel: "extra".into()
            })
        );
        assert!(matches!(d.actions[0], SyncAction::Download { .. }));
    }

    #[test]
    fn content_checks_equal_sizes_only() {
        let src = side(&[("a", 1, 0), ("b", 2, 0)]);
        let dst = side(&[("a", 1, 9_000), ("b", 3, 0)]);
        let d = draft(Direction::Up, &src, &dst, Compare::Content, false);
        assert_eq!(d.check, vec!["a".to_owned()]);
        assert_eq!(d.actions.len(), 1);
        assert_eq!(d.unchanged, 0);
    }
}
