//! The client settings a profile holds: region, endpoint, addressing style, attempts.

use super::files::{SharedFiles, profile_from_env};
use super::parse::ProfileSet;
use crate::credentials::env::Env;
use crate::error::{Error, Result};

/// What a profile says about the client. Every field is `None` when the profile, or both
/// files, are missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProfileConfig {
    /// `region`.
    pub(crate) region: Option<String>,
    /// `endpoint_url` of the profile's `[services x]` section's `s3` sub-section, else the
    /// profile's own `endpoint_url`; both ignored when the profile sets
    /// `ignore_configured_endpoint_urls = true`.
    pub(crate) endpoint_url: Option<String>,
    /// `addressing_style` of the `s3` sub-section, as written (`path`, `virtual`, `auto`).
    pub(crate) addressing_style: Option<String>,
    /// `max_attempts`.
    pub(crate) max_attempts: Option<u32>,
    /// `request_checksum_calculation`, as written (`when_supported`, `when_required`).
    pub(crate) request_checksum_calculation: Option<String>,
}

/// Reads the settings of `profile` (else `AWS_PROFILE`, else `default`) from the shared
/// files named by the environment.
///
/// # Errors
///
/// [`ErrorKind::Io`](crate::ErrorKind::Io) when a file exists but cannot be read;
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `max_attempts` is not a
/// whole number of at least 1. Missing files or a missing profile are not errors.
///
/// # Cancel safety
///
/// Cancel safe: it only reads.
pub(crate) async fn load_profile_config(env: &Env, profile: Option<&str>) -> Result<ProfileConfig> {
    let name = profile.map_or_else(|| profile_from_env(&**env), str::to_owned);
    let loaded = SharedFiles::from_env(&**env).load().await.map_err(|e| {
        Error::io(
            format!("profile {name:?}: could not read {}", e.path.display()),
            e.source,
        )
    })?;
    config_of(&loaded.set, &name)
}

/// The settings of profile `name` in `set`.
pub(super) fn config_of(set: &ProfileSet, name: &str) -> Result<ProfileConfig> {
    let Some(profile) = set.profile(name) else {
        return Ok(ProfileConfig::default());
    };
    let ignore_endpoints = profile
        .get("ignore_configured_endpoint_urls")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let endpoint_url = if ignore_endpoints {
        None
    } else {
        profile
            .get("services")
            .and_then(|s| set.services(s))
            .and_then(|s| s.sub("s3", "endpoint_url"))
            .or_else(|| profile.get("endpoint_url"))
    };
    let max_attempts = match profile.get("max_attempts") {
        None => None,
        Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            Error::invalid_input(format!(
                "profile {name:?}: max_attempts {v:?} is not a whole number of at least 1"
            ))
        })?),
    };
    Ok(ProfileConfig {
        region: profile.get("region").map(str::to_owned),
        endpoint_url: endpoint_url.map(str::to_owned),
        addressing_style: profile.sub("s3", "addressing_style").map(str::to_owned),
        max_attempts,
        request_checksum_calculation: profile
            .get("request_checksum_calculation")
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse::{FileKind, parse};
    use super::*;
    use crate::credentials::env::MapEnv;
    use crate::error::ErrorKind;
    use std::sync::Arc;

    fn set(config: &str, credentials: &str) -> ProfileSet {
        ProfileSet::merge(
            parse(config, FileKind::Config),
            parse(credentials, FileKind::Credentials),
        )
    }

    #[test]
    fn all_settings() {
        let s = set(
            "[profile dev]\nregion = eu-west-1\nendpoint_url = http://global:9000\n\
             max_attempts = 5\ns3 =\n  addressing_style = path\n",
            "",
        );
        let c = config_of(&s, "dev").unwrap();
        assert_eq!(
            c,
            ProfileConfig {
                region: Some("eu-west-1".into()),
                endpoint_url: Some("http://global:9000".into()),
                addressing_style: Some("path".into()),
                max_attempts: Some(5),
                request_checksum_calculation: None,
            }
        );
    }

    #[test]
    fn services_section_outranks_the_global_endpoint() {
        let text = "[profile dev]\nendpoint_url = http://global\nservices = local\n\
                    [services local]\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n\
                    dynamodb =\n  endpoint_url = http://127.0.0.1:8000\n";
        let c = config_of(&set(text, ""), "dev").unwrap();
        assert_eq!(c.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        // A services section without s3 falls back to the global one.
        let text = "[profile dev]\nendpoint_url = http://global\nservices = other\n\
                    [services other]\ndynamodb =\n  endpoint_url = http://x\n";
        let c = config_of(&set(text, ""), "dev").unwrap();
        assert_eq!(c.endpoint_url.as_deref(), Some("http://global"));
    }

    #[test]
    fn configured_endpoints_can_be_ignored() {
        let text =
            "[default]\nendpoint_url = http://global\nignore_configured_endpoint_urls = TRUE\n";
        let c = config_of(&set(text, ""), "default").unwrap();
        assert_eq!(c.endpoint_url, None);
    }

    #[test]
    fn credentials_file_settings_count_too() {
        let c = config_of(
            &set("[profile dev]\nregion = a\n", "[dev]\nregion = b\n"),
            "dev",
        )
        .unwrap();
        assert_eq!(c.region.as_deref(), Some("b"));
    }

    #[test]
    fn missing_profile_is_empty() {
        let c = config_of(&set("[profile dev]\nregion = a\n", ""), "prod").unwrap();
        assert_eq!(c, ProfileConfig::default());
        // `[dev]` in the config file is not profile dev.
        let c = config_of(&set("[dev]\nregion = a\n", ""), "dev").unwrap();
        assert_eq!(c, ProfileConfig::default());
    }

    #[test]
    fn bad_max_attempts_is_invalid_input() {
        for bad in ["zero", "0", "-1", "2.5"] {
            let e = config_of(
                &set(&format!("[default]\nmax_attempts = {bad}\n"), ""),
                "default",
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(
                e.to_string().contains("profile \"default\": max_attempts"),
                "{e}"
            );
        }
    }

    #[tokio::test]
    async fn loads_from_the_environment_s_files() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "[profile dev]\nregion = eu-central-1\n[default]\nregion = x\n",
        )
        .unwrap();
        let env: Env = Arc::new(
            MapEnv::default()
                .with("AWS_CONFIG_FILE", config.display().to_string())
                .with(
                    "AWS_SHARED_CREDENTIALS_FILE",
                    dir.path().join("nope").display().to_string(),
                )
                .with("AWS_PROFILE", "dev"),
        );
        let c = load_profile_config(&env, None).await.unwrap();
        assert_eq!(c.region.as_deref(), Some("eu-central-1"));
        let c = load_profile_config(&env, Some("default")).await.unwrap();
        assert_eq!(c.region.as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn missing_files_are_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let env: Env = Arc::new(MapEnv::default().with("HOME", dir.path().display().to_string()));
        let c = load_profile_config(&env, None).await.unwrap();
        assert_eq!(c, ProfileConfig::default());
        // No home and no variables: nothing to read, still not an error.
        let env: Env = Arc::new(MapEnv::default());
        assert_eq!(
            load_profile_config(&env, None).await.unwrap(),
            ProfileConfig::default()
        );
    }

    #[tokio::test]
    async fn an_unreadable_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be cannot be read as a file.
        let env: Env =
            Arc::new(MapEnv::default().with("AWS_CONFIG_FILE", dir.path().display().to_string()));
        let e = load_profile_config(&env, None).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.to_string().contains("could not read"), "{e}");
    }
}
