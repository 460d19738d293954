//! STS AssumeRole through the public API, against the scripted server playing STS: the exact
//! signed request, roles from profiles (chained, `credential_source`), refresh before expiry
//! with one STS call however many tasks ask, typed STS errors; the log canary is in
//! tests/credentials_sts_logs.rs (a binary of its own: no other test races its capture).

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::credentials::{AssumeRoleProvider, CachedProvider, ProfileProvider};
use async_s3::signing::{PayloadHash, SignableRequest, Signer};
use async_s3::{Client, Clock, Credentials, ErrorKind, ProvideCredentials};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::fault::{FaultServer, Recorded, Reply};

const SOURCE_SECRET: &str = "CANARY-sts-source-secret";
const SOURCE_TOKEN: &str = "CANARY-sts-source-token";
const ROLE_SECRET: &str = "CANARY-sts-role-secret";
const ROLE_TOKEN: &str = "CANARY-sts-role-token";
const ROLE: &str = "arn:aws:iam::123456789012:role/demo";

/// 2030-01-01T00:00:00Z.
const T0: u64 = 1_893_456_000;

fn assert_clean(what: &str) {
    for canary in [
        SOURCE_SECRET,
        SOURCE_TOKEN,
        ROLE_SECRET,
        ROLE_TOKEN,
        "CANARY",
    ] {
        assert!(!what.contains(canary), "canary {canary} leaked: {what}");
    }
}

/// The AssumeRole answer of the STS API reference, with our keys, expiring at `expiry`.
fn sts_ok(key: &str, n: u32, expiry: &str) -> Reply {
    let body = format!(
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{key}</AccessKeyId>
      <SecretAccessKey>{ROLE_SECRET}{n}</SecretAccessKey>
      <SessionToken>{ROLE_TOKEN}{n}</SessionToken>
      <Expiration>{expiry}</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>"#
    );
    Reply::new(200, "text/xml", body)
}

fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    let body = format!(
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
  <RequestId>rid-{code}</RequestId>
</ErrorResponse>"#
    );
    Reply::new(status, "text/xml", body)
}

/// A clock the test moves.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn at(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }
    fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

fn source() -> Credentials {
    Credentials::new("AKIDSOURCE", SOURCE_SECRET).with_session_token(SOURCE_TOKEN)
}

/// The form body's pairs, decoded.
fn form(req: &Recorded) -> Vec<(String, String)> {
    let text = String::from_utf8(req.body.clone()).unwrap();
    text.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            (k.to_owned(), String::from_utf8(out).unwrap())
        })
        .collect()
}

/// Issue 12: AssumeRole request shape. The request is exactly the documented one, and its
/// signature is the one the crate's public signer computes for it.
#[tokio::test]
async fn assume_role_sends_the_documented_signed_request() {
    let server = FaultServer::start(vec![sts_ok("ASIAROLE", 1, "2030-01-01T01:00:00Z")]).await;
    let clock = TestClock::at(T0);
    let provider = AssumeRoleProvider::new(ROLE, source())
        .region("eu-west-1")
        .sts_endpoint(server.endpoint())
        .session_name("nightly@sync")
        .external_id("partner-42")
        .duration(Duration::from_secs(3600))
        .clock(clock.clone());
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "ASIAROLE");
    assert_eq!(creds.secret_access_key(), format!("{ROLE_SECRET}1"));
    assert_eq!(
        creds.session_token(),
        Some(format!("{ROLE_TOKEN}1").as_str())
    );
    assert_eq!(
        creds.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(T0 + 3600))
    );

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!((req.method.as_str(), req.target.as_str()), ("POST", "/"));
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    assert_eq!(req.header("content-type"), Some(content_type));
    assert_eq!(req.header("x-amz-date"), Some("20300101T000000Z"));
    assert_eq!(req.header("x-amz-security-token"), Some(SOURCE_TOKEN));
    let want = [
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", ROLE),
        ("RoleSessionName", "nightly@sync"),
        ("DurationSeconds", "3600"),
        ("ExternalId", "partner-42"),
    ];
    let got = form(req);
    assert_eq!(
        got.iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        want
    );
    // The signature: SigV4 for service sts in the provider's region, over exactly what was
    // sent.
    let host = server.endpoint().trim_start_matches("http://").to_owned();
    assert_eq!(req.header("host"), Some(host.as_str()));
    let headers = [("content-type", content_type), ("host", host.as_str())];
    let signed = Signer::new("eu-west-1", "sts").sign_headers(
        &source(),
        clock.now(),
        &SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
        },
        &PayloadHash::of(&req.body),
    );
    assert_eq!(
        req.header("authorization"),
        Some(signed.authorization.as_str())
    );
    assert!(
        signed.authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDSOURCE/20300101/eu-west-1/sts/aws4_request, \
             SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, \
             Signature="
        ),
        "{}",
        signed.authorization
    );
    assert_clean(&format!("{provider:?} {creds:?}"));
}

