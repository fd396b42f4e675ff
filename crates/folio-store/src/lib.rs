//! Where folio's collections live: the [`Store`] trait and its embedded SQLite implementation.
//!
//! # Brief overview
//! - [`Store`] is the read side every HTTP style uses: list collections, look up a schema, run
//!   a page [`Plan`] for a [`Query`] (its records as [`Records`]), fetch one record.
//! - [`Writer`] is the write side every writable store implements (imports, deletes,
//!   drops); [`WritableStore`] is both, which the CLI opens.
//! - `SqliteStore` (feature `sqlite`) keeps collections in one SQLite file (WAL, a pool of
//!   read connections), with each indexed path as a real column indexed on `(path, id)`;
//!   `SqliteFileStore` serves a user's SQLite file read-only.
//! - `PostgresStore` (feature `postgres`) keeps them in PostgreSQL.
//! - [`demo`] generates the deterministic demo dataset and builds it through [`Writer`].
//!
//! Without the default features `sqlite` and `postgres`, the crate builds no database
//! driver: the traits, their types, errors, schema inference and input readers only.
//!
//! All SQL of folio lives in this crate.
//!
//! # Example
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use folio_engine::{page::plan, Filter, Position, Sort};
//! use folio_store::{demo, Count, Query, SqliteStore, Store, Total};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = SqliteStore::open(dir.path()).unwrap();
//! demo::build(&store, 50, &|_| {}).unwrap();
//! let schema = store.schema("entries").await.unwrap();
//! let query = Query::all(schema);
//! let page = store.page(&query, &plan(&query.sort, Position::Start, 10), Count::Exact).await.unwrap();
//! assert_eq!(page.records.len(), 10);
//! assert_eq!(page.total, Some(Total { count: 50, exact: true }));
//! # });
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

use std::sync::Arc;

use folio_engine::projection::Projection;
use folio_engine::{CollectionSchema, Filter, Key, Plan, Sort, Value};

pub mod demo;
mod error;
pub mod infer;
pub mod input;
#[cfg(feature = "postgres")]
mod postgres;
mod records;
#[cfg(feature = "sqlite")]
mod sqlite;
mod write;

// What the SQL stores share: nothing to build without one of them.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod ingest;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod schemas;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod totals;

pub use error::{Fault, StoreError};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, ReplicatedStore};
pub use records::{NewRecord, Record, Records};
#[cfg(feature = "sqlite")]
pub use sqlite::{DB_FILE, SqliteFileStore, SqliteStore};
pub use write::{Documents, ImportMode, ImportStats, OnDuplicate, Progress, WritableStore, Writer};

/// What to page through: a collection, a filter, a total sort order and a projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The collection's schema.
    pub schema: Arc<CollectionSchema>,
    /// Which records.
    pub filter: Filter,
    /// In which order.
    pub sort: Sort,
    /// Which paths of each document to return (nested shape kept); `None` for all.
    pub fields: Option<Projection>,
    /// The moment to read the collection at (a snapshot walk's, from its first page), or
    /// `None` for the present. Stores that keep no versions read the present anyway.
    pub at: Option<Moment>,
}

/// A moment in a collection's history: a generation and when it was written. A store that
/// keeps the versions writes supersede can read the collection as it was at any moment not
/// older than its retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// The collection's generation (each write's is greater than the one before).
    pub generation: i64,
    /// When that generation was written, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

impl Query {
    /// Every record of a collection, by id, whole.
    pub fn all(schema: Arc<CollectionSchema>) -> Query {
        Query {
            schema,
            filter: Filter::all(),
            sort: Sort::by_id(),
            fields: None,
            at: None,
        }
    }
}

/// How much counting a page request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// No total.
    Skip,
    /// The exact number of matching records.
    Exact,
    /// Count up to this many; past it, report "at least this many".
    AtMost(u64),
}

/// The number of records matching a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The count, or the cap it reached.
    pub count: u64,
    /// Whether `count` is exact (`false`: there are at least `count`).
    pub exact: bool,
}

/// A page of records and, when asked for, the number of records that match the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct PageResult {
    /// The page's records, in page order.
    pub records: Records,
    /// The key after which the next page starts, when more records follow.
    pub next: Option<Key>,
    /// The key before which the previous page ends, when records may precede.
    pub prev: Option<Key>,
    /// Whether more records follow this page (even when `next` cannot be given, as for a
    /// page of size 0).
    pub has_more: bool,
    /// The number of matching records when asked for, read in the same snapshot as the page.
    pub total: Option<Total>,
    /// The collection's generation in that snapshot ([`Store::generation`]).
    pub generation: String,
    /// The moment the page shows, for stores that keep versions: the snapshot asked for
    /// ([`Query::at`]), or the present.
    pub moment: Option<Moment>,
}

/// A collection and its size.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionInfo {
    /// Its schema.
    pub schema: Arc<CollectionSchema>,
    /// How many records it holds.
    pub count: u64,
    /// Paths the records have that are not indexed, with why (stores that know them).
    pub unindexed: Vec<(String, String)>,
}

/// The read side of a store, as every HTTP style uses it.
///
/// Implementations must reproduce the engine's semantics exactly: the total order of
/// [`folio_engine::Value::total_cmp`] (NULL after every value), the keyset predicates of
/// [`folio_engine::keyset`] and the filter semantics of [`Filter::matches`].
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Every collection with its record count, by name.
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError>;

    /// The schema of a collection, or [`StoreError::UnknownCollection`].
    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError>;

    /// Runs a page plan: the records of `query` selected by `plan`, and the total `count`
    /// asks for.
    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError>;

    /// Reads a page nobody has asked for yet, which a walk is likely to ask for next (the HTTP
    /// layer reads ahead with it): `None` when the store declines, as when it is busy or the
    /// read would cost more than a guess is worth. Stores whose reads wake no thread can read
    /// the page as [`Store::page`] does, which is the default.
    async fn page_ahead(&self, query: &Query, plan: &Plan, count: Count) -> Result<Option<PageResult>, StoreError> {
        self.page(query, plan, count).await.map(Some)
    }

    /// The collection's generation: a text that changes with every write to the collection
    /// and never comes back, not even for a collection dropped and created again. A page read
    /// at the generation the collection is still at is the page a read now would give.
    async fn generation(&self, collection: &str) -> Result<String, StoreError>;

    /// The document with the given id, if there is one.
    async fn get(&self, schema: &CollectionSchema, id: &Value) -> Result<Option<String>, StoreError>;

    /// The read replicas the store spreads reads over, as last checked: none for a store
    /// without replicas.
    fn replicas(&self) -> Vec<ReplicaStatus> {
        Vec::new()
    }
}

/// A read replica as a store last checked it ([`Store::replicas`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// Where it is: `user@host:port/database`.
    pub target: String,
    /// Whether reads go to it.
    pub in_rotation: bool,
    /// Bytes of the primary's write-ahead log it had not replayed at the last check, when
    /// known.
    pub behind_bytes: Option<i64>,
    /// Whether its replay is paused.
    pub replay_paused: bool,
}
