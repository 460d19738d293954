//! The peers as [`BenchClient`]s, and the shared drivers their big transfers go through.

use crate::workloads::{BenchClient, CONCURRENCY, Fut, PART};
use bytes::Bytes;
use futures::StreamExt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};

pub(crate) const ACCESS_KEY: &str = "AKIDBENCH";
pub(crate) const SECRET_KEY: &str = "bench-secret";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const BUCKET: &str = "bench";

// ---------------------------------------------------------------------------------------
// Drivers for clients without a transfer engine. Each peer streams a range's body into the
// file as it arrives ([`RangeWriter`]) and sends each part from the file as its own API
// allows best (streamed where it can, else read once into one buffer).

/// File reads of a streamed part body are of this size, as async-s3 reads its file parts.
const READ_BLOCK: usize = 256 << 10;
/// Received chunks are written in batches of up to this many bytes, one vectored write on
/// the blocking pool each (a round trip per chunk would cost more than the bytes), as
/// async-s3's engine does.
const WRITE_BATCH: usize = 1 << 20;

/// Downloads `size` bytes into `path` with ranged GETs of [`PART`], [`CONCURRENCY`] in
/// flight, each range a task of its own: `get(start, end, writer)` streams the inclusive
/// range `start..=end` into `writer` (positioned at `start`) and hands it back; the driver
/// then checks that exactly the range's length was written.
async fn ranged_download<F>(path: &Path, size: u64, get: F)
where
    F: Fn(u64, u64, RangeWriter) -> Fut<'static, RangeWriter> + Send + Sync + 'static,
{
    let file = std::fs::File::create(path).expect("create destination");
    file.set_len(size).expect("set_len");
    drop(file);
    let get = Arc::new(get);
    let ranges = (0..size)
        .step_by(PART as usize)
        .map(move |off| (off, PART.min(size - off)));
    let mut tasks = tokio::task::JoinSet::new();
    for (off, len) in ranges {
        if tasks.len() == CONCURRENCY {
            tasks.join_next().await.expect("task").expect("range");
        }
        let (path, get) = (path.to_owned(), get.clone());
        tasks.spawn(async move {
            let writer = RangeWriter::open(path, off).await;
            let writer = get(off, off + len - 1, writer).await;
            let written = writer.finish().await.expect("write the range");
            assert_eq!(written, len, "range length");
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("range");
    }
}

/// The destination file opened for one range and positioned at its offset: chunks are
/// taken as they arrive and written in order, in batches of up to [`WRITE_BATCH`] bytes on
/// the blocking pool (one batch written while the next one fills). [`write`](Self::write)
/// takes a chunk without copying it; as an [`AsyncWrite`](tokio::io::AsyncWrite) (for APIs
/// that write into one) each slice is copied once.
pub(crate) struct RangeWriter {
    /// None while lent to the batch being written.
    file: Option<std::fs::File>,
    pending: Vec<Bytes>,
    pending_len: usize,
    /// Bytes handed to batches so far.
    written: u64,
    in_flight: Option<tokio::task::JoinHandle<BatchDone>>,
}

type BatchDone = (std::fs::File, std::io::Result<()>);

impl RangeWriter {
    async fn open(path: PathBuf, offset: u64) -> RangeWriter {
        use std::io::{Seek, SeekFrom};
        let file = tokio::task::spawn_blocking(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&path)?;
            f.seek(SeekFrom::Start(offset))?;
            Ok::<_, std::io::Error>(f)
        })
        .await
        .expect("open task")
        .expect("open the destination");
        RangeWriter {
            file: Some(file),
            pending: Vec::new(),
            pending_len: 0,
            written: 0,
            in_flight: None,
        }
    }

    /// Takes the next chunk of the range (no copy).
    pub(crate) async fn write(&mut self, chunk: Bytes) -> std::io::Result<()> {
        std::future::poll_fn(|cx| self.poll_in_flight(cx)).await?;
        self.push(chunk);
        Ok(())
    }

    /// Writes what is left; returns the bytes written in all.
    async fn finish(mut self) -> std::io::Result<u64> {
        std::future::poll_fn(|cx| self.poll_write_all(cx)).await?;
        Ok(self.written)
    }

    /// Holds `chunk`; starts a batch once [`WRITE_BATCH`] bytes are held. Only called with
    /// no batch in flight.
    fn push(&mut self, chunk: Bytes) {
        self.pending_len += chunk.len();
        self.pending.push(chunk);
        if self.pending_len >= WRITE_BATCH {
            self.start_batch();
        }
    }

    fn start_batch(&mut self) {
        let mut file = self.file.take().expect("no batch in flight");
        let batch = std::mem::take(&mut self.pending);
        self.written += self.pending_len as u64;
        self.pending_len = 0;
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            let r = write_all_chunks(&mut file, &batch);
            (file, r)
        }));
    }

    /// Ready once no batch is in flight (with the last batch's result).
    fn poll_in_flight(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let Some(h) = self.in_flight.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let (file, r) = std::task::ready!(Pin::new(h).poll(cx)).map_err(std::io::Error::other)?;
        self.in_flight = None;
        self.file = Some(file);
        Poll::Ready(r)
    }

    /// Ready once every chunk held is written.
    fn poll_write_all(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_in_flight(cx))?;
        if self.pending.is_empty() {
            return Poll::Ready(Ok(()));
        }
        self.start_batch();
        self.poll_in_flight(cx)
    }
}

