//! The environment provider and the default chain.

use super::env::{Env, ProcessEnv};
use super::{ContainerProvider, ImdsProvider, ProfileProvider, WebIdentityProvider};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::{Error, Result};
use std::fmt;
use std::sync::Arc;

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional
/// `AWS_SESSION_TOKEN`, read each time they are asked for.
#[derive(Debug, Clone)]
pub struct EnvironmentProvider {
    env: Env,
}

impl Default for EnvironmentProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl EnvironmentProvider {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self {
            env: Arc::new(ProcessEnv),
        }
    }

    pub(crate) fn with_env(env: Env) -> Self {
        Self { env }
    }

    pub(crate) fn load(&self) -> Result<Credentials> {
        let id = self
            .env
            .var("AWS_ACCESS_KEY_ID")
            .ok_or_else(|| Error::credentials_not_configured("AWS_ACCESS_KEY_ID is not set"))?;
        let secret = self.env.var("AWS_SECRET_ACCESS_KEY").ok_or_else(|| {
            Error::credentials("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        })?;
        let creds = Credentials::new(id.trim(), secret.trim());
        Ok(match self.env.var("AWS_SESSION_TOKEN") {
            Some(t) => creds.with_session_token(t.trim()),
            None => creds,
        })
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn name(&self) -> &'static str {
        "environment"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        let r = self.load();
        Box::pin(async move { r })
    }
}

/// The default provider chain, in the order of the AWS SDK for Rust:
///
/// 1. the environment ([`EnvironmentProvider`]);
/// 2. the shared files' profile ([`ProfileProvider`](super::ProfileProvider): static keys,
///    `source_profile`, `credential_process`, roles through STS, IAM Identity Center);
/// 3. web identity ([`WebIdentityProvider`](super::WebIdentityProvider):
///    `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` through STS);
/// 4. container credentials ([`ContainerProvider`](super::ContainerProvider));
/// 5. instance metadata ([`ImdsProvider`](super::ImdsProvider), IMDSv2).
///
/// The first provider that yields credentials wins. A provider that is not set up at all (no
/// variables, no files, no such profile) passes to the next; a provider that is set up but
/// fails (STS refuses the token, `credential_process` exits with an error, a role profile needs
/// MFA, an SSO session has expired) stops the chain with its error, so a broken configuration never falls
/// through silently to, say, the instance's role. When none answers, the error lists every
/// provider with the reason it gave (never a secret). Wrap the chain in a
/// [`CachedProvider`](super::CachedProvider) (as [`ClientBuilder::load_env`](crate::ClientBuilder::load_env)
/// does) so it is not walked for every request.
pub struct DefaultChain {
    providers: Vec<(&'static str, Arc<dyn ProvideCredentials>)>,
}

impl fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.providers.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Default for DefaultChain {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultChain {
    /// The chain over the process environment and the user's shared files.
    pub fn new() -> Self {
        Self::with_env(&(Arc::new(ProcessEnv) as Env))
    }

    pub(crate) fn with_env(env: &Env) -> Self {
        Self::with_env_profile(env, None)
    }

    /// The chain over `env`, its profile provider reading `profile` (else `AWS_PROFILE`).
    pub(crate) fn with_env_profile(env: &Env, profile: Option<&str>) -> Self {
        Self {
            providers: chain_providers(env, profile),
        }
    }

    /// A chain of your own providers, tried in order.
    pub fn from_providers(
        providers: impl IntoIterator<Item = (&'static str, Arc<dyn ProvideCredentials>)>,
    ) -> Self {
        Self {
            providers: providers.into_iter().collect(),
        }
    }

    /// The names of the providers, in the order they are tried.
    pub fn provider_names(&self) -> Vec<&'static str> {
        self.providers.iter().map(|(n, _)| *n).collect()
    }

    /// Walks the chain; returns the first credentials and the name of the provider that gave
    /// them.
    ///
    /// # Errors
    ///
    /// An error of kind [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) listing why
    /// each provider gave none.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn resolve(&self) -> Result<(Credentials, &'static str)> {
        let mut reasons = Vec::with_capacity(self.providers.len());
        for (name, p) in &self.providers {
            match p.provide_credentials().await {
                Ok(c) => {
                    tracing::debug!(
                        target: "async_s3::credentials",
                        provider = *name,
                        "the default chain found credentials"
                    );
                    return Ok((c, name));
                }
                Err(e) if e.is_not_configured() => reasons.push(format!("{name}: {}", reason(&e))),
                Err(e) => {
                    return Err(Error::credentials(format!(
                        "the {name} provider is set up but failed: {}",
                        reason(&e)
                    ))
                    .with_source(e));
                }
            }
        }
        Err(Error::credentials(format!(
            "no provider in the chain gave credentials ({})",
            reasons.join("; ")
        )))
    }
}

/// The provider's own message, without the generic "credentials error: " prefix.
fn reason(e: &Error) -> String {
    let text = e.to_string();
    text.strip_prefix("credentials error: ")
        .map(str::to_owned)
        .unwrap_or(text)
}

impl ProvideCredentials for DefaultChain {
    fn name(&self) -> &'static str {
        "default chain"
    }

    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.resolve().await.map(|(c, _)| c) })
    }
}

