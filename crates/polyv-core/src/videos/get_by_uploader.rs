//! `GET /v2/video/{userid}/get-by-uploader`: the videos sub-accounts uploaded.

use std::num::NonZeroU32;

use crate::{Endpoint, Error, Page, Paged, Params, UserId, Video};

/// The largest `pageSize` Polyv accepts.
pub const MAX_PAGE_SIZE: u16 = 1000;

/// The order of the results (`orderType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Order {
    /// Upload time, oldest first (`orderType=1`).
    PtimeAsc,
    /// Upload time, newest first (`orderType=2`).
    PtimeDesc,
    /// Play count, least played first (`orderType=3`).
    TimesAsc,
    /// Play count, most played first (`orderType=4`).
    TimesDesc,
}

impl Order {
    /// The `orderType` value as sent.
    fn order_type_str(self) -> &'static str {
        match self {
            Self::PtimeAsc => "1",
            Self::PtimeDesc => "2",
            Self::TimesAsc => "3",
            Self::TimesDesc => "4",
        }
    }

    /// The `orderType` value.
    pub fn order_type(self) -> u8 {
        match self {
            Self::PtimeAsc => 1,
            Self::PtimeDesc => 2,
            Self::TimesAsc => 3,
            Self::TimesDesc => 4,
        }
    }
}

/// A get-by-uploader query. Options left unset are absent from the query and
/// the signature alike, so the server applies its defaults.
///
/// ```
/// use polyv_core::{GetByUploader, Order};
///
/// let query = GetByUploader::builder()
///     .email("ops+cn@example.com")
///     .order(Order::TimesDesc)
///     .category(1539918907896)
///     .include_subcategories(true)
///     .published_only(true)
///     .page(2)
///     .page_size(100)
///     .build()?;
/// assert_eq!(query.page(), 2);
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GetByUploader {
    email: Option<String>,
    order: Option<Order>,
    category: Option<u64>,
    include_subcategories: Option<bool>,
    published_only: Option<bool>,
    page: Option<NonZeroU32>,
    page_size: Option<u16>,
}

impl GetByUploader {
    /// The first page of every sub-account's videos, server defaults for the rest.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder for the optional parameters.
    pub fn builder() -> GetByUploaderBuilder {
        GetByUploaderBuilder::default()
    }

    /// The page asked for (1 when unset).
    pub fn page(&self) -> u32 {
        self.page.map_or(1, NonZeroU32::get)
    }

    /// The page size asked for, if set.
    pub fn page_size(&self) -> Option<u16> {
        self.page_size
    }

    /// The same query for another page.
    pub fn with_page(&self, page: NonZeroU32) -> Self {
        Self {
            page: Some(page),
            ..self.clone()
        }
    }
}

/// Builds a [`GetByUploader`]; [`build`](Self::build) checks the ranges.
#[derive(Debug, Clone, Default)]
pub struct GetByUploaderBuilder {
    query: GetByUploader,
    page: Option<u32>,
    page_size: Option<u32>,
}

impl GetByUploaderBuilder {
    /// Only this sub-account's videos (`email`); default: every sub-account.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.query.email = Some(email.into());
        self
    }

    /// The result order (`orderType`).
    pub fn order(mut self, order: Order) -> Self {
        self.query.order = Some(order);
        self
    }

    /// Only this category (`cataid`); default: every category.
    pub fn category(mut self, cataid: u64) -> Self {
        self.query.category = Some(cataid);
        self
    }

    /// Whether the category's sub-categories count too (`containSubCata`).
    pub fn include_subcategories(mut self, yes: bool) -> Self {
        self.query.include_subcategories = Some(yes);
        self
    }

    /// Whether only published videos are listed (`published`).
    pub fn published_only(mut self, yes: bool) -> Self {
        self.query.published_only = Some(yes);
        self
    }

    /// The page to fetch, from 1 (`page`).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Videos per page, 1 to 1000 (`pageSize`). Not on the endpoint's page but
    /// sent by Polyv's own Java SDK; a server may ignore it, which is why
    /// pagination always follows the response's page size.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Checks the ranges and returns the query.
    pub fn build(self) -> Result<GetByUploader, Error> {
        let mut query = self.query;
        if let Some(page) = self.page {
            query.page = Some(
                NonZeroU32::new(page)
                    .ok_or_else(|| Error::InvalidInput("page numbers start at 1".into()))?,
            );
        }
        if let Some(size) = self.page_size {
            query.page_size = Some(
                u16::try_from(size)
                    .ok()
                    .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
                    .ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "page size {size} is out of range: use 1 to {MAX_PAGE_SIZE}"
                        ))
                    })?,
            );
        }
        Ok(query)
    }
}

