//! The HTTP handler: the route table, checks in Polyv's documented order,
//! form bodies, faults, the rate limit and the request log. The endpoints
//! other than get-by-uploader are in `handlers.rs`.

use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt as _;
use serde::Serialize;

use crate::data::{Account, Dataset, Video};
use crate::endpoint::Endpoint;
use crate::fault::{Fault, FaultRule, RateLimit};
use crate::index::{Index, Lists, UserIndex};
use crate::log::LoggedRequest;
use crate::messages;

/// ptime validity window, both directions.
const PTIME_WINDOW_MS: i64 = 3 * 60 * 1000;
/// Largest instant `httpdate` can format (end of year 9999).
const MAX_DATE_MS: i64 = 253_402_300_799_999;

/// Largest form body read (1 MiB): 500 vids are about 17 KB.
const MAX_BODY: usize = 1 << 20;

const MSG_SIGN_EMPTY: &str = messages::SIGN_EMPTY;
const MSG_PTIME_OLD: &str = messages::PTIME_OLD;
const MSG_PTIME_ILLEGAL: &str = messages::PTIME_ILLEGAL;
const MSG_NO_USER: &str = messages::NO_USER;
const MSG_NO_CATA: &str = messages::NO_CATA;
const MSG_NO_CHILD: &str = messages::NO_CHILD;
pub(crate) const MSG_QUERY_FAILED: &str = messages::QUERY_FAILED;
const MSG_BLOCKED: &str = messages::BLOCKED;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) ignore_page_size: bool,
    pub(crate) clock_offset_ms: i64,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) log_requests: bool,
    pub(crate) max_logged_requests: usize,
    pub(crate) loose_types: bool,
    /// `127.0.0.1:PORT`: the `domain` of upload tickets.
    pub(crate) domain: String,
    pub(crate) upload: UploadOptions,
}

/// The upload flow's options (builder).
#[derive(Debug, Clone)]
pub(crate) struct UploadOptions {
    pub(crate) validity_secs: u64,
    pub(crate) keep_part_bytes: bool,
    pub(crate) max_part_bytes: usize,
    pub(crate) faults: Vec<crate::upload::UploadFault>,
}

/// The catalogue and its index, replaced whole when the listing changes.
#[derive(Debug)]
pub(crate) struct Catalogue {
    pub(crate) dataset: Dataset,
    index: Index,
    /// vid -> position in `dataset.videos` (the first, if a vid repeats).
    by_vid: HashMap<String, usize>,
}

impl Catalogue {
    pub(crate) fn new(dataset: Dataset) -> Catalogue {
        let index = Index::build(&dataset);
        let mut by_vid = HashMap::with_capacity(dataset.videos.len());
        for (i, v) in dataset.videos.iter().enumerate() {
            by_vid.entry(v.vid.clone()).or_insert(i);
        }
        Catalogue {
            dataset,
            index,
            by_vid,
        }
    }

    /// The video with this vid, if it belongs to `user_id`.
    pub(crate) fn video(&self, user_id: &str, vid: &str) -> Option<&Video> {
        self.by_vid
            .get(vid)
            .and_then(|&i| self.dataset.videos.get(i))
            .filter(|v| v.user_id == user_id)
    }
}

#[derive(Debug, Default)]
struct IpState {
    hits: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    catalogue: RwLock<Arc<Catalogue>>,
    /// Videos uploaded by `Fault::Upload` so far (for unique vids).
    uploads: AtomicU64,
    pub(crate) config: Config,
    counter: AtomicU64,
    log: Mutex<VecDeque<LoggedRequest>>,
    limiter: Mutex<HashMap<IpAddr, IpState>>,
    /// The upload flow's state (`upload.rs`, `oss.rs`).
    pub(crate) upload: Mutex<crate::upload::UploadState>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(dataset: Dataset, config: Config) -> Shared {
        let upload_faults = config.upload.faults.clone();
        Shared {
            catalogue: RwLock::new(Arc::new(Catalogue::new(dataset))),
            uploads: AtomicU64::new(0),
            config,
            counter: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
            limiter: Mutex::new(HashMap::new()),
            upload: Mutex::new(crate::upload::UploadState {
                faults: upload_faults,
                ..Default::default()
            }),
        }
    }

    /// The mock's clock: real time plus the configured offset, in ms.
    pub(crate) fn now_ms(&self) -> i64 {
        let real = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        real.saturating_add(self.config.clock_offset_ms)
    }

