//! What the mock derives from the catalogue instead of storing: the category
//! tree with its counts, per-video media figures, daily view logs and the
//! account's space and traffic. Everything is a pure function of the
//! [`Dataset`] (and of vids, which come from the seed), so a write to the
//! catalogue shows in every later read.

use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::data::{Dataset, Video};

/// The id of the root of every account's category tree (Polyv's 默认分类).
pub const ROOT_CATAID: u64 = 1;
/// The root's name when the account has no stored category `1`.
pub const ROOT_NAME: &str = "默认分类";
/// Total storage of every account, bytes (10 TiB).
pub const TOTAL_SPACE: u64 = 10 * (1 << 40);
/// Total traffic of every account, bytes (50 TiB).
pub const TOTAL_FLOW: u64 = 50 * (1 << 40);

const DAY_MS: i64 = 86_400_000;
/// Polyv's days are China days (UTC+8).
const CHINA_OFFSET_MS: i64 = 8 * 3_600_000;

/// A node of an account's category tree, as `cataJson` serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryNode {
    /// Category id (`1` for the root).
    pub cataid: u64,
    /// Parent id (`0` for the root, `1` for a top-level category).
    pub parentid: u64,
    /// Name.
    pub name: String,
    /// Comma-separated ids from the root, e.g. `"1,1539918907896"`.
    pub catatree: String,
    /// Videos in this category and all categories below it (the root counts
    /// every video of the account).
    pub videos: u64,
    /// Child categories, in the catalogue's order (empty for a leaf).
    pub nodes: Vec<CategoryNode>,
}

impl CategoryNode {
    /// This node and every node below it, depth first, parents before children.
    pub fn iter(&self) -> Vec<&CategoryNode> {
        let mut ordered = Vec::new();
        push_depth_first(self, &mut ordered);
        ordered
    }

    /// The node with this id in this subtree.
    pub fn find(&self, cataid: u64) -> Option<&CategoryNode> {
        if self.cataid == cataid {
            return Some(self);
        }
        self.nodes.iter().find_map(|n| n.find(cataid))
    }

    /// The JSON object `cataJson` sends for this node: `text` (`"name (videos) "`),
    /// `cataname`, `catatree`, `cataid` and `parentid` as numbers, `videos`,
    /// and `nodes` only when there are children.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert(
            "text".into(),
            format!("{} ({}) ", self.name, self.videos).into(),
        );
        map.insert("cataname".into(), self.name.clone().into());
        map.insert("catatree".into(), self.catatree.clone().into());
        map.insert("cataid".into(), self.cataid.into());
        map.insert("parentid".into(), self.parentid.into());
        map.insert("videos".into(), self.videos.into());
        if !self.nodes.is_empty() {
            map.insert(
                "nodes".into(),
                self.nodes.iter().map(CategoryNode::to_json).collect(),
            );
        }
        serde_json::Value::Object(map)
    }
}

fn push_depth_first<'a>(node: &'a CategoryNode, out: &mut Vec<&'a CategoryNode>) {
    out.push(node);
    for child in &node.nodes {
        push_depth_first(child, out);
    }
}

/// One row of a day's view log, with the keys `viewlog` sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)] // the spec's field table (B.13) documents each key
pub struct ViewLogRow {
    pub play_id: String,
    pub user_id: String,
    pub video_id: String,
    pub play_duration: u64,
    pub stay_duration: u64,
    pub current_times: u64,
    pub duration: u64,
    pub flow_size: u64,
    pub session_id: String,
    pub param1: String,
    pub param2: String,
    pub param3: String,
    pub param4: String,
    pub param5: String,
    pub ip_address: String,
    pub country: String,
    pub province: String,
    pub city: String,
    pub isp: String,
    pub referer: String,
    pub user_agent: String,
    pub operating_system: String,
    pub browser: String,
    pub is_mobile: String,
    pub current_day: String,
    pub current_hour: u64,
    pub created_time: i64,
    pub last_modified: i64,
    pub view_source: String,
}

