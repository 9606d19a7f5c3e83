//! The shared behaviour table (crates/polyv-conformance), run through the
//! async client: once walking pages one by one, once fetching 4 ahead.
//! Each adapter blocks on a current-thread runtime, so everything the client
//! logs is emitted on the test's own thread.

use futures_util::StreamExt;
use polyv_async::core::{Endpoint, Paged, Progress};
use polyv_async::{Client, Config, Error};
use polyv_conformance::{Subject, UploadDone, UploadRun};
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
    fn call<E: Endpoint + Sync>(&self, endpoint: &E) -> Result<E::Data, Error> {
        self.runtime.block_on(self.client.call(endpoint))
    }
    fn fetch_urls(&self, urls: Vec<String>, cataid: Option<u64>) -> Result<usize, Error> {
        self.runtime.block_on(self.client.fetch_urls(urls, cataid))
    }
    /// `Client::upload` with the run's options.
    fn upload(&self, run: &UploadRun<'_>) -> Result<UploadDone, Error> {
        self.runtime
            .block_on(self.client.upload(run.path, run.options()))
            .map(|done| UploadDone {
                vid: done.vid,
                resumed: done.resumed,
                fresh_resends: done.fresh_resends,
                bytes_sent: done.bytes_sent,
                bytes: done.bytes,
            })
    }
    fn walk_items<E>(&self, query: E, limit: usize) -> (Vec<Result<E::Item, Error>>, Progress)
    where
        E: Paged + Send + Sync + 'static,
        E::Item: Send + 'static,
    {
        let mut items = self.client.items(query).fetch_ahead(self.fetch_ahead);
        let taken = self.runtime.block_on(items.by_ref().take(limit).collect());
        (taken, items.progress())
    }
}

macro_rules! adapter {
    ($name:ident, $fetch_ahead:expr) => {
        struct $name(Async);
        impl Subject for $name {
            fn connect(config: Config) -> Result<Self, Error> {
                Async::connect(config, $fetch_ahead).map($name)
            }
            fn call<E: Endpoint + Sync>(&self, endpoint: &E) -> Result<E::Data, Error> {
                self.0.call(endpoint)
            }
            fn walk_items<E>(
                &self,
                query: E,
                limit: usize,
            ) -> (Vec<Result<E::Item, Error>>, Progress)
            where
                E: Paged + Send + Sync + 'static,
                E::Item: Send + 'static,
            {
                self.0.walk_items(query, limit)
            }
            fn fetch_ahead(&self) -> usize {
                $fetch_ahead
            }
            fn debug(&self) -> String {
                format!("{:?}", self.0.client)
            }
            fn upload(&self, run: &UploadRun<'_>) -> Result<UploadDone, Error> {
                self.0.upload(run)
            }
            fn fetch_urls(&self, urls: Vec<String>, cataid: Option<u64>) -> Result<usize, Error> {
                self.0.fetch_urls(urls, cataid)
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
