//! The operations of one collection in every style, built from the collection's schema, the
//! styles' parameter lists and the limits the server runs with.

use folio_engine::filter::{operators_for, takes_list};
use folio_engine::projection::{MAX_PROJECTED_PATH_BYTES, MAX_PROJECTED_PATHS};
use folio_engine::{CollectionSchema, FieldType, IdType};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ContentBuilder, Paths, Required, ResponseBuilder};

use super::dsl::{
    S, any_object, array, bounded_array, component, constant, count, described, integer, json_body, link_header,
    object, of, path, query, query_list, response, string,
};
use super::params::{hal_param, jsonapi_page_param, query_param, simple_param, value_schema};
use crate::links::segment;
use crate::state::HttpConfig;

/// The media type of each style's bodies and errors, and the component of its error body.
#[derive(Clone, Copy)]
pub(super) struct Style {
    tag: &'static str,
    media: &'static str,
    error_media: &'static str,
    error: &'static str,
}

impl Style {
    /// The paths outside the styles: JSON bodies, RFC 9457 problems.
    pub(super) fn meta() -> Style {
        Style { tag: "meta", ..SIMPLE }
    }

    /// The media type of its bodies.
    pub(super) fn media(self) -> &'static str {
        self.media
    }
}

/// JSON:API: `application/vnd.api+json` throughout.
pub(super) const JSONAPI: Style = Style {
    tag: "jsonapi",
    media: "application/vnd.api+json",
    error_media: "application/vnd.api+json",
    error: "JsonApiErrors",
};
const HAL: Style = Style {
    tag: "hal",
    media: "application/hal+json",
    error_media: "application/hal+json",
    error: "HalError",
};
const QUERY: Style = Style {
    tag: "query",
    media: "application/json",
    error_media: "application/json",
    error: "QueryError",
};
/// `simple`: JSON bodies, RFC 9457 problems.
pub(super) const SIMPLE: Style = Style {
    tag: "simple",
    media: "application/json",
    error_media: "application/problem+json",
    error: "Problem",
};

/// Adds every operation on `schema`'s collection to `paths`.
pub(super) fn add(paths: &mut Paths, schema: &CollectionSchema, config: &HttpConfig) {
    let c = Collection { schema, config };
    c.jsonapi(paths);
    c.hal(paths);
    c.query(paths);
    c.simple(paths);
    c.browse(paths);
}

/// The error responses of `style` for these statuses, in its own shape.
pub(super) fn errors(style: Style, statuses: &[u16]) -> Vec<(String, ResponseBuilder)> {
    statuses
        .iter()
        .map(|status| {
            let description = match (*status, style.tag) {
                (400, _) => "The request is malformed: a parameter of the wrong form, a misspelled pagination parameter, a cursor that was altered or belongs to another query, a sort on a path that cannot be sorted",
                (404, _) => "No collection or record of that name",
                (401, _) => "The collection is private: send `Authorization: Bearer <token>`",
                (413, _) => "The request body is over the server's limit",
                (415, _) => "The request body was sent with a content type other than JSON",
                (503, _) => "The request was not answered within the server's time limit (busy, or an expensive request); retry after `Retry-After` seconds. A problem+json body in every style",
                (422, "query") => "The request does not validate (FastAPI's convention: every invalid request is a 422)",
                (422, _) => "The page size is above the maximum, or page numbers reach past the offset window (use cursors)",
                _ => "The server failed; the cause is logged, not sent",
            };
            // Time-outs are answered before a style is chosen: problem+json everywhere.
            let shape = if *status == 503 { SIMPLE } else { style };
            (
                status.to_string(),
                response(description, shape.error_media, component(shape.error)),
            )
        })
        .collect()
}

/// Finishes an operation of `style`.
pub(super) fn operation(
    style: Style,
    id: String,
    summary: &str,
    parameters: Vec<Parameter>,
    responses: Vec<(String, ResponseBuilder)>,
) -> OperationBuilder {
    let mut builder = OperationBuilder::new()
        .tag(style.tag)
        .operation_id(Some(id))
        // Swagger UI shows summaries as plain text: no Markdown quotes there.
        .summary(Some(summary.replace('`', "")))
        .parameters(Some(parameters));
    for (status, response) in responses {
        builder = builder.response(status, response);
    }
    builder
}

