//! Credentials and settings from the shared AWS files, `~/.aws/credentials` and
//! `~/.aws/config`.
//!
//! - `parse`: the pure parser and the merge of the two files (the format rules are listed
//!   there);
//! - `process`: `credential_process`;
//! - `config`: region, endpoint, addressing style and attempts for the client.
//!
//! The files are read with `tokio::fs` every time credentials are asked for; caching belongs
//! to [`CachedProvider`](super::CachedProvider).

mod config;
mod files;
mod parse;
mod process;
mod role;

pub(crate) use config::load_profile_config;

use super::env::{Env, ProcessEnv};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::Result;
use crate::transport::simple::SimpleHttp;
use files::{Loaded, SharedFiles, fail, not_set_up, profile_from_env};
use role::RunContext;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Credentials from a profile of the shared AWS files, the way the AWS CLI finds them.
///
/// The profile is the one given to [`profile`](Self::profile), else `AWS_PROFILE`, else
/// `default`. The files are `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`, else
/// `~/.aws/credentials` and `~/.aws/config` (a leading `~` in the variables is expanded
/// too); [`credentials_file`](Self::credentials_file) and [`config_file`](Self::config_file)
/// override both. They are read anew each time credentials are asked for, so wrap the
/// provider in a [`CachedProvider`](super::CachedProvider) for a client.
///
/// A profile yields, in this order:
///
/// 1. with `role_arn`: the role's credentials from STS `AssumeRole`, signed with the
///    credentials of its `source_profile` (resolved by these same rules, so roles chain; a
///    cycle is an error, a profile with static keys may be its own source) or of its
///    `credential_source` (`Environment`, `Ec2InstanceMetadata` or `EcsContainer`), with its
///    `role_session_name`, `external_id` and `duration_seconds`. `mfa_serial` is refused (a
///    library cannot prompt for a code). STS is asked at the region's endpoint: the region is
///    `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`;
///    `sts_regional_endpoints = legacy` (or `AWS_STS_REGIONAL_ENDPOINTS`) sends the regions
///    that had it to the global `https://sts.amazonaws.com`; `AWS_ENDPOINT_URL_STS` or
///    [`sts_endpoint`](Self::sts_endpoint) replaces the endpoint;
/// 2. `aws_access_key_id` and `aws_secret_access_key`, with `aws_session_token` if present;
/// 3. the credentials of its `source_profile`, resolved the same way;
/// 4. the output of its `credential_process`, run through the shell (`sh -c`, or `cmd /C`
///    on Windows) with a 30-second limit, which prints `{"Version": 1, "AccessKeyId": …,
///    "SecretAccessKey": …, "SessionToken": …, "Expiration": "<RFC 3339>"}`;
/// 5. IAM Identity Center (SSO): `sso_session` (with its `[sso-session]` section's
///    `sso_start_url` and `sso_region`) or the legacy `sso_start_url` and `sso_region`, with
///    `sso_account_id` and `sso_role_name`. The token `aws sso login` cached in
///    `~/.aws/sso/cache/<SHA-1 of the session name, or of the start URL>.json` is exchanged
///    for the role's credentials at the portal (`GetRoleCredentials`). A session's token that
///    expires within five minutes is first refreshed with its refresh token (OIDC
///    `CreateToken`) and the file is written back atomically; a legacy token cannot be
///    refreshed. A missing, malformed or expired token is an error that says to run
///    `aws sso login --profile <name>`, and a malformed file is never rewritten.
///    `AWS_ENDPOINT_URL_SSO` and `AWS_ENDPOINT_URL_SSO_OIDC` replace the region's endpoints.
///
/// A profile reached through `source_profile` that holds static keys uses them even if it
/// names a role, as in the AWS CLI. STS and SSO errors keep their code, status and request id
/// ([`Error::s3_code`](crate::Error::s3_code), [`Error::request_id`](crate::Error::request_id)).
/// [`describe`](Self::describe) says which of these a profile uses without fetching anything.
///
/// Settings in the credentials file override the config file's for the same profile. The
/// parsing rules (comments, `[profile name]`, sub-sections) are those of the AWS CLI:
/// a line starting with `#` or `;` is a comment, setting names are case-insensitive, profile
/// names case-sensitive.
///
/// `Debug` shows the profile and the file paths, never a setting's value.
///
/// # Example
///
/// ```no_run
/// use async_s3::credentials::ProfileProvider;
/// use async_s3::ProvideCredentials;
///
/// # async fn demo() -> Result<(), async_s3::Error> {
/// let provider = ProfileProvider::new().profile("dev");
/// let creds = provider.provide_credentials().await?;
/// println!("access key {}", creds.access_key_id());
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct ProfileProvider {
    env: Env,
    profile: Option<String>,
    credentials_file: Option<PathBuf>,
    config_file: Option<PathBuf>,
    process_timeout: Duration,
    sts_endpoint: Option<String>,
    /// The HTTP client of the STS calls, built at the first.
    http: Arc<OnceCell<SimpleHttp>>,
}

impl Default for ProfileProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl ProfileProvider {
    /// The provider over the process environment: `AWS_PROFILE` (else `default`) in the
    /// files named by `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` (else under
    /// `~/.aws/`). Nothing is read until credentials are asked for.
    pub fn new() -> Self {
        Self::with_env(Arc::new(ProcessEnv))
    }

