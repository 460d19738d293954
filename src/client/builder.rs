//! [`ClientBuilder`]: every setting of a client, validated once by
//! [`build`](ClientBuilder::build) into the transport's settings.

use super::Client;
use crate::bandwidth::Limiter;
use crate::checksum::ChecksumAlgorithm;
use crate::config::{PayloadSigning, ProxyConfig, RetryConfig};
use crate::credentials::{Credentials, ProvideCredentials};
use crate::endpoint::{AddressingStyle, Endpoint, Scheme, split_userinfo};
use crate::error::{Error, Result};
use crate::runtime::{AsyncSleep, Clock, JitterSource, SystemClock};
use crate::transport::{Settings, Transport};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

impl Client {
    /// A builder for a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

/// Builds a [`Client`]. Every setting has a sensible default except the credentials.
///
/// Settings made on the builder win over everything; [`load_env`](Self::load_env) fills in
/// only what is still unset, from the environment and the shared AWS profile files.
///
/// # Example
///
/// ```
/// use async_s3::{Client, Credentials};
///
/// let client = Client::builder()
///     .endpoint("http://127.0.0.1:9000")
///     .region("us-east-1")
///     .credentials(Credentials::new("AKIDEXAMPLE", "secret"))
///     .build()?;
/// # Ok::<(), async_s3::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    /// The endpoint URL without any user info.
    pub(super) endpoint: Option<String>,
    /// Credentials found in the endpoint's user info (`http://KEY:SECRET@host`).
    pub(super) url_credentials: Option<Credentials>,
    /// An endpoint whose user info could not be split, reported by `build`.
    pub(super) endpoint_error: Option<Error>,
    /// The provider `load_env` found, used when nothing more explicit is set.
    pub(super) env_credentials: Option<Arc<dyn ProvideCredentials>>,
    pub(super) region: Option<String>,
    pub(super) credentials: Option<Arc<dyn ProvideCredentials>>,
    pub(super) addressing: Option<AddressingStyle>,
    pub(super) payload_signing: PayloadSigning,
    pub(super) retry: Option<RetryConfig>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) sleep: Option<Arc<dyn AsyncSleep>>,
    pub(super) jitter: Option<Arc<dyn JitterSource>>,
    pub(super) connect_timeout: Duration,
    pub(super) read_timeout: Duration,
    pub(super) pool_max_idle_per_host: usize,
    pub(super) allow_http: bool,
    pub(super) dual_stack: bool,
    pub(super) accelerate: bool,
    pub(super) root_certificates: Vec<Vec<u8>>,
    pub(super) proxy: ProxyConfig,
    /// `None`: not set (the default, or what `load_env` finds); `Some(None)`: set to none.
    pub(super) request_checksum: Option<Option<ChecksumAlgorithm>>,
    // issue 13: the client-wide bandwidth cap, the transfers' target throughput
    pub(super) max_bandwidth: Option<u64>,
    pub(super) target_throughput: Option<u64>,
    /// The profile `load_env` reads instead of `AWS_PROFILE`.
    pub(super) profile: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("addressing", &self.addressing)
            .field("retry", &self.retry)
            .field("proxy", &self.proxy)
            .field("request_checksum", &self.request_checksum)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            url_credentials: None,
            endpoint_error: None,
            env_credentials: None,
            region: None,
            credentials: None,
            addressing: None,
            payload_signing: PayloadSigning::default(),
            retry: None,
            clock: Arc::new(SystemClock),
            sleep: None,
            jitter: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            pool_max_idle_per_host: 64,
            allow_http: false,
            dual_stack: false,
            accelerate: false,
            root_certificates: Vec::new(),
            proxy: ProxyConfig::default(),
            request_checksum: None,
            max_bandwidth: None,
            target_throughput: None,
            profile: None,
        }
    }
}

