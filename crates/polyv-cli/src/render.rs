//! Writing videos out, page by page, in the four formats.
//!
//! Every format streams: [`Renderer::page`] writes one page's videos and the
//! caller flushes, so nothing but the current page is ever held.

use std::io::{self, Write};

use polyv_core::Video;

use crate::cli::Format;

/// The CSV columns: the API's own field names, in the API's order.
const CSV_HEADER: [&str; 11] = [
    "vid",
    "cataid",
    "title",
    "context",
    "times",
    "firstImage",
    "tag",
    "aacLink",
    "status",
    "uploaderEmail",
    "ptime",
];

/// The table's columns, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Vid,
    Uploaded,
    Status,
    Plays,
    Cataid,
    Uploader,
    Title,
}

/// Terminal columns between two table columns.
pub(crate) const GAP: usize = 2;

/// The title gets at least this many columns before the others give way.
const MIN_TITLE: usize = 20;

/// Table width when stdout is not a terminal and `COLUMNS` is not set.
pub(crate) const PIPE_WIDTH: usize = 160;

/// How the table makes room for the title when the width is short, step by
/// step, in this order, until the title has [`MIN_TITLE`] columns (the order
/// is documented in docs/cli.md): narrow UPLOADER, drop CATAID, narrow
/// STATUS, drop UPLOADER, show UPLOADED as a date only, drop UPLOADED, drop
/// STATUS, drop PLAYS. VID and TITLE always stay.
#[derive(Debug, Clone, Copy)]
enum Step {
    Narrow(Column, usize),
    Drop(Column),
}

const STEPS: [Step; 8] = [
    Step::Narrow(Column::Uploader, 16),
    Step::Drop(Column::Cataid),
    Step::Narrow(Column::Status, 10),
    Step::Drop(Column::Uploader),
    Step::Narrow(Column::Uploaded, 10),
    Step::Drop(Column::Uploaded),
    Step::Drop(Column::Status),
    Step::Drop(Column::Plays),
];

/// The table's columns and their widths for one terminal width. Numbers and
/// video ids are never cut: a value wider than its column (a later page's
/// bigger play count) pushes the rest of its row right instead. Text
/// (status, uploader, title) is cut with `…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    columns: Vec<(Column, usize)>,
}

impl Layout {
    /// The layout for `width` terminal columns, with the number columns as
    /// wide as the widest value of `first_page` (the output is streamed, so
    /// later pages cannot be known).
    pub(crate) fn new(width: usize, first_page: &[Video]) -> Self {
        let digits = |n: u64| n.checked_ilog10().map_or(1, |d| d as usize + 1);
        let plays = first_page
            .iter()
            .map(|v| digits(v.times()))
            .max()
            .unwrap_or(0);
        let cataid = first_page
            .iter()
            .map(|v| digits(v.cataid()))
            .max()
            .unwrap_or(0);
        let mut columns = vec![
            (Column::Vid, 34),
            (Column::Uploaded, 16),
            (Column::Status, 18),
            (Column::Plays, plays.max("PLAYS".len())),
            (Column::Cataid, cataid.max("CATAID".len())),
            (Column::Uploader, 24),
            (Column::Title, 0),
        ];
        let title_room = |columns: &[(Column, usize)]| {
            let used: usize = columns
                .iter()
                .filter(|(c, _)| *c != Column::Title)
                .map(|(_, w)| w + GAP)
                .sum();
            width.saturating_sub(used)
        };
        for step in STEPS {
            if title_room(&columns) >= MIN_TITLE {
                break;
            }
            match step {
                Step::Narrow(column, to) => {
                    for (c, w) in &mut columns {
                        if *c == column {
                            *w = (*w).min(to);
                        }
                    }
                }
                Step::Drop(column) => columns.retain(|(c, _)| *c != column),
            }
        }
        let title = title_room(&columns).max(MIN_TITLE / 2);
        if let Some((_, w)) = columns.iter_mut().find(|(c, _)| *c == Column::Title) {
            *w = title;
        }
        Self { columns }
    }

    /// The header line.
    fn header(&self) -> String {
        let mut line = String::new();
        for &(column, width) in &self.columns {
            let name = match column {
                Column::Vid => "VID",
                Column::Uploaded if width < 16 => "UPLOADED",
                Column::Uploaded => "UPLOADED (UTC)",
                Column::Status => "STATUS",
                Column::Plays => "PLAYS",
                Column::Cataid => "CATAID",
                Column::Uploader => "UPLOADER",
                Column::Title => "TITLE",
            };
            push_cell(&mut line, name, width, column == Column::Plays, true);
        }
        finish_line(line)
    }

