//! A sink S3 server for benchmarks: in memory, no signature check, keep-alive, TCP_NODELAY.
//! GET (with Range) is served from one preallocated buffer, PUT bodies are read and dropped,
//! multipart calls are accepted, ListObjectsV2 answers one prebuilt 1000-key page. The key
//! `big` is the whole buffer; every other key is its first 4 KiB. It measures the client,
//! not a store.

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
    let object = if req.uri().path().ends_with("/big") {
        object
    } else {
        object.slice(..object.len().min(4096))
    };
    let method = req.method().clone();
    let range = req
        .headers()
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Read and drop the request body.
    let mut body = req.into_body();
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            break;
        }
    }
    let resp = match method.as_str() {
        "GET" if query.contains("list-type=2") => xml(list_page_cached()),
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