impl tokio::io::AsyncWrite for RangeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_in_flight(cx))?;
        this.push(Bytes::copy_from_slice(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut().poll_write_all(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut().poll_write_all(cx)
    }
}

/// `write_all` of a list of chunks at the file's position, with vectored writes.
fn write_all_chunks(f: &mut std::fs::File, chunks: &[Bytes]) -> std::io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Uploads a file of `size` bytes in parts of [`PART`], [`CONCURRENCY`] in flight, each
/// part a task of its own: `part(number, offset, len)` sends one part (reading or streaming
/// it from the file itself) and returns its ETag. Returns the (number, ETag) list in order.
async fn multipart_parts<F>(size: u64, part: F) -> Vec<(i32, String)>
where
    F: Fn(i32, u64, u64) -> Fut<'static, String> + Send + Sync + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    let ranges = (0..size)
        .step_by(PART as usize)
        .map(move |off| (off, PART.min(size - off)));
    let mut parts = Vec::new();
    for (i, (off, len)) in ranges.enumerate() {
        if tasks.len() == CONCURRENCY {
            parts.push(tasks.join_next().await.expect("task").expect("part"));
        }
        let n = i as i32 + 1;
        let fut = part(n, off, len);
        tasks.spawn(async move {
            let etag = fut.await;
            assert!(!etag.is_empty(), "part {n}: no ETag");
            (n, etag)
        });
    }
    while let Some(r) = tasks.join_next().await {
        parts.push(r.expect("part"));
    }
    parts.sort_unstable();
    parts
}

/// Reads `len` bytes at `offset` of the file at `path` into one buffer of exactly that
/// capacity (not zeroed first), on the blocking pool.
async fn read_part(path: PathBuf, offset: u64, len: u64) -> Vec<u8> {
    let buf = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(len as usize);
        f.take(len).read_to_end(&mut buf)?;
        Ok::<_, std::io::Error>(buf)
    })
    .await
    .expect("read task")
    .expect("read part");
    assert_eq!(buf.len() as u64, len, "part length");
    buf
}

// ---------------------------------------------------------------------------------------
// aws-sdk-s3

pub(crate) struct Aws {
    pub(crate) client: aws_sdk_s3::Client,
    pub(crate) unsigned: bool,
}

