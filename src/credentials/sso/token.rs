//! The SSO token cache, `~/.aws/sso/cache/<hex SHA-1>.json`, as `aws sso login` writes it:
//! `accessToken`, `expiresAt` (RFC 3339), and for an `sso-session` also `refreshToken`,
//! `clientId`, `clientSecret` and `registrationExpiresAt`.
//!
//! A token that expires within five minutes is refreshed through OIDC `CreateToken`
//! (`grantType` `refresh_token`) when the file allows it, and the file is written back
//! atomically (a temporary file in the same directory, renamed over it), keeping every field
//! it does not change. A file that cannot be read as a token is reported and never rewritten.

use super::shared::{SsoConfig, login_hint, service_error};
use crate::credentials::env::{Env, home_dir};
use crate::error::{Error, Result};
use crate::transport::simple::SimpleHttp;
use bytes::Bytes;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A token this close to its expiry is refreshed first.
const REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);

/// The longest life a refreshed token is given, whatever `expiresIn` the server sends (they
/// live hours): a year.
const LONGEST_TOKEN_LIFE: Duration = Duration::from_secs(365 * 24 * 3600);

/// The cache file of one session or start URL.
#[derive(Clone)]
pub(super) struct CacheFile {
    path: PathBuf,
    /// `Some` for an `sso-session` (refreshable), `None` for the legacy form.
    session: Option<String>,
    profile: String,
}

/// `hex(SHA-1(id))`: the file name rule of the AWS CLI, `id` being the session name or, for
/// the legacy form, the start URL.
pub(crate) fn cache_file_name(id: &str) -> String {
    format!("{}.json", hex::encode(Sha1::digest(id.as_bytes())))
}

/// The token document, read field by field (never printed).
struct Token {
    doc: Map<String, Value>,
    access_token: String,
    expires_at: SystemTime,
}

impl CacheFile {
    /// The file for `config` under the home directory of `env`.
    ///
    /// # Errors
    ///
    /// `Credentials` when there is no home directory.
    pub(super) fn locate(env: &Env, config: &SsoConfig, profile: &str) -> Result<Self> {
        let home = home_dir(&**env).ok_or_else(|| {
            Error::credentials(format!(
                "profile {profile:?}: no home directory (HOME) to find the SSO token cache in"
            ))
        })?;
        let id = config.session.as_deref().unwrap_or(&config.start_url);
        Ok(Self {
            path: home
                .join(".aws")
                .join("sso")
                .join("cache")
                .join(cache_file_name(id)),
            session: config.session.clone(),
            profile: profile.to_owned(),
        })
    }

    fn fail(&self, what: impl std::fmt::Display) -> Error {
        Error::credentials(format!(
            "profile {:?}: {what}; {}",
            self.profile,
            login_hint(&self.profile)
        ))
    }

    /// A valid access token: the cached one, or a refreshed one (written back) when it
    /// expires within five minutes and the file allows a refresh.
    ///
    /// The refresh and its write back run on a task of their own, awaited here: a caller
    /// that gives up (a timeout, a dropped future) does not lose a refresh OIDC has already
    /// granted (it may rotate the refresh token), nor leave a temporary file behind.
    pub(super) async fn access_token(
        &self,
        http: &SimpleHttp,
        oidc: &str,
        now: SystemTime,
    ) -> Result<String> {
        let token = self.read().await?;
        if token.expires_at > now + REFRESH_AHEAD {
            return Ok(token.access_token);
        }
        let (cached, expires_at) = (token.access_token.clone(), token.expires_at);
        let refreshed = match &self.session {
            Some(_) => {
                let (file, http, oidc) = (self.clone(), http.clone(), oidc.to_owned());
                let task =
                    tokio::spawn(async move { file.refresh(&http, &oidc, &token, now).await });
                task.await.unwrap_or_else(|_| {
                    Err(Error::credentials(format!(
                        "profile {:?}: the SSO token refresh stopped before it finished",
                        self.profile
                    )))
                })
            }
            None => Err(self.fail(format_args!(
                "the SSO token in {} (legacy sso_start_url form, not refreshable) {}",
                self.path.display(),
                expiry_text(expires_at, now)
            ))),
        };
        let Err(e) = refreshed else {
            return refreshed;
        };
        // Another process (the CLI, another program) may have refreshed first; then ours
        // was refused, its refresh having rotated our refresh token away. Its token is in the
        // file.
        if let Ok(latest) = self.read().await
            && latest.expires_at > expires_at
            && latest.expires_at > now
        {
            return Ok(latest.access_token);
        }
        if expires_at > now {
            // Still valid for a few minutes: use it; the next call tries again.
            return Ok(cached);
        }
        Err(e)
    }

