//! The `hal` style: HAL as Akeneo's REST API uses it.
//!
//! - `GET /hal/{collection}`: `limit` (1..=100, default 10); `pagination_type=page` (default)
//!   with `page` and `with_count`, or `pagination_type=search_after` with `search_after=<id>`;
//!   records in id order; `search=<JSON filter>` in folio's query language.
//! - `GET /hal/{collection}/{id}`: one record.
//!
//! Body: `_links` (`self`, `first`, `previous` except on the first page, `next` except on the
//! last, `last` when counted), `current_page`, `items_count`/`pages_count` with
//! `with_count=true`, and `_embedded.items`, each item with its own `_links.self`.
//! Past the offset window, `next` switches to `search_after`, so every link resolves.
//! Errors: `{"code": status, "message": "..."}`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use folio_engine::page::plan;
use folio_engine::{CollectionSchema, EngineError, Filter, Position, Sort, Value, ValueRef, transparent};
use folio_store::{Count, Query};
use serde_json::json;

use crate::access::Caller;
use crate::body::Body;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::params::{self, invalid};
use crate::state::{AppState, HttpConfig};

/// The pagination parameters of this style.
pub(crate) const PAGINATION: [&str; 5] = ["limit", "page", "with_count", "pagination_type", "search_after"];

/// The routes of this style, to be nested under `/hal`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{collection}", get(list))
        .route("/{collection}/{id}", get(one))
        .fallback(
            |axum::extract::OriginalUri(uri): axum::extract::OriginalUri| async move {
                error(&ApiError::UnknownRoute(uri.path().to_owned()))
            },
        )
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
) -> Response {
    match state.record(&caller, &collection, &id, None).await {
        Ok((_, _, doc)) => {
            let mut body = Body::with_capacity(doc.len() + 128);
            item(
                &mut body,
                &self_prefix(&collection),
                ValueRef::Text(&id),
                doc.as_bytes(),
            );
            respond(StatusCode::OK, body.finish(), &[])
        }
        Err(e) => error(&e),
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_page(&state, &caller, &collection, raw.as_deref())
        .await
        .unwrap_or_else(|e| error(&e))
}

/// A checked `GET /hal/{collection}` request, as [`parse_list`] makes it.
#[derive(Debug, Clone)]
pub struct ListRequest {
    query: Query,
    limit: u64,
    with_count: bool,
    position: Position,
    /// The page number, in page mode.
    page_number: Option<u64>,
    /// `search` and `search_after` as given, for the links.
    search: Option<String>,
    search_after: Option<String>,
}

impl ListRequest {
    /// The collection, filter and sort asked for.
    pub fn query(&self) -> &Query {
        &self.query
    }
}

/// Parses and validates the query string `raw` of `GET /hal/{collection}` for the collection
/// with `schema`, under the `hal` limits of `config`: everything the handler checks before it
/// asks the store for anything.
pub fn parse_list(
    schema: Arc<CollectionSchema>,
    raw: Option<&str>,
    config: &HttpConfig,
) -> Result<ListRequest, EngineError> {
    let limits = config.hal;
    let pairs = params::pairs(raw);
    params::check_spelling(pairs.iter().map(|(k, _)| k.as_str()), &PAGINATION)?;
    params::refuse_sorts_and_fields(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), "hal", &schema.name)?;
    let get = |name| params::single(&pairs, name);
    let limit = limits.parse_size(get("limit")?, "limit")?;
    let with_count = params::boolean(get("with_count")?, "with_count")?;
    let search_after_mode = match get("pagination_type")? {
        None | Some("page") => false,
        Some("search_after") => true,
        Some(other) => {
            return Err(invalid(
                "pagination_type",
                format!("is `{}`; expected page or search_after", short(other)),
            ));
        }
    };
    let mut filter = Filter::all();
    let search = get("search")?;
    if let Some(text) = search {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            invalid(
                "search",
                format!("is not JSON ({e}); give a filter object such as {{\"provider\": \"aflow\"}}"),
            )
        })?;
        filter.push_json(&schema, &json, "search")?;
    }
    let query = Query {
        schema,
        filter,
        sort: Sort::by_id(),
        fields: None,
    };
    let search_after = get("search_after")?;
    let (position, page_number) = if search_after_mode {
        if get("page")?.is_some() {
            return Err(invalid(
                "page",
                "cannot be used with pagination_type=search_after".into(),
            ));
        }
        let position = match search_after {
            None => Position::Start,
            Some(text) => Position::After(transparent::decode(&query.schema, &query.sort, text, "search_after")?),
        };
        (position, None)
    } else {
        if search_after.is_some() {
            return Err(invalid("search_after", "needs pagination_type=search_after".into()));
        }
        let number = match get("page")? {
            None => 1,
            Some(text) => match folio_engine::limits::parse_count(text, "page", "a whole number from 1")? {
                0 => return Err(invalid("page", "is 0; pages start at 1".into())),
                n => n,
            },
        };
        let offset = (number - 1).saturating_mul(limit);
        limits.check_offset(offset, limit, "page", "pagination_type=search_after")?;
        (Position::Offset(offset), Some(number))
    };
    Ok(ListRequest {
        query,
        limit,
        with_count,
        position,
        page_number,
        search: search.map(str::to_owned),
        search_after: search_after.map(str::to_owned),
    })
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    collection: &str,
    raw: Option<&str>,
) -> Result<Response, ApiError> {
    let schema = state.schema(caller, collection).await?;
    let limits = state.config.hal;
    let ListRequest {
        query,
        limit,
        with_count,
        position,
        page_number,
        search,
        search_after,
    } = parse_list(schema, raw, &state.config)?;

    // Parameters every link repeats.
    let mut carry = vec![("limit".to_owned(), limit.to_string())];
    if with_count {
        carry.push(("with_count".to_owned(), "true".to_owned()));
    }
    if let Some(text) = search {
        carry.push(("search".to_owned(), text));
    }
    let base = Target::new(format!("/hal/{}", links::segment(collection)), carry);
    let after = |key: &[Value]| {
        base.with(&[
            ("pagination_type", "search_after".to_owned()),
            ("search_after", transparent::encode(&query.schema, &query.sort, key)),
        ])
        .href()
    };

    let count = if with_count { Count::Exact } else { Count::Skip };
    let page = state.page(&query, &plan(&query.sort, position, limit), count).await?;

    let mut links: Vec<(&str, String)> = Vec::new();
    let mut body = serde_json::Map::new();
    match page_number {
        Some(number) => {
            let at = |n: u64| base.with(&[("page", n.to_string())]).href();
            let within = |n: u64| {
                limits
                    .check_offset((n - 1).saturating_mul(limit), limit, "", "")
                    .is_ok()
            };
            links.push(("self", at(number)));
            links.push(("first", at(1)));
            if number > 1 {
                links.push(("previous", at(number - 1)));
            }
            if let Some(key) = &page.next {
                links.push(("next", if within(number + 1) { at(number + 1) } else { after(key) }));
            }
            if let Some(total) = page.total {
                let pages = total.count.div_ceil(limit).max(1);
                if within(pages) {
                    links.push(("last", at(pages)));
                }
                body.insert("items_count".into(), json!(total.count));
                body.insert("pages_count".into(), json!(pages));
            }
            body.insert("current_page".into(), json!(number));
        }
        None => {
            let self_href = match search_after {
                Some(text) => base
                    .with(&[("pagination_type", "search_after".to_owned()), ("search_after", text)])
                    .href(),
                None => base.with(&[("pagination_type", "search_after".to_owned())]).href(),
            };
            links.push(("self", self_href));
            links.push((
                "first",
                base.with(&[("pagination_type", "search_after".to_owned())]).href(),
            ));
            if let Some(key) = &page.next {
                links.push(("next", after(key)));
            }
            if let Some(total) = page.total {
                body.insert("items_count".into(), json!(total.count));
            }
        }
    }
    let links_json: serde_json::Map<String, serde_json::Value> = links
        .iter()
        .map(|(rel, href)| ((*rel).to_owned(), json!({"href": href})))
        .collect();
    // `{"_links": ..., <counts>, "_embedded": {"items": [...]}}`, items written in place.
    let mut out = Body::for_records(&page.records, 160);
    out.raw(b"{\"_links\":").value(&links_json);
    for (name, value) in &body {
        out.raw(b",").str(name).raw(b":").value(value);
    }
    out.raw(b",\"_embedded\":{\"items\":[");
    let prefix = self_prefix(collection);
    for (i, record) in page.records.iter().enumerate() {
        if i > 0 {
            out.raw(b",");
        }
        item(&mut out, &prefix, record.id(), record.doc());
    }
    out.raw(b"]}}");
    let header_links: Vec<(&str, String)> = links.into_iter().filter(|(rel, _)| *rel != "self").collect();
    Ok(respond(StatusCode::OK, out.finish(), &header_links))
}