impl Aws {
    pub(crate) fn new(addr: &str, unsigned: bool, default_checksums: bool) -> Self {
        use aws_sdk_s3::config::{
            BehaviorVersion, Credentials, Region, RequestChecksumCalculation,
        };
        let mut conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(format!("http://{addr}"))
            .force_path_style(true)
            .credentials_provider(Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "bench",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http());
        if !default_checksums {
            conf = conf.request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        }
        Aws {
            client: aws_sdk_s3::Client::from_conf(conf.build()),
            unsigned,
        }
    }

    /// Streams the range `start..=end` into `w`, chunk by chunk as the body yields them.
    async fn range(
        client: aws_sdk_s3::Client,
        start: u64,
        end: u64,
        mut w: RangeWriter,
    ) -> RangeWriter {
        let mut out = client
            .get_object()
            .bucket(BUCKET)
            .key(crate::workloads::BIG_KEY)
            .range(format!("bytes={start}-{end}"))
            .send()
            .await
            .expect("aws-sdk-s3 get range");
        let want = i64::try_from(end - start + 1).expect("range length");
        assert_eq!(out.content_length(), Some(want), "aws-sdk-s3 range length");
        while let Some(chunk) = out.body.next().await {
            w.write(chunk.expect("aws-sdk-s3 body"))
                .await
                .expect("write the range");
        }
        w
    }

    /// Sends part `n` (`len` bytes at `offset` of the file at `path`). aws-sdk-s3 signs a
    /// body it holds in memory and sends a streamed body as `UNSIGNED-PAYLOAD`: the signed
    /// rows read the part into one buffer (so the payload is signed, as the other signed
    /// rows are), the unsigned rows stream it from the file with its own file body.
    async fn part(
        client: aws_sdk_s3::Client,
        unsigned: bool,
        upload_id: String,
        path: PathBuf,
        n: i32,
        offset: u64,
        len: u64,
    ) -> String {
        use aws_sdk_s3::primitives::{ByteStream, Length};
        let body = if unsigned {
            ByteStream::read_from()
                .path(&path)
                .offset(offset)
                .length(Length::Exact(len))
                .buffer_size(READ_BLOCK)
                .build()
                .await
                .expect("aws-sdk-s3 file body")
        } else {
            ByteStream::from(read_part(path, offset, len).await)
        };
        let req = client
            .upload_part()
            .bucket(BUCKET)
            .key(crate::workloads::BIG_KEY)
            .upload_id(upload_id)
            .part_number(n)
            .content_length(i64::try_from(len).expect("part length"))
            .body(body);
        let out = if unsigned {
            req.customize().disable_payload_signing().send().await
        } else {
            req.send().await
        };
        out.expect("aws-sdk-s3 upload part")
            .e_tag()
            .expect("etag")
            .to_owned()
    }
}

impl BenchClient for Aws {
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()> {
        Box::pin(async move {
            let req = self
                .client
                .put_object()
                .bucket(BUCKET)
                .key(key)
                .body(body.into());
            if self.unsigned {
                req.customize().disable_payload_signing().send().await
            } else {
                req.send().await
            }
            .expect("aws-sdk-s3 put");
        })
    }

    fn get(&self, key: String) -> Fut<'_, usize> {
        Box::pin(async move {
            let out = self
                .client
                .get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .expect("aws-sdk-s3 get");
            out.body.collect().await.expect("body").into_bytes().len()
        })
    }

    fn list_page(&self) -> Fut<'_, usize> {
        Box::pin(async move {
            let out = self
                .client
                .list_objects_v2()
                .bucket(BUCKET)
                .send()
                .await
                .expect("aws-sdk-s3 list");
            out.contents().len()
        })
    }

    fn download(
        &self,
        _key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        let client = self.client.clone();
        Box::pin(async move {
            ranged_download(&path, size, move |s, e, w| {
                Box::pin(Aws::range(client.clone(), s, e, w))
            })
            .await;
        })
    }

    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let client = self.client.clone();
        let unsigned = self.unsigned;
        Box::pin(async move {
            let created = client
                .create_multipart_upload()
                .bucket(BUCKET)
                .key(&key)
                .send()
                .await
                .expect("aws-sdk-s3 create");
            let id = created.upload_id().expect("upload id").to_owned();
            let (c, i) = (client.clone(), id.clone());
            let parts = multipart_parts(size, move |n, off, len| {
                let (c, i, p) = (c.clone(), i.clone(), path.clone());
                Box::pin(Aws::part(c, unsigned, i, p, n, off, len))
            })
            .await;
            let parts = parts
                .into_iter()
                .map(|(n, e)| CompletedPart::builder().part_number(n).e_tag(e).build())
                .collect();
            client
                .complete_multipart_upload()
                .bucket(BUCKET)
                .key(&key)
                .upload_id(id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .expect("aws-sdk-s3 complete");
        })
    }
}

