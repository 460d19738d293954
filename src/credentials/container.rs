//! Container credentials (ECS task roles, EKS Pod Identity): one GET to an endpoint inside the
//! task or pod, answered with JSON.
//!
//! This file also holds what the three HTTP providers share: the JSON credentials document
//! (the same shape from containers and instance metadata), the lazily built HTTP client, and
//! the sanitizing of text a server sent before it goes into an error message.

use super::env::{Env, ProcessEnv};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::{Error, Result};
use crate::transport::simple::SimpleHttp;
use serde::Deserialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::OnceCell;

const NAME: &str = "ContainerProvider";

/// Where a relative URI is resolved: the ECS task metadata address.
const ECS_BASE: &str = "http://169.254.170.2";

/// The default total timeout of the request (connect included).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

const RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
const FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
const TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
const TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

/// Credentials from the container credentials endpoint (ECS task roles, EKS Pod Identity).
///
/// [`ContainerProvider::new`] reads the environment at each call, as ECS and EKS set it up:
///
/// - `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`: a path on `http://169.254.170.2` (ECS);
/// - otherwise `AWS_CONTAINER_CREDENTIALS_FULL_URI`: a whole URL (EKS Pod Identity, local
///   tools). Plain `http` is accepted only to a loopback address, `localhost`, the ECS address
///   `169.254.170.2` or the EKS addresses `169.254.170.23` and `fd00:ec2::23`; any `https` URL
///   is accepted. Host names other than `localhost` are not resolved, so over `http` they are
///   refused.
/// - the `Authorization` header comes from the file named by
///   `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at each call, whitespace trimmed), or else
///   from `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
///
/// The endpoint answers
/// `{"AccessKeyId": …, "SecretAccessKey": …, "Token": …, "Expiration": "2030-01-01T00:00:00Z"}`;
/// the credentials carry that expiry. The provider does not cache: wrap it in a
/// [`CachedProvider`](super::CachedProvider).
///
/// `Debug` never shows the authorization token.
///
/// # Cancel safety
///
/// [`provide_credentials`](ProvideCredentials::provide_credentials) is cancel safe: it keeps
/// no state between calls.
///
/// # Example
///
/// ```no_run
/// use async_s3::ProvideCredentials;
/// use async_s3::credentials::ContainerProvider;
///
/// # async fn demo() -> Result<(), async_s3::Error> {
/// let provider = ContainerProvider::from_full_uri("http://127.0.0.1:8080/credentials")
///     .authorization_token("Basic abcd");
/// let creds = provider.provide_credentials().await?;
/// println!("{creds:?}");
/// # Ok(())
/// # }
/// ```
pub struct ContainerProvider {
    /// Read for the settings not given explicitly; `None` once an explicit URI is given.
    env: Option<Env>,
    full_uri: Option<String>,
    auth: Option<Auth>,
    relative_base: String,
    timeout: Duration,
    http: OnceCell<SimpleHttp>,
}

/// Where the `Authorization` header value comes from.
#[derive(Clone)]
enum Auth {
    Token(String),
    File(PathBuf),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token(_) => f.write_str("Token(** redacted **)"),
            Auth::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

impl fmt::Debug for ContainerProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContainerProvider")
            .field("from_env", &self.env.is_some())
            .field("full_uri", &self.full_uri)
            .field("authorization", &self.auth)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ContainerProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl ContainerProvider {
    /// A provider configured by the process environment, read at each call (see the type
    /// docs for the variables).
    pub fn new() -> Self {
        Self::with_env(Arc::new(ProcessEnv))
    }

    /// A provider configured by `env` instead of the process environment.
    pub(crate) fn with_env(env: Env) -> Self {
        Self {
            env: Some(env),
            full_uri: None,
            auth: None,
            relative_base: ECS_BASE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            http: OnceCell::new(),
        }
    }

    /// A provider for the endpoint at `uri`, ignoring the environment.
    ///
    /// The URL is checked when credentials are asked for: plain `http` only to a loopback
    /// address, `localhost`, `169.254.170.2`, `169.254.170.23` or `fd00:ec2::23`; any
    /// `https` URL.
    #[must_use]
    pub fn from_full_uri(uri: impl Into<String>) -> Self {
        Self {
            env: None,
            full_uri: Some(uri.into()),
            ..Self::new()
        }
    }

    /// Sends `token` as the `Authorization` header (overrides the environment's token).
    #[must_use]
    pub fn authorization_token(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Auth::Token(token.into()));
        self
    }