    /// One video's line.
    fn row(&self, video: &Video) -> String {
        let mut line = String::with_capacity(160);
        for &(column, width) in &self.columns {
            match column {
                Column::Vid => push_cell(&mut line, video.vid(), width, false, false),
                Column::Uploaded => {
                    let when = utc_date_time(video.ptime().as_millis());
                    let when = if width < 16 {
                        when.split(' ').next().unwrap_or_default().to_owned()
                    } else {
                        when
                    };
                    push_cell(&mut line, &when, width, false, false);
                }
                Column::Status => {
                    let status = match video.status() {
                        polyv_core::VideoStatus::Unknown(code) => format!("unknown ({code})"),
                        known => known.describe().to_owned(),
                    };
                    push_cell(&mut line, &status, width, false, true);
                }
                Column::Plays => {
                    push_cell(&mut line, &video.times().to_string(), width, true, false);
                }
                Column::Cataid => {
                    push_cell(&mut line, &video.cataid().to_string(), width, false, false);
                }
                Column::Uploader => {
                    push_cell(&mut line, video.uploader_email(), width, false, true);
                }
                Column::Title => push_cell(&mut line, video.title(), width, false, true),
            }
        }
        finish_line(line)
    }

    /// The headers of the columns shown, for tests.
    #[cfg(test)]
    fn shown(&self) -> Vec<Column> {
        self.columns.iter().map(|(c, _)| *c).collect()
    }
}

/// A line without trailing spaces, ending in a newline.
fn finish_line(line: String) -> String {
    let mut line = line.trim_end().to_owned();
    line.push('\n');
    line
}

/// Writes videos in one format to `out`.
#[derive(Debug)]
pub(crate) struct Renderer<W: Write> {
    out: W,
    format: Format,
    /// Terminal columns the table must fit in.
    width: usize,
    /// The table's layout, fixed by the first page.
    layout: Option<Layout>,
    started: bool,
    written: u64,
}

impl<W: Write> Renderer<W> {
    /// A renderer; `width` (terminal columns) matters for the table only.
    pub(crate) fn new(out: W, format: Format, width: usize) -> Self {
        Self {
            out,
            format,
            width,
            layout: None,
            started: false,
            written: 0,
        }
    }

    /// Videos written so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Writes what comes before the first video (the JSON `[`, the CSV or
    /// table header). Called when the first page arrives, so a call that fails
    /// at once writes nothing at all; the table's layout is fitted to it.
    fn start(&mut self, first_page: &[Video]) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        match self.format {
            Format::Json => self.out.write_all(b"["),
            Format::Jsonl => Ok(()),
            Format::Csv => {
                let header = CSV_HEADER.join(",");
                write!(self.out, "{header}\r\n")
            }
            Format::Table => {
                let layout = Layout::new(self.width, first_page);
                let header = layout.header();
                self.layout = Some(layout);
                self.out.write_all(header.as_bytes())
            }
        }
    }

    /// Writes one page's videos and flushes them.
    pub(crate) fn page(&mut self, videos: &[Video]) -> io::Result<()> {
        self.start(videos)?;
        for video in videos {
            self.video(video)?;
        }
        self.out.flush()
    }

    fn video(&mut self, video: &Video) -> io::Result<()> {
        match self.format {
            Format::Json => {
                if self.written > 0 {
                    self.out.write_all(b",")?;
                }
                self.out.write_all(b"\n")?;
                serde_json::to_writer(&mut self.out, video)?;
            }
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, video)?;
                self.out.write_all(b"\n")?;
            }
            Format::Csv => {
                let line = csv_row(video);
                self.out.write_all(line.as_bytes())?;
            }
            Format::Table => {
                if let Some(layout) = &self.layout {
                    self.out.write_all(layout.row(video).as_bytes())?;
                }
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Writes what comes after the last video (the JSON `]`) and flushes.
    /// Not called when the walk failed, so a cut-off JSON array stays
    /// visibly incomplete.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.start(&[])?;
        if self.format == Format::Json {
            let close: &[u8] = if self.written > 0 { b"\n]\n" } else { b"]\n" };
            self.out.write_all(close)?;
        }
        self.out.flush()
    }
}

/// One CSV record, RFC 4180: fields joined by `,`, quoted when needed, CRLF.
fn csv_row(video: &Video) -> String {
    let cataid = video.cataid().to_string();
    let times = video.times().to_string();
    let ptime = video.ptime().as_millis().to_string();
    let fields: [&str; 11] = [
        video.vid(),
        &cataid,
        video.title(),
        video.context(),
        &times,
        video.first_image(),
        video.tags().as_raw(),
        video.aac_link().unwrap_or(""),
        video.status().code(),
        video.uploader_email(),
        &ptime,
    ];
    let mut line = String::with_capacity(256);
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_csv_field(&mut line, field);
    }
    line.push_str("\r\n");
    line
}

