//! The `jsonapi` style in the OpenAPI document: its parameters and operations.

use folio_engine::Limits;
use folio_engine::projection::{MAX_PROJECTED_PATH_BYTES, MAX_PROJECTED_PATHS};
use utoipa::openapi::Paths;
use utoipa::openapi::path::{HttpMethod, Parameter};

use crate::openapi::dsl::*;
use crate::openapi::params::window;
use crate::openapi::styles::{Collection, JSONAPI, cacheable, errors, filter_param, operation};

/// A `page[...]` parameter of the `jsonapi` style.
pub(super) fn param(name: &str, limits: &Limits) -> Option<Parameter> {
    Some(match name {
        "page[number]" => query(
            name,
            integer(1, None, Some(1)),
            &format!("1-based page number; {}page[cursor]", window(limits)),
        ),
        "page[size]" => query(
            name,
            integer(limits.min_size, Some(limits.max_size), Some(limits.default_size)),
            "records per page (0: only meta and links); above the maximum is a 422, never a silent clamp",
        ),
        "page[cursor]" => query(
            name,
            string(),
            "`1` for the first page, then the token of links.next or links.prev (opaque, signed)",
        ),
        "page[after]" => query(name, string(), "a cursor token: the page after that position"),
        "page[before]" => query(name, string(), "a cursor token: the page before that position"),
        "page[total]" => query(
            name,
            one_of(&["exact", "capped", "none"]),
            "exact: count every match; capped: stop at the server's cap (meta.totalExact false); none: no total. Default: exact when an index answers the filter, else capped",
        ),
        _ => return None,
    })
}

/// The parameters of a JSON:API list (and of the browse page, which takes the same).
pub(crate) fn list_params(c: &Collection<'_>) -> Vec<Parameter> {
    let limits = c.config.jsonapi;
    let mut params: Vec<Parameter> = super::PAGE_PARAMS
        .iter()
        .filter_map(|name| param(name, &limits))
        .collect();
    let sortable = c.sortable();
    params.push(query(
        "sort",
        string(),
        &format!(
            "comma-separated paths, `-` for descending, at most 8; sortable: {}. The id breaks ties.",
            sortable.join(", ")
        ),
    ));
    params.push(filter_param(
        "filter",
        "the whole query language as one JSON object, combined with any filter[...] by and",
    ));
    params.extend(c.filter_params());
    params.push(query(
        &format!("fields[{}]", c.name()),
        string(),
        &format!(
            "comma-separated paths: records hold only these (nesting kept); at most {MAX_PROJECTED_PATHS} distinct paths of at most {MAX_PROJECTED_PATH_BYTES} bytes"
        ),
    ));
    params
}

/// `GET /jsonapi/{collection}` and the record route of `c`.
pub(crate) fn add(c: &Collection<'_>, paths: &mut Paths) {
    let resource = object(
        vec![
            ("type", constant(c.name()), true),
            ("id", string(), true),
            ("attributes", c.record(), true),
            ("links", object(vec![("self", string(), true)], false), true),
        ],
        false,
    );
    let list = object(
        vec![
            ("data", array(resource.clone()), true),
            ("meta", component("JsonApiMeta"), true),
            ("links", component("JsonApiLinks"), true),
        ],
        false,
    );
    let mut responses = vec![(
        "200".to_owned(),
        link_header(response("A page of records", JSONAPI.media(), list)),
    )];
    responses.extend(errors(JSONAPI, &[400, 401, 404, 410, 422, 500, 503]));
    let (params, responses) = cacheable(list_params(c), responses);
    let op = operation(
        JSONAPI,
        c.op_id("jsonapi", "list"),
        &format!(
            "Page through `{}` (page numbers, cursors, page[after]/page[before])",
            c.name()
        ),
        params,
        responses,
    );
    paths.add_path_operation(c.at("jsonapi", ""), vec![HttpMethod::Get], op.build());

    let one = object(
        vec![
            ("data", resource, true),
            ("links", object(vec![("self", string(), true)], false), true),
        ],
        false,
    );
    c.record_op(paths, JSONAPI, "jsonapi", one);
    add_partitions(c, paths);
}

/// `GET /jsonapi/{collection}/-/partitions` of `c`.
fn add_partitions(c: &Collection<'_>, paths: &mut Paths) {
    let part = object(
        vec![
            ("type", constant("partitions"), true),
            ("id", string(), true),
            ("attributes", object(vec![("records", count(), true)], false), true),
            ("links", object(vec![("first", string(), true)], false), true),
        ],
        false,
    );
    let body = object(
        vec![
            ("data", array(part), true),
            (
                "meta",
                object(
                    vec![
                        ("total", count(), true),
                        ("partitions", count(), true),
                        (
                            "snapshotAt",
                            described(
                                string(),
                                "RFC 3339: the moment every partition's walk reads, so that together they are that moment's result",
                            ),
                            false,
                        ),
                    ],
                    false,
                ),
                true,
            ),
            ("links", object(vec![("self", string(), true)], false), true),
        ],
        false,
    );
    let mut count_param = query(
        "count",
        integer(1, Some(super::partitions::MAX_PARTITIONS), None),
        "how many partitions to cut the result into (fewer when the result is small)",
    );
    count_param.required = utoipa::openapi::Required::True;
    let mut params = vec![count_param];
    params.extend(
        list_params(c)
            .into_iter()
            .filter(|p| !p.name.starts_with("page[") || p.name == "page[size]"),
    );
    let mut responses = vec![(
        "200".to_owned(),
        response(
            "The partitions: each one's links.first starts a cursor walk that ends at the partition's last record",
            JSONAPI.media(),
            body,
        ),
    )];
    responses.extend(errors(JSONAPI, &[400, 401, 404, 422, 500, 503]));
    let op = operation(
        JSONAPI,
        c.op_id("jsonapi", "partitions"),
        &format!(
            "Cut the result of a `{}` list into partitions walked in parallel",
            c.name()
        ),
        params,
        responses,
    );
    paths.add_path_operation(c.at("jsonapi", "/-/partitions"), vec![HttpMethod::Get], op.build());
}

/// `GET /jsonapi`: the collections.
pub(crate) fn add_collections(paths: &mut Paths) {
    let mut responses = vec![(
        "200".to_owned(),
        response(
            "Every collection, its size and its indexed paths",
            JSONAPI.media(),
            component("Collections"),
        ),
    )];
    responses.extend(errors(JSONAPI, &[500]));
    let op = operation(
        JSONAPI,
        "jsonapi_collections".to_owned(),
        "The collections",
        Vec::new(),
        responses,
    );
    paths.add_path_operation("/jsonapi", vec![HttpMethod::Get], op.build());
}

#[cfg(test)]
mod tests {
    /// Every pagination parameter the parser knows is documented: adding one without
    /// describing it fails here.
    #[test]
    fn every_pagination_parameter_is_documented() {
        let limits = crate::HttpConfig::default().jsonapi;
        for name in super::super::PAGE_PARAMS {
            assert!(super::param(name, &limits).is_some(), "jsonapi {name}");
        }
    }
}
