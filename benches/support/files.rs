//! The directory workloads of the throughput bench and the peers (issue 15, item 4), against
//! the sink's virtual data sets (`benches/support/sink.rs`):
//!
//! - `dir-upload`: a local directory of [`files_count`] files of 4-64 KiB (100 a
//!   sub-directory, written once to the scratch directory, on tmpfs when there is one)
//!   uploaded under `up/`; the sink checks every file's size;
//! - `dir-download`: the [`files_count`] objects under `files/` into an empty directory,
//!   every file's size checked afterwards (outside the timed part);
//! - `list-100k`: every key under `many/` ([`many_count`], 1000-key pages), counted.
//!
//! One operation of the table is a file for the first two and a 1000-key page for the
//! listing, so "CPU us/op" reads as CPU per file and per 1000 keys. Requests in flight:
//! [`DIR_UPLOAD_IN_FLIGHT`] and [`DIR_DOWNLOAD_IN_FLIGHT`], async-s3's defaults for
//! `Bucket::upload_dir` and `Bucket::download_prefix`; every client is held to them.

use super::{BenchClient, Fut, Kind, small_body};
use crate::sink::{file_index, file_rel, file_size, files_count, many_count};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Requests in flight for `dir-upload` (async-s3's `upload_dir` default: twice the transfer
/// concurrency, 16).
pub const DIR_UPLOAD_IN_FLIGHT: usize = 16;
/// Files in flight for `dir-download` (async-s3's `download_prefix` default, 8; a small
/// file is one GET).
pub const DIR_DOWNLOAD_IN_FLIGHT: usize = 8;
/// The key prefix of `dir-upload`.
pub const UPLOAD_PREFIX: &str = "up/";
/// The prefix of the objects `dir-download` fetches.
pub const FILES_PREFIX: &str = "files/";
/// The prefix of the keys `list-100k` lists.
pub const MANY_PREFIX: &str = "many/";

/// The operations of the directory workloads. Like [`BenchClient`]'s, every call checks
/// what it got and panics on a failure.
pub trait FilesClient: Send + Sync + 'static {
    /// Uploads every file under `dir` (recursively) to `prefix` + its relative path,
    /// `/`-separated; returns how many files were sent.
    fn upload_dir(&self, dir: PathBuf, prefix: String) -> Fut<'_, u64>;
    /// Downloads every object under `prefix` into `dir` (created if missing), each key less
    /// the prefix a relative path; returns how many files were written.
    fn download_dir(&self, prefix: String, dir: PathBuf) -> Fut<'_, u64>;
    /// Lists every key under `prefix` (1000-key pages); returns how many there were.
    fn list_all(&self, prefix: String) -> Fut<'_, u64>;
}

/// The table's description of a directory workload.
pub fn describe(kind: Kind) -> String {
    match kind {
        Kind::DirUpload => format!(
            "upload_dir: {} files of 4-64 KiB, {DIR_UPLOAD_IN_FLIGHT} in flight (op = file)",
            files_count()
        ),
        Kind::DirDownload => format!(
            "download to a directory: {} objects of 4-64 KiB, {DIR_DOWNLOAD_IN_FLIGHT} in flight (op = file)",
            files_count()
        ),
        Kind::ListAll => format!("list {} keys, 1000-key pages (op = page)", many_count()),
        other => format!("{other:?}"),
    }
}

fn files_of(client: &Arc<dyn BenchClient>) -> &dyn FilesClient {
    client
        .files()
        .expect("make() returned a client without the directory workloads")
}

/// The untimed part before the clock starts: the upload source written (once) or the
/// download target emptied, then the warm-up: one small PUT (a connection open), and for
/// the listing one 1000-key page (a whole "directory": object_store lists by path segment).
pub async fn warm_up(client: &Arc<dyn BenchClient>, kind: Kind, file: &Path) {
    prepare(kind, file);
    client.put("warm".to_owned(), small_body()).await;
    if kind == Kind::ListAll {
        // many/0000/0000000 .. many/0000/0000999
        let n = files_of(client)
            .list_all(format!("{MANY_PREFIX}0000/"))
            .await;
        assert_eq!(n, 1000, "warm-up listing");
    }
}

