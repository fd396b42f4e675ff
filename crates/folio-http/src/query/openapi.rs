//! The `query` style in the OpenAPI document: its parameters and operations.

use folio_engine::Limits;
use folio_engine::projection::MAX_PROJECTED_PATHS;
use utoipa::openapi::Paths;
use utoipa::openapi::path::{HttpMethod, Parameter};

use crate::openapi::dsl::*;
use crate::openapi::params::window;
use crate::openapi::styles::{Collection, QUERY, cacheable, errors, filter_param, operation};

/// A pagination field of the `query` style (a parameter of GET, a field of POST bodies).
pub(super) fn param(name: &str, limits: &Limits, sortable: &[String]) -> Option<Parameter> {
    let sortable: Vec<&str> = sortable.iter().map(String::as_str).collect();
    Some(match name {
        "page_size" => query(
            name,
            integer(limits.min_size, Some(limits.max_size), Some(limits.default_size)),
            "records per page",
        ),
        "order_by" => query(name, one_of(&sortable), "the path to order by (default: the id)"),
        "order" => query(name, one_of(&["asc", "desc"]), "asc (default) or desc"),
        "page_after_value" => query(
            name,
            string(),
            "the previous page's next_page_after_value: the id, or `<value>:<id>` when ordering by another path ($null: no value; `:` and `%` in the id written `%3A` and `%25`)",
        ),
        "page" => query(
            name,
            integer(1, None, None),
            &format!("1-based page number; {}page_after_value", window(limits)),
        ),
        _ => return None,
    })
}

/// `GET /query/{collection}`, `POST /query/{collection}/query` and the record route of `c`.
pub(crate) fn add(c: &Collection<'_>, paths: &mut Paths) {
    let limits = c.config.query;
    let sortable = c.sortable();
    let answer = object(
        vec![
            (
                "owner",
                described(crate::openapi::dsl::any(), "as given (default `public`)"),
                true,
            ),
            (
                "query",
                described(crate::openapi::dsl::any(), "the filter, as given"),
                true,
            ),
            ("pagination", component("QueryPagination"), true),
            ("required", described(crate::openapi::dsl::any(), "as given"), false),
            ("data", array(c.record()), true),
        ],
        false,
    );
    let ok = || link_header(response("A page of records", QUERY.media(), answer.clone()));

    let mut get_params: Vec<Parameter> = super::PAGINATION
        .iter()
        .filter_map(|name| param(name, &limits, &sortable))
        .collect();
    get_params.push(filter_param("query", "the filter, as JSON"));
    get_params.push(query_list(
        "include",
        string(),
        &format!("paths the records keep (comma-separated); at most {MAX_PROJECTED_PATHS} distinct paths"),
    ));
    get_params.push(query("owner", string(), "echoed in the answer"));
    let mut responses = vec![("200".to_owned(), ok())];
    responses.extend(errors(QUERY, &[401, 404, 422, 500, 503]));
    let (get_params, responses) = cacheable(get_params, responses);
    let op = operation(
        QUERY,
        c.op_id("query", "list"),
        &format!("Page through `{}` with the pagination fields as parameters", c.name()),
        get_params,
        responses,
    );
    paths.add_path_operation(c.at("query", ""), vec![HttpMethod::Get], op.build());
    add_search(c, paths, ok());
    let one = object(vec![("data", c.record(), true)], false);
    c.record_op(paths, QUERY, "query", one);
}

/// `POST /query/{collection}/query`, answered as `ok`.
fn add_search(c: &Collection<'_>, paths: &mut Paths, ok: utoipa::openapi::ResponseBuilder) {
    let (limits, sortable) = (c.config.query, c.sortable());
    let pagination = object(
        super::PAGINATION
            .iter()
            .filter_map(|name| param(name, &limits, &sortable).and_then(|p| p.schema.map(|s| (*name, s, false))))
            .collect(),
        true,
    );
    let body = object(
        vec![
            ("owner", string(), false),
            ("query", component("Filter"), false),
            ("pagination", pagination, false),
            (
                "required",
                object(
                    vec![("include", bounded_array(string(), MAX_PROJECTED_PATHS), false)],
                    false,
                ),
                false,
            ),
        ],
        false,
    );
    let mut responses = vec![("200".to_owned(), ok)];
    responses.extend(errors(QUERY, &[401, 404, 413, 415, 422, 500, 503]));
    let op = operation(
        QUERY,
        c.op_id("query", "search"),
        &format!(
            "Query `{}` with a body: copy next_page_after_value into page_after_value to continue",
            c.name()
        ),
        Vec::new(),
        responses,
    )
    .request_body(Some(json_body(body, "owner, query, pagination, required")));
    paths.add_path_operation(c.at("query", "/query"), vec![HttpMethod::Post], op.build());
}

#[cfg(test)]
mod tests {
    /// Every pagination parameter the parser knows is documented: adding one without
    /// describing it fails here.
    #[test]
    fn every_pagination_parameter_is_documented() {
        let limits = crate::HttpConfig::default().query;
        for name in super::super::PAGINATION {
            assert!(
                super::param(name, &limits, &["id".to_owned()]).is_some(),
                "query {name}"
            );
        }
    }
}
