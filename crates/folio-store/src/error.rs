//! The store's error type, split by whose fault it is.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No collection has this name (the client's fault).
    #[error("collection `{0}` not found")]
    UnknownCollection(String),
    /// A collection of this name exists already.
    #[error("collection `{0}` exists already")]
    CollectionExists(String),
    /// A document that does not fit the collection's schema, or input that is not a document
    /// (the caller's data is at fault).
    #[error("line {line}: {message}")]
    InvalidDocument {
        /// Its 1-based line in the input (its position, for inputs without lines).
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A schema that cannot be used.
    #[error(transparent)]
    Schema(#[from] folio_engine::EngineError),
    /// The database failed (an internal error: never shown to clients in detail).
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// PostgreSQL failed (an internal error: never shown to clients in detail).
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The database cannot be reached or set up; the message names it without secrets.
    #[error("{0}")]
    Unavailable(String),
    /// Something else went wrong inside the store (an internal error).
    #[error("internal store error: {0}")]
    Internal(String),
}
