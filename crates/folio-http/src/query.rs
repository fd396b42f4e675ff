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

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use folio_engine::page::plan;
use folio_engine::projection::Projection;
use folio_engine::{CollectionSchema, EngineError, Filter, Position, Sort, transparent};
use folio_store::{Count, Query};
use serde_json::{Value as Json, json};

use crate::access::Caller;
use crate::body::Body;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::params::{self, invalid};
use crate::state::{AppState, HttpConfig};

/// The fields of `pagination`.
pub(crate) const PAGINATION: [&str; 5] = ["page_size", "order_by", "order", "page_after_value", "page"];

/// The routes of this style, to be nested under `/query`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{collection}", get(list_get))
        .route("/{collection}/query", post(list_post))
        .route("/{collection}/{id}", get(one))
        .fallback(
            |axum::extract::OriginalUri(uri): axum::extract::OriginalUri| async move {
                error(&ApiError::UnknownRoute(uri.path().to_owned()), Origin::Path)
            },
        )
}

/// Where the request's fields came from, for `loc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Body,
    Query,
    Path,
}

/// A request in the style's terms, from a body or from parameters.
struct Request {
    owner: Json,
    query: Json,
    required: Option<Json>,
    page_size: Option<Json>,
    order_by: Option<String>,
    order: Option<String>,
    page_after_value: Option<String>,
    page: Option<Json>,
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
) -> Response {
    match state.record(&caller, &collection, &id, None).await {
        Ok((_, _, doc)) => respond(StatusCode::OK, format!("{{\"data\":{doc}}}"), &[]),
        Err(e) => error(&e, Origin::Path),
    }
}

async fn list_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let run = async {
        let body = params::json_body(request, state.config.max_body_bytes).await?;
        let request = request_from_body(&body)?;
        list_page(&state, &caller, &collection, request, "pagination.").await
    };
    run.await.unwrap_or_else(|e| error(&e, Origin::Body))
}

async fn list_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let run = async {
        let request = request_from_pairs(raw.as_deref())?;
        list_page(&state, &caller, &collection, request, "").await
    };
    run.await.unwrap_or_else(|e| error(&e, Origin::Query))
}

/// A checked list request, from a `POST` body ([`parse_post`]) or `GET` parameters
/// ([`parse_get`]).
#[derive(Debug, Clone)]
pub struct ListRequest {
    query: Query,
    /// `owner`, `query` and `required` as given, echoed in the response.
    owner: Json,
    filter_json: Json,
    required: Option<Json>,
    page_size: u64,
    order_by: String,
    order: &'static str,
    position: Position,
    /// The page number, in page mode.
    page_number: Option<u64>,
    /// The transparent key the page continues after, as given.
    page_after_value: Option<String>,
}

impl ListRequest {
    /// The collection, filter, sort and projection asked for.
    pub fn query(&self) -> &Query {
        &self.query
    }
}

/// Parses and validates the body of `POST /query/{collection}/query` for the collection with
/// `schema`, under the `query` limits of `config`: everything the handler checks before it
/// asks the store for anything. Bodies over `config.max_body_bytes` are rejected.
pub fn parse_post(schema: Arc<CollectionSchema>, body: &[u8], config: &HttpConfig) -> Result<ListRequest, ApiError> {
    let json = params::json_object(body, config.max_body_bytes)?;
    let request = request_from_body(&json)?;
    check(schema, request, config, "pagination.")
}

/// Parses and validates the query string `raw` of `GET /query/{collection}` as
/// [`parse_post`] does a body.
pub fn parse_get(
    schema: Arc<CollectionSchema>,
    raw: Option<&str>,
    config: &HttpConfig,
) -> Result<ListRequest, ApiError> {
    let request = request_from_pairs(raw)?;
    check(schema, request, config, "")
}

fn request_from_body(body: &Json) -> Result<Request, EngineError> {
    params::check_members(body, &["owner", "query", "pagination", "required"])?;
    let pagination = params::pagination(body, &PAGINATION)?;
    let text = |name: &str| params::text(&pagination, name);
    Ok(Request {
        owner: body.get("owner").cloned().unwrap_or_else(|| json!("public")),
        query: body.get("query").cloned().unwrap_or_else(|| json!({})),
        required: body.get("required").cloned(),
        page_size: pagination.get("page_size").cloned(),
        order_by: text("order_by"),
        order: text("order"),
        page_after_value: text("page_after_value"),
        page: pagination.get("page").cloned(),
    })
}

