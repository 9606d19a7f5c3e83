//! One page of a paged listing.

use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Page<T> {
    /// This page's number, from 1.
    pub page_number: u32,
    /// The page size the server used (which may differ from the one asked for).
    pub page_size: u32,
    /// How many items the whole listing has.
    pub total_items: u64,
    /// The number of pages, when the server sends it (some endpoints do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<u32>,
    /// The items of this page (`contents`), in server order.
    #[serde(rename = "contents", default = "Vec::new")]
    pub items: Vec<T>,
}

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
