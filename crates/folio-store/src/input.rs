//! Reading documents to import: JSON Lines, JSON documents, CSV and SQLite tables, each
//! document numbered by its line (or its position).

use std::io::{BufRead, Read};

use folio_engine::projection::assemble;
use serde_json::Value as Json;

use crate::StoreError;

/// The formats `folio import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line; blank lines are skipped.
    JsonLines,
    /// One JSON document: an array of records, or an object whose members are records (each
    /// member's key is the record's `@key`), found at a path of the document.
    Json,
    /// Comma-separated values with a header row; dotted headers (`a.b`) make nested objects.
    Csv,
    /// A table of a SQLite database, each row an object of its columns.
    Sqlite,
}

impl Format {
    /// The format a file name suggests: `.csv` is CSV; `None` when the content must tell.
    pub fn from_name(name: &str) -> Option<Format> {
        let name = name.to_ascii_lowercase();
        if name.ends_with(".csv") {
            Some(Format::Csv)
        } else if name.ends_with(".db") || name.ends_with(".sqlite") || name.ends_with(".sqlite3") {
            Some(Format::Sqlite)
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            Some(Format::JsonLines)
        } else {
            None
        }
    }

    /// The format the start of the content shows: SQLite's header; `[` opens a JSON
    /// document; `{` opens JSON Lines when the first line is a whole object, else a JSON
    /// document (pretty-printed, or an object of records); anything else is CSV.
    pub fn sniff(start: &[u8]) -> Format {
        if start.starts_with(SQLITE_MAGIC) {
            return Format::Sqlite;
        }
        let text = String::from_utf8_lossy(start);
        let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        match trimmed.chars().next() {
            Some('[') => Format::Json,
            Some('{') => {
                let first = trimmed.split('\n').next().unwrap_or_default();
                match serde_json::from_str::<Json>(first.trim_end()) {
                    Ok(Json::Object(members)) if !members.values().all(Json::is_object) || members.is_empty() => {
                        Format::JsonLines
                    }
                    _ => Format::Json,
                }
            }
            _ => Format::Csv,
        }
    }
}

/// The key of a record in an object of records, as a member of the record (usable as its id
/// with `--id @key`).
pub const KEY_MEMBER: &str = "@key";

/// The line (or, in a JSON document, the position) of a record, as a member of the record
/// (usable as its id with `--id @line`).
pub const LINE_MEMBER: &str = "@line";

/// A document numbered by its line, or the error that ends the input.
pub type Numbered = Result<(u64, Json), StoreError>;

/// Rows of a CSV file read ahead to decide the type of each column.
pub const CSV_SAMPLE_ROWS: usize = 10_000;

/// Reads one JSON document whose records are at `path` (dotted; empty for the document
/// itself): an array of objects, or an object whose members are objects (each given its key
/// as [`KEY_MEMBER`]). The document is read as a stream on a thread of its own, so memory
/// holds a few records at a time whatever its size; records are numbered from 1 in order.
pub fn json_document<R: Read + Send + 'static>(reader: R, path: &str) -> impl Iterator<Item = Numbered> + use<R> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Numbered>(256);
    let segments: Vec<String> = path.split('.').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let path = path.to_owned();
    std::thread::spawn(move || {
        let mut de = serde_json::Deserializer::from_reader(reader);
        let seed = document::At {
            path: &segments,
            tx: &tx,
            count: std::cell::Cell::new(0),
        };
        let found = serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|found| de.end().map(|()| found));
        let outcome = match found {
            Ok(true) => None,
            Ok(false) => Some(format!(
                "has no array or object of records at `{}`; give their place with --records-path",
                if path.is_empty() { "the top" } else { path.as_str() }
            )),
            // A receiver gone away stopped the read: nothing to say.
            Err(e) if e.to_string() == document::STOPPED => return,
            Err(e) => Some(format!("is not JSON: {e}")),
        };
        if let Some(message) = outcome {
            let _ = tx.send(Err(StoreError::Unavailable(format!("the document {message}"))));
        }
    });
    rx.into_iter()
}

/// Streaming a JSON document down to its records.
mod document {
    use std::fmt;
    use std::sync::mpsc::SyncSender;

    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::Value as Json;

