//! AWS's Rust transfer manager (`aws-sdk-s3-transfer-manager`, "aws-s3-transfer" in the
//! issue) as a peer: its own download and upload for the big transfers ([`PART`] parts,
//! [`CONCURRENCY`] requests in flight), `upload_objects` / `download_objects` for the
//! directory workloads (the same requests in flight as the other clients). Its S3 client is
//! aws-sdk-s3 configured as the `aws-sdk-s3` row is (plain HTTP, path-style, static
//! credentials, request checksums only where required); the transfer manager's own defaults
//! are kept: its managed worker threads, its own HTTP transport (a connection pool per
//! thread; it speaks plain http too), its default upload checksum (CRC64NVME).
//!
//! `ASYNC_S3_BENCH_TM_RUNTIME=tokio` runs it on the child's tokio runtime
//! (`RuntimeMode::MultiThreadTokio`) instead of its managed threads;
//! `ASYNC_S3_BENCH_TM_HTTP=sdk` gives it the plain-HTTP client of the `aws-sdk-s3` row
//! instead of its own transport.
//!
//! It has no small GET, no listing of its own, no unsigned payloads and no progress
//! callback here: those workloads are n/a.

use crate::clients::{ACCESS_KEY, BUCKET, REGION, SECRET_KEY};
use crate::workloads::files::{DIR_DOWNLOAD_IN_FLIGHT, DIR_UPLOAD_IN_FLIGHT};
use crate::workloads::{BenchClient, CONCURRENCY, FilesClient, Fut, Kind, PART, Workload};
use aws_sdk_s3_transfer_manager as tm;
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// The transfer manager for `workload`, or None when it does not offer it.
pub(crate) fn make(addr: &str, workload: Workload) -> Option<Arc<dyn BenchClient>> {
    let in_flight = match workload.kind {
        Kind::Download | Kind::Upload => CONCURRENCY,
        Kind::DirUpload => DIR_UPLOAD_IN_FLIGHT,
        Kind::DirDownload => DIR_DOWNLOAD_IN_FLIGHT,
        _ => return None,
    };
    if workload.unsigned || workload.progress {
        return None;
    }
    Some(Arc::new(Tm::new(addr, in_flight)))
}

fn env_is(name: &str, value: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == value)
}

pub(crate) struct Tm {
    client: tm::Client,
}

impl Tm {
    fn new(addr: &str, in_flight: usize) -> Self {
        use aws_sdk_s3::config::{
            BehaviorVersion, Credentials, Region, RequestChecksumCalculation,
        };
        use tm::types::{ConcurrencyMode, PartSize, RuntimeMode};
        let runtime_http = !env_is("ASYNC_S3_BENCH_TM_HTTP", "sdk");
        let mut s3 = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(format!("http://{addr}"))
            .force_path_style(true)
            .credentials_provider(Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "bench",
            ))
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        if !runtime_http {
            s3 = s3.http_client(aws_smithy_http_client::Builder::new().build_http());
        }
        let runtime = if env_is("ASYNC_S3_BENCH_TM_RUNTIME", "tokio") {
            RuntimeMode::MultiThreadTokio
        } else {
            RuntimeMode::Managed
        };
        let config = tm::Config::builder()
            .s3_config(tm::S3ClientConfig::new(s3).enable_runtime_http(runtime_http))
            .part_size(PartSize::Target(PART))
            .multipart_threshold(PartSize::Target(PART))
            .concurrency(ConcurrencyMode::Explicit(in_flight))
            .runtime_mode(runtime)
            .build();
        Tm {
            client: tm::Client::new(config),
        }
    }
}

impl BenchClient for Tm {
    /// The warm-up's small PUT, through the transfer manager's upload.
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()> {
        Box::pin(async move {
            self.client
                .upload()
                .bucket(BUCKET)
                .key(key)
                .body(tm::io::InputStream::from(body))
                .initiate()
                .expect("aws-s3-transfer upload")
                .join()
                .await
                .expect("aws-s3-transfer put");
        })
    }

    fn get(&self, _key: String) -> Fut<'_, usize> {
        unreachable!("make() offers no small GET for aws-s3-transfer")
    }

    fn list_page(&self) -> Fut<'_, usize> {
        unreachable!("make() offers no listing for aws-s3-transfer")
    }

    fn download(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        Box::pin(async move {
            let handle = self
                .client
                .download()
                .bucket(BUCKET)
                .key(key)
                .write_to_path(path)
                .await
                .expect("aws-s3-transfer download");
            let total = handle
                .object_meta()
                .await
                .expect("aws-s3-transfer object meta")
                .total_object_size();
            assert_eq!(total, size, "object size");
            handle.join().await.expect("aws-s3-transfer download");
        })
    }

    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        _progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        Box::pin(async move {
            let body = tm::io::InputStream::read_from()
                .path(&path)
                .length(size)
                .build()
                .expect("aws-s3-transfer source");
            self.client
                .upload()
                .bucket(BUCKET)
                .key(key)
                .body(body)
                .initiate()
                .expect("aws-s3-transfer upload")
                .join()
                .await
                .expect("aws-s3-transfer upload");
        })
    }

    fn files(&self) -> Option<&dyn FilesClient> {
        Some(self)
    }
}

impl FilesClient for Tm {
    fn upload_dir(&self, dir: PathBuf, prefix: String) -> Fut<'_, u64> {
        Box::pin(async move {
            let out = self
                .client
                .upload_objects()
                .bucket(BUCKET)
                .source(dir)
                .key_prefix(prefix)
                .walker(tm::io::walk::FsWalker::builder().recursive(true).build())
                .initiate()
                .expect("aws-s3-transfer upload_objects")
                .join()
                .await
                .expect("aws-s3-transfer upload_objects");
            assert!(out.failed_transfers().is_empty(), "failed uploads");
            out.objects_uploaded()
        })
    }

    fn download_dir(&self, prefix: String, dir: PathBuf) -> Fut<'_, u64> {
        Box::pin(async move {
            // download_objects wants the destination to exist.
            tokio::fs::create_dir_all(&dir).await.expect("create dir");
            let out = self
                .client
                .download_objects()
                .bucket(BUCKET)
                .key_prefix(prefix)
                .destination(dir)
                .initiate()
                .expect("aws-s3-transfer download_objects")
                .join()
                .await
                .expect("aws-s3-transfer download_objects");
            assert!(out.failed_transfers().is_empty(), "failed downloads");
            out.objects_downloaded()
        })
    }

    fn list_all(&self, _prefix: String) -> Fut<'_, u64> {
        unreachable!("make() offers no listing for aws-s3-transfer")
    }
}
