//! `POST /v2/video/{userid}/video-info`: change a video's title, tags,
//! description or publish link.

use super::VideoDetail;
use crate::{Endpoint, Error, Params, UserId, input};

/// Changes a video's title, tags, description or "first published at" link
/// (video-info). Only what is set is changed.
///
/// - **Method:** POST form.
/// - **Signing:** every parameter sent (`describ`, `publishUrl`, `tag`,
///   `title` when set, `ptime`, `vid`).
/// - **Resending:** safe: setting the same values twice leaves the same end
///   state.
/// - **Input:** at least one change; a set value may not be blank (blank
///   values are never sent, so this endpoint cannot clear a field).
/// - **Answer:** the updated video when the server echoes it (an array of
///   one, per the SDK); `None` when it echoes nothing readable, since
///   success is the envelope's code alone.
///
/// ```
/// use polyv_core::videos::UpdateVideo;
/// use polyv_core::{Config, Credentials};
///
/// let update = UpdateVideo::builder("382839019131be68715e9455f8d0971a_3")
///     .title("新标题")
///     .tags(["教程", "入门"])
///     .build()?;
/// let config = Config::new(Credentials::new("3828390191", "tIQp4ATe9Z")?);
/// let request = config.prepare(&update, 1_469_599_842_000)?;
/// assert_eq!(request.uri().path(), "/v2/video/3828390191/video-info");
/// assert!(std::str::from_utf8(request.body())?.starts_with(
///     "ptime=1469599842000&tag=%E6%95%99%E7%A8%8B%2C%E5%85%A5%E9%97%A8&title=%E6%96%B0%E6%A0%87%E9%A2%98&vid=382839019131be68715e9455f8d0971a_3&sign="
/// ));
/// assert!(UpdateVideo::builder("v1").build().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpdateVideo {
    vid: String,
    title: Option<String>,
    tag: Option<String>,
    description: Option<String>,
    publish_url: Option<String>,
}

impl UpdateVideo {
    /// A builder for the changes to the video `vid`.
    pub fn builder(vid: impl Into<String>) -> UpdateVideoBuilder {
        UpdateVideoBuilder {
            update: Self {
                vid: vid.into(),
                title: None,
                tag: None,
                description: None,
                publish_url: None,
            },
            tags: None,
        }
    }

    /// The video changed.
    pub fn vid(&self) -> &str {
        &self.vid
    }

    /// The new title, if set.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The new tags, comma-separated as sent, if set.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The new description, if set.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The new publish link, if set.
    pub fn publish_url(&self) -> Option<&str> {
        self.publish_url.as_deref()
    }
}

/// Builds an [`UpdateVideo`]; [`build`](Self::build) checks the changes.
///
/// ```
/// use polyv_core::videos::UpdateVideo;
///
/// assert!(UpdateVideo::builder("v1").title("  ").build().is_err());
/// assert!(UpdateVideo::builder("v1").publish_url("example.com/x").build().is_err());
/// assert!(UpdateVideo::builder("v1").tags(["a,b"]).build().is_err());
/// let update = UpdateVideo::builder("v1").tag("a,b").description("简介").build()?;
/// assert_eq!(update.tag(), Some("a,b"));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UpdateVideoBuilder {
    update: UpdateVideo,
    tags: Option<Vec<String>>,
}

impl UpdateVideoBuilder {
    /// The new title (`title`).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.update.title = Some(title.into());
        self
    }

    /// The new tags, comma-separated as the API takes them (`tag`). Replaces
    /// any [`tags`](Self::tags).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.update.tag = Some(tag.into());
        self.tags = None;
        self
    }

    /// The new tags, one per item, joined with commas (`tag`); an item may
    /// not contain a comma. Replaces any [`tag`](Self::tag).
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = Some(tags.into_iter().map(Into::into).collect());
        self.update.tag = None;
        self
    }

    /// The new description (`describ`).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.update.description = Some(description.into());
        self
    }

    /// The new "first published at" link (`publishUrl`): an `http://` or
    /// `https://` URL.
    pub fn publish_url(mut self, url: impl Into<String>) -> Self {
        self.update.publish_url = Some(url.into());
        self
    }

    /// Checks the changes and returns the update.
    pub fn build(self) -> Result<UpdateVideo, Error> {
        let mut update = self.update;
        input::vid(&update.vid)?;
        if let Some(tags) = self.tags {
            for tag in &tags {
                input::non_blank("tag", tag)?;
                if tag.contains(',') {
                    return Err(Error::InvalidInput(format!(
                        "the tag {tag:?} contains a comma, which separates tags: pass each tag as its own item"
                    )));
                }
            }
            update.tag = Some(tags.join(","));
        }
        if let Some(title) = &update.title {
            input::non_blank("title", title)?;
        }
        if let Some(tag) = &update.tag {
            input::non_blank("tag", tag)?;
        }
        if let Some(description) = &update.description {
            input::non_blank("description", description)?;
        }
        if let Some(url) = &update.publish_url {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://"))
                || url.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Error::InvalidInput(format!(
                    "the publish URL {url:?} is not an http:// or https:// URL without spaces: give the full link"
                )));
            }
        }
        if update.title.is_none()
            && update.tag.is_none()
            && update.description.is_none()
            && update.publish_url.is_none()
        {
            return Err(Error::InvalidInput(
                "nothing to update: set at least one of the title, tags, description or publish URL"
                    .into(),
            ));
        }
        Ok(update)
    }
}

