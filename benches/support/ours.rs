//! async-s3 as a [`BenchClient`]: the default configuration (or unsigned payloads), its
//! transfer engine for the big transfers, and as a [`FilesClient`] its directory transfers
//! (`Bucket::upload_dir`, `Bucket::download_prefix`) and the listing stream.

use super::workloads::files::{DIR_DOWNLOAD_IN_FLIGHT, DIR_UPLOAD_IN_FLIGHT};
use super::workloads::{BenchClient, CONCURRENCY, FilesClient, Fut, PART};
use async_s3::{Bucket, Client, Credentials, PayloadSigning};
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// async-s3 with the default configuration (or unsigned payloads).
pub(crate) fn ours(addr: &str, unsigned: bool) -> Arc<dyn BenchClient> {
    let mut b = Client::builder()
        .endpoint(format!("http://{addr}"))
        .credentials(Credentials::new("AKIDBENCH", "bench-secret"));
    if unsigned {
        b = b.payload_signing(PayloadSigning::Never);
    }
    Arc::new(Ours(b.build().expect("async-s3").bucket("bench")))
}

struct Ours(Bucket);

fn counter(c: &Arc<AtomicU64>) -> impl Fn(async_s3::Progress) + Send + Sync + 'static {
    let c = c.clone();
    move |_| {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

impl BenchClient for Ours {
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()> {
        Box::pin(async move {
            self.0.put_object(key, body).await.expect("async-s3");
        })
    }

    fn get(&self, key: String) -> Fut<'_, usize> {
        Box::pin(async move {
            let out = self.0.get_object(key).await.expect("async-s3");
            out.bytes().await.expect("async-s3").len()
        })
    }

    fn list_page(&self) -> Fut<'_, usize> {
        Box::pin(async move { self.0.list_objects().await.expect("async-s3").objects.len() })
    }

    fn download(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        Box::pin(async move {
            let mut d = self
                .0
                .download(key)
                .part_size(PART)
                .concurrency(CONCURRENCY);
            if let Some(c) = &progress {
                d = d.on_progress(counter(c));
            }
            assert_eq!(d.to_path(&path).await.expect("async-s3").size, size);
        })
    }

    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        Box::pin(async move {
            let mut u = self.0.upload(key).part_size(PART).concurrency(CONCURRENCY);
            if let Some(c) = &progress {
                u = u.on_progress(counter(c));
            }
            assert_eq!(u.from_path(&path).await.expect("async-s3").size, size);
        })
    }

    fn files(&self) -> Option<&dyn FilesClient> {
        Some(self)
    }
}

impl FilesClient for Ours {
    fn upload_dir(&self, dir: PathBuf, prefix: String) -> Fut<'_, u64> {
        Box::pin(async move {
            let out = self
                .0
                .upload_dir(dir)
                .prefix(prefix)
                .concurrency(DIR_UPLOAD_IN_FLIGHT)
                .await
                .expect("async-s3 upload_dir");
            assert!(out.failed.is_empty(), "{:?}", out.failed);
            out.files as u64
        })
    }

    fn download_dir(&self, prefix: String, dir: PathBuf) -> Fut<'_, u64> {
        Box::pin(async move {
            let out = self
                .0
                .download_prefix(prefix)
                .concurrency(DIR_DOWNLOAD_IN_FLIGHT)
                .to_dir(dir)
                .await
                .expect("async-s3 download_prefix");
            out.files as u64
        })
    }

    fn list_all(&self, prefix: String) -> Fut<'_, u64> {
        use futures_util::TryStreamExt;
        Box::pin(async move {
            let mut pages = self.0.list_objects().prefix(prefix).into_pages();
            let mut n = 0;
            while let Some(page) = pages.try_next().await.expect("async-s3 list") {
                n += page.objects.len() as u64;
            }
            n
        })
    }
}
