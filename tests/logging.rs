//! The `tracing` events the client emits, captured and checked: one per attempt, the retry
//! decisions, budget exhaustion, clock skew, credential refreshes and multipart aborts.
//! Current-thread runtimes only, so the capture (a thread-local default) sees every task.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::credentials::CachedProvider;
use async_s3::{Credentials, CredentialsFuture, ProvideCredentials, RetryConfig};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};
use support::fault::{FaultServer, Reply};
use support::logs::{Captured, LogCapture};
use support::timing::{FixedJitter, RecordingSleep};
use tracing::Level;

fn ok(body: &str) -> Reply {
    Reply::new(200, "application/octet-stream", body.as_bytes().to_vec())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A compact line per attempt and retry event: what a reader of the log would follow.
fn story(events: &[Captured]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e.target.as_str() {
            "async_s3::attempt" => Some(format!(
                "attempt {} {}",
                e.field("attempt")?,
                e.field("status").or(e.field("error"))?
            )),
            "async_s3::retry" => Some(format!(
                "{} after attempt {}: {} {}",
                e.message(),
                e.field("attempt")?,
                e.field("reason")?,
                e.field("delay_ms").unwrap_or("-")
            )),
            _ => None,
        })
        .collect()
}

/// A throttled request's whole retry sequence is visible: each attempt with its status and
/// time, each retry with its reason and exact delay.
#[tokio::test]
async fn a_throttled_request_logs_every_attempt_and_retry() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = FaultServer::start(vec![
        Reply::s3_error(503, "SlowDown"),
        Reply::s3_error(503, "SlowDown"),
        ok("fine"),
    ])
    .await;
    let c = support::fault_client_builder(&server)
        .retry(RetryConfig::with_max_attempts(3).with_backoff(ms(100), ms(1000)))
        .sleep(RecordingSleep::default())
        .jitter(FixedJitter::HALF)
        .build()
        .unwrap();
    c.bucket("bkt").get_object("cats/1.jpg").await.unwrap();
    let events = logs.events_of("async_s3");
    assert_eq!(
        story(&events),
        [
            "attempt 1 503",
            "retrying after attempt 1: SlowDown 50",
            "attempt 2 503",
            "retrying after attempt 2: SlowDown 100",
            "attempt 3 200",
        ]
    );
    let attempts = logs.events_of("async_s3::attempt");
    for a in &attempts {
        assert_eq!(a.level, Level::DEBUG);
        assert_eq!(a.field("operation"), Some("GetObject"));
        assert_eq!(a.field("method"), Some("GET"));
        assert_eq!(a.field("bucket"), Some("bkt"));
        assert_eq!(a.field("key"), Some("cats/1.jpg"));
        assert!(a.field("elapsed_ms").is_some());
    }
    assert_eq!(attempts[0].field("code"), Some("SlowDown"));
    assert_eq!(attempts[0].field("error"), Some("Throttled"));
    assert!(
        logs.events_of("async_s3::retry")
            .iter()
            .all(|e| e.field("operation") == Some("GetObject"))
    );
}

/// A spent retry budget is a warning; so is a clock skew learned from the server.
#[tokio::test]
async fn budget_exhaustion_and_clock_skew_are_warnings() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = FaultServer::with_handler(|_, _| Reply::s3_error(500, "InternalError")).await;
    let c = support::fault_client_builder(&server)
        .retry(RetryConfig::with_max_attempts(5).with_budget(5))
        .sleep(RecordingSleep::default())
        .build()
        .unwrap();
    let err = c.bucket("bkt").get_object("k").await.unwrap_err();
    assert_eq!(err.attempts(), 2);
    let warning = logs
        .events_of("async_s3::retry")
        .into_iter()
        .find(|e| e.level == Level::WARN)
        .expect("a warning about the budget");
    assert!(warning.message().contains("budget"), "{}", warning.text());
    assert_eq!(warning.field("attempt"), Some("2"));
    assert_eq!(warning.field("reason"), Some("InternalError"));
    // While the budget stays spent, later requests do not warn again (one warning per storm).
    for _ in 0..3 {
        let err = c.bucket("bkt").get_object("k").await.unwrap_err();
        assert_eq!(err.attempts(), 1);
    }
    let warnings = logs
        .events_of("async_s3::retry")
        .into_iter()
        .filter(|e| e.level == Level::WARN)
        .count();
    assert_eq!(warnings, 1);

    // The server lives 20 minutes ahead of the client's clock.
    let date = time::OffsetDateTime::now_utc() + time::Duration::minutes(20);
    let date = date
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap();
    let server = FaultServer::start(vec![
        Reply::s3_error(403, "RequestTimeTooSkewed").header("date", &date),
        ok("a"),
    ])
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    c.bucket("bkt").get_object("k").await.unwrap();
    let skew = logs.events_of("async_s3::clock");
    assert_eq!(skew.len(), 1, "{skew:?}");
    assert_eq!(skew[0].level, Level::WARN);
    let skew_ms: i64 = skew[0].field("skew_ms").unwrap().parse().unwrap();
    assert!((1_195_000..=1_201_000).contains(&skew_ms), "{skew_ms}");
    // The immediate re-signed attempt is logged as a retry without delay.
    assert!(
        story(&logs.events_of("async_s3"))
            .contains(&"retrying after attempt 1: RequestTimeTooSkewed 0".to_owned())
    );
}