/// The providers of the default chain, in order, over `env`.
fn chain_providers(
    env: &Env,
    profile: Option<&str>,
) -> Vec<(&'static str, Arc<dyn ProvideCredentials>)> {
    let mut profile_provider = ProfileProvider::with_env(env.clone());
    if let Some(name) = profile {
        profile_provider = profile_provider.profile(name);
    }
    vec![
        (
            "environment",
            Arc::new(EnvironmentProvider::with_env(env.clone())),
        ),
        ("profile", Arc::new(profile_provider)),
        (
            "web identity",
            Arc::new(WebIdentityProvider::with_env(env.clone())),
        ),
        (
            "container",
            Arc::new(ContainerProvider::with_env(env.clone())),
        ),
        (
            "instance metadata",
            Arc::new(ImdsProvider::with_env(env.clone())),
        ),
    ]
}

impl Credentials {
    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional
    /// `AWS_SESSION_TOKEN` from the environment.
    ///
    /// # Errors
    ///
    /// An error of kind [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) naming the
    /// missing variable when either key variable is unset or empty.
    pub fn from_env() -> Result<Self, crate::Error> {
        EnvironmentProvider::new().load()
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::MapEnv;
    use super::*;

    #[derive(Debug)]
    struct Fixed(Option<&'static str>);

    impl ProvideCredentials for Fixed {
        fn provide_credentials(&self) -> CredentialsFuture<'_> {
            let r = match self.0 {
                Some("BROKEN") => Err(Error::credentials("fixed: set up but broken")),
                Some(id) => Ok(Credentials::new(id, "s")),
                None => Err(Error::credentials_not_configured("fixed: nothing here")),
            };
            Box::pin(async move { r })
        }
    }

    #[tokio::test]
    async fn the_first_provider_that_answers_wins() {
        let chain = DefaultChain::from_providers([
            ("a", Arc::new(Fixed(None)) as Arc<dyn ProvideCredentials>),
            ("b", Arc::new(Fixed(Some("B")))),
            ("c", Arc::new(Fixed(Some("C")))),
        ]);
        let (c, name) = chain.resolve().await.unwrap();
        assert_eq!((c.access_key_id(), name), ("B", "b"));
    }

    #[tokio::test]
    async fn a_provider_that_is_set_up_but_fails_stops_the_chain() {
        let chain = DefaultChain::from_providers([
            ("a", Arc::new(Fixed(None)) as Arc<dyn ProvideCredentials>),
            ("b", Arc::new(Fixed(Some("BROKEN")))),
            ("c", Arc::new(Fixed(Some("C")))),
        ]);
        let e = chain.resolve().await.unwrap_err();
        assert!(
            e.to_string()
                .contains("the b provider is set up but failed"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_error_names_every_provider() {
        let chain = DefaultChain::from_providers([
            ("a", Arc::new(Fixed(None)) as Arc<dyn ProvideCredentials>),
            ("b", Arc::new(Fixed(None))),
        ]);
        let e = chain.resolve().await.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Credentials);
        let text = e.to_string();
        assert!(text.contains("a: ") && text.contains("b: "), "{text}");
    }

    #[tokio::test]
    async fn environment_provider_reads_keys_and_token() {
        let env = MapEnv::default()
            .with("AWS_ACCESS_KEY_ID", "AKIDENV")
            .with("AWS_SECRET_ACCESS_KEY", "SECRET-CANARY")
            .with("AWS_SESSION_TOKEN", "TOKEN-CANARY");
        let p = EnvironmentProvider::with_env(Arc::new(env));
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "AKIDENV");
        assert_eq!(c.session_token(), Some("TOKEN-CANARY"));
        let err = EnvironmentProvider::with_env(Arc::new(MapEnv::default()))
            .provide_credentials()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"));
    }

    #[test]
    fn the_default_order_is_the_sdks() {
        let chain = DefaultChain::with_env(&(Arc::new(MapEnv::default()) as Env));
        assert_eq!(
            chain.provider_names(),
            [
                "environment",
                "profile",
                "web identity",
                "container",
                "instance metadata"
            ]
        );
    }

    #[tokio::test]
    async fn the_real_chain_passes_over_providers_that_are_not_set_up() {
        let home = tempfile::tempdir().unwrap();
        // Instance metadata disabled: no test may send traffic beyond loopback.
        let env: Env = Arc::new(
            MapEnv::default()
                .with("HOME", home.path().display().to_string())
                .with("AWS_EC2_METADATA_DISABLED", "true"),
        );
        let e = DefaultChain::with_env(&env).resolve().await.unwrap_err();
        let text = e.to_string();
        for name in [
            "environment:",
            "profile:",
            "web identity:",
            "container:",
            "instance metadata:",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(
            !text.contains("credentials error: credentials error"),
            "{text}"
        );

        // A profile that is set up but cannot work (a role behind MFA, which a library cannot
        // prompt for) stops the chain there, before anything is sent.
        let aws = home.path().join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(
            aws.join("config"),
            "[default]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n\
             mfa_serial = arn:aws:iam::123456789012:mfa/me\n\
             [profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = S\n",
        )
        .unwrap();
        let e = DefaultChain::with_env(&env).resolve().await.unwrap_err();
        assert!(
            e.to_string()
                .contains("the profile provider is set up but failed"),
            "{e}"
        );

        // And a profile with keys answers.
        std::fs::write(
            aws.join("credentials"),
            "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = S\n",
        )
        .unwrap();
        std::fs::remove_file(aws.join("config")).unwrap();
        let (c, name) = DefaultChain::with_env(&env).resolve().await.unwrap();
        assert_eq!((c.access_key_id(), name), ("AKIDFILE", "profile"));
    }
}
