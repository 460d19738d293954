//! The transfer engine under faults, against the scripted server: failing parts, failing
//! aborts, cancellation, error documents in a 200, objects replaced mid-download, broken bodies.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind};
use std::time::Duration;
use support::fault::{FaultServer, Recorded, Reply, parse_range, serve_range};
use support::timing::{FixedJitter, RecordingSleep};

const MIB: usize = 1 << 20;

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

fn initiate() -> Reply {
    Reply::new(
        200,
        "application/xml",
        "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key><UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
    )
}

fn completed() -> Reply {
    Reply::new(
        200,
        "application/xml",
        "<CompleteMultipartUploadResult><Location>x</Location><ETag>\"done-8\"</ETag></CompleteMultipartUploadResult>",
    )
}

fn part_number(r: &Recorded) -> Option<u32> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("partNumber=")?.parse().ok())
}

/// A multipart server: `part` decides each UploadPart's answer; `complete` and `abort` the others.
fn mpu_server(
    part: impl Fn(u32, &Recorded) -> Reply + Send + Sync + 'static,
    complete: Reply,
    abort: Reply,
) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static {
    move |r, _| match (r.method.as_str(), part_number(r)) {
        ("POST", _) if r.target.contains("uploads") => initiate(),
        ("PUT", Some(n)) => part(n, r),
        ("POST", _) => complete.clone(),
        ("DELETE", _) => abort.clone(),
        _ => Reply::s3_error(400, "Unexpected"),
    }
}

/// The body of the CompleteMultipartUpload request.
fn completion_xml(reqs: &[Recorded]) -> String {
    let complete = reqs
        .iter()
        .find(|r| r.method == "POST" && r.target.contains("uploadId"))
        .expect("a completion was sent");
    String::from_utf8(complete.body.clone()).unwrap()
}

/// The part numbers of a completion list, in the order sent.
fn completed_part_numbers(xml: &str) -> Vec<u32> {
    xml.split("<PartNumber>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().parse().unwrap())
        .collect()
}

/// Downloads `k` into memory in 1 MiB ranges.
async fn download_bytes(server: &FaultServer) -> async_s3::Result<bytes::Bytes> {
    client(server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .to_bytes()
        .await
}

fn ok_part(n: u32) -> Reply {
    Reply::new(200, "text/plain", "").header("etag", &format!("\"etag-{n}\""))
}

fn count(server: &FaultServer, method: &str, needle: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method && r.target.contains(needle))
        .count()
}

fn body() -> Vec<u8> {
    vec![7u8; 8 * 5 * MIB]
}

fn upload(c: &Client) -> async_s3::Upload {
    c.bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .concurrency(4)
}

/// TEST-PLAN U2: a part that fails on every attempt: other parts stop, exactly one abort,
/// the error carries the upload id, completion is never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_part_aborts_once() {
    let server = FaultServer::with_handler(mpu_server(
        |n, _| {
            if n == 7 {
                Reply::s3_error(500, "InternalError")
            } else {
                ok_part(n)
            }
        },
        completed(),
        Reply::new(204, "text/plain", ""),
    ))
    .await;
    let err = upload(&client(&server))
        .from_bytes(body())
        .await
        .unwrap_err();
    assert_eq!(err.s3_code(), Some("InternalError"), "{err:?}");
    assert_eq!(err.upload_id(), Some("UP1"));
    assert_eq!(err.attempts(), 3, "the part was retried to the limit");
    assert_eq!(count(&server, "DELETE", "uploadId=UP1"), 1);
    assert_eq!(count(&server, "POST", "uploadId=UP1"), 0, "never completed");
    assert_eq!(count(&server, "PUT", "partNumber=7"), 3);
}

/// TEST-PLAN U3: the abort fails too: the original error comes back, with the upload id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_abort_keeps_the_original_error() {
    let server = FaultServer::with_handler(mpu_server(
        |n, _| {
            if n == 2 {
                Reply::s3_error(403, "AccessDenied")
            } else {
                ok_part(n)
            }
        },
        completed(),
        Reply::Close,
    ))
    .await;
    let err = upload(&client(&server))
        .from_bytes(body())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    assert_eq!(err.upload_id(), Some("UP1"));
    assert!(count(&server, "DELETE", "uploadId=UP1") >= 1);
}

