//! The VOD commands beyond the video listing: `videos get|plays|update|
//! delete|move`, `categories tree|add|rename|delete`, `account usage`,
//! `stats views`.
//!
//! Each command builds its typed request(s) from polyv-core (which checks
//! the input before anything is sent), then either prints them
//! (`--dry-run`) or sends them with `Client::call` and writes what came
//! back through the one generic renderer, [`Records`].

use std::collections::HashSet;
use std::io::{self, BufRead, BufWriter, IsTerminal, StdoutLock, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use polyv_blocking::Client;
use polyv_core::account::AccountUsage;
use polyv_core::categories::{
    AddCategory, Category, CategoryTree, DeleteCategory, MoveVideos, ROOT_CATEGORY, RenameCategory,
    walk,
};
use polyv_core::stats::ViewLog;
use polyv_core::videos::{
    DeleteMode, DeleteVideo, DeleteVideos, GetVideo, PlayTimes, UpdateVideo, merge_play_counts,
};
use polyv_core::{Credentials, Endpoint, redact_signed};
#[cfg(feature = "mock")]
use polyv_mock::{DEMO_USER_ID, MockServer};
use serde::Serialize;
use serde_json::json;

use crate::cli::{
    AccountCommand, AddArgs, CategoriesCommand, ConfirmArgs, DeleteArgs, DeleteCategoryArgs,
    Format, GetArgs, GlobalArgs, MoveArgs, OutputArgs, PlaysArgs, RenameArgs, StatsCommand,
    TreeArgs, UpdateArgs, UsageArgs, VideosCommand, ViewsArgs,
};
use crate::fail::{Failure, printable};
use crate::progress::Progress;
use crate::records::Records;
use crate::render::{display_width, push_cell};
#[cfg(feature = "mock")]
use crate::run::{MOCK_VIDEOS, demo_credentials, start_mock};
use crate::run::{base_url, by_uploader, client, config, default_format, output, table_width};

/// Rows of a view log written (and flushed) at a time.
const VIEW_LOG_CHUNK: usize = 500;

/// `polyv videos ...`
pub(crate) fn videos(global: &GlobalArgs, command: VideosCommand) -> Result<(), Failure> {
    match command {
        VideosCommand::ByUploader(args) => by_uploader(global, &args),
        VideosCommand::Get(args) => get(global, &args),
        VideosCommand::Plays(args) => plays(global, &args),
        VideosCommand::Update(args) => update(global, &args),
        VideosCommand::Delete(args) => delete(global, &args),
        VideosCommand::Move(args) => move_videos(global, &args),
        VideosCommand::Upload(args) => crate::upload::upload(global, &args),
        VideosCommand::FetchUrl(args) => crate::upload::fetch_url(global, &args),
    }
}

/// `polyv categories ...`
pub(crate) fn categories(global: &GlobalArgs, command: CategoriesCommand) -> Result<(), Failure> {
    match command {
        CategoriesCommand::Tree(args) => tree(global, &args),
        CategoriesCommand::Add(args) => add(global, &args),
        CategoriesCommand::Rename(args) => rename(global, &args),
        CategoriesCommand::Delete(args) => delete_category(global, &args),
    }
}

/// `polyv account ...`
pub(crate) fn account(global: &GlobalArgs, command: AccountCommand) -> Result<(), Failure> {
    match command {
        AccountCommand::Usage(args) => usage(global, &args),
    }
}

/// `polyv stats ...`
pub(crate) fn stats(global: &GlobalArgs, command: StatsCommand) -> Result<(), Failure> {
    match command {
        StatsCommand::Views(args) => views(global, &args),
    }
}

/// A client for the command, and the in-process mock it talks to with
/// `--mock` (kept alive as long as the client).
pub(crate) struct Session {
    pub(crate) client: Client,
    #[cfg(feature = "mock")]
    _mock: Option<MockServer>,
}

pub(crate) fn session(global: &GlobalArgs) -> Result<Session, Failure> {
    #[cfg(feature = "mock")]
    if global.mock {
        let server = start_mock(MOCK_VIDEOS)?;
        let client = client(
            global,
            config(global, demo_credentials()?, Some(&server.base_url()))?,
        )?;
        Progress::new().note(&format!(
            "mock: an in-process Polyv mock at {} serves the demo account {DEMO_USER_ID}",
            server.base_url()
        ));
        return Ok(Session {
            client,
            _mock: Some(server),
        });
    }
    let credentials = Credentials::from_env()?;
    let client = client(global, config(global, credentials, base_url(global))?)?;
    Ok(Session {
        client,
        #[cfg(feature = "mock")]
        _mock: None,
    })
}

pub(crate) type Stdout = BufWriter<StdoutLock<'static>>;

pub(crate) fn stdout() -> Stdout {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

fn format(args: &OutputArgs) -> Format {
    args.format.unwrap_or_else(default_format)
}

/// Writes `records` and ends the output.
fn print<T: Serialize>(args: &OutputArgs, records: &[T]) -> Result<(), Failure> {
    let mut out = Records::new(stdout(), format(args), table_width());
    output(out.batch(records))?;
    output(out.finish())
}

/// Writes one record: on a table, as `FIELD  VALUE` lines.
fn print_one<T: Serialize>(args: &OutputArgs, record: &T) -> Result<(), Failure> {
    let mut out = Records::single(stdout(), format(args), table_width());
    output(out.batch(std::slice::from_ref(record)))?;
    output(out.finish())
}

/// A request as `--dry-run` shows it.
#[derive(Debug, Serialize)]
struct DryRun {
    method: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

/// `--dry-run`: each request signed as it would be sent now, printed with
/// the sign cut to 8 characters; nothing is sent. A table (the default on
/// a terminal) is `METHOD URL` lines, the form body indented below; the
/// other formats give `{method, url, body}` records.
fn dry_run<E: Endpoint>(
    session: &Session,
    args: &OutputArgs,
    requests: &[E],
) -> Result<(), Failure> {
    show_requests(&session.client, format(args), requests)
}

/// [`dry_run`] for any client and format (`videos by-uploader --dry-run`
/// too).
pub(crate) fn show_requests<E: Endpoint>(
    client: &Client,
    format: Format,
    requests: &[E],
) -> Result<(), Failure> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut shown = Vec::with_capacity(requests.len());
    for request in requests {
        let prepared = client.config().prepare(request, now_ms)?;
        let body = (!prepared.body().is_empty())
            .then(|| redact_signed(&String::from_utf8_lossy(prepared.body())));
        shown.push(DryRun {
            method: prepared.method().to_string(),
            url: redact_signed(&prepared.uri().to_string()),
            body,
        });
    }
    if format != Format::Table {
        let mut out = Records::new(stdout(), format, table_width());
        output(out.batch(&shown))?;
        return output(out.finish());
    }
    let mut text = String::new();
    for request in &shown {
        text.push_str(&format!("{} {}\n", request.method, request.url));
        if let Some(body) = &request.body {
            text.push_str(&format!("  {body}\n"));
        }
    }
    let mut out = stdout();
    output(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// Destructive or mass-changing commands go ahead with `--yes`; without it,
/// on a terminal they ask, and otherwise they stop with exit status 2,
/// having sent nothing.
fn confirm(confirm: &ConfirmArgs, what: &str) -> Result<(), Failure> {
    ask(
        confirm.yes,
        io::stdin().is_terminal(),
        &mut io::stdin().lock(),
        &mut io::stderr().lock(),
        what,
    )
}

/// [`confirm`] with its terminal handed in: `interactive` when stdin is a
/// terminal, the answer read from `answer`, the question written to
/// `question`.
fn ask(
    yes: bool,
    interactive: bool,
    answer: &mut impl BufRead,
    question: &mut impl Write,
    what: &str,
) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !interactive {
        return Err(Failure::Usage {
            error: format!("not confirmed: this would {what}; nothing was sent"),
            hint: "pass --yes to confirm (stdin is not a terminal, so polyv cannot ask)".into(),
        });
    }
    let _ = write!(question, "This will {what}. Go ahead? [y/N] ");
    let _ = question.flush();
    let mut line = String::new();
    let read = answer.read_line(&mut line);
    match (read, line.trim().to_ascii_lowercase().as_str()) {
        (Ok(_), "y" | "yes") => Ok(()),
        _ => Err(Failure::Usage {
            error: "not confirmed; nothing was sent".into(),
            hint: "answer y, or pass --yes to skip the question".into(),
        }),
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `polyv videos get VID`.
fn get(global: &GlobalArgs, args: &GetArgs) -> Result<(), Failure> {
    let request = GetVideo::new(args.vid.as_str())?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    let detail = session.client.call(&request)?;
    print_one(&args.output, &detail)
}

/// `polyv videos plays VID...`: batches of 100, merged in the caller's
/// order; a vid the server did not answer for gets a warning.
fn plays(global: &GlobalArgs, args: &PlaysArgs) -> Result<(), Failure> {
    let batches = PlayTimes::batches(&args.vids, args.realtime)?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &batches);
    }
    let mut answers = Vec::with_capacity(batches.len());
    for batch in &batches {
        answers.push(session.client.call(batch)?);
    }
    let counts = merge_play_counts(&args.vids, answers);
    let answered: HashSet<&str> = counts.iter().map(|c| c.vid.as_str()).collect();
    let mut warned = HashSet::new();
    let mut stderr = io::stderr().lock();
    for vid in &args.vids {
        if !answered.contains(vid.as_str()) && warned.insert(vid.as_str()) {
            let _ = writeln!(
                stderr,
                "warning: no play count for {}: the server did not answer for it (no such video?)",
                printable(vid)
            );
        }
    }
    drop(stderr);
    print(&args.output, &counts)
}

/// `polyv videos update VID ...`: prints the video as the server echoes it,
/// or, when the answer holds no readable video, what was sent.
fn update(global: &GlobalArgs, args: &UpdateArgs) -> Result<(), Failure> {
    let mut builder = UpdateVideo::builder(args.vid.as_str());
    if let Some(title) = &args.title {
        builder = builder.title(title.as_str());
    }
    if let Some(tags) = &args.tag {
        builder = builder.tags(tags.split(','));
    }
    if let Some(description) = &args.description {
        builder = builder.description(description.as_str());
    }
    if let Some(url) = &args.publish_url {
        builder = builder.publish_url(url.as_str());
    }
    let request = builder.build()?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    match session.client.call(&request)? {
        Some(detail) => print_one(&args.output, &detail),
        None => {
            let _ = writeln!(
                io::stderr().lock(),
                "note: the update was accepted; the answer held no readable video, so what was sent is shown"
            );
            let sent = Updated {
                vid: request.vid(),
                title: request.title(),
                tag: request.tag(),
                describ: request.description(),
                publish_url: request.publish_url(),
            };
            print_one(&args.output, &sent)
        }
    }
}

/// What `videos update` reports when the answer held no readable video:
/// the parameters sent, under the API's names.
#[derive(Debug, Serialize)]
struct Updated<'a> {
    vid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    describ: Option<&'a str>,
    #[serde(rename = "publishUrl", skip_serializing_if = "Option::is_none")]
    publish_url: Option<&'a str>,
}

/// What a delete or move reports per video: the parameters it sent, under
/// the API's names.
#[derive(Debug, Serialize)]
struct Deleted<'a> {
    vid: &'a str,
    #[serde(rename = "deleteType")]
    delete_type: u8,
}

#[derive(Debug, Serialize)]
struct Moved<'a> {
    vid: &'a str,
    cataid: u64,
}

