//! Lazy walks over paged listings, driven by [`polyv_core::driver::Paginator`], with
//! optional fetch-ahead on a few worker threads.

use std::collections::BTreeMap;
use std::iter::FusedIterator;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use polyv_core::driver::{Paginator, Progress};
use polyv_core::{Error, GetByUploader, Page, Paged, Records, TransportErrorKind};

use crate::Client;

/// Every page of a paged listing, in order, fetched lazily (nothing is
/// fetched before the first `next`).
///
/// Each page is one [`Client::call`], retries included. When a page fails,
/// the error is yielded and the iterator ends: a failed page is never skipped.
/// By default one page is fetched at a time, on the caller's thread;
/// [`fetch_ahead`](Self::fetch_ahead) keeps several requests in flight.
/// Made by [`Client::pages`] or [`Client::paginate`].
#[derive(Debug)]
pub struct Pages<E: Paged = GetByUploader> {
    client: Client,
    walk: Paginator<E>,
    fetch_ahead: usize,
    /// The worker threads, started by the first `next` when fetching ahead.
    workers: Option<Workers<E>>,
}

impl<E: Paged> Pages<E> {
    pub(crate) fn new(client: Client, walk: Paginator<E>) -> Self {
        Self {
            client,
            walk,
            fetch_ahead: 1,
            workers: None,
        }
    }

    /// Keeps up to `n` page requests in flight once the first page has told
    /// how many pages there are (values below 1 count as 1), on `n` worker
    /// threads started for this walk.
    ///
    /// The default, 1, fetches one page after the other on the caller's
    /// thread. **4 is the recommended setting** for long listings over a real
    /// network: it hides most of the latency while the client's rate limiter
    /// still paces every request. Pages are still judged and yielded strictly
    /// in order, so the result is the same as a sequential walk, and at most
    /// `n` pages are held. When the walk ends early (an error, or the
    /// iterator is dropped), requests already sent finish in the background
    /// (a blocking request cannot be cancelled) and their pages are
    /// discarded; no new request is sent.
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, GetByUploader};
    ///
    /// let client = Client::from_env()?;
    /// for page in client.pages(&GetByUploader::new()).fetch_ahead(4) {
    ///     println!("{} videos", page?.items.len());
    /// }
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn fetch_ahead(mut self, n: usize) -> Self {
        self.fetch_ahead = n.max(1);
        self
    }

    /// How far the walk has got (pages done, last page, total, failure).
    pub fn progress(&self) -> Progress {
        self.walk.progress()
    }

    /// Judges a fetched page (the core's paginator decides) and stops the
    /// workers once the walk is over.
    fn judge(
        &mut self,
        fetched: Result<Page<E::Item>, Error>,
    ) -> Option<Result<Page<E::Item>, Error>> {
        let outcome = self.walk.judge(fetched);
        if self.walk.next_page().is_none() {
            // Stops the workers: no new request is sent.
            self.workers = None;
        }
        outcome
    }
}

impl<E> Iterator for Pages<E>
where
    E: Paged + Send + 'static,
    E::Item: Send + 'static,
{
    type Item = Result<Page<E::Item>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        // Once workers run, they serve the rest of the walk (its pages may be
        // in flight), whatever `fetch_ahead` says now.
        if self.fetch_ahead == 1 && self.workers.is_none() {
            let query = self.walk.next_request(0, 1)?;
            let fetched = self.client.call(&query);
            return self.judge(fetched);
        }
        let expected = self.walk.next_page()?;
        let workers = self
            .workers
            .get_or_insert_with(|| Workers::start(&self.client, self.fetch_ahead));
        while let Some(query) = self
            .walk
            .next_request(workers.outstanding(), self.fetch_ahead)
        {
            workers.send(query);
        }
        let fetched = workers.receive(expected);
        self.judge(fetched)
    }
}

impl<E> FusedIterator for Pages<E>
where
    E: Paged + Send + 'static,
    E::Item: Send + 'static,
{
}

/// What a worker sends back: the page number asked for and the outcome, or
/// the panic that interrupted the call (re-raised on the caller's thread).
type Fetched<T> = (u32, thread::Result<Result<Page<T>, Error>>);

/// A fetch-ahead walk's worker threads. Dropping it closes the job queue:
/// each worker finishes the request it is on and exits.
struct Workers<E: Paged> {
    jobs: mpsc::Sender<E>,
    results: mpsc::Receiver<Fetched<E::Item>>,
    /// Pages that arrived before the one the walk waits for.
    arrived: BTreeMap<u32, Result<Page<E::Item>, Error>>,
    in_flight: usize,
    /// Why no worker could be started, reported for the page the walk waits for.
    start_error: Option<String>,
}

