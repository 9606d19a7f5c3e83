//! `polyv videos upload` and `polyv videos fetch-url`.
//!
//! Upload is `Client::upload` per file (the SDK resumes a saved upload of the
//! same file by itself); this module draws the progress line, prints a
//! record per finished file and turns `--dry-run` into the plan.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use polyv_blocking::{Error, UploadOptions, UploadProgress, upload_plan};
use polyv_core::upload::PartPlan;
use polyv_core::upload::{GrabItem, GrabUrls};
use serde::Serialize;

use crate::cli::{FetchUrlArgs, Format, GlobalArgs, UploadArgs};
use crate::fail::{Failure, Status};
use crate::records::Records;
use crate::run::{default_format, output, table_width};
use crate::vod::{session, show_requests, stdout};

/// One uploaded file, as printed.
#[derive(Debug, Serialize)]
struct UploadedRecord {
    vid: String,
    file: String,
    bytes: u64,
    seconds: f64,
}

/// One file's plan, as `--dry-run` prints it.
#[derive(Debug, Serialize)]
struct PlanRecord {
    file: String,
    bytes: u64,
    part_size: u64,
    parts: u32,
    last_part: u64,
    parallel: u16,
}

/// One URL handed to Polyv.
#[derive(Debug, Serialize)]
struct FetchRecord<'a> {
    url: &'a str,
    accepted: bool,
}

/// `polyv videos upload FILE...`.
pub(crate) fn upload(global: &GlobalArgs, args: &UploadArgs) -> Result<(), Failure> {
    let format = args.output.format.unwrap_or_else(default_format);
    if args.output.dry_run {
        return plan(args, format);
    }
    // Every file is planned before anything is sent: a bad part size or a
    // missing file stops the command with nothing uploaded.
    for file in &args.files {
        plan_of(file, args.part_size)?;
    }
    let session = session(global)?;
    let tags: Vec<String> = args
        .tag
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut out = Records::new(stdout(), format, table_width());
    let terminal = io::stderr().is_terminal();
    let parallel = usize::from(args.parallel);
    let stop = StopOnSignal::register();
    for (finished, file) in args.files.iter().enumerate() {
        let name = file.display().to_string();
        let again = match finished {
            0 => String::new(),
            n => format!(
                "; leave out the {n} file(s) uploaded above, or they are uploaded again as new videos"
            ),
        };
        if stop.requested() {
            // The signal came as the previous file finished.
            output(out.finish())?;
            return Err(Failure::Stopped {
                error: format!("{name} and the files after it were not begun"),
                hint: format!("running the same command again uploads them{again}"),
            });
        }
        let mut options = UploadOptions::new()
            .parallel(parallel)
            .tags(tags.clone())
            .cancel_flag(stop.flag())
            .restart(args.restart);
        if let Some(title) = &args.title {
            options = options.title(title.clone());
        }
        if let Some(description) = &args.description {
            options = options.description(description.clone());
        }
        if let Some(cataid) = args.cataid {
            options = options.cataid(cataid);
        }
        if let Some(size) = args.part_size {
            options = options.part_size(size);
        }
        let stop_after = args.stop_after_parts;
        let label = name.clone();
        let flag = stop.flag();
        options = options.on_progress(move |p: &UploadProgress| {
            if stop_after.is_some_and(|n| p.parts_sent >= n) {
                flag.store(true, Ordering::SeqCst);
            }
            if terminal && !flag.load(Ordering::SeqCst) {
                let _ = write!(io::stderr().lock(), "\r\x1b[2K{}", progress_line(&label, p));
            }
        });
        let result = session.client.upload(file, options);
        if terminal {
            let _ = write!(io::stderr().lock(), "\r\x1b[2K");
        }
        let done = match result {
            Ok(done) => done,
            Err(err) => {
                // What finished is printed before the failure.
                output(out.finish())?;
                let hint = format!(
                    "{name}: its upload is saved; running the same command again resumes it (same vid, only the missing parts); --restart uploads it as a new video instead{again}"
                );
                return Err(match err {
                    Error::UploadCancelled { .. } => {
                        stop.announce();
                        Failure::Stopped {
                            error: err.to_string(),
                            hint,
                        }
                    }
                    // Bad input found before sending: nothing to resume.
                    Error::InvalidInput(_) => err.into(),
                    _ => Failure::Hinted(Box::new(err.into()), format!("hint: {hint}")),
                });
            }
        };
        let record = UploadedRecord {
            vid: done.vid,
            file: name,
            bytes: done.bytes,
            seconds: (done.seconds * 1000.0).round() / 1000.0,
        };
        output(out.batch(std::slice::from_ref(&record)))?;
    }
    output(out.finish())
}

