//! The Polyv side of uploading: `init` (a new vid, or fresh credentials for
//! one), `token` (fresh credentials) and URL fetch (`grab/upload/multi`),
//! and the state the OSS side (`oss.rs`) shares with them: the STS
//! credentials handed out, the vids waiting for their upload, the multipart
//! uploads and their parts, the upload faults and the counters tests read.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::messages;
use crate::server::{Ctx, Reply, Shared, bad_request, envelope_reply, lock, param, success};

/// The OSS bucket the mock names in `bucketName` (it is part of the signed
/// resource; the host is the mock's own `127.0.0.1:PORT`).
pub const UPLOAD_BUCKET: &str = "polyv-mock-bucket";

/// The object key prefix of an account: `dir` is `polyvupload/{userid}/`.
pub const UPLOAD_DIR_ROOT: &str = "polyvupload/";

/// The default lifetime of the STS credentials `init` and `token` hand out
/// (`validityTime`, seconds).
pub const DEFAULT_VALIDITY_SECS: u64 = 3600;

/// A fault of the upload flow, armed with [`crate::MockBuilder::upload_fault`]
/// or [`crate::MockServer::upload_fault`]. Each fires on the next matching
/// OSS requests, `times` times, then is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadFault {
    /// The next `times` OSS requests answer `403 SecurityTokenExpired`, and
    /// every credential handed out so far expires (fresh ones from `token`
    /// or `init` work).
    ExpireToken {
        /// How many requests are refused (the credentials stay expired).
        times: u32,
    },
    /// The next `times` OSS requests answer `403 InvalidAccessKeyId`, and
    /// every credential handed out so far is revoked.
    InvalidAccessKeyId {
        /// How many requests are refused (the credentials stay revoked).
        times: u32,
    },
    /// The next `times` UploadPart/Complete/ListParts requests find their
    /// multipart upload forgotten (its parts dropped): `404 NoSuchUpload`.
    NoSuchUpload {
        /// How many uploads are forgotten.
        times: u32,
    },
    /// The next `times` CompleteMultipartUpload requests store the object
    /// but answer `203 CallbackFailed` without running the callback (no
    /// video is added; a later Complete of the same upload adds it).
    CallbackFailed {
        /// How many Completes answer 203.
        times: u32,
    },
    /// The next `times` UploadParts of part `part` (any upload) are read
    /// and dropped: the connection is closed without an answer and the part
    /// is not stored.
    DropPart {
        /// The part number.
        part: u32,
        /// How many times.
        times: u32,
    },
    /// The next `times` UploadParts of part `part` wait `delay` before they
    /// are answered.
    SlowPart {
        /// The part number.
        part: u32,
        /// The wait.
        delay: Duration,
        /// How many times.
        times: u32,
    },
}

/// One STS credential handed out.
#[derive(Debug, Clone)]
pub(crate) struct Cred {
    pub(crate) secret: String,
    pub(crate) token: String,
    pub(crate) user_id: String,
    pub(crate) expires_at_ms: i64,
    pub(crate) expired: bool,
    pub(crate) revoked: bool,
}

/// A vid from `init`, before and after its upload completes.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) user_id: String,
    pub(crate) title: String,
    pub(crate) describ: String,
    pub(crate) tag: String,
    pub(crate) cataid: u64,
    /// The video is in the account (the callback ran).
    pub(crate) created: bool,
}

/// One stored part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) etag: String,
    pub(crate) len: u64,
    /// The bytes as received (shared, not copied), or empty.
    pub(crate) bytes: axum::body::Bytes,
}

/// One multipart upload.
#[derive(Debug, Clone)]
pub(crate) struct Multipart {
    pub(crate) key: String,
    pub(crate) parts: BTreeMap<u32, Part>,
    pub(crate) completed: bool,
}

/// Everything the upload flow keeps.
#[derive(Debug, Default)]
pub(crate) struct UploadState {
    pub(crate) next_id: u64,
    pub(crate) creds: HashMap<String, Cred>,
    pub(crate) pending: HashMap<String, Pending>,
    pub(crate) uploads: HashMap<String, Multipart>,
    /// Completed objects: key -> bytes (empty unless part bytes are kept).
    pub(crate) objects: HashMap<String, Vec<u8>>,
    pub(crate) parts_received: BTreeMap<(String, u32), u64>,
    pub(crate) created: Vec<String>,
    pub(crate) grabbed: Vec<String>,
    pub(crate) faults: Vec<UploadFault>,
}

