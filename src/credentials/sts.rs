//! STS `AssumeRole`: [`AssumeRoleProvider`] (any source provider, in code) and the signed call
//! itself, shared with the profile resolution (`role_arn` in the shared files).
//!
//! The call is a SigV4-signed (service `sts`) form POST of `Action=AssumeRole` answered with
//! XML; errors come as `<ErrorResponse>` and become [`ErrorKind::Credentials`] errors carrying
//! the status, the STS code and the request id.
//!
//! [`ErrorKind::Credentials`]: crate::ErrorKind::Credentials

use super::env::{Env, ProcessEnv};
use super::metadata_http::{server_text, shared_http};
#[cfg(test)]
use super::sts_endpoint::sts_endpoint;
use super::sts_endpoint::{StsEndpoint, StsOverrides, configured_endpoint};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::{Error, Result};
use crate::runtime::{Clock, SystemClock};
use crate::signing::{PayloadHash, SignableRequest, Signer, encode_query_component};
use crate::transport::simple::{SimpleHttp, SimpleResponse};
use crate::types::S3ErrorBody;
use crate::xml::{self, XmlError};
use bytes::Bytes;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

/// STS is a remote service: a longer timeout than the link-local metadata endpoints.
pub(crate) const STS_TIMEOUT: Duration = Duration::from_secs(10);

/// The parameters of one AssumeRole call. `Debug` says whether an external id is set, not
/// what it is (it is a shared secret of sorts between the role's owner and its user).
#[derive(Clone, Default)]
pub(crate) struct RoleRequest {
    pub(crate) role_arn: String,
    pub(crate) session_name: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) duration_seconds: Option<u32>,
}

impl fmt::Debug for RoleRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleRequest")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "set"))
            .field("duration_seconds", &self.duration_seconds)
            .finish()
    }
}

impl RoleRequest {
    /// Checks every parameter against the limits STS documents, so bad input never reaches
    /// the network.
    ///
    /// # Errors
    ///
    /// `InvalidInput` naming the parameter.
    pub(crate) fn validate(&self, who: &str) -> Result<()> {
        let bad = |what: String| Err(Error::invalid_input(format!("{who}: {what}")));
        let arn = self.role_arn.trim();
        if !arn.starts_with("arn:") || arn.len() < 20 || arn.len() > 2048 {
            return bad(format!(
                "the role ARN {:?} is not an ARN (arn:aws:iam::<account>:role/<name>)",
                server_text(arn)
            ));
        }
        let allowed = |c: char, extra: &str| {
            c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) || extra.contains(c)
        };
        if let Some(name) = &self.session_name
            && (!(2..=64).contains(&name.len()) || !name.chars().all(|c| allowed(c, "")))
        {
            return bad(format!(
                "the role session name {:?} must be 2 to 64 characters of letters, digits \
                 and _+=,.@-",
                server_text(name)
            ));
        }
        if let Some(id) = &self.external_id
            && (!(2..=1224).contains(&id.len()) || !id.chars().all(|c| allowed(c, ":/")))
        {
            return bad(
                "the external id must be 2 to 1224 characters of letters, digits and _+=,.@:/-"
                    .to_owned(),
            );
        }
        if let Some(d) = self.duration_seconds
            && !(900..=43_200).contains(&d)
        {
            return bad(format!(
                "the duration {d} s is outside what STS accepts (900 to 43200 seconds)"
            ));
        }
        Ok(())
    }

    /// The form body, in the order the API reference lists the parameters; the default
    /// session name is made from `now`.
    fn form(&self, now: SystemTime) -> String {
        let session = self
            .session_name
            .clone()
            .unwrap_or_else(|| default_session_name(now));
        let duration = self.duration_seconds.map(|d| d.to_string());
        let mut pairs = vec![
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", self.role_arn.trim()),
            ("RoleSessionName", session.as_str()),
        ];
        if let Some(d) = &duration {
            pairs.push(("DurationSeconds", d));
        }
        if let Some(id) = &self.external_id {
            pairs.push(("ExternalId", id));
        }
        form_body(&pairs)
    }
}

/// `key=value&…`, each value percent-encoded: the body of an STS form POST.
pub(crate) fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            body.push('&');
        }
        body.push_str(key);
        body.push('=');
        encode_query_component(&mut body, value);
    }
    body
}

/// `async-s3-<unix time of now>`, the session name when none is set.
pub(crate) fn default_session_name(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("async-s3-{secs}")
}