    use super::{KEY_MEMBER, Numbered};
    use crate::StoreError;

    /// The error that ends a read whose receiver is gone.
    pub(super) const STOPPED: &str = "the import stopped";

    /// The value at `path`, whose records are sent to `tx`; deserializes to whether records
    /// were found there.
    pub(super) struct At<'a> {
        pub(super) path: &'a [String],
        pub(super) tx: &'a SyncSender<Numbered>,
        pub(super) count: std::cell::Cell<u64>,
    }

    impl At<'_> {
        fn send<E: serde::de::Error>(&self, key: Option<String>, record: Json) -> Result<(), E> {
            let n = self.count.get() + 1;
            self.count.set(n);
            let record = match (record, key) {
                (Json::Object(mut members), key) => {
                    if let Some(key) = key {
                        members.insert(KEY_MEMBER.to_owned(), Json::String(key));
                    }
                    Ok((n, Json::Object(members)))
                }
                (_, _) => Err(StoreError::InvalidDocument {
                    line: n,
                    message: "is not a JSON object (records are counted from 1 in the document)".into(),
                }),
            };
            self.tx.send(record).map_err(|_| E::custom(STOPPED))
        }
    }

    impl<'de> DeserializeSeed<'de> for At<'_> {
        type Value = bool;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for At<'_> {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON array or object")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
            if !self.path.is_empty() {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(false);
            }
            while let Some(record) = seq.next_element::<Json>()? {
                self.send(None, record)?;
            }
            Ok(true)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut found = false;
            match self.path.split_first() {
                // An object of records: each member a record, its key kept.
                None => {
                    while let Some(key) = map.next_key::<String>()? {
                        let record = map.next_value::<Json>()?;
                        self.send(Some(key), record)?;
                    }
                    found = true;
                }
                Some((first, rest)) => {
                    while let Some(key) = map.next_key::<String>()? {
                        if key == *first && !found {
                            found = map.next_value_seed(At {
                                path: rest,
                                tx: self.tx,
                                count: std::cell::Cell::new(self.count.get()),
                            })?;
                        } else {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
            }
            Ok(found)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<bool, E> {
            Ok(false)
        }
    }
}

/// A reader that turns each `\r\n` into `\n`, so that files written with Windows line ends
/// (Excel's, Python's `csv` module's) are numbered line by line like any other.
pub struct Unix<R> {
    inner: R,
    /// A `\r` that ended the last read, not yet known to be part of a `\r\n`.
    pending_cr: bool,
}

impl<R: Read> Unix<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Unix<R> {
        Unix {
            inner,
            pending_cr: false,
        }
    }
}

impl<R: Read> Read for Unix<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if buf.is_empty() {
                return Ok(0);
            }
            let start = usize::from(self.pending_cr);
            if self.pending_cr {
                buf[0] = b'\r';
            }
            let n = self.inner.read(&mut buf[start..])?;
            if n == 0 {
                self.pending_cr = false;
                return Ok(start);
            }
            let filled = start + n;
            // Drop each `\r` that a `\n` follows; hold back a final `\r`.
            let mut out = 0;
            let mut i = 0;
            while i < filled {
                let b = buf[i];
                if b == b'\r' && i + 1 < filled && buf[i + 1] == b'\n' {
                    i += 1;
                    continue;
                }
                buf[out] = b;
                out += 1;
                i += 1;
            }
            self.pending_cr = out > 0 && buf[out - 1] == b'\r';
            if self.pending_cr {
                out -= 1;
            }
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

/// The first bytes of every SQLite database file.
pub const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// Reads the rows of `table` (or of the database's only table, when `None`) of the SQLite
/// database `file`, read-only, each row an object of its columns: integers and reals as
/// numbers, text as strings (text holding a JSON array or object as that value), blobs left
/// out, NULL as null. Rows are read on a thread of their own through a bounded channel, and
/// numbered from 1 in rowid order where the table has one.
#[cfg(feature = "sqlite")]
pub fn sqlite_table(
    file: &std::path::Path,
    table: Option<&str>,
) -> Result<impl Iterator<Item = Numbered> + use<>, StoreError> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let db = rusqlite::Connection::open_with_flags(file, flags)?;
    let table = choose_table(&db, file, table)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Numbered>(256);
    std::thread::spawn(move || {
        if let Err(e) = send_rows(&db, &table, &tx) {
            let _ = tx.send(Err(e));
        }
    });
    Ok(rx.into_iter())
}

