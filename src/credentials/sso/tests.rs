//! Profiles using IAM Identity Center against a local server playing the SSO portal and
//! OIDC, with the token cache in a temporary home: the exact requests, the refresh and its
//! atomic write back, and the cache files that must give a clear error and stay untouched.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use crate::ErrorKind;
use crate::credentials::env::MapEnv;
use crate::credentials::test_server::{Request, TestServer};
use crate::credentials::{ProfileProvider, ProvideCredentials};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const ACCESS: &str = "CANARY-sso-access-token";
const REFRESH: &str = "CANARY-sso-refresh-token";
const CLIENT_SECRET: &str = "CANARY-sso-client-secret";
const NEW_ACCESS: &str = "CANARY-sso-new-access";
const NEW_REFRESH: &str = "CANARY-sso-new-refresh";
const ROLE_SECRET: &str = "CANARY-sso-role-secret";
const ROLE_TOKEN: &str = "CANARY-sso-role-token";

/// SHA-1 of "corp" and of the legacy start URL, as Python's hashlib computes them.
const CORP_FILE: &str = "ee0bfd2552fbd840c02cc48b6e823320543c450f.json";
const LEGACY_FILE: &str = "79e435d7a515078e81c9dffc35f38d5687ebd3a7.json";
const LEGACY_URL: &str = "https://legacy.awsapps.com/start";

const CONFIG: &str = "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n\
     sso_role_name = ReadOnly\nregion = eu-west-1\n\
     [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-2\n\
     sso_registration_scopes = sso:account:access\n\
     [profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-2\n\
     sso_account_id = 111122223333\nsso_role_name = Admin\n";

fn assert_clean(text: &str) {
    assert!(!text.contains("CANARY"), "a secret leaked: {text}");
}

fn rfc3339(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

fn in_secs(secs: i64) -> String {
    let now = SystemTime::now();
    rfc3339(if secs >= 0 {
        now + Duration::from_secs(secs.unsigned_abs())
    } else {
        now - Duration::from_secs(secs.unsigned_abs())
    })
}

/// The cache document `aws sso login` writes for a session, expiring in `secs`.
fn session_token(secs: i64) -> String {
    format!(
        r#"{{"startUrl": "https://corp.awsapps.com/start", "region": "us-east-2",
  "accessToken": "{ACCESS}", "expiresAt": "{}", "clientId": "client-123",
  "clientSecret": "{CLIENT_SECRET}", "registrationExpiresAt": "{}",
  "refreshToken": "{REFRESH}"}}"#,
        in_secs(secs),
        in_secs(90 * 24 * 3600)
    )
}

/// A home with the config file and the cache directory; the environment points the SSO
/// endpoints at `server`.
struct Home {
    dir: tempfile::TempDir,
    env: MapEnv,
}

impl Home {
    fn new(server: &TestServer) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws/sso/cache")).unwrap();
        std::fs::write(dir.path().join(".aws/config"), CONFIG).unwrap();
        let env = MapEnv::default()
            .with("HOME", dir.path().display().to_string())
            .with("AWS_ENDPOINT_URL_SSO", format!("{}/", server.url()))
            .with("AWS_ENDPOINT_URL_SSO_OIDC", server.url());
        Self { dir, env }
    }

    fn cache(&self, name: &str) -> PathBuf {
        self.dir.path().join(".aws/sso/cache").join(name)
    }

    fn provider(&self, profile: &str) -> ProfileProvider {
        ProfileProvider::with_env(Arc::new(self.env.clone())).profile(profile)
    }

    fn cache_dir_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join(".aws/sso/cache"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn role_credentials() -> String {
    format!(
        r#"{{"roleCredentials":{{"accessKeyId":"ASIASSO","secretAccessKey":"{ROLE_SECRET}",
            "sessionToken":"{ROLE_TOKEN}","expiration":1893553445000}}}}"#
    )
}

