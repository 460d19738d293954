//! The only module that knows reqwest. Its two layers:
//!
//! - the plain HTTP client the credential providers use ([`simple`]), with the reqwest error
//!   mapping ([`errors`]) and body reading ([`read`]) it shares with the executor;
//! - the signed executor ([`Transport`]): every attempt of a request is prepared (a fresh body,
//!   signed at send time: `prepare.rs`), sent under the idle timeout, classified into a response
//!   or an error, and the one retry decision ([`retry::Policy::decide`]) says what happens next,
//!   which [`Transport`] carries out (for requests and for download bodies alike).

mod chunked;
pub(crate) mod errors;
mod idle;
mod prepare;
// presigned POST (issue 11)
pub(crate) mod post;
pub(crate) mod read;
mod response;
mod retry;
// issue 13: the bandwidth cap on request bodies
pub(crate) mod simple;
mod throttle;

use crate::config::{PayloadSigning, ProxyConfig, RetryConfig};
use crate::credentials::ProvideCredentials;
use crate::endpoint::{AddressingStyle, Endpoint, Scheme};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{OpRequest, Target, authority, target_at};
use crate::runtime::{AsyncSleep, Clock, JitterSource};
use crate::signing::{CanonicalQuery, SignableRequest, Signer};
use crate::xml;
use errors::{WithoutUrl, chain_text, idle_timeout, transport_error};
use http::HeaderMap;
use idle::Activity;
use prepare::{Payload, WireRequest, open_body, payload_mode, prepare};
use read::{read_error_body, read_limited};
use response::ResponseBody;
use retry::Verdict;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

pub(crate) use response::{ByteStream, Response};
pub(crate) use retry::RetryState;

/// Everything the transport needs, validated once by the client builder.
#[derive(Debug)]
pub(crate) struct Settings {
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
    /// The most of an error answer's body that is read.
    pub(crate) max_error_body: usize,
    pub(crate) root_certificates: Vec<Vec<u8>>,
    pub(crate) proxy: ProxyConfig,
    /// The client-wide bandwidth cap (issue 13), on request and response bodies.
    pub(crate) max_bandwidth: Option<crate::bandwidth::Limiter>,
    /// The client's adaptive concurrency (issue 13): told of every answer here, used by
    /// the transfers.
    pub(crate) congestion: Arc<crate::congestion::Congestion>,
    /// The throughput transfers aim for, in bits per second (their default concurrency).
    pub(crate) target_throughput: Option<u64>,
}

/// The signed executor shared by all clones of a [`Client`](crate::Client): the HTTP client,
/// the signer, the retry policy and the learned clock offset.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    settings: Settings,
    signer: Signer,
    policy: retry::Policy,
    /// How far the server's clock is ahead of ours, in milliseconds, learned from the `Date`
    /// of a `RequestTimeTooSkewed` answer; added to the clock for every signature.
    skew_ms: AtomicI64,
    /// The endpoint's `host[:port]`, worked out once.
    authority: String,
    /// `scheme://host[:port]/`, parsed once: the URL of every path-style request is this
    /// one with its path and query set, so the host is not parsed again per request.
    base_url: Option<reqwest::Url>,
}