/// Calls AssumeRole at `endpoint`, signed with `source` at `now`. `who` starts every error
/// message (the provider or the profile).
///
/// # Errors
///
/// `InvalidInput` for parameters STS would refuse; `Credentials` for no answer, a refusal
/// (with the status, the STS code and the request id) or an answer that cannot be read.
pub(crate) async fn assume_role(
    http: &SimpleHttp,
    endpoint: &StsEndpoint,
    source: &Credentials,
    request: &RoleRequest,
    now: SystemTime,
    who: &str,
) -> Result<Credentials> {
    request.validate(who)?;
    let role = request.role_arn.trim();
    let uri: http::Uri = endpoint.url.parse().map_err(|_| {
        Error::credentials(format!(
            "{who}: the STS endpoint {:?} is not a URL",
            server_text(&endpoint.url)
        ))
    })?;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let path = match uri.path() {
        "" => "/",
        p => p,
    };
    let body = request.form(now);
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let signer = Signer::new(endpoint.signing_region.as_str(), "sts");
    let to_sign = [("content-type", content_type), ("host", host.as_str())];
    let signed = signer.sign_headers(
        source,
        now,
        &SignableRequest {
            method: "POST",
            path,
            query: "",
            headers: &to_sign,
        },
        &PayloadHash::of(body.as_bytes()),
    );
    let mut headers: Vec<(&str, &str)> = to_sign.to_vec();
    headers.extend(signed.iter());
    let mut secrets = vec![source.secret_access_key()];
    secrets.extend(source.session_token());
    let call = StsCall {
        action: "AssumeRole",
        parse: xml::parse_assume_role,
        who,
        role,
        secrets: &secrets,
    };
    send(http, &endpoint.url, &headers, body, call).await
}

/// POSTs the form `body` to `url` and reads the answer ([`read_answer`]).
///
/// # Errors
///
/// `Credentials`: no answer (retryable when the transport says so), or as [`read_answer`].
pub(crate) async fn send(
    http: &SimpleHttp,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
    call: StsCall<'_>,
) -> Result<Credentials> {
    let resp = http
        .send("POST", url, headers, Some(Bytes::from(body)))
        .await
        .map_err(|e| {
            Error::credentials(format!(
                "{}: no answer from STS at {} for {} of {}",
                call.who,
                server_text(url),
                call.action,
                call.role
            ))
            .with_retryable(e.is_retryable())
            .with_source(e)
        })?;
    read_answer(&resp, call)
}

/// One STS call, for reading its answer.
#[derive(Clone, Copy)]
pub(crate) struct StsCall<'a> {
    /// `AssumeRole`, `AssumeRoleWithWebIdentity`.
    pub(crate) action: &'a str,
    /// The parser of the 200 answer.
    pub(crate) parse: fn(&[u8]) -> std::result::Result<xml::StsCredentials, XmlError>,
    /// Starts every error message (the provider or the profile).
    pub(crate) who: &'a str,
    pub(crate) role: &'a str,
    /// What the request carried that must never be quoted back (a service may echo it).
    pub(crate) secrets: &'a [&'a str],
}

