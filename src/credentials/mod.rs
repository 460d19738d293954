//! Credentials and the providers that supply them.
//!
//! [`Credentials`] holds an access key, a secret and an optional session token; its `Debug`
//! never shows the secret or the token. A [`ProvideCredentials`] implementation is asked for
//! credentials before every attempt, so a provider that refreshes (a later addition: profile
//! files, container and instance metadata) keeps long transfers signed with live keys.

mod cache;
mod chain;
pub(crate) mod env;
mod provide;

pub use cache::{CachedProvider, DEFAULT_REFRESH_AHEAD};
pub use chain::{DefaultChain, EnvironmentProvider};
pub use provide::{Credentials, CredentialsFuture, ProvideCredentials};
pub(crate) use provide::{LATEST_SECS, parse_rfc3339, rfc3339};

#[cfg(test)]
pub(crate) mod json_strategy;

// Entry points for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzz;

// Providers that read profile files and run credential_process:
mod profile;
pub use profile::ProfileProvider;
pub(crate) use profile::load_profile_config;

// Providers that ask an HTTP endpoint (container, instance metadata, STS web identity), and
// what they share:
mod container;
mod imds;
mod metadata_http;
mod sso;
mod sts;
mod sts_endpoint;
#[cfg(test)]
mod test_server;
mod web_identity;
pub use container::ContainerProvider;
pub use imds::{ImdsProvider, ImdsProviderBuilder};
pub use sts::AssumeRoleProvider;
pub use web_identity::WebIdentityProvider;