/// Ctrl-C (SIGINT) or SIGTERM during an upload: the first raises the
/// upload's cancel flag, so it sends no new part, waits for those in
/// flight, saves its state and returns [`Error::UploadCancelled`]; a
/// second one exits at once (status 130), the state as of the last
/// finished part. Registered only for `videos upload`: other commands keep
/// the default (the process ends).
struct StopOnSignal {
    flag: Arc<AtomicBool>,
    /// Whether the `stopping:` line was written (once, by whoever first can).
    announced: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

/// Writes the `stopping:` line unless it was written already.
fn announce(announced: &AtomicBool) {
    if !announced.swap(true, Ordering::SeqCst) {
        let _ = writeln!(
            io::stderr().lock(),
            "\r\x1b[2Kstopping: waiting for the parts in flight and saving the upload's state (Ctrl-C again quits at once; those parts are then sent again on resume)"
        );
    }
}

impl StopOnSignal {
    /// Without a handler (registration failed) Ctrl-C ends the process as
    /// usual, which loses at most the parts in flight: a warning says so.
    fn register() -> Self {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let flag = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::with_capacity(4);
        for signal in [SIGINT, SIGTERM] {
            // The order matters: the shutdown checks the flag before the
            // second registration raises it, so only a second signal exits.
            let registered = signal_hook::flag::register_conditional_shutdown(
                signal,
                Status::Stopped as i32,
                Arc::clone(&flag),
            )
            .and_then(|id| {
                ids.push(id);
                signal_hook::flag::register(signal, Arc::clone(&flag))
            });
            match registered {
                Ok(id) => ids.push(id),
                Err(e) => {
                    let _ = writeln!(
                        io::stderr().lock(),
                        "warning: cannot catch Ctrl-C for a clean stop ({e}); stopping still keeps the finished parts"
                    );
                }
            }
        }
        let announced = Arc::new(AtomicBool::new(false));
        let (watched, said) = (Arc::clone(&flag), Arc::clone(&announced));
        // A line as soon as the signal arrives, not when the parts in
        // flight have answered (which may take a while on a slow link);
        // the command writes it itself if it stops first.
        std::thread::spawn(move || {
            while !watched.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            announce(&said);
        });
        Self {
            flag,
            announced,
            ids,
        }
    }

    fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The `stopping:` line, if the watcher has not written it yet.
    fn announce(&self) {
        announce(&self.announced);
    }
}

impl Drop for StopOnSignal {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// `\r`-redrawn: `file  12.0/40.0 MB  3.1 MB/s  ETA 9s  (3/10 parts)`.
fn progress_line(file: &str, p: &UploadProgress) -> String {
    let mb = |b: u64| b as f64 / 1_048_576.0;
    let eta = p
        .eta_secs()
        .map_or_else(|| "?".to_owned(), |s| format!("{:.0}s", s.ceil()));
    // Control characters in a file name never reach the terminal.
    let file: String = file.chars().filter(|c| !c.is_control()).collect();
    format!(
        "{file}  {:.1}/{:.1} MB  {:.1} MB/s  ETA {eta}  ({}/{} parts)",
        mb(p.bytes_done),
        mb(p.bytes_total),
        p.rate / 1_048_576.0,
        p.parts_done,
        p.parts_total
    )
}

/// `--dry-run`: the plan of each file; nothing is sent and no credentials
/// are needed.
fn plan(args: &UploadArgs, format: Format) -> Result<(), Failure> {
    let mut records = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let (bytes, plan) = plan_of(file, args.part_size)?;
        let last_part = plan.part(plan.part_count()).map_or(0, |part| part.len);
        records.push(PlanRecord {
            file: file.display().to_string(),
            bytes,
            part_size: plan.part_size(),
            parts: plan.part_count(),
            last_part,
            parallel: args.parallel,
        });
    }
    let mut out = Records::new(stdout(), format, table_width());
    output(out.batch(&records))?;
    output(out.finish())
}

/// A file's size and plan; exit status 2 when it cannot be read or cut.
fn plan_of(file: &std::path::Path, part_size: Option<u64>) -> Result<(u64, PartPlan), Failure> {
    let usage = |error: String| Failure::Usage {
        error,
        hint: "nothing was sent".into(),
    };
    let meta = std::fs::metadata(file)
        .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
    if !meta.is_file() {
        return Err(usage(format!("{} is not a file", file.display())));
    }
    let plan = upload_plan(meta.len(), part_size)
        .map_err(|e| usage(format!("{}: {e}", file.display())))?;
    Ok((meta.len(), plan))
}

/// `polyv videos fetch-url URL...`: one call per 100 URLs; each URL is
/// printed as accepted once its call succeeded.
pub(crate) fn fetch_url(global: &GlobalArgs, args: &FetchUrlArgs) -> Result<(), Failure> {
    let items = args
        .urls
        .iter()
        .map(|url| GrabItem::new(url.as_str()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut batches = GrabUrls::in_batches(items)?;
    if let Some(cataid) = args.cataid {
        batches = batches
            .into_iter()
            .map(|batch| batch.cataid(cataid))
            .collect::<Result<Vec<_>, _>>()?;
    }
    let session = session(global)?;
    let client = &session.client;
    let format = args.output.format.unwrap_or_else(default_format);
    if args.output.dry_run {
        return show_requests(client, format, &batches);
    }
    let mut out = Records::new(stdout(), format, table_width());
    let mut urls = args.urls.iter();
    for batch in &batches {
        if let Err(err) = client.call(batch) {
            output(out.finish())?;
            return Err(err.into());
        }
        let accepted: Vec<FetchRecord<'_>> = urls
            .by_ref()
            .take(batch.len())
            .map(|url| FetchRecord {
                url,
                accepted: true,
            })
            .collect();
        output(out.batch(&accepted))?;
    }
    output(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(done: u64, rate: f64) -> UploadProgress {
        let mut p = polyv_blocking::UploadProgress::default();
        p.bytes_done = done;
        p.bytes_total = 4 * 1_048_576;
        p.parts_done = 1;
        p.parts_total = 4;
        p.rate = rate;
        p
    }

    #[test]
    fn the_progress_line_has_bytes_rate_eta_and_parts() {
        let line = progress_line("talk.mp4", &progress(1_048_576, 1_048_576.0));
        assert_eq!(line, "talk.mp4  1.0/4.0 MB  1.0 MB/s  ETA 3s  (1/4 parts)");
        let line = progress_line("a\x1b[2Jb\n.mp4", &progress(0, 0.0));
        assert_eq!(line, "a[2Jb.mp4  0.0/4.0 MB  0.0 MB/s  ETA ?  (1/4 parts)");
    }
}
