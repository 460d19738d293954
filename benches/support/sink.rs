//! A sink S3 server for benchmarks: in memory, no signature check, keep-alive, TCP_NODELAY.
//! GET (with Range) is served from one preallocated buffer, PUT bodies are read and dropped,
//! multipart calls are accepted, ListObjectsV2 without a prefix answers one prebuilt 1000-key
//! page. The key `big` is the whole buffer; every other key is its first 4 KiB. It measures
//! the client, not a store.
//!
//! Two virtual data sets for the directory workloads, nothing stored: [`files_count`] objects
//! `files/dDDDD/fNNNNNN.bin` of [`file_size`] bytes (4-64 KiB, a function of the index), and
//! [`many_count`] keys `many/PPPP/NNNNNNN` (1000 a "directory"). A ListObjectsV2 with a prefix lists them (`prefix`,
//! `max-keys` up to 1000, `continuation-token`, `start-after`, with `KeyCount`,
//! `IsTruncated` and `NextContinuationToken`); a GET or HEAD of a `files/` key answers its
//! size (ranges too); a PUT of any key ending in `/fNNNNNN.bin` must carry [`file_size`]
//! bytes (the decoded length for aws-chunked bodies), or it is refused with a 400.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Serves forever on `listener`; every GET reads from `object`.
pub(crate) async fn serve(listener: TcpListener, object: Bytes) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        let _ = sock.set_nodelay(true);
        let object = object.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, object.clone()));
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(sock), svc)
                .await;
        });
    }
}

/// Binds 127.0.0.1:0 and serves in the background.
pub(crate) async fn start(object: Bytes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, object));
    addr
}

/// Every object's modification time.
const LAST_MODIFIED: &str = "Wed, 01 May 2024 12:00:00 GMT";

fn etag() -> &'static str {
    "\"0123456789abcdef0123456789abcdef\""
}

async fn handle(
    req: Request<Incoming>,
    object: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let query = req.uri().query().unwrap_or("").to_owned();
    // The index of a `.../fNNNNNN.bin` key: a file of the directory workloads.
    let file = file_index(req.uri().path());
    let object = if req.uri().path().ends_with("/big") {
        object
    } else if let Some(i) = file.filter(|_| req.uri().path().contains("/files/")) {
        file_data().slice(..file_size(i) as usize)
    } else {
        object.slice(..object.len().min(4096))
    };
    let method = req.method().clone();
    let range = req
        .headers()
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let decoded_len: Option<u64> = req
        .headers()
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    // Read and drop the request body, counting it.
    let mut body = req.into_body();
    let mut received = 0u64;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => received += f.data_ref().map_or(0, |d| d.len() as u64),
            Err(_) => break,
        }
    }
    // A directory workload's file must arrive whole (multipart parts are not checked).
    if method == "PUT"
        && !query.contains("partNumber=")
        && let Some(i) = file
        && decoded_len.unwrap_or(received) != file_size(i)
    {
        let resp = Response::builder()
            .status(400)
            .header("content-type", "application/xml")
            .body(Full::new(Bytes::from(format!(
                "<Error><Code>BadDigest</Code><Message>file {i}: {} bytes, expected {}</Message></Error>",
                decoded_len.unwrap_or(received),
                file_size(i)
            ))))
            .expect("response");
        return Ok(resp);
    }
    let resp = match method.as_str() {
        "GET" if query.contains("list-type=2") => match Listing::parse(&query) {
            Some(l) => xml(l.page()),
            None => xml(list_page_cached()),
        },
        "GET" => {
            let total = object.len();
            match range.as_deref().and_then(|r| parse_range(r, total)) {
                Some((s, e)) => Response::builder()
                    .status(206)
                    .header("etag", etag())
                    .header("last-modified", LAST_MODIFIED)
                    .header("content-range", format!("bytes {s}-{e}/{total}"))
                    .body(Full::new(object.slice(s..=e))),
                None => Response::builder()
                    .status(200)
                    .header("etag", etag())
                    .header("last-modified", LAST_MODIFIED)
                    .body(Full::new(object)),
            }
            .expect("response")
        }
        "HEAD" => Response::builder()
            .header("etag", etag())
            .header("last-modified", LAST_MODIFIED)
            .header("content-length", object.len())
            .body(Full::new(Bytes::new()))
            .expect("response"),
        "POST" if query.contains("uploads") => xml(
            "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>SINK</UploadId></InitiateMultipartUploadResult>"
                .to_owned(),
        ),
        "POST" => xml(
            "<CompleteMultipartUploadResult><ETag>\"sink-etag\"</ETag></CompleteMultipartUploadResult>".to_owned(),
        ),
        _ => Response::builder()
            .header("etag", etag())
            .body(Full::new(Bytes::new()))
            .expect("response"),
    };
    Ok(resp)
}

