//! Protocol behaviour against the scripted server: what the client sends, how it reads what
//! comes back, when it retries.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, Credentials, ErrorKind, RetryConfig};
use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::fault::{FaultServer, Reply};
use support::timing::{FixedJitter, RecordingSleep};

/// A clock that moves one second forward every time it is read.
#[derive(Debug, Default)]
struct Ticking(AtomicU64);

impl async_s3::Clock for Ticking {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + self.0.fetch_add(1, Ordering::Relaxed))
    }
}

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server)
        .clock(Ticking::default())
        .build()
        .unwrap()
}

fn ok(body: &str) -> Reply {
    Reply::new(200, "application/octet-stream", body.as_bytes().to_vec())
}

/// TEST-PLAN R6: each retry is re-signed with a fresh x-amz-date and sends identical bytes.
#[tokio::test]
async fn retries_resign_and_resend_identical_bytes() {
    let server = FaultServer::start(vec![
        Reply::s3_error(503, "SlowDown"),
        Reply::s3_error(500, "InternalError"),
        ok("").header("etag", "\"e\""),
    ])
    .await;
    let out = client(&server)
        .bucket("bkt")
        .put_object("k", "payload bytes")
        .await
        .unwrap();
    assert_eq!(out.etag.as_deref(), Some("\"e\""));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let dates: Vec<_> = reqs
        .iter()
        .map(|r| r.header("x-amz-date").unwrap().to_owned())
        .collect();
    assert!(dates[0] != dates[1] && dates[1] != dates[2], "{dates:?}");
    let auths: Vec<_> = reqs
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert!(auths[0] != auths[1] && auths[1] != auths[2]);
    for r in &reqs {
        assert_eq!(r.body, b"payload bytes");
        assert_eq!(r.method, "PUT");
        assert_eq!(r.target, "/bkt/k");
        assert!(r.header("x-amz-content-sha256").is_some());
    }
}

/// TEST-PLAN R3: client errors get exactly one attempt and carry code, message, request id.
#[tokio::test]
async fn client_errors_are_not_retried() {
    for (status, code, kind) in [
        (403, "AccessDenied", ErrorKind::AccessDenied),
        (404, "NoSuchKey", ErrorKind::NotFound),
        (400, "InvalidArgument", ErrorKind::Service),
    ] {
        let server = FaultServer::start(vec![Reply::s3_error(status, code)]).await;
        let err = client(&server)
            .bucket("bkt")
            .get_object("k")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind);
        assert_eq!(err.s3_code(), Some(code));
        assert_eq!(err.s3_message(), Some(format!("scripted {code}").as_str()));
        assert_eq!(err.request_id(), Some(format!("REQ-{code}").as_str()));
        assert_eq!(err.attempts(), 1);
        assert_eq!(server.requests().len(), 1);
    }
}

/// TEST-PLAN R2: 5xx with an HTML body is retried; the error keeps a bounded snippet.
#[tokio::test]
async fn html_server_errors_are_retried_and_summarized() {
    let html = format!(
        "<html><body>Bad Gateway{}</body></html>",
        " padding".repeat(10_000)
    );
    let server = FaultServer::start(vec![Reply::new(502, "text/html", html)]).await;
    let err = client(&server)
        .bucket("bkt")
        .get_object("k")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service);
    assert_eq!(err.status(), Some(502));
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 3);
    assert_eq!(server.requests().len(), 3);
    let text = err.to_string();
    assert!(text.contains("Bad Gateway") && text.len() < 400, "{text}");
}

