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

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use folio_engine::page::plan;
use folio_engine::{CollectionSchema, CursorCodec, EngineError, Filter, Position, Sort};
use folio_store::{Count, Query};
use serde_json::{Value as Json, json};

use crate::access::Caller;
use crate::body::Body;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::params::{self, invalid};
use crate::state::{AppState, HttpConfig, decode_cursor};

/// The pagination parameters of this style.
pub(crate) const PAGINATION: [&str; 4] = ["page", "per_page", "after", "before"];

/// Clarifai's status for a successful request.
const OK: (u32, &str) = (10000, "Ok");

/// The routes of this style, to be nested under `/simple`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{collection}", get(list_get))
        .route("/{collection}/searches", post(list_post))
        .route("/{collection}/{id}", get(one))
        .fallback(
            |axum::extract::OriginalUri(uri): axum::extract::OriginalUri| async move {
                problem(&ApiError::UnknownRoute(uri.path().to_owned()))
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
            let status = json!({"code": OK.0, "description": OK.1});
            respond(
                format!("{{\"status\":{status},\"{}\":{doc}}}", singular(&collection)),
                &[],
                None,
            )
        }
        Err(e) => problem(&e),
    }
}

async fn list_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let run = async {
        let request = request_from_pairs(raw.as_deref(), &collection)?;
        list_page(&state, &caller, &collection, request, "").await
    };
    run.await.unwrap_or_else(|e| problem(&e))
}

async fn list_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let run = async {
        let body = params::json_body(request, state.config.max_body_bytes).await?;
        let request = request_from_body(&body, &collection)?;
        list_page(&state, &caller, &collection, request, "pagination.").await
    };
    run.await.unwrap_or_else(|e| problem(&e))
}

/// A checked list request, from `GET` parameters ([`parse_get`]) or a `POST` body
/// ([`parse_post`]).
#[derive(Debug, Clone)]
pub struct ListRequest {
    query: Query,
    /// The filter as given, repeated in links.
    filter_json: Option<Json>,
    per_page: u64,
    position: Position,
    /// The page number, unless the request continues from a cursor.
    page_number: Option<u64>,
}

impl ListRequest {
    /// The collection and filter asked for (the order is always the id's).
    pub fn query(&self) -> &Query {
        &self.query
    }
}

/// Parses and validates the query string `raw` of `GET /simple/{collection}` for the
/// collection with `schema`, under the `simple` limits of `config`, verifying cursors with
/// `codec` as issued to the principal `reader` (`None`: anonymous, and every public
/// collection): everything the handler checks before it asks the store for anything.
pub fn parse_get(
    codec: &CursorCodec,
    reader: Option<&str>,
    schema: Arc<CollectionSchema>,
    raw: Option<&str>,
    config: &HttpConfig,
) -> Result<ListRequest, ApiError> {
    let request = request_from_pairs(raw, &schema.name)?;
    check(codec, reader, schema, request, config, "")
}

/// Parses and validates the body of `POST /simple/{collection}/searches` as
/// [`parse_get`] does a query string; bodies over `config.max_body_bytes` are rejected.
pub fn parse_post(
    codec: &CursorCodec,
    reader: Option<&str>,
    schema: Arc<CollectionSchema>,
    body: &[u8],
    config: &HttpConfig,
) -> Result<ListRequest, ApiError> {
    let json = params::json_object(body, config.max_body_bytes)?;
    let request = request_from_body(&json, &schema.name)?;
    check(codec, reader, schema, request, config, "pagination.")
}