/// Plays the portal (role credentials) and OIDC (a new token), each as documented.
async fn portal_and_oidc() -> TestServer {
    TestServer::start(|r: &Request, _| {
        if r.target.starts_with("/token") {
            let body = format!(
                r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28800,"refreshToken":"{NEW_REFRESH}","tokenType":"Bearer"}}"#
            );
            (200, body)
        } else {
            (200, role_credentials())
        }
    })
    .await
}

/// Issue 12: SSO role credentials from a valid cached token.
#[tokio::test]
async fn a_cached_token_gets_role_credentials_from_the_portal() {
    let server = portal_and_oidc().await;
    let home = Home::new(&server);
    std::fs::write(home.cache(CORP_FILE), session_token(3600)).unwrap();
    let p = home.provider("dev");
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIASSO");
    assert_eq!(c.secret_access_key(), ROLE_SECRET);
    assert_eq!(c.session_token(), Some(ROLE_TOKEN));
    assert_eq!(
        c.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(1_893_553_445))
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "no refresh for a token valid an hour");
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(
        reqs[0].target,
        "/federation/credentials?account_id=111122223333&role_name=ReadOnly"
    );
    assert_eq!(reqs[0].header("x-amz-sso_bearer_token"), Some(ACCESS));
    assert_eq!(reqs[0].header("authorization"), None);
    assert_eq!(
        p.describe().await.unwrap(),
        "profile \"dev\": sso role ReadOnly in account 111122223333 (sso-session \"corp\") \
         of profile \"dev\""
    );
    assert_clean(&format!("{p:?} {c:?}"));
}

/// Issue 12: an expired SSO token refreshed through OIDC and written back atomically.
#[tokio::test]
async fn an_expired_token_is_refreshed_and_written_back() {
    let server = portal_and_oidc().await;
    let home = Home::new(&server);
    std::fs::write(home.cache(CORP_FILE), session_token(-3600)).unwrap();
    let before = SystemTime::now();
    let c = home.provider("dev").provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIASSO");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].target.as_str()),
        ("POST", "/token")
    );
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    let sent: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({
            "clientId": "client-123",
            "clientSecret": CLIENT_SECRET,
            "grantType": "refresh_token",
            "refreshToken": REFRESH,
        })
    );
    // The portal got the new token.
    assert_eq!(reqs[1].header("x-amz-sso_bearer_token"), Some(NEW_ACCESS));

    // Written back: new token, new refresh token, new expiry; the rest kept; no temp file.
    let doc: Value =
        serde_json::from_slice(&std::fs::read(home.cache(CORP_FILE)).unwrap()).unwrap();
    assert_eq!(doc["accessToken"], NEW_ACCESS);
    assert_eq!(doc["refreshToken"], NEW_REFRESH);
    assert_eq!(doc["clientId"], "client-123");
    assert_eq!(doc["clientSecret"], CLIENT_SECRET);
    assert_eq!(doc["startUrl"], "https://corp.awsapps.com/start");
    let expires = OffsetDateTime::parse(doc["expiresAt"].as_str().unwrap(), &Rfc3339).unwrap();
    let expires = SystemTime::from(expires);
    assert!(expires >= before + Duration::from_secs(28_799), "{doc}");
    assert!(
        expires <= SystemTime::now() + Duration::from_secs(28_800),
        "{doc}"
    );
    assert_eq!(home.cache_dir_names(), [CORP_FILE]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.cache(CORP_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The next call uses the written token, without another refresh.
    home.provider("dev").provide_credentials().await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].header("x-amz-sso_bearer_token"), Some(NEW_ACCESS));
}

