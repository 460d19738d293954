//! Where an STS call goes and the region it is signed for: the regional endpoints, the
//! legacy global one, the overrides (a provider's setter, `AWS_ENDPOINT_URL_STS`), and where
//! each setting is read from (`configured_endpoint`), shared by `AssumeRole`
//! (`sts.rs`, profiles) and `AssumeRoleWithWebIdentity` (`web_identity.rs`).

use super::metadata_http::server_text;
use crate::error::{Error, Result};

/// The region whose STS endpoint is asked when none is configured.
const DEFAULT_REGION: &str = "us-east-1";

/// The regions that `sts_regional_endpoints = legacy` sends to the global endpoint
/// `https://sts.amazonaws.com` (the regions that existed before STS became regional).
const LEGACY_GLOBAL_REGIONS: [&str; 16] = [
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "aws-global",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Where an STS request goes and the region it is signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsEndpoint {
    pub(crate) url: String,
    pub(crate) signing_region: String,
}

/// The endpoint for `region`: `override_url` when given (signed for `region`), else the
/// region's own STS endpoint, or the global one for a legacy region when `regional` is false.
///
/// # Errors
///
/// `Credentials` for an invalid region name, or an endpoint that is not https (plain http is
/// allowed to loopback only: the request carries a session token).
pub(crate) fn sts_endpoint(
    region: Option<&str>,
    regional: bool,
    override_url: Option<&str>,
    who: &str,
) -> Result<StsEndpoint> {
    let region = region
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REGION);
    let valid = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(Error::credentials(format!(
            "{who}: the region {:?} is not a valid region name",
            server_text(region)
        )));
    }
    let url = match override_url.map(str::trim) {
        Some(u) => {
            check_endpoint(u, "STS", who)?;
            u.to_owned()
        }
        None if !regional && LEGACY_GLOBAL_REGIONS.contains(&region) => {
            return Ok(StsEndpoint {
                url: "https://sts.amazonaws.com/".to_owned(),
                signing_region: DEFAULT_REGION.to_owned(),
            });
        }
        None if region == "aws-global" => {
            return Ok(StsEndpoint {
                url: "https://sts.amazonaws.com/".to_owned(),
                signing_region: DEFAULT_REGION.to_owned(),
            });
        }
        None => {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            format!("https://sts.{region}.{suffix}/")
        }
    };
    Ok(StsEndpoint {
        url,
        signing_region: region.to_owned(),
    })
}

/// What a provider's own setters say about STS, beating the environment and the profile.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StsOverrides<'a> {
    /// The endpoint URL (`sts_endpoint` of a provider).
    pub(crate) url: Option<&'a str>,
    /// The region (`region` of a provider).
    pub(crate) region: Option<&'a str>,
    /// Regional (`true`) or legacy (`false`) endpoints (`regional_endpoints` of a provider).
    pub(crate) regional: Option<bool>,
}

/// The STS endpoint the settings configure, each setting from the most specific place that
/// sets it: `overrides`, then the environment (`var`), then the profile (`setting`):
///
/// - the URL: `AWS_ENDPOINT_URL_STS`, else the region's endpoint;
/// - the region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else us-east-1;
/// - regional or legacy: `AWS_STS_REGIONAL_ENDPOINTS`, the profile's
///   `sts_regional_endpoints`, else regional.
///
/// Pure: `var` and `setting` are lookups (a blank value counts as unset).
///
/// # Errors
///
/// `InvalidInput` for a regional-endpoints mode that is neither `regional` nor `legacy`;
/// `Credentials` as [`sts_endpoint`] for a bad region or URL.
pub(crate) fn configured_endpoint(
    var: &dyn Fn(&str) -> Option<String>,
    setting: &dyn Fn(&str) -> Option<String>,
    overrides: &StsOverrides<'_>,
    who: &str,
) -> Result<StsEndpoint> {
    let set = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let var = |k: &str| set(var(k));
    let setting = |k: &str| set(setting(k));
    let region = overrides
        .region
        .map(str::to_owned)
        .or_else(|| var("AWS_REGION"))
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .or_else(|| setting("region"));
    let regional = match overrides.regional {
        Some(r) => r,
        None => {
            let mode =
                var("AWS_STS_REGIONAL_ENDPOINTS").or_else(|| setting("sts_regional_endpoints"));
            match mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("regional") => true,
                Some("legacy") => false,
                Some(other) => {
                    return Err(Error::invalid_input(format!(
                        "{who}: sts_regional_endpoints {:?} is neither regional nor legacy",
                        server_text(other)
                    )));
                }
            }
        }
    };
    let url = overrides
        .url
        .map(str::to_owned)
        .or_else(|| var("AWS_ENDPOINT_URL_STS"));
    sts_endpoint(region.as_deref(), regional, url.as_deref(), who)
}

/// An https URL, or plain http to this machine only (the request carries a token).
/// `service` names the endpoint in the error (`STS`, `SSO portal`, `SSO OIDC`).
pub(crate) fn check_endpoint(url: &str, service: &str, who: &str) -> Result<()> {
    let valid = url.parse::<http::Uri>().is_ok_and(|u| {
        let loopback = u.host().is_some_and(|h| {
            h.eq_ignore_ascii_case("localhost")
                || h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        u.authority().is_some()
            && match u.scheme_str() {
                Some(s) if s.eq_ignore_ascii_case("https") => true,
                Some(s) if s.eq_ignore_ascii_case("http") => loopback,
                _ => false,
            }
    });
    if valid {
        Ok(())
    } else {
        Err(Error::credentials(format!(
            "{who}: the {service} endpoint {:?} is not an https URL (plain http only to \
             loopback)",
            server_text(url)
        )))
    }
}
