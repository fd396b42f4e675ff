//! The `jsonapi` style: JSON:API as DataCite's REST API uses it.
//!
//! - `GET /jsonapi` lists the collections.
//! - `GET /jsonapi/{collection}` pages through one: page numbers (`page[number]`,
//!   `page[size]`), cursors (`page[cursor]=1`, then the token in `links.next`), or the cursor
//!   profile's `page[after]`/`page[before]`; with `sort`, `filter[path]`,
//!   `filter[path][op]` and `fields[{collection}]`.
//! - `GET /jsonapi/{collection}/{id}` returns one record.
//!
//! Past the offset window, page-number links switch to cursor links (`next` to
//! `page[cursor]=<token>`, `last` to the end cursor), so every link resolves.

mod document;
mod request;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use folio_engine::Position;
use folio_engine::page::plan;
use folio_store::Count;

use crate::access::Caller;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::state::AppState;
pub(crate) use document::{Links, Meta};
use request::TotalMode;
pub use request::{ListRequest, parse_list};
pub(crate) use request::{Mode, PAGE_PARAMS};

/// The media type of JSON:API documents.
pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// The routes of this style, to be nested under `/jsonapi`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(collections))
        .route("/{collection}", get(list))
        .route("/{collection}/{id}", get(one))
        .fallback(
            |axum::extract::OriginalUri(uri): axum::extract::OriginalUri| async move {
                document::error(&ApiError::UnknownRoute(format!(
                    "{}; GET /jsonapi lists the collections",
                    uri.path()
                )))
            },
        )
}

async fn collections(State(state): State<AppState>, caller: Caller) -> Response {
    match state.collections(&caller).await {
        Ok(infos) => document::collections(&infos),
        Err(e) => document::error(&e),
    }
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let run = async {
        // `fields[{collection}]` applies to one record as to a list.
        let fields = request::record_fields(&collection, raw.as_deref())?;
        let (schema, key, doc) = state.record(&caller, &collection, &id, fields).await?;
        Ok::<_, ApiError>(document::record(&schema, &key, &doc))
    };
    run.await.unwrap_or_else(|e| document::error(&e))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_page(&state, &caller, &collection, raw.as_deref())
        .await
        .unwrap_or_else(|e| document::error(&e))
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    collection: &str,
    raw: Option<&str>,
) -> Result<Response, ApiError> {
    let listing = run(state, caller, collection, raw).await?;
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
pub(crate) async fn run(
    state: &AppState,
    caller: &Caller,
    collection: &str,
    raw: Option<&str>,
) -> Result<Listing, ApiError> {
    let schema = state.schema(caller, collection).await?;
    let limits = state.config.jsonapi;
    let req = request::parse_list(state.codec(), caller.reader(collection), schema, raw, &state.config)?;
    let size = req.size;
    let position = match &req.mode {
        // `parse_list` checked that the offset is within the window.
        Mode::Number(number) => Position::Offset((number - 1).saturating_mul(size)),
        Mode::Cursor { position, .. } => position.clone(),
    };
    let count = match req.total {
        TotalMode::Auto if req.query.filter.is_seekable() => Count::Exact,
        TotalMode::Exact => Count::Exact,
        TotalMode::Auto | TotalMode::Capped => Count::AtMost(state.config.count_cap),
        TotalMode::None => Count::Skip,
    };
    let page = state
        .page(&req.query, &plan(&req.query.sort, position, size), count)
        .await?;
    // Page counts only follow from an exact total.
    let total_pages = page
        .total
        .filter(|t| t.exact)
        .map(|t| if size == 0 { 0 } else { t.count.div_ceil(size) });

    let base = Target::new(format!("/jsonapi/{}", links::segment(collection)), req.carry.clone());
    let size_param = ("page[size]", size.to_string());
    let at = |param: &str, value: String| base.with(&[(param, value), size_param.clone()]).href();
    let cursor = |position: &Position| state.cursor(caller, &req.query, position);
    let mut out = Links::default();
    let page_number = match &req.mode {
        Mode::Number(number) => {
            let number = *number;
            let within = |n: u64| limits.check_offset((n - 1).saturating_mul(size), size, "", "").is_ok();
            out.self_ = at("page[number]", number.to_string());
            out.first = Some(at("page[number]", "1".into()));
            if number > 1 {
                out.prev = Some(at("page[number]", (number - 1).to_string()));
            }
            if let Some(key) = &page.next {
                out.next = Some(if within(number + 1) {
                    at("page[number]", (number + 1).to_string())
                } else {
                    at("page[cursor]", cursor(&Position::After(key.clone())))
                });
            }
            out.last = Some(match total_pages.map(|n| n.max(1)) {
                Some(last) if within(last) => at("page[number]", last.to_string()),
                _ => at("page[cursor]", cursor(&Position::End)),
            });
            Some(number)
        }
        Mode::Cursor { param, position } => {
            // Links keep the client's method: `page[cursor]` tokens carry their direction,
            // the profile's `page[after]`/`page[before]` name it.
            let (after, before) = if *param == "page[cursor]" {
                ("page[cursor]", "page[cursor]")
            } else {
                ("page[after]", "page[before]")
            };
            let self_token = match position {
                Position::Start => "1".to_owned(),
                other => cursor(other),
            };
            out.self_ = at(param, self_token);
            out.first = Some(at("page[cursor]", "1".into()));
            if let Some(key) = &page.prev {
                out.prev = Some(at(before, cursor(&Position::Before(key.clone()))));
            }
            if let Some(key) = &page.next {
                out.next = Some(at(after, cursor(&Position::After(key.clone()))));
            }
            out.last = Some(at(before, cursor(&Position::End)));
            None
        }
    };
    let meta = Meta {
        total: page.total,
        total_pages,
        page: page_number,
        size,
        limits,
    };
    Ok(Listing {
        req,
        records: page.records,
        meta,
        links: out,
    })
}
