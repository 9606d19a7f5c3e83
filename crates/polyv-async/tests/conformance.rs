//! The shared behaviour table (crates/polyv-conformance), run through the
//! async client: once walking pages one by one, once fetching 4 ahead.
//! Each adapter blocks on a current-thread runtime, so everything the client
//! logs is emitted on the test's own thread.

use futures_util::StreamExt;
use polyv_async::core::Progress;
use polyv_async::{Client, Config, Error, GetByUploader, Page, RawCall, Video};
use polyv_conformance::Subject;
use tokio::runtime::Runtime;

struct Async {
    client: Client,
    runtime: Runtime,
    fetch_ahead: usize,
}

impl Async {
    fn connect(config: Config, fetch_ahead: usize) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::InvalidInput(format!("runtime: {e}")))?;
        let client = {
            let _guard = runtime.enter();
            Client::new(config)?
        };
        Ok(Self {
            client,
            runtime,
            fetch_ahead,
        })
    }
    fn get_by_uploader(&self, query: &GetByUploader) -> Result<Page<Video>, Error> {
        self.runtime.block_on(self.client.get_by_uploader(query))
    }
    fn walk_first(&self, query: &GetByUploader, items: usize) -> Vec<Result<Video, Error>> {
        let stream = self.client.videos(query).fetch_ahead(self.fetch_ahead);
        self.runtime.block_on(stream.take(items).collect())
    }
    fn walk_with_progress(&self, query: &GetByUploader) -> (Vec<Result<Video, Error>>, Progress) {
        let mut stream = self.client.videos(query).fetch_ahead(self.fetch_ahead);
        let items = self.runtime.block_on(stream.by_ref().collect());
        (items, stream.progress())
    }
    fn raw(&self, call: &RawCall) -> Result<serde_json::Value, Error> {
        self.runtime.block_on(self.client.raw(call))
    }
}

macro_rules! adapter {
    ($name:ident, $fetch_ahead:expr) => {
        struct $name(Async);
        impl Subject for $name {
            fn connect(config: Config) -> Result<Self, Error> {
                Async::connect(config, $fetch_ahead).map($name)
            }
            fn get_by_uploader(&self, query: &GetByUploader) -> Result<Page<Video>, Error> {
                self.0.get_by_uploader(query)
            }
            fn walk_first(&self, query: &GetByUploader, items: usize) -> Vec<Result<Video, Error>> {
                self.0.walk_first(query, items)
            }
            fn walk_with_progress(
                &self,
                query: &GetByUploader,
            ) -> (Vec<Result<Video, Error>>, Progress) {
                self.0.walk_with_progress(query)
            }
            fn raw(&self, call: &RawCall) -> Result<serde_json::Value, Error> {
                self.0.raw(call)
            }
            fn fetch_ahead(&self) -> usize {
                $fetch_ahead
            }
            fn debug(&self) -> String {
                format!("{:?}", self.0.client)
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
