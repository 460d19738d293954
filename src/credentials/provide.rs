//! [`Credentials`] (keys, optional session token and expiry; `Debug` never shows a secret),
//! the view the signer takes of them, and [`ProvideCredentials`], what every provider is.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// AWS credentials: access key id, secret access key, optional session token and expiry.
///
/// Cheap to clone (one reference count). `Debug` shows the access key id only.
///
/// # Example
///
/// ```
/// use async_s3::Credentials;
///
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
/// assert!(!format!("{creds:?}").contains("wJalr"));
/// ```
#[derive(Clone)]
pub struct Credentials(Arc<Inner>);

struct Inner {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expiry: Option<SystemTime>,
}

impl Credentials {
    /// Long-lived credentials from an access key id and a secret access key.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self(Arc::new(Inner {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            expiry: None,
        }))
    }

    /// The same credentials with a session token (temporary credentials from STS).
    #[must_use]
    pub fn with_session_token(self, token: impl Into<String>) -> Self {
        let inner = self.into_inner();
        Self(Arc::new(Inner {
            session_token: Some(token.into()),
            ..inner
        }))
    }

    /// The same credentials with an expiry time, after which they must not be used.
    #[must_use]
    pub fn with_expiry(self, expiry: SystemTime) -> Self {
        let inner = self.into_inner();
        Self(Arc::new(Inner {
            expiry: Some(expiry),
            ..inner
        }))
    }

    fn into_inner(self) -> Inner {
        Arc::try_unwrap(self.0).unwrap_or_else(|arc| Inner {
            access_key_id: arc.access_key_id.clone(),
            secret_access_key: arc.secret_access_key.clone(),
            session_token: arc.session_token.clone(),
            expiry: arc.expiry,
        })
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.0.access_key_id
    }

    /// The secret access key. Handle with care: never log it.
    pub fn secret_access_key(&self) -> &str {
        &self.0.secret_access_key
    }

    /// The session token, for temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.0.session_token.as_deref()
    }

    /// When the credentials expire, if they do.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.0.expiry
    }
}

/// The view the signer takes: the keys and the session token, borrowed.
impl<'a> From<&'a Credentials> for crate::signing::SigningCredentials<'a> {
    fn from(c: &'a Credentials) -> Self {
        crate::signing::SigningCredentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token(),
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.0.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.0.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("expiry", &self.0.expiry)
            .finish()
    }
}

/// 9999-12-31T23:59:59Z in seconds since the epoch: the latest time RFC 3339 (four-digit
/// years) can write. Expiries from servers past it are refused where they are read, so that
/// writing one again (a log, the SSO cache file) never meets a time `time` cannot hold.
pub(crate) const LATEST_SECS: u64 = 253_402_300_799;

/// An RFC 3339 time as a `SystemTime`; `None` when it is not one or lies past
/// [`LATEST_SECS`] (an offset can push 9999-12-31 over).
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let t = SystemTime::from(OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?);
    (t <= UNIX_EPOCH + Duration::from_secs(LATEST_SECS)).then_some(t)
}

/// `t` as RFC 3339 in UTC at whole seconds, or `None` when it cannot be written (past year
/// 9999 or before year 0). Never panics, unlike `OffsetDateTime::from`.
pub(crate) fn rfc3339(t: SystemTime) -> Option<String> {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok()?,
        Err(before) => {
            // Round towards the past, like the whole-second cut of a later time.
            let d = before.duration();
            let whole = i64::try_from(d.as_secs()).ok()?;
            -whole - i64::from(d.subsec_nanos() > 0)
        }
    };
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// The future a [`ProvideCredentials`] implementation returns.
pub type CredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, crate::Error>> + Send + 'a>>;

/// A source of credentials, asked before every request attempt.
///
/// Implementations should cache and refresh ahead of expiry themselves; the client calls
/// [`provide_credentials`](Self::provide_credentials) on the hot path.
pub trait ProvideCredentials: fmt::Debug + Send + Sync + 'static {
    /// Returns credentials valid now.
    ///
    /// # Errors
    ///
    /// An error of kind [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) when none
    /// can be had; its message names the provider and never contains a secret.
    fn provide_credentials(&self) -> CredentialsFuture<'_>;

    /// Forgets any cached credentials, because the service said they expired
    /// (`ExpiredToken`). The client calls it once before retrying such a request. The default
    /// does nothing; caching providers drop their copy.
    fn invalidate(&self) {}

    /// A short name for logs, such as `"profile"` or `"instance metadata"` (the default is
    /// `"custom"`). It must not contain anything secret.
    fn name(&self) -> &'static str {
        "custom"
    }
}

impl ProvideCredentials for Credentials {
    fn name(&self) -> &'static str {
        "static"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        let c = self.clone();
        Box::pin(async move { Ok(c) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// Formatting never panics, whatever the time (`time` panics past year 9999).
    #[test]
    fn rfc3339_is_none_outside_what_it_can_write() {
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(rfc3339(at(1)).as_deref(), Some("1970-01-01T00:00:01Z"));
        assert_eq!(
            rfc3339(at(LATEST_SECS)).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(rfc3339(at(LATEST_SECS + 1)), None);
        assert_eq!(rfc3339(at(u64::MAX / 2)), None);
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(1)).as_deref(),
            Some("1969-12-31T23:59:59Z")
        );
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Some(at(LATEST_SECS)));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59-00:01"), None);
        assert_eq!(parse_rfc3339("tomorrow"), None);
    }
}
