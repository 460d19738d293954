//! EC2 instance metadata (IMDSv2): a session token from `PUT /latest/api/token`, then the role
//! name and its credentials, each `GET` carrying the token.

use super::container::{JsonCredentials, server_text, shared_http};
use super::env::{Env, ProcessEnv};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::{Error, Result};
use crate::transport::simple::{SimpleHttp, SimpleResponse};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

const NAME: &str = "ImdsProvider";

const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const DEFAULT_ENDPOINT_IPV6: &str = "http://[fd00:ec2::254]";

/// Short, like the AWS SDKs: off EC2 nothing answers, and the chain must not stall.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest session token lifetime IMDS grants (6 hours), and the default asked for.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(21_600);

/// A cached token is replaced this long before it expires.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

const TOKEN_PATH: &str = "/latest/api/token";
const ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials/";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";

const ENV_DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
const ENV_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
const ENV_ENDPOINT_MODE: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";

/// Credentials of the IAM role attached to this EC2 instance, from instance metadata
/// (IMDSv2 only: the token step is always taken, IMDSv1 is never used).
///
/// Each call asks for the role name
/// (`GET /latest/meta-data/iam/security-credentials/`) and then its credentials, with a
/// session token from `PUT /latest/api/token`; the token is kept until shortly before it
/// expires (6 hours by default). A `401` means the token expired early: a new one is fetched
/// once and the request repeated. The credentials carry the `Expiration` of the answer. The
/// provider does not cache credentials: wrap it in a
/// [`CachedProvider`](super::CachedProvider).
///
/// Unless [`ImdsProviderBuilder::endpoint`] is given, the environment is read at each call:
///
/// - `AWS_EC2_METADATA_DISABLED=true` turns the provider off (an error, nothing sent);
/// - `AWS_EC2_METADATA_SERVICE_ENDPOINT` replaces `http://169.254.169.254`;
/// - `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6` selects `http://[fd00:ec2::254]`.
///
/// Requests time out after 1 second (connect included) by default, so a chain run off EC2
/// is not slowed down.
///
/// # Cancel safety
///
/// [`provide_credentials`](ProvideCredentials::provide_credentials) is cancel safe: at worst
/// a session token fetched by a cancelled call is not kept.
///
/// # Example
///
/// ```no_run
/// use async_s3::ProvideCredentials;
/// use async_s3::credentials::ImdsProvider;
///
/// # async fn demo() -> Result<(), async_s3::Error> {
/// let creds = ImdsProvider::new().provide_credentials().await?;
/// println!("{creds:?}");
/// # Ok(())
/// # }
/// ```
pub struct ImdsProvider {
    /// Read at each call unless `endpoint` is explicit.
    env: Env,
    endpoint: Option<String>,
    timeout: Duration,
    token_ttl: Duration,
    http: OnceCell<SimpleHttp>,
    token: Mutex<Option<SessionToken>>,
}

/// A session token and when to stop using it.
struct SessionToken {
    value: String,
    /// The endpoint that issued it (the environment may point elsewhere later).
    endpoint: String,
    use_until: Instant,
}

impl fmt::Debug for ImdsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.token.lock().map(|t| t.is_some()).unwrap_or(false);
        f.debug_struct("ImdsProvider")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .field("token_ttl", &self.token_ttl)
            .field("token_cached", &cached)
            .finish_non_exhaustive()
    }
}

impl Default for ImdsProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// Settings for an [`ImdsProvider`].
///
/// # Example
///
/// ```
/// use async_s3::credentials::ImdsProvider;
/// use std::time::Duration;
///
/// let provider = ImdsProvider::builder()
///     .endpoint("http://127.0.0.1:1338")
///     .timeout(Duration::from_millis(500))
///     .build();
/// # let _ = provider;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ImdsProviderBuilder {
    env: Env,
    endpoint: Option<String>,
    timeout: Duration,
    token_ttl: Duration,
}

impl ImdsProviderBuilder {
    /// Asks `endpoint` (e.g. `http://169.254.169.254`) instead of the default; the
    /// environment is then not read at all (`AWS_EC2_METADATA_DISABLED` included).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The total timeout of each request, connect included (1 second by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The session token lifetime asked for, between 1 second and 6 hours (the default);
    /// values outside are clamped. Whole seconds.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = Duration::from_secs(ttl.as_secs().clamp(1, MAX_TOKEN_TTL.as_secs()));
        self
    }

    /// The provider.
    pub fn build(self) -> ImdsProvider {
        ImdsProvider {
            env: self.env,
            endpoint: self.endpoint,
            timeout: self.timeout,
            token_ttl: self.token_ttl,
            http: OnceCell::new(),
            token: Mutex::new(None),
        }
    }
}

