//! How a profile gets its credentials, as a plan: a base (static keys, `credential_process`, a
//! `credential_source`) and the roles assumed on top of it through STS; and
//! running that plan.
//!
//! The rules are the AWS CLI's: a profile with `role_arn` assumes that role with the
//! credentials of its `source_profile` (resolved the same way, so roles chain) or of its
//! `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`); a source profile
//! that holds static keys uses them even when it names a role too, and may name itself as its
//! source; any other loop is refused. `mfa_serial` is refused: a library cannot prompt.

use super::files::{Loaded, SharedFiles, fail, not_set_up};
use super::parse::{ProfileSet, Section};
use super::process;
use crate::credentials::env::Env;
use crate::credentials::metadata_http::shared_http;
use crate::credentials::sso::{self, SsoConfig};
use crate::credentials::sts::{RoleRequest, STS_TIMEOUT, assume_role, default_session_name};
use crate::credentials::sts_endpoint::{StsOverrides, configured_endpoint};
use crate::credentials::web_identity::{WebIdentityCall, assume_role_with_web_identity};
use crate::credentials::{ContainerProvider, Credentials, ImdsProvider, ProvideCredentials};
use crate::error::{Error, Result};
use crate::transport::simple::SimpleHttp;
use std::time::{Duration, SystemTime};
use tokio::sync::OnceCell;

/// Where the first credentials of a plan come from.
#[derive(Debug)]
pub(super) enum Base<'a> {
    /// `aws_access_key_id` and `aws_secret_access_key` of this profile.
    Static(&'a str, Credentials),
    /// `credential_process` of this profile.
    Process(&'a str, &'a str),
    /// `credential_source` of this profile (validated).
    Source(&'a str, CredentialSource),
    /// IAM Identity Center settings of this profile (validated).
    Sso(&'a str, SsoConfig),
    /// `role_arn` with `web_identity_token_file` (and no source) of this profile: the role is
    /// assumed with the token (`AssumeRoleWithWebIdentity`).
    WebIdentity {
        profile: &'a str,
        role_arn: &'a str,
        token_file: &'a str,
        session_name: Option<&'a str>,
    },
}

/// The providers `credential_source` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CredentialSource {
    Environment,
    Ec2InstanceMetadata,
    EcsContainer,
}

/// One AssumeRole, for the profile that names the role.
#[derive(Debug)]
pub(super) struct RoleStep<'a> {
    pub(super) profile: &'a str,
    pub(super) request: RoleRequest,
}

/// A profile's way to credentials.
#[derive(Debug)]
pub(super) struct Plan<'a> {
    pub(super) base: Base<'a>,
    /// Outermost first (the profile asked for, then its source profiles): the last is
    /// assumed first, with the base's credentials.
    pub(super) roles: Vec<RoleStep<'a>>,
}

impl Plan<'_> {
    /// "assume role arn:… (profile "prod") <- assume role arn:… (profile "mid") <- static
    /// keys of profile "base"": what [`ProfileProvider::describe`](super::ProfileProvider::describe)
    /// reports. Never a secret.
    pub(super) fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .roles
            .iter()
            .map(|r| {
                format!(
                    "assume-role {} via profile {:?}",
                    r.request.role_arn.trim(),
                    r.profile
                )
            })
            .collect();
        parts.push(match &self.base {
            Base::Static(p, _) => format!("static keys of profile {p:?}"),
            Base::Process(p, _) => format!("credential_process of profile {p:?}"),
            Base::Source(p, s) => format!("credential_source {s:?} of profile {p:?}"),
            Base::Sso(p, c) => format!("{} of profile {p:?}", c.describe()),
            Base::WebIdentity {
                profile,
                role_arn,
                token_file,
                ..
            } => format!(
                "web identity role {} (token file {token_file}) of profile {profile:?}",
                role_arn.trim()
            ),
        });
        parts.join(" <- ")
    }
}

