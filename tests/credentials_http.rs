//! The HTTP credential providers through their public constructors, against scripted local
//! servers playing the container endpoint, IMDSv2 and STS; and IMDS credentials signing a
//! real request end to end.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::credentials::{ContainerProvider, ImdsProvider, WebIdentityProvider};
use async_s3::{Client, ErrorKind, ProvideCredentials};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};
use support::fault::{FaultServer, Recorded, Reply};

const SECRET: &str = "CANARY-SECRET-http-providers";
const SESSION: &str = "CANARY-SESSION-http-providers";
const AUTH: &str = "CANARY-AUTH-http-providers";
const API_TOKEN: &str = "CANARY-IMDS-TOKEN";
const JWT: &str = "eyJCANARY-JWT.http-providers";

/// 2030-01-02T03:04:05Z.
const EXPIRY_SECS: u64 = 1_893_553_445;

const ROLES: &str = "/latest/meta-data/iam/security-credentials/";

/// Neither Display nor Debug of `what` holds a canary.
fn assert_clean(what: &str) {
    for canary in [SECRET, SESSION, AUTH, API_TOKEN, JWT] {
        assert!(!what.contains(canary), "canary {canary} leaked: {what}");
    }
}

fn json_creds(key: &str) -> String {
    format!(
        r#"{{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{key}",
            "SecretAccessKey":"{SECRET}","Token":"{SESSION}","Expiration":"2030-01-02T03:04:05Z"}}"#
    )
}

fn json(body: String) -> Reply {
    Reply::new(200, "application/json", body)
}

fn text(status: u16, body: &str) -> Reply {
    Reply::new(status, "text/plain", body)
}

// ---- Container -----------------------------------------------------------------------------

#[tokio::test]
async fn container_full_uri_with_authorization_token() {
    let server = FaultServer::with_handler(|_, _| json(json_creds("ASIACONTAINER"))).await;
    let provider =
        ContainerProvider::from_full_uri(format!("{}/v1/credentials", server.endpoint()))
            .authorization_token(AUTH);
    assert_clean(&format!("{provider:?}"));
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "ASIACONTAINER");
    assert_eq!(creds.secret_access_key(), SECRET);
    assert_eq!(creds.session_token(), Some(SESSION));
    let expiry = creds.expiry().unwrap().duration_since(UNIX_EPOCH).unwrap();
    assert_eq!(expiry.as_secs(), EXPIRY_SECS);
    assert_clean(&format!("{creds:?}"));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].target, "/v1/credentials");
    assert_eq!(reqs[0].header("authorization"), Some(AUTH));
}

#[tokio::test]
async fn container_token_file_is_read_at_each_call() {
    let server = FaultServer::with_handler(|_, _| json(json_creds("ASIAFILE"))).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eks-pod-identity-token");
    std::fs::write(&file, format!("{AUTH}-1\n")).unwrap();
    let provider =
        ContainerProvider::from_full_uri(server.endpoint()).authorization_token_file(&file);
    provider.provide_credentials().await.unwrap();
    std::fs::write(&file, format!("{AUTH}-2")).unwrap();
    provider.provide_credentials().await.unwrap();
    let seen: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(seen, [format!("{AUTH}-1"), format!("{AUTH}-2")]);
}

/// The host rules themselves are unit-tested without any request (`check_full_uri`); here
/// only URIs that could never leave this machine are used, so a regression in the rules cannot
/// send the token anywhere.
#[tokio::test]
async fn container_refuses_a_full_uri_that_is_not_allowed() {
    for uri in ["ftp://127.0.0.1/creds", "http://user:pw@127.0.0.1:9/creds"] {
        let err = ContainerProvider::from_full_uri(uri)
            .authorization_token(AUTH)
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Credentials);
        let msg = err.to_string();
        assert!(msg.contains("ContainerProvider: "), "{msg}");
        assert_clean(&format!("{err} {err:?}"));
    }
}

#[tokio::test]
async fn container_error_answers_are_clear() {
    let server = FaultServer::start(vec![
        Reply::new(
            401,
            "application/json",
            r#"{"code":"InvalidToken","message":"bad authorization"}"#,
        ),
        json(format!(
            r#"{{"AccessKeyId":"A","SecretAccessKey":"{SECRET}","#
        )),
    ])
    .await;
    let provider = ContainerProvider::from_full_uri(server.endpoint()).authorization_token(AUTH);
    let err = provider.provide_credentials().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("HTTP 401: InvalidToken: bad authorization"),
        "{err}"
    );
    let err = provider.provide_credentials().await.unwrap_err();
    assert!(err.to_string().contains("JSON"), "{err}");
    assert_clean(&format!("{err} {err:?}"));
}

// ---- IMDSv2 --------------------------------------------------------------------------------

