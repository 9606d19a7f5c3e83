//! Lazy walks over paged listings, driven by [`polyv_core::Paginator`].

use std::iter::FusedIterator;

use polyv_core::{Error, GetByUploader, Page, Paged, Paginator, Video};

use crate::Client;

/// Every page of a paged listing, fetched one at a time as the iterator is
/// advanced (nothing is fetched before the first `next`).
///
/// Each page is one [`Client::call`], retries included. When a page fails,
/// the error is yielded and the iterator ends: a failed page is never skipped.
/// Made by [`Client::pages`] or [`Client::paginate`].
#[derive(Debug)]
pub struct Pages<E: Paged = GetByUploader> {
    client: Client,
    walk: Paginator<E>,
    pages_done: u32,
    total_items: Option<u64>,
    failed: bool,
}

impl<E: Paged> Pages<E> {
    pub(crate) fn new(client: Client, walk: Paginator<E>) -> Self {
        Self {
            client,
            walk,
            pages_done: 0,
            total_items: None,
            failed: false,
        }
    }

    /// Pages fetched and yielded so far.
    pub fn pages_done(&self) -> u32 {
        self.pages_done
    }

    /// The last page number, as the latest response reported it; `None`
    /// before the first page arrives.
    pub fn last_page(&self) -> Option<u64> {
        self.walk.last_page()
    }

    /// The listing's size, as the latest response reported it; `None` before
    /// the first page arrives.
    pub fn total_items(&self) -> Option<u64> {
        self.total_items
    }

    /// The number of the page the next call of `next` will fetch, or `None`
    /// when the walk is over.
    pub fn next_page(&self) -> Option<u32> {
        self.walk.next_page()
    }

    /// Whether the walk ended on an error.
    pub fn failed(&self) -> bool {
        self.failed
    }
}

impl<E: Paged> Iterator for Pages<E> {
    type Item = Result<Page<E::Item>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let query = self.walk.next_query()?;
        match self.client.call(&query) {
            Err(error) => {
                self.walk.finish();
                self.failed = true;
                Some(Err(error))
            }
            // A page other than the one asked for ends the walk (the
            // paginator has already ended it).
            Ok(page) if !self.walk.accept(&page) => None,
            Ok(page) => {
                self.pages_done = self.pages_done.saturating_add(1);
                self.total_items = Some(page.total_items);
                Some(Ok(page))
            }
        }
    }
}

impl<E: Paged> FusedIterator for Pages<E> {}

/// Every video a get-by-uploader query matches, fetched lazily one page at a
/// time: at most one page is held in memory.
///
/// Each item is `Ok(video)` or, when a page could not be fetched (after the
/// client's retries), one `Err` after which the iterator ends. Made by
/// [`Client::videos`]; the progress methods let a caller draw a progress bar.
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
pub struct Videos {
    pages: Pages<GetByUploader>,
    current: std::vec::IntoIter<Video>,
}

impl Videos {
    pub(crate) fn new(pages: Pages<GetByUploader>) -> Self {
        Self {
            pages,
            current: Vec::new().into_iter(),
        }
    }

    /// Pages fetched so far.
    pub fn pages_done(&self) -> u32 {
        self.pages.pages_done()
    }

    /// The last page number, as the latest response reported it; `None`
    /// before the first page arrives.
    pub fn last_page(&self) -> Option<u64> {
        self.pages.last_page()
    }

    /// The number of matching videos, as the latest response reported it;
    /// `None` before the first page arrives.
    pub fn total_items(&self) -> Option<u64> {
        self.pages.total_items()
    }

    /// The number of the page that will be fetched once the current one is
    /// used up, or `None` when no page is left to fetch.
    pub fn next_page(&self) -> Option<u32> {
        self.pages.next_page()
    }

    /// Whether the walk ended on an error.
    pub fn failed(&self) -> bool {
        self.pages.failed()
    }
}

impl Iterator for Videos {
    type Item = Result<Video, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(video) = self.current.next() {
                return Some(Ok(video));
            }
            match self.pages.next()? {
                Ok(page) => self.current = page.items.into_iter(),
                Err(error) => return Some(Err(error)),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.current.len();
        if self.pages.next_page().is_none() {
            (buffered, Some(buffered))
        } else {
            (buffered, None)
        }
    }
}

impl FusedIterator for Videos {}
