//! Authentication failures map to typed errors and never leak secrets (test plan rows R3, X1).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, Credentials, ErrorKind};
use support::{ACCESS_KEY, SECRET_KEY, env};

const SECRET_CANARY: &str = "SECRET-CANARY-0123456789abcdefghijklmn";
const TOKEN_CANARY: &str = "TOKEN-CANARY-zyxwvutsrq";

/// TEST-PLAN R3 (403 against the real server: one attempt, typed, with code)
#[tokio::test]
async fn wrong_secret_is_access_denied_after_one_attempt() {
    let e = env("auth").await;
    e.bucket.put_object("k", "v").await.unwrap();
    let bad = Client::builder()
        .endpoint(e.server.endpoint())
        .credentials(Credentials::new(ACCESS_KEY, SECRET_CANARY).with_session_token(TOKEN_CANARY))
        .build()
        .unwrap();
    for err in [
        bad.bucket("auth").get_object("k").await.unwrap_err(),
        bad.bucket("auth").put_object("k2", "v").await.unwrap_err(),
        bad.bucket("auth").list_objects().await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err:?}");
        assert!(err.is_access_denied());
        assert_eq!(err.status(), Some(403));
        assert_eq!(err.attempts(), 1);
        assert!(!err.is_retryable());
        assert!(err.s3_code().is_some());
        for text in [format!("{err}"), format!("{err:?}")] {
            assert!(
                !text.contains(SECRET_CANARY) && !text.contains(TOKEN_CANARY),
                "{text}"
            );
        }
    }
    // HEAD has no error body: the status alone says access denied.
    let err = bad.bucket("auth").head_object("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err:?}");

    let unknown = Client::builder()
        .endpoint(e.server.endpoint())
        .credentials(Credentials::new("AKIAUNKNOWNKEY000000", SECRET_KEY))
        .build()
        .unwrap();
    let err = unknown.bucket("auth").get_object("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err:?}");
}

/// TEST-PLAN X1 (Debug and Display of credentials, builder, client)
#[test]
fn secrets_never_print() {
    let creds = Credentials::new("AKIDPUBLIC", SECRET_CANARY).with_session_token(TOKEN_CANARY);
    let builder = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .credentials(creds.clone());
    let texts = [format!("{creds:?}"), format!("{builder:?}")];
    let client = builder.build().unwrap();
    for text in texts.iter().chain([&format!("{client:?}")]) {
        assert!(!text.contains(SECRET_CANARY), "{text}");
        assert!(!text.contains(TOKEN_CANARY), "{text}");
    }
    assert!(texts[0].contains("AKIDPUBLIC"));
}

/// TEST-PLAN R7: a refused connection is retried (nothing was sent) and then reported clearly.
#[tokio::test]
async fn connection_refused_is_a_retryable_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .credentials(Credentials::new("a", "b"))
        .retry(async_s3::RetryConfig::with_max_attempts(2))
        .build()
        .unwrap();
    let err = client.bucket("bkt").get_object("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 2);
    assert!(std::error::Error::source(&err).is_some());
}

/// Hands out the canary credentials, valid for an hour, each time it is asked.
#[derive(Debug)]
struct Canary;

impl async_s3::ProvideCredentials for Canary {
    fn provide_credentials(&self) -> async_s3::CredentialsFuture<'_> {
        Box::pin(async {
            Ok(Credentials::new("AKIDCANARY", SECRET_CANARY)
                .with_session_token(TOKEN_CANARY)
                .with_expiry(std::time::SystemTime::now() + std::time::Duration::from_secs(3600)))
        })
    }
}

/// Nothing the capture saw may hold a secret, a token, a signature or an Authorization value.
fn assert_logs_clean(logs: &support::logs::LogCapture, secrets: &[String]) {
    let lines = logs.all_text_except(&["s3s"]);
    assert!(!lines.is_empty(), "the capture saw nothing");
    for line in &lines {
        for s in secrets {
            assert!(!line.contains(s.as_str()), "{s:?} leaked: {line}");
        }
        for marker in ["AWS4-HMAC-SHA256", "X-Amz-Signature", "Signature="] {
            assert!(!line.contains(marker), "{marker} in the log: {line}");
        }
    }
}

