//! One page of a paged listing.

use serde::{Deserialize, Serialize};

use crate::lenient;

/// One page of results, with what the server said about the whole listing.
///
/// ```
/// use polyv_core::{Page, Video};
///
/// let page: Page<Video> =
///     serde_json::from_str(r#"{"pageSize":20,"pageNumber":1,"totalItems":41,"contents":[]}"#)?;
/// assert_eq!(page.last_page(), 3);
/// assert!(page.has_next());
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// The counts are read leniently (a number or a numeric string, see
/// [`lenient`](crate::lenient)); `contents: null` or no `contents` is an
/// empty page.
///
/// A record that cannot be read even leniently does not fail its page: when
/// the page is parsed with [`parse_page_response`](crate::parse_page_response)
/// (as every client does), the readable records are in
/// [`items`](Self::items) and each unreadable one is in
/// [`unreadable`](Self::unreadable), with its position, the field path, the
/// reason and its raw JSON. [`records`](Self::records) gives both back in
/// server order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Page<T> {
    /// This page's number, from 1.
    #[serde(deserialize_with = "lenient::number")]
    pub page_number: u32,
    /// The page size the server used (which may differ from the one asked for).
    #[serde(deserialize_with = "lenient::number")]
    pub page_size: u32,
    /// How many items the whole listing has.
    #[serde(deserialize_with = "lenient::number")]
    pub total_items: u64,
    /// The number of pages, when the server sends it (some endpoints do).
    #[serde(
        default,
        deserialize_with = "lenient::opt_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_pages: Option<u32>,
    /// The readable items of this page (`contents`), in server order.
    #[serde(rename = "contents", default, deserialize_with = "lenient::list")]
    pub items: Vec<T>,
    /// The records of this page that could not be read, in server order
    /// (never serialised).
    #[serde(skip)]
    pub unreadable: Vec<RecordError>,
}

/// A record of a listing that could not be read, even leniently: its page
/// and position, its `vid` when that much was readable, where and why
/// decoding failed, and the record's raw JSON, so nothing is lost.
///
/// ```
/// use polyv_core::{Page, Video, parse_page_response};
///
/// let body = br#"{"code":200,"status":"success","message":"success","data":{"pageSize":20,
///   "pageNumber":1,"totalItems":2,"contents":[{"vid":"v1","times":{}},{"vid":"v2"}]}}"#;
/// let page: Page<Video> = parse_page_response(200, None, body)?;
/// assert_eq!(page.items.len(), 1);
/// let bad = &page.unreadable[0];
/// assert_eq!((bad.page, bad.index, bad.vid.as_deref()), (1, 0, Some("v1")));
/// assert_eq!(bad.path, "data.contents[0].times");
/// assert_eq!(bad.raw, r#"{"vid":"v1","times":{}}"#);
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {index} of page {page}{} could not be read at `{path}`: {reason}", vid.as_deref().map(|v| format!(" (vid {v})")).unwrap_or_default())]
#[non_exhaustive]
pub struct RecordError {
    /// The page the record is on.
    pub page: u32,
    /// Its position in the page's `contents`, from 0.
    pub index: usize,
    /// Its `vid`, when that field was readable.
    pub vid: Option<String>,
    /// Where decoding failed, e.g. `data.contents[3].times`.
    pub path: String,
    /// What the decoder expected.
    pub reason: String,
    /// The record as the server sent it.
    pub raw: String,
}

impl<T> Page<T> {
    /// How many records the server sent on this page, readable or not.
    pub fn record_count(&self) -> usize {
        self.items.len() + self.unreadable.len()
    }

    /// Every record in server order: `Ok` for a readable item, `Err` for an
    /// unreadable one, in its place.
    pub fn records(self) -> Records<T> {
        Records {
            position: 0,
            items: self.items.into_iter(),
            unreadable: self.unreadable.into_iter().peekable(),
        }
    }
}

