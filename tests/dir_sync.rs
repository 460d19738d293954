//! Directory upload and sync both ways (issue 13, items 1 and 2) against the in-process S3
//! server, and hostile listings against the scripted server.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Bucket, Compare, ErrorKind, FileProgress, SyncAction, SyncReason};
use futures_util::TryStreamExt;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use support::fault::{FaultServer, Reply};
use support::{data, env};

const MIB: usize = 1 << 20;

/// Writes the test tree under `root`: nested directories, empty files, unicode names, 210
/// small files and one file large enough for a multipart upload at 5 MiB parts. Returns
/// every file's relative path and bytes.
fn make_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut put = |rel: &str, bytes: Vec<u8>| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &bytes).unwrap();
        files.insert(rel.to_owned(), bytes);
    };
    put("top.txt", b"top".to_vec());
    put("empty", Vec::new());
    put("a/b/c/deep.bin", data(3000, 1));
    put("a/b/empty too", Vec::new());
    put("ünïcödé/ファイル 😀.txt", "héllo".as_bytes().to_vec());
    put("big/large.bin", data(6 * MIB + 7, 2));
    for i in 0..210 {
        put(&format!("many/f{i:03}.txt"), data(i * 7, i as u64 + 10));
    }
    // An empty directory holds no file and makes no key.
    std::fs::create_dir_all(root.join("nothing/here")).unwrap();
    files
}

/// Every object under `prefix`, with the prefix removed, and its bytes.
async fn objects(bucket: &Bucket, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let keys: Vec<String> = bucket
        .list_objects()
        .prefix(prefix)
        .into_stream()
        .try_filter_map(|e| async move {
            Ok(match e {
                async_s3::ListEntry::Object(o) => Some(String::from(o.key)),
                _ => None,
            })
        })
        .try_collect()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for k in keys {
        let body = bucket.get_object(&k).await.unwrap().bytes().await.unwrap();
        out.insert(k[prefix.len()..].to_owned(), body.to_vec());
    }
    out
}

/// Every file under `root` and its bytes.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_uploads_with_progress_and_a_summary() {
    let e = env("updir").await;
    let src = tempfile::tempdir().unwrap();
    let want = make_tree(src.path());
    #[cfg(unix)]
    std::os::unix::fs::symlink(src.path().join("top.txt"), src.path().join("link.txt")).unwrap();
    let total_bytes: u64 = want.values().map(|v| v.len() as u64).sum();
    let last_total = Arc::new(Mutex::new((0u64, None)));
    let finished = Arc::new(Mutex::new(Vec::new()));
    let (lt, fin) = (last_total.clone(), finished.clone());
    let out = e
        .bucket
        .upload_dir(src.path())
        .prefix("up")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .concurrency(6)
        .on_progress(move |p| *lt.lock().unwrap() = (p.transferred, p.total))
        .on_file(move |f: &FileProgress| {
            if f.finished {
                fin.lock().unwrap().push(f.key.clone());
            }
        })
        .await
        .unwrap();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!((out.files, out.bytes), (want.len(), total_bytes));
    assert_eq!(out.skipped_links, usize::from(cfg!(unix)));
    assert_eq!(objects(&e.bucket, "up/").await, want);
    assert_eq!(
        *last_total.lock().unwrap(),
        (total_bytes, Some(total_bytes))
    );
    let mut fin = finished.lock().unwrap().clone();
    fin.sort();
    let keys: Vec<String> = want.keys().map(|k| format!("up/{k}")).collect();
    assert_eq!(fin, keys);

    // Filters choose files; a pattern without '/' looks at the name at any depth.
    let out = e
        .bucket
        .upload_dir(src.path())
        .prefix("filtered/")
        .include("*.txt")
        .exclude("many/**")
        .await
        .unwrap();
    let got: Vec<String> = objects(&e.bucket, "filtered/").await.into_keys().collect();
    assert_eq!(got, ["top.txt", "ünïcödé/ファイル 😀.txt"]);
    assert_eq!(out.files, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_syncs_both_ways_and_a_second_sync_moves_nothing() {
    let e = env("syncs").await;
    let src = tempfile::tempdir().unwrap();
    let want = make_tree(src.path());
    let n = want.len();
    let up = || {
        e.bucket
            .sync("s/")
            .part_size(5 * MIB as u64)
            .multipart_threshold(5 * MIB as u64)
    };
    let out = up().from_dir(src.path()).await.unwrap();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!((out.transferred, out.unchanged, out.plan.len()), (n, 0, n));
    assert!(out.plan.iter().all(|a| matches!(
        a,
        SyncAction::Upload {
            reason: SyncReason::Missing,
            ..
        }
    )));
    assert_eq!(objects(&e.bucket, "s/").await, want);
    let again = up().from_dir(src.path()).await.unwrap();
    assert_eq!(
        (again.transferred, again.unchanged, again.plan.len()),
        (0, n, 0)
    );

    // Down into a directory that does not exist yet, then again.
    let dst = tempfile::tempdir().unwrap();
    let target = dst.path().join("copy");
    let down = || e.bucket.sync("s").part_size(5 * MIB as u64);
    let out = down().to_dir(&target).await.unwrap();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.transferred, n);
    assert_eq!(read_tree(&target), want);
    let again = down().to_dir(&target).await.unwrap();
    assert_eq!(
        (again.transferred, again.unchanged),
        (0, n),
        "{:?}",
        again.plan
    );
    // Downloaded files carry the objects' times, so syncing the copy back up sends nothing.
    let back = up().from_dir(&target).await.unwrap();
    assert_eq!(
        (back.transferred, back.unchanged),
        (0, n),
        "{:?}",
        back.plan
    );

    // By content, too: nothing differs.
    let by_content = up().compare(Compare::Content).from_dir(src.path()).await;
    assert_eq!(by_content.unwrap().transferred, 0);
    let by_content = down().compare(Compare::Content).to_dir(&target).await;
    assert_eq!(by_content.unwrap().transferred, 0);
}

