//! The shared behaviour table (crates/polyv-conformance), run through the blocking client.

use polyv_blocking::{Client, Config, Error, GetByUploader, Page, RawCall, Video};
use polyv_conformance::Subject;

struct Blocking(Client);

impl Subject for Blocking {
    fn connect(config: Config) -> Result<Self, Error> {
        Client::new(config).map(Blocking)
    }
    fn get_by_uploader(&self, query: &GetByUploader) -> Result<Page<Video>, Error> {
        self.0.get_by_uploader(query)
    }
    fn walk(&self, query: &GetByUploader) -> Vec<Result<Video, Error>> {
        self.0.videos(query).collect()
    }
    fn raw(&self, call: &RawCall) -> Result<serde_json::Value, Error> {
        self.0.raw(call)
    }
    fn debug(&self) -> String {
        format!("{:?}", self.0)
    }
}

polyv_conformance::conformance_tests!(Blocking);
