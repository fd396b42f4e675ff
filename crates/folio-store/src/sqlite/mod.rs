//! The embedded store: every collection in one SQLite file.
//!
//! Layout of the file (`folio.sqlite` in the data directory):
//!
//! ```sql
//! CREATE TABLE folio_collections (name TEXT PRIMARY KEY, schema TEXT NOT NULL,
//!                                 origin TEXT, generation INTEGER NOT NULL DEFAULT 0);
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

mod pool;
mod sql;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use folio_engine::{CollectionSchema, FieldType, Filter, IdType, Plan, Position, Sort, Value};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::ingest::{self, Cell};
use crate::totals::Totals;
use crate::{CollectionInfo, PageResult, Query, Record, Store, StoreError};
use pool::Pool;

/// The name of the database file inside the data directory.
pub const DB_FILE: &str = "folio.sqlite";

/// How many statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 128;

/// Collections in one SQLite database file, read through a pool of connections.
pub struct SqliteStore {
    path: PathBuf,
    writer: std::sync::Mutex<Connection>,
    readers: Arc<Pool>,
    schemas: RwLock<HashMap<String, Arc<CollectionSchema>>>,
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
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SqliteStore::open_with_readers(data_dir, (cores * 2).max(4))
    }

    /// Opens the store with exactly `readers` read connections.
    pub fn open_with_readers(data_dir: &Path, readers: usize) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Internal(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join(DB_FILE);
        let writer = Connection::open(&path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        writer.busy_timeout(std::time::Duration::from_secs(10))?;
        writer.execute_batch(
            "CREATE TABLE IF NOT EXISTS folio_collections (
                 name TEXT PRIMARY KEY,
                 schema TEXT NOT NULL,
                 origin TEXT,
                 generation INTEGER NOT NULL DEFAULT 0)",
        )?;
        let readers = (0..readers.max(1))
            .map(|_| open_reader(&path))
            .collect::<Result<Vec<_>, _>>()?;
        let store = SqliteStore {
            path,
            writer: std::sync::Mutex::new(writer),
            readers: Arc::new(Pool::new(readers)),
            schemas: RwLock::default(),
            totals: Arc::default(),
        };
        store.reload_schemas()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates an empty collection. `origin` is free text remembered with it (the demo
    /// records its size there).
    pub fn create_collection(
        &self,
        schema: &CollectionSchema,
        origin: Option<&str>,
    ) -> Result<(), StoreError> {
        schema.validate()?;
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
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
            ddl.push(format!(
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
        let json =
            serde_json::to_string(schema).map_err(|e| StoreError::Internal(e.to_string()))?;
        tx.execute(
            "INSERT INTO folio_collections (name, schema, origin) VALUES (?1, ?2, ?3)",
            params![schema.name, json, origin],
        )?;
        tx.commit()?;
        self.schemas_mut()
            .insert(schema.name.clone(), Arc::new(schema.clone()));
        Ok(())
    }

    /// Removes a collection and its records, if it exists.
    pub fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        let Some(schema) = self.cached_schema(name) else {
            return Ok(());
        };
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        for (n, p) in schema.indexed.iter().enumerate() {
            if p.ty == FieldType::StringArray {
                tx.execute_batch(&format!(
                    "DROP TABLE IF EXISTS {}",
                    sql::elements_table(name, n)
                ))?;
            }
        }
        tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", sql::table(name)))?;
        tx.execute("DELETE FROM folio_collections WHERE name = ?1", [name])?;
        tx.commit()?;
        self.schemas_mut().remove(name);
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

    /// Inserts documents into a collection in one transaction: all of them or, on the first
    /// error, none. `progress` is called with the number inserted so far, now and then.
    ///
    /// Returns how many were inserted.
    pub fn insert(
        &self,
        collection: &str,
        docs: impl IntoIterator<Item = serde_json::Value>,
        progress: &dyn Fn(u64),
    ) -> Result<u64, StoreError> {
        let schema = self
            .cached_schema(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
        let t = sql::table(collection);
        let scalar: Vec<usize> = (0..schema.indexed.len())
            .filter(|&n| schema.indexed[n].ty != FieldType::StringArray)
            .collect();
        let insert_sql = format!(
            "INSERT INTO {t} (id, doc{}) VALUES (?1, ?2{})",
            scalar.iter().map(|n| format!(", c{n}")).collect::<String>(),
            (0..scalar.len())
                .map(|i| format!(", ?{}", i + 3))
                .collect::<String>(),
        );
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let mut count = 0u64;
        {
            let mut insert = tx.prepare(&insert_sql)?;
            let mut element_inserts: HashMap<usize, rusqlite::Statement<'_>> = HashMap::new();
            for (n, p) in schema.indexed.iter().enumerate() {
                if p.ty == FieldType::StringArray {
                    let side = sql::elements_table(collection, n);
                    element_inserts.insert(
                        n,
                        tx.prepare(&format!(
                            "INSERT OR IGNORE INTO {side} (value, rid) VALUES (?1, ?2)"
                        ))?,
                    );
                }
            }
            for doc in docs {
                count += 1;
                let row = ingest::row(&schema, &doc, count)?;
                let mut values = vec![sql::bind(&row.id), rusqlite::types::Value::Text(row.doc)];
                for cell in &row.columns {
                    if let Cell::Scalar(v) = cell {
                        values.push(sql::bind(v));
                    }
                }
                insert
                    .execute(rusqlite::params_from_iter(values))
                    .map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _)
                            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                        {
                            StoreError::InvalidDocument {
                                index: count,
                                message: format!("duplicate id {:?}", row.id),
                            }
                        }
                        other => other.into(),
                    })?;
                let rid = tx.last_insert_rowid();
                for (n, cell) in row.columns.iter().enumerate() {
                    if let (Cell::Elements(items), Some(stmt)) = (cell, element_inserts.get_mut(&n))
                    {
                        for item in items {
                            stmt.execute(params![item, rid])?;
                        }
                    }
                }
                if count.is_multiple_of(4096) {
                    progress(count);
                }
            }
        }
        tx.execute(
            "UPDATE folio_collections SET generation = generation + 1 WHERE name = ?1",
            [collection],
        )?;
        tx.commit()?;
        progress(count);
        Ok(count)
    }

    /// Deletes the records with the given ids (absent ones are skipped), in one transaction.
    /// Returns how many were deleted.
    pub fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        let schema = self
            .cached_schema(collection)
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
                let Some(rid) = find
                    .query_row([sql::bind(id)], |r| r.get::<_, i64>(0))
                    .optional()?
                else {
                    continue;
                };
                delete.execute([rid])?;
                for side in &mut sides {
                    side.execute([rid])?;
                }
                deleted += 1;
            }
        }
        tx.execute(
            "UPDATE folio_collections SET generation = generation + 1 WHERE name = ?1",
            [collection],
        )?;
        tx.commit()?;
        Ok(deleted)
    }

    fn write_conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn schemas_mut(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<CollectionSchema>>> {
        self.schemas.write().unwrap_or_else(|p| p.into_inner())
    }

    fn cached_schema(&self, name: &str) -> Option<Arc<CollectionSchema>> {
        self.schemas
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Reads every schema from the catalog (collections may have been created by another
    /// process, such as an import, since this one started).
    fn reload_schemas(&self) -> Result<(), StoreError> {
        let schemas = read_catalog(&self.readers.get())?;
        self.replace_schemas(schemas);
        Ok(())
    }

    fn replace_schemas(&self, schemas: Vec<CollectionSchema>) {
        *self.schemas_mut() = schemas
            .into_iter()
            .map(|s| (s.name.clone(), Arc::new(s)))
            .collect();
    }

    /// Runs blocking work on a read connection off the async runtime.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || work(&pool.get()))
            .await
            .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }
}

fn read_catalog(conn: &Connection) -> Result<Vec<CollectionSchema>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT schema FROM folio_collections ORDER BY name")?;
    stmt.query_map([], |r| r.get::<_, String>(0))?
        .map(|json| {
            serde_json::from_str::<CollectionSchema>(&json?)
                .map_err(|e| StoreError::Internal(format!("unreadable schema in catalog: {e}")))
        })
        .collect()
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    // Read connections never write; `query_only` makes that a guarantee.
    conn.pragma_update(None, "query_only", "ON")?;
    conn.pragma_update(None, "mmap_size", 268_435_456i64)?;
    conn.pragma_update(None, "cache_size", -32_768i64)?; // 32 MiB per connection
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Counts the records of `query` (cached per generation) and runs `plan`, in one snapshot.
fn run_page(
    conn: &Connection,
    totals: &Totals,
    query: &Query,
    plan: &Plan,
    want_total: bool,
) -> Result<PageResult, StoreError> {
    let name = &query.schema.name;
    // One read transaction: the total and the page see the same snapshot.
    let tx = conn.unchecked_transaction()?;
    let total = if want_total {
        let generation: i64 = tx
            .prepare_cached("SELECT generation FROM folio_collections WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::UnknownCollection(name.clone()))?;
        let canonical = query.filter.canonical();
        match totals.get(name, &canonical, generation) {
            Some(total) => Some(total),
            None => {
                let mut w = sql::Where::default();
                w.filter(name, &query.filter);
                let count_sql = format!("SELECT count(*) FROM {}{}", sql::table(name), w.sql());
                let total: i64 = tx
                    .prepare_cached(&count_sql)?
                    .query_row(rusqlite::params_from_iter(&w.params), |r| r.get(0))?;
                let total = u64::try_from(total).unwrap_or(0);
                totals.put(name, &canonical, generation, total);
                Some(total)
            }
        }
    } else {
        None
    };

    let mut w = sql::Where::default();
    w.filter(name, &query.filter);
    if let Some(p) = &plan.predicate {
        w.predicate(p);
    }
    let key_columns = query
        .sort
        .fields()
        .iter()
        .map(|f| sql::column(f.column))
        .collect::<Vec<_>>()
        .join(", ");
    let limit = i64::try_from(plan.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(plan.offset).unwrap_or(i64::MAX);
    let page_sql = format!(
        "SELECT doc, {key_columns} FROM {}{}{} LIMIT {limit} OFFSET {offset}",
        sql::table(name),
        w.sql(),
        sql::order_by(&query.sort, plan.scan),
    );
    let width = query.sort.fields().len();
    let mut stmt = tx.prepare_cached(&page_sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(&w.params), |r| {
            let doc: String = r.get(0)?;
            let key = (1..=width)
                .map(|i| r.get_ref(i).map(sql::read))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Record { key, doc })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    tx.commit()?;
    Ok(PageResult {
        page: plan.assemble(rows, |r| r.key.clone()),
        total,
    })
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        let schemas = self.read(read_catalog).await?;
        self.replace_schemas(schemas);
        let mut schemas: Vec<_> = self
            .schemas
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        schemas.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = Vec::with_capacity(schemas.len());
        for schema in schemas {
            let query = Query {
                sort: Sort::by_id(),
                filter: Filter::all(),
                schema,
            };
            let plan = folio_engine::page::plan(&query.sort, Position::Start, 0);
            let count = self.page(&query, &plan, true).await?.total.unwrap_or(0);
            out.push(CollectionInfo {
                schema: query.schema,
                count,
            });
        }
        Ok(out)
    }

    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        if let Some(s) = self.cached_schema(collection) {
            return Ok(s);
        }
        let schemas = self.read(read_catalog).await?;
        self.replace_schemas(schemas);
        self.cached_schema(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))
    }

    async fn page(
        &self,
        query: &Query,
        plan: &Plan,
        total: bool,
    ) -> Result<PageResult, StoreError> {
        let (query, plan, totals) = (query.clone(), plan.clone(), Arc::clone(&self.totals));
        self.read(move |conn| run_page(conn, &totals, &query, &plan, total))
            .await
    }

    async fn get(
        &self,
        schema: &CollectionSchema,
        id: &Value,
    ) -> Result<Option<String>, StoreError> {
        let get_sql = format!("SELECT doc FROM {} WHERE id = ?1", sql::table(&schema.name));
        let id = sql::bind(id);
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&get_sql)?
                .query_row([id], |r| r.get(0))
                .optional()?)
        })
        .await
    }
}