impl<E> Workers<E>
where
    E: Paged + Send + 'static,
    E::Item: Send + 'static,
{
    fn start(client: &Client, n: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<E>();
        let queue = Arc::new(Mutex::new(queue));
        let (done, results) = mpsc::channel();
        let mut start_error = None;
        let mut started = 0;
        for i in 0..n {
            let (client, queue, done) = (client.clone(), Arc::clone(&queue), done.clone());
            let spawned = thread::Builder::new()
                .name(format!("polyv-fetch-{i}"))
                .spawn(move || work(&client, &queue, &done));
            match spawned {
                Ok(_) => started += 1,
                Err(error) => start_error = Some(error.to_string()),
            }
        }
        Self {
            jobs,
            results,
            arrived: BTreeMap::new(),
            in_flight: 0,
            // Fewer workers than asked only lowers the concurrency.
            start_error: start_error.filter(|_| started == 0),
        }
    }

    /// Pages requested and not yet handed to the walk: in flight, or
    /// arrived early and held. Counting the held ones keeps the window (and
    /// the memory held) at `n` pages however the answers are ordered.
    fn outstanding(&self) -> usize {
        self.in_flight + self.arrived.len()
    }

    fn send(&mut self, query: E) {
        // Workers leave only when this sender is dropped, so the queue is
        // open; if every worker failed to start, `receive` reports it.
        if self.jobs.send(query).is_ok() {
            self.in_flight += 1;
        }
    }

    /// Waits for page `page`, keeping whatever arrives before it.
    fn receive(&mut self, page: u32) -> Result<Page<E::Item>, Error> {
        loop {
            if let Some(fetched) = self.arrived.remove(&page) {
                return fetched;
            }
            let Ok((number, outcome)) = self.results.recv() else {
                let why = self
                    .start_error
                    .take()
                    .unwrap_or_else(|| "every worker stopped".into());
                return Err(Error::Transport {
                    kind: TransportErrorKind::Other,
                    message: format!("fetch-ahead: no worker thread to fetch page {page}: {why}"),
                    cause: None,
                });
            };
            self.in_flight -= 1;
            match outcome {
                Ok(fetched) => {
                    self.arrived.insert(number, fetched);
                }
                Err(payload) => panic::resume_unwind(payload),
            }
        }
    }
}

/// A worker: takes page requests off the queue until it closes.
fn work<E: Paged>(
    client: &Client,
    queue: &Mutex<mpsc::Receiver<E>>,
    done: &mpsc::Sender<Fetched<E::Item>>,
) {
    loop {
        // The lock is held only while waiting for a job, not during the call.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(query) = job else { return };
        let number = query.page_number();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| client.call(&query)));
        if done.send((number, outcome)).is_err() {
            return;
        }
    }
}

impl<E: Paged> std::fmt::Debug for Workers<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("in_flight", &self.in_flight)
            .field("arrived", &self.arrived.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Every item of a paged listing (every video, for get-by-uploader),
/// fetched lazily one page at a time (or [`fetch_ahead`](Self::fetch_ahead)
/// pages at a time): at most one page (or that many) is held in memory.
///
/// Each item is `Ok(item)`; a record that could not be read is an
/// [`Error::UnreadableRecord`] in its place, after which the walk goes on;
/// when a page could not be fetched (after the client's retries), that error
/// is yielded and the iterator ends. The same item is never yielded twice,
/// even when the listing changes during the walk ([`Progress`] reports the
/// change). Made by [`Client::items`] and [`Client::videos`]; the progress
/// methods let a caller draw a progress bar.
///
/// ```no_run
/// use polyv_blocking::{Client, GetByUploader};
///
/// let client = Client::from_env()?;
/// let all: Vec<_> = client.videos(&GetByUploader::new()).collect::<Result<_, _>>()?;
/// println!("{} videos", all.len());
/// # Ok::<(), polyv_blocking::Error>(())
/// ```
#[derive(Debug)]
pub struct Items<E: Paged> {
    pages: Pages<E>,
    current: Records<E::Item>,
}

/// Every video a get-by-uploader query matches: see [`Items`].
pub type Videos = Items<GetByUploader>;

impl<E: Paged> Items<E> {
    pub(crate) fn new(pages: Pages<E>) -> Self {
        Self {
            pages,
            current: Records::default(),
        }
    }

    /// Keeps up to `n` page requests in flight; see [`Pages::fetch_ahead`].
    ///
    /// ```no_run
    /// use polyv_blocking::{Client, GetByUploader};
    ///
    /// let client = Client::from_env()?;
    /// for video in client.videos(&GetByUploader::new()).fetch_ahead(4) {
    ///     println!("{}", video?.title());
    /// }
    /// # Ok::<(), polyv_blocking::Error>(())
    /// ```
    pub fn fetch_ahead(mut self, n: usize) -> Self {
        self.pages = self.pages.fetch_ahead(n);
        self
    }

    /// How far the walk has got (pages done, last page, total, changes,
    /// failure).
    pub fn progress(&self) -> Progress {
        self.pages.progress()
    }
}

impl<E> Iterator for Items<E>
where
    E: Paged + Send + 'static,
    E::Item: Send + 'static,
{
    type Item = Result<E::Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.current.next() {
                return Some(record.map_err(Error::from));
            }
            match self.pages.next()? {
                Ok(page) => self.current = page.records(),
                Err(error) => return Some(Err(error)),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.current.len();
        if self.pages.progress().next_page.is_none() {
            (buffered, Some(buffered))
        } else {
            (buffered, None)
        }
    }
}

impl<E> FusedIterator for Items<E>
where
    E: Paged + Send + 'static,
    E::Item: Send + 'static,
{
}