fn xml(s: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", "application/xml")
        .body(Full::new(s.into()))
        .expect("response")
}

fn parse_range(h: &str, total: usize) -> Option<(usize, usize)> {
    let (a, b) = h.strip_prefix("bytes=")?.split_once('-')?;
    let s: usize = a.parse().ok()?;
    let e: usize = if b.is_empty() {
        total - 1
    } else {
        b.parse().ok()?
    };
    (s < total).then(|| (s, e.min(total - 1)))
}

/// [`list_page`], built once.
fn list_page_cached() -> Bytes {
    static PAGE: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    PAGE.get_or_init(|| Bytes::from(list_page())).clone()
}

/// A 1000-key ListObjectsV2 page (not truncated).
pub(crate) fn list_page() -> String {
    let mut s = String::with_capacity(300_000);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix></Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>");
    for i in 0..1000 {
        s.push_str(&format!(
            "<Contents><Key>photos/2024/{i:06}.jpg</Key><LastModified>2024-05-01T12:00:00.000Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            1000 + i
        ));
    }
    s.push_str("</ListBucketResult>");
    s
}

// ---------------------------------------------------------------------------------------
// The directory workloads' data sets.

fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Objects under `files/` (`ASYNC_S3_BENCH_FILES`, default 10,000, at most 999,999).
pub(crate) fn files_count() -> u64 {
    env_count("ASYNC_S3_BENCH_FILES", 10_000).clamp(1, 999_999)
}

/// Keys under `many/` (`ASYNC_S3_BENCH_KEYS`, default 100,000), a whole number of 1000-key
/// pages.
pub(crate) fn many_count() -> u64 {
    (env_count("ASYNC_S3_BENCH_KEYS", 100_000) / 1000).clamp(1, 9_999) * 1000
}

/// The size of file `i`: 4 KiB to 64 KiB, spread by a multiplicative hash of the index.
pub(crate) fn file_size(i: u64) -> u64 {
    4096 + i.wrapping_mul(2_654_435_761) % (60 * 1024 + 1)
}

/// The path of file `i` relative to the data set's root (`/`-separated): 100 files a
/// directory. Zero-padded, so the order of the names is the order of the indexes.
pub(crate) fn file_rel(i: u64) -> String {
    format!("d{:04}/f{i:06}.bin", i / 100)
}

