//! Deleting videos: del-video (one) and del-videos (a batch of up to 500).

use crate::{Endpoint, Error, Params, UserId, input, wire};

/// The most vids del-videos takes in one request.
pub const MAX_DELETE_BATCH: usize = 500;

/// Where a deleted video goes (`deleteType`).
///
/// ```
/// use polyv_core::videos::DeleteMode;
///
/// assert_eq!(DeleteMode::RecycleBin.delete_type(), 1);
/// assert_eq!(DeleteMode::Permanent.delete_type(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeleteMode {
    /// To the recycle bin, from which it can be restored (`deleteType=1`,
    /// the server's default).
    RecycleBin,
    /// Gone for good (`deleteType=2`).
    Permanent,
}

impl DeleteMode {
    /// The `deleteType` value.
    pub fn delete_type(self) -> u8 {
        match self {
            Self::RecycleBin => 1,
            Self::Permanent => 2,
        }
    }

    fn as_param(self) -> &'static str {
        match self {
            Self::RecycleBin => "1",
            Self::Permanent => "2",
        }
    }
}

/// Splits any number of vids into batches of at most [`MAX_DELETE_BATCH`],
/// in order: one [`DeleteVideos`] request each.
///
/// ```
/// let vids: Vec<String> = (0..1201).map(|i| format!("v{i}")).collect();
/// let sizes: Vec<usize> = polyv_core::videos::delete_batches(&vids).map(<[_]>::len).collect();
/// assert_eq!(sizes, [500, 500, 201]);
/// assert_eq!(polyv_core::videos::delete_batches::<String>(&[]).count(), 0);
/// ```
pub fn delete_batches<T>(vids: &[T]) -> std::slice::Chunks<'_, T> {
    vids.chunks(MAX_DELETE_BATCH)
}

/// Whether a delete in this mode may be sent twice (see [`DeleteVideo`]).
fn delete_resend_safe(mode: Option<DeleteMode>) -> bool {
    mode == Some(DeleteMode::Permanent)
}

/// Deletes one video (del-video).
///
/// - **Method:** POST form.
/// - **Signing:** every parameter sent (`deleteType` when set, `ptime`,
///   `vid`).
/// - **Mode:** unset, the server's default (the recycle bin). Only the SDK
///   sends `deleteType` here; whether this endpoint honours it is unverified
///   (spec C.2): use [`DeleteVideos`] when permanence matters.
/// - **Resending:** a **permanent** delete is safe to resend: its end state
///   is the video gone, and a second arrival cannot go further (it may be
///   refused, the video being already gone: after a network error, list the
///   video to check). A **recycle-bin** delete is not resent once it may
///   have arrived: whether deleting a video that is already in the bin
///   removes it from the bin too is not documented, and a resend must not
///   turn a recoverable delete into a permanent one.
/// - **Answer:** a message such as `"删除成功."`, ignored: success is the
///   envelope's code.
///
/// ```
/// use polyv_core::videos::{DeleteMode, DeleteVideo};
/// use polyv_core::{Config, Credentials, Endpoint};
///
/// let delete = DeleteVideo::new("382839019131be68715e9455f8d0971a_3")?.mode(DeleteMode::Permanent);
/// assert!(delete.resend_safe());
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&delete, 1_469_599_842_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/3828390191/del-video");
/// assert!(request.body().starts_with(b"deleteType=2&ptime=1469599842000&vid=382839019131be68715e9455f8d0971a_3&sign="));
/// assert!(!DeleteVideo::new("v1")?.resend_safe());
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeleteVideo {
    vid: String,
    mode: Option<DeleteMode>,
}

impl DeleteVideo {
    /// Deletes the video `vid` (one id: not blank, no comma or space).
    pub fn new(vid: impl Into<String>) -> Result<Self, Error> {
        let vid = vid.into();
        input::vid(&vid)?;
        Ok(Self { vid, mode: None })
    }

    /// Where the video goes (`deleteType`); unset, the server's default.
    #[must_use]
    pub fn mode(mut self, mode: DeleteMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The video deleted.
    pub fn vid(&self) -> &str {
        &self.vid
    }

    /// The mode asked for, if any.
    pub fn delete_mode(&self) -> Option<DeleteMode> {
        self.mode
    }
}

impl Endpoint for DeleteVideo {
    type Data = ();

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/video/");
        path.push_str(user_id.as_str());
        path.push_str("/del-video");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        if let Some(mode) = self.mode {
            params.push("deleteType", mode.as_param());
        }
        params.push("vid", &self.vid);
    }

