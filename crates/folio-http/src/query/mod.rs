//! The `query` style: a POST query body, as NOMAD's API uses it.
//!
//! - `POST /query/{collection}/query` with `{"owner", "query", "pagination": {"page_size",
//!   "order_by", "order", "page_after_value", "page"}, "required": {"include": [...]}}`.
//! - `GET /query/{collection}` with the pagination fields as parameters, plus `query` (the
//!   filter as JSON text), `include` (comma-separated paths) and `owner`.
//! - `GET /query/{collection}/{id}`: one record.
//!
//! `page_after_value` and `next_page_after_value` are transparent keys (the id alone when
//! ordering by id, else `<value>:<id>`; see `folio_engine::transparent`). Responses echo the
//! request and complete `pagination` with `total` and GET URLs of the neighbouring pages
//! (`page_url`, `first_page_url`, `prev_page_url`, `next_page_url`), mirrored in the `Link`
//! header, so every link resolves whether the request was a GET or a POST.
//!
//! Errors are `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`. Following the
//! FastAPI convention NOMAD's clients expect, every request that does not validate is a 422
//! (where other styles answer 400); unknown collections and records are 404.

pub(crate) mod browse;
mod openapi;
mod request;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use folio_engine::{Value, transparent};
use folio_store::{Count, PageResult};
use serde_json::{Value as Json, json};

use crate::access::Caller;
use crate::body::Body;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::params;
use crate::state::{AppState, Readable};
use crate::style::{self, Answer, Shape, Style};
pub(crate) use openapi::add as add_operations;
pub(crate) use request::PAGINATION;
pub use request::{ListRequest, parse_get, parse_post};
use request::{Request, check};

/// The routes of this style, to be nested under `/query`.
pub fn routes() -> Router<AppState> {
    style::routes::<Query>(
        Router::new()
            .route("/{collection}", get(list_get))
            .route("/{collection}/query", post(list_post)),
    )
}

/// The `query` style, as the shared skeleton sees it: errors located in the path.
struct Query;

/// Errors of requests whose fields come from a body (`loc` starts with `body`).
struct InBody;

/// Errors of requests whose fields come from the query string (`loc` starts with `query`).
struct InQuery;

impl Shape for Query {
    fn error(e: &ApiError) -> Response {
        error(e, Origin::Path)
    }
}

impl Shape for InBody {
    fn error(e: &ApiError) -> Response {
        error(e, Origin::Body)
    }
}

impl Shape for InQuery {
    fn error(e: &ApiError) -> Response {
        error(e, Origin::Query)
    }
}

impl Style for Query {
    fn record(_collection: &Readable, _id: &str, _key: &Value, doc: &str) -> Response {
        respond(StatusCode::OK, format!("{{\"data\":{doc}}}"), &[])
    }
}

/// Where the request's fields came from, for `loc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Body,
    Query,
    Path,
}

async fn list_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    request: axum::extract::Request,
) -> Answer<InBody> {
    let body = params::json_body(request, state.config.max_body_bytes).await?;
    let request = Request::from_body(&body)?;
    Ok(list_page(&state, &caller, &collection, request, "pagination.").await?)
}

async fn list_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer<InQuery> {
    let request = Request::from_pairs(raw.as_deref())?;
    Ok(list_page(&state, &caller, &collection, request, "").await?)
}

/// Runs a request; `prefix` is how pagination fields are named in errors (`pagination.` in
/// bodies).
async fn list_page(
    state: &AppState,
    caller: &Caller,
    collection: &str,
    req: Request,
    prefix: &str,
) -> Result<Response, ApiError> {
    let collection = state.readable(caller, collection).await?;
    let mut req = check(&collection, req, &state.config, prefix)?;
    let page = req.paging.run(state, Count::Exact).await?;
    Ok(render(&req, &page))
}

