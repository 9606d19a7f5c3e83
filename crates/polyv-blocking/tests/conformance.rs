//! The shared behaviour table (crates/polyv-conformance), run through the
//! blocking client: once walking pages one by one on the caller's thread,
//! once fetching 4 ahead on worker threads.

use polyv_blocking::core::Progress;
use polyv_blocking::{Client, Config, Error, GetByUploader, Page, RawCall, Video};
use polyv_conformance::Subject;

macro_rules! adapter {
    ($name:ident, $fetch_ahead:expr) => {
        struct $name(Client);
        impl Subject for $name {
            fn connect(config: Config) -> Result<Self, Error> {
                Client::new(config).map($name)
            }
            fn get_by_uploader(&self, query: &GetByUploader) -> Result<Page<Video>, Error> {
                self.0.get_by_uploader(query)
            }
            fn walk_first(&self, query: &GetByUploader, items: usize) -> Vec<Result<Video, Error>> {
                let videos = self.0.videos(query).fetch_ahead($fetch_ahead);
                videos.take(items).collect()
            }
            fn walk_with_progress(
                &self,
                query: &GetByUploader,
            ) -> (Vec<Result<Video, Error>>, Progress) {
                let mut videos = self.0.videos(query).fetch_ahead($fetch_ahead);
                let items = videos.by_ref().collect();
                (items, videos.progress())
            }
            fn raw(&self, call: &RawCall) -> Result<serde_json::Value, Error> {
                self.0.raw(call)
            }
            fn fetch_ahead(&self) -> usize {
                $fetch_ahead
            }
            fn debug(&self) -> String {
                format!("{:?}", self.0)
            }
        }
    };
}

adapter!(Sequential, 1);
adapter!(FetchAhead, 4);

polyv_conformance::conformance_tests! {
    sequential: Sequential,
    fetch_ahead: FetchAhead,
}