    /// The catalogue as it is now.
    pub(crate) fn catalogue(&self) -> Arc<Catalogue> {
        Arc::clone(&self.catalogue.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Changes the first account's listing: `uploads` new videos, newer than
    /// any (the front of the default newest-first order), or the
    /// `deletions` newest videos removed.
    fn change_listing(&self, uploads: usize, deletions: usize) {
        let mut slot = self.catalogue.write().unwrap_or_else(|e| e.into_inner());
        let mut dataset = slot.dataset.clone();
        let Some(user_id) = dataset.accounts.first().map(|a| a.user_id.clone()) else {
            return;
        };
        let mut own: Vec<usize> = (0..dataset.videos.len())
            .filter(|&i| dataset.videos[i].user_id == user_id)
            .collect();
        own.sort_by_key(|&i| {
            std::cmp::Reverse((dataset.videos[i].ptime, dataset.videos[i].vid.clone()))
        });
        if let Some(&newest) = own.first() {
            let template = dataset.videos[newest].clone();
            for k in 0..uploads {
                let n = self.uploads.fetch_add(1, Ordering::SeqCst) + 1;
                let mut video = template.clone();
                video.vid = format!("{user_id}upload{n:08}_n");
                video.title = format!("uploaded during the walk {n}");
                video.ptime = template.ptime + 60_000 * (k as i64 + 1);
                dataset.videos.push(video);
            }
        }
        let mut gone: Vec<usize> = own.into_iter().take(deletions).collect();
        gone.sort_unstable();
        for i in gone.into_iter().rev() {
            dataset.videos.remove(i);
        }
        *slot = Arc::new(Catalogue::new(dataset));
    }

    /// A write: `change` edits a copy of the catalogue under the write lock
    /// (so writes never interleave); when it succeeds the copy is indexed
    /// and replaces the catalogue, when it fails nothing changes.
    pub(crate) fn modify<T>(
        &self,
        change: impl FnOnce(&mut Dataset) -> Result<T, Reply>,
    ) -> Result<T, Reply> {
        let mut slot = self.catalogue.write().unwrap_or_else(|e| e.into_inner());
        let mut dataset = slot.dataset.clone();
        let out = change(&mut dataset)?;
        *slot = Arc::new(Catalogue::new(dataset));
        Ok(out)
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        let mut v: Vec<LoggedRequest> = lock(&self.log).iter().cloned().collect();
        v.sort_by_key(|r| r.number);
        v
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.log).clear();
    }

    /// Records a hit; returns true when the IP is (now) blocked.
    fn rate_limited(&self, ip: Option<IpAddr>) -> bool {
        let (Some(rl), Some(ip)) = (self.config.rate_limit, ip) else {
            return false;
        };
        let now = Instant::now();
        let mut map = lock(&self.limiter);
        let st = map.entry(ip).or_default();
        if let Some(until) = st.blocked_until {
            if now < until {
                return true;
            }
            st.blocked_until = None;
            st.hits.clear();
        }
        while let Some(&front) = st.hits.front() {
            if now.duration_since(front) >= rl.window {
                st.hits.pop_front();
            } else {
                break;
            }
        }
        if st.hits.len() >= rl.max_requests as usize {
            st.blocked_until = now
                .checked_add(rl.block_for)
                .or_else(|| now.checked_add(Duration::from_secs(86_400)));
            st.hits.clear();
            return true;
        }
        st.hits.push_back(now);
        false
    }

    pub(crate) fn record(&self, entry: LoggedRequest) {
        if self.config.log_requests {
            let line = entry.log_line();
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        let mut log = lock(&self.log);
        if self.config.max_logged_requests == 0 {
            return;
        }
        while log.len() >= self.config.max_logged_requests {
            log.pop_front();
        }
        log.push_back(entry);
    }
}

/// A decided answer, before faults that reshape the body are applied.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    pub(crate) code: Option<i64>,
    pub(crate) message: Option<String>,
    pub(crate) retry_after: Option<u64>,
}

/// A success envelope around `data`.
pub(crate) fn success<T: Serialize>(data: T, message: &str) -> Reply {
    let env = Envelope {
        code: 200,
        status: "success",
        message,
        data,
    };
    match serde_json::to_vec(&env) {
        Ok(body) => Reply {
            status: 200,
            content_type: JSON,
            body,
            code: Some(200),
            message: Some(message.to_owned()),
            retry_after: None,
        },
        Err(_) => envelope_reply(500, 500, MSG_QUERY_FAILED),
    }
}

pub(crate) const JSON: &str = "application/json;charset=UTF-8";

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    code: i64,
    status: &'a str,
    message: &'a str,
    data: T,
}

