//! Reading a `simple` request, from `GET` parameters or a `POST` body (parse, then validate
//! into types).

use folio_engine::{Filter, Position, Sort};
use serde_json::Value as Json;

use crate::error::ApiError;
use crate::paging::{self, At, Paging, Window};
use crate::params::{self, invalid};
use crate::state::{HttpConfig, Readable};

/// The pagination parameters of this style.
pub(crate) const PAGINATION: [&str; 4] = ["page", "per_page", "after", "before"];

/// A checked list request, from `GET` parameters ([`parse_get`]) or a `POST` body
/// ([`parse_post`]).
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub(super) paging: Paging,
    /// The filter as given, repeated in links.
    pub(super) filter_json: Option<Json>,
}

impl ListRequest {
    /// The collection and filter asked for (the order is always the id's).
    pub fn query(&self) -> &folio_store::Query {
        self.paging.query()
    }
}

/// Parses and validates the query string `raw` of `GET /simple/{collection}` for
/// `collection`, under the `simple` limits of `config`, verifying cursors with `codec`:
/// everything the handler checks before it asks the store for anything.
pub fn parse_get(
    codec: &folio_engine::CursorCodec,
    collection: &Readable,
    raw: Option<&str>,
    config: &HttpConfig,
) -> Result<ListRequest, ApiError> {
    let request = Request::from_pairs(raw, collection.name())?;
    check(codec, collection, request, config, "")
}

/// Parses and validates the body of `POST /simple/{collection}/searches` as
/// [`parse_get`] does a query string; bodies over `config.max_body_bytes` are rejected.
pub fn parse_post(
    codec: &folio_engine::CursorCodec,
    collection: &Readable,
    body: &[u8],
    config: &HttpConfig,
) -> Result<ListRequest, ApiError> {
    let json = params::json_object(body, config.max_body_bytes)?;
    let request = Request::from_body(&json, collection.name())?;
    check(codec, collection, request, config, "pagination.")
}

/// A request as given, before it is checked against a schema.
pub(super) struct Request {
    query: Option<Json>,
    page: Option<String>,
    per_page: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

impl Request {
    /// The parameters of a `GET` query string.
    pub(super) fn from_pairs(raw: Option<&str>, collection: &str) -> Result<Request, ApiError> {
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

    /// The members of a `POST` body.
    pub(super) fn from_body(body: &Json, collection: &str) -> Result<Request, ApiError> {
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
}

/// Checks a request against the collection's schema and the limits; `prefix` is how
/// pagination fields are named in errors (`pagination.` in bodies).
pub(super) fn check(
    codec: &folio_engine::CursorCodec,
    collection: &Readable,
    req: Request,
    config: &HttpConfig,
    prefix: &str,
) -> Result<ListRequest, ApiError> {
    let name = |field: &str| format!("{prefix}{field}");
    let mut window = Window::sized(config.simple, req.per_page.as_deref(), &name("per_page"))?;
    let mut filter = Filter::all();
    if let Some(q) = &req.query {
        filter.push_json(collection.schema(), q, "query")?;
    }
    let mut reading = collection.reading(filter, Sort::by_id(), None);
    let at = match (&req.page, &req.after, &req.before) {
        (page, None, None) => {
            let number = paging::page_number(page.as_deref(), &name("page"))?.unwrap_or(1);
            let instead = "the `next` link of the Link header (an `after` cursor)";
            window.page(number, &name("page"), instead)?
        }
        (None, Some(token), None) => At::Position(match reading.decode(codec, token, &name("after"))? {
            Position::After(k) | Position::Before(k) => Position::After(k),
            other => other,
        }),
        (None, None, Some(token)) => At::Position(match reading.decode(codec, token, &name("before"))? {
            Position::After(k) | Position::Before(k) => Position::Before(k),
            other => other,
        }),
        (page, after, _) => {
            // Two of the three: the error names the one that cannot join the other.
            let (param, other) = match (page, after) {
                (Some(_), Some(_)) => ("page", "after"),
                (Some(_), None) => ("page", "before"),
                (None, _) => ("before", "after"),
            };
            return Err(invalid(
                &name(param),
                format!(
                    "cannot be given with `{}`; give one of `{}`, `{}` and `{}` (`after` and `before` come from the Link header's links)",
                    name(other),
                    name("page"),
                    name("after"),
                    name("before")
                ),
            ));
        }
    };
    Ok(ListRequest {
        paging: Paging { reading, window, at },
        filter_json: req.query,
    })
}