/// Issue 12: refresh before expiry, one STS call however many tasks ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshed_before_expiry_with_one_sts_call_for_many_tasks() {
    let delay = |r: Reply| Reply::Delay(Duration::from_millis(200), Box::new(r));
    let server = FaultServer::start(vec![
        delay(sts_ok("ASIAFIRST", 1, "2030-01-01T01:00:00Z")),
        delay(sts_ok("ASIASECOND", 2, "2030-01-01T02:00:00Z")),
    ])
    .await;
    let clock = TestClock::at(T0);
    let role = AssumeRoleProvider::new(ROLE, source())
        .sts_endpoint(server.endpoint())
        .clock(clock.clone());
    let cached = Arc::new(CachedProvider::new(role).clock(clock.clone()));
    let ask_all = |cached: Arc<CachedProvider>| async move {
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let c = cached.clone();
                tokio::spawn(async move { c.provide_credentials().await.unwrap() })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap().access_key_id().to_owned());
        }
        ids
    };
    let ids = ask_all(cached.clone()).await;
    assert!(ids.iter().all(|id| id == "ASIAFIRST"), "{ids:?}");
    assert_eq!(server.requests().len(), 1, "one STS call for 32 tasks");

    // 54 minutes later: still valid, not yet in the 5-minute refresh margin.
    clock.set(T0 + 54 * 60);
    ask_all(cached.clone()).await;
    assert_eq!(server.requests().len(), 1);

    // 56 minutes later: inside the margin, refreshed once; tasks meanwhile served the
    // still-valid credentials or the new ones, never an error.
    clock.set(T0 + 56 * 60);
    let ids = ask_all(cached.clone()).await;
    assert_eq!(server.requests().len(), 2, "one refresh for 32 tasks");
    assert!(
        ids.iter().all(|id| id == "ASIAFIRST" || id == "ASIASECOND"),
        "{ids:?}"
    );
    assert_eq!(
        cached.provide_credentials().await.unwrap().access_key_id(),
        "ASIASECOND"
    );
    // The refresh was signed with the source again, at the clock's time.
    let second = &server.requests()[1];
    assert_eq!(second.header("x-amz-date"), Some("20300101T005600Z"));
}

/// Issue 12: STS errors typed (AccessDenied, ExpiredToken, RegionDisabled) with the request
/// id; transient ones retryable; nothing secret in any rendering.
#[tokio::test]
async fn sts_errors_are_typed_with_the_request_id() {
    let server = FaultServer::start(vec![
        sts_error(
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/u is not authorized to perform: sts:AssumeRole",
        ),
        sts_error(
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        ),
        sts_error(403, "RegionDisabled", "STS is not activated in this region"),
        sts_error(400, "Throttling", "Rate exceeded"),
        Reply::new(503, "text/html", "<html>busy</html>"),
        Reply::new(200, "text/xml", "<AssumeRoleResponse><oops>"),
    ])
    .await;
    let provider = AssumeRoleProvider::new(ROLE, source()).sts_endpoint(server.endpoint());
    let cases: [(Option<&str>, Option<u16>, bool, &str); 6] = [
        (
            Some("AccessDenied"),
            Some(403),
            false,
            "may not assume this role",
        ),
        (
            Some("ExpiredToken"),
            Some(400),
            false,
            "the source credentials have expired",
        ),
        (
            Some("RegionDisabled"),
            Some(403),
            false,
            "not activated in this region",
        ),
        (Some("Throttling"), Some(400), true, "Rate exceeded"),
        (None, None, true, "HTTP 503 and no readable error"),
        (None, None, false, "cannot be read"),
    ];
    for (code, status, retryable, text) in cases {
        let e = provider.provide_credentials().await.unwrap_err();
        let shown = format!("{e} | {e:?}");
        assert_eq!(e.kind(), ErrorKind::Credentials, "{shown}");
        assert_eq!(e.s3_code(), code, "{shown}");
        assert_eq!(e.status(), status, "{shown}");
        if let Some(code) = code {
            let rid = format!("rid-{code}");
            assert_eq!(e.request_id(), Some(rid.as_str()), "{shown}");
            assert!(shown.contains(&format!("[request id {rid}]")), "{shown}");
        }
        assert_eq!(e.is_retryable(), retryable, "{shown}");
        assert!(shown.contains(text), "{shown} lacks {text}");
        assert!(
            shown.contains(&format!("AssumeRoleProvider ({ROLE})")),
            "{shown}"
        );
        assert_clean(&shown);
    }
    // Bad input never reaches STS.
    let e = AssumeRoleProvider::new("not-an-arn", source())
        .sts_endpoint(server.endpoint())
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(server.requests().len(), 6);
}

