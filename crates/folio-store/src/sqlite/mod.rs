//! The embedded store: every collection in one SQLite file.
//!
//! Layout of the file (`folio.sqlite` in the data directory):
//!
//! ```sql
//! CREATE TABLE folio_collections (name TEXT PRIMARY KEY, schema TEXT NOT NULL,
//!                                 origin TEXT, generation INTEGER NOT NULL DEFAULT 0,
//!                                 changed_at INTEGER NOT NULL DEFAULT 0,  -- ms, the last write
//!                                 purged INTEGER NOT NULL DEFAULT 0);
//! CREATE TABLE folio_clock (generation INTEGER NOT NULL);  -- one row: the last generation given
//! -- per collection, with one column cN per scalar indexed path:
//! CREATE TABLE "folio_c_NAME" (rid INTEGER PRIMARY KEY, id <TEXT|INTEGER> NOT NULL UNIQUE,
//!                              doc TEXT NOT NULL, c0 ..., c1 ..., since INTEGER NOT NULL);
//! CREATE INDEX "folio_c_NAME__c0" ON "folio_c_NAME" (c0, id);   -- per sortable path
//! -- per string[] path N, its elements:
//! CREATE TABLE "folio_c_NAME__cN" (value TEXT NOT NULL, rid INTEGER NOT NULL,
//!                                  PRIMARY KEY (value, rid)) WITHOUT ROWID;
//! -- the versions writes superseded: the same columns and indexes, side tables of its own
//! CREATE TABLE "folio_h_NAME" (rid INTEGER PRIMARY KEY, id ... NOT NULL, doc ..., c0 ...,
//!                              since INTEGER NOT NULL, until INTEGER NOT NULL,
//!                              until_at INTEGER NOT NULL);
//! CREATE TABLE "folio_h_NAME__cN" (value TEXT NOT NULL, rid INTEGER NOT NULL, ...);
//! ```
//!
//! The `(cN, id)` indexes make every keyset page an index seek in either direction; the
//! documents are found by rowid from there.
//!
//! **Versions.** Every row holds the generation that wrote it (`since`). A write that replaces
//! or deletes a row first copies it into the history table with `until` set to its own
//! generation, so a snapshot walk reads the collection at generation `g` as the current rows
//! with `since <= g` and the versions with `since <= g < until` (`page.rs`). Versions are
//! purged once superseded longer than the server's retention ([`Writer::purge_versions`]);
//! `purged` is then the newest `until` removed, and snapshots older than it have expired.

mod file;
mod json;
mod page;
mod pool;
mod raw;
mod segments;
mod sql;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use folio_engine::{CollectionSchema, Column, Plan, Value};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use file::SqliteFileStore;

use crate::schemas::{self, Schemas};
use crate::sql::catalog::{self, Catalog};
use crate::totals::Totals;
use crate::write::{Documents, ImportMode, ImportStats, OnDuplicate, Progress, Writer};
use crate::{CollectionInfo, Count, Moment, PageResult, Query, Store, StoreError};
use page::{Docs, History, State, Table};
use pool::Pool;
use sql::{Elements, Layout, Nulls};

/// The name of the database file inside the data directory.
pub const DB_FILE: &str = "folio.sqlite";

/// How many statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 128;

/// Collections in one SQLite database file, read through a pool of connections.
///
/// Reads run on blocking threads (or, for microsecond point queries and pages read ahead, on
/// the calling worker: see `pool.rs`). Writes through [`Writer`] run on a blocking thread too,
/// never on the calling async worker, because `folio serve --demo` and other callers write on
/// a runtime that may also answer requests; an import's progress comes back to the caller's
/// task through a channel. The blocking [`SqliteStore::create_collection`],
/// [`SqliteStore::insert`] and [`SqliteStore::delete`] are for code on threads of its own
/// (tests, tools).
pub struct SqliteStore {
    inner: Arc<Inner>,
}