/// A request as given, before it is checked against a schema.
struct Request {
    query: Option<Json>,
    page: Option<String>,
    per_page: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

fn request_from_pairs(raw: Option<&str>, collection: &str) -> Result<Request, EngineError> {
    let pairs = params::pairs(raw);
    params::check_spelling(pairs.iter().map(|(k, _)| k.as_str()), &PAGINATION)?;
    params::refuse_sorts_and_fields(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "simple",
        collection,
    )?;
    let get = |name| params::single(&pairs, name);
    let query = match get("query")? {
        None => None,
        Some(text) => Some(
            serde_json::from_str::<Json>(text)
                .map_err(|e| invalid("query", format!("is not JSON ({e}); give a filter object")))?,
        ),
    };
    Ok(Request {
        query,
        page: get("page")?.map(str::to_owned),
        per_page: get("per_page")?.map(str::to_owned),
        after: get("after")?.map(str::to_owned),
        before: get("before")?.map(str::to_owned),
    })
}

fn request_from_body(body: &Json, collection: &str) -> Result<Request, EngineError> {
    params::check_members(body, &["query", "pagination"])?;
    if let Some(members) = body.as_object() {
        let texts: Vec<(&str, String)> = members.iter().map(|(k, v)| (k.as_str(), v.to_string())).collect();
        params::refuse_sorts_and_fields(texts.iter().map(|(k, v)| (*k, v.as_str())), "simple", collection)?;
    }
    let pagination = params::pagination(body, &PAGINATION)?;
    let text = |name: &str| params::text(&pagination, name);
    Ok(Request {
        query: body.get("query").cloned().filter(|q| !q.is_null()),
        page: text("page"),
        per_page: text("per_page"),
        after: text("after"),
        before: text("before"),
    })
}

/// Checks a request against the collection's schema and the limits; `prefix` is how
/// pagination fields are named in errors (`pagination.` in bodies).
fn check(
    codec: &CursorCodec,
    reader: Option<&str>,
    schema: Arc<CollectionSchema>,
    req: Request,
    config: &HttpConfig,
    prefix: &str,
) -> Result<ListRequest, ApiError> {
    let limits = config.simple;
    let name = |field: &str| format!("{prefix}{field}");
    let per_page = limits.parse_size(req.per_page.as_deref(), &name("per_page"))?;
    let mut filter = Filter::all();
    if let Some(q) = &req.query {
        filter.push_json(&schema, q, "query")?;
    }
    let query = Query {
        schema,
        filter,
        sort: Sort::by_id(),
        fields: None,
    };

    let (position, page_number) = match (&req.page, &req.after, &req.before) {
        (page, None, None) => {
            let number = match page {
                None => 1,
                Some(text) => match folio_engine::limits::parse_count(text, &name("page"), "a whole number from 1")? {
                    0 => return Err(invalid(&name("page"), "is 0; pages start at 1".into()).into()),
                    n => n,
                },
            };
            let offset = (number - 1).saturating_mul(per_page);
            limits.check_offset(
                offset,
                per_page,
                &name("page"),
                "the `next` link of the Link header (an `after` cursor)",
            )?;
            (Position::Offset(offset), Some(number))
        }
        (None, Some(token), None) => {
            let position = match decode_cursor(codec, reader, &query, token, &name("after"))? {
                Position::After(k) | Position::Before(k) => Position::After(k),
                other => other,
            };
            (position, None)
        }
        (None, None, Some(token)) => {
            let position = match decode_cursor(codec, reader, &query, token, &name("before"))? {
                Position::After(k) | Position::Before(k) => Position::Before(k),
                other => other,
            };
            (position, None)
        }
        _ => {
            return Err(invalid(
                &name("page"),
                "page, after and before are alternatives; give one of them (after and before come from Link headers)"
                    .into(),
            )
            .into());
        }
    };
    Ok(ListRequest {
        query,
        filter_json: req.query,
        per_page,
        position,
        page_number,
    })
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    collection: &str,
    req: Request,
    prefix: &str,
) -> Result<Response, ApiError> {
    let schema = state.schema(caller, collection).await?;
    let limits = state.config.simple;
    let ListRequest {
        query,
        filter_json,
        per_page,
        position,
        page_number,
    } = check(
        state.codec(),
        caller.reader(collection),
        schema,
        req,
        &state.config,
        prefix,
    )?;
    let page = state
        .page(&query, &plan(&query.sort, position, per_page), Count::Exact)
        .await?;
    let total = page.total.map_or(0, |t| t.count);

    let mut carry = vec![("per_page".to_owned(), per_page.to_string())];
    if let Some(q) = &filter_json {
        carry.push(("query".to_owned(), q.to_string()));
    }
    let base = Target::new(format!("/simple/{}", links::segment(collection)), carry);
    let at = |n: u64| base.with(&[("page", n.to_string())]).href();
    let within = |n: u64| {
        limits
            .check_offset((n - 1).saturating_mul(per_page), per_page, "", "")
            .is_ok()
    };
    let cursor =
        |param: &str, position: &Position| base.with(&[(param, state.cursor(caller, &query, position))]).href();
    let mut out: Vec<(&str, String)> = Vec::new();
    if let Some(key) = &page.next {
        out.push((
            "next",
            match page_number {
                Some(n) if within(n + 1) => at(n + 1),
                _ => cursor("after", &Position::After(key.clone())),
            },
        ));
    }
    match page_number {
        Some(n) if n > 1 => out.push(("prev", at(n - 1))),
        Some(_) => {}
        None => {
            if let Some(key) = &page.prev {
                out.push(("prev", cursor("before", &Position::Before(key.clone()))));
            }
        }
    }
    out.push(("first", at(1)));
    let last = total.div_ceil(per_page).max(1);
    out.push((
        "last",
        if within(last) {
            at(last)
        } else {
            cursor("before", &Position::End)
        },
    ));

    // `{"status": ..., "<collection>": [documents]}`, documents copied in place.
    let mut body = Body::for_records(&page.records, 1);
    body.raw(b"{\"status\":")
        .value(&json!({"code": OK.0, "description": OK.1}))
        .raw(b",")
        .str(collection)
        .raw(b":")
        .docs(&page.records)
        .raw(b"}");
    Ok(respond(body.finish(), &out, Some(total)))
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