pub(crate) fn envelope_reply(http: u16, code: i64, message: &str) -> Reply {
    let body = serde_json::to_vec(&Envelope {
        code,
        status: "error",
        message,
        data: "",
    })
    .unwrap_or_else(|_| b"{}".to_vec());
    Reply {
        status: http,
        content_type: JSON,
        body,
        code: Some(code),
        message: Some(message.to_owned()),
        retry_after: None,
    }
}

pub(crate) fn bad_request(message: &str) -> Reply {
    envelope_reply(400, 400, message)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VideoOut<'a> {
    vid: &'a str,
    cataid: u64,
    title: &'a str,
    context: &'a str,
    times: u64,
    first_image: &'a str,
    tag: &'a str,
    aac_link: Option<&'a str>,
    status: &'a str,
    uploader_email: &'a str,
    ptime: i64,
}

impl<'a> From<&'a Video> for VideoOut<'a> {
    fn from(v: &'a Video) -> Self {
        VideoOut {
            vid: &v.vid,
            cataid: v.cataid,
            title: &v.title,
            context: &v.context,
            times: v.times,
            first_image: &v.first_image,
            tag: &v.tag,
            aac_link: v.aac_link.as_deref(),
            status: &v.status,
            uploader_email: &v.uploader_email,
            ptime: v.ptime,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageOut<'a> {
    page_size: i64,
    page_number: i64,
    total_items: usize,
    contents: Vec<VideoOut<'a>>,
}

/// First non-empty value of a parameter (empty values count as absent, as in signing).
pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

pub(crate) fn int_param(params: &[(String, String)], name: &str) -> Result<Option<i64>, Reply> {
    match param(params, name) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(bad_request(&format!("{name} is illegal."))),
        },
    }
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' && i + 2 < b.len() {
            let hex = |x: u8| (x as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What every endpoint's checks found: the account the request acts for.
pub(crate) struct Ctx<'a> {
    pub(crate) catalogue: &'a Catalogue,
    pub(crate) user: &'a UserIndex,
    pub(crate) account: &'a Account,
    pub(crate) params: &'a [(String, String)],
    pub(crate) now_ms: i64,
}

impl Ctx<'_> {
    pub(crate) fn user_id(&self) -> &str {
        &self.account.user_id
    }
}

impl Shared {
    /// Routes a request and runs the checks every endpoint shares, in
    /// Polyv's documented order: sign present, `ptime`, user, sign (in the
    /// endpoint's shape); then the endpoint's own handler.
    fn api(
        &self,
        method: &str,
        route: Option<&(Endpoint, Option<String>)>,
        params: &[(String, String)],
        now_ms: i64,
    ) -> Reply {
        let Some((endpoint, path_user)) = route else {
            return envelope_reply(404, 404, messages::NOT_FOUND);
        };
        let endpoint = *endpoint;
        if !endpoint.methods().contains(&method) {
            return envelope_reply(405, 405, messages::METHOD_NOT_ALLOWED);
        }
        let catalogue = self.catalogue();
        let Catalogue { dataset, index, .. } = &*catalogue;
        // 1. sign present
        let Some(given_sign) = param(params, "sign") else {
            return bad_request(MSG_SIGN_EMPTY);
        };
        // 2. ptime
        let ptime = match param(params, "ptime") {
            Some(p) if p.len() == 13 && p.bytes().all(|c| c.is_ascii_digit()) => {
                p.parse::<i64>().ok()
            }
            _ => None,
        };
        let Some(ptime) = ptime else {
            return bad_request(MSG_PTIME_ILLEGAL);
        };
        if now_ms.saturating_sub(ptime) > PTIME_WINDOW_MS {
            return bad_request(MSG_PTIME_OLD);
        }
        if ptime.saturating_sub(now_ms) > PTIME_WINDOW_MS {
            return bad_request(MSG_PTIME_ILLEGAL);
        }
        // 3. user: the path's, or del-videos' body `userId`
        let userid = match path_user {
            Some(u) => u.as_str(),
            None => match param(params, "userId") {
                Some(u) => u,
                None => return bad_request(&messages::empty("userId")),
            },
        };
        let Some(user) = index.user(userid) else {
            return bad_request(MSG_NO_USER);
        };
        let Some(account) = dataset.accounts.get(user.account) else {
            return bad_request(MSG_NO_USER);
        };
        // 4. sign, in the endpoint's shape
        if !endpoint
            .shape()
            .verify(params, userid, &account.secret_key, given_sign)
        {
            return bad_request(if endpoint == Endpoint::DelVideos {
                messages::BAD_SIGN_DEL_VIDEOS
            } else {
                messages::BAD_SIGN
            });
        }
        let ctx = Ctx {
            catalogue: &catalogue,
            user,
            account,
            params,
            now_ms,
        };
        match endpoint {
            Endpoint::GetByUploader => self.get_by_uploader(&ctx),
            Endpoint::GetVideoMsg => self.get_video_msg(&ctx),
            Endpoint::PlayTimes => self.play_times(&ctx),
            Endpoint::Main => self.main(&ctx),
            Endpoint::DelVideo => self.del_video(&ctx),
            Endpoint::DelVideos => self.del_videos(&ctx),
            Endpoint::VideoInfo => self.video_info(&ctx),
            Endpoint::CataJson => self.cata_json(&ctx),
            Endpoint::AddCata => self.add_cata(&ctx),
            Endpoint::UpdateCata => self.update_cata(&ctx),
            Endpoint::DeleteCata => self.delete_cata(&ctx),
            Endpoint::ChangeCata => self.change_cata(&ctx),
            Endpoint::Viewlog => self.viewlog(&ctx),
            Endpoint::UploadInit => self.upload_init(&ctx),
            Endpoint::UploadToken => self.upload_token(&ctx),
            Endpoint::GrabUpload => self.grab_upload(&ctx),
        }
    }

