//! Container credentials (ECS task roles, EKS Pod Identity): one GET to an endpoint inside the
//! task or pod, answered with JSON.

use super::env::{Env, ProcessEnv};
use super::metadata_http::{JsonCredentials, json_error_detail, shared_http};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::{Error, Result};
use crate::transport::simple::SimpleHttp;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::credentials::env::MapEnv;
    use crate::credentials::test_server::TestServer;
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
}
