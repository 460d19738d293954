//! Client configuration: [`ClientBuilder`] validates everything once and produces a [`Client`].

use crate::client::Client;
use crate::credentials::{Credentials, ProvideCredentials};
use crate::error::{Error, Result};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How bucket names appear in request URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AddressingStyle {
    /// Virtual-hosted style for AWS endpoints, path style for custom endpoints (the default).
    #[default]
    Auto,
    /// `https://endpoint/bucket/key`.
    Path,
    /// `https://bucket.endpoint/key`.
    VirtualHosted,
}

/// Whether request bodies held in memory are covered by the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadSigning {
    /// Hash in-memory bodies with SHA-256 and sign the hash; streamed bodies (files, streams)
    /// are sent as `UNSIGNED-PAYLOAD` (the default).
    #[default]
    InMemoryBodies,
    /// Send every body as `UNSIGNED-PAYLOAD`: less CPU, integrity left to TLS and checksums.
    Never,
}

/// The retry policy: attempts and backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Total attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff ceiling; it doubles each retry (full jitter below it).
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl RetryConfig {
    /// A policy with `max_attempts` attempts and the default backoff.
    pub fn with_max_attempts(max_attempts: u32) -> Self {
        Self {
            max_attempts,
            ..Self::default()
        }
    }

    /// The same policy with other backoff bounds: the first ceiling and the largest.
    #[must_use]
    pub fn with_backoff(self, initial: Duration, max: Duration) -> Self {
        Self {
            initial_backoff: initial,
            max_backoff: max,
            ..self
        }
    }
}

/// A source of the current time, for signing. Tests inject a fixed or shifted clock.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// URL scheme of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed endpoint: scheme and authority (host, optional non-default port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) scheme: Scheme,
    /// Host name or IP literal (IPv6 in brackets).
    pub(crate) host: String,
    /// The port, `None` when it is the scheme's default.
    pub(crate) port: Option<u16>,
    /// Whether this is an AWS endpoint (virtual-hosted addressing by default).
    pub(crate) is_aws: bool,
}

impl Endpoint {
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid_input(format!("endpoint {url:?}: {why}"));
        let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains(['/', '?', '#']) {
            return Err(bad("must not have a path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported here"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed IPv6 bracket"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("junk after the IPv6 address")),
            };
            (format!("[{h}]"), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(bad("bad host"));
        }
        let port = match port {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
            None => None,
        };
        let default_port = match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let host = host.to_ascii_lowercase();
        let is_aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
        Ok(Endpoint {
            scheme,
            host,
            port: port.filter(|p| *p != default_port),
            is_aws,
        })
    }

    /// The endpoint AWS uses for `region`.
    pub(crate) fn aws(region: &str) -> Self {
        Endpoint {
            scheme: Scheme::Https,
            host: format!("s3.{region}.amazonaws.com"),
            port: None,
            is_aws: true,
        }
    }

    fn is_ip(&self) -> bool {
        self.host.starts_with('[') || self.host.parse::<std::net::Ipv4Addr>().is_ok()
    }

    fn is_loopback(&self) -> bool {
        let h = self.host.as_str();
        h == "localhost"
            || h.ends_with(".localhost")
            || h == "[::1]"
            || h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Everything a [`Client`] needs, validated.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) endpoint: Endpoint,
    pub(crate) region: String,
    pub(crate) credentials: Arc<dyn ProvideCredentials>,
    pub(crate) addressing: AddressingStyle,
    pub(crate) payload_signing: PayloadSigning,
    pub(crate) retry: RetryConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) max_error_body: usize,
}

/// Builds a [`Client`]. Every setting has a sensible default except the credentials.
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
    endpoint: Option<String>,
    region: Option<String>,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    addressing: AddressingStyle,
    payload_signing: PayloadSigning,
    retry: RetryConfig,
    clock: Arc<dyn Clock>,
    connect_timeout: Duration,
    read_timeout: Duration,
    pool_max_idle_per_host: usize,
    allow_http: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("addressing", &self.addressing)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            credentials: None,
            addressing: AddressingStyle::Auto,
            payload_signing: PayloadSigning::default(),
            retry: RetryConfig::default(),
            clock: Arc::new(SystemClock),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            pool_max_idle_per_host: 64,
            allow_http: false,
        }
    }
}

impl ClientBuilder {
    /// A builder with default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A custom endpoint such as `http://127.0.0.1:9000` (S3-compatible stores). Omit it for
    /// AWS: the region then picks `https://s3.<region>.amazonaws.com`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
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

    /// A credentials provider, asked before every attempt.
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Path or virtual-hosted addressing (default: [`AddressingStyle::Auto`]).
    pub fn addressing_style(mut self, style: AddressingStyle) -> Self {
        self.addressing = style;
        self
    }

    /// Whether in-memory bodies are hashed and signed (default: they are).
    pub fn payload_signing(mut self, mode: PayloadSigning) -> Self {
        self.payload_signing = mode;
        self
    }

    /// The retry policy (default: 3 attempts, full-jitter backoff from 100 ms to 20 s).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The clock used to sign requests (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long to wait for a TCP (and TLS) connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a response may go without sending a byte (default 30 s). This bounds stalls
    /// without limiting the total time of a large transfer.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
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

    /// Validates the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed endpoint or
    /// region, zero attempts, or plain http to a non-loopback host without
    /// [`allow_http`](Self::allow_http); [`ErrorKind::Credentials`](crate::ErrorKind::Credentials)
    /// when no credentials were given; [`ErrorKind::Transport`](crate::ErrorKind::Transport)
    /// if the HTTP client cannot be set up (TLS backend).
    pub fn build(self) -> Result<Client> {
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
        let endpoint = match &self.endpoint {
            Some(url) => Endpoint::parse(url)?,
            None => Endpoint::aws(&region),
        };
        if endpoint.scheme == Scheme::Http && !self.allow_http && !endpoint.is_loopback() {
            return Err(Error::invalid_input(format!(
                "plain http to {} is refused: use https, or allow_http(true) to send in the clear",
                endpoint.host
            )));
        }
        if self.addressing == AddressingStyle::VirtualHosted && endpoint.is_ip() {
            return Err(Error::invalid_input(format!(
                "virtual-hosted addressing needs a host name, not the IP address {}",
                endpoint.host
            )));
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::invalid_input(
                "retry max_attempts must be at least 1",
            ));
        }
        let credentials = self
            .credentials
            .ok_or_else(|| Error::credentials("no credentials configured"))?;
        let config = Config {
            endpoint,
            region,
            credentials,
            addressing: self.addressing,
            payload_signing: self.payload_signing,
            retry: self.retry,
            clock: self.clock,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            pool_max_idle_per_host: self.pool_max_idle_per_host,
            max_error_body: 64 * 1024,
        };
        Client::from_config(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("http://127.0.0.1:9000/").unwrap();
        assert_eq!(
            (e.scheme, e.host.as_str(), e.port),
            (Scheme::Http, "127.0.0.1", Some(9000))
        );
        let e = Endpoint::parse("https://S3.example.com:443").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("s3.example.com", None));
        let e = Endpoint::parse("http://[::1]:8080").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("[::1]", Some(8080)));
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://x/path").is_err());
        assert!(Endpoint::parse("http://x:99999").is_err());
        assert!(Endpoint::parse("http://").is_err());
        assert!(
            Endpoint::parse("https://s3.eu-west-1.amazonaws.com")
                .unwrap()
                .is_aws
        );
    }

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
}