/// Works out how profile `start` gets credentials, reading nothing but `loaded`.
///
/// # Errors
///
/// `Credentials` (not set up, for a missing `default` profile or one without credentials) for
/// an unusable profile, naming the setting; `InvalidInput` for a malformed `duration_seconds`.
pub(super) fn plan<'a>(
    loaded: &'a Loaded,
    files: &SharedFiles,
    start: &'a str,
) -> Result<Plan<'a>> {
    let set = &loaded.set;
    let mut chain: Vec<&'a str> = Vec::new();
    let mut roles = Vec::new();
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
        let via = if chain.len() > 1 {
            format!(" (through source_profile {})", chain.join(" -> "))
        } else {
            String::new()
        };
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
        // Along a chain, static keys end it, whatever else the profile says.
        if chain.len() > 1
            && let Some(creds) = keys
        {
            return Ok(Plan {
                base: Base::Static(current, creds),
                roles,
            });
        }
        if let Some(role_arn) = profile.get("role_arn") {
            if profile.get("mfa_serial").is_some() {
                return Err(fail(
                    start,
                    format_args!(
                        "{who}assumes role {role_arn} with mfa_serial{via}: a library cannot \
                         prompt for an MFA code; use a profile without MFA, or a \
                         credential_process that caches the session (for example `aws \
                         configure export-credentials --profile {current} --format process`)"
                    ),
                ));
            }
            let duration_seconds = match profile.get("duration_seconds") {
                None => None,
                Some(d) => Some(d.trim().parse::<u32>().map_err(|_| {
                    Error::invalid_input(format!(
                        "profile {start:?}: {who}duration_seconds {d:?} is not a whole number \
                         of seconds{via}"
                    ))
                })?),
            };
            roles.push(RoleStep {
                profile: current,
                request: RoleRequest {
                    role_arn: role_arn.to_owned(),
                    session_name: profile.get("role_session_name").map(str::to_owned),
                    external_id: profile.get("external_id").map(str::to_owned),
                    duration_seconds,
                },
            });
            match (
                profile.get("source_profile"),
                profile.get("credential_source"),
            ) {
                (Some(_), Some(_)) => {
                    return Err(fail(
                        start,
                        format_args!(
                            "{who}sets both source_profile and credential_source{via}; \
                             a role takes its source from one of them"
                        ),
                    ));
                }
                (None, None) => {
                    // A web identity token makes the role the base, as in the AWS CLI.
                    if let Some(token_file) = profile.get("web_identity_token_file") {
                        roles.pop();
                        return Ok(Plan {
                            base: Base::WebIdentity {
                                profile: current,
                                role_arn,
                                token_file,
                                session_name: profile.get("role_session_name"),
                            },
                            roles,
                        });
                    }
                    return Err(fail(
                        start,
                        format_args!(
                            "{who}assumes role {role_arn}{via} but names no source_profile, \
                             credential_source or web_identity_token_file to assume it with"
                        ),
                    ));
                }
                (Some(source), None) => {
                    // A profile may be its own source when it holds static keys.
                    if source == current
                        && let Some(creds) = keys
                    {
                        return Ok(Plan {
                            base: Base::Static(current, creds),
                            roles,
                        });
                    }
                    current = source;
                    continue;
                }
                (None, Some(source)) => {
                    let source = match source {
                        "Environment" => CredentialSource::Environment,
                        "Ec2InstanceMetadata" => CredentialSource::Ec2InstanceMetadata,
                        "EcsContainer" => CredentialSource::EcsContainer,
                        other => {
                            return Err(fail(
                                start,
                                format_args!(
                                    "{who}has credential_source {other:?}{via}; it must be \
                                     Environment, Ec2InstanceMetadata or EcsContainer"
                                ),
                            ));
                        }
                    };
                    return Ok(Plan {
                        base: Base::Source(current, source),
                        roles,
                    });
                }
            }
        }
        if let Some(creds) = keys {
            return Ok(Plan {
                base: Base::Static(current, creds),
                roles,
            });
        }
        if let Some(source) = profile.get("source_profile") {
            current = source;
            continue;
        }
        if let Some(command) = profile.get("credential_process") {
            return Ok(Plan {
                base: Base::Process(current, command),
                roles,
            });
        }
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            let config = sso_config(set, profile).map_err(|m| {
                fail(
                    start,
                    format_args!("{who}uses IAM Identity Center (SSO){via}, but {m}"),
                )
            })?;
            return Ok(Plan {
                base: Base::Sso(current, config),
                roles,
            });
        }
        let report = if chain.len() == 1 { not_set_up } else { fail };
        return Err(report(
            start,
            format_args!(
                "{who}has no credentials{via}: it needs aws_access_key_id and \
                 aws_secret_access_key, role_arn, source_profile or credential_process ({}){}",
                files_searched(loaded, files),
                set.skipped_note()
            ),
        ));
    }
}

/// The IAM Identity Center settings of `profile`: the `sso_session` form or the legacy one.
/// The error says what is missing or inconsistent.
fn sso_config(set: &ProfileSet, profile: &Section) -> std::result::Result<SsoConfig, String> {
    let required = |section: &Section, key: &str, place: &str| {
        section
            .get(key)
            .map(str::to_owned)
            .ok_or_else(|| format!("{place} has no {key}"))
    };
    let (session, start_url, region) = match profile.get("sso_session") {
        Some(name) => {
            let section = set
                .sso_session(name)
                .ok_or_else(|| format!("the [sso-session {name}] section is missing"))?;
            let place = format!("[sso-session {name}]");
            let start_url = required(section, "sso_start_url", &place)?;
            let region = required(section, "sso_region", &place)?;
            // The CLI refuses a profile that says otherwise than its session.
            for (key, value) in [("sso_start_url", &start_url), ("sso_region", &region)] {
                if profile.get(key).is_some_and(|v| v != value) {
                    return Err(format!("its {key} differs from the one of {place}"));
                }
            }
            (Some(name.to_owned()), start_url, region)
        }
        None => (
            None,
            required(profile, "sso_start_url", "the profile")?,
            required(profile, "sso_region", "the profile")?,
        ),
    };
    Ok(SsoConfig {
        session,
        start_url,
        region,
        account_id: required(profile, "sso_account_id", "the profile")?,
        role_name: required(profile, "sso_role_name", "the profile")?,
    })
}

