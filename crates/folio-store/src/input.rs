//! Reading documents to import: JSON Lines and CSV, each document numbered by its line.

use std::io::{BufRead, Read};

use folio_engine::projection::assemble;
use serde_json::Value as Json;

use crate::StoreError;

/// The formats `folio import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line; blank lines are skipped.
    JsonLines,
    /// Comma-separated values with a header row; dotted headers (`a.b`) make nested objects.
    Csv,
}

impl Format {
    /// The format a file name suggests: `.csv` is CSV, anything else JSON Lines.
    pub fn from_name(name: &str) -> Format {
        if name.to_ascii_lowercase().ends_with(".csv") {
            Format::Csv
        } else {
            Format::JsonLines
        }
    }
}

/// A document numbered by its line, or the error that ends the input.
pub type Numbered = Result<(u64, Json), StoreError>;

/// Rows of a CSV file read ahead to decide the type of each column.
pub const CSV_SAMPLE_ROWS: usize = 10_000;

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
                message: format!("is not JSON: {e}"),
            }),
        })
    })
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

/// Reads CSV with a header row. Each column is typed from the first [`CSV_SAMPLE_ROWS`] rows:
/// integers, numbers, booleans (`true`/`false`), or text; an empty cell is null. A later cell
/// that does not fit its column's type is an error naming its line.
pub fn csv(reader: impl Read) -> Result<impl Iterator<Item = Numbered>, StoreError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
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
            if !cell.is_empty() {
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
            let value = if cell.is_empty() {
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

fn csv_error(e: csv::Error) -> StoreError {
    let line = e.position().map_or(0, csv::Position::line);
    StoreError::InvalidDocument {
        line,
        message: format!("is not valid CSV: {e}"),
    }
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
        assert!(
            got[3]
                .as_ref()
                .unwrap_err()
                .to_string()
                .starts_with("line 5: is not JSON")
        );
    }

    #[test]
    fn csv_columns_are_typed_and_nested() {
        let input = "id,n,x,flag,m.t,name\n1,2,1.5,true,2021-01-01T00:00:00Z,a\n2,,3,false,,\"b, c\"\n";
        let docs: Vec<_> = csv(input.as_bytes()).unwrap().map(Result::unwrap).collect();
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
    fn csv_errors_name_the_line() {
        let err = csv("a,b\n1,2\n3\n".as_bytes()).err().unwrap();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }
}