    /// Sends the contents of `path` (read at each call, whitespace trimmed) as the
    /// `Authorization` header (overrides the environment's token).
    #[must_use]
    pub fn authorization_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.auth = Some(Auth::File(path.into()));
        self
    }

    /// The total timeout of the request, connect included (2 seconds by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Resolves relative URIs against `base` instead of `http://169.254.170.2` (tests).
    #[cfg_attr(not(test), allow(dead_code, reason = "a test seam"))]
    pub(crate) fn with_relative_base(mut self, base: impl Into<String>) -> Self {
        self.relative_base = base.into();
        self
    }

    /// Whether an endpoint is configured at all (the chain skips this provider otherwise).
    #[cfg_attr(not(test), allow(dead_code, reason = "for the provider chain"))]
    pub(crate) fn is_configured(&self) -> bool {
        self.full_uri.is_some()
            || self
                .env
                .as_ref()
                .is_some_and(|e| e.var(RELATIVE_URI).is_some() || e.var(FULL_URI).is_some())
    }

    /// The URL to ask and where its authorization comes from.
    fn target(&self) -> Result<(String, Option<Auth>)> {
        let env_var = |key: &str| self.env.as_ref().and_then(|e| e.var(key));
        let url = if let Some(full) = &self.full_uri {
            check_full_uri(full.trim())?;
            full.trim().to_owned()
        } else if let Some(rel) = env_var(RELATIVE_URI) {
            let rel = rel.trim();
            let sep = if rel.starts_with('/') { "" } else { "/" };
            let url = format!("{}{sep}{rel}", self.relative_base.trim_end_matches('/'));
            if url.parse::<http::Uri>().is_err() {
                return Err(Error::credentials(format!(
                    "{NAME}: {RELATIVE_URI} does not make a valid URL"
                )));
            }
            url
        } else if let Some(full) = env_var(FULL_URI) {
            check_full_uri(full.trim())?;
            full.trim().to_owned()
        } else {
            return Err(Error::credentials_not_configured(format!(
                "{NAME}: neither {RELATIVE_URI} nor {FULL_URI} is set"
            )));
        };
        let auth = self.auth.clone().or_else(|| {
            env_var(TOKEN_FILE)
                .map(|p| Auth::File(PathBuf::from(p.trim())))
                .or_else(|| env_var(TOKEN).map(Auth::Token))
        });
        Ok((url, auth))
    }

    async fn load(&self) -> Result<Credentials> {
        let (url, auth) = self.target()?;
        let auth = match auth {
            None => None,
            Some(Auth::Token(t)) => Some(t.trim().to_owned()),
            Some(Auth::File(path)) => Some(read_token_file(&path).await?),
        };
        if auth.as_deref().is_some_and(|t| !is_header_safe(t)) {
            return Err(Error::credentials(format!(
                "{NAME}: the authorization token holds a line break or control character"
            )));
        }
        let http = shared_http(&self.http, self.timeout, NAME).await?;
        let mut headers = vec![("accept", "application/json")];
        if let Some(t) = &auth {
            headers.push(("authorization", t.as_str()));
        }
        let resp = http.send("GET", &url, &headers, None).await.map_err(|e| {
            Error::credentials(format!("{NAME}: no answer from {}", origin(&url))).with_source(e)
        })?;
        if !(200..300).contains(&resp.status) {
            return Err(Error::credentials(format!(
                "{NAME}: {} answered HTTP {}{}",
                origin(&url),
                resp.status,
                json_error_detail(&resp.body)
            ))
            .with_retryable(resp.status >= 500));
        }
        JsonCredentials::parse(NAME, &resp.body)?.into_credentials(NAME)
    }
}

