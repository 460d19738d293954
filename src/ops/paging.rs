//! Pagination by a pair of markers (`key-marker` plus `version-id-marker` or
//! `upload-id-marker`), shared by ListObjectVersions and ListMultipartUploads: pages are
//! fetched one after the other as the stream is polled, and a server that repeats its markers
//! or truncates a page without them is an error instead of an endless loop.

use super::MAX_XML_BODY;
use super::sse::{ExtraHeaders, scope};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::request::OpRequest;
use crate::xml::XmlError;
use bytes::Bytes;
use futures_core::Stream;
use http::Method;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

/// The most pages a listing stream fetches before it suspects a loop.
const MAX_PAGES: usize = 1_000_000;

/// Where a page starts: `(key-marker, second marker)`.
pub(crate) type Markers = (Option<String>, Option<String>);

/// A boxed stream of pages or entries.
pub(crate) type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// A listing that continues with two markers.
pub(crate) trait MarkerListing: Send + Sync + 'static {
    /// One page of answers.
    type Page: Send + 'static;
    /// The S3 operation name, for errors.
    const OPERATION: &'static str;
    /// The query name of the second marker (`version-id-marker`, `upload-id-marker`).
    const SECOND_MARKER: &'static str;
    /// The bucket listed, for errors.
    fn bucket_name(&self) -> &str;
    /// Fetches the page that starts at `markers`.
    fn fetch(&self, markers: Markers) -> impl Future<Output = Result<Self::Page>> + Send;
    /// Whether the page is truncated, and the markers of the next page.
    fn next(page: &Self::Page) -> (bool, Markers);
}

/// What a two-marker listing asks for beyond its markers; both listings send the same query.
pub(crate) struct PageQuery<'a> {
    pub(crate) bucket: &'a Bucket,
    /// The subresource that names the listing (`versions`, `uploads`).
    pub(crate) subresource: &'static str,
    pub(crate) prefix: Option<&'a str>,
    pub(crate) delimiter: Option<&'a str>,
    /// The page size and its query name (`max-keys`, `max-uploads`).
    pub(crate) max: (&'static str, Option<u32>),
    pub(crate) url_encoding: bool,
    pub(crate) extra: &'a ExtraHeaders,
}

/// Fetches the page of listing `L` that starts at `markers` and parses it with `parse`; a
/// page that does not parse is `InvalidResponse` naming `result` (the XML root expected).
pub(crate) async fn fetch_page<L: MarkerListing, P>(
    q: PageQuery<'_>,
    (key_marker, id_marker): Markers,
    parse: fn(&Bytes) -> std::result::Result<P, XmlError>,
    result: &'static str,
) -> Result<P> {
    let ctx = |e: Error| e.with_context(L::OPERATION, Some(&q.bucket.name), None);
    let max = q.max.1.map(|n| n.to_string());
    let params = [
        Some((q.subresource, "")),
        q.url_encoding.then_some(("encoding-type", "url")),
        q.prefix.map(|v| ("prefix", v)),
        q.delimiter.map(|v| ("delimiter", v)),
        key_marker.as_deref().map(|v| ("key-marker", v)),
        id_marker.as_deref().map(|v| (L::SECOND_MARKER, v)),
        max.as_deref().map(|v| (q.max.0, v)),
    ];
    let req = OpRequest::new(L::OPERATION, Method::GET)
        .bucket(&q.bucket.name)
        .query(params.into_iter().flatten());
    let req = q.extra.apply(req, scope::ALL);
    let resp = q.bucket.client.execute(req).await?;
    let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
    parse(&body)
        .map_err(|e| ctx(Error::invalid_response(format!("malformed {result}")).with_source(e)))
}

struct State<L> {
    list: L,
    /// `Some(markers)` while another page is to be fetched.
    next: Option<Markers>,
    seen: HashSet<Markers>,
    pages: usize,
    /// An error found after a page was fetched, yielded after that page.
    deferred: Option<Error>,
}

/// Refuses starting markers S3 cannot follow: a second marker without the key marker it
/// belongs to.
///
/// # Errors
///
/// `InvalidInput`, with the operation and bucket.
pub(crate) fn check_start<L: MarkerListing>(list: &L, first: &Markers) -> Result<()> {
    if first.0.is_none() && first.1.is_some() {
        return Err(Error::invalid_input(format!(
            "{} needs a key-marker (the key it belongs to)",
            L::SECOND_MARKER
        ))
        .with_context(L::OPERATION, Some(list.bucket_name()), None));
    }
    Ok(())
}

/// Every page of `list`, starting at `first` (a bad start is the stream's only item).
pub(crate) fn pages<L: MarkerListing>(list: L, first: Markers) -> BoxStream<L::Page> {
    let deferred = check_start(&list, &first).err();
    let state = State {
        list,
        next: deferred.is_none().then(|| first.clone()),
        // The starting markers count as seen: answered back, they are a loop.
        seen: HashSet::from([first]),
        pages: 0,
        deferred,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        if let Some(e) = st.deferred.take() {
            return Some((Err(e), st));
        }
        let markers = st.next.take()?;
        st.pages += 1;
        let page = match st.list.fetch(markers).await {
            Ok(p) => p,
            Err(e) => return Some((Err(e), st)),
        };
        let (truncated, next) = L::next(&page);
        if truncated {
            let why = if next.0.is_none() && next.1.is_none() {
                Some("a truncated page came without a next marker")
            } else if st.pages >= MAX_PAGES || !st.seen.insert(next.clone()) {
                Some("the server repeated its next markers (pagination loop)")
            } else {
                st.next = Some(next);
                None
            };
            if let Some(why) = why {
                st.deferred = Some(Error::invalid_response(why).with_context(
                    L::OPERATION,
                    Some(st.list.bucket_name()),
                    None,
                ));
            }
        }
        Some((Ok(page), st))
    }))
}

/// The entries of every page, flattened.
pub(crate) fn entries<P, T, F>(pages: BoxStream<P>, split: F) -> BoxStream<T>
where
    P: Send + 'static,
    T: Send + 'static,
    F: Fn(P) -> Vec<T> + Send + 'static,
{
    use futures_util::StreamExt;
    Box::pin(
        pages
            .map(move |page| {
                let items: Vec<Result<T>> = match page {
                    Ok(p) => split(p).into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                futures_util::stream::iter(items)
            })
            .flatten(),
    )
}

/// Declares a public stream type around a [`BoxStream`].
macro_rules! public_stream {
    ($(#[$doc:meta])* $name:ident => $item:ty) => {
        $(#[$doc])*
        #[must_use = "streams do nothing unless polled"]
        pub struct $name {
            inner: $crate::ops::paging::BoxStream<$item>,
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        impl ::futures_core::Stream for $name {
            type Item = $crate::error::Result<$item>;

            fn poll_next(
                mut self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<Option<Self::Item>> {
                self.inner.as_mut().poll_next(cx)
            }
        }
    };
}
pub(crate) use public_stream;
