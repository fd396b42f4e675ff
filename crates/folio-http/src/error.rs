//! The one error type of the HTTP API. Its status is decided here, once; each style renders
//! it in its own shape.

use axum::http::StatusCode;
use folio_engine::EngineError;
use folio_store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or outside the limits (the client's fault).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// No collection of that name.
    #[error("collection `{0}` not found")]
    UnknownCollection(String),
    /// No endpoint at that path.
    #[error("no such endpoint: {0}")]
    UnknownRoute(String),
    /// No record with that id.
    #[error("no record with id `{id}` in collection `{collection}`")]
    UnknownRecord {
        /// The collection.
        collection: String,
        /// The id asked for, as given.
        id: String,
    },
    /// The store failed (the server's fault). Its detail is logged, never sent.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::UnknownCollection(name) => ApiError::UnknownCollection(name),
            other => ApiError::Internal(other),
        }
    }
}

impl ApiError {
    /// The HTTP status: the only place where errors map to statuses.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Engine(e) => match e {
                EngineError::PageSizeExceeded { .. } | EngineError::OffsetWindowExceeded { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                EngineError::InvalidCursor { .. }
                | EngineError::CursorQueryMismatch { .. }
                | EngineError::InvalidParameter { .. }
                | EngineError::UnsupportedSort { .. }
                | EngineError::InvalidSchema(_) => StatusCode::BAD_REQUEST,
            },
            ApiError::UnknownCollection(_) | ApiError::UnknownRecord { .. } | ApiError::UnknownRoute(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error name (engine.md, "Error vocabulary").
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Engine(e) => e.code(),
            ApiError::UnknownCollection(_) => "unknown-collection",
            ApiError::UnknownRecord { .. } => "unknown-record",
            ApiError::UnknownRoute(_) => "not-found",
            ApiError::Internal(_) => "internal-error",
        }
    }

    /// A short, fixed summary of the kind of error.
    pub fn title(&self) -> &'static str {
        match self.code() {
            "invalid-cursor" => "Invalid cursor",
            "cursor-query-mismatch" => "Cursor does not match this query",
            "page-size-exceeded" => "Page size exceeded",
            "offset-window-exceeded" => "Offset window exceeded",
            "unsupported-sort" => "Unsupported sort",
            "unknown-collection" => "Unknown collection",
            "unknown-record" => "Unknown record",
            "not-found" => "Not found",
            "internal-error" => "Internal server error",
            _ => "Invalid parameter",
        }
    }

    /// What went wrong, for the client. Internal errors say nothing of their cause.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Internal(_) => "the server failed to answer this request; it has been logged".to_owned(),
            other => other.to_string(),
        }
    }

    /// The request parameter at fault, if any.
    pub fn param(&self) -> Option<&str> {
        match self {
            ApiError::Engine(e) => e.param(),
            _ => None,
        }
    }

    /// Logs server-side failures with their cause; client errors are only traced.
    pub(crate) fn log(&self) {
        match self {
            ApiError::Internal(source) => tracing::error!(error = %source, "request failed"),
            other => tracing::debug!(code = other.code(), detail = %other, "request rejected"),
        }
    }
}