/// Sets a file's modification time.
fn touch(path: &Path, t: SystemTime) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(t).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_comparison_finds_what_size_and_time_miss() {
    let e = env("content").await;
    for (prefix, checksum) in [
        ("crc/", Some(async_s3::ChecksumAlgorithm::Crc64Nvme)),
        ("etag/", None),
    ] {
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("a.txt"), b"same size one").unwrap();
        std::fs::write(src.path().join("b.txt"), b"unchanged").unwrap();
        let sync = || e.bucket.sync(prefix).checksum(checksum);
        sync().from_dir(src.path()).await.unwrap();
        // Same size, an old time: size and time cannot tell.
        let a = src.path().join("a.txt");
        std::fs::write(&a, b"same size two").unwrap();
        touch(&a, SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let by_time = sync().from_dir(src.path()).await.unwrap();
        assert_eq!(by_time.transferred, 0, "{prefix}");
        let plan = sync()
            .compare(Compare::Content)
            .dry_run()
            .from_dir(src.path())
            .await
            .unwrap();
        assert_eq!(
            plan.plan,
            [SyncAction::Upload {
                rel: "a.txt".into(),
                size: 13,
                reason: SyncReason::Content
            }],
            "{prefix}"
        );
        assert_eq!(plan.unchanged, 1);
        // The content-mode upload stores a CRC64NVME.
        let sent = e
            .bucket
            .sync(prefix)
            .compare(Compare::Content)
            .from_dir(src.path())
            .await
            .unwrap();
        assert_eq!(sent.transferred, 1);
        let meta = e
            .bucket
            .head_object(format!("{prefix}a.txt"))
            .include_checksum()
            .await
            .unwrap();
        assert_eq!(
            meta.checksum.map(|c| c.0),
            Some(async_s3::ChecksumAlgorithm::Crc64Nvme)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_is_off_by_default_and_a_dry_run_changes_nothing() {
    let e = env("deletes").await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("keep.txt"), b"keep").unwrap();
    std::fs::write(src.path().join("gone.txt"), b"gone").unwrap();
    std::fs::write(src.path().join("skip.log"), b"log").unwrap();
    e.bucket.sync("d/").from_dir(src.path()).await.unwrap();
    std::fs::remove_file(src.path().join("gone.txt")).unwrap();
    std::fs::remove_file(src.path().join("skip.log")).unwrap();
    std::fs::write(src.path().join("new.txt"), b"new").unwrap();

    // Off by default: the extra object stays.
    let out = e
        .bucket
        .sync("d/")
        .dry_run()
        .from_dir(src.path())
        .await
        .unwrap();
    assert!(out.plan.iter().all(|a| !a.is_delete()));
    // A dry run with delete: the plan, and nothing done.
    let plan = e
        .bucket
        .sync("d/")
        .delete(true)
        .exclude("*.log")
        .dry_run()
        .from_dir(src.path())
        .await
        .unwrap();
    assert!(plan.dry_run);
    assert_eq!(
        plan.plan,
        [
            SyncAction::Upload {
                rel: "new.txt".into(),
                size: 3,
                reason: SyncReason::Missing
            },
            SyncAction::DeleteObject {
                rel: "gone.txt".into()
            },
        ]
    );
    assert_eq!((plan.transferred, plan.deleted), (0, 0));
    let before: Vec<String> = objects(&e.bucket, "d/").await.into_keys().collect();
    assert_eq!(before, ["gone.txt", "keep.txt", "skip.log"]);

    // For real: excluded objects are never deleted.
    let out = e
        .bucket
        .sync("d/")
        .delete(true)
        .exclude("*.log")
        .from_dir(src.path())
        .await
        .unwrap();
    assert_eq!((out.transferred, out.deleted), (1, 1));
    let after: Vec<String> = objects(&e.bucket, "d/").await.into_keys().collect();
    assert_eq!(after, ["keep.txt", "new.txt", "skip.log"]);

    // Down: an extra local file is deleted only when asked.
    let dst = tempfile::tempdir().unwrap();
    std::fs::write(dst.path().join("local-only.txt"), b"x").unwrap();
    let out = e.bucket.sync("d/").to_dir(dst.path()).await.unwrap();
    assert_eq!((out.transferred, out.deleted), (3, 0));
    assert!(dst.path().join("local-only.txt").exists());
    let plan = e
        .bucket
        .sync("d/")
        .delete(true)
        .dry_run()
        .to_dir(dst.path())
        .await;
    assert_eq!(
        plan.unwrap().plan,
        [SyncAction::DeleteFile {
            rel: "local-only.txt".into()
        }]
    );
    assert!(dst.path().join("local-only.txt").exists());
    let out = e
        .bucket
        .sync("d/")
        .delete(true)
        .to_dir(dst.path())
        .await
        .unwrap();
    assert_eq!((out.transferred, out.deleted), (0, 1));
    assert!(!dst.path().join("local-only.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_copy_loses_no_other_file_and_blocks_every_delete() {
    let e = env("failing").await;
    for i in 0..5 {
        e.bucket
            .put_object(format!("f/ok{i}.txt"), format!("ok {i}"))
            .await
            .unwrap();
    }
    e.bucket.put_object("f/clash", "a file").await.unwrap();
    let dst = tempfile::tempdir().unwrap();
    // A directory where the object's file must go: that download fails.
    std::fs::create_dir_all(dst.path().join("clash/inside")).unwrap();
    std::fs::write(dst.path().join("extra.txt"), b"extra").unwrap();
    let out = e
        .bucket
        .sync("f/")
        .delete(true)
        .to_dir(dst.path())
        .await
        .unwrap();
    assert_eq!(out.transferred, 5);
    assert_eq!(out.failed.len(), 1, "{:?}", out.failed);
    assert_eq!(out.failed[0].key, "f/clash");
    assert_eq!((out.deleted, out.deletes_skipped), (0, 1));
    assert!(dst.path().join("extra.txt").exists());
    for i in 0..5 {
        let got = std::fs::read(dst.path().join(format!("ok{i}.txt"))).unwrap();
        assert_eq!(got, format!("ok {i}").as_bytes());
    }

    // fail_fast: the first failure is the error (the file's download, named).
    let err = e
        .bucket
        .sync("f/")
        .include("clash")
        .fail_fast()
        .to_dir(dst.path())
        .await
        .unwrap_err();
    assert_eq!(err.operation(), "Download", "{err:?}");
    assert!(err.to_string().contains("f/clash"), "{err}");
}

/// TEST-PLAN D10 (sync down): a listing with a key that would leave the directory refuses
/// the whole sync; nothing is written or deleted, only the listing was asked for.
#[tokio::test]
async fn a_hostile_key_refuses_the_sync_before_any_write_or_delete() {
    for bad in ["p/../../x", "p//abs", "p/a/../../x", "p/..", "p/a%00b"] {
        let listing = format!(
            "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
             <Contents><Key>p/fine.txt</Key><Size>4</Size></Contents>\
             <Contents><Key>{}</Key><Size>4</Size></Contents></ListBucketResult>",
            bad.replace('/', "%2F")
        );
        let server = FaultServer::with_handler(move |r, _| {
            if r.target.contains("list-type=2") {
                Reply::new(200, "application/xml", listing.clone())
            } else {
                Reply::s3_error(500, "InternalError")
            }
        })
        .await;
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("local-only.txt"), b"stay").unwrap();
        let bucket = support::fault_client_builder(&server)
            .build()
            .unwrap()
            .bucket("bkt");
        let err = bucket
            .sync("p/")
            .delete(true)
            .to_dir(root.path())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err:?}");
        assert_eq!(read_tree(root.path()).len(), 1, "{bad}");
        assert!(root.path().join("local-only.txt").exists());
        let reqs = server.requests();
        assert!(
            reqs.iter().all(|r| r.target.contains("list-type=2")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let e = env("badinput").await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a.txt"), b"a").unwrap();
    let missing = src.path().join("missing");
    let err = e.bucket.upload_dir(&missing).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    let err = e.bucket.sync("s/").from_dir(&missing).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    let file = src.path().join("a.txt");
    let err = e.bucket.upload_dir(&file).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    for prefix in ["../up", "a//b", "./x", "/abs"] {
        let err = e
            .bucket
            .upload_dir(src.path())
            .prefix(prefix)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{prefix}: {err:?}");
        let err = e
            .bucket
            .sync(prefix)
            .from_dir(src.path())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{prefix}: {err:?}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad\xff.txt");
        std::fs::write(src.path().join(name), b"x").unwrap();
        let err = e.bucket.upload_dir(src.path()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    }
    assert!(objects(&e.bucket, "").await.is_empty());
}

/// A file the store refuses is reported with its error; the other files are all sent, each in
/// one PutObject with its own bytes.
#[tokio::test]
async fn an_upload_that_fails_loses_no_other_file() {
    let server = FaultServer::with_handler(|r, _| {
        if r.target.contains("refused") {
            Reply::s3_error(403, "AccessDenied")
        } else {
            Reply::new(200, "text/plain", "").header("etag", "\"e\"")
        }
    })
    .await;
    let src = tempfile::tempdir().unwrap();
    for name in ["a.txt", "refused.txt", "b/c.txt"] {
        let p = src.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, name.as_bytes()).unwrap();
    }
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    let out = bucket.upload_dir(src.path()).prefix("p/").await.unwrap();
    assert_eq!((out.files, out.bytes), (2, 12));
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].key, "p/refused.txt");
    assert_eq!(out.failed[0].path, src.path().join("refused.txt"));
    assert_eq!(out.failed[0].error.kind(), ErrorKind::AccessDenied);
    let mut puts: Vec<(String, Vec<u8>)> = server
        .requests()
        .into_iter()
        .map(|r| {
            assert_eq!(r.method, "PUT");
            let body = r.payload();
            (r.target, body)
        })
        .collect();
    puts.sort();
    assert_eq!(
        puts,
        [
            ("/bkt/p/a.txt".to_owned(), b"a.txt".to_vec()),
            ("/bkt/p/b/c.txt".to_owned(), b"b/c.txt".to_vec()),
            ("/bkt/p/refused.txt".to_owned(), b"refused.txt".to_vec()),
        ]
    );

    // fail_fast: the refusal is the error.
    let err = bucket
        .upload_dir(src.path())
        .include("refused.txt")
        .fail_fast()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err:?}");
}

/// Review follow-up 1: in the upload direction a key is never made into a local path, so a
/// name with a backslash (legal on Unix) syncs up and a second sync sends nothing, where the
/// download mapping would refuse it.
#[cfg(unix)]
#[tokio::test]
async fn a_backslash_name_syncs_up_and_the_second_sync_sends_nothing() {
    let e = env("bslash").await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a\\b.txt"), b"back").unwrap();
    std::fs::write(src.path().join("plain.txt"), b"plain").unwrap();
    let first = e.bucket.sync("bs/").from_dir(src.path()).await.unwrap();
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(first.transferred, 2);
    let second = e.bucket.sync("bs/").from_dir(src.path()).await.unwrap();
    assert_eq!(
        (second.transferred, second.unchanged, second.plan.len()),
        (0, 2, 0),
        "{:?}",
        second.plan
    );
    // Downloading it is still refused: the key cannot be a path.
    let dst = tempfile::tempdir().unwrap();
    let err = e.bucket.sync("bs/").to_dir(dst.path()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
}

/// Review follow-up 2: a file that keeps changing while it is sent is retried once, then its
/// object is deleted and the file reported failed, so the next sync sees the object missing
/// (a stale object of the same size and an older time would pass for unchanged). A file that
/// changes only during the first attempt is sent by the retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changing_during_its_upload_is_retried_then_its_object_removed() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let e = env("changing").await;
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("moving.txt");
    std::fs::write(&file, b"same size").unwrap();
    std::fs::write(src.path().join("still.txt"), b"still").unwrap();
    for always in [true, false] {
        let prefix = if always { "always/" } else { "once/" };
        let meddle = Arc::new(AtomicBool::new(true));
        let stamp = Arc::new(AtomicU64::new(2_000_000));
        let (m, st, f) = (meddle.clone(), stamp.clone(), file.clone());
        let out = e
            .bucket
            .sync(prefix)
            .on_file(move |p: &FileProgress| {
                if !p.key.ends_with("moving.txt") || p.finished {
                    return;
                }
                let go = if always {
                    m.load(Ordering::SeqCst)
                } else {
                    m.swap(false, Ordering::SeqCst)
                };
                if go {
                    // Same size, a new time: the upload sees the file changed.
                    let t = st.fetch_add(10, Ordering::SeqCst);
                    touch(&f, SystemTime::UNIX_EPOCH + Duration::from_secs(t));
                }
            })
            .from_dir(src.path())
            .await
            .unwrap();
        meddle.store(false, Ordering::SeqCst);
        let stored = objects(&e.bucket, prefix).await;
        if always {
            assert_eq!(out.transferred, 1, "{prefix}");
            assert_eq!(out.failed.len(), 1, "{prefix}: {:?}", out.failed);
            assert_eq!(out.failed[0].key, format!("{prefix}moving.txt"));
            assert_eq!(out.failed[0].error.kind(), ErrorKind::Io);
            assert!(
                !stored.contains_key("moving.txt"),
                "{prefix}: stale object left"
            );
            // The next sync sees it missing and sends it.
            let next = e.bucket.sync(prefix).from_dir(src.path()).await.unwrap();
            assert_eq!(
                (next.transferred, next.unchanged),
                (1, 1),
                "{:?}",
                next.plan
            );
        } else {
            assert!(out.failed.is_empty(), "{prefix}: {:?}", out.failed);
            assert_eq!(out.transferred, 2, "{prefix}");
            assert_eq!(stored["moving.txt"], b"same size");
        }
        assert!(
            stamp.load(Ordering::SeqCst) > 2_000_000,
            "{prefix}: never meddled"
        );
    }
}

/// Review follow-up 3: a content check that fails (403, 404) is that file's failure, not the
/// sync's; the other checks still run and, as with any failure, nothing is deleted. Only the
/// listing and one HEAD per checked file are sent.
#[tokio::test]
async fn a_content_check_that_fails_is_one_failed_file_and_blocks_deletes() {
    let listing = "<ListBucketResult><IsTruncated>false</IsTruncated>\
         <Contents><Key>p/denied.txt</Key><Size>6</Size></Contents>\
         <Contents><Key>p/gone.txt</Key><Size>4</Size></Contents>\
         <Contents><Key>p/extra.txt</Key><Size>1</Size></Contents></ListBucketResult>";
    let server = FaultServer::with_handler(move |r, _| {
        if r.target.contains("list-type=2") {
            Reply::new(200, "application/xml", listing)
        } else if r.method == "HEAD" && r.target == "/bkt/p/denied.txt" {
            Reply::s3_error(403, "AccessDenied")
        } else if r.method == "HEAD" && r.target == "/bkt/p/gone.txt" {
            Reply::s3_error(404, "NoSuchKey")
        } else {
            Reply::s3_error(500, "InternalError")
        }
    })
    .await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("denied.txt"), b"denied").unwrap();
    std::fs::write(src.path().join("gone.txt"), b"gone").unwrap();
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    let out = bucket
        .sync("p/")
        .compare(Compare::Content)
        .delete(true)
        .from_dir(src.path())
        .await
        .unwrap();
    let mut failed: Vec<(String, ErrorKind)> = out
        .failed
        .iter()
        .map(|f| (f.key.clone(), f.error.kind()))
        .collect();
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        failed,
        [
            ("p/denied.txt".to_owned(), ErrorKind::AccessDenied),
            ("p/gone.txt".to_owned(), ErrorKind::NotFound),
        ]
    );
    assert_eq!(
        (out.transferred, out.deleted, out.deletes_skipped),
        (0, 0, 1)
    );
    let mut sent: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .filter(|(_, t)| !t.contains("list-type=2"))
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            ("HEAD".to_owned(), "/bkt/p/denied.txt".to_owned()),
            ("HEAD".to_owned(), "/bkt/p/gone.txt".to_owned()),
        ]
    );
}

