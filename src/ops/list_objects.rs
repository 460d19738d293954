//! ListObjectsV2: list keys by prefix, as one page or as a stream that hides pagination.

use super::MAX_XML_BODY;
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::request::OpRequest;
use crate::types::{ListEntry, ListPage};
use crate::xml;
use futures_core::Stream;
use futures_util::StreamExt;
use http::Method;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The most pages a listing stream fetches before it suspects a loop.
const MAX_PAGES: usize = 1_000_000;

/// Lists objects (ListObjectsV2). Built by [`Bucket::list_objects`].
///
/// Await it for one page ([`ListPage`]), or call [`into_stream`](Self::into_stream) for every
/// entry across all pages. Keys are requested with `encoding-type=url` and decoded, so any
/// key survives the XML round trip.
/// See the [ListObjectsV2 API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
///
/// # Errors
///
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing bucket,
/// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for a malformed page or a
/// pagination loop (the same continuation token twice, or a truncated page without one).
///
/// # Cancel safety
///
/// Cancel safe: listing changes nothing.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct ListObjects {
    bucket: Bucket,
    prefix: Option<String>,
    delimiter: Option<String>,
    start_after: Option<String>,
    continuation_token: Option<String>,
    max_keys: Option<u32>,
    url_encoding: bool,
    // issue 11 part B: request payer
    extra: super::sse::ExtraHeaders,
}

impl Bucket {
    /// Lists the objects of this bucket.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use futures_util::TryStreamExt;
    /// use async_s3::ListEntry;
    ///
    /// let mut entries = bucket.list_objects().prefix("cats/").into_stream();
    /// while let Some(entry) = entries.try_next().await? {
    ///     if let ListEntry::Object(o) = entry {
    ///         println!("{} ({} bytes)", o.key, o.size);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_objects(&self) -> ListObjects {
        ListObjects {
            bucket: self.clone(),
            prefix: None,
            delimiter: None,
            start_after: None,
            continuation_token: None,
            max_keys: None,
            url_encoding: true,
            extra: super::sse::ExtraHeaders::default(),
        }
    }
}

impl ListObjects {
    /// Lists only keys that start with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Groups keys by `delimiter` (usually `/`) into common prefixes.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Starts after this key.
    pub fn start_after(mut self, key: impl Into<String>) -> Self {
        self.start_after = Some(key.into());
        self
    }

    /// Continues from a token of an earlier page (manual paging).
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into());
        self
    }

    /// At most this many keys per page (S3's default and maximum is 1000).
    pub fn page_size(mut self, n: u32) -> Self {
        self.max_keys = Some(n);
        self
    }

    /// Does not ask for `encoding-type=url`. Use it only with stores that echo the encoding
    /// type without encoding the keys (keys containing `%` would otherwise be mis-decoded);
    /// keys with characters XML cannot carry then fail to list.
    pub fn without_url_encoding(mut self) -> Self {
        self.url_encoding = false;
        self
    }

    async fn send(self) -> Result<ListPage> {
        self.fetch(self.continuation_token.as_deref()).await
    }

    async fn fetch(&self, token: Option<&str>) -> Result<ListPage> {
        let ctx = |e: Error| e.with_context("ListObjectsV2", Some(&self.bucket.name), None);
        let max_keys = self.max_keys.map(|n| n.to_string());
        let params = [
            Some(("list-type", "2")),
            self.url_encoding.then_some(("encoding-type", "url")),
            self.prefix.as_deref().map(|v| ("prefix", v)),
            self.delimiter.as_deref().map(|v| ("delimiter", v)),
            self.start_after.as_deref().map(|v| ("start-after", v)),
            token.map(|v| ("continuation-token", v)),
            max_keys.as_deref().map(|v| ("max-keys", v)),
        ];
        let req = OpRequest::new("ListObjectsV2", Method::GET)
            .bucket(&self.bucket.name)
            .query(params.into_iter().flatten());
        let req = self.extra.apply(req, super::sse::scope::ALL);
        let resp = self.bucket.client.execute(req).await?;
        let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
        xml::scan_list_objects_v2(&body)
            .map_err(|e| ctx(Error::invalid_response("malformed ListBucketResult").with_source(e)))
    }

    /// Every page, fetched one after the other as the stream is polled.
    pub fn into_pages(self) -> Pages {
        let state = PagesState {
            next: Some(self.continuation_token.clone()),
            list: self,
            seen: HashSet::new(),
            pages: 0,
            deferred: None,
        };
        let s = futures_util::stream::unfold(state, |mut st| async move {
            if let Some(e) = st.deferred.take() {
                return Some((Err(e), st));
            }
            let token = st.next.take()?;
            st.pages += 1;
            let page = match st.list.fetch(token.as_deref()).await {
                Ok(p) => p,
                Err(e) => return Some((Err(e), st)),
            };
            if page.is_truncated {
                let why = match &page.next_continuation_token {
                    None => Some("a truncated page came without a continuation token"),
                    Some(t) if st.pages >= MAX_PAGES || !st.seen.insert(t.clone()) => {
                        Some("the server repeated a continuation token (pagination loop)")
                    }
                    Some(t) => {
                        st.next = Some(Some(t.clone()));
                        None
                    }
                };
                if let Some(why) = why {
                    st.deferred = Some(Error::invalid_response(why).with_context(
                        "ListObjectsV2",
                        Some(&st.list.bucket.name),
                        None,
                    ));
                }
            }
            Some((Ok(page), st))
        });
        Pages { inner: Box::pin(s) }
    }

    /// Every entry (objects, and common prefixes when a delimiter is set), across all pages.
    pub fn into_stream(self) -> Entries {
        Entries {
            pages: self.into_pages(),
            buffer: VecDeque::new(),
        }
    }

    // issue 11 part B: request payer
    super::sse::extra_setters!(extra => request_payer);
}

super::into_future!(ListObjects => ListPage);

struct PagesState {
    list: ListObjects,
    /// `Some(token)` while another page is to be fetched.
    next: Option<Option<String>>,
    seen: HashSet<String>,
    pages: usize,
    /// An error found after a page was fetched, yielded after that page.
    deferred: Option<Error>,
}

/// A stream of listing pages. Made by [`ListObjects::into_pages`].
#[must_use = "streams do nothing unless polled"]
pub struct Pages {
    inner: Pin<Box<dyn Stream<Item = Result<ListPage>> + Send + 'static>>,
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl Stream for Pages {
    type Item = Result<ListPage>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// A stream of listing entries across pages. Made by [`ListObjects::into_stream`].
///
/// Within a page, objects come first, then common prefixes.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct Entries {
    pages: Pages,
    buffer: VecDeque<ListEntry>,
}

impl Stream for Entries {
    type Item = Result<ListEntry>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                return Poll::Ready(Some(Ok(e)));
            }
            match std::task::ready!(self.pages.poll_next_unpin(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(page)) => {
                    let ListPage {
                        objects,
                        common_prefixes,
                        ..
                    } = page;
                    self.buffer
                        .extend(objects.into_iter().map(ListEntry::Object));
                    self.buffer
                        .extend(common_prefixes.into_iter().map(ListEntry::Prefix));
                }
            }
        }
    }
}
