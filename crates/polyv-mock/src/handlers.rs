//! The endpoints other than get-by-uploader, each after the shared checks
//! (sign present, `ptime`, user, sign). Reads answer from the catalogue
//! snapshot; writes go through [`Shared::modify`], which swaps in a changed,
//! re-indexed catalogue, so every later read (get-by-uploader included) sees
//! them.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::data::{Category, Dataset, Video};
use crate::derive::{self, CategoryNode, Media, ROOT_CATAID, ROOT_NAME};
use crate::messages;
use crate::server::{Ctx, Reply, Shared, bad_request, int_param, param, success};

/// The most vids del-videos takes at once.
const MAX_DELETE: usize = 500;
/// The longest category name, in characters.
const MAX_CATANAME: usize = 40;

fn required<'a>(ctx: &Ctx<'a>, name: &str) -> Result<&'a str, Reply> {
    param(ctx.params, name).ok_or_else(|| bad_request(&messages::empty(name)))
}

/// A comma-separated vid list: trimmed, empty items dropped.
fn vid_list(s: &str) -> Vec<&str> {
    s.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

fn cataid_param(s: &str) -> Result<u64, Reply> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| bad_request(messages::NO_CATA))
}

/// `deleteType`: absent, 1 (recycle bin) or 2 (permanent).
fn delete_type(ctx: &Ctx<'_>) -> Result<(), Reply> {
    match int_param(ctx.params, "deleteType")? {
        None | Some(1) | Some(2) => Ok(()),
        Some(_) => Err(bad_request(&messages::illegal("deleteType"))),
    }
}

fn check_cataname(name: &str) -> Result<(), Reply> {
    if name.chars().count() > MAX_CATANAME {
        Err(bad_request(messages::CATANAME_TOO_LONG))
    } else {
        Ok(())
    }
}

fn has_category(ds: &Dataset, user_id: &str, id: u64) -> bool {
    ds.categories
        .iter()
        .any(|c| c.user_id == user_id && c.id == id)
}

fn category_name(ds: &Dataset, user_id: &str, id: u64) -> String {
    ds.categories
        .iter()
        .find(|c| c.user_id == user_id && c.id == id)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| {
            if id == ROOT_CATAID {
                ROOT_NAME.to_owned()
            } else {
                String::new()
            }
        })
}

/// One video in the detail shape. `stringly`: video-info's entity types
/// (`times`, `status`, sizes, `cataid`, `ptime` as strings, `filesize` as
/// strings); otherwise get-video-msg's (numbers, `ptime` formatted).
fn detail(ds: &Dataset, v: &Video, stringly: bool) -> Value {
    let m = Media::of(&v.vid);
    let base = format!(
        "http://mpv.videocc.net/{}/{}",
        v.user_id,
        v.vid.split('_').next().unwrap_or(&v.vid)
    );
    let def = |k: u64, ext: &str| {
        if k <= m.df {
            format!("{base}_{k}.{ext}")
        } else {
            String::new()
        }
    };
    let images: Vec<String> = (0..3)
        .map(|i| format!("images/{}_{i}.jpg", v.vid))
        .collect();
    let images_b: Vec<String> = (0..3)
        .map(|i| format!("images/{}_{i}_b.jpg", v.vid))
        .collect();
    let image_urls: Vec<String> = images
        .iter()
        .map(|i| format!("http://img.videocc.net/uimage/{}/{i}", v.user_id))
        .collect();
    let hls: Vec<String> = (1..=m.df).map(|k| def(k, "m3u8")).collect();
    let is_sub = ds
        .account(&v.user_id)
        .is_some_and(|a| a.sub_accounts.contains(&v.uploader_email));
    let name = v
        .uploader_email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut out = json!({
        "vid": v.vid,
        "title": v.title,
        "tag": v.tag,
        "context": v.context,
        "duration": m.duration_text(),
        "cataname": category_name(ds, &v.user_id, v.cataid),
        "df": m.df,
        "seed": m.seed,
        "keepsource": 0,
        "original_definition": format!("{}x{}", m.width, m.height),
        "md5checksum": derive::digest_hex(&[&v.vid, "md5"], 32),
        "first_image": v.first_image,
        "images": images,
        "images_b": images_b,
        "imageUrls": image_urls,
        "swf_link": format!("http://player.polyv.net/videos/{}.swf", v.vid),
        "mp4": format!("{base}.mp4"),
        "default_video": def(m.df, "mp4"),
        "previewVid": "",
        "mp4_1": def(1, "mp4"),
        "mp4_2": def(2, "mp4"),
        "mp4_3": def(3, "mp4"),
        "flv1": def(1, "flv"),
        "flv2": def(2, "flv"),
        "flv3": def(3, "flv"),
        "hls_1": def(1, "m3u8"),
        "hls_2": def(2, "m3u8"),
        "hls_3": def(3, "m3u8"),
        "hls": hls,
        "hlsLevel": "open",
        "uploader": {
            "email": v.uploader_email,
            "name": name,
            "role": if is_sub { "上传者" } else { "主账号" },
        },
    });
    let status: Value = v
        .status
        .parse::<i64>()
        .map_or_else(|_| Value::from(v.status.clone()), Value::from);
    let fields = [
        ("times", json!(v.times), json!(v.times.to_string())),
        ("status", status, json!(v.status)),
        ("cataid", json!(v.cataid), json!(v.cataid.to_string())),
        (
            "ptime",
            json!(derive::fmt_china_time(v.ptime)),
            json!(derive::fmt_china_time(v.ptime)),
        ),
        ("playerwidth", json!(m.width), json!(m.width.to_string())),
        ("playerheight", json!(m.height), json!(m.height.to_string())),
        (
            "source_filesize",
            json!(m.source_filesize.to_string()),
            json!(m.source_filesize.to_string()),
        ),
        (
            "filesize",
            json!(m.filesize),
            json!(
                m.filesize
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            ),
        ),
    ];
    if let Some(map) = out.as_object_mut() {
        for (key, typed, text) in fields {
            map.insert(key.into(), if stringly { text } else { typed });
        }
        if stringly {
            map.insert("keepsource".into(), json!("0"));
        }
    }
    out
}