/// Issue 12: an expired session whose refresh is refused says to log in again and leaves
/// the file as it was; a token still valid for a few minutes is used when the refresh fails.
#[tokio::test]
async fn a_refused_refresh_says_to_log_in_and_keeps_the_file() {
    let server = TestServer::with_headers(|r: &Request, _| {
        if r.target.starts_with("/token") {
            (
                400,
                vec![(
                    "x-amzn-errortype".into(),
                    "InvalidGrantException:http://internal".into(),
                )],
                format!(r#"{{"error":"invalid_grant","error_description":"bad {REFRESH}"}}"#),
            )
        } else {
            (200, Vec::new(), role_credentials())
        }
    })
    .await;
    let home = Home::new(&server);
    let expired = session_token(-60);
    std::fs::write(home.cache(CORP_FILE), &expired).unwrap();
    let e = home
        .provider("dev")
        .provide_credentials()
        .await
        .unwrap_err();
    let text = format!("{e} | {e:?}");
    assert_eq!(e.kind(), ErrorKind::Credentials);
    assert_eq!(e.s3_code(), Some("InvalidGrantException"), "{text}");
    assert!(text.contains("run `aws sso login --profile dev`"), "{text}");
    assert!(text.contains("expired at"), "{text}");
    assert_clean(&text);
    assert_eq!(
        std::fs::read_to_string(home.cache(CORP_FILE)).unwrap(),
        expired
    );
    assert_eq!(server.requests().len(), 1, "the portal is not asked");

    // Two minutes left: the refresh fails, the still-valid token is used.
    std::fs::write(home.cache(CORP_FILE), session_token(120)).unwrap();
    let c = home.provider("dev").provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIASSO");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].header("x-amz-sso_bearer_token"), Some(ACCESS));
}

/// Issue 12: an SSO cache file that is missing, malformed or expired without a refresh
/// token gives a clear error, sends nothing, and is never overwritten.
#[tokio::test]
async fn unusable_cache_files_give_clear_errors_and_stay_untouched() {
    let server = portal_and_oidc().await;
    let home = Home::new(&server);
    let e = home
        .provider("dev")
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("no IAM Identity Center (SSO) token is cached (looked for"),
        "{e}"
    );
    assert!(e.to_string().contains(CORP_FILE), "{e}");
    let no_refresh = format!(
        r#"{{"accessToken":"{ACCESS}","expiresAt":"{}"}}"#,
        in_secs(-10)
    );
    let cases = [
        ("{\"accessToken\": \"CANARY-half", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        (r#"{"expiresAt":"2030-01-01T00:00:00Z"}"#, "no accessToken"),
        (
            &*format!(r#"{{"accessToken":"{ACCESS}","expiresAt":"soon"}}"#),
            "no expiresAt time",
        ),
        (&*no_refresh, "holds no refresh token"),
    ];
    for (content, want) in cases {
        std::fs::write(home.cache(CORP_FILE), content).unwrap();
        let e = home
            .provider("dev")
            .provide_credentials()
            .await
            .unwrap_err();
        let text = format!("{e} | {e:?}");
        assert_eq!(e.kind(), ErrorKind::Credentials);
        assert!(text.contains(want), "{want}: {text}");
        assert!(text.contains("aws sso login --profile dev"), "{text}");
        assert_clean(&text);
        assert_eq!(
            std::fs::read_to_string(home.cache(CORP_FILE)).unwrap(),
            content
        );
    }
    assert_eq!(home.cache_dir_names(), [CORP_FILE]);
    assert!(server.requests().is_empty());
}

/// The legacy form: the file named by the start URL's SHA-1, never refreshed.
#[tokio::test]
async fn the_legacy_form_uses_its_own_file_and_cannot_refresh() {
    let server = portal_and_oidc().await;
    let home = Home::new(&server);
    let valid = format!(
        r#"{{"startUrl":"{LEGACY_URL}","region":"us-east-2","accessToken":"{ACCESS}","expiresAt":"{}"}}"#,
        in_secs(3600).replace('Z', "UTC")
    );
    std::fs::write(home.cache(LEGACY_FILE), &valid).unwrap();
    let c = home.provider("legacy").provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIASSO");
    let reqs = server.requests();
    assert_eq!(
        reqs[0].target,
        "/federation/credentials?account_id=111122223333&role_name=Admin"
    );
    let expired = valid.replace(&in_secs(3600).replace('Z', "UTC"), &in_secs(-3600));
    std::fs::write(home.cache(LEGACY_FILE), &expired).unwrap();
    let e = home
        .provider("legacy")
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not refreshable"), "{e}");
    assert!(
        e.to_string().contains("aws sso login --profile legacy"),
        "{e}"
    );
    assert_eq!(server.requests().len(), 1);
}

/// The portal's refusals keep their code and request id; 401 says to log in again.
#[tokio::test]
async fn portal_errors_are_typed() {
    let server = TestServer::with_headers(|_, i| {
        let (status, code) = if i == 0 {
            (401, "UnauthorizedException")
        } else {
            (403, "ForbiddenException")
        };
        (
            status,
            vec![
                ("x-amzn-errortype".into(), code.into()),
                ("x-amzn-requestid".into(), format!("rid-{i}")),
            ],
            format!(r#"{{"message":"Session token not found or invalid {ACCESS}"}}"#),
        )
    })
    .await;
    let home = Home::new(&server);
    std::fs::write(home.cache(CORP_FILE), session_token(3600)).unwrap();
    for (status, code, hint) in [
        (401, "UnauthorizedException", "aws sso login --profile dev"),
        (403, "ForbiddenException", "may not use this role"),
    ] {
        let e = home
            .provider("dev")
            .provide_credentials()
            .await
            .unwrap_err();
        let text = format!("{e} | {e:?}");
        assert_eq!(e.status(), Some(status), "{text}");
        assert_eq!(e.s3_code(), Some(code), "{text}");
        assert!(
            e.request_id().is_some_and(|r| r.starts_with("rid-")),
            "{text}"
        );
        assert!(text.contains(hint), "{text}");
        assert!(
            text.contains("GetRoleCredentials for role ReadOnly in account 111122223333"),
            "{text}"
        );
        assert_clean(&text);
    }
}

#[tokio::test]
async fn incomplete_settings_name_what_is_missing() {
    let server = portal_and_oidc().await;
    let home = Home::new(&server);
    std::fs::write(
        home.dir.path().join(".aws/config"),
        "[profile a]\nsso_session = s\nsso_account_id = 1\n[sso-session s]\n\
         sso_start_url = https://x\nsso_region = us-east-1\n\
         [profile b]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n\
         sso_region = eu-west-1\n\
         [profile c]\nsso_start_url = https://x\nsso_account_id = 1\nsso_role_name = r\n",
    )
    .unwrap();
    for (profile, want) in [
        ("a", "the profile has no sso_role_name"),
        (
            "b",
            "its sso_region differs from the one of [sso-session s]",
        ),
        ("c", "the profile has no sso_region"),
    ] {
        let e = home
            .provider(profile)
            .provide_credentials()
            .await
            .unwrap_err();
        assert!(e.to_string().contains(want), "{profile}: {e}");
        assert!(
            e.to_string()
                .contains("uses IAM Identity Center (SSO), but"),
            "{e}"
        );
    }
    assert!(server.requests().is_empty());
}

/// The tokens never travel over plain http to another host.
#[tokio::test]
async fn endpoints_must_be_https_or_loopback() {
    let server = portal_and_oidc().await;
    let mut home = Home::new(&server);
    std::fs::write(home.cache(CORP_FILE), session_token(3600)).unwrap();
    home.env = home
        .env
        .clone()
        .with("AWS_ENDPOINT_URL_SSO", "http://portal.example");
    let e = home
        .provider("dev")
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is not an https URL"), "{e}");
    // The error names the service whose setting is wrong.
    assert!(
        e.to_string()
            .contains("the SSO portal endpoint \"http://portal.example\""),
        "{e}"
    );
    assert!(!e.to_string().contains("STS"), "{e}");
    home.env = home
        .env
        .clone()
        .with("AWS_ENDPOINT_URL_SSO", server.url())
        .with("AWS_ENDPOINT_URL_SSO_OIDC", "http://oidc.example");
    let e = home
        .provider("dev")
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("the SSO OIDC endpoint \"http://oidc.example\""),
        "{e}"
    );
    assert!(server.requests().is_empty());
}

/// Review of issue 12: a huge `expiresIn` from OIDC neither panics nor writes a time past
/// what RFC 3339 can hold: the new token's life is capped at a year.
#[tokio::test]
async fn a_huge_expires_in_is_capped_not_a_panic() {
    for huge in [u64::MAX.to_string(), "1000000000000000".to_owned()] {
        let server = TestServer::start(move |r: &Request, _| {
            if r.target.starts_with("/token") {
                let body = format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":{huge}}}"#);
                (200, body)
            } else {
                (200, role_credentials())
            }
        })
        .await;
        let home = Home::new(&server);
        std::fs::write(home.cache(CORP_FILE), session_token(-60)).unwrap();
        let c = home.provider("dev").provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "ASIASSO");
        let doc: Value =
            serde_json::from_slice(&std::fs::read(home.cache(CORP_FILE)).unwrap()).unwrap();
        assert_eq!(doc["accessToken"], NEW_ACCESS);
        let expires = OffsetDateTime::parse(doc["expiresAt"].as_str().unwrap(), &Rfc3339).unwrap();
        let year = Duration::from_secs(366 * 24 * 3600);
        assert!(
            SystemTime::from(expires) <= SystemTime::now() + year,
            "{doc}"
        );
    }
}

/// Review of issue 12: a portal `expiration` (milliseconds) past year 9999 is an error, not
/// credentials whose expiry panics when a log writes it.
#[tokio::test]
async fn a_portal_expiration_past_year_9999_is_an_error() {
    for huge in [u64::MAX.to_string(), "253402300800000".to_owned()] {
        let server = TestServer::start(move |_: &Request, _| {
            let body = format!(
                r#"{{"roleCredentials":{{"accessKeyId":"ASIASSO","secretAccessKey":"{ROLE_SECRET}",
                    "sessionToken":"{ROLE_TOKEN}","expiration":{huge}}}}}"#
            );
            (200, body)
        })
        .await;
        let home = Home::new(&server);
        std::fs::write(home.cache(CORP_FILE), session_token(3600)).unwrap();
        let e = home
            .provider("dev")
            .provide_credentials()
            .await
            .unwrap_err();
        let text = format!("{e} | {e:?}");
        assert_eq!(e.kind(), ErrorKind::Credentials);
        assert!(text.contains("expiration"), "{text}");
        assert_clean(&text);
    }
}

