//! The bucket side of a sync: the objects under a prefix as relative paths (every key mapped
//! the way `download_prefix` maps it, so none can escape the directory), and the content
//! check of [`Compare::Content`](super::plan::Compare::Content).

use super::super::dir::key_to_relative_path;
use super::super::glob::Filters;
use super::plan::{Direction, Stat};
use crate::checksum::{ChecksumAlgorithm, ChecksumType, Hasher};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::types::ListEntry;
use futures_util::TryStreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::io::AsyncReadExt;

/// Lists `prefix` (ending in `/` or empty) into relative paths that pass `filters`.
///
/// Downloading, every key must map to a path under the directory (a hostile key refuses the
/// sync). Uploading, no path is ever made from a key: the prefix is removed and only folder
/// markers are skipped, so a local name with a backslash (legal on Unix) finds its object and
/// a key with `//` is merely an object no file matches.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the first key that
/// cannot be a file under the directory (downloads only); listing errors.
pub(crate) async fn list(
    bucket: &Bucket,
    prefix: &str,
    filters: &Filters,
    way: Direction,
) -> Result<BTreeMap<String, Stat>> {
    let mut out = BTreeMap::new();
    let mut entries = bucket.list_objects().prefix(prefix).into_stream();
    while let Some(entry) = entries.try_next().await? {
        let ListEntry::Object(o) = entry else {
            continue;
        };
        let Some(rest) = o.key.strip_prefix(prefix) else {
            continue;
        };
        match way {
            // Checked for every key, filtered or not: a hostile key is refused, not skipped.
            Direction::Down if key_to_relative_path(prefix, &o.key)?.is_none() => continue,
            Direction::Up if rest.is_empty() || rest.ends_with('/') => continue,
            _ => {}
        }
        let rel = rest.to_owned();
        if filters.accepts(&rel) {
            out.insert(
                rel,
                Stat {
                    size: o.size,
                    modified: o.last_modified,
                },
            );
        }
    }
    Ok(out)
}

/// Whether the object `key` holds the same bytes as the file at `path` (same size known).
///
/// Asks for the stored checksum (HEAD with checksum mode). A full-object checksum of any
/// algorithm (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256) is compared with the file's, computed
/// with that algorithm; a composite one (of the parts) is not used. Otherwise the ETag: a
/// single upload's is the MD5 of the bytes, a multipart upload's (`…-N`) the MD5 of the
/// parts' MD5s, compared when the file cut into `part_size` parts makes `N` parts. Anything
/// else (an SSE-KMS or SSE-C object's ETag, which is not an MD5; a multipart ETag of another
/// part size) counts as different, so the file is copied.
pub(crate) async fn same_content(
    bucket: &Bucket,
    key: &str,
    path: PathBuf,
    part_size: u64,
) -> Result<bool> {
    let meta = bucket.head_object(key).include_checksum().await?;
    if let Some((alg, stored)) = &meta.checksum
        && *alg != ChecksumAlgorithm::ContentMd5
        && meta.checksum_type != Some(ChecksumType::Composite)
        && !stored.contains('-')
    {
        let local = hash_file(path, *alg, None).await?;
        return Ok(&local.0 == stored);
    }
    let Some(etag) = meta
        .etag
        .as_deref()
        .map(|e| e.trim_matches('"').to_ascii_lowercase())
    else {
        return Ok(false);
    };
    let parts = match etag.split_once('-') {
        None => None,
        Some((_, n)) => match n.parse::<u64>() {
            Ok(n) if n == meta.size.div_ceil(part_size.max(1)) => Some(part_size.max(1)),
            _ => return Ok(false),
        },
    };
    let (whole, part_md5s) = hash_file(path, ChecksumAlgorithm::ContentMd5, parts).await?;
    let local = match parts {
        None => hex_of(&whole),
        Some(_) => {
            let mut h = Hasher::new(ChecksumAlgorithm::ContentMd5);
            for p in &part_md5s {
                h.update(p);
            }
            format!("{}-{}", hex_of(&h.finish()), part_md5s.len())
        }
    };
    Ok(local == etag)
}

/// The hex form of a digest in S3's base64 form.
fn hex_of(b64: &str) -> String {
    crate::base64::decode(b64)
        .map(hex::encode)
        .unwrap_or_default()
}

/// The file's digest (S3's base64 form) and, with `parts`, each part's raw MD5.
async fn hash_file(
    path: PathBuf,
    alg: ChecksumAlgorithm,
    parts: Option<u64>,
) -> Result<(String, Vec<Vec<u8>>)> {
    let io = |e| Error::io(format!("cannot read {}", path.display()), e);
    let mut file = tokio::fs::File::open(&path).await.map_err(io)?;
    let mut whole = Hasher::new(alg);
    let mut part = parts.map(|_| Hasher::new(ChecksumAlgorithm::ContentMd5));
    let mut in_part = 0u64;
    let mut part_md5s = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        whole.update(chunk);
        if let (Some(size), Some(h)) = (parts, part.as_mut()) {
            while !chunk.is_empty() {
                let take = usize::try_from(size - in_part)
                    .unwrap_or(usize::MAX)
                    .min(chunk.len());
                h.update(&chunk[..take]);
                in_part += take as u64;
                chunk = &chunk[take..];
                if in_part == size {
                    let done = std::mem::replace(h, Hasher::new(ChecksumAlgorithm::ContentMd5));
                    part_md5s.push(crate::base64::decode(&done.finish()).unwrap_or_default());
                    in_part = 0;
                }
            }
        }
    }
    if let Some(h) = part
        && in_part > 0
    {
        part_md5s.push(crate::base64::decode(&h.finish()).unwrap_or_default());
    }
    Ok((whole.finish(), part_md5s))
}