impl ProvideCredentials for ContainerProvider {
    fn name(&self) -> &'static str {
        "container"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Reads an authorization token file without blocking the runtime.
async fn read_token_file(path: &std::path::Path) -> Result<String> {
    let text = tokio::fs::read_to_string(path).await.map_err(|e| {
        Error::credentials(format!(
            "{NAME}: cannot read the authorization token file {}",
            path.display()
        ))
        .with_source(e)
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::credentials(format!(
            "{NAME}: the authorization token file {} is empty",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// Whether `value` can go into a header as is (no CR, LF or other control character).
fn is_header_safe(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && c != '\t')
}

/// Checks a full URI against the documented rule: any `https` URL, or `http` to an allowed
/// address.
fn check_full_uri(uri: &str) -> Result<()> {
    let refuse = |why: String| Err(Error::credentials(format!("{NAME}: {FULL_URI} {why}")));
    let Ok(parsed) = uri.parse::<http::Uri>() else {
        return refuse("is not a valid URL".to_owned());
    };
    let Some(authority) = parsed.authority() else {
        return refuse("is not an absolute URL".to_owned());
    };
    if authority.as_str().contains('@') {
        return refuse("must not carry user information".to_owned());
    }
    match parsed.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => return Ok(()),
        Some(s) if s.eq_ignore_ascii_case("http") => {}
        _ => return refuse("must be an http or https URL".to_owned()),
    }
    let host = authority.host();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok(());
    }
    match bare.parse::<IpAddr>() {
        Ok(ip) if is_allowed_ip(ip) => Ok(()),
        Ok(_) => refuse(format!(
            "host {host} is not allowed over plain http: only loopback, 169.254.170.2, \
             169.254.170.23 and fd00:ec2::23 are (any host is allowed over https)"
        )),
        Err(_) => refuse(format!(
            "host {host} is not allowed over plain http: only IP addresses (loopback, \
             169.254.170.2, 169.254.170.23, fd00:ec2::23) and localhost are, as host names are \
             not resolved (any host is allowed over https)"
        )),
    }
}

/// Loopback, the ECS task metadata address, or an EKS Pod Identity agent address.
fn is_allowed_ip(ip: IpAddr) -> bool {
    const ECS: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 2);
    const EKS_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 23);
    const EKS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23);
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.is_loopback() || v4 == ECS || v4 == EKS_V4,
        IpAddr::V6(v6) => v6.is_loopback() || v6 == EKS_V6,
    }
}

// ---- Shared by the HTTP providers ----------------------------------------------------------

/// Builds the provider's HTTP client on first use.
pub(super) async fn shared_http<'a>(
    cell: &'a OnceCell<SimpleHttp>,
    timeout: Duration,
    provider: &'static str,
) -> Result<&'a SimpleHttp> {
    cell.get_or_try_init(|| async { SimpleHttp::new(timeout) })
        .await
        .map_err(|e| Error::credentials(format!("{provider}: no HTTP client")).with_source(e))
}

/// The credentials document of the container endpoint and of instance metadata. Unknown
/// fields (`LastUpdated`, `Type`, `RoleArn`, …) are ignored.
///
/// No `Debug`: it holds a secret.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct JsonCredentials {
    /// `Success` from instance metadata; absent from container endpoints.
    pub(super) code: Option<String>,
    /// An explanation accompanying a `Code` other than `Success`.
    pub(super) message: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