// ---------------------------------------------------------------------------------------
// object_store

pub(crate) struct ObjStore {
    pub(crate) store: Arc<object_store::aws::AmazonS3>,
}

impl ObjStore {
    pub(crate) fn new(addr: &str, unsigned: bool) -> Self {
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(format!("http://{addr}"))
            .with_allow_http(true)
            .with_region(REGION)
            .with_bucket_name(BUCKET)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_unsigned_payload(unsigned)
            .build()
            .expect("object_store");
        ObjStore {
            store: Arc::new(store),
        }
    }
}

impl BenchClient for ObjStore {
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()> {
        use object_store::ObjectStoreExt;
        Box::pin(async move {
            self.store
                .put(&key.into(), body.into())
                .await
                .expect("object_store put");
        })
    }

    fn get(&self, key: String) -> Fut<'_, usize> {
        use object_store::ObjectStoreExt;
        Box::pin(async move {
            let got = self.store.get(&key.into()).await.expect("object_store get");
            got.bytes().await.expect("body").len()
        })
    }

    fn list_page(&self) -> Fut<'_, usize> {
        use object_store::ObjectStore;
        Box::pin(async move {
            let mut n = 0;
            let mut s = self.store.list(None);
            while let Some(m) = s.next().await {
                m.expect("object_store list");
                n += 1;
            }
            n
        })
    }

    fn download(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        use object_store::{GetOptions, ObjectStore};
        let store = self.store.clone();
        let location = object_store::path::Path::from(key);
        Box::pin(async move {
            ranged_download(&path, size, move |s, e, mut w| {
                let (store, location) = (store.clone(), location.clone());
                Box::pin(async move {
                    let opts = GetOptions::new().with_range(Some(s..e + 1));
                    let got = store
                        .get_opts(&location, opts)
                        .await
                        .expect("object_store get_opts");
                    assert_eq!(got.range, s..e + 1, "object_store range");
                    let mut body = got.into_stream();
                    while let Some(chunk) = body.next().await {
                        w.write(chunk.expect("object_store body"))
                            .await
                            .expect("write the range");
                    }
                    w
                })
            })
            .await;
        })
    }

    /// Through object_store's own concurrent multipart writer, [`WriteMultipart`]
    /// (object_store::WriteMultipart): at most [`CONCURRENCY`] parts in flight, each part
    /// read from the file into one buffer once there is room for it, then handed over
    /// whole (`put`, no copy). Its parts are numbered in the order they are handed over,
    /// so they are read one after another while the others are sent.
    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        use object_store::ObjectStoreExt;
        let store = self.store.clone();
        Box::pin(async move {
            let upload = store
                .put_multipart(&key.into())
                .await
                .expect("object_store put_multipart");
            let mut w = object_store::WriteMultipart::new_with_chunk_size(upload, PART as usize);
            for off in (0..size).step_by(PART as usize) {
                w.wait_for_capacity(CONCURRENCY)
                    .await
                    .expect("object_store part");
                let len = PART.min(size - off);
                w.put(Bytes::from(read_part(path.clone(), off, len).await));
            }
            w.finish().await.expect("object_store complete");
        })
    }
}

