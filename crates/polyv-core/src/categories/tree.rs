//! `POST /v2/video/{userid}/cataJson`: the category tree.

use serde::{Deserialize, Serialize};

use crate::{Endpoint, Error, Params, SignedParams, UserId, input, lenient};

/// The account's category tree, or the subtree under one category
/// (cataJson).
///
/// - **Method:** POST form, as the official SDK does.
/// - **Signing:** the fixed subset `ptime` and the account id as `userid`
///   (which only the path carries). The optional `cataid` is sent but
///   **not** signed, as in the SDK (a third-party client signs it; spec
///   C.5: unverified which the server wants, so prefer the whole tree).
/// - **Resending:** safe, it is a read although it is a POST.
///
/// ```
/// use polyv_core::categories::CategoryTree;
/// use polyv_core::{Config, Credentials};
///
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&CategoryTree::new(), 1_469_599_842_000)?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.uri().path(), "/v2/video/3828390191/cataJson");
/// assert_eq!(request.body(), b"ptime=1469599842000&sign=2978737EA5C53917AFBE04A8151858187F0C23C6");
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CategoryTree {
    cataid: Option<u64>,
}

impl CategoryTree {
    /// The whole tree, from the root category.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only the subtree under this category (`cataid`, sent but not signed).
    pub fn subtree(cataid: u64) -> Result<Self, Error> {
        input::cataid(cataid)?;
        Ok(Self {
            cataid: Some(cataid),
        })
    }

    /// The subtree's root, if one was asked for.
    pub fn cataid(&self) -> Option<u64> {
        self.cataid
    }
}

impl Endpoint for CategoryTree {
    type Data = Vec<Category>;

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/video/");
        path.push_str(user_id.as_str());
        path.push_str("/cataJson");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        if let Some(cataid) = self.cataid {
            params.push_number("cataid", cataid);
        }
    }

    fn signed_params(&self) -> SignedParams {
        SignedParams::only_with_user_id(&[])
    }

    /// A read: sending it twice changes nothing.
    fn resend_safe(&self) -> bool {
        true
    }

    /// `""` or `null` on success read as no categories.
    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<Vec<Category>, Error> {
        crate::parse_response::<crate::wire::ListOrNothing<Category>>(status, retry_after, body)
            .map(|list| list.0)
    }
}

/// One category and its subcategories, under the API's own field names
/// (`cataname`, `nodes`, ...). Ids are 64-bit (they exceed 32 bits). Read
/// leniently: ids and counts may be numbers or numeric strings, text may be
/// `null`, `nodes` is absent on leaves, unknown fields are ignored.
///
/// ```
/// use polyv_core::categories::Category;
///
/// let roots: Vec<Category> = serde_json::from_str(r#"[{"text":"默认分类 (39) ","cataname":"默认分类",
///   "catatree":"1","cataid":1,"parentid":0,"videos":39,"nodes":[{"text":"课程 (2) ",
///   "cataname":"课程","catatree":"1,1466071267861","cataid":"1466071267861","parentid":1,"videos":2}]}]"#)?;
/// let names: Vec<(usize, &str)> = polyv_core::categories::walk(&roots)
///     .map(|(depth, c)| (depth, c.name.as_str()))
///     .collect();
/// assert_eq!(names, [(0, "默认分类"), (1, "课程")]);
/// assert_eq!(roots[0].children[0].path_ids().collect::<Vec<_>>(), [1, 1466071267861]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Category {
    /// The category id (`cataid`; 1 is the root).
    #[serde(default, deserialize_with = "lenient::number")]
    pub cataid: u64,
    /// The parent's id (`parentid`; 0 for the root).
    #[serde(default, deserialize_with = "lenient::number")]
    pub parentid: u64,
    /// The name (`cataname`).
    #[serde(rename = "cataname", default, deserialize_with = "lenient::text")]
    pub name: String,
    /// The ids from the root down to this one, comma-separated as sent
    /// (`catatree`, e.g. `"1,1466071267861"`); see [`path_ids`](Self::path_ids).
    #[serde(default, deserialize_with = "lenient::text")]
    pub catatree: String,
    /// Videos in this category and its subcategories (`videos`).
    #[serde(default, deserialize_with = "lenient::number")]
    pub videos: u64,
    /// The label Polyv shows, the name and the count (`text`, e.g.
    /// `"默认分类 (39) "`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub text: String,
    /// The subcategories (`nodes`; absent on leaves, read as empty).
    #[serde(
        rename = "nodes",
        default,
        deserialize_with = "lenient::list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub children: Vec<Category>,
}

impl Category {
    /// The ids in `catatree`, root first; pieces that are not numbers are
    /// skipped.
    pub fn path_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.catatree
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
    }

    /// This category and all below it, depth first (a parent before its
    /// children), each with its depth (this one is 0).
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            stack: vec![(0, self)],
        }
    }

    /// The category with this id, here or below.
    pub fn find(&self, cataid: u64) -> Option<&Category> {
        self.walk().map(|(_, c)| c).find(|c| c.cataid == cataid)
    }
}

