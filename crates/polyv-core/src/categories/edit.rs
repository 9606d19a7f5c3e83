//! Changing categories: addCata, updateCata, deleteCata, changeCata.

use serde::{Deserialize, Serialize};

use crate::{Endpoint, Error, Params, SignedParams, UserId, input, lenient, wire};

/// The root category's id: the parent of top-level categories.
pub const ROOT_CATEGORY: u64 = 1;

/// The longest category name, in characters (addCata's documented limit,
/// applied to renames too).
pub const MAX_NAME_CHARS: usize = input::MAX_CATEGORY_NAME_CHARS;

fn cata_path(user_id: &UserId, path: &mut String, action: &str) {
    path.push_str("/v2/video/");
    path.push_str(user_id.as_str());
    path.push('/');
    path.push_str(action);
}

/// Creates a category (addCata).
///
/// - **Method:** POST form.
/// - **Signing:** every parameter sent (`cataname`, `parentid`, `ptime`).
/// - **Resending:** **not safe**: each call that arrives creates another
///   category, so a call that may have reached the server is never sent
///   again (only one whose connection was never made is).
/// - **Input:** the name has 1 to 40 characters; the parent is an existing
///   category id ([`ROOT_CATEGORY`] for a top-level one).
///
/// ```
/// use polyv_core::categories::AddCategory;
/// use polyv_core::{Config, Credentials, Endpoint};
///
/// let add = AddCategory::new("课程", 1466567123649)?;
/// assert!(!add.resend_safe());
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&add, 1_469_599_842_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/3828390191/addCata");
/// assert!(request.body().starts_with(b"cataname=%E8%AF%BE%E7%A8%8B&parentid=1466567123649&ptime=1469599842000&sign="));
/// assert!(AddCategory::at_root("x".repeat(41)).is_err());
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddCategory {
    name: String,
    parentid: u64,
}

impl AddCategory {
    /// A category named `name` under the category `parentid`.
    pub fn new(name: impl Into<String>, parentid: u64) -> Result<Self, Error> {
        let name = name.into();
        input::category_name(&name)?;
        input::cataid(parentid)?;
        Ok(Self { name, parentid })
    }

    /// A top-level category (under the root, `parentid=1`).
    pub fn at_root(name: impl Into<String>) -> Result<Self, Error> {
        Self::new(name, ROOT_CATEGORY)
    }

    /// The new category's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parent's id.
    pub fn parentid(&self) -> u64 {
        self.parentid
    }
}

impl Endpoint for AddCategory {
    type Data = NewCategory;

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        cata_path(user_id, path, "addCata");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        params.push("cataname", &self.name);
        params.push_number("parentid", self.parentid);
    }

    /// Creating twice makes two categories: never resent once it may have
    /// arrived.
    fn resend_safe(&self) -> bool {
        false
    }
}

/// The category addCata created. Read leniently (the SDK types both as
/// strings, Polyv's docs show a number id).
///
/// ```
/// use polyv_core::categories::NewCategory;
///
/// let new: NewCategory = serde_json::from_str(r#"{"cataid":"1539918907896","catatree":"1,1539918907896"}"#)?;
/// assert_eq!(new.cataid, 1539918907896);
/// assert_eq!(new.path_ids().collect::<Vec<_>>(), [1, 1539918907896]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewCategory {
    /// The new category's id (`cataid`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub cataid: u64,
    /// Its ids from the root down, comma-separated (`catatree`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub catatree: String,
}

impl NewCategory {
    /// The ids in `catatree`, root first.
    pub fn path_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.catatree
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
    }
}

/// Renames a category (updateCata).
///
/// - **Method:** POST form, as the official SDK does.
/// - **Signing:** the fixed subset `cataid`, `cataname`, `ptime` and the
///   account id as `userid` (which only the path carries).
/// - **Resending:** safe: renaming twice to the same name leaves the same
///   end state, and nothing else changes.
/// - **Answer:** `true`; a `false` is reported as [`Error::Decode`].
///
/// ```
/// use polyv_core::categories::RenameCategory;
/// use polyv_core::{Config, Credentials};
///
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&RenameCategory::new(1466567123649, "polyv")?, 1_469_599_842_000)?;
/// // The vector published on Polyv's updateCata page.
/// assert_eq!(
///     request.body(),
///     b"cataid=1466567123649&cataname=polyv&ptime=1469599842000&sign=DB6037A8186F71E6D992F16E1C148CF94D164C1D"
/// );
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenameCategory {
    cataid: u64,
    name: String,
}

impl RenameCategory {
    /// Gives the category `cataid` the name `name` (1 to 40 characters; the
    /// limit is addCata's, assumed for renames).
    pub fn new(cataid: u64, name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        input::cataid(cataid)?;
        input::category_name(&name)?;
        Ok(Self { cataid, name })
    }

    /// The category renamed.
    pub fn cataid(&self) -> u64 {
        self.cataid
    }

    /// The new name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Endpoint for RenameCategory {
    type Data = ();

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        cata_path(user_id, path, "updateCata");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        params.push_number("cataid", self.cataid);
        params.push("cataname", &self.name);
    }

    fn signed_params(&self) -> SignedParams {
        SignedParams::only_with_user_id(&["cataid", "cataname"])
    }

    /// Renaming twice to the same name has the same end state.
    fn resend_safe(&self) -> bool {
        true
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<(), Error> {
        wire::parse_ack(status, retry_after, body)
    }
}