/// A 200 whose body is an `<Error>` after whitespace is a failure, and retried when transient.
#[tokio::test]
async fn copy_object_error_inside_a_200_is_an_error() {
    let mut body = " ".repeat(5000).into_bytes();
    body.extend_from_slice(b"<Error><Code>InternalError</Code><Message>oops</Message></Error>");
    let server = FaultServer::start(vec![Reply::new(200, "application/xml", body)]).await;
    let err = client(&server)
        .bucket("bkt")
        .copy_object("a", "b")
        .await
        .unwrap_err();
    assert_eq!(err.s3_code(), Some("InternalError"));
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 3);

    let good = "<CopyObjectResult><ETag>\"x\"</ETag><LastModified>2024-01-02T03:04:05.000Z</LastModified></CopyObjectResult>";
    let mut bad = " ".repeat(100).into_bytes();
    bad.extend_from_slice(b"<Error><Code>SlowDown</Code></Error>");
    let server = FaultServer::start(vec![
        Reply::new(200, "application/xml", bad),
        Reply::new(200, "application/xml", good),
    ])
    .await;
    let out = client(&server)
        .bucket("bkt")
        .copy_object("a", "b")
        .await
        .unwrap();
    assert_eq!(out.etag.as_deref(), Some("\"x\""));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("x-amz-copy-source"), Some("/bkt/a"));
}

#[tokio::test]
async fn conditional_get_headers_are_sent_and_answers_typed() {
    let server = FaultServer::start(vec![
        Reply::new(
            412,
            "application/xml",
            "<Error><Code>PreconditionFailed</Code></Error>",
        ),
        Reply::new(304, "text/plain", ""),
    ])
    .await;
    let c = client(&server);
    let since = UNIX_EPOCH + Duration::from_secs(784_111_777);
    let err = c
        .bucket("bkt")
        .get_object("k")
        .if_match("\"abc\"")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed);
    let err = c
        .bucket("bkt")
        .get_object("k")
        .if_none_match("\"abc\"")
        .if_modified_since(since)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotModified);
    let reqs = server.requests();
    assert_eq!(reqs[0].header("if-match"), Some("\"abc\""));
    assert_eq!(reqs[1].header("if-none-match"), Some("\"abc\""));
    assert_eq!(
        reqs[1].header("if-modified-since"),
        Some("Sun, 06 Nov 1994 08:49:37 GMT")
    );
    // Conditional headers are signed like every other header.
    assert!(
        reqs[0]
            .header("authorization")
            .unwrap()
            .contains("if-match")
    );
}

/// TEST-PLAN D4, D5, D6 for single GETs: a range answer that does not match is refused.
#[tokio::test]
async fn range_answers_are_checked() {
    let server = FaultServer::start(vec![
        // D6: the whole object with 200 instead of the range.
        Reply::new(200, "application/octet-stream", vec![7u8; 100]),
        // D5: the wrong range.
        Reply::new(206, "application/octet-stream", vec![7u8; 10])
            .header("content-range", "bytes 10-19/100"),
        // D4: fewer bytes than asked for, announced honestly.
        Reply::new(206, "application/octet-stream", vec![7u8; 5])
            .header("content-range", "bytes 0-4/100"),
        // S10: malformed content range.
        Reply::new(206, "application/octet-stream", vec![7u8; 10])
            .header("content-range", "bytes */100"),
        // The right answer.
        Reply::new(206, "application/octet-stream", vec![7u8; 10])
            .header("content-range", "bytes 0-9/100"),
    ])
    .await;
    let b = client(&server).bucket("bkt");
    for _ in 0..4 {
        let err = b.get_object("k").range(0..10).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
    }
    let ok = b.get_object("k").range(0..10).await.unwrap();
    assert_eq!(ok.bytes().await.unwrap().len(), 10);
    assert_eq!(server.requests()[0].header("range"), Some("bytes=0-9"));
}

/// A raw response: status line, the given header lines, and `body` (no Content-Length added).
fn raw(status: &str, headers: &[&str], body: &str) -> Reply {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    Reply::Raw(out.into_bytes())
}

