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
    /// The next page not yet handed out by [`Paginator::next_request`].
    unrequested: Option<NonZeroU32>,
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
            unrequested: next,
            progress: Progress::default(),
        }
    }

    /// The next page to request for a walk that keeps up to `window`
    /// requests in flight (`in_flight` of them are), or `None` for now.
    ///
    /// The page the walk waits for is always due. Pages after it are due
    /// only once a response has told where the listing ends, and only
    /// while fewer than `window` requests are in flight; they are handed
    /// out in order, each once. Call it until it returns `None`, then wait
    /// for the page [`next_page`](Self::next_page) names and
    /// [`accept`](Self::accept) it: pages must be judged in order, however
    /// they arrive. With a window of 1 this is the sequential walk.
    ///
    /// ```
    /// use polyv_core::{GetByUploader, Paginator};
    ///
    /// let mut walk = Paginator::new(GetByUploader::new());
    /// // Until a response tells where the listing ends, only page 1 is due.
    /// assert_eq!(walk.next_request(0, 4).map(|q| q.page()), Some(1));
    /// assert!(walk.next_request(1, 4).is_none());
    /// ```
    pub fn next_request(&mut self, in_flight: usize, window: usize) -> Option<E> {
        let expected = self.next?;
        // Never behind the walk, even if pages were fetched through
        // `next_query` instead.
        let page = self.unrequested?.max(expected);
        let due = page == expected;
        let ahead = in_flight < window
            && self
                .progress
                .last_page
                .is_some_and(|last| u64::from(page.get()) <= last);
        if !due && !ahead {
            return None;
        }
        self.unrequested = page.checked_add(1);
        Some(self.query.for_page(page))
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

    /// Drives a walk the way a fetch-ahead transport does: requests in
    /// flight are answered in any order, pages are accepted in order.
    fn walk_with_window(total: u64, window: usize, answer_newest_first: bool) -> (Vec<u32>, u32) {
        let mut p = Paginator::new(GetByUploader::new());
        let mut in_flight: Vec<u32> = Vec::new();
        let mut requested = Vec::new();
        let mut max_in_flight = 0;
        loop {
            while let Some(q) = p.next_request(in_flight.len(), window) {
                requested.push(q.page());
                in_flight.push(q.page());
            }
            max_in_flight = max_in_flight.max(in_flight.len());
            let Some(expected) = p.next_page() else { break };
            assert!(
                in_flight.contains(&expected),
                "page {expected} was never requested"
            );
            // Whatever else arrives first waits; the expected page is judged.
            if answer_newest_first {
                in_flight.reverse();
            }
            in_flight.retain(|&n| n != expected);
            assert!(p.accept(&serve(total, 20, expected)));
        }
        (requested, max_in_flight as u32)
    }

    #[test]
    fn fetch_ahead_requests_each_page_once_in_order_within_the_window() {
        for (total, window) in [
            (0, 4),
            (1, 4),
            (20, 4),
            (21, 4),
            (1000, 1),
            (1000, 4),
            (1000, 16),
            (95, 100),
        ] {
            for newest_first in [false, true] {
                let (requested, max) = walk_with_window(total, window, newest_first);
                let pages = total.div_ceil(20).max(1) as u32;
                assert_eq!(
                    requested,
                    (1..=pages).collect::<Vec<_>>(),
                    "{total} items, window {window}"
                );
                assert!(
                    max as usize <= window.max(1),
                    "{total} items, window {window}: {max} in flight"
                );
            }
        }
    }

    #[test]
    fn only_the_first_page_is_due_before_the_end_is_known() {
        let mut p = Paginator::new(GetByUploader::new());
        assert_eq!(p.next_request(0, 8).map(|q| q.page()), Some(1));
        assert!(p.next_request(1, 8).is_none());
        assert!(p.accept(&serve(200, 20, 1)));
        let mut in_flight = 0;
        let ahead: Vec<u32> = std::iter::from_fn(|| {
            let page = p.next_request(in_flight, 3).map(|q| q.page());
            in_flight += 1;
            page
        })
        .collect();
        assert_eq!(ahead, [2, 3, 4]);
        // With the window full, only the page the walk waits for is due.
        assert!(p.next_request(3, 3).is_none());
        p.finish();
        assert!(p.next_request(0, 8).is_none());
    }

    #[test]
    fn next_request_catches_up_with_next_query() {
        let mut p = Paginator::new(GetByUploader::new());
        let q = p.next_query().unwrap();
        assert!(p.accept(&serve(100, 20, q.page())));
        assert_eq!(p.next_request(0, 1).map(|q| q.page()), Some(2));
    }
}