/// TEST-PLAN X1 (logs): with a secret key and a session token, requests that fail, are
/// retried, refresh their credentials, resume a broken download and abort an upload, and a
/// presigned URL: no captured event (any target, any level down to TRACE) contains the
/// secret, the token, a signature or the Authorization header.
#[tokio::test]
async fn secrets_never_reach_the_logs() {
    use support::fault::{FaultServer, Reply, serve_range};
    let logs = support::logs::LogCapture::default();
    let _guard = logs.install();
    let object: Vec<u8> = (0..32 * 1024).map(|i| (i % 251) as u8).collect();
    let server = FaultServer::with_handler(move |r, all| {
        let seen = all.iter().filter(|x| x.target == r.target).count();
        match (r.method.as_str(), r.target.as_str()) {
            (_, t) if t.starts_with("/bkt/retry") && seen == 1 => Reply::s3_error(503, "SlowDown"),
            (_, t) if t.starts_with("/bkt/expired") && seen == 1 => {
                Reply::s3_error(400, "ExpiredToken")
            }
            (_, t) if t.starts_with("/bkt/denied") => Reply::s3_error(403, "AccessDenied"),
            ("POST", _) => Reply::new(
                200,
                "application/xml",
                "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>up</Key>\
                 <UploadId>UP-1</UploadId></InitiateMultipartUploadResult>",
            ),
            ("DELETE", _) => Reply::new(204, "text/plain", ""),
            (_, t) if t.starts_with("/bkt/big") => match serve_range(&object, Some("\"v\""), r) {
                Reply::Http {
                    status,
                    headers,
                    body,
                } if seen == 1 => Reply::Truncated {
                    status,
                    headers,
                    body,
                    send: 100,
                },
                other => other,
            },
            _ => Reply::new(200, "text/plain", "ok"),
        }
    })
    .await;
    let client = support::fault_client_builder(&server)
        .credentials_provider(async_s3::credentials::CachedProvider::new(Canary))
        .sleep(support::timing::RecordingSleep::default())
        .build()
        .unwrap();
    let b = client.bucket("bkt");
    b.get_object("retry").await.unwrap();
    b.get_object("expired").await.unwrap();
    let err = b.get_object("denied").await.unwrap_err();
    let big = b.download("big").to_bytes().await.unwrap();
    assert_eq!(big.len(), 32 * 1024);
    b.create_multipart_upload("up")
        .await
        .unwrap()
        .abort()
        .await
        .unwrap();
    let url = b
        .presign_get("k", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .url;
    // A file body over http: aws-chunked, a signature per chunk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, vec![7u8; 100_000]).unwrap();
    b.put_object("file", async_s3::Body::from_file(&path))
        .await
        .unwrap();

    // Everything secret the client produced: the canaries, each signature sent (chunk
    // signatures included), the presigned URL's signature.
    let mut secrets = vec![SECRET_CANARY.to_owned(), TOKEN_CANARY.to_owned()];
    for r in server.requests() {
        let auth = r.header("authorization").unwrap();
        secrets.push(auth.rsplit("Signature=").next().unwrap().to_owned());
        let body = String::from_utf8_lossy(&r.body).into_owned();
        for piece in body.split("chunk-signature=").skip(1) {
            secrets.push(piece[..64].to_owned());
        }
    }
    assert!(
        secrets.len() > 14,
        "the chunk signatures of the file upload are among them"
    );
    secrets.push(url.rsplit("X-Amz-Signature=").next().unwrap().to_owned());
    assert!(secrets.len() > 10);
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains(SECRET_CANARY) && !text.contains(TOKEN_CANARY));
    }
    let events = logs.events_of("async_s3");
    for expected in [
        "attempt failed",
        "retrying",
        "credentials refreshed",
        "cached credentials dropped: the service said they expired",
        "multipart upload aborted",
    ] {
        assert!(
            events.iter().any(|e| e.message() == expected),
            "no {expected:?} event in {events:#?}"
        );
    }
    assert_logs_clean(&logs, &secrets);
}

/// TEST-PLAN X1 (logs of a full upload and download against the real server): the secret
/// key appears in no event, whatever the level or target.
#[tokio::test]
async fn a_full_transfer_logs_no_secret() {
    let logs = support::logs::LogCapture::default();
    let _guard = logs.install();
    let e = env("logs").await;
    let data = support::data(12 << 20, 7);
    e.bucket
        .upload("big")
        .part_size(5 << 20)
        .from_bytes(data.clone())
        .await
        .unwrap();
    let got = e
        .bucket
        .download("big")
        .part_size(4 << 20)
        .to_bytes()
        .await
        .unwrap();
    assert!(got == data);
    assert!(!logs.events_of("async_s3::attempt").is_empty());
    assert_logs_clean(&logs, &[SECRET_KEY.to_owned()]);
}