impl Endpoint for UpdateVideo {
    type Data = Option<VideoDetail>;

    fn method(&self) -> http::Method {
        http::Method::POST
    }

    fn write_path(&self, user_id: &UserId, path: &mut String) {
        path.push_str("/v2/video/");
        path.push_str(user_id.as_str());
        path.push_str("/video-info");
    }

    fn params<'a>(&'a self, params: &mut Params<'a>) {
        if let Some(description) = &self.description {
            params.push("describ", description);
        }
        if let Some(url) = &self.publish_url {
            params.push("publishUrl", url);
        }
        if let Some(tag) = &self.tag {
            params.push("tag", tag);
        }
        if let Some(title) = &self.title {
            params.push("title", title);
        }
        params.push("vid", &self.vid);
    }

    /// Setting the same values twice has the same end state.
    fn resend_safe(&self) -> bool {
        true
    }

    fn parse(
        &self,
        status: u16,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Result<Option<VideoDetail>, Error> {
        // The change is made once the code says so; the echo is a courtesy
        // whose shape is unconfirmed (no JSON sample), so an unreadable one
        // does not turn a success into a failure.
        let data = crate::parse_response::<serde_json::Value>(status, retry_after, body)?;
        let video = match data {
            serde_json::Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            object @ serde_json::Value::Object(_) => object,
            _ => return Ok(None),
        };
        Ok(serde_json::from_value(video).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_checked() {
        let b = || UpdateVideo::builder("v1");
        for bad in [
            UpdateVideo::builder("").title("t"),
            UpdateVideo::builder("a,b").title("t"),
            b(),
            b().title(""),
            b().tag(" "),
            b().tags(Vec::<String>::new()),
            b().tags(["a", ""]),
            b().description("\n"),
            b().publish_url("ftp://x"),
            b().publish_url("https://x/a b"),
        ] {
            assert!(matches!(bad.build(), Err(Error::InvalidInput(_))));
        }
        let u = b()
            .tags(["a", "b"])
            .publish_url("HTTPS://x.cn/1")
            .build()
            .unwrap();
        assert_eq!(
            (u.tag(), u.publish_url()),
            (Some("a,b"), Some("HTTPS://x.cn/1"))
        );
        assert_eq!(
            b().tags(["a"]).tag("x,y").build().unwrap().tag(),
            Some("x,y")
        );
        assert_eq!(b().tag("x").tags(["z"]).build().unwrap().tag(), Some("z"));
        let d = b().description("d").build().unwrap();
        assert_eq!(
            (d.description(), d.title(), d.vid()),
            (Some("d"), None, "v1")
        );
    }

    #[test]
    fn the_echo_is_read_when_it_can_be() {
        let u = UpdateVideo::builder("v1").title("t").build().unwrap();
        let body = |data: &str| {
            format!(r#"{{"code":200,"status":"success","message":"success","data":{data}}}"#)
        };
        let echoed = u
            .parse(
                200,
                None,
                body(r#"[{"vid":"v1","title":"t","filesize":["1","2"]}]"#).as_bytes(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (echoed.title.as_str(), echoed.filesize.as_slice()),
            ("t", &[1, 2][..])
        );
        for nothing in ["[]", r#""""#, "null", "true", r#"[{"title":"no vid"}]"#] {
            assert_eq!(
                u.parse(200, None, body(nothing).as_bytes()).unwrap(),
                None,
                "{nothing}"
            );
        }
        let refused =
            br#"{"code":400,"status":"error","message":"the sign is not right.","data":""}"#;
        assert!(matches!(
            u.parse(400, None, refused),
            Err(Error::SignNotRight)
        ));
    }
}