fn remove_videos(ds: &mut Dataset, user_id: &str, vids: &[&str]) {
    let gone: HashSet<&str> = vids.iter().copied().collect();
    ds.videos
        .retain(|v| !(v.user_id == user_id && gone.contains(v.vid.as_str())));
}

/// The vids in `vids` that are not videos of the account (one pass over the catalogue).
fn unknown_vids<'a>(ds: &Dataset, user_id: &str, vids: &[&'a str]) -> Vec<&'a str> {
    let own: HashSet<&str> = ds
        .videos
        .iter()
        .filter(|v| v.user_id == user_id)
        .map(|v| v.vid.as_str())
        .collect();
    vids.iter().copied().filter(|v| !own.contains(v)).collect()
}

impl Shared {
    /// get-video-msg: `[detail]` of one vid of the account.
    pub(crate) fn get_video_msg(&self, ctx: &Ctx<'_>) -> Reply {
        let vid = match required(ctx, "vid") {
            Ok(v) => v.trim(),
            Err(r) => return r,
        };
        match ctx.catalogue.video(ctx.user_id(), vid) {
            Some(v) => success([detail(&ctx.catalogue.dataset, v, false)], "success"),
            None => bad_request(messages::NO_VIDEO),
        }
    }

    /// play-times: `[{vid, times}]` in the order asked; vids that are not
    /// videos of the account (unknown or deleted) are left out.
    pub(crate) fn play_times(&self, ctx: &Ctx<'_>) -> Reply {
        let vids = match required(ctx, "vids") {
            Ok(v) => v,
            Err(r) => return r,
        };
        match int_param(ctx.params, "realTime") {
            Ok(None | Some(0) | Some(1)) => {}
            Ok(Some(_)) => return bad_request(&messages::illegal("realTime")),
            Err(r) => return r,
        }
        let out: Vec<Value> = vid_list(vids)
            .into_iter()
            .filter_map(|vid| ctx.catalogue.video(ctx.user_id(), vid))
            .map(|v| json!({"vid": v.vid, "times": v.times}))
            .collect();
        success(out, "success")
    }

    /// main: the account's space and traffic, optionally for one `date`.
    pub(crate) fn main(&self, ctx: &Ctx<'_>) -> Reply {
        let day = match param(ctx.params, "date") {
            None => None,
            Some(d) => match derive::parse_day(d, true) {
                Some(day) => Some(day),
                None => return bad_request(&messages::illegal("date")),
            },
        };
        success(
            ctx.catalogue.dataset.usage_of(ctx.user_id(), day),
            "success",
        )
    }

    /// del-video: removes one video; `data` is `"删除成功."`.
    pub(crate) fn del_video(&self, ctx: &Ctx<'_>) -> Reply {
        let vid = match required(ctx, "vid") {
            Ok(v) => v.trim(),
            Err(r) => return r,
        };
        if let Err(r) = delete_type(ctx) {
            return r;
        }
        let user_id = ctx.user_id();
        let done = self.modify(|ds| {
            if ds.video(user_id, vid).is_none() {
                return Err(bad_request(messages::NO_VIDEO));
            }
            remove_videos(ds, user_id, &[vid]);
            Ok(())
        });
        match done {
            Ok(()) => success("删除成功.", "success"),
            Err(r) => r,
        }
    }

