//! The `jsonapi` style: JSON:API as DataCite's REST API uses it.
//!
//! - `GET /jsonapi` lists the collections.
//! - `GET /jsonapi/{collection}` pages through one: page numbers (`page[number]`,
//!   `page[size]`), cursors (`page[cursor]=1`, then the token in `links.next`), or the cursor
//!   profile's `page[after]`/`page[before]`; with `sort`, `filter[path]`,
//!   `filter[path][op]` and `fields[{collection}]`.
//! - `GET /jsonapi/{collection}/{id}` returns one record.
//! - `GET /jsonapi/{collection}/-/partitions?count=N` cuts a result into parts walked in
//!   parallel (`partitions.rs`).
//!
//! Past the offset window, page-number links switch to cursor links (`next` to
//! `page[cursor]=<token>`, `last` to the end cursor), so every link resolves.

mod document;
mod openapi;
mod partitions;
mod request;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use folio_engine::projection::Projection;
use folio_engine::{Position, Value};
use folio_store::{Count, PageResult};

use crate::access::Caller;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::state::{AppState, Readable};
use crate::style::{self, Answer, Shape, Style};
pub(crate) use document::{Links, Meta};
pub(crate) use openapi::{add as add_operations, add_collections, list_params};
pub(crate) use request::PAGE_PARAMS;
use request::TotalMode;
pub(crate) use request::parse_query;
pub use request::{ListRequest, parse_list};

/// The media type of JSON:API documents.
pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// The routes of this style, to be nested under `/jsonapi`.
pub fn routes() -> Router<AppState> {
    style::routes::<JsonApi>(
        Router::new()
            .route("/", get(collections))
            .route("/{collection}", get(list))
            .route("/{collection}/-/partitions", get(partitions::partitions)),
    )
}

/// The `jsonapi` style, as the shared skeleton sees it.
struct JsonApi;

impl Shape for JsonApi {
    fn error(e: &ApiError) -> Response {
        document::error(e)
    }
}

impl Style for JsonApi {
    fn record(collection: &Readable, _id: &str, key: &Value, doc: &str) -> Response {
        document::record(collection.schema(), key, doc)
    }

    /// `fields[{collection}]` applies to one record as to a list.
    fn record_fields(collection: &str, raw: Option<&str>) -> Result<Option<Projection>, ApiError> {
        request::record_fields(collection, raw)
    }

    fn unknown_route(path: &str) -> ApiError {
        ApiError::UnknownRoute(format!("{path}; GET /jsonapi lists the collections"))
    }
}

async fn collections(State(state): State<AppState>, caller: Caller) -> Answer<JsonApi> {
    Ok(document::collections(&state.collections(&caller).await?))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer<JsonApi> {
    let collection = state.readable(&caller, &collection).await?;
    let listing = run(&state, &collection, raw.as_deref()).await?;
    Ok(document::list(
        &listing.req,
        &listing.records,
        &listing.meta,
        &listing.links,
    ))
}

/// A list request run: what the JSON:API document shows, for any page that renders it (the
/// JSON document, and the browse page's HTML table).
pub(crate) struct Listing {
    /// The checked request.
    pub(crate) req: ListRequest,
    /// The page's records.
    pub(crate) records: folio_store::Records,
    /// Total, page number, size and limits.
    pub(crate) meta: Meta,
    /// The links to this and the neighbouring pages (`/jsonapi/...` paths).
    pub(crate) links: Links,
}

/// Parses, checks and runs `GET /jsonapi/{collection}?{raw}`.
pub(crate) async fn run(state: &AppState, collection: &Readable, raw: Option<&str>) -> Result<Listing, ApiError> {
    let mut req = request::parse_list(&state.codec(), collection, raw, &state.config)?;
    // Filters on paths no index serves scan the collection: counted up to the cap.
    let unindexed = req.query().filter.unindexed_paths(collection.schema());
    let count = match req.total {
        TotalMode::Auto if req.query().filter.is_seekable() && unindexed.is_empty() => Count::Exact,
        TotalMode::Exact => Count::Exact,
        TotalMode::Auto | TotalMode::Capped => Count::AtMost(state.config.count_cap),
        TotalMode::None => Count::Skip,
    };
    let first = || {
        let base = Target::new(
            format!("/jsonapi/{}", links::segment(collection.name())),
            req.carry.clone(),
        );
        base.with(&[
            ("page[cursor]", "1".into()),
            ("page[size]", req.paging.size().to_string()),
        ])
        .href()
    };
    let first = first();
    let page = req.paging.run(state, count).await.map_err(|e| e.with_first(|| first))?;
    // Page counts only follow from an exact total.
    let total_pages = page.total.filter(|t| t.exact).map(|t| req.paging.window.pages(t.count));
    let links = links(state, &req, &page, total_pages);
    let meta = Meta {
        total: page.total,
        total_pages,
        page: req.paging.number(),
        size: req.paging.size(),
        limits: req.paging.window.limits(),
        unindexed,
        snapshot: req.paging.reading.snapshot().map(|s| s.at_ms),
    };
    Ok(Listing {
        req,
        records: page.records,
        meta,
        links,
    })
}

/// The links of a page: page numbers within the offset window, cursors past it and in
/// cursor walks.
fn links(state: &AppState, req: &ListRequest, page: &PageResult, total_pages: Option<u64>) -> Links {
    let paging = &req.paging;
    let size = paging.size();
    let base = Target::new(
        format!("/jsonapi/{}", links::segment(&paging.query().schema.name)),
        req.carry.clone(),
    );
    let size_param = ("page[size]", size.to_string());
    let at = |param: &str, value: String| base.with(&[(param, value), size_param.clone()]).href();
    let cursor = |position: &Position| state.cursor(&paging.reading, position);
    let mut out = Links::default();
    match req.cursor_param {
        None => {
            let number = paging.number().unwrap_or(1);
            out.self_ = at("page[number]", number.to_string());
            out.first = Some(at("page[number]", "1".into()));
            if number > 1 {
                out.prev = Some(at("page[number]", (number - 1).to_string()));
            }
            if let Some(key) = &page.next {
                out.next = Some(if paging.linkable(number + 1) {
                    at("page[number]", (number + 1).to_string())
                } else {
                    at("page[cursor]", cursor(&Position::After(key.clone())))
                });
            }
            out.last = Some(match total_pages.map(|n| n.max(1)) {
                Some(last) if paging.linkable(last) => at("page[number]", last.to_string()),
                _ => at("page[cursor]", cursor(&Position::End)),
            });
        }
        Some(param) => {
            // Links keep the client's method: `page[cursor]` tokens carry their direction,
            // the profile's `page[after]`/`page[before]` name it.
            let (after, before) = if param == "page[cursor]" {
                ("page[cursor]", "page[cursor]")
            } else {
                ("page[after]", "page[before]")
            };
            let self_token = match paging.position() {
                // The first page of a partition is named by a token that carries its end.
                Position::Start if paging.reading.until().is_none() => "1".to_owned(),
                other => cursor(&other),
            };
            out.self_ = at(param, self_token);
            if let Some(key) = &page.next {
                out.next = Some(at(after, cursor(&Position::After(key.clone()))));
            }
            // A partition's walk goes forward only, from the link that starts it: its pages
            // link to the next one, not back, nor to the whole result's ends.
            if paging.reading.until().is_none() {
                out.first = Some(at("page[cursor]", "1".into()));
                if let Some(key) = &page.prev {
                    out.prev = Some(at(before, cursor(&Position::Before(key.clone()))));
                }
                out.last = Some(at(before, cursor(&Position::End)));
            }
        }
    }
    out
}