    /// Permanent deletes only; see the type's documentation.
    fn resend_safe(&self) -> bool {
        delete_resend_safe(self.mode)
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<(), Error> {
        wire::parse_ignored(status, retry_after, body)
    }
}

/// Deletes up to 500 videos at once (del-videos). For more, split them with
/// [`in_batches`](Self::in_batches) (or [`delete_batches`]).
///
/// - **Method:** POST form, to `/v2/video/del-videos`: **no account id in
///   the path**. The account id travels in the body instead, as `userId`,
///   sent **and** signed. The core cannot hand an endpoint the configured
///   account id when it lists its parameters, so the request carries it:
///   pass the same id as the [`Config`](crate::Config)'s
///   (`config.credentials().user_id()`), or the server refuses the sign.
/// - **Signing:** every parameter sent (`deleteType` when set,
///   `ignoreInvalidVids` when set, `ptime`, `userId`, `vids`).
/// - **Resending:** as for [`DeleteVideo`]: permanent deletes only.
/// - **Input:** 1 to 500 vids, none with a comma; repeats are dropped.
/// - **Errors:** `delete vids size can't greater than 500 once` is
///   [`Error::DeleteBatchTooLarge`] (this type never sends more than 500).
///
/// ```
/// use polyv_core::videos::{DeleteMode, DeleteVideos};
/// use polyv_core::{Config, Credentials};
///
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let account = config.credentials().user_id();
/// let delete = DeleteVideos::new(account, ["3828390191de2b3fd3467c36187aac08_3", "382839019131be68715e9455f8d0971a_3"])?
///     .mode(DeleteMode::RecycleBin);
/// let request = config.prepare(&delete, 1_469_599_842_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/del-videos");
/// assert!(request.body().starts_with(b"deleteType=1&ptime=1469599842000&userId=3828390191&vids=3828390191de2b3fd3467c36187aac08_3%2C382839019131be68715e9455f8d0971a_3&sign="));
///
/// let many: Vec<String> = (0..1001).map(|i| format!("v{i}")).collect();
/// assert_eq!(DeleteVideos::in_batches(account, &many)?.len(), 3);
/// assert!(DeleteVideos::new(account, &many).is_err());
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeleteVideos {
    user_id: String,
    /// The vids, comma-joined as sent.
    vids: String,
    count: usize,
    mode: Option<DeleteMode>,
    ignore_invalid_vids: Option<bool>,
}

impl DeleteVideos {
    /// Deletes these videos (1 to 500) of the account `user_id`.
    pub fn new<I, S>(user_id: &UserId, vids: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let vids = input::vids(vids.into_iter().map(|v| v.as_ref().to_owned()))?;
        if vids.len() > MAX_DELETE_BATCH {
            return Err(Error::InvalidInput(format!(
                "{} vids in one del-videos request: at most {MAX_DELETE_BATCH} are allowed; split them with DeleteVideos::in_batches",
                vids.len()
            )));
        }
        Ok(Self::from_checked(user_id, &vids))
    }

    fn from_checked(user_id: &UserId, vids: &[String]) -> Self {
        Self {
            user_id: user_id.as_str().to_owned(),
            vids: vids.join(","),
            count: vids.len(),
            mode: None,
            ignore_invalid_vids: None,
        }
    }

    /// Any number of videos (at least one), checked all at once before any
    /// request is made, as requests of at most 500 each, in order; repeats
    /// are dropped.
    pub fn in_batches<I, S>(user_id: &UserId, vids: I) -> Result<Vec<Self>, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let vids = input::vids(vids.into_iter().map(|v| v.as_ref().to_owned()))?;
        Ok(delete_batches(&vids)
            .map(|batch| Self::from_checked(user_id, batch))
            .collect())
    }

    /// Where the videos go (`deleteType`); unset, the server's default (the
    /// recycle bin).
    #[must_use]
    pub fn mode(mut self, mode: DeleteMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Whether invalid vids are skipped (`ignoreInvalidVids=Y`) rather than
    /// failing the whole request (`N`, the server's default). From Polyv's
    /// newer docs only: not in the official SDK.
    #[must_use]
    pub fn ignore_invalid_vids(mut self, yes: bool) -> Self {
        self.ignore_invalid_vids = Some(yes);
        self
    }

    /// The videos, in order, without repeats.
    pub fn vids(&self) -> impl Iterator<Item = &str> + '_ {
        self.vids.split(',')
    }

    /// How many videos this request deletes.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always false: a request holds at least one vid.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The mode asked for, if any.
    pub fn delete_mode(&self) -> Option<DeleteMode> {
        self.mode
    }
}

