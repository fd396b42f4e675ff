//! The skeleton every style shares: its error type, the one-record route and the fallback.
//!
//! A style fills in how it renders errors ([`Shape`]) and one record ([`Style`]); the routes
//! around them, the access check and the record lookup are written here once.

use std::marker::PhantomData;

use axum::Router;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use folio_engine::Value;
use folio_engine::projection::Projection;

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::{AppState, Readable};

/// How a style renders an error: the status is [`ApiError::status`]'s, the body the style's.
pub(crate) trait Shape: 'static {
    /// The response for `e`, which it logs ([`ApiError::log`]).
    fn error(e: &ApiError) -> Response;
}

/// A style: its error shape, and how it answers for one record.
pub(crate) trait Style: Shape + Send + Sync {
    /// One record: `id` as the path gave it, `key` as the collection's id type reads it.
    fn record(collection: &Readable, id: &str, key: &Value, doc: &str) -> Response;

    /// The paths one record of `collection` keeps, from the request's query string (all by
    /// default); read before the access check, as a list's parameters are.
    fn record_fields(_collection: &str, _raw: Option<&str>) -> Result<Option<Projection>, ApiError> {
        Ok(None)
    }

    /// The error for a path no route of the style takes.
    fn unknown_route(path: &str) -> ApiError {
        ApiError::UnknownRoute(path.to_owned())
    }
}

/// An error answered in the shape of `S`, so that handlers use `?`.
pub(crate) struct Failure<S>(ApiError, PhantomData<fn() -> S>);

impl<S, E: Into<ApiError>> From<E> for Failure<S> {
    fn from(e: E) -> Failure<S> {
        Failure(e.into(), PhantomData)
    }
}

impl<S: Shape> IntoResponse for Failure<S> {
    /// In the style's error shape; a 503 (an error that passes) is problem+json in every
    /// style, as the guard's time-outs are, with `Retry-After`.
    fn into_response(self) -> Response {
        match self.0.retry_after() {
            None => S::error(&self.0),
            Some(seconds) => {
                let mut response = crate::simple::problem(&self.0);
                response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
                response
            }
        }
    }
}

/// What a handler of style `S` returns.
pub(crate) type Answer<S> = Result<Response, Failure<S>>;

/// `routes` (the style's list routes) with `/{collection}/{id}` for one record and a
/// fallback that answers unknown paths in the style's shape.
pub(crate) fn routes<S: Style>(routes: Router<AppState>) -> Router<AppState> {
    routes
        .route("/{collection}/{id}", get(one::<S>))
        .fallback(|OriginalUri(uri): OriginalUri| async move {
            Failure::<S>::from(S::unknown_route(uri.path())).into_response()
        })
}

async fn one<S: Style>(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Answer<S> {
    let fields = S::record_fields(&collection, raw.as_deref())?;
    let collection = state.readable(&caller, &collection).await?;
    let (key, doc) = state.record(&collection, &id, fields).await?;
    Ok(S::record(&collection, &id, &key, &doc))
}