/// Deletes a category (deleteCata). What becomes of its videos and
/// subcategories is not documented by Polyv.
///
/// - **Method:** POST form.
/// - **Signing:** the fixed subset `cataid`, `ptime` and the account id as
///   `userid` (which only the path carries).
/// - **Resending:** safe: a category deleted twice is as deleted as once,
///   and ids are never reused, so a resend cannot remove anything else. A
///   resend whose first attempt did arrive may however answer
///   [`Error::CategoryNotFound`]: after a network error, that means the
///   category is gone.
/// - **Answer:** `true`; a `false` is reported as [`Error::Decode`].
///
/// ```
/// use polyv_core::categories::DeleteCategory;
/// use polyv_core::{Config, Credentials};
///
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&DeleteCategory::new(1466567123649)?, 1_469_599_842_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/3828390191/deleteCata");
/// assert_eq!(
///     request.body(),
///     b"cataid=1466567123649&ptime=1469599842000&sign=EB9E36F247C2343C770324C804E8C52A9C944CFB"
/// );
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeleteCategory {
    cataid: u64,
}

impl DeleteCategory {
    /// Deletes the category `cataid`.
    pub fn new(cataid: u64) -> Result<Self, Error> {
        input::cataid(cataid)?;
        Ok(Self { cataid })
    }

    /// The category deleted.
    pub fn cataid(&self) -> u64 {
        self.cataid
    }
}

impl Endpoint for DeleteCategory {
    type Data = ();

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        cata_path(user_id, path, "deleteCata");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        params.push_number("cataid", self.cataid);
    }

    fn signed_params(&self) -> SignedParams {
        SignedParams::only_with_user_id(&["cataid"])
    }

    /// Deleting twice has the same end state; ids are not reused.
    fn resend_safe(&self) -> bool {
        true
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<(), Error> {
        wire::parse_ack(status, retry_after, body)
    }
}

/// Moves videos into a category (changeCata).
///
/// - **Method:** POST form.
/// - **Signing:** the fixed subset `cataid`, `ptime`, `vids` and the account
///   id as `userid` (which only the path carries); `vids` is signed raw,
///   commas included.
/// - **Resending:** safe: moving the same videos to the same category twice
///   has the same end state.
/// - **Input:** at least one vid, none with a comma; repeats are dropped.
///   Polyv documents no maximum.
/// - **Answer:** `true`; a `false` is reported as [`Error::Decode`].
///
/// ```
/// use polyv_core::categories::MoveVideos;
/// use polyv_core::{Config, Credentials};
///
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let moves = MoveVideos::new(
///     ["3828390191de2b3fd3467c36187aac08_3", "382839019131be68715e9455f8d0971a_3"],
///     1466567123649,
/// )?;
/// let request = config.prepare(&moves, 1_469_599_842_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/3828390191/changeCata");
/// assert!(request.body().ends_with(b"&sign=69932E53B9135058A1C1323450ADE6525FF96C33"));
/// assert_eq!(moves.vids().count(), 2);
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MoveVideos {
    /// The vids, comma-joined as sent.
    vids: String,
    cataid: u64,
}

impl MoveVideos {
    /// Moves these videos into the category `cataid`.
    pub fn new<I, S>(vids: I, cataid: u64) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let vids = input::vids(vids)?.join(",");
        input::cataid(cataid)?;
        Ok(Self { vids, cataid })
    }

    /// The videos moved, in the order given, without repeats.
    pub fn vids(&self) -> impl Iterator<Item = &str> + '_ {
        self.vids.split(',')
    }

    /// The target category.
    pub fn cataid(&self) -> u64 {
        self.cataid
    }
}

impl Endpoint for MoveVideos {
    type Data = ();

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        cata_path(user_id, path, "changeCata");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        params.push_number("cataid", self.cataid);
        params.push("vids", &self.vids);
    }

    fn signed_params(&self) -> SignedParams {
        SignedParams::only_with_user_id(&["cataid", "vids"])
    }

    /// Moving to the same category twice has the same end state.
    fn resend_safe(&self) -> bool {
        true
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<(), Error> {
        wire::parse_ack(status, retry_after, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_checked() {
        assert!(AddCategory::new("", 1).is_err());
        assert!(AddCategory::new("a", 0).is_err());
        assert!(AddCategory::new("分".repeat(40), 1).is_ok());
        assert!(AddCategory::new("分".repeat(41), 1).is_err());
        assert_eq!(AddCategory::at_root("a").unwrap().parentid(), ROOT_CATEGORY);
        assert!(RenameCategory::new(0, "a").is_err());
        assert!(RenameCategory::new(5, "  ").is_err());
        assert_eq!(RenameCategory::new(5, "b").unwrap().name(), "b");
        assert!(DeleteCategory::new(0).is_err());
        assert_eq!(DeleteCategory::new(9).unwrap().cataid(), 9);
        assert!(MoveVideos::new(Vec::<String>::new(), 5).is_err());
        assert!(MoveVideos::new(["a,b"], 5).is_err());
        assert!(MoveVideos::new(["a"], 0).is_err());
        let m = MoveVideos::new(["a", "b", "a"], 5).unwrap();
        assert_eq!(m.vids().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn new_categories_read_leniently() {
        let n: NewCategory =
            serde_json::from_str(r#"{"cataid":1539918907896,"catatree":"1,1539918907896","x":1}"#)
                .unwrap();
        assert_eq!(n.cataid, 1_539_918_907_896);
        assert_eq!(n.path_ids().collect::<Vec<_>>(), [1, 1_539_918_907_896]);
        assert!(serde_json::from_str::<NewCategory>(r#"{"cataid":"new"}"#).is_err());
    }
}
