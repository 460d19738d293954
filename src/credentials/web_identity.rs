//! Web identity: an OIDC token from a file (EKS IRSA, GitHub Actions, …) exchanged for role
//! credentials through STS `AssumeRoleWithWebIdentity`.

use super::env::{Env, ProcessEnv};
use super::metadata_http::shared_http;
use super::sts::{StsCall, default_session_name, form_body, send};
use super::sts_endpoint::{StsEndpoint, StsOverrides, configured_endpoint};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::{Error, Result};
use crate::transport::simple::SimpleHttp;
use crate::xml;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::OnceCell;

const NAME: &str = "WebIdentityProvider";

/// STS is a remote service: a longer timeout than the link-local metadata endpoints.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const ENV_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
const ENV_ROLE_ARN: &str = "AWS_ROLE_ARN";
const ENV_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";

/// Credentials for an IAM role, assumed with a web identity token through STS
/// `AssumeRoleWithWebIdentity` (EKS IAM roles for service accounts, CI OIDC tokens).
///
/// [`WebIdentityProvider::new`] reads the environment at each call:
/// `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (both required),
/// `AWS_ROLE_SESSION_NAME` (default `async-s3-<unix time>`), the region from `AWS_REGION` or
/// `AWS_DEFAULT_REGION` (default `us-east-1`) and the STS endpoint from
/// `AWS_ENDPOINT_URL_STS` (default `https://sts.<region>.amazonaws.com/`, or
/// `https://sts.amazonaws.com/` for the legacy regions with `AWS_STS_REGIONAL_ENDPOINTS=legacy`,
/// the same rules as [`AssumeRoleProvider`](super::AssumeRoleProvider)).
/// [`WebIdentityProvider::from_token_file`] takes the role and file explicitly and reads no
/// environment. The setters override either.
///
/// The token file is read at each call (the platform rotates it). The request is a form POST
/// and is not signed: the token is the proof. The credentials carry STS's `Expiration`. The
/// provider does not cache: wrap it in a [`CachedProvider`](super::CachedProvider).
///
/// Errors carry the status, the STS error code (`InvalidIdentityToken`,
/// `ExpiredTokenException`, …: [`Error::s3_code`](crate::Error::s3_code)) and the request id,
/// and never contain the token.
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
/// use async_s3::credentials::WebIdentityProvider;
///
/// # async fn demo() -> Result<(), async_s3::Error> {
/// let provider = WebIdentityProvider::from_token_file(
///     "arn:aws:iam::111122223333:role/reader",
///     "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
/// )
/// .region("eu-west-1")
/// .session_name("nightly-sync");
/// let creds = provider.provide_credentials().await?;
/// println!("{creds:?}");
/// # Ok(())
/// # }
/// ```
pub struct WebIdentityProvider {
    /// Read for the settings not given explicitly; `None` for explicit providers.
    env: Option<Env>,
    role_arn: Option<String>,
    token_file: Option<PathBuf>,
    session_name: Option<String>,
    region: Option<String>,
    sts_endpoint: Option<String>,
    timeout: Duration,
    http: OnceCell<SimpleHttp>,
}

impl fmt::Debug for WebIdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityProvider")
            .field("from_env", &self.env.is_some())
            .field("role_arn", &self.role_arn)
            .field("token_file", &self.token_file)
            .field("session_name", &self.session_name)
            .field("region", &self.region)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for WebIdentityProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// The settings of one call, resolved.
struct Settings {
    role_arn: String,
    token_file: PathBuf,
    session_name: String,
    endpoint: StsEndpoint,
}

impl WebIdentityProvider {
    /// A provider configured by the process environment, read at each call (see the type
    /// docs for the variables).
    pub fn new() -> Self {
        Self::with_env(Arc::new(ProcessEnv))
    }

    /// A provider configured by `env` instead of the process environment.
    pub(crate) fn with_env(env: Env) -> Self {
        Self {
            env: Some(env),
            role_arn: None,
            token_file: None,
            session_name: None,
            region: None,
            sts_endpoint: None,
            timeout: DEFAULT_TIMEOUT,
            http: OnceCell::new(),
        }
    }