/// TEST-PLAN U4: cancelling through the handle aborts before returning; dropping the future
/// aborts in the background.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_and_drop_abort_the_upload() {
    let slow =
        |n: u32, _: &Recorded| Reply::Delay(Duration::from_millis(400), Box::new(ok_part(n)));
    let server = FaultServer::with_handler(mpu_server(
        slow,
        completed(),
        Reply::new(204, "text/plain", ""),
    ))
    .await;
    let c = client(&server);
    let up = upload(&c);
    let cancel = up.cancel_handle();
    let task = tokio::spawn(up.from_bytes(body()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err:?}");
    assert_eq!(err.upload_id(), Some("UP1"));
    assert_eq!(count(&server, "DELETE", "uploadId=UP1"), 1);
    assert_eq!(count(&server, "POST", "uploadId=UP1"), 0);

    let server = FaultServer::with_handler(mpu_server(
        slow,
        completed(),
        Reply::new(204, "text/plain", ""),
    ))
    .await;
    let c = client(&server);
    let res = tokio::time::timeout(Duration::from_millis(100), upload(&c).from_bytes(body())).await;
    assert!(res.is_err(), "timed out, so the future was dropped");
    for _ in 0..50 {
        if count(&server, "DELETE", "uploadId=UP1") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(&server, "DELETE", "uploadId=UP1"), 1);
    // Parts 1 to 4 were in flight when the future was dropped (their bytes may still reach
    // the server); had a part task outlived the drop, parts 5 and up would follow once the
    // slow answers (400 ms) came back.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let highest = server
        .requests()
        .iter()
        .filter_map(part_number)
        .max()
        .unwrap_or(0);
    assert!(highest <= 4, "part {highest} was sent after the drop");
}

/// TEST-PLAN U5: an `<Error>` in a 200 (after whitespace) from CompleteMultipartUpload is an
/// error with its code, retried like any `InternalError` (three attempts), never success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_error_inside_a_200_is_a_retried_failure() {
    let mut doc = " ".repeat(3000).into_bytes();
    doc.extend_from_slice(b"<Error><Code>InternalError</Code><Message>late</Message></Error>");
    let server = FaultServer::with_handler(mpu_server(
        |n, _| ok_part(n),
        Reply::new(200, "application/xml", doc),
        Reply::new(204, "text/plain", ""),
    ))
    .await;
    let err = upload(&client(&server))
        .from_bytes(body())
        .await
        .unwrap_err();
    assert_eq!(err.s3_code(), Some("InternalError"), "{err:?}");
    assert_eq!(err.upload_id(), Some("UP1"), "{err:?}");
    assert_eq!(err.attempts(), 3, "{err:?}");
    assert_eq!(
        count(&server, "POST", "uploadId=UP1"),
        3,
        "Complete sent 3 times"
    );
    assert_eq!(count(&server, "DELETE", "uploadId=UP1"), 1);
}

/// TEST-PLAN U6: an empty or truncated 200 from CompleteMultipartUpload is an
/// `InvalidResponse` error, never success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_truncated_complete_answer_is_a_failure() {
    let truncated = "<CompleteMultipartUploadResult><Location>x</Location><ETag>\"done";
    for complete in ["", truncated] {
        let server = FaultServer::with_handler(mpu_server(
            |n, _| ok_part(n),
            Reply::new(200, "application/xml", complete),
            Reply::new(204, "text/plain", ""),
        ))
        .await;
        let err = upload(&client(&server))
            .from_bytes(body())
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidResponse,
            "{complete:?}: {err:?}"
        );
        assert_eq!(err.upload_id(), Some("UP1"), "{err:?}");
        assert_eq!(count(&server, "POST", "uploadId=UP1"), 1);
        assert_eq!(count(&server, "DELETE", "uploadId=UP1"), 1);
    }
}

/// TEST-PLAN U11: parts finish out of order; the completion list is sorted and complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_list_is_sorted_whatever_the_finishing_order() {
    let jitter = |n: u32, _: &Recorded| {
        let ms = u64::from((n * 37) % 5) * 30;
        Reply::Delay(Duration::from_millis(ms), Box::new(ok_part(n)))
    };
    let server = FaultServer::with_handler(mpu_server(
        jitter,
        completed(),
        Reply::new(204, "text/plain", ""),
    ))
    .await;
    let out = upload(&client(&server)).from_bytes(body()).await.unwrap();
    assert_eq!(out.parts, 8);
    assert_eq!(out.etag.as_deref(), Some("\"done-8\""));
    let reqs = server.requests();
    let xml = completion_xml(&reqs);
    assert_eq!(completed_part_numbers(&xml), (1..=8).collect::<Vec<_>>());
    for n in 1..=8 {
        assert!(xml.contains(&format!("etag-{n}")), "{xml}");
    }
}

fn object() -> Vec<u8> {
    (0..10 * MIB).map(|i| (i % 251) as u8).collect()
}