/// The records of a page in server order, readable or not; made by
/// [`Page::records`].
#[derive(Debug)]
pub struct Records<T> {
    position: usize,
    items: std::vec::IntoIter<T>,
    unreadable: std::iter::Peekable<std::vec::IntoIter<RecordError>>,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self {
            position: 0,
            items: Vec::new().into_iter(),
            unreadable: Vec::new().into_iter().peekable(),
        }
    }
}

impl<T> Iterator for Records<T> {
    type Item = Result<T, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let position = self.position;
        self.position += 1;
        // An unreadable record whose index is not reached by the items (out
        // of order, or past the end) still comes out, after them.
        if self.unreadable.peek().is_some_and(|e| e.index <= position) {
            return self.unreadable.next().map(Err);
        }
        match self.items.next() {
            Some(item) => Some(Ok(item)),
            None => self.unreadable.next().map(Err),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.items.len() + self.unreadable.len();
        (n, Some(n))
    }
}

impl<T> ExactSizeIterator for Records<T> {}

// Nothing in it is ever pinned in place: a walker holding it stays movable
// (a stream is then `Unpin`) whatever the item type.
impl<T> Unpin for Records<T> {}
impl<T> std::iter::FusedIterator for Records<T> {}

impl<T> Page<T> {
    /// The number of the last page: `ceil(total_items / page_size)` from the
    /// **response's** page size, falling back to `totalPages` when the page
    /// size is 0.
    pub fn last_page(&self) -> u64 {
        match self.page_size {
            0 => self
                .total_pages
                .map_or(u64::from(self.page_number), u64::from),
            size => self.total_items.div_ceil(u64::from(size)),
        }
    }

    /// Whether a page after this one exists.
    pub fn has_next(&self) -> bool {
        u64::from(self.page_number) < self.last_page()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(number: u32, size: u32, total: u64) -> Page<()> {
        Page {
            page_number: number,
            page_size: size,
            total_items: total,
            total_pages: None,
            items: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    #[test]
    fn last_page_boundaries() {
        for (size, total, last) in [
            (20, 0, 0),
            (20, 1, 1),
            (20, 20, 1),
            (20, 21, 2),
            (20, 1000, 50),
            (1000, 1000, 1),
            (1000, 1001, 2),
        ] {
            assert_eq!(page(1, size, total).last_page(), last, "{size} {total}");
        }
        assert!(page(1, 20, 21).has_next());
        assert!(!page(2, 20, 21).has_next());
        assert!(!page(1, 20, 0).has_next());
        let mut p = page(2, 0, 100);
        p.total_pages = Some(5);
        assert_eq!(p.last_page(), 5);
    }
}

#[cfg(test)]
mod record_tests {
    use super::*;

    fn bad(index: usize) -> RecordError {
        RecordError {
            page: 1,
            index,
            vid: None,
            path: String::new(),
            reason: String::new(),
            raw: String::new(),
        }
    }

    #[test]
    fn records_come_back_in_server_order() {
        let page = Page {
            page_number: 1,
            page_size: 20,
            total_items: 5,
            total_pages: None,
            items: vec!["a", "c", "d"],
            unreadable: vec![bad(1), bad(4)],
        };
        assert_eq!(page.record_count(), 5);
        let order: Vec<_> = page.records().map(|r| r.map_err(|e| e.index)).collect();
        assert_eq!(order, [Ok("a"), Err(1), Ok("c"), Ok("d"), Err(4)]);
    }

    #[test]
    fn lenient_counts_and_null_contents() {
        let page: Page<u8> = serde_json::from_str(
            r#"{"pageSize":"20","pageNumber":1.0,"totalItems":"0","totalPages":"0","contents":null}"#,
        )
        .unwrap();
        assert_eq!(
            (page.page_size, page.page_number, page.total_items),
            (20, 1, 0)
        );
        assert_eq!(page.total_pages, Some(0));
        assert!(page.items.is_empty());
        let page: Page<u8> =
            serde_json::from_str(r#"{"pageSize":20,"pageNumber":1,"totalItems":0}"#).unwrap();
        assert!(page.items.is_empty());
        let back = serde_json::to_value(&page).unwrap();
        assert_eq!(back["pageSize"], 20);
    }
}