/// `polyv videos delete VID...`: del-video for one, del-videos in batches
/// of 500 for more; one `{vid, deleteType}` record per video deleted,
/// written after each batch succeeds.
fn delete(global: &GlobalArgs, args: &DeleteArgs) -> Result<(), Failure> {
    let mode = if args.permanent {
        DeleteMode::Permanent
    } else {
        DeleteMode::RecycleBin
    };
    let session = session(global)?;
    let where_to = if args.permanent {
        "permanently"
    } else {
        "to the recycle bin"
    };
    if let [vid] = args.vids.as_slice() {
        let request = DeleteVideo::new(vid.as_str())?.mode(mode);
        if args.output.dry_run {
            return dry_run(&session, &args.output, &[request]);
        }
        confirm(
            &args.confirm,
            &format!("delete the video {} {where_to}", printable(vid)),
        )?;
        session.client.call(&request)?;
        return print(
            &args.output,
            &[Deleted {
                vid: request.vid(),
                delete_type: mode.delete_type(),
            }],
        );
    }
    let user_id = session.client.config().credentials().user_id().clone();
    let batches: Vec<DeleteVideos> = DeleteVideos::in_batches(&user_id, &args.vids)?
        .into_iter()
        .map(|batch| batch.mode(mode))
        .collect();
    if args.output.dry_run {
        return dry_run(&session, &args.output, &batches);
    }
    let count: usize = batches.iter().map(DeleteVideos::len).sum();
    confirm(
        &args.confirm,
        &format!(
            "delete {} {where_to} ({})",
            plural(count, "video"),
            plural(batches.len(), "request")
        ),
    )?;
    let mut out = Records::new(stdout(), format(&args.output), table_width());
    for batch in &batches {
        session.client.call(batch)?;
        let done: Vec<Deleted<'_>> = batch
            .vids()
            .map(|vid| Deleted {
                vid,
                delete_type: mode.delete_type(),
            })
            .collect();
        output(out.batch(&done))?;
    }
    output(out.finish())
}