/// A JSON filter as a query parameter: JSON text, described by the `Filter` component.
pub(super) fn filter_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(component("Filter"))).build(),
        )
        .build()
}

struct Collection<'a> {
    schema: &'a CollectionSchema,
    config: &'a HttpConfig,
}

impl Collection<'_> {
    fn name(&self) -> &str {
        &self.schema.name
    }

    /// An absolute path of this collection in one style.
    fn at(&self, prefix: &str, rest: &str) -> String {
        format!("/{prefix}/{}{rest}", segment(self.name()))
    }

    fn op_id(&self, style: &str, what: &str) -> String {
        format!("{style}_{what}_{}", self.name())
    }

    /// A record: any object (its indexed paths are listed, not typed: documents need not hold
    /// them, and projections drop them).
    fn record(&self) -> S {
        let s = self.schema;
        let indexed: Vec<String> = s.indexed.iter().map(|p| format!("`{}` ({})", p.path, p.ty)).collect();
        any_object(&format!(
            "A record of `{}`, as stored: its id at `{}` ({}); indexed paths: {}",
            s.name,
            s.id_path,
            s.id_type.field_type(),
            if indexed.is_empty() {
                "none".to_owned()
            } else {
                indexed.join(", ")
            }
        ))
    }

    fn id_param(&self) -> Parameter {
        let schema = match self.schema.id_type {
            IdType::Integer => of(Type::Integer),
            IdType::String => string(),
        };
        path("id", schema, &format!("the record's `{}`", self.schema.id_path))
    }

    fn sortable(&self) -> Vec<String> {
        self.schema.sortable_paths()
    }

    /// `filter[path]` and `filter[path][op]` for every filterable path and operator.
    fn filter_params(&self) -> Vec<Parameter> {
        let s = self.schema;
        let paths = std::iter::once((s.id_path.as_str(), s.id_type.field_type()))
            .chain(s.indexed.iter().map(|p| (p.path.as_str(), p.ty)));
        let mut out = Vec::new();
        for (path, ty) in paths {
            for op in operators_for(ty) {
                let name = if *op == "eq" {
                    format!("filter[{path}]")
                } else {
                    format!("filter[{path}][{op}]")
                };
                let what = match (*op, ty) {
                    ("eq", FieldType::StringArray) => format!("records whose `{path}` contains this value"),
                    ("eq", _) => format!("records whose `{path}` equals this value"),
                    ("all", _) => format!("records whose `{path}` contains all of these values"),
                    ("in" | "any", FieldType::StringArray) => {
                        format!("records whose `{path}` contains any of these values")
                    }
                    ("in" | "any", _) => format!("records whose `{path}` is one of these values"),
                    ("none", _) => format!("records whose `{path}` is none of these values"),
                    (op, _) => format!("records whose `{path}` is {op} this value (never those without one)"),
                };
                out.push(if takes_list(op) {
                    query_list(&name, value_schema(ty), &format!("{what} (comma-separated)"))
                } else {
                    query(&name, value_schema(ty), &what)
                });
            }
        }
        out
    }

    /// The parameters of a JSON:API list (and of the browse page, which takes the same).
    fn jsonapi_params(&self) -> Vec<Parameter> {
        let limits = self.config.jsonapi;
        let mut params: Vec<Parameter> = crate::jsonapi::PAGE_PARAMS
            .iter()
            .filter_map(|name| jsonapi_page_param(name, &limits))
            .collect();
        let sortable = self.sortable();
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
        params.extend(self.filter_params());
        params.push(query(
            &format!("fields[{}]", self.name()),
            string(),
            &format!(
                "comma-separated paths: records hold only these (nesting kept); at most {MAX_PROJECTED_PATHS} distinct paths of at most {MAX_PROJECTED_PATH_BYTES} bytes"
            ),
        ));
        params
    }

    fn jsonapi(&self, paths: &mut Paths) {
        let resource = object(
            vec![
                ("type", constant(self.name()), true),
                ("id", string(), true),
                ("attributes", self.record(), true),
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
            link_header(response("A page of records", JSONAPI.media, list)),
        )];
        responses.extend(errors(JSONAPI, &[400, 401, 404, 422, 500, 503]));
        let op = operation(
            JSONAPI,
            self.op_id("jsonapi", "list"),
            &format!(
                "Page through `{}` (page numbers, cursors, page[after]/page[before])",
                self.name()
            ),
            self.jsonapi_params(),
            responses,
        );
        paths.add_path_operation(self.at("jsonapi", ""), vec![HttpMethod::Get], op.build());

        let one = object(
            vec![
                ("data", resource, true),
                ("links", object(vec![("self", string(), true)], false), true),
            ],
            false,
        );
        self.record_op(paths, JSONAPI, "jsonapi", one);
    }

    fn hal(&self, paths: &mut Paths) {
        let limits = self.config.hal;
        let mut params: Vec<Parameter> = crate::hal::PAGINATION
            .iter()
            .filter_map(|name| hal_param(name, &limits))
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
        let item = self.hal_item();
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
            link_header(response("A page of records, in id order", HAL.media, list)),
        )];
        responses.extend(errors(HAL, &[400, 401, 404, 422, 500, 503]));
        let op = operation(
            HAL,
            self.op_id("hal", "list"),
            &format!("Page through `{}` by page number or search_after", self.name()),
            params,
            responses,
        );
        paths.add_path_operation(self.at("hal", ""), vec![HttpMethod::Get], op.build());
        self.record_op(paths, HAL, "hal", item);
    }

    /// A HAL item: the record with its own `_links.self` first.
    fn hal_item(&self) -> S {
        described(
            object(
                vec![(
                    "_links",
                    object(vec![("self", component("HalLink"), true)], false),
                    true,
                )],
                false,
            ),
            &format!("A record of `{}` with its `_links.self`", self.name()),
        )
    }

    fn query(&self, paths: &mut Paths) {
        let limits = self.config.query;
        let sortable = self.sortable();
        let answer = object(
            vec![
                (
                    "owner",
                    described(super::dsl::any(), "as given (default `public`)"),
                    true,
                ),
                ("query", described(super::dsl::any(), "the filter, as given"), true),
                ("pagination", component("QueryPagination"), true),
                ("required", described(super::dsl::any(), "as given"), false),
                ("data", array(self.record()), true),
            ],
            false,
        );
        let ok = || link_header(response("A page of records", QUERY.media, answer.clone()));

        let mut get_params: Vec<Parameter> = crate::query::PAGINATION
            .iter()
            .filter_map(|name| query_param(name, &limits, &sortable))
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
        let op = operation(
            QUERY,
            self.op_id("query", "list"),
            &format!(
                "Page through `{}` with the pagination fields as parameters",
                self.name()
            ),
            get_params,
            responses,
        );
        paths.add_path_operation(self.at("query", ""), vec![HttpMethod::Get], op.build());

        let pagination = object(
            crate::query::PAGINATION
                .iter()
                .filter_map(|name| {
                    query_param(name, &limits, &sortable).and_then(|p| p.schema.map(|s| (*name, s, false)))
                })
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
        let mut responses = vec![("200".to_owned(), ok())];
        responses.extend(errors(QUERY, &[401, 404, 413, 415, 422, 500, 503]));
        let op = operation(
            QUERY,
            self.op_id("query", "search"),
            &format!(
                "Query `{}` with a body: copy next_page_after_value into page_after_value to continue",
                self.name()
            ),
            Vec::new(),
            responses,
        )
        .request_body(Some(json_body(body, "owner, query, pagination, required")));
        paths.add_path_operation(self.at("query", "/query"), vec![HttpMethod::Post], op.build());

        let one = object(vec![("data", self.record(), true)], false);
        self.record_op(paths, QUERY, "query", one);
    }

    fn simple(&self, paths: &mut Paths) {
        let limits = self.config.simple;
        let list = object(
            vec![
                ("status", component("SimpleStatus"), true),
                (self.name(), array(self.record()), true),
            ],
            false,
        );
        let ok = || {
            link_header(response("A page of records, in id order", SIMPLE.media, list.clone())).header(
                "X-Total-Count",
                utoipa::openapi::HeaderBuilder::new()
                    .schema(Some(count()))
                    .description(Some("the number of matching records"))
                    .build(),
            )
        };
        let mut get_params: Vec<Parameter> = crate::simple::PAGINATION
            .iter()
            .filter_map(|name| simple_param(name, &limits))
            .collect();
        get_params.push(filter_param("query", "a filter, as JSON"));
        let mut responses = vec![("200".to_owned(), ok())];
        responses.extend(errors(SIMPLE, &[400, 401, 404, 422, 500, 503]));
        let op = operation(
            SIMPLE,
            self.op_id("simple", "list"),
            &format!(
                "Page through `{}` with page and per_page, then the Link header",
                self.name()
            ),
            get_params,
            responses,
        );
        paths.add_path_operation(self.at("simple", ""), vec![HttpMethod::Get], op.build());

        let pagination = object(
            crate::simple::PAGINATION
                .iter()
                .filter_map(|name| simple_param(name, &limits).and_then(|p| p.schema.map(|s| (*name, s, false))))
                .collect(),
            true,
        );
        let body = object(
            vec![("query", component("Filter"), false), ("pagination", pagination, false)],
            false,
        );
        let mut responses = vec![("200".to_owned(), ok())];
        responses.extend(errors(SIMPLE, &[400, 401, 404, 413, 415, 422, 500, 503]));
        let op = operation(
            SIMPLE,
            self.op_id("simple", "search"),
            &format!(
                "Search `{}` with a body; links are the equivalent GET URLs",
                self.name()
            ),
            Vec::new(),
            responses,
        )
        .request_body(Some(json_body(body, "query and pagination")));
        paths.add_path_operation(self.at("simple", "/searches"), vec![HttpMethod::Post], op.build());

        let one = object(
            vec![
                ("status", component("SimpleStatus"), true),
                (&crate::simple::singular(self.name()), self.record(), true),
            ],
            false,
        );
        self.record_op(paths, SIMPLE, "simple", one);
    }

    /// `GET /browse/{collection}`: the HTML table, with the parameters of a JSON:API list.
    fn browse(&self, paths: &mut Paths) {
        let html = || string();
        let mut responses = vec![(
            "200".to_owned(),
            response("The page as an HTML table", "text/html; charset=utf-8", html()),
        )];
        for (status, what) in [
            (400, "The request is malformed (the page says why)"),
            (404, "No collection of that name"),
            (
                422,
                "The page size is above the maximum, or page numbers reach past the offset window",
            ),
            (500, "The server failed"),
        ] {
            responses.push((status.to_string(), response(what, "text/html; charset=utf-8", html())));
        }
        let op = operation(
            Style {
                tag: "browse",
                ..JSONAPI
            },
            self.op_id("browse", "table"),
            &format!(
                "Browse `{}` in a web browser: the JSON:API request as an HTML table",
                self.name()
            ),
            self.jsonapi_params(),
            responses,
        );
        paths.add_path_operation(self.at("browse", ""), vec![HttpMethod::Get], op.build());
    }

    /// `GET /{style}/{collection}/{id}`.
    fn record_op(&self, paths: &mut Paths, style: Style, prefix: &str, body: S) {
        let mut responses = vec![("200".to_owned(), response("The record", style.media, body))];
        responses.extend(errors(style, &[401, 404, 500, 503]));
        let op = operation(
            style,
            self.op_id(prefix, "record"),
            &format!("One record of `{}`", self.name()),
            vec![self.id_param()],
            responses,
        );
        paths.add_path_operation(self.at(prefix, "/{id}"), vec![HttpMethod::Get], op.build());
    }
}
