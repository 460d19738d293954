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

pub(crate) use config::load_profile_config;

use super::env::{Env, ProcessEnv};
use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::Result;
use files::{Loaded, SharedFiles, fail, not_set_up, profile_from_env};
use parse::Section;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
/// 1. `aws_access_key_id` and `aws_secret_access_key`, with `aws_session_token` if present;
/// 2. the credentials of its `source_profile`, resolved the same way (a cycle is an error);
/// 3. the output of its `credential_process`, run through the shell (`sh -c`, or `cmd /C`
///    on Windows) with a 30-second limit, which prints `{"Version": 1, "AccessKeyId": …,
///    "SecretAccessKey": …, "SessionToken": …, "Expiration": "<RFC 3339>"}`.
///
/// A profile with a `role_arn` (AssumeRole through STS) or with SSO settings is refused
/// with an error saying so: this crate does not call STS for profiles. A profile reached
/// through `source_profile` that holds static keys uses them, as in the AWS CLI.
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
        resolve(&loaded, &files, &name, self.process_timeout).await
    }
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files = self.files();
        f.debug_struct("ProfileProvider")
            .field("profile", &self.profile_name())
            .field("credentials_file", &files.credentials)
            .field("config_file", &files.config)
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
    /// Cancel safe: dropping the future stops the reads and kills a running
    /// `credential_process`.
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
            let _ = static_keys(profile);
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

/// Resolves `start` to credentials, following `source_profile`.
async fn resolve(
    loaded: &Loaded,
    files: &SharedFiles,
    start: &str,
    timeout: Duration,
) -> Result<Credentials> {
    let set = &loaded.set;
    let mut chain: Vec<&str> = Vec::new();
    let mut current = start;
    loop {
        if chain.contains(&current) {
            chain.push(current);
            return Err(fail(
                start,
                format_args!("source_profile cycle: {}", chain.join(" -> ")),
            ));
        }
        chain.push(current);
        // " (through source_profile a -> b)" when not at the start.
        let via = if chain.len() > 1 {
            format!(" (through source_profile {})", chain.join(" -> "))
        } else {
            String::new()
        };
        // "" for the start profile, `source profile "b" ` along a chain.
        let who = if chain.len() > 1 {
            format!("source profile {current:?} ")
        } else {
            String::new()
        };
        let Some(profile) = set.profile(current) else {
            let what = if chain.len() > 1 {
                format!("source profile {current:?}")
            } else {
                "the profile".to_owned()
            };
            // The implicit `default` profile missing means "not set up"; a profile that was
            // asked for by name, or a broken source_profile, is an error.
            let report = if chain.len() == 1 && start == "default" {
                not_set_up
            } else {
                fail
            };
            return Err(report(
                start,
                format_args!(
                    "{what} is not in the shared files{via} ({}){}",
                    files_searched(loaded, files),
                    set.skipped_note()
                ),
            ));
        };
        let keys = static_keys(profile)
            .map_err(|m| fail(start, format_args!("{who}{m}{via}{}", set.skipped_note())))?;
        if chain.len() > 1
            && let Some(creds) = keys
        {
            return Ok(creds);
        }
        if profile.get("role_arn").is_some() {
            return Err(fail(
                start,
                format_args!(
                    "{who}assumes a role (role_arn){via}; AssumeRole through \
                     STS is not supported here: give the profile a credential_process (for \
                     example `aws configure export-credentials --format process`) or use \
                     environment credentials"
                ),
            ));
        }
        if let Some(creds) = keys {
            return Ok(creds);
        }
        if let Some(source) = profile.get("source_profile") {
            current = source;
            continue;
        }
        if let Some(command) = profile.get("credential_process") {
            return process::run(start, command, timeout).await;
        }
        let sso_session = profile.get("sso_session");
        if sso_session.is_some() || profile.get("sso_start_url").is_some() {
            let missing = match sso_session {
                Some(name) if set.sso_session(name).is_none() => {
                    format!(" (and its [sso-session {name}] section is missing)")
                }
                _ => String::new(),
            };
            return Err(fail(
                start,
                format_args!(
                    "{who}uses IAM Identity Center (SSO){via}{missing}, which is not \
                     supported here: use `aws configure export-credentials --format process` \
                     as its credential_process"
                ),
            ));
        }
        // A profile with only settings such as `region` offers no credentials: not set up.
        let report = if chain.len() == 1 { not_set_up } else { fail };
        return Err(report(
            start,
            format_args!(
                "{who}has no credentials{via}: it needs aws_access_key_id and \
                 aws_secret_access_key, source_profile or credential_process ({}){}",
                files_searched(loaded, files),
                set.skipped_note()
            ),
        ));
    }
}

/// "read /h/.aws/credentials and /h/.aws/config", naming the files that exist.
fn files_searched(loaded: &Loaded, files: &SharedFiles) -> String {
    let mut found = Vec::new();
    if loaded.credentials_found
        && let Some(p) = &files.credentials
    {
        found.push(p.display().to_string());
    }
    if loaded.config_found
        && let Some(p) = &files.config
    {
        found.push(p.display().to_string());
    }
    format!("read {}", found.join(" and "))
}

/// The profile's static keys; an error message when only one of the pair is set.
fn static_keys(profile: &Section) -> Result<Option<Credentials>, &'static str> {
    let id = profile.get("aws_access_key_id");
    let secret = profile.get("aws_secret_access_key");
    let (id, secret) = match (id, secret) {
        (Some(id), Some(secret)) => (id, secret),
        (None, None) => return Ok(None),
        (Some(_), None) => return Err("has aws_access_key_id but no aws_secret_access_key"),
        (None, Some(_)) => return Err("has aws_secret_access_key but no aws_access_key_id"),
    };
    let creds = Credentials::new(id, secret);
    // `aws_security_token` is the older name the AWS CLI still accepts.
    Ok(Some(
        match profile
            .get("aws_session_token")
            .or_else(|| profile.get("aws_security_token"))
        {
            Some(token) => creds.with_session_token(token),
            None => creds,
        },
    ))
}

#[cfg(test)]
mod tests;
