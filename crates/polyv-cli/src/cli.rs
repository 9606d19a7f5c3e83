//! The command line: every flag, as clap parses it.
//!
//! Nothing here talks to the network; `run` turns these into calls.

use std::time::Duration;

use clap::builder::NonEmptyStringValueParser;
use clap::{
    ArgAction, Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum,
    value_parser,
};
use clap_complete::Shell;
use polyv_core::Order;
use polyv_core::stats::Day;
use polyv_core::videos::MAX_PAGE_SIZE;

const ENV_HELP: &str = "\
Environment:
  POLYV_USER_ID      the account's user id (required for API calls)
  POLYV_SECRET_KEY   the account's secret key (required; never accepted as a flag, never printed)
  POLYV_BASE_URL     the API's base URL (default https://api.polyv.net), like --base-url
  RUST_LOG           a tracing filter that overrides the one -v/-vv pick

Exit status:
  0 success, 1 the API refused the request, 2 bad usage or input (nothing was sent;
  also a delete or move without --yes when stdin is not a terminal),
  3 network or server trouble that the retries did not cure, or --deadline passed,
  4 some records could not be read (the others were written)

No account? `polyv demo` runs against an in-process mock Polyv server.";

/// `polyv`: a command-line client for the Polyv (保利威) video cloud API.
#[derive(Debug, Parser)]
#[command(
    name = "polyv",
    version,
    about = "A command-line client for the Polyv (保利威) video cloud API",
    after_help = ENV_HELP,
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// The API's base URL (a proxy, a mock server) [default: https://api.polyv.net]
    #[arg(long, global = true, env = "POLYV_BASE_URL", value_name = "URL")]
    pub(crate) base_url: Option<String>,

    /// Time allowed for one attempt, from sending to the last byte, in seconds [default: 30]
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_timeout, allow_negative_numbers = true)]
    pub(crate) timeout: Option<Duration>,

    /// Retries after the first attempt, for network errors, 429 and 5xx
    #[arg(
        long,
        global = true,
        value_name = "N",
        default_value_t = 3,
        allow_negative_numbers = true,
        value_parser = value_parser!(u32).range(0..=100)
    )]
    pub(crate) retries: u32,

    /// Time allowed for the whole command, retries and every page included,
    /// in seconds; past it, polyv stops with exit status 3 [default: none]
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_timeout, allow_negative_numbers = true)]
    pub(crate) deadline: Option<Duration>,

    /// Largest response body accepted, in bytes; K, M or G (binary) may
    /// follow the number, e.g. 32M [default: 8M]
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_size, allow_negative_numbers = true)]
    pub(crate) max_body: Option<u64>,
    /// Share one rate limit with every process using this Redis (a fleet
    /// behind one IP; see docs/fleet.md), e.g. redis://127.0.0.1:6379/
    #[arg(long, global = true, env = "POLYV_RATE_LIMIT_URL", value_name = "URL")]
    pub(crate) rate_limit_url: Option<String>,

    /// Log to stderr: -v for requests and retries, -vv for everything the SDK traces
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Run against an in-process mock Polyv server with the demo account
    /// (ignores POLYV_USER_ID, POLYV_SECRET_KEY and --base-url); `sign`
    /// signs with the demo account's secret key
    #[cfg(feature = "mock")]
    #[arg(long, global = true)]
    pub(crate) mock: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Videos: list, read, count plays, update, delete, move
    #[command(subcommand)]
    Videos(VideosCommand),

    /// Categories: the tree, add, rename, delete
    #[command(subcommand)]
    Categories(CategoriesCommand),

    /// The account: space and traffic
    #[command(subcommand)]
    Account(AccountCommand),

    /// Statistics: a day's view log
    #[command(subcommand)]
    Stats(StatsCommand),

    /// Sign KEY=VALUE parameters with POLYV_SECRET_KEY (with --mock: the
    /// demo account's key) and print the sign
    Sign(SignArgs),

    /// No account needed: start a mock Polyv server in-process and list a
    /// sub-account's videos from it, every page, signed and verified for real
    #[cfg(feature = "mock")]
    Demo(DemoArgs),

    /// Print shell completions
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// `polyv videos ...`
#[derive(Debug, Subcommand)]
pub(crate) enum VideosCommand {
    /// The videos the sub-accounts uploaded (GET /v2/video/{userid}/get-by-uploader)
    ByUploader(ByUploaderArgs),

    /// One video's detail (GET /v2/video/{userid}/get-video-msg)
    Get(GetArgs),

