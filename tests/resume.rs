//! Crash-resumable transfers (issue 13 item 3) against the scripted server: a transfer broken
//! off midway is finished by a NEW client from the journal alone, sending only what is
//! missing; a corrupt or foreign journal is refused before anything is sent or written.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind, RetryConfig};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::fault::{FaultServer, Recorded, Reply, parse_range, serve_range};

const PART: usize = 64 * 1024;

/// A client that tries each request once, so a broken connection ends the transfer.
fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server)
        .retry(RetryConfig::with_max_attempts(1))
        .build()
        .unwrap()
}

/// Six ranges of 64 KiB, the last one short.
fn object(seed: u8) -> Vec<u8> {
    (0..5 * PART + 1000)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn sha(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}

/// Serves `obj` with `etag` (412 for another `If-Match`); while `broken` is set, the
/// connection is closed on any range starting at 3 × 64 KiB.
fn ranged(
    obj: Vec<u8>,
    etag: &'static str,
    broken: Arc<AtomicBool>,
) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static {
    move |r, _| {
        if r.header("if-match").is_some_and(|m| m != etag) {
            return Reply::s3_error(412, "PreconditionFailed");
        }
        let start = parse_range(r.header("range"), obj.len()).map(|(s, _)| s);
        if broken.load(Ordering::SeqCst) && start == Some(3 * PART) {
            return Reply::Close;
        }
        serve_range(&obj, Some(etag), r)
    }
}

fn ranges_asked(server: &FaultServer) -> Vec<(String, Option<String>)> {
    server
        .requests()
        .iter()
        .map(|r| {
            (
                r.header("range").unwrap_or("-").to_owned(),
                r.header("if-match").map(str::to_owned),
            )
        })
        .collect()
}

fn range(i: usize, len: usize) -> String {
    format!("bytes={}-{}", i * PART, i * PART + len - 1)
}

/// The offsets of the ranges a download journal lists.
fn journal_ranges(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("range ")?.split(' ').next()?.parse().ok())
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Breaks a download at range 3 (concurrency 1: ranges 0-2 are on disk and in the journal).
async fn broken_download(dir: &Path) -> FaultServer {
    let broken = Arc::new(AtomicBool::new(true));
    let server = FaultServer::with_handler(ranged(object(0), "\"v1\"", broken)).await;
    let err = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(PART as u64)
        .concurrency(1)
        .resume(dir.join("out.journal"))
        .to_path(dir.join("out.bin"))
        .await
        .unwrap_err();
    assert_ne!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    let left = names(dir);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left[0].starts_with(".out.bin.") && left[0].ends_with(".async-s3.resume"),
        "the partial file stays: {left:?}"
    );
    assert_eq!(left[1], "out.journal", "the journal stays");
    server
}

/// The partial file a broken download left in `dir`.
fn partial_file(dir: &Path) -> std::path::PathBuf {
    dir.join(&names(dir)[0])
}

