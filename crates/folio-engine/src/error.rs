//! The engine's error type: every way a request can be wrong before a store runs it.

use crate::cursor::CursorError;

/// A request the engine cannot serve. Every variant is the client's fault, names the
/// parameter at fault and says what is allowed; [`EngineError::code`] gives its stable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A cursor token that was altered, truncated, forged or malformed.
    #[error("`{param}` is not a valid cursor: {source}; use the cursor exactly as a `next` or `prev` link gave it")]
    InvalidCursor {
        /// The parameter that carried the cursor.
        param: String,
        /// What was wrong with it.
        source: CursorError,
    },
    /// A genuine cursor used with a different collection, filter or sort than it was issued
    /// for, or by another principal than the one it was issued to.
    #[error(
        "`{param}`: cursor does not match this query (it was issued for a different collection, filter, sort or caller); keep the filter, sort and token of the request that returned it, or start again"
    )]
    CursorQueryMismatch {
        /// The parameter that carried the cursor.
        param: String,
    },
    /// A page size above the style's maximum.
    #[error("`{param}` is {got}, above the maximum page size {max}; ask for at most {max} records per page")]
    PageSizeExceeded {
        /// The parameter that gave the size.
        param: String,
        /// The size asked for.
        got: u64,
        /// The largest size allowed.
        max: u64,
    },
    /// An offset page beyond the depth that offsets may reach.
    #[error("`{param}` reaches records {} to {} but page numbers and offsets may only reach the first {max} records; use {instead} to go deeper", offset.saturating_add(1), offset.saturating_add(*size))]
    OffsetWindowExceeded {
        /// The parameter that chose the offset.
        param: String,
        /// The offset asked for.
        offset: u64,
        /// The page size.
        size: u64,
        /// The depth limit.
        max: u64,
        /// The cursor method that reaches deeper, as a parameter name.
        instead: String,
    },
    /// A parameter with a value of the wrong form.
    #[error("`{param}` {message}")]
    InvalidParameter {
        /// The parameter at fault.
        param: String,
        /// What is wrong with it and what is allowed, as a phrase following the name.
        message: String,
    },
    /// A sort on a path that cannot be sorted on.
    #[error("`{param}`: `{path}` {reason}; sortable paths: {}", allowed.join(", "))]
    UnsupportedSort {
        /// The parameter that gave the sort.
        param: String,
        /// The path asked for.
        path: String,
        /// Why it cannot be sorted on.
        reason: String,
        /// The paths that can.
        allowed: Vec<String>,
    },
    /// A schema that cannot be used (not from a request: from an import or the demo).
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
}

impl EngineError {
    /// The stable name of the error (engine.md, "Error vocabulary").
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::InvalidCursor { .. } => "invalid-cursor",
            EngineError::CursorQueryMismatch { .. } => "cursor-query-mismatch",
            EngineError::PageSizeExceeded { .. } => "page-size-exceeded",
            EngineError::OffsetWindowExceeded { .. } => "offset-window-exceeded",
            EngineError::InvalidParameter { .. } | EngineError::InvalidSchema(_) => "invalid-parameter",
            EngineError::UnsupportedSort { .. } => "unsupported-sort",
        }
    }

    /// The request parameter at fault, if the error came from one.
    pub fn param(&self) -> Option<&str> {
        match self {
            EngineError::InvalidCursor { param, .. }
            | EngineError::CursorQueryMismatch { param }
            | EngineError::PageSizeExceeded { param, .. }
            | EngineError::OffsetWindowExceeded { param, .. }
            | EngineError::InvalidParameter { param, .. }
            | EngineError::UnsupportedSort { param, .. } => Some(param),
            EngineError::InvalidSchema(_) => None,
        }
    }

    /// Wraps a cursor error for the parameter that carried the token.
    pub fn cursor(param: &str, error: CursorError) -> EngineError {
        match error {
            CursorError::QueryMismatch => EngineError::CursorQueryMismatch {
                param: param.to_owned(),
            },
            other => EngineError::InvalidCursor {
                param: param.to_owned(),
                source: other,
            },
        }
    }
}