    /// Play counts, {vid, times} per vid in the order given; unknown vids
    /// are left out with a warning (GET /v2/data/{userid}/play-times, 100
    /// vids a request)
    Plays(PlaysArgs),

    /// Change a video's title, tags, description or publish URL; prints the
    /// video as the server echoes it (POST /v2/video/{userid}/video-info)
    Update(UpdateArgs),

    /// Delete videos, to the recycle bin unless --permanent: del-video for
    /// one, del-videos in batches of 500 for more. Asks on a terminal,
    /// otherwise needs --yes
    Delete(DeleteArgs),

    /// Move videos into a category (POST /v2/video/{userid}/changeCata).
    /// Asks on a terminal, otherwise needs --yes
    Move(MoveArgs),

    /// Upload video files, each as a new video; prints {vid, file, bytes,
    /// seconds} per file. Resumable: an interrupted upload (Ctrl-C, a lost
    /// connection) continues where it stopped when the same command runs
    /// again, with the same vid (state in $XDG_CACHE_HOME/polyv/uploads)
    Upload(UploadArgs),

    /// Ask Polyv to fetch videos from URLs (POST
    /// /v2/video/grab/{userid}/upload/multi, 100 URLs a call); Polyv fetches
    /// them later. Prints {url, accepted} per URL
    FetchUrl(FetchUrlArgs),
}

/// `polyv categories ...`
#[derive(Debug, Subcommand)]
pub(crate) enum CategoriesCommand {
    /// The category tree: indented in a table, one category per line in
    /// jsonl (POST /v2/video/{userid}/cataJson)
    Tree(TreeArgs),

    /// Create a category; prints its cataid and catatree
    /// (POST /v2/video/{userid}/addCata; never resent after a failure
    /// that may have reached the server)
    Add(AddArgs),

    /// Rename a category (POST /v2/video/{userid}/updateCata)
    Rename(RenameArgs),

    /// Delete a category (POST /v2/video/{userid}/deleteCata). Asks on a
    /// terminal, otherwise needs --yes
    Delete(DeleteCategoryArgs),
}

/// `polyv account ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Space and traffic, total and used, in bytes (POST /v2/user/{userid}/main)
    Usage(UsageArgs),
}

/// `polyv stats ...`
#[derive(Debug, Subcommand)]
pub(crate) enum StatsCommand {
    /// One day's view log, a row per play (GET /v2/data/{userid}/viewlog)
    Views(ViewsArgs),
}

/// The output flags every command but `by-uploader` takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct OutputArgs {
    /// Output format [default: table when stdout is a terminal, jsonl otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<Format>,

    /// Print the request(s) that would be sent (method, URL, form body; the
    /// sign cut to 8 characters) and send nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `--yes`, for the commands that delete or move.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConfirmArgs {
    /// Do it without asking (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