/// Review follow-up 4 (and 7, partial DeleteObjects errors): a DeleteObjects request that is
/// refused as a whole makes every key of it a failed file, and a partial answer counts the
/// keys deleted and fails the others; the sync returns its output either way.
#[tokio::test]
async fn delete_objects_failures_are_counted_key_by_key() {
    for whole in [true, false] {
        let listing = "<ListBucketResult><IsTruncated>false</IsTruncated>\
             <Contents><Key>p/x.txt</Key><Size>1</Size></Contents>\
             <Contents><Key>p/y.txt</Key><Size>1</Size></Contents></ListBucketResult>";
        // The answer of the API reference's example, one key deleted and one refused.
        let partial = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Deleted><Key>p/x.txt</Key></Deleted>\
             <Error><Key>p/y.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>\
             </DeleteResult>";
        let server = FaultServer::with_handler(move |r, _| {
            if r.target.contains("list-type=2") {
                Reply::new(200, "application/xml", listing)
            } else if r.method == "POST" && whole {
                Reply::s3_error(403, "AccessDenied")
            } else if r.method == "POST" {
                Reply::new(200, "application/xml", partial)
            } else {
                Reply::s3_error(500, "InternalError")
            }
        })
        .await;
        let src = tempfile::tempdir().unwrap();
        let bucket = support::fault_client_builder(&server)
            .build()
            .unwrap()
            .bucket("bkt");
        let out = bucket
            .sync("p/")
            .delete(true)
            .from_dir(src.path())
            .await
            .unwrap();
        let failed: Vec<(String, ErrorKind)> = out
            .failed
            .iter()
            .map(|f| (f.key.clone(), f.error.kind()))
            .collect();
        if whole {
            assert_eq!(out.deleted, 0);
            assert_eq!(
                failed,
                [
                    ("p/x.txt".to_owned(), ErrorKind::AccessDenied),
                    ("p/y.txt".to_owned(), ErrorKind::AccessDenied),
                ]
            );
        } else {
            assert_eq!(out.deleted, 1);
            assert_eq!(failed, [("p/y.txt".to_owned(), ErrorKind::AccessDenied)]);
        }
        assert_eq!(
            out.failed[0].path,
            src.path()
                .join("x.txt")
                .with_file_name(out.failed[0].key.strip_prefix("p/").unwrap())
        );
        let posts: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| !r.target.contains("list-type=2"))
            .collect();
        assert_eq!(posts.len(), 1, "{whole}");
        assert_eq!(
            (posts[0].method.as_str(), posts[0].target.as_str()),
            ("POST", "/bkt?delete=")
        );
        let body = String::from_utf8(posts[0].payload()).unwrap();
        assert!(
            body.contains("<Key>p/x.txt</Key>") && body.contains("<Key>p/y.txt</Key>"),
            "{body}"
        );
    }
}