impl UploadState {
    /// Takes one shot of the first armed fault `pick` accepts.
    pub(crate) fn take_fault(
        &mut self,
        pick: impl Fn(&UploadFault) -> bool,
    ) -> Option<UploadFault> {
        let at = self.faults.iter().position(pick)?;
        let fault = self.faults.get_mut(at)?;
        let out = fault.clone();
        let times = match fault {
            UploadFault::ExpireToken { times }
            | UploadFault::InvalidAccessKeyId { times }
            | UploadFault::NoSuchUpload { times }
            | UploadFault::CallbackFailed { times }
            | UploadFault::DropPart { times, .. }
            | UploadFault::SlowPart { times, .. } => times,
        };
        *times = times.saturating_sub(1);
        if *times == 0 {
            self.faults.remove(at);
        }
        Some(out)
    }

    /// Expires (or revokes) every credential handed out so far.
    pub(crate) fn expire_all(&mut self, revoke: bool) {
        for cred in self.creds.values_mut() {
            if revoke {
                cred.revoked = true;
            } else {
                cred.expired = true;
            }
        }
    }
}

/// What `init` and `token` answer in `data`.
#[derive(Serialize)]
struct Ticket<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    vid: &'a str,
    #[serde(rename = "remainSpace")]
    remain_space: i64,
    #[serde(rename = "accessId")]
    access_id: String,
    #[serde(rename = "accessKey")]
    access_key: String,
    token: String,
    #[serde(rename = "Expiration")]
    expiration: String,
    #[serde(rename = "validityTime")]
    validity_time: u64,
    #[serde(rename = "bucketName")]
    bucket_name: &'a str,
    domain: &'a str,
    endpoint: &'a str,
    dir: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    callback: String,
    host: String,
}

fn hex_of(text: &str) -> String {
    hex::encode(Sha1::digest(text.as_bytes()))
}

/// The account's `dir`.
pub(crate) fn dir_of(user_id: &str) -> String {
    format!("{UPLOAD_DIR_ROOT}{user_id}/")
}

impl Shared {
    /// Hands out a fresh credential for `user_id`.
    fn issue(&self, user_id: &str, now_ms: i64) -> (String, Cred) {
        let mut state = lock(&self.upload);
        state.next_id += 1;
        let n = state.next_id;
        let seed = format!("{user_id}/{n}/{now_ms}/{}", fastrand::u64(..));
        let digest = hex_of(&seed);
        let access_id = format!("STS.mock{n:06}{}", &digest[..8]);
        let cred = Cred {
            secret: digest[8..40].to_owned(),
            token: format!("mock-sts-token-{n}-{}", &hex_of(&digest)[..24]),
            user_id: user_id.to_owned(),
            expires_at_ms: now_ms.saturating_add(
                i64::try_from(self.config.upload.validity_secs.saturating_mul(1000))
                    .unwrap_or(i64::MAX),
            ),
            expired: false,
            revoked: false,
        };
        state.creds.insert(access_id.clone(), cred.clone());
        (access_id, cred)
    }

