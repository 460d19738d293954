//! Versioning: GetBucketVersioning, PutBucketVersioning, and ListObjectVersions as one page
//! or as a stream of every version and delete marker.

use super::MAX_XML_BODY;
use super::paging::{self, MarkerListing, Markers, public_stream};
use super::sse::ExtraHeaders;
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::request::OpRequest;
use crate::types::{VersionEntry, VersionsPage};
use crate::xml;
use http::Method;
use md5::{Digest, Md5};

/// A bucket's versioning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VersioningStatus {
    /// Every write keeps the earlier version; a delete adds a delete marker.
    Enabled,
    /// New writes replace the `null` version; versions already kept stay.
    Suspended,
}

impl VersioningStatus {
    fn as_str(self) -> &'static str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
        }
    }
}

/// What GetBucketVersioning returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketVersioning {
    /// `None` for a bucket whose versioning was never enabled.
    pub status: Option<VersioningStatus>,
    /// Whether MFA delete is enabled, when the bucket says.
    pub mfa_delete: Option<bool>,
}

/// Reads a bucket's versioning state. Built by [`Bucket::get_bucket_versioning`]; await it.
///
/// See the [GetBucketVersioning API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html).
///
/// # Errors
///
/// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for a malformed answer
/// or an unknown status; otherwise the service's error (stores without versioning answer
/// `501 NotImplemented`, an [`ErrorKind::Service`](crate::ErrorKind::Service) error).
///
/// # Cancel safety
///
/// Cancel safe: nothing changes.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct GetBucketVersioning {
    bucket: Bucket,
}

/// Enables or suspends versioning on a bucket. Built by [`Bucket::put_bucket_versioning`];
/// await it.
///
/// See the [PutBucketVersioning API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html).
///
/// # Errors
///
/// The service's error.
///
/// # Cancel safety
///
/// Dropping the future may or may not leave the state changed.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct PutBucketVersioning {
    bucket: Bucket,
    status: VersioningStatus,
}

impl Bucket {
    /// Reads the bucket's versioning state.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use async_s3::VersioningStatus;
    /// let v = bucket.get_bucket_versioning().await?;
    /// if v.status != Some(VersioningStatus::Enabled) {
    ///     bucket.put_bucket_versioning(VersioningStatus::Enabled).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_bucket_versioning(&self) -> GetBucketVersioning {
        GetBucketVersioning {
            bucket: self.clone(),
        }
    }

    /// Sets the bucket's versioning state (a bucket cannot go back to "never enabled").
    /// Changing MFA delete (which needs an `x-amz-mfa` device code) is not supported.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.put_bucket_versioning(async_s3::VersioningStatus::Suspended).await?;
    /// # Ok(()) }
    /// ```
    pub fn put_bucket_versioning(&self, status: VersioningStatus) -> PutBucketVersioning {
        PutBucketVersioning {
            bucket: self.clone(),
            status,
        }
    }

    /// Lists every version and delete marker of the bucket's objects (ListObjectVersions).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use async_s3::VersionEntry;
    /// use futures_util::TryStreamExt;
    ///
    /// let mut all = bucket.list_object_versions().prefix("logs/").into_stream();
    /// while let Some(entry) = all.try_next().await? {
    ///     match entry {
    ///         VersionEntry::Version(v) => println!("{} {} latest={}", v.key, v.version_id, v.is_latest),
    ///         VersionEntry::DeleteMarker(d) => println!("{} deleted ({})", d.key, d.version_id),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_object_versions(&self) -> ListObjectVersions {
        ListObjectVersions {
            bucket: self.clone(),
            prefix: None,
            delimiter: None,
            key_marker: None,
            version_id_marker: None,
            max_keys: None,
            url_encoding: true,
            extra: ExtraHeaders::default(),
        }
    }
}

impl GetBucketVersioning {
    async fn send(self) -> Result<BucketVersioning> {
        let ctx = |e: Error| e.with_context("GetBucketVersioning", Some(&self.bucket.name), None);
        let req = OpRequest::new("GetBucketVersioning", Method::GET)
            .bucket(&self.bucket.name)
            .query([("versioning", "")]);
        let resp = self.bucket.client.execute(req).await?;
        let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
        let (status, mfa) = xml::parse_versioning(&body).map_err(|e| {
            ctx(Error::invalid_response("malformed VersioningConfiguration").with_source(e))
        })?;
        let status = match status.as_deref() {
            None => None,
            Some("Enabled") => Some(VersioningStatus::Enabled),
            Some("Suspended") => Some(VersioningStatus::Suspended),
            Some(other) => {
                return Err(ctx(Error::invalid_response(format!(
                    "unknown versioning status {other:?}"
                ))));
            }
        };
        Ok(BucketVersioning {
            status,
            mfa_delete: mfa.map(|m| m == "Enabled"),
        })
    }
}

super::into_future!(GetBucketVersioning => BucketVersioning);

impl PutBucketVersioning {
    async fn send(self) -> Result<()> {
        let body = xml::write_versioning(self.status.as_str(), None);
        // S3 requires Content-MD5 on this request.
        let md5 = crate::base64::encode(&Md5::digest(body.as_bytes()));
        let req = OpRequest::new("PutBucketVersioning", Method::PUT)
            .bucket(&self.bucket.name)
            .query([("versioning", "")])
            .header("content-md5", md5)
            .header("content-type", "application/xml")
            .body(body.into());
        self.bucket.client.execute(req).await?;
        Ok(())
    }
}