/// Review follow-up 5: the content check uses whatever full-object checksum the store
/// reports (here CRC32 and SHA-256, with ETags that are not the MD5, as for SSE-KMS), so
/// equal files are not sent again; a differing checksum (CRC32C) is sent.
#[tokio::test]
async fn content_checks_use_any_stored_full_object_checksum() {
    let listing = "<ListBucketResult><IsTruncated>false</IsTruncated>\
         <Contents><Key>p/crc32.txt</Key><Size>10</Size></Contents>\
         <Contents><Key>p/other.txt</Key><Size>10</Size></Contents>\
         <Contents><Key>p/sha.txt</Key><Size>8</Size></Contents></ListBucketResult>";
    let server = FaultServer::with_handler(move |r, _| {
        let head = |size: usize, name: &str, value: &str| {
            Reply::new(200, "text/plain", vec![0u8; size])
                .header("etag", "\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\"")
                .header(name, value)
                .header("x-amz-checksum-type", "FULL_OBJECT")
        };
        match (r.method.as_str(), r.target.as_str()) {
            (_, t) if t.contains("list-type=2") => Reply::new(200, "application/xml", listing),
            ("HEAD", "/bkt/p/crc32.txt") => head(10, "x-amz-checksum-crc32", "5UhEbw=="),
            ("HEAD", "/bkt/p/sha.txt") => head(
                8,
                "x-amz-checksum-sha256",
                "8Cg94xpIHMTBDFhyLPR0uc0DNlDlwnCD4i2Q8KQ+LI4=",
            ),
            ("HEAD", "/bkt/p/other.txt") => head(10, "x-amz-checksum-crc32c", "AAAAAA=="),
            ("PUT", _) => Reply::new(200, "text/plain", "").header("etag", "\"e\""),
            _ => Reply::s3_error(500, "InternalError"),
        }
    })
    .await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("crc32.txt"), b"crc32 file").unwrap();
    std::fs::write(src.path().join("other.txt"), b"other file").unwrap();
    std::fs::write(src.path().join("sha.txt"), b"sha file").unwrap();
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    let out = bucket
        .sync("p/")
        .compare(Compare::Content)
        .from_dir(src.path())
        .await
        .unwrap();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!((out.transferred, out.unchanged), (1, 2), "{:?}", out.plan);
    let puts: Vec<(String, Vec<u8>)> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| {
            let body = r.payload();
            (r.target, body)
        })
        .collect();
    assert_eq!(
        puts,
        [("/bkt/p/other.txt".to_owned(), b"other file".to_vec())]
    );
}

