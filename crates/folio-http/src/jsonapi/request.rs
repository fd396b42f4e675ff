//! Parsing a JSON:API list request into engine terms (parse, then validate into types).

use folio_engine::projection::Projection;
use folio_engine::{CursorCodec, Filter, Position, Sort};

use crate::error::ApiError;
use crate::paging::{self, At, Paging, Window};
use crate::params::{self, invalid};
use crate::state::{HttpConfig, Readable, Reading};

/// The pagination parameters of this style; any other `page[...]` is a misspelling.
pub(crate) const PAGE_PARAMS: [&str; 6] = [
    "page[number]",
    "page[size]",
    "page[cursor]",
    "page[after]",
    "page[before]",
    "page[total]",
];

/// The parameters that take cursors.
const CURSOR_PARAMS: [&str; 3] = ["page[cursor]", "page[after]", "page[before]"];

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
    /// Collection, filter, sort, the `fields[{collection}]` projection, size and position.
    pub(crate) paging: Paging,
    /// The cursor parameter the client used, so that links keep it: `page[cursor]`
    /// (DataCite), or `page[after]`/`page[before]` (the cursor profile); `None` for page
    /// numbers.
    pub(crate) cursor_param: Option<&'static str>,
    pub(crate) total: TotalMode,
    /// The parameters every link of the response repeats (sort, filters, fields), as given.
    pub(crate) carry: Vec<(String, String)>,
}

impl ListRequest {
    /// The collection, filter, sort and projection asked for.
    pub fn query(&self) -> &folio_store::Query {
        self.paging.query()
    }
}

/// The `fields[{collection}]` of `GET /jsonapi/{collection}/{id}`: the paths the record keeps,
/// if given. Other parameters do not apply to one record and are ignored.
pub(crate) fn record_fields(collection: &str, raw: Option<&str>) -> Result<Option<Projection>, ApiError> {
    let name = format!("fields[{collection}]");
    let mut found = None;
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if key == name.as_str() {
            if found.is_some() {
                return Err(invalid(
                    &name,
                    "is given more than once; give one comma-separated list".into(),
                ));
            }
            found = Some(Projection::parse(value.split(','), &name)?);
        }
    }
    Ok(found)
}

/// Parses and validates the query string `raw` of `GET /jsonapi/{collection}` for
/// `collection`, under the `jsonapi` limits of `config`, verifying cursors with `codec`:
/// everything the handler checks before it asks the store for anything.
pub fn parse_list(
    codec: &CursorCodec,
    collection: &Readable,
    raw: Option<&str>,
    config: &HttpConfig,
) -> Result<ListRequest, ApiError> {
    let given = Given::read(collection.name(), raw)?;
    let mut reading = given.reading(collection)?;
    let get = |name: &str| given.page.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str());
    let mut window = Window::sized(config.jsonapi, get("page[size]"), "page[size]")?;
    let total = match get("page[total]") {
        None => TotalMode::Auto,
        Some("exact") => TotalMode::Exact,
        Some("capped") => TotalMode::Capped,
        Some("none") => TotalMode::None,
        Some(other) => {
            return Err(invalid(
                "page[total]",
                format!("is `{}`; expected exact, capped or none", params::short(other)),
            ));
        }
    };
    let cursors: Vec<&'static str> = CURSOR_PARAMS.into_iter().filter(|p| get(p).is_some()).collect();
    let (cursor_param, at) = match (cursors.as_slice(), get("page[number]")) {
        ([], number) => {
            let number = paging::page_number(number, "page[number]")?.unwrap_or(1);
            let instead = "cursor pagination (page[cursor]=1, then follow links.next)";
            (None, window.page(number, "page[number]", instead)?)
        }
        ([param], None) => {
            let position = cursor(codec, &mut reading, param, get(param).unwrap_or_default())?;
            (Some(*param), At::Position(position))
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
        paging: Paging { reading, window, at },
        cursor_param,
        total,
        carry: given.carry,
    })
}

/// The position a cursor `token` given in `param` names: `page[cursor]=1` is the start, and
/// `page[after]`/`page[before]` say the direction whatever the token's.
fn cursor(codec: &CursorCodec, reading: &mut Reading, param: &'static str, token: &str) -> Result<Position, ApiError> {
    let position = match (param, token) {
        ("page[cursor]", "1") => Position::Start,
        (_, token) => reading.decode(codec, token, param)?,
    };
    Ok(match (param, position) {
        ("page[after]", Position::After(k) | Position::Before(k)) => Position::After(k),
        ("page[before]", Position::After(k) | Position::Before(k)) => Position::Before(k),
        ("page[after]", Position::End) => {
            return Err(invalid(
                "page[after]",
                "holds the end-of-collection cursor, which only page[before] and page[cursor] accept".into(),
            ));
        }
        (_, position) => position,
    })
}

