//! The directory workloads (`benches/support/files.rs`) for the peers without a directory
//! transfer of their own: one plain driver over each peer's object calls. Upload: walk the
//! directory, read each file whole, PUT it, [`DIR_UPLOAD_IN_FLIGHT`] at once. Download: list
//! the prefix through the peer's paginator, GET each object whole and write it,
//! [`DIR_DOWNLOAD_IN_FLIGHT`] at once. Listing: the peer's paginator, keys counted. The
//! raw hyper client lists with ListObjectsV2 and finds `<Key>`, `<Size>` and
//! `<NextContinuationToken>` by substring search (no XML parser: it is the floor).

use crate::clients::{Aws, BUCKET, ObjStore, RawHyper, RustS3};
use crate::workloads::files::{DIR_DOWNLOAD_IN_FLIGHT, DIR_UPLOAD_IN_FLIGHT, walk};
use crate::workloads::{BenchClient, FilesClient, Fut, Workload};
use bytes::Bytes;
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Builds client `name` for a directory workload, or None when it does not offer it.
pub(crate) fn make(name: &str, addr: &str, workload: Workload) -> Option<Arc<dyn BenchClient>> {
    if workload.unsigned || workload.progress {
        return None;
    }
    match name {
        "aws-sdk-s3" => Some(Arc::new(Driver(Aws::new(addr, false, false)))),
        "object_store" => Some(Arc::new(Driver(ObjStore::new(addr, false)))),
        "rust-s3" => Some(Arc::new(Driver(RustS3::new(addr)))),
        "raw-hyper" => Some(Arc::new(Driver(RawHyper::new(addr)))),
        "aws-s3-transfer" => crate::tm::make(addr, workload),
        _ => None,
    }
}

/// What the driver needs of a peer beyond [`BenchClient::put`].
pub(crate) trait FileOps: BenchClient {
    /// GET `key` whole.
    fn get_bytes(&self, key: String) -> Fut<'_, Bytes>;
    /// Every key under `prefix` through the peer's paginator: the count, and with `keep`
    /// the keys and sizes.
    fn list(&self, prefix: String, keep: bool) -> Fut<'_, (u64, Vec<(String, u64)>)>;
}

/// A peer with the directory workloads: its own [`BenchClient`] calls, plus
/// [`FilesClient`] through the plain driver.
pub(crate) struct Driver<P>(pub(crate) P);

impl<P: FileOps> BenchClient for Driver<P> {
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()> {
        self.0.put(key, body)
    }
    fn get(&self, key: String) -> Fut<'_, usize> {
        self.0.get(key)
    }
    fn list_page(&self) -> Fut<'_, usize> {
        self.0.list_page()
    }
    fn download(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        self.0.download(key, path, size, progress)
    }
    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()> {
        self.0.upload(key, path, size, progress)
    }
    fn files(&self) -> Option<&dyn FilesClient> {
        Some(self)
    }
}

/// Runs `job(i)` for every `i < n`, `in_flight` at once, on the caller's task (the
/// requests are futures polled together, as a peer's user would write it without spawning).
async fn for_each<'a, F>(n: usize, in_flight: usize, job: F)
where
    F: Fn(usize) -> Fut<'a, ()>,
{
    futures::stream::iter(0..n)
        .map(job)
        .buffer_unordered(in_flight)
        .collect::<Vec<()>>()
        .await;
}

impl<P: FileOps> FilesClient for Driver<P> {
    fn upload_dir(&self, dir: PathBuf, prefix: String) -> Fut<'_, u64> {
        Box::pin(async move {
            let files = tokio::task::spawn_blocking(move || walk(&dir))
                .await
                .expect("walk");
            let sent = AtomicUsize::new(0);
            let (files, prefix, sent_ref) = (&files, &prefix, &sent);
            for_each(files.len(), DIR_UPLOAD_IN_FLIGHT, |i| {
                Box::pin(async move {
                    let (rel, path) = &files[i];
                    let body = tokio::fs::read(path).await.expect("read a file");
                    self.0
                        .put(format!("{prefix}{rel}"), Bytes::from(body))
                        .await;
                    sent_ref.fetch_add(1, Ordering::Relaxed);
                })
            })
            .await;
            sent.into_inner() as u64
        })
    }

    fn download_dir(&self, prefix: String, dir: PathBuf) -> Fut<'_, u64> {
        Box::pin(async move {
            let (_, objects) = self.0.list(prefix.clone(), true).await;
            tokio::fs::create_dir_all(&dir).await.expect("create dir");
            let written = AtomicUsize::new(0);
            let (objects, prefix, dir, written_ref) = (&objects, &prefix, &dir, &written);
            for_each(objects.len(), DIR_DOWNLOAD_IN_FLIGHT, |i| {
                Box::pin(async move {
                    let (key, size) = &objects[i];
                    let rel = key.strip_prefix(prefix.as_str()).expect("key under prefix");
                    assert!(
                        !rel.is_empty() && rel.split('/').all(|s| !s.is_empty() && s != ".."),
                        "unsafe key {key}"
                    );
                    let path = dir.join(rel);
                    let data = self.0.get_bytes(key.clone()).await;
                    assert_eq!(data.len() as u64, *size, "size of {key}");
                    if let Some(parent) = path.parent() {
                        tokio::fs::create_dir_all(parent).await.expect("create dir");
                    }
                    tokio::fs::write(&path, &data).await.expect("write a file");
                    written_ref.fetch_add(1, Ordering::Relaxed);
                })
            })
            .await;
            written.into_inner() as u64
        })
    }

    fn list_all(&self, prefix: String) -> Fut<'_, u64> {
        Box::pin(async move { self.0.list(prefix, false).await.0 })
    }
}

