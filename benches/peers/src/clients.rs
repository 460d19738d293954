//! The peers as [`BenchClient`]s, and the shared drivers their big transfers go through.

use crate::workloads::{BenchClient, CONCURRENCY, Fut, Kind, PART, Workload};
use bytes::Bytes;
use futures::StreamExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

pub(crate) const ACCESS_KEY: &str = "AKIDBENCH";
pub(crate) const SECRET_KEY: &str = "bench-secret";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const BUCKET: &str = "bench";

/// Builds client `name` for `workload`, or None when it does not offer it (progress
/// reporting, unsigned payloads, or a variant meant for other workloads).
pub fn make(name: &str, addr: &str, workload: Workload) -> Option<Arc<dyn BenchClient>> {
    let is_put = matches!(workload.kind, Kind::Put | Kind::Upload);
    if name == "async-s3" {
        return Some(crate::ours::ours(addr, workload.unsigned));
    }
    if workload.kind.files() {
        return crate::files::make(name, addr, workload);
    }
    if workload.progress {
        return None;
    }
    match name {
        "aws-sdk-s3" => Some(Arc::new(Aws::new(addr, workload.unsigned, false))),
        "aws-sdk-s3+crc32" if is_put => Some(Arc::new(Aws::new(addr, workload.unsigned, true))),
        "object_store" => Some(Arc::new(ObjStore::new(addr, workload.unsigned))),
        "rust-s3" if !workload.unsigned => Some(Arc::new(RustS3::new(addr))),
        "raw-hyper" => Some(Arc::new(RawHyper::new(addr))),
        "aws-s3-transfer" => crate::tm::make(addr, workload),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Drivers for clients without a transfer engine.

/// Downloads `size` bytes into `path` with ranged GETs of [`PART`], [`CONCURRENCY`] in
/// flight, each range a task of its own, written at its offset once complete.
async fn ranged_download<F>(path: &Path, size: u64, get: F)
where
    F: Fn(u64, u64) -> Fut<'static, Bytes> + Send + Sync + 'static,
{
    let file = std::fs::File::create(path).expect("create destination");
    file.set_len(size).expect("set_len");
    let file = Arc::new(file);
    let get = Arc::new(get);
    let ranges = (0..size)
        .step_by(PART as usize)
        .map(move |off| (off, PART.min(size - off)));
    let mut tasks = tokio::task::JoinSet::new();
    for (off, len) in ranges {
        if tasks.len() == CONCURRENCY {
            tasks.join_next().await.expect("task").expect("range");
        }
        let (file, get) = (file.clone(), get.clone());
        tasks.spawn(async move {
            let data = get(off, off + len - 1).await;
            assert_eq!(data.len() as u64, len, "range length");
            tokio::task::spawn_blocking(move || file.write_all_at(&data, off))
                .await
                .expect("write task")
                .expect("write");
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("range");
    }
}

/// Uploads the file at `path` in parts of [`PART`], [`CONCURRENCY`] in flight, each part
/// read at its offset and sent from a task of its own; `part(number, bytes)` sends one part
/// and returns its ETag. Returns the (number, ETag) list in order.
async fn multipart_parts<F>(path: &Path, size: u64, part: F) -> Vec<(i32, String)>
where
    F: Fn(i32, Bytes) -> Fut<'static, String> + Send + Sync + 'static,
{
    let file = Arc::new(std::fs::File::open(path).expect("open source"));
    let part = Arc::new(part);
    let done = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    let ranges = (0..size)
        .step_by(PART as usize)
        .map(move |off| (off, PART.min(size - off)));
    for (i, (off, len)) in ranges.enumerate() {
        if tasks.len() == CONCURRENCY {
            tasks.join_next().await.expect("task").expect("part");
        }
        let (file, part, done) = (file.clone(), part.clone(), done.clone());
        tasks.spawn(async move {
            let data = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; len as usize];
                file.read_exact_at(&mut buf, off).expect("read part");
                Bytes::from(buf)
            })
            .await
            .expect("read task");
            let n = i as i32 + 1;
            let etag = part(n, data).await;
            done.lock().expect("lock").push((n, etag));
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("part");
    }
    let mut parts = std::mem::take(&mut *done.lock().expect("lock"));
    parts.sort_unstable();
    parts
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

    async fn range(client: aws_sdk_s3::Client, start: u64, end: u64) -> Bytes {
        let out = client
            .get_object()
            .bucket(BUCKET)
            .key(crate::workloads::BIG_KEY)
            .range(format!("bytes={start}-{end}"))
            .send()
            .await
            .expect("aws-sdk-s3 get range");
        out.body.collect().await.expect("body").into_bytes()
    }

    async fn part(
        client: aws_sdk_s3::Client,
        unsigned: bool,
        upload_id: String,
        n: i32,
        data: Bytes,
    ) -> String {
        let req = client
            .upload_part()
            .bucket(BUCKET)
            .key(crate::workloads::BIG_KEY)
            .upload_id(upload_id)
            .part_number(n)
            .body(data.into());
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
            ranged_download(&path, size, move |s, e| {
                Box::pin(Aws::range(client.clone(), s, e))
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
            let parts = multipart_parts(&path, size, move |n, data| {
                Box::pin(Aws::part(c.clone(), unsigned, i.clone(), n, data))
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
        use object_store::ObjectStoreExt;
        let store = self.store.clone();
        let location = object_store::path::Path::from(key);
        Box::pin(async move {
            ranged_download(&path, size, move |s, e| {
                let (store, location) = (store.clone(), location.clone());
                Box::pin(async move {
                    store
                        .get_range(&location, s..e + 1)
                        .await
                        .expect("object_store get_range")
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
        use object_store::ObjectStoreExt;
        let store = self.store.clone();
        Box::pin(async move {
            let upload = store
                .put_multipart(&key.into())
                .await
                .expect("object_store put_multipart");
            // put_part takes &mut and returns a 'static future: the driver's tasks await those.
            let upload = Arc::new(Mutex::new(upload));
            let u = upload.clone();
            multipart_parts(&path, size, move |_n, data| {
                let fut = u.lock().expect("lock").put_part(data.into());
                Box::pin(async move {
                    fut.await.expect("object_store part");
                    String::new()
                })
            })
            .await;
            let mut upload = Arc::try_unwrap(upload)
                .ok()
                .expect("sole owner")
                .into_inner()
                .expect("lock");
            upload.complete().await.expect("object_store complete");
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
            ranged_download(&path, size, move |s, e| {
                let (bucket, key) = (bucket.clone(), key.clone());
                Box::pin(async move {
                    let r = bucket
                        .get_object_range(&key, s, Some(e))
                        .await
                        .expect("rust-s3 range");
                    r.bytes().clone()
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
            let parts = multipart_parts(&path, size, move |n, data| {
                let (b, k, i) = (b.clone(), k.clone(), i.clone());
                Box::pin(async move {
                    let part = b
                        .put_multipart_chunk(Vec::from(data), &k, n as u32, &i, ct)
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

pub(crate) type HyperClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<Bytes>,
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

    pub(crate) async fn send(
        client: HyperClient,
        method: http::Method,
        uri: String,
        body: Bytes,
        range: Option<String>,
    ) -> (http::HeaderMap, Bytes) {
        use http_body_util::BodyExt;
        let mut req = http::Request::builder().method(method).uri(uri);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let req = req.body(http_body_util::Full::new(body)).expect("request");
        let resp = client.request(req).await.expect("raw hyper");
        assert!(resp.status().is_success(), "status {}", resp.status());
        let (parts, body) = resp.into_parts();
        (
            parts.headers,
            body.collect().await.expect("body").to_bytes(),
        )
    }
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
            ranged_download(&path, size, move |s, e| {
                let (client, uri) = (client.clone(), uri.clone());
                Box::pin(async move {
                    let range = Some(format!("bytes={s}-{e}"));
                    RawHyper::send(client, http::Method::GET, uri, Bytes::new(), range)
                        .await
                        .1
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
            let parts = multipart_parts(&path, size, move |n, data| {
                let (c, u) = (c.clone(), u.clone());
                Box::pin(async move {
                    let uri = format!("{u}?partNumber={n}&uploadId=SINK");
                    let (h, _) = RawHyper::send(c, http::Method::PUT, uri, data, None).await;
                    h.get("etag")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
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