/// TEST-PLAN S10: malformed headers are errors, never panics or made-up values: a HEAD whose
/// `Content-Length` is not a number, a GET whose framing `Content-Length` is not a number, a
/// `Content-Range` with a non-numeric total or `bytes */5000`.
#[tokio::test]
async fn malformed_length_headers_are_errors() {
    let cases = [
        (
            "HEAD",
            raw("200 OK", &["content-length: 12abc", "etag: \"e\""], ""),
        ),
        (
            "HEAD",
            raw("200 OK", &["content-length: -1", "etag: \"e\""], ""),
        ),
        ("GET", raw("200 OK", &["content-length: ten"], "0123456789")),
        (
            "RANGE",
            raw(
                "206 Partial Content",
                &["content-length: 10", "content-range: bytes 0-9/lots"],
                "0123456789",
            ),
        ),
        (
            "RANGE",
            raw(
                "206 Partial Content",
                &["content-length: 10", "content-range: bytes */5000"],
                "0123456789",
            ),
        ),
    ];
    for (what, reply) in cases {
        let server = FaultServer::start(vec![reply.clone()]).await;
        let b = support::fault_client_builder(&server)
            .retry(RetryConfig::with_max_attempts(1))
            .build()
            .unwrap()
            .bucket("bkt");
        let err = match what {
            "HEAD" => b.head_object("k").await.unwrap_err(),
            "GET" => match b.get_object("k").await {
                Ok(o) => o.bytes().await.unwrap_err(),
                Err(e) => e,
            },
            _ => b.get_object("k").range(0..10).await.unwrap_err(),
        };
        let want = if what == "GET" {
            // The HTTP layer cannot frame the body at all.
            ErrorKind::Transport
        } else {
            ErrorKind::InvalidResponse
        };
        assert_eq!(err.kind(), want, "{reply:?}: {err:?}");
        assert_eq!(server.requests().len(), 1);
    }
}

/// TEST-PLAN S10 (unquoted ETag): an ETag without its quotes is kept exactly as sent, and a
/// parallel download pins its later ranges to that same value (not a re-quoted one).
#[tokio::test]
async fn an_unquoted_etag_is_kept_verbatim() {
    let object: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let expected = object.clone();
    let server = FaultServer::with_handler(move |r, _| {
        support::fault::serve_range(&object, Some("5d41402abc4b2a76b9719d911017c592"), r)
    })
    .await;
    let b = client(&server).bucket("bkt");
    let meta = b.head_object("k").await.unwrap();
    assert_eq!(
        meta.etag.as_deref(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    let got = b.download("k").part_size(1000).to_bytes().await.unwrap();
    assert!(got == expected, "the bytes are the object");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    // The discovery GET (the first range) pins nothing: the ETag is learnt from its answer.
    assert_eq!(reqs[1].method, "GET");
    assert_eq!(reqs[1].header("range"), Some("bytes=0-999"));
    assert_eq!(reqs[1].header("if-match"), None);
    for r in &reqs[2..] {
        assert_eq!(
            r.header("if-match"),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
    }
}

/// TEST-PLAN X2: a redirect to another port is not followed.
#[tokio::test]
async fn redirects_are_not_followed() {
    let other = FaultServer::start(vec![ok("secret data")]).await;
    let server = FaultServer::start(vec![
        Reply::new(307, "text/plain", "")
            .header("location", &format!("{}/bkt/k", other.endpoint())),
    ])
    .await;
    let c = Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::new("AKIDTEST", "secret").with_session_token("TOKEN"))
        .build()
        .unwrap();
    let err = c.bucket("bkt").get_object("k").await.unwrap_err();
    assert_eq!(err.status(), Some(307));
    assert!(
        other.requests().is_empty(),
        "the redirect target was contacted"
    );
}

/// TEST-PLAN S9: a pagination loop is detected.
#[tokio::test]
async fn pagination_loops_are_detected() {
    use futures_util::TryStreamExt;
    let page = |token: Option<&str>| {
        let next = token
            .map(|t| format!("<NextContinuationToken>{t}</NextContinuationToken>"))
            .unwrap_or_default();
        Reply::new(
            200,
            "application/xml",
            format!(
                "<ListBucketResult><IsTruncated>true</IsTruncated>{next}\
                 <Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>"
            ),
        )
    };
    let server =
        FaultServer::start(vec![page(Some("t1")), page(Some("t2")), page(Some("t1"))]).await;
    let err = client(&server)
        .bucket("bkt")
        .list_objects()
        .into_stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.to_string().contains("loop"), "{err}");
    assert_eq!(server.requests().len(), 3);

    let server = FaultServer::start(vec![page(None)]).await;
    let err = client(&server)
        .bucket("bkt")
        .list_objects()
        .into_stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("without a continuation token"),
        "{err}"
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].target.contains("list-type=2"));
}