/// The local directory `dir-upload` sends: beside the scratch `file`.
pub fn source_dir(file: &Path) -> PathBuf {
    file.parent().unwrap_or(Path::new(".")).join("files-source")
}

/// The directory `dir-download` writes into: the scratch `file` with `.dir` for `.bin`.
pub fn dest_dir(file: &Path) -> PathBuf {
    file.with_extension("dir")
}

/// Writes the upload source once (a marker file beside it says it is complete).
pub fn ensure_source(dir: &Path) {
    let done = dir.with_extension("complete");
    if done.exists() {
        return;
    }
    let data = vec![0x61u8; 64 << 10];
    for i in 0..files_count() {
        let path = dir.join(file_rel(i));
        if i % 100 == 0 {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("create source dir");
        }
        std::fs::write(path, &data[..file_size(i) as usize]).expect("write source file");
    }
    std::fs::write(done, b"").expect("marker");
}

/// Runs the timed part of `kind`; returns the operations done (files, or 1000-key pages).
pub async fn run(client: &Arc<dyn BenchClient>, kind: Kind, file: &Path) -> u64 {
    let files = files_of(client);
    match kind {
        Kind::DirUpload => {
            let n = files
                .upload_dir(source_dir(file), UPLOAD_PREFIX.to_owned())
                .await;
            assert_eq!(n, files_count(), "files uploaded");
            n
        }
        Kind::DirDownload => {
            let n = files
                .download_dir(FILES_PREFIX.to_owned(), dest_dir(file))
                .await;
            assert_eq!(n, files_count(), "files downloaded");
            n
        }
        Kind::ListAll => {
            let n = files.list_all(MANY_PREFIX.to_owned()).await;
            assert_eq!(n, many_count(), "keys listed");
            n / 1000
        }
        other => unreachable!("{other:?} is not a directory workload"),
    }
}

/// The upload source written, or the download target emptied.
fn prepare(kind: Kind, file: &Path) {
    match kind {
        Kind::DirUpload => {
            let dir = source_dir(file);
            std::fs::create_dir_all(&dir).expect("source dir");
            ensure_source(&dir);
        }
        Kind::DirDownload => {
            let _ = std::fs::remove_dir_all(dest_dir(file));
        }
        _ => {}
    }
}

/// After the timed part: every downloaded file is there with its size; then the download
/// target is removed. Nothing to do for the other kinds.
pub fn check(kind: Kind, file: &Path) {
    if kind != Kind::DirDownload {
        return;
    }
    let dir = dest_dir(file);
    let mut seen = 0u64;
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).expect("read the download dir") {
            let entry = entry.expect("entry");
            let ty = entry.file_type().expect("file type");
            if ty.is_dir() {
                stack.push(entry.path());
                continue;
            }
            let path = entry.path();
            let rel = path.strip_prefix(&dir).expect("under the dir");
            let rel = rel.to_str().expect("UTF-8 name").replace('\\', "/");
            let i = file_index(&rel).unwrap_or_else(|| panic!("unexpected file {rel}"));
            assert_eq!(rel, file_rel(i), "file name");
            let len = entry.metadata().expect("metadata").len();
            assert_eq!(len, file_size(i), "size of {rel}");
            seen += 1;
        }
    }
    assert_eq!(seen, files_count(), "files in the download dir");
    let _ = std::fs::remove_dir_all(dir);
}

/// Every regular file under `dir` as (relative `/`-separated path, absolute path), for the
/// drivers that walk the directory themselves.
pub fn walk(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).expect("read the source dir") {
            let entry = entry.expect("entry");
            let ty = entry.file_type().expect("file type");
            let path = entry.path();
            if ty.is_dir() {
                stack.push(path);
            } else if ty.is_file() {
                let rel = path.strip_prefix(dir).expect("under the dir");
                let rel = rel.to_str().expect("UTF-8 name").replace('\\', "/");
                out.push((rel, path));
            }
        }
    }
    out
}