/// Issue 12: profile chain source_profile -> role -> role, through the public API; then the
/// role's credentials sign a real request.
#[tokio::test]
async fn a_profile_role_chain_signs_requests_end_to_end() {
    let sts = FaultServer::start(vec![
        sts_ok("ASIAMID", 1, "2030-01-01T01:00:00Z"),
        sts_ok("ASIAPROD", 2, "2030-01-01T01:00:00Z"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile prod]\nrole_arn = arn:aws:iam::111111111111:role/prod\nsource_profile = mid\n\
         role_session_name = prod-session\n\
         [profile mid]\nrole_arn = arn:aws:iam::222222222222:role/mid\nsource_profile = base\n",
    )
    .unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        format!("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = {SOURCE_SECRET}\n"),
    )
    .unwrap();
    let profile = ProfileProvider::new()
        .profile("prod")
        .config_file(&config)
        .credentials_file(&credentials)
        .sts_endpoint(sts.endpoint());
    let described = profile.describe().await.unwrap();
    assert_eq!(
        described,
        "profile \"prod\": assume-role arn:aws:iam::111111111111:role/prod via profile \"prod\" \
         <- assume-role arn:aws:iam::222222222222:role/mid via profile \"mid\" \
         <- static keys of profile \"base\""
    );
    let s3 =
        FaultServer::with_handler(|_, _| Reply::new(200, "text/plain", "").header("etag", "\"e\""))
            .await;
    let client = Client::builder()
        .endpoint(s3.endpoint())
        .region("us-east-1")
        .credentials_provider(CachedProvider::new(profile))
        .build()
        .unwrap();
    let bucket = client.bucket("bkt");
    bucket.put_object("a.txt", b"hello".to_vec()).await.unwrap();
    bucket.put_object("b.txt", b"hello".to_vec()).await.unwrap();
    for r in &s3.requests() {
        assert!(
            r.header("authorization")
                .unwrap()
                .contains("Credential=ASIAPROD/"),
            "{r:?}"
        );
        assert_eq!(
            r.header("x-amz-security-token"),
            Some(format!("{ROLE_TOKEN}2").as_str())
        );
    }
    let reqs = sts.requests();
    assert_eq!(reqs.len(), 2, "cached: the chain was walked once");
    assert!(
        reqs[0]
            .header("authorization")
            .unwrap()
            .contains("Credential=AKIDBASE/")
    );
    assert_eq!(reqs[0].header("x-amz-security-token"), None);
    assert!(
        reqs[1]
            .header("authorization")
            .unwrap()
            .contains("Credential=ASIAMID/")
    );
    assert_eq!(
        reqs[1].header("x-amz-security-token"),
        Some(format!("{ROLE_TOKEN}1").as_str())
    );
    assert_eq!(
        form(&reqs[1])[2..4],
        [
            (
                "RoleArn".to_owned(),
                "arn:aws:iam::111111111111:role/prod".to_owned()
            ),
            ("RoleSessionName".to_owned(), "prod-session".to_owned())
        ]
    );
}
