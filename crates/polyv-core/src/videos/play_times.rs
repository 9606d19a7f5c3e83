//! `GET /v2/data/{userid}/play-times`: play counts for several videos.

use serde::{Deserialize, Serialize};

use crate::{Endpoint, Error, Params, UserId, lenient};

/// Play counts for several videos (`play-times`). Polyv documents no
/// maximum number of vids per call, so a long list is split into batches of
/// [`PlayTimes::BATCH`] ([`PlayTimes::batches`]) whose answers
/// [`merge_play_counts`] puts back in the caller's order.
///
/// ```
/// use polyv_core::videos::PlayTimes;
/// use polyv_core::{Config, Credentials};
///
/// let query = PlayTimes::new(["1b448be3230a0194d959426ae005645f_1", "1b448be32389b93ea8be08fa4eb7ca4f_1"])?
///     .real_time(true);
/// let config = Config::new(Credentials::new("1b448be323", "secret")?);
/// let request = config.prepare(&query, 1_700_000_000_000)?;
/// assert_eq!(request.uri().path(), "/v2/data/1b448be323/play-times");
/// assert!(request.uri().query().unwrap().starts_with("ptime=1700000000000&realTime=1&vids=1b448be3230a0194d959426ae005645f_1%2C1b448be32389b93ea8be08fa4eb7ca4f_1&sign="));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayTimes {
    /// The vids, comma-joined as sent.
    vids: String,
    count: usize,
    real_time: bool,
}

impl PlayTimes {
    /// How many vids one request carries when a list is split
    /// ([`batches`](Self::batches)): the URL of a GET stays a few KB.
    pub const BATCH: usize = 100;

    /// The play counts of these videos (at least one; each a plain vid:
    /// no comma, no whitespace). Any number is accepted here; split long
    /// lists with [`batches`](Self::batches).
    pub fn new<I, S>(vids: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut joined = String::new();
        let mut count = 0;
        for vid in vids {
            let vid = check_vid(vid.as_ref())?;
            if count > 0 {
                joined.push(',');
            }
            joined.push_str(vid);
            count += 1;
        }
        if count == 0 {
            return Err(Error::InvalidInput(
                "play-times needs at least one vid".into(),
            ));
        }
        Ok(Self {
            vids: joined,
            count,
            real_time: false,
        })
    }

    /// Asks for real-time counts (`realTime=1`) instead of the periodically
    /// updated ones.
    pub fn real_time(mut self, yes: bool) -> Self {
        self.real_time = yes;
        self
    }

    /// One request per [`BATCH`](Self::BATCH) vids, in order.
    ///
    /// ```
    /// use polyv_core::videos::PlayTimes;
    ///
    /// let vids: Vec<String> = (0..250).map(|i| format!("v{i}")).collect();
    /// let batches = PlayTimes::batches(&vids, false)?;
    /// assert_eq!(batches.iter().map(|b| b.len()).collect::<Vec<_>>(), [100, 100, 50]);
    /// # Ok::<(), polyv_core::Error>(())
    /// ```
    pub fn batches<S: AsRef<str>>(vids: &[S], real_time: bool) -> Result<Vec<Self>, Error> {
        if vids.is_empty() {
            return Err(Error::InvalidInput(
                "play-times needs at least one vid".into(),
            ));
        }
        vids.chunks(Self::BATCH)
            .map(|chunk| Self::new(chunk).map(|query| query.real_time(real_time)))
            .collect()
    }

    /// How many vids this request asks for.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it asks for none (never: [`new`](Self::new) refuses that).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A vid as it may travel in a comma-separated list.
pub(crate) fn check_vid(vid: &str) -> Result<&str, Error> {
    if vid.is_empty() || vid.contains(',') || vid.chars().any(char::is_whitespace) {
        return Err(Error::InvalidInput(format!(
            "{vid:?} is not a vid: give each vid on its own, without commas or spaces"
        )));
    }
    Ok(vid)
}

impl Endpoint for PlayTimes {
    type Data = Vec<PlayCount>;

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/data/");
        path.push_str(user_id.as_str());
        path.push_str("/play-times");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        // In signing order: `ptime` goes between them.
        if self.real_time {
            params.push("realTime", "1");
        }
        params.push("vids", &self.vids);
    }
}

/// One video's play count, as play-times answers it (`{vid, times}`; the
/// count read leniently).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlayCount {
    /// The video id.
    #[serde(deserialize_with = "lenient::text")]
    pub vid: String,
    /// How many times it was played.
    #[serde(default, deserialize_with = "lenient::number")]
    pub times: u64,
}

/// The answers of several play-times batches in the order of `vids`, the
/// caller's: each vid the server answered for, once (a vid it did not
/// answer for, e.g. a deleted video, is left out).
///
/// ```
/// use polyv_core::videos::{PlayCount, merge_play_counts};
///
/// let answers: Vec<Vec<PlayCount>> = vec![
///     serde_json::from_str(r#"[{"vid":"b","times":"2"},{"vid":"a","times":1}]"#)?,
///     serde_json::from_str(r#"[{"vid":"c","times":3}]"#)?,
/// ];
/// let merged = merge_play_counts(&["c", "a", "gone", "b"], answers);
/// assert_eq!(merged.iter().map(|p| (p.vid.as_str(), p.times)).collect::<Vec<_>>(), [("c", 3), ("a", 1), ("b", 2)]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn merge_play_counts<S, I>(vids: &[S], answers: I) -> Vec<PlayCount>
where
    S: AsRef<str>,
    I: IntoIterator<Item = Vec<PlayCount>>,
{
    let mut by_vid: std::collections::HashMap<String, PlayCount> = answers
        .into_iter()
        .flatten()
        .map(|count| (count.vid.clone(), count))
        .collect();
    vids.iter()
        .filter_map(|vid| by_vid.remove(vid.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Credentials, SecretKey, sign};

    #[test]
    fn golden_signed_request() {
        let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z").unwrap());
        let query = PlayTimes::new(["v1", "v2"]).unwrap();
        let request = config.prepare(&query, 1_469_599_842_000).unwrap();
        assert_eq!(request.method(), "GET");
        let expected = sign(
            [("ptime", "1469599842000"), ("vids", "v1,v2")],
            &SecretKey::new("tIQp4ATe9Z"),
        );
        assert_eq!(
            request.uri().to_string(),
            format!(
                "https://api.polyv.net/v2/data/3828390191/play-times?ptime=1469599842000&vids=v1%2Cv2&sign={expected}"
            )
        );
        assert!(request.body().is_empty());
    }

    #[test]
    fn vids_are_checked() {
        let empty: [&str; 0] = [];
        for bad in [&["a,b"][..], &["a b"], &[""], &empty] {
            assert!(
                matches!(PlayTimes::new(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
        assert!(PlayTimes::batches::<&str>(&[], false).is_err());
        let q = PlayTimes::new(["a"]).unwrap();
        assert_eq!((q.len(), q.is_empty()), (1, false));
    }

    #[test]
    fn counts_read_leniently() {
        let data: Vec<PlayCount> = crate::parse_response(
            200,
            None,
            br#"{"code":"200","status":"success","message":"","data":[{"vid":"a","times":"72"},{"vid":"b","times":3.0},{"vid":"c","times":null}]}"#,
        )
        .unwrap();
        assert_eq!(data.iter().map(|p| p.times).collect::<Vec<_>>(), [72, 3, 0]);
    }
}
