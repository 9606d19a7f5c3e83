//! The route table's keys: the 13 VOD endpoints and the 3 upload
//! endpoints the mock serves (the OSS side is routed apart, `oss.rs`).

use crate::sign::{self, Shape};

/// One endpoint of Polyv's VOD v2 API that the mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /v2/video/{userid}/get-by-uploader`: a page of a sub-account's videos.
    GetByUploader,
    /// `/v2/video/{userid}/get-video-msg`: one video's detail.
    GetVideoMsg,
    /// `/v2/data/{userid}/play-times`: play counts of several videos.
    PlayTimes,
    /// `/v2/user/{userid}/main`: the account's space and traffic.
    Main,
    /// `/v2/video/{userid}/del-video`: delete one video.
    DelVideo,
    /// `/v2/video/del-videos`: delete many videos (account in the body's `userId`).
    DelVideos,
    /// `/v2/video/{userid}/video-info`: update title, tag, description, publish URL.
    VideoInfo,
    /// `/v2/video/{userid}/cataJson`: the category tree.
    CataJson,
    /// `/v2/video/{userid}/addCata`: create a category.
    AddCata,
    /// `/v2/video/{userid}/updateCata`: rename a category.
    UpdateCata,
    /// `/v2/video/{userid}/deleteCata`: delete a category.
    DeleteCata,
    /// `/v2/video/{userid}/changeCata`: move videos to a category.
    ChangeCata,
    /// `/v2/data/{userid}/viewlog`: one day's view log.
    Viewlog,
    /// `POST /v2/uploadvideo/{userid}/init`: a new vid (`autoid=1`) or
    /// fresh credentials for one (`autoid=0` + `vid`), with the OSS target.
    UploadInit,
    /// `GET /v2/uploadvideo/{userid}/token`: fresh STS credentials.
    UploadToken,
    /// `POST /v2/video/grab/{userid}/upload/multi`: URL fetch (queued).
    GrabUpload,
}

impl Endpoint {
    /// Every endpoint, in the spec's order.
    pub const ALL: [Endpoint; 13] = [
        Endpoint::GetByUploader,
        Endpoint::GetVideoMsg,
        Endpoint::PlayTimes,
        Endpoint::Main,
        Endpoint::DelVideo,
        Endpoint::DelVideos,
        Endpoint::VideoInfo,
        Endpoint::CataJson,
        Endpoint::AddCata,
        Endpoint::UpdateCata,
        Endpoint::DeleteCata,
        Endpoint::ChangeCata,
        Endpoint::Viewlog,
    ];

    /// The upload endpoints (not in [`Endpoint::ALL`], which lists the VOD ones).
    pub const UPLOAD: [Endpoint; 3] = [
        Endpoint::UploadInit,
        Endpoint::UploadToken,
        Endpoint::GrabUpload,
    ];