    /// get-by-uploader, after the shared checks: category, sub-account,
    /// then paging and ordering.
    fn get_by_uploader(&self, ctx: &Ctx<'_>) -> Reply {
        let Ctx {
            catalogue,
            user,
            params,
            ..
        } = *ctx;
        let Catalogue { dataset, index, .. } = catalogue;
        // 5. category
        let cata_slot = match param(params, "cataid") {
            None => None,
            Some(c) => match c.parse::<u64>().ok().and_then(|id| user.cata_slot(id)) {
                Some(slot) => Some(slot),
                None => return bad_request(MSG_NO_CATA),
            },
        };
        // 6. sub-account
        let email_slot = match param(params, "email") {
            None => None,
            Some(e) => match user.email_slot(e) {
                Some(slot) => Some(slot),
                None => return bad_request(MSG_NO_CHILD),
            },
        };
        // Paging and ordering parameters (our documented choices).
        let parsed = (|| -> Result<_, Reply> {
            Ok((
                int_param(params, "orderType")?,
                int_param(params, "containSubCata")?,
                int_param(params, "published")?,
                int_param(params, "page")?,
                if self.config.ignore_page_size {
                    None
                } else {
                    int_param(params, "pageSize")?
                },
            ))
        })();
        let (order_type, sub, published, page, page_size) = match parsed {
            Ok(p) => p,
            Err(r) => return r,
        };
        let order_type = order_type.filter(|n| (1..=4).contains(n)).unwrap_or(2);
        let sub = sub == Some(1);
        let published = published == Some(1);
        let page = page.unwrap_or(1).max(1);
        let page_size = if self.config.ignore_page_size {
            20
        } else {
            page_size.unwrap_or(20).clamp(1, 1000)
        };

        let lists: &Lists = index.lists(user, email_slot, cata_slot.map(|s| (s, sub)), published);
        let (list, reverse) = match order_type {
            1 => (&lists.by_ptime, false),
            3 => (&lists.by_times, false),
            4 => (&lists.by_times, true),
            _ => (&lists.by_ptime, true),
        };
        let total = list.len();
        let offset = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
        let take = usize::try_from(page_size).unwrap_or(20);
        let end = offset.saturating_add(take).min(total);
        let mut contents = Vec::with_capacity(end.saturating_sub(offset));
        for pos in offset..end {
            let at = if reverse { total - 1 - pos } else { pos };
            if let Some(v) = list.get(at).and_then(|&i| dataset.videos.get(i as usize)) {
                contents.push(VideoOut::from(v));
            }
        }
        let env = Envelope {
            code: 200,
            status: "success",
            message: "success",
            data: PageOut {
                page_size,
                page_number: page,
                total_items: total,
                contents,
            },
        };
        let body = if self.config.loose_types {
            serde_json::to_value(&env).map(|mut v| {
                loosen(&mut v);
                serde_json::to_vec(&v)
            })
        } else {
            Ok(serde_json::to_vec(&env))
        };
        match body.and_then(|b| b) {
            Ok(body) => Reply {
                status: 200,
                content_type: JSON,
                body,
                code: Some(200),
                message: Some("success".to_owned()),
                retry_after: None,
            },
            Err(_) => envelope_reply(500, 500, MSG_QUERY_FAILED),
        }
    }
}

