//! Reading a `GET /hal/{collection}` request (parse, then validate into types).

use folio_engine::{Filter, Position, Sort, transparent};

use crate::error::ApiError;
use crate::paging::{self, At, Paging, Window};
use crate::params::{self, invalid};
use crate::state::{HttpConfig, Readable};

/// The pagination parameters of this style.
pub(crate) const PAGINATION: [&str; 5] = ["limit", "page", "with_count", "pagination_type", "search_after"];

/// A checked `GET /hal/{collection}` request, as [`parse_list`] makes it.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub(super) paging: Paging,
    pub(super) with_count: bool,
    /// `search` and `search_after` as given, for the links.
    pub(super) search: Option<String>,
    pub(super) search_after: Option<String>,
}

impl ListRequest {
    /// The collection, filter and sort asked for.
    pub fn query(&self) -> &folio_store::Query {
        self.paging.query()
    }
}

/// Parses and validates the query string `raw` of `GET /hal/{collection}` for `collection`,
/// under the `hal` limits of `config`: everything the handler checks before it asks the store
/// for anything.
pub fn parse_list(collection: &Readable, raw: Option<&str>, config: &HttpConfig) -> Result<ListRequest, ApiError> {
    let pairs = params::pairs(raw);
    params::check_spelling(pairs.iter().map(|(k, _)| k.as_str()), &PAGINATION)?;
    params::refuse_sorts_and_fields(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "hal",
        collection.name(),
    )?;
    let get = |name| params::single(&pairs, name);
    let mut window = Window::sized(config.hal, get("limit")?, "limit")?;
    let with_count = params::boolean(get("with_count")?, "with_count")?;
    let search_after_mode = match get("pagination_type")? {
        None | Some("page") => false,
        Some("search_after") => true,
        Some(other) => {
            return Err(invalid(
                "pagination_type",
                format!("is `{}`; expected page or search_after", params::short(other)),
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
        filter.push_json(collection.schema(), &json, "search")?;
    }
    let reading = collection.reading(filter, Sort::by_id(), None);
    let search_after = get("search_after")?;
    let at = if search_after_mode {
        if get("page")?.is_some() {
            return Err(invalid(
                "page",
                "cannot be used with pagination_type=search_after".into(),
            ));
        }
        At::Position(match search_after {
            None => Position::Start,
            Some(text) => {
                let query = reading.query();
                Position::After(transparent::decode(&query.schema, &query.sort, text, "search_after")?)
            }
        })
    } else {
        if search_after.is_some() {
            return Err(invalid("search_after", "needs pagination_type=search_after".into()));
        }
        let number = paging::page_number(get("page")?, "page")?.unwrap_or(1);
        window.page(number, "page", "pagination_type=search_after")?
    };
    Ok(ListRequest {
        paging: Paging { reading, window, at },
        with_count,
        search: search.map(str::to_owned),
        search_after: search_after.map(str::to_owned),
    })
}