/// Review follow-ups 6 and 7: with `follow_symlinks`, two links to one directory (a diamond)
/// are both walked, since only a link back to a directory on its own way is a loop; a
/// dangling link is a counted skip. A real loop is still refused.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_links_walk_a_diamond_and_skip_a_dangling_link() {
    use std::os::unix::fs::symlink;
    let e = env("diamond").await;
    let src = tempfile::tempdir().unwrap();
    let root = src.path();
    std::fs::create_dir_all(root.join("shared")).unwrap();
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    std::fs::write(root.join("shared/f.txt"), b"f").unwrap();
    symlink(root.join("shared"), root.join("a/one")).unwrap();
    symlink(root.join("shared"), root.join("b/two")).unwrap();
    symlink(root.join("nowhere"), root.join("dangling")).unwrap();
    let out = e
        .bucket
        .upload_dir(root)
        .prefix("u/")
        .follow_symlinks(true)
        .await
        .unwrap();
    assert_eq!((out.files, out.skipped_links), (3, 1));
    let want: Vec<String> = ["a/one/f.txt", "b/two/f.txt", "shared/f.txt"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        objects(&e.bucket, "u/")
            .await
            .into_keys()
            .collect::<Vec<_>>(),
        want
    );
    let plan = e
        .bucket
        .sync("s/")
        .follow_symlinks(true)
        .dry_run()
        .from_dir(root)
        .await
        .unwrap();
    assert_eq!(plan.skipped_links, 1);
    let rels: Vec<&str> = plan.plan.iter().map(SyncAction::rel).collect();
    assert_eq!(rels, want);
    // Not followed: all three links are skipped and counted.
    let plan = e.bucket.sync("s/").dry_run().from_dir(root).await.unwrap();
    assert_eq!((plan.skipped_links, plan.plan.len()), (3, 1));
    // A link back to a directory on its own way is a loop.
    symlink(root, root.join("shared/back")).unwrap();
    let err = e
        .bucket
        .sync("s/")
        .follow_symlinks(true)
        .dry_run()
        .from_dir(root)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
}