/// `polyv videos get`
#[derive(Debug, Clone, Args)]
pub(crate) struct GetArgs {
    /// The video id
    #[arg(value_name = "VID")]
    pub(crate) vid: String,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv videos plays`
#[derive(Debug, Clone, Args)]
pub(crate) struct PlaysArgs {
    /// The video ids
    #[arg(value_name = "VID", required = true)]
    pub(crate) vids: Vec<String>,
    /// Real-time counts (realTime=1) instead of the periodically updated ones
    #[arg(long)]
    pub(crate) realtime: bool,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv videos update`
#[derive(Debug, Clone, Args)]
pub(crate) struct UpdateArgs {
    /// The video id
    #[arg(value_name = "VID")]
    pub(crate) vid: String,
    /// The new title (title)
    #[arg(long, value_name = "T")]
    pub(crate) title: Option<String>,
    /// The new tags, comma-separated (tag)
    #[arg(long, value_name = "T,T")]
    pub(crate) tag: Option<String>,
    /// The new description (describ)
    #[arg(long, value_name = "D")]
    pub(crate) description: Option<String>,
    /// The new publish URL, http(s):// (publishUrl)
    #[arg(long, value_name = "U")]
    pub(crate) publish_url: Option<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv videos delete`
#[derive(Debug, Clone, Args)]
pub(crate) struct DeleteArgs {
    /// The video ids
    #[arg(value_name = "VID", required = true)]
    pub(crate) vids: Vec<String>,
    /// Delete for good (deleteType=2) instead of to the recycle bin (deleteType=1)
    #[arg(long)]
    pub(crate) permanent: bool,
    #[command(flatten)]
    pub(crate) confirm: ConfirmArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv videos move`
#[derive(Debug, Clone, Args)]
pub(crate) struct MoveArgs {
    /// The video ids
    #[arg(value_name = "VID", required = true)]
    pub(crate) vids: Vec<String>,
    /// The category to move them into (cataid)
    #[arg(
        long,
        value_name = "CATAID",
        required = true,
        allow_negative_numbers = true
    )]
    pub(crate) to: u64,
    #[command(flatten)]
    pub(crate) confirm: ConfirmArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv videos upload`
#[derive(Debug, Clone, Args)]
pub(crate) struct UploadArgs {
    /// The files
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<std::path::PathBuf>,
    /// The title [default: the file's name without extension]
    #[arg(long, value_name = "T")]
    pub(crate) title: Option<String>,
    /// The description (describ)
    #[arg(long, value_name = "D")]
    pub(crate) description: Option<String>,
    /// Tags, comma-separated (tag)
    #[arg(long, value_name = "T,T")]
    pub(crate) tag: Option<String>,
    /// The category to upload into (cataid)
    #[arg(long, value_name = "ID")]
    pub(crate) cataid: Option<u64>,
    /// Parts in flight at once, 1-64
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = value_parser!(u16).range(1..=64))]
    pub(crate) parallel: u16,
    /// Part size in bytes, at least 100K; K, M or G (binary) may follow
    /// [default: 8M, more for files over 78G]
    #[arg(long, value_name = "SIZE", value_parser = parse_size, allow_negative_numbers = true)]
    pub(crate) part_size: Option<u64>,
    /// Forget a saved upload of these files and upload each as a new video
    /// (when the saved one cannot be resumed, e.g. its video was deleted)
    #[arg(long)]
    pub(crate) restart: bool,
    /// Stop after this many parts of this run, as Ctrl-C would (for tests
    /// of resuming)
    #[arg(long, value_name = "N", hide = true)]
    pub(crate) stop_after_parts: Option<u32>,
    #[command(flatten)]
    pub(crate) output: UploadOutputArgs,
}

/// The output flags of `videos upload`.
#[derive(Debug, Clone, Args)]
pub(crate) struct UploadOutputArgs {
    /// Output format [default: table when stdout is a terminal, jsonl otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<Format>,

    /// Print the plan (parts and their sizes per file) and send nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `polyv videos fetch-url`
#[derive(Debug, Clone, Args)]
pub(crate) struct FetchUrlArgs {
    /// The URLs (http or https)
    #[arg(value_name = "URL", required = true)]
    pub(crate) urls: Vec<String>,
    /// The category of the fetched videos (cataid)
    #[arg(long, value_name = "ID")]
    pub(crate) cataid: Option<u64>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv categories tree`
#[derive(Debug, Clone, Args)]
pub(crate) struct TreeArgs {
    /// Only this category and those below it [default: the whole tree]
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub(crate) cataid: Option<u64>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv categories add`
#[derive(Debug, Clone, Args)]
pub(crate) struct AddArgs {
    /// The new category's name, 1-40 characters (cataname)
    #[arg(value_name = "NAME")]
    pub(crate) name: String,
    /// The parent category (parentid) [default: 1, the root]
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub(crate) parent: Option<u64>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv categories rename`
#[derive(Debug, Clone, Args)]
pub(crate) struct RenameArgs {
    /// The category (cataid)
    #[arg(value_name = "CATAID", allow_negative_numbers = true)]
    pub(crate) cataid: u64,
    /// Its new name, 1-40 characters (cataname)
    #[arg(value_name = "NAME")]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv categories delete`
#[derive(Debug, Clone, Args)]
pub(crate) struct DeleteCategoryArgs {
    /// The category (cataid)
    #[arg(value_name = "CATAID", allow_negative_numbers = true)]
    pub(crate) cataid: u64,
    #[command(flatten)]
    pub(crate) confirm: ConfirmArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv account usage`
#[derive(Debug, Clone, Args)]
pub(crate) struct UsageArgs {
    /// As of this date (date) [default: the server's]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub(crate) date: Option<Day>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `polyv stats views`
#[derive(Debug, Clone, Args)]
pub(crate) struct ViewsArgs {
    /// The day (day; sent as yyyyMMdd)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day, required = true)]
    pub(crate) day: Day,
    /// Only this video's plays (vid)
    #[arg(long, value_name = "VID")]
    pub(crate) vid: Option<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// A date, `YYYY-MM-DD` (or `YYYYMMDD`), checked by the core.
fn parse_day(text: &str) -> Result<Day, String> {
    text.parse::<Day>().map_err(|error| match error {
        polyv_core::Error::InvalidInput(message) => message,
        other => other.to_string(),
    })
}

/// `polyv videos by-uploader`: one flag per parameter of the query.
#[derive(Debug, Clone, Args)]
pub(crate) struct ByUploaderArgs {
    /// Only this sub-account's videos (email) [default: every sub-account]
    #[arg(long, value_name = "EMAIL", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) email: Option<String>,

    /// Only this category (cataid) [default: every category]
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub(crate) cataid: Option<u64>,

    /// Include the sub-categories of --cataid (containSubCata=1)
    #[arg(long)]
    pub(crate) subcategories: bool,

    /// Only published videos (published=1)
    #[arg(long)]
    pub(crate) published: bool,

    /// Result order (orderType 1-4) [default: ptime-desc for one page; ptime-asc with --all,
    /// so that videos uploaded during the walk land at its end instead of shifting every page]
    #[arg(long, value_enum, value_name = "ORDER")]
    pub(crate) order: Option<OrderArg>,

    /// Videos per page, 1-1000 (pageSize) [server default: 20]
    #[arg(long, value_name = "N", value_parser = page_size_parser(), allow_negative_numbers = true)]
    pub(crate) page_size: Option<u32>,

    /// The page to fetch, from 1 (page)
    #[arg(long, value_name = "N", value_parser = value_parser!(u32).range(1..), conflicts_with = "all", allow_negative_numbers = true)]
    pub(crate) page: Option<u32>,

    /// Fetch every page, writing each as it arrives; oldest first unless --order says otherwise.
    /// No video is written twice; a listing that changes during the walk gets a warning, and a
    /// record that cannot be read gets a warning line and exit status 4
    #[arg(long)]
    pub(crate) all: bool,

    /// With --all: keep up to N page requests in flight (pages are still
    /// written in order; the rate limit still applies) [default: 1]
    #[arg(long, value_name = "N", requires = "all", value_parser = value_parser!(u32).range(1..=64), allow_negative_numbers = true)]
    pub(crate) fetch_ahead: Option<u32>,

    /// Output format [default: table when stdout is a terminal, jsonl otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<Format>,

    /// Print the request for the first page (method and URL, the sign cut to
    /// 8 characters) and send nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `polyv sign`
#[derive(Debug, Clone, Args)]
pub(crate) struct SignArgs {
    /// Print the canonical string (secret masked) before the sign
    #[arg(long)]
    pub(crate) explain: bool,

    /// The parameters, as sent (raw, unencoded), e.g. format=json ptime=1492591990000
    #[arg(value_name = "KEY=VALUE", required = true, value_parser = parse_pair)]
    pub(crate) params: Vec<(String, String)>,
}

/// `polyv demo`
#[cfg(feature = "mock")]
#[derive(Debug, Clone, Args)]
pub(crate) struct DemoArgs {
    /// The demo sub-account whose videos are listed
    #[arg(long, value_name = "EMAIL", default_value = polyv_mock::DEMO_SUB_ACCOUNTS[0])]
    pub(crate) email: String,

    /// Videos in the mock's generated catalogue
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = value_parser!(u32).range(0..=1_000_000), allow_negative_numbers = true)]
    pub(crate) videos: u32,

    /// Videos per page
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = page_size_parser(), allow_negative_numbers = true)]
    pub(crate) page_size: u32,

    /// Result order
    #[arg(long, value_enum, value_name = "ORDER", default_value = "ptime-desc")]
    pub(crate) order: OrderArg,

    /// Output format [default: table when stdout is a terminal, jsonl otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<Format>,
}

/// `--order`: the four `orderType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OrderArg {
    /// Upload time, oldest first (orderType=1)
    PtimeAsc,
    /// Upload time, newest first (orderType=2)
    PtimeDesc,
    /// Play count, least played first (orderType=3)
    TimesAsc,
    /// Play count, most played first (orderType=4)
    TimesDesc,
}

impl From<OrderArg> for Order {
    fn from(order: OrderArg) -> Self {
        match order {
            OrderArg::PtimeAsc => Order::PtimeAsc,
            OrderArg::PtimeDesc => Order::PtimeDesc,
            OrderArg::TimesAsc => Order::TimesAsc,
            OrderArg::TimesDesc => Order::TimesDesc,
        }
    }
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people, fitted to the terminal
    Table,
    /// One JSON array of records (the API's own field names and values)
    Json,
    /// One JSON object per line (the API's own field names and values)
    Jsonl,
    /// A header row, then one row per record (RFC 4180)
    Csv,
}

/// The global options that only matter when requests are sent.
const NETWORK_OPTIONS: [&str; 5] = ["base_url", "timeout", "retries", "deadline", "max_body"];

/// The command line, with the global options hidden from the help (and the
/// completions) of the subcommands where they do nothing: the network
/// options in `sign` and `completions`, `-v` and `--mock` in `completions`,
/// and `--base-url` and `--mock` in `demo`, which always starts its own
/// mock. They are still accepted there.
pub(crate) fn command() -> clap::Command {
    let mut command = Cli::command();
    // A global option is copied into each subcommand when the command is
    // built, unless the subcommand already has an argument of that id: so a
    // hidden copy, given first, takes its place there.
    let globals: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let hide = |names: &'static [&'static str]| {
        let globals = &globals;
        move |mut sub: clap::Command| {
            for arg in globals {
                if names.contains(&arg.get_id().as_str()) {
                    sub = sub.arg(arg.clone().hide(true));
                }
            }
            sub
        }
    };
    const COMPLETIONS: [&str; 7] = [
        "base_url", "timeout", "retries", "deadline", "max_body", "verbose", "mock",
    ];
    command = command
        .mut_subcommand("sign", hide(&NETWORK_OPTIONS))
        .mut_subcommand("completions", hide(&COMPLETIONS));
    if command.find_subcommand("demo").is_some() {
        command = command.mut_subcommand("demo", hide(&["base_url", "mock"]));
    }
    command
}

/// Parses the process's arguments with [`command`].
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    let matches = command().try_get_matches()?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command()))
}

