//! The `simple` style: `page` and `per_page`, as Clarifai's and GitHub's APIs use them.
//!
//! - `GET /simple/{collection}?page=2&per_page=20` (`per_page` 1..=1000, default 128), records
//!   in id order, optionally filtered by `query=<JSON filter>`.
//! - `POST /simple/{collection}/searches` with `{"query": {...}, "pagination": {"page",
//!   "per_page"}}`.
//! - `GET /simple/{collection}/{id}`: one record.
//!
//! Body: `{"status": {"code": 10000, "description": "Ok"}, "{collection}": [records]}`.
//! Headers: `Link` with `next`, `prev`, `first`, `last` (GitHub), and `X-Total-Count`.
//! Past the offset window, links continue with an opaque `after` cursor, as GitHub's cursor
//! endpoints do (`before` goes back), so a walk never stops at the window.
//! Errors: RFC 9457 `application/problem+json`; each `type` resolves to a description.

pub(crate) mod browse;
mod openapi;
mod request;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use folio_engine::{Position, Value};
use folio_store::{Count, PageResult};
use serde_json::json;

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

/// Clarifai's status for a successful request.
const OK: (u32, &str) = (10000, "Ok");

/// The routes of this style, to be nested under `/simple`.
pub fn routes() -> Router<AppState> {
    style::routes::<Simple>(
        Router::new()
            .route("/{collection}", get(list_get))
            .route("/{collection}/searches", post(list_post)),
    )
}

/// The `simple` style, as the shared skeleton sees it.
pub(crate) struct Simple;

impl Shape for Simple {
    fn error(e: &ApiError) -> Response {
        problem(e)
    }
}

impl Style for Simple {
    fn record(collection: &Readable, _id: &str, _key: &Value, doc: &str) -> Response {
        let status = json!({"code": OK.0, "description": OK.1});
        respond(
            format!("{{\"status\":{status},\"{}\":{doc}}}", singular(collection.name())),
            &[],
            None,
        )
    }
}

async fn list_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer<Simple> {
    let request = Request::from_pairs(raw.as_deref(), &collection)?;
    Ok(list_page(&state, &caller, &collection, request, "").await?)
}

async fn list_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    request: axum::extract::Request,
) -> Answer<Simple> {
    let body = params::json_body(request, state.config.max_body_bytes).await?;
    let request = Request::from_body(&body, &collection)?;
    Ok(list_page(&state, &caller, &collection, request, "pagination.").await?)
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    collection: &str,
    req: Request,
    prefix: &str,
) -> Result<Response, ApiError> {
    let collection = state.readable(caller, collection).await?;
    let mut req = check(&state.codec(), &collection, req, &state.config, prefix)?;
    let first = first_page(&req);
    let page = req
        .paging
        .run(state, Count::Exact)
        .await
        .map_err(|e| e.with_first(|| first))?;
    let total = page.total.map_or(0, |t| t.count);
    let links = links(state, &req, &page, total);
    // `{"status": ..., "<collection>": [documents]}`, documents copied in place.
    let mut body = Body::for_records(&page.records, 1);
    body.raw(b"{\"status\":")
        .value(&json!({"code": OK.0, "description": OK.1}))
        .raw(b",")
        .str(collection.name())
        .raw(b":")
        .docs(&page.records)
        .raw(b"}");
    Ok(respond(body.finish(), &links, Some(total)))
}

/// The `Link` header's `next`, `prev`, `first` and `last` (GitHub's), continuing with cursors
/// past the offset window.
/// The target of a request's pages: its collection, page size and filter.
fn base(req: &ListRequest) -> Target {
    let mut carry = vec![("per_page".to_owned(), req.paging.size().to_string())];
    if let Some(q) = &req.filter_json {
        carry.push(("query".to_owned(), q.to_string()));
    }
    Target::new(
        format!("/simple/{}", links::segment(&req.paging.query().schema.name)),
        carry,
    )
}

/// The first page of a request, for a walk whose snapshot expired.
fn first_page(req: &ListRequest) -> String {
    base(req).with(&[("page", "1".to_owned())]).href()
}

fn links(state: &AppState, req: &ListRequest, page: &PageResult, total: u64) -> Vec<(&'static str, String)> {
    let paging = &req.paging;
    let window = &paging.window;
    let base = base(req);
    let at = |n: u64| base.with(&[("page", n.to_string())]).href();
    let cursor =
        |param: &str, position: &Position| base.with(&[(param, state.cursor(&paging.reading, position))]).href();
    let mut out: Vec<(&str, String)> = Vec::new();
    if let Some(key) = &page.next {
        out.push((
            "next",
            match paging.number() {
                Some(n) if paging.linkable(n + 1) => at(n + 1),
                _ => cursor("after", &Position::After(key.clone())),
            },
        ));
    }
    match paging.number() {
        Some(n) if n > 1 => out.push(("prev", at(n - 1))),
        Some(_) => {}
        None => {
            if let Some(key) = &page.prev {
                out.push(("prev", cursor("before", &Position::Before(key.clone()))));
            }
        }
    }
    out.push(("first", at(1)));
    let last = window.pages(total).max(1);
    out.push((
        "last",
        if paging.linkable(last) {
            at(last)
        } else {
            cursor("before", &Position::End)
        },
    ));
    out
}

/// The key of one record in a response: the collection's name without a trailing `s`
/// (`entries` gives `entry`, `inputs` gives `input`), as Clarifai names them.
pub(crate) fn singular(collection: &str) -> String {
    match collection.strip_suffix("ies") {
        Some(stem) if !stem.is_empty() => format!("{stem}y"),
        _ => collection
            .strip_suffix('s')
            .filter(|s| !s.is_empty())
            .unwrap_or(collection)
            .to_owned(),
    }
}

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, plus the stable `code` and the
/// `parameter` at fault.
pub(crate) fn problem(e: &ApiError) -> Response {
    e.log();
    let status = e.status();
    let mut body = json!({
        "type": format!("/problems/{}", e.code()),
        "title": e.title(),
        "status": status.as_u16(),
        "detail": e.detail(),
        "code": e.code(),
    });
    if let Some(param) = e.param() {
        body["parameter"] = json!(param);
    }
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn respond(body: impl Into<axum::body::Body>, links: &[(&str, String)], total: Option<u64>) -> Response {
    let mut response = links::respond(StatusCode::OK, "application/json", body, links);
    if let Some(total) = total {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-total-count"), HeaderValue::from(total));
    }
    response
}