/// Hands out fresh credentials, valid one hour, numbered.
#[derive(Debug, Default)]
struct Issuer(AtomicU32);

impl ProvideCredentials for Issuer {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            Ok(Credentials::new(format!("AKIDGEN{n}"), "s")
                .with_expiry(SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800)))
        })
    }

    fn name(&self) -> &'static str {
        "issuer"
    }
}

/// Credentials refreshed (provider, expiry), dropped after `ExpiredToken`, and a failed
/// refresh (provider, reason) are logged.
#[tokio::test]
async fn credential_refreshes_and_failures_are_logged() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = FaultServer::start(vec![Reply::s3_error(400, "ExpiredToken"), ok("a")]).await;
    let c = support::fault_client_builder(&server)
        .credentials_provider(CachedProvider::new(Issuer::default()))
        .build()
        .unwrap();
    c.bucket("bkt").get_object("k").await.unwrap();
    let creds: Vec<String> = logs
        .events_of("async_s3::credentials")
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.message(),
                e.field("provider").unwrap_or("-"),
                e.field("expiry").unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        creds,
        [
            "credentials refreshed issuer 2100-01-01T00:00:00Z",
            "cached credentials dropped: the service said they expired issuer -",
            "credentials refreshed issuer 2100-01-01T00:00:00Z",
        ]
    );

    // A provider that cannot answer: the failure is a warning naming it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/creds", closed.local_addr().unwrap());
    drop(closed);
    let failing = CachedProvider::new(
        async_s3::credentials::ContainerProvider::from_full_uri(url)
            .timeout(Duration::from_secs(2)),
    );
    failing.provide_credentials().await.unwrap_err();
    let failure = logs
        .events_of("async_s3::credentials")
        .into_iter()
        .find(|e| e.level == Level::WARN)
        .expect("a warning");
    assert_eq!(failure.message(), "credentials refresh failed");
    assert_eq!(failure.field("provider"), Some("container"));
    assert_eq!(failure.field("serving_cached"), Some("false"));
    assert!(failure.field("error").is_some_and(|e| !e.is_empty()));
}

/// An aborted multipart upload is logged with its id (info), a failed abort as a warning.
#[tokio::test]
async fn multipart_aborts_are_logged() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = FaultServer::start(vec![
        Reply::new(
            200,
            "application/xml",
            "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>big</Key>\
             <UploadId>UP-42</UploadId></InitiateMultipartUploadResult>",
        ),
        Reply::new(204, "text/plain", ""),
        Reply::s3_error(403, "AccessDenied"),
    ])
    .await;
    let c = support::fault_client_builder(&server).build().unwrap();
    let upload = c
        .bucket("bkt")
        .create_multipart_upload("big")
        .await
        .unwrap();
    upload.abort().await.unwrap();
    upload.abort().await.unwrap_err();
    let events = logs.events_of("async_s3::multipart");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].level, Level::INFO);
    assert_eq!(events[0].message(), "multipart upload aborted");
    assert_eq!(events[0].field("upload_id"), Some("UP-42"));
    assert_eq!(events[0].field("key"), Some("big"));
    assert_eq!(events[1].level, Level::WARN);
    assert!(events[1].field("error").unwrap().contains("AccessDenied"));
}

/// A download range whose body broke off is resumed through the retry policy, and the log
/// says so like any other retry.
#[tokio::test]
async fn a_resumed_download_range_is_logged_as_a_retry() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let object: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let server = FaultServer::with_handler(move |r, all| {
        let reply = support::fault::serve_range(&object, Some("\"v1\""), r);
        match reply {
            Reply::Http {
                status,
                headers,
                body,
            } if all.len() == 1 => Reply::Truncated {
                status,
                headers,
                body,
                send: 1000,
            },
            other => other,
        }
    })
    .await;
    let c = support::fault_client_builder(&server)
        .retry(RetryConfig::with_max_attempts(3).with_backoff(ms(100), ms(1000)))
        .sleep(RecordingSleep::default())
        .jitter(FixedJitter::HALF)
        .build()
        .unwrap();
    let got = c.bucket("bkt").download("k").to_bytes().await.unwrap();
    assert_eq!(got.len(), 64 * 1024);
    let s = story(&logs.events_of("async_s3"));
    assert_eq!(
        s,
        [
            "attempt 1 206",
            "retrying after attempt 1: Transport 50",
            "attempt 2 206",
        ]
    );
}