// ---------------------------------------------------------------------------------------
// rust-s3

pub(crate) struct RustS3 {
    pub(crate) bucket: Arc<s3::Bucket>,
}

impl RustS3 {
    pub(crate) fn new(addr: &str) -> Self {
        let region = s3::Region::Custom {
            region: REGION.to_owned(),
            endpoint: format!("http://{addr}"),
        };
        let creds =
            s3::creds::Credentials::new(Some(ACCESS_KEY), Some(SECRET_KEY), None, None, None)
                .expect("credentials");
        let bucket = s3::Bucket::new(BUCKET, region, creds)
            .expect("rust-s3")
            .with_path_style();
        RustS3 {
            bucket: Arc::from(bucket),
        }
    }
}

impl BenchClient for RustS3 {
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()> {
        Box::pin(async move {
            self.bucket
                .put_object(key, &body)
                .await
                .expect("rust-s3 put");
        })
    }

    fn get(&self, key: String) -> Fut<'_, usize> {
        Box::pin(async move {
            let r = self.bucket.get_object(key).await.expect("rust-s3 get");
            r.bytes().len()
        })
    }

    fn list_page(&self) -> Fut<'_, usize> {
        Box::pin(async move {
            let (page, _) = self
                .bucket
                .list_page(String::new(), None, None, None, None)
                .await
                .expect("rust-s3 list");
            page.contents.len()
        })
    }

    fn download(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        let bucket = self.bucket.clone();
        Box::pin(async move {
            // Its streaming ranged GET writes each chunk of the body into an AsyncWrite.
            ranged_download(&path, size, move |s, e, mut w| {
                let (bucket, key) = (bucket.clone(), key.clone());
                Box::pin(async move {
                    let status = bucket
                        .get_object_range_to_writer(&key, s, Some(e), &mut w)
                        .await
                        .expect("rust-s3 range");
                    assert_eq!(status, 206, "rust-s3 range status");
                    w
                })
            })
            .await;
        })
    }

    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        let bucket = self.bucket.clone();
        Box::pin(async move {
            let ct = "application/octet-stream";
            let created = bucket
                .initiate_multipart_upload(&key, ct)
                .await
                .expect("rust-s3 initiate");
            let id = created.upload_id.clone();
            let (b, k, i) = (bucket.clone(), key.clone(), id.clone());
            // A part is sent from a Vec it owns: read once into one buffer.
            let parts = multipart_parts(size, move |n, off, len| {
                let (b, k, i, p) = (b.clone(), k.clone(), i.clone(), path.clone());
                Box::pin(async move {
                    let data = read_part(p, off, len).await;
                    let part = b
                        .put_multipart_chunk(data, &k, n as u32, &i, ct)
                        .await
                        .expect("rust-s3 part");
                    part.etag
                })
            })
            .await;
            let parts = parts
                .into_iter()
                .map(|(n, etag)| s3::serde_types::Part {
                    part_number: n as u32,
                    etag,
                })
                .collect();
            bucket
                .complete_multipart_upload(&key, &id, parts)
                .await
                .expect("rust-s3 complete");
        })
    }
}

// ---------------------------------------------------------------------------------------
// raw hyper: the same HTTP requests without signing, XML or S3 logic.

pub(crate) type HyperClient =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, HBody>;

/// A request body: whole (every small request: not boxed, so the floor pays no more than a
/// plain `Full` body) or streamed (a part read from the file as it is sent).
pub(crate) type HBody = http_body_util::Either<
    http_body_util::Full<Bytes>,
    http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>,
>;

pub(crate) struct RawHyper {
    pub(crate) client: HyperClient,
    pub(crate) base: String,
}

impl RawHyper {
    pub(crate) fn new(addr: &str) -> Self {
        let mut conn = hyper_util::client::legacy::connect::HttpConnector::new();
        conn.set_nodelay(true);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(conn);
        RawHyper {
            client,
            base: format!("http://{addr}/{BUCKET}"),
        }
    }