/// Review follow-up 7: a download sync by content finds a file that size and time miss and
/// brings the object's bytes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_sync_by_content_finds_a_difference() {
    let e = env("downcontent").await;
    e.bucket
        .put_object("d/a.txt", &b"object bytes"[..])
        .await
        .unwrap();
    e.bucket.put_object("d/b.txt", &b"same"[..]).await.unwrap();
    let dst = tempfile::tempdir().unwrap();
    e.bucket.sync("d/").to_dir(dst.path()).await.unwrap();
    // Same size, a time far in the future: size and time call it unchanged.
    let a = dst.path().join("a.txt");
    std::fs::write(&a, b"local change").unwrap();
    touch(&a, SystemTime::now() + Duration::from_secs(86_400));
    let by_time = e.bucket.sync("d/").to_dir(dst.path()).await.unwrap();
    assert_eq!((by_time.transferred, by_time.unchanged), (0, 2));
    let out = e
        .bucket
        .sync("d/")
        .compare(Compare::Content)
        .to_dir(dst.path())
        .await
        .unwrap();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(
        out.plan,
        [SyncAction::Download {
            rel: "a.txt".into(),
            size: 12,
            reason: SyncReason::Content
        }]
    );
    assert_eq!((out.transferred, out.unchanged), (1, 1));
    assert_eq!(std::fs::read(&a).unwrap(), b"object bytes");
}

