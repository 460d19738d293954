//! EC2 instance metadata (IMDSv2): a session token from `PUT /latest/api/token`, then the role
//! name and its credentials, each `GET` carrying the token.

mod session;
#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests;

use super::env::{Env, ProcessEnv};
use super::metadata_http::{JsonCredentials, server_text, shared_http};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::{Error, Result};
use crate::transport::simple::SimpleHttp;
use session::{NAME, Session, TokenCache};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const DEFAULT_ENDPOINT_IPV6: &str = "http://[fd00:ec2::254]";

/// Short, like the AWS SDKs: off EC2 nothing answers, and the chain must not stall.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest session token lifetime IMDS grants (6 hours), and the default asked for.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(21_600);

const ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials/";

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
    token: TokenCache,
}

impl fmt::Debug for ImdsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.token.is_cached();
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
            token: TokenCache::default(),
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
        let mut session = Session::new(&self.token, self.token_ttl, http, &endpoint);

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
}

impl ProvideCredentials for ImdsProvider {
    fn name(&self) -> &'static str {
        "instance metadata"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
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
