//! [`ClientBuilder::load_env`]: what the AWS CLI and SDKs would configure, read from the
//! environment and the shared profile files, filling in only what the builder left unset.

use super::{Client, ClientBuilder};
use crate::checksum::ChecksumAlgorithm;
use crate::config::RetryConfig;
use crate::credentials::env::{Env, ProcessEnv};
use crate::credentials::{CachedProvider, DefaultChain, load_profile_config};
use crate::endpoint::AddressingStyle;
use crate::error::{Error, Result};
use std::sync::Arc;

impl Client {
    /// A client configured the way the AWS CLI and SDKs would be: region, endpoint, addressing
    /// style and attempts from the environment and the shared profile files, credentials from
    /// the [default chain](crate::credentials::DefaultChain) (cached, refreshed ahead of expiry).
    ///
    /// For explicit settings that win over the environment, use
    /// `Client::builder().region(..).load_env().await?.build()`.
    ///
    /// # Errors
    ///
    /// See [`ClientBuilder::load_env`] and [`ClientBuilder::build`]. Credentials are resolved
    /// lazily, at the first request, so a missing provider shows up there.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads the environment and files.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), async_s3::Error> {
    /// let client = async_s3::Client::from_env().await?;
    /// let buckets = client.list_buckets().await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_env() -> Result<Self> {
        ClientBuilder::new().load_env().await?.build()
    }
}