impl Endpoint for DeleteVideos {
    type Data = ();

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    /// `/v2/video/del-videos`, whatever the account (it is in the body).
    fn write_path(&self, _user_id: &UserId, path: &mut String) {
        path.push_str("/v2/video/del-videos");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        if let Some(mode) = self.mode {
            params.push("deleteType", mode.as_param());
        }
        if let Some(yes) = self.ignore_invalid_vids {
            params.push("ignoreInvalidVids", if yes { "Y" } else { "N" });
        }
        params.push("userId", &self.user_id);
        params.push("vids", &self.vids);
    }

    /// Permanent deletes only; see [`DeleteVideo`].
    fn resend_safe(&self) -> bool {
        delete_resend_safe(self.mode)
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<(), Error> {
        wire::parse_ignored(status, retry_after, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> UserId {
        UserId::new("3828390191").unwrap()
    }

    #[test]
    fn modes_and_resend_safety() {
        assert_eq!(DeleteMode::RecycleBin.delete_type(), 1);
        assert_eq!(DeleteMode::Permanent.delete_type(), 2);
        let one = DeleteVideo::new("v1").unwrap();
        assert_eq!(one.delete_mode(), None);
        assert!(!one.resend_safe());
        assert!(!one.clone().mode(DeleteMode::RecycleBin).resend_safe());
        assert!(one.mode(DeleteMode::Permanent).resend_safe());
        let many = DeleteVideos::new(&account(), ["a", "b"]).unwrap();
        assert!(!many.resend_safe());
        assert!(many.mode(DeleteMode::Permanent).resend_safe());
    }

    #[test]
    fn input_is_checked() {
        assert!(DeleteVideo::new("").is_err());
        assert!(DeleteVideo::new("a,b").is_err());
        assert!(DeleteVideos::new(&account(), Vec::<String>::new()).is_err());
        assert!(DeleteVideos::new(&account(), ["a", "b c"]).is_err());
        let exactly: Vec<String> = (0..500).map(|i| format!("v{i}")).collect();
        assert_eq!(DeleteVideos::new(&account(), &exactly).unwrap().len(), 500);
        let over: Vec<String> = (0..501).map(|i| format!("v{i}")).collect();
        let err = DeleteVideos::new(&account(), &over)
            .unwrap_err()
            .to_string();
        assert!(err.contains("in_batches"), "{err}");
        // Repeats do not count towards the limit.
        let repeated: Vec<String> = (0..600).map(|i| format!("v{}", i % 10)).collect();
        let d = DeleteVideos::new(&account(), &repeated).unwrap();
        assert_eq!((d.len(), d.is_empty()), (10, false));
    }

    #[test]
    fn batches_keep_order_and_check_everything_first() {
        let vids: Vec<String> = (0..1200).map(|i| format!("v{i}")).collect();
        let batches = DeleteVideos::in_batches(&account(), &vids).unwrap();
        assert_eq!(
            batches.iter().map(DeleteVideos::len).collect::<Vec<_>>(),
            [500, 500, 200]
        );
        let joined: Vec<&str> = batches.iter().flat_map(DeleteVideos::vids).collect();
        assert_eq!(joined, vids.iter().map(String::as_str).collect::<Vec<_>>());
        let mut bad = vids.clone();
        bad.push("x,y".into());
        assert!(DeleteVideos::in_batches(&account(), &bad).is_err());
        assert!(DeleteVideos::in_batches(&account(), Vec::<String>::new()).is_err());
    }

    #[test]
    fn answers_are_ignored_refusals_are_not() {
        let d = DeleteVideo::new("v1").unwrap();
        let ok = r#"{"code":200,"status":"success","message":"success","data":"删除成功."}"#;
        assert!(d.parse(200, None, ok.as_bytes()).is_ok());
        let many = DeleteVideos::new(&account(), ["a"]).unwrap();
        let ok = br#"{"code":200,"status":"success","message":"success","data":""}"#;
        assert!(many.parse(200, None, ok).is_ok());
        let too_many = br#"{"code":400,"status":"error","message":"delete vids size can't greater than 500 once","data":""}"#;
        assert!(matches!(
            many.parse(400, None, too_many),
            Err(Error::DeleteBatchTooLarge)
        ));
        let sign = br#"{"code":400,"status":"error","message":"the sign is not right","data":""}"#;
        assert!(matches!(
            many.parse(400, None, sign),
            Err(Error::SignNotRight)
        ));
    }
}