/// The cache document of a token another process wrote, valid for `secs`.
fn other_token(secs: i64) -> String {
    session_token(secs)
        .replace(ACCESS, "CANARY-sso-other-access")
        .replace(REFRESH, "CANARY-sso-other-refresh")
}

/// Review of issue 12: a refresh that succeeded is used even when it cannot be written back
/// (here the cache directory disappears while OIDC answers; a read-only directory is the
/// same failure, but root, who runs these tests, may write there anyway).
#[tokio::test]
async fn a_refresh_that_cannot_be_written_back_is_still_used() {
    let home_dir = Arc::new(std::sync::Mutex::new(PathBuf::new()));
    let dir = home_dir.clone();
    let server = TestServer::start(move |r: &Request, _| {
        if r.target.starts_with("/token") {
            let cache = dir.lock().unwrap().join(".aws/sso/cache");
            std::fs::rename(&cache, cache.with_file_name("gone")).unwrap();
            let body = format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28800}}"#);
            (200, body)
        } else {
            (200, role_credentials())
        }
    })
    .await;
    let home = Home::new(&server);
    *home_dir.lock().unwrap() = home.dir.path().to_owned();
    let expired = session_token(-60);
    std::fs::write(home.cache(CORP_FILE), &expired).unwrap();
    let c = home.provider("dev").provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIASSO");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("x-amz-sso_bearer_token"), Some(NEW_ACCESS));
    let gone = home.dir.path().join(".aws/sso/gone");
    assert_eq!(
        std::fs::read_to_string(gone.join(CORP_FILE)).unwrap(),
        expired
    );
}