/// A finished range whose bytes changed in the partial file is fetched again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_download_refetches_a_kept_range_whose_bytes_changed() {
    let dir = tempfile::tempdir().unwrap();
    broken_download(dir.path()).await;
    let journaled = journal_ranges(&dir.path().join("out.journal"));
    assert!(journaled.contains(&(PART as u64)));
    let partial = partial_file(dir.path());
    let mut bytes = std::fs::read(&partial).unwrap();
    bytes[PART + 5] ^= 0xff;
    std::fs::write(&partial, &bytes).unwrap();

    let server = FaultServer::with_handler(ranged(
        object(0),
        "\"v1\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    client(&server)
        .bucket("bkt")
        .download("k")
        .concurrency(1)
        .resume(dir.path().join("out.journal"))
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap();
    let asked: Vec<String> = ranges_asked(&server).into_iter().map(|(r, _)| r).collect();
    let mut missing = vec![range(1, PART)];
    missing.extend(
        [(3, PART), (4, PART), (5, 1000)]
            .into_iter()
            .filter(|(i, _)| !journaled.contains(&((i * PART) as u64)))
            .map(|(i, len)| range(i, len)),
    );
    assert_eq!(asked, missing);
    let got = std::fs::read(dir.path().join("out.bin")).unwrap();
    assert_eq!(sha(&got), sha(&object(0)));
}

/// A download journal names its partial file: used for another destination, it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_journal_for_another_destination_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    broken_download(dir.path()).await;
    let server = FaultServer::with_handler(ranged(
        object(0),
        "\"v1\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    let err = client(&server)
        .bucket("bkt")
        .download("k")
        .resume(dir.path().join("out.journal"))
        .to_path(dir.path().join("other.bin"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(server.requests().is_empty());
    assert!(!dir.path().join("other.bin").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_download_fetches_only_the_missing_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let first = broken_download(dir.path()).await;
    let asked: Vec<String> = ranges_asked(&first).into_iter().map(|(r, _)| r).collect();
    // Range 4 may have been started before the failure of range 3 was seen.
    assert_eq!(asked[..4], [0, 1, 2, 3].map(|i| range(i, PART)));
    let journaled = journal_ranges(&dir.path().join("out.journal"));
    assert_eq!(journaled[..3], [0, PART as u64, 2 * PART as u64]);
    assert!(!journaled.contains(&(3 * PART as u64)));

    // A new client, a healthy server: only the journal carries over.
    let server = FaultServer::with_handler(ranged(
        object(0),
        "\"v1\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .concurrency(1)
        .resume(dir.path().join("out.journal"))
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap();
    // Exactly the ranges the journal does not list, pinned to the journal's ETag.
    let v1 = Some("\"v1\"".to_owned());
    let missing: Vec<_> = [(3, PART), (4, PART), (5, 1000)]
        .into_iter()
        .filter(|(i, _)| !journaled.contains(&((i * PART) as u64)))
        .map(|(i, len)| (range(i, len), v1.clone()))
        .collect();
    assert_eq!(ranges_asked(&server), missing);
    assert_eq!(out.ranges as usize, missing.len());
    let got = std::fs::read(dir.path().join("out.bin")).unwrap();
    assert_eq!(sha(&got), sha(&object(0)));
    assert_eq!(
        names(dir.path()),
        ["out.bin"],
        "journal and partial file gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_object_starts_the_download_over() {
    let dir = tempfile::tempdir().unwrap();
    broken_download(dir.path()).await;
    let server = FaultServer::with_handler(ranged(
        object(7),
        "\"v2\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(PART as u64)
        .concurrency(1)
        .resume(dir.path().join("out.journal"))
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap();
    assert_eq!(out.etag.as_deref(), Some("\"v2\""));
    let asked = ranges_asked(&server);
    // The pinned range is refused (412); then the whole object again, pinned to v2.
    assert_eq!(asked[0], (range(3, PART), Some("\"v1\"".to_owned())));
    assert_eq!(asked[1], (range(0, PART), None));
    assert_eq!(asked.len(), 1 + 6);
    let got = std::fs::read(dir.path().join("out.bin")).unwrap();
    assert_eq!(sha(&got), sha(&object(7)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_or_corrupt_journal_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    broken_download(dir.path()).await;
    let journal = dir.path().join("out.journal");
    let before = names(dir.path());
    let server = FaultServer::with_handler(ranged(
        object(0),
        "\"v1\"",
        Arc::new(AtomicBool::new(false)),
    ))
    .await;
    let c = client(&server);

    // Another key.
    let err = c
        .bucket("bkt")
        .download("other")
        .resume(&journal)
        .to_path(dir.path().join("other.bin"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(
        err.to_string().contains("belongs to another transfer"),
        "{err}"
    );
    // An upload with a download's journal.
    let err = c
        .bucket("bkt")
        .upload("k")
        .multipart_threshold(0)
        .resume(&journal)
        .from_bytes(vec![0u8; 6 << 20])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");

    // Cut short.
    let text = std::fs::read(&journal).unwrap();
    std::fs::write(&journal, &text[..text.len() - 10]).unwrap();
    let err = c
        .bucket("bkt")
        .download("k")
        .resume(&journal)
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(err.to_string().contains("corrupt"), "{err}");

    assert!(server.requests().is_empty(), "nothing was sent");
    assert_eq!(names(dir.path()), before, "nothing was written");
}

const MIB: usize = 1 << 20;

fn part_number(r: &Recorded) -> Option<u32> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("partNumber=")?.parse().ok())
}

/// The parts the scripted store holds: number → (ETag, payload).
type Held = Arc<std::sync::Mutex<std::collections::BTreeMap<u32, (String, Vec<u8>)>>>;

/// A multipart store for upload `UP1` of `bkt/k` (answers as in the API reference's
/// examples); while `broken` is set, the connection is closed on part 3.
fn multipart_store(
    held: Held,
    broken: Arc<AtomicBool>,
) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static {
    move |r, _| match (r.method.as_str(), part_number(r)) {
        ("POST", _) if !r.target.contains("uploadId") => Reply::new(
            200,
            "application/xml",
            "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key>\
             <UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
        ),
        ("PUT", Some(3)) if broken.load(Ordering::SeqCst) => Reply::Close,
        ("PUT", Some(n)) => {
            let etag = format!("\"etag-{n}\"");
            held.lock().unwrap().insert(n, (etag.clone(), r.payload()));
            Reply::new(200, "text/plain", "").header("etag", &etag)
        }
        ("GET", _) => {
            let mut xml = String::from(
                "<ListPartsResult><Bucket>bkt</Bucket><Key>k</Key><UploadId>UP1</UploadId>\
                 <PartNumberMarker>0</PartNumberMarker><MaxParts>1000</MaxParts>\
                 <IsTruncated>false</IsTruncated>",
            );
            for (n, (etag, body)) in held.lock().unwrap().iter() {
                xml.push_str(&format!(
                    "<Part><PartNumber>{n}</PartNumber>\
                     <LastModified>2010-11-10T20:48:34.000Z</LastModified>\
                     <ETag>{etag}</ETag><Size>{}</Size></Part>",
                    body.len()
                ));
            }
            xml.push_str("</ListPartsResult>");
            Reply::new(200, "application/xml", xml)
        }
        ("POST", _) => Reply::new(
            200,
            "application/xml",
            "<CompleteMultipartUploadResult><Location>x</Location><Bucket>bkt</Bucket>\
             <Key>k</Key><ETag>\"done-4\"</ETag></CompleteMultipartUploadResult>",
        ),
        _ => Reply::s3_error(400, "Unexpected"),
    }
}

/// What each request was: `PUT n`, `LIST`, `COMPLETE`, `CREATE`, `ABORT`.
fn calls(reqs: &[Recorded]) -> Vec<String> {
    reqs.iter()
        .map(|r| match (r.method.as_str(), part_number(r)) {
            ("PUT", Some(n)) => format!("PUT {n}"),
            ("POST", _) if !r.target.contains("uploadId") => "CREATE".into(),
            ("POST", _) => "COMPLETE".into(),
            ("GET", _) => "LIST".into(),
            ("DELETE", _) => "ABORT".into(),
            _ => format!("{} {}", r.method, r.target),
        })
        .collect()
}

fn upload_journal_parts(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("part ")?.split(' ').next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_upload_sends_only_the_missing_parts() {
    let dir = tempfile::tempdir().unwrap();
    let source: Vec<u8> = (0..16 * MIB).map(|i| (i % 251) as u8).collect();
    let file = dir.path().join("src.bin");
    std::fs::write(&file, &source).unwrap();
    let journal = dir.path().join("up.journal");
    let held = Held::default();
    let broken = Arc::new(AtomicBool::new(true));
    let server = FaultServer::with_handler(multipart_store(held.clone(), broken.clone())).await;
    let upload = |c: &Client| {
        c.bucket("bkt")
            .upload("k")
            .part_size(5 * MIB as u64)
            .multipart_threshold(5 * MIB as u64)
            .concurrency(1)
            .resume(&journal)
    };

    let err = upload(&client(&server)).from_path(&file).await.unwrap_err();
    assert_eq!(err.upload_id(), Some("UP1"), "{err:?}");
    let first = calls(&server.requests());
    assert_eq!(first[..4], ["CREATE", "PUT 1", "PUT 2", "PUT 3"]);
    assert!(!first.contains(&"ABORT".to_owned()), "left open: {first:?}");
    let journaled = upload_journal_parts(&journal);
    assert_eq!(journaled[..2], [1, 2]);
    assert!(!journaled.contains(&3));

    // The store lost part 2 meanwhile: ListParts does not show it, so it is sent again.
    held.lock().unwrap().remove(&2);
    broken.store(false, Ordering::SeqCst);
    let before = server.requests().len();
    let out = upload(&client(&server)).from_path(&file).await.unwrap();
    assert_eq!(out.upload_id.as_deref(), Some("UP1"));
    assert_eq!(out.parts, 4);
    let mut expected = vec!["LIST".to_owned(), "PUT 2".into(), "PUT 3".into()];
    if !journaled.contains(&4) {
        expected.push("PUT 4".into());
    }
    expected.push("COMPLETE".into());
    // A part request of the first run that was already on the wire when it failed may land
    // after `before`: the second run starts at its ListParts.
    let second = calls(&server.requests()[before..]);
    let from_list = second.iter().position(|c| c == "LIST").unwrap_or(0);
    assert_eq!(second[from_list..], expected);
    // The completion lists every part with the ETag the store gave it.
    let complete = server.requests().last().unwrap().clone();
    let xml = String::from_utf8(complete.body).unwrap();
    let listed: String = (1..=4)
        .map(|n| {
            format!("<Part><PartNumber>{n}</PartNumber><ETag>&quot;etag-{n}&quot;</ETag></Part>")
        })
        .collect();
    assert!(
        xml.contains(&format!(">{listed}</CompleteMultipartUpload>")),
        "{xml}"
    );
    // The object the parts make is the source.
    let whole: Vec<u8> = held
        .lock()
        .unwrap()
        .values()
        .flat_map(|(_, b)| b.clone())
        .collect();
    assert_eq!(sha(&whole), sha(&source));
    assert!(!journal.exists(), "the journal is removed on success");
}

/// A kept part is checked against the local source: a source whose middle part changed with
/// the same length (bytes have no modification time) has that part sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_upload_resends_a_kept_part_whose_local_bytes_changed() {
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<u8> = (0..16 * MIB).map(|i| (i % 251) as u8).collect();
    let mut new = old.clone();
    new[7 * MIB] ^= 0xff; // in part 2 (5..10 MiB), same length
    let journal = dir.path().join("up.journal");
    let held = Held::default();
    let broken = Arc::new(AtomicBool::new(true));
    let server = FaultServer::with_handler(multipart_store(held.clone(), broken.clone())).await;
    let upload = |c: &Client| {
        c.bucket("bkt")
            .upload("k")
            .part_size(5 * MIB as u64)
            .multipart_threshold(5 * MIB as u64)
            .concurrency(1)
            .resume(&journal)
    };
    upload(&client(&server))
        .from_bytes(old.clone())
        .await
        .unwrap_err();
    let journaled = upload_journal_parts(&journal);
    assert_eq!(journaled[..2], [1, 2]);

    broken.store(false, Ordering::SeqCst);
    let before = server.requests().len();
    upload(&client(&server))
        .from_bytes(new.clone())
        .await
        .unwrap();
    let mut expected = vec!["LIST".to_owned(), "PUT 2".into(), "PUT 3".into()];
    if !journaled.contains(&4) {
        expected.push("PUT 4".into());
    }
    expected.push("COMPLETE".into());
    // A part request of the first run may still arrive after it returned: skip to the LIST.
    let second = calls(&server.requests()[before..]);
    let list = second.iter().position(|c| c == "LIST").unwrap();
    assert_eq!(second[list..], expected);
    let whole: Vec<u8> = held
        .lock()
        .unwrap()
        .values()
        .flat_map(|(_, b)| b.clone())
        .collect();
    assert_eq!(sha(&whole), sha(&new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_journal_for_another_source_or_a_stream_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("src.bin");
    std::fs::write(&file, vec![9u8; 11 * MIB]).unwrap();
    let journal = dir.path().join("up.journal");
    let held = Held::default();
    let server = FaultServer::with_handler(multipart_store(
        held.clone(),
        Arc::new(AtomicBool::new(true)),
    ))
    .await;
    let upload = |c: &Client| {
        c.bucket("bkt")
            .upload("k")
            .part_size(5 * MIB as u64)
            .multipart_threshold(5 * MIB as u64)
            .concurrency(1)
            .resume(&journal)
    };
    upload(&client(&server)).from_path(&file).await.unwrap_err();
    let sent = server.requests().len();
    let text = std::fs::read(&journal).unwrap();

    // The file grew meanwhile: another source.
    std::fs::write(&file, vec![9u8; 12 * MIB]).unwrap();
    let err = upload(&client(&server)).from_path(&file).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(err.to_string().contains("another source"), "{err}");
    // A stream cannot be read again, so it cannot be resumed.
    let stream = futures_util::stream::iter([Ok(bytes::Bytes::from(vec![1u8; 6 * MIB]))]);
    let err = upload(&client(&server))
        .from_stream(stream)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");

    assert_eq!(server.requests().len(), sent, "nothing was sent");
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        text,
        "the journal is untouched"
    );
}