impl Transport {
    /// Builds the HTTP client once, from the settings.
    pub(crate) fn new(settings: Settings) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .tcp_nodelay(true)
            // Objects stored with Content-Encoding: gzip are bytes to us: never decode them,
            // whatever features another crate turns on in reqwest.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .user_agent(concat!("async-s3/", env!("CARGO_PKG_VERSION")));
        if settings.endpoint.scheme == Scheme::Http || cfg!(not(feature = "http2")) {
            // reqwest's own retries are for HTTP/2 refusals (GOAWAY, REFUSED_STREAM), and plain
            // http is always HTTP/1.1 here (no prior knowledge): off, so that reqwest does not
            // copy every request in case it has to send it again. Over https, where ALPN may
            // pick HTTP/2 (feature `http2`), they stay on. Our own retry policy is unchanged either way.
            builder = builder.retry(reqwest::retry::never().max_retries_per_request(0));
        }
        for pem in &settings.root_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::invalid_input("a root certificate is not valid PEM")
                    .with_source(WithoutUrl(chain_text(&e)))
            })?;
            if certs.is_empty() {
                return Err(Error::invalid_input(
                    "a root certificate holds no PEM certificate",
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder = match &settings.proxy {
            // A server on this machine is never reached through a proxy.
            ProxyConfig::FromEnvironment if settings.endpoint.is_loopback() => builder.no_proxy(),
            ProxyConfig::FromEnvironment => builder,
            ProxyConfig::None => builder.no_proxy(),
            ProxyConfig::Url(url) => {
                let proxy = reqwest::Proxy::all(url.as_str())
                    .map_err(|_| Error::invalid_input("the proxy URL is not valid"))?;
                builder.proxy(proxy)
            }
        };
        let http = builder.build().map_err(|e| {
            Error::new(ErrorKind::Transport)
                .with_message("cannot build the HTTP client")
                .with_source(WithoutUrl(chain_text(&e)))
        })?;
        let (authority, base_url) = endpoint_parts(&settings.endpoint);
        Ok(Self {
            http,
            signer: Signer::new(settings.region.clone(), "s3"),
            policy: retry::Policy::new(
                settings.retry,
                settings.sleep.clone(),
                settings.jitter.clone(),
            ),
            authority,
            base_url,
            settings,
            skew_ms: AtomicI64::new(0),
        })
    }

    /// The settings the transport was built with.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends `req`, retrying transient failures; each attempt is signed at send time. The
    /// retry bookkeeping continues in `state`: attempts already made count toward the limit,
    /// and the attempt numbers (and the backoff) go on from there.
    pub(crate) async fn execute_in(
        &self,
        req: &OpRequest,
        state: &mut RetryState,
    ) -> Result<Response> {
        let ctx =
            |e: Error| e.with_context(req.operation, req.bucket.as_deref(), req.key.as_deref());
        let target = self.target(req.bucket.as_deref(), req.key.as_deref());
        let url = match self.request_url(&target, req.query.as_str()) {
            Some(parsed) => Url::Parsed(parsed),
            None => Url::Text(self.url(&target, req.query.as_str())),
        };
        let payload = payload_mode(
            self.settings.endpoint.scheme == Scheme::Https,
            self.settings.payload_signing,
            req,
        );
        let replayable = req.body.is_replayable();
        state.conflict_is_final = req.conflict_is_final;
        loop {
            state.attempts += 1;
            let started = std::time::Instant::now();
            let result = self.attempt(req, &target, &url, &payload).await;
            log_attempt(req, state.attempts, &result, started.elapsed());
            let e = match result {
                Ok(resp) => {
                    if !state.body_counts {
                        self.policy.succeeded(state);
                    }
                    return Ok(resp);
                }
                Err(e) => ctx(e),
            };
            let mut e = e;
            let verdict = self.policy.decide(state, &mut e, replayable);
            if !self.follow(verdict, &e, state).await {
                return Err(e.with_attempts(state.attempts));
            }
        }
    }

    /// The shared retry decision, for a failure found after `execute_in` returned (a response
    /// body that broke off): whether to try again, carried out as for a request (the backoff
    /// waited out and paid from the budget, or credentials dropped before signing again).
    pub(crate) async fn pause_before_retry(&self, state: &mut RetryState, e: &mut Error) -> bool {
        let verdict = self.policy.decide(state, e, true);
        self.follow(verdict, e, state).await
    }

    /// Carries out a retry verdict: `false` for [`Verdict::Stop`]; otherwise the credentials
    /// are dropped (expired ones) or the backoff is waited out, and `true`.
    async fn follow(&self, verdict: Verdict, e: &Error, state: &RetryState) -> bool {
        match verdict {
            Verdict::Stop => false,
            Verdict::Resign {
                refresh_credentials,
            } => {
                if refresh_credentials {
                    self.settings.credentials.invalidate();
                    tracing::debug!(
                        target: "async_s3::credentials",
                        provider = self.settings.credentials.name(),
                        "cached credentials dropped: the service said they expired"
                    );
                }
                retry::log_immediate_retry(e, state.attempts);
                true
            }
            Verdict::Backoff(delay) => {
                self.policy.sleep(delay).await;
                true
            }
        }
    }

    /// A request whose response body was read to the end: its last retry is paid back (for
    /// states made with [`RetryState::for_body`]).
    pub(crate) fn succeeded(&self, state: &mut RetryState) {
        self.policy.succeeded(state);
    }

    /// Our clock, corrected by what the server taught us.
    pub(crate) fn now(&self) -> SystemTime {
        let skew = self.skew_ms.load(Ordering::Relaxed);
        let now = self.settings.clock.now();
        if skew >= 0 {
            now + Duration::from_millis(skew.unsigned_abs())
        } else {
            now - Duration::from_millis(skew.unsigned_abs())
        }
    }

    /// A presigned URL for `method` on `bucket`/`key`, dated by the corrected clock: the
    /// credentials are asked for, nothing is sent.
    ///
    /// # Errors
    ///
    /// `Credentials` when none can be had; `InvalidInput` for an expiry the signer refuses.
    pub(crate) async fn presign(
        &self,
        method: &str,
        (bucket, key): (&str, &str),
        query: &CanonicalQuery,
        headers: &[(String, String)],
        expires_in_secs: u64,
    ) -> Result<String> {
        let creds = self.settings.credentials.provide_credentials().await?;
        let t = self.target(Some(bucket), Some(key));
        let mut signed: Vec<(&str, &str)> = vec![("host", t.host.as_str())];
        signed.extend(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let req = SignableRequest {
            method,
            path: &t.path,
            query: query.as_str(),
            headers: &signed,
        };
        let qs = self
            .signer
            .presign_query(&creds, self.now(), expires_in_secs, &req)
            .map_err(|e| Error::invalid_input(e.to_string()))?;
        Ok(self.url(&t, &qs))
    }

    fn target(&self, bucket: Option<&str>, key: Option<&str>) -> Target {
        target_at(
            &self.settings.endpoint,
            &self.authority,
            self.settings.addressing,
            bucket,
            key,
        )
    }

    /// `scheme://host/path?query`, the query left off when empty.
    fn url(&self, target: &Target, query: &str) -> String {
        let mut u =
            String::with_capacity(8 + target.host.len() + target.path.len() + 1 + query.len());
        u.push_str(self.settings.endpoint.scheme.as_str());
        u.push_str("://");
        u.push_str(&target.host);
        u.push_str(&target.path);
        if !query.is_empty() {
            u.push('?');
            u.push_str(query);
        }
        u
    }

    /// The URL of a request to the endpoint's own host (path-style) built from the parsed
    /// endpoint URL: the same URL as [`url`](Self::url)'s text parsed, without parsing the
    /// scheme and host again. `None` for another host (virtual-hosted style).
    fn request_url(&self, target: &Target, query: &str) -> Option<reqwest::Url> {
        let base = self.base_url.as_ref()?;
        if target.host != self.authority {
            return None;
        }
        let mut u = base.clone();
        u.set_path(&target.path);
        if !query.is_empty() {
            u.set_query(Some(query));
        }
        Some(u)
    }

    /// One attempt: fresh credentials and body, prepared and signed now, sent, classified.
    async fn attempt(
        &self,
        req: &OpRequest,
        target: &Target,
        url: &Url,
        payload: &Payload,
    ) -> Result<Response> {
        let creds = self.settings.credentials.provide_credentials().await?;
        let (body, len, activity) = open_body(&req.body).await?;
        let limits = [&self.settings.max_bandwidth, &req.body.limit];
        let limits = limits.into_iter().flatten().cloned().collect();
        let body = throttle::throttle(body, limits, &activity);
        let wire = prepare(
            &self.signer,
            &creds,
            self.now(),
            req,
            target,
            payload,
            (body, len),
        )?;
        let WireRequest {
            headers,
            body,
            trailer,
        } = wire;
        let resp = self.send(req, url, headers, body, &activity).await?;
        // The body was read to its end before the service answered: the trailer was sent.
        let trailer_checksum = trailer.and_then(|mut rx| rx.try_recv().ok());
        self.classify(req, resp, trailer_checksum).await
    }

    /// Sends the wire request; a stall of the body or of the wait for the answer is an idle
    /// timeout.
    async fn send(
        &self,
        req: &OpRequest,
        url: &Url,
        headers: HeaderMap,
        body: reqwest::Body,
        activity: &Activity,
    ) -> Result<reqwest::Response> {
        // The signed headers are moved in whole (`RequestBuilder::headers` would insert them
        // one by one into an empty map).
        let builder = match url {
            Url::Parsed(u) => self.http.request(req.method.clone(), u.clone()),
            Url::Text(u) => self.http.request(req.method.clone(), u.as_str()),
        };
        let mut request = builder
            .body(body)
            .build()
            .map_err(|e| transport_error(&e, req.idempotent))?;
        *request.headers_mut() = headers;
        let send = self.http.execute(request);
        let sent = tokio::select! {
            r = send => r,
            () = activity.idle_for(self.settings.read_timeout) => {
                return Err(idle_timeout("the request").with_retryable(req.idempotent));
            }
        };
        sent.map_err(|e| transport_error(&e, req.idempotent))
    }

    /// A 2xx answer is a response (its body checked first when a 200 may hide an `<Error>`);
    /// anything else becomes an error from a bounded read of its body, classified by the
    /// error table (kind, retryable), with the server's retry hint. A clock-skew answer
    /// teaches the clock offset.
    async fn classify(
        &self,
        req: &OpRequest,
        mut resp: reqwest::Response,
        trailer_checksum: Option<String>,
    ) -> Result<Response> {
        let read_timeout = self.settings.read_timeout;
        let status = resp.status().as_u16();
        // Moved out, not copied: the body is read without them.
        let headers = std::mem::take(resp.headers_mut());
        let request_id = || crate::headers::request_id(&headers);

        if (200..300).contains(&status) {
            self.settings.congestion.healthy();
            let body = if req.error_in_200 {
                let body = read_limited(resp, 16 << 20, read_timeout).await?;
                if xml::is_error_document(&body) {
                    let mut e = Error::from_response(status, xml::parse_error(&body))
                        .with_message("the 200 response carried an error document");
                    e.set_request_id_if_missing(request_id().as_deref());
                    return Err(e);
                }
                ResponseBody::Buffered(body)
            } else {
                ResponseBody::Streaming(resp)
            };
            return Ok(Response {
                status,
                headers,
                trailer_checksum,
                body,
                read_timeout,
                limit: self.settings.max_bandwidth.clone(),
            });
        }

        // An error answer: read a bounded amount of it and classify.
        let body = if req.method == http::Method::HEAD {
            bytes::Bytes::new()
        } else {
            read_error_body(resp, self.settings.max_error_body, read_timeout).await
        };
        let mut e = Error::from_response(status, xml::parse_error(&body));
        if e.s3_code().is_none() && !body.is_empty() {
            let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            e = e.with_message(format!("unexpected error body: {}", snippet.trim()));
        }
        e.set_request_id_if_missing(request_id().as_deref());
        if crate::headers::header(&headers, "x-amz-delete-marker")
            .is_some_and(|v| v.trim() == "true")
        {
            e.set_delete_marker(crate::headers::header_string(&headers, "x-amz-version-id"));
        }
        if e.s3_code() == Some("RequestTimeTooSkewed") {
            self.learn_skew(&headers);
        }
        if e.kind() == ErrorKind::Throttled {
            self.settings.congestion.throttled();
        }
        Err(e.with_retry_after(retry::retry_after(&headers)))
    }

    /// Learns the clock offset from the `Date` of a skew error.
    fn learn_skew(&self, headers: &HeaderMap) {
        let Some(server) =
            crate::headers::header(headers, "date").and_then(crate::headers::http_date)
        else {
            return;
        };
        let local = self.settings.clock.now();
        let ms = match server.duration_since(local) {
            Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
            Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
        };
        self.skew_ms.store(ms, Ordering::Relaxed);
        tracing::warn!(
            target: "async_s3::clock",
            skew_ms = ms,
            "the server's clock differs from ours: signing with the corrected time"
        );
    }
}

/// The endpoint's `host[:port]`, and `scheme://host[:port]/` parsed once (the base of every
/// path-style request's URL; `None` if it does not parse, and requests then go as text).
fn endpoint_parts(endpoint: &Endpoint) -> (String, Option<reqwest::Url>) {
    let authority = authority(endpoint);
    let base = reqwest::Url::parse(&format!("{}://{authority}/", endpoint.scheme.as_str())).ok();
    (authority, base)
}

/// A request's URL: parsed already, or text for reqwest to parse.
enum Url {
    Parsed(reqwest::Url),
    Text(String),
}

/// One debug event per attempt: what was sent, and how it ended. Never headers, query or
/// body: those can hold a signature, a session token or a presigned query.
fn log_attempt(req: &OpRequest, attempt: u32, result: &Result<Response>, elapsed: Duration) {
    let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let bucket = req.bucket.as_deref().unwrap_or_default();
    let key = req.key.as_deref().unwrap_or_default();
    match result {
        Ok(resp) => tracing::debug!(
            target: "async_s3::attempt",
            operation = req.operation,
            method = req.method.as_str(),
            bucket,
            key,
            attempt,
            status = resp.status,
            elapsed_ms,
            "attempt answered"
        ),
        Err(e) => tracing::debug!(
            target: "async_s3::attempt",
            operation = req.operation,
            method = req.method.as_str(),
            bucket,
            key,
            attempt,
            status = e.status(),
            error = ?e.kind(),
            code = e.s3_code(),
            elapsed_ms,
            "attempt failed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{Credentials, CredentialsFuture};
    use std::sync::atomic::AtomicU32;

    /// Counts how often the cached credentials were dropped.
    #[derive(Debug, Default)]
    struct Counting(AtomicU32);

    impl ProvideCredentials for Counting {
        fn provide_credentials(&self) -> CredentialsFuture<'_> {
            Box::pin(async { Ok(Credentials::new("AKID", "secret")) })
        }

        fn invalidate(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn transport(credentials: Arc<Counting>) -> Transport {
        Transport::new(Settings {
            endpoint: Endpoint::parse("http://127.0.0.1:9").unwrap(),
            region: "us-east-1".into(),
            credentials,
            addressing: AddressingStyle::Auto,
            payload_signing: PayloadSigning::Auto,
            retry: RetryConfig::with_max_attempts(3),
            clock: Arc::new(crate::runtime::SystemClock),
            sleep: None,
            jitter: None,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
            pool_max_idle_per_host: 1,
            max_error_body: 1024,
            root_certificates: Vec::new(),
            proxy: ProxyConfig::None,
            max_bandwidth: None,
            congestion: Arc::default(),
            target_throughput: None,
        })
        .unwrap()
    }

    fn transport_at(endpoint: &str, credentials: Arc<Counting>) -> Transport {
        let mut t = transport(credentials);
        t.settings.endpoint = Endpoint::parse(endpoint).unwrap();
        (t.authority, t.base_url) = endpoint_parts(&t.settings.endpoint);
        t
    }

    /// The URL set from the parsed endpoint URL is the URL its text parses to, for any key
    /// and query; another host's (virtual-hosted style) is parsed whole.
    #[test]
    fn urls_from_the_parsed_endpoint_equal_parsed_text() {
        use proptest::prelude::*;
        let endpoints = [
            "http://127.0.0.1:9000",
            "https://s3.example.com",
            "http://[::1]:8080",
            "https://minio.local:9443",
        ];
        let check = |t: &Transport, bucket: Option<&str>, key: Option<&str>, q: &str| {
            let target = t.target(bucket, key);
            let text = t.url(&target, q);
            let parsed = t.request_url(&target, q).expect("path style");
            assert_eq!(parsed, reqwest::Url::parse(&text).unwrap(), "{text}");
            assert_eq!(parsed.as_str(), text, "{text}");
        };
        for ep in endpoints {
            let t = transport_at(ep, Arc::new(Counting::default()));
            check(&t, None, None, "");
            check(&t, Some("bkt"), None, "list-type=2&prefix=a%2Fb");
            check(
                &t,
                Some("b.k-t_1"),
                Some("a b/c+d/%/?#/\\/é/..x/~"),
                "uploads=",
            );
        }
        let aws = transport_at(
            "https://s3.eu-west-1.amazonaws.com",
            Arc::new(Counting::default()),
        );
        let mut t = aws;
        t.settings.endpoint = Endpoint::aws("eu-west-1");
        (t.authority, t.base_url) = endpoint_parts(&t.settings.endpoint);
        let target = t.target(Some("photos"), Some("k"));
        assert!(
            t.request_url(&target, "").is_none(),
            "virtual-hosted: parsed whole"
        );

        let t = transport_at("http://127.0.0.1:9000", Arc::new(Counting::default()));
        proptest!(ProptestConfig::with_cases(2000), |(
            key in r#"[a-zA-Z0-9 /%?#&=+.~_\\\-\t\x7f\u{e9}\u{1F600}\[\]{}|^`"'<>;:,@!$*()]{1,40}"#,
            params in proptest::collection::vec((r"[a-zA-Z%&= +/?#\u{e9}\-]{1,8}", r"[a-zA-Z0-9%&= +/?#\u{e9}\-]{0,8}"), 0..4),
        )| {
            // Keys with `.` or `..` segments never get here (`validate_key`).
            prop_assume!(crate::request::validate_key(&key).is_ok());
            let query = CanonicalQuery::new(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            check(&t, Some("bkt"), Some(&key), query.as_str());
        });
    }

    /// A failure met after the response (a download body) follows the same verdict as a
    /// request's: expired credentials are dropped once before signing again, then the
    /// ordinary rules apply (a 400 is final).
    #[tokio::test]
    async fn a_body_failure_follows_the_verdict_of_a_request() {
        let creds = Arc::new(Counting::default());
        let t = transport(creds.clone());
        let mut expired = Error::from_response(
            400,
            Some(crate::types::S3ErrorBody {
                code: Some("ExpiredToken".into()),
                ..Default::default()
            }),
        );
        let mut state = RetryState::for_body();
        state.attempts = 1;
        assert!(t.pause_before_retry(&mut state, &mut expired).await);
        assert_eq!(creds.0.load(Ordering::Relaxed), 1, "credentials dropped");
        state.attempts = 2;
        assert!(!t.pause_before_retry(&mut state, &mut expired).await);
        assert_eq!(creds.0.load(Ordering::Relaxed), 1, "only once per request");
    }
}
