//! The lazy walk over every page of a get-by-uploader listing.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesOrdered;
use polyv_core::Paginator;
use tracing::Instrument as _;

use crate::{Client, Error, GetByUploader, Page, Video};

type PageFuture = Pin<Box<dyn Future<Output = Result<Page<Video>, Error>> + Send>>;

/// Every video a [`GetByUploader`] query matches, in server order, as a
/// [`Stream`] of `Result<Video, Error>`. Made by [`Client::videos`].
///
/// It is lazy: a page is requested only when the stream is polled and needs
/// it. [`polyv_core::Paginator`] decides which pages belong to the walk and
/// when it ends (last page, empty or short page, a server answering another
/// page than the one asked). After an error is yielded the stream ends: a
/// failed page is never skipped silently. Every request, fetch-ahead ones
/// included, goes through the client's retry loop and shared rate limiter.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use polyv_async::{Client, GetByUploader};
///
/// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
/// let mut videos = client.videos(&GetByUploader::new()).fetch_ahead(4);
/// while let Some(video) = videos.next().await {
///     let video = video?;
///     println!("{} {}", video.vid, video.title);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing unless polled"]
pub struct Videos {
    client: Client,
    query: GetByUploader,
    paginator: Paginator<GetByUploader>,
    fetch_ahead: usize,
    /// Requests in flight, for pages `paginator.next_page()..next_to_request`.
    in_flight: FuturesOrdered<PageFuture>,
    /// The next page number not yet requested.
    next_to_request: Option<NonZeroU32>,
    /// The accepted page's videos not yet yielded.
    ready: VecDeque<Video>,
    done: bool,
}

impl Videos {
    pub(crate) fn new(client: Client, query: GetByUploader) -> Self {
        let paginator = Paginator::new(query.clone());
        let next_to_request = paginator.next_page().and_then(NonZeroU32::new);
        Self {
            client,
            query,
            paginator,
            fetch_ahead: 1,
            in_flight: FuturesOrdered::new(),
            next_to_request,
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// Keeps up to `n` page requests in flight once the first page has told
    /// how many pages there are (values below 1 count as 1).
    ///
    /// The default, 1, fetches one page after the other. **4 is the
    /// recommended setting** for long listings: it hides most of the network
    /// latency while staying well within the rate limit, which still paces
    /// every request. Pages are still judged and yielded strictly in order;
    /// memory stays bounded by `n` pages; requests still in flight when the
    /// walk ends (or the stream is dropped) are cancelled.
    ///
    /// ```no_run
    /// # use polyv_async::{Client, GetByUploader};
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let all = client.videos(&GetByUploader::new()).fetch_ahead(4).collect_all().await?;
    /// # let _ = all;
    /// # Ok(()) }
    /// ```
    pub fn fetch_ahead(mut self, n: usize) -> Self {
        self.fetch_ahead = n.max(1);
        self
    }

    /// Drains the stream into a `Vec`, stopping at the first error.
    ///
    /// ```no_run
    /// # use polyv_async::{Client, GetByUploader};
    /// # async fn run(client: Client) -> Result<(), polyv_async::Error> {
    /// let all = client.videos(&GetByUploader::new()).collect_all().await?;
    /// println!("{} videos", all.len());
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(mut self) -> Result<Vec<Video>, Error> {
        let mut all = Vec::new();
        while let Some(video) = self.next().await {
            all.push(video?);
        }
        Ok(all)
    }

    /// Requests the pages the walk may need next: the page the paginator
    /// waits for, and, once the last page is known, the following ones up to
    /// `fetch_ahead` requests in flight.
    fn schedule(&mut self) {
        let Some(expected) = self.paginator.next_page() else {
            return;
        };
        while let Some(page) = self.next_to_request {
            let needed = page.get() <= expected;
            let ahead = self.in_flight.len() < self.fetch_ahead
                && self
                    .paginator
                    .last_page()
                    .is_some_and(|last| u64::from(page.get()) <= last);
            if !needed && !ahead {
                break;
            }
            let client = self.client.clone();
            let query = self.query.with_page(page);
            self.in_flight.push_back(Box::pin(
                async move { client.get_by_uploader(&query).await }
                    .instrument(tracing::debug_span!("polyv.page", page = page.get())),
            ));
            self.next_to_request = page.checked_add(1);
        }
    }

    fn end(&mut self) {
        self.done = true;
        self.paginator.finish();
        // Cancels whatever is still in flight.
        self.in_flight = FuturesOrdered::new();
    }
}

impl Stream for Videos {
    type Item = Result<Video, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(video) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(video)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            this.schedule();
            match ready!(this.in_flight.poll_next_unpin(cx)) {
                None => {
                    this.end();
                    return Poll::Ready(None);
                }
                Some(Err(error)) => {
                    this.end();
                    return Poll::Ready(Some(Err(error)));
                }
                Some(Ok(page)) => {
                    if this.paginator.accept(&page) {
                        this.ready.extend(page.items);
                    }
                    if this.paginator.next_page().is_none() {
                        this.end();
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (self.ready.len(), Some(self.ready.len()))
        } else {
            (self.ready.len(), None)
        }
    }
}

impl fmt::Debug for Videos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Videos")
            .field("client", &self.client)
            .field("paginator", &self.paginator)
            .field("fetch_ahead", &self.fetch_ahead)
            .field("in_flight", &self.in_flight.len())
            .field("next_to_request", &self.next_to_request)
            .field("ready", &self.ready.len())
            .field("done", &self.done)
            .finish()
    }
}
