//! The `simple` style in the OpenAPI document: its parameters and operations.

use folio_engine::Limits;
use utoipa::openapi::Paths;
use utoipa::openapi::path::{HttpMethod, Parameter};

use crate::openapi::dsl::*;
use crate::openapi::params::window;
use crate::openapi::styles::{Collection, SIMPLE, cacheable, errors, filter_param, operation};

/// A pagination parameter of the `simple` style.
pub(super) fn param(name: &str, limits: &Limits) -> Option<Parameter> {
    Some(match name {
        "page" => query(
            name,
            integer(1, None, Some(1)),
            &format!(
                "1-based page number; {}the after cursor of the Link header",
                window(limits)
            ),
        ),
        "per_page" => query(
            name,
            integer(limits.min_size, Some(limits.max_size), Some(limits.default_size)),
            "records per page",
        ),
        "after" => query(name, string(), "a cursor from the `next` link of the Link header"),
        "before" => query(
            name,
            string(),
            "a cursor from the `prev` or `last` link of the Link header",
        ),
        _ => return None,
    })
}
/// `GET /simple/{collection}`, `POST /simple/{collection}/searches` and the record route of `c`.
pub(crate) fn add(c: &Collection<'_>, paths: &mut Paths) {
    let limits = c.config.simple;
    let list = object(
        vec![
            ("status", component("SimpleStatus"), true),
            (c.name(), array(c.record()), true),
        ],
        false,
    );
    let ok = || {
        link_header(response("A page of records, in id order", SIMPLE.media(), list.clone())).header(
            "X-Total-Count",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(count()))
                .description(Some("the number of matching records"))
                .build(),
        )
    };
    let mut get_params: Vec<Parameter> = super::PAGINATION
        .iter()
        .filter_map(|name| param(name, &limits))
        .collect();
    get_params.push(filter_param("query", "a filter, as JSON"));
    let mut responses = vec![("200".to_owned(), ok())];
    responses.extend(errors(SIMPLE, &[400, 401, 404, 410, 422, 500, 503]));
    let (get_params, responses) = cacheable(get_params, responses);
    let op = operation(
        SIMPLE,
        c.op_id("simple", "list"),
        &format!(
            "Page through `{}` with page and per_page, then the Link header",
            c.name()
        ),
        get_params,
        responses,
    );
    paths.add_path_operation(c.at("simple", ""), vec![HttpMethod::Get], op.build());

    let pagination = object(
        super::PAGINATION
            .iter()
            .filter_map(|name| param(name, &limits).and_then(|p| p.schema.map(|s| (*name, s, false))))
            .collect(),
        true,
    );
    let body = object(
        vec![("query", component("Filter"), false), ("pagination", pagination, false)],
        false,
    );
    let mut responses = vec![("200".to_owned(), ok())];
    responses.extend(errors(SIMPLE, &[400, 401, 404, 410, 413, 415, 422, 500, 503]));
    let op = operation(
        SIMPLE,
        c.op_id("simple", "search"),
        &format!("Search `{}` with a body; links are the equivalent GET URLs", c.name()),
        Vec::new(),
        responses,
    )
    .request_body(Some(json_body(body, "query and pagination")));
    paths.add_path_operation(c.at("simple", "/searches"), vec![HttpMethod::Post], op.build());

    let one = object(
        vec![
            ("status", component("SimpleStatus"), true),
            (&super::singular(c.name()), c.record(), true),
        ],
        false,
    );
    c.record_op(paths, SIMPLE, "simple", one);
}

#[cfg(test)]
mod tests {
    /// Every pagination parameter the parser knows is documented: adding one without
    /// describing it fails here.
    #[test]
    fn every_pagination_parameter_is_documented() {
        let limits = crate::HttpConfig::default().simple;
        for name in super::super::PAGINATION {
            assert!(super::param(name, &limits).is_some(), "simple {name}");
        }
    }
}
