//! Writing any list of `Serialize` records in the four formats: one
//! renderer for every command but the video listing (which keeps its own,
//! hand-fitted table in `render`).
//!
//! - `json`: one array, the records as their `Serialize` writes them (the
//!   API's own field names);
//! - `jsonl`: one object per line, the same;
//! - `csv`: a header of the fields (in the order the type serialises them,
//!   as first seen in the first batch), then one RFC 4180 row per record;
//! - `table`: the same columns, fitted to the terminal width; numbers and
//!   ids are never cut. A command that prints one record (`videos get`,
//!   `account usage`) gets it as `FIELD  VALUE` lines instead.
//!
//! In csv and table, a nested value (an object, a list) is its compact JSON,
//! a `null` is empty. Columns are fixed by the first batch, as the output is
//! streamed: a field that first appears later shows in json and jsonl only.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::cli::Format;
use crate::render::{GAP, display_width, push_cell, push_csv_field};

/// A text column is never narrowed below this many terminal columns; when
/// even that does not fit, columns are dropped from the right.
const MIN_TEXT: usize = 8;

/// A text column never starts wider than this.
const MAX_TEXT: usize = 48;

/// One record's top-level fields, in the order its `Serialize` wrote them
/// (`serde_json::Map` would sort them).
#[derive(Debug, Default)]
struct Fields(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    fields.push((name, value));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Ordered)
    }
}

impl Fields {
    /// The fields of `record`; a record that is not a JSON object is one
    /// field named `value`.
    fn of<T: Serialize>(record: &T) -> io::Result<Self> {
        let json = serde_json::to_vec(record)?;
        match serde_json::from_slice::<Fields>(&json) {
            Ok(fields) => Ok(fields),
            Err(_) => Ok(Fields(vec![(
                "value".to_owned(),
                serde_json::from_slice(&json)?,
            )])),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// A value as one csv field or table cell: text as it is, numbers and
/// booleans in JSON, `null` empty, lists and objects as compact JSON.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Whether a column holds something never cut: numbers, and ids (a field
/// whose name ends in `id`: `vid`, `cataid`, `videoId`, ...).
fn whole(name: &str, numeric: bool) -> bool {
    numeric || name.to_ascii_lowercase().ends_with("id")
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    width: usize,
    /// Numbers: right-aligned, never cut.
    numeric: bool,
    /// Never cut (numbers and ids).
    whole: bool,
}

/// Writes records of any `Serialize` type in one format.
#[derive(Debug)]
pub(crate) struct Records<W: Write> {
    out: W,
    format: Format,
    width: usize,
    /// One record, as `FIELD  VALUE` lines in the table.
    single: bool,
    /// The columns, fixed by the first batch (csv, table).
    columns: Option<Vec<Column>>,
    written: u64,
}

impl<W: Write> Records<W> {
    /// A writer of any number of records; `width` (terminal columns) is
    /// for the table only.
    pub(crate) fn new(out: W, format: Format, width: usize) -> Self {
        Self {
            out,
            format,
            width,
            single: false,
            columns: None,
            written: 0,
        }
    }

    /// A writer for a command that prints exactly one record: on a table,
    /// one `FIELD  VALUE` line per field.
    pub(crate) fn single(out: W, format: Format, width: usize) -> Self {
        Self {
            single: true,
            ..Self::new(out, format, width)
        }
    }

    /// Writes a batch of records and flushes them. The first batch fixes
    /// the csv and table columns.
    pub(crate) fn batch<T: Serialize>(&mut self, records: &[T]) -> io::Result<()> {
        match self.format {
            Format::Json | Format::Jsonl => {
                for record in records {
                    self.json(record)?;
                }
            }
            Format::Csv | Format::Table => {
                let rows = records
                    .iter()
                    .map(Fields::of)
                    .collect::<io::Result<Vec<_>>>()?;
                if self.single && self.format == Format::Table {
                    for row in &rows {
                        self.vertical(row)?;
                    }
                } else {
                    self.start(&rows)?;
                    for row in &rows {
                        self.row(row)?;
                    }
                }
            }
        }
        self.out.flush()
    }

    fn json<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        if self.format == Format::Json {
            self.out
                .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
            serde_json::to_writer(&mut self.out, record)?;
        } else {
            serde_json::to_writer(&mut self.out, record)?;
            self.out.write_all(b"\n")?;
        }
        self.written += 1;
        Ok(())
    }

    /// The header of the csv or table, fitted to the first batch.
    fn start(&mut self, first: &[Fields]) -> io::Result<()> {
        if self.columns.is_some() {
            return Ok(());
        }
        let mut columns: Vec<Column> = Vec::new();
        for row in first {
            for (name, _) in &row.0 {
                if !columns.iter().any(|c| &c.name == name) {
                    columns.push(Column {
                        name: name.clone(),
                        width: 0,
                        numeric: true,
                        whole: false,
                    });
                }
            }
        }
        for column in &mut columns {
            let values: Vec<Option<&Value>> = first.iter().map(|r| r.get(&column.name)).collect();
            column.numeric = values
                .iter()
                .all(|v| matches!(v, None | Some(Value::Null | Value::Number(_))))
                && values.iter().any(|v| matches!(v, Some(Value::Number(_))));
            column.whole = whole(&column.name, column.numeric);
            let widest = values
                .iter()
                .map(|v| display_width(&cell(*v)))
                .max()
                .unwrap_or(0);
            let widest = if column.whole {
                widest
            } else {
                widest.min(MAX_TEXT)
            };
            column.width = widest.max(display_width(&column.name));
        }
        let columns = match self.format {
            Format::Table => fit(columns, self.width),
            _ => columns,
        };
        if columns.is_empty() {
            // Nothing to name: an empty listing is empty.
            self.columns = Some(columns);
            return Ok(());
        }
        let mut line = String::new();
        match self.format {
            Format::Csv => {
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    push_csv_field(&mut line, &column.name);
                }
                line.push_str("\r\n");
            }
            _ => {
                for column in &columns {
                    push_cell(&mut line, &column.name, column.width, column.numeric, true);
                }
                line = finish_line(line);
            }
        }
        self.columns = Some(columns);
        self.out.write_all(line.as_bytes())
    }

    fn row(&mut self, row: &Fields) -> io::Result<()> {
        let Some(columns) = &self.columns else {
            return Ok(());
        };
        let mut line = String::with_capacity(160);
        if self.format == Format::Csv {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                push_csv_field(&mut line, &cell(row.get(&column.name)));
            }
            line.push_str("\r\n");
        } else {
            for column in columns {
                push_cell(
                    &mut line,
                    &cell(row.get(&column.name)),
                    column.width,
                    column.numeric,
                    !column.whole,
                );
            }
            line = finish_line(line);
        }
        self.written += 1;
        self.out.write_all(line.as_bytes())
    }