/// Appends one field, RFC 4180: a field holding `,`, `"`, CR or LF is
/// enclosed in double quotes, with every `"` doubled; others go as they are.
pub(crate) fn push_csv_field(line: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        line.push('"');
        for c in field.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(field);
    }
}

/// Appends a cell of `width` columns and the column gap. Control characters
/// become spaces, so a title cannot move the cursor or inject terminal
/// escapes. With `cut`, text wider than the column ends in `…`; without, it
/// is written whole (numbers, ids) and pushes the rest of the row.
pub(crate) fn push_cell(line: &mut String, text: &str, width: usize, right: bool, cut: bool) {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let fitted = if cut { truncate(&clean, width) } else { clean };
    let pad = width.saturating_sub(display_width(&fitted));
    if right {
        line.extend(std::iter::repeat_n(' ', pad));
        line.push_str(&fitted);
    } else {
        line.push_str(&fitted);
        line.extend(std::iter::repeat_n(' ', pad));
    }
    line.extend(std::iter::repeat_n(' ', GAP));
}

/// Cuts `text` to at most `width` terminal columns, ending in `…` when cut.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Terminal columns of `text` (wide East Asian characters and emoji count 2).
pub(crate) fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// Terminal columns of one character (`wcwidth`): 2 for wide East Asian
/// characters and emoji, 0 for combining marks and zero-width characters.
fn char_width(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
}

