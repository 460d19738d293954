//! The OIDC refresh of an expired SSO token against what a server may answer (huge numbers,
//! unusable 200s, refusals, no answer) and what may happen around it (a cache directory that
//! goes away, another process refreshing first, a caller that gives up): the refresh is
//! used when it succeeded, the file is never left with garbage or a temporary file.

use super::*;
use crate::Error;
use std::path::Path;
use std::sync::Mutex;

type Answer = (u16, Vec<(String, String)>, String);

/// A server playing the portal (role credentials) and, for `/token`, `oidc(cache dir)`; and
/// a home whose SSO endpoints point at it, its session's cache file holding `cached`.
async fn refresh_setup(
    cached: &str,
    oidc: impl Fn(&Path) -> Answer + Send + Sync + 'static,
) -> (TestServer, Home) {
    let cache_dir = Arc::new(Mutex::new(PathBuf::new()));
    let dir = cache_dir.clone();
    let server = TestServer::with_headers(move |r: &Request, _| {
        if r.target.starts_with("/token") {
            oidc(&dir.lock().unwrap())
        } else {
            (200, Vec::new(), role_credentials())
        }
    })
    .await;
    let home = Home::new(&server);
    *cache_dir.lock().unwrap() = home.dir.path().join(".aws/sso/cache");
    std::fs::write(home.cache(CORP_FILE), cached).unwrap();
    (server, home)
}

/// A 200 OIDC answer with `body`.
fn ok(body: String) -> Answer {
    (200, Vec::new(), body)
}

impl Home {
    async fn fails(&self) -> Error {
        self.provider("dev")
            .provide_credentials()
            .await
            .unwrap_err()
    }

    fn cached_doc(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.cache(CORP_FILE)).unwrap()).unwrap()
    }
}

/// The cache document of a token another process wrote, valid for `secs`.
fn other_token(secs: i64) -> String {
    session_token(secs)
        .replace(ACCESS, "CANARY-sso-other-access")
        .replace(REFRESH, "CANARY-sso-other-refresh")
}

/// A huge `expiresIn` neither panics nor writes a time past what RFC 3339 can hold: the new
/// token's life is capped at a year.
#[tokio::test]
async fn a_huge_expires_in_is_capped_not_a_panic() {
    for huge in [u64::MAX.to_string(), "1000000000000000".to_owned()] {
        let (_server, home) = refresh_setup(&session_token(-60), move |_| {
            ok(format!(
                r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":{huge}}}"#
            ))
        })
        .await;
        let c = home.provider("dev").provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "ASIASSO");
        let doc = home.cached_doc();
        assert_eq!(doc["accessToken"], NEW_ACCESS);
        let expires = OffsetDateTime::parse(doc["expiresAt"].as_str().unwrap(), &Rfc3339).unwrap();
        let year = Duration::from_secs(366 * 24 * 3600);
        assert!(
            SystemTime::from(expires) <= SystemTime::now() + year,
            "{doc}"
        );
    }
}

/// A portal `expiration` (milliseconds) past year 9999 is an error, not credentials whose
/// expiry panics when a log writes it.
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
        let e = home.fails().await;
        let text = format!("{e} | {e:?}");
        assert_eq!(e.kind(), ErrorKind::Credentials);
        assert!(text.contains("expiration"), "{text}");
        assert_clean(&text);
    }
}

/// A refresh that succeeded is used even when it cannot be written back (here the cache
/// directory disappears while OIDC answers; a read-only directory is the same failure, but
/// root, who runs these tests, may write there anyway).
#[tokio::test]
async fn a_refresh_that_cannot_be_written_back_is_still_used() {
    let expired = session_token(-60);
    let (server, home) = refresh_setup(&expired, |cache| {
        std::fs::rename(cache, cache.with_file_name("gone")).unwrap();
        ok(format!(
            r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28800}}"#
        ))
    })
    .await;
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

/// When the refresh is refused because another process refreshed first (its refresh token
/// rotated ours away), the token it wrote is used.
#[tokio::test]
async fn a_refused_refresh_uses_the_token_another_process_wrote() {
    let (server, home) = refresh_setup(&session_token(-60), |cache| {
        std::fs::write(cache.join(CORP_FILE), other_token(8 * 3600)).unwrap();
        let header = ("x-amzn-errortype".into(), "InvalidGrantException".into());
        (400, vec![header], r#"{"error":"invalid_grant"}"#.into())
    })
    .await;
    let c = home.provider("dev").provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIASSO");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("x-amz-sso_bearer_token"),
        Some("CANARY-sso-other-access")
    );
}

