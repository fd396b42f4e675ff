//! Parsing a download request: the file asked for, its query as `/jsonapi` takes it, and
//! where a resumed download starts.

use folio_engine::projection::Projection;
use folio_engine::{CursorCodec, Position};

use crate::error::ApiError;
use crate::params::invalid;
use crate::state::{Readable, Reading};

/// The parameter that carries the download's cursor (its `Folio-Cursor` header, or a JSON:API
/// walk's `next` cursor).
pub(crate) const CURSOR_PARAM: &str = "cursor";

/// The parameter that names the last record received: a resumed download starts after it.
pub(crate) const AFTER_PARAM: &str = "after";

/// What a download is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines: each record's document on a line of its own.
    Ndjson,
    /// RFC 4180 CSV: a header of paths, then a row per record.
    Csv,
}

impl Format {
    /// Every format, as file extensions name them.
    pub(crate) const ALL: [Format; 2] = [Format::Ndjson, Format::Csv];

    /// The file extension.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }

    /// What people call the format.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Format::Ndjson => "JSON Lines",
            Format::Csv => "CSV",
        }
    }

    /// The media type of the body.
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8; header=present",
        }
    }

    /// The collection and format a file name (`{collection}.ndjson`, `{collection}.csv`) asks
    /// for.
    pub(crate) fn split(file: &str) -> Result<(&str, Format), ApiError> {
        let found = file.rsplit_once('.').and_then(|(name, extension)| {
            let format = Format::ALL.into_iter().find(|f| f.extension() == extension)?;
            Some((name, format))
        });
        found.ok_or_else(|| {
            ApiError::UnknownRoute(format!(
                "/export/{file}; downloads are /export/{{collection}}.ndjson and /export/{{collection}}.csv"
            ))
        })
    }
}

/// A checked download request, as [`parse_export`] makes it.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The collection, filter, sort and projection, with the snapshot (and the partition's
    /// end) of its cursor when it came with one.
    pub(crate) reading: Reading,
    /// Where the download starts: the start of the result, or where its cursor stands.
    pub(crate) start: Position,
    /// The id of the last record a broken download received: it resumes after that record.
    pub(crate) after: Option<String>,
    /// NDJSON or CSV.
    pub(crate) format: Format,
    /// The columns of a CSV download: the id's path, then the projected paths (or every
    /// indexed path).
    pub(crate) columns: Vec<String>,
}

impl ExportRequest {
    /// The collection, filter, sort and projection asked for.
    pub fn query(&self) -> &folio_store::Query {
        self.reading.query()
    }

    /// The columns of a CSV download, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

/// Parses and validates the query string `raw` of `GET /export/{collection}.{format}`:
/// `sort`, `filter`, `filter[...]` and `fields[{collection}]` as `GET /jsonapi/{collection}`
/// takes them, `cursor` (a download's `Folio-Cursor`, or a walk's cursor: the download then
/// reads that walk's snapshot, from its position) and `after` (the id of the last record
/// received). A download has every record, so `page[...]` has no place in it.
pub fn parse_export(
    codec: &CursorCodec,
    collection: &Readable,
    format: Format,
    raw: Option<&str>,
) -> Result<ExportRequest, ApiError> {
    let mut cursor = None;
    let mut after = None;
    let mut rest = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let slot = match key.as_ref() {
            CURSOR_PARAM => &mut cursor,
            AFTER_PARAM => &mut after,
            page if page == "page" || page.starts_with("page[") => {
                return Err(invalid(
                    page,
                    "does not apply to a download, which streams every record of the result; \
                     to resume one, give `cursor` (its Folio-Cursor header) and `after` (the id of the last record received)"
                        .into(),
                ));
            }
            _ => {
                rest.push((key.into_owned(), value.into_owned()));
                continue;
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(invalid(&key, "is given more than once".into()));
        }
    }
    let mut reading = crate::jsonapi::parse_query(collection, rest)?;
    let start = match cursor {
        None => Position::Start,
        Some(token) => match reading.decode(codec, &token, CURSOR_PARAM)? {
            position @ (Position::Start | Position::After(_)) => position,
            _ => {
                return Err(invalid(
                    CURSOR_PARAM,
                    "names a position that reads backwards (a `prev` or `last` link's); give a download's \
                     Folio-Cursor, or a walk's `next` cursor"
                        .into(),
                ));
            }
        },
    };
    if let Some(id) = &after
        && id.is_empty()
    {
        return Err(invalid(
            AFTER_PARAM,
            "is empty; give the id of the last record received".into(),
        ));
    }
    let schema = collection.schema();
    // Every line and row holds the id, whatever `fields` says: it is how a broken download
    // says where to resume (`after`).
    let mut columns = vec![schema.id_path.clone()];
    match &reading.query().fields {
        Some(projection) => {
            columns.extend(projection.paths().iter().filter(|p| **p != schema.id_path).cloned());
            let param = format!("fields[{}]", collection.name());
            reading.project(Projection::parse(&columns, &param)?);
        }
        None => columns.extend(
            schema
                .indexed
                .iter()
                .filter(|p| p.path != schema.id_path)
                .map(|p| p.path.clone()),
        ),
    }
    Ok(ExportRequest {
        reading,
        start,
        after,
        format,
        columns,
    })
}
