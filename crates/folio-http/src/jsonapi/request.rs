//! Parsing a JSON:API list request into engine terms (parse, then validate into types).

use std::sync::Arc;

use folio_engine::limits::parse_count;
use folio_engine::projection::Projection;
use folio_engine::{CollectionSchema, CursorCodec, EngineError, Filter, Position, Sort};
use folio_store::Query;

use crate::params;
use crate::state::{HttpConfig, decode_cursor};

/// The pagination parameters of this style; any other `page[...]` is a misspelling.
pub(crate) const PAGE_PARAMS: [&str; 6] = [
    "page[number]",
    "page[size]",
    "page[cursor]",
    "page[after]",
    "page[before]",
    "page[total]",
];

/// How the page is chosen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mode {
    /// Page-number pagination: the 1-based page number, within the offset window.
    Number(u64),
    /// Cursor pagination. `param` is the parameter the client used, so that links keep it:
    /// `page[cursor]` (DataCite), or `page[after]`/`page[before]` (the cursor profile).
    Cursor { param: &'static str, position: Position },
}

/// What `page[total]` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TotalMode {
    /// Exact for filters an index answers, capped for others (the default).
    Auto,
    /// Always exact.
    Exact,
    /// Count up to the server's cap.
    Capped,
    /// No total.
    None,
}

/// A checked `GET /jsonapi/{collection}` request, as [`parse_list`] makes it.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// Collection, filter, sort and the `fields[{collection}]` projection.
    pub(crate) query: Query,
    pub(crate) size: u64,
    pub(crate) mode: Mode,
    pub(crate) total: TotalMode,
    /// The parameters every link of the response repeats (sort, filters, fields), as given.
    pub(crate) carry: Vec<(String, String)>,
}

impl ListRequest {
    /// The collection, filter, sort and projection asked for.
    pub fn query(&self) -> &Query {
        &self.query
    }
}

/// The `fields[{collection}]` of `GET /jsonapi/{collection}/{id}`: the paths the record keeps,
/// if given. Other parameters do not apply to one record and are ignored.
pub(crate) fn record_fields(collection: &str, raw: Option<&str>) -> Result<Option<Projection>, EngineError> {
    let name = format!("fields[{collection}]");
    let mut found = None;
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if key == name.as_str() {
            if found.is_some() {
                return Err(EngineError::InvalidParameter {
                    param: name,
                    message: "is given more than once; give one comma-separated list".into(),
                });
            }
            found = Some(Projection::parse(value.split(','), &name)?);
        }
    }
    Ok(found)
}