fn flag(yes: bool) -> &'static str {
    if yes { "1" } else { "0" }
}

impl Endpoint for GetByUploader {
    type Data = Page<Video>;

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<Page<Video>, Error> {
        crate::parse_page_response(status, retry_after, body)
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/video/");
        path.push_str(user_id.as_str());
        path.push_str("/get-by-uploader");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        // In byte order of the names, the order they are signed in, so that
        // the signer finds them sorted and has only `ptime` to place.
        if let Some(cataid) = self.category {
            params.push_number("cataid", cataid);
        }
        if let Some(yes) = self.include_subcategories {
            params.push("containSubCata", flag(yes));
        }
        if let Some(email) = &self.email {
            params.push("email", email);
        }
        if let Some(order) = self.order {
            params.push("orderType", order.order_type_str());
        }
        if let Some(page) = self.page {
            params.push_number("page", page.get().into());
        }
        if let Some(size) = self.page_size {
            params.push_number("pageSize", size.into());
        }
        if let Some(yes) = self.published_only {
            params.push("published", flag(yes));
        }
    }
}

impl Paged for GetByUploader {
    type Item = Video;

    fn page_number(&self) -> u32 {
        self.page()
    }

    fn for_page(&self, page: NonZeroU32) -> Self {
        self.with_page(page)
    }

    fn for_walk(&self) -> Self {
        let mut walk = self.clone();
        walk.page_size.get_or_insert(MAX_PAGE_SIZE);
        walk
    }

    fn item_key(item: &Video) -> Option<&str> {
        Some(item.vid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Credentials, SecretKey, canonical_string, sign};

    #[test]
    fn unset_options_are_absent() {
        let query = GetByUploader::new();
        let mut params = Params::new();
        query.params(&mut params);
        assert!(params.is_empty());
        let q = GetByUploader::builder().email("").build().unwrap();
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let uri = config
            .prepare(&q, 1_700_000_000_000)
            .unwrap()
            .uri()
            .to_string();
        assert!(uri.contains("?ptime=1700000000000&sign="), "{uri}");
    }

    #[test]
    fn every_option_maps_to_its_parameter() {
        let q = GetByUploader::builder()
            .email("a+b@x.com")
            .order(Order::TimesAsc)
            .category(1_539_918_907_896)
            .include_subcategories(true)
            .published_only(false)
            .page(3)
            .page_size(1000)
            .build()
            .unwrap();
        let mut params = Params::new();
        q.params(&mut params);
        let pairs: Vec<(&str, &str)> = params.iter().collect();
        assert_eq!(
            pairs,
            [
                ("cataid", "1539918907896"),
                ("containSubCata", "1"),
                ("email", "a+b@x.com"),
                ("orderType", "3"),
                ("page", "3"),
                ("pageSize", "1000"),
                ("published", "0"),
            ]
        );
        // Listed in signing order, so signing need not sort them.
        assert!(pairs.iter().map(|(name, _)| name).is_sorted());
        let config = Config::new(Credentials::new("u1", "k").unwrap());
        let req = config.prepare(&q, 1_700_000_000_000).unwrap();
        let expected_canonical = "cataid=1539918907896&containSubCata=1&email=a+b@x.com&orderType=3&page=3&pageSize=1000&ptime=1700000000000&published=0";
        assert_eq!(
            canonical_string(pairs.iter().copied().chain([("ptime", "1700000000000")])),
            expected_canonical
        );
        let expected_sign = sign(
            pairs.iter().copied().chain([("ptime", "1700000000000")]),
            &SecretKey::new("k"),
        );
        assert_eq!(
            req.uri().query().unwrap(),
            format!(
                "cataid=1539918907896&containSubCata=1&email=a%2Bb%40x.com&orderType=3&page=3&pageSize=1000&ptime=1700000000000&published=0&sign={expected_sign}"
            )
        );
    }

    #[test]
    fn ranges_are_checked() {
        assert!(GetByUploader::builder().page(0).build().is_err());
        assert!(GetByUploader::builder().page_size(0).build().is_err());
        assert!(GetByUploader::builder().page_size(1001).build().is_err());
        assert!(GetByUploader::builder().page_size(70_000).build().is_err());
        assert_eq!(
            GetByUploader::builder()
                .page_size(1)
                .build()
                .unwrap()
                .page_size(),
            Some(1)
        );
        assert_eq!(GetByUploader::new().page(), 1);
    }
}