/// Reads an STS answer: the credentials of a 200, else an [`ErrorKind::Credentials`] error
/// typed with the status, the STS code, its message and the request id (`AccessDenied`,
/// `ExpiredToken`, `RegionDisabled` and a few others with a hint on what to do), retryable
/// for 5xx and throttling. No secret of the call in any message.
///
/// [`ErrorKind::Credentials`]: crate::ErrorKind::Credentials
///
/// # Errors
///
/// As above; also an answer that cannot be read.
pub(crate) fn read_answer(resp: &SimpleResponse, call: StsCall<'_>) -> Result<Credentials> {
    let StsCall {
        action,
        parse,
        who,
        role,
        secrets,
    } = call;
    if resp.status == 200 {
        match parse(&resp.body) {
            Ok(c) => {
                return Ok(Credentials::new(c.access_key_id, c.secret_access_key)
                    .with_session_token(c.session_token)
                    .with_expiry(c.expiration));
            }
            Err(XmlError::UnexpectedRoot { .. }) => {} // an <ErrorResponse>, maybe
            Err(e) => {
                return Err(Error::credentials(format!(
                    "{who}: the {action} answer for {role} cannot be read"
                ))
                .with_source(e));
            }
        }
    }
    let Some(err) = xml::parse_sts_error(&resp.body) else {
        return Err(Error::credentials(format!(
            "{who}: STS answered {action} of {role} with HTTP {} and no readable error",
            resp.status
        ))
        .with_retryable(resp.status >= 500));
    };
    // What the service says is quoted, but never a secret of the request (a service that
    // echoes the request's token must not carry it into logs).
    let redact = |text: &str| {
        let mut text = text.to_owned();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret, "** redacted **");
        }
        server_text(&text)
    };
    let code = err.code.as_deref().map(redact);
    let hint = match code.as_deref() {
        Some("ExpiredToken") => "; the source credentials have expired",
        Some("ExpiredTokenException") => "; the web identity token has expired",
        Some("InvalidIdentityToken") => "; STS does not accept the web identity token",
        Some("RegionDisabled") => {
            "; STS is not activated in this region for the account: activate it in IAM \
             (account settings) or use another region"
        }
        Some("AccessDenied") => {
            "; the source identity may not assume this role (its policy and the role's \
             trust policy decide)"
        }
        _ => "",
    };
    let request_id = err
        .request_id
        .as_deref()
        .map(|r| format!(" [request id {}]", redact(r)))
        .unwrap_or_default();
    let retryable = resp.status >= 500
        || matches!(
            code.as_deref(),
            Some("Throttling" | "ServiceUnavailable" | "InternalFailure" | "IDPCommunicationError")
        );
    Err(Error::credentials_from_service(
        format!("{who}: STS refused {action} of {role}{hint}{request_id}"),
        resp.status,
        S3ErrorBody {
            code,
            message: err.message.as_deref().map(redact),
            request_id: err.request_id.as_deref().map(redact),
            host_id: None,
        },
    )
    .with_retryable(retryable))
}