    fn ticket_reply(&self, ctx: &Ctx<'_>, vid: &str) -> Reply {
        let user_id = ctx.user_id();
        let (access_id, cred) = self.issue(user_id, ctx.now_ms);
        let remain = ctx
            .catalogue
            .dataset
            .usage(user_id, None)
            .map(|u| i64::try_from(u.total_space.saturating_sub(u.used_space)).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let base = format!("http://{}", self.config.domain);
        let callback = if vid.is_empty() {
            String::new()
        } else {
            serde_json::json!({
                "callbackUrl": format!("{base}/polyv/upload-callback"),
                "callbackBody": format!("vid={vid}&bucket=${{bucket}}&object=${{object}}&size=${{size}}&etag=${{etag}}"),
                "callbackBodyType": "application/x-www-form-urlencoded",
            })
            .to_string()
        };
        let ticket = Ticket {
            vid,
            remain_space: remain,
            access_id,
            access_key: cred.secret,
            token: cred.token,
            expiration: crate::server::iso_date(cred.expires_at_ms),
            validity_time: self.config.upload.validity_secs,
            bucket_name: UPLOAD_BUCKET,
            domain: &self.config.domain,
            endpoint: "oss-cn-mock.aliyuncs.com",
            dir: dir_of(user_id),
            callback,
            host: base,
        };
        success(ticket, "success")
    }

    /// `init`: `autoid=1` (the default) makes a vid that lists only once
    /// its upload completes; `autoid=0` + `vid` hands out fresh credentials
    /// for a vid of this account.
    pub(crate) fn upload_init(&self, ctx: &Ctx<'_>) -> Reply {
        let params = ctx.params;
        match param(params, "filesize").map(str::parse::<u64>) {
            None => return bad_request(&messages::empty("filesize")),
            Some(Err(_)) => return bad_request(&messages::illegal("filesize")),
            Some(Ok(0)) => return envelope_reply(400, 406, "filesize is 0."),
            Some(Ok(_)) => {}
        };
        let user_id = ctx.user_id().to_owned();
        match param(params, "autoid").unwrap_or("1") {
            "1" => {}
            "0" => {
                let Some(vid) = param(params, "vid") else {
                    return bad_request(&messages::empty("vid"));
                };
                let known = {
                    let state = lock(&self.upload);
                    state.pending.get(vid).is_some_and(|p| p.user_id == user_id)
                } || ctx.catalogue.video(&user_id, vid).is_some();
                if !known {
                    return bad_request(messages::NO_VIDEO);
                }
                return self.ticket_reply(ctx, vid);
            }
            _ => return bad_request(&messages::illegal("autoid")),
        }
        let Some(title) = param(params, "title") else {
            return bad_request(&messages::empty("title"));
        };
        let cataid = match param(params, "cataid") {
            None => crate::data::DEMO_DEFAULT_CATAID,
            Some(c) => match c.parse::<u64>() {
                Ok(id)
                    if id == crate::data::DEMO_DEFAULT_CATAID
                        || ctx.user.cata_slot(id).is_some() =>
                {
                    id
                }
                _ => return envelope_reply(400, 3001, messages::NO_CATA),
            },
        };
        let vid = {
            let mut state = lock(&self.upload);
            state.next_id += 1;
            let n = state.next_id;
            let digest = hex_of(&format!("{user_id}/upload/{n}"));
            let suffix = user_id.chars().next().unwrap_or('u');
            let vid = format!("{}_{suffix}", &digest[..32]);
            state.pending.insert(
                vid.clone(),
                Pending {
                    user_id: user_id.clone(),
                    title: title.to_owned(),
                    describ: param(params, "describ").unwrap_or("").to_owned(),
                    tag: param(params, "tag").unwrap_or("").to_owned(),
                    cataid,
                    created: false,
                },
            );
            vid
        };
        self.ticket_reply(ctx, &vid)
    }

    /// `token`: fresh credentials (no vid, no callback).
    pub(crate) fn upload_token(&self, ctx: &Ctx<'_>) -> Reply {
        self.ticket_reply(ctx, "")
    }

    /// URL fetch: 1 to 100 items of `uploadInfos` (or the older
    /// comma-separated `fileUrl`), recorded and answered "accepted"; no
    /// video appears (Polyv fetches later).
    pub(crate) fn grab_upload(&self, ctx: &Ctx<'_>) -> Reply {
        let urls: Vec<String> = if let Some(infos) = param(ctx.params, "uploadInfos") {
            let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(infos) else {
                return bad_request(&messages::illegal("uploadInfos"));
            };
            let mut urls = Vec::with_capacity(items.len());
            for item in &items {
                match item.get("fileUrl").and_then(|u| u.as_str()) {
                    Some(u) if is_fetchable(u) => urls.push(u.to_owned()),
                    _ => return bad_request(&messages::illegal("fileUrl")),
                }
            }
            urls
        } else if let Some(list) = param(ctx.params, "fileUrl") {
            let urls: Vec<String> = list.split(',').map(str::to_owned).collect();
            if !urls.iter().all(|u| is_fetchable(u)) {
                return bad_request(&messages::illegal("fileUrl"));
            }
            urls
        } else {
            return bad_request(&messages::empty("uploadInfos"));
        };
        if urls.is_empty() || urls.len() > 100 {
            return bad_request(&messages::illegal("uploadInfos"));
        }
        let count = urls.len();
        lock(&self.upload).grabbed.extend(urls);
        success(serde_json::json!({ "accepted": count }), "accepted")
    }
}

fn is_fetchable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && url.chars().count() <= 1000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}
