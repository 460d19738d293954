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

/// The refresh through OIDC against what a server may answer and what other processes may do
/// to the file meanwhile (the review of issue 12).
mod refresh;

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
