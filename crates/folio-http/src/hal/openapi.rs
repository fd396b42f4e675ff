//! The `hal` style in the OpenAPI document: its parameters and operations.

use folio_engine::Limits;
use utoipa::openapi::Paths;
use utoipa::openapi::path::{HttpMethod, Parameter};
use utoipa::openapi::schema::Type;

use crate::openapi::dsl::*;
use crate::openapi::params::window;
use crate::openapi::styles::{Collection, HAL, cacheable, errors, filter_param, operation};

/// A pagination parameter of the `hal` style.
pub(super) fn param(name: &str, limits: &Limits) -> Option<Parameter> {
    Some(match name {
        "limit" => query(
            name,
            integer(limits.min_size, Some(limits.max_size), Some(limits.default_size)),
            "records per page",
        ),
        "page" => query(
            name,
            integer(1, None, Some(1)),
            &format!("1-based page number; {}pagination_type=search_after", window(limits)),
        ),
        "with_count" => query(
            name,
            of(Type::Boolean),
            "add items_count and pages_count (counting costs)",
        ),
        "pagination_type" => query(
            name,
            one_of(&["page", "search_after"]),
            "page (default) or search_after",
        ),
        "search_after" => query(
            name,
            string(),
            "with pagination_type=search_after: the id to continue after (the next link gives it)",
        ),
        _ => return None,
    })
}

/// `GET /hal/{collection}` and the record route of `c`.
pub(crate) fn add(c: &Collection<'_>, paths: &mut Paths) {
    let limits = c.config.hal;
    let mut params: Vec<Parameter> = super::PAGINATION
        .iter()
        .filter_map(|name| param(name, &limits))
        .collect();
    params.push(filter_param(
        "search",
        "a filter in folio's query language (not Akeneo's operators)",
    ));
    let link = || component("HalLink");
    let links = object(
        vec![
            ("self", link(), true),
            ("first", link(), true),
            ("previous", link(), false),
            ("next", link(), false),
            ("last", link(), false),
        ],
        false,
    );
    let item = hal_item(c);
    let list = object(
        vec![
            ("_links", links, true),
            ("current_page", integer(1, None, None), false),
            ("items_count", count(), false),
            ("pages_count", count(), false),
            (
                "_embedded",
                object(vec![("items", array(item.clone()), true)], false),
                true,
            ),
        ],
        false,
    );
    let mut responses = vec![(
        "200".to_owned(),
        link_header(response("A page of records, in id order", HAL.media(), list)),
    )];
    responses.extend(errors(HAL, &[400, 401, 404, 422, 500, 503]));
    let (params, responses) = cacheable(params, responses);
    let op = operation(
        HAL,
        c.op_id("hal", "list"),
        &format!("Page through `{}` by page number or search_after", c.name()),
        params,
        responses,
    );
    paths.add_path_operation(c.at("hal", ""), vec![HttpMethod::Get], op.build());
    c.record_op(paths, HAL, "hal", item);
}

/// A HAL item: the record with its own `_links.self` first.
fn hal_item(c: &Collection<'_>) -> S {
    described(
        object(
            vec![(
                "_links",
                object(vec![("self", component("HalLink"), true)], false),
                true,
            )],
            false,
        ),
        &format!("A record of `{}` with its `_links.self`", c.name()),
    )
}

#[cfg(test)]
mod tests {
    /// Every pagination parameter the parser knows is documented: adding one without
    /// describing it fails here.
    #[test]
    fn every_pagination_parameter_is_documented() {
        let limits = crate::HttpConfig::default().hal;
        for name in super::super::PAGINATION {
            assert!(super::param(name, &limits).is_some(), "hal {name}");
        }
    }
}