/// Review follow-up 7: keys that would be refused downloading (`..`, `//`, a backslash) do not
/// stop a sync up: they are objects no local file matches. Only the listing is sent.
#[tokio::test]
async fn hostile_keys_do_not_stop_a_sync_up() {
    let listing = "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
         <Contents><Key>p%2F..%2F..%2Fx</Key><Size>4</Size></Contents>\
         <Contents><Key>p%2F%2Fabs</Key><Size>4</Size></Contents>\
         <Contents><Key>p%2Fa%5Cb</Key><Size>4</Size></Contents>\
         <Contents><Key>p%2Fsub%2F</Key><Size>0</Size></Contents></ListBucketResult>";
    let server = FaultServer::with_handler(move |r, _| {
        if r.target.contains("list-type=2") {
            Reply::new(200, "application/xml", listing)
        } else {
            Reply::s3_error(500, "InternalError")
        }
    })
    .await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("fine.txt"), b"fine").unwrap();
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    let out = bucket
        .sync("p/")
        .dry_run()
        .from_dir(src.path())
        .await
        .unwrap();
    assert_eq!(
        out.plan,
        [SyncAction::Upload {
            rel: "fine.txt".into(),
            size: 4,
            reason: SyncReason::Missing
        }]
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.target.contains("list-type=2"))
    );
}