/// What a store's reads and writes share; writes run on blocking threads with a handle to it.
struct Inner {
    path: PathBuf,
    writer: std::sync::Mutex<Connection>,
    readers: Arc<Pool>,
    schemas: Schemas,
    totals: Arc<Totals>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// SQLite failures, kept opaque in [`StoreError::Backend`] so that `?` works on them here.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::backend("database", e)
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`, with one read connection per
    /// two available cores and at least four.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with_readers(data_dir, pool::default_size())
    }

    /// Opens the store with exactly `readers` read connections.
    pub fn open_with_readers(data_dir: &Path, readers: usize) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Internal(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DB_FILE);
        let writer = open_writer(&path)?;
        let readers = (0..readers.max(1))
            .map(|_| open_reader(&path))
            .collect::<Result<Vec<_>, _>>()?;
        let inner = Inner {
            path,
            writer: std::sync::Mutex::new(writer),
            readers: Arc::new(Pool::new(readers)),
            schemas: Schemas::default(),
            totals: Arc::default(),
        };
        inner.reload_schemas()?;
        Ok(SqliteStore { inner: Arc::new(inner) })
    }

    /// Creates an empty collection (blocking). `origin` is free text remembered with it.
    pub fn create_collection(&self, schema: &CollectionSchema, origin: Option<&str>) -> Result<(), StoreError> {
        self.inner.create_collection(schema, origin)
    }

    /// Inserts documents into an existing collection in one transaction (blocking): all of
    /// them or, on the first error, none. Documents are numbered from 1 in errors; a duplicate
    /// id is an error. `progress` is called with the number inserted so far, now and then.
    pub fn insert(
        &self,
        collection: &str,
        docs: impl IntoIterator<Item = serde_json::Value>,
        progress: &dyn Fn(u64),
    ) -> Result<u64, StoreError> {
        let schema = self
            .inner
            .schemas
            .get(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
        let numbered = docs.into_iter().zip(1..).map(|(doc, n)| Ok((n, doc)));
        let stats = self
            .inner
            .import(&schema, ImportMode::Append, numbered, OnDuplicate::Error, progress)?;
        Ok(stats.inserted)
    }

    /// [`Writer::delete`], blocking.
    pub fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        self.inner.delete(collection, ids)
    }

    /// Runs blocking write work on a blocking thread, with a handle to the store.
    fn spawn_write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> tokio::task::JoinHandle<Result<T, StoreError>> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
    }
}

/// The result of work run by [`SqliteStore::spawn_write`].
async fn joined<T>(handle: tokio::task::JoinHandle<Result<T, StoreError>>) -> Result<T, StoreError> {
    handle
        .await
        .map_err(|e| StoreError::Internal(format!("write task failed: {e}")))?
}

fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let writer = Connection::open(path)?;
    writer.pragma_update(None, "journal_mode", "WAL")?;
    writer.pragma_update(None, "synchronous", "NORMAL")?;
    // Imports touch every index at once; with SQLite's default 2 MiB cache they thrash.
    writer.pragma_update(None, "cache_size", -262_144i64)?; // 256 MiB, used only as needed
    writer.busy_timeout(std::time::Duration::from_secs(10))?;
    writer.execute_batch(
        "CREATE TABLE IF NOT EXISTS folio_collections (
             name TEXT PRIMARY KEY,
             schema TEXT NOT NULL,
             origin TEXT,
             generation INTEGER NOT NULL DEFAULT 0);
         CREATE TABLE IF NOT EXISTS folio_clock (generation INTEGER NOT NULL);
         INSERT INTO folio_clock (generation)
             SELECT coalesce(max(generation), 0) FROM folio_collections
             WHERE NOT EXISTS (SELECT 1 FROM folio_clock)",
    )?;
    // Stores made before versions were kept gain the columns that describe them.
    for column in ["changed_at", "purged"] {
        let present: bool = writer.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('folio_collections') WHERE name = ?1)",
            [column],
            |r| r.get(0),
        )?;
        if !present {
            writer.execute_batch(&format!(
                "ALTER TABLE folio_collections ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0"
            ))?;
        }
    }
    Ok(writer)
}

fn read_catalog(conn: &Connection) -> Result<Vec<CollectionSchema>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT schema FROM folio_collections ORDER BY name")?;
    stmt.query_map([], |r| r.get::<_, String>(0))?
        .map(|json| schemas::parse(&json?))
        .collect()
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    // Read connections never write; `query_only` makes that a guarantee.
    conn.pragma_update(None, "query_only", "ON")?;
    // The whole file mapped (SQLite caps this at its compile-time maximum, 2 GiB): a walk
    // reads rows all over the table, and every page past the mapping was a `pread` into this
    // connection's cache, about 15% of the server's time on a 1000-record page of a 780 MB file
    // mapped 256 MiB deep (BENCHMARKS.md, "Export"). The mapping is the page cache itself:
    // it costs address space, not memory.
    conn.pragma_update(None, "mmap_size", i64::MAX)?;
    conn.pragma_update(None, "cache_size", -32_768i64)?; // 32 MiB per connection
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Runs a page plan on one of folio's own tables.
fn read_page(
    conn: &raw::Reader,
    totals: &Totals,
    query: &Query,
    plan: &Plan,
    count: Count,
) -> Result<PageResult, StoreError> {
    let name = &query.schema.name;
    let native = Native {
        collection: name,
        history: false,
    };
    let superseded = Native {
        collection: name,
        history: true,
    };
    let state = |conn: &Connection| {
        let (generation, present, purged) = state_of(conn, name)?;
        Ok(State {
            generation: crate::sql::generation_text(generation, purged),
            versions: Some((present, purged)),
        })
    };
    let table = Table {
        sql_name: sql::table(name),
        layout: &native,
        docs: &native,
        state: &state,
        history: Some(History {
            sql_name: crate::sql::history_table(name),
            layout: &superseded,
        }),
    };
    page::run(conn, totals, &table, query, plan, count)
}

/// The generation of `collection` as `conn` sees it (in its transaction, if one is open).
fn generation_of(conn: &Connection, collection: &str) -> Result<String, StoreError> {
    let (generation, _, purged) = state_of(conn, collection)?;
    Ok(crate::sql::generation_text(generation, purged))
}

/// The generation of `collection`, its moment, and the generation at or before which its
/// superseded versions were purged (0: it keeps none, it was written before versions were).
fn state_of(conn: &Connection, collection: &str) -> Result<(i64, Moment, i64), StoreError> {
    conn.prepare_cached("SELECT generation, changed_at, purged FROM folio_collections WHERE name = ?1")?
        .query_row([collection], |r| {
            let generation: i64 = r.get(0)?;
            let moment = Moment {
                generation,
                at_ms: r.get(1)?,
            };
            Ok((generation, moment, r.get(2)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))
}

/// The layout of folio's own tables: `id`, `cN` columns, the `x''` marker for NULL; for a
/// collection's current rows or (`history`) its superseded versions.
struct Native<'a> {
    collection: &'a str,
    history: bool,
}

impl Layout for Native<'_> {
    fn column(&self, c: Column) -> String {
        match c {
            Column::Id => "id".to_owned(),
            Column::Indexed(n) => format!("c{n}"),
        }
    }
    fn nulls(&self) -> Nulls {
        Nulls::Marker
    }
    fn nullable(&self, _: Column) -> bool {
        false
    }
    fn elements(&self, n: usize) -> Elements {
        Elements::Table(if self.history {
            sql::history_elements_table(self.collection, n)
        } else {
            sql::elements_table(self.collection, n)
        })
    }
}

impl Docs for Native<'_> {
    fn select(&self, fields: Option<&[String]>, params: &mut Vec<Sql>) -> Vec<String> {
        let Some(fields) = fields else {
            return vec!["doc".to_owned()];
        };
        // `doc -> '$."a"."b"'` extracts one path as JSON text without parsing the rest of the
        // document into a tree; the path is a bound parameter.
        let mut select: Vec<String> = fields
            .iter()
            .map(|path| match json_path(path) {
                Some(json_path) => {
                    params.push(Sql::Text(json_path));
                    format!("doc -> ?{}", params.len())
                }
                None => "NULL".to_owned(),
            })
            .collect();
        if select.is_empty() {
            select.push("NULL".to_owned());
        }
        select
    }

    fn write_doc(
        &self,
        row: &raw::Row<'_>,
        start: usize,
        _: &page::Held<'_>,
        fields: Option<&[String]>,
        out: &mut Vec<u8>,
    ) -> rusqlite::Result<()> {
        let Some(fields) = fields else {
            out.extend_from_slice(page::text(row, start)?);
            return Ok(());
        };
        let built = crate::sql::project(
            fields,
            |i| match row.get(start + i)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                value => value.as_str().map(Some).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(start + i, rusqlite::types::Type::Text, e.into())
                }),
            },
            |i, e| rusqlite::Error::FromSqlConversionFailure(start + i, rusqlite::types::Type::Text, e.into()),
        )?;
        out.extend_from_slice(built.as_bytes());
        Ok(())
    }
}

/// The SQLite JSON path of a dotted path, each segment quoted, or `None` for a path that
/// SQLite cannot address (a segment holding a quote, a backslash or a NUL, which ends
/// SQLite's path text early).
fn json_path(path: &str) -> Option<String> {
    let mut out = String::from("$");
    for segment in path.split('.') {
        if segment.contains(['"', '\\', '\0']) {
            return None;
        }
        out.push_str(&format!(".\"{segment}\""));
    }
    Some(out)
}

#[async_trait::async_trait]
impl Catalog for SqliteStore {
    fn schemas(&self) -> &Schemas {
        &self.inner.schemas
    }

    async fn read_catalog(&self) -> Result<Vec<CollectionSchema>, StoreError> {
        pool::read(&self.inner.readers, |conn| read_catalog(conn)).await
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        catalog::collections(self).await
    }

    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        catalog::schema(self, collection).await
    }

    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError> {
        let (query, plan, totals) = (query.clone(), plan.clone(), Arc::clone(&self.inner.totals));
        pool::read(&self.inner.readers, move |conn| {
            read_page(conn, &totals, &query, &plan, count)
        })
        .await
    }

    /// Read on the calling thread, within a few milliseconds (`pool::speculate`): the
    /// blocking pool would wake two threads for a page that may never be asked for.
    async fn page_ahead(&self, query: &Query, plan: &Plan, count: Count) -> Result<Option<PageResult>, StoreError> {
        pool::speculate(&self.inner.readers, |conn| {
            read_page(conn, &self.inner.totals, query, plan, count)
        })
    }

    async fn generation(&self, collection: &str) -> Result<String, StoreError> {
        let name = collection.to_owned();
        pool::quick(&self.inner.readers, move |conn| generation_of(conn, &name)).await
    }

    async fn get(&self, schema: &CollectionSchema, id: &Value) -> Result<Option<String>, StoreError> {
        let get_sql = format!("SELECT doc FROM {} WHERE id = ?1", sql::table(&schema.name));
        let id = sql::bind(id);
        pool::read(&self.inner.readers, move |conn| {
            Ok(conn
                .prepare_cached(&get_sql)?
                .query_row([id], |r| r.get(0))
                .optional()?)
        })
        .await
    }
}

#[async_trait::async_trait]
impl Writer for SqliteStore {
    async fn import(
        &self,
        schema: &CollectionSchema,
        mode: ImportMode,
        docs: Documents,
        on_duplicate: OnDuplicate,
        progress: Progress<'_>,
    ) -> Result<ImportStats, StoreError> {
        // The import holds SQLite's write lock for its whole transaction: on a blocking
        // thread, reporting its progress to this task, which calls `progress` here. Once
        // started it runs to its end (committed, or rolled back on an error) even if this
        // future is dropped.
        let (sender, mut counts) = tokio::sync::mpsc::unbounded_channel();
        let schema = schema.clone();
        let work = self.spawn_write(move |inner| {
            let report = move |n| {
                let _ = sender.send(n);
            };
            inner.import(&schema, mode, docs, on_duplicate, &report)
        });
        // The channel closes when the work is done (its closure, holding the sender, dropped).
        while let Some(n) = counts.recv().await {
            progress(n);
        }
        joined(work).await
    }

    async fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        let (collection, ids) = (collection.to_owned(), ids.to_vec());
        joined(self.spawn_write(move |inner| inner.delete(&collection, &ids))).await
    }

    async fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        joined(self.spawn_write(move |inner| inner.drop_collection(&name))).await
    }

    async fn schema_of(&self, name: &str) -> Result<Option<CollectionSchema>, StoreError> {
        catalog::schema_of(self, name).await
    }

    async fn origin(&self, name: &str) -> Result<Option<Option<String>>, StoreError> {
        let name = name.to_owned();
        pool::read(&self.inner.readers, move |conn| {
            Ok(conn
                .prepare_cached("SELECT origin FROM folio_collections WHERE name = ?1")?
                .query_row([&name], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn set_origin(&self, name: &str, origin: &str) -> Result<(), StoreError> {
        let (name, origin) = (name.to_owned(), origin.to_owned());
        joined(self.spawn_write(move |inner| inner.set_origin(&name, &origin))).await
    }

    async fn purge_versions(&self, retention: std::time::Duration) -> Result<u64, StoreError> {
        joined(self.spawn_write(move |inner| inner.purge_versions(retention))).await
    }
}