    /// One record as `FIELD  VALUE` lines: values cut to the width, but
    /// numbers and ids whole.
    fn vertical(&mut self, row: &Fields) -> io::Result<()> {
        let key = row
            .0
            .iter()
            .map(|(name, _)| display_width(name))
            .max()
            .unwrap_or(0);
        let room = self.width.saturating_sub(key + GAP).max(MIN_TEXT);
        let mut text = String::new();
        for (name, value) in &row.0 {
            let mut line = String::new();
            push_cell(&mut line, name, key, false, false);
            let keep = whole(name, matches!(value, Value::Number(_)));
            push_cell(&mut line, &cell(Some(value)), room, false, !keep);
            text.push_str(&finish_line(line));
        }
        self.written += 1;
        self.out.write_all(text.as_bytes())
    }

    /// Writes what comes after the last record (the JSON `]`, the header of
    /// an empty csv or table) and flushes. Not called when the command
    /// failed, so a cut-off JSON array stays visibly incomplete.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        match self.format {
            Format::Json if self.written == 0 => self.out.write_all(b"[]\n")?,
            Format::Json => self.out.write_all(b"\n]\n")?,
            Format::Csv | Format::Table if !self.single => self.start(&[])?,
            _ => {}
        }
        self.out.flush()
    }
}