/// Parses and validates the query string `raw` of `GET /jsonapi/{collection}` for the
/// collection with `schema`, under the `jsonapi` limits of `config`, verifying cursors with
/// `codec` as issued to the principal `reader` (`None`: anonymous, and every public
/// collection): everything the handler checks before it asks the store for anything.
pub fn parse_list(
    codec: &CursorCodec,
    reader: Option<&str>,
    schema: Arc<CollectionSchema>,
    raw: Option<&str>,
    config: &HttpConfig,
) -> Result<ListRequest, EngineError> {
    let limits = &config.jsonapi;
    let invalid = |param: &str, message: String| EngineError::InvalidParameter {
        param: param.to_owned(),
        message,
    };
    let mut sort_text = None;
    let mut page: Vec<(&'static str, String)> = Vec::new();
    let mut filters = Vec::new();
    let mut filter_json = None;
    let mut fields = None;
    let mut carry = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let (key, value) = (key.into_owned(), value.into_owned());
        if key == "sort" {
            if sort_text.replace(value.clone()).is_some() {
                return Err(invalid(
                    "sort",
                    "is given more than once; give one comma-separated list".into(),
                ));
            }
            carry.push((key, value));
        } else if key == "page" || key.starts_with("page[") {
            let Some(known) = PAGE_PARAMS.iter().find(|p| **p == key) else {
                let hint = params::closest(&key, &PAGE_PARAMS)
                    .map(|close| format!(" (did you mean `{close}`?)"))
                    .unwrap_or_default();
                return Err(invalid(
                    &key,
                    format!(
                        "is not a pagination parameter of this API{hint}; known ones: {}",
                        PAGE_PARAMS.join(", ")
                    ),
                ));
            };
            if page.iter().any(|(k, _)| k == known) {
                return Err(invalid(known, "is given more than once".into()));
            }
            page.push((known, value));
        } else if key == "filter" {
            if filter_json.replace(value.clone()).is_some() {
                return Err(invalid(
                    "filter",
                    "is given more than once; combine the filters with `and`".into(),
                ));
            }
            carry.push((key, value));
        } else if let Some(inner) = key.strip_prefix("filter[").and_then(|k| k.strip_suffix(']')) {
            let (path, op) = match inner.split_once("][") {
                Some((path, op)) => (path.to_owned(), op.to_owned()),
                None => (inner.to_owned(), "eq".to_owned()),
            };
            filters.push((key.clone(), path, op, value.clone()));
            carry.push((key, value));
        } else if let Some(ty) = key.strip_prefix("fields[").and_then(|k| k.strip_suffix(']')) {
            // Sparse fieldsets name the resource type; those of other types do not apply.
            if ty == schema.name {
                if fields.is_some() {
                    return Err(invalid(
                        &key,
                        "is given more than once; give one comma-separated list".into(),
                    ));
                }
                fields = Some(Projection::parse(value.split(','), &key)?);
                carry.push((key, value));
            }
        } else {
            // JSON:API reserves names of lower-case letters alone for itself: a server that
            // does not support one must answer 400. Implementation-specific names (with any
            // other character, such as `access_token`) are ignored.
            let family = key.split('[').next().unwrap_or(&key);
            if !family.is_empty() && family.bytes().all(|b| b.is_ascii_lowercase()) {
                let message = if family == "include" {
                    "is not supported: records have no relationships to include; `fields[...]` chooses the paths records keep".to_owned()
                } else {
                    let hint = params::closest(family, &["sort", "filter", "page", "fields"])
                        .map(|close| format!(" (did you mean `{close}`?)"))
                        .unwrap_or_default();
                    format!(
                        "is not a parameter of this API{hint}; accepted: sort, filter, filter[...], page[...], fields[...]"
                    )
                };
                return Err(invalid(&key, message));
            }
        }
    }

    let sort = match &sort_text {
        Some(text) => Sort::parse(text, &schema, "sort")?,
        None => Sort::by_id(),
    };
    let mut filter = Filter::all();
    for (param, path, op, value) in &filters {
        filter.push_text(&schema, path, op, value, param)?;
    }
    if let Some(text) = &filter_json {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            invalid(
                "filter",
                format!("is not JSON ({e}); give an object such as {{\"provider\": \"aflow\"}}"),
            )
        })?;
        filter.push_json(&schema, &json, "filter")?;
    }
    let query = Query {
        schema,
        filter,
        sort,
        fields,
    };

    let get = |name: &str| page.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str());
    let size = limits.parse_size(get("page[size]"), "page[size]")?;
    let total = match get("page[total]") {
        None => TotalMode::Auto,
        Some("exact") => TotalMode::Exact,
        Some("capped") => TotalMode::Capped,
        Some("none") => TotalMode::None,
        Some(other) => {
            return Err(invalid(
                "page[total]",
                format!(
                    "is `{}`; expected exact, capped or none",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    };
    let cursor_params: Vec<&'static str> = ["page[cursor]", "page[after]", "page[before]"]
        .into_iter()
        .filter(|p| get(p).is_some())
        .collect();
    let mode = match (cursor_params.as_slice(), get("page[number]")) {
        ([], number) => {
            let number = match number {
                None => 1,
                Some(text) => match parse_count(text, "page[number]", "a whole number from 1")? {
                    0 => {
                        return Err(invalid("page[number]", "is 0; page numbers start at 1".into()));
                    }
                    n => n,
                },
            };
            let offset = (number - 1).saturating_mul(size);
            let instead = "cursor pagination (page[cursor]=1, then follow links.next)";
            limits.check_offset(offset, size, "page[number]", instead)?;
            Mode::Number(number)
        }
        ([param], None) => {
            let token = get(param).unwrap_or_default();
            let position = match (*param, token) {
                ("page[cursor]", "1") => Position::Start,
                (_, token) => decode_cursor(codec, reader, &query, token, param)?,
            };
            let position = match (*param, position) {
                ("page[after]", Position::After(k) | Position::Before(k)) => Position::After(k),
                ("page[before]", Position::After(k) | Position::Before(k)) => Position::Before(k),
                ("page[after]", Position::End) => {
                    return Err(invalid(
                        "page[after]",
                        "holds the end-of-collection cursor, which only page[before] and page[cursor] accept".into(),
                    ));
                }
                (_, position) => position,
            };
            Mode::Cursor { param, position }
        }
        (params, number) => {
            let mut given: Vec<&str> = params.to_vec();
            given.extend(number.map(|_| "page[number]"));
            return Err(invalid(
                given[0],
                format!(
                    "cannot be combined with {}; use page[number] for page numbers, or one of \
                     page[cursor], page[after], page[before] for cursors",
                    given[1..].join(", ")
                ),
            ));
        }
    };
    Ok(ListRequest {
        query,
        size,
        mode,
        total,
        carry,
    })
}