/// The table to read: the one named, or the database's only one.
#[cfg(feature = "sqlite")]
fn choose_table(db: &rusqlite::Connection, file: &std::path::Path, table: Option<&str>) -> Result<String, StoreError> {
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let listed = || tables.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
    match (table, tables.as_slice()) {
        (Some(name), _) if tables.iter().any(|t| t == name) => Ok(name.to_owned()),
        (Some(name), _) => Err(StoreError::Unavailable(format!(
            "{} has no table `{name}`; its tables are {}",
            file.display(),
            listed()
        ))),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(StoreError::Unavailable(format!(
            "{} holds several tables ({}); choose one with --table",
            file.display(),
            listed()
        ))),
    }
}

/// Sends every row of `table` as a numbered record, until the receiver hangs up.
#[cfg(feature = "sqlite")]
fn send_rows(
    db: &rusqlite::Connection,
    table: &str,
    tx: &std::sync::mpsc::SyncSender<Numbered>,
) -> Result<(), StoreError> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    // In rowid order when the table has one (a table WITHOUT ROWID has its key's order).
    let ordered = db
        .prepare(&format!("SELECT * FROM {quoted} ORDER BY rowid"))
        .or_else(|_| db.prepare(&format!("SELECT * FROM {quoted}")));
    let mut statement = ordered?;
    let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
    // Columns declared BOOLEAN hold 0 and 1: they are read as false and true.
    let declared: Vec<(String, String)> = db
        .prepare(&format!("PRAGMA table_info({quoted})"))?
        .query_map([], |row| Ok((row.get::<_, String>(1)?, row.get::<_, String>(2)?)))?
        .collect::<Result<_, _>>()?;
    let boolean: Vec<bool> = names
        .iter()
        .map(|name| {
            declared
                .iter()
                .any(|(column, ty)| column == name && ty.to_ascii_uppercase().contains("BOOL"))
        })
        .collect();
    let mut rows = statement.query([])?;
    let mut n = 0u64;
    while let Some(row) = rows.next()? {
        n += 1;
        let mut record = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            if let Some(value) = cell_json(row.get_ref(i)?, boolean[i]) {
                record.insert(name.clone(), value);
            }
        }
        if tx.send(Ok((n, Json::Object(record)))).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// A cell as JSON, or `None` for a blob (left out).
#[cfg(feature = "sqlite")]
fn cell_json(cell: rusqlite::types::ValueRef<'_>, boolean: bool) -> Option<Json> {
    use rusqlite::types::ValueRef;
    Some(match cell {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(v @ (0 | 1)) if boolean => Json::Bool(v == 1),
        ValueRef::Integer(v) => Json::from(v),
        ValueRef::Real(v) => serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let trimmed = text.trim_start();
            match serde_json::from_str::<Json>(&text) {
                Ok(value @ (Json::Array(_) | Json::Object(_)))
                    if trimmed.starts_with('[') || trimmed.starts_with('{') =>
                {
                    value
                }
                _ => Json::String(text.into_owned()),
            }
        }
        ValueRef::Blob(_) => return None,
    })
}

/// Reads JSON Lines: one object per non-blank line.
pub fn json_lines(reader: impl BufRead) -> impl Iterator<Item = Numbered> {
    reader.lines().zip(1u64..).filter_map(|(line, number)| {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                return Some(Err(StoreError::InvalidDocument {
                    line: number,
                    message: format!("cannot be read: {e}"),
                }));
            }
        };
        if line.trim().is_empty() {
            return None;
        }
        Some(match serde_json::from_str::<Json>(&line) {
            Ok(doc) if doc.is_object() => Ok((number, doc)),
            Ok(_) => Err(StoreError::InvalidDocument {
                line: number,
                message: "is not a JSON object".into(),
            }),
            Err(e) => Err(StoreError::InvalidDocument {
                line: number,
                message: format!("is not JSON: {}", at_column(&e)),
            }),
        })
    })
}

