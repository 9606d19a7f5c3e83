//! Lazy walks over paged listings, driven by [`polyv_core::driver::Paginator`],
//! with optional bounded fetch-ahead.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::{FusedStream, Stream};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesOrdered;
use polyv_core::driver::{Paginator, Progress};
use polyv_core::{Paged, Records};

use crate::{Client, Error, GetByUploader, Page};

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send>>;

/// Every page of a paged listing, in order, as a [`Stream`] of
/// `Result<Page<_>, Error>`. Made by [`Client::pages`] or [`Client::paginate`].
///
/// It is lazy: a page is requested only when the stream is polled and needs
/// it. [`polyv_core::driver::Paginator`] judges every page, strictly in page order,
/// and decides when the walk ends (last page, empty or short page, a server
/// answering another page than the one asked). After an error is yielded the
/// stream ends: a failed page is never skipped. Every request, fetch-ahead
/// ones included, goes through [`Client::call`] (retries) and the client's
/// shared rate limiter.
///
/// ```no_run
/// use futures_util::TryStreamExt;
/// use polyv_async::{Client, GetByUploader};
///
/// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
/// let mut pages = client.pages(&GetByUploader::new()).fetch_ahead(4);
/// while let Some(page) = pages.try_next().await? {
///     println!("page {}/{:?}: {} videos", page.page_number, pages.progress().last_page, page.items.len());
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing unless polled"]
pub struct Pages<E: Paged = GetByUploader> {
    client: Client,
    walk: Paginator<E>,
    fetch_ahead: usize,
    /// Requests for the pages from `walk.next_page()` on, in page order.
    in_flight: FuturesOrdered<PageFuture<E::Item>>,
    done: bool,
}

impl<E: Paged + Send + Sync + 'static> Pages<E>
where
    E::Item: Send + 'static,
{
    pub(crate) fn new(client: Client, query: E) -> Self {
        Self {
            client,
            walk: Paginator::new(query),
            fetch_ahead: 1,
            in_flight: FuturesOrdered::new(),
            done: false,
        }
    }

    /// Keeps up to `n` page requests in flight once the first page has told
    /// how many pages there are (values below 1 count as 1).
    ///
    /// The default, 1, fetches one page after the other. **4 is the
    /// recommended setting** for long listings: it hides most of the network
    /// latency while the rate limiter still paces every request. Pages are
    /// still judged and yielded strictly in order, so the result is the same
    /// as a sequential walk; at most `n` pages are in memory; requests still
    /// in flight when the walk ends (or the stream is dropped) are cancelled.
    ///
    /// ```no_run
    /// # use polyv_async::{Client, GetByUploader};
    /// # async fn run(client: Client) {
    /// let pages = client.pages(&GetByUploader::new()).fetch_ahead(4);
    /// # let _ = pages;
    /// # }
    /// ```
    pub fn fetch_ahead(mut self, n: usize) -> Self {
        self.fetch_ahead = n.max(1);
        self
    }

    /// Requests the pages the paginator says are due: the page it waits for
    /// and, once the last page is known, the following ones, up to
    /// `fetch_ahead` requests in flight.
    fn schedule(&mut self) {
        while let Some(query) = self
            .walk
            .next_request(self.in_flight.len(), self.fetch_ahead)
        {
            let client = self.client.clone();
            self.in_flight
                .push_back(Box::pin(async move { client.call(&query).await }));
        }
    }
}

impl<E: Paged> Pages<E> {
    /// How far the walk has got (pages done, last page, total, failure).
    pub fn progress(&self) -> Progress {
        self.walk.progress()
    }

    fn end(&mut self) {
        self.done = true;
        self.walk.finish();
        // Cancels whatever is still in flight.
        self.in_flight = FuturesOrdered::new();
    }
}

impl<E: Paged + Send + Sync + 'static> Stream for Pages<E>
where
    E::Item: Send + 'static,
{
    type Item = Result<Page<E::Item>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        this.schedule();
        let judged =
            ready!(this.in_flight.poll_next_unpin(cx)).and_then(|fetched| this.walk.judge(fetched));
        if !matches!(judged, Some(Ok(_))) || this.walk.next_page().is_none() {
            this.end();
        }
        Poll::Ready(judged)
    }
}

