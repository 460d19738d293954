//! Client configuration: [`ClientBuilder`] validates everything once and produces a [`Client`].

use crate::checksum::ChecksumAlgorithm;
use crate::client::Client;
use crate::credentials::{Credentials, ProvideCredentials};
use crate::error::{Error, Result};
use crate::runtime::{AsyncSleep, Clock, JitterSource, SystemClock};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

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

/// How request bodies are covered by the signature.
///
/// A body in memory is hashed once and its SHA-256 signed. A body streamed from a file or a
/// stream cannot be hashed before it is sent without reading it twice; it is either sent as
/// `UNSIGNED-PAYLOAD` (the bytes are then protected by TLS and by any checksum) or
/// aws-chunked with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (64 KiB chunks, each signed as it
/// goes: one SHA-256 pass over the data and no second read).
///
/// Independently of this setting, a checksum asked for on a stream body is computed while
/// the body is sent and follows it as a trailing header (aws-chunked with a trailer, signed
/// when streamed bodies are signed, `STREAMING-UNSIGNED-PAYLOAD-TRAILER` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadSigning {
    /// In-memory bodies are signed; streamed bodies are chunk-signed over plain `http://`,
    /// where nothing else protects them, and sent unsigned over TLS, as the AWS SDKs do (the
    /// default).
    #[default]
    Auto,
    /// In-memory bodies are signed; streamed bodies are sent `UNSIGNED-PAYLOAD` even over
    /// plain `http://` (for stores that do not accept aws-chunked bodies).
    InMemoryBodies,
    /// Every body is signed: in-memory bodies by their hash, streamed bodies chunk by chunk,
    /// over TLS too.
    Always,
    /// No body is signed, plain `http://` included: least CPU, integrity left to TLS and
    /// checksums.
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
    /// The largest backoff ceiling; also the most a server's `Retry-After` hint is obeyed.
    pub max_backoff: Duration,
    /// The retry budget shared by every request of a client, in tokens: a retry costs 5
    /// (10 after a timeout), a success gives back what its last retry cost (or 1 when it
    /// needed none). When the budget is spent, failures are returned without retrying, so a storm
    /// of throttling cannot multiply the load (the AWS SDKs' standard mode; default 500).
    pub budget: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
            budget: 500,
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

    /// The same policy with another retry budget (see [`budget`](Self::budget)).
    #[must_use]
    pub fn with_budget(self, tokens: u32) -> Self {
        Self {
            budget: tokens,
            ..self
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
            return Err(bad("user info must be split off first"));
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
        Self::aws_host(format!("s3.{region}.amazonaws.com"))
    }

    /// An AWS endpoint host over https.
    pub(crate) fn aws_host(host: String) -> Self {
        Endpoint {
            scheme: Scheme::Https,
            host,
            port: None,
            is_aws: true,
        }
    }

    fn is_ip(&self) -> bool {
        self.host.starts_with('[') || self.host.parse::<std::net::Ipv4Addr>().is_ok()
    }

    pub(crate) fn is_loopback(&self) -> bool {
        let h = self.host.as_str();
        h == "localhost"
            || h.ends_with(".localhost")
            || h.strip_prefix('[')
                .and_then(|v6| v6.strip_suffix(']'))
                .and_then(|v6| v6.parse::<std::net::Ipv6Addr>().ok())
                .is_some_and(|ip| ip.is_loopback())
            || h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// How the client finds a proxy.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// Honour `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (the default), except
    /// for loopback endpoints, which are always reached directly.
    #[default]
    FromEnvironment,
    /// Connect directly, whatever the environment says.
    None,
    /// Send everything through this proxy URL.
    Url(String),
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyConfig::FromEnvironment => f.write_str("FromEnvironment"),
            ProxyConfig::None => f.write_str("None"),
            // A proxy URL may carry a password.
            ProxyConfig::Url(u) => match u.split_once("://") {
                Some((scheme, rest)) if rest.contains('@') => {
                    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                    write!(f, "Url({scheme}://** redacted **@{host})")
                }
                _ => write!(f, "Url({u})"),
            },
        }
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
    /// How to wait before a retry; `None` is tokio's timer.
    pub(crate) sleep: Option<Arc<dyn AsyncSleep>>,
    /// Random numbers for jitter; `None` is the built-in generator.
    pub(crate) jitter: Option<Arc<dyn JitterSource>>,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) max_error_body: usize,
    pub(crate) root_certificates: Vec<Vec<u8>>,
    pub(crate) proxy: ProxyConfig,
    /// The checksum uploads carry unless a request chooses otherwise.
    pub(crate) request_checksum: Option<ChecksumAlgorithm>,
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
    endpoint: Option<String>,
    /// Credentials found in the endpoint's user info (`http://KEY:SECRET@host`).
    url_credentials: Option<Credentials>,
    /// An endpoint whose user info could not be split, reported by `build`.
    endpoint_error: Option<Error>,
    /// The provider `load_env` found, used when nothing more explicit is set.
    env_credentials: Option<Arc<dyn ProvideCredentials>>,
    region: Option<String>,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    addressing: Option<AddressingStyle>,
    payload_signing: PayloadSigning,
    retry: Option<RetryConfig>,
    clock: Arc<dyn Clock>,
    sleep: Option<Arc<dyn AsyncSleep>>,
    jitter: Option<Arc<dyn JitterSource>>,
    connect_timeout: Duration,
    read_timeout: Duration,
    pool_max_idle_per_host: usize,
    allow_http: bool,
    dual_stack: bool,
    accelerate: bool,
    root_certificates: Vec<Vec<u8>>,
    proxy: ProxyConfig,
    /// `None`: not set (the default, or what `load_env` finds); `Some(None)`: set to none.
    request_checksum: Option<Option<ChecksumAlgorithm>>,
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
        }
    }
}