/// Credentials for an IAM role, assumed through STS `AssumeRole` with the credentials of
/// another provider (the source).
///
/// The request goes to the region's STS endpoint (`https://sts.<region>.amazonaws.com/`;
/// region `us-east-1` unless [`region`](Self::region), `AWS_REGION` or `AWS_DEFAULT_REGION`
/// says otherwise), or to `https://sts.amazonaws.com/` for the legacy regions when
/// [`regional_endpoints(false)`](Self::regional_endpoints) or
/// `AWS_STS_REGIONAL_ENDPOINTS=legacy` asks for the old behaviour, or to
/// [`sts_endpoint`](Self::sts_endpoint) or else `AWS_ENDPOINT_URL_STS`; each setter beats its
/// environment variable. It is signed with the source's credentials at each call; the source
/// is asked every time.
///
/// The provider does not cache: wrap it in a [`CachedProvider`](super::CachedProvider), which
/// refreshes the role's credentials before they expire, one STS call however many tasks ask.
/// Multi-factor authentication is not offered (a library cannot prompt for a code).
///
/// `Debug` shows the role, the session name, the endpoint and the source's name, never a
/// secret or a token.
///
/// # Errors
///
/// [`provide_credentials`](ProvideCredentials::provide_credentials) fails with
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a role ARN, session name,
/// external id or duration STS would refuse (before anything is sent), with the source's error
/// when it has no credentials, and with [`ErrorKind::Credentials`](crate::ErrorKind::Credentials)
/// when STS refuses (`AccessDenied`, `ExpiredToken`, `RegionDisabled`, …: the code is
/// [`Error::s3_code`](crate::Error::s3_code), the request id [`Error::request_id`](crate::Error::request_id),
/// the status [`Error::status`](crate::Error::status)), does not answer, or answers something
/// unreadable.
///
/// # Cancel safety
///
/// [`provide_credentials`](ProvideCredentials::provide_credentials) is cancel safe: it keeps
/// no state between calls.
///
/// # Example
///
/// ```no_run
/// use async_s3::credentials::{AssumeRoleProvider, CachedProvider, EnvironmentProvider};
/// use async_s3::ProvideCredentials;
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), async_s3::Error> {
/// let role = AssumeRoleProvider::new(
///     "arn:aws:iam::111122223333:role/deployer",
///     EnvironmentProvider::new(),
/// )
/// .region("eu-west-1")
/// .session_name("nightly-sync")
/// .external_id("partner-1234")
/// .duration(Duration::from_secs(3600));
/// let cached = CachedProvider::new(role);
/// let creds = cached.provide_credentials().await?;
/// println!("{creds:?}");
/// # Ok(())
/// # }
/// ```
pub struct AssumeRoleProvider {
    request: RoleRequest,
    source: Arc<dyn ProvideCredentials>,
    /// Read for the region when none is set; `None` when the provider reads no environment.
    env: Option<Env>,
    region: Option<String>,
    regional: Option<bool>,
    endpoint: Option<String>,
    timeout: Duration,
    clock: Arc<dyn Clock>,
    http: OnceCell<SimpleHttp>,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.request.role_arn)
            .field("session_name", &self.request.session_name)
            .field(
                "external_id",
                &self.request.external_id.as_ref().map(|_| "set"),
            )
            .field("duration_seconds", &self.request.duration_seconds)
            .field("source", &self.source.name())
            .field("region", &self.region)
            .field("regional_endpoints", &self.regional)
            .field("sts_endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl AssumeRoleProvider {
    /// Assumes `role_arn` with the credentials `source` provides. The region is the one set
    /// with [`region`](Self::region), else `AWS_REGION` or `AWS_DEFAULT_REGION`, else
    /// `us-east-1`.
    pub fn new(role_arn: impl Into<String>, source: impl ProvideCredentials) -> Self {
        Self::from_arc(role_arn, Arc::new(source))
    }

    /// Like [`new`](Self::new), with a source that is shared.
    pub fn from_arc(role_arn: impl Into<String>, source: Arc<dyn ProvideCredentials>) -> Self {
        Self {
            request: RoleRequest {
                role_arn: role_arn.into(),
                ..RoleRequest::default()
            },
            source,
            env: Some(Arc::new(ProcessEnv)),
            region: None,
            regional: None,
            endpoint: None,
            timeout: STS_TIMEOUT,
            clock: Arc::new(SystemClock),
            http: OnceCell::new(),
        }
    }

    /// The role session name, 2 to 64 characters of letters, digits and `_+=,.@-` (default
    /// `async-s3-<unix time>`). It appears in CloudTrail and in the assumed role's ARN.
    #[must_use]
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.request.session_name = Some(name.into());
        self
    }

    /// The external id the role's trust policy asks for (roles shared with a third party).
    #[must_use]
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.request.external_id = Some(id.into());
        self
    }

    /// How long the role's credentials last, 15 minutes to 12 hours (STS's default, one
    /// hour, when unset; the role's maximum session duration caps it). Whole seconds count.
    #[must_use]
    pub fn duration(mut self, duration: Duration) -> Self {
        self.request.duration_seconds = Some(u32::try_from(duration.as_secs()).unwrap_or(u32::MAX));
        self
    }

    /// The region whose STS endpoint is asked and whose name the request is signed for.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// `true` (the default unless `AWS_STS_REGIONAL_ENDPOINTS` says `legacy`): the region's
    /// own endpoint, as `sts_regional_endpoints = regional`. `false`: the global endpoint
    /// `https://sts.amazonaws.com/` for the regions that used it before STS became regional,
    /// as `sts_regional_endpoints = legacy`.
    #[must_use]
    pub fn regional_endpoints(mut self, regional: bool) -> Self {
        self.regional = Some(regional);
        self
    }

    /// The STS endpoint URL, replacing the regional one (a VPC endpoint, a local emulator);
    /// https, or plain http to loopback only.
    #[must_use]
    pub fn sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The total timeout of the STS request, connect included (10 seconds by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The clock the request is signed with (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The provider over `env` instead of the process environment (tests).
    #[cfg(test)]
    pub(crate) fn with_env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    fn who(&self) -> String {
        format!(
            "AssumeRoleProvider ({})",
            server_text(self.request.role_arn.trim())
        )
    }

    async fn load(&self) -> Result<Credentials> {
        let who = self.who();
        self.request.validate(&who)?;
        let var = |k: &str| self.env.as_ref().and_then(|env| env.var(k));
        let overrides = StsOverrides {
            url: self.endpoint.as_deref(),
            region: self.region.as_deref(),
            regional: self.regional,
        };
        let endpoint = configured_endpoint(&var, &|_| None, &overrides, &who)?;
        let source = self.source.provide_credentials().await?;
        let http = shared_http(&self.http, self.timeout, "AssumeRoleProvider").await?;
        assume_role(
            http,
            &endpoint,
            &source,
            &self.request,
            self.clock.now(),
            &who,
        )
        .await
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn name(&self) -> &'static str {
        "assume role"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
#[path = "sts_tests.rs"]
mod tests;
