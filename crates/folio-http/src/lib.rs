//! folio's HTTP API: the axum router and one module per pagination style.
//!
//! # Brief overview
//! - [`router`] builds the whole application over an [`AppState`]; [`serve`] runs it on a
//!   listener until a shutdown signal, finishing requests in flight.
//! - [`HttpConfig`] holds the limits each style applies.
//! - [`ApiError`] is the one error type of the API: its status is decided in one place and
//!   each style renders it in its own error shape.
//! - [`jsonapi`] is the JSON:API style, as DataCite uses it.
//! - [`export`] streams a whole result as JSON Lines or CSV, resumably.
//! - [`cache`] gives lists and records an `ETag`, answers `If-None-Match` with 304, and keeps
//!   the bodies of recent answers while their collection's generation holds.
//! - [`AccessPolicy`] makes collections private: readable only with a bearer token that
//!   grants them ([`AppState::with_access`]).
//!
//! This is the only crate that knows HTTP and JSON wire shapes.
//!
//! # Example
//! ```no_run
//! # async fn run(store: std::sync::Arc<dyn folio_store::Store>) -> std::io::Result<()> {
//! use folio_http::{AppState, DEFAULT_HEADER_READ_TIMEOUT, HttpConfig, router, serve};
//!
//! let state = AppState::new(store, b"a secret of at least 32 bytes....", HttpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! serve(listener, router(state), DEFAULT_HEADER_READ_TIMEOUT, std::future::pending()).await
//! # }
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod access;
mod ahead;
pub mod body;
mod browse;
pub mod cache;
mod error;
pub mod export;
mod guard;
pub mod hal;
pub mod jsonapi;
mod links;
mod maps;
pub mod openapi;
mod paging;
mod params;
pub mod query;
pub mod simple;
mod state;
mod style;

use std::future::Future;

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

pub use access::{AccessError, AccessHandle, AccessPolicy, Scope, TokenDigest, TokenGrant};
pub use error::ApiError;
pub use state::{
    AppState, DEFAULT_COUNT_CAP, DEFAULT_EXPORT_BATCH_BYTES, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONCURRENT_EXPORTS, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_PAGE_MAP_EVERY, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SNAPSHOT_RETENTION, HttpConfig, Readable, Reading, Swap,
};

/// Builds the application: every style under its prefix, the OpenAPI document and its
/// reference at `/openapi.json` and `/docs`, and the browse pages at `/` and `/browse`.
pub fn router(state: AppState) -> Router {
    let guard = guard::Guard::new(&state.config);
    let app = Router::new()
        .merge(browse::routes())
        .nest("/jsonapi", jsonapi::routes())
        .nest("/hal", hal::routes())
        .nest("/query", query::routes())
        .nest("/simple", simple::routes())
        .merge(export::routes())
        .route("/problems/{code}", get(problem_type))
        .route("/health", get(health))
        .merge(openapi::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), cache::layer))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
        .layer(TraceLayer::new_for_http());
    access::protect(app)
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish.
///
/// A connection whose request head does not arrive whole within `header_read_timeout` is
/// closed, so that clients that open connections and never finish a request (slowloris)
/// cannot hold them; the same limit closes idle keep-alive connections. This is hyper's own
/// timeout, which `axum::serve` leaves inert (it sets no timer), hence this accept loop.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    header_read_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, for one: wait for connections to close.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = connections.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// Paths outside every style: an RFC 9457 problem.
async fn method_not_allowed(method: axum::http::Method) -> axum::response::Response {
    simple::problem(&ApiError::MethodNotAllowed(method.to_string()))
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    simple::problem(&ApiError::UnknownRoute(format!(
        "{}; GET / lists the styles and collections",
        uri.path()
    )))
}

/// `GET /health`: the server answers; with read replicas (`--postgres-replica`), each one, with
/// whether reads go to it and how far behind the primary it was at its last check.
async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let replicas: Vec<serde_json::Value> = state
        .replicas()
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "target": r.target,
                "inRotation": r.in_rotation,
                "behindBytes": r.behind_bytes,
                "replayPaused": r.replay_paused,
            })
        })
        .collect();
    axum::Json(serde_json::json!({"status": "ok", "replicas": replicas})).into_response()
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