super::into_future!(PutBucketVersioning => ());

/// Lists object versions and delete markers (ListObjectVersions). Built by
/// [`Bucket::list_object_versions`].
///
/// Await it for one page ([`VersionsPage`]), or call [`into_stream`](Self::into_stream) for
/// every entry across pages (continued with `key-marker` and `version-id-marker`). Keys are
/// requested with `encoding-type=url` and decoded.
/// See the [ListObjectVersions API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html).
///
/// # Errors
///
/// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for a malformed page or a
/// pagination loop; otherwise the service's error.
///
/// # Cancel safety
///
/// Cancel safe: listing changes nothing.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct ListObjectVersions {
    bucket: Bucket,
    prefix: Option<String>,
    delimiter: Option<String>,
    key_marker: Option<String>,
    version_id_marker: Option<String>,
    max_keys: Option<u32>,
    url_encoding: bool,
    /// Option headers (request payer).
    extra: ExtraHeaders,
}

impl ListObjectVersions {
    /// Lists only keys that start with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Groups keys by `delimiter` into common prefixes.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Starts after this key (or, with [`version_id_marker`](Self::version_id_marker), after
    /// that version of it): manual paging from [`VersionsPage::next_key_marker`].
    pub fn key_marker(mut self, key: impl Into<String>) -> Self {
        self.key_marker = Some(key.into());
        self
    }

    /// Starts after this version of the key marker's key. Needs
    /// [`key_marker`](Self::key_marker): without it the listing is an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before sending.
    pub fn version_id_marker(mut self, version_id: impl Into<String>) -> Self {
        self.version_id_marker = Some(version_id.into());
        self
    }

    /// At most this many entries per page (S3's default and maximum is 1000).
    pub fn page_size(mut self, n: u32) -> Self {
        self.max_keys = Some(n);
        self
    }

    /// Does not ask for `encoding-type=url` (for stores that echo it without applying it).
    pub fn without_url_encoding(mut self) -> Self {
        self.url_encoding = false;
        self
    }

    super::sse::extra_setters!(extra => request_payer);

    async fn send(self) -> Result<VersionsPage> {
        let first = (self.key_marker.clone(), self.version_id_marker.clone());
        paging::check_start(&self, &first)?;
        self.fetch(first).await
    }

    /// Every page, fetched one after the other as the stream is polled.
    pub fn into_pages(self) -> VersionPages {
        let first = (self.key_marker.clone(), self.version_id_marker.clone());
        VersionPages {
            inner: paging::pages(self, first),
        }
    }

    /// Every entry across all pages: versions and delete markers in the server's order, then
    /// the page's common prefixes.
    pub fn into_stream(self) -> Versions {
        Versions {
            inner: paging::entries(self.into_pages().inner, |p: VersionsPage| {
                let mut all = p.entries;
                all.extend(p.common_prefixes.into_iter().map(VersionEntry::Prefix));
                all
            }),
        }
    }
}

impl MarkerListing for ListObjectVersions {
    type Page = VersionsPage;
    const OPERATION: &'static str = "ListObjectVersions";
    const SECOND_MARKER: &'static str = "version-id-marker";

    fn bucket_name(&self) -> &str {
        &self.bucket.name
    }

    async fn fetch(&self, markers: Markers) -> Result<VersionsPage> {
        let query = paging::PageQuery {
            bucket: &self.bucket,
            subresource: "versions",
            prefix: self.prefix.as_deref(),
            delimiter: self.delimiter.as_deref(),
            max: ("max-keys", self.max_keys),
            url_encoding: self.url_encoding,
            extra: &self.extra,
        };
        paging::fetch_page::<Self, _>(
            query,
            markers,
            xml::scan_list_versions,
            "ListVersionsResult",
        )
        .await
    }

    fn next(page: &VersionsPage) -> (bool, Markers) {
        (
            page.is_truncated,
            (
                page.next_key_marker.clone(),
                page.next_version_id_marker.clone(),
            ),
        )
    }
}

super::into_future!(ListObjectVersions => VersionsPage);

public_stream! {
    /// A stream of ListObjectVersions pages. Made by [`ListObjectVersions::into_pages`].
    ///
    /// # Errors
    ///
    /// An error is the stream's last item:
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) (the only item) for a version id marker without a key marker;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing bucket;
    /// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for a malformed page
    /// or a pagination loop (next markers seen before, or a truncated page without them),
    /// yielded after the last good page; otherwise the service's error.
    VersionPages => VersionsPage
}

public_stream! {
    /// A stream of versions, delete markers and common prefixes across pages. Made by
    /// [`ListObjectVersions::into_stream`].
    ///
    /// # Errors
    ///
    /// An error is the stream's last item:
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) (the only item) for a version id marker without a key marker;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing bucket;
    /// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for a malformed page
    /// or a pagination loop (next markers seen before, or a truncated page without them),
    /// yielded after the last good page; otherwise the service's error.
    Versions => VersionEntry
}
