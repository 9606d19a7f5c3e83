//! Walking every page of a listing, as a state machine: it says which page to
//! fetch next and judges each page that comes back. Transports do the fetching.

use std::num::NonZeroU32;

use crate::{Page, Paged};

/// The pagination state of a walk over a [`Paged`] endpoint.
///
/// It ends at the last page (`ceil(totalItems / pageSize)` from the latest
/// response), on an empty or short page, or when the server answers with
/// another page than the one asked for (a server that clamps page numbers
/// would otherwise serve its last page forever). Page numbers only go up, so a
/// walk always ends even when `totalItems` changes between pages.
///
/// ```
/// use polyv_core::{GetByUploader, Page, Paginator, Video};
///
/// let mut walk = Paginator::new(GetByUploader::new());
/// let first = walk.next_query().unwrap();
/// assert_eq!(first.page(), 1);
/// let page: Page<Video> = serde_json::from_str(
///     r#"{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}"#,
/// ).unwrap();
/// assert!(walk.accept(&page)); // the page belongs to the walk (it is empty)...
/// assert!(walk.next_query().is_none()); // ...and ends it.
/// ```
#[derive(Debug, Clone)]
pub struct Paginator<E> {
    query: E,
    next: Option<NonZeroU32>,
    progress: Progress,
}

/// How far a walk has got: what a progress bar needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Pages accepted so far.
    pub pages_done: u32,
    /// The last page number, as the latest accepted response reported it;
    /// `None` before the first page arrives.
    pub last_page: Option<u64>,
    /// The listing's size, as the latest accepted response reported it;
    /// `None` before the first page arrives.
    pub total_items: Option<u64>,
    /// The next page the walk will accept, or `None` when it is over.
    pub next_page: Option<u32>,
    /// Whether the walk ended on an error.
    pub failed: bool,
}

impl<E: Paged> Paginator<E> {
    /// A walk starting at the query's own page.
    pub fn new(query: E) -> Self {
        let next = NonZeroU32::new(query.page_number()).or(NonZeroU32::new(1));
        Self {
            query,
            next,
            progress: Progress::default(),
        }
    }

    /// The query for the next page to fetch, or `None` when the walk is over.
    pub fn next_query(&self) -> Option<E> {
        self.next.map(|page| self.query.for_page(page))
    }

    /// The number of the next page to accept, while the walk goes on.
    pub fn next_page(&self) -> Option<u32> {
        self.next.map(NonZeroU32::get)
    }

    /// The last page according to the latest response, once one has arrived.
    pub fn last_page(&self) -> Option<u64> {
        self.progress.last_page
    }

    /// How far the walk has got.
    pub fn progress(&self) -> Progress {
        Progress {
            next_page: self.next_page(),
            ..self.progress
        }
    }

    /// Judges the page that answered [`next_query`](Self::next_query). Returns
    /// whether its items belong to the walk (yield them when `true`), and moves
    /// on to the next page or ends the walk.
    pub fn accept(&mut self, page: &Page<E::Item>) -> bool {
        let Some(expected) = self.next else {
            return false;
        };
        if page.page_number != expected.get() {
            self.next = None;
            return false;
        }
        let last = page.last_page();
        self.progress.last_page = Some(last);
        self.progress.total_items = Some(page.total_items);
        self.progress.pages_done = self.progress.pages_done.saturating_add(1);
        let short = u64::try_from(page.items.len()).unwrap_or(u64::MAX) < u64::from(page.page_size);
        self.next = if page.items.is_empty() || short || u64::from(expected.get()) >= last {
            None
        } else {
            expected.checked_add(1)
        };
        true
    }

    /// Ends the walk early.
    pub fn finish(&mut self) {
        self.next = None;
    }

    /// Ends the walk because a page could not be fetched: the caller reports
    /// the error, and the walk never skips past it.
    pub fn fail(&mut self) {
        self.next = None;
        self.progress.failed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GetByUploader, Video};