/// TEST-PLAN D7: the object changes mid-download: later ranges carry If-Match with the first
/// ETag, the 412 becomes ObjectChanged (not retried), and nothing is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_replaced_during_download_fails_cleanly() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, _| match r.header("if-match") {
        None => serve_range(&obj, Some("\"v1\""), r),
        Some(_) => Reply::s3_error(412, "PreconditionFailed"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("dest.bin");
    std::fs::write(&dest, b"previous contents").unwrap();
    let err = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .to_path(&dest)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ObjectChanged, "{err:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous contents");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp file removed"
    );
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .skip(1)
            .all(|r| r.header("if-match") == Some("\"v1\""))
    );
    let ranged_412 = reqs
        .iter()
        .filter(|r| r.header("if-match").is_some())
        .count();
    assert!(
        ranged_412 <= 8 + 1,
        "412 is not retried: {ranged_412} pinned requests"
    );
}

/// TEST-PLAN D8: no ETag on a multi-range object: refused, nothing written.
#[tokio::test]
async fn no_etag_means_no_parallel_download() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, _| serve_range(&obj, None, r)).await;
    let dir = tempfile::tempdir().unwrap();
    let err = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .to_path(dir.path().join("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(server.requests().len(), 1);
}

/// TEST-PLAN D2 (and D1's resume): range 3's body stops after 100 KiB on its first attempt;
/// only the missing bytes are fetched again, with the same If-Match; the output is exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_range_is_resumed_from_the_missing_byte() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, all| {
        let start = parse_range(r.header("range"), obj.len()).map(|(s, _)| s);
        let first_try = all
            .iter()
            .filter(|x| x.header("range") == r.header("range"))
            .count()
            == 1;
        match serve_range(&obj, Some("\"v1\""), r) {
            Reply::Http {
                status,
                headers,
                body,
            } if start == Some(3 * MIB) && first_try => Reply::Truncated {
                status,
                headers,
                body,
                send: 100 * 1024,
            },
            other => other,
        }
    })
    .await;
    let got = download_bytes(&server).await.unwrap();
    assert!(got == object());
    let reqs = server.requests();
    let resumed = reqs
        .iter()
        .find(|r| {
            r.header("range") == Some(&format!("bytes={}-{}", 3 * MIB + 100 * 1024, 4 * MIB - 1))
        })
        .expect("the range was resumed from the first missing byte");
    assert_eq!(resumed.header("if-match"), Some("\"v1\""));
    assert_eq!(reqs.len(), 11, "10 ranges and one resumption");
}

/// A handler for `object()` whose ranges starting in [3 MiB, 4 MiB) always break off after
/// 100 KiB of body; `/bkt/throttled` is always 503 SlowDown.
fn range_3_always_breaks(r: &Recorded, _: &[Recorded]) -> Reply {
    range_3_breaks_after(r, 100 * 1024)
}

/// Range 3 breaks off before any body byte.
fn range_3_breaks_at_once(r: &Recorded, _: &[Recorded]) -> Reply {
    range_3_breaks_after(r, 0)
}

/// Serves the object, but every answer starting in range 3 stops after `send` body bytes.
fn range_3_breaks_after(r: &Recorded, send: usize) -> Reply {
    let obj = object();
    if r.target.starts_with("/bkt/throttled") {
        return Reply::s3_error(503, "SlowDown");
    }
    let start = parse_range(r.header("range"), obj.len()).map(|(s, _)| s);
    match serve_range(&obj, Some("\"v1\""), r) {
        Reply::Http {
            status,
            headers,
            body,
        } if start.is_some_and(|s| (3 * MIB..4 * MIB).contains(&s)) => Reply::Truncated {
            status,
            headers,
            body,
            send,
        },
        other => other,
    }
}

/// The requests for range 3 (starting in [3 MiB, 4 MiB)), in order.
fn range_3_requests(server: &FaultServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter_map(|r| {
            let h = r.header("range")?;
            let (s, _) = parse_range(Some(h), 10 * MIB)?;
            (3 * MIB..4 * MIB).contains(&s).then(|| h.to_owned())
        })
        .collect()
}

