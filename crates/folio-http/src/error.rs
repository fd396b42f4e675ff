//! The one error type of the HTTP API. Its status is decided here, once; each style renders
//! it in its own shape.

use axum::http::StatusCode;
use folio_engine::EngineError;
use folio_store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or outside the limits, as the engine found reading its
    /// parts (a sort, a filter, a cursor, a page size: the client's fault).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A request parameter (or body member) that a style's parser refuses: misspelled, given
    /// twice, of the wrong form, or combined with one it excludes (the client's fault).
    #[error("`{param}` {message}")]
    InvalidParameter {
        /// The parameter at fault, as the request names it.
        param: String,
        /// What is wrong with it and what is allowed, as a phrase following the name.
        message: String,
    },
    /// No collection of that name, or a private one the caller's token does not grant (the
    /// two must be indistinguishable), with the names of those the caller may read.
    #[error("collection `{name}` not found; {}", readable_list(readable))]
    UnknownCollection {
        /// The name asked for.
        name: String,
        /// The collections the caller may read (none known when the store could not list
        /// them).
        readable: Vec<String>,
    },
    /// A private collection asked for without a bearer token.
    #[error(
        "collection `{0}` is private; send a token that grants it as `Authorization: Bearer <token>` (query parameters never carry tokens)"
    )]
    Unauthorized(String),
    /// A request body over the size limit.
    #[error("the request body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A request body that is not what the endpoint takes (not JSON, or not an object).
    #[error("the request body {0}")]
    InvalidBody(String),
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
    /// A route that exists, asked with a method it does not take.
    #[error("`{0}` is not allowed on this endpoint; the `Allow` header lists the methods that are")]
    MethodNotAllowed(String),
    /// A request body sent as something other than JSON.
    #[error("`content-type` is `{0}`; send the body as JSON, with `content-type: application/json`")]
    UnsupportedMediaType(String),
    /// The request was not answered within the time limit (waiting for a free slot
    /// included): the server is busy or the request is expensive.
    #[error("the request was not answered within the limit of {}; retry later", humanize(*.limit))]
    TimedOut {
        /// The limit.
        limit: std::time::Duration,
    },
    /// The answer needs the result's page map, which this server is building (for the first
    /// time, or again after a write): retried after `Retry-After` seconds, it is answered.
    #[error("{0}; retry in a few seconds")]
    MapPending(&'static str),
    /// A snapshot walk's cursor, given in `param`, names a moment whose superseded versions
    /// the store no longer keeps (or a collection since replaced): the walk starts again from
    /// `first`.
    #[error(
        "`{param}` reads a snapshot of collection `{collection}` that has expired (its older versions were removed after the server's snapshot retention); start the walk again from the first page{}",
        first.as_deref().map(|f| format!(": {f}")).unwrap_or_default()
    )]
    SnapshotExpired {
        /// The cursor parameter.
        param: String,
        /// The collection.
        collection: String,
        /// A link to a fresh first page of the same request, when the style has one.
        first: Option<String>,
    },
    /// As many downloads as the server streams at once are under way
    /// ([`crate::HttpConfig::max_concurrent_exports`]): retried after `Retry-After` seconds, it
    /// may start.
    #[error(
        "this server streams at most {limit} downloads at once, and that many are under way; retry in a few seconds"
    )]
    ExportsBusy {
        /// The limit.
        limit: usize,
    },
    /// The store failed (the server's fault). Its detail is logged, never sent.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::UnknownCollection(name) => ApiError::UnknownCollection {
                name,
                readable: Vec::new(),
            },
            // `Paging::run` names the cursor parameter; the style, the first page.
            StoreError::SnapshotExpired(collection) => ApiError::SnapshotExpired {
                param: "cursor".to_owned(),
                collection,
                first: None,
            },
            // The read side's only error of the caller's making is a name; every other is the
            // store's (`StoreError::is_internal`), and one that were not would be the server's
            // bug: a 500 either way, its detail logged, never sent.
            other => ApiError::Internal(other),
        }
    }
}