    /// A provider assuming `role_arn` with the token in `token_file`, reading no environment
    /// (region `us-east-1` and its STS endpoint unless set).
    #[must_use]
    pub fn from_token_file(role_arn: impl Into<String>, token_file: impl Into<PathBuf>) -> Self {
        Self {
            env: None,
            role_arn: Some(role_arn.into()),
            token_file: Some(token_file.into()),
            ..Self::new()
        }
    }

    /// The role session name (default `async-s3-<unix time>`).
    #[must_use]
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }

    /// The region whose STS endpoint is asked (`https://sts.<region>.amazonaws.com/`).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The STS endpoint URL, replacing the regional one (a VPC endpoint, a local emulator).
    #[must_use]
    pub fn sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into());
        self
    }

    /// The total timeout of the STS request, connect included (10 seconds by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether a role and a token file are configured (the chain skips this provider
    /// otherwise).
    #[cfg_attr(not(test), allow(dead_code, reason = "for the provider chain"))]
    pub(crate) fn is_configured(&self) -> bool {
        let has = |explicit: bool, key: &str| {
            explicit || self.env.as_ref().is_some_and(|e| e.var(key).is_some())
        };
        has(self.role_arn.is_some(), ENV_ROLE_ARN) && has(self.token_file.is_some(), ENV_TOKEN_FILE)
    }

    fn settings(&self) -> Result<Settings> {
        let env_var = |key: &str| {
            self.env
                .as_ref()
                .and_then(|e| e.var(key))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let missing =
            |key: &str| Error::credentials_not_configured(format!("{NAME}: {key} is not set"));
        let role_arn = match &self.role_arn {
            Some(r) => r.trim().to_owned(),
            None => env_var(ENV_ROLE_ARN).ok_or_else(|| missing(ENV_ROLE_ARN))?,
        };
        let token_file = match &self.token_file {
            Some(p) => p.clone(),
            None => PathBuf::from(env_var(ENV_TOKEN_FILE).ok_or_else(|| missing(ENV_TOKEN_FILE))?),
        };
        if role_arn.is_empty() {
            return Err(Error::credentials(format!("{NAME}: the role ARN is empty")));
        }
        let session_name = self
            .session_name
            .clone()
            .or_else(|| env_var(ENV_SESSION_NAME))
            .unwrap_or_else(|| default_session_name(SystemTime::now()));
        // The same rules as every STS call (the token must not cross the network in the
        // clear: plain http only to this machine).
        let overrides = StsOverrides {
            url: self.sts_endpoint.as_deref(),
            region: self.region.as_deref(),
            regional: None,
        };
        let endpoint = configured_endpoint(&env_var, &|_| None, &overrides, NAME)?;
        Ok(Settings {
            role_arn,
            token_file,
            session_name,
            endpoint,
        })
    }

    async fn load(&self) -> Result<Credentials> {
        let s = self.settings()?;
        let http = shared_http(&self.http, self.timeout, NAME).await?;
        let call = WebIdentityCall {
            role_arn: &s.role_arn,
            session_name: &s.session_name,
            token_file: &s.token_file,
        };
        assume_role_with_web_identity(http, &s.endpoint, &call, NAME).await
    }
}

/// One `AssumeRoleWithWebIdentity`: the role, the session name, the token's file.
pub(crate) struct WebIdentityCall<'a> {
    pub(crate) role_arn: &'a str,
    pub(crate) session_name: &'a str,
    pub(crate) token_file: &'a Path,
}

/// Reads the token file and calls `AssumeRoleWithWebIdentity` at `endpoint` (a form POST, not
/// signed: the token is the proof). `who` starts every error message.
///
/// # Errors
///
/// `Credentials`: the token file cannot be read or is empty; no answer; a refusal, typed with
/// the status, the STS code and the request id (never the token); an unreadable answer.
pub(crate) async fn assume_role_with_web_identity(
    http: &SimpleHttp,
    endpoint: &StsEndpoint,
    call: &WebIdentityCall<'_>,
    who: &str,
) -> Result<Credentials> {
    let token = read_token(call.token_file, who).await?;
    let body = form_body(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", call.role_arn),
        ("RoleSessionName", call.session_name),
        ("WebIdentityToken", token.as_str()),
    ]);
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "text/xml"),
    ];
    let call = StsCall {
        action: "AssumeRoleWithWebIdentity",
        parse: xml::parse_assume_role_with_web_identity,
        who,
        role: call.role_arn,
        secrets: &[token.as_str()],
    };
    send(http, &endpoint.url, &headers, body, call).await
}

