//! The secrets canary (TEST-PLAN X1) extended to STS AssumeRole: every log event of a refresh,
//! a failed refresh and requests signed with role credentials, and every error, is free of
//! secrets and tokens. One test in its own binary, so no test on another thread registers the
//! log call sites while the capture is installed.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::credentials::{AssumeRoleProvider, CachedProvider};
use async_s3::{Client, Clock, Credentials, ErrorKind, ProvideCredentials};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::fault::{FaultServer, Reply};
use support::logs::LogCapture;

const SOURCE_SECRET: &str = "CANARY-sts-source-secret";
const SOURCE_TOKEN: &str = "CANARY-sts-source-token";
const ROLE_SECRET: &str = "CANARY-sts-role-secret";
const ROLE_TOKEN: &str = "CANARY-sts-role-token";
const ROLE: &str = "arn:aws:iam::123456789012:role/demo";

/// 2030-01-01T00:00:00Z.
const T0: u64 = 1_893_456_000;

fn assert_clean(what: &str) {
    assert!(!what.contains("CANARY"), "a canary leaked: {what}");
}

fn sts_ok() -> Reply {
    let body = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
         <Credentials><AccessKeyId>ASIALOG</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey>\
         <SessionToken>{ROLE_TOKEN}</SessionToken><Expiration>2030-01-01T01:00:00Z</Expiration>\
         </Credentials></AssumeRoleResult></AssumeRoleResponse>"
    );
    Reply::new(200, "text/xml", body)
}

fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>\
         </Error><RequestId>rid-{code}</RequestId></ErrorResponse>"
    );
    Reply::new(status, "text/xml", body)
}

/// A clock the test moves.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

fn source() -> Credentials {
    Credentials::new("AKIDSOURCE", SOURCE_SECRET).with_session_token(SOURCE_TOKEN)
}

/// TEST-PLAN X1, the secrets canary extended to STS: every log event of a refresh, a failed refresh and a
/// request signed with role credentials, and every error, is free of secrets and tokens.
#[tokio::test]
async fn no_secret_or_token_in_logs_or_errors() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let sts = FaultServer::start(vec![
        sts_ok(),
        // A service that echoes the request's token must not carry it into logs or errors.
        sts_error(403, "AccessDenied", &format!("denied {SOURCE_TOKEN}")),
    ])
    .await;
    let clock = TestClock(Arc::new(AtomicU64::new(T0)));
    let role = AssumeRoleProvider::new(ROLE, source())
        .sts_endpoint(sts.endpoint())
        .clock(clock.clone());
    let cached = Arc::new(CachedProvider::new(role).clock(clock.clone()));
    let s3 = FaultServer::start(vec![
        Reply::s3_error(500, "InternalError"),
        Reply::new(200, "text/plain", "").header("etag", "\"e\""),
    ])
    .await;
    let client = Client::builder()
        .endpoint(s3.endpoint())
        .region("us-east-1")
        .credentials_provider(SharedProvider(cached.clone()))
        .build()
        .unwrap();
    client
        .bucket("bkt")
        .put_object("k", b"x".to_vec())
        .await
        .unwrap();
    // Past expiry: the refresh fails and the error reaches the caller.
    clock.0.store(T0 + 2 * 3600, Ordering::SeqCst);
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let e = client
        .bucket("bkt")
        .put_object("k2", b"x".to_vec())
        .await
        .unwrap_err();
    errors.lock().unwrap().push(format!("{e} | {e:?}"));
    assert_eq!(e.kind(), ErrorKind::Credentials, "{e}");
    let events = logs.all_text_except(&[]);
    assert!(
        events.iter().any(|l| l.contains("credentials refreshed")),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.contains("credentials refresh failed")),
        "{events:#?}"
    );
    for line in events.iter().chain(errors.lock().unwrap().iter()) {
        assert_clean(line);
    }
}

/// Hands a shared `CachedProvider` to the client while the test keeps a handle.
#[derive(Debug)]
struct SharedProvider(Arc<CachedProvider>);

impl ProvideCredentials for SharedProvider {
    fn provide_credentials(&self) -> async_s3::CredentialsFuture<'_> {
        self.0.provide_credentials()
    }
    fn invalidate(&self) {
        self.0.invalidate();
    }
    fn name(&self) -> &'static str {
        "shared"
    }
}