/// TEST-PLAN D2 and R1 for downloads: resuming a broken body is a retry like any other. A
/// range whose body always breaks off before its first byte is retried after the client's
/// backoff (exact delays) and the download fails once `max_attempts` requests were made for
/// it, with `attempts()` saying so and nothing left on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_that_keeps_breaking_fails_after_max_attempts() {
    let server = FaultServer::with_handler(range_3_breaks_at_once).await;
    let sleep = RecordingSleep::default();
    let c = support::fault_client_builder(&server)
        .retry(
            async_s3::RetryConfig::with_max_attempts(3)
                .with_backoff(Duration::from_millis(100), Duration::from_secs(1)),
        )
        .sleep(sleep.clone())
        .jitter(FixedJitter::HALF)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = c
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .to_path(dir.path().join("out.bin"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.attempts(), 3, "{err:?}");
    let expected = vec![format!("bytes={}-{}", 3 * MIB, 4 * MIB - 1); 3];
    assert_eq!(range_3_requests(&server), expected);
    // Backoff before each retry: half of the 100 ms and 200 ms ceilings.
    assert_eq!(
        sleep.delays(),
        [Duration::from_millis(50), Duration::from_millis(100)]
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A body that breaks off after making progress is resumed from its first missing byte, and
/// the progress renews its attempts: a range cut every 100 KiB is fetched in 11 pieces with
/// `max_attempts` 3, and the file is the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_that_breaks_after_progress_is_resumed_to_the_end() {
    let server = FaultServer::with_handler(range_3_always_breaks).await;
    let sleep = RecordingSleep::default();
    let c = support::fault_client_builder(&server)
        .retry(async_s3::RetryConfig::with_max_attempts(3))
        .sleep(sleep.clone())
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    c.bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .to_path(&out)
        .await
        .unwrap();
    assert!(std::fs::read(&out).unwrap() == object());
    let k = 100 * 1024;
    let expected: Vec<String> = (0..11)
        .map(|i| format!("bytes={}-{}", 3 * MIB + i * k, 4 * MIB - 1))
        .collect();
    assert_eq!(range_3_requests(&server), expected);
    assert_eq!(
        sleep.delays().len(),
        10,
        "every resumption waited its backoff"
    );
}

/// The retry budget is shared by requests and body resumptions: once throttling has spent
/// it, a broken range is not resumed (one request for it, `attempts()` 1), however many
/// attempts the policy would allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_retry_budget_stops_resumptions() {
    let server = FaultServer::with_handler(range_3_always_breaks).await;
    let sleep = RecordingSleep::default();
    let c = support::fault_client_builder(&server)
        .retry(async_s3::RetryConfig::with_max_attempts(5).with_budget(10))
        .sleep(sleep.clone())
        .jitter(FixedJitter::HALF)
        .build()
        .unwrap();
    // Two paid retries spend the 10 tokens.
    let err = c.bucket("bkt").get_object("throttled").await.unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(sleep.delays().len(), 2);

    // One range at a time: ranges 0 to 2 succeed first, giving back one token each (3 in
    // all, less than the 5 a retry costs).
    let err = c
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .concurrency(1)
        .to_bytes()
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 1, "{err:?}");
    assert_eq!(range_3_requests(&server).len(), 1);
    assert_eq!(
        sleep.delays().len(),
        2,
        "no wait for a retry nobody pays for"
    );
}

/// TEST-PLAN D5: a range answer whose total size differs from the first answer is refused.
#[tokio::test]
async fn a_changed_total_size_is_refused() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, _| {
        if r.header("if-match").is_some() {
            serve_range(&obj[..obj.len() - 1], Some("\"v1\""), r)
        } else {
            serve_range(&obj, Some("\"v1\""), r)
        }
    })
    .await;
    let err = download_bytes(&server).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
}

/// TEST-PLAN U4 for downloads: cancelling stops the ranges and removes the temporary file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_download_leaves_nothing() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, _| {
        let reply = serve_range(&obj, Some("\"v1\""), r);
        if r.header("if-match").is_some() {
            Reply::Delay(Duration::from_millis(500), Box::new(reply))
        } else {
            reply
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let down = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64);
    let cancel = down.cancel_handle();
    let dest = dir.path().join("d");
    let task = tokio::spawn(async move { down.to_path(&dest).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// TEST-PLAN D7 against a store that ignores If-Match: the new ETag gives the change away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_ignoring_if_match_still_cannot_stitch_versions() {
    let v1 = object();
    let v2: Vec<u8> = v1.iter().map(|b| b.wrapping_add(1)).collect();
    let server = FaultServer::with_handler(move |r, all| {
        // The object is overwritten (same size) right after the first answer.
        if all.len() <= 1 {
            serve_range(&v1, Some("\"v1\""), r)
        } else {
            serve_range(&v2, Some("\"v2\""), r)
        }
    })
    .await;
    let err = download_bytes(&server).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ObjectChanged, "{err:?}");
}

