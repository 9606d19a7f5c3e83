//! The shared behaviour table (crates/polyv-conformance), run through the
//! blocking client: once walking pages one by one on the caller's thread,
//! once fetching 4 ahead on worker threads.

use polyv_blocking::core::{Endpoint, Paged, Progress};
use polyv_blocking::{Client, Config, Error};
use polyv_conformance::{Subject, UploadDone, UploadRun};

/// `Client::upload` with the run's options; the stop is the cancel flag.
fn upload(client: &Client, run: &UploadRun<'_>) -> Result<UploadDone, Error> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let stop = run.stop_after_parts;
    let options = polyv_blocking::UploadOptions::new()
        .part_size(run.part_size)
        .parallel(run.parallel)
        .state_dir(run.state_dir)
        .cancel_flag(cancel)
        .on_progress(move |p| {
            if stop.is_some_and(|n| p.parts_sent >= n) {
                flag.store(true, Ordering::SeqCst);
            }
        });
    client.upload(run.path, options).map(|done| UploadDone {
        vid: done.vid,
        resumed: done.resumed,
        fresh_resends: done.fresh_resends,
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
        }
    };
}

adapter!(Sequential, 1);
adapter!(FetchAhead, 4);

polyv_conformance::conformance_tests! {
    sequential: Sequential,
    fetch_ahead: FetchAhead,
}
