//! The subcommands: flags in, SDK calls, rendered results out.

use std::env::VarError;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::Arc;

use clap::CommandFactory as _;
use polyv_blocking::Client;
use polyv_core::{
    Config, Credentials, ENV_SECRET_KEY, Error, GetByUploader, RetryPolicy, SecretKey,
    canonical_string,
};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, MockServer};

use crate::cli::{
    ByUploaderArgs, Cli, Command, DemoArgs, Format, GlobalArgs, SignArgs, VideosCommand,
};
use crate::fail::Failure;
use crate::progress::{self, Progress};
use crate::render::Renderer;

/// Videos in the catalogue of the mock that `--mock` starts.
const MOCK_VIDEOS: usize = 500;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    let Cli { global, command } = cli;
    match command {
        Command::Videos(VideosCommand::ByUploader(args)) => by_uploader(&global, &args),
        Command::Sign(args) => sign(&args),
        Command::Demo(args) => demo(&global, &args),
        Command::Completions { shell } => {
            // Generated into memory first: the generator panics on write errors.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "polyv", &mut script);
            write_stdout(&script)
        }
    }
}

/// `polyv videos by-uploader`.
fn by_uploader(global: &GlobalArgs, args: &ByUploaderArgs) -> Result<(), Failure> {
    let query = query(args)?;
    let format = args.format.unwrap_or_else(default_format);
    let mut progress = Progress::new();
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
        list(&client, &query, walk(args), format, &mut progress)
    } else {
        let credentials = Credentials::from_env()?;
        let client = client(global, config(global, credentials, base_url(global))?)?;
        list(&client, &query, walk(args), format, &mut progress)
    }
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
    if let Some(order) = args.order {
        builder = builder.order(order.into());
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
fn default_format() -> Format {
    if io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    }
}

fn config(
    global: &GlobalArgs,
    credentials: Credentials,
    base_url: Option<&str>,
) -> Result<Config, Error> {
    let mut config =
        Config::new(credentials).with_retry(RetryPolicy::default().with_retries(global.retries));
    if let Some(timeout) = global.timeout {
        config = config.with_timeout(timeout);
    }
    if let Some(base_url) = base_url {
        config = config.with_base_url(base_url)?;
    }
    Ok(config)
}

/// A client for `config`; with `--rate-limit-url` (or `POLYV_RATE_LIMIT_URL`)
/// its rate limit is the fleet's, shared through that Redis.
fn client(global: &GlobalArgs, config: Config) -> Result<Client, Error> {
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
fn base_url(global: &GlobalArgs) -> Option<&str> {
    global.base_url.as_deref().filter(|url| !url.is_empty())
}

fn demo_credentials() -> Result<Credentials, Error> {
    Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY)
}

fn start_mock(videos: usize) -> Result<MockServer, Failure> {
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
/// each page to stdout as it arrives and flushing it.
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
    );
    let Some(fetch_ahead) = walk else {
        let page = client.get_by_uploader(query)?;
        output(out.page(&page.items))?;
        output(out.finish())?;
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
        return Ok(());
    };

    let mut pages = client.pages(query).fetch_ahead(fetch_ahead);
    progress.update(0, None, 0);
    // Not a `for` loop: the progress asks the iterator between pages.
    #[allow(clippy::while_let_on_iterator)]
    while let Some(page) = pages.next() {
        progress.clear();
        let page = page?;
        output(out.page(&page.items))?;
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
    Ok(())
}

/// A closed stdout (`| head`) ends the command quietly; other write errors
/// are failures.
fn output(result: io::Result<()>) -> Result<(), Failure> {
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

/// `polyv sign`: the SDK's own signer and canonical string.
fn sign(args: &SignArgs) -> Result<(), Failure> {
    let secret = match std::env::var(ENV_SECRET_KEY) {
        Ok(secret) if !secret.is_empty() => SecretKey::new(secret),
        Err(VarError::NotUnicode(_)) => {
            return Err(Error::InvalidInput(format!("{ENV_SECRET_KEY} is not valid UTF-8")).into());
        }
        _ => return Err(Error::MissingEnv(ENV_SECRET_KEY).into()),
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
    list(&client, &query, Some(1), format, &mut progress)?;
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