fn request_from_pairs(raw: Option<&str>) -> Result<Request, EngineError> {
    let pairs = params::pairs(raw);
    let mut known: Vec<&str> = PAGINATION.to_vec();
    known.extend(["query", "include", "owner"]);
    params::check_spelling(pairs.iter().map(|(k, _)| k.as_str()), &known)?;
    let get = |name| params::single(&pairs, name);
    let query = match get("query")? {
        None => json!({}),
        Some(text) => serde_json::from_str(text).map_err(|e| invalid("query", format!("is not JSON: {e}")))?,
    };
    let include: Vec<Json> = pairs
        .iter()
        .filter(|(k, _)| k == "include")
        .flat_map(|(_, v)| {
            v.split(',')
                .filter(|p| !p.is_empty())
                .map(|p| json!(p))
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(Request {
        owner: json!(get("owner")?.unwrap_or("public")),
        query,
        required: (!include.is_empty()).then(|| json!({"include": include})),
        page_size: get("page_size")?.map(|t| json!(t)),
        order_by: get("order_by")?.map(str::to_owned),
        order: get("order")?.map(str::to_owned),
        page_after_value: get("page_after_value")?.map(str::to_owned),
        page: get("page")?.map(|t| json!(t)),
    })
}

/// Checks a request against the collection's schema and the limits; `prefix` is how
/// pagination fields are named in errors (`pagination.` in bodies).
fn check(
    schema: Arc<CollectionSchema>,
    req: Request,
    config: &HttpConfig,
    prefix: &str,
) -> Result<ListRequest, ApiError> {
    let limits = config.query;
    let name = |field: &str| format!("{prefix}{field}");
    let number_text = |v: &Option<Json>| match v {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let page_size = limits.parse_size(number_text(&req.page_size).as_deref(), &name("page_size"))?;
    let order = match req.order.as_deref() {
        None | Some("asc") => "asc",
        Some("desc") => "desc",
        Some(other) => {
            return Err(invalid(&name("order"), format!("is `{}`; expected asc or desc", short(other))).into());
        }
    };
    let order_by = req.order_by.clone().unwrap_or_else(|| schema.id_path.clone());
    // `next_page_after_value` holds one value and the id, so the order is one path.
    if order_by.contains(',') {
        return Err(invalid(
            &name("order_by"),
            format!(
                "is `{}`; it takes one path; sortable paths: {}",
                short(&order_by),
                schema.sortable_paths().join(", ")
            ),
        )
        .into());
    }
    let sign = if order == "desc" { "-" } else { "" };
    let sort = Sort::parse(&format!("{sign}{order_by}"), &schema, &name("order_by"))?;
    let mut filter = Filter::all();
    if !req.query.is_null() {
        filter.push_json(&schema, &req.query, "query")?;
    }
    // Named as the request gave it: `include` in a query string, `required.include` in a body.
    let include = if prefix.is_empty() {
        "include"
    } else {
        "required.include"
    };
    if let Some(required) = req.required.as_ref().filter(|r| !r.is_null()) {
        let Some(members) = required.as_object() else {
            return Err(invalid(
                "required",
                "must be an object such as {\"include\": [\"entry_id\"]}".into(),
            )
            .into());
        };
        if let Some(other) = members.keys().find(|k| *k != "include") {
            return Err(invalid(
                &format!("required.{}", short(other)),
                "is not supported; accepted: include (the paths each record keeps)".into(),
            )
            .into());
        }
    }
    let fields = match &req.required {
        None | Some(Json::Null) => None,
        Some(required) => match required.get("include") {
            None | Some(Json::Null) => None,
            Some(Json::Array(items)) => {
                let paths = items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .ok_or_else(|| invalid(include, "must list paths as strings".into()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Some(Projection::parse(paths, include)?)
            }
            Some(_) => return Err(invalid(include, "must be a list of paths".into()).into()),
        },
    };
    let query = Query {
        schema,
        filter,
        sort,
        fields,
    };

    let page_number = match number_text(&req.page) {
        None => None,
        Some(text) => match folio_engine::limits::parse_count(&text, &name("page"), "a whole number from 1")? {
            0 => return Err(invalid(&name("page"), "is 0; pages start at 1".into()).into()),
            n => Some(n),
        },
    };
    let position = match (page_number, &req.page_after_value) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                &name("page"),
                "cannot be given with page_after_value; use page for page numbers or page_after_value to continue after a record".into(),
            )
            .into());
        }
        (Some(number), None) => {
            let offset = (number - 1).saturating_mul(page_size);
            limits.check_offset(
                offset,
                page_size,
                &name("page"),
                "page_after_value (copy next_page_after_value)",
            )?;
            Position::Offset(offset)
        }
        (None, Some(text)) => Position::After(transparent::decode(
            &query.schema,
            &query.sort,
            text,
            &name("page_after_value"),
        )?),
        (None, None) => Position::Start,
    };
    Ok(ListRequest {
        query,
        owner: req.owner,
        filter_json: req.query,
        required: req.required,
        page_size,
        order_by,
        order,
        position,
        page_number,
        page_after_value: req.page_after_value,
    })
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
    let schema = state.schema(caller, collection).await?;
    let limits = state.config.query;
    let ListRequest {
        query,
        owner,
        filter_json,
        required,
        page_size,
        order_by,
        order,
        position,
        page_number,
        page_after_value,
    } = check(schema, req, &state.config, prefix)?;
    let page = state
        .page(&query, &plan(&query.sort, position, page_size), Count::Exact)
        .await?;
    let next_value = page
        .next
        .as_ref()
        .map(|key| transparent::encode(&query.schema, &query.sort, key));

    // GET URLs of this and the neighbouring pages.
    let mut carry = vec![
        ("page_size".to_owned(), page_size.to_string()),
        ("order_by".to_owned(), order_by.clone()),
        ("order".to_owned(), order.to_owned()),
    ];
    if !filter_is_empty(&filter_json) {
        carry.push(("query".to_owned(), filter_json.to_string()));
    }
    if let Some(fields) = &query.fields {
        carry.push(("include".to_owned(), fields.join(",")));
    }
    let base = Target::new(format!("/query/{}", links::segment(collection)), carry);
    let mut links: Vec<(&str, String)> = vec![("first", base.href())];
    let page_url = match (page_number, &page_after_value) {
        (Some(n), _) => base.with(&[("page", n.to_string())]).href(),
        (None, Some(v)) => base.with(&[("page_after_value", v.clone())]).href(),
        (None, None) => base.href(),
    };
    if let Some(n) = page_number.filter(|n| *n > 1) {
        links.push(("prev", base.with(&[("page", (n - 1).to_string())]).href()));
    }
    if let Some(value) = &next_value {
        let within = |n: u64| {
            limits
                .check_offset(n.saturating_mul(page_size), page_size, "", "")
                .is_ok()
        };
        let next = match page_number {
            Some(n) if within(n) => base.with(&[("page", (n + 1).to_string())]).href(),
            _ => base.with(&[("page_after_value", value.clone())]).href(),
        };
        links.push(("next", next));
    }

    let mut pagination = serde_json::Map::new();
    pagination.insert("page_size".into(), json!(page_size));
    pagination.insert("order_by".into(), json!(order_by));
    pagination.insert("order".into(), json!(order));
    if let Some(v) = &page_after_value {
        pagination.insert("page_after_value".into(), json!(v));
    }
    if let Some(n) = page_number {
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
    // `{"owner", "query", "pagination", "required"?, "data": [documents]}`, documents copied in
    // place.
    let mut body = Body::for_records(&page.records, 1);
    body.raw(b"{\"owner\":")
        .value(&owner)
        .raw(b",\"query\":")
        .value(&filter_json)
        .raw(b",\"pagination\":")
        .value(&pagination);
    if let Some(required) = &required {
        body.raw(b",\"required\":").value(required);
    }
    body.raw(b",\"data\":").docs(&page.records).raw(b"}");
    Ok(respond(StatusCode::OK, body.finish(), &links))
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

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}