fn page_size_parser() -> clap::builder::RangedI64ValueParser<u32> {
    value_parser!(u32).range(1..=i64::from(MAX_PAGE_SIZE))
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("{text:?}: give a positive number of seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{text:?} seconds is too long"))
}

/// `--max-body`: bytes, optionally followed by K, M or G (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => trimmed.split_at(at),
        None => (trimmed, ""),
    };
    let shift = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => {
            return Err(format!(
                "{text:?} is not a size in bytes (e.g. 65536, 512K, 32M, 1G)"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size in bytes (e.g. 65536, 512K, 32M, 1G)"))?;
    if n == 0 {
        return Err("a size must be at least 1 byte".into());
    }
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some(("", _)) => Err(format!("{text:?} has no name before '='")),
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere() {
        let before =
            Cli::try_parse_from(["polyv", "--retries", "0", "-vv", "videos", "by-uploader"])
                .unwrap();
        let after = Cli::try_parse_from([
            "polyv",
            "videos",
            "by-uploader",
            "--retries",
            "0",
            "-vv",
            "--timeout",
            "1.5",
        ])
        .unwrap();
        assert_eq!(before.global.retries, 0);
        assert_eq!(after.global.retries, 0);
        assert_eq!(before.global.verbose, 2);
        assert_eq!(after.global.verbose, 2);
        assert_eq!(after.global.timeout, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn ranges_and_conflicts_are_usage_errors() {
        for args in [
            &["polyv", "videos", "by-uploader", "--page-size", "0"][..],
            &["polyv", "videos", "by-uploader", "--page-size", "1001"],
            &["polyv", "videos", "by-uploader", "--page", "0"],
            &["polyv", "videos", "by-uploader", "--page", "2", "--all"],
            &["polyv", "videos", "by-uploader", "--order", "newest"],
            &["polyv", "videos", "by-uploader", "--email", ""],
            &["polyv", "videos", "by-uploader", "--timeout", "0"],
            &["polyv", "videos", "by-uploader", "--timeout", "NaN"],
            &["polyv", "sign"],
            &["polyv", "sign", "novalue"],
            &["polyv", "sign", "=x"],
            &["polyv", "sign", "--secret-key", "x", "a=1"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("65536"), Ok(65_536));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("32m"), Ok(32 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("7B"), Ok(7));
        for bad in ["", "0", "-1", "1.5M", "M", "12X", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_hiding_command_still_parses_what_the_derive_does() {
        command().debug_assert();
        let matches = command()
            .try_get_matches_from(["polyv", "sign", "--retries", "0", "a=1"])
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        assert_eq!(cli.global.retries, 0);
    }

    #[test]
    fn pairs_split_at_the_first_equals_sign() {
        assert_eq!(parse_pair("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_pair("email="), Ok(("email".into(), String::new())));
    }
}