/// TEST-PLAN U12 with awkward chunking: a reader that yields chunks never aligned with parts
/// (999 bytes against 5 MiB parts) uploads every byte, in order, in bounded steps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unaligned_stream_chunks_are_cut_into_exact_parts() {
    let server = FaultServer::with_handler(mpu_server(
        ok_part_of,
        completed(),
        Reply::new(204, "text/plain", ""),
    ))
    .await;
    let total = 11 * MIB + 77;
    let data: Vec<u8> = (0..total).map(|i| (i % 253) as u8).collect();
    let chunks: Vec<std::io::Result<bytes::Bytes>> = data
        .chunks(999)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let out = upload(&client(&server))
        .multipart_threshold(5 * MIB as u64)
        .from_stream(futures_util::stream::iter(chunks))
        .await
        .unwrap();
    assert_eq!(out.size, total as u64);
    assert_eq!(out.parts, 3);
    let mut parts: Vec<_> = server
        .requests()
        .into_iter()
        .filter_map(|r| Some((part_number(&r)?, r.body)))
        .collect();
    parts.sort_by_key(|(n, _)| *n);
    let sizes: Vec<usize> = parts.iter().map(|(_, b)| b.len()).collect();
    assert_eq!(sizes, [5 * MIB, 5 * MIB, MIB + 77]);
    let joined: Vec<u8> = parts.into_iter().flat_map(|(_, b)| b).collect();
    assert!(joined == data);
}

/// TEST-PLAN U12: a stream of unknown length, generated lazily (40 MiB in 64 KiB chunks, never
/// held by the test), goes up as multipart with bounded memory: the server holds each part's
/// answer 40 ms, and at every chunk the stream records how far it has been read ahead of what
/// the server received; that lead never exceeds `concurrency x part size` plus one chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_stream_is_read_only_as_far_as_the_parts_in_flight() {
    use futures_util::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const TOTAL: usize = 40 * MIB;
    const CHUNK: usize = 64 * 1024;
    let byte = |i: usize| (i % 251) as u8;
    let received = Arc::new(AtomicUsize::new(0));
    let max_lead = Arc::new(AtomicUsize::new(0));
    let server = FaultServer::with_handler({
        let received = received.clone();
        mpu_server(
            move |n, r| {
                received.fetch_add(r.body.len(), Ordering::SeqCst);
                Reply::Delay(Duration::from_millis(40), Box::new(ok_part(n)))
            },
            completed(),
            Reply::new(204, "text/plain", ""),
        )
    })
    .await;
    let stream = futures_util::stream::unfold(0usize, {
        let (received, max_lead) = (received.clone(), max_lead.clone());
        move |produced| {
            let (received, max_lead) = (received.clone(), max_lead.clone());
            async move {
                if produced == TOTAL {
                    return None;
                }
                let len = CHUNK.min(TOTAL - produced);
                let chunk: Vec<u8> = (produced..produced + len).map(byte).collect();
                let lead = produced + len - received.load(Ordering::SeqCst);
                max_lead.fetch_max(lead, Ordering::SeqCst);
                Some((Ok(bytes::Bytes::from(chunk)), produced + len))
            }
        }
    })
    .boxed();
    let out = client(&server)
        .bucket("bkt")
        .upload("k")
        .part_size(5 * MIB as u64)
        .multipart_threshold(5 * MIB as u64)
        .concurrency(2)
        .from_stream(stream)
        .await
        .unwrap();
    assert_eq!(out.size, TOTAL as u64);
    assert_eq!(out.parts, 8);
    let lead = max_lead.load(Ordering::SeqCst);
    assert!(
        lead <= 2 * 5 * MIB + CHUNK,
        "read {lead} bytes ahead of the server"
    );
    assert!(lead > 5 * MIB, "the window was used: {lead}");
    let mut parts: Vec<(u32, Vec<u8>)> = server
        .requests()
        .into_iter()
        .filter_map(|r| Some((part_number(&r)?, r.body)))
        .collect();
    parts.sort_by_key(|(n, _)| *n);
    let mut at = 0;
    for (n, body) in &parts {
        assert_eq!(body.len(), 5 * MIB, "part {n}");
        assert!(
            body.iter().enumerate().all(|(i, b)| *b == byte(at + i)),
            "part {n}"
        );
        at += body.len();
    }
    assert_eq!(at, TOTAL);
}

fn ok_part_of(n: u32, _: &Recorded) -> Reply {
    ok_part(n)
}