/// The idle timeout, both ways: a body that keeps flowing slowly is not cut off by the read
/// timeout, however long it takes in total; a stall is (a stalled range of a parallel
/// download, TEST-PLAN D3, is in tests/download_faults.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_timeout_is_an_idle_timeout() {
    // 2 MiB read 64 KiB per 60 ms: about 2 s in total, never idle for 500 ms.
    let server = FaultServer::slow_reader(Duration::from_millis(60), |_, _| {
        ok("").header("etag", "\"e\"")
    })
    .await;
    let c = Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::new("AKIDTEST", "secret"))
        .read_timeout(Duration::from_millis(500))
        .retry(RetryConfig::with_max_attempts(1))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    c.bucket("bkt")
        .put_object("slow", vec![1u8; 2 << 20])
        .await
        .unwrap();
    assert!(
        started.elapsed() > Duration::from_millis(1000),
        "the body really was slow"
    );
    assert_eq!(server.requests()[0].body.len(), 2 << 20);

    // A response that stalls after its head times out, is retried, and fails in bounded time.
    let server = FaultServer::start(vec![Reply::Stall(Duration::from_secs(30))]).await;
    let c = Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::new("AKIDTEST", "secret"))
        .read_timeout(Duration::from_millis(300))
        .retry(
            RetryConfig::with_max_attempts(2)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let res = c.bucket("bkt").get_object("k").await;
    let err = match res {
        Ok(o) => o.bytes().await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Keys under `encoding-type=url` as AWS sends them: '%2B' is '+', '+' is a space.
#[tokio::test]
async fn url_encoded_listing_keys_are_decoded() {
    let server = FaultServer::start(vec![Reply::new(
        200,
        "application/xml",
        "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
         <Contents><Key>a+b%2Bc%2F%E6%97%A5</Key><Size>1</Size></Contents>\
         <CommonPrefixes><Prefix>dir+1%2F</Prefix></CommonPrefixes></ListBucketResult>",
    )])
    .await;
    let page = client(&server)
        .bucket("bkt")
        .list_objects()
        .delimiter("/")
        .await
        .unwrap();
    assert_eq!(page.objects[0].key, "a b+c/日");
    assert_eq!(page.common_prefixes, ["dir 1/"]);
    assert!(server.requests()[0].target.contains("encoding-type=url"));
}

/// An explicit proxy receives the requests (in absolute form); `ProxyConfig::None` bypasses it.
#[tokio::test]
async fn an_explicit_proxy_is_used() {
    let proxy = FaultServer::start(vec![ok("via proxy")]).await;
    let c = support::fault_client_builder(&proxy)
        .endpoint("http://127.0.0.1:9") // nothing listens here: only the proxy can answer
        .proxy(async_s3::ProxyConfig::Url(proxy.endpoint()))
        .build()
        .unwrap();
    let body = c
        .bucket("bkt")
        .get_object("k")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"via proxy");
    let reqs = proxy.requests();
    assert_eq!(reqs[0].target, "http://127.0.0.1:9/bkt/k");
    assert!(reqs[0].header("authorization").is_some());
}

/// TEST-PLAN R4: a `RequestTimeTooSkewed` answer teaches the clock offset from its `Date`; the
/// request is signed again and sent once more, and later requests use the offset.
#[tokio::test]
async fn clock_skew_is_learned_from_the_server_date() {
    // The Ticking clock starts at 1_700_000_000; the server lives 20 minutes ahead.
    let server_time = time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + 1200).unwrap();
    let date = server_time
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap();
    let server = FaultServer::start(vec![
        Reply::s3_error(403, "RequestTimeTooSkewed").header("date", &date),
        ok("a"),
    ])
    .await;
    let c = client(&server);
    c.bucket("bkt").get_object("k").await.unwrap();
    c.bucket("bkt").get_object("k").await.unwrap();
    let dates: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("x-amz-date").unwrap().to_owned())
        .collect();
    assert_eq!(dates.len(), 3, "one extra attempt, then the next request");
    assert!(dates[0].starts_with("20231114T2213"), "{dates:?}");
    // 1_700_001_200 and after is 2023-11-14T22:33:20Z.
    assert!(dates[1].as_str() >= "20231114T223320Z", "{dates:?}");
    assert!(dates[2].as_str() >= "20231114T223320Z", "{dates:?}");
    // Presigned URLs are dated by the corrected clock too, or they would be born expired.
    let url = c
        .bucket("bkt")
        .presign_get("k", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .url;
    let amz_date = url.split("X-Amz-Date=").nth(1).unwrap();
    assert!(&amz_date[..16] >= "20231114T223320Z", "{url}");
}

