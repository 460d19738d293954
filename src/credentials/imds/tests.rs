//! `ImdsProvider` against a scripted instance metadata server on loopback (IMDS as it
//! behaves: session tokens, their expiry, refused and broken answers).

use super::session::{TOKEN_HEADER, TOKEN_PATH, TTL_HEADER};
use super::*;
use crate::ErrorKind;
use crate::credentials::env::MapEnv;
use crate::credentials::test_server::{Request, TestServer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, UNIX_EPOCH};

const SECRET: &str = "CANARY-SECRET-imds";
const SESSION: &str = "CANARY-SESSION-imds";
const API_TOKEN: &str = "CANARY-APITOKEN-imds";

fn creds_json() -> String {
    format!(
        r#"{{"Code":"Success","LastUpdated":"2030-01-01T00:00:00Z","Type":"AWS-HMAC",
            "AccessKeyId":"ASIAIMDS","SecretAccessKey":"{SECRET}","Token":"{SESSION}",
            "Expiration":"2030-01-02T03:04:05Z"}}"#
    )
}

/// IMDS as it behaves: tokens are `API_TOKEN-<n>`; only the latest `valid_from`-th and
/// later tokens are accepted.
fn imds(req: &Request, min_token: &AtomicUsize, issued: &AtomicUsize) -> (u16, String) {
    if req.method == "PUT" && req.target == TOKEN_PATH {
        if req.header(TTL_HEADER).is_none() {
            return (400, String::new());
        }
        let n = issued.fetch_add(1, Ordering::SeqCst);
        return (200, format!("{API_TOKEN}-{n}"));
    }
    let ok = req
        .header(TOKEN_HEADER)
        .and_then(|t| t.strip_prefix(&format!("{API_TOKEN}-")))
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= min_token.load(Ordering::SeqCst));
    if !ok {
        return (401, String::new());
    }
    match req.target.as_str() {
        ROLES_PATH => (200, "demo-role\nother\n".to_owned()),
        "/latest/meta-data/iam/security-credentials/demo-role" => (200, creds_json()),
        _ => (404, String::new()),
    }
}

async fn imds_server() -> (TestServer, Arc<AtomicUsize>) {
    let min = Arc::new(AtomicUsize::new(0));
    let issued = Arc::new(AtomicUsize::new(0));
    let m = min.clone();
    let server = TestServer::start(move |req, _| imds(req, &m, &issued)).await;
    (server, min)
}

fn env_provider(env: MapEnv) -> ImdsProvider {
    ImdsProvider::with_env(Arc::new(env))
}

fn assert_clean(text: &str) {
    for canary in [SECRET, SESSION, API_TOKEN] {
        assert!(!text.contains(canary), "{text}");
    }
}

#[tokio::test]
async fn token_first_then_role_then_credentials() {
    let (server, _) = imds_server().await;
    let p = env_provider(MapEnv::default().with(ENV_ENDPOINT, format!("{}/", server.url())));
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAIMDS");
    assert_eq!(c.secret_access_key(), SECRET);
    assert_eq!(c.session_token(), Some(SESSION));
    let exp = c.expiry().unwrap().duration_since(UNIX_EPOCH).unwrap();
    assert_eq!(exp.as_secs(), 1_893_553_445);

    let reqs = server.requests();
    let seen: Vec<_> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("PUT", TOKEN_PATH),
            ("GET", ROLES_PATH),
            (
                "GET",
                "/latest/meta-data/iam/security-credentials/demo-role"
            ),
        ]
    );
    assert_eq!(reqs[0].header(TTL_HEADER), Some("21600"));
    assert_eq!(reqs[0].header(TOKEN_HEADER), None);
    let token = format!("{API_TOKEN}-0");
    for r in &reqs[1..] {
        assert_eq!(r.header(TOKEN_HEADER), Some(token.as_str()));
    }
    assert_clean(&format!("{p:?}"));
    assert!(format!("{p:?}").contains("token_cached: true"));
}

