//! Authentication failures map to typed errors and never leak secrets (TEST-PLAN R3, X1).

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
