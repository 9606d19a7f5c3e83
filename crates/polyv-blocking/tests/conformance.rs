//! The shared behaviour table (crates/polyv-conformance), run through the
//! blocking client: once walking pages one by one on the caller's thread,
//! once fetching 4 ahead on worker threads.

use polyv_blocking::core::{Endpoint, Paged, Progress};
use polyv_blocking::{Client, Config, Error};
use polyv_conformance::{Subject, UploadDone, UploadRun};

/// `Client::upload` with the run's options.
fn upload(client: &Client, run: &UploadRun<'_>) -> Result<UploadDone, Error> {
    client
        .upload(run.path, run.options())
        .map(|done| UploadDone {
            vid: done.vid,
            resumed: done.resumed,
            fresh_resends: done.fresh_resends,
            bytes_sent: done.bytes_sent,
            bytes: done.bytes,
        })
}

macro_rules! adapter {
    ($name:ident, $fetch_ahead:expr) => {
        struct $name(Client);
        impl Subject for $name {
            fn connect(config: Config) -> Result<Self, Error> {
                Client::new(config).map($name)
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
                let mut items = self.0.items(query).fetch_ahead($fetch_ahead);
                let taken = items.by_ref().take(limit).collect();
                (taken, items.progress())
            }
            fn fetch_ahead(&self) -> usize {
                $fetch_ahead
            }
            fn debug(&self) -> String {
                format!("{:?}", self.0)
            }
            fn upload(&self, run: &UploadRun<'_>) -> Result<UploadDone, Error> {
                upload(&self.0, run)
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