/// GET URLs of this and the neighbouring pages: `(page_url, [(rel, url)])`.
fn links(req: &ListRequest, next_value: Option<&String>) -> (String, Vec<(&'static str, String)>) {
    let paging = &req.paging;
    let (query, page_size) = (paging.query(), paging.size());
    let mut carry = vec![
        ("page_size".to_owned(), page_size.to_string()),
        ("order_by".to_owned(), req.order_by.clone()),
        ("order".to_owned(), req.order.to_owned()),
    ];
    if !filter_is_empty(&req.filter_json) {
        carry.push(("query".to_owned(), req.filter_json.to_string()));
    }
    if let Some(fields) = &query.fields {
        carry.push(("include".to_owned(), fields.join(",")));
    }
    let base = Target::new(format!("/query/{}", links::segment(&query.schema.name)), carry);
    let mut links: Vec<(&str, String)> = vec![("first", base.href())];
    let page_url = match (paging.number(), &req.page_after_value) {
        (Some(n), _) => base.with(&[("page", n.to_string())]).href(),
        (None, Some(v)) => base.with(&[("page_after_value", v.clone())]).href(),
        (None, None) => base.href(),
    };
    if let Some(n) = paging.number().filter(|n| *n > 1) {
        links.push(("prev", base.with(&[("page", (n - 1).to_string())]).href()));
    }
    if let Some(value) = next_value {
        let next = match paging.number() {
            Some(n) if paging.linkable(n + 1) => base.with(&[("page", (n + 1).to_string())]).href(),
            _ => base.with(&[("page_after_value", value.clone())]).href(),
        };
        links.push(("next", next));
    }
    (page_url, links)
}

/// `{"owner", "query", "pagination", "required"?, "data": [documents]}`, documents copied in
/// place, with the links in `pagination` and the `Link` header.
fn render(req: &ListRequest, page: &PageResult) -> Response {
    let query = req.query();
    let next_value = page
        .next
        .as_ref()
        .map(|key| transparent::encode(&query.schema, &query.sort, key));
    let (page_url, links) = links(req, next_value.as_ref());
    let mut pagination = serde_json::Map::new();
    pagination.insert("page_size".into(), json!(req.paging.size()));
    pagination.insert("order_by".into(), json!(req.order_by));
    pagination.insert("order".into(), json!(req.order));
    if let Some(v) = &req.page_after_value {
        pagination.insert("page_after_value".into(), json!(v));
    }
    if let Some(n) = req.paging.number() {
        pagination.insert("page".into(), json!(n));
    }
    if let Some(v) = &next_value {
        pagination.insert("next_page_after_value".into(), json!(v));
    }
    if let Some(total) = page.total {
        pagination.insert("total".into(), json!(total.count));
    }
    pagination.insert("page_url".into(), json!(page_url));
    for (rel, href) in &links {
        pagination.insert(format!("{rel}_page_url"), json!(href));
    }
    let mut body = Body::for_records(&page.records, 1);
    body.raw(b"{\"owner\":")
        .value(&req.owner)
        .raw(b",\"query\":")
        .value(&req.filter_json)
        .raw(b",\"pagination\":")
        .value(&pagination);
    if let Some(required) = &req.required {
        body.raw(b",\"required\":").value(required);
    }
    body.raw(b",\"data\":").docs(&page.records).raw(b"}");
    respond(StatusCode::OK, body.finish(), &links)
}

fn filter_is_empty(query: &Json) -> bool {
    query.is_null() || query.as_object().is_some_and(serde_json::Map::is_empty)
}

/// An error as FastAPI shapes it: `{"detail": [{"loc", "msg", "type"}]}`.
fn error(e: &ApiError, origin: Origin) -> Response {
    e.log();
    // The FastAPI convention: a request that does not validate is a 422.
    let status = match e.status() {
        StatusCode::BAD_REQUEST => StatusCode::UNPROCESSABLE_ENTITY,
        other => other,
    };
    let mut loc = vec![json!(match (origin, e) {
        (_, ApiError::Unauthorized(_)) => "header",
        (_, ApiError::UnknownCollection { .. } | ApiError::UnknownRecord { .. } | ApiError::UnknownRoute(_)) => "path",
        (Origin::Body, _) => "body",
        (Origin::Query, _) => "query",
        (Origin::Path, _) => "path",
    })];
    match e.param() {
        Some(param) => loc.extend(param.split('.').map(|p| json!(p))),
        None if matches!(e, ApiError::UnknownCollection { .. }) => loc.push(json!("collection")),
        None if matches!(e, ApiError::Unauthorized(_)) => loc.push(json!("authorization")),
        None => {}
    }
    let body = json!({"detail": [{"loc": loc, "msg": e.detail(), "type": e.code()}]});
    respond(status, body.to_string(), &[])
}

fn respond(status: StatusCode, body: impl Into<axum::body::Body>, links: &[(&str, String)]) -> Response {
    links::respond(status, "application/json", body, links)
}
