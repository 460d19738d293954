//! Secrets against a process-wide log capture (test plan row X1): the capture is the global
//! `tracing` subscriber and the `log` logger, so it sees every thread (runtime workers, the
//! blocking pool, plain threads) and what reqwest logs through the `log` facade. A binary of
//! its own: a global subscriber cannot be uninstalled, and would see the other tests' events.
//! So this binary must hold exactly one test: a second one running alongside would log into
//! the same capture (its own secrets, its own probes) and skew the counts below.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{
    Body, ChecksumAlgorithm, Client, Credentials, ErrorKind, ProxyConfig, SseCustomerKey,
};
use std::sync::OnceLock;
use support::logs::LogCapture;
use support::{SECRET_KEY, env};

const SECRET_CANARY: &str = "SECRET-CANARY-global-0123456789abcdefgh";
const TOKEN_CANARY: &str = "TOKEN-CANARY-global-zyxwvuts";
/// 32 bytes: a valid SSE-C key, as text so a leak of the raw key is findable too.
const SSE_C_CANARY: &str = "SSEC-CANARY-global-0123456789abc";

/// The one capture of this binary, installed on first use.
fn capture() -> &'static LogCapture {
    static CAPTURE: OnceLock<LogCapture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = LogCapture::default();
        capture.install_global();
        capture
    })
}

/// A leak probe's stand-in secret: nothing but the probe logs it.
const PROBE_MARKER: &str = "PROBE-LEAK-MARKER-3141592653";

/// Every captured line (the in-process server's own events aside) that holds one of `secrets`,
/// a signature or an Authorization value, each with what it holds; none when clean.
fn leaks(logs: &LogCapture, secrets: &[&str]) -> Vec<String> {
    let lines = logs.all_text_except(&["s3s"]);
    assert!(!lines.is_empty(), "the capture saw nothing");
    let mut found = Vec::new();
    for line in &lines {
        for s in secrets {
            if line.contains(s) {
                found.push(format!("{s:?} leaked: {line}"));
            }
        }
        for marker in ["AWS4-HMAC-SHA256", "X-Amz-Signature", "Signature="] {
            if line.contains(marker) {
                found.push(format!("{marker} in the log: {line}"));
            }
        }
    }
    found
}

/// TEST-PLAN X1 (logs, every thread and the `log` facade): a full upload and download of files
/// with checksums (hashing and writing on the blocking pool) against the real server, a client
/// with canary credentials refused there, and a canary presigned URL: no captured event or
/// `log` record, from any thread, at any level down to TRACE, holds the secret keys, the
/// token, a signature or an Authorization value. Probes show the capture really sees the
/// blocking pool, plain threads and `log` records, and that a leak through them is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_thread_and_no_log_record_carries_a_secret() {
    let logs = capture();
    let e = env("global-logs").await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let data = support::data(11 << 20, 3);
    std::fs::write(&source, &data).unwrap();
    e.bucket
        .upload("big")
        .part_size(5 << 20)
        .checksum(ChecksumAlgorithm::Crc32c)
        .from_path(&source)
        .await
        .unwrap();
    let dest = dir.path().join("dest.bin");
    let out = e
        .bucket
        .download("big")
        .part_size(4 << 20)
        .validate_checksum()
        .to_path(&dest)
        .await
        .unwrap();
    assert_eq!(out.size, data.len() as u64);
    assert!(std::fs::read(&dest).unwrap() == data);

    let canary = Client::builder()
        .endpoint(e.server.endpoint())
        .region("us-east-1")
        .credentials(Credentials::new("AKIDCANARY", SECRET_CANARY).with_session_token(TOKEN_CANARY))
        .proxy(ProxyConfig::None)
        .build()
        .unwrap();
    // A small body: the server refuses before reading it, so a large one could meet a closed
    // connection instead of the answer.
    for err in [
        canary
            .bucket("global-logs")
            .get_object("big")
            .await
            .unwrap_err(),
        canary
            .bucket("global-logs")
            .put_object("denied", Body::from(vec![1u8; 100]))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err:?}");
    }
    // An SSE-C key on a put, a get and a presigned URL (the in-process server may answer
    // either way; what matters is what the client logs and what its errors say).
    let sse = SseCustomerKey::new(SSE_C_CANARY).unwrap();
    let sse_b64 = support::sigcheck::base64(SSE_C_CANARY.as_bytes());
    let put = e
        .bucket
        .put_object("sse-c", Body::from(vec![7u8; 100]))
        .sse_customer_key(&sse)
        .await;
    let get = e.bucket.get_object("sse-c").sse_customer_key(&sse).await;
    for text in [
        format!("{put:?}"),
        format!("{:?}", get.as_ref().map(|_| ())),
        format!("{sse:?}"),
    ] {
        assert!(
            !text.contains(SSE_C_CANARY) && !text.contains(&sse_b64),
            "{text}"
        );
    }
    if let Err(err) = &put {
        assert!(!err.to_string().contains(&sse_b64), "{err}");
    }
    let url = canary
        .bucket("global-logs")
        .presign_get("big", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .url;
    let url_signature = url.rsplit("X-Amz-Signature=").next().unwrap().to_owned();

    // Probes: the capture sees the blocking pool, a plain thread and `log` records.
    tokio::task::spawn_blocking(|| tracing::info!(target: "probe", "from the blocking pool"))
        .await
        .unwrap();
    std::thread::spawn(|| log::info!(target: "probe", "from a plain thread"))
        .join()
        .unwrap();
    let probes: Vec<String> = logs.events_of("probe").iter().map(|e| e.text()).collect();
    assert_eq!(probes.len(), 2, "{probes:?}");
    let reqwest = logs.events_of("reqwest");
    assert!(!reqwest.is_empty(), "reqwest's `log` records were captured");
    for expected in ["attempt answered", "attempt failed"] {
        assert!(
            logs.events_of("async_s3")
                .iter()
                .any(|e| e.message() == expected),
            "no {expected:?} event"
        );
    }

    let secrets = [
        SECRET_KEY,
        SECRET_CANARY,
        TOKEN_CANARY,
        SSE_C_CANARY,
        sse_b64.as_str(),
        url_signature.as_str(),
    ];
    assert_eq!(leaks(logs, &secrets), Vec::<String>::new());

    // And the check finds a secret that goes out through the `log` facade on the blocking
    // pool: the probe's own marker, found in exactly the probe's record.
    assert_eq!(leaks(logs, &[PROBE_MARKER]), Vec::<String>::new());
    tokio::task::spawn_blocking(|| log::trace!(target: "probe", "key {PROBE_MARKER}"))
        .await
        .unwrap();
    let found = leaks(logs, &[PROBE_MARKER]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&format!("key {PROBE_MARKER}")),
        "{found:?}"
    );
    assert_eq!(leaks(logs, &secrets), Vec::<String>::new());
}