impl JsonCredentials {
    /// Parses the document. The error never quotes the body (it may hold a secret).
    pub(super) fn parse(provider: &'static str, body: &[u8]) -> Result<Self> {
        serde_json::from_slice(body).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "truncated JSON",
                serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                    "malformed JSON"
                }
                serde_json::error::Category::Data => "JSON of the wrong shape",
            };
            Error::credentials(format!(
                "{provider}: the credentials answer is {what} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }

    /// The credentials, with the session token and expiry when present.
    pub(super) fn into_credentials(self, provider: &'static str) -> Result<Credentials> {
        let required = |v: Option<String>, field: &str| {
            v.map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    Error::credentials(format!("{provider}: the credentials answer has no {field}"))
                })
        };
        let id = required(self.access_key_id, "AccessKeyId")?;
        let secret = required(self.secret_access_key, "SecretAccessKey")?;
        let mut creds = Credentials::new(id, secret);
        if let Some(token) = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            creds = creds.with_session_token(token);
        }
        if let Some(exp) = self
            .expiration
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            creds = creds.with_expiry(parse_expiration(provider, exp)?);
        }
        Ok(creds)
    }
}

/// Parses an RFC 3339 `Expiration`.
pub(super) fn parse_expiration(provider: &'static str, text: &str) -> Result<SystemTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| {
            Error::credentials(format!(
                "{provider}: the Expiration {:?} is not an RFC 3339 time",
                server_text(text)
            ))
        })
}

/// Text a server sent, made fit for an error message: control characters dropped, at most
/// 200 characters.
/// `scheme://host[:port]` of a URL: the path of a credentials endpoint (the ECS credentials
/// id, a query) stays out of error messages.
fn origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{host}")
        }
        None => "the endpoint".to_owned(),
    }
}