    /// The provider over another environment (tests, the default chain).
    pub(crate) fn with_env(env: Env) -> Self {
        Self {
            env,
            profile: None,
            credentials_file: None,
            config_file: None,
            process_timeout: process::DEFAULT_TIMEOUT,
            sts_endpoint: None,
            http: Arc::new(OnceCell::new()),
        }
    }

    /// Reads this profile instead of `AWS_PROFILE` or `default`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Reads this credentials file instead of `AWS_SHARED_CREDENTIALS_FILE` or
    /// `~/.aws/credentials`.
    pub fn credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials_file = Some(path.into());
        self
    }

    /// Reads this config file instead of `AWS_CONFIG_FILE` or `~/.aws/config`.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// The STS endpoint for the profile's roles, replacing `AWS_ENDPOINT_URL_STS` and the
    /// regional endpoint (a VPC endpoint, a local emulator); https, or plain http to loopback
    /// only.
    pub fn sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into());
        self
    }

    /// Says where the profile's credentials come from, without fetching them: for example
    /// `assume-role arn:aws:iam::111122223333:role/prod via profile "prod" <- static keys of
    /// profile "base"`. It reads the files and sends nothing; it never contains a secret.
    ///
    /// # Errors
    ///
    /// The error [`provide_credentials`](ProvideCredentials::provide_credentials) would give
    /// for a profile that is missing, unreadable or unusable.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), async_s3::Error> {
    /// let provider = async_s3::credentials::ProfileProvider::new().profile("prod");
    /// println!("credentials from {}", provider.describe().await?);
    /// # Ok(()) }
    /// ```
    pub async fn describe(&self) -> Result<String> {
        let (name, files, loaded) = self.read().await?;
        Ok(format!(
            "profile {name:?}: {}",
            role::plan(&loaded, &files, &name)?.describe()
        ))
    }

    /// The name of the profile this provider reads.
    pub fn profile_name(&self) -> String {
        self.profile
            .clone()
            .unwrap_or_else(|| profile_from_env(&*self.env))
    }

    fn files(&self) -> SharedFiles {
        let mut files = SharedFiles::from_env(&*self.env);
        if let Some(p) = &self.credentials_file {
            files.credentials = Some(p.clone());
        }
        if let Some(p) = &self.config_file {
            files.config = Some(p.clone());
        }
        files
    }

    async fn load(&self) -> Result<Credentials> {
        let (name, files, loaded) = self.read().await?;
        let cx = RunContext {
            env: &self.env,
            process_timeout: self.process_timeout,
            sts_endpoint: self.sts_endpoint.as_deref(),
            http: &self.http,
        };
        resolve(&loaded, &files, &name, &cx).await
    }

    /// The profile's name, where the files are, and both files read.
    async fn read(&self) -> Result<(String, SharedFiles, Loaded)> {
        let name = self.profile_name();
        let files = self.files();
        let loaded = files.load().await.map_err(|e| {
            fail(&name, format_args!("could not read {}", e.path.display())).with_source(e.source)
        })?;
        if !loaded.found_any() {
            return Err(not_set_up(
                &name,
                format_args!(
                    "no shared credentials or config file ({})",
                    files.describe()
                ),
            ));
        }
        Ok((name, files, loaded))
    }
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files = self.files();
        f.debug_struct("ProfileProvider")
            .field("profile", &self.profile_name())
            .field("credentials_file", &files.credentials)
            .field("config_file", &files.config)
            .field("sts_endpoint", &self.sts_endpoint)
            .finish()
    }
}

impl ProvideCredentials for ProfileProvider {
    fn name(&self) -> &'static str {
        "profile"
    }

    /// Reads the files and resolves the profile.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future stops the reads, the STS and portal calls, and
    /// kills a running `credential_process`. An SSO token refresh is the exception: once
    /// started it runs to its end on a task of its own (OIDC may have rotated the refresh
    /// token, which must reach the cache file), and its temporary file is removed whatever
    /// happens.
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Fuzz entry: both shared files parsed and merged, then every setting the crate reads from
/// each profile (static keys, region, endpoints, attempts, addressing).
#[cfg(feature = "fuzzing")]
pub(super) fn fuzz_shared_files(config: &str, credentials: &str) {
    let set = parse::ProfileSet::merge(
        parse::parse(config, parse::FileKind::Config),
        parse::parse(credentials, parse::FileKind::Credentials),
    );
    let _ = set.skipped_note();
    for name in set.profile_names() {
        let _ = config::config_of(&set, name);
        if let Some(profile) = set.profile(name) {
            let _ = role::static_keys(profile);
            if let Some(session) = profile.get("sso_session") {
                let _ = set.sso_session(session);
            }
        }
    }
}

/// Fuzz entry: the `credential_process` output parser.
#[cfg(feature = "fuzzing")]
pub(super) fn fuzz_process_output(stdout: &[u8]) {
    let _ = process::parse_output("fuzz", stdout);
}

/// Resolves `start` to credentials: works out the plan (`role.rs`), then runs it.
async fn resolve(
    loaded: &Loaded,
    files: &SharedFiles,
    start: &str,
    cx: &RunContext<'_>,
) -> Result<Credentials> {
    let plan = role::plan(loaded, files, start)?;
    role::run(loaded, start, plan, cx).await
}

#[cfg(test)]
mod tests;