/// Every category of a forest (the `data` of cataJson), depth first, each
/// with its depth (roots are 0).
///
/// ```
/// use polyv_core::categories::{Category, walk};
///
/// let roots: Vec<Category> = serde_json::from_str(r#"[{"cataid":1,"nodes":[{"cataid":2,
///   "nodes":[{"cataid":3}]},{"cataid":4}]},{"cataid":5}]"#)?;
/// let ids: Vec<(usize, u64)> = walk(&roots).map(|(d, c)| (d, c.cataid)).collect();
/// assert_eq!(ids, [(0, 1), (1, 2), (2, 3), (1, 4), (0, 5)]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn walk(roots: &[Category]) -> Walk<'_> {
    Walk {
        stack: roots.iter().rev().map(|c| (0, c)).collect(),
    }
}

/// The iterator of [`walk`] and [`Category::walk`]: depth first, without
/// recursion.
///
/// ```
/// use polyv_core::categories::Category;
///
/// let root: Category = serde_json::from_str(r#"{"cataid":1,"cataname":"默认分类",
///   "nodes":[{"cataid":2,"cataname":"a"},{"cataid":3,"cataname":"b"}]}"#)?;
/// let indented: Vec<String> = root
///     .walk()
///     .map(|(depth, c)| format!("{}{}", "  ".repeat(depth), c.name))
///     .collect();
/// assert_eq!(indented, ["默认分类", "  a", "  b"]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    stack: Vec<(usize, &'a Category)>,
}

impl<'a> Iterator for Walk<'a> {
    type Item = (usize, &'a Category);

    fn next(&mut self) -> Option<Self::Item> {
        let (depth, category) = self.stack.pop()?;
        self.stack
            .extend(category.children.iter().rev().map(|c| (depth + 1, c)));
        Some((depth, category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dev.polyv.net sample's shape: numbers for ids, `nodes` absent on leaves.
    const SAMPLE: &str = r#"[{"text":"默认分类 (39) ","cataname":"默认分类","catatree":"1","cataid":1,
      "parentid":0,"videos":39,"nodes":[{"text":"a (1) ","cataname":"a","catatree":"1,1466071267861",
      "cataid":1466071267861,"parentid":1,"videos":1,"nodes":[{"text":"b (0) ","cataname":"b",
      "catatree":"1,1466071267861,1539918907896","cataid":1539918907896,"parentid":1466071267861,
      "videos":0}]},{"text":"c (3) ","cataname":"c","catatree":"1,1466567123649","cataid":1466567123649,
      "parentid":1,"videos":3,"nodes":[]}]}]"#;

    #[test]
    fn the_sample_tree() {
        let roots: Vec<Category> = serde_json::from_str(SAMPLE).unwrap();
        let all: Vec<(usize, u64, &str)> = walk(&roots)
            .map(|(d, c)| (d, c.cataid, c.name.as_str()))
            .collect();
        assert_eq!(
            all,
            [
                (0, 1, "默认分类"),
                (1, 1_466_071_267_861, "a"),
                (2, 1_539_918_907_896, "b"),
                (1, 1_466_567_123_649, "c"),
            ]
        );
        let b = roots[0].find(1_539_918_907_896).unwrap();
        assert_eq!(b.parentid, 1_466_071_267_861);
        assert_eq!(
            b.path_ids().collect::<Vec<_>>(),
            [1, 1_466_071_267_861, 1_539_918_907_896]
        );
        assert_eq!(roots[0].videos, 39);
        assert_eq!(roots[0].text, "默认分类 (39) ");
        assert!(roots[0].find(42).is_none());
        // Re-emitted under the API's names; leaves without `nodes`.
        let back = serde_json::to_value(&roots[0].children[1]).unwrap();
        assert_eq!(back["cataname"], "c");
        assert_eq!(back["cataid"], 1_466_567_123_649_u64);
        assert!(back.get("nodes").is_none());
    }

    #[test]
    fn loosely_typed_nodes() {
        let loose: Vec<Category> = serde_json::from_str(
            r#"[{"cataid":"1","parentid":"0","videos":"2","cataname":null,"catatree":1,
              "nodes":null,"extra":{}},{"cataid":2.0}]"#,
        )
        .unwrap();
        assert_eq!((loose[0].cataid, loose[0].videos), (1, 2));
        assert_eq!(
            (loose[0].name.as_str(), loose[0].catatree.as_str()),
            ("", "1")
        );
        assert!(loose[0].children.is_empty());
        assert_eq!(loose[1].cataid, 2);
        assert!(serde_json::from_str::<Vec<Category>>(r#"[{"cataid":"x"}]"#).is_err());
    }

    #[test]
    fn no_tree_in_any_shape() {
        for data in ["[]", r#""""#, "null"] {
            let body = format!(r#"{{"code":200,"status":"success","message":"","data":{data}}}"#);
            let tree = CategoryTree::new()
                .parse(200, None, body.as_bytes())
                .unwrap();
            assert!(tree.is_empty(), "{data}");
        }
    }

    #[test]
    fn subtrees_need_a_real_id() {
        assert!(CategoryTree::subtree(0).is_err());
        assert_eq!(CategoryTree::subtree(7).unwrap().cataid(), Some(7));
        assert_eq!(CategoryTree::new().cataid(), None);
    }
}