/// serde_json's message about one line of JSON Lines, with its position as a column alone:
/// the error names the file's line already, and serde_json's own "line 1" counts the lines
/// of the one line it was given.
fn at_column(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())) {
        Some(message) => format!("{message} at column {}", e.column()),
        None => text,
    }
}

/// The type of a CSV column, decided from its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Integer,
    Float,
    Boolean,
    Text,
}

impl Cell {
    fn of(text: &str) -> Cell {
        if text.parse::<i64>().is_ok() {
            Cell::Integer
        } else if text.parse::<f64>().is_ok_and(f64::is_finite) {
            Cell::Float
        } else if text == "true" || text == "false" {
            Cell::Boolean
        } else {
            Cell::Text
        }
    }

    /// The type that holds both.
    fn join(self, other: Cell) -> Cell {
        match (self, other) {
            (a, b) if a == b => a,
            (Cell::Integer, Cell::Float) | (Cell::Float, Cell::Integer) => Cell::Float,
            _ => Cell::Text,
        }
    }

    fn convert(self, text: &str) -> Option<Json> {
        match self {
            Cell::Integer => text.parse::<i64>().ok().map(Json::from),
            Cell::Float => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Json::Number),
            Cell::Boolean => text.parse::<bool>().ok().map(Json::Bool),
            Cell::Text => Some(Json::String(text.to_owned())),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cell::Integer => "integers",
            Cell::Float => "numbers",
            Cell::Boolean => "booleans",
            Cell::Text => "text",
        }
    }
}

/// The cells that stand for a missing value by default, besides an empty one: as R, pandas
/// and SQL tools write them.
pub const NULL_TOKENS: [&str; 4] = ["NA", "N/A", "null", "NULL"];