/// `/hal/{collection}/`, percent-encoded: the start of every item's `self` link.
fn self_prefix(collection: &str) -> Vec<u8> {
    let mut prefix = b"/hal/".to_vec();
    links::push_segment(&mut prefix, collection);
    prefix.push(b'/');
    prefix
}

/// A document with its `_links.self` first, spliced into the stored JSON text without
/// parsing it: `{"_links":{"self":{"href":"<prefix><id>"}}, <the document's members>}`.
fn item(body: &mut Body, self_prefix: &[u8], id: ValueRef<'_>, doc: &[u8]) {
    let rest = doc
        .trim_ascii_start()
        .strip_prefix(b"{")
        .map_or(&b"}"[..], <[u8]>::trim_ascii_start);
    body.raw(b"{\"_links\":{\"self\":{\"href\":\"")
        .raw(self_prefix)
        .id_segment(id)
        .raw(b"\"}}");
    if !rest.starts_with(b"}") {
        body.raw(b",");
    }
    body.raw(rest);
}

/// An error in Akeneo's shape: `{"code": status, "message": "..."}`.
pub(crate) fn error(e: &ApiError) -> Response {
    e.log();
    let status = e.status();
    respond(
        status,
        json!({"code": status.as_u16(), "message": e.detail()}).to_string(),
        &[],
    )
}

fn respond(status: StatusCode, body: impl Into<axum::body::Body>, links: &[(&str, String)]) -> Response {
    links::respond(status, "application/hal+json", body, links)
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}