    fn video(i: u64) -> Video {
        serde_json::from_value(serde_json::json!({
            "vid": format!("v{i}"), "cataid": 1, "title": "t", "context": "", "times": i,
            "firstImage": "", "tag": "", "aacLink": null, "status": "61",
            "uploaderEmail": "a@b.c", "ptime": 0
        }))
        .unwrap()
    }

    /// A server holding `total` items that serves pages of `size`.
    fn serve(total: u64, size: u32, number: u32) -> Page<Video> {
        let start = u64::from(number - 1) * u64::from(size);
        let end = (start + u64::from(size)).min(total);
        Page {
            page_number: number,
            page_size: size,
            total_items: total,
            total_pages: None,
            items: (start..end.max(start)).map(video).collect(),
        }
    }

    fn walk(total: u64, size: u32) -> (Vec<String>, u32) {
        let mut p = Paginator::new(GetByUploader::new());
        let mut seen = Vec::new();
        let mut fetched = 0;
        while let Some(q) = p.next_query() {
            fetched += 1;
            assert!(fetched < 10_000, "runaway walk");
            let page = serve(total, size, q.page());
            if p.accept(&page) {
                seen.extend(page.items.into_iter().map(|v| v.vid().to_owned()));
            }
        }
        (seen, fetched)
    }

    #[test]
    fn boundaries() {
        for (total, size, pages) in [
            (0, 20, 1),
            (1, 20, 1),
            (20, 20, 1),
            (21, 20, 2),
            (1000, 20, 50),
            (1000, 1000, 1),
        ] {
            let (seen, fetched) = walk(total, size);
            let expected: Vec<String> = (0..total).map(|i| format!("v{i}")).collect();
            assert_eq!(seen, expected, "{total}/{size}");
            assert_eq!(fetched, pages, "{total}/{size}");
        }
    }

    #[test]
    fn a_clamping_server_cannot_loop_it() {
        let mut p = Paginator::new(GetByUploader::new());
        assert!(p.accept(&serve(100, 20, 1)));
        // The server answers page 1 again instead of page 2.
        assert!(!p.accept(&serve(100, 20, 1)));
        assert!(p.next_query().is_none());
    }

    #[test]
    fn a_shrinking_total_ends_early_and_a_growing_one_is_followed() {
        let mut p = Paginator::new(GetByUploader::new());
        assert!(p.accept(&serve(100, 20, 1)));
        assert_eq!(p.last_page(), Some(5));
        assert!(p.accept(&serve(30, 20, 2))); // shrank: page 2 is short, the walk ends
        assert!(p.next_query().is_none());
        let progress = p.progress();
        assert_eq!(
            (
                progress.pages_done,
                progress.last_page,
                progress.total_items,
                progress.next_page,
                progress.failed
            ),
            (2, Some(2), Some(30), None, false)
        );

        let mut p = Paginator::new(GetByUploader::new());
        assert!(p.accept(&serve(40, 20, 1)));
        assert!(p.accept(&serve(60, 20, 2))); // grew: page 3 now exists
        assert_eq!(p.next_page(), Some(3));
        assert!(p.accept(&serve(60, 20, 3)));
        assert!(p.next_query().is_none());
    }

    #[test]
    fn a_failure_ends_the_walk_and_is_recorded() {
        let mut p = Paginator::new(GetByUploader::new());
        assert!(p.accept(&serve(100, 20, 1)));
        assert_eq!(p.progress().next_page, Some(2));
        p.fail();
        assert!(p.next_query().is_none());
        assert!(p.progress().failed);
        assert_eq!(p.progress().pages_done, 1);
    }

    #[test]
    fn starts_at_the_querys_page() {
        let q = GetByUploader::builder().page(3).build().unwrap();
        let p = Paginator::new(q);
        assert_eq!(p.next_page(), Some(3));
    }
}