impl<E: Paged + Send + Sync + 'static> FusedStream for Pages<E>
where
    E::Item: Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

// No field is ever pinned: the page futures are boxed.
impl<E: Paged> Unpin for Pages<E> {}

impl<E: Paged + fmt::Debug> fmt::Debug for Pages<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("client", &self.client)
            .field("walk", &self.walk)
            .field("fetch_ahead", &self.fetch_ahead)
            .field("in_flight", &self.in_flight.len())
            .field("done", &self.done)
            .finish()
    }
}

/// Every item of a paged listing (every video, for a [`GetByUploader`]
/// query), in server order, as a [`Stream`] of `Result<E::Item, Error>`. Made
/// by [`Client::items`] and [`Client::videos`].
///
/// A flattened [`Pages`]: lazy, pages judged strictly in order, optional
/// bounded [`fetch_ahead`](Self::fetch_ahead). A record that could not be
/// read is an [`Error::UnreadableRecord`] in its place, and the walk goes
/// on; after a page-level error is yielded the stream ends (a failed page is
/// never skipped silently). The same item is never yielded twice, even when
/// the listing changes during the walk ([`Progress`] reports the change).
///
/// ```no_run
/// use futures_util::StreamExt;
/// use polyv_async::{Client, GetByUploader};
///
/// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
/// let mut videos = client.videos(&GetByUploader::new()).fetch_ahead(4);
/// while let Some(video) = videos.next().await {
///     println!("{}", video?.title());
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing unless polled"]
pub struct Items<E: Paged> {
    pages: Pages<E>,
    current: Records<E::Item>,
}

/// Every video a get-by-uploader query matches: see [`Items`].
pub type Videos = Items<GetByUploader>;

impl<E: Paged + Send + Sync + 'static> Items<E>
where
    E::Item: Send + 'static,
{
    pub(crate) fn new(pages: Pages<E>) -> Self {
        Self {
            pages,
            current: Records::default(),
        }
    }

    /// Keeps up to `n` page requests in flight; see [`Pages::fetch_ahead`].
    /// The default is 1 (sequential); **4 is the recommended setting**.
    ///
    /// ```no_run
    /// # use polyv_async::{Client, GetByUploader};
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let all = client.videos(&GetByUploader::new()).fetch_ahead(4).collect_all().await?;
    /// # let _ = all;
    /// # Ok(()) }
    /// ```
    pub fn fetch_ahead(mut self, n: usize) -> Self {
        self.pages = self.pages.fetch_ahead(n);
        self
    }

    /// Drains the stream into a `Vec`, stopping at the first error (an
    /// unreadable record included; iterate the stream to skip past those).
    ///
    /// ```no_run
    /// # use polyv_async::{Client, GetByUploader};
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let all = client.videos(&GetByUploader::new()).collect_all().await?;
    /// println!("{} videos", all.len());
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(mut self) -> Result<Vec<E::Item>, Error> {
        let mut all = Vec::new();
        while let Some(item) = self.next().await {
            all.push(item?);
        }
        Ok(all)
    }
}

impl<E: Paged + fmt::Debug> fmt::Debug for Items<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("pages", &self.pages)
            .field("buffered", &self.current.len())
            .finish()
    }
}

impl<E: Paged> Items<E> {
    /// How far the walk has got (pages done, last page, total, changes,
    /// failure).
    pub fn progress(&self) -> Progress {
        self.pages.progress()
    }
}

impl<E: Paged + Send + Sync + 'static> Stream for Items<E>
where
    E::Item: Send + 'static,
{
    type Item = Result<E::Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(record) = this.current.next() {
                return Poll::Ready(Some(record.map_err(Error::from)));
            }
            match ready!(this.pages.poll_next_unpin(cx)) {
                Some(Ok(page)) => this.current = page.records(),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.current.len();
        if self.pages.is_terminated() {
            (buffered, Some(buffered))
        } else {
            (buffered, None)
        }
    }
}

impl<E: Paged + Send + Sync + 'static> FusedStream for Items<E>
where
    E::Item: Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.current.len() == 0 && self.pages.is_terminated()
    }
}