impl ProvideCredentials for WebIdentityProvider {
    fn name(&self) -> &'static str {
        "web identity"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Reads the web identity token without blocking the runtime.
async fn read_token(path: &Path, who: &str) -> Result<String> {
    let text = tokio::fs::read_to_string(path).await.map_err(|e| {
        Error::credentials(format!(
            "{who}: cannot read the web identity token file {}",
            path.display()
        ))
        .with_source(e)
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::credentials(format!(
            "{who}: the web identity token file {} is empty",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::credentials::env::MapEnv;
    use crate::credentials::test_server::TestServer;

    const SECRET: &str = "CANARY-SECRET-webid";
    const SESSION: &str = "CANARY-SESSION-webid";
    const JWT: &str = "eyJCANARY.JWT-webid+/=";
    const ROLE: &str = "arn:aws:iam::111122223333:role/reader";

    fn ok_xml() -> String {
        format!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIAWEBID</AccessKeyId>
      <SecretAccessKey>{SECRET}</SecretAccessKey>
      <SessionToken>{SESSION}</SessionToken>
      <Expiration>2030-01-02T03:04:05Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#
        )
    }

    fn error_xml(code: &str, message: &str) -> String {
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>rid-7</RequestId></ErrorResponse>"
        )
    }

    fn token_file() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, format!("{JWT}\n")).unwrap();
        (dir, path)
    }

    /// Decodes a form body into pairs.
    fn form(body: &[u8]) -> Vec<(String, String)> {
        let text = std::str::from_utf8(body).unwrap();
        text.split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_owned(), xml_free_decode(v))
            })
            .collect()
    }

    fn xml_free_decode(v: &str) -> String {
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
        String::from_utf8(out).unwrap()
    }

    fn assert_clean(text: &str) {
        for canary in [SECRET, SESSION, JWT, "eyJCANARY"] {
            assert!(!text.contains(canary), "{text}");
        }
    }

    #[tokio::test]
    async fn assumes_the_role_from_env() {
        let body = ok_xml();
        let server = TestServer::start(move |_, _| (200, body.clone())).await;
        let (_dir, path) = token_file();
        let env = MapEnv::default()
            .with(ENV_TOKEN_FILE, path.to_str().unwrap())
            .with(ENV_ROLE_ARN, ROLE)
            .with(ENV_SESSION_NAME, "my session")
            .with("AWS_ENDPOINT_URL_STS", format!("{}/sts/", server.url()));
        let p = WebIdentityProvider::with_env(Arc::new(env));
        assert!(p.is_configured());
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "ASIAWEBID");
        assert_eq!(c.secret_access_key(), SECRET);
        assert_eq!(c.session_token(), Some(SESSION));
        let exp = c
            .expiry()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert_eq!(exp.as_secs(), 1_893_553_445);

        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        let req = &reqs[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.target, "/sts/");
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(req.header("authorization"), None);
        let pairs = form(&req.body);
        let want = [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", ROLE),
            ("RoleSessionName", "my session"),
            ("WebIdentityToken", JWT),
        ];
        assert_eq!(pairs.len(), want.len());
        for ((k, v), (wk, wv)) in pairs.iter().zip(want) {
            assert_eq!((k.as_str(), v.as_str()), (wk, wv));
        }
    }

    #[tokio::test]
    async fn sts_error_is_clear_and_redacted() {
        let server = TestServer::start(|_, i| match i {
            0 => (
                400,
                error_xml("InvalidIdentityToken", &format!("bad token {JWT}")),
            ),
            1 => (400, error_xml("IDPCommunicationError", "try later")),
            2 => (200, error_xml("ExpiredTokenException", "expired")),
            3 => (503, "<html>busy</html>".to_owned()),
            _ => (200, "<AssumeRoleWithWebIdentityResponse><oops>".to_owned()),
        })
        .await;
        let (_dir, path) = token_file();
        let p = WebIdentityProvider::from_token_file(ROLE, &path).sts_endpoint(server.url());
        // Review of issue 12: refusals are typed like AssumeRole's (status, code, request id).
        let cases = [
            (
                Some((400, "InvalidIdentityToken")),
                "bad token ** redacted **",
                false,
            ),
            (Some((400, "IDPCommunicationError")), "try later", true),
            (
                Some((200, "ExpiredTokenException")),
                "[request id rid-7]",
                false,
            ),
            (None, "HTTP 503 and no readable error", true),
            (None, "cannot be read", false),
        ];
        for (typed, want, retryable) in cases {
            let e = p.provide_credentials().await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Credentials);
            let text = format!("{e} {e:?}");
            assert!(text.contains("WebIdentityProvider"), "{text}");
            assert!(text.contains(want), "{text} lacks {want}");
            assert_eq!(e.is_retryable(), retryable, "{text}");
            if let Some((status, code)) = typed {
                assert_eq!(e.status(), Some(status), "{text}");
                assert_eq!(e.s3_code(), Some(code), "{text}");
                assert_eq!(e.request_id(), Some("rid-7"), "{text}");
            }
            assert_clean(&text);
        }
    }

    #[tokio::test]
    async fn missing_settings_and_files() {
        let p = WebIdentityProvider::with_env(Arc::new(MapEnv::default().with(ENV_ROLE_ARN, ROLE)));
        assert!(!p.is_configured());
        let e = p.provide_credentials().await.unwrap_err();
        assert!(e.to_string().contains(ENV_TOKEN_FILE), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let p = WebIdentityProvider::from_token_file(ROLE, dir.path().join("absent"))
            .sts_endpoint("http://127.0.0.1:9/");
        let e = p.provide_credentials().await.unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot read the web identity token file"),
            "{e}"
        );

        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        // A loopback endpoint nobody listens on: nothing can leave this machine.
        let p =
            WebIdentityProvider::from_token_file(ROLE, &empty).sts_endpoint("http://127.0.0.1:9/");
        let e = p.provide_credentials().await.unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
    }

    #[test]
    fn endpoint_resolution() {
        let explicit = WebIdentityProvider::from_token_file(ROLE, "/t");
        let s = explicit.settings().unwrap();
        assert_eq!(s.endpoint.url, "https://sts.us-east-1.amazonaws.com/");
        assert!(
            s.session_name.starts_with("async-s3-"),
            "{}",
            s.session_name
        );

        let env = MapEnv::default()
            .with(ENV_ROLE_ARN, ROLE)
            .with(ENV_TOKEN_FILE, "/t")
            .with("AWS_DEFAULT_REGION", "eu-west-1");
        let p = WebIdentityProvider::with_env(Arc::new(env.clone()));
        assert_eq!(
            p.settings().unwrap().endpoint.url,
            "https://sts.eu-west-1.amazonaws.com/"
        );
        let p =
            WebIdentityProvider::with_env(Arc::new(env.clone().with("AWS_REGION", "cn-north-1")));
        assert_eq!(
            p.settings().unwrap().endpoint.url,
            "https://sts.cn-north-1.amazonaws.com.cn/"
        );
        let p = WebIdentityProvider::with_env(Arc::new(env.clone())).region("ap-south-1");
        assert_eq!(
            p.settings().unwrap().endpoint.url,
            "https://sts.ap-south-1.amazonaws.com/"
        );
        let p = WebIdentityProvider::with_env(Arc::new(env.with("AWS_REGION", "evil.com/x")));
        assert!(p.settings().is_err());

        let p = WebIdentityProvider::from_token_file(ROLE, "/t").sts_endpoint("sts.example");
        let e = p.settings().err().unwrap();
        assert!(e.to_string().contains("not an https URL"), "{e}");
        // The token never goes over plain http to another host.
        let p =
            WebIdentityProvider::from_token_file(ROLE, "/t").sts_endpoint("http://sts.example/");
        assert!(p.settings().is_err());
        let p =
            WebIdentityProvider::from_token_file(ROLE, "/t").sts_endpoint("http://127.0.0.1:9/");
        assert!(p.settings().is_ok());
    }

    #[test]
    fn debug_shows_settings_only() {
        let p = WebIdentityProvider::from_token_file(ROLE, "/var/run/token").session_name("s");
        let text = format!("{p:?}");
        assert!(
            text.contains(ROLE) && text.contains("/var/run/token"),
            "{text}"
        );
    }
}
