//! Pagination by a pair of markers (`key-marker` plus `version-id-marker` or
//! `upload-id-marker`), shared by ListObjectVersions and ListMultipartUploads: pages are
//! fetched one after the other as the stream is polled, and a server that repeats its markers
//! or truncates a page without them is an error instead of an endless loop.

use crate::error::{Error, Result};
use futures_core::Stream;
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