/// Review P3: `concurrency(usize::MAX)` works (the budget is clamped), a download's
/// temporary file left in the tree is not uploaded, and a part size S3 cannot take is
/// refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_settings_and_temp_files() {
    let e = env("extremes").await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a.txt"), b"a").unwrap();
    std::fs::write(src.path().join(".a.txt.77-123.async-s3.part"), b"partial").unwrap();
    let out = e
        .bucket
        .upload_dir(src.path())
        .prefix("x/")
        .concurrency(usize::MAX)
        .await
        .unwrap();
    assert_eq!(out.files, 1);
    let plan = e
        .bucket
        .sync("x/")
        .concurrency(usize::MAX)
        .compare(Compare::Content)
        .from_dir(src.path())
        .await
        .unwrap();
    assert_eq!((plan.unchanged, plan.plan.len()), (1, 0));

    let server = FaultServer::with_handler(|_, _| Reply::s3_error(500, "InternalError")).await;
    let bucket = support::fault_client_builder(&server)
        .build()
        .unwrap()
        .bucket("bkt");
    for part_size in [1, 6 << 30] {
        let err = bucket
            .upload_dir(src.path())
            .part_size(part_size)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
        let err = bucket
            .sync("p/")
            .part_size(part_size)
            .from_dir(src.path())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    }
    assert!(server.requests().is_empty());
}