impl ClientBuilder {
    /// Fills in what is still unset from the environment and the shared AWS files, the way
    /// the AWS CLI and SDKs do:
    ///
    /// - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`;
    /// - endpoint: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`
    ///   (or its `services` section for s3), unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`;
    /// - addressing: the profile's `s3` `addressing_style` (`path`, `virtual`, `auto`);
    /// - attempts: `AWS_MAX_ATTEMPTS`, the profile's `max_attempts`;
    /// - request checksum: `AWS_REQUEST_CHECKSUM_CALCULATION`, the profile's
    ///   `request_checksum_calculation`: `when_supported` sends CRC32 (the AWS SDKs'
    ///   default algorithm) on every upload, `when_required` none (see
    ///   [`request_checksum`](Self::request_checksum));
    /// - credentials: the [default chain](crate::credentials::DefaultChain), cached.
    ///
    /// The profile is the one named with [`profile`](Self::profile), else `AWS_PROFILE`, else
    /// `default`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed
    /// `AWS_MAX_ATTEMPTS`, addressing style or checksum calculation; profile files that exist but cannot be read
    /// give [`ErrorKind::Io`](crate::ErrorKind::Io). Missing files are not errors.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn load_env(self) -> Result<Self> {
        let env: Env = Arc::new(ProcessEnv);
        self.load_from(env).await
    }

    pub(crate) async fn load_from(mut self, env: Env) -> Result<Self> {
        let profile = load_profile_config(&env, self.profile.as_deref()).await?;
        if self.region.is_none() {
            self.region = env
                .var("AWS_REGION")
                .or_else(|| env.var("AWS_DEFAULT_REGION"))
                .or(profile.region)
                .map(|r| r.trim().to_owned());
        }
        let ignore_endpoints = env
            .var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if self.endpoint.is_none()
            && !ignore_endpoints
            && let Some(url) = env
                .var("AWS_ENDPOINT_URL_S3")
                .or_else(|| env.var("AWS_ENDPOINT_URL"))
                .or(profile.endpoint_url)
        {
            self = self.endpoint(url);
        }
        if self.addressing.is_none()
            && let Some(style) = profile.addressing_style
        {
            self.addressing = Some(match style.trim() {
                "path" => AddressingStyle::Path,
                "virtual" => AddressingStyle::VirtualHosted,
                "auto" => AddressingStyle::Auto,
                other => {
                    return Err(Error::invalid_input(format!(
                        "addressing_style {other:?} is not path, virtual or auto"
                    )));
                }
            });
        }
        if self.retry.is_none() {
            let attempts = match env.var("AWS_MAX_ATTEMPTS") {
                Some(v) => Some(v.trim().parse::<u32>().map_err(|_| {
                    Error::invalid_input(format!("AWS_MAX_ATTEMPTS {v:?} is not a number"))
                })?),
                None => profile.max_attempts,
            };
            if let Some(n) = attempts {
                self.retry = Some(RetryConfig::with_max_attempts(n));
            }
        }
        if self.request_checksum.is_none() {
            let setting = env
                .var("AWS_REQUEST_CHECKSUM_CALCULATION")
                .map(|v| ("AWS_REQUEST_CHECKSUM_CALCULATION", v))
                .or_else(|| {
                    profile
                        .request_checksum_calculation
                        .map(|v| ("request_checksum_calculation", v))
                });
            if let Some((name, v)) = setting {
                self.request_checksum = Some(match v.trim().to_ascii_lowercase().as_str() {
                    "when_supported" => Some(ChecksumAlgorithm::Crc32),
                    "when_required" => None,
                    _ => {
                        return Err(Error::invalid_input(format!(
                            "{name} {v:?} is not when_supported or when_required"
                        )));
                    }
                });
            }
        }
        if self.env_credentials.is_none() {
            let chain = DefaultChain::with_env_profile(&env, self.profile.as_deref());
            self.env_credentials = Some(Arc::new(CachedProvider::new(chain)));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Credentials;
    use crate::credentials::env::MapEnv;

    fn profile_files(config: &str) -> (tempfile::TempDir, MapEnv) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(&cfg, config).unwrap();
        let creds = dir.path().join("credentials");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = SECRET-CANARY\n",
        )
        .unwrap();
        let env = MapEnv::default()
            .with("AWS_CONFIG_FILE", cfg.to_string_lossy())
            .with("AWS_SHARED_CREDENTIALS_FILE", creds.to_string_lossy());
        (dir, env)
    }

    const PROFILE: &str = "[default]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9999\nmax_attempts = 7\ns3 =\n  addressing_style = virtual\n";

    #[tokio::test]
    async fn environment_and_profile_fill_what_is_unset() {
        let (_dir, env) = profile_files(PROFILE);
        let b = ClientBuilder::new()
            .load_from(Arc::new(env) as Env)
            .await
            .unwrap();
        assert_eq!(b.region.as_deref(), Some("eu-west-3"));
        assert_eq!(b.endpoint.as_deref(), Some("http://127.0.0.1:9999"));
        assert_eq!(b.addressing, Some(AddressingStyle::VirtualHosted));
        assert_eq!(b.retry.map(|r| r.max_attempts), Some(7));
        // The default chain finds the profile's keys.
        let creds = b
            .env_credentials
            .as_ref()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.access_key_id(), "AKIDFILE");
    }

    #[tokio::test]
    async fn environment_variables_beat_the_profile_and_the_builder_beats_both() {
        let (_dir, env) = profile_files(PROFILE);
        let env = env
            .with("AWS_REGION", "ap-south-1")
            .with("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7000")
            .with("AWS_ENDPOINT_URL", "http://127.0.0.1:6000")
            .with("AWS_MAX_ATTEMPTS", "2");
        let env: Env = Arc::new(env);
        let b = ClientBuilder::new().load_from(env.clone()).await.unwrap();
        assert_eq!(b.region.as_deref(), Some("ap-south-1"));
        assert_eq!(b.endpoint.as_deref(), Some("http://127.0.0.1:7000"));
        assert_eq!(b.retry.map(|r| r.max_attempts), Some(2));

        let b = ClientBuilder::new()
            .region("us-west-2")
            .endpoint("http://127.0.0.1:5000")
            .addressing_style(AddressingStyle::Path)
            .retry(RetryConfig::with_max_attempts(4))
            .credentials(Credentials::new("AKIDEXPLICIT", "s"))
            .load_from(env)
            .await
            .unwrap();
        assert_eq!(b.region.as_deref(), Some("us-west-2"));
        assert_eq!(b.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(b.addressing, Some(AddressingStyle::Path));
        assert_eq!(b.retry.map(|r| r.max_attempts), Some(4));
        let creds = b
            .credentials
            .as_ref()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.access_key_id(), "AKIDEXPLICIT");
    }

    /// AWS's `request_checksum_calculation`: `when_supported` is CRC32 on every upload (the
    /// SDKs' default algorithm), `when_required` none; the builder wins over both sources.
    #[tokio::test]
    async fn request_checksum_calculation_from_the_environment_and_profile() {
        let algorithm = |b: ClientBuilder| {
            b.credentials(Credentials::new("a", "b"))
                .build()
                .unwrap()
                .request_checksum()
        };
        assert_eq!(algorithm(ClientBuilder::new()), None);
        let with = |v: &str| -> Env {
            Arc::new(MapEnv::default().with("AWS_REQUEST_CHECKSUM_CALCULATION", v))
        };
        let b = ClientBuilder::new()
            .load_from(with("WHEN_SUPPORTED"))
            .await
            .unwrap();
        assert_eq!(algorithm(b), Some(ChecksumAlgorithm::Crc32));
        let b = ClientBuilder::new()
            .load_from(with("when_required"))
            .await
            .unwrap();
        assert_eq!(algorithm(b), None);
        let b = ClientBuilder::new()
            .request_checksum(ChecksumAlgorithm::Sha256)
            .load_from(with("when_required"))
            .await
            .unwrap();
        assert_eq!(algorithm(b), Some(ChecksumAlgorithm::Sha256));
        let b = ClientBuilder::new()
            .request_checksum(None)
            .load_from(with("when_supported"))
            .await
            .unwrap();
        assert_eq!(algorithm(b), None);
        let err = ClientBuilder::new()
            .load_from(with("always"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("AWS_REQUEST_CHECKSUM_CALCULATION"),
            "{err}"
        );
        // The profile's setting, below the environment variable.
        let (_dir, env) =
            profile_files("[default]\nrequest_checksum_calculation = when_supported\n");
        let b = ClientBuilder::new()
            .load_from(Arc::new(env.clone()) as Env)
            .await
            .unwrap();
        assert_eq!(algorithm(b), Some(ChecksumAlgorithm::Crc32));
        let env = env.with("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required");
        let b = ClientBuilder::new()
            .load_from(Arc::new(env) as Env)
            .await
            .unwrap();
        assert_eq!(algorithm(b), None);
    }

    /// `profile(name)` picks the profile for the settings and for the chain's profile
    /// provider, over `AWS_PROFILE`.
    #[tokio::test]
    async fn the_named_profile_wins_over_aws_profile() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(
            &cfg,
            "[profile other]\nregion = eu-west-3\n[profile dev]\nregion = us-west-2\nmax_attempts = 5\n",
        )
        .unwrap();
        let creds = dir.path().join("credentials");
        std::fs::write(
            &creds,
            "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s1\n\
             [dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s2\n",
        )
        .unwrap();
        let env: Env = Arc::new(
            MapEnv::default()
                .with("AWS_CONFIG_FILE", cfg.to_string_lossy())
                .with("AWS_SHARED_CREDENTIALS_FILE", creds.to_string_lossy())
                .with("AWS_PROFILE", "other"),
        );
        let key = |b: &ClientBuilder| {
            let p = b.env_credentials.clone().unwrap();
            async move {
                p.provide_credentials()
                    .await
                    .unwrap()
                    .access_key_id()
                    .to_owned()
            }
        };
        // Without a name, AWS_PROFILE.
        let b = ClientBuilder::new().load_from(env.clone()).await.unwrap();
        assert_eq!(b.region.as_deref(), Some("eu-west-3"));
        assert_eq!(key(&b).await, "AKIDOTHER");
        // With one, that profile: its settings and its keys.
        let b = ClientBuilder::new()
            .profile("dev")
            .load_from(env)
            .await
            .unwrap();
        assert_eq!(b.region.as_deref(), Some("us-west-2"));
        assert_eq!(b.retry.map(|r| r.max_attempts), Some(5));
        assert_eq!(key(&b).await, "AKIDDEV");
    }

    #[tokio::test]
    async fn bad_environment_values_are_clear_errors() {
        let env: Env = Arc::new(MapEnv::default().with("AWS_MAX_ATTEMPTS", "many"));
        let err = ClientBuilder::new().load_from(env).await.unwrap_err();
        assert!(err.to_string().contains("AWS_MAX_ATTEMPTS"), "{err}");
        let (_dir, env) = profile_files("[default]\ns3 =\n  addressing_style = sideways\n");
        let err = ClientBuilder::new()
            .load_from(Arc::new(env) as Env)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("sideways"), "{err}");
    }
}
