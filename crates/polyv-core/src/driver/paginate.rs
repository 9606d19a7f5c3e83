//! Walking every page of a listing, as a state machine: it says which page to
//! fetch next and judges each page that comes back. Transports do the fetching.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
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
/// **Listings that change mid-walk.** Offset paging over a listing that
/// changes (uploads landing at the front, deletions shifting pages) would
/// deliver some items twice and skip others. The paginator contains it: it
/// notices when `totalItems` changes between pages and reports it in
/// [`Progress::total_changed`], and it never lets the same item through
/// twice (for endpoints whose items have a key, [`Paged::item_key`]: the
/// `vid` of a video), counting what it dropped in
/// [`Progress::duplicates_dropped`]. Remembering the keys costs about 8
/// bytes per item (64-bit fingerprints in a sorted vector: about 0.8 MB per
/// 100,000 videos). Skips cannot be
/// detected from the pages alone; walking in upload order
/// ([`Order::PtimeAsc`](crate::Order::PtimeAsc)) makes new uploads land at
/// the end instead of shifting every page.
///
/// ```
/// use polyv_core::driver::Paginator;
/// use polyv_core::{GetByUploader, Page, Video};
///
/// let mut walk = Paginator::new(GetByUploader::new());
/// let first = walk.next_query().unwrap();
/// assert_eq!(first.page(), 1);
/// let mut page: Page<Video> = serde_json::from_str(
///     r#"{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}"#,
/// ).unwrap();
/// assert!(walk.accept(&mut page)); // the page belongs to the walk (it is empty)...
/// assert!(walk.next_query().is_none()); // ...and ends it.
/// ```
#[derive(Debug, Clone)]
pub struct Paginator<E> {
    query: E,
    next: Option<NonZeroU32>,
    /// The next page not yet handed out by [`Paginator::next_request`].
    unrequested: Option<NonZeroU32>,
    progress: Progress,
    /// The fingerprint of each item key seen so far.
    seen: SeenKeys,
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
    /// Set once `totalItems` differs between two pages of the walk: the
    /// listing changed while it was walked, so offset paging may have
    /// skipped items (duplicates are dropped, see
    /// [`duplicates_dropped`](Self::duplicates_dropped)).
    pub total_changed: Option<TotalChange>,
    /// Items dropped because the walk had already delivered an item with
    /// the same key.
    pub duplicates_dropped: u64,
    /// Records that could not be read (each delivered as a record error).
    pub unreadable: u64,
}

/// How a listing's `totalItems` changed during a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotalChange {
    /// The total the walk's first page reported.
    pub before: u64,
    /// The total the latest page reported.
    pub after: u64,
    /// The page on which the first change was seen.
    pub first_seen_on_page: u32,
}