    async fn read(&self) -> Result<Token> {
        let bytes = match tokio::fs::read(&self.path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(self.fail(format_args!(
                    "no IAM Identity Center (SSO) token is cached (looked for {})",
                    self.path.display()
                )));
            }
            Err(e) => {
                return Err(self
                    .fail(format_args!("cannot read {}", self.path.display()))
                    .with_source(e));
            }
        };
        let malformed = |what: &str| {
            self.fail(format_args!(
                "the SSO token cache file {} is not a usable token ({what})",
                self.path.display()
            ))
        };
        let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(malformed("not a JSON object"));
        };
        let access_token =
            string(&doc, "accessToken").ok_or_else(|| malformed("no accessToken"))?;
        let expires_at = string(&doc, "expiresAt")
            .and_then(|t| parse_time(&t))
            .ok_or_else(|| malformed("no expiresAt time"))?;
        Ok(Token {
            doc,
            access_token,
            expires_at,
        })
    }

    /// OIDC `CreateToken` with the refresh token; the new token is written back.
    async fn refresh(
        &self,
        http: &SimpleHttp,
        oidc: &str,
        token: &Token,
        now: SystemTime,
    ) -> Result<String> {
        let expired = expiry_text(token.expires_at, now);
        let (Some(client_id), Some(client_secret), Some(refresh_token)) = (
            string(&token.doc, "clientId"),
            string(&token.doc, "clientSecret"),
            string(&token.doc, "refreshToken"),
        ) else {
            return Err(self.fail(format_args!(
                "the SSO token {expired} and {} holds no refresh token",
                self.path.display()
            )));
        };
        if let Some(reg) = string(&token.doc, "registrationExpiresAt").and_then(|t| parse_time(&t))
            && reg <= now
        {
            return Err(self.fail(format_args!(
                "the SSO token {expired} and its client registration has expired too"
            )));
        }
        let body = serde_json::json!({
            "clientId": client_id,
            "clientSecret": client_secret,
            "grantType": "refresh_token",
            "refreshToken": refresh_token,
        });
        let who = format!(
            "profile {:?}: refreshing the SSO token (OIDC CreateToken)",
            self.profile
        );
        let url = format!("{oidc}/token");
        let headers = [("content-type", "application/json")];
        let resp = http
            .send("POST", &url, &headers, Some(Bytes::from(body.to_string())))
            .await
            .map_err(|e| {
                let retryable = e.is_retryable();
                Error::credentials(format!("{who}: no answer from the OIDC endpoint"))
                    .with_retryable(retryable)
                    .with_source(e)
            })?;
        if resp.status != 200 {
            let secrets = [
                refresh_token.as_str(),
                client_secret.as_str(),
                token.access_token.as_str(),
            ];
            let e = service_error(&who, &resp, &secrets, &self.profile);
            // Only a refused grant or client means logging in again; a throttled or failing
            // service is worth another try later.
            let e = if matches!(resp.status, 400 | 401) {
                let hint = login_hint(&self.profile);
                e.with_message(format!(
                    "{who} was refused; the SSO token {expired}: {hint}"
                ))
            } else {
                let status = resp.status;
                e.with_message(format!(
                    "{who} failed (HTTP {status}); the SSO token {expired}"
                ))
            };
            return Err(e);
        }
        let answer: Value = serde_json::from_slice(&resp.body)
            .map_err(|_| Error::credentials(format!("{who}: the answer is not JSON")))?;
        let access = answer
            .get("accessToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::credentials(format!("{who}: the answer has no accessToken")))?
            .to_owned();
        let expires_in = answer
            .get("expiresIn")
            .and_then(Value::as_u64)
            .filter(|s| *s > 0)
            .ok_or_else(|| Error::credentials(format!("{who}: the answer has no expiresIn")))?;
        // A server's number is bounded before it meets the clock: at most a year.
        let expires_at = now
            .checked_add(Duration::from_secs(expires_in).min(LONGEST_TOKEN_LIFE))
            .ok_or_else(|| Error::credentials(format!("{who}: the clock is out of range")))?;
        // Never a placeholder in the file: a time that cannot be written is an error.
        let expires_text = crate::credentials::rfc3339(expires_at)
            .ok_or_else(|| Error::credentials(format!("{who}: the clock is out of range")))?;
        let mut doc = token.doc.clone();
        doc.insert("accessToken".into(), Value::String(access.clone()));
        doc.insert("expiresAt".into(), Value::String(expires_text));
        // An empty refreshToken is no rotation: the one we have stays.
        if let Some(new_refresh) = answer
            .get("refreshToken")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
        {
            doc.insert("refreshToken".into(), Value::String(new_refresh.to_owned()));
        }
        // The token is good whether or not the file takes it: a failed write is a warning.
        if let Err(e) = self.write(&doc, expires_at).await {
            tracing::warn!(
                target: "async_s3::credentials",
                path = %self.path.display(),
                error = %e,
                "the refreshed SSO token could not be written back to its cache file; \
                 using it anyway"
            );
        }
        Ok(access)
    }

    /// Writes `doc` (a token valid until `expires_at`) to a temporary file next to the
    /// cache file, then renames it over, unless the file now holds a token that lives longer
    /// (another process refreshed meanwhile: its token is kept). The temporary file is
    /// removed whatever happens, a dropped future included.
    async fn write(&self, doc: &Map<String, Value>, expires_at: SystemTime) -> Result<()> {
        let text = serde_json::to_vec(doc)
            .map_err(|_| Error::credentials("the refreshed SSO token cannot be written as JSON"))?;
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = TempFile(Some(
            self.path
                .with_file_name(format!(".{name}.{}.{nanos}.tmp", std::process::id())),
        ));
        let fail = |e: std::io::Error| {
            Error::credentials(format!(
                "profile {:?}: the refreshed SSO token could not be written to {}",
                self.profile,
                self.path.display()
            ))
            .with_source(e)
        };
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let path = tmp.path();
        let mut f = options.open(path).await.map_err(fail)?;
        tokio::io::AsyncWriteExt::write_all(&mut f, &text)
            .await
            .map_err(fail)?;
        f.sync_all().await.map_err(fail)?;
        drop(f);
        if let Ok(current) = self.read().await
            && current.expires_at > expires_at
        {
            return Ok(());
        }
        tokio::fs::rename(path, &self.path).await.map_err(fail)?;
        tmp.keep();
        Ok(())
    }
}

/// A temporary file, removed when dropped unless [`keep`](Self::keep) was called (it was
/// renamed into place).
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &std::path::Path {
        self.0.as_deref().unwrap_or(std::path::Path::new(""))
    }

    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn string(doc: &Map<String, Value>, key: &str) -> Option<String> {
    doc.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// RFC 3339, or the `2019-11-14T04:05:45UTC` form older CLIs wrote; up to year 9999.
fn parse_time(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let fixed;
    let text = match text.strip_suffix("UTC") {
        Some(t) => {
            fixed = format!("{t}Z");
            fixed.as_str()
        }
        None => text,
    };
    crate::credentials::parse_rfc3339(text)
}

/// For messages: RFC 3339, never a panic.
fn format_time(t: SystemTime) -> String {
    crate::credentials::rfc3339(t).unwrap_or_else(|| "(past year 9999)".to_owned())
}

/// "expired at 2030-01-01T00:00:00Z" or "expires at …".
fn expiry_text(at: SystemTime, now: SystemTime) -> String {
    let verb = if at <= now { "expired" } else { "expires" };
    format!("{verb} at {}", format_time(at))
}