/// TEST-PLAN U8: `400 RequestTimeout` on UploadPart is retried with the same bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_on_a_part_is_retried_with_the_same_bytes() {
    // Only the first attempt of part 3 fails: the handler sees every request so far.
    let normal = mpu_server(ok_part_of, completed(), Reply::new(204, "text/plain", ""));
    let server = FaultServer::with_handler(move |r, all| {
        let attempts_of_3 = all.iter().filter(|x| part_number(x) == Some(3)).count();
        match (r.method.as_str(), part_number(r)) {
            ("PUT", Some(3)) if attempts_of_3 == 1 => Reply::s3_error(400, "RequestTimeout"),
            _ => normal(r, all),
        }
    })
    .await;
    let data: Vec<u8> = (0..8 * 5 * MIB).map(|i| (i % 249) as u8).collect();
    let out = upload(&client(&server))
        .from_bytes(data.clone())
        .await
        .unwrap();
    assert_eq!(out.parts, 8);
    let tries: Vec<Vec<u8>> = server
        .requests()
        .into_iter()
        .filter(|r| part_number(r) == Some(3))
        .map(|r| r.body)
        .collect();
    assert_eq!(tries.len(), 2);
    assert!(tries[0] == tries[1] && tries[0] == data[2 * 5 * MIB..3 * 5 * MIB]);
}

/// TEST-PLAN U9: the source file changes during the upload: detected, aborted, an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_file_changed_during_the_upload_aborts_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src.bin");
    std::fs::write(&path, vec![1u8; 3 * 5 * MIB]).unwrap();
    let p2 = path.clone();
    // Part 1's answer comes late; meanwhile the file grows.
    let server = FaultServer::with_handler(mpu_server(
        move |n, _| {
            if n == 1 {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(&p2).unwrap();
                f.write_all(b"appended during the upload").unwrap();
            }
            ok_part(n)
        },
        completed(),
        Reply::new(204, "text/plain", ""),
    ))
    .await;
    let err = upload(&client(&server))
        .multipart_threshold(5 * MIB as u64)
        .from_path(&path)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err:?}");
    assert!(
        err.to_string()
            .contains("changed while it was being uploaded"),
        "{err}"
    );
    assert_eq!(err.upload_id(), Some("UP1"));
    assert_eq!(count(&server, "POST", "uploadId=UP1"), 0, "never completed");
    assert_eq!(count(&server, "DELETE", "uploadId=UP1"), 1);
}

/// TEST-PLAN D1: a TCP reset in the middle of range 3's body: only that range is fetched
/// again (from its first missing byte), with the same If-Match; the output is identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_range_refetches_only_that_range() {
    let obj = object();
    let server = FaultServer::with_handler(move |r, all| {
        let start = parse_range(r.header("range"), obj.len()).map(|(s, _)| s);
        let first_try = all
            .iter()
            .filter(|x| x.header("range") == r.header("range"))
            .count()
            == 1;
        match serve_range(&obj, Some("\"v1\""), r) {
            Reply::Http {
                status,
                headers,
                body,
            } if start == Some(3 * MIB) && first_try => Reply::Reset {
                status,
                headers,
                body,
                send: 256 * 1024,
            },
            other => other,
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let out = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64)
        .to_path(&dest)
        .await
        .unwrap();
    assert_eq!(out.size, 10 * MIB as u64);
    assert!(std::fs::read(&dest).unwrap() == object());
    let reqs = server.requests();
    let third: Vec<_> = reqs
        .iter()
        .filter(|r| {
            parse_range(r.header("range"), 10 * MIB)
                .is_some_and(|(s, _)| (3 * MIB..4 * MIB).contains(&s))
        })
        .collect();
    assert!(third.len() >= 2, "range 3 was fetched again");
    assert!(third.iter().all(|r| r.header("if-match") == Some("\"v1\"")));
    // The bytes before the reset arrived, so the second request starts after them.
    let resumed = format!("bytes={}-{}", 3 * MIB + 256 * 1024, 4 * MIB - 1);
    assert_eq!(third[1].header("range"), Some(resumed.as_str()));
    let others = reqs.len() - third.len();
    assert_eq!(others, 9, "no other range was fetched twice");
}

/// The connection of part 3 is reset after its whole body arrived, before its answer: part 3 is
/// sent again with identical bytes, and the parts complete in order 1 to 8 (a reset while
/// the body is still being sent, TEST-PLAN U1, is the next test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_while_sending_a_part_resends_identical_bytes() {
    let normal = mpu_server(ok_part_of, completed(), Reply::new(204, "text/plain", ""));
    let server = FaultServer::with_handler(move |r, all| {
        let tries_of_3 = all.iter().filter(|x| part_number(x) == Some(3)).count();
        match (r.method.as_str(), part_number(r)) {
            ("PUT", Some(3)) if tries_of_3 == 1 => Reply::ResetBeforeAnswer,
            _ => normal(r, all),
        }
    })
    .await;
    let data: Vec<u8> = (0..8 * 5 * MIB).map(|i| (i % 241) as u8).collect();
    let out = upload(&client(&server))
        .from_bytes(data.clone())
        .await
        .unwrap();
    assert_eq!(out.parts, 8);
    let reqs = server.requests();
    let tries: Vec<&Vec<u8>> = reqs
        .iter()
        .filter(|r| part_number(r) == Some(3))
        .map(|r| &r.body)
        .collect();
    assert_eq!(tries.len(), 2);
    assert!(*tries[0] == tries[1][..] && tries[0][..] == data[2 * 5 * MIB..3 * 5 * MIB]);
    let xml = completion_xml(&reqs);
    assert_eq!(completed_part_numbers(&xml), (1..=8).collect::<Vec<_>>());
}