/// Review of issue 12: when the refresh is refused because another process refreshed first
/// (its refresh token rotated ours away), the token it wrote is used.
#[tokio::test]
async fn a_refused_refresh_uses_the_token_another_process_wrote() {
    let home_dir = Arc::new(std::sync::Mutex::new(PathBuf::new()));
    let dir = home_dir.clone();
    let server = TestServer::with_headers(move |r: &Request, _| {
        if r.target.starts_with("/token") {
            let file = dir.lock().unwrap().join(".aws/sso/cache").join(CORP_FILE);
            std::fs::write(file, other_token(8 * 3600)).unwrap();
            let header = ("x-amzn-errortype".into(), "InvalidGrantException".into());
            (400, vec![header], r#"{"error":"invalid_grant"}"#.into())
        } else {
            (200, Vec::new(), role_credentials())
        }
    })
    .await;
    let home = Home::new(&server);
    *home_dir.lock().unwrap() = home.dir.path().to_owned();
    std::fs::write(home.cache(CORP_FILE), session_token(-60)).unwrap();
    let c = home.provider("dev").provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIASSO");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("x-amz-sso_bearer_token"),
        Some("CANARY-sso-other-access")
    );
}

/// Review of issue 12: a refreshed token is not written over a file another process wrote
/// meanwhile with a later expiry.
#[tokio::test]
async fn a_newer_token_in_the_file_is_not_overwritten() {
    let home_dir = Arc::new(std::sync::Mutex::new(PathBuf::new()));
    let dir = home_dir.clone();
    let server = TestServer::start(move |r: &Request, _| {
        if r.target.starts_with("/token") {
            let file = dir.lock().unwrap().join(".aws/sso/cache").join(CORP_FILE);
            std::fs::write(file, other_token(10 * 3600)).unwrap();
            let body = format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":3600}}"#);
            (200, body)
        } else {
            (200, role_credentials())
        }
    })
    .await;
    let home = Home::new(&server);
    *home_dir.lock().unwrap() = home.dir.path().to_owned();
    std::fs::write(home.cache(CORP_FILE), session_token(-60)).unwrap();
    home.provider("dev").provide_credentials().await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[1].header("x-amz-sso_bearer_token"), Some(NEW_ACCESS));
    let text = std::fs::read_to_string(home.cache(CORP_FILE)).unwrap();
    assert!(text.contains("CANARY-sso-other-access"), "overwritten");
    assert_eq!(home.cache_dir_names(), [CORP_FILE]);
}