/// Reads CSV with a header row. Each column is typed from the first [`CSV_SAMPLE_ROWS`] rows:
/// integers, numbers, booleans (`true`/`false`), or text; an empty cell, or one equal to a
/// token of `nulls`, is null and does not count for the type. A later cell that does not fit
/// its column's type is an error naming its line. Windows line ends are read as line ends.
pub fn csv<R: Read>(reader: R, nulls: &[String]) -> Result<impl Iterator<Item = Numbered> + use<R>, StoreError> {
    let nulls: Vec<String> = nulls.to_vec();
    let is_null = move |cell: &str| cell.is_empty() || nulls.iter().any(|n| n == cell);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(Unix::new(reader));
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| StoreError::InvalidDocument {
            line: 1,
            message: format!("is not a CSV header row: {e}"),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut records = reader.into_records();
    let mut sample = Vec::new();
    let mut types: Vec<Option<Cell>> = vec![None; headers.len()];
    for record in records.by_ref().take(CSV_SAMPLE_ROWS) {
        let record = record.map_err(csv_error)?;
        for (t, cell) in types.iter_mut().zip(record.iter()) {
            if !is_null(cell) {
                *t = Some(t.map_or(Cell::of(cell), |t| t.join(Cell::of(cell))));
            }
        }
        sample.push(record);
    }
    let types: Vec<Cell> = types.into_iter().map(|t| t.unwrap_or(Cell::Text)).collect();
    let to_doc = move |record: csv::StringRecord| -> Numbered {
        let line = record.position().map_or(0, csv::Position::line);
        let mut values = Vec::with_capacity(headers.len());
        for ((header, ty), cell) in headers.iter().zip(&types).zip(record.iter()) {
            let value = if is_null(cell) {
                Json::Null
            } else {
                ty.convert(cell).ok_or_else(|| StoreError::InvalidDocument {
                    line,
                    message: format!(
                        "column `{header}` holds `{cell}`, but its first rows hold only {}; \
                         put a row with such a value among the first {CSV_SAMPLE_ROWS}",
                        ty.name()
                    ),
                })?
            };
            values.push((header.clone(), value));
        }
        Ok((line, assemble(values)))
    };
    let rest = records.map(|r| r.map_err(csv_error));
    Ok(sample.into_iter().map(Ok).chain(rest).map(move |r| r.and_then(&to_doc)))
}

/// A CSV error at the line it names, said once: the csv crate's own message repeats the
/// record, line and byte, which the error names already.
fn csv_error(e: csv::Error) -> StoreError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("is not valid CSV: it has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("is not valid CSV: field {} is not UTF-8", err.field() + 1),
        _ => format!("is not valid CSV: {e}"),
    };
    StoreError::InvalidDocument { line, message }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_lines_are_numbered_and_checked() {
        let input = "{\"id\": 1}\n\n{\"id\": 2}\n[1]\n{oops\n";
        let got: Vec<_> = json_lines(input.as_bytes()).collect();
        assert_eq!(got[0].as_ref().unwrap(), &(1, json!({"id": 1})));
        assert_eq!(got[1].as_ref().unwrap(), &(3, json!({"id": 2})));
        assert!(
            got[2]
                .as_ref()
                .unwrap_err()
                .to_string()
                .starts_with("line 4: is not a JSON object")
        );
        assert_eq!(
            got[3].as_ref().unwrap_err().to_string(),
            "line 5: is not JSON: key must be a string at column 2"
        );
        // The file's line, once: not serde_json's "line 1" of the one line it read.
        let trailing: Vec<_> = json_lines("{\"id\": 1}\n{\"id\": 2} x\n".as_bytes()).collect();
        assert_eq!(
            trailing[1].as_ref().unwrap_err().to_string(),
            "line 2: is not JSON: trailing characters at column 11"
        );
    }

    #[test]
    fn csv_errors_name_their_line_once() {
        let input = "id,n\n1,2\n2\n";
        let Err(e) = csv(input.as_bytes(), &[]) else {
            panic!("a short row is refused")
        };
        assert_eq!(
            e.to_string(),
            "line 3: is not valid CSV: it has 1 fields where the header has 2"
        );
    }

    #[test]
    fn csv_columns_are_typed_and_nested() {
        let input = "id,n,x,flag,m.t,name\n1,2,1.5,true,2021-01-01T00:00:00Z,a\n2,,3,false,,\"b, c\"\n";
        let docs: Vec<_> = csv(input.as_bytes(), &[]).unwrap().map(Result::unwrap).collect();
        assert_eq!(
            docs[0],
            (
                2,
                json!({"id": 1, "n": 2, "x": 1.5, "flag": true, "m": {"t": "2021-01-01T00:00:00Z"}, "name": "a"})
            )
        );
        assert_eq!(
            docs[1],
            (
                3,
                json!({"id": 2, "n": null, "x": 3.0, "flag": false, "m": {"t": null}, "name": "b, c"})
            )
        );
    }

    #[test]
    fn json_documents_are_arrays_or_objects_of_records_at_a_path() {
        let array = r#"[{"id": 1}, {"id": 2, "a": [1, {"b": 2}]}]"#;
        let got: Vec<_> = json_document(array.as_bytes(), "").map(Result::unwrap).collect();
        assert_eq!(
            got,
            vec![(1, json!({"id": 1})), (2, json!({"id": 2, "a": [1, {"b": 2}]}))]
        );
        let object = "{\n  \"7\": {\"n\": \"x\"},\n  \"9\": {\"n\": \"y\"}\n}";
        let got: Vec<_> = json_document(object.as_bytes(), "").map(Result::unwrap).collect();
        assert_eq!(
            got,
            vec![(1, json!({"n": "x", "@key": "7"})), (2, json!({"n": "y", "@key": "9"}))]
        );
        let nested = r#"{"meta": {"n": [1]}, "data": {"items": [{"id": 3}]}, "after": 1}"#;
        let got: Vec<_> = json_document(nested.as_bytes(), "data.items")
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, vec![(1, json!({"id": 3}))]);
        let missing: Vec<_> = json_document(nested.as_bytes(), "data.nope").collect();
        let e = missing[0].as_ref().unwrap_err().to_string();
        assert!(
            e.contains("no array or object of records at `data.nope`") && e.contains("--records-path"),
            "{e}"
        );
        let cut: Vec<_> = json_document("[{\"id\": 1}, {\"id\"".as_bytes(), "").collect();
        assert!(
            cut.last()
                .unwrap()
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("is not JSON")
        );
        let scalar: Vec<_> = json_document("[{\"id\": 1}, 2]".as_bytes(), "").collect();
        assert_eq!(
            scalar[1].as_ref().unwrap_err().to_string(),
            "line 2: is not a JSON object (records are counted from 1 in the document)"
        );
    }

    /// A reader of an array far larger than memory, made as it is read.
    struct Endless {
        served: std::sync::Arc<std::sync::atomic::AtomicU64>,
        pending: Vec<u8>,
        next: u64,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.pending.is_empty() {
                let prefix = if self.next == 0 { "[" } else { "," };
                self.pending =
                    format!("{prefix}{{\"id\": {}, \"pad\": \"{}\"}}", self.next, "x".repeat(200)).into_bytes();
                self.next += 1;
            }
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            self.served.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            Ok(n)
        }
    }

    #[test]
    fn a_json_array_is_read_as_a_stream() {
        let served = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let endless = Endless {
            served: served.clone(),
            pending: Vec::new(),
            next: 0,
        };
        let first: Vec<_> = json_document(endless, "").take(1000).map(Result::unwrap).collect();
        assert_eq!(first[999].1["id"], 999);
        // The array never ends; records came out after a bounded read (those taken, those
        // queued, and a buffer), so memory holds a few records whatever the input's size.
        let read = served.load(std::sync::atomic::Ordering::Relaxed);
        assert!(read < 2 << 20, "read {read} bytes for 1000 records of about 230");
    }

    #[test]
    fn windows_line_ends_are_line_ends() {
        let mut text = String::new();
        Unix::new("a\r\nb\r\r\nc\r".as_bytes())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "a\nb\r\nc\r");
        let err = csv("a,b\r\n1,2\r\n3\r\n".as_bytes(), &[]).err().unwrap();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }

    #[test]
    fn null_tokens_are_missing_and_do_not_type_a_column() {
        let input = "id,mass,sex\n1,3750,male\n2,NA,NA\n3,,female\n";
        let nulls: Vec<String> = NULL_TOKENS.iter().map(|t| (*t).to_owned()).collect();
        let docs: Vec<_> = csv(input.as_bytes(), &nulls).unwrap().map(Result::unwrap).collect();
        assert_eq!(docs[0].1, json!({"id": 1, "mass": 3750, "sex": "male"}));
        assert_eq!(docs[1].1, json!({"id": 2, "mass": null, "sex": null}));
        assert_eq!(docs[2].1, json!({"id": 3, "mass": null, "sex": "female"}));
        let kept: Vec<_> = csv(input.as_bytes(), &["-".to_owned()])
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kept[1].1, json!({"id": 2, "mass": "NA", "sex": "NA"}));
    }

    #[test]
    fn formats_are_told_by_their_content() {
        assert_eq!(Format::sniff(b"  [\n {"), Format::Json);
        assert_eq!(Format::sniff(b"{\"id\": 1}\n{\"id\": 2}\n"), Format::JsonLines);
        assert_eq!(Format::sniff(b"{\n  \"a\": {\"id\": 1}\n}"), Format::Json);
        assert_eq!(Format::sniff(b"{\"1\": {\"n\": 1}, \"2\": {\"n\": 2}}"), Format::Json);
        assert_eq!(Format::sniff(b"id,name\n1,a\n"), Format::Csv);
        assert_eq!(Format::from_name("A.CSV"), Some(Format::Csv));
        assert_eq!(Format::from_name("x.ndjson"), Some(Format::JsonLines));
        assert_eq!(Format::from_name("x.json"), None);
    }

    #[test]
    fn numbers_keep_every_digit() {
        // Without serde_json's exact float parsing, this came back as 205.02.
        let (_, doc) = json_lines("{\"x\": 205.01999999999998}".as_bytes())
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(doc["x"].as_f64(), Some(205.01999999999998));
        assert_eq!(doc.to_string(), "{\"x\":205.01999999999998}");
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = csv("a,b\n1,2\n3\n".as_bytes(), &[]).err().unwrap();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }
}