/// `YYYY-MM-DD HH:MM` in UTC from milliseconds since the Unix epoch.
pub(crate) fn utc_date_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60
    )
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01):
/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(title: &str) -> Video {
        serde_json::from_value(serde_json::json!({
            "vid": "b0f7_b", "cataid": 1_539_918_907_896_u64, "title": title,
            "context": "line1\nline2", "times": 3, "firstImage": "http://img/1.jpg",
            "tag": "a,b", "aacLink": null, "status": "61",
            "uploaderEmail": "test1@zzs.com", "ptime": 1_540_797_491_063_i64
        }))
        .unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(utc_date_time(0), "1970-01-01 00:00");
        assert_eq!(utc_date_time(1_500_000_000_000), "2017-07-14 02:40");
        assert_eq!(utc_date_time(1_540_797_491_063), "2018-10-29 07:18");
        assert_eq!(utc_date_time(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(utc_date_time(-1), "1969-12-31 23:59");
        assert_eq!(utc_date_time(4_107_542_400_000), "2100-03-01 00:00");
        // Extremes neither panic nor overflow.
        let _ = utc_date_time(i64::MAX);
        let _ = utc_date_time(i64::MIN);
        // Every day of 1969-2101 round-trips against a day counter.
        let (mut y, mut m, mut d) = (1969, 1, 1);
        for days in -365..48_000 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            d += 1;
            if d > len[(m - 1) as usize] {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn csv_quoting() {
        let mut s = String::new();
        push_csv_field(&mut s, "plain");
        assert_eq!(s, "plain");
        for (raw, quoted) in [
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("cr\r", "\"cr\r\""),
            ("", ""),
            ("中文", "中文"),
        ] {
            let mut s = String::new();
            push_csv_field(&mut s, raw);
            assert_eq!(s, quoted, "{raw:?}");
        }
        assert_eq!(
            csv_row(&video("a, \"b\"")),
            "b0f7_b,1539918907896,\"a, \"\"b\"\"\",\"line1\nline2\",3,http://img/1.jpg,\"a,b\",,61,test1@zzs.com,1540797491063\r\n"
        );
    }

    fn render(format: Format, pages: &[&[Video]]) -> String {
        render_at(format, 200, pages)
    }

    fn render_at(format: Format, width: usize, pages: &[&[Video]]) -> String {
        let mut out = Vec::new();
        let mut r = Renderer::new(&mut out, format, width);
        for page in pages {
            r.page(page).unwrap();
        }
        r.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_streams_one_array() {
        let v = video("t");
        let two = render(
            Format::Json,
            &[std::slice::from_ref(&v), std::slice::from_ref(&v)],
        );
        let parsed: Vec<Video> = serde_json::from_str(&two).unwrap();
        assert_eq!(parsed, [v.clone(), v.clone()]);
        assert_eq!(render(Format::Json, &[&[]]), "[]\n");
        assert_eq!(render(Format::Jsonl, &[&[]]), "");
        let lines = render(Format::Jsonl, &[&[v.clone(), v.clone()]]);
        assert_eq!(lines.lines().count(), 2);
        assert!(lines.contains(r#""status":"61""#));
    }

    #[test]
    fn table_has_columns_words_and_dates() {
        let mut json = serde_json::to_value(video("标题\x1b[31m red")).unwrap();
        json["status"] = "70".into();
        let weird: Video = serde_json::from_value(json).unwrap();
        let text = render(Format::Table, &[&[video("hello"), weird]]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("VID"));
        for col in [
            "UPLOADED (UTC)",
            "STATUS",
            "PLAYS",
            "CATAID",
            "UPLOADER",
            "TITLE",
        ] {
            assert!(lines[0].contains(col), "{col}");
        }
        assert!(lines[1].contains("published") && lines[1].contains("2018-10-29 07:18"));
        assert!(lines[2].contains("unknown (70)"));
        assert!(!text.contains('\x1b'));
        // Columns line up: TITLE starts at the same display column everywhere.
        let title_col = display_width(&lines[0][..lines[0].find("TITLE").unwrap()]);
        let row_title = lines[1].find("hello").unwrap();
        assert_eq!(display_width(&lines[1][..row_title]), title_col);
    }

    #[test]
    fn widths_and_truncation() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("张老师"), 6);
        assert_eq!(truncate("张老师@example.cn", 8), "张老师@…");
        assert_eq!(truncate("张老师@example.cn", 7), "张老师…");
        assert_eq!(display_width(&truncate("abcdefghij", 5)), 5);
        let mut s = String::new();
        push_cell(&mut s, "张", 4, false, true);
        assert_eq!(s, "张    ");
        let mut s = String::new();
        push_cell(&mut s, "123456789012", 5, true, false);
        assert_eq!(s, "123456789012  ", "numbers are never cut");
        // Emoji and fullwidth forms count two columns, combining marks none.
        assert_eq!(display_width("🎬"), 2);
        assert_eq!(display_width("ＡＢ"), 4);
        assert_eq!(display_width("e\u{301}"), 1);
    }

    fn with(title: &str, times: u64, cataid: u64) -> Video {
        let mut json = serde_json::to_value(video(title)).unwrap();
        json["times"] = times.into();
        json["cataid"] = cataid.into();
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn columns_narrow_then_drop_in_the_documented_order() {
        use Column::*;
        let page = [with("t", 123, 1_539_918_907_896)];
        let shown = |width| Layout::new(width, &page).shown();
        assert_eq!(
            shown(200),
            [Vid, Uploaded, Status, Plays, Cataid, Uploader, Title]
        );
        assert_eq!(shown(120), [Vid, Uploaded, Status, Plays, Uploader, Title]);
        assert_eq!(shown(100), [Vid, Uploaded, Status, Plays, Title]);
        assert_eq!(shown(80), [Vid, Status, Plays, Title]);
        assert_eq!(shown(66), [Vid, Plays, Title]);
        assert_eq!(shown(40), [Vid, Title]);
        // Each step only when the title would have fewer than 20 columns.
        for width in 40..=250 {
            let layout = Layout::new(width, &page);
            let used: usize = layout.columns.iter().map(|(_, w)| w + GAP).sum::<usize>() - GAP;
            if layout.shown().len() > 2 {
                assert!(used <= width, "{width}: {used}");
            }
        }
    }

    #[test]
    fn the_table_fits_and_stays_aligned_with_cjk_text() {
        let long = "高等数学 第一讲：极限与连续 🎬 a very long title that has to be cut somewhere";
        let page = [
            with(long, 7, 1),
            with("短", 123_456_789_012, 1_539_918_907_896),
            with("plain ascii title", 0, 42),
        ];
        for width in [80, 100, 120, 200] {
            let text = render_at(Format::Table, width, &[&page]);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 4);
            let title_col = display_width(&lines[0][..lines[0].find("TITLE").unwrap()]);
            for line in &lines {
                assert!(display_width(line) <= width, "{width}: {line}");
            }
            // The title starts at the same display column on every row.
            for (line, title) in lines[1..].iter().zip(["高等", "短", "plain"]) {
                let at = line.find(title).unwrap();
                assert_eq!(display_width(&line[..at]), title_col, "{width}: {line}");
            }
            // Titles are cut with an ellipsis; numbers never.
            assert!(lines[1].ends_with('…'), "{width}: {}", lines[1]);
            assert!(lines[2].contains("123456789012"), "{width}: {}", lines[2]);
        }
    }

    #[test]
    fn a_later_wider_number_pushes_its_row_but_is_whole() {
        let first = [with("a", 5, 1)];
        let later = [with("b", 123_456_789_012, 1)];
        let text = render_at(Format::Table, 80, &[&first, &later]);
        assert!(
            text.lines().nth(2).unwrap().contains("123456789012"),
            "{text}"
        );
    }
}
