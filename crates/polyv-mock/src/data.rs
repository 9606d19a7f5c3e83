//! The mock's catalogue: accounts, sub-accounts, categories and videos.

use std::fmt::Write as _;

/// The seeded demo account's user id (the first account of every generated data set).
pub const DEMO_USER_ID: &str = "demo0000a1";
/// The demo account's secret key.
pub const DEMO_SECRET_KEY: &str = "DemoSecretKey123";
/// The demo account's sub-accounts, in order. The second one contains a `+`
/// (it must travel as `%2B`), the fourth is non-ASCII.
pub const DEMO_SUB_ACCOUNTS: [&str; 5] = [
    "test1@zzs.com",
    "ops+cn@example.com",
    "teacher.li@example.cn",
    "张老师@example.cn",
    "media_team@example.com",
];
/// A demo sub-account e-mail that contains a `+`.
pub const DEMO_PLUS_EMAIL: &str = "ops+cn@example.com";
/// The demo account's default category (`1`, as in Polyv's example).
pub const DEMO_DEFAULT_CATAID: u64 = 1;
/// The demo account's top category of the 4-level tree
/// `1539918907896 > 1539918907897 > 1539918907898 > 1539918907899`.
pub const DEMO_ROOT_CATAID: u64 = 1_539_918_907_896;
/// Child of [`DEMO_ROOT_CATAID`].
pub const DEMO_CHILD_CATAID: u64 = 1_539_918_907_897;
/// Grandchild of [`DEMO_ROOT_CATAID`].
pub const DEMO_GRANDCHILD_CATAID: u64 = 1_539_918_907_898;
/// Great-grandchild of [`DEMO_ROOT_CATAID`] (a leaf).
pub const DEMO_LEAF_CATAID: u64 = 1_539_918_907_899;
/// Child of [`DEMO_ROOT_CATAID`] beside [`DEMO_CHILD_CATAID`] (English & 外语, a leaf).
pub const DEMO_ENGLISH_CATAID: u64 = 1_539_918_907_900;
/// A top-level demo category without children (活动 🎉).
pub const DEMO_EVENTS_CATAID: u64 = 1_539_918_907_901;
/// A demo category whose id is `2^32 + 1`: truncated to 32 bits it becomes `1`,
/// another valid category, so a truncating client silently gets the wrong list.
pub const DEMO_WRAP_CATAID: u64 = (1 << 32) + 1;

/// Every video status code Polyv documents.
pub const STATUSES: [&str; 7] = ["60", "61", "10", "20", "50", "51", "-1"];

/// An account (main account) with its sub-accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user id, the path segment of the URL.
    pub user_id: String,
    /// The secret key that signs requests.
    pub secret_key: String,
    /// Sub-account e-mails.
    pub sub_accounts: Vec<String>,
}

/// A category of one account. Categories form a tree through `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Category id (64-bit).
    pub id: u64,
    /// Parent category id, `None` for a top-level category.
    pub parent: Option<u64>,
    /// Owning account.
    pub user_id: String,
    /// Display name.
    pub name: String,
}

/// A video as the mock serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    /// Video id.
    pub vid: String,
    /// Category id.
    pub cataid: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub context: String,
    /// Play count.
    pub times: u64,
    /// Cover image URL.
    pub first_image: String,
    /// Comma-separated tags, `""` when none.
    pub tag: String,
    /// Audio URL, `null` on the wire when `None`.
    pub aac_link: Option<String>,
    /// Status code as a string: `"60"`, `"61"`, `"10"`, `"20"`, `"50"`, `"51"`, `"-1"` (any string is served as is).
    pub status: String,
    /// The uploading sub-account's e-mail.
    pub uploader_email: String,
    /// Owning account.
    pub user_id: String,
    /// Upload time, ms since the Unix epoch.
    pub ptime: i64,
}

impl Video {
    /// A published (`"61"`) video with plain defaults; change the public fields as needed.
    pub fn new(user_id: &str, vid: &str, uploader_email: &str, cataid: u64) -> Video {
        Video {
            vid: vid.to_owned(),
            cataid,
            title: format!("video {vid}"),
            context: String::new(),
            times: 0,
            first_image: first_image(user_id, vid),
            tag: String::new(),
            aac_link: None,
            status: "61".to_owned(),
            uploader_email: uploader_email.to_owned(),
            user_id: user_id.to_owned(),
            ptime: BASE_PTIME,
        }
    }

    /// Whether the status is a published one (`60` or `61`).
    pub fn is_published(&self) -> bool {
        self.status == "60" || self.status == "61"
    }
}

/// A whole catalogue. Fields are public so tests can build exactly what they need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dataset {
    /// Accounts; the first is the demo account in generated sets.
    pub accounts: Vec<Account>,
    /// Categories of every account.
    pub categories: Vec<Category>,
    /// Videos of every account.
    pub videos: Vec<Video>,
}

/// First upload time used by generated data: 2017-07-14T02:40:00Z.
pub const BASE_PTIME: i64 = 1_500_000_000_000;
const END_PTIME: i64 = 1_760_000_000_000;

