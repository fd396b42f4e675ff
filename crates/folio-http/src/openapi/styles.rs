//! The operations of one collection in every style, built from the collection's schema, the
//! styles' parameter lists and the limits the server runs with.

use folio_engine::filter::{operators_for, takes_list};
use folio_engine::{CollectionSchema, FieldType, IdType};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ContentBuilder, Paths, Required, ResponseBuilder};

use super::dsl::{S, any_object, component, of, path, query, query_list, response, string};
use super::params::value_schema;
use crate::links::segment;
use crate::state::HttpConfig;

/// The media type of each style's bodies and errors, and the component of its error body.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    tag: &'static str,
    media: &'static str,
    error_media: &'static str,
    error: &'static str,
}

impl Style {
    /// The paths outside the styles: JSON bodies, RFC 9457 problems.
    pub(crate) fn meta() -> Style {
        Style { tag: "meta", ..SIMPLE }
    }

    /// Downloads: streamed bodies, RFC 9457 problems.
    pub(crate) fn export() -> Style {
        Style {
            tag: "export",
            ..SIMPLE
        }
    }

    /// The media type of its bodies.
    pub(crate) fn media(self) -> &'static str {
        self.media
    }
}

/// JSON:API: `application/vnd.api+json` throughout.
pub(crate) const JSONAPI: Style = Style {
    tag: "jsonapi",
    media: "application/vnd.api+json",
    error_media: "application/vnd.api+json",
    error: "JsonApiErrors",
};
/// HAL: `application/hal+json` throughout.
pub(crate) const HAL: Style = Style {
    tag: "hal",
    media: "application/hal+json",
    error_media: "application/hal+json",
    error: "HalError",
};
/// `query`: JSON bodies and errors.
pub(crate) const QUERY: Style = Style {
    tag: "query",
    media: "application/json",
    error_media: "application/json",
    error: "QueryError",
};
/// `simple`: JSON bodies, RFC 9457 problems.
pub(crate) const SIMPLE: Style = Style {
    tag: "simple",
    media: "application/json",
    error_media: "application/problem+json",
    error: "Problem",
};

/// Adds every operation on `schema`'s collection to `paths`.
pub(crate) fn add(paths: &mut Paths, schema: &CollectionSchema, config: &HttpConfig) {
    let c = Collection { schema, config };
    crate::jsonapi::add_operations(&c, paths);
    crate::hal::add_operations(&c, paths);
    crate::query::add_operations(&c, paths);
    crate::simple::add_operations(&c, paths);
    crate::export::add_operations(&c, paths);
    c.browse(paths);
}

/// The error responses of `style` for these statuses, in its own shape.
pub(crate) fn errors(style: Style, statuses: &[u16]) -> Vec<(String, ResponseBuilder)> {
    statuses
        .iter()
        .map(|status| {
            let description = match (*status, style.tag) {
                (400, _) => "The request is malformed: a parameter of the wrong form, a misspelled pagination parameter, a cursor that was altered or belongs to another query, a sort on a path that cannot be sorted",
                (404, _) => "No collection or record of that name",
                (401, _) => "The collection is private: send `Authorization: Bearer <token>`",
                (413, _) => "The request body is over the server's limit",
                (415, _) => "The request body was sent with a content type other than JSON",
                (410, _) => "The cursor's walk reads a snapshot whose older versions the server no longer keeps (past its snapshot retention): start again from the fresh first page the detail links to",
                (503, _) => "The request was not answered within the server's time limit (busy, or an expensive request), needs a page map the server is building, or is a download while the most the server streams at once are under way; retry after `Retry-After` seconds. A problem+json body in every style",
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

/// The parameters and responses of a `GET` of a list or a record, made cacheable as
/// [`crate::cache`] serves them: the `200` carries `ETag` and `Cache-Control`,
/// `If-None-Match` is a parameter, and `304` a response.
pub(crate) fn cacheable(
    mut parameters: Vec<Parameter>,
    responses: Vec<(String, ResponseBuilder)>,
) -> (Vec<Parameter>, Vec<(String, ResponseBuilder)>) {
    let header = |description: &str| {
        utoipa::openapi::HeaderBuilder::new()
            .schema(Some(string()))
            .description(Some(description))
            .build()
    };
    parameters.push(
        ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "the ETag of a copy the client holds: answered 304, with no body, while the collection is unchanged",
            ))
            .schema(Some(string()))
            .build(),
    );
    let mut responses: Vec<(String, ResponseBuilder)> = responses
        .into_iter()
        .map(|(status, response)| {
            if status != "200" {
                return (status, response);
            }
            let response = response
                .header(
                    "ETag",
                    header(
                        "a strong validator: the collection's generation and a digest of the request and the principal",
                    ),
                )
                .header(
                    "Cache-Control",
                    header("`no-cache` by default (`--cache-control`); `private, no-cache` for a private collection"),
                );
            (status, response)
        })
        .collect();
    responses.push((
        "304".to_owned(),
        ResponseBuilder::new()
            .description("Not modified: the copy named by If-None-Match is current")
            .header("ETag", header("the same ETag")),
    ));
    (parameters, responses)
}

/// Finishes an operation of `style`.
pub(crate) fn operation(
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
pub(crate) fn filter_param(name: &str, description: &str) -> Parameter {
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

/// One collection, as its operations are described.
pub(crate) struct Collection<'a> {
    /// Its schema.
    pub(crate) schema: &'a CollectionSchema,
    /// The limits the server runs with.
    pub(crate) config: &'a HttpConfig,
}

impl Collection<'_> {
    pub(crate) fn name(&self) -> &str {
        &self.schema.name
    }

    /// An absolute path of this collection in one style.
    pub(crate) fn at(&self, prefix: &str, rest: &str) -> String {
        format!("/{prefix}/{}{rest}", segment(self.name()))
    }

    pub(crate) fn op_id(&self, style: &str, what: &str) -> String {
        format!("{style}_{what}_{}", self.name())
    }

    /// A record: any object (its indexed paths are listed, not typed: documents need not hold
    /// them, and projections drop them).
    pub(crate) fn record(&self) -> S {
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

    pub(crate) fn id_param(&self) -> Parameter {
        let schema = match self.schema.id_type {
            IdType::Integer => of(Type::Integer),
            IdType::String => string(),
        };
        path("id", schema, &format!("the record's `{}`", self.schema.id_path))
    }

    pub(crate) fn sortable(&self) -> Vec<String> {
        self.schema.sortable_paths()
    }

    /// `filter[path]` and `filter[path][op]` for every filterable path and operator.
    pub(crate) fn filter_params(&self) -> Vec<Parameter> {
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
            crate::jsonapi::list_params(self),
            responses,
        );
        paths.add_path_operation(self.at("browse", ""), vec![HttpMethod::Get], op.build());
    }

    /// `GET /{style}/{collection}/{id}`.
    pub(crate) fn record_op(&self, paths: &mut Paths, style: Style, prefix: &str, body: S) {
        let mut responses = vec![("200".to_owned(), response("The record", style.media, body))];
        responses.extend(errors(style, &[401, 404, 500, 503]));
        let (params, responses) = cacheable(vec![self.id_param()], responses);
        let op = operation(
            style,
            self.op_id(prefix, "record"),
            &format!("One record of `{}`", self.name()),
            params,
            responses,
        );
        paths.add_path_operation(self.at(prefix, "/{id}"), vec![HttpMethod::Get], op.build());
    }
}