/// Rewrites a success page the way a loosely typed backend sends it (the
/// spec's A.8), in a mix that depends on each record's position: the code and
/// counts as strings, numbers as strings or integral floats, the status as a
/// number, empty text as `null`, and a field no client knows. Every value
/// still means what it meant, so a lenient client reads the same videos.
fn loosen(envelope: &mut serde_json::Value) {
    use serde_json::Value;
    let as_string = |v: &mut Value| {
        if let Value::Number(n) = v {
            *v = Value::String(n.to_string());
        }
    };
    as_string(&mut envelope["code"]);
    let data = &mut envelope["data"];
    as_string(&mut data["pageSize"]);
    as_string(&mut data["totalItems"]);
    let Some(contents) = data["contents"].as_array_mut() else {
        return;
    };
    if contents.is_empty() {
        data["contents"] = Value::Null;
        return;
    }
    for (i, video) in contents.iter_mut().enumerate() {
        let Some(fields) = video.as_object_mut() else {
            continue;
        };
        match i % 4 {
            0 => {
                for key in ["times", "cataid", "ptime"] {
                    if let Some(v) = fields.get_mut(key) {
                        as_string(v);
                    }
                }
            }
            1 => {
                if let Some(times) = fields.get("times").and_then(Value::as_u64) {
                    fields.insert("times".into(), Value::from(times as f64));
                }
                if let Some(status) = fields.get("status").and_then(Value::as_str) {
                    if let Ok(code) = status.parse::<i64>() {
                        fields.insert("status".into(), Value::from(code));
                    }
                }
            }
            2 => {
                for v in fields.values_mut() {
                    if v.as_str() == Some("") {
                        *v = Value::Null;
                    }
                }
            }
            _ => {
                fields.insert("addedLater".into(), serde_json::json!({"x": [1, "y"]}));
            }
        }
    }
}

/// Makes the middle record of a success page unreadable (`"times": {}`),
/// keeping its `vid`; other bodies are left alone.
fn break_one_record(body: &mut Vec<u8>) {
    let Ok(mut envelope) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let Some(contents) = envelope["data"]["contents"].as_array_mut() else {
        return;
    };
    let middle = contents.len() / 2;
    if let Some(record) = contents.get_mut(middle).and_then(|v| v.as_object_mut()) {
        record.insert("times".into(), serde_json::json!({}));
        if let Ok(bytes) = serde_json::to_vec(&envelope) {
            *body = bytes;
        }
    }
}

/// `yyyy-MM-ddTHH:mm:ssZ` for an instant in ms (clamped like [`http_date`]).
pub(crate) fn iso_date(ms: i64) -> String {
    let secs = ms.clamp(0, MAX_DATE_MS) / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

pub(crate) fn http_date(ms: i64) -> String {
    let ms = ms.clamp(0, MAX_DATE_MS) as u64;
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms))
}

enum BodyMode {
    Full,
    Truncated,
    Dropped,
}

pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let number = shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
    let arrival_ms = shared.now_ms();
    if crate::oss::is_oss(req.uri().path(), req.headers()) {
        return crate::oss::handle(shared, req, number, arrival_ms).await;
    }
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let raw_query = req.uri().query().unwrap_or("").to_owned();
    let mut params: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let form = method == "POST"
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
    // The body is read whatever the method (so a connection stays usable),
    // and decoded only when it is a form.
    let body = axum::body::to_bytes(req.into_body(), MAX_BODY).await;
    let route = Endpoint::route(&path);
    let mut raw_body = String::new();
    let too_large = match body {
        Ok(bytes) => {
            if form {
                params.extend(form_urlencoded::parse(&bytes).into_owned());
            }
            if !bytes.is_empty() {
                raw_body = String::from_utf8_lossy(&bytes).into_owned();
            }
            false
        }
        Err(_) => true,
    };

    let mut fault: Option<Fault> = None;
    let mut mode = BodyMode::Full;
    let reply = if shared.rate_limited(ip) {
        envelope_reply(403, 403, MSG_BLOCKED)
    } else if too_large {
        envelope_reply(413, 413, messages::TOO_LARGE)
    } else {
        fault = shared
            .config
            .faults
            .iter()
            .find(|r| r.matches(number))
            .map(|r| r.fault().clone());
        match &fault {
            None => shared.api(&method, route.as_ref(), &params, arrival_ms),
            Some(Fault::Latency(d)) => {
                tokio::time::sleep(*d).await;
                shared.api(&method, route.as_ref(), &params, arrival_ms)
            }
            Some(Fault::QueryFailed) => envelope_reply(500, 500, MSG_QUERY_FAILED),
            Some(Fault::TooManyRequests { retry_after_secs }) => Reply {
                status: 429,
                content_type: "text/plain; charset=utf-8",
                body: b"Too Many Requests\n".to_vec(),
                code: None,
                message: None,
                retry_after: Some(*retry_after_secs),
            },
            Some(Fault::BadGateway) => Reply {
                status: 502,
                content_type: "text/html",
                body: BAD_GATEWAY_HTML.as_bytes().to_vec(),
                code: None,
                message: None,
                retry_after: None,
            },
            Some(Fault::TruncatedJson) => {
                mode = BodyMode::Truncated;
                shared.api(&method, route.as_ref(), &params, arrival_ms)
            }
            Some(Fault::DropConnection) => {
                mode = BodyMode::Dropped;
                shared.api(&method, route.as_ref(), &params, arrival_ms)
            }
            Some(Fault::UnreadableRecord) => {
                let mut reply = shared.api(&method, route.as_ref(), &params, arrival_ms);
                break_one_record(&mut reply.body);
                reply
            }
            Some(Fault::Upload { count }) => {
                shared.change_listing(*count, 0);
                shared.api(&method, route.as_ref(), &params, arrival_ms)
            }
            Some(Fault::Delete { count }) => {
                shared.change_listing(0, *count);
                shared.api(&method, route.as_ref(), &params, arrival_ms)
            }
        }
    };

    let (status, code, message) = match mode {
        BodyMode::Full => (reply.status, reply.code, reply.message.clone()),
        BodyMode::Truncated | BodyMode::Dropped => (200, None, None),
    };
    let full_len = reply.body.len();
    let half = full_len / 2;
    let mut body_bytes = reply.body;
    let body = match mode {
        BodyMode::Full => Body::from(body_bytes),
        BodyMode::Truncated => {
            body_bytes.truncate(half);
            Body::from(body_bytes)
        }
        BodyMode::Dropped => {
            body_bytes.truncate(half);
            let first =
                futures_util::stream::iter([Ok::<Bytes, std::io::Error>(Bytes::from(body_bytes))]);
            let fail = futures_util::stream::once(async {
                // Let hyper flush the first half before the error aborts the connection.
                tokio::time::sleep(Duration::from_millis(30)).await;
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "polyv-mock: injected DropConnection",
                ))
            });
            Body::from_stream(first.chain(fail))
        }
    };

    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&http_date(shared.now_ms())) {
        h.insert(header::DATE, v);
    }
    if let Some(secs) = reply.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if matches!(mode, BodyMode::Dropped) {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }

    shared.record(LoggedRequest {
        number,
        method,
        path,
        raw_query,
        params,
        server_time_ms: arrival_ms,
        status,
        code,
        message,
        fault,
        endpoint: route.map(|(e, _)| e),
        form,
        raw_body,
        arrived_at_ms: arrival_ms,
        answered_at_ms: shared.now_ms(),
    });
    resp
}

const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_never_panics() {
        assert_eq!(percent_decode("demo%30000a1"), "demo0000a1");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("%e4%b8%ad"), "中");
        assert_eq!(percent_decode("a+b"), "a+b");
    }

    #[test]
    fn dates_are_clamped() {
        assert_eq!(http_date(-5), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(iso_date(1_622_005_200_000), "2021-05-26T05:00:00Z");
        assert_eq!(iso_date(-1), "1970-01-01T00:00:00Z");
        assert_eq!(iso_date(i64::MAX), "9999-12-31T23:59:59Z");
    }
}
