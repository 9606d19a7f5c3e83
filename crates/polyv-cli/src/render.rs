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

/// Table columns: header and width (the last column is not padded).
const TABLE_COLUMNS: [(&str, usize); 7] = [
    ("VID", 34),
    ("UPLOADED (UTC)", 16),
    ("STATUS", 18),
    ("PLAYS", 9),
    ("CATAID", 13),
    ("UPLOADER", 24),
    ("TITLE", 0),
];

/// Writes videos in one format to `out`.
#[derive(Debug)]
pub(crate) struct Renderer<W: Write> {
    out: W,
    format: Format,
    started: bool,
    written: u64,
}

impl<W: Write> Renderer<W> {
    pub(crate) fn new(out: W, format: Format) -> Self {
        Self {
            out,
            format,
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
    /// at once writes nothing at all.
    fn start(&mut self) -> io::Result<()> {
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
                let mut line = String::new();
                for (name, width) in TABLE_COLUMNS {
                    push_cell(&mut line, name, width, false);
                }
                writeln!(self.out, "{}", line.trim_end())
            }
        }
    }

    /// Writes one page's videos and flushes them.
    pub(crate) fn page(&mut self, videos: &[Video]) -> io::Result<()> {
        self.start()?;
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
                let line = table_row(video);
                self.out.write_all(line.as_bytes())?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Writes what comes after the last video (the JSON `]`) and flushes.
    /// Not called when the walk failed, so a cut-off JSON array stays
    /// visibly incomplete.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.start()?;
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

fn table_row(video: &Video) -> String {
    let status = match video.status() {
        polyv_core::VideoStatus::Unknown(code) => format!("unknown ({code})"),
        known => known.describe().to_owned(),
    };
    let cells: [(String, bool); 7] = [
        (video.vid().to_owned(), false),
        (utc_date_time(video.ptime().as_millis()), false),
        (status, false),
        (video.times().to_string(), true),
        (video.cataid().to_string(), false),
        (video.uploader_email().to_owned(), false),
        (video.title().to_owned(), false),
    ];
    let mut line = String::with_capacity(160);
    for ((text, right), (_, width)) in cells.iter().zip(TABLE_COLUMNS) {
        push_cell(&mut line, text, width, *right);
    }
    let mut line = line.trim_end().to_owned();
    line.push('\n');
    line
}

/// Appends a cell of `width` columns (0: as wide as the text) and the column
/// gap. Control characters become spaces, so a title cannot move the cursor
/// or inject terminal escapes; text wider than the column ends in `…`.
fn push_cell(line: &mut String, text: &str, width: usize, right: bool) {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let fitted = if width == 0 {
        clean
    } else {
        truncate(&clean, width)
    };
    let pad = width.saturating_sub(display_width(&fitted));
    if right {
        line.extend(std::iter::repeat_n(' ', pad));
        line.push_str(&fitted);
    } else {
        line.push_str(&fitted);
        line.extend(std::iter::repeat_n(' ', pad));
    }
    line.push_str("  ");
}

/// Cuts `text` to at most `width` terminal columns, ending in `…` when cut.
fn truncate(text: &str, width: usize) -> String {
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

/// A small approximation of `wcwidth`: enough for CJK titles and e-mails.
fn char_width(c: char) -> usize {
    match u32::from(c) {
        // Combining marks, zero-width spaces and joiners, variation selectors.
        0x0300..=0x036F | 0x200B..=0x200F | 0x2060..=0x2064 | 0xFE00..=0xFE0F => 0,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
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
        let mut out = Vec::new();
        let mut r = Renderer::new(&mut out, format);
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
        push_cell(&mut s, "张", 4, false);
        assert_eq!(s, "张    ");
    }
}