/// Adds one listed object to the tally.
fn tally(acc: &mut (u64, Vec<(String, u64)>), keep: bool, key: impl Into<String>, size: u64) {
    acc.0 += 1;
    if keep {
        acc.1.push((key.into(), size));
    }
}

// ---------------------------------------------------------------------------------------

impl FileOps for Aws {
    fn get_bytes(&self, key: String) -> Fut<'_, Bytes> {
        Box::pin(async move {
            let out = self
                .client
                .get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .expect("aws-sdk-s3 get");
            out.body.collect().await.expect("body").into_bytes()
        })
    }

    fn list(&self, prefix: String, keep: bool) -> Fut<'_, (u64, Vec<(String, u64)>)> {
        Box::pin(async move {
            let mut acc = (0, Vec::new());
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(BUCKET)
                .prefix(prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.expect("aws-sdk-s3 list");
                for o in page.contents() {
                    let size = o.size().expect("size") as u64;
                    tally(&mut acc, keep, o.key().expect("key"), size);
                }
            }
            acc
        })
    }
}

impl FileOps for ObjStore {
    fn get_bytes(&self, key: String) -> Fut<'_, Bytes> {
        use object_store::ObjectStoreExt;
        Box::pin(async move {
            let got = self.store.get(&key.into()).await.expect("object_store get");
            got.bytes().await.expect("body")
        })
    }

    fn list(&self, prefix: String, keep: bool) -> Fut<'_, (u64, Vec<(String, u64)>)> {
        use object_store::ObjectStore;
        Box::pin(async move {
            let mut acc = (0, Vec::new());
            let prefix = object_store::path::Path::from(prefix.trim_end_matches('/'));
            let mut s = self.store.list(Some(&prefix));
            while let Some(m) = s.next().await {
                let m = m.expect("object_store list");
                let size = m.size;
                if keep {
                    tally(&mut acc, true, m.location.to_string(), size);
                } else {
                    acc.0 += 1;
                }
            }
            acc
        })
    }
}

impl FileOps for RustS3 {
    fn get_bytes(&self, key: String) -> Fut<'_, Bytes> {
        Box::pin(async move {
            let r = self.bucket.get_object(key).await.expect("rust-s3 get");
            r.bytes().clone()
        })
    }

    fn list(&self, prefix: String, keep: bool) -> Fut<'_, (u64, Vec<(String, u64)>)> {
        Box::pin(async move {
            // rust-s3's `list` follows the continuation tokens itself and returns every page.
            let pages = self.bucket.list(prefix, None).await.expect("rust-s3 list");
            let mut acc = (0, Vec::new());
            for page in pages {
                for o in page.contents {
                    tally(&mut acc, keep, o.key, o.size);
                }
            }
            acc
        })
    }
}

/// The text between `open` and the next `<` after it, for each occurrence, in order.
fn elements<'a>(page: &'a str, open: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    page.match_indices(open).map(move |(at, _)| {
        let rest = &page[at + open.len()..];
        &rest[..rest.find('<').unwrap_or(rest.len())]
    })
}

impl FileOps for RawHyper {
    fn get_bytes(&self, key: String) -> Fut<'_, Bytes> {
        Box::pin(async move {
            let uri = format!("{}/{key}", self.base);
            let (_, body) = RawHyper::send(
                self.client.clone(),
                http::Method::GET,
                uri,
                Bytes::new(),
                None,
            )
            .await;
            body
        })
    }

    fn list(&self, prefix: String, keep: bool) -> Fut<'_, (u64, Vec<(String, u64)>)> {
        Box::pin(async move {
            let mut acc = (0, Vec::new());
            let mut token: Option<String> = None;
            // The data sets' keys and tokens need no escaping but `/`.
            let prefix = prefix.replace('/', "%2F");
            loop {
                let mut uri = format!("{}?list-type=2&prefix={prefix}", self.base);
                if let Some(t) = &token {
                    uri.push_str("&continuation-token=");
                    uri.push_str(t);
                }
                let (_, body) = RawHyper::send(
                    self.client.clone(),
                    http::Method::GET,
                    uri,
                    Bytes::new(),
                    None,
                )
                .await;
                let page = std::str::from_utf8(&body).expect("UTF-8 page");
                if keep {
                    for (key, size) in elements(page, "<Key>").zip(elements(page, "<Size>")) {
                        tally(&mut acc, true, key, size.parse().expect("size"));
                    }
                } else {
                    acc.0 += page.matches("<Key>").count() as u64;
                }
                token = elements(page, "<NextContinuationToken>")
                    .next()
                    .map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            acc
        })
    }
}