/// The third field of `/proc/sys/net/ipv4/tcp_wmem`: the most a socket's send buffer grows to
/// by autotuning, the most of a body the client's kernel can hold that has not reached the
/// server.
fn tcp_wmem_max() -> usize {
    let v = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem").unwrap();
    v.split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// TEST-PLAN U1: the connection of part 2 of 3 (16 MiB each) is reset while its body is still
/// being sent: the server (a 64 KiB receive buffer) reads 64 KiB of it, takes what else is
/// queued and resets. Most of the part had not left the client then (checked below), so the
/// reset is mid-send. Part 2 is sent again with identical bytes, every other part once, the
/// parts complete in order 1 to 3 and together are the source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_midway_through_a_part_body_resends_identical_bytes() {
    const PART: usize = 16 * MIB;
    const CUT: usize = 64 * 1024;
    let normal = mpu_server(ok_part_of, completed(), Reply::new(204, "text/plain", ""));
    let server = FaultServer::with_reset_midway(
        |head, all| {
            let first_try = !all.iter().any(|x| part_number(x) == Some(2));
            (head.method == "PUT" && part_number(head) == Some(2) && first_try).then_some(CUT)
        },
        normal,
    )
    .await;
    let data: Vec<u8> = (0..3 * PART).map(|i| (i % 241) as u8).collect();
    let out = client(&server)
        .bucket("bkt")
        .upload("k")
        .part_size(PART as u64)
        .concurrency(2)
        .from_bytes(data.clone())
        .await
        .unwrap();
    assert_eq!(out.parts, 3);
    let reqs = server.requests();
    let tries: Vec<&Vec<u8>> = reqs
        .iter()
        .filter(|r| part_number(r) == Some(2))
        .map(|r| &r.body)
        .collect();
    assert_eq!(tries.len(), 2, "part 2 was sent again");
    let part2 = &data[PART..2 * PART];
    let received = tries[0].len();
    assert!(received >= CUT, "the cut was reached: {received}");
    assert!(tries[0][..] == part2[..received]);
    // When the server reset, it had received `received` bytes; at most its receive buffer
    // (64 KiB asked, up to 128 KiB held) more were in flight, and at most `tcp_wmem_max` sat in
    // the client's send buffer. So more than the rest of the part had not been handed to the
    // kernel yet: the client was still sending the body.
    let in_flight = 2 * support::fault::EARLY_RECV_BUFFER as usize;
    let unsent = PART.saturating_sub(received + in_flight);
    assert!(
        unsent > tcp_wmem_max(),
        "the reset came mid-send: {unsent} bytes of the part unsent at least, {} send buffer",
        tcp_wmem_max()
    );
    assert!(tries[1][..] == *part2, "the retry carries identical bytes");
    let mut parts: Vec<(u32, &Vec<u8>)> = reqs
        .iter()
        .filter(|r| r.body.len() == PART)
        .filter_map(|r| Some((part_number(r)?, &r.body)))
        .collect();
    parts.sort_by_key(|(n, _)| *n);
    let numbers: Vec<u32> = parts.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [1, 2, 3], "each part once, in full");
    let joined: Vec<u8> = parts.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    assert!(joined == data, "the parts are the source");
    let xml = completion_xml(&reqs);
    assert_eq!(completed_part_numbers(&xml), [1, 2, 3]);
}