/// Splits `scheme://user:pass@host…` into the URL without user info and the credentials.
///
/// The host part starts after the last `@`, so a secret with a raw `/` still splits cleanly
/// (endpoints have no path, so an `@` can only belong to user info). User info without both a
/// key and a secret is refused. Errors never quote the URL: it may hold a secret.
fn split_userinfo(url: &str) -> Result<(String, Option<Credentials>)> {
    let Some((scheme, rest)) = url.split_once("://") else {
        if url.contains('@') {
            return Err(Error::invalid_input(
                "endpoint URL with user info has no scheme (the URL is not shown: it may hold a secret)",
            ));
        }
        return Ok((url.to_owned(), None));
    };
    let Some(at) = rest.rfind('@') else {
        return Ok((url.to_owned(), None));
    };
    let userinfo = &rest[..at];
    let host_part = &rest[at + 1..];
    let stripped = format!("{scheme}://{host_part}");
    let decode = |s: &str| -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if b[i] == b'%'
                && let (Some(h), Some(l)) = (
                    b.get(i + 1).and_then(|c| hex(*c)),
                    b.get(i + 2).and_then(|c| hex(*c)),
                )
            {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    match userinfo.split_once(':') {
        Some((user, pass)) if !user.is_empty() && !pass.is_empty() => {
            Ok((stripped, Some(Credentials::new(decode(user), decode(pass)))))
        }
        _ => Err(Error::invalid_input(
            "endpoint user info must be KEY:SECRET, both non-empty and percent-encoded \
             (the URL is not shown: it may hold a secret)",
        )),
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
            Ok((url, creds)) => {
                self.endpoint = Some(url);
                self.url_credentials = creds;
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
    /// The profile is `AWS_PROFILE`, else `default`.
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
        let env: crate::credentials::env::Env = Arc::new(crate::credentials::env::ProcessEnv);
        self.load_from(env).await
    }

    pub(crate) async fn load_from(mut self, env: crate::credentials::env::Env) -> Result<Self> {
        let profile = crate::credentials::load_profile_config(&env, None).await?;
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
            let chain = crate::credentials::DefaultChain::with_env(&env);
            self.env_credentials = Some(Arc::new(crate::credentials::CachedProvider::new(chain)));
        }
        Ok(self)
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
        let config = Config {
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
            root_certificates: self.root_certificates,
            proxy: self.proxy,
            request_checksum: self.request_checksum.flatten(),
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

    use crate::credentials::env::{Env, MapEnv};

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
                .config()
                .request_checksum
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

    #[tokio::test]
    async fn credentials_in_the_endpoint_url_are_used_and_never_printed() {
        // A raw '/' in the secret (common in AWS secrets) still splits at the last '@'.
        let b = ClientBuilder::new().endpoint("http://AKIDURL:SECRET/CANARY%2B@127.0.0.1:9000");
        assert_eq!(b.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        let dbg = format!("{b:?}");
        assert!(!dbg.contains("CANARY") && !dbg.contains("AKIDURL"), "{dbg}");
        let client = b.build().unwrap();
        let creds = client
            .config()
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
            .config()
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
            .config()
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
    fn every_loopback_form_is_loopback() {
        for url in [
            "http://127.0.0.1:1",
            "http://127.3.2.1",
            "http://[::1]:1",
            "http://[0:0:0:0:0:0:0:1]",
            "http://localhost:9",
        ] {
            assert!(Endpoint::parse(url).unwrap().is_loopback(), "{url}");
        }
        assert!(!Endpoint::parse("http://10.0.0.1").unwrap().is_loopback());
    }

    #[test]
    fn aws_endpoint_variants() {
        let c = |b: ClientBuilder| {
            let client = b.credentials(Credentials::new("a", "b")).build().unwrap();
            let e = &client.config().endpoint;
            (e.host.clone(), client.config().addressing)
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
