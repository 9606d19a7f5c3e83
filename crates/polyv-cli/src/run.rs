//! The subcommands: flags in, SDK calls, rendered results out.

use std::env::VarError;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::Arc;

use polyv_blocking::Client;
use polyv_core::{
    CallEvent, Config, Credentials, ENV_SECRET_KEY, Error, GetByUploader, Order, Page,
    Progress as WalkProgress, RetryPolicy, SecretKey, Video, canonical_string,
};
#[cfg(feature = "mock")]
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, MockServer};

#[cfg(feature = "mock")]
use crate::cli::DemoArgs;
use crate::cli::{ByUploaderArgs, Cli, Command, Format, GlobalArgs, SignArgs};
use crate::fail::{self, Failure, GaveUp, Status};
use crate::progress::{self, Progress};
use crate::render::{PIPE_WIDTH, Renderer};

/// Videos in the catalogue of the mock that `--mock` starts.
#[cfg(feature = "mock")]
pub(crate) const MOCK_VIDEOS: usize = 500;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    let Cli { global, command } = cli;
    let result = match command {
        Command::Videos(videos) => {
            arm_deadline(global.deadline);
            crate::vod::videos(&global, videos)
        }
        Command::Categories(command) => {
            arm_deadline(global.deadline);
            crate::vod::categories(&global, command)
        }
        Command::Account(command) => {
            arm_deadline(global.deadline);
            crate::vod::account(&global, command)
        }
        Command::Stats(command) => {
            arm_deadline(global.deadline);
            crate::vod::stats(&global, command)
        }
        Command::Sign(args) => sign(&global, &args),
        #[cfg(feature = "mock")]
        Command::Demo(args) => {
            arm_deadline(global.deadline);
            demo(&global, &args)
        }
        Command::Completions { shell } => {
            // Generated into memory first: the generator panics on write errors.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut crate::cli::command(), "polyv", &mut script);
            write_stdout(&script)
        }
    };
    result.map_err(with_flag_hints)
}

/// Errors whose remedy is a flag of this CLI get a hint naming it.
fn with_flag_hints(failure: Failure) -> Failure {
    match failure {
        Failure::Sdk(Error::BodyTooLarge { limit }) => Failure::Hinted(
            Box::new(Failure::Sdk(Error::BodyTooLarge { limit })),
            format!(
                "hint: the answer was larger than {limit} bytes; raise the limit with --max-body (e.g. --max-body 64M)"
            ),
        ),
        other => other,
    }
}

/// `--deadline`: a watchdog that ends the process, with exit status 3 and a
/// message, once the whole command has run that long, however many retries
/// or pages are left.
pub(crate) fn arm_deadline(deadline: Option<std::time::Duration>) {
    let Some(deadline) = deadline else { return };
    let spawned = std::thread::Builder::new()
        .name("deadline".into())
        .spawn(move || {
            std::thread::sleep(deadline);
            let mut stderr = io::stderr().lock();
            if io::stderr().is_terminal() {
                let _ = write!(stderr, "\r\x1b[2K"); // the progress line, if any
            }
            let _ = writeln!(
                stderr,
                "error: stopped after --deadline {deadline:?}: the command had not finished\n\
                 hint: raise --deadline, or lower --retries or --timeout to fail sooner"
            );
            std::process::exit(Status::Trouble as i32);
        });
    // Without a thread there is no deadline; the command still runs.
    drop(spawned);
}

/// Terminal columns for the table: `COLUMNS` when it is set to a number,
/// else the terminal's width when stdout is one, else [`PIPE_WIDTH`].
pub(crate) fn table_width() -> usize {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return columns;
    }
    if io::stdout().is_terminal() {
        if let Some((terminal_size::Width(width), _)) =
            terminal_size::terminal_size_of(io::stdout())
        {
            return usize::from(width);
        }
    }
    PIPE_WIDTH
}

