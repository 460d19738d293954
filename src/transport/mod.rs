//! The only module that knows reqwest: sends a request, signing it afresh for every attempt,
//! classifies failures and retries the transient ones with full-jitter backoff.

mod chunked;
mod idle;
mod retry;
pub(crate) mod simple;

use crate::body::{Body, BodyKind};
use crate::config::{Config, PayloadSigning, ProxyConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{OpRequest, target};
use crate::signing::{PayloadHash, SignableRequest, Signer};
use crate::xml;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use idle::{Activity, Tracked};
use std::pin::Pin;
use std::time::Duration;

pub(crate) use retry::RetryState;

/// A response body stream.
pub(crate) type ByteStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<Bytes>> + Send + 'static>>;

/// The HTTP client and retry state, shared by all clones of a [`Client`](crate::Client).
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    policy: retry::Policy,
    /// How far the server's clock is ahead of ours, in milliseconds, learned from the `Date`
    /// of a `RequestTimeTooSkewed` answer; added to the clock for every signature.
    skew_ms: std::sync::atomic::AtomicI64,
}

/// A successful response: status, headers and a body still to be read.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    body: ResponseBody,
    /// The longest wait for one body chunk.
    read_timeout: Duration,
}

#[derive(Debug)]
enum ResponseBody {
    Streaming(reqwest::Response),
    Buffered(Bytes),
}

impl Response {
    /// Reads the whole body, refusing more than `limit` bytes.
    pub(crate) async fn bytes_limited(self, limit: usize) -> Result<Bytes> {
        match self.body {
            ResponseBody::Buffered(b) => Ok(b),
            ResponseBody::Streaming(r) => read_limited(r, limit, self.read_timeout).await,
        }
    }

    /// The body as a stream of chunks; errors carry the transport cause.
    pub(crate) fn into_stream(self) -> ByteStream {
        match self.body {
            ResponseBody::Buffered(b) => {
                Box::pin(futures_util::stream::iter((!b.is_empty()).then_some(Ok(b))))
            }
            ResponseBody::Streaming(r) => {
                let limit = self.read_timeout;
                Box::pin(futures_util::stream::unfold(Some(r), move |r| async move {
                    let mut r = r?;
                    match next_chunk(&mut r, limit).await {
                        Ok(Some(c)) => Some((Ok(c), Some(r))),
                        Ok(None) => None,
                        Err(e) => Some((Err(e), None)),
                    }
                }))
            }
        }
    }
}

/// The next body chunk, or a retryable timeout when none comes within `limit`.
async fn next_chunk(r: &mut reqwest::Response, limit: Duration) -> Result<Option<Bytes>> {
    match tokio::time::timeout(limit, r.chunk()).await {
        Ok(c) => c.map_err(|e| transport_error(&e, true)),
        Err(_) => Err(idle_timeout("the response body stalled")),
    }
}

fn idle_timeout(what: &str) -> Error {
    Error::new(ErrorKind::Timeout)
        .with_message(format!("{what}: no data within the read timeout"))
        .with_retryable(true)
}

