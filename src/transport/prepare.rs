//! One attempt's request, before it is sent: a fresh body, the payload mode (hashed,
//! aws-chunked, unsigned), and the signed wire request.

use super::chunked;
use super::idle::{self, Activity, Tracked};
use crate::body::{Body, BodyKind};
use crate::config::PayloadSigning;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::request::{OpRequest, Target};
use crate::signing::{PayloadHash, SignableRequest, SignedHeaders, Signer};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, header};
use std::pin::Pin;
use std::time::SystemTime;
use tokio::sync::oneshot;

/// How the body of a request takes part in its signature.
#[derive(Debug)]
pub(super) enum Payload {
    /// Sent as is, with this `x-amz-content-sha256`.
    Whole(PayloadHash),
    /// aws-chunked, signed chunk by chunk and/or with a trailing checksum.
    Chunked(chunked::Framing),
}

/// Chooses the payload mode of `req` (see [`PayloadSigning`]), for an endpoint reached over
/// TLS or not.
pub(super) fn payload_mode(tls: bool, signing: PayloadSigning, req: &OpRequest) -> Payload {
    let sign_streams = match signing {
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
        Some(_) if signing == PayloadSigning::Never => Payload::Whole(PayloadHash::Unsigned),
        Some(b) if b.is_empty() => Payload::Whole(PayloadHash::EMPTY),
        Some(b) => Payload::Whole(PayloadHash::of(b)),
        None if sign_streams => Payload::Chunked(chunked::Framing {
            signed: true,
            trailer: None,
        }),
        None => Payload::Whole(PayloadHash::Unsigned),
    }
}

/// One attempt's request as it goes on the wire.
pub(super) struct WireRequest {
    pub(super) headers: HeaderMap,
    pub(super) body: reqwest::Body,
    /// Receives the trailing checksum's value once the body was sent (aws-chunked with a
    /// trailer only).
    pub(super) trailer: Option<oneshot::Receiver<String>>,
}

/// Builds one attempt's wire request: the headers to sign (host, lengths, the aws-chunked
/// headers, the operation's own), the signature for `now`, and the body framed as `payload`
/// says. Pure: no I/O and no clock; the body is already open.
pub(super) fn prepare(
    signer: &Signer,
    creds: &Credentials,
    now: SystemTime,
    req: &OpRequest,
    target: &Target,
    payload: &Payload,
    (body, len): (Source, u64),
) -> Result<WireRequest> {
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
    let (signed, body, trailer) = match payload {
        Payload::Whole(hash) => (
            signer.sign_headers(creds, now, &signable, hash),
            body.into_reqwest(),
            None,
        ),
        Payload::Chunked(framing) => {
            let mode = match (framing.signed, framing.trailer.is_some()) {
                (true, false) => PayloadHash::StreamingSigned,
                (true, true) => PayloadHash::StreamingSignedTrailer,
                (false, _) => PayloadHash::StreamingUnsignedTrailer,
            };
            let signed = signer.sign_headers(creds, now, &signable, &mode);
            let chunk_signer = framing.signed.then(|| signer.chunk_signer(creds, &signed));
            let (tx, rx) = match framing.trailer {
                Some(_) => {
                    let (tx, rx) = oneshot::channel();
                    (Some(tx), Some(rx))
                }
                None => (None, None),
            };
            let stream =
                chunked::AwsChunked::new(body.into_stream(), chunk_signer, framing.trailer, tx);
            (signed, reqwest::Body::wrap_stream(stream), rx)
        }
    };

    let mut headers = HeaderMap::with_capacity(sign_headers.len() + 4);
    for &(n, v) in &sign_headers {
        let value = HeaderValue::from_str(v).map_err(|_| bad_value(n))?;
        headers.append(header_name(n)?, value);
    }
    // The signature's headers: names known, the owned values moved in (not copied).
    let SignedHeaders {
        authorization,
        amz_date,
        content_sha256,
        security_token,
    } = signed;
    let moved = [
        (header::AUTHORIZATION, "authorization", Some(authorization)),
        (
            HeaderName::from_static("x-amz-date"),
            "x-amz-date",
            Some(amz_date),
        ),
        (
            HeaderName::from_static("x-amz-content-sha256"),
            "x-amz-content-sha256",
            Some(content_sha256),
        ),
        (
            HeaderName::from_static("x-amz-security-token"),
            "x-amz-security-token",
            security_token,
        ),
    ];
    for (name, n, value) in moved {
        if let Some(v) = value {
            let mut v = HeaderValue::try_from(v).map_err(|_| bad_value(n))?;
            // Marked secret: kept out of header compression tables (HTTP/2) and of any
            // `Debug` of the request that prints headers.
            if name == header::AUTHORIZATION || n == "x-amz-security-token" {
                v.set_sensitive(true);
            }
            headers.append(name, v);
        }
    }
    Ok(WireRequest {
        headers,
        body,
        trailer,
    })
}

/// The name of a header to send: those of every signed request without a parse or a copy,
/// others parsed.
fn header_name(n: &str) -> Result<HeaderName> {
    Ok(match n {
        "host" => header::HOST,
        "content-length" => header::CONTENT_LENGTH,
        "x-amz-decoded-content-length" => HeaderName::from_static("x-amz-decoded-content-length"),
        "content-encoding" => header::CONTENT_ENCODING,
        _ => HeaderName::from_bytes(n.as_bytes())
            .map_err(|_| Error::invalid_input(format!("bad header name {n:?}")))?,
    })
}

fn bad_value(name: &str) -> Error {
    Error::invalid_input(format!("bad value for header {name}"))
}

/// In-memory bodies larger than this are sent in slices of this size, so that the idle
/// timeout sees them progress.
const BODY_SLICE: usize = 256 * 1024;

/// The bytes of one attempt's body: whole, or a stream of chunks.
pub(super) enum Source {
    Whole(Bytes),
    Chunks(Pin<Box<dyn futures_core::Stream<Item = std::io::Result<Bytes>> + Send>>),
}

impl Source {
    pub(super) fn into_stream(
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

/// A fresh body for one attempt (a `Bytes` clone, a file reopened at its offset, or the
/// stream, which can be taken once), its length, and the activity tracker it reports to.
pub(super) async fn open_body(body: &Body) -> Result<(Source, u64, Activity)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::ChecksumAlgorithm as Alg;
    use crate::endpoint::{Endpoint, Scheme};

    fn mode(endpoint: &str, signing: PayloadSigning, body: Body, trailer: Option<Alg>) -> String {
        let tls = Endpoint::parse(endpoint).unwrap().scheme == Scheme::Https;
        let mut req = OpRequest::new("PutObject", http::Method::PUT).body(body);
        req.trailer_checksum = trailer;
        match payload_mode(tls, signing, &req) {
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