/// IMDSv2 with tokens `API_TOKEN-<n>`; tokens below `min_token` draw a 401.
fn imds(req: &Recorded, issued: &AtomicUsize, min_token: &AtomicUsize) -> Reply {
    if req.method == "PUT" {
        if req.target != "/latest/api/token"
            || req.header("x-aws-ec2-metadata-token-ttl-seconds").is_none()
        {
            return text(400, "");
        }
        let n = issued.fetch_add(1, Ordering::SeqCst);
        return text(200, &format!("{API_TOKEN}-{n}"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", "21600");
    }
    let valid = req
        .header("x-aws-ec2-metadata-token")
        .and_then(|t| t.strip_prefix(&format!("{API_TOKEN}-")))
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= min_token.load(Ordering::SeqCst));
    if !valid {
        return text(401, "");
    }
    match req.target.as_str() {
        ROLES => text(200, "s3-reader\n"),
        "/latest/meta-data/iam/security-credentials/s3-reader" => json(json_creds("ASIAIMDS")),
        _ => text(404, ""),
    }
}

async fn imds_server() -> (FaultServer, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let min = Arc::new(AtomicUsize::new(0));
    let m = min.clone();
    let server = FaultServer::with_handler(move |req, _| imds(req, &issued, &m)).await;
    (server, min)
}

fn steps(reqs: &[Recorded]) -> Vec<(String, String, String)> {
    reqs.iter()
        .map(|r| {
            (
                r.method.clone(),
                r.target.clone(),
                r.header("x-aws-ec2-metadata-token")
                    .unwrap_or("-")
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn imds_takes_the_token_step_first() {
    let (server, _) = imds_server().await;
    let provider = ImdsProvider::builder().endpoint(server.endpoint()).build();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "ASIAIMDS");
    assert_eq!(creds.session_token(), Some(SESSION));
    let expiry = creds.expiry().unwrap().duration_since(UNIX_EPOCH).unwrap();
    assert_eq!(expiry.as_secs(), EXPIRY_SECS);

    let reqs = server.requests();
    assert_eq!(
        reqs[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    let t0 = format!("{API_TOKEN}-0");
    let want = [
        ("PUT", "/latest/api/token", "-"),
        ("GET", ROLES, t0.as_str()),
        (
            "GET",
            "/latest/meta-data/iam/security-credentials/s3-reader",
            t0.as_str(),
        ),
    ];
    let got = steps(&reqs);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), w);
    }
    assert_clean(&format!("{provider:?}"));
}

#[tokio::test]
async fn imds_renews_an_expired_token_once() {
    let (server, min) = imds_server().await;
    let provider = ImdsProvider::builder().endpoint(server.endpoint()).build();
    provider.provide_credentials().await.unwrap();
    // The cached token is reused...
    provider.provide_credentials().await.unwrap();
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count(),
        1
    );
    // ...until the service stops accepting it: one 401, one new token, and on.
    min.store(1, Ordering::SeqCst);
    provider.provide_credentials().await.unwrap();
    let got = steps(&server.requests()[5..]);
    let t0 = format!("{API_TOKEN}-0");
    let t1 = format!("{API_TOKEN}-1");
    let want = [
        ("GET", ROLES, t0.as_str()),
        ("PUT", "/latest/api/token", "-"),
        ("GET", ROLES, t1.as_str()),
        (
            "GET",
            "/latest/meta-data/iam/security-credentials/s3-reader",
            t1.as_str(),
        ),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), w);
    }
}

#[tokio::test]
async fn imds_missing_token_is_refused_with_401() {
    // A service that refuses every token, as one would a request without one.
    let server = FaultServer::with_handler(|req, _| match req.method.as_str() {
        "PUT" => text(200, API_TOKEN),
        _ => text(401, ""),
    })
    .await;
    let provider = ImdsProvider::builder().endpoint(server.endpoint()).build();
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert!(
        err.to_string()
            .starts_with("credentials error: ImdsProvider: "),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 401"), "{err}");
    assert_clean(&format!("{err} {err:?}"));
    assert_eq!(server.requests().len(), 2, "no renewal for a fresh token");
}

#[tokio::test]
async fn imds_role_listing_and_failure_codes() {
    let server = FaultServer::with_handler(|req, _| match (req.method.as_str(), req.target.as_str()) {
        ("PUT", _) => text(200, API_TOKEN),
        (_, ROLES) => text(200, "first-role\nsecond-role\n"),
        (_, "/latest/meta-data/iam/security-credentials/first-role") => json(format!(
            r#"{{"Code":"AssumeRoleUnauthorizedAccess","Message":"not trusted","SecretAccessKey":"{SECRET}"}}"#
        )),
        _ => text(404, ""),
    })
    .await;
    let err = ImdsProvider::builder()
        .endpoint(server.endpoint())
        .build()
        .provide_credentials()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("Code AssumeRoleUnauthorizedAccess: not trusted"),
        "{msg}"
    );
    assert!(msg.contains("first-role"), "{msg}");
    assert_clean(&format!("{err} {err:?}"));
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.target.ends_with("second-role"))
    );
}