/// `polyv videos move VID... --to CATAID`: one changeCata request; one
/// `{vid, cataid}` record per video moved.
fn move_videos(global: &GlobalArgs, args: &MoveArgs) -> Result<(), Failure> {
    let request = MoveVideos::new(&args.vids, args.to)?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    let count = request.vids().count();
    confirm(
        &args.confirm,
        &format!(
            "move {} into category {}",
            plural(count, "video"),
            request.cataid()
        ),
    )?;
    session.client.call(&request)?;
    let moved: Vec<Moved<'_>> = request
        .vids()
        .map(|vid| Moved {
            vid,
            cataid: request.cataid(),
        })
        .collect();
    print(&args.output, &moved)
}

/// `polyv categories tree [--cataid ID]`: indented on a table, one
/// category per record (its `nodes` left out) in the other formats, depth
/// first, a parent before its children.
fn tree(global: &GlobalArgs, args: &TreeArgs) -> Result<(), Failure> {
    let request = match args.cataid {
        Some(cataid) => CategoryTree::subtree(cataid)?,
        None => CategoryTree::new(),
    };
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    let roots = session.client.call(&request)?;
    if format(&args.output) == Format::Table {
        return write_tree(&roots, table_width());
    }
    let nodes: Vec<Category> = walk(&roots)
        .map(|(_, category)| {
            let mut node = category.clone();
            node.children = Vec::new();
            node
        })
        .collect();
    print(&args.output, &nodes)
}