    /// The last path segment, e.g. `"get-by-uploader"`, `"cataJson"`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::GetByUploader => "get-by-uploader",
            Endpoint::GetVideoMsg => "get-video-msg",
            Endpoint::PlayTimes => "play-times",
            Endpoint::Main => "main",
            Endpoint::DelVideo => "del-video",
            Endpoint::DelVideos => "del-videos",
            Endpoint::VideoInfo => "video-info",
            Endpoint::CataJson => "cataJson",
            Endpoint::AddCata => "addCata",
            Endpoint::UpdateCata => "updateCata",
            Endpoint::DeleteCata => "deleteCata",
            Endpoint::ChangeCata => "changeCata",
            Endpoint::Viewlog => "viewlog",
            Endpoint::UploadInit => "init",
            Endpoint::UploadToken => "token",
            Endpoint::GrabUpload => "upload/multi",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Endpoint::PlayTimes | Endpoint::Viewlog => "/v2/data/",
            Endpoint::Main => "/v2/user/",
            Endpoint::UploadInit | Endpoint::UploadToken => "/v2/uploadvideo/",
            Endpoint::GrabUpload => "/v2/video/grab/",
            _ => "/v2/video/",
        }
    }

    /// The path for an account, e.g. `/v2/data/{user_id}/play-times`
    /// (`/v2/video/del-videos` for [`Endpoint::DelVideos`], whose account
    /// travels in the body). `user_id` is put in as is.
    pub fn path(self, user_id: &str) -> String {
        match self {
            Endpoint::DelVideos => "/v2/video/del-videos".to_owned(),
            _ => format!("{}{user_id}/{}", self.prefix(), self.name()),
        }
    }

    /// The method Polyv's official Java SDK uses.
    pub fn sdk_method(self) -> &'static str {
        match self {
            Endpoint::GetByUploader
            | Endpoint::GetVideoMsg
            | Endpoint::PlayTimes
            | Endpoint::Viewlog
            | Endpoint::UploadToken => "GET",
            _ => "POST",
        }
    }

    /// The methods the mock accepts: the SDK's, plus the other one where
    /// Polyv's pages say "POST,GET" or disagree with the SDK. `HEAD` is
    /// accepted (answered without a body) where `GET` is and the endpoint
    /// changes nothing.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Endpoint::GetByUploader => &["GET", "HEAD"],
            Endpoint::GetVideoMsg | Endpoint::PlayTimes | Endpoint::Viewlog => {
                &["GET", "HEAD", "POST"]
            }
            Endpoint::Main | Endpoint::CataJson => &["POST", "GET", "HEAD"],
            Endpoint::DelVideo | Endpoint::UpdateCata => &["POST", "GET"],
            Endpoint::DelVideos
            | Endpoint::VideoInfo
            | Endpoint::AddCata
            | Endpoint::DeleteCata
            | Endpoint::ChangeCata
            | Endpoint::UploadInit
            | Endpoint::GrabUpload => &["POST"],
            Endpoint::UploadToken => &["GET", "POST"],
        }
    }

    /// The signing shape the mock verifies.
    pub fn shape(self) -> Shape {
        match self {
            Endpoint::CataJson => Shape::Fixed(sign::CATA_JSON_FIELDS),
            Endpoint::UpdateCata => Shape::Fixed(sign::UPDATE_CATA_FIELDS),
            Endpoint::DeleteCata => Shape::Fixed(sign::DELETE_CATA_FIELDS),
            Endpoint::ChangeCata => Shape::Fixed(sign::CHANGE_CATA_FIELDS),
            Endpoint::Viewlog => Shape::Fixed(sign::VIEWLOG_FIELDS),
            _ => Shape::Generic,
        }
    }

    /// Whether a successful call changes the account.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Endpoint::DelVideo
                | Endpoint::DelVideos
                | Endpoint::VideoInfo
                | Endpoint::AddCata
                | Endpoint::UpdateCata
                | Endpoint::DeleteCata
                | Endpoint::ChangeCata
                | Endpoint::UploadInit
                | Endpoint::GrabUpload
        )
    }

    /// The endpoint of a request path and the path's account id
    /// (percent-decoded; `None` for [`Endpoint::DelVideos`]).
    pub fn route(path: &str) -> Option<(Endpoint, Option<String>)> {
        if path == "/v2/video/del-videos" {
            return Some((Endpoint::DelVideos, None));
        }
        for prefix in [
            "/v2/video/grab/",
            "/v2/uploadvideo/",
            "/v2/video/",
            "/v2/data/",
            "/v2/user/",
        ] {
            let Some(rest) = path.strip_prefix(prefix) else {
                continue;
            };
            let Some((userid, name)) = rest.split_once('/') else {
                continue;
            };
            let found = Endpoint::ALL
                .into_iter()
                .chain(Endpoint::UPLOAD)
                .find(|e| e.name() == name && e.prefix() == prefix && *e != Endpoint::DelVideos);
            if let Some(endpoint) = found {
                return Some((endpoint, Some(crate::server::percent_decode(userid))));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_routes_back_to_its_endpoint() {
        for e in Endpoint::ALL.into_iter().chain(Endpoint::UPLOAD) {
            let (back, user) = Endpoint::route(&e.path("demo0000a1")).unwrap();
            assert_eq!(back, e);
            assert_eq!(
                user.as_deref(),
                (e != Endpoint::DelVideos).then_some("demo0000a1")
            );
            assert!(e.methods().contains(&e.sdk_method()), "{e:?}");
        }
        assert_eq!(Endpoint::route("/v2/video/a/b/get-by-uploader"), None);
        assert_eq!(Endpoint::route("/v2/data/u/get-by-uploader"), None);
        assert_eq!(Endpoint::route("/v2/video/u/del-videos"), None);
        assert_eq!(Endpoint::route("/v2/video/u"), None);
        assert_eq!(
            Endpoint::route("/v2/video/grab/u/upload/multi"),
            Some((Endpoint::GrabUpload, Some("u".to_owned())))
        );
        assert_eq!(
            Endpoint::route("/v2/video/grab/get-by-uploader"),
            Some((Endpoint::GetByUploader, Some("grab".to_owned())))
        );
        assert_eq!(Endpoint::route("/v2/uploadvideo/u/upload/multi"), None);
        assert_eq!(
            Endpoint::route("/v2/video/demo%30000a1/cataJson"),
            Some((Endpoint::CataJson, Some("demo0000a1".to_owned())))
        );
    }
}