/// TEST-PLAN R5: `ExpiredToken` drops the cached credentials once and retries with fresh ones.
#[tokio::test]
async fn expired_credentials_are_refreshed_once() {
    use async_s3::credentials::CachedProvider;
    use async_s3::{CredentialsFuture, ProvideCredentials};
    use std::sync::atomic::AtomicU32;

    #[derive(Debug, Default)]
    struct Rotating(AtomicU32);
    impl ProvideCredentials for Rotating {
        fn provide_credentials(&self) -> CredentialsFuture<'_> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move { Ok(Credentials::new(format!("AKIDGEN{n}"), "s")) })
        }
    }

    let server = FaultServer::start(vec![
        Reply::s3_error(400, "ExpiredToken"),
        ok("fresh"),
        Reply::s3_error(400, "ExpiredToken"),
    ])
    .await;
    let c = support::fault_client_builder(&server)
        .credentials_provider(CachedProvider::new(Rotating::default()))
        .build()
        .unwrap();
    c.bucket("bkt").get_object("k").await.unwrap();
    let auths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert!(
        auths[0].contains("AKIDGEN1/") && auths[1].contains("AKIDGEN2/"),
        "{auths:?}"
    );
    // Refreshed once per request: a second ExpiredToken in a row is an error.
    let server2 = FaultServer::start(vec![Reply::s3_error(400, "ExpiredToken")]).await;
    let c = support::fault_client_builder(&server2)
        .credentials_provider(CachedProvider::new(Rotating::default()))
        .build()
        .unwrap();
    let err = c.bucket("bkt").get_object("k").await.unwrap_err();
    assert_eq!(err.s3_code(), Some("ExpiredToken"));
    assert_eq!(server2.requests().len(), 2);
}