/// What running a plan needs besides the plan.
pub(super) struct RunContext<'a> {
    pub(super) env: &'a Env,
    pub(super) process_timeout: Duration,
    /// `ProfileProvider::sts_endpoint`, beating `AWS_ENDPOINT_URL_STS`.
    pub(super) sts_endpoint: Option<&'a str>,
    pub(super) http: &'a OnceCell<SimpleHttp>,
}

/// Gets the base credentials and assumes each role in turn.
///
/// # Errors
///
/// The base's error, or the first AssumeRole's; every message starts with the profile.
pub(super) async fn run(
    loaded: &Loaded,
    start: &str,
    plan: Plan<'_>,
    cx: &RunContext<'_>,
) -> Result<Credentials> {
    let var = |k: &str| cx.env.var(k);
    let profile = loaded.set.profile(start);
    let setting = |k: &str| profile.and_then(|p| p.get(k)).map(str::to_owned);
    let who = format!("profile {start:?}");
    let overrides = StsOverrides {
        url: cx.sts_endpoint,
        ..StsOverrides::default()
    };
    let endpoint = || configured_endpoint(&var, &setting, &overrides, &who);
    let mut creds = match plan.base {
        Base::Static(_, c) => c,
        Base::Process(_, command) => process::run(start, command, cx.process_timeout).await?,
        Base::Source(p, source) => from_source(cx.env, source).await.map_err(|e| {
            fail(
                start,
                format_args!("credential_source {source:?} of profile {p:?} gave no credentials"),
            )
            .with_source(e)
        })?,
        Base::Sso(p, config) => {
            let http = shared_http(cx.http, STS_TIMEOUT, "ProfileProvider").await?;
            sso::credentials(cx.env, http, p, &config, SystemTime::now()).await?
        }
        Base::WebIdentity {
            profile,
            role_arn,
            token_file,
            session_name,
        } => {
            let endpoint = endpoint()?;
            let http = shared_http(cx.http, STS_TIMEOUT, "ProfileProvider").await?;
            let session =
                session_name.map_or_else(|| default_session_name(SystemTime::now()), str::to_owned);
            let call = WebIdentityCall {
                role_arn: role_arn.trim(),
                session_name: &session,
                token_file: std::path::Path::new(token_file),
            };
            let who = if profile == start {
                who.clone()
            } else {
                format!("profile {start:?} (web identity of source profile {profile:?})")
            };
            assume_role_with_web_identity(http, &endpoint, &call, &who).await?
        }
    };
    if plan.roles.is_empty() {
        return Ok(creds);
    }
    let endpoint = endpoint()?;
    let http = shared_http(cx.http, STS_TIMEOUT, "ProfileProvider").await?;
    for step in plan.roles.iter().rev() {
        let who = if step.profile == start {
            who.clone()
        } else {
            format!(
                "profile {start:?} (role of source profile {:?})",
                step.profile
            )
        };
        creds = assume_role(
            http,
            &endpoint,
            &creds,
            &step.request,
            SystemTime::now(),
            &who,
        )
        .await?;
    }
    Ok(creds)
}

/// The credentials of a `credential_source`.
async fn from_source(env: &Env, source: CredentialSource) -> Result<Credentials> {
    match source {
        CredentialSource::Environment => {
            let var = |k: &str| {
                env.var(k)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
            else {
                return Err(Error::credentials(
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
                ));
            };
            let creds = Credentials::new(id, secret);
            Ok(match var("AWS_SESSION_TOKEN") {
                Some(t) => creds.with_session_token(t),
                None => creds,
            })
        }
        CredentialSource::Ec2InstanceMetadata => {
            ImdsProvider::with_env(env.clone())
                .provide_credentials()
                .await
        }
        CredentialSource::EcsContainer => {
            ContainerProvider::with_env(env.clone())
                .provide_credentials()
                .await
        }
    }
}

/// "read /h/.aws/credentials and /h/.aws/config", naming the files that exist.
pub(super) fn files_searched(loaded: &Loaded, files: &SharedFiles) -> String {
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
pub(super) fn static_keys(profile: &Section) -> Result<Option<Credentials>, &'static str> {
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
#[path = "role_tests.rs"]
mod tests;