/// The tree for people: `CATAID  VIDEOS  NAME`, the name indented two
/// columns per level and cut to the width; ids and counts never cut.
fn write_tree(roots: &[Category], width: usize) -> Result<(), Failure> {
    let digits = |n: u64| n.checked_ilog10().map_or(1, |d| d as usize + 1);
    let id_width = walk(roots)
        .map(|(_, c)| digits(c.cataid))
        .max()
        .unwrap_or(0)
        .max("CATAID".len());
    let count_width = walk(roots)
        .map(|(_, c)| digits(c.videos))
        .max()
        .unwrap_or(0)
        .max("VIDEOS".len());
    let name_width = width
        .saturating_sub(id_width + count_width + 2 * crate::render::GAP)
        .max(10);
    let mut text = String::new();
    let mut line = String::new();
    push_cell(&mut line, "CATAID", id_width, false, false);
    push_cell(&mut line, "VIDEOS", count_width, true, false);
    line.push_str("NAME");
    text.push_str(&line);
    text.push('\n');
    for (depth, category) in walk(roots) {
        let mut line = String::new();
        push_cell(
            &mut line,
            &category.cataid.to_string(),
            id_width,
            false,
            false,
        );
        push_cell(
            &mut line,
            &category.videos.to_string(),
            count_width,
            true,
            false,
        );
        let indent = "  ".repeat(depth.min(name_width / 4));
        let room = name_width.saturating_sub(display_width(&indent)).max(4);
        let mut name = String::new();
        push_cell(&mut name, &category.name, room, false, true);
        line.push_str(&indent);
        line.push_str(name.trim_end());
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let mut out = stdout();
    output(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// `polyv categories add NAME [--parent ID]`: prints `{cataid, catatree}`.
fn add(global: &GlobalArgs, args: &AddArgs) -> Result<(), Failure> {
    let request = AddCategory::new(args.name.as_str(), args.parent.unwrap_or(ROOT_CATEGORY))?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    let created = session.client.call(&request)?;
    print_one(&args.output, &created)
}

/// `polyv categories rename CATAID NAME`: prints `{cataid, cataname}`.
fn rename(global: &GlobalArgs, args: &RenameArgs) -> Result<(), Failure> {
    let request = RenameCategory::new(args.cataid, args.name.as_str())?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    session.client.call(&request)?;
    print_one(
        &args.output,
        &json!({"cataid": request.cataid(), "cataname": request.name()}),
    )
}

/// `polyv categories delete CATAID`: prints `{cataid}`.
fn delete_category(global: &GlobalArgs, args: &DeleteCategoryArgs) -> Result<(), Failure> {
    let request = DeleteCategory::new(args.cataid)?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    confirm(
        &args.confirm,
        &format!("delete the category {}", request.cataid()),
    )?;
    session.client.call(&request)?;
    print_one(&args.output, &json!({"cataid": request.cataid()}))
}

/// `polyv account usage [--date YYYY-MM-DD]`.
fn usage(global: &GlobalArgs, args: &UsageArgs) -> Result<(), Failure> {
    let request = match args.date {
        Some(day) => AccountUsage::on(day),
        None => AccountUsage::new(),
    };
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    let usage = session.client.call(&request)?;
    print_one(&args.output, &usage)
}

/// `polyv stats views --day D [--vid VID]`: the rows written as they are
/// rendered, a chunk at a time.
fn views(global: &GlobalArgs, args: &ViewsArgs) -> Result<(), Failure> {
    let mut builder = ViewLog::builder(args.day);
    if let Some(vid) = &args.vid {
        builder = builder.vid(vid.as_str());
    }
    let request = builder.build()?;
    let session = session(global)?;
    if args.output.dry_run {
        return dry_run(&session, &args.output, &[request]);
    }
    let rows = session.client.call(&request)?;
    let mut out = Records::new(stdout(), format(&args.output), table_width());
    for chunk in rows.chunks(VIEW_LOG_CHUNK) {
        output(out.batch(chunk))?;
    }
    output(out.finish())?;
    let mut progress = Progress::new();
    progress.note(&format!("{} on {}", plural(rows.len(), "play"), args.day));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(yes: bool, interactive: bool, typed: &str) -> (Result<(), Failure>, String) {
        let mut asked = Vec::new();
        let result = ask(
            yes,
            interactive,
            &mut typed.as_bytes(),
            &mut asked,
            "delete 2 videos",
        );
        (result, String::from_utf8(asked).unwrap())
    }

    #[test]
    fn a_terminal_is_asked_and_only_yes_goes_ahead() {
        for typed in ["y\n", "Y\n", "yes\n", " YES \n"] {
            let (result, asked) = answer(false, true, typed);
            assert!(result.is_ok(), "{typed:?}");
            assert_eq!(asked, "This will delete 2 videos. Go ahead? [y/N] ");
        }
        for typed in ["\n", "n\n", "no\n", "", "yess\n"] {
            let (result, _) = answer(false, true, typed);
            assert!(
                matches!(result, Err(Failure::Usage { ref hint, .. }) if hint.contains("--yes")),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn without_a_terminal_only_yes_goes_ahead_and_nothing_is_asked() {
        let (result, asked) = answer(false, false, "y\n");
        assert!(
            matches!(result, Err(Failure::Usage { ref error, ref hint })
                if error.contains("delete 2 videos") && hint.contains("--yes")),
            "{result:?}"
        );
        assert!(asked.is_empty());
        let (result, asked) = answer(true, false, "");
        assert!(result.is_ok());
        assert!(asked.is_empty());
        let (result, asked) = answer(true, true, "");
        assert!(result.is_ok());
        assert!(asked.is_empty());
    }
}