/// A refreshed token is not written over a file another process wrote meanwhile with a
/// later expiry; it is still used.
#[tokio::test]
async fn a_newer_token_in_the_file_is_not_overwritten() {
    let (server, home) = refresh_setup(&session_token(-60), |cache| {
        std::fs::write(cache.join(CORP_FILE), other_token(10 * 3600)).unwrap();
        ok(format!(
            r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":3600}}"#
        ))
    })
    .await;
    home.provider("dev").provide_credentials().await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[1].header("x-amz-sso_bearer_token"), Some(NEW_ACCESS));
    assert_eq!(home.cached_doc()["accessToken"], "CANARY-sso-other-access");
    assert_eq!(home.cache_dir_names(), [CORP_FILE]);
}

/// Dropping the caller's future while OIDC answers does not lose the refresh (the rotated
/// refresh token) nor leave a temporary file: the refresh and its write back finish on their
/// own task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_caller_does_not_lose_the_refresh() {
    let (server, home) = refresh_setup(&session_token(-60), |_| {
        // Long enough that a loaded machine still cancels the caller first (it does so
        // about 50 ms after the request arrives). `block_in_place` hands this worker's duties
        // (the timer among them) to another thread: a plain sleep here would stall the timers
        // the test itself waits on, and the answer would race the cancellation.
        tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(2000)));
        ok(format!(
            r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28800,"refreshToken":"{NEW_REFRESH}"}}"#
        ))
    })
    .await;
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
    for _ in 0..400 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        doc = home.cached_doc();
        if doc["refreshToken"] == NEW_REFRESH {
            break;
        }
    }
    assert_eq!(doc["refreshToken"], NEW_REFRESH);
    assert_eq!(doc["accessToken"], NEW_ACCESS);
    assert_eq!(home.cache_dir_names(), [CORP_FILE]);
}

/// A 200 that is not a usable token (truncated JSON, no expiresIn, expiresIn 0, an empty
/// accessToken) is an error and leaves the file byte-identical.
#[tokio::test]
async fn unusable_refresh_answers_never_touch_the_file() {
    let answers = [
        format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28"#),
        format!(r#"{{"accessToken":"{NEW_ACCESS}","refreshToken":"{NEW_REFRESH}"}}"#),
        format!(r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":0}}"#),
        r#"{"accessToken":"","expiresIn":28800}"#.to_owned(),
    ];
    for answer in answers {
        let expired = session_token(-60);
        let body = answer.clone();
        let (server, home) = refresh_setup(&expired, move |_| ok(body.clone())).await;
        let e = home.fails().await;
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

/// An empty refreshToken in the answer is no rotation: the file keeps the refresh token it
/// had.
#[tokio::test]
async fn an_empty_refresh_token_in_the_answer_keeps_the_old_one() {
    let (_server, home) = refresh_setup(&session_token(-60), |_| {
        ok(format!(
            r#"{{"accessToken":"{NEW_ACCESS}","expiresIn":28800,"refreshToken":""}}"#
        ))
    })
    .await;
    home.provider("dev").provide_credentials().await.unwrap();
    let doc = home.cached_doc();
    assert_eq!(doc["accessToken"], NEW_ACCESS);
    assert_eq!(doc["refreshToken"], REFRESH);
}

/// Only a refused grant or client (400, 401) says to log in again; a failing or throttled
/// OIDC (500, 429) and no answer at all are retryable; an answer that quotes the client
/// secret or the access token shows neither.
#[tokio::test]
async fn oidc_failures_say_what_to_do() {
    for (status, login, retryable) in [
        (400, true, false),
        (401, true, false),
        (500, false, true),
        (429, false, true),
    ] {
        let (_server, home) = refresh_setup(&session_token(-60), move |_| {
            let body = format!(
                r#"{{"error":"x","error_description":"{CLIENT_SECRET} {ACCESS} {REFRESH}"}}"#
            );
            (status, Vec::new(), body)
        })
        .await;
        let e = home.fails().await;
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
    let (_server, mut home) = refresh_setup(&session_token(-60), |_| unreachable!()).await;
    home.env = home.env.clone().with("AWS_ENDPOINT_URL_SSO_OIDC", url);
    let e = home.fails().await;
    assert!(e.is_retryable(), "{e:?}");
    assert!(
        e.to_string().contains("no answer from the OIDC endpoint"),
        "{e}"
    );
}
