//! Reading a `query` request, from a `POST` body or `GET` parameters (parse, then validate
//! into types).

use folio_engine::projection::Projection;
use folio_engine::{Filter, Position, Sort, transparent};
use serde_json::{Value as Json, json};

use crate::error::ApiError;
use crate::paging::{self, At, Paging, Window};
use crate::params::{self, invalid, short};
use crate::state::{HttpConfig, Readable};

/// The fields of `pagination`.
pub(crate) const PAGINATION: [&str; 5] = ["page_size", "order_by", "order", "page_after_value", "page"];

/// A checked list request, from a `POST` body ([`parse_post`]) or `GET` parameters
/// ([`parse_get`]).
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub(super) paging: Paging,
    /// `owner`, `query` and `required` as given, echoed in the response.
    pub(super) owner: Json,
    pub(super) filter_json: Json,
    pub(super) required: Option<Json>,
    pub(super) order_by: String,
    pub(super) order: &'static str,
    /// The transparent key the page continues after, as given.
    pub(super) page_after_value: Option<String>,
}

impl ListRequest {
    /// The collection, filter, sort and projection asked for.
    pub fn query(&self) -> &folio_store::Query {
        self.paging.query()
    }
}

/// Parses and validates the body of `POST /query/{collection}/query` for `collection`, under
/// the `query` limits of `config`: everything the handler checks before it asks the store for
/// anything. Bodies over `config.max_body_bytes` are rejected.
pub fn parse_post(collection: &Readable, body: &[u8], config: &HttpConfig) -> Result<ListRequest, ApiError> {
    let json = params::json_object(body, config.max_body_bytes)?;
    check(collection, Request::from_body(&json)?, config, "pagination.")
}

/// Parses and validates the query string `raw` of `GET /query/{collection}` as
/// [`parse_post`] does a body.
pub fn parse_get(collection: &Readable, raw: Option<&str>, config: &HttpConfig) -> Result<ListRequest, ApiError> {
    check(collection, Request::from_pairs(raw)?, config, "")
}

/// A request in the style's terms, from a body or from parameters.
pub(super) struct Request {
    owner: Json,
    query: Json,
    required: Option<Json>,
    page_size: Option<Json>,
    order_by: Option<String>,
    order: Option<String>,
    page_after_value: Option<String>,
    page: Option<Json>,
}

impl Request {
    /// The members of a `POST` body.
    pub(super) fn from_body(body: &Json) -> Result<Request, ApiError> {
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

    /// The parameters of a `GET` query string.
    pub(super) fn from_pairs(raw: Option<&str>) -> Result<Request, ApiError> {
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
}

/// Checks a request against the collection's schema and the limits; `prefix` is how
/// pagination fields are named in errors (`pagination.` in bodies).
pub(super) fn check(
    collection: &Readable,
    req: Request,
    config: &HttpConfig,
    prefix: &str,
) -> Result<ListRequest, ApiError> {
    let name = |field: &str| format!("{prefix}{field}");
    let mut window = Window::sized(config.query, number_text(&req.page_size).as_deref(), &name("page_size"))?;
    let (order_by, order, sort) = order(collection, &req, prefix)?;
    let mut filter = Filter::all();
    if !req.query.is_null() {
        filter.push_json(collection.schema(), &req.query, "query")?;
    }
    // Named as the request gave it: `include` in a query string, `required.include` in a body.
    let include = if prefix.is_empty() {
        "include"
    } else {
        "required.include"
    };
    let fields = projection(req.required.as_ref(), include)?;
    let reading = collection.reading(filter, sort, fields);
    let page_number = paging::page_number(number_text(&req.page).as_deref(), &name("page"))?;
    let at = match (page_number, &req.page_after_value) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                &name("page"),
                "cannot be given with page_after_value; use page for page numbers or page_after_value to continue after a record".into(),
            ));
        }
        (Some(number), None) => window.page(number, &name("page"), "page_after_value (copy next_page_after_value)")?,
        (None, Some(text)) => {
            let query = reading.query();
            let key = transparent::decode(&query.schema, &query.sort, text, &name("page_after_value"))?;
            At::Position(Position::After(key))
        }
        (None, None) => At::Position(Position::Start),
    };
    Ok(ListRequest {
        paging: Paging { reading, window, at },
        owner: req.owner,
        filter_json: req.query,
        required: req.required,
        order_by,
        order,
        page_after_value: req.page_after_value,
    })
}

/// A number given as JSON (a body's number or string) or as text.
fn number_text(v: &Option<Json>) -> Option<String> {
    match v {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

/// `order_by` and `order`, as given and as a sort.
fn order(collection: &Readable, req: &Request, prefix: &str) -> Result<(String, &'static str, Sort), ApiError> {
    let name = |field: &str| format!("{prefix}{field}");
    let schema = collection.schema();
    let order = match req.order.as_deref() {
        None | Some("asc") => "asc",
        Some("desc") => "desc",
        Some(other) => {
            return Err(invalid(
                &name("order"),
                format!("is `{}`; expected asc or desc", short(other)),
            ));
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
        ));
    }
    let sign = if order == "desc" { "-" } else { "" };
    let sort = Sort::parse(&format!("{sign}{order_by}"), schema, &name("order_by"))?;
    Ok((order_by, order, sort))
}

/// The paths `required.include` (named `include` in errors) keeps.
fn projection(required: Option<&Json>, include: &str) -> Result<Option<Projection>, ApiError> {
    let Some(required) = required.filter(|r| !r.is_null()) else {
        return Ok(None);
    };
    let Some(members) = required.as_object() else {
        return Err(invalid(
            "required",
            "must be an object such as {\"include\": [\"entry_id\"]}".into(),
        ));
    };
    if let Some(other) = members.keys().find(|k| *k != "include") {
        return Err(invalid(
            &format!("required.{}", short(other)),
            "is not supported; accepted: include (the paths each record keeps)".into(),
        ));
    }
    match members.get("include") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => {
            let paths = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .ok_or_else(|| invalid(include, "must list paths as strings".into()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(Projection::parse(paths, include)?))
        }
        Some(_) => Err(invalid(include, "must be a list of paths".into())),
    }
}