/// An account's space and traffic, with the keys `main` sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Traffic allowance, bytes ([`TOTAL_FLOW`]).
    pub total_flow: u64,
    /// Traffic used: for a date, the sum of that day's view-log `flowSize`;
    /// without one, every play so far (play count × 4 bytes per second of
    /// the video; a very large catalogue can exceed `totalFlow`).
    pub used_flow: u64,
    /// Storage allowance, bytes ([`TOTAL_SPACE`]).
    pub total_space: u64,
    /// Storage used: the source and encoded sizes of every video.
    pub used_space: u64,
    /// Account id.
    pub user_id: String,
    /// Account e-mail (`{user_id}@polyv-mock.example`).
    pub email: String,
    /// Videos of the account.
    pub video_count: u64,
}

/// Per-video media figures, derived from the vid.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    pub(crate) duration: u64,
    pub(crate) df: u64,
    pub(crate) seed: u64,
    pub(crate) width: u64,
    pub(crate) height: u64,
    pub(crate) filesize: Vec<u64>,
    pub(crate) source_filesize: u64,
}

/// Bytes per second of each definition (流畅, 高清, 超清) and of the source.
const RATES: [u64; 3] = [40_000, 90_000, 180_000];
const SOURCE_RATE: u64 = 300_000;

pub(crate) fn hash(parts: &[&[u8]]) -> u64 {
    // FNV-1a, then a splitmix64 finish: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Media {
    pub(crate) fn of(vid: &str) -> Media {
        let h = hash(&[vid.as_bytes()]);
        let duration = 30 + h % 3_570;
        let df = 1 + (h >> 12) % 3;
        let (width, height) = match df {
            3 => (1920, 1080),
            2 => (1280, 720),
            _ => (640, 360),
        };
        let filesize = RATES
            .iter()
            .take(df as usize)
            .map(|r| r.saturating_mul(duration))
            .collect();
        Media {
            duration,
            df,
            seed: (h >> 20) % 2,
            width,
            height,
            filesize,
            source_filesize: SOURCE_RATE.saturating_mul(duration),
        }
    }

    /// `HH:MM:SS`.
    pub(crate) fn duration_text(&self) -> String {
        let d = self.duration;
        format!("{:02}:{:02}:{:02}", d / 3600, d / 60 % 60, d % 60)
    }

    fn stored_bytes(&self) -> u64 {
        self.filesize
            .iter()
            .fold(self.source_filesize, |a, b| a.saturating_add(*b))
    }

    /// Bytes one whole play moves (the lowest definition).
    fn play_bytes(&self) -> u64 {
        self.filesize.first().copied().unwrap_or(0)
    }
}

/// 40 lowercase hex digits of SHA-1: a stand-in MD5 checksum and play id.
pub(crate) fn digest_hex(parts: &[&str], len: usize) -> String {
    let mut sha = Sha1::new();
    for p in parts {
        sha.update(p.as_bytes());
        sha.update([0]);
    }
    let mut s = hex::encode(sha.finalize());
    s.truncate(len);
    s
}

// ---- dates ------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The China (UTC+8) day of an instant.
pub(crate) fn china_day(ms: i64) -> i64 {
    ms.saturating_add(CHINA_OFFSET_MS).div_euclid(DAY_MS)
}