pub(super) fn server_text(text: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(MAX).collect();
    if text.chars().filter(|c| !c.is_control()).nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// `": <code>: <message>"` from a JSON error body (`code`/`message`, either case), or nothing.
pub(super) fn json_error_detail(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct JsonError {
        #[serde(alias = "Code")]
        code: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let Ok(e) = serde_json::from_slice::<JsonError>(body) else {
        return String::new();
    };
    match (e.code, e.message) {
        (Some(c), Some(m)) => format!(": {}: {}", server_text(&c), server_text(&m)),
        (Some(s), None) | (None, Some(s)) => format!(": {}", server_text(&s)),
        (None, None) => String::new(),
    }
}

/// A tiny HTTP/1.1 server for the providers' unit tests: one request per connection, each
/// recorded and answered by a closure.
#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
pub(super) mod test_server {
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// One recorded request.
    #[derive(Debug, Clone)]
    pub(crate) struct Request {
        pub(crate) method: String,
        pub(crate) target: String,
        pub(crate) headers: Vec<(String, String)>,
        pub(crate) body: Vec<u8>,
    }

    impl Request {
        /// The value of header `name` (case-insensitive).
        pub(crate) fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    type Handler = dyn Fn(&Request, usize) -> (u16, String) + Send + Sync;

    /// A running server; stops when dropped.
    pub(crate) struct TestServer {
        addr: std::net::SocketAddr,
        log: Arc<Mutex<Vec<Request>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl TestServer {
        /// Answers each request with `handler(request, index)` → (status, body).
        pub(crate) async fn start(
            handler: impl Fn(&Request, usize) -> (u16, String) + Send + Sync + 'static,
        ) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let log = Arc::new(Mutex::new(Vec::new()));
            let handler: Arc<Handler> = Arc::new(handler);
            let log2 = log.clone();
            let task = tokio::spawn(async move {
                while let Ok((mut sock, _)) = listener.accept().await {
                    let (log, handler) = (log2.clone(), handler.clone());
                    tokio::spawn(async move {
                        let Some(req) = read_request(&mut sock).await else {
                            return;
                        };
                        let index = {
                            let mut log = log.lock().unwrap();
                            log.push(req.clone());
                            log.len() - 1
                        };
                        let (status, body) = handler(&req, index);
                        let head = format!(
                            "HTTP/1.1 {status} Test\r\ncontent-length: {}\r\n\
                             connection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = sock.write_all(head.as_bytes()).await;
                        let _ = sock.write_all(body.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    });
                }
            });
            Self { addr, log, task }
        }

        /// `http://127.0.0.1:<port>`.
        pub(crate) fn url(&self) -> String {
            format!("http://{}", self.addr)
        }

        /// The requests received so far.
        pub(crate) fn requests(&self) -> Vec<Request> {
            self.log.lock().unwrap().clone()
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Request> {
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let method = first.next()?.to_owned();
        let target = first.next()?.to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf.split_off(head_end);
        while body.len() < len {
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        body.truncate(len);
        Some(Request {
            method,
            target,
            headers,
            body,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::test_server::TestServer;
    use super::*;
    use crate::ErrorKind;
    use crate::credentials::env::MapEnv;
    use std::time::UNIX_EPOCH;

    const SECRET: &str = "CANARY-SECRET-c0ntainer";
    const SESSION: &str = "CANARY-SESSION-c0ntainer";
    const AUTH: &str = "CANARY-AUTH-c0ntainer";

    fn creds_json() -> String {
        format!(
            r#"{{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"{SECRET}","Token":"{SESSION}",
                "Expiration":"2030-01-02T03:04:05Z","RoleArn":"arn:aws:iam::1:role/x"}}"#
        )
    }

    async fn ok_server() -> TestServer {
        let body = creds_json();
        TestServer::start(move |_, _| (200, body.clone())).await
    }

    fn provider(env: MapEnv) -> ContainerProvider {
        ContainerProvider::with_env(Arc::new(env))
    }

    /// Neither the error's Display nor its Debug holds a canary.
    fn assert_clean(e: &Error) {
        let text = format!("{e} {e:?}");
        for canary in [SECRET, SESSION, AUTH] {
            assert!(!text.contains(canary), "{text}");
        }
    }

    #[tokio::test]
    async fn relative_uri_against_the_base() {
        let server = ok_server().await;
        let p = provider(MapEnv::default().with(RELATIVE_URI, "/v2/credentials/abc-123"))
            .with_relative_base(server.url());
        assert!(p.is_configured());
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "ASIACONTAINER");
        assert_eq!(c.secret_access_key(), SECRET);
        assert_eq!(c.session_token(), Some(SESSION));
        let exp = c.expiry().unwrap().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(exp.as_secs(), 1_893_553_445);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].method, "GET");
        assert_eq!(reqs[0].target, "/v2/credentials/abc-123");
        assert_eq!(reqs[0].header("authorization"), None);
    }

    #[tokio::test]
    async fn relative_wins_over_full_and_gets_a_leading_slash() {
        let server = ok_server().await;
        let env = MapEnv::default()
            .with(RELATIVE_URI, "creds")
            .with(FULL_URI, "http://127.0.0.1:1/never");
        let p = provider(env).with_relative_base(format!("{}/", server.url()));
        p.provide_credentials().await.unwrap();
        assert_eq!(server.requests()[0].target, "/creds");
    }

    #[tokio::test]
    async fn full_uri_with_token_from_env() {
        let server = ok_server().await;
        let env = MapEnv::default()
            .with(FULL_URI, format!("{}/get?x=1", server.url()))
            .with(TOKEN, AUTH);
        let c = provider(env).provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "ASIACONTAINER");
        let req = &server.requests()[0];
        assert_eq!(req.target, "/get?x=1");
        assert_eq!(req.header("authorization"), Some(AUTH));
    }

    #[tokio::test]
    async fn token_file_wins_over_token_env() {
        let server = ok_server().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, format!("  {AUTH}-from-file\n")).unwrap();
        let env = MapEnv::default()
            .with(FULL_URI, server.url())
            .with(TOKEN_FILE, file.to_str().unwrap())
            .with(TOKEN, "from-env");
        provider(env).provide_credentials().await.unwrap();
        let expected = format!("{AUTH}-from-file");
        assert_eq!(
            server.requests()[0].header("authorization"),
            Some(expected.as_str())
        );
    }

    #[tokio::test]
    async fn missing_or_empty_token_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let env = MapEnv::default()
            .with(FULL_URI, "http://127.0.0.1:9/")
            .with(TOKEN_FILE, missing.to_str().unwrap());
        let e = provider(env).provide_credentials().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Credentials);
        assert!(
            e.to_string().contains("ContainerProvider: cannot read"),
            "{e}"
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n").unwrap();
        let env = MapEnv::default()
            .with(FULL_URI, "http://127.0.0.1:9/")
            .with(TOKEN_FILE, empty.to_str().unwrap());
        let e = provider(env).provide_credentials().await.unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
    }

    #[tokio::test]
    async fn token_with_a_line_break_is_refused() {
        let env = MapEnv::default()
            .with(FULL_URI, "http://127.0.0.1:9/")
            .with(TOKEN, format!("{AUTH}\r\nX-Evil: 1"));
        let e = provider(env).provide_credentials().await.unwrap_err();
        assert!(e.to_string().contains("line break"), "{e}");
        assert_clean(&e);
    }

    #[test]
    fn full_uri_rule() {
        let ok = [
            "http://127.0.0.1:8080/creds",
            "http://127.1.2.3/",
            "http://localhost:80/x",
            "http://[::1]:8080/",
            "http://169.254.170.2/v2/credentials",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "http://[::ffff:127.0.0.1]/",
            "https://creds.example.com/any",
            "HTTPS://creds.example.com/any",
        ];
        for uri in ok {
            assert!(check_full_uri(uri).is_ok(), "{uri}");
        }
        let refused = [
            "http://10.0.0.1/creds",
            "http://169.254.169.254/latest",
            "http://169.254.170.3/",
            "http://creds.example.com/",
            "http://localhost.evil.com/",
            "http://user:pw@127.0.0.1/",
            "ftp://127.0.0.1/",
            "/relative/only",
            "not a url",
        ];
        for uri in refused {
            let e = check_full_uri(uri).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Credentials);
            assert!(e.to_string().contains("ContainerProvider: "), "{e}");
        }
    }

    #[test]
    fn refused_host_sends_nothing() {
        // Checked without a request, so a regression cannot send anything off this machine.
        let e = check_full_uri("http://192.0.2.10/creds").unwrap_err();
        assert!(e.to_string().contains("not allowed over plain http"), "{e}");
        assert_clean(&e);
    }

    #[tokio::test]
    async fn not_configured() {
        let p = provider(MapEnv::default());
        assert!(!p.is_configured());
        let e = p.provide_credentials().await.unwrap_err();
        assert!(e.to_string().contains("neither"), "{e}");
    }

    #[tokio::test]
    async fn error_status_and_bad_documents() {
        let server = TestServer::start(|_, i| match i {
            0 => (
                403,
                r#"{"code":"AccessDenied","message":"no role"}"#.to_owned(),
            ),
            1 => (
                200,
                format!(r#"{{"AccessKeyId":"A","SecretAccessKey":"{SECRET}""#),
            ),
            2 => (
                200,
                format!(r#"{{"AccessKeyId":7,"SecretAccessKey":"{SECRET}"}}"#),
            ),
            3 => (200, format!(r#"{{"SecretAccessKey":"{SECRET}"}}"#)),
            4 => (
                200,
                format!(
                    r#"{{"AccessKeyId":"A","SecretAccessKey":"{SECRET}","Expiration":"soon"}}"#
                ),
            ),
            _ => (500, "<html>oops</html>".to_owned()),
        })
        .await;
        let p = provider(
            MapEnv::default()
                .with(FULL_URI, server.url())
                .with(TOKEN, AUTH),
        );
        let expect = [
            "HTTP 403: AccessDenied: no role",
            "truncated JSON",
            "wrong shape",
            "has no AccessKeyId",
            "not an RFC 3339 time",
            "HTTP 500",
        ];
        for want in expect {
            let e = p.provide_credentials().await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Credentials);
            let text = e.to_string();
            assert!(text.contains("ContainerProvider: "), "{text}");
            assert!(text.contains(want), "{text} lacks {want}");
            assert_clean(&e);
        }
    }

    #[tokio::test]
    async fn no_expiration_means_no_expiry() {
        let server = TestServer::start(|_, _| {
            (
                200,
                r#"{"AccessKeyId":"AKID","SecretAccessKey":"s"}"#.to_owned(),
            )
        })
        .await;
        let c = ContainerProvider::from_full_uri(server.url())
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(c.expiry(), None);
        assert_eq!(c.session_token(), None);
    }

    #[test]
    fn debug_hides_the_token() {
        let p = ContainerProvider::from_full_uri("http://127.0.0.1/").authorization_token(AUTH);
        let text = format!("{p:?}");
        assert!(!text.contains(AUTH), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }

    #[test]
    fn server_text_is_bounded() {
        assert_eq!(server_text("a\r\nb"), "ab");
        let long = "x".repeat(500);
        assert_eq!(server_text(&long).chars().count(), 201);
    }

    mod properties {
        use super::*;
        use crate::credentials::json_strategy::{CANARY, document};
        use proptest::prelude::*;

        const FIELDS: &[&str] = &[
            "Code",
            "Message",
            "AccessKeyId",
            "SecretAccessKey",
            "Token",
            "Expiration",
            "LastUpdated",
            "Type",
        ];

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(doc) = JsonCredentials::parse("c", &bytes) {
                    let _ = doc.into_credentials("c");
                }
                let _ = json_error_detail(&bytes);
            }

            /// Documents of every shape: no panic, and an error never quotes a secret.
            #[test]
            fn errors_never_quote_a_secret(doc in document(FIELDS, &["SecretAccessKey", "Token"])) {
                let result = JsonCredentials::parse("c", &doc)
                    .and_then(|d| d.into_credentials("c"));
                if let Err(e) = result {
                    let text = format!("{e} {e:?}");
                    prop_assert!(!text.contains(CANARY), "{}", text);
                }
                prop_assert!(!json_error_detail(&doc).contains(CANARY));
            }

            /// What the endpoint sends is what the provider reads.
            #[test]
            fn written_documents_read_back(
                id in "[A-Z0-9]{16,20}",
                secret in "[A-Za-z0-9/+]{1,40}",
                token in proptest::option::of("[A-Za-z0-9/+=]{1,60}"),
                expiry in proptest::option::of(0u64..253_402_300_800),
            ) {
                let mut doc = serde_json::json!({
                    "Code": "Success", "AccessKeyId": id, "SecretAccessKey": secret, "Type": "AWS-HMAC",
                });
                if let Some(t) = &token {
                    doc["Token"] = t.clone().into();
                }
                let expiry = expiry.map(|s| UNIX_EPOCH + Duration::from_secs(s));
                if let Some(e) = expiry {
                    doc["Expiration"] = OffsetDateTime::from(e).format(&Rfc3339).unwrap().into();
                }
                let parsed = JsonCredentials::parse("c", doc.to_string().as_bytes()).unwrap();
                prop_assert_eq!(parsed.code.as_deref(), Some("Success"));
                let c = parsed.into_credentials("c").unwrap();
                prop_assert_eq!(c.access_key_id(), id.as_str());
                prop_assert_eq!(c.secret_access_key(), secret.as_str());
                prop_assert_eq!(c.session_token(), token.as_deref());
                prop_assert_eq!(c.expiry(), expiry);
            }
        }
    }
}