/// Review of issue 12: dropping the caller's future while OIDC answers does not lose the
/// refresh (the rotated refresh token) nor leave a temporary file: the refresh and its write
/// back finish on their own task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_caller_does_not_lose_the_refresh() {
    let server = TestServer::start(|r: &Request, _| {
        if r.target.starts_with("/token") {
            std::thread::sleep(Duration::from_millis(300));
            let body = format!(
                r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28800,"refreshToken":"{NEW_REFRESH}"}}"#
            );
            (200, body)
        } else {
            (200, role_credentials())
        }
    })
    .await;
    let home = Home::new(&server);
    std::fs::write(home.cache(CORP_FILE), session_token(-60)).unwrap();
    let provider = home.provider("dev");
    let fetch = provider.provide_credentials();
    tokio::select! {
        r = fetch => panic!("finished before it was cancelled: {:?}", r.map(|_| ())),
        () = async {
            while server.requests().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        } => {}
    }
    // The caller is gone; the refresh finishes and is written back.
    let mut doc = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let bytes = std::fs::read(home.cache(CORP_FILE)).unwrap();
        doc = serde_json::from_slice(&bytes).unwrap();
        if doc["refreshToken"] == NEW_REFRESH {
            break;
        }
    }
    assert_eq!(doc["refreshToken"], NEW_REFRESH);
    assert_eq!(doc["accessToken"], NEW_ACCESS);
    assert_eq!(home.cache_dir_names(), [CORP_FILE]);
}