/// Parses `yyyyMMdd` (`dashes` false) or `yyyy-MM-dd` (`dashes` true), checking the calendar.
pub(crate) fn parse_day(s: &str, dashes: bool) -> Option<i64> {
    let b = s.as_bytes();
    let (y, m, d) = if dashes {
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        (s.get(0..4)?, s.get(5..7)?, s.get(8..10)?)
    } else {
        if b.len() != 8 {
            return None;
        }
        (s.get(0..4)?, s.get(4..6)?, s.get(6..8)?)
    };
    if ![y, m, d]
        .iter()
        .all(|p| p.bytes().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let (y, m, d) = (
        y.parse::<i64>().ok()?,
        m.parse::<u32>().ok()?,
        d.parse::<u32>().ok()?,
    );
    if !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// `yyyy-MM-dd` of a day number.
pub(crate) fn fmt_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `yyyy-MM-dd HH:mm:ss` of an instant, China time.
pub(crate) fn fmt_china_time(ms: i64) -> String {
    let local = ms.saturating_add(CHINA_OFFSET_MS);
    let secs = local.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        fmt_day(local.div_euclid(DAY_MS)),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

// ---- the catalogue, seen per account ---------------------------------------

const PROVINCES: [(&str, &str); 6] = [
    ("广东", "深圳"),
    ("北京", "北京"),
    ("上海", "上海"),
    ("浙江", "杭州"),
    ("四川", "成都"),
    ("湖北", "武汉"),
];
const ISPS: [&str; 3] = ["电信", "联通", "移动"];
const SOURCES: [&str; 7] = [
    "vod_ios_sdk",
    "vod_android_sdk",
    "vod_flash",
    "vod_wechat_mini_program",
    "vod_pc_html5",
    "vod_mobile_html5",
    "vod_mobile_html5_v2",
];
const CLIENTS: [(&str, &str, &str, bool); 4] = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
        "Windows 10",
        "Chrome",
        false,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
        "iOS",
        "Safari",
        true,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0",
        "Android",
        "WeChat",
        true,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/121.0",
        "Mac OS X",
        "Firefox",
        false,
    ),
];

fn pick<T: Copy>(list: &[T], h: u64, fallback: T) -> T {
    list.get((h % list.len().max(1) as u64) as usize)
        .copied()
        .unwrap_or(fallback)
}

impl Dataset {
    /// The category tree of an account as `cataJson` serves it: the root
    /// `1` (the stored category `1`'s name, or 默认分类), whose children are
    /// the top-level categories (parent `None` or `1`), and so on down.
    pub fn category_tree(&self, user_id: &str) -> CategoryNode {
        let root_name = self
            .categories
            .iter()
            .find(|c| c.user_id == user_id && c.id == ROOT_CATAID)
            .map_or(ROOT_NAME, |c| c.name.as_str());
        let mut visited = vec![ROOT_CATAID];
        let mut root = CategoryNode {
            cataid: ROOT_CATAID,
            parentid: 0,
            name: root_name.to_owned(),
            catatree: ROOT_CATAID.to_string(),
            videos: 0,
            nodes: Vec::new(),
        };
        root.nodes = self.children(user_id, ROOT_CATAID, &root.catatree, &mut visited);
        let own = |id: u64| {
            self.videos
                .iter()
                .filter(|v| v.user_id == user_id && v.cataid == id)
                .count() as u64
        };
        fn count(node: &mut CategoryNode, own: &dyn Fn(u64) -> u64) -> u64 {
            let below: u64 = node.nodes.iter_mut().map(|n| count(n, own)).sum();
            node.videos = own(node.cataid) + below;
            node.videos
        }
        count(&mut root, &own);
        root.videos = self.videos.iter().filter(|v| v.user_id == user_id).count() as u64;
        root
    }

    fn children(
        &self,
        user_id: &str,
        parent: u64,
        tree: &str,
        visited: &mut Vec<u64>,
    ) -> Vec<CategoryNode> {
        let mut out = Vec::new();
        for c in self.categories.iter().filter(|c| c.user_id == user_id) {
            let is_child = match c.parent {
                None => parent == ROOT_CATAID && c.id != ROOT_CATAID,
                Some(p) => p == parent,
            };
            if !is_child || visited.contains(&c.id) {
                continue;
            }
            visited.push(c.id);
            let catatree = format!("{tree},{}", c.id);
            let nodes = self.children(user_id, c.id, &catatree, visited);
            out.push(CategoryNode {
                cataid: c.id,
                parentid: parent,
                name: c.name.clone(),
                catatree,
                videos: 0,
                nodes,
            });
        }
        out
    }

    /// The video with this vid in this account.
    pub fn video(&self, user_id: &str, vid: &str) -> Option<&Video> {
        self.videos
            .iter()
            .find(|v| v.vid == vid && v.user_id == user_id)
    }

    /// A day's view log of an account as `viewlog` serves it (before its
    /// `vid`/`cataid`/`viewerId` filters), `day` as `yyyyMMdd` or
    /// `yyyy-MM-dd` (anything else gives no rows). About one video in
    /// twenty uploaded by that day was watched one to three times; the rows
    /// are a pure function of the vids and the day, ordered by `createdTime`.
    pub fn view_log(&self, user_id: &str, day: &str) -> Vec<ViewLogRow> {
        match parse_day(day, false).or_else(|| parse_day(day, true)) {
            Some(d) => self.view_log_of_day(user_id, d),
            None => Vec::new(),
        }
    }

    pub(crate) fn view_log_of_day(&self, user_id: &str, day: i64) -> Vec<ViewLogRow> {
        let day_start = day.saturating_mul(DAY_MS).saturating_sub(CHINA_OFFSET_MS);
        let day_end = day_start.saturating_add(DAY_MS);
        let day_text = fmt_day(day);
        let day_key = day.to_le_bytes();
        let mut rows = Vec::new();
        for v in self.videos.iter().filter(|v| v.user_id == user_id) {
            if v.ptime >= day_end {
                continue;
            }
            let h = hash(&[v.vid.as_bytes(), &day_key]);
            if h % 20 != 0 {
                continue;
            }
            let media = Media::of(&v.vid);
            for k in 0..(1 + (h >> 8) % 3) {
                let r = hash(&[v.vid.as_bytes(), &day_key, &k.to_le_bytes()]);
                let hour = r % 24;
                let created = day_start + (hour as i64) * 3_600_000 + ((r >> 8) % 3_600_000) as i64;
                let play = 1 + (r >> 16) % media.duration;
                let stay = play + (r >> 24) % 30;
                let (province, city) = pick(&PROVINCES, r >> 28, ("", ""));
                let (ua, os, browser, mobile) = pick(&CLIENTS, r >> 32, ("", "", "", false));
                let session = format!("viewer-{}", (r >> 36) % 50);
                rows.push(ViewLogRow {
                    play_id: digest_hex(&[&v.vid, &day_text, &k.to_string()], 32),
                    user_id: user_id.to_owned(),
                    video_id: v.vid.clone(),
                    play_duration: play,
                    stay_duration: stay,
                    current_times: play,
                    duration: media.duration,
                    flow_size: media.play_bytes().saturating_mul(play) / media.duration.max(1),
                    session_id: session,
                    param1: String::new(),
                    param2: format!("{}", (r >> 40) % 1000),
                    param3: String::new(),
                    param4: String::new(),
                    param5: String::new(),
                    ip_address: format!(
                        "10.{}.{}.{}",
                        (r >> 44) % 256,
                        (r >> 52) % 256,
                        1 + (r >> 56) % 254
                    ),
                    country: "中国".to_owned(),
                    province: province.to_owned(),
                    city: city.to_owned(),
                    isp: pick(&ISPS, r >> 3, "").to_owned(),
                    referer: format!("https://www.example.com/course/{}", (r >> 5) % 100),
                    user_agent: ua.to_owned(),
                    operating_system: os.to_owned(),
                    browser: browser.to_owned(),
                    is_mobile: if mobile { "Y" } else { "N" }.to_owned(),
                    current_day: day_text.clone(),
                    current_hour: hour,
                    created_time: created,
                    last_modified: created.saturating_add((stay as i64) * 1000),
                    view_source: pick(&SOURCES, r >> 7, "").to_owned(),
                });
            }
        }
        rows.sort_by(|a, b| (a.created_time, &a.play_id).cmp(&(b.created_time, &b.play_id)));
        rows
    }

    /// An account's space and traffic as `main` serves it, optionally for
    /// one day (`yyyy-MM-dd`; `None` when the account or the date is not
    /// valid).
    pub fn usage(&self, user_id: &str, date: Option<&str>) -> Option<Usage> {
        let account = self.account(user_id)?;
        let day = match date {
            None => None,
            Some(d) => Some(parse_day(d, true)?),
        };
        Some(self.usage_of(&account.user_id, day))
    }

    pub(crate) fn usage_of(&self, user_id: &str, day: Option<i64>) -> Usage {
        let mut used_space: u64 = 0;
        let mut all_plays: u64 = 0;
        let mut count = 0;
        for v in self.videos.iter().filter(|v| v.user_id == user_id) {
            let media = Media::of(&v.vid);
            used_space = used_space.saturating_add(media.stored_bytes());
            all_plays = all_plays.saturating_add(v.times.saturating_mul(media.duration * 4));
            count += 1;
        }
        let used_flow = match day {
            None => all_plays,
            Some(d) => self
                .view_log_of_day(user_id, d)
                .iter()
                .fold(0u64, |a, r| a.saturating_add(r.flow_size)),
        };
        Usage {
            total_flow: TOTAL_FLOW,
            used_flow,
            total_space: TOTAL_SPACE,
            used_space,
            user_id: user_id.to_owned(),
            email: format!("{user_id}@polyv-mock.example"),
            video_count: count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            parse_day("20160713", false),
            Some(days_from_civil(2016, 7, 13))
        );
        assert_eq!(parse_day("2016-07-13", true), parse_day("20160713", false));
        assert_eq!(fmt_day(days_from_civil(2024, 2, 29)), "2024-02-29");
        for bad in [
            "20230229",
            "2016071",
            "2016-07-13",
            "2016x713",
            "20161301",
            "20160700",
            "",
        ] {
            assert_eq!(parse_day(bad, false), None, "{bad}");
        }
        assert_eq!(parse_day("20160713", true), None);
        // 2017-07-14T02:40:00Z is 10:40 in China.
        assert_eq!(fmt_china_time(1_500_000_000_000), "2017-07-14 10:40:00");
        assert_eq!(china_day(1_500_000_000_000), days_from_civil(2017, 7, 14));
    }

    #[test]
    fn the_tree_nests_the_demo_categories_under_the_root() {
        let ds = Dataset::generate(1, 300);
        let tree = ds.category_tree(crate::DEMO_USER_ID);
        assert_eq!((tree.cataid, tree.parentid), (1, 0));
        let leaf = tree.find(crate::DEMO_LEAF_CATAID).unwrap();
        assert_eq!(
            leaf.catatree,
            "1,1539918907896,1539918907897,1539918907898,1539918907899"
        );
        assert!(leaf.nodes.is_empty());
        let top = tree.find(crate::DEMO_ROOT_CATAID).unwrap();
        assert_eq!(top.parentid, 1);
        let in_subtree = ds
            .videos
            .iter()
            .filter(|v| {
                ds.subtree(crate::DEMO_USER_ID, crate::DEMO_ROOT_CATAID)
                    .contains(&v.cataid)
            })
            .count() as u64;
        assert_eq!(top.videos, in_subtree);
        assert_eq!(tree.iter().len(), 8);
        assert_eq!(tree.iter().first().map(|n| n.cataid), Some(1));
    }

    #[test]
    fn view_logs_are_deterministic_and_filtered_by_upload_time() {
        let ds = Dataset::generate(1, 400);
        let a = ds.view_log(crate::DEMO_USER_ID, "20251001");
        assert!(!a.is_empty());
        assert_eq!(a, ds.view_log(crate::DEMO_USER_ID, "2025-10-01"));
        assert!(ds.view_log(crate::DEMO_USER_ID, "20100101").is_empty());
        assert!(ds.view_log(crate::DEMO_USER_ID, "nonsense").is_empty());
        let usage = ds.usage(crate::DEMO_USER_ID, Some("2025-10-01")).unwrap();
        assert_eq!(usage.used_flow, a.iter().map(|r| r.flow_size).sum::<u64>());
    }
}
