//! IAM Identity Center (SSO) credentials for a profile: the token `aws sso login` cached under
//! `~/.aws/sso/cache/` (`token.rs`: the file, its refresh through OIDC `CreateToken`, the
//! atomic write back), exchanged for role credentials by the portal's `GetRoleCredentials`
//! (`portal.rs`).
//!
//! Two profile forms, as in the AWS CLI:
//!
//! - `sso_session = name` with an `[sso-session name]` section holding `sso_start_url` and
//!   `sso_region`; the token's cache file is named by the SHA-1 of the session name, and it is
//!   refreshed with its refresh token before it expires;
//! - the legacy form, `sso_start_url` and `sso_region` in the profile itself; the cache file
//!   is named by the SHA-1 of the start URL, and the token is not refreshable.
//!
//! Both need `sso_account_id` and `sso_role_name` in the profile.

mod portal;
mod shared;
mod token;

pub(crate) use shared::SsoConfig;

use super::Credentials;
use super::env::Env;
use super::metadata_http::server_text;
use super::sts_endpoint::check_endpoint;
use crate::error::Result;
use crate::transport::simple::SimpleHttp;
use std::time::SystemTime;

/// Where the SSO calls go: `AWS_ENDPOINT_URL_SSO` and `AWS_ENDPOINT_URL_SSO_OIDC` when set
/// (tests, private endpoints), else the region's portal and OIDC endpoints.
pub(crate) struct SsoEndpoints {
    pub(crate) portal: String,
    pub(crate) oidc: String,
}

impl SsoEndpoints {
    /// # Errors
    ///
    /// `Credentials` for an override that is not https (plain http only to loopback: the
    /// requests carry the SSO tokens).
    pub(crate) fn resolve(env: &Env, region: &str, profile: &str) -> Result<Self> {
        let var = |k: &str| {
            env.var(k)
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
        };
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let who = format!("profile {profile:?}");
        let valid_region = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_region {
            return Err(crate::error::Error::credentials(format!(
                "{who}: sso_region {:?} is not a valid region name",
                server_text(region)
            )));
        }
        let portal = var("AWS_ENDPOINT_URL_SSO")
            .unwrap_or_else(|| format!("https://portal.sso.{region}.{suffix}"));
        let oidc = var("AWS_ENDPOINT_URL_SSO_OIDC")
            .unwrap_or_else(|| format!("https://oidc.{region}.{suffix}"));
        check_endpoint(&portal, "SSO portal", &who)?;
        check_endpoint(&oidc, "SSO OIDC", &who)?;
        Ok(Self { portal, oidc })
    }
}

/// Role credentials for `config`: the cached token (refreshed and written back first when it
/// is about to expire and can be), exchanged at the portal. `profile` names the profile in
/// every error, which says to run `aws sso login` whenever that is the way out.
///
/// # Errors
///
/// `Credentials` naming the profile: no home directory, no cached token, a cache file that is
/// malformed (never rewritten), an expired session that cannot be refreshed, a refused token,
/// or a portal error (with its code and request id).
pub(crate) async fn credentials(
    env: &Env,
    http: &SimpleHttp,
    profile: &str,
    config: &SsoConfig,
    now: SystemTime,
) -> Result<Credentials> {
    let endpoints = SsoEndpoints::resolve(env, &config.region, profile)?;
    let file = token::CacheFile::locate(env, config, profile)?;
    let access_token = file.access_token(http, &endpoints.oidc, now).await?;
    portal::role_credentials(http, &endpoints.portal, config, &access_token, profile).await
}

#[cfg(test)]
mod tests;