/// The parameters of a request, sorted by family, before they are checked against the
/// collection.
#[derive(Default)]
struct Given {
    sort: Option<String>,
    page: Vec<(&'static str, String)>,
    /// `filter[path]` and `filter[path][op]`: (parameter, path, operator, value).
    filters: Vec<(String, String, String, String)>,
    filter_json: Option<String>,
    fields: Option<Projection>,
    carry: Vec<(String, String)>,
}

/// The query of a request that takes `sort`, `filter`, `filter[...]` and
/// `fields[{collection}]` as `GET /jsonapi/{collection}` does, from its other parameters
/// (`pairs`, decoded, `page[...]` taken out). The downloads of `/export` take their query so.
pub(crate) fn parse_query(
    collection: &Readable,
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<Reading, ApiError> {
    let mut given = Given::default();
    for (key, value) in pairs {
        given.take(collection.name(), key, value)?;
    }
    given.reading(collection)
}

impl Given {
    fn read(collection: &str, raw: Option<&str>) -> Result<Given, ApiError> {
        let mut given = Given::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            given.take(collection, key.into_owned(), value.into_owned())?;
        }
        Ok(given)
    }

    /// Files one parameter.
    fn take(&mut self, collection: &str, key: String, value: String) -> Result<(), ApiError> {
        let once = |param: &str, advice: &str| invalid(param, format!("is given more than once; {advice}"));
        if key == "sort" {
            if self.sort.replace(value.clone()).is_some() {
                return Err(once("sort", "give one comma-separated list"));
            }
        } else if key == "page" || key.starts_with("page[") {
            let known = page_param(&key)?;
            if self.page.iter().any(|(k, _)| *k == known) {
                return Err(invalid(known, "is given more than once".into()));
            }
            self.page.push((known, value));
            return Ok(());
        } else if key == "filter" {
            if self.filter_json.replace(value.clone()).is_some() {
                return Err(once("filter", "combine the filters with `and`"));
            }
        } else if let Some(inner) = key.strip_prefix("filter[").and_then(|k| k.strip_suffix(']')) {
            let (path, op) = inner.split_once("][").unwrap_or((inner, "eq"));
            self.filters
                .push((key.clone(), path.to_owned(), op.to_owned(), value.clone()));
        } else if let Some(ty) = key.strip_prefix("fields[").and_then(|k| k.strip_suffix(']')) {
            // Sparse fieldsets name the resource type; those of other types do not apply.
            if ty != collection {
                return Ok(());
            }
            if self.fields.is_some() {
                return Err(once(&key, "give one comma-separated list"));
            }
            self.fields = Some(Projection::parse(value.split(','), &key)?);
        } else {
            return reserved(&key);
        }
        self.carry.push((key, value));
        Ok(())
    }

    /// The query the parameters ask for.
    fn reading(&self, collection: &Readable) -> Result<Reading, ApiError> {
        let schema = collection.schema();
        let sort = match &self.sort {
            Some(text) => Sort::parse(text, schema, "sort")?,
            None => Sort::by_id(),
        };
        let mut filter = Filter::all();
        for (param, path, op, value) in &self.filters {
            filter.push_text(schema, path, op, value, param)?;
        }
        if let Some(text) = &self.filter_json {
            let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                invalid(
                    "filter",
                    format!("is not JSON ({e}); give an object such as {{\"provider\": \"aflow\"}}"),
                )
            })?;
            filter.push_json(schema, &json, "filter")?;
        }
        Ok(collection.reading(filter, sort, self.fields.clone()))
    }
}

/// The pagination parameter `key` names, or an error with the closest one.
fn page_param(key: &str) -> Result<&'static str, ApiError> {
    if let Some(known) = PAGE_PARAMS.iter().find(|p| **p == key) {
        return Ok(known);
    }
    let hint = params::closest(key, &PAGE_PARAMS)
        .map(|close| format!(" (did you mean `{close}`?)"))
        .unwrap_or_default();
    Err(invalid(
        key,
        format!(
            "is not a pagination parameter of this API{hint}; known ones: {}",
            PAGE_PARAMS.join(", ")
        ),
    ))
}

/// JSON:API reserves names of lower-case letters alone for itself: a server that does not
/// support one must answer 400. Implementation-specific names (with any other character, such
/// as `access_token`) are ignored.
fn reserved(key: &str) -> Result<(), ApiError> {
    let family = key.split('[').next().unwrap_or(key);
    if family.is_empty() || !family.bytes().all(|b| b.is_ascii_lowercase()) {
        return Ok(());
    }
    let message = if family == "include" {
        "is not supported: records have no relationships to include; `fields[...]` chooses the paths records keep"
            .to_owned()
    } else {
        let hint = params::closest(family, &["sort", "filter", "page", "fields"])
            .map(|close| format!(" (did you mean `{close}`?)"))
            .unwrap_or_default();
        format!("is not a parameter of this API{hint}; accepted: sort, filter, filter[...], page[...], fields[...]")
    };
    Err(invalid(key, message))
}