    /// del-videos: removes up to 500 videos. With `ignoreInvalidVids=Y`
    /// the valid ones are deleted and `data` lists the others
    /// (comma-separated; `""` when none); otherwise one unknown vid
    /// refuses the whole call.
    pub(crate) fn del_videos(&self, ctx: &Ctx<'_>) -> Reply {
        let vids = match required(ctx, "vids") {
            Ok(v) => vid_list(v),
            Err(r) => return r,
        };
        if vids.len() > MAX_DELETE {
            return bad_request(messages::TOO_MANY_VIDS);
        }
        if let Err(r) = delete_type(ctx) {
            return r;
        }
        let ignore_invalid = match param(ctx.params, "ignoreInvalidVids") {
            None | Some("N") => false,
            Some("Y") => true,
            Some(_) => return bad_request(&messages::illegal("ignoreInvalidVids")),
        };
        let user_id = ctx.user_id();
        let done = self.modify(|ds| {
            let invalid = unknown_vids(ds, user_id, &vids);
            if !invalid.is_empty() && !ignore_invalid {
                return Err(bad_request(messages::NO_VIDEO));
            }
            remove_videos(ds, user_id, &vids);
            Ok(invalid.join(","))
        });
        match done {
            Ok(invalid) => success(invalid, "success"),
            Err(r) => r,
        }
    }

    /// video-info: sets the non-empty ones of `title`, `tag`, `describ`
    /// (the description, `context` in listings); `publishUrl` is accepted
    /// (and signed) but not kept. `data` is `[detail]` after the change.
    pub(crate) fn video_info(&self, ctx: &Ctx<'_>) -> Reply {
        let vid = match required(ctx, "vid") {
            Ok(v) => v.trim(),
            Err(r) => return r,
        };
        let user_id = ctx.user_id();
        let title = param(ctx.params, "title");
        let tag = param(ctx.params, "tag");
        let describ = param(ctx.params, "describ");
        let done = self.modify(|ds| {
            let Some(v) = ds
                .videos
                .iter_mut()
                .find(|v| v.user_id == user_id && v.vid == vid)
            else {
                return Err(bad_request(messages::NO_VIDEO));
            };
            if let Some(t) = title {
                v.title = t.to_owned();
            }
            if let Some(t) = tag {
                v.tag = t.to_owned();
            }
            if let Some(d) = describ {
                v.context = d.to_owned();
            }
            let v = v.clone();
            Ok(detail(ds, &v, true))
        });
        match done {
            Ok(d) => success([d], "success"),
            Err(r) => r,
        }
    }

    /// cataJson: `[root]`, or `[node]` for the sent (unsigned) `cataid`.
    pub(crate) fn cata_json(&self, ctx: &Ctx<'_>) -> Reply {
        let tree = ctx.catalogue.dataset.category_tree(ctx.user_id());
        let node: &CategoryNode = match param(ctx.params, "cataid") {
            None => &tree,
            Some(c) => match cataid_param(c).map(|id| tree.find(id)) {
                Ok(Some(node)) => node,
                Ok(None) => return bad_request(messages::NO_CATA),
                Err(r) => return r,
            },
        };
        success([node.to_json()], "success")
    }