/// `polyv videos by-uploader`.
pub(crate) fn by_uploader(global: &GlobalArgs, args: &ByUploaderArgs) -> Result<(), Failure> {
    let query = query(args)?;
    let format = args.format.unwrap_or_else(default_format);
    let mut progress = Progress::new();
    #[cfg(feature = "mock")]
    if global.mock {
        let server = start_mock(MOCK_VIDEOS)?;
        let client = client(
            global,
            config(global, demo_credentials()?, Some(&server.base_url()))?,
        )?;
        progress.note(&format!(
            "mock: an in-process Polyv mock at {} serves the demo account {DEMO_USER_ID}",
            server.base_url()
        ));
        if args.dry_run {
            return crate::vod::show_requests(&client, format, &[query]);
        }
        return list(&client, &query, walk(args), format, &mut progress);
    }
    let credentials = Credentials::from_env()?;
    let client = client(global, config(global, credentials, base_url(global))?)?;
    if args.dry_run {
        return crate::vod::show_requests(&client, format, &[query]);
    }
    list(&client, &query, walk(args), format, &mut progress)
}

/// The query, one flag per builder call; ranges are checked by the builder.
fn query(args: &ByUploaderArgs) -> Result<GetByUploader, Error> {
    let mut builder = GetByUploader::builder();
    if let Some(email) = &args.email {
        builder = builder.email(email.clone());
    }
    if let Some(cataid) = args.cataid {
        builder = builder.category(cataid);
    }
    if args.subcategories {
        builder = builder.include_subcategories(true);
    }
    if args.published {
        builder = builder.published_only(true);
    }
    match args.order {
        Some(order) => builder = builder.order(order.into()),
        // A whole listing walked newest first shifts under every upload
        // that lands during the walk; oldest first, uploads land at the end.
        None if args.all => builder = builder.order(Order::PtimeAsc),
        None => {}
    }
    if let Some(size) = args.page_size {
        builder = builder.page_size(size);
    }
    if let Some(page) = args.page {
        builder = builder.page(page);
    }
    builder.build()
}

/// The table for people at a terminal, JSON lines for programs.
pub(crate) fn default_format() -> Format {
    if io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    }
}

pub(crate) fn config(
    global: &GlobalArgs,
    credentials: Credentials,
    base_url: Option<&str>,
) -> Result<Config, Error> {
    let retry_lines = io::stderr().is_terminal();
    let mut config = Config::new(credentials)
        .with_retry(RetryPolicy::default().with_retries(global.retries))
        .with_observer(move |event| observe(event, retry_lines));
    if let Some(timeout) = global.timeout {
        config = config.with_timeout(timeout);
    }
    if let Some(limit) = global.max_body {
        config = config.with_max_body_bytes(limit);
    }
    if let Some(base_url) = base_url {
        config = config.with_base_url(base_url)?;
    }
    Ok(config)
}

/// What the SDK tells about its calls: a line per retry on a terminal, and
/// how the failing call gave up, for the hint.
fn observe(event: &CallEvent<'_>, retry_lines: bool) {
    match event {
        CallEvent::Retrying {
            attempt,
            max_attempts,
            delay,
            error,
            ..
        } if retry_lines => {
            // Over the progress line, which redraws itself on the next page.
            let _ = writeln!(
                io::stderr().lock(),
                "\r\x1b[2K{}",
                progress::retry_line(*delay, attempt.saturating_add(1), *max_attempts, error)
            );
        }
        CallEvent::GaveUp {
            attempts, reason, ..
        } => fail::record_gave_up(GaveUp {
            attempts: *attempts,
            reason: *reason,
        }),
        _ => {}
    }
}

/// A client for `config`; with `--rate-limit-url` (or `POLYV_RATE_LIMIT_URL`)
/// its rate limit is the fleet's, shared through that Redis.
pub(crate) fn client(global: &GlobalArgs, config: Config) -> Result<Client, Error> {
    let client = Client::new(config)?;
    match global
        .rate_limit_url
        .as_deref()
        .filter(|url| !url.is_empty())
    {
        Some(url) => {
            let limiter = polyv_redis::RedisLimiter::new(url)?;
            tracing::debug!(
                url = limiter.url(),
                key = limiter.key(),
                "rate limit shared through Redis"
            );
            Ok(client.with_rate_limiter(Arc::new(limiter)))
        }
        None => Ok(client),
    }
}