async fn read_limited(mut r: reqwest::Response, limit: usize, idle: Duration) -> Result<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = next_chunk(&mut r, idle).await? {
        if buf.len() + chunk.len() > limit {
            return Err(Error::invalid_response(format!(
                "response body is larger than the {limit}-byte cap"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Maps a reqwest error to ours, walking the sources for the real cause.
fn transport_error(e: &reqwest::Error, idempotent: bool) -> Error {
    if let Some(msg) = wrong_length(e) {
        return Error::invalid_input(msg);
    }
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    // A connection that could not be made carried nothing: always safe to retry. Anything
    // else may have reached the server, so only idempotent requests go again.
    let retryable = e.is_connect() || idempotent;
    let detail = if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "no data within the read timeout"
    } else if e.is_body() || e.is_decode() {
        "the connection broke during the body"
    } else {
        "the request failed"
    };
    Error::new(kind)
        .with_message(detail)
        .with_retryable(retryable)
        .with_source(WithoutUrl(chain_text(e)))
}

/// The message of a [`chunked::WrongLength`] in the error's chain: a body that did not keep
/// to its length is the caller's error, not a transport failure, and is not retried.
fn wrong_length(e: &reqwest::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = cur {
        if let Some(w) = err.downcast_ref::<chunked::WrongLength>() {
            return Some(w.0.clone());
        }
        // An `io::Error` hides what it wraps from `source()`.
        if let Some(w) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<chunked::WrongLength>())
        {
            return Some(w.0.clone());
        }
        cur = err.source();
    }
    None
}

/// The error chain as one line, without the URL (which may carry query parameters).
fn chain_text(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(e) = cur {
        parts.push(e.to_string());
        cur = e.source();
    }
    if parts.is_empty() {
        parts.push("reqwest error".to_owned());
    }
    parts.join(": ")
}

/// The underlying transport failure, as text (the reqwest error itself stays private).
#[derive(Debug)]
struct WithoutUrl(String);

impl std::fmt::Display for WithoutUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WithoutUrl {}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .tcp_nodelay(true)
            // Objects stored with Content-Encoding: gzip are bytes to us: never decode them,
            // whatever features another crate turns on in reqwest.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .user_agent(concat!("async-s3/", env!("CARGO_PKG_VERSION")));
        for pem in &config.root_certificates {
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
        builder = match &config.proxy {
            // A server on this machine is never reached through a proxy.
            ProxyConfig::FromEnvironment if config.endpoint.is_loopback() => builder.no_proxy(),
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
        Ok(Self {
            http,
            policy: retry::Policy::new(config),
            skew_ms: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// Sends `req`, retrying transient failures; each attempt is signed at send time. The
    /// retry bookkeeping continues in `state`: attempts already made count toward the limit,
    /// and the attempt numbers (and the backoff) go on from there.
    pub(crate) async fn execute_in(
        &self,
        config: &Config,
        signer: &Signer,
        req: &OpRequest,
        state: &mut RetryState,
    ) -> Result<Response> {
        let ctx =
            |e: Error| e.with_context(req.operation, req.bucket.as_deref(), req.key.as_deref());
        let target = target(
            &config.endpoint,
            config.addressing,
            req.bucket.as_deref(),
            req.key.as_deref(),
        );
        let url = {
            let mut u = String::with_capacity(
                8 + target.host.len() + target.path.len() + 1 + req.query.as_str().len(),
            );
            u.push_str(config.endpoint.scheme.as_str());
            u.push_str("://");
            u.push_str(&target.host);
            u.push_str(&target.path);
            if !req.query.is_empty() {
                u.push('?');
                u.push_str(req.query.as_str());
            }
            u
        };
        let payload = payload_mode(config, req);
        let replayable = req.body.is_replayable();
        loop {
            state.attempts += 1;
            let started = std::time::Instant::now();
            let result = self
                .attempt(config, signer, req, &target, &url, &payload)
                .await;
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
            // Each of these gets one immediate extra attempt per request; the extra attempts
            // do not count toward `max_attempts`, `attempts()` still reports every request.
            match e.s3_code() {
                // The clock offset was learned from the answer: sign again (TEST-PLAN R4).
                Some("RequestTimeTooSkewed") if !state.skew_fixed && replayable => {
                    state.skew_fixed = true;
                    state.extra += 1;
                    retry::log_immediate_retry(&e, state.attempts);
                    continue;
                }
                // Credentials expired early: fetch new ones once (TEST-PLAN R5).
                Some("ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired")
                    if !state.creds_refreshed && replayable =>
                {
                    state.creds_refreshed = true;
                    config.credentials.invalidate();
                    tracing::debug!(
                        target: "async_s3::credentials",
                        provider = config.credentials.name(),
                        "cached credentials dropped: the service said they expired"
                    );
                    state.extra += 1;
                    retry::log_immediate_retry(&e, state.attempts);
                    continue;
                }
                _ => {}
            }
            if !self.policy.pause_before_retry(state, &e, replayable).await {
                return Err(e.with_attempts(state.attempts));
            }
        }
    }

    /// The shared retry decision, for a failure found after `execute_in` returned (a response
    /// body that broke off): whether to try again, after the backoff, paid from the budget.
    pub(crate) async fn pause_before_retry(&self, state: &mut RetryState, e: &Error) -> bool {
        self.policy.pause_before_retry(state, e, true).await
    }

    /// A request whose response body was read to the end: its last retry is paid back (for
    /// states made with [`RetryState::for_body`]).
    pub(crate) fn succeeded(&self, state: &mut RetryState) {
        self.policy.succeeded(state);
    }

    /// Our clock, corrected by what the server taught us.
    pub(crate) fn now(&self, config: &Config) -> std::time::SystemTime {
        let skew = self.skew_ms.load(std::sync::atomic::Ordering::Relaxed);
        let now = config.clock.now();
        if skew >= 0 {
            now + Duration::from_millis(skew.unsigned_abs())
        } else {
            now - Duration::from_millis(skew.unsigned_abs())
        }
    }

    /// Learns the clock offset from the `Date` of a skew error.
    fn learn_skew(&self, config: &Config, headers: &HeaderMap) {
        let Some(server) = headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::ops::meta::http_date)
        else {
            return;
        };
        let local = config.clock.now();
        let ms = match server.duration_since(local) {
            Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
            Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
        };
        self.skew_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(
            target: "async_s3::clock",
            skew_ms = ms,
            "the server's clock differs from ours: signing with the corrected time"
        );
    }

    async fn attempt(
        &self,
        config: &Config,
        signer: &Signer,
        req: &OpRequest,
        target: &crate::request::Target,
        url: &str,
        payload: &Payload,
    ) -> Result<Response> {
        let creds = config.credentials.provide_credentials().await?;
        let (body, len, activity) = request_body(&req.body).await?;

        let (len_str, decoded_len_str, content_encoding);
        let mut sign_headers: Vec<(&str, &str)> = Vec::with_capacity(req.headers.len() + 5);
        sign_headers.push(("host", &target.host));
        let wire_len = match payload {
            Payload::Whole(_) => len,
            Payload::Chunked(framing) => chunked::encoded_len(len, *framing),
        };
        if req.method != http::Method::GET && req.method != http::Method::HEAD {
            len_str = wire_len.to_string();
            sign_headers.push(("content-length", &len_str));
        }
        if let Payload::Chunked(framing) = payload {
            decoded_len_str = len.to_string();
            sign_headers.push(("x-amz-decoded-content-length", &decoded_len_str));
            // aws-chunked comes first; an encoding of the object itself (gzip) follows it.
            content_encoding = match req.headers.iter().find(|(n, _)| n == "content-encoding") {
                Some((_, v)) => format!("aws-chunked,{v}"),
                None => "aws-chunked".to_owned(),
            };
            sign_headers.push(("content-encoding", &content_encoding));
            if let Some(alg) = framing.trailer {
                sign_headers.push(("x-amz-trailer", alg.header_name()));
                // Content-MD5 is never a trailer (put_object refuses it for streams).
                if let Some(name) = alg.amz_name() {
                    sign_headers.push(("x-amz-sdk-checksum-algorithm", name));
                }
            }
        }
        for (n, v) in &req.headers {
            if matches!(payload, Payload::Chunked(_)) && n == "content-encoding" {
                continue;
            }
            sign_headers.push((n, v));
        }
        let signable = SignableRequest {
            method: req.method.as_str(),
            path: &target.path,
            query: req.query.as_str(),
            headers: &sign_headers,
        };
        let now = self.now(config);
        let (signed, body) = match payload {
            Payload::Whole(hash) => (
                signer.sign_headers(&creds, now, &signable, hash),
                body.into_reqwest(),
            ),
            Payload::Chunked(framing) => {
                let mode = match (framing.signed, framing.trailer.is_some()) {
                    (true, false) => PayloadHash::StreamingSigned,
                    (true, true) => PayloadHash::StreamingSignedTrailer,
                    (false, _) => PayloadHash::StreamingUnsignedTrailer,
                };
                let signed = signer.sign_headers(&creds, now, &signable, &mode);
                let chunk_signer = framing.signed.then(|| signer.chunk_signer(&creds, &signed));
                let stream = chunked::AwsChunked::new(
                    body.into_stream(),
                    chunk_signer,
                    framing.trailer,
                    req.trailer_sent.clone(),
                );
                (signed, reqwest::Body::wrap_stream(stream))
            }
        };

        let mut headers = HeaderMap::with_capacity(sign_headers.len() + 4);
        for (n, v) in sign_headers.iter().copied().chain(signed.iter()) {
            let name = http::HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| Error::invalid_input(format!("bad header name {n:?}")))?;
            let value = http::HeaderValue::from_str(v)
                .map_err(|_| Error::invalid_input(format!("bad value for header {n}")))?;
            headers.append(name, value);
        }

        let send = self
            .http
            .request(req.method.clone(), url)
            .headers(headers)
            .body(body)
            .send();
        let sent = tokio::select! {
            r = send => r,
            () = activity.idle_for(config.read_timeout) => {
                return Err(idle_timeout("the request").with_retryable(req.idempotent));
            }
        };
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return Err(transport_error(&e, req.idempotent)),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let request_id = headers
            .get("x-amz-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);

        if (200..300).contains(&status) {
            if !req.error_in_200 {
                return Ok(Response {
                    status,
                    headers,
                    body: ResponseBody::Streaming(resp),
                    read_timeout: config.read_timeout,
                });
            }
            let body = read_limited(resp, 16 << 20, config.read_timeout).await?;
            if xml::is_error_document(&body) {
                let s3 = xml::parse_error(&body);
                let mut e = Error::from_response(status, s3)
                    .with_message("the 200 response carried an error document");
                e.set_request_id_if_missing(request_id.as_deref());
                let retryable = retry::is_retryable_code(e.s3_code());
                return Err(e.with_retryable(retryable));
            }
            return Ok(Response {
                status,
                headers,
                body: ResponseBody::Buffered(body),
                read_timeout: config.read_timeout,
            });
        }

        // An error answer: read a bounded amount of it and classify.
        let body = if req.method == http::Method::HEAD {
            Bytes::new()
        } else {
            read_error_body(resp, config.max_error_body, config.read_timeout).await
        };
        let s3 = xml::parse_error(&body);
        let mut e = Error::from_response(status, s3);
        if e.s3_code().is_none() && !body.is_empty() {
            let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            e = e.with_message(format!("unexpected error body: {}", snippet.trim()));
        }
        e.set_request_id_if_missing(request_id.as_deref());
        if e.s3_code() == Some("RequestTimeTooSkewed") {
            self.learn_skew(config, &headers);
        }
        let retryable = retry::is_retryable_status(status) || retry::is_retryable_code(e.s3_code());
        Err(e
            .with_retryable(retryable)
            .with_retry_after(retry::retry_after(&headers)))
    }
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

/// Reads at most `limit` bytes of an error body; a body that breaks is cut short, not fatal.
async fn read_error_body(mut r: reqwest::Response, limit: usize, idle: Duration) -> Bytes {
    let mut buf = BytesMut::new();
    while let Ok(Some(chunk)) = next_chunk(&mut r, idle).await {
        let room = limit.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= limit {
            break;
        }
    }
    buf.freeze()
}

/// In-memory bodies larger than this are sent in slices of this size, so that the idle
/// timeout sees them progress.
const BODY_SLICE: usize = 256 * 1024;

/// The bytes of one attempt's body: whole, or a stream of chunks.
enum Source {
    Whole(Bytes),
    Chunks(Pin<Box<dyn futures_core::Stream<Item = std::io::Result<Bytes>> + Send>>),
}

impl Source {
    fn into_stream(
        self,
    ) -> Pin<Box<dyn futures_core::Stream<Item = std::io::Result<Bytes>> + Send>> {
        match self {
            Source::Whole(b) => {
                Box::pin(futures_util::stream::iter((!b.is_empty()).then_some(Ok(b))))
            }
            Source::Chunks(s) => s,
        }
    }

    fn into_reqwest(self) -> reqwest::Body {
        match self {
            Source::Whole(b) => reqwest::Body::from(b),
            Source::Chunks(s) => reqwest::Body::wrap_stream(s),
        }
    }
}

/// A fresh body for one attempt, its length, and the activity tracker it reports to.
async fn request_body(body: &Body) -> Result<(Source, u64, Activity)> {
    match &body.kind {
        BodyKind::Bytes(b) if b.len() <= BODY_SLICE => Ok((
            Source::Whole(b.clone()),
            b.len() as u64,
            Activity::new(b.len() as u64),
        )),
        BodyKind::Bytes(b) => {
            let activity = Activity::new(b.len() as u64);
            let s = Tracked {
                inner: idle::slices(b.clone(), BODY_SLICE),
                activity: activity.clone(),
            };
            Ok((Source::Chunks(Box::pin(s)), b.len() as u64, activity))
        }
        BodyKind::File { path, offset, len } => {
            use tokio::io::{AsyncReadExt, AsyncSeekExt};
            let open_err = |e| Error::io(format!("cannot read {}", path.display()), e);
            let mut file = tokio::fs::File::open(path).await.map_err(open_err)?;
            let size = file.metadata().await.map_err(open_err)?.len();
            let len = match len {
                Some(l) => {
                    if offset.saturating_add(*l) > size {
                        return Err(Error::invalid_input(format!(
                            "{} has {size} bytes, fewer than the {l} asked for at offset {offset}",
                            path.display()
                        )));
                    }
                    *l
                }
                None => size.saturating_sub(*offset),
            };
            if *offset > 0 {
                file.seek(std::io::SeekFrom::Start(*offset))
                    .await
                    .map_err(open_err)?;
            }
            let reader = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
            let activity = Activity::new(len);
            let s = Tracked {
                // A file that shrinks while it is sent ends early: an error, not a short body.
                inner: chunked::ExactLen::new(reader, len),
                activity: activity.clone(),
            };
            Ok((Source::Chunks(Box::pin(s)), len, activity))
        }
        BodyKind::Stream { stream, len } => {
            let s = stream
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .ok_or_else(|| {
                    Error::invalid_input("a stream body can be sent once only and was used")
                })?;
            let activity = Activity::new(*len);
            let s = Tracked {
                inner: chunked::ExactLen::new(s, *len),
                activity: activity.clone(),
            };
            Ok((Source::Chunks(Box::pin(s)), *len, activity))
        }
    }
}

/// How the body of a request takes part in its signature.
#[derive(Debug)]
enum Payload {
    /// Sent as is, with this `x-amz-content-sha256`.
    Whole(PayloadHash),
    /// aws-chunked, signed chunk by chunk and/or with a trailing checksum.
    Chunked(chunked::Framing),
}

/// Chooses the payload mode of `req` (see [`PayloadSigning`]).
fn payload_mode(config: &Config, req: &OpRequest) -> Payload {
    let tls = config.endpoint.scheme == crate::config::Scheme::Https;
    let sign_streams = match config.payload_signing {
        PayloadSigning::Always => true,
        PayloadSigning::Auto => !tls,
        PayloadSigning::InMemoryBodies | PayloadSigning::Never => false,
    };
    if let Some(alg) = req.trailer_checksum {
        return Payload::Chunked(chunked::Framing {
            signed: sign_streams,
            trailer: Some(alg),
        });
    }
    match req.body.as_bytes() {
        Some(_) if config.payload_signing == PayloadSigning::Never => {
            Payload::Whole(PayloadHash::Unsigned)
        }
        Some(b) if b.is_empty() => Payload::Whole(PayloadHash::EMPTY),
        Some(b) => Payload::Whole(PayloadHash::of(b)),
        None if sign_streams => Payload::Chunked(chunked::Framing {
            signed: true,
            trailer: None,
        }),
        None => Payload::Whole(PayloadHash::Unsigned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::ChecksumAlgorithm as Alg;

    fn mode(endpoint: &str, signing: PayloadSigning, body: Body, trailer: Option<Alg>) -> String {
        let client = crate::Client::builder()
            .endpoint(endpoint)
            .allow_http(true)
            .credentials(crate::Credentials::new("AKID", "secret"))
            .payload_signing(signing)
            .build()
            .unwrap();
        let mut req = OpRequest::new("PutObject", http::Method::PUT).body(body);
        req.trailer_checksum = trailer;
        match payload_mode(client.config(), &req) {
            Payload::Whole(PayloadHash::Sha256(_)) => "sha256".to_owned(),
            Payload::Whole(h) => h.header_value(),
            Payload::Chunked(f) => format!(
                "chunked {} {}",
                if f.signed { "signed" } else { "unsigned" },
                f.trailer.map_or("-", |a| a.header_name())
            ),
        }
    }

    /// Every combination of scheme, setting, body kind and trailer picks the documented mode.
    #[test]
    fn payload_mode_table() {
        let file = || Body::from_file("/nonexistent");
        let mem = || Body::from("abc");
        let (http, https) = ("http://example.com", "https://example.com");
        use PayloadSigning::*;
        let cases: &[(&str, PayloadSigning, bool, Option<Alg>, &str)] = &[
            (http, Auto, true, None, "sha256"),
            (http, Auto, false, None, "chunked signed -"),
            (https, Auto, false, None, "UNSIGNED-PAYLOAD"),
            (https, Auto, true, None, "sha256"),
            (
                http,
                Auto,
                false,
                Some(Alg::Crc32c),
                "chunked signed x-amz-checksum-crc32c",
            ),
            (
                https,
                Auto,
                false,
                Some(Alg::Crc32c),
                "chunked unsigned x-amz-checksum-crc32c",
            ),
            (http, InMemoryBodies, false, None, "UNSIGNED-PAYLOAD"),
            (http, InMemoryBodies, true, None, "sha256"),
            (
                http,
                InMemoryBodies,
                false,
                Some(Alg::Sha1),
                "chunked unsigned x-amz-checksum-sha1",
            ),
            (https, Always, false, None, "chunked signed -"),
            (
                https,
                Always,
                false,
                Some(Alg::Crc64Nvme),
                "chunked signed x-amz-checksum-crc64nvme",
            ),
            (https, Always, true, None, "sha256"),
            (http, Never, true, None, "UNSIGNED-PAYLOAD"),
            (http, Never, false, None, "UNSIGNED-PAYLOAD"),
            (
                http,
                Never,
                false,
                Some(Alg::Crc32),
                "chunked unsigned x-amz-checksum-crc32",
            ),
        ];
        for (endpoint, signing, in_memory, trailer, want) in cases {
            let body = if *in_memory { mem() } else { file() };
            let got = mode(endpoint, *signing, body, *trailer);
            assert_eq!(
                &got, want,
                "{endpoint} {signing:?} in_memory={in_memory} {trailer:?}"
            );
        }
    }
}