/// A client for `server` whose retries wait on `sleep` (recorded, never slept) with jitter
/// fixed at half of each ceiling.
fn recorded_client(server: &FaultServer, retry: RetryConfig, sleep: &RecordingSleep) -> Client {
    support::fault_client_builder(server)
        .retry(retry)
        .sleep(sleep.clone())
        .jitter(FixedJitter::HALF)
        .build()
        .unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// TEST-PLAN R1 (the schedule): before each retry the client waits a full-jitter delay under a
/// ceiling that doubles from the base and stops at the cap; with the jitter fixed at one half
/// the delays are exact.
#[tokio::test]
async fn backoff_delays_double_up_to_the_cap() {
    let server = FaultServer::start(vec![Reply::s3_error(503, "SlowDown")]).await;
    let sleep = RecordingSleep::default();
    let retry = RetryConfig::with_max_attempts(6).with_backoff(ms(100), ms(300));
    let err = recorded_client(&server, retry, &sleep)
        .bucket("bkt")
        .get_object("k")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert_eq!(err.attempts(), 6);
    assert_eq!(server.requests().len(), 6);
    // Ceilings 100, 200, 400 -> 300, 300, 300 ms; half of each.
    assert_eq!(sleep.delays(), [ms(50), ms(100), ms(150), ms(150), ms(150)]);
}

/// TEST-PLAN R1: throttling on every request with 8 requests in flight: attempts per request
/// are capped, and the client-wide retry budget stops the storm (retries stop once it is spent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_storm_is_bounded_by_the_retry_budget() {
    let server = FaultServer::start(vec![Reply::s3_error(503, "SlowDown")]).await;
    // 20 tokens pay for 4 retries (5 each); without a budget 8 requests x 3 attempts = 24.
    let sleep = RecordingSleep::default();
    let retry = RetryConfig::with_max_attempts(3)
        .with_backoff(ms(10), ms(1000))
        .with_budget(20);
    let c = recorded_client(&server, retry, &sleep);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let b = c.bucket("bkt");
        tasks.push(tokio::spawn(
            async move { b.get_object(format!("k{i}")).await },
        ));
    }
    let mut attempts = 0;
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Throttled);
        assert!(err.attempts() <= 3);
        attempts += err.attempts();
    }
    assert_eq!(attempts, 12, "8 first attempts and 4 paid retries");
    assert_eq!(server.requests().len(), 12);
    // One wait per paid retry: 5 ms before a second attempt, 10 ms before a third.
    let delays = sleep.delays();
    assert_eq!(delays.len(), 4, "{delays:?}");
    assert!(
        delays.iter().all(|d| *d == ms(5) || *d == ms(10)),
        "{delays:?}"
    );
}

/// TEST-PLAN R1 (refunds): a success gives back what its last retry cost, so a client that
/// recovers keeps its budget. With 10 tokens (two retries), the second request can only
/// retry twice because the first one's success refunded its retry.
#[tokio::test]
async fn successes_refund_the_retry_budget() {
    let server = FaultServer::start(vec![
        Reply::s3_error(503, "SlowDown"),
        ok("one"),
        Reply::s3_error(503, "SlowDown"),
        Reply::s3_error(503, "SlowDown"),
        ok("two"),
        Reply::s3_error(503, "SlowDown"),
    ])
    .await;
    let sleep = RecordingSleep::default();
    let retry = RetryConfig::with_max_attempts(3)
        .with_backoff(ms(100), ms(1000))
        .with_budget(10);
    let c = recorded_client(&server, retry, &sleep);
    let b = c.bucket("bkt");
    // 10 tokens -> 5, refunded to 10.
    b.get_object("one").await.unwrap();
    // 10 -> 5 -> 0, refunded to 5.
    b.get_object("two").await.unwrap();
    // 5 -> 0, then nothing pays for a third attempt.
    let err = b.get_object("three").await.unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert_eq!(server.requests().len(), 3 + 2 + 2);
    assert_eq!(sleep.delays(), [ms(50), ms(50), ms(100), ms(50)]);
}

/// TEST-PLAN R1 (server hints): `x-amz-retry-after` (milliseconds) and `Retry-After` (seconds)
/// set the wait, cut to the backoff cap; a hint shorter than the jittered delay does not
/// shorten it.
#[tokio::test]
async fn retry_after_is_honoured_within_the_cap() {
    let slow_down =
        |header: &str, value: &str| Reply::s3_error(503, "SlowDown").header(header, value);
    let server = FaultServer::start(vec![
        slow_down("x-amz-retry-after", "300"),
        ok("a"),
        slow_down("x-amz-retry-after", "60000"),
        ok("b"),
        slow_down("retry-after", "1"),
        ok("c"),
        slow_down("x-amz-retry-after", "10"),
        ok("d"),
    ])
    .await;
    let sleep = RecordingSleep::default();
    // Base 100 ms (first delay 50 ms with the fixed jitter), cap 1.5 s.
    let retry = RetryConfig::with_max_attempts(2).with_backoff(ms(100), ms(1500));
    let c = recorded_client(&server, retry, &sleep);
    for key in ["a", "b", "c", "d"] {
        c.bucket("bkt").get_object(key).await.unwrap();
    }
    assert_eq!(sleep.delays(), [ms(300), ms(1500), ms(1000), ms(50)]);
    assert_eq!(server.requests().len(), 8);
}

