//! The embedded store: every collection in one SQLite file.
//!
//! Layout of the file (`folio.sqlite` in the data directory):
//!
//! ```sql
//! CREATE TABLE folio_collections (name TEXT PRIMARY KEY, schema TEXT NOT NULL,
//!                                 origin TEXT, generation INTEGER NOT NULL DEFAULT 0);
//! CREATE TABLE folio_clock (generation INTEGER NOT NULL);  -- one row: the last generation given
//! -- per collection, with one column cN per scalar indexed path:
//! CREATE TABLE "folio_c_NAME" (rid INTEGER PRIMARY KEY, id <TEXT|INTEGER> NOT NULL UNIQUE,
//!                              doc TEXT NOT NULL, c0 ..., c1 ...);
//! CREATE INDEX "folio_c_NAME__c0" ON "folio_c_NAME" (c0, id);   -- per sortable path
//! -- per string[] path N, its elements:
//! CREATE TABLE "folio_c_NAME__cN" (value TEXT NOT NULL, rid INTEGER NOT NULL,
//!                                  PRIMARY KEY (value, rid)) WITHOUT ROWID;
//! ```
//!
//! The `(cN, id)` indexes make every keyset page an index seek in either direction; the
//! documents are found by rowid from there.

mod file;
mod page;
mod pool;
mod sql;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use folio_engine::projection::assemble;
use folio_engine::{CollectionSchema, Column, FieldType, IdType, Plan, Value};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, params};

pub use file::SqliteFileStore;

use crate::ingest::{self, Cell};
use crate::schemas::{self, Schemas};
use crate::totals::Totals;
use crate::{CollectionInfo, Count, PageResult, Query, Store, StoreError};
use page::{Docs, Table};
use pool::Pool;
use sql::{Layout, Nulls};

/// The name of the database file inside the data directory.
pub const DB_FILE: &str = "folio.sqlite";

/// How many statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 128;

