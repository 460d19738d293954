//! The environment provider and the default chain.

use super::env::{Env, ProcessEnv};
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
        let missing = |name: &str| Error::credentials(format!("environment: {name} is not set"));
        let id = self
            .env
            .var("AWS_ACCESS_KEY_ID")
            .ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?;
        let secret = self
            .env
            .var("AWS_SECRET_ACCESS_KEY")
            .ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?;
        let creds = Credentials::new(id.trim(), secret.trim());
        Ok(match self.env.var("AWS_SESSION_TOKEN") {
            Some(t) => creds.with_session_token(t.trim()),
            None => creds,
        })
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        let r = self.load();
        Box::pin(async move { r })
    }
}

/// The default provider chain, in the order of the AWS SDK for Rust:
///
/// 1. the environment ([`EnvironmentProvider`]);
/// 2. the shared files' profile ([`ProfileProvider`](super::ProfileProvider): static keys,
///    `source_profile`, `credential_process`);
/// 3. web identity ([`WebIdentityProvider`](super::WebIdentityProvider):
///    `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` through STS);
/// 4. container credentials ([`ContainerProvider`](super::ContainerProvider));
/// 5. instance metadata ([`ImdsProvider`](super::ImdsProvider), IMDSv2).
///
/// The first provider that yields credentials wins. When none does, the error lists every
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
        Self {
            providers: super::chain_providers(env),
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
                Ok(c) => return Ok((c, name)),
                Err(e) => reasons.push(format!("{name}: {e}")),
            }
        }
        Err(Error::credentials(format!(
            "no provider in the chain gave credentials ({})",
            reasons.join("; ")
        )))
    }
}

impl ProvideCredentials for DefaultChain {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.resolve().await.map(|(c, _)| c) })
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
                Some(id) => Ok(Credentials::new(id, "s")),
                None => Err(Error::credentials("fixed: nothing here")),
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
}
