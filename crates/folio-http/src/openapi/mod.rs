//! The OpenAPI document of the running server (`GET /openapi.json`) and its interactive
//! reference (`GET /docs`, Swagger UI served from the binary, so it works offline).
//!
//! The document is built on each request from the code, not kept by hand: one path per
//! collection and style from the store's schemas (so sort paths, filter parameters and id
//! types are the collection's own), each style's pagination parameters from the lists its
//! parser checks names against, and sizes and depths from the limits the server runs with.
//! Response and error shapes are the `components` and the per-style builders in `styles`;
//! tests validate real responses against the served document.

mod components;
pub(crate) mod dsl;
pub(crate) mod params;
pub(crate) mod styles;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use folio_engine::CollectionSchema;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::{AppState, HttpConfig};
use dsl::{any_object, array, constant, described, nullable, object, of, path, response, string};
use styles::{SIMPLE, errors, operation};
use utoipa::openapi::Type;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// Where the interactive reference is served.
pub const DOCS_PATH: &str = "/docs";

/// `GET /openapi.json` and the Swagger UI at `/docs`.
pub(crate) fn routes() -> Router<AppState> {
    let ui: Router<AppState> = SwaggerUi::new(DOCS_PATH)
        .config(Config::from(DOCUMENT_PATH).try_it_out_enabled(true))
        .into();
    Router::new().route(DOCUMENT_PATH, get(serve_document)).merge(ui)
}

async fn serve_document(State(state): State<AppState>, caller: Caller) -> Response {
    // Only the collections the caller may read are described.
    match state.collections(&caller).await {
        Ok(infos) => {
            let schemas: Vec<&CollectionSchema> = infos.iter().map(|i| i.schema.as_ref()).collect();
            let doc = document(&state.config, &schemas);
            match doc.to_json() {
                Ok(text) => ([(axum::http::header::CONTENT_TYPE, "application/json")], text).into_response(),
                Err(e) => crate::simple::problem(&ApiError::Internal(folio_store::StoreError::Internal(format!(
                    "the OpenAPI document does not serialise: {e}"
                )))),
            }
        }
        Err(e) => crate::simple::problem(&e),
    }
}

/// The document for a server with these limits serving these collections.
pub fn document(config: &HttpConfig, collections: &[&CollectionSchema]) -> OpenApi {
    let mut paths = Paths::new();
    for schema in collections {
        styles::add(&mut paths, schema, config);
    }
    add_global(&mut paths);
    let mut components = ComponentsBuilder::new();
    for (name, schema) in components::all() {
        components = components.schema(name, schema);
    }
    let tag = |name: &str, text: &str| TagBuilder::new().name(name).description(Some(text)).build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("folio")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some(vec![
            tag(
                "jsonapi",
                "JSON:API as DataCite uses it: page numbers, cursors, filters, sorts, sparse fields",
            ),
            tag("hal", "HAL as Akeneo uses it: limit, page, with_count, search_after"),
            tag(
                "query",
                "A POST query body as NOMAD uses it: page_size, order_by, page_after_value",
            ),
            tag(
                "simple",
                "page and per_page as Clarifai and GitHub use them, then Link header cursors",
            ),
            tag("browse", "HTML pages for people: the same requests, as tables"),
            tag(
                "export",
                "Downloads: a whole result as JSON Lines or CSV in one streamed response, resumable",
            ),
            tag("meta", "What the server serves, and what its errors mean"),
        ]))
        .build()
}

const DESCRIPTION: &str = "folio serves collections of JSON documents in four request and \
response styles over one keyset engine. Every list response links to its neighbours (in the body \
where the style has links, and in an RFC 8288 `Link` header); clients follow links and never build \
cursors. Page numbers reach only the first records (the offset window); cursors reach any depth \
at the cost of the first page. Errors name the parameter at fault, in each style's own shape.";

/// The paths outside collections: the index, the collection list, problem types, this document.
fn add_global(paths: &mut Paths) {
    add_problems_and_document(paths);
    let meta = styles::Style::meta();
    let index = object(
        vec![
            ("name", string(), true),
            ("styles", any_object("style name to path prefix"), true),
            ("collections", string(), true),
        ],
        false,
    );
    let op = operation(
        meta,
        "index".to_owned(),
        "The styles and where to look: HTML for browsers (Accept: text/html), JSON for everything else",
        Vec::new(),
        vec![(
            "200".to_owned(),
            response("The index", "application/json", index).content(
                "text/html; charset=utf-8",
                utoipa::openapi::ContentBuilder::new().schema(Some(string())).build(),
            ),
        )],
    );
    paths.add_path_operation("/", vec![HttpMethod::Get], op.build());

    let replica = object(
        vec![
            ("target", described(string(), "`user@host:port/database`"), true),
            (
                "inRotation",
                described(of(Type::Boolean), "whether reads go to it"),
                true,
            ),
            (
                "behindBytes",
                described(
                    nullable(Type::Integer),
                    "bytes of the primary's write-ahead log not replayed at its last check",
                ),
                true,
            ),
            ("replayPaused", of(Type::Boolean), true),
        ],
        false,
    );
    let health = object(
        vec![
            ("status", constant("ok"), true),
            (
                "replicas",
                described(
                    array(replica),
                    "the read replicas (`--postgres-replica`), empty without them",
                ),
                true,
            ),
        ],
        false,
    );
    let op = operation(
        meta,
        "health".to_owned(),
        "Whether the server answers, and the state of its read replicas",
        Vec::new(),
        vec![(
            "200".to_owned(),
            response("The server answers", "application/json", health),
        )],
    );
    paths.add_path_operation("/health", vec![HttpMethod::Get], op.build());

    crate::jsonapi::add_collections(paths);
}

/// `GET /problems/{code}` and this document.
fn add_problems_and_document(paths: &mut Paths) {
    let meta = styles::Style::meta();
    let described = object(
        vec![
            ("type", string(), true),
            ("title", string(), true),
            ("description", string(), true),
        ],
        false,
    );
    let mut responses = vec![(
        "200".to_owned(),
        response("What the error code means", "application/json", described),
    )];
    responses.extend(errors(SIMPLE, &[404]));
    let op = operation(
        meta,
        "problem_type".to_owned(),
        "What an error code (a problem `type`) means",
        vec![
            utoipa::openapi::path::ParameterBuilder::from(path("code", string(), "an error code"))
                .example(Some(serde_json::json!("offset-window-exceeded")))
                .build(),
        ],
        responses,
    );
    paths.add_path_operation("/problems/{code}", vec![HttpMethod::Get], op.build());

    let mut responses = vec![(
        "200".to_owned(),
        response(
            "This document",
            "application/json",
            any_object("an OpenAPI 3.1 document"),
        ),
    )];
    responses.extend(errors(SIMPLE, &[500]));
    let op = operation(
        meta,
        "openapi".to_owned(),
        "This OpenAPI document",
        Vec::new(),
        responses,
    );
    paths.add_path_operation(DOCUMENT_PATH, vec![HttpMethod::Get], op.build());
}