/// `--base-url` or `POLYV_BASE_URL`; an empty value means the default.
pub(crate) fn base_url(global: &GlobalArgs) -> Option<&str> {
    global.base_url.as_deref().filter(|url| !url.is_empty())
}

#[cfg(feature = "mock")]
pub(crate) fn demo_credentials() -> Result<Credentials, Error> {
    Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY)
}

#[cfg(feature = "mock")]
pub(crate) fn start_mock(videos: usize) -> Result<MockServer, Failure> {
    MockServer::builder()
        .videos(videos)
        .start()
        .map_err(Failure::Mock)
}

/// `--all [--fetch-ahead N]` as the walk's fetch-ahead; `None` for one page.
fn walk(args: &ByUploaderArgs) -> Option<usize> {
    args.all.then(|| args.fetch_ahead.map_or(1, |n| n as usize))
}

/// Fetches one page, or every page when `walk` gives a fetch-ahead, writing
/// each page to stdout as it arrives and flushing it. A record that cannot
/// be read gets a warning line on stderr and the rest go on; the command
/// then ends with [`Failure::Unreadable`] (exit status 4).
fn list(
    client: &Client,
    query: &GetByUploader,
    walk: Option<usize>,
    format: Format,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let mut out = Renderer::new(
        BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        format,
        table_width(),
    );
    let mut unreadable = 0;
    let Some(fetch_ahead) = walk else {
        let page = client.get_by_uploader(query)?;
        output(out.page(&page.items))?;
        output(out.finish())?;
        unreadable += warn_unreadable(&page);
        let last = page.last_page();
        let more = if u64::from(page.page_number) < last {
            format!(
                " · next: --page {} or --all",
                page.page_number.saturating_add(1)
            )
        } else {
            String::new()
        };
        progress.finish(&format!(
            "page {} of {last} · {} videos ({} in all){more}",
            page.page_number,
            page.items.len(),
            page.total_items
        ));
        return incomplete(unreadable, out.written());
    };

    let mut pages = client.pages(query).fetch_ahead(fetch_ahead);
    progress.update(0, None, 0);
    // Not a `for` loop: the progress asks the iterator between pages.
    #[allow(clippy::while_let_on_iterator)]
    while let Some(page) = pages.next() {
        progress.clear();
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                warn_listing_changed(&pages.progress());
                return Err(error.into());
            }
        };
        output(out.page(&page.items))?;
        unreadable += warn_unreadable(&page);
        progress.update(
            pages.progress().pages_done,
            pages.progress().last_page,
            out.written(),
        );
    }
    output(out.finish())?;
    progress.finish(&progress::summary(
        out.written(),
        pages.progress().pages_done,
        progress.elapsed(),
    ));
    warn_listing_changed(&pages.progress());
    incomplete(unreadable, out.written())
}

/// One warning line on stderr per record of `page` that could not be read;
/// returns how many there were.
fn warn_unreadable(page: &Page<Video>) -> u64 {
    let mut stderr = io::stderr().lock();
    for record in &page.unreadable {
        let _ = writeln!(
            stderr,
            "warning: {}",
            fail::printable(&format!("{record}; as sent: {}", record.raw))
        );
    }
    page.unreadable.len() as u64
}

/// Once per walk, when the listing changed while it was walked.
fn warn_listing_changed(progress: &WalkProgress) {
    if let Some(change) = progress.total_changed {
        let _ = writeln!(
            io::stderr().lock(),
            "warning: the listing changed during the walk (totalItems {} -> {}, first seen on page {}): \
             no video was written twice ({} repeat{} dropped), but some may have been skipped; \
             walk in upload order (--order ptime-asc, the default with --all) or run again",
            change.before,
            change.after,
            change.first_seen_on_page,
            progress.duplicates_dropped,
            if progress.duplicates_dropped == 1 {
                ""
            } else {
                "s"
            },
        );
    }
}

fn incomplete(records: u64, written: u64) -> Result<(), Failure> {
    if records == 0 {
        Ok(())
    } else {
        Err(Failure::Unreadable { records, written })
    }
}

