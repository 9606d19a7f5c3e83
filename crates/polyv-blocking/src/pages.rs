//! Lazy walks over paged listings, driven by [`polyv_core::Paginator`].

use std::iter::FusedIterator;

use polyv_core::{Error, GetByUploader, Page, Paged, Paginator, Progress, Video};

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
}

impl<E: Paged> Pages<E> {
    pub(crate) fn new(client: Client, walk: Paginator<E>) -> Self {
        Self { client, walk }
    }

    /// How far the walk has got (pages done, last page, total, failure).
    pub fn progress(&self) -> Progress {
        self.walk.progress()
    }
}

impl<E: Paged> Iterator for Pages<E> {
    type Item = Result<Page<E::Item>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let query = self.walk.next_query()?;
        match self.client.call(&query) {
            Err(error) => {
                self.walk.fail();
                Some(Err(error))
            }
            // A page other than the one asked for ends the walk (the
            // paginator has already ended it).
            Ok(page) if !self.walk.accept(&page) => None,
            Ok(page) => Some(Ok(page)),
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

    /// How far the walk has got (pages done, last page, total, failure).
    pub fn progress(&self) -> Progress {
        self.pages.progress()
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
        if self.pages.progress().next_page.is_none() {
            (buffered, Some(buffered))
        } else {
            (buffered, None)
        }
    }
}

impl FusedIterator for Videos {}
