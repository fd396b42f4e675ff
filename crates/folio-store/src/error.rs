//! The store's error type, split by whose fault it is.

/// Why a store operation failed.
///
/// [`StoreError::fault`] says whose fault it is; callers map that, not the variants, to
/// their own answers (an HTTP status, an exit message). Database failures are kept as opaque
/// sources ([`StoreError::Backend`]), so no driver type appears in this crate's API.
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
    /// A snapshot walk's moment is older than the versions the store still keeps (its
    /// retention passed), or not one of this collection's (the caller's fault: it walks again
    /// from a fresh first page).
    #[error("the snapshot of collection `{0}` this walk reads has expired")]
    SnapshotExpired(String),
    /// The database failed (an internal error: never shown to clients in detail). The
    /// message carries the whole chain of causes, which some drivers leave out of their own
    /// (PostgreSQL's "db error").
    #[error("{what} error: {}", Chain(source.as_ref()))]
    Backend {
        /// Which database: `database` (SQLite) or `PostgreSQL`.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database cannot be reached or set up; the message names it without secrets.
    #[error("{0}")]
    Unavailable(String),
    /// Something else went wrong inside the store (an internal error).
    #[error("internal store error: {0}")]
    Internal(String),
}

/// Whose fault a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The caller's: a name, a document or a schema it gave.
    Caller,
    /// The store's: the database failed or cannot be reached.
    Store,
}

impl StoreError {
    /// Whose fault the error is.
    pub fn fault(&self) -> Fault {
        match self {
            StoreError::UnknownCollection(_)
            | StoreError::CollectionExists(_)
            | StoreError::InvalidDocument { .. }
            | StoreError::Schema(_)
            | StoreError::SnapshotExpired(_) => Fault::Caller,
            StoreError::Backend { .. } | StoreError::Unavailable(_) | StoreError::Internal(_) => Fault::Store,
        }
    }

    /// Whether the store is at fault (its detail is for logs, never for clients).
    pub fn is_internal(&self) -> bool {
        self.fault() == Fault::Store
    }

    /// A database failure, kept opaque.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn backend(what: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend {
            what,
            source: Box::new(source),
        }
    }

    /// The driver error behind a [`StoreError::Backend`], if it is one of type `E`.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn backend_source<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            StoreError::Backend { source, .. } => source.downcast_ref(),
            _ => None,
        }
    }
}

/// An error and its causes, `a: b: c`.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}
