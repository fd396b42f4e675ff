//! The shapes every collection shares: each style's error body, JSON:API `meta` and `links`,
//! HAL links, the query style's `pagination`, and the JSON filter.
//!
//! Each mirrors what the style module writes; `tests/it/openapi.rs` checks real responses
//! against them, and `scripts/schemathesis.sh` fuzzes the whole API against them.

use utoipa::openapi::schema::Type;

use super::dsl::{S, any, any_object, array, count, described, integer, nullable, object, of, one_of, string};

/// The components, by name.
pub(super) fn all() -> Vec<(&'static str, S)> {
    vec![
        ("JsonApiErrors", jsonapi_errors()),
        ("JsonApiMeta", jsonapi_meta()),
        ("JsonApiLinks", jsonapi_links()),
        ("HalLink", object(vec![("href", string(), true)], false)),
        ("HalError", hal_error()),
        ("QueryPagination", query_pagination()),
        ("QueryError", query_error()),
        ("SimpleStatus", simple_status()),
        ("Problem", problem()),
        ("Filter", filter()),
        ("Collections", collections()),
    ]
}

/// `{"errors": [{status, code, title, detail, source.parameter}]}` (`jsonapi::document::error`).
fn jsonapi_errors() -> S {
    let error = object(
        vec![
            ("status", described(string(), "the HTTP status, as text"), true),
            (
                "code",
                described(string(), "stable error name; `GET /problems/{code}` explains it"),
                true,
            ),
            ("title", string(), true),
            (
                "detail",
                described(string(), "what was wrong and what is allowed"),
                true,
            ),
            ("source", object(vec![("parameter", string(), true)], false), false),
        ],
        false,
    );
    object(vec![("errors", array(error), true)], false)
}

/// `meta` of a JSON:API page (`jsonapi::document::list`).
fn jsonapi_meta() -> S {
    let limits = object(
        vec![
            ("maxPageSize", count(), true),
            (
                "maxFields",
                described(count(), "the most distinct paths `fields[...]` may name"),
                true,
            ),
            (
                "maxOffset",
                described(nullable(Type::Integer), "how deep page numbers reach; null: no limit"),
                true,
            ),
        ],
        false,
    );
    object(
        vec![
            ("pageSize", count(), true),
            ("limits", limits, true),
            (
                "total",
                described(count(), "matching records (with totalExact false: at least this many)"),
                false,
            ),
            ("totalExact", of(Type::Boolean), false),
            (
                "totalPages",
                described(count(), "given only with an exact total"),
                false,
            ),
            ("page", integer(1, None, None), false),
            (
                "snapshotAt",
                described(
                    string(),
                    "RFC 3339: the moment this cursor walk reads (its first page's); later pages show the collection as it was then",
                ),
                false,
            ),
            (
                "unindexedFilters",
                described(
                    array(string()),
                    "the filtered paths no index serves: the page was found by scanning, bounded by the server's time limit, and its total is capped",
                ),
                false,
            ),
        ],
        false,
    )
}

/// `links` of a JSON:API page.
fn jsonapi_links() -> S {
    let link = || string();
    object(
        vec![
            ("self", link(), true),
            ("first", link(), false),
            ("prev", link(), false),
            ("next", described(link(), "absent on the last page"), false),
            ("last", link(), false),
        ],
        false,
    )
}

/// `{"code": status, "message": "..."}` (`hal::error`).
fn hal_error() -> S {
    object(
        vec![
            ("code", described(of(Type::Integer), "the HTTP status"), true),
            ("message", string(), true),
        ],
        false,
    )
}

/// The `pagination` of a query-style answer (`query::list_page`).
fn query_pagination() -> S {
    object(
        vec![
            ("page_size", count(), true),
            ("order_by", string(), true),
            ("order", one_of(&["asc", "desc"]), true),
            ("page_after_value", string(), false),
            ("page", integer(1, None, None), false),
            (
                "next_page_after_value",
                described(
                    string(),
                    "give it as page_after_value for the next page; absent on the last",
                ),
                false,
            ),
            ("total", count(), false),
            ("page_url", string(), true),
            ("first_page_url", string(), true),
            ("prev_page_url", string(), false),
            ("next_page_url", string(), false),
        ],
        false,
    )
}

/// `{"detail": [{"loc", "msg", "type"}]}` (`query::error`, as FastAPI writes it).
fn query_error() -> S {
    let item = object(
        vec![
            (
                "loc",
                described(array(string()), "where: `body`, `query` or `path`, then the field"),
                true,
            ),
            ("msg", string(), true),
            (
                "type",
                described(string(), "stable error name; `GET /problems/{type}` explains it"),
                true,
            ),
        ],
        false,
    );
    object(vec![("detail", array(item), true)], false)
}

/// `{"code": 10000, "description": "Ok"}` (`simple`).
fn simple_status() -> S {
    object(
        vec![("code", of(Type::Integer), true), ("description", string(), true)],
        false,
    )
}

/// An RFC 9457 problem (`simple::problem`).
fn problem() -> S {
    object(
        vec![
            (
                "type",
                described(string(), "`/problems/{code}`, which describes it"),
                true,
            ),
            ("title", string(), true),
            ("status", of(Type::Integer), true),
            ("detail", string(), true),
            ("code", string(), true),
            ("parameter", described(string(), "the parameter at fault"), false),
        ],
        false,
    )
}

/// The JSON filter of every style (`folio_engine::filter`).
fn filter() -> S {
    any_object(
        "folio's query language: `{\"path\": value}` is `eq` (membership on string[] paths), \
         `{\"path\": [values]}` is `any`, `{\"path\": {\"op\": value}}` takes eq, gt, gte, lt, lte, in, \
         any, none (and all on string[] paths), `{\"path\": null}` has no value; keys are combined \
         with `and`, and `and`/`or` take lists of filters, `not` one filter. At most 32 conditions, \
         8 levels and 100 values in one list.",
    )
}

/// `GET /jsonapi`: the collections (`jsonapi::document::collections`).
fn collections() -> S {
    let path = object(
        vec![
            ("path", string(), true),
            ("type", string(), true),
            ("sortable", of(Type::Boolean), true),
            ("id", of(Type::Boolean), false),
            (
                "indexed",
                described(
                    of(Type::Boolean),
                    "false when no index serves the path: filters on it scan the collection",
                ),
                false,
            ),
        ],
        false,
    );
    let collection = object(
        vec![
            ("type", one_of(&["collections"]), true),
            ("id", string(), true),
            (
                "attributes",
                object(
                    vec![
                        ("idPath", string(), true),
                        ("count", count(), true),
                        ("indexedPaths", array(path), true),
                    ],
                    false,
                ),
                true,
            ),
            ("links", object(vec![("self", string(), true)], false), true),
        ],
        false,
    );
    object(
        vec![
            ("data", array(collection), true),
            ("links", object(vec![("self", string(), true)], false), true),
            ("meta", any(), false),
        ],
        false,
    )
}
