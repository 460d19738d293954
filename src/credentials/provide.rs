//! [`Credentials`] (keys, optional session token and expiry; `Debug` never shows a secret),
//! the view the signer takes of them, and [`ProvideCredentials`], what every provider is.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

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