impl ImdsProvider {
    /// A provider configured by the process environment (see the type docs).
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for explicit settings.
    pub fn builder() -> ImdsProviderBuilder {
        Self::builder_with_env(Arc::new(ProcessEnv))
    }

    /// A provider configured by `env` instead of the process environment.
    #[cfg_attr(not(test), allow(dead_code, reason = "for the provider chain"))]
    pub(crate) fn with_env(env: Env) -> Self {
        Self::builder_with_env(env).build()
    }

    fn builder_with_env(env: Env) -> ImdsProviderBuilder {
        ImdsProviderBuilder {
            env,
            endpoint: None,
            timeout: DEFAULT_TIMEOUT,
            token_ttl: MAX_TOKEN_TTL,
        }
    }

    /// Whether the environment turns the provider off (never with an explicit endpoint).
    #[cfg_attr(not(test), allow(dead_code, reason = "for the provider chain"))]
    pub(crate) fn is_disabled(&self) -> bool {
        self.endpoint.is_none()
            && self
                .env
                .var(ENV_DISABLED)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The endpoint to ask, without a trailing slash.
    fn resolve_endpoint(&self) -> Result<String> {
        let endpoint = match &self.endpoint {
            Some(e) => e.trim().to_owned(),
            None if self.is_disabled() => {
                return Err(Error::credentials_not_configured(format!(
                    "{NAME}: instance metadata is disabled by {ENV_DISABLED}"
                )));
            }
            None => match self.env.var(ENV_ENDPOINT) {
                Some(e) => e.trim().to_owned(),
                None => match self.env.var(ENV_ENDPOINT_MODE) {
                    Some(m) if m.trim().eq_ignore_ascii_case("ipv6") => {
                        DEFAULT_ENDPOINT_IPV6.to_owned()
                    }
                    Some(m) if !m.trim().eq_ignore_ascii_case("ipv4") => {
                        return Err(Error::credentials(format!(
                            "{NAME}: {ENV_ENDPOINT_MODE} must be IPv4 or IPv6, not {:?}",
                            server_text(&m)
                        )));
                    }
                    _ => DEFAULT_ENDPOINT.to_owned(),
                },
            },
        };
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let valid = endpoint.parse::<http::Uri>().is_ok_and(|u| {
            u.authority().is_some()
                && matches!(u.scheme_str(), Some(s) if s.eq_ignore_ascii_case("http")
                    || s.eq_ignore_ascii_case("https"))
        });
        if !valid {
            return Err(Error::credentials(format!(
                "{NAME}: the endpoint {:?} is not an http or https URL",
                server_text(&endpoint)
            )));
        }
        Ok(endpoint)
    }

    async fn load(&self) -> Result<Credentials> {
        let endpoint = self.resolve_endpoint()?;
        let http = shared_http(&self.http, self.timeout, NAME).await?;
        let mut session = Session {
            provider: self,
            http,
            endpoint: &endpoint,
            token: None,
            renewed: false,
        };

        let listing = session.get(ROLES_PATH).await?;
        match listing.status {
            200 => {}
            404 => {
                return Err(Error::credentials(format!(
                    "{NAME}: no IAM role is attached to this instance (404 from {ROLES_PATH})"
                )));
            }
            s => return Err(status_error(s, "listing the instance's IAM role")),
        }
        let role = first_role(&listing.body)?;
        let role = role.as_str();

        let resp = session.get(&format!("{ROLES_PATH}{role}")).await?;
        match resp.status {
            200 => {}
            404 => {
                return Err(Error::credentials(format!(
                    "{NAME}: instance metadata has no credentials for role {role} (404)"
                )));
            }
            s => return Err(status_error(s, "fetching the role's credentials")),
        }
        let doc = JsonCredentials::parse(NAME, &resp.body)?;
        if let Some(code) = doc.code.as_deref().map(str::trim)
            && code != "Success"
        {
            let message = doc
                .message
                .as_deref()
                .map(|m| format!(": {}", server_text(m)))
                .unwrap_or_default();
            return Err(Error::credentials(format!(
                "{NAME}: instance metadata answered Code {}{message} for role {role}",
                server_text(code)
            )));
        }
        doc.into_credentials(NAME)
    }

    /// A valid cached token for `endpoint`, if any.
    fn cached_token(&self, endpoint: &str) -> Option<String> {
        let guard = self.token.lock().ok()?;
        let t = guard.as_ref()?;
        (t.endpoint == endpoint && Instant::now() < t.use_until).then(|| t.value.clone())
    }

    /// Forgets the cached token.
    fn forget_token(&self) {
        if let Ok(mut guard) = self.token.lock() {
            *guard = None;
        }
    }

    /// Fetches a new session token and caches it.
    async fn fetch_token(&self, http: &SimpleHttp, endpoint: &str) -> Result<String> {
        let ttl = self.token_ttl.as_secs().to_string();
        let url = format!("{endpoint}{TOKEN_PATH}");
        let resp = http
            .send("PUT", &url, &[(TTL_HEADER, &ttl)], None)
            .await
            .map_err(|e| {
                Error::credentials(format!(
                    "{NAME}: no instance metadata service answered at {endpoint} \
                     (not running on EC2?)"
                ))
                .with_source(e)
            })?;
        match resp.status {
            200 => {}
            403 => {
                return Err(Error::credentials(format!(
                    "{NAME}: the session token request was refused (403): instance metadata \
                     is turned off for this instance, or the request came through a proxy"
                )));
            }
            s => {
                return Err(Error::credentials(format!(
                    "{NAME}: the session token request (PUT {TOKEN_PATH}) was answered with \
                     HTTP {s}; IMDSv2 is required"
                ))
                .with_retryable(s >= 500));
            }
        }
        let token = std::str::from_utf8(&resp.body)
            .map(str::trim)
            .ok()
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()));
        let Some(token) = token else {
            return Err(Error::credentials(format!(
                "{NAME}: the session token answer is empty or not a usable header value"
            )));
        };
        // The service says how long the token lives; trust the shorter of that and our ask.
        let granted = resp
            .headers
            .get(TTL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(self.token_ttl, |s| {
                self.token_ttl.min(Duration::from_secs(s))
            });
        if granted > TOKEN_REFRESH_MARGIN
            && let Ok(mut guard) = self.token.lock()
        {
            *guard = Some(SessionToken {
                value: token.to_owned(),
                endpoint: endpoint.to_owned(),
                use_until: Instant::now() + (granted - TOKEN_REFRESH_MARGIN),
            });
        }
        Ok(token.to_owned())
    }
}