#[tokio::test]
async fn token_is_reused_until_near_expiry() {
    let (server, _) = imds_server().await;
    let p = env_provider(MapEnv::default().with(ENV_ENDPOINT, server.url()));
    p.provide_credentials().await.unwrap();
    p.provide_credentials().await.unwrap();
    let puts = server
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1);

    // A token that lives no longer than the refresh margin is never kept.
    let short = ImdsProvider::builder_with_env(Arc::new(MapEnv::default()))
        .endpoint(server.url())
        .token_ttl(Duration::from_secs(30))
        .build();
    short.provide_credentials().await.unwrap();
    short.provide_credentials().await.unwrap();
    let reqs = server.requests();
    let puts: Vec<_> = reqs.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 3);
    assert_eq!(puts[2].header(TTL_HEADER), Some("30"));
}

#[tokio::test]
async fn expired_token_is_renewed_once() {
    let (server, min) = imds_server().await;
    let p = env_provider(MapEnv::default().with(ENV_ENDPOINT, server.url()));
    p.provide_credentials().await.unwrap();
    // The service forgets token 0: the cached token now draws a 401.
    min.store(1, Ordering::SeqCst);
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAIMDS");
    let reqs = server.requests();
    let seen: Vec<_> = reqs[3..]
        .iter()
        .map(|r| (r.method.as_str(), r.header(TOKEN_HEADER).unwrap_or("-")))
        .collect();
    let t0 = format!("{API_TOKEN}-0");
    let t1 = format!("{API_TOKEN}-1");
    assert_eq!(
        seen,
        [
            ("GET", t0.as_str()),
            ("PUT", "-"),
            ("GET", t1.as_str()),
            ("GET", t1.as_str()),
        ]
    );
}

#[tokio::test]
async fn persistent_401_fails_after_one_renewal() {
    let server = TestServer::start(|req, _| {
        if req.method == "PUT" {
            (200, API_TOKEN.to_owned())
        } else {
            (401, String::new())
        }
    })
    .await;
    let p = env_provider(MapEnv::default().with(ENV_ENDPOINT, server.url()));
    // A fresh token refused: no point in another.
    let e = p.provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains("HTTP 401"), "{e}");
    assert_eq!(server.requests().len(), 2);
    // The cached token refused: one renewal, then the error.
    let e = p.provide_credentials().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("freshly fetched session token was refused"),
        "{e}"
    );
    let methods: Vec<_> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["PUT", "GET", "GET", "PUT", "GET"]);
    assert_clean(&format!("{e} {e:?}"));
}

#[tokio::test]
async fn disabled_sends_nothing() {
    let (server, _) = imds_server().await;
    let env = MapEnv::default()
        .with(ENV_ENDPOINT, server.url())
        .with(ENV_DISABLED, "TRUE");
    let p = env_provider(env);
    assert!(p.is_disabled());
    let e = p.provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credentials);
    assert!(e.to_string().contains("ImdsProvider: "), "{e}");
    assert!(e.to_string().contains(ENV_DISABLED), "{e}");
    assert!(server.requests().is_empty());

    let env = MapEnv::default()
        .with(ENV_ENDPOINT, server.url())
        .with(ENV_DISABLED, "false");
    env_provider(env).provide_credentials().await.unwrap();
}

#[test]
fn endpoint_from_env() {
    let p = env_provider(MapEnv::default());
    assert_eq!(p.resolve_endpoint().unwrap(), DEFAULT_ENDPOINT);
    let p = env_provider(MapEnv::default().with(ENV_ENDPOINT_MODE, "IPv6"));
    assert_eq!(p.resolve_endpoint().unwrap(), DEFAULT_ENDPOINT_IPV6);
    let p = env_provider(MapEnv::default().with(ENV_ENDPOINT_MODE, "ipv5"));
    assert!(p.resolve_endpoint().is_err());
    let p = env_provider(
        MapEnv::default()
            .with(ENV_ENDPOINT, "http://[fd00:ec2::254]/")
            .with(ENV_ENDPOINT_MODE, "IPv4"),
    );
    assert_eq!(p.resolve_endpoint().unwrap(), DEFAULT_ENDPOINT_IPV6);
    let p = env_provider(MapEnv::default().with(ENV_ENDPOINT, "169.254.169.254"));
    let e = p.resolve_endpoint().unwrap_err();
    assert!(e.to_string().contains("not an http or https URL"), "{e}");
}