/// Fits the columns into `width` terminal columns: the widest text column
/// gives up a column at a time down to [`MIN_TEXT`]; if that is not enough,
/// columns are dropped from the right (the first always stays).
fn fit(mut columns: Vec<Column>, width: usize) -> Vec<Column> {
    let used = |columns: &[Column]| columns.iter().map(|c| c.width + GAP).sum::<usize>();
    while used(&columns) > width {
        let widest = columns
            .iter_mut()
            .filter(|c| !c.whole && c.width > MIN_TEXT)
            .max_by_key(|c| c.width);
        match widest {
            Some(column) => column.width -= 1,
            None => break,
        }
    }
    while used(&columns) > width && columns.len() > 1 {
        columns.pop();
    }
    columns
}

/// A line without trailing spaces, ending in a newline.
fn finish_line(line: String) -> String {
    let mut line = line.trim_end().to_owned();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(format: Format, width: usize, batches: &[Vec<Value>]) -> String {
        let mut out = Vec::new();
        let mut records = Records::new(&mut out, format, width);
        for batch in batches {
            records.batch(batch).unwrap();
        }
        records.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[derive(Serialize)]
    struct Row {
        zeta: u64,
        alpha: &'static str,
        vid: &'static str,
    }

    #[test]
    fn fields_keep_the_serialize_order() {
        let rows = [Row {
            zeta: 1_234_567_890_123,
            alpha: "a, \"quoted\"\nline",
            vid: "v_1",
        }];
        let mut out = Vec::new();
        let mut records = Records::new(&mut out, Format::Csv, 80);
        records.batch(&rows).unwrap();
        records.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "zeta,alpha,vid\r\n1234567890123,\"a, \"\"quoted\"\"\nline\",v_1\r\n"
        );
    }

    #[test]
    fn json_jsonl_and_empty_outputs() {
        let batch = vec![json!({"a": 1}), json!({"a": 2})];
        assert_eq!(
            render(Format::Json, 80, std::slice::from_ref(&batch)),
            "[\n{\"a\":1},\n{\"a\":2}\n]\n"
        );
        assert_eq!(
            render(Format::Jsonl, 80, &[batch]),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        assert_eq!(render(Format::Json, 80, &[]), "[]\n");
        assert_eq!(render(Format::Jsonl, 80, &[]), "");
        assert_eq!(render(Format::Csv, 80, &[]), "");
        assert_eq!(render(Format::Table, 80, &[]), "");
    }

    #[test]
    fn tables_fit_the_width_cut_text_and_keep_numbers_whole() {
        let batch = vec![
            json!({"cataid": 1_539_918_907_896_u64, "title": "线性代数 🧮 and a very long title indeed, longer than any terminal", "times": 5}),
            json!({"cataid": 1, "title": "short", "times": 123_456_789_012_u64, "extra": null}),
        ];
        for width in [40, 60, 100] {
            let text = render(Format::Table, width, std::slice::from_ref(&batch));
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 3, "{text}");
            assert!(lines[0].trim_start().starts_with("cataid"), "{text}");
            assert!(lines[1].contains("1539918907896"), "{text}");
            for line in &lines {
                assert!(display_width(line) <= width, "{width}: {line}");
            }
            if text.contains("times") {
                assert!(lines[2].contains("123456789012"), "{text}");
            }
        }
        let wide = render(Format::Table, 200, &[batch]);
        assert!(wide.lines().nth(1).unwrap().contains('…'), "{wide}");
        assert!(wide.contains("extra"), "{wide}");
    }

    #[test]
    fn one_record_is_field_value_lines_and_nested_values_are_json() {
        #[derive(Serialize)]
        struct Detail {
            vid: &'static str,
            filesize: [u64; 2],
            uploader: Value,
            none: Option<u8>,
        }
        let mut out = Vec::new();
        let mut records = Records::single(&mut out, Format::Table, 80);
        records
            .batch(&[Detail {
                vid: "v1",
                filesize: [1, 2],
                uploader: json!({"name": "李"}),
                none: None,
            }])
            .unwrap();
        records.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "vid       v1\nfilesize  [1,2]\nuploader  {\"name\":\"李\"}\nnone\n"
        );
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let text = render(Format::Table, 80, &[vec![json!({"name": "a\x1b[2Jb\nc"})]]);
        assert!(!text.contains('\x1b'), "{text:?}");
        assert_eq!(text.lines().count(), 2, "{text:?}");
    }
}