impl ClientBuilder {
    /// A builder with default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A custom endpoint such as `http://127.0.0.1:9000` (S3-compatible stores). Omit it for
    /// AWS: the region picks `https://s3.<region>.amazonaws.com`.
    ///
    /// User info in the URL (`http://KEY:SECRET@host:9000`, percent-encoded) supplies
    /// credentials when none are set otherwise; it is removed from the URL and never printed.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        match split_userinfo(&url.into()) {
            Ok((url, info)) => {
                self.endpoint = Some(url);
                self.url_credentials =
                    info.map(|i| Credentials::new(i.access_key_id, i.secret_access_key));
                self.endpoint_error = None;
            }
            Err(e) => {
                self.endpoint = None;
                self.url_credentials = None;
                self.endpoint_error = Some(e);
            }
        }
        self
    }

    /// The region to sign for (default `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Fixed credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(Arc::new(credentials));
        self
    }

    /// A credentials provider, asked before every attempt. Wrap providers that fetch over the
    /// network in a [`CachedProvider`](crate::credentials::CachedProvider).
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Path or virtual-hosted addressing (default: [`AddressingStyle::Auto`]).
    pub fn addressing_style(mut self, style: AddressingStyle) -> Self {
        self.addressing = Some(style);
        self
    }

    /// How request bodies are covered by the signature (default: [`PayloadSigning::Auto`]).
    pub fn payload_signing(mut self, mode: PayloadSigning) -> Self {
        self.payload_signing = mode;
        self
    }

    /// The retry policy (default: 3 attempts, full-jitter backoff from 100 ms to 20 s).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The clock used to sign requests (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How the client waits before a retry (default: tokio's timer). Inject an
    /// [`AsyncSleep`] to observe backoff delays in tests without waiting for them.
    pub fn sleep(mut self, sleep: impl AsyncSleep) -> Self {
        self.sleep = Some(Arc::new(sleep));
        self
    }

    /// The random numbers behind the backoff's jitter (default: a generator seeded per
    /// client). A fixed [`JitterSource`] makes every delay predictable.
    pub fn jitter(mut self, source: impl JitterSource) -> Self {
        self.jitter = Some(Arc::new(source));
        self
    }

    /// How long to wait for a TCP (and TLS) connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a request may go without progress (default 30 s): sending the body, waiting
    /// for the answer, and between chunks of the answer. This bounds stalls without limiting
    /// the total time of a large transfer.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Caps the bytes this client sends and receives, all requests together, at
    /// `bytes_per_sec` (a token bucket shared by every request and transfer of the client
    /// and its clones; concurrent parts share it evenly). Bodies pass in pieces of 64 KiB,
    /// each waiting for its turn on a timer (no polling); over any few seconds the rate stays
    /// within 64 KiB of the cap. Request bodies and the bodies of successful answers count;
    /// headers, XML answers read whole (listings, errors) and TLS framing do not. No cap by
    /// default, and then nothing is added to a request. `0` is taken as 1 byte per second.
    /// A transfer can have a cap of its own as well
    /// ([`Upload::max_bandwidth`](crate::Upload::max_bandwidth),
    /// [`Download::max_bandwidth`](crate::Download::max_bandwidth)).
    ///
    /// A body waiting for its turn counts as progress for the
    /// [`read_timeout`](Self::read_timeout).
    ///
    /// # Example
    ///
    /// ```
    /// use async_s3::{Client, Credentials};
    ///
    /// let client = Client::builder()
    ///     .endpoint("http://127.0.0.1:9000")
    ///     .credentials(Credentials::new("AKIDEXAMPLE", "secret"))
    ///     .max_bandwidth(50 << 20) // 50 MiB/s for everything this client moves
    ///     .build()?;
    /// # Ok::<(), async_s3::Error>(())
    /// ```
    pub fn max_bandwidth(mut self, bytes_per_sec: u64) -> Self {
        self.max_bandwidth = Some(bytes_per_sec);
        self
    }

    /// The profile of the shared AWS files (`~/.aws/config`, `~/.aws/credentials`) that
    /// [`load_env`](Self::load_env) reads, instead of `AWS_PROFILE` (else `default`): for the
    /// region, endpoint and other settings, and for the default chain's
    /// [profile provider](crate::credentials::ProfileProvider). It is the AWS CLI's
    /// `--profile`. Call it before `load_env`; on its own it changes nothing.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), async_s3::Error> {
    /// let client = async_s3::Client::builder()
    ///     .profile("dev")
    ///     .load_env()
    ///     .await?
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// The throughput the transfer engine aims for, in bits per second: it picks the
    /// transfers' default concurrency, one part in flight per 0.4 Gbit/s (what one
    /// connection to S3 carries, as the AWS CRT clients assume), capped so that
    /// `concurrency × part size` stays within 2 GiB. Without it, transfers default to 8 parts
    /// in flight. A transfer's own [`concurrency`](crate::Upload::concurrency) wins.
    ///
    /// Whatever the setting, a client's transfers share one adaptive limit on top: a
    /// throttling answer (503 `SlowDown` and the like) halves the parts in flight, and
    /// healthy answers raise the limit again by one per limit's worth of answers, until it
    /// is lifted.
    ///
    /// # Example
    ///
    /// ```
    /// use async_s3::{Client, Credentials};
    ///
    /// let client = Client::builder()
    ///     .endpoint("http://127.0.0.1:9000")
    ///     .credentials(Credentials::new("AKIDEXAMPLE", "secret"))
    ///     .target_throughput(10_000_000_000) // 10 Gbit/s: 25 parts in flight
    ///     .build()?;
    /// # Ok::<(), async_s3::Error>(())
    /// ```
    pub fn target_throughput(mut self, bits_per_sec: u64) -> Self {
        self.target_throughput = Some(bits_per_sec);
        self
    }

    /// How many idle connections to keep per host (default 64).
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool_max_idle_per_host = n;
        self
    }

    /// Allows plain `http://` to hosts other than loopback (default: refused, because
    /// credentials and data would cross the network in the clear).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Uses the AWS dual-stack (IPv4 and IPv6) endpoints. Ignored with a custom endpoint.
    pub fn dual_stack(mut self, enabled: bool) -> Self {
        self.dual_stack = enabled;
        self
    }

    /// Uses S3 Transfer Acceleration endpoints (virtual-hosted addressing). Ignored with a
    /// custom endpoint.
    pub fn accelerate(mut self, enabled: bool) -> Self {
        self.accelerate = enabled;
        self
    }

    /// Trusts this extra root certificate (PEM), for stores behind a private CA. The
    /// platform's usual roots stay trusted.
    pub fn add_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// How to find a proxy (default: the usual environment variables).
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// The checksum every upload carries unless the request chooses another or none
    /// (`.checksum(..)` on [`put_object`](crate::Bucket::put_object),
    /// [`create_multipart_upload`](crate::Bucket::create_multipart_upload) and
    /// [`upload`](crate::Bucket::upload)): `Some(algorithm)`, or `None` for no checksum.
    ///
    /// **The default is none**: no `x-amz-checksum-*` or `Content-MD5` header beyond what an
    /// operation requires (DeleteObjects always sends `Content-MD5`). That is the one choice
    /// every S3-compatible store accepts at no cost:
    ///
    /// - every `x-amz-checksum-*` header is refused by some store: when the AWS SDKs began
    ///   sending CRC32 by default (January 2025), Backblaze B2 answered
    ///   `400 Unsupported header 'x-amz-checksum-crc32'`, Google Cloud Storage refused the
    ///   headers, Cloudflare R2 answered `501 NotImplemented` (it added CRC32 later in 2025,
    ///   other CRCs after), and Ceph only has them since Squid (2024);
    /// - `Content-MD5` is accepted by every store, but MD5 costs about 1.5 CPU seconds per
    ///   GiB on one core, several times what the rest of an upload costs;
    /// - bodies in memory are already verified by the store through the signed SHA-256
    ///   payload hash; files and streams are chunk-signed over plain http and sent unsigned
    ///   over TLS ([`PayloadSigning::Auto`]), protected by TLS only unless a checksum is
    ///   chosen.
    ///
    /// On AWS, MinIO and Ceph (Squid and later), `Crc32c` or `Crc64Nvme` cost almost nothing
    /// (SIMD): the store refuses damaged bodies and keeps the checksum for downloads to
    /// verify. For Cloudflare R2 choose `Crc32`; for stores that refuse `x-amz-checksum-*`,
    /// `ContentMd5`. This default is sent as a header, computed before sending (a file is read
    /// once more for it, from the page cache), never as an `aws-chunked` trailer, which even
    /// fewer stores accept.
    ///
    /// A stream body of a single PutObject cannot be checksummed before sending, so it goes
    /// without the client's default; a checksum asked for on that request is computed while
    /// the body is sent and follows it as a trailer (`ContentMd5` cannot, and is an error).
    ///
    /// # Example
    ///
    /// ```
    /// use async_s3::{ChecksumAlgorithm, Client, Credentials};
    ///
    /// let client = Client::builder()
    ///     .credentials(Credentials::new("AKIDEXAMPLE", "secret"))
    ///     .request_checksum(ChecksumAlgorithm::Crc32c)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), async_s3::Error>(())
    /// ```
    pub fn request_checksum(mut self, algorithm: impl Into<Option<ChecksumAlgorithm>>) -> Self {
        self.request_checksum = Some(algorithm.into());
        self
    }

    /// Validates the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed endpoint or
    /// region, zero attempts, plain http to a non-loopback host without
    /// [`allow_http`](Self::allow_http), virtual-hosted addressing with an IP endpoint, or a
    /// root certificate that is not PEM; [`ErrorKind::Credentials`](crate::ErrorKind::Credentials)
    /// when no credentials were given; [`ErrorKind::Transport`](crate::ErrorKind::Transport)
    /// if the HTTP client cannot be set up (TLS backend).
    pub fn build(self) -> Result<Client> {
        if let Some(e) = self.endpoint_error {
            return Err(e);
        }
        let region = self.region.unwrap_or_else(|| "us-east-1".to_owned());
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::invalid_input(format!(
                "region {region:?} is not valid"
            )));
        }
        let mut addressing = self.addressing.unwrap_or_default();
        let endpoint = match &self.endpoint {
            Some(url) => Endpoint::parse(url)?,
            None if self.accelerate => {
                addressing = AddressingStyle::VirtualHosted;
                Endpoint::aws_host(if self.dual_stack {
                    "s3-accelerate.dualstack.amazonaws.com".to_owned()
                } else {
                    "s3-accelerate.amazonaws.com".to_owned()
                })
            }
            None if self.dual_stack => {
                Endpoint::aws_host(format!("s3.dualstack.{region}.amazonaws.com"))
            }
            None => Endpoint::aws(&region),
        };
        if endpoint.scheme == Scheme::Http && !self.allow_http && !endpoint.is_loopback() {
            return Err(Error::invalid_input(format!(
                "plain http to {} is refused: use https, or allow_http(true) to send in the clear",
                endpoint.host
            )));
        }
        if addressing == AddressingStyle::VirtualHosted && endpoint.is_ip() {
            return Err(Error::invalid_input(format!(
                "virtual-hosted addressing needs a host name, not the IP address {}",
                endpoint.host
            )));
        }
        let retry = self.retry.unwrap_or_default();
        if retry.max_attempts == 0 {
            return Err(Error::invalid_input(
                "retry max_attempts must be at least 1",
            ));
        }
        // Explicit credentials, then the endpoint's user info, then what load_env found.
        let credentials = match (self.credentials, self.url_credentials, self.env_credentials) {
            (Some(c), _, _) => c,
            (None, Some(c), _) => Arc::new(c) as Arc<dyn ProvideCredentials>,
            (None, None, Some(c)) => c,
            (None, None, None) => return Err(Error::credentials("no credentials configured")),
        };
        let transport = Transport::new(Settings {
            endpoint,
            region,
            credentials,
            addressing,
            payload_signing: self.payload_signing,
            retry,
            clock: self.clock,
            sleep: self.sleep,
            jitter: self.jitter,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            pool_max_idle_per_host: self.pool_max_idle_per_host,
            max_error_body: 64 * 1024,
            max_bandwidth: self.max_bandwidth.map(Limiter::new),
            congestion: Arc::default(),
            target_throughput: self.target_throughput,
            root_certificates: self.root_certificates,
            proxy: self.proxy,
        })?;
        Ok(Client::from_parts(
            transport,
            self.request_checksum.flatten(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::env::{Env, MapEnv};

    /// TEST-PLAN X3
    #[test]
    fn plain_http_to_remote_hosts_is_refused() {
        let b = || ClientBuilder::new().credentials(Credentials::new("a", "b"));
        let err = b().endpoint("http://s3.example.com").build().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(
            b().endpoint("http://s3.example.com")
                .allow_http(true)
                .build()
                .is_ok()
        );
        assert!(b().endpoint("http://localhost:9000").build().is_ok());
        assert!(b().endpoint("http://127.0.0.1:9000").build().is_ok());
        assert!(b().endpoint("https://s3.example.com").build().is_ok());
    }

    #[tokio::test]
    async fn credentials_in_the_endpoint_url_are_used_and_never_printed() {
        // A raw '/' in the secret (common in AWS secrets) still splits at the last '@'.
        let b = ClientBuilder::new().endpoint("http://AKIDURL:SECRET/CANARY%2B@127.0.0.1:9000");
        assert_eq!(b.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        let dbg = format!("{b:?}");
        assert!(!dbg.contains("CANARY") && !dbg.contains("AKIDURL"), "{dbg}");
        let client = b.build().unwrap();
        let creds = client
            .transport()
            .settings()
            .credentials
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.secret_access_key(), "SECRET/CANARY+");

        // Explicit credentials win over the URL's, which win over what load_env found.
        let client = ClientBuilder::new()
            .endpoint("http://AKIDURL:S@127.0.0.1:9000")
            .credentials(Credentials::new("AKIDX", "Y"))
            .build()
            .unwrap();
        let creds = client
            .transport()
            .settings()
            .credentials
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.access_key_id(), "AKIDX");
        let env: Env = Arc::new(
            MapEnv::default()
                .with("AWS_ACCESS_KEY_ID", "AKIDENV")
                .with("AWS_SECRET_ACCESS_KEY", "E"),
        );
        let client = ClientBuilder::new()
            .load_from(env)
            .await
            .unwrap()
            .endpoint("http://AKIDURL:S@127.0.0.1:9000")
            .build()
            .unwrap();
        let creds = client
            .transport()
            .settings()
            .credentials
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.access_key_id(), "AKIDURL");

        // Malformed user info is refused without quoting the URL.
        for url in [
            "http://AKIDONLY@127.0.0.1:9000",
            "http://:SECRET-CANARY@127.0.0.1:9000",
            "AKID:SECRET-CANARY@127.0.0.1:9000",
        ] {
            let err = ClientBuilder::new()
                .endpoint(url)
                .credentials(Credentials::new("a", "b"))
                .build()
                .unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            let text = format!("{err} {err:?}");
            assert!(
                !text.contains("CANARY") && !text.contains("AKIDONLY"),
                "{text}"
            );
        }
        // A proxy password never prints either.
        let b = ClientBuilder::new().proxy(ProxyConfig::Url(
            "http://u:PROXY-CANARY@127.0.0.1:3128".into(),
        ));
        assert!(!format!("{b:?}").contains("PROXY-CANARY"));
    }

    #[test]
    fn aws_endpoint_variants() {
        let c = |b: ClientBuilder| {
            let client = b.credentials(Credentials::new("a", "b")).build().unwrap();
            let e = &client.transport().settings().endpoint;
            (e.host.clone(), client.transport().settings().addressing)
        };
        assert_eq!(
            c(ClientBuilder::new().region("eu-west-1")).0,
            "s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            c(ClientBuilder::new().region("eu-west-1").dual_stack(true)).0,
            "s3.dualstack.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            c(ClientBuilder::new().accelerate(true)),
            (
                "s3-accelerate.amazonaws.com".to_owned(),
                AddressingStyle::VirtualHosted
            )
        );
        assert_eq!(
            c(ClientBuilder::new().accelerate(true).dual_stack(true)).0,
            "s3-accelerate.dualstack.amazonaws.com"
        );
        // A custom endpoint ignores the AWS variants.
        assert_eq!(
            c(ClientBuilder::new()
                .endpoint("http://127.0.0.1:9000")
                .dual_stack(true))
            .0,
            "127.0.0.1"
        );
        let err = ClientBuilder::new()
            .endpoint("http://127.0.0.1:9000")
            .addressing_style(AddressingStyle::VirtualHosted)
            .credentials(Credentials::new("a", "b"))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    }
}