#[tokio::test]
async fn no_role_attached() {
    let server = TestServer::start(|req, _| match req.method.as_str() {
        "PUT" => (200, "tok".to_owned()),
        _ => (404, String::new()),
    })
    .await;
    let e = env_provider(MapEnv::default().with(ENV_ENDPOINT, server.url()))
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no IAM role is attached"), "{e}");
}

#[tokio::test]
async fn bad_answers() {
    let cases: [(&str, String, &str); 5] = [
        ("../../x", String::new(), "unusable role name"),
        ("\n\n", String::new(), "empty role list"),
        (
            "r",
            format!(
                r#"{{"Code":"AssumeRoleUnauthorizedAccess","Message":"denied","AccessKeyId":"A","SecretAccessKey":"{SECRET}"}}"#
            ),
            "Code AssumeRoleUnauthorizedAccess: denied",
        ),
        (
            "r",
            format!(r#"{{"Code":"Success","SecretAccessKey":"{SECRET}""#),
            "truncated JSON",
        ),
        ("r", "<html/>".to_owned(), "malformed JSON"),
    ];
    for (role, doc, want) in cases {
        let (role, doc) = (role.to_owned(), doc.clone());
        let server = TestServer::start(move |req, _| match req.method.as_str() {
            "PUT" => (200, API_TOKEN.to_owned()),
            _ if req.target == ROLES_PATH => (200, role.clone()),
            _ => (200, doc.clone()),
        })
        .await;
        let e = env_provider(MapEnv::default().with(ENV_ENDPOINT, server.url()))
            .provide_credentials()
            .await
            .unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(text.contains("ImdsProvider: "), "{text}");
        assert!(text.contains(want), "{text} lacks {want}");
        assert_clean(&text);
    }
}

#[tokio::test]
async fn token_step_refused_or_unreachable() {
    let server = TestServer::start(|_, _| (403, String::new())).await;
    let e = env_provider(MapEnv::default().with(ENV_ENDPOINT, server.url()))
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("refused (403)"), "{e}");
    assert_eq!(server.requests().len(), 1);

    let server = TestServer::start(|_, _| (405, String::new())).await;
    let e = env_provider(MapEnv::default().with(ENV_ENDPOINT, server.url()))
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("HTTP 405"), "{e}");

    // Nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let started = Instant::now();
    let e = env_provider(MapEnv::default().with(ENV_ENDPOINT, format!("http://{addr}")))
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not running on EC2"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn role_names() {
    assert!(is_role_name("my-role_1+=,.@"));
    assert!(!is_role_name(""));
    assert!(!is_role_name("a/b"));
    assert!(!is_role_name("a b"));
    assert!(!is_role_name("a?b"));
    assert!(!is_role_name(&"r".repeat(129)));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any listing: no panic; what comes back is a plain role name.
        #[test]
        fn any_listing_gives_a_plain_role_or_an_error(
            listing in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            if let Ok(role) = first_role(&listing) {
                prop_assert!(is_role_name(&role));
            }
        }

        /// The first name of a listing is read back, whatever blank lines, spaces and
        /// line endings surround it.
        #[test]
        fn the_first_role_is_read_back(
            names in prop::collection::vec("[A-Za-z0-9+=,.@_-]{1,64}", 1..4),
            blank in "[ \t\r\n]{0,6}",
            crlf in any::<bool>(),
        ) {
            let sep = if crlf { "\r\n" } else { "\n" };
            let listing = format!("{blank}{}{sep}", names.join(sep));
            prop_assert_eq!(first_role(listing.as_bytes()).unwrap(), names[0].clone());
        }

        /// A name that could change the URL path is refused.
        #[test]
        fn names_with_path_characters_are_refused(
            a in "[A-Za-z0-9]{0,8}",
            bad in "[/?#%:]",
            b in "[A-Za-z0-9]{1,8}",
        ) {
            let name = format!("{a}{bad}{b}");
            prop_assert!(first_role(name.as_bytes()).is_err());
        }
    }
}