/// An endless chunked body: `prefix` and then `fill` forever (paced by `pace`, see
/// [`Reply::Endless`]), with a count of what was sent.
fn endless(
    status: u16,
    prefix: &str,
    fill: u8,
    pace: Option<Duration>,
) -> (Reply, Arc<AtomicUsize>) {
    let written = Arc::new(AtomicUsize::new(0));
    let reply = Reply::Endless {
        status,
        headers: vec![("content-type".into(), "application/xml".into())],
        prefix: prefix.as_bytes().to_vec(),
        fill,
        written: written.clone(),
        pace,
    };
    (reply, written)
}

/// TEST-PLAN S8: bodies that never end, a listing and an error (three attempts, each read up
/// to its cap: 16 MiB for a listing, 64 KiB for an error), make the call return a typed error
/// quickly; the server could push only a bounded amount before the client hung up (for the
/// paced error body, little more than the 64 KiB the client read). Without a cap the call
/// would read until the server's own 256 MiB stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_bodies_stop_at_a_cap() {
    let (listing, written) = endless(
        200,
        "<ListBucketResult><IsTruncated>false</IsTruncated>",
        b' ',
        None,
    );
    let server = FaultServer::start(vec![listing]).await;
    let call = client(&server).bucket("bkt").list_objects().into_future();
    let err = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the listing call returns")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
    assert!(err.to_string().contains("cap"), "{err}");
    let sent = written.load(Ordering::Relaxed);
    assert!(sent >= 16 << 20, "the cap was reached: {sent}");
    // One attempt (a refused listing is not retried). Past the 16 MiB cap the server can have
    // pushed at most hyper's read buffer (< 0.5 MiB), the client's receive buffer (autotuned up
    // to tcp_rmem's maximum, 32 MiB on Linux's defaults here) and its own send buffer (up to
    // tcp_wmem's 4 MiB): under 53 MiB. So this rules out a missing or a much larger cap, not a
    // slightly larger one; the error body below is paced to bound its cap tightly.
    assert!(
        sent < 64 << 20,
        "reading stopped near the cap: {sent} bytes sent"
    );

    let (error, written) = endless(
        500,
        "<Error><Code>InternalError</Code><Message>",
        b'x',
        Some(Duration::from_millis(10)),
    );
    let server = FaultServer::start(vec![error]).await;
    let call = client(&server).bucket("bkt").get_object("k").into_future();
    let err = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the failing call returns")
        .unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Service, "{err:?}");
    assert_eq!(err.attempts(), 3, "retried as any 500");
    assert_eq!(server.requests().len(), 3);
    assert!(err.to_string().len() < 400, "{err}");
    // Paced at 8 KiB per 10 ms, the server sends about what the client reads: each attempt
    // reads to the 64 KiB cap (about 80 ms) and hangs up. A bound of 512 KiB per attempt leaves
    // 448 KiB, over half a second of the client's reaction time, for a loaded machine, while a
    // cap of 512 KiB or more would need that much sent per attempt.
    let sent = written.load(Ordering::Relaxed);
    assert!(
        sent >= 3 * (64 << 10),
        "each attempt read to the cap: {sent}"
    );
    assert!(
        sent < 3 * (512 << 10),
        "reading stopped at the 64 KiB cap: {sent} bytes sent"
    );
}
