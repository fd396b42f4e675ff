//! folio's HTTP API: the axum router and one module per pagination style.
//!
//! # Brief overview
//! - [`router`] builds the whole application over an [`AppState`]; [`serve`] runs it on a
//!   listener until a shutdown signal, finishing requests in flight.
//! - [`HttpConfig`] holds the limits each style applies.
//! - [`ApiError`] is the one error type of the API: its status is decided in one place and
//!   each style renders it in its own error shape.
//! - [`jsonapi`] is the JSON:API style, as DataCite uses it.
//!
//! This is the only crate that knows HTTP and JSON wire shapes.
//!
//! # Example
//! ```no_run
//! # async fn run(store: std::sync::Arc<dyn folio_store::Store>) -> std::io::Result<()> {
//! use folio_http::{AppState, HttpConfig, router, serve};
//!
//! let state = AppState::new(store, b"a secret of at least 32 bytes....", HttpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! serve(listener, router(state), std::future::pending()).await
//! # }
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod body;
mod error;
pub mod hal;
pub mod jsonapi;
mod links;
mod params;
pub mod query;
pub mod simple;
mod state;

use std::future::Future;

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use state::{AppState, DEFAULT_COUNT_CAP, DEFAULT_MAX_BODY_BYTES, HttpConfig};

/// Builds the application: every style under its prefix, plus a small index at `/`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .nest("/jsonapi", jsonapi::routes())
        .nest("/hal", hal::routes())
        .nest("/query", query::routes())
        .nest("/simple", simple::routes())
        .route("/problems/{code}", get(problem_type))
        .fallback(not_found)
        .with_state(state)
        .layer(TraceLayer::new_for_http())
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Paths outside every style: an RFC 9457 problem.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    simple::problem(&ApiError::UnknownRoute(format!(
        "{}; GET / lists the styles and collections",
        uri.path()
    )))
}

/// `GET /problems/{code}`: what a problem `type` means, so that every `type` resolves.
async fn problem_type(axum::extract::Path(code): axum::extract::Path<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match error::describe(&code) {
        Some((title, meaning)) => {
            axum::Json(serde_json::json!({"type": format!("/problems/{code}"), "title": title, "description": meaning}))
                .into_response()
        }
        None => simple::problem(&ApiError::UnknownRoute(format!("/problems/{code}"))),
    }
}

/// `GET /`: where the styles live.
async fn index() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "name": "folio",
        "styles": {"jsonapi": "/jsonapi", "hal": "/hal", "query": "/query", "simple": "/simple"},
        "collections": "/jsonapi",
    }))
}