#[tokio::test]
async fn imds_answers_quickly_when_nothing_listens() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let started = std::time::Instant::now();
    let err = ImdsProvider::builder()
        .endpoint(format!("http://{addr}"))
        .timeout(Duration::from_millis(300))
        .build()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert!(err.to_string().contains("not running on EC2"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn imds_stalled_service_times_out() {
    let server = FaultServer::with_handler(|_, _| Reply::Stall(Duration::from_secs(10))).await;
    let started = std::time::Instant::now();
    let err = ImdsProvider::builder()
        .endpoint(server.endpoint())
        .timeout(Duration::from_millis(300))
        .build()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert!(started.elapsed() < Duration::from_secs(5), "{err}");
}

#[tokio::test]
async fn imds_credentials_sign_requests_end_to_end() {
    let (metadata, _) = imds_server().await;
    let s3 = FaultServer::with_handler(|_, _| text(200, "").header("etag", "\"e\"")).await;
    let provider = async_s3::credentials::CachedProvider::new(
        ImdsProvider::builder()
            .endpoint(metadata.endpoint())
            .build(),
    );
    let client = Client::builder()
        .endpoint(s3.endpoint())
        .region("us-east-1")
        .credentials_provider(provider)
        .build()
        .unwrap();
    let bucket = client.bucket("bkt");
    bucket.put_object("a.txt", b"hello".to_vec()).await.unwrap();
    bucket.put_object("b.txt", b"hello".to_vec()).await.unwrap();
    let reqs = s3.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert!(
            r.header("authorization")
                .unwrap()
                .contains("Credential=ASIAIMDS/"),
            "{r:?}"
        );
        assert_eq!(r.header("x-amz-security-token"), Some(SESSION));
    }
    // Cached: the metadata service was asked once.
    assert_eq!(metadata.requests().len(), 3);
}

// ---- STS web identity ----------------------------------------------------------------------

const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/web-reader";

fn sts_ok() -> Reply {
    let body = format!(
        r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIASTS</AccessKeyId>
      <SecretAccessKey>{SECRET}</SecretAccessKey>
      <SessionToken>{SESSION}</SessionToken>
      <Expiration>2030-01-02T03:04:05Z</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>{ROLE_ARN}/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>req-ok</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#
    );
    Reply::new(200, "text/xml", body)
}

fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    let body = format!(
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
  <RequestId>req-err</RequestId>
</ErrorResponse>"#
    );
    Reply::new(status, "text/xml", body)
}

fn token_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{JWT}\n")).unwrap();
    (dir, path)
}

#[tokio::test]
async fn web_identity_assumes_the_role() {
    let server = FaultServer::start(vec![sts_ok()]).await;
    let (_dir, path) = token_file();
    let provider = WebIdentityProvider::from_token_file(ROLE_ARN, &path)
        .session_name("ci-run-42")
        .sts_endpoint(server.endpoint());
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "ASIASTS");
    assert_eq!(creds.secret_access_key(), SECRET);
    assert_eq!(creds.session_token(), Some(SESSION));
    let expiry = creds.expiry().unwrap().duration_since(UNIX_EPOCH).unwrap();
    assert_eq!(expiry.as_secs(), EXPIRY_SECS);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        req.header("authorization").is_none(),
        "the call is unsigned"
    );
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(
        body.starts_with("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&"),
        "{body}"
    );
    assert!(
        body.contains("&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fweb-reader&"),
        "{body}"
    );
    assert!(body.contains("&RoleSessionName=ci-run-42&"), "{body}");
    assert!(
        body.ends_with("&WebIdentityToken=eyJCANARY-JWT.http-providers"),
        "{body}"
    );
    assert_clean(&format!("{provider:?}"));
}

#[tokio::test]
async fn web_identity_sts_errors_are_clear() {
    let server = FaultServer::start(vec![
        sts_error(
            400,
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account",
        ),
        Reply::new(
            200,
            "text/xml",
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>",
        ),
        Reply::new(
            200,
            "text/xml",
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult/>\
             </AssumeRoleWithWebIdentityResponse>",
        ),
    ])
    .await;
    let (_dir, path) = token_file();
    let provider =
        WebIdentityProvider::from_token_file(ROLE_ARN, &path).sts_endpoint(server.endpoint());

    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    let msg = err.to_string();
    assert!(
        msg.starts_with("credentials error: WebIdentityProvider: "),
        "{msg}"
    );
    assert!(msg.contains("InvalidIdentityToken"), "{msg}");
    assert!(msg.contains("No OpenIDConnect provider"), "{msg}");
    assert!(msg.contains(ROLE_ARN), "{msg}");
    assert!(!err.is_retryable());
    assert_clean(&format!("{err} {err:?}"));

    for _ in 0..2 {
        let err = provider.provide_credentials().await.unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
        assert_clean(&format!("{err} {err:?}"));
    }
}
