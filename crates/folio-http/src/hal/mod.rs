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

pub(crate) mod browse;
mod openapi;
mod request;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use folio_engine::{Value, ValueRef, transparent};
use folio_store::{Count, PageResult};
use serde_json::json;

use crate::access::Caller;
use crate::body::Body;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::state::{AppState, Readable};
use crate::style::{self, Answer, Shape, Style};
pub(crate) use openapi::add as add_operations;
pub(crate) use request::PAGINATION;
pub use request::{ListRequest, parse_list};

/// The routes of this style, to be nested under `/hal`.
pub fn routes() -> Router<AppState> {
    style::routes::<Hal>(Router::new().route("/{collection}", get(list)))
}

/// The `hal` style, as the shared skeleton sees it.
struct Hal;

impl Shape for Hal {
    fn error(e: &ApiError) -> Response {
        error(e)
    }
}

impl Style for Hal {
    fn record(collection: &Readable, id: &str, _key: &Value, doc: &str) -> Response {
        let mut body = Body::with_capacity(doc.len() + 128);
        item(
            &mut body,
            &self_prefix(collection.name()),
            ValueRef::Text(id),
            doc.as_bytes(),
        );
        respond(StatusCode::OK, body.finish(), &[])
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer<Hal> {
    let collection = state.readable(&caller, &collection).await?;
    let mut req = parse_list(&collection, raw.as_deref(), &state.config)?;
    let count = if req.with_count { Count::Exact } else { Count::Skip };
    let page = req.paging.run(&state, count).await?;
    Ok(render(&req, &page))
}

/// The links of a page: `self`, `first`, `previous`, `next`, `last`, and the counts the body
/// shows beside them.
fn links(
    req: &ListRequest,
    page: &PageResult,
) -> (Vec<(&'static str, String)>, serde_json::Map<String, serde_json::Value>) {
    let paging = &req.paging;
    let (query, limit, window) = (paging.query(), paging.size(), &paging.window);
    // Parameters every link repeats.
    let mut carry = vec![("limit".to_owned(), limit.to_string())];
    if req.with_count {
        carry.push(("with_count".to_owned(), "true".to_owned()));
    }
    if let Some(text) = &req.search {
        carry.push(("search".to_owned(), text.clone()));
    }
    let base = Target::new(format!("/hal/{}", links::segment(&query.schema.name)), carry);
    let search_after = |value: Option<String>| {
        let mut params = vec![("pagination_type", "search_after".to_owned())];
        params.extend(value.map(|v| ("search_after", v)));
        base.with(&params).href()
    };
    let after = |key: &[Value]| search_after(Some(transparent::encode(&query.schema, &query.sort, key)));
    let mut links: Vec<(&str, String)> = Vec::new();
    let mut counts = serde_json::Map::new();
    match paging.number() {
        Some(number) => {
            let at = |n: u64| base.with(&[("page", n.to_string())]).href();
            links.push(("self", at(number)));
            links.push(("first", at(1)));
            if number > 1 {
                links.push(("previous", at(number - 1)));
            }
            if let Some(key) = &page.next {
                let within = paging.linkable(number + 1);
                links.push(("next", if within { at(number + 1) } else { after(key) }));
            }
            if let Some(total) = page.total {
                let pages = window.pages(total.count).max(1);
                if paging.linkable(pages) {
                    links.push(("last", at(pages)));
                }
                counts.insert("items_count".into(), json!(total.count));
                counts.insert("pages_count".into(), json!(pages));
            }
            counts.insert("current_page".into(), json!(number));
        }
        None => {
            links.push(("self", search_after(req.search_after.clone())));
            links.push(("first", search_after(None)));
            if let Some(key) = &page.next {
                links.push(("next", after(key)));
            }
            if let Some(total) = page.total {
                counts.insert("items_count".into(), json!(total.count));
            }
        }
    }
    (links, counts)
}

/// `{"_links": ..., <counts>, "_embedded": {"items": [...]}}`, items written in place.
fn render(req: &ListRequest, page: &PageResult) -> Response {
    let (links, counts) = links(req, page);
    let links_json: serde_json::Map<String, serde_json::Value> = links
        .iter()
        .map(|(rel, href)| ((*rel).to_owned(), json!({"href": href})))
        .collect();
    let mut out = Body::for_records(&page.records, 160);
    out.raw(b"{\"_links\":").value(&links_json);
    for (name, value) in &counts {
        out.raw(b",").str(name).raw(b":").value(value);
    }
    out.raw(b",\"_embedded\":{\"items\":[");
    let prefix = self_prefix(&req.query().schema.name);
    for (i, record) in page.records.iter().enumerate() {
        if i > 0 {
            out.raw(b",");
        }
        item(&mut out, &prefix, record.id(), record.doc());
    }
    out.raw(b"]}}");
    let header_links: Vec<(&str, String)> = links.into_iter().filter(|(rel, _)| *rel != "self").collect();
    respond(StatusCode::OK, out.finish(), &header_links)
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