/// TEST-PLAN U7: Complete's answer is lost (the body stalls), the retry gets NoSuchUpload: the
/// key is checked with HEAD, and success is reported only when its ETag is exactly the one
/// these parts make (`md5(md5_1 ‖ … ‖ md5_n)-n`) and the size is theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_complete_answer_is_confirmed_with_head() {
    use md5::{Digest, Md5};
    let data = body();
    let part_md5s: Vec<[u8; 16]> = data
        .chunks(5 * MIB)
        .map(|c| Md5::digest(c).into())
        .collect();
    let ours = format!("\"{}-8\"", hex::encode(Md5::digest(part_md5s.concat())));
    // Same part count and size but other bytes: an object someone else wrote.
    let theirs = "\"0123456789abcdef0123456789abcdef-8\"".to_owned();
    for (head_etag, want_ok) in [(ours.clone(), true), (theirs, false)] {
        let md5s = part_md5s.clone();
        let server = FaultServer::with_handler(move |r, all| {
            let completes = all
                .iter()
                .filter(|x| x.method == "POST" && x.target.contains("uploadId"))
                .count();
            match (r.method.as_str(), part_number(r)) {
                ("POST", _) if r.target.contains("uploads") => initiate(),
                ("PUT", Some(n)) => Reply::new(200, "text/plain", "").header(
                    "etag",
                    &format!("\"{}\"", hex::encode(md5s[n as usize - 1])),
                ),
                ("POST", _) if completes == 1 => Reply::Stall(Duration::from_secs(5)),
                ("POST", _) => Reply::s3_error(404, "NoSuchUpload"),
                ("HEAD", _) => Reply::new(200, "application/octet-stream", vec![0u8; 8 * 5 * MIB])
                    .header("etag", &head_etag),
                _ => Reply::new(204, "text/plain", ""),
            }
        })
        .await;
        let c = support::fault_client_builder(&server)
            .read_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let res = c
            .bucket("bkt")
            .upload("k")
            .part_size(5 * MIB as u64)
            .from_bytes(data.clone())
            .await;
        assert_eq!(res.is_ok(), want_ok, "{res:?}");
        if want_ok {
            assert_eq!(res.unwrap().etag.as_deref(), Some(ours.as_str()));
            assert_eq!(count(&server, "DELETE", "uploadId"), 0);
        } else {
            assert_eq!(res.unwrap_err().s3_code(), Some("NoSuchUpload"));
        }
    }
}

/// TEST-PLAN L2: a consumer that stops reading a download stream stops the download too:
/// no more than `concurrency` ranges are fetched ahead of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_stream_consumer_holds_back_the_download() {
    use futures_util::StreamExt;
    let obj = object();
    let server = FaultServer::with_handler(move |r, _| serve_range(&obj, Some("\"v1\""), r)).await;
    let mut stream = client(&server)
        .bucket("bkt")
        .download("k")
        .part_size(MIB as u64 / 2) // 20 ranges
        .concurrency(3)
        .to_stream()
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.len(), MIB / 2);
    tokio::time::sleep(Duration::from_millis(300)).await; // the consumer dawdles
    let fetched = server.requests().len();
    assert!(
        fetched <= 1 + 3,
        "{fetched} ranges fetched for a consumer that read one"
    );
    let mut total = first.len();
    while let Some(chunk) = stream.next().await {
        total += chunk.unwrap().len();
    }
    assert_eq!(total, 10 * MIB);
    assert_eq!(server.requests().len(), 20);
}

/// TEST-PLAN D10: a listing with keys that would escape the target directory is refused
/// before anything is written.
#[tokio::test]
async fn hostile_keys_never_escape_the_target_directory() {
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
                serve_range(b"data", Some("\"e\""), r)
            }
        })
        .await;
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("target");
        let err = client(&server)
            .bucket("bkt")
            .download_prefix("p/")
            .to_dir(&target)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err:?}");
        // Nothing at all was created, inside or outside the target.
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0, "{bad}");
        assert!(
            server
                .requests()
                .iter()
                .all(|r| r.target.contains("list-type=2"))
        );
    }
}

#[cfg(unix)]
/// TEST-PLAN D10 (symbolic link inside the target): refused, nothing written through it.
#[tokio::test]
async fn a_symlink_inside_the_target_is_not_followed() {
    let e = support::env("links").await;
    e.bucket.put_object("p/sub/file.txt", "data").await.unwrap();
    e.bucket.put_object("p/top.txt", "top").await.unwrap();
    let root = tempfile::tempdir().unwrap();
    let outside = root.path().join("outside");
    let target = root.path().join("target");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&target).unwrap();
    std::os::unix::fs::symlink(&outside, target.join("sub")).unwrap();
    let err = e
        .bucket
        .download_prefix("p/")
        .to_dir(&target)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);

    // Without the link, everything arrives.
    std::fs::remove_file(target.join("sub")).unwrap();
    let out = e
        .bucket
        .download_prefix("p/")
        .to_dir(&target)
        .await
        .unwrap();
    assert_eq!((out.files, out.bytes), (2, 7));
    assert_eq!(std::fs::read(target.join("sub/file.txt")).unwrap(), b"data");
}