/// The index of a path or key ending in `/fNNNNNN.bin`.
pub(crate) fn file_index(path: &str) -> Option<u64> {
    let name = path.rsplit('/').next()?;
    let digits = name.strip_prefix('f')?.strip_suffix(".bin")?;
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// 64 KiB that every `files/` object is a prefix of.
fn file_data() -> Bytes {
    static DATA: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    DATA.get_or_init(|| Bytes::from(vec![0x66u8; 64 << 10]))
        .clone()
}

/// A listable data set: `count` keys, `key(i)` increasing with `i`.
struct DataSet {
    prefix: &'static str,
    count: u64,
    key: fn(u64) -> String,
    size: fn(u64) -> u64,
}

fn files_key(i: u64) -> String {
    format!("files/{}", file_rel(i))
}
fn many_key(i: u64) -> String {
    format!("many/{:04}/{i:07}", i / 1000)
}
fn many_size(i: u64) -> u64 {
    1000 + i % 1000
}

fn data_sets() -> [DataSet; 2] {
    [
        DataSet {
            prefix: "files/",
            count: files_count(),
            key: files_key,
            size: file_size,
        },
        DataSet {
            prefix: "many/",
            count: many_count(),
            key: many_key,
            size: many_size,
        },
    ]
}

impl DataSet {
    /// The first index whose key is >= `bound` (or > it when `strict`).
    fn lower_bound(&self, bound: &str, strict: bool) -> u64 {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let k = (self.key)(mid);
            let before = if strict {
                k.as_str() <= bound
            } else {
                k.as_str() < bound
            };
            if before {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// A ListObjectsV2 request with a prefix, over the data sets.
#[derive(Debug, Default)]
struct Listing {
    prefix: String,
    max_keys: u64,
    token: Option<String>,
    start_after: Option<String>,
    url: bool,
}

/// Percent-decodes a query value (`+` is a space).
fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(x)) => {
                out.push(x);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes text for an XML element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Listing {
    /// The listing `query` asks for, or None when it has no prefix and no paging (the
    /// fixed page of the `list` workload answers those).
    fn parse(query: &str) -> Option<Listing> {
        let mut l = Listing {
            max_keys: 1000,
            ..Listing::default()
        };
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v);
            match k {
                "prefix" => l.prefix = v,
                "max-keys" => l.max_keys = v.parse::<u64>().unwrap_or(1000).clamp(1, 1000),
                "continuation-token" => l.token = Some(v),
                "start-after" => l.start_after = Some(v),
                "encoding-type" => l.url = v == "url",
                _ => {}
            }
        }
        (!l.prefix.is_empty() || l.token.is_some() || l.start_after.is_some()).then_some(l)
    }

    /// The answer: a page of the data set the prefix falls in (an empty page when none).
    fn page(&self) -> String {
        let sets = data_sets();
        let set = sets
            .iter()
            .find(|d| d.prefix.starts_with(&self.prefix) || self.prefix.starts_with(d.prefix));
        let mut keys = Vec::new();
        let mut next = None;
        if let Some(d) = set {
            let mut i = d.lower_bound(&self.prefix, false);
            if let Some(sa) = &self.start_after {
                i = i.max(d.lower_bound(sa, true));
            }
            if let Some(t) = &self.token {
                i = i.max(
                    t.strip_prefix("idx-")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(u64::MAX),
                );
            }
            while i < d.count {
                let k = (d.key)(i);
                if !k.starts_with(&self.prefix) {
                    break;
                }
                if keys.len() as u64 == self.max_keys {
                    next = Some(i);
                    break;
                }
                keys.push((k, (d.size)(i)));
                i += 1;
            }
        }
        let mut s = String::with_capacity(300 + keys.len() * 200);
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bench</Name>");
        s.push_str(&format!("<Prefix>{}</Prefix>", escape(&self.prefix)));
        if let Some(t) = &self.token {
            s.push_str(&format!(
                "<ContinuationToken>{}</ContinuationToken>",
                escape(t)
            ));
        }
        if let Some(sa) = &self.start_after {
            s.push_str(&format!("<StartAfter>{}</StartAfter>", escape(sa)));
        }
        s.push_str(&format!(
            "<KeyCount>{}</KeyCount><MaxKeys>{}</MaxKeys>",
            keys.len(),
            self.max_keys
        ));
        if self.url {
            s.push_str("<EncodingType>url</EncodingType>");
        }
        match next {
            Some(n) => s.push_str(&format!(
                "<IsTruncated>true</IsTruncated><NextContinuationToken>idx-{n}</NextContinuationToken>"
            )),
            None => s.push_str("<IsTruncated>false</IsTruncated>"),
        }
        // The keys are made of [a-z0-9/.], the same with or without URL encoding.
        for (k, size) in keys {
            s.push_str(&format!(
                "<Contents><Key>{k}</Key><LastModified>2024-05-01T12:00:00.000Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            ));
        }
        s.push_str("</ListBucketResult>");
        s
    }
}