/// Collections in one SQLite database file, read through a pool of connections.
pub struct SqliteStore {
    path: PathBuf,
    writer: std::sync::Mutex<Connection>,
    readers: Arc<Pool>,
    schemas: Schemas,
    totals: Arc<Totals>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
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
        let writer = Connection::open(&path)?;
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
        let readers = (0..readers.max(1))
            .map(|_| open_reader(&path))
            .collect::<Result<Vec<_>, _>>()?;
        let store = SqliteStore {
            path,
            writer: std::sync::Mutex::new(writer),
            readers: Arc::new(Pool::new(readers)),
            schemas: Schemas::default(),
            totals: Arc::default(),
        };
        store.reload_schemas()?;
        Ok(store)
    }

    /// Creates an empty collection. `origin` is free text remembered with it (the demo
    /// records its size there).
    pub fn create_collection(&self, schema: &CollectionSchema, origin: Option<&str>) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        create_in(&tx, schema, origin, false)?;
        tx.commit()?;
        self.schemas.insert(schema);
        Ok(())
    }

    /// Records where a collection came from (the demo records its size).
    pub fn set_origin(&self, name: &str, origin: &str) -> Result<(), StoreError> {
        self.write_conn().execute(
            "UPDATE folio_collections SET origin = ?2 WHERE name = ?1",
            params![name, origin],
        )?;
        Ok(())
    }

    /// The schema of a collection, if it exists (read afresh from the catalog).
    pub fn schema_of(&self, name: &str) -> Result<Option<CollectionSchema>, StoreError> {
        self.reload_schemas()?;
        Ok(self.schemas.get(name).map(|s| (*s).clone()))
    }

    /// Removes a collection and its records, if it exists.
    pub fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        let Some(schema) = self.schemas.get(name) else {
            return Ok(());
        };
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        for (n, p) in schema.indexed.iter().enumerate() {
            if p.ty == FieldType::StringArray {
                tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", sql::elements_table(name, n)))?;
            }
        }
        tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", sql::table(name)))?;
        tx.execute("DELETE FROM folio_collections WHERE name = ?1", [name])?;
        tx.commit()?;
        self.schemas.remove(name);
        Ok(())
    }

    /// The origin text a collection was created with, or `None` if the collection does not
    /// exist.
    pub fn origin(&self, name: &str) -> Result<Option<Option<String>>, StoreError> {
        let conn = self.readers.get();
        Ok(conn
            .prepare_cached("SELECT origin FROM folio_collections WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    /// Inserts documents into an existing collection in one transaction: all of them or, on
    /// the first error, none. Documents are numbered from 1 in errors; a duplicate id is an
    /// error. `progress` is called with the number inserted so far, now and then.
    pub fn insert(
        &self,
        collection: &str,
        docs: impl IntoIterator<Item = serde_json::Value>,
        progress: &dyn Fn(u64),
    ) -> Result<u64, StoreError> {
        let schema = self
            .schemas
            .get(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
        let numbered = docs.into_iter().zip(1..).map(|(doc, n)| Ok((n, doc)));
        Ok(self
            .import(&schema, false, numbered, OnDuplicate::Error, progress)?
            .inserted)
    }

    /// Imports documents in one transaction: all of them or, on the first error, none; when
    /// `create` is set the collection is created in the same transaction, so a failed import
    /// leaves no trace. Each document comes with its number in the input (a line number), which
    /// errors name; an input error ends the import with that error.
    pub fn import(
        &self,
        schema: &CollectionSchema,
        create: bool,
        docs: impl IntoIterator<Item = Result<(u64, serde_json::Value), StoreError>>,
        on_duplicate: OnDuplicate,
        progress: &dyn Fn(u64),
    ) -> Result<ImportStats, StoreError> {
        let collection = &schema.name;
        if !create && self.schemas.get(collection).is_none() {
            self.reload_schemas()?;
            if self.schemas.get(collection).is_none() {
                return Err(StoreError::UnknownCollection(collection.clone()));
            }
        }
        let t = sql::table(collection);
        let scalar: Vec<usize> = (0..schema.indexed.len())
            .filter(|&n| schema.indexed[n].ty != FieldType::StringArray)
            .collect();
        let insert_sql = format!(
            "INSERT INTO {t} (id, doc{}) VALUES (?1, ?2{})",
            scalar.iter().map(|n| format!(", c{n}")).collect::<String>(),
            (0..scalar.len()).map(|i| format!(", ?{}", i + 3)).collect::<String>(),
        );
        let update_sql = format!(
            "UPDATE {t} SET doc = ?2{} WHERE rid = ?1",
            scalar
                .iter()
                .enumerate()
                .map(|(i, n)| format!(", c{n} = ?{}", i + 3))
                .collect::<String>(),
        );
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        // A new collection gets its indexes after the load: one sorted pass per index is much
        // faster than keeping every index up to date row by row.
        let deferred_indexes = if create {
            create_in(&tx, schema, None, true)?
        } else {
            Vec::new()
        };
        let mut stats = ImportStats::default();
        {
            let mut insert = tx.prepare(&insert_sql)?;
            let mut update = tx.prepare(&update_sql)?;
            let mut find = tx.prepare(&format!("SELECT rid FROM {t} WHERE id = ?1"))?;
            let mut sides = Vec::new();
            for (n, p) in schema.indexed.iter().enumerate() {
                if p.ty == FieldType::StringArray {
                    let side = sql::elements_table(collection, n);
                    sides.push((
                        n,
                        tx.prepare(&format!("INSERT OR IGNORE INTO {side} (value, rid) VALUES (?1, ?2)"))?,
                        tx.prepare(&format!("DELETE FROM {side} WHERE rid = ?1"))?,
                    ));
                }
            }
            for item in docs {
                let (number, doc) = item?;
                let row = ingest::row(schema, &doc, number)?;
                let id = sql::bind(&row.id);
                let existing = match on_duplicate {
                    OnDuplicate::Error => None,
                    OnDuplicate::Replace | OnDuplicate::Skip => {
                        find.query_row([&id], |r| r.get::<_, i64>(0)).optional()?
                    }
                };
                let mut values = vec![Sql::Text(row.doc)];
                values.extend(row.columns.iter().filter_map(|cell| match cell {
                    Cell::Scalar(v) => Some(sql::bind(v)),
                    Cell::Elements(_) => None,
                }));
                let rid = match (existing, on_duplicate) {
                    (Some(_), OnDuplicate::Skip) => {
                        stats.skipped += 1;
                        continue;
                    }
                    (Some(rid), _) => {
                        update.execute(rusqlite::params_from_iter(
                            std::iter::once(Sql::Integer(rid)).chain(values),
                        ))?;
                        for (_, _, clear) in &mut sides {
                            clear.execute([rid])?;
                        }
                        stats.replaced += 1;
                        rid
                    }
                    (None, _) => {
                        insert
                            .execute(rusqlite::params_from_iter(std::iter::once(id).chain(values)))
                            .map_err(|e| match e {
                                rusqlite::Error::SqliteFailure(f, _)
                                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                                {
                                    StoreError::InvalidDocument {
                                        line: number,
                                        message: format!(
                                            "duplicate id {} at `{}` (use --on-duplicate replace or skip)",
                                            show(&row.id),
                                            schema.id_path
                                        ),
                                    }
                                }
                                other => other.into(),
                            })?;
                        stats.inserted += 1;
                        tx.last_insert_rowid()
                    }
                };
                for (n, add, _) in &mut sides {
                    if let Cell::Elements(items) = &row.columns[*n] {
                        for item in items {
                            add.execute(params![item, rid])?;
                        }
                    }
                }
                let done = stats.inserted + stats.replaced + stats.skipped;
                if done.is_multiple_of(4096) {
                    progress(done);
                }
            }
        }
        for statement in deferred_indexes {
            tx.execute_batch(&statement)?;
        }
        bump_generation(&tx, collection)?;
        tx.commit()?;
        if create {
            self.schemas.insert(schema);
        }
        progress(stats.inserted + stats.replaced + stats.skipped);
        Ok(stats)
    }

    /// Deletes the records with the given ids (absent ones are skipped), in one transaction.
    /// Returns how many were deleted.
    pub fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        let schema = self
            .schemas
            .get(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
        let t = sql::table(collection);
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let mut deleted = 0;
        {
            let mut find = tx.prepare(&format!("SELECT rid FROM {t} WHERE id = ?1"))?;
            let mut delete = tx.prepare(&format!("DELETE FROM {t} WHERE rid = ?1"))?;
            let mut sides = schema
                .indexed
                .iter()
                .enumerate()
                .filter(|(_, p)| p.ty == FieldType::StringArray)
                .map(|(n, _)| {
                    tx.prepare(&format!(
                        "DELETE FROM {} WHERE rid = ?1",
                        sql::elements_table(collection, n)
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            for id in ids {
                let Some(rid) = find.query_row([sql::bind(id)], |r| r.get::<_, i64>(0)).optional()? else {
                    continue;
                };
                delete.execute([rid])?;
                for side in &mut sides {
                    side.execute([rid])?;
                }
                deleted += 1;
            }
        }
        bump_generation(&tx, collection)?;
        tx.commit()?;
        Ok(deleted)
    }

    fn write_conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads every schema from the catalog (collections may have been created by another
    /// process, such as an import, since this one started).
    fn reload_schemas(&self) -> Result<(), StoreError> {
        let schemas = read_catalog(&self.readers.get())?;
        self.schemas.replace(schemas);
        Ok(())
    }
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

/// What to do with a document whose id is already in the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Stop the import with an error naming the document.
    Error,
    /// Replace the stored document.
    Replace,
    /// Keep the stored document and go on.
    Skip,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// New documents.
    pub inserted: u64,
    /// Documents that replaced stored ones.
    pub replaced: u64,
    /// Documents skipped because their id was stored already.
    pub skipped: u64,
}

/// Creates the tables of a collection and registers it in the catalog, inside `tx`. With
/// `defer_indexes`, the `(path, id)` indexes are not created but returned, for the caller to
/// run after loading; otherwise the returned list is empty.
fn create_in(
    tx: &Transaction<'_>,
    schema: &CollectionSchema,
    origin: Option<&str>,
    defer_indexes: bool,
) -> Result<Vec<String>, StoreError> {
    schema.validate()?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM folio_collections WHERE name = ?1)",
        [&schema.name],
        |r| r.get(0),
    )?;
    if exists {
        return Err(StoreError::CollectionExists(schema.name.clone()));
    }
    let t = sql::table(&schema.name);
    let id_type = match schema.id_type {
        IdType::String => "TEXT",
        IdType::Integer => "INTEGER",
    };
    let mut columns = String::new();
    let mut ddl = Vec::new();
    let mut indexes = Vec::new();
    for (n, p) in schema.indexed.iter().enumerate() {
        let decl = match p.ty {
            FieldType::String => "TEXT",
            FieldType::Integer | FieldType::Boolean | FieldType::Timestamp => "INTEGER",
            FieldType::Float => "REAL",
            FieldType::StringArray => {
                ddl.push(format!(
                    "CREATE TABLE {} (value TEXT NOT NULL, rid INTEGER NOT NULL, \
                     PRIMARY KEY (value, rid)) WITHOUT ROWID",
                    sql::elements_table(&schema.name, n)
                ));
                continue;
            }
        };
        columns.push_str(&format!(", c{n} {decl} NOT NULL"));
        indexes.push(format!(
            "CREATE INDEX {} ON {t} (c{n}, id)",
            sql::ident(&format!("folio_c_{}__c{n}", schema.name))
        ));
    }
    tx.execute_batch(&format!(
        "CREATE TABLE {t} (rid INTEGER PRIMARY KEY, id {id_type} NOT NULL UNIQUE, doc TEXT NOT NULL{columns})"
    ))?;
    for statement in ddl {
        tx.execute_batch(&statement)?;
    }
    let json = serde_json::to_string(schema).map_err(|e| StoreError::Internal(e.to_string()))?;
    tx.execute(
        "INSERT INTO folio_collections (name, schema, origin) VALUES (?1, ?2, ?3)",
        params![schema.name, json, origin],
    )?;
    if defer_indexes {
        return Ok(indexes);
    }
    for statement in indexes {
        tx.execute_batch(&statement)?;
    }
    Ok(Vec::new())
}

/// Runs a page plan on one of folio's own tables.
fn read_page(
    conn: &Connection,
    totals: &Totals,
    query: &Query,
    plan: &Plan,
    count: Count,
) -> Result<PageResult, StoreError> {
    let name = &query.schema.name;
    let native = Native { collection: name };
    let generation = |conn: &Connection| generation_of(conn, name);
    let table = Table {
        sql_name: sql::table(name),
        layout: &native,
        docs: &native,
        generation: &generation,
    };
    page::run(conn, totals, &table, query, plan, count)
}

/// The generation of `collection` as `conn` sees it (in its transaction, if one is open).
fn generation_of(conn: &Connection, collection: &str) -> Result<String, StoreError> {
    conn.prepare_cached("SELECT generation FROM folio_collections WHERE name = ?1")?
        .query_row([collection], |r| r.get::<_, i64>(0))
        .optional()?
        .map(|g| g.to_string())
        .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))
}

/// Gives `collection` a new generation, inside the transaction of a write to it.
///
/// Generations come from one clock for the whole file, so they never repeat, not even for a
/// collection dropped and imported again under the same name: a server that cached a total
/// (or read a page ahead) for the dropped one cannot take it for the new one's.
fn bump_generation(tx: &Transaction<'_>, collection: &str) -> Result<(), StoreError> {
    tx.execute_batch("UPDATE folio_clock SET generation = generation + 1")?;
    tx.execute(
        "UPDATE folio_collections SET generation = (SELECT generation FROM folio_clock) WHERE name = ?1",
        [collection],
    )?;
    Ok(())
}

fn show(id: &Value) -> String {
    match id {
        Value::Text(t) => format!("`{t}`"),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// The layout of folio's own tables: `id`, `cN` columns, the `x''` marker for NULL.
struct Native<'a> {
    collection: &'a str,
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
    fn elements(&self, n: usize) -> Option<String> {
        Some(sql::elements_table(self.collection, n))
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

    fn doc<'r>(
        &self,
        row: &'r Row<'_>,
        start: usize,
        fields: Option<&[String]>,
        scratch: &'r mut Vec<u8>,
    ) -> rusqlite::Result<&'r [u8]> {
        let Some(fields) = fields else {
            return page::text(row, start);
        };
        let mut found = Vec::with_capacity(fields.len());
        for (i, path) in fields.iter().enumerate() {
            if let Some(text) = row.get::<_, Option<String>>(start + i)? {
                let value = serde_json::from_str(&text).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(start + i, rusqlite::types::Type::Text, e.into())
                })?;
                found.push((path.clone(), value));
            }
        }
        scratch.clear();
        scratch.extend_from_slice(assemble(found).to_string().as_bytes());
        Ok(scratch)
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
impl Store for SqliteStore {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        let schemas = pool::read(&self.readers, read_catalog).await?;
        self.schemas.replace(schemas);
        let schemas = self.schemas.sorted();
        let mut out = Vec::with_capacity(schemas.len());
        for schema in schemas {
            let count = crate::count_all(self, schema.clone()).await?;
            out.push(CollectionInfo {
                schema,
                count,
                unindexed: Vec::new(),
            });
        }
        Ok(out)
    }

    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        if let Some(s) = self.schemas.get(collection) {
            return Ok(s);
        }
        let schemas = pool::read(&self.readers, read_catalog).await?;
        self.schemas.replace(schemas);
        self.schemas
            .get(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))
    }

    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError> {
        let (query, plan, totals) = (query.clone(), plan.clone(), Arc::clone(&self.totals));
        pool::read(&self.readers, move |conn| {
            read_page(conn, &totals, &query, &plan, count)
        })
        .await
    }

    /// Read on the calling thread, within a few milliseconds (`pool::speculate`): the
    /// blocking pool would wake two threads for a page that may never be asked for.
    async fn page_ahead(&self, query: &Query, plan: &Plan, count: Count) -> Result<Option<PageResult>, StoreError> {
        pool::speculate(&self.readers, |conn| read_page(conn, &self.totals, query, plan, count))
    }

    async fn generation(&self, collection: &str) -> Result<String, StoreError> {
        let name = collection.to_owned();
        pool::quick(&self.readers, move |conn| generation_of(conn, &name)).await
    }

    async fn get(&self, schema: &CollectionSchema, id: &Value) -> Result<Option<String>, StoreError> {
        let get_sql = format!("SELECT doc FROM {} WHERE id = ?1", sql::table(&schema.name));
        let id = sql::bind(id);
        pool::read(&self.readers, move |conn| {
            Ok(conn
                .prepare_cached(&get_sql)?
                .query_row([id], |r| r.get(0))
                .optional()?)
        })
        .await
    }
}
