//! Parallel downloads under faults the scripted server produces: a range that stalls after its
//! head, a server that ignores `Range`, a download that fails midway or at the final rename.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind};
use std::path::Path;
use std::time::{Duration, Instant};
use support::fault::{FaultServer, Recorded, Reply, parse_range, serve_range};

const MIB: usize = 1 << 20;
const SIZE: usize = 10 * MIB;

fn object() -> Vec<u8> {
    (0..SIZE).map(|i| (i % 251) as u8).collect()
}

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server)
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap()
}

/// The start of the range a request asked for.
fn start_of(r: &Recorded) -> Option<usize> {
    parse_range(r.header("range"), SIZE).map(|(s, _)| s)
}

/// How many requests asked for a range starting at `start`.
fn tries_of(reqs: &[Recorded], start: usize) -> usize {
    reqs.iter().filter(|r| start_of(r) == Some(start)).count()
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// TEST-PLAN D3: range 3 of a parallel download sends its head and then nothing: the idle
/// timeout (200 ms) fires, range 3 alone is fetched again (pinned with If-Match), the output is
/// exact, and the whole download takes far less than the stall (60 s; the stalled task is
/// dropped when the test's runtime shuts down).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_stalling_after_its_head_is_fetched_again() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, all| {
        let first_try = tries_of(all, 3 * MIB) == 1;
        match serve_range(&obj, Some("\"v1\""), r) {
            Reply::Http {
                status,
                headers,
                body,
            } if start_of(r) == Some(3 * MIB) && first_try => Reply::StallAfter {
                status,
                headers,
                body,
                send: 0,
                stall: Duration::from_secs(60),
            },
            other => other,
        }
    })
    .await;
    let started = Instant::now();
    let got = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .concurrency(4)
        .to_bytes()
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(got == object(), "the output is exact");
    assert!(
        took >= Duration::from_millis(200),
        "the stall was waited out: {took:?}"
    );
    // Generous for a loaded machine, yet far below the 60 s a missing idle timeout would wait.
    assert!(
        took < Duration::from_secs(15),
        "bounded by the idle timeout: {took:?}"
    );
    let reqs = server.requests();
    assert_eq!(tries_of(&reqs, 3 * MIB), 2, "range 3 was fetched again");
    for start in (0..SIZE).step_by(MIB).filter(|s| *s != 3 * MIB) {
        assert_eq!(tries_of(&reqs, start), 1, "range at {start} fetched once");
    }
    assert_eq!(reqs.len(), 11);
    let again = reqs
        .iter()
        .filter(|r| start_of(r) == Some(3 * MIB))
        .nth(1)
        .unwrap();
    assert_eq!(again.header("if-match"), Some("\"v1\""));
    assert_eq!(again.header("range"), Some("bytes=3145728-4194303"));
}

/// A whole-object 200 for every GET, as from a server that ignores `Range`.
fn whole(obj: &[u8]) -> Reply {
    Reply::new(200, "application/octet-stream", obj.to_vec()).header("etag", "\"v1\"")
}

/// TEST-PLAN D6: a server that ignores `Range` and answers 200 with the whole object, on
/// every request or only on the pinned ones after the first: the download is refused with
/// `InvalidResponse` (refusing, rather than falling back to one whole-object read, is the chosen
/// behaviour); nothing is written, in memory or on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ignoring_range_never_gets_the_whole_object_written_as_a_part() {
    let obj = object();
    let always = FaultServer::with_handler({
        let obj = obj.clone();
        move |_, _| whole(&obj)
    })
    .await;
    let after_first = FaultServer::with_handler({
        let obj = obj.clone();
        move |r, _| match r.header("if-match") {
            None => serve_range(&obj, Some("\"v1\""), r),
            Some(_) => whole(&obj),
        }
    })
    .await;
    // The first server is caught at discovery (one GET per download); the second once the
    // pinned ranges come back whole (discovery plus at least one more GET).
    for (server, one_get) in [(&always, true), (&after_first, false)] {
        let download = || {
            client(server)
                .bucket("bkt")
                .download("k")
                .part_size(MIB as u64)
                .concurrency(4)
        };
        let gets = |before: usize| {
            let n = server.requests().len() - before;
            assert!(if one_get { n == 1 } else { n >= 2 }, "{n} GETs");
            server.requests().len()
        };
        let err = download().to_bytes().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
        let seen = gets(0);
        let dir = tempfile::tempdir().unwrap();
        let err = download()
            .to_path(dir.path().join("out"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
        assert!(
            names_in(dir.path()).is_empty(),
            "{:?}",
            names_in(dir.path())
        );
        let seen = gets(seen);
        let mut out = Vec::new();
        let err = download().to_writer(&mut out).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
        assert!(
            out.len() < SIZE,
            "never the whole object: {} bytes",
            out.len()
        );
        gets(seen);
        assert!(
            server
                .requests()
                .iter()
                .all(|r| r.header("range").is_some()),
            "every GET asked for a range"
        );
    }
}

/// TEST-PLAN D11 (failing midway): range 6 of 10 is refused (403) while others are written:
/// the error comes back, the temporary file is removed and the existing destination keeps
/// its old content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_failing_midway_leaves_the_destination_untouched() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, _| {
        if start_of(r) == Some(6 * MIB) {
            Reply::s3_error(403, "AccessDenied")
        } else {
            serve_range(&obj, Some("\"v1\""), r)
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    std::fs::write(&dest, b"the old content").unwrap();
    let err = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .concurrency(2)
        .to_path(&dest)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"the old content");
    assert_eq!(
        names_in(dir.path()),
        ["out.bin"],
        "the temporary file is gone"
    );
    // Some ranges were fetched (and written) before the failure.
    assert!(server.requests().len() > 2);
}

/// TEST-PLAN D11 (the final write fails): the destination is an existing directory, so the
/// rename of the finished temporary file fails: an `Io` error, the temporary file is removed,
/// the directory and its content are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rename_removes_the_temporary_file() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, _| serve_range(&obj, Some("\"v1\""), r)).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("inside"), b"kept").unwrap();
    let err = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .to_path(&dest)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err:?}");
    assert!(err.to_string().contains("cannot move"), "{err}");
    // Every range was written into the temporary file before the rename failed.
    assert_eq!(server.requests().len(), 10);
    assert_eq!(
        names_in(dir.path()),
        ["out.bin"],
        "the temporary file is gone"
    );
    assert_eq!(names_in(&dest), ["inside"]);
    assert_eq!(std::fs::read(dest.join("inside")).unwrap(), b"kept");
}
