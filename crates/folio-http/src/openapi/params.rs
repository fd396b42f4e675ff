//! The parameters of each style, one function per style over the names its parser accepts
//! (`jsonapi::PAGE_PARAMS`, `hal::PAGINATION`, ...), so that a name without a description
//! fails the unit test in `openapi::tests`.

use folio_engine::{FieldType, Limits};
use utoipa::openapi::path::Parameter;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

use super::dsl::{S, integer, of, one_of, query, string};

/// The schema of a filter value written as text for a path of type `ty`.
pub(super) fn value_schema(ty: FieldType) -> S {
    match ty {
        FieldType::Integer => of(Type::Integer),
        FieldType::Float => of(Type::Number),
        FieldType::Boolean => of(Type::Boolean),
        FieldType::Timestamp => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into(),
        FieldType::String | FieldType::StringArray => string(),
    }
}

fn window(limits: &Limits) -> String {
    match limits.max_offset {
        Some(max) => format!("page numbers reach the first {max} records (offset + size <= {max}); go deeper with "),
        None => "page numbers reach any depth on this server; cursors cost less deep down: ".to_owned(),
    }
}

/// A `page[...]` parameter of the `jsonapi` style.
pub(super) fn jsonapi_page_param(name: &str, limits: &Limits) -> Option<Parameter> {
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

/// A pagination parameter of the `hal` style.
pub(super) fn hal_param(name: &str, limits: &Limits) -> Option<Parameter> {
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

/// A pagination field of the `query` style (a parameter of GET, a field of POST bodies).
pub(super) fn query_param(name: &str, limits: &Limits, sortable: &[String]) -> Option<Parameter> {
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

/// A pagination parameter of the `simple` style.
pub(super) fn simple_param(name: &str, limits: &Limits) -> Option<Parameter> {
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