    /// Sends one request with at most one extra header; checks the status is a success.
    async fn request(
        client: HyperClient,
        method: http::Method,
        uri: String,
        body: HBody,
        header: Option<(http::header::HeaderName, String)>,
    ) -> http::Response<hyper::body::Incoming> {
        let mut req = http::Request::builder().method(method).uri(uri);
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        let req = req.body(body).expect("request");
        let resp = client.request(req).await.expect("raw hyper");
        assert!(resp.status().is_success(), "status {}", resp.status());
        resp
    }

    pub(crate) async fn send(
        client: HyperClient,
        method: http::Method,
        uri: String,
        body: Bytes,
        range: Option<String>,
    ) -> (http::HeaderMap, Bytes) {
        use http_body_util::BodyExt;
        let body = http_body_util::Either::Left(http_body_util::Full::new(body));
        let range = range.map(|r| (http::header::RANGE, r));
        let resp = RawHyper::request(client, method, uri, body, range).await;
        let (parts, body) = resp.into_parts();
        (
            parts.headers,
            body.collect().await.expect("body").to_bytes(),
        )
    }
}

/// The body of `len` bytes at `offset` of the file at `path`: read in blocks of
/// [`READ_BLOCK`] on the blocking pool as hyper asks for them, each block one buffer of
/// its own (no copy).
fn file_body(path: PathBuf, offset: u64, len: u64) -> HBody {
    use http_body_util::BodyExt;
    use std::io::{Read, Seek, SeekFrom};
    /// The file, opened on the first read.
    enum Src {
        Path(PathBuf),
        Open(std::fs::File),
    }
    let blocks = futures::stream::unfold((Src::Path(path), len), move |(src, left)| async move {
        if left == 0 {
            return None;
        }
        let n = left.min(READ_BLOCK as u64);
        let read = tokio::task::spawn_blocking(move || {
            let mut f = match src {
                Src::Open(f) => f,
                Src::Path(p) => {
                    let mut f = std::fs::File::open(p)?;
                    f.seek(SeekFrom::Start(offset))?;
                    f
                }
            };
            let mut buf = Vec::with_capacity(n as usize);
            (&mut f).take(n).read_to_end(&mut buf)?;
            if buf.len() as u64 != n {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            Ok::<_, std::io::Error>((f, buf))
        })
        .await
        .expect("read task");
        Some(match read {
            Ok((f, buf)) => (
                Ok(hyper::body::Frame::data(Bytes::from(buf))),
                (Src::Open(f), left - n),
            ),
            Err(e) => (Err(e), (Src::Path(PathBuf::new()), 0)),
        })
    });
    http_body_util::Either::Right(http_body_util::StreamBody::new(blocks).boxed_unsync())
}

impl BenchClient for RawHyper {
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()> {
        Box::pin(async move {
            let uri = format!("{}/{key}", self.base);
            RawHyper::send(self.client.clone(), http::Method::PUT, uri, body, None).await;
        })
    }

    fn get(&self, key: String) -> Fut<'_, usize> {
        Box::pin(async move {
            let uri = format!("{}/{key}", self.base);
            let (_, b) = RawHyper::send(
                self.client.clone(),
                http::Method::GET,
                uri,
                Bytes::new(),
                None,
            )
            .await;
            b.len()
        })
    }

    fn list_page(&self) -> Fut<'_, usize> {
        Box::pin(async move {
            let uri = format!("{}?list-type=2", self.base);
            let (_, b) = RawHyper::send(
                self.client.clone(),
                http::Method::GET,
                uri,
                Bytes::new(),
                None,
            )
            .await;
            assert!(!b.is_empty());
            1000 // not parsed: the baseline has no XML logic
        })
    }

    fn download(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        let (client, uri) = (self.client.clone(), format!("{}/{key}", self.base));
        Box::pin(async move {
            ranged_download(&path, size, move |s, e, mut w| {
                let (client, uri) = (client.clone(), uri.clone());
                Box::pin(async move {
                    use http_body_util::BodyExt;
                    let range = Some((http::header::RANGE, format!("bytes={s}-{e}")));
                    let empty =
                        http_body_util::Either::Left(http_body_util::Full::new(Bytes::new()));
                    let resp =
                        RawHyper::request(client, http::Method::GET, uri, empty, range).await;
                    assert_eq!(resp.status(), 206, "raw hyper range status");
                    let mut body = resp.into_body();
                    while let Some(frame) = body.frame().await {
                        if let Ok(data) = frame.expect("raw hyper body").into_data() {
                            w.write(data).await.expect("write the range");
                        }
                    }
                    w
                })
            })
            .await;
        })
    }

    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        let (client, uri) = (self.client.clone(), format!("{}/{key}", self.base));
        Box::pin(async move {
            let create = format!("{uri}?uploads");
            RawHyper::send(
                client.clone(),
                http::Method::POST,
                create,
                Bytes::new(),
                None,
            )
            .await;
            let (c, u) = (client.clone(), uri.clone());
            // Each part streamed from the file, with its length (not chunked).
            let parts = multipart_parts(size, move |n, off, len| {
                let (c, u, p) = (c.clone(), u.clone(), path.clone());
                Box::pin(async move {
                    use http_body_util::BodyExt;
                    let uri = format!("{u}?partNumber={n}&uploadId=SINK");
                    let length = Some((http::header::CONTENT_LENGTH, len.to_string()));
                    let body = file_body(p, off, len);
                    let resp = RawHyper::request(c, http::Method::PUT, uri, body, length).await;
                    let etag = resp
                        .headers()
                        .get(http::header::ETAG)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    resp.into_body().collect().await.expect("body");
                    etag
                })
            })
            .await;
            let mut xml = String::from("<CompleteMultipartUpload>");
            for (n, e) in parts {
                xml.push_str(&format!(
                    "<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
                ));
            }
            xml.push_str("</CompleteMultipartUpload>");
            let complete = format!("{uri}?uploadId=SINK");
            RawHyper::send(client, http::Method::POST, complete, Bytes::from(xml), None).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte pattern that differs at every offset of a few MiB (not periodic in 256).
    fn pattern(offset: u64, len: usize) -> Vec<u8> {
        (offset..offset + len as u64)
            .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
            .collect()
    }

    fn scratch_file(len: u64) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.bin");
        std::fs::File::create(&path)
            .expect("create")
            .set_len(len)
            .expect("set_len");
        (dir, path)
    }

    /// Chunks of uneven sizes, crossing batch boundaries, land at the range's offset and
    /// nowhere else; `finish` counts them all.
    #[tokio::test]
    async fn range_writer_puts_chunks_at_the_offset() {
        let (_dir, path) = scratch_file(4 << 20);
        let (off, len) = (1000u64, (5 << 19) + 777); // 2.5 MiB + 777: three batches
        let data = pattern(off, len);
        let mut w = RangeWriter::open(path.clone(), off).await;
        let mut at = 0;
        for size in [1usize, 70_000, 1 << 20, 3, (1 << 20) + 5].iter().cycle() {
            let end = (at + size).min(len);
            w.write(Bytes::copy_from_slice(&data[at..end]))
                .await
                .expect("write");
            at = end;
            if at == len {
                break;
            }
        }
        assert_eq!(w.finish().await.expect("finish"), len as u64);
        let got = std::fs::read(&path).expect("read back");
        assert!(
            got[..off as usize].iter().all(|&b| b == 0),
            "before the range"
        );
        assert!(
            got[off as usize..off as usize + len] == data[..],
            "the range"
        );
        assert!(
            got[off as usize + len..].iter().all(|&b| b == 0),
            "after the range"
        );
    }

    /// The same through the AsyncWrite side (rust-s3's path), flushed by `finish`.
    #[tokio::test]
    async fn range_writer_as_async_write() {
        use tokio::io::AsyncWriteExt;
        let (_dir, path) = scratch_file(3 << 20);
        let (off, len) = (1 << 20, (3 << 19) + 1);
        let data = pattern(off, len);
        let mut w = RangeWriter::open(path.clone(), off).await;
        for piece in data.chunks(100_003) {
            w.write_all(piece).await.expect("write_all");
        }
        assert_eq!(w.finish().await.expect("finish"), len as u64);
        let got = std::fs::read(&path).expect("read back");
        assert!(
            got[off as usize..off as usize + len] == data[..],
            "the range"
        );
        assert!(
            got[..off as usize].iter().all(|&b| b == 0),
            "before the range"
        );
    }

    /// A streamed part body is exactly the part's bytes, in blocks of at most READ_BLOCK.
    #[tokio::test]
    async fn file_body_is_the_part() {
        use http_body_util::BodyExt;
        let (_dir, path) = scratch_file(0);
        std::fs::write(&path, pattern(0, 3 << 20)).expect("write");
        let (off, len) = (12_345u64, 2 * READ_BLOCK as u64 + 99);
        let mut body = file_body(path, off, len);
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.expect("frame").into_data().expect("data");
            assert!(data.len() <= READ_BLOCK, "block size");
            got.extend_from_slice(&data);
        }
        assert!(got == pattern(off, len as usize), "part bytes");
    }

    /// A body cut short by the file's end is an error, not a short part.
    #[tokio::test]
    async fn file_body_past_the_end_fails() {
        use http_body_util::BodyExt;
        let (_dir, path) = scratch_file(1000);
        let mut body = file_body(path, 500, 600);
        let mut failed = false;
        while let Some(frame) = body.frame().await {
            failed |= frame.is_err();
        }
        assert!(failed, "short read not reported");
    }

    #[tokio::test]
    async fn read_part_reads_the_part() {
        let (_dir, path) = scratch_file(0);
        std::fs::write(&path, pattern(0, 1 << 20)).expect("write");
        let got = read_part(path, 4097, 300_000).await;
        assert!(got == pattern(4097, 300_000), "part bytes");
        assert_eq!(got.capacity(), 300_000, "one buffer of the part's size");
    }

    /// Every part is sent once with its offset and length; the list comes back in order.
    #[tokio::test]
    async fn multipart_parts_covers_the_file() {
        let size = 2 * PART + 5;
        let parts = multipart_parts(size, |n, off, len| {
            Box::pin(async move { format!("{n}:{off}:{len}") })
        })
        .await;
        let want = vec![
            (1, format!("1:0:{PART}")),
            (2, format!("2:{PART}:{PART}")),
            (3, format!("3:{}:5", 2 * PART)),
        ];
        assert_eq!(parts, want);
    }

    /// The download driver asks for every range once and checks it is whole: each range's
    /// bytes end up at their place.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ranged_download_assembles_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.bin");
        let size = PART + (PART / 2) + 3;
        ranged_download(&path, size, |s, e, mut w| {
            Box::pin(async move {
                let data = pattern(s, (e - s + 1) as usize);
                for c in data.chunks(65_536) {
                    w.write(Bytes::copy_from_slice(c)).await.expect("write");
                }
                w
            })
        })
        .await;
        let got = std::fs::read(&path).expect("read back");
        assert_eq!(got.len() as u64, size);
        assert!(got == pattern(0, size as usize), "file bytes");
    }

    /// A range that comes back short fails the transfer.
    #[tokio::test]
    #[should_panic(expected = "range length")]
    async fn ranged_download_refuses_a_short_range() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.bin");
        ranged_download(&path, 1000, |_, _, mut w| {
            Box::pin(async move {
                w.write(Bytes::from_static(b"short")).await.expect("write");
                w
            })
        })
        .await;
    }
}