/// The title and meaning of each error code, for `GET /problems/{code}`.
pub(crate) fn describe(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "invalid-cursor" => (
            "Invalid cursor",
            "The cursor was altered, truncated or forged, or signed with a key the server has retired. Use cursors exactly as links give them, and start a new walk after a key is retired.",
        ),
        "cursor-query-mismatch" => (
            "Cursor does not match this query",
            "The cursor was issued for another collection, filter or sort, or to another token holder. Keep those unchanged while following links.",
        ),
        "page-size-exceeded" => (
            "Page size exceeded",
            "The page size is above the maximum. Ask for at most the maximum the response names.",
        ),
        "offset-window-exceeded" => (
            "Offset window exceeded",
            "Page numbers and offsets reach only the first records. Follow next links (cursors) to go deeper.",
        ),
        "invalid-parameter" => (
            "Invalid parameter",
            "A parameter has a value of the wrong form, or is misspelled. The detail names it and what is allowed.",
        ),
        "unsupported-sort" => (
            "Unsupported sort",
            "The sort names a path that is not indexed or cannot be sorted. The detail lists the sortable paths.",
        ),
        "unknown-collection" => ("Unknown collection", "No collection has this name."),
        "authentication-required" => (
            "Authentication required",
            "The collection is private. Send a bearer token that grants it: `Authorization: Bearer <token>`.",
        ),
        "unknown-record" => ("Unknown record", "No record of the collection has this id."),
        "not-found" => ("Not found", "No endpoint at this path."),
        "body-too-large" => ("Request body too large", "The request body is over the server's limit."),
        "invalid-body" => ("Invalid request body", "The request body is not a JSON object."),
        "method-not-allowed" => (
            "Method not allowed",
            "The endpoint exists but does not take this method; the Allow header lists the ones it takes.",
        ),
        "unsupported-media-type" => (
            "Unsupported media type",
            "Request bodies are JSON, sent with content-type: application/json.",
        ),
        "request-timeout" => (
            "Request timed out",
            "The server did not answer within its time limit (it was busy, or the request was expensive). Retry after the time Retry-After gives.",
        ),
        "map-pending" => (
            "Page map pending",
            "The answer needs the result's page map, which the server is building. Retry after the time Retry-After gives.",
        ),
        "snapshot-expired" => (
            "Snapshot expired",
            "A cursor walk reads the collection as it was at its first page. Writes since then superseded versions that the server no longer keeps (they are kept for its snapshot retention), so this walk cannot go on. Start again from a fresh first page, which the detail links to.",
        ),
        "exports-busy" => (
            "Too many downloads",
            "The server streams a limited number of downloads (`/export`) at once, and that many are under way. Retry after the time Retry-After gives.",
        ),
        "internal-error" => ("Internal server error", "The server failed; the failure was logged."),
        _ => return None,
    })
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
            ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnknownCollection { .. } | ApiError::UnknownRecord { .. } | ApiError::UnknownRoute(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TimedOut { .. } | ApiError::MapPending(_) | ApiError::ExportsBusy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::SnapshotExpired { .. } => StatusCode::GONE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error name (engine.md, "Error vocabulary").
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Engine(e) => e.code(),
            ApiError::InvalidParameter { .. } => "invalid-parameter",
            ApiError::UnknownCollection { .. } => "unknown-collection",
            ApiError::UnknownRecord { .. } => "unknown-record",
            ApiError::Unauthorized(_) => "authentication-required",
            ApiError::UnknownRoute(_) => "not-found",
            ApiError::BodyTooLarge { .. } => "body-too-large",
            ApiError::InvalidBody(_) => "invalid-body",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::TimedOut { .. } => "request-timeout",
            ApiError::MapPending(_) => "map-pending",
            ApiError::ExportsBusy { .. } => "exports-busy",
            ApiError::SnapshotExpired { .. } => "snapshot-expired",
            ApiError::Internal(_) => "internal-error",
        }
    }

    /// A short, fixed summary of the kind of error.
    pub fn title(&self) -> &'static str {
        describe(self.code()).map_or("Invalid parameter", |(title, _)| title)
    }

    /// What went wrong, for the client. Internal errors say nothing of their cause.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Internal(_) => "the server failed to answer this request; it has been logged".to_owned(),
            other => other.to_string(),
        }
    }

    /// The seconds after which a retry may succeed, sent as `Retry-After`, for errors that
    /// pass.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            ApiError::TimedOut { .. } | ApiError::MapPending(_) => Some(1),
            ApiError::ExportsBusy { .. } => Some(5),
            _ => None,
        }
    }

    /// This error naming `param` as the cursor parameter, when it is an expired snapshot (the
    /// store does not know the request's parameters).
    pub(crate) fn in_param(self, param: &str) -> ApiError {
        match self {
            ApiError::SnapshotExpired { collection, first, .. } => ApiError::SnapshotExpired {
                param: param.to_owned(),
                collection,
                first,
            },
            other => other,
        }
    }

    /// This error with `first`, the link to a fresh first page, when it is an expired
    /// snapshot.
    pub(crate) fn with_first(mut self, first: impl FnOnce() -> String) -> ApiError {
        if let ApiError::SnapshotExpired { first: link, .. } = &mut self {
            *link = Some(first());
        }
        self
    }

    /// The request parameter at fault, if any.
    pub fn param(&self) -> Option<&str> {
        match self {
            ApiError::Engine(e) => e.param(),
            ApiError::InvalidParameter { param, .. } | ApiError::SnapshotExpired { param, .. } => Some(param),
            _ => None,
        }
    }

    /// Logs server-side failures with their cause; client errors are only traced.
    pub(crate) fn log(&self) {
        match self {
            ApiError::Internal(source) => tracing::error!(error = %source, "request failed"),
            ApiError::TimedOut { .. } => tracing::warn!(detail = %self, "request timed out"),
            other => tracing::debug!(code = other.code(), detail = %other, "request rejected"),
        }
    }
}

/// A duration as people write it: `30 s`, `250 ms`.
fn humanize(d: std::time::Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The most collection names a 404 lists; `GET /` lists them all.
const LISTED_COLLECTIONS: usize = 20;

/// The collections a caller may read, as a 404 lists them.
fn readable_list(readable: &[String]) -> String {
    match readable.len() {
        0 => "`GET /` lists the collections you may read".to_owned(),
        n if n <= LISTED_COLLECTIONS => format!("the collections you may read are: {}", readable.join(", ")),
        n => format!(
            "the collections you may read include: {} and {} more (`GET /` lists them all)",
            readable[..LISTED_COLLECTIONS].join(", "),
            n - LISTED_COLLECTIONS
        ),
    }
}