impl<E: Paged> Paginator<E> {
    /// A walk starting at the query's own page, asking for the largest page
    /// the endpoint allows unless the query sets a page size
    /// ([`Paged::for_walk`]).
    pub fn new(query: E) -> Self {
        let query = query.for_walk();
        let next = NonZeroU32::new(query.page_number()).or(NonZeroU32::new(1));
        Self {
            query,
            next,
            unrequested: next,
            progress: Progress::default(),
            seen: SeenKeys::default(),
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
    /// use polyv_core::GetByUploader;
    /// use polyv_core::driver::Paginator;
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
    ///
    /// Items the walk has already delivered (same [`Paged::item_key`]) are
    /// removed from the page, and a change of `totalItems` since the first
    /// page is recorded in the progress.
    pub fn accept(&mut self, page: &mut Page<E::Item>) -> bool {
        let Some(expected) = self.next else {
            return false;
        };
        if page.page_number != expected.get() {
            self.next = None;
            return false;
        }
        // Judged on what the server sent, before duplicates are dropped.
        let records = u64::try_from(page.record_count()).unwrap_or(u64::MAX);
        let last = page.last_page();
        self.note_total(page.total_items, expected.get());
        self.progress.last_page = Some(last);
        self.progress.total_items = Some(page.total_items);
        self.progress.pages_done = self.progress.pages_done.saturating_add(1);
        self.progress.unreadable += page.unreadable.len() as u64;
        // Room for every key the listing announces, once, if its items
        // have keys at all.
        if self.progress.pages_done == 1 && page.items.first().and_then(E::item_key).is_some() {
            self.seen.expect(page.total_items);
        }
        self.drop_duplicates(page);
        let short = records < u64::from(page.page_size);
        self.next = if records == 0 || short || u64::from(expected.get()) >= last {
            None
        } else {
            expected.checked_add(1)
        };
        true
    }

    fn note_total(&mut self, total: u64, page: u32) {
        let Some(previous) = self.progress.total_items else {
            return;
        };
        match &mut self.progress.total_changed {
            Some(change) => change.after = total,
            None if previous != total => {
                self.progress.total_changed = Some(TotalChange {
                    before: previous,
                    after: total,
                    first_seen_on_page: page,
                });
            }
            None => {}
        }
    }

    fn drop_duplicates(&mut self, page: &mut Page<E::Item>) {
        let seen = &mut self.seen;
        let before = page.items.len();
        page.items.retain(|item| match E::item_key(item) {
            Some(key) if !key.is_empty() => seen.insert(fingerprint(key)),
            _ => true,
        });
        self.progress.duplicates_dropped += (before - page.items.len()) as u64;
    }

    /// Judges what came back for the page the walk waits for
    /// ([`next_page`](Self::next_page)): a page that belongs to the walk is
    /// returned (its duplicates dropped, see [`accept`](Self::accept)); a
    /// failed fetch ends the walk and its error is returned, never skipped;
    /// another page than the one asked for ends the walk with `None`.
    pub fn judge(
        &mut self,
        fetched: Result<Page<E::Item>, crate::Error>,
    ) -> Option<Result<Page<E::Item>, crate::Error>> {
        match fetched {
            Err(error) => {
                self.fail();
                Some(Err(error))
            }
            Ok(mut page) => self.accept(&mut page).then_some(Ok(page)),
        }
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

/// A SipHash of the key: 64 bits, so two different keys of one walk share
/// a fingerprint (and the second would be dropped as a duplicate) with a
/// probability of about n²/2⁶⁵: 3·10⁻¹⁰ for 100,000 videos, 3·10⁻⁶ for ten
/// million, far below the odds of the listing itself changing under the
/// walk. The price of 128 bits was twice the memory per key.
fn fingerprint(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// The fingerprints a walk has let through: a sorted vector, and the newest
/// in a small hash set that is merged into the vector when it reaches an
/// eighth of it. About 8 bytes a key, where a hash set of every key would
/// take 9 to 18 (its table doubles, and while it grows the old table and
/// the new one are both alive): a whole-catalogue walk's memory stays
/// close to what one page needs. Each merge moves every key once, and a
/// merge comes every n/8 new keys, so a key costs about 8 moves.
#[derive(Debug, Clone, Default)]
struct SeenKeys {
    sorted: Vec<u64>,
    recent: HashSet<u64, BuildHasherDefault<Prehashed>>,
}

/// The fingerprints are already hashes: the set uses them as they are.
#[derive(Debug, Clone, Copy, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl SeenKeys {
    /// Keys kept in `recent` before a merge, at the least.
    const MIN_RECENT: usize = 1024;
    /// The most keys [`expect`](Self::expect) reserves room for: 32 MiB of
    /// address space, of which only what is filled is ever touched.
    const MAX_EXPECTED: u64 = 1 << 22;

    /// Reserves room for the `total` keys the listing announces, so that
    /// the vector never grows by reallocation (which would hold the old
    /// block and the new one at once). Only address space: a page of
    /// memory is touched when keys reach it, so a walk that stops early
    /// costs nothing, and a wrong `total` costs at most a regrowth.
    fn expect(&mut self, total: u64) {
        let total = usize::try_from(total.min(Self::MAX_EXPECTED)).unwrap_or(0);
        self.sorted
            .reserve_exact(total.saturating_sub(self.sorted.len()));
    }

    /// Whether `print` is new; it is remembered either way.
    fn insert(&mut self, print: u64) -> bool {
        if self.in_sorted(print) || !self.recent.insert(print) {
            return false;
        }
        if self.recent.len() >= Self::MIN_RECENT.max(self.sorted.len() / 8) {
            self.merge();
        }
        true
    }

    /// Whether `print` is in `sorted`. Fingerprints are spread evenly over
    /// the 64 bits, so a key sits close to `print / 2^64` of the way in: the
    /// search starts there and gallops out to the few neighbours that
    /// bracket it (a handful of probes in one or two cache lines, where a
    /// plain binary search of 100,000 keys makes 17 jumps across 800 KB).
    /// Any other spread is still searched correctly, only slower.
    fn in_sorted(&self, print: u64) -> bool {
        let v = &self.sorted;
        let Some(last) = v.len().checked_sub(1) else {
            return false;
        };
        let share = (u128::from(print) * v.len() as u128) >> 64;
        let guess = usize::try_from(share).map_or(last, |g| g.min(last));
        let (lo, hi) = match v[guess].cmp(&print) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => {
                // v[guess] < print: step right until a key >= print.
                let (mut lo, mut step) = (guess + 1, 1);
                let hi = loop {
                    let probe = guess + step;
                    if probe > last {
                        break v.len();
                    }
                    if v[probe] >= print {
                        break probe + 1;
                    }
                    lo = probe + 1;
                    step *= 2;
                };
                (lo, hi)
            }
            std::cmp::Ordering::Greater => {
                // v[guess] > print: step left until a key <= print.
                let (mut hi, mut step) = (guess, 1);
                let lo = loop {
                    let Some(probe) = guess.checked_sub(step) else {
                        break 0;
                    };
                    if v[probe] <= print {
                        break probe;
                    }
                    hi = probe;
                    step *= 2;
                };
                (lo, hi)
            }
        };
        v[lo..hi].binary_search(&print).is_ok()
    }

    /// Moves `recent` into `sorted`: the new keys sorted, the vector grown
    /// by exactly their number (a large block grows in place, no copy
    /// beside it), then merged from the back so that nothing is moved twice.
    fn merge(&mut self) {
        let mut fresh: Vec<u64> = self.recent.drain().collect();
        fresh.sort_unstable();
        let old = self.sorted.len();
        self.sorted.reserve_exact(fresh.len());
        self.sorted.resize(old + fresh.len(), 0);
        let (mut i, mut j) = (old, fresh.len());
        let mut k = self.sorted.len();
        while j > 0 {
            k -= 1;
            if i > 0 && self.sorted[i - 1] > fresh[j - 1] {
                i -= 1;
                self.sorted[k] = self.sorted[i];
            } else {
                j -= 1;
                self.sorted[k] = fresh[j];
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
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
            unreadable: Vec::new(),
        }
    }

    fn walk(total: u64, size: u32) -> (Vec<String>, u32) {
        let mut p = Paginator::new(GetByUploader::new());
        let mut seen = Vec::new();
        let mut fetched = 0;
        while let Some(q) = p.next_query() {
            fetched += 1;
            assert!(fetched < 10_000, "runaway walk");
            let mut page = serve(total, size, q.page());
            if p.accept(&mut page) {
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
        assert!(p.accept(&mut serve(100, 20, 1)));
        // The server answers page 1 again instead of page 2.
        assert!(!p.accept(&mut serve(100, 20, 1)));
        assert!(p.next_query().is_none());
    }

    #[test]
    fn a_shrinking_total_ends_early_and_a_growing_one_is_followed() {
        let mut p = Paginator::new(GetByUploader::new());
        assert!(p.accept(&mut serve(100, 20, 1)));
        assert_eq!(p.last_page(), Some(5));
        assert!(p.accept(&mut serve(30, 20, 2))); // shrank: page 2 is short, the walk ends
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
        assert!(p.accept(&mut serve(40, 20, 1)));
        assert!(p.accept(&mut serve(60, 20, 2))); // grew: page 3 now exists
        assert_eq!(p.next_page(), Some(3));
        assert!(p.accept(&mut serve(60, 20, 3)));
        assert!(p.next_query().is_none());
    }

    #[test]
    fn a_failure_ends_the_walk_and_is_recorded() {
        let mut p = Paginator::new(GetByUploader::new());
        assert!(p.accept(&mut serve(100, 20, 1)));
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
            assert!(p.accept(&mut serve(total, 20, expected)));
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
        assert!(p.accept(&mut serve(200, 20, 1)));
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
        assert!(p.accept(&mut serve(100, 20, q.page())));
        assert_eq!(p.next_request(0, 1).map(|q| q.page()), Some(2));
    }

    #[test]
    fn a_changing_listing_is_reported_and_never_yields_an_item_twice() {
        let mut p = Paginator::new(GetByUploader::new());
        let mut first = serve(100, 20, 1);
        assert!(p.accept(&mut first));
        assert_eq!(p.progress().total_changed, None);
        // Five uploads landed at the front: page 2 now starts with the last
        // five items of page 1.
        let mut second = serve(105, 20, 2);
        second.items = (15..35).map(video).collect();
        assert!(p.accept(&mut second));
        assert_eq!(
            second.items.iter().map(|v| v.vid()).collect::<Vec<_>>(),
            (20..35).map(|i| format!("v{i}")).collect::<Vec<_>>()
        );
        let progress = p.progress();
        assert_eq!(progress.duplicates_dropped, 5);
        assert_eq!(
            progress.total_changed,
            Some(TotalChange {
                before: 100,
                after: 105,
                first_seen_on_page: 2
            })
        );
        // The page was full on the wire, so the walk goes on although
        // duplicates were dropped; a later change updates `after` only.
        assert_eq!(p.next_page(), Some(3));
        assert!(p.accept(&mut serve(90, 20, 3)));
        let change = p.progress().total_changed.unwrap();
        assert_eq!(
            (change.before, change.after, change.first_seen_on_page),
            (100, 90, 2)
        );
    }

    #[test]
    fn unreadable_records_count_towards_a_full_page() {
        let mut p = Paginator::new(GetByUploader::new());
        let mut page = serve(40, 20, 1);
        page.items.truncate(19);
        page.unreadable.push(crate::RecordError {
            page: 1,
            index: 19,
            vid: None,
            path: "data.contents[19].times".into(),
            reason: "bad".into(),
            raw: "{}".into(),
        });
        assert!(p.accept(&mut page));
        assert_eq!(p.next_page(), Some(2), "a full page on the wire goes on");
        assert_eq!(p.progress().unreadable, 1);
    }

    #[test]
    fn fingerprints_differ_for_near_keys() {
        let keys = [
            "v1",
            "v2",
            "v10",
            "1v",
            "",
            "b0f7041324d864436f410f581444542a_b",
        ];
        let prints: HashSet<u64> = keys.iter().map(|k| fingerprint(k)).collect();
        assert_eq!(prints.len(), keys.len());
        assert_eq!(fingerprint("v1"), fingerprint("v1"));
    }

    #[test]
    fn seen_keys_agree_with_a_hash_set() {
        // Enough keys for several merges, each key offered three times, in
        // an order that mixes new keys with old ones.
        let mut seen = SeenKeys::default();
        let mut reference = HashSet::new();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..60_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let key = (state >> 33) % 20_000;
            let print = fingerprint(&key.to_string());
            assert_eq!(seen.insert(print), reference.insert(print), "key {key}");
        }
        assert_eq!(seen.len(), reference.len());
        assert!(
            seen.sorted.windows(2).all(|w| w[0] < w[1]),
            "sorted, no twins"
        );
        assert!(
            seen.sorted.len() > SeenKeys::MIN_RECENT,
            "merged at least once"
        );
        // Every key of the range: new ones let through once, old ones never.
        for key in 0..20_000u64 {
            let print = fingerprint(&key.to_string());
            assert_eq!(seen.insert(print), reference.insert(print), "key {key}");
            assert!(!seen.insert(print), "key {key} twice");
        }
    }

    #[test]
    fn the_sorted_search_finds_every_key_however_they_are_spread() {
        for keys in [
            (0..5000u64)
                .map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect::<Vec<_>>(),
            (0..5000u64).collect(),                       // all at the start
            (0..5000u64).map(|k| u64::MAX - k).collect(), // all at the end
            (0..5000u64).map(|k| k << 50).collect(),      // sparse, then packed
        ] {
            let mut seen = SeenKeys::default();
            for &k in &keys {
                assert!(seen.insert(k));
            }
            seen.merge();
            assert!(seen.recent.is_empty());
            for &k in &keys {
                assert!(seen.in_sorted(k), "{k}");
                assert!(!seen.insert(k), "{k} twice");
            }
            for probe in [1u64 << 63, 12_345, u64::MAX - 9_999, 3 << 49, 0x5555_5555] {
                assert_eq!(seen.in_sorted(probe), keys.contains(&probe), "{probe}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn seen_keys_never_let_a_key_through_twice(keys in proptest::collection::vec(0u16..3000, 0..6000)) {
            let mut seen = SeenKeys::default();
            let mut reference = HashSet::new();
            for key in keys {
                let print = u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                proptest::prop_assert_eq!(seen.insert(print), reference.insert(print));
            }
            proptest::prop_assert_eq!(seen.len(), reference.len());
        }

        #[test]
        fn any_fingerprints_are_let_through_once(keys in proptest::collection::vec(proptest::prelude::any::<u64>(), 0..4000)) {
            let mut seen = SeenKeys::default();
            let mut reference = HashSet::new();
            for &key in &keys {
                proptest::prop_assert_eq!(seen.insert(key), reference.insert(key));
            }
            for &key in &keys {
                proptest::prop_assert!(!seen.insert(key));
            }
        }
    }
}
