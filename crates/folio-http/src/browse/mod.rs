//! Pages for people: `GET /` lists the collections and `GET /browse/{collection}` shows one
//! as a table, server-rendered HTML with a few lines of script.
//!
//! `GET /` answers browsers (an `Accept` header naming `text/html`) with HTML and everything
//! else (curl, `Accept: application/json`) with the JSON index it has always given.
//! The browse page takes JSON:API's parameters and runs JSON:API's request
//! ([`crate::jsonapi::run`]): same engine, same cursors, same limits, and for the page shown
//! it gives the equivalent request in each style ([`api`]).

pub(crate) mod api;
mod html;
mod table;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::access::Caller;
use crate::error::ApiError;
use crate::links::segment;
use crate::state::AppState;
use html::Html;

/// `GET /` and `GET /browse/{collection}`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/browse/{collection}", get(browse))
}

/// Whether the client asks for HTML, as browsers do.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/html"))
}

async fn index(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Response {
    if !wants_html(&headers) {
        let mut response = axum::Json(serde_json::json!({
            "name": "folio",
            "styles": {"jsonapi": "/jsonapi", "hal": "/hal", "query": "/query", "simple": "/simple"},
            "collections": "/jsonapi",
            "browse": "/ (with Accept: text/html)",
            "openapi": crate::openapi::DOCUMENT_PATH,
            "docs": crate::openapi::DOCS_PATH,
        }))
        .into_response();
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept"));
        return response;
    }
    let infos = match state.collections(&caller).await {
        Ok(infos) => infos,
        Err(e) => return failure(&e),
    };
    let mut h = Html::page("folio");
    h.element("h1", &[], "Collections");
    h.raw(
        "<table><thead><tr><th>collection</th><th>records</th><th>indexed paths</th><th>API</th></tr></thead><tbody>",
    );
    for info in &infos {
        let s = &info.schema;
        let name = segment(&s.name);
        h.raw("<tr><td>");
        h.link(&format!("/browse/{name}"), &s.name);
        h.raw("</td>");
        h.element("td", &[], &info.count.to_string());
        let paths: Vec<String> = std::iter::once(format!("{} (id, {})", s.id_path, s.id_type.field_type()))
            .chain(s.indexed.iter().map(|p| format!("{} ({})", p.path, p.ty)))
            .collect();
        h.element("td", &[], &paths.join(", "));
        h.raw("<td>");
        for style in ["jsonapi", "hal", "query", "simple"] {
            h.link(&format!("/{style}/{name}"), style);
            h.raw(" ");
        }
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table>");
    if infos.is_empty() {
        h.element(
            "p",
            &[],
            "No collections yet: `folio import` loads some, `folio serve --demo` builds one.",
        );
    }
    h.finish(StatusCode::OK)
}

async fn browse(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let collection = match state.readable(&caller, &collection).await {
        Ok(collection) => collection,
        Err(e) => return failure(&e),
    };
    // Filter inputs left empty are not filters.
    let pairs: Vec<(String, String)> = crate::params::pairs(raw.as_deref())
        .into_iter()
        .filter(|(k, v)| !(k.starts_with("filter") && v.is_empty()))
        .collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let origin = format!("http://{host}");
    let req = table::Request {
        schema: collection.schema(),
        pairs: &pairs,
        origin: &origin,
    };
    match crate::jsonapi::run(&state, &collection, Some(&query)).await {
        Ok(listing) => table::page(&state, &collection, &req, &listing).finish(StatusCode::OK),
        Err(e) => {
            e.log();
            table::error(&req, &e, state.config.jsonapi.default_size).finish(e.status())
        }
    }
}

/// An error page for a request that did not get as far as a collection.
fn failure(e: &ApiError) -> Response {
    e.log();
    let mut h = Html::page("folio");
    h.element("h1", &[], e.title());
    h.element("p", &[("class", "error")], &e.detail());
    h.open("p", &[]);
    h.link("/", "All collections");
    h.close("p");
    h.finish(e.status())
}
