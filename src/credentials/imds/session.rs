//! The IMDSv2 session of [`ImdsProvider`](super::ImdsProvider): a session token from
//! `PUT /latest/api/token`, kept between calls until shortly before it expires, and `GET`s
//! that carry it, renewing it once when it is refused with a `401`.

use crate::error::{Error, Result};
use crate::transport::simple::{SimpleHttp, SimpleResponse};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The provider's name, as every message of it starts.
pub(super) const NAME: &str = "ImdsProvider";

/// A cached token is replaced this long before it expires.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

pub(super) const TOKEN_PATH: &str = "/latest/api/token";
pub(super) const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
pub(super) const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";

/// The session token a provider keeps between calls (at most one).
///
/// No `Debug`: it holds a token.
#[derive(Default)]
pub(super) struct TokenCache(Mutex<Option<SessionToken>>);

/// A session token and when to stop using it.
struct SessionToken {
    value: String,
    /// The endpoint that issued it (the environment may point elsewhere later).
    endpoint: String,
    use_until: Instant,
}

impl TokenCache {
    /// Whether a token is kept (for `Debug`, which never shows it).
    pub(super) fn is_cached(&self) -> bool {
        self.0.lock().map(|t| t.is_some()).unwrap_or(false)
    }

    /// A valid cached token for `endpoint`, if any.
    fn get(&self, endpoint: &str) -> Option<String> {
        let guard = self.0.lock().ok()?;
        let t = guard.as_ref()?;
        (t.endpoint == endpoint && Instant::now() < t.use_until).then(|| t.value.clone())
    }

    /// Forgets the cached token.
    fn forget(&self) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = None;
        }
    }

    /// Fetches a new session token, asking for a lifetime of `ttl`, and caches it.
    async fn fetch(&self, http: &SimpleHttp, endpoint: &str, ttl: Duration) -> Result<String> {
        let ttl_secs = ttl.as_secs().to_string();
        let url = format!("{endpoint}{TOKEN_PATH}");
        let resp = http
            .send("PUT", &url, &[(TTL_HEADER, &ttl_secs)], None)
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
            .map_or(ttl, |s| ttl.min(Duration::from_secs(s)));
        if granted > TOKEN_REFRESH_MARGIN
            && let Ok(mut guard) = self.0.lock()
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

/// One `provide_credentials` call: the token is fetched at most once, or renewed at most
/// once after a `401` on a cached one.
pub(super) struct Session<'a> {
    tokens: &'a TokenCache,
    /// The token lifetime asked for.
    token_ttl: Duration,
    http: &'a SimpleHttp,
    endpoint: &'a str,
    /// The token this call uses.
    token: Option<String>,
    /// Whether this call fetched a token already.
    renewed: bool,
}

impl<'a> Session<'a> {
    /// A session against `endpoint` (no trailing slash), using and refreshing `tokens`.
    pub(super) fn new(
        tokens: &'a TokenCache,
        token_ttl: Duration,
        http: &'a SimpleHttp,
        endpoint: &'a str,
    ) -> Self {
        Self {
            tokens,
            token_ttl,
            http,
            endpoint,
            token: None,
            renewed: false,
        }
    }

    /// GETs `path` with a session token; on a `401`, renews the token once and repeats.
    pub(super) async fn get(&mut self, path: &str) -> Result<SimpleResponse> {
        let token = match self.token.clone() {
            Some(t) => t,
            None => match self.tokens.get(self.endpoint) {
                Some(t) => t,
                None => self.renew().await?,
            },
        };
        self.token = Some(token.clone());
        let resp = self.send(path, &token).await?;
        if resp.status != 401 || self.renewed {
            return Ok(resp);
        }
        self.tokens.forget();
        let token = self.renew().await?;
        self.send(path, &token).await
    }

    /// Fetches a new token for the rest of this call.
    async fn renew(&mut self) -> Result<String> {
        self.renewed = true;
        let token = self
            .tokens
            .fetch(self.http, self.endpoint, self.token_ttl)
            .await?;
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