    /// addCata: a new category under `parentid` (`1`: top level) with a new
    /// 64-bit id; `data` is `{cataid, catatree}`.
    pub(crate) fn add_cata(&self, ctx: &Ctx<'_>) -> Reply {
        let (name, parent) = match (required(ctx, "cataname"), required(ctx, "parentid")) {
            (Ok(n), Ok(p)) => (n, p),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        if let Err(r) = check_cataname(name) {
            return r;
        }
        let parent = match cataid_param(parent) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let user_id = ctx.user_id();
        let now = u64::try_from(ctx.now_ms).unwrap_or(0);
        let done = self.modify(|ds| {
            let stored_parent = if parent == ROOT_CATAID {
                None
            } else if has_category(ds, user_id, parent) {
                Some(parent)
            } else {
                return Err(bad_request(messages::NO_CATA));
            };
            let next = ds
                .categories
                .iter()
                .map(|c| c.id.saturating_add(1))
                .max()
                .unwrap_or(0)
                .max(now);
            ds.categories.push(Category {
                id: next,
                parent: stored_parent,
                user_id: user_id.to_owned(),
                name: name.to_owned(),
            });
            let tree = ds.category_tree(user_id);
            let catatree = tree
                .find(next)
                .map_or_else(|| format!("1,{next}"), |n| n.catatree.clone());
            Ok((next, catatree))
        });
        match done {
            Ok((cataid, catatree)) => {
                success(json!({"cataid": cataid, "catatree": catatree}), "success")
            }
            Err(r) => r,
        }
    }

    /// updateCata: renames a category (the root `1` included); `data` is `true`.
    pub(crate) fn update_cata(&self, ctx: &Ctx<'_>) -> Reply {
        let (id, name) = match (required(ctx, "cataid"), required(ctx, "cataname")) {
            (Ok(i), Ok(n)) => (i, n),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let id = match cataid_param(id) {
            Ok(i) => i,
            Err(r) => return r,
        };
        if let Err(r) = check_cataname(name) {
            return r;
        }
        let user_id = ctx.user_id();
        let done = self.modify(|ds| {
            match ds
                .categories
                .iter_mut()
                .find(|c| c.user_id == user_id && c.id == id)
            {
                Some(c) => c.name = name.to_owned(),
                None if id == ROOT_CATAID => ds.categories.push(Category {
                    id,
                    parent: None,
                    user_id: user_id.to_owned(),
                    name: name.to_owned(),
                }),
                None => return Err(bad_request(messages::NO_CATA)),
            }
            Ok(())
        });
        match done {
            Ok(()) => success(true, ""),
            Err(r) => r,
        }
    }

    /// deleteCata: removes a category and everything below it; their
    /// videos move to the default category `1`. `data` is `true`.
    pub(crate) fn delete_cata(&self, ctx: &Ctx<'_>) -> Reply {
        let id = match required(ctx, "cataid").and_then(cataid_param) {
            Ok(i) => i,
            Err(r) => return r,
        };
        if id == ROOT_CATAID {
            return bad_request(messages::DEFAULT_CATA);
        }
        let user_id = ctx.user_id();
        let done = self.modify(|ds| {
            if !has_category(ds, user_id, id) {
                return Err(bad_request(messages::NO_CATA));
            }
            let gone = ds.subtree(user_id, id);
            ds.categories
                .retain(|c| !(c.user_id == user_id && gone.contains(&c.id)));
            for v in ds
                .videos
                .iter_mut()
                .filter(|v| v.user_id == user_id && gone.contains(&v.cataid))
            {
                v.cataid = ROOT_CATAID;
            }
            Ok(())
        });
        match done {
            Ok(()) => success(true, "success"),
            Err(r) => r,
        }
    }

    /// changeCata: moves videos to a category (every vid must be the
    /// account's, or nothing moves); `data` is `true`.
    pub(crate) fn change_cata(&self, ctx: &Ctx<'_>) -> Reply {
        let (vids, id) = match (required(ctx, "vids"), required(ctx, "cataid")) {
            (Ok(v), Ok(c)) => (vid_list(v), c),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let id = match cataid_param(id) {
            Ok(i) => i,
            Err(r) => return r,
        };
        if vids.is_empty() {
            return bad_request(&messages::empty("vids"));
        }
        let user_id = ctx.user_id();
        let done = self.modify(|ds| {
            if id != ROOT_CATAID && !has_category(ds, user_id, id) {
                return Err(bad_request(messages::NO_CATA));
            }
            if !unknown_vids(ds, user_id, &vids).is_empty() {
                return Err(bad_request(messages::NO_VIDEO));
            }
            let moved: HashSet<&str> = vids.iter().copied().collect();
            for v in ds
                .videos
                .iter_mut()
                .filter(|v| v.user_id == user_id && moved.contains(v.vid.as_str()))
            {
                v.cataid = id;
            }
            Ok(())
        });
        match done {
            Ok(()) => success(true, "success"),
            Err(r) => r,
        }
    }

    /// viewlog: the day's rows (`day` as `yyyyMMdd`), filtered by the
    /// unsigned `vid`, `cataid` and `viewerId` (or else `sessionId`); a day
    /// after today (China time, mock clock) has none.
    pub(crate) fn viewlog(&self, ctx: &Ctx<'_>) -> Reply {
        let day = match required(ctx, "day") {
            Ok(d) => d,
            Err(r) => return r,
        };
        let Some(day) = derive::parse_day(day, false) else {
            return bad_request(&messages::illegal("day"));
        };
        if day > derive::china_day(ctx.now_ms) {
            return success(Vec::<Value>::new(), "");
        }
        let ds = &ctx.catalogue.dataset;
        let vid = param(ctx.params, "vid");
        let cataid = param(ctx.params, "cataid").map(|c| c.trim().parse::<u64>().ok());
        let viewer = param(ctx.params, "viewerId").or_else(|| param(ctx.params, "sessionId"));
        let rows: Vec<_> = ds
            .view_log_of_day(ctx.user_id(), day)
            .into_iter()
            .filter(|r| vid.is_none_or(|v| r.video_id == v))
            .filter(|r| viewer.is_none_or(|s| r.session_id == s))
            .filter(|r| match cataid {
                None => true,
                Some(want) => ctx
                    .catalogue
                    .video(ctx.user_id(), &r.video_id)
                    .is_some_and(|v| Some(v.cataid) == want),
            })
            .collect();
        success(rows, "")
    }
}