/// Review of issue 12: an OIDC answer of 200 that is not a usable token (truncated JSON, no
/// expiresIn, expiresIn 0, an empty accessToken) is an error and leaves the file
/// byte-identical.
#[tokio::test]
async fn unusable_refresh_answers_never_touch_the_file() {
    let answers = [
        format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28"#),
        format!(r#"{{"accessToken":"{NEW_ACCESS}","refreshToken":"{NEW_REFRESH}"}}"#),
        format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":0}}"#),
        r#"{"accessToken":"","expiresIn":28800}"#.to_owned(),
    ];
    for answer in answers {
        let body = answer.clone();
        let server = TestServer::start(move |_: &Request, _| (200, body.clone())).await;
        let home = Home::new(&server);
        let expired = session_token(-60);
        std::fs::write(home.cache(CORP_FILE), &expired).unwrap();
        let e = home
            .provider("dev")
            .provide_credentials()
            .await
            .unwrap_err();
        let text = format!("{e} | {e:?}");
        assert_eq!(e.kind(), ErrorKind::Credentials, "{answer}: {text}");
        assert!(text.contains("OIDC CreateToken"), "{answer}: {text}");
        assert_clean(&text);
        assert_eq!(
            std::fs::read(home.cache(CORP_FILE)).unwrap(),
            expired.as_bytes()
        );
        assert_eq!(home.cache_dir_names(), [CORP_FILE]);
        assert_eq!(server.requests().len(), 1, "the portal is not asked");
    }
}

/// Review of issue 12: an empty refreshToken in the answer is no rotation: the file keeps
/// the refresh token it had.
#[tokio::test]
async fn an_empty_refresh_token_in_the_answer_keeps_the_old_one() {
    let server = TestServer::start(|r: &Request, _| {
        if r.target.starts_with("/token") {
            let body =
                format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28800,"refreshToken":""}}"#);
            (200, body)
        } else {
            (200, role_credentials())
        }
    })
    .await;
    let home = Home::new(&server);
    std::fs::write(home.cache(CORP_FILE), session_token(-60)).unwrap();
    home.provider("dev").provide_credentials().await.unwrap();
    let doc: Value =
        serde_json::from_slice(&std::fs::read(home.cache(CORP_FILE)).unwrap()).unwrap();
    assert_eq!(doc["accessToken"], NEW_ACCESS);
    assert_eq!(doc["refreshToken"], REFRESH);
}

/// Review of issue 12: only a refused grant or client (400, 401) says to log in again; a
/// failing or throttled OIDC (500, 429) and no answer at all are retryable; an answer that
/// quotes the client secret or the access token shows neither.
#[tokio::test]
async fn oidc_failures_say_what_to_do() {
    for (status, login, retryable) in [
        (400, true, false),
        (401, true, false),
        (500, false, true),
        (429, false, true),
    ] {
        let server = TestServer::start(move |_: &Request, _| {
            let body = format!(
                r#"{{"error":"x","error_description":"{CLIENT_SECRET} {ACCESS} {REFRESH}"}}"#
            );
            (status, body)
        })
        .await;
        let home = Home::new(&server);
        std::fs::write(home.cache(CORP_FILE), session_token(-60)).unwrap();
        let e = home
            .provider("dev")
            .provide_credentials()
            .await
            .unwrap_err();
        let text = format!("{e} | {e:?}");
        assert_eq!(e.status(), Some(status), "{text}");
        assert_eq!(text.contains("aws sso login"), login, "{status}: {text}");
        assert_eq!(e.is_retryable(), retryable, "{status}: {text}");
        assert_clean(&text);
    }
    // No answer: a closed port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let server = portal_and_oidc().await;
    let mut home = Home::new(&server);
    home.env = home.env.clone().with("AWS_ENDPOINT_URL_SSO_OIDC", url);
    std::fs::write(home.cache(CORP_FILE), session_token(-60)).unwrap();
    let e = home
        .provider("dev")
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(
        e.to_string().contains("no answer from the OIDC endpoint"),
        "{e}"
    );
}