fn first_image(user_id: &str, vid: &str) -> String {
    let a = user_id.chars().next().unwrap_or('0');
    let b = vid
        .split('_')
        .next()
        .and_then(|s| s.chars().last())
        .unwrap_or('0');
    format!("http://img.videocc.net/uimage/{a}/{user_id}/{b}/{vid}.jpg")
}

fn make_vid(user_id: &str, n: u64, noise: u64) -> String {
    let suffix = user_id.chars().next().unwrap_or('0');
    let mut s = String::with_capacity(user_id.len() + 24);
    s.push_str(user_id);
    // 22 hex digits: 8 from the counter (unique), 14 of noise.
    let _ = write!(
        s,
        "{:08x}{:014x}_{suffix}",
        n & 0xffff_ffff,
        noise & 0x00ff_ffff_ffff_ffff
    );
    s
}

fn cat(id: u64, parent: Option<u64>, user_id: &str, name: &str) -> Category {
    Category {
        id,
        parent,
        user_id: user_id.to_owned(),
        name: name.to_owned(),
    }
}

fn demo_account() -> Account {
    Account {
        user_id: DEMO_USER_ID.to_owned(),
        secret_key: DEMO_SECRET_KEY.to_owned(),
        sub_accounts: DEMO_SUB_ACCOUNTS.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn demo_categories() -> Vec<Category> {
    let u = DEMO_USER_ID;
    vec![
        cat(DEMO_DEFAULT_CATAID, None, u, "默认分类"),
        cat(DEMO_ROOT_CATAID, None, u, "课程 Courses"),
        cat(DEMO_CHILD_CATAID, Some(DEMO_ROOT_CATAID), u, "数学"),
        cat(DEMO_GRANDCHILD_CATAID, Some(DEMO_CHILD_CATAID), u, "代数"),
        cat(
            DEMO_LEAF_CATAID,
            Some(DEMO_GRANDCHILD_CATAID),
            u,
            "线性代数 🧮",
        ),
        cat(
            DEMO_ENGLISH_CATAID,
            Some(DEMO_ROOT_CATAID),
            u,
            "English & 外语",
        ),
        cat(DEMO_EVENTS_CATAID, None, u, "活动 🎉"),
        cat(DEMO_WRAP_CATAID, None, u, "边界 2^32+1"),
    ]
}

fn other_accounts() -> (Vec<Account>, Vec<Category>) {
    let second = "b0f7041324";
    let third = "f1e2d3c4b5";
    let accounts = vec![
        Account {
            user_id: second.to_owned(),
            secret_key: "tIQp4ATe9Z".to_owned(),
            // Shares an e-mail with the demo account: results must stay per account.
            sub_accounts: vec!["test1@zzs.com".to_owned(), "editor@zzs.com".to_owned()],
        },
        Account {
            user_id: third.to_owned(),
            secret_key: "ThirdSecret789".to_owned(),
            sub_accounts: vec![
                "a@third.example".to_owned(),
                "b+tag@third.example".to_owned(),
                "c@third.example".to_owned(),
            ],
        },
    ];
    let categories = vec![
        cat(1_540_000_000_001, None, second, "test"),
        cat(1_540_000_000_002, Some(1_540_000_000_001), second, "子分类"),
        cat(1_540_000_000_003, Some(1_540_000_000_002), second, "孙分类"),
        // 2^53 + 1: not representable as an f64 (JavaScript number).
        cat(9_007_199_254_740_993, None, third, "大数 2^53+1"),
        cat(
            9_007_199_254_740_994,
            Some(9_007_199_254_740_993),
            third,
            "大数子分类",
        ),
        cat(
            9_007_199_254_740_995,
            Some(9_007_199_254_740_994),
            third,
            "大数孙分类",
        ),
    ];
    (accounts, categories)
}

const TITLES: [&str; 12] = [
    "高等数学 第",
    "Rust 入门 #",
    "周末 vlog 🎬 ",
    "产品发布会 🚀 回放 ",
    "英语听力 Listening ",
    "\"引号\" & <标签> 测试 ",
    "数学 ∑ 公式 ",
    "😀😃😄 emoji ",
    "a=b&c=d+e ",
    "test ",
    "线性代数 🧮 ",
    "直播回放 2024-",
];
const CONTEXTS: [&str; 8] = [
    "",
    "简介",
    "第一行\n第二行",
    "Line with \"quotes\" and \\backslash",
    "<p>HTML 简介</p>",
    "🎉 庆祝活动回放",
    "dasdasdadasd",
    "tab\tseparated\u{2028}line-separator",
];
const TAGS: [&str; 8] = [
    "数学",
    "Rust",
    "教程",
    "vlog",
    "活动",
    "English",
    "直播回放",
    "a b",
];

impl Dataset {
    /// The demo account, its sub-accounts and its categories, with zero videos.
    pub fn empty_demo() -> Dataset {
        Dataset {
            accounts: vec![demo_account()],
            categories: demo_categories(),
            videos: Vec::new(),
        }
    }

    /// A deterministic, realistic catalogue of `n_videos` videos over three
    /// accounts (about 80% of them in the demo account). Every status occurs in
    /// the demo account once `n_videos >= 7`.
    pub fn generate(seed: u64, n_videos: usize) -> Dataset {
        let mut ds = Dataset::empty_demo();
        let (accounts, categories) = other_accounts();
        ds.accounts.extend(accounts);
        ds.categories.extend(categories);
        ds.videos.reserve(n_videos);

        // Per-account category id lists, computed once.
        let cats: Vec<Vec<u64>> = ds
            .accounts
            .iter()
            .map(|a| {
                ds.categories
                    .iter()
                    .filter(|c| c.user_id == a.user_id)
                    .map(|c| c.id)
                    .collect()
            })
            .collect();

        let mut rng = fastrand::Rng::with_seed(seed);
        let mut prev_ptime = BASE_PTIME;
        for i in 0..n_videos {
            let forced = i < STATUSES.len();
            let acc_idx = if forced {
                0
            } else {
                match rng.u32(0..10) {
                    0 => 1,
                    1 => 2,
                    _ => 0,
                }
            };
            let Some(account) = ds.accounts.get(acc_idx) else {
                continue;
            };
            let user_id = account.user_id.as_str();
            let email = if forced {
                account
                    .sub_accounts
                    .get(i % account.sub_accounts.len().max(1))
            } else {
                account
                    .sub_accounts
                    .get(rng.usize(0..account.sub_accounts.len().max(1)))
            };
            let email = email.cloned().unwrap_or_default();
            let acc_cats = cats.get(acc_idx).map(Vec::as_slice).unwrap_or(&[]);
            let cataid = acc_cats
                .get(rng.usize(0..acc_cats.len().max(1)))
                .copied()
                .unwrap_or(1);
            let status = if forced {
                STATUSES[i % STATUSES.len()]
            } else {
                match rng.u32(0..100) {
                    0..25 => "60",
                    25..60 => "61",
                    60..68 => "10",
                    68..76 => "20",
                    76..84 => "50",
                    84..92 => "51",
                    _ => "-1",
                }
            };
            let vid = make_vid(user_id, i as u64, rng.u64(..));
            let mut title = String::with_capacity(32);
            title.push_str(TITLES[rng.usize(0..TITLES.len())]);
            let _ = write!(title, "{}", i + 1);
            let context = CONTEXTS[rng.usize(0..CONTEXTS.len())].to_owned();
            let times = match rng.u32(0..100) {
                0..15 => 0,
                _ => {
                    let exp = rng.u32(1..8);
                    rng.u64(0..10u64.pow(exp))
                }
            };
            let tag = if rng.u32(0..10) < 3 {
                String::new()
            } else {
                let n = rng.usize(1..=3);
                let mut t = String::new();
                for k in 0..n {
                    if k > 0 {
                        t.push(',');
                    }
                    t.push_str(TAGS[rng.usize(0..TAGS.len())]);
                }
                t
            };
            let aac_link = if rng.u32(0..5) == 0 {
                Some(format!("http://hls.videocc.net/aac/{user_id}/{vid}.m4a"))
            } else {
                None
            };
            // 5% share the previous video's ptime, so ties exist.
            let ptime = if rng.u32(0..20) == 0 {
                prev_ptime
            } else {
                rng.i64(BASE_PTIME..END_PTIME)
            };
            prev_ptime = ptime;
            ds.videos.push(Video {
                first_image: first_image(user_id, &vid),
                vid,
                cataid,
                title,
                context,
                times,
                tag,
                aac_link,
                status: status.to_owned(),
                uploader_email: email,
                user_id: user_id.to_owned(),
                ptime,
            });
        }
        ds
    }

    /// Appends a video.
    pub fn push_video(&mut self, video: Video) -> &mut Self {
        self.videos.push(video);
        self
    }

    /// Appends `n` published videos for one account, sub-account and category,
    /// with unique vids, strictly increasing `ptime` (one minute apart) and
    /// play counts `0..n` in a scrambled order (so the two sort keys disagree).
    pub fn add_videos(
        &mut self,
        user_id: &str,
        uploader_email: &str,
        cataid: u64,
        n: usize,
    ) -> &mut Self {
        let start = self.videos.len() as u64;
        self.videos.reserve(n);
        for k in 0..n as u64 {
            let serial = start + k;
            let vid = make_vid(user_id, serial, serial.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut v = Video::new(user_id, &vid, uploader_email, cataid);
            v.title = format!("视频 {serial} 🎬");
            v.ptime = BASE_PTIME + (serial as i64) * 60_000;
            // A permutation of 0..n when n is not a multiple of 7919.
            v.times = if n == 0 { 0 } else { (k * 7919) % n as u64 };
            self.videos.push(v);
        }
        self
    }

    /// The account with this user id.
    pub fn account(&self, user_id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.user_id == user_id)
    }

    /// Ids of `cataid` and every category below it (for `user_id`), including `cataid`.
    pub fn subtree(&self, user_id: &str, cataid: u64) -> Vec<u64> {
        let mut out = vec![cataid];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            for c in &self.categories {
                if c.user_id == user_id && c.parent == Some(parent) && !out.contains(&c.id) {
                    out.push(c.id);
                }
            }
            i += 1;
        }
        out
    }
}