/// A closed stdout (`| head`) ends the command quietly; other write errors
/// are failures.
pub(crate) fn output(result: io::Result<()>) -> Result<(), Failure> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Err(Failure::StdoutClosed),
        Err(error) => Err(Failure::Output(error)),
        Ok(()) => Ok(()),
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    output(stdout.write_all(bytes).and_then(|()| stdout.flush()))
}

/// `polyv sign`: the SDK's own signer and canonical string; with `--mock`,
/// the demo account's secret key.
fn sign(global: &GlobalArgs, args: &SignArgs) -> Result<(), Failure> {
    #[cfg(feature = "mock")]
    let mock_secret = global.mock.then(|| SecretKey::new(DEMO_SECRET_KEY));
    #[cfg(not(feature = "mock"))]
    let mock_secret: Option<SecretKey> = {
        let _ = global;
        None
    };
    let secret = match mock_secret
        .map(Ok)
        .unwrap_or_else(|| std::env::var(ENV_SECRET_KEY).map(SecretKey::new))
    {
        Ok(secret) if !secret.expose_secret().is_empty() => secret,
        Ok(_) => {
            return Err(Error::Env {
                unset: Vec::new(),
                empty: vec![ENV_SECRET_KEY],
            }
            .into());
        }
        Err(VarError::NotUnicode(_)) => {
            return Err(Error::InvalidInput(format!("{ENV_SECRET_KEY} is not valid UTF-8")).into());
        }
        Err(VarError::NotPresent) => {
            return Err(Error::Env {
                unset: vec![ENV_SECRET_KEY],
                empty: Vec::new(),
            }
            .into());
        }
    };
    let pairs: Vec<(&str, &str)> = args
        .params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let sign = polyv_core::sign(pairs.iter().copied(), &secret);
    let mut text = String::new();
    if args.explain {
        let left_out: Vec<String> = pairs
            .iter()
            .filter_map(|(name, value)| {
                if *name == polyv_core::SIGN_PARAM {
                    Some(format!("{name} (never signed)"))
                } else if value.is_empty() {
                    Some(format!("{name} (empty value)"))
                } else {
                    None
                }
            })
            .collect();
        if !left_out.is_empty() {
            text.push_str(&format!("left out: {}\n", left_out.join(", ")));
        }
        text.push_str(&format!(
            "{}<secret key: {} chars>\n",
            canonical_string(pairs.iter().copied()),
            secret.expose_secret().chars().count()
        ));
    }
    text.push_str(sign.as_str());
    text.push('\n');
    write_stdout(text.as_bytes())
}

#[cfg(feature = "mock")]
/// `polyv demo`: a real walk (signing, HTTP, the mock's own verification,
/// parsing, rendering) against an in-process mock with the demo account.
fn demo(global: &GlobalArgs, args: &DemoArgs) -> Result<(), Failure> {
    let query = GetByUploader::builder()
        .email(args.email.clone())
        .order(args.order.into())
        .page_size(args.page_size)
        .build()?;
    let format = args.format.unwrap_or_else(default_format);
    let mut progress = Progress::new();
    let server = start_mock(usize::try_from(args.videos).unwrap_or(usize::MAX))?;
    let client = client(
        global,
        config(global, demo_credentials()?, Some(&server.base_url()))?,
    )?;
    progress.note(&format!(
        "demo: a mock Polyv API is listening on {} with the demo account {DEMO_USER_ID}\n\
         demo: listing sub-account {}'s videos, every page of {}, each request signed here and verified there",
        server.base_url(),
        args.email,
        args.page_size
    ));
    list(&client, &query, Some(1), format, &mut progress).map_err(|failure| match failure {
        Failure::Sdk(Error::ChildUserNotFound) => Failure::Hinted(
            Box::new(Failure::Sdk(Error::ChildUserNotFound)),
            format!(
                "hint: the demo's sub-accounts are: {}",
                polyv_mock::DEMO_SUB_ACCOUNTS.join(", ")
            ),
        ),
        other => other,
    })?;
    if progress.enabled() {
        let checked = server.requests().len();
        progress.note(&format!(
            "demo: the mock checked {checked} signed request{}. With your own account:\n  \
             export POLYV_USER_ID=... POLYV_SECRET_KEY=...\n  \
             polyv videos by-uploader --email you@example.com --all",
            if checked == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}