impl ProvideCredentials for ImdsProvider {
    fn name(&self) -> &'static str {
        "instance metadata"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// One `provide_credentials` call: the token is fetched at most once, or renewed at most
/// once after a `401` on a cached one.
struct Session<'a> {
    provider: &'a ImdsProvider,
    http: &'a SimpleHttp,
    endpoint: &'a str,
    /// The token this call uses.
    token: Option<String>,
    /// Whether this call fetched a token already.
    renewed: bool,
}

impl Session<'_> {
    /// GETs `path` with a session token; on a `401`, renews the token once and repeats.
    async fn get(&mut self, path: &str) -> Result<SimpleResponse> {
        let token = match self.token.clone() {
            Some(t) => t,
            None => match self.provider.cached_token(self.endpoint) {
                Some(t) => t,
                None => self.renew().await?,
            },
        };
        self.token = Some(token.clone());
        let resp = self.send(path, &token).await?;
        if resp.status != 401 || self.renewed {
            return Ok(resp);
        }
        self.provider.forget_token();
        let token = self.renew().await?;
        self.send(path, &token).await
    }

    /// Fetches a new token for the rest of this call.
    async fn renew(&mut self) -> Result<String> {
        self.renewed = true;
        let token = self.provider.fetch_token(self.http, self.endpoint).await?;
        self.token = Some(token.clone());
        Ok(token)
    }

    async fn send(&self, path: &str, token: &str) -> Result<SimpleResponse> {
        let url = format!("{}{path}", self.endpoint);
        self.http
            .send("GET", &url, &[(TOKEN_HEADER, token)], None)
            .await
            .map_err(|e| {
                Error::credentials(format!("{NAME}: no answer from instance metadata ({path})"))
                    .with_source(e)
            })
    }
}

/// The error for an unexpected status while doing `what`.
fn status_error(status: u16, what: &str) -> Error {
    let hint = if status == 401 {
        " (a freshly fetched session token was refused)"
    } else {
        ""
    };
    Error::credentials(format!(
        "{NAME}: instance metadata answered HTTP {status} {what}{hint}"
    ))
    .with_retryable(status >= 500)
}

/// The first role of the role listing (one name per line), checked to be a plain role name
/// before it goes into a URL path.
pub(super) fn first_role(listing: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(listing);
    let Some(role) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Err(Error::credentials(format!(
            "{NAME}: no IAM role is attached to this instance (empty role list)"
        )));
    };
    if !is_role_name(role) {
        return Err(Error::credentials(format!(
            "{NAME}: the role list holds an unusable role name {:?}",
            server_text(role)
        )));
    }
    Ok(role.to_owned())
}

/// IAM role names: letters, digits and `+=,.@_-` (which also keeps the path intact).
fn is_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::super::container::test_server::{Request, TestServer};
    use super::*;
    use crate::ErrorKind;
    use crate::credentials::env::MapEnv;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

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
}
