//! ListMultipartUploads: the multipart uploads in progress, as one page or a stream.

use super::paging::{self, MarkerListing, Markers, public_stream};
use super::sse::ExtraHeaders;
use crate::client::Bucket;
use crate::error::Result;
use crate::types::{MultipartUploadInfo, UploadsPage};
use crate::xml;

/// Lists multipart uploads in progress (ListMultipartUploads). Built by
/// [`Bucket::list_multipart_uploads`].
///
/// Await it for one page ([`UploadsPage`]), or call [`into_stream`](Self::into_stream) for
/// every upload across pages (continued with `key-marker` and `upload-id-marker`). Keys are
/// requested with `encoding-type=url` and decoded.
/// See the [ListMultipartUploads API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html).
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
pub struct ListMultipartUploads {
    bucket: Bucket,
    prefix: Option<String>,
    delimiter: Option<String>,
    key_marker: Option<String>,
    upload_id_marker: Option<String>,
    max_uploads: Option<u32>,
    url_encoding: bool,
    /// Option headers (request payer).
    extra: ExtraHeaders,
}

impl Bucket {
    /// Lists the multipart uploads in progress in this bucket (started, neither completed nor
    /// aborted): their parts take up storage until then.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let mut uploads = bucket.list_multipart_uploads().prefix("backups/").into_stream();
    /// while let Some(u) = uploads.try_next().await? {
    ///     println!("{} {} since {:?}", u.key, u.upload_id, u.initiated);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_multipart_uploads(&self) -> ListMultipartUploads {
        ListMultipartUploads {
            bucket: self.clone(),
            prefix: None,
            delimiter: None,
            key_marker: None,
            upload_id_marker: None,
            max_uploads: None,
            url_encoding: true,
            extra: ExtraHeaders::default(),
        }
    }
}

impl ListMultipartUploads {
    /// Lists only uploads to keys that start with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Groups keys by `delimiter` into common prefixes (reported on the pages).
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Starts after this key (manual paging from [`UploadsPage::next_key_marker`]).
    pub fn key_marker(mut self, key: impl Into<String>) -> Self {
        self.key_marker = Some(key.into());
        self
    }

    /// With a key marker: starts after this upload of that key. Without
    /// [`key_marker`](Self::key_marker) the listing is an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before sending.
    pub fn upload_id_marker(mut self, upload_id: impl Into<String>) -> Self {
        self.upload_id_marker = Some(upload_id.into());
        self
    }

    /// At most this many uploads per page (S3's default and maximum is 1000).
    pub fn page_size(mut self, n: u32) -> Self {
        self.max_uploads = Some(n);
        self
    }

    /// Does not ask for `encoding-type=url` (for stores that echo it without applying it).
    pub fn without_url_encoding(mut self) -> Self {
        self.url_encoding = false;
        self
    }

    super::sse::extra_setters!(extra => request_payer);

    async fn send(self) -> Result<UploadsPage> {
        let first = (self.key_marker.clone(), self.upload_id_marker.clone());
        paging::check_start(&self, &first)?;
        self.fetch(first).await
    }

    /// Every page, fetched one after the other as the stream is polled.
    pub fn into_pages(self) -> UploadPages {
        let first = (self.key_marker.clone(), self.upload_id_marker.clone());
        UploadPages {
            inner: paging::pages(self, first),
        }
    }

    /// Every upload across all pages (common prefixes are on the pages only).
    pub fn into_stream(self) -> Uploads {
        Uploads {
            inner: paging::entries(self.into_pages().inner, |p: UploadsPage| p.uploads),
        }
    }
}

impl MarkerListing for ListMultipartUploads {
    type Page = UploadsPage;
    const OPERATION: &'static str = "ListMultipartUploads";
    const SECOND_MARKER: &'static str = "upload-id-marker";

    fn bucket_name(&self) -> &str {
        &self.bucket.name
    }

    async fn fetch(&self, markers: Markers) -> Result<UploadsPage> {
        let query = paging::PageQuery {
            bucket: &self.bucket,
            subresource: "uploads",
            prefix: self.prefix.as_deref(),
            delimiter: self.delimiter.as_deref(),
            max: ("max-uploads", self.max_uploads),
            url_encoding: self.url_encoding,
            extra: &self.extra,
        };
        paging::fetch_page::<Self, _>(
            query,
            markers,
            |body| xml::parse_list_uploads(body),
            "ListMultipartUploadsResult",
        )
        .await
    }

    fn next(page: &UploadsPage) -> (bool, Markers) {
        (
            page.is_truncated,
            (
                page.next_key_marker.clone(),
                page.next_upload_id_marker.clone(),
            ),
        )
    }
}

super::into_future!(ListMultipartUploads => UploadsPage);

public_stream! {
    /// A stream of ListMultipartUploads pages. Made by [`ListMultipartUploads::into_pages`].
    ///
    /// # Errors
    ///
    /// An error is the stream's last item:
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) (the only item) for an upload id marker without a key marker;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing bucket;
    /// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for a malformed page
    /// or a pagination loop (next markers seen before, or a truncated page without them),
    /// yielded after the last good page; otherwise the service's error.
    UploadPages => UploadsPage
}

public_stream! {
    /// A stream of multipart uploads in progress across pages. Made by
    /// [`ListMultipartUploads::into_stream`].
    ///
    /// # Errors
    ///
    /// An error is the stream's last item:
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) (the only item) for an upload id marker without a key marker;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing bucket;
    /// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for a malformed page
    /// or a pagination loop (next markers seen before, or a truncated page without them),
    /// yielded after the last good page; otherwise the service's error.
    Uploads => MultipartUploadInfo
}
